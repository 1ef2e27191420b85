// SPDX-License-Identifier: GPL-2.0

//! Test support shared by the kernel's KUnit suites and the host's
//! `cargo test`: a checker interface, assertion macros, and in-memory
//! sinks and sources.
//!
//! A test case is a plain `fn(&mut dyn Check)`; each harness supplies its
//! own [`Check`] (KUnit marks the case failed, the host test panics).

use super::{Errno, PageTarget, Pod, Result, Sink, Source, VmaRecord, VmaStore};

/// Size of the scratch memory every harness gives a case.
pub const SCRATCH_LEN: usize = 1024 * 1024;

/// Receives the failures of a test case.
pub trait Check {
    /// Records a failed expectation at `file:line`; the case goes on.
    fn fail(&mut self, file: &'static str, line: u32, msg: core::fmt::Arguments<'_>);
}

/// A test case: expectations go to the [`Check`]; the slice is zeroed
/// scratch memory of [`SCRATCH_LEN`] bytes for images and buffers (kernel
/// stacks are too small for them).
pub type Case = fn(&mut dyn Check, &mut [u8]);

/// A [`VmaStore`] in a fixed array: enough for tests, no allocation.
pub struct ArrayVmaStore<const N: usize> {
    vmas: [VmaRecord; N],
    len: usize,
}

impl<const N: usize> ArrayVmaStore<N> {
    /// An empty store.
    pub fn new() -> Self {
        ArrayVmaStore {
            vmas: [VmaRecord::zeroed(); N],
            len: 0,
        }
    }
}

impl<const N: usize> Default for ArrayVmaStore<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> VmaStore for ArrayVmaStore<N> {
    fn reset(&mut self, count: usize) -> Result {
        if count > N {
            return Err(Errno::ENOMEM);
        }
        self.len = 0;
        Ok(())
    }

    fn push(&mut self, vma: VmaRecord) -> Result {
        *self.vmas.get_mut(self.len).ok_or(Errno::ENOMEM)? = vma;
        self.len += 1;
        Ok(())
    }

    fn as_slice(&self) -> &[VmaRecord] {
        self.vmas.get(..self.len).unwrap_or(&[])
    }
}

/// Expects a condition to hold.
macro_rules! check {
    ($t:expr, $cond:expr) => {
        if !$cond {
            $t.fail(
                file!(),
                line!(),
                format_args!("expected {}", stringify!($cond)),
            );
        }
    };
}
pub(crate) use check;

/// Expects two values to be equal (`PartialEq` + `Debug`).
macro_rules! check_eq {
    ($t:expr, $left:expr, $right:expr) => {
        match (&$left, &$right) {
            (l, r) => {
                if l != r {
                    $t.fail(
                        file!(),
                        line!(),
                        format_args!(
                            "expected {} == {}: {:?} != {:?}",
                            stringify!($left),
                            stringify!($right),
                            l,
                            r
                        ),
                    );
                }
            }
        }
    };
}
pub(crate) use check_eq;

/// A sink that writes into a fixed slice and fails with `ENOSPC`-like
/// `EIO` when it is full.
pub struct SliceSink<'a> {
    /// The destination.
    pub out: &'a mut [u8],
    /// Bytes written so far.
    pub len: usize,
}

impl<'a> SliceSink<'a> {
    /// A sink writing to the start of `out`.
    pub fn new(out: &'a mut [u8]) -> Self {
        SliceSink { out, len: 0 }
    }
}

impl Sink for SliceSink<'_> {
    fn write_all(&mut self, buf: &[u8]) -> Result {
        let end = self.len.checked_add(buf.len()).ok_or(Errno::EIO)?;
        self.out
            .get_mut(self.len..end)
            .ok_or(Errno::EIO)?
            .copy_from_slice(buf);
        self.len = end;
        Ok(())
    }
}

/// A source reading from a slice, at most `chunk` bytes per call so that
/// short reads are exercised.
pub struct SliceSource<'a> {
    data: &'a [u8],
    chunk: usize,
}

impl<'a> SliceSource<'a> {
    /// A source over `data` returning at most `chunk` (>= 1) bytes a read.
    pub fn new(data: &'a [u8], chunk: usize) -> Self {
        SliceSource {
            data,
            chunk: chunk.max(1),
        }
    }
}

impl Source for SliceSource<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        let n = buf.len().min(self.data.len()).min(self.chunk);
        let (head, rest) = self.data.split_at(n);
        buf.get_mut(..n).ok_or(Errno::EIO)?.copy_from_slice(head);
        self.data = rest;
        Ok(n)
    }
}

/// Pages read where they lie, for the tests: `data` holds pages of
/// `page_len` bytes back to back; the source fills them with plain reads.
pub struct SlicePages<'a> {
    /// The pages.
    pub data: &'a mut [u8],
    /// Length of each page.
    pub page_len: usize,
}

impl<S: Source> PageTarget<S> for SlicePages<'_> {
    fn count(&self) -> usize {
        self.data.len() / self.page_len.max(1)
    }

    fn page_len(&self) -> usize {
        self.page_len
    }

    fn for_each_page_mut(&mut self, f: &mut dyn FnMut(&mut [u8])) -> Result {
        for page in self.data.chunks_mut(self.page_len.max(1)) {
            f(page);
        }
        Ok(())
    }

    fn read_from(&mut self, src: &mut S, mut offset: usize) -> Result {
        while offset < self.data.len() {
            let dst = self.data.get_mut(offset..).ok_or(Errno::EINVAL)?;
            let n = src.read(dst)?;
            if n == 0 || n > dst.len() {
                return Err(Errno::EINVAL);
            }
            offset += n;
        }
        Ok(())
    }
}
