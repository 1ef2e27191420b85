// SPDX-License-Identifier: GPL-2.0

//! Regular files that were unlinked while open or mapped.
//!
//! Such a file can no longer be opened by path, so its contents go into
//! the image: the path of the directory it was in, its size, its
//! permission bits, and its data (ranges that are all zeros are left
//! out, as holes).  Restart creates an unnamed file in that directory
//! (`O_TMPFILE`), with the caller's rights, gives it the data, the size
//! and the mode, then opens it with the saved flags and moves it to the
//! saved position.  A mapping of the file maps that new file.
//!
//! Refused: a file larger than [`MAX_DELETED_FILE_SIZE`] (`EFBIG`), one
//! whose directory was removed too, one opened more than once (two open
//! files of one inode would become two files), and the files of internal
//! mounts, which no directory holds (memfds have a kind of their own,
//! which shares the saving and re-creating of contents kept here).

use super::{OpenFileKind, SaveContext, SavedFile};
use crate::error::eopnotsupp;
use crate::file::{nul_terminated, path_to_bytes, FileRef};
use crate::format::{FileKind, FileObjectRecord, MAX_DELETED_FILE_SIZE, MAX_FILE_DATA};
use kernel::alloc::{flags::GFP_KERNEL, KVec};
use kernel::bindings;
use kernel::error::{code::*, Error, Result};

/// Unlinked regular files.
pub(super) struct DeletedFile;

/// Size of a path buffer (`PATH_MAX`).
const PATH_BUFFER_SIZE: usize = 4096;

/// The directory an unlinked file was in, as counted references.
///
/// # Invariants
///
/// `path` holds references (`path_get`) that this object owns.
struct DirRef {
    path: bindings::path,
}

impl DirRef {
    /// The directory of the unlinked `file`: `EOPNOTSUPP` for a file of an
    /// internal mount, `ENOENT` if the directory is gone too.
    fn of(file: &FileRef) -> Result<Self> {
        let mut path = bindings::path::default();
        // SAFETY: the file is alive (type invariant of `FileRef`); the
        // helper fills `path` with counted references on success.
        let ret = unsafe { bindings::ckpt_unlinked_file_dir(file.as_ptr(), &mut path) };
        if ret < 0 {
            return Err(Error::from_errno(ret));
        }
        // INVARIANT: the helper took the references.
        Ok(DirRef { path })
    }
}

impl Drop for DirRef {
    fn drop(&mut self) {
        // SAFETY: drops the references owned by this object.
        unsafe { bindings::path_put(&self.path) };
    }
}

/// A new open file on `file`'s inode with `flags`, with the caller's
/// rights.
pub(super) fn reopen_inode(file: &FileRef, flags: u32) -> Result<FileRef> {
    // SAFETY: the file is alive; the helper returns a new counted
    // reference or an error pointer, which `from_owned_or_error` takes.
    unsafe { FileRef::from_owned_or_error(bindings::ckpt_reopen_file(file.as_ptr(), flags as i32)) }
}

/// Checks what saving the contents of `file` (`an`, e.g. "a memfd")
/// needs: a size within `max` (`EFBIG`) and no other open file of its
/// inode in the image, which would become a second copy (`EOPNOTSUPP`).
/// Returns the size.
pub(super) fn check_contents(
    file: &FileRef,
    cx: &mut SaveContext<'_>,
    what: core::fmt::Arguments<'_>,
    an: &str,
    max: u64,
) -> Result<u64> {
    let size = u64::try_from(file.size()).map_err(|_| EINVAL)?;
    if size > max {
        cx.failure.set(format_args!(
            "{what}: {an} of {size} bytes (more than {max}) cannot be saved"
        ));
        return Err(EFBIG);
    }
    // SAFETY: the file is alive, and so is its inode.
    let inode = unsafe { (*file.as_ptr()).f_inode } as usize;
    if !cx.objects.deleted_inode(inode)? {
        cx.failure.set(format_args!(
            "{what}: {an} open more than once cannot be saved"
        ));
        return Err(eopnotsupp());
    }
    Ok(size)
}

/// Which file without a name an [`UnlinkedFile`] is.
pub enum Unnamed {
    /// A regular file unlinked from the directory `UnlinkedFile::dir_or_name`.
    Deleted,
    /// A memfd named `UnlinkedFile::dir_or_name`, with these seals.
    Memfd(u32),
    /// The object behind shared anonymous memory (no name, no mode).
    SharedMemory,
    /// The memory of a SysV segment (no name; its record has the rest).
    SysvSegment,
}

/// What checkpoint keeps of an unlinked file, a memfd or shared
/// anonymous memory until its contents are written, after its file
/// object.
pub struct UnlinkedFile {
    /// Which it is.
    pub of: Unnamed,
    /// The absolute path of its directory, or a memfd's name (without a
    /// NUL).
    pub dir_or_name: KVec<u8>,
    /// Its size.
    pub size: u64,
    /// Its permission bits.
    pub mode: u32,
    /// A file open for reading on it, whose position this object owns.
    pub(super) reader: FileRef,
}

