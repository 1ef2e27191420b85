// SPDX-License-Identifier: GPL-2.0

//! Host build of the checkpoint image format.
//!
//! The module below is the kernel crate's `format` module, compiled from
//! the very same files (`rust-checkpoint/format/`), so host tools and tests
//! exercise the code the kernel runs.

#![no_std]

#[path = "../format/mod.rs"]
pub mod format;

/// The pure parts of the x86-64 code (`arch-x86/`).
#[path = "../../arch-x86/host.rs"]
pub mod arch;

extern crate alloc;

use format::{Errno, VmaRecord, VmaStore, MAX_VMAS};

/// Host tools keep the memory areas of the address space being parsed in
/// a `Vec`.
impl VmaStore for alloc::vec::Vec<VmaRecord> {
    fn reset(&mut self, count: usize) -> format::Result {
        if count > MAX_VMAS as usize {
            return Err(Errno::EINVAL);
        }
        self.clear();
        self.try_reserve(count).map_err(|_| Errno::ENOMEM)
    }

    fn push(&mut self, vma: VmaRecord) -> format::Result {
        self.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
        alloc::vec::Vec::push(self, vma);
        Ok(())
    }

    fn as_slice(&self) -> &[VmaRecord] {
        self
    }
}
