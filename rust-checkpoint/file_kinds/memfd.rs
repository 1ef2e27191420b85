// SPDX-License-Identifier: GPL-2.0

//! Memfds (`memfd_create(2)`): saved with their name, seals, permission
//! bits and contents (holes left out), as unlinked files are; restart
//! creates a new memfd with that name, writes the contents, sets the
//! mode and adds the seals, then opens it with the saved flags.  Its
//! mappings, private or shared, map the new one.
//!
//! Refused: a memfd larger than [`MAX_DELETED_FILE_SIZE`] (`EFBIG`), one
//! open more than once, and hugetlbfs memfds (`MFD_HUGETLB`), which are
//! not claimed and are refused as files without a path.

use super::deleted::{check_contents, reopen_inode, UnlinkedFile, Unnamed};
use super::{OpenFileKind, SaveContext, SavedFile};
use crate::file::FileRef;
use crate::format::{FileKind, FileObjectRecord, MAX_DELETED_FILE_SIZE, MAX_MEMFD_NAME};
use kernel::alloc::{flags::GFP_KERNEL, KVec};
use kernel::bindings;
use kernel::error::{code::*, Error, Result};

/// Memfds.
pub(super) struct Memfd;

/// The name and seals of the memfd `file`; `EBADF` if it is not one.
fn read(file: &FileRef) -> Result<(KVec<u8>, u32)> {
    let mut name = [0u8; MAX_MEMFD_NAME + 1];
    let mut seals = 0u32;
    // SAFETY: the file is alive (type invariant of `FileRef`); `name` is
    // writable for its length; the helper checks that the file is a memfd
    // before it looks further.
    let ret = unsafe {
        bindings::ckpt_memfd_read(
            file.as_ptr(),
            name.as_mut_ptr().cast(),
            name.len(),
            &mut seals,
        )
    };
    if ret < 0 {
        return Err(Error::from_errno(ret));
    }
    let len = name.iter().position(|&b| b == 0).ok_or(EINVAL)?;
    let mut out = KVec::with_capacity(len, GFP_KERNEL)?;
    out.extend_from_slice(name.get(..len).ok_or(EINVAL)?, GFP_KERNEL)?;
    Ok((out, seals))
}

impl OpenFileKind for Memfd {
    fn kind(&self) -> FileKind {
        FileKind::Memfd
    }

    fn claims(&self, file: &FileRef) -> bool {
        read(file).is_ok()
    }

    fn save(
        &self,
        file: &FileRef,
        rec: &mut FileObjectRecord,
        cx: &mut SaveContext<'_>,
        what: core::fmt::Arguments<'_>,
    ) -> Result<SavedFile> {
        let (name, seals) = read(file)?;
        let size = check_contents(file, cx, what, "a memfd", MAX_DELETED_FILE_SIZE)?;
        let reader = reopen_inode(file, bindings::O_RDONLY | bindings::O_LARGEFILE)?;
        rec.pos = file.pos();
        Ok(SavedFile::Contents(UnlinkedFile {
            of: Unnamed::Memfd(seals),
            dir_or_name: name,
            size,
            mode: file.inode_mode() & 0o7777,
            reader,
        }))
    }
}
