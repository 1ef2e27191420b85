// SPDX-License-Identifier: GPL-2.0

//! Regular files and directories: saved as their path, open flags and
//! position; reopened by path (never created) and moved to the position.

use super::OpenFileKind;
use crate::error::Failure;
use crate::file::FileRef;
use crate::format::{FileKind, FileObjectRecord, FileStateRecord};
use kernel::bindings;
use kernel::error::{code::EINVAL, Result};

/// Regular files.
pub(super) struct RegularFile;
/// Directories.
pub(super) struct Directory;

fn save_position(file: &FileRef, rec: &mut FileObjectRecord) -> Result {
    rec.pos = file.pos();
    Ok(())
}

fn reopen_at_position(
    kind: &dyn OpenFileKind,
    rec: &FileObjectRecord,
    path: &[u8],
) -> Result<FileRef> {
    let file = FileRef::open(path, rec.flags)?;
    if !kind.claims(&file) {
        return Err(EINVAL);
    }
    file.seek(rec.pos)?;
    Ok(file)
}

impl OpenFileKind for RegularFile {
    fn kind(&self) -> FileKind {
        FileKind::Regular
    }

    fn claims(&self, file: &FileRef) -> bool {
        file.inode_mode() & bindings::S_IFMT == bindings::S_IFREG
    }

    fn save(
        &self,
        file: &FileRef,
        rec: &mut FileObjectRecord,
        _failure: &mut Failure,
        _what: core::fmt::Arguments<'_>,
    ) -> Result<Option<FileStateRecord>> {
        save_position(file, rec)?;
        Ok(None)
    }

    fn reopen(&self, rec: &FileObjectRecord, path: &[u8]) -> Result<FileRef> {
        reopen_at_position(self, rec, path)
    }
}

impl OpenFileKind for Directory {
    fn kind(&self) -> FileKind {
        FileKind::Directory
    }

    fn claims(&self, file: &FileRef) -> bool {
        file.inode_mode() & bindings::S_IFMT == bindings::S_IFDIR
    }

    fn save(
        &self,
        file: &FileRef,
        rec: &mut FileObjectRecord,
        _failure: &mut Failure,
        _what: core::fmt::Arguments<'_>,
    ) -> Result<Option<FileStateRecord>> {
        save_position(file, rec)?;
        Ok(None)
    }

    fn reopen(&self, rec: &FileObjectRecord, path: &[u8]) -> Result<FileRef> {
        reopen_at_position(self, rec, path)
    }
}
