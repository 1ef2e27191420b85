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

use alloc::vec::Vec;
use format::{checksum::xxh64, Errno, RecordType, VmaRecord, VmaStore, MAX_VMAS};

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

/// The records of an image as (offset, length), as far as their headers
/// are sane: for tools that damage images on purpose (the tests and the
/// fuzzers), not a parser.
pub fn image_records(img: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut off = 0;
    while let Some(h) = img.get(off..off + 8) {
        let len = u32::from_le_bytes([h[4], h[5], h[6], h[7]]) as usize;
        if len < 8 || off + len > img.len() {
            break;
        }
        out.push((off, len));
        off += len;
    }
    out
}

/// Rewrites the tail of a damaged image (if it still ends with one) so
/// that its byte count and checksum match its bytes again, and the damage
/// is found by the field checks rather than the checksum.  False if the
/// image does not end with a tail.
pub fn fix_image_tail(img: &mut [u8]) -> bool {
    let Some(&(off, len)) = image_records(img).last() else {
        return false;
    };
    let rtype = u32::from_le_bytes([img[off], img[off + 1], img[off + 2], img[off + 3]]);
    if rtype != RecordType::Tail as u32 || len != 32 || off + len != img.len() {
        return false;
    }
    let sum = xxh64(&img[..off]);
    img[off + 16..off + 24].copy_from_slice(&(off as u64).to_le_bytes());
    img[off + 24..off + 32].copy_from_slice(&sum.to_le_bytes());
    true
}
