// SPDX-License-Identifier: GPL-2.0

//! Errors: conversions between the format layer's errnos and the kernel's,
//! and [`Failure`], the reason a checkpoint failed, which becomes the
//! image's error record.  Every state family reports what it cannot save
//! through a `Failure` and [`eopnotsupp`].  Messages that any user can
//! cause with a crafted image go to the log only within
//! [`may_log_image_fault`]'s rate limit.

use crate::format::{self, Errno};
use core::fmt::Write;
use kernel::error::{Error, Result};

/// Converts a format-layer errno into a kernel error.
pub fn to_kernel_error(e: Errno) -> Error {
    Error::from_errno(-e.0)
}

/// Converts a kernel error into a format-layer errno.
pub fn to_format_errno(e: Error) -> Errno {
    Errno(-e.to_errno())
}

/// Whether a message about a bad image may be logged now.  Any user can
/// restart any image, so these messages share the kernel's printk rate
/// limit (`printk_ratelimit()`) rather than flood the log.
pub fn may_log_image_fault() -> bool {
    // SAFETY: `__printk_ratelimit` reads the NUL-terminated name and
    // updates the kernel's shared rate-limit state under its own lock.
    unsafe { kernel::bindings::__printk_ratelimit(kernel::c_str!("checkpoint").as_char_ptr()) != 0 }
}

/// The `EOPNOTSUPP` error (not among the kernel crate's named codes).
pub fn eopnotsupp() -> Error {
    to_kernel_error(Errno::EOPNOTSUPP)
}

/// Converts a format-layer result.
pub fn fmt_result<T>(r: format::Result<T>) -> Result<T> {
    r.map_err(to_kernel_error)
}

/// Why a checkpoint failed: the message of its error record.
pub struct Failure {
    buf: [u8; 200],
    len: usize,
}

impl Failure {
    /// No failure yet.
    pub fn new() -> Self {
        Failure {
            buf: [0; 200],
            len: 0,
        }
    }

    /// Records the reason (cut to the buffer).
    pub fn set(&mut self, args: core::fmt::Arguments<'_>) {
        self.len = 0;
        let _ = self.write_fmt(args);
    }

    /// The reason, if one was recorded.
    pub fn message(&self) -> Option<&[u8]> {
        match self.len {
            0 => None,
            n => self.buf.get(..n),
        }
    }
}

impl Default for Failure {
    fn default() -> Self {
        Self::new()
    }
}

impl Write for Failure {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let room = self.buf.len() - self.len;
        let n = s.len().min(room);
        if let (Some(dst), Some(src)) = (
            self.buf.get_mut(self.len..self.len + n),
            s.as_bytes().get(..n),
        ) {
            dst.copy_from_slice(src);
            self.len += n;
        }
        Ok(())
    }
}
