// SPDX-License-Identifier: GPL-2.0

//! Signalfds (`signalfd(2)`): saved as the set of signals they accept and
//! `O_NONBLOCK`; restart creates a new signalfd with them.  The signals it
//! reads are the restored task's pending ones, which restart queues again.

use super::{OpenFileKind, SaveContext, SavedFile};
use crate::file::FileRef;
use crate::format::{FileKind, FileObjectRecord, FileStateRecord};
use kernel::bindings;
use kernel::error::{code::EINVAL, Result};

/// Signalfds.
pub(super) struct SignalFd;

/// The signals `file` accepts, if it is a signalfd.
fn read(file: &FileRef) -> Option<u64> {
    let mut mask = 0u64;
    // SAFETY: the file is alive (type invariant of `FileRef`); the
    // helper checks that it is a signalfd before it reads its context.
    unsafe { bindings::ckpt_signalfd_read(file.as_ptr(), &mut mask) }.then_some(mask)
}

impl OpenFileKind for SignalFd {
    fn kind(&self) -> FileKind {
        FileKind::SignalFd
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
        let mask = read(file).ok_or(EINVAL)?;
        super::check_state_file_flags("a signalfd", rec, cx.failure, what)?;
        Ok(SavedFile::ByState(FileStateRecord {
            words: [mask, 0, 0, 0],
        }))
    }

    fn recreate(&self, rec: &FileObjectRecord, state: &FileStateRecord) -> Result<FileRef> {
        // SAFETY: the helper leaves out SIGKILL and SIGSTOP and returns a
        // new counted reference or an error pointer, which
        // `from_owned_or_error` takes.
        unsafe {
            FileRef::from_owned_or_error(bindings::ckpt_signalfd_create(
                state.words[0],
                rec.flags & bindings::O_NONBLOCK != 0,
            ))
        }
    }
}
