// SPDX-License-Identifier: GPL-2.0

//! Timerfds (`timerfd_create(2)`): saved as their clock, the flags they
//! were armed with, the time left and interval as `timerfd_gettime(2)`
//! reports them, and the expirations not read yet; restart creates a new
//! timerfd armed with the time left counted from the restart (an absolute
//! `CLOCK_REALTIME` one stays absolute, so `clock_settime(2)` still moves
//! it and `TFD_TIMER_CANCEL_ON_SET` still applies).  A timerfd on an alarm
//! clock, or one whose clock was set so that its next read fails with
//! `ECANCELED`, is refused.

use super::{OpenFileKind, SaveContext, SavedFile};
use crate::error::eopnotsupp;
use crate::file::FileRef;
use crate::format::{FileKind, FileObjectRecord, FileStateRecord, TIMERFD_CLOCKS};
use kernel::bindings;
use kernel::error::{code::EINVAL, Result};

/// Timerfds.
pub(super) struct TimerFd;

/// The state of `file`, if it is a timerfd.
fn read(file: &FileRef) -> Option<bindings::ckpt_timerfd> {
    let mut t = bindings::ckpt_timerfd::default();
    // SAFETY: the file is alive (type invariant of `FileRef`); the
    // helper checks that it is a timerfd before it reads its context.
    unsafe { bindings::ckpt_timerfd_read(file.as_ptr(), &mut t) }.then_some(t)
}

impl OpenFileKind for TimerFd {
    fn kind(&self) -> FileKind {
        FileKind::TimerFd
    }

    fn claims(&self, file: &FileRef) -> bool {
        // SAFETY: as in `read`; this only compares `f_op`.
        unsafe { bindings::ckpt_is_timerfd(file.as_ptr()) }
    }

    fn save(
        &self,
        file: &FileRef,
        rec: &mut FileObjectRecord,
        cx: &mut SaveContext<'_>,
        what: core::fmt::Arguments<'_>,
    ) -> Result<SavedFile> {
        let t = read(file).ok_or(EINVAL)?;
        if !TIMERFD_CLOCKS.contains(&u64::from(t.clockid as u32)) {
            cx.failure.set(format_args!(
                "{what}: a timerfd on clock {} (an alarm clock) cannot be saved",
                t.clockid
            ));
            return Err(eopnotsupp());
        }
        if t.cancel_pending {
            cx.failure.set(format_args!(
                "{what}: a timerfd canceled by a clock change cannot be saved"
            ));
            return Err(eopnotsupp());
        }
        super::check_state_file_flags("a timerfd", rec, cx.failure, what)?;
        Ok(SavedFile::ByState(FileStateRecord {
            words: [
                u64::from(t.clockid as u32) | u64::from(t.flags) << 32,
                t.value_ns,
                t.interval_ns,
                t.ticks,
            ],
        }))
    }

    fn recreate(&self, rec: &FileObjectRecord, state: &FileStateRecord) -> Result<FileRef> {
        let [clock_and_flags, value_ns, interval_ns, ticks] = state.words;
        let t = bindings::ckpt_timerfd {
            // The parser checked the clock (a small number) and the flags.
            clockid: (clock_and_flags & 0xffff_ffff) as i32,
            flags: (clock_and_flags >> 32) as u32,
            value_ns,
            interval_ns,
            ticks,
            cancel_pending: false,
        };
        // SAFETY: `t` is valid (the helper checks it again); the helper
        // returns a new counted reference or an error pointer, which
        // `from_owned_or_error` takes.
        unsafe {
            FileRef::from_owned_or_error(bindings::ckpt_timerfd_create(
                &t,
                rec.flags & bindings::O_NONBLOCK != 0,
            ))
        }
    }
}
