// SPDX-License-Identifier: GPL-2.0

//! Regular files and directories: saved as their path, open flags and
//! position; reopened by path (never created) and moved to the position.

use super::{OpenFileKind, SaveContext, SavedFile};
use crate::file::FileRef;
use crate::format::{FileKind, FileObjectRecord};
use crate::objhash::RestartObjects;
use kernel::bindings;
use kernel::error::{code::EINVAL, Result};

/// Files of one inode type that are opened again by path at their
/// position.
pub(super) struct PathFile {
    kind: FileKind,
    /// The `S_IFMT` bits of the inodes of this kind.
    inode_type: u32,
}

/// Regular files.
pub(super) const REGULAR_FILE: PathFile = PathFile {
    kind: FileKind::Regular,
    inode_type: bindings::S_IFREG,
};

/// Directories.
pub(super) const DIRECTORY: PathFile = PathFile {
    kind: FileKind::Directory,
    inode_type: bindings::S_IFDIR,
};

impl OpenFileKind for PathFile {
    fn kind(&self) -> FileKind {
        self.kind
    }

    fn claims(&self, file: &FileRef) -> bool {
        file.inode_mode() & bindings::S_IFMT == self.inode_type
    }

    fn save(
        &self,
        file: &FileRef,
        rec: &mut FileObjectRecord,
        _cx: &mut SaveContext<'_>,
        _what: core::fmt::Arguments<'_>,
    ) -> Result<SavedFile> {
        rec.pos = file.pos();
        Ok(SavedFile::ByPath)
    }

    fn reopen(
        &self,
        rec: &FileObjectRecord,
        path: &[u8],
        _objects: &mut RestartObjects,
    ) -> Result<FileRef> {
        let file = FileRef::open(path, rec.flags)?;
        if !self.claims(&file) {
            return Err(EINVAL);
        }
        file.seek(rec.pos)?;
        Ok(file)
    }
}
