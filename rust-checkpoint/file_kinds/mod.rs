// SPDX-License-Identifier: GPL-2.0

//! Kinds of open files: one module per kind, each with its checkpoint and
//! its restart side, behind [`OpenFileKind`].
//!
//! The fd table and the memory areas (`files.rs`, `mm.rs`) save and
//! reopen every file through [`kind_of`] and [`by_number`] and know
//! nothing of the kinds.  A new kind is a module here, a [`FileKind`]
//! number in the format, and one line in [`KINDS`].

use crate::error::{eopnotsupp, Failure};
use crate::file::FileRef;
use crate::format::{FileKind, FileObjectRecord, FileStateRecord, STATE_FILE_FLAGS};
use kernel::bindings;
use kernel::error::{code::EINVAL, Result};

mod chardev;
mod eventfd;
mod regular;
mod signalfd;
mod timerfd;

/// One kind of open file.
pub trait OpenFileKind: Sync {
    /// The number images give this kind.
    fn kind(&self) -> FileKind;

    /// Whether `file` is of this kind (by the type of its inode).
    fn claims(&self, file: &FileRef) -> bool;

    /// Fills in the kind's fields of `rec` (position, device number), or
    /// refuses `file` with `EOPNOTSUPP` after saying why in `failure`,
    /// naming its user `what` ("fd 3").  Returns the state that stands
    /// for the path of a file that has none, `None` for a file saved by
    /// its path.
    fn save(
        &self,
        file: &FileRef,
        rec: &mut FileObjectRecord,
        failure: &mut Failure,
        what: core::fmt::Arguments<'_>,
    ) -> Result<Option<FileStateRecord>>;

    /// Opens the file of `rec` (a parser-checked record of this kind)
    /// again by `path` (NUL-terminated), before restart's point of no
    /// return; `EINVAL` if the path now names a file of another kind, or
    /// if files of this kind have no path.
    fn reopen(&self, _rec: &FileObjectRecord, _path: &[u8]) -> Result<FileRef> {
        Err(EINVAL)
    }

    /// Creates the file of `rec` again from its `state` (both checked by
    /// the parser), before restart's point of no return; `EINVAL` for a
    /// kind saved by path.
    fn recreate(&self, _rec: &FileObjectRecord, _state: &FileStateRecord) -> Result<FileRef> {
        Err(EINVAL)
    }
}

/// Every kind this version saves.
static KINDS: [&dyn OpenFileKind; 6] = [
    &regular::REGULAR_FILE,
    &regular::DIRECTORY,
    &chardev::CharDevice,
    &eventfd::EventFd,
    &signalfd::SignalFd,
    &timerfd::TimerFd,
];

/// The kind that saves `file`, if any.
pub fn kind_of(file: &FileRef) -> Option<&'static dyn OpenFileKind> {
    KINDS.iter().copied().find(|k| k.claims(file))
}

/// The kind of number `kind` in an image.
pub fn by_number(kind: u32) -> Option<&'static dyn OpenFileKind> {
    KINDS.iter().copied().find(|k| k.kind() as u32 == kind)
}

/// Refuses, with `EOPNOTSUPP` and a message naming `what` and `name`, a
/// file without a path whose open flags (in `rec`) are more than
/// read-write access and `O_NONBLOCK` ([`STATE_FILE_FLAGS`]): no other
/// flag means anything to such a file, so restart sets only those.
fn check_state_file_flags(
    name: &str,
    rec: &FileObjectRecord,
    failure: &mut Failure,
    what: core::fmt::Arguments<'_>,
) -> Result {
    if rec.flags & !STATE_FILE_FLAGS != 0 {
        failure.set(format_args!(
            "{what}: {name} with open flags {:#o} cannot be saved",
            rec.flags
        ));
        return Err(eopnotsupp());
    }
    Ok(())
}

/// A human name for a kind of file no module saves, by the type bits of
/// its inode mode.
pub fn unsupported_kind_name(mode: u32) -> &'static str {
    match mode & bindings::S_IFMT {
        bindings::S_IFIFO => "a pipe or FIFO",
        bindings::S_IFSOCK => "a socket",
        bindings::S_IFBLK => "a block device",
        bindings::S_IFLNK => "a symbolic link",
        _ => "an unknown kind of file",
    }
}
