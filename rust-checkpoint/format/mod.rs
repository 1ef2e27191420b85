// SPDX-License-Identifier: GPL-2.0

//! The checkpoint image format: record layouts, the stream writer and the
//! validating stream reader.
//!
//! This module is pure `core` Rust with no dependency on the `kernel` crate:
//! the same files are compiled into the kernel (as `kernel/checkpoint`) and
//! into the host crate in `rust-checkpoint/host` that `cargo test` runs and
//! that user-space tools use.  The kernel plugs in through the [`Sink`] and
//! [`Source`] traits.
//!
//! # The stream
//!
//! An image is a sequence of records.  Every record starts with a
//! [`RecordHeader`] (`{type: u32, len: u32}`, `len` counting the header)
//! followed by a payload; every record length is a multiple of
//! [`RECORD_ALIGN`].  All integers are little-endian, all layouts are
//! `#[repr(C)]` with explicit padding fields, and each size is asserted at
//! compile time so the layout does not depend on the compiler.
//!
//! An image starts with an [`ImageHeader`] record and ends with a
//! [`ImageTail`] record that carries the number of bytes before it and their
//! checksum (XXH64, see [`checksum`]).  [`ImageWriter`] produces images;
//! [`ImageReader`] checks records one at a time and [`ImageParser`] checks
//! the whole grammar and every field, handing out typed [`Item`]s.
//!
//! `Documentation/checkpoint/format.rst` describes every record field by
//! field; keep it in step with this module.

pub mod checksum;
pub mod parser;
pub mod reader;
pub mod records;
pub mod testing;
pub mod tests;
pub mod tests_records;
pub mod writer;

pub use parser::{FileSource, ImageParser, Item, VmaStore};
pub use reader::{ImageReader, PageTarget, Source};
pub use records::*;
pub use writer::{ImageWriter, PageSet, Sink};

// Records are written in the CPU's byte order, which the format defines as
// little-endian: refuse to build where the two differ rather than write
// images nobody can read.
#[cfg(target_endian = "big")]
compile_error!("the checkpoint image format is little-endian only");

/// A positive errno value, the error type of the whole format layer.
///
/// The kernel side turns it into a `kernel::error::Error`; host tools print
/// it.  Only the values below are produced by this module; [`Sink`] and
/// [`Source`] implementations may pass through any errno of their own.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Errno(pub i32);

impl Errno {
    /// I/O error; also: the image carries an error record.
    pub const EIO: Errno = Errno(5);
    /// Bad file descriptor.
    pub const EBADF: Errno = Errno(9);
    /// Out of memory.
    pub const ENOMEM: Errno = Errno(12);
    /// Malformed or unacceptable image.
    pub const EINVAL: Errno = Errno(22);
    /// The image is well formed but its checksum does not match.
    pub const EBADMSG: Errno = Errno(74);
    /// The operation is not supported (yet).
    pub const EOPNOTSUPP: Errno = Errno(95);
}

/// Result type of the format layer.
pub type Result<T = ()> = core::result::Result<T, Errno>;

/// Types that are plain bytes: any bit pattern is a valid value and the
/// value has no uninitialised (padding) bytes.
///
/// This is the format layer's own equivalent of the kernel's
/// `FromBytes`/`AsBytes` pair; it cannot use those because it also builds
/// outside the kernel.
///
/// # Safety
///
/// Implement it only for `#[repr(C)]` structs whose fields are integers,
/// arrays of integers or other `Pod` types, laid out with no implicit
/// padding (every gap is an explicit field), and assert the size at
/// compile time next to the type.
pub unsafe trait Pod: Copy + 'static {
    /// Returns the value's bytes, exactly as they appear in an image.
    fn as_bytes(&self) -> &[u8] {
        // SAFETY: `Self: Pod` has no padding, so all `size_of::<Self>()`
        // bytes behind `self` are initialised, and the slice borrows `self`.
        unsafe {
            core::slice::from_raw_parts(
                (self as *const Self).cast::<u8>(),
                core::mem::size_of::<Self>(),
            )
        }
    }

    /// Reads a value from exactly `size_of::<Self>()` bytes.
    ///
    /// Returns `None` if `bytes` has another length.
    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != core::mem::size_of::<Self>() {
            return None;
        }
        // SAFETY: `bytes` holds exactly `size_of::<Self>()` readable bytes,
        // `read_unaligned` has no alignment requirement, and every bit
        // pattern is a valid `Self` because `Self: Pod`.
        Some(unsafe { core::ptr::read_unaligned(bytes.as_ptr().cast::<Self>()) })
    }

    /// Returns the value whose bytes are all zero.
    fn zeroed() -> Self {
        // SAFETY: all-zero bytes are a valid `Self` because `Self: Pod`.
        unsafe { core::mem::zeroed() }
    }
}

// SAFETY: an integer: every bit pattern is valid, no padding.
unsafe impl Pod for u64 {}
// SAFETY: as for `u64`.
unsafe impl Pod for u32 {}

/// Rounds `len` up to the record alignment, or `None` on overflow.
pub const fn align_record_len(len: usize) -> Option<usize> {
    match len.checked_add(RECORD_ALIGN - 1) {
        Some(v) => Some(v & !(RECORD_ALIGN - 1)),
        None => None,
    }
}

/// Copies `s` into a fixed, NUL-padded field, truncating so that at least
/// one NUL remains.
pub fn fill_cstr_field(field: &mut [u8], s: &[u8]) {
    field.fill(0);
    let n = s.len().min(field.len().saturating_sub(1));
    if let (Some(dst), Some(src)) = (field.get_mut(..n), s.get(..n)) {
        dst.copy_from_slice(src);
    }
}

/// Returns the bytes of a NUL-terminated fixed field before its first NUL,
/// or `None` if the field has no NUL.
pub fn cstr_field(field: &[u8]) -> Option<&[u8]> {
    let end = field.iter().position(|&b| b == 0)?;
    field.get(..end)
}
