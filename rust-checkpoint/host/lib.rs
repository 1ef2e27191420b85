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

/// A small deterministic generator (xorshift64*) for the host tests and
/// the guest fuzzer, so that a run reproduces from its seed.
pub struct XorShift(pub u64);

impl XorShift {
    /// The next value.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A value below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// True `percent` times out of 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// An index below `len` (0 when `len` is 0).
    pub fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }
}
