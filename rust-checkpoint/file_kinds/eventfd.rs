// SPDX-License-Identifier: GPL-2.0

//! Eventfds (`eventfd(2)`): saved as their counter, semaphore mode and
//! `O_NONBLOCK`; restart creates a new eventfd with them.  Every
//! descriptor and process that shared the eventfd shares the new one.
//! Its `eventfd-id` (in `/proc/PID/fdinfo`) is a new one, as ids are
//! system-wide.

use super::{OpenFileKind, SaveContext, SavedFile};
use crate::file::FileRef;
use crate::format::{FileKind, FileObjectRecord, FileStateRecord, EVENTFD_SEMAPHORE};
use kernel::bindings;
use kernel::error::{code::EINVAL, Result};

/// Eventfds.
pub(super) struct EventFd;

/// The counter and semaphore mode of `file`, if it is an eventfd.
fn read(file: &FileRef) -> Option<(u64, bool)> {
    let mut count = 0u64;
    let mut semaphore = false;
    // SAFETY: the file is alive (type invariant of `FileRef`); the
    // helper checks that it is an eventfd before it reads its context.
    unsafe { bindings::ckpt_eventfd_read(file.as_ptr(), &mut count, &mut semaphore) }
        .then_some((count, semaphore))
}

impl OpenFileKind for EventFd {
    fn kind(&self) -> FileKind {
        FileKind::EventFd
    }

    fn claims(&self, file: &FileRef) -> bool {
        read(file).is_some()
    }

    fn save(
        &self,
        file: &FileRef,
        rec: &mut FileObjectRecord,
        cx: &mut SaveContext<'_>,
        what: core::fmt::Arguments<'_>,
    ) -> Result<SavedFile> {
        let (count, semaphore) = read(file).ok_or(EINVAL)?;
        super::check_state_file_flags("an eventfd", rec, cx.failure, what)?;
        Ok(SavedFile::ByState(FileStateRecord {
            words: [count, if semaphore { EVENTFD_SEMAPHORE } else { 0 }, 0, 0],
        }))
    }

    fn recreate(&self, rec: &FileObjectRecord, state: &FileStateRecord) -> Result<FileRef> {
        let [count, flags, ..] = state.words;
        // SAFETY: the helper checks the counter and returns a new counted
        // reference or an error pointer, which `from_owned_or_error` takes.
        unsafe {
            FileRef::from_owned_or_error(bindings::ckpt_eventfd_create(
                count,
                flags == EVENTFD_SEMAPHORE,
                rec.flags & bindings::O_NONBLOCK != 0,
            ))
        }
    }
}