impl UnlinkedFile {
    /// Writes the contents (`FileData` records, the last one empty) with
    /// `write(offset, bytes)`; holes and ranges of zeros are left out.
    pub fn write_contents(&self, mut write: impl FnMut(u64, &[u8]) -> Result) -> Result {
        let mut buf = KVec::from_elem(0u8, MAX_FILE_DATA as usize, GFP_KERNEL)?;
        let mut offset = 0u64;
        while offset < self.size {
            // Skip a hole: an untouched stretch of shared memory costs
            // nothing to save.
            match self.reader.next_data(offset)? {
                // Whole chunks of hole are skipped; chunks stay aligned.
                Some(data) => offset = offset.max(data & !(MAX_FILE_DATA as u64 - 1)),
                None => break,
            }
            let want = (self.size - offset).min(MAX_FILE_DATA.into()) as usize;
            let chunk = buf.get_mut(..want).ok_or(EINVAL)?;
            let n = self.reader.read_at(chunk, offset)?;
            // Shorter than its size now: the rest reads as zeros.
            let Some(data) = chunk.get(..n).filter(|d| !d.is_empty()) else {
                break;
            };
            write_nonzero_runs(offset, data, &mut write)?;
            offset += n as u64;
        }
        write(self.size, &[])
    }
}

/// Granularity of the holes left out of saved contents: a page, so that
/// restart allocates no page that held only zeros.
const HOLE_GRANULE: usize = 4096;

/// Calls `write(offset, run)` for each run of `data` (at `offset`) whose
/// granules are not all zeros.
fn write_nonzero_runs(
    offset: u64,
    data: &[u8],
    write: &mut impl FnMut(u64, &[u8]) -> Result,
) -> Result {
    let mut run_start: Option<usize> = None;
    let mut at = 0usize;
    for granule in data.chunks(HOLE_GRANULE) {
        let zero = granule.iter().all(|&b| b == 0);
        match (zero, run_start) {
            (false, None) => run_start = Some(at),
            (true, Some(start)) => {
                write(offset + start as u64, data.get(start..at).ok_or(EINVAL)?)?;
                run_start = None;
            }
            _ => {}
        }
        at += granule.len();
    }
    if let Some(start) = run_start {
        write(offset + start as u64, data.get(start..).ok_or(EINVAL)?)?;
    }
    Ok(())
}

impl OpenFileKind for DeletedFile {
    fn kind(&self) -> FileKind {
        FileKind::DeletedFile
    }

    fn claims(&self, file: &FileRef) -> bool {
        file.inode_mode() & bindings::S_IFMT == bindings::S_IFREG
            && file.is_unlinked()
            && !file.on_internal_mount()
    }

    fn save(
        &self,
        file: &FileRef,
        rec: &mut FileObjectRecord,
        cx: &mut SaveContext<'_>,
        what: core::fmt::Arguments<'_>,
    ) -> Result<SavedFile> {
        let size = check_contents(file, cx, what, "a deleted file", MAX_DELETED_FILE_SIZE)?;
        let dir = match DirRef::of(file) {
            Ok(dir) => dir,
            Err(e) => {
                cx.failure.set(format_args!(
                    "{what}: a deleted file whose directory is gone cannot be saved"
                ));
                return Err(e);
            }
        };
        let mut buf = KVec::from_elem(0u8, PATH_BUFFER_SIZE, GFP_KERNEL)?;
        let name = path_to_bytes(&dir.path, &mut buf)?;
        let mut dir_name = KVec::with_capacity(name.len(), GFP_KERNEL)?;
        dir_name.extend_from_slice(name, GFP_KERNEL)?;
        let reader = match reopen_inode(file, bindings::O_RDONLY | bindings::O_LARGEFILE) {
            Ok(reader) => reader,
            Err(e) => {
                cx.failure.set(format_args!(
                    "{what}: the contents of a deleted file cannot be read"
                ));
                return Err(e);
            }
        };
        rec.pos = file.pos();
        Ok(SavedFile::Contents(UnlinkedFile {
            of: Unnamed::Deleted,
            dir_or_name: dir_name,
            size,
            mode: file.inode_mode() & 0o7777,
            reader,
        }))
    }
}

/// An unlinked file, a memfd or shared anonymous memory being created
/// again by restart, until its contents are in.
pub struct UnlinkedCopy {
    rec: FileObjectRecord,
    size: u64,
    /// Which it is; a memfd's seals are added once the contents are in.
    of: Unnamed,
    /// The new file, open read-write.
    file: FileRef,
}

