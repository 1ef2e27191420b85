// SPDX-License-Identifier: GPL-2.0

//! Character devices that keep no state of their own: `/dev/null`,
//! `/dev/zero`, `/dev/full`, `/dev/random`, `/dev/urandom` and `/dev/tty`
//! ([`SAVED_CHAR_DEVICES`]).
//!
//! Saved as the path, open flags and device number; reopened by path and
//! checked to be the same device.  Their position means nothing (reads
//! and writes ignore it, `lseek` resets it or fails) and is saved as 0.
//! `/dev/tty` opens the controlling terminal of whoever opens it: after
//! restart, the restart caller's, which the restored process keeps with
//! the caller's session.  Any other character device (a terminal, a
//! sound card...) is refused with its major and minor numbers.

use super::{OpenFileKind, SaveContext, SavedFile};
use crate::error::eopnotsupp;
use crate::file::FileRef;
use crate::format::{device_number, FileKind, FileObjectRecord, SAVED_CHAR_DEVICES};
use crate::objhash::RestartObjects;
use kernel::bindings;
use kernel::error::{code::EINVAL, Result};

/// The character devices of [`SAVED_CHAR_DEVICES`].
pub(super) struct CharDevice;

/// The bits of a device number that hold the minor number (the kernel's
/// `MINORBITS`).
const MINOR_BITS: u32 = 20;

// The record's device numbers are the kernel's.
const _: () = assert!(device_number(1, 3) == (1 << MINOR_BITS | 3));

impl OpenFileKind for CharDevice {
    fn kind(&self) -> FileKind {
        FileKind::CharDevice
    }

    fn claims(&self, file: &FileRef) -> bool {
        file.inode_mode() & bindings::S_IFMT == bindings::S_IFCHR
    }

    fn save(
        &self,
        file: &FileRef,
        rec: &mut FileObjectRecord,
        cx: &mut SaveContext<'_>,
        what: core::fmt::Arguments<'_>,
    ) -> Result<SavedFile> {
        let rdev = file.inode_rdev();
        if !SAVED_CHAR_DEVICES.contains(&rdev) {
            cx.failure.set(format_args!(
                "{what}: character device {}:{} is not supported",
                rdev >> MINOR_BITS,
                rdev & ((1 << MINOR_BITS) - 1)
            ));
            return Err(eopnotsupp());
        }
        rec.device_or_pipe = rdev;
        rec.pos = 0;
        Ok(SavedFile::ByPath)
    }

    fn reopen(
        &self,
        rec: &FileObjectRecord,
        path: &[u8],
        _objects: &mut RestartObjects,
    ) -> Result<FileRef> {
        let file = FileRef::open(path, rec.flags)?;
        if !self.claims(&file) || file.inode_rdev() != rec.device_or_pipe {
            return Err(EINVAL);
        }
        Ok(file)
    }
}
