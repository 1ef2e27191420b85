// SPDX-License-Identifier: GPL-2.0

//! SysV shared memory (`shmget(2)`, `shmat(2)`).
//!
//! Every `shmat` makes an open file of its own, which the attached
//! memory areas hold; all the attaches of one segment share its memory.
//! The segment is saved once, when its first attach is seen, as a
//! segment record (id, key, permission bits, owner, size, whether it was
//! removed already) with its contents (holes left out), numbered in a
//! sequence of its own; each attach is a file object that names it, and
//! the areas map the attach.
//!
//! Restart creates the segment in the caller's IPC namespace with the
//! saved key (`EEXIST` if the key is taken), size and mode, the caller as
//! its creator and the saved owner, and fills it; a caller with
//! `CAP_CHECKPOINT_RESTORE` over the namespace gets the saved id
//! (`EBUSY` if it is taken), another caller a new one.  Each attach is
//! made again as `shmat` makes it, with its access checked against the
//! segment's mode.  A segment that was removed while attached is removed
//! again once the areas map it, so it goes when they do.  If restart
//! fails before that, the segments it created are removed.
//!
//! Refused: segments of huge pages and segments locked in memory
//! (`SHM_LOCK`), with `EOPNOTSUPP`; a segment another process has
//! attached is refused by `mm.rs`, which sees the other mappings.

use super::deleted::{check_contents, reopen_inode, UnlinkedCopy, UnlinkedFile, Unnamed};
use super::{OpenFileKind, SaveContext, SavedFile};
use crate::error::eopnotsupp;
use crate::file::FileRef;
use crate::format::{
    FileKind, FileObjectRecord, ShmSegmentRecord, MAX_SHARED_MEMORY_SIZE, SHM_MODES,
};
use crate::objhash::RestartObjects;
use kernel::alloc::{flags::GFP_KERNEL, KVec};
use kernel::bindings;
use kernel::error::{code::*, Error, Result};

/// The kernel's `SHM_LOCKED` mode bit.
const SHM_LOCKED: u32 = 0o2000;

/// Attaches of SysV shared memory segments.
pub(super) struct SysvShm;

/// What the kernel says of the segment `file` attaches; `EBADF` if it is
/// not an attach, `EOPNOTSUPP` for a huge-page segment.
fn read(file: &FileRef) -> Result<bindings::ckpt_shm> {
    let mut info = bindings::ckpt_shm::default();
    // SAFETY: the file is alive (type invariant of `FileRef`); `info` is
    // writable; the helper checks that the file is an attach first.
    let ret = unsafe { bindings::ckpt_shm_read(file.as_ptr(), &mut info) };
    if ret < 0 {
        return Err(Error::from_errno(ret));
    }
    Ok(info)
}

impl OpenFileKind for SysvShm {
    fn kind(&self) -> FileKind {
        FileKind::SysvShm
    }

    fn claims(&self, file: &FileRef) -> bool {
        !matches!(read(file), Err(e) if e == EBADF)
    }

    fn save(
        &self,
        file: &FileRef,
        rec: &mut FileObjectRecord,
        cx: &mut SaveContext<'_>,
        what: core::fmt::Arguments<'_>,
    ) -> Result<SavedFile> {
        let info = match read(file) {
            Ok(info) => info,
            Err(e) if e == eopnotsupp() => {
                cx.failure.set(format_args!(
                    "{what}: a SysV shared memory segment of huge pages cannot be saved"
                ));
                return Err(e);
            }
            Err(e) => {
                cx.failure.set(format_args!(
                    "{what}: its SysV shared memory segment is gone"
                ));
                return Err(e);
            }
        };
        if info.mode & SHM_LOCKED != 0 {
            cx.failure.set(format_args!(
                "{what}: SysV segment {} is locked in memory (SHM_LOCK)",
                info.id
            ));
            return Err(eopnotsupp());
        }
        let (number, first) = cx.objects.segment(info.identity as usize)?;
        if first {
            let size = check_contents(file, cx, what, "a SysV segment", MAX_SHARED_MEMORY_SIZE)?;
            let segment = ShmSegmentRecord {
                segment: number,
                id: info.id,
                key: info.key,
                mode: info.mode & SHM_MODES,
                uid: info.uid,
                gid: info.gid,
                size: info.size,
            };
            if size != info.size || !segment.is_valid(number) {
                cx.failure.set(format_args!(
                    "{what}: SysV segment {} cannot be saved (size {size}, owner {}:{})",
                    info.id, info.uid, info.gid
                ));
                return Err(eopnotsupp());
            }
            let contents = UnlinkedFile {
                of: Unnamed::SysvSegment,
                dir_or_name: KVec::new(),
                size,
                mode: 0,
                reader: reopen_inode(file, bindings::O_RDONLY | bindings::O_LARGEFILE)?,
            };
            cx.out.write_shm_segment(&segment, &contents)?;
        }
        rec.device_or_pipe = number;
        rec.flags = file.flags() & bindings::O_ACCMODE;
        rec.pos = 0;
        Ok(SavedFile::ShmAttach)
    }

