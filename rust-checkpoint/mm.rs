// SPDX-License-Identifier: GPL-2.0

//! Address spaces: the storage of memory-area records while an image is
//! parsed.  Saving and restoring memory builds on it.

use crate::format::{self, Errno, VmaRecord, VmaStore, MAX_VMAS};
use kernel::alloc::{flags::GFP_KERNEL, KVVec};

/// The memory areas of one address space, in image order.
pub struct VmaList(KVVec<VmaRecord>);

impl VmaList {
    /// An empty list.
    pub fn new() -> Self {
        VmaList(KVVec::new())
    }
}

impl Default for VmaList {
    fn default() -> Self {
        Self::new()
    }
}

impl VmaStore for VmaList {
    fn reset(&mut self, count: usize) -> format::Result {
        // The parser bounds `count`; check again before sizing memory by it.
        if count > MAX_VMAS as usize {
            return Err(Errno::EINVAL);
        }
        self.0 = KVVec::with_capacity(count, GFP_KERNEL).map_err(|_| Errno::ENOMEM)?;
        Ok(())
    }

    fn push(&mut self, vma: VmaRecord) -> format::Result {
        self.0.push(vma, GFP_KERNEL).map_err(|_| Errno::ENOMEM)
    }

    fn as_slice(&self) -> &[VmaRecord] {
        &self.0
    }
}