impl UnlinkedCopy {
    /// Creates an unnamed file in the directory `dir` (without a NUL)
    /// for the file object `rec`, of `size` bytes and permission bits
    /// `mode` (checked by the parser).
    pub fn create(rec: &FileObjectRecord, dir: &[u8], size: u64, mode: u32) -> Result<Self> {
        let name = nul_terminated(dir)?;
        let flags = bindings::O_TMPFILE | bindings::O_RDWR | bindings::O_LARGEFILE;
        // SAFETY: `name` is NUL-terminated; `filp_open` returns a counted
        // reference or an error pointer, which `from_owned_or_error`
        // takes.
        let file = unsafe {
            FileRef::from_owned_or_error(bindings::filp_open(
                name.as_ptr().cast(),
                flags as i32,
                0o600,
            ))
        }?;
        Self::new(rec, size, Unnamed::Deleted, file, mode)
    }

    /// Creates a memfd named `name` (checked by the parser) for the file
    /// object `rec`, of `size` bytes with `seals` and permission bits
    /// `mode`.
    pub fn create_memfd(
        rec: &FileObjectRecord,
        name: &[u8],
        size: u64,
        seals: u32,
        mode: u32,
    ) -> Result<Self> {
        let cname = nul_terminated(name)?;
        // SAFETY: `cname` is NUL-terminated; the helper returns a counted
        // reference or an error pointer.
        let created = unsafe { bindings::ckpt_memfd_create(cname.as_ptr()) };
        // SAFETY: as just said, which `from_owned_or_error` takes.
        let file = unsafe { FileRef::from_owned_or_error(created) }?;
        Self::new(rec, size, Unnamed::Memfd(seals), file, mode)
    }

    /// Creates the object behind shared anonymous memory for the file
    /// object `rec`, of `size` bytes (checked by the parser), charged to
    /// the caller as a shared anonymous mapping is.
    pub fn create_shared_memory(rec: &FileObjectRecord, size: u64) -> Result<Self> {
        let size = i64::try_from(size).map_err(|_| EINVAL)?;
        // SAFETY: no preconditions; the helper returns a counted
        // reference or an error pointer.
        let created = unsafe { bindings::ckpt_shared_anon_create(size) };
        // SAFETY: as just said, which `from_owned_or_error` takes.
        let file = unsafe { FileRef::from_owned_or_error(created) }?;
        Ok(UnlinkedCopy {
            rec: *rec,
            size: size as u64,
            of: Unnamed::SharedMemory,
            file,
        })
    }

    /// The copy the contents of a SysV segment restart created go to:
    /// `file`, its memory, of `size` bytes.
    pub(super) fn for_segment(file: FileRef, size: u64) -> Self {
        UnlinkedCopy {
            rec: FileObjectRecord {
                objref: 0,
                kind: 0,
                flags: 0,
                device_or_pipe: 0,
                pos: 0,
            },
            size,
            of: Unnamed::SysvSegment,
            file,
        }
    }

    fn new(
        rec: &FileObjectRecord,
        size: u64,
        of: Unnamed,
        file: FileRef,
        mode: u32,
    ) -> Result<Self> {
        // The umask does not apply: the saved mode is the file's.
        // SAFETY: the file is alive; `vfs_fchmod` checks that the caller
        // may change its mode (it owns it).
        let ret = unsafe { bindings::vfs_fchmod(file.as_ptr(), mode as u16) };
        if ret < 0 {
            return Err(Error::from_errno(ret));
        }
        Ok(UnlinkedCopy {
            rec: *rec,
            size,
            of,
            file,
        })
    }

    /// Writes `data` at `offset` (checked by the parser to lie within
    /// the size).
    pub fn write(&self, offset: u64, mut data: &[u8]) -> Result {
        let mut at = offset;
        while !data.is_empty() {
            let n = self.file.write_at(data, at)?;
            data = data.get(n..).filter(|_| n > 0).ok_or(EIO)?;
            at += n as u64;
        }
        Ok(())
    }

    /// Gives the file its size, opens it with the saved flags and
    /// position, and returns its object reference and that open file;
    /// `None` for a segment, which is no file object.
    pub fn finish(self) -> Result<Option<(u32, FileRef)>> {
        match self.of {
            // Created with its size, read-write: nothing to reopen.
            Unnamed::SharedMemory => return Ok(Some((self.rec.objref, self.file))),
            Unnamed::SysvSegment => return Ok(None),
            Unnamed::Deleted | Unnamed::Memfd(_) => {}
        }
        let have = u64::try_from(self.file.size()).map_err(|_| EINVAL)?;
        if have < self.size {
            // A hole up to the size.
            self.write(self.size - 1, &[0])?;
        }
        if let Unnamed::Memfd(seals) = self.of {
            // SAFETY: the file is alive and a memfd; the helper checks the
            // seals as `fcntl(F_ADD_SEALS)` does.
            let ret = unsafe { bindings::ckpt_memfd_seal(self.file.as_ptr(), seals) };
            if ret < 0 {
                return Err(Error::from_errno(ret));
            }
        }
        let file = reopen_inode(&self.file, self.rec.flags | bindings::O_LARGEFILE)?;
        file.seek(self.rec.pos)?;
        Ok(Some((self.rec.objref, file)))
    }
}