    fn rejoin(&self, rec: &FileObjectRecord, objects: &mut RestartObjects) -> Result<FileRef> {
        let id = objects.segments.id(rec.device_or_pipe)?;
        let writable = rec.flags & bindings::O_ACCMODE == bindings::O_RDWR;
        // SAFETY: no preconditions; the helper returns a counted reference
        // or an error pointer.
        let file = unsafe { bindings::ckpt_shm_attach_file(id, writable) };
        // SAFETY: as just said, which `from_owned_or_error` takes.
        unsafe { FileRef::from_owned_or_error(file) }
    }
}

/// One segment restart created.
struct CreatedSegment {
    id: i32,
    /// It was removed while attached: remove it again once mapped.
    removed: bool,
}

/// The SysV segments of one restart, by number.  Until
/// [`RestoredSegments::commit`] they are removed when this is dropped, so
/// that a failed restart leaves none behind.
#[derive(Default)]
pub struct RestoredSegments {
    segments: KVec<CreatedSegment>,
    committed: bool,
}

impl RestoredSegments {
    /// Creates the segment of `rec` (checked by the parser), which must
    /// be the next number, and returns the copy its contents go to.
    pub fn define(&mut self, rec: &ShmSegmentRecord) -> Result<UnlinkedCopy> {
        if rec.segment as usize != self.segments.len() + 1 {
            return Err(EINVAL);
        }
        self.segments.reserve(1, GFP_KERNEL)?;
        let mut id = rec.id;
        // SAFETY: `id` is writable; the helper creates the segment in the
        // caller's IPC namespace.
        let ret = unsafe {
            bindings::ckpt_shm_create(rec.key, rec.size, rec.mode, rec.uid, rec.gid, &mut id)
        };
        if ret < 0 {
            return Err(Error::from_errno(ret));
        }
        self.segments.push(
            CreatedSegment {
                id,
                removed: rec.mode & crate::format::SHM_MODE_REMOVED != 0,
            },
            GFP_KERNEL,
        )?;
        // SAFETY: no preconditions; the helper returns a counted reference
        // or an error pointer.
        let contents = unsafe { bindings::ckpt_shm_contents(id) };
        // SAFETY: as just said, which `from_owned_or_error` takes.
        let file = unsafe { FileRef::from_owned_or_error(contents) }?;
        Ok(UnlinkedCopy::for_segment(file, rec.size))
    }

    /// The id segment number `number` got.
    pub fn id(&self, number: u32) -> Result<i32> {
        let index = (number as usize).checked_sub(1).ok_or(EINVAL)?;
        Ok(self.segments.get(index).ok_or(EINVAL)?.id)
    }

    /// The areas map the segments now: keeps them, and removes again
    /// those that had been removed, which go when their last area does.
    pub fn commit(&mut self) {
        for segment in self.segments.iter().filter(|s| s.removed) {
            // SAFETY: no preconditions; removes a segment of the caller's
            // IPC namespace, which restart created.
            unsafe { bindings::ckpt_shm_remove(segment.id) };
        }
        self.committed = true;
    }
}

impl Drop for RestoredSegments {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        for segment in self.segments.iter() {
            // SAFETY: as in `commit`.
            unsafe { bindings::ckpt_shm_remove(segment.id) };
        }
    }
}
