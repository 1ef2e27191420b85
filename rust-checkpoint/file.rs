// SPDX-License-Identifier: GPL-2.0

//! A counted reference to an open file, taken from a descriptor of the
//! calling task, and the image [`Sink`]/[`Source`] on top of it.
//!
//! The reference keeps the `struct file` alive even if the task closes the
//! descriptor meanwhile.  Reads and writes go through `kernel_read` and
//! `kernel_write` (whole pages: `vfs_iter_read` and `vfs_iter_write`) at
//! the file's own position (as `read(2)` and `write(2)` do), or without
//! a position for stream files such as pipes.  The
//! position is not protected by `f_pos_lock`: checkpoint and restart act
//! for single-threaded callers.

use crate::error::{eopnotsupp, to_format_errno};
use crate::format::{self, Errno};
use core::ptr::NonNull;
use kernel::alloc::{flags::GFP_KERNEL, KVec};
use kernel::bindings;
use kernel::error::{code::*, Error, Result};

/// Converts the return value of `kernel_read`/`kernel_write`.
fn ssize_result(ret: isize) -> Result<usize> {
    if ret < 0 {
        Err(Error::from_errno(ret as i32))
    } else {
        Ok(ret as usize)
    }
}

/// A counted reference to a `struct file` (from `fget`).
///
/// # Invariants
///
/// `ptr` points to a `struct file` on which this object owns one reference.
pub struct FileRef {
    ptr: NonNull<bindings::file>,
}

impl FileRef {
    /// Takes a reference to the file open at descriptor `fd` of the calling
    /// task; `EBADF` if there is none.
    pub fn from_fd(fd: i32) -> Result<Self> {
        let fd = u32::try_from(fd).map_err(|_| EBADF)?;
        // SAFETY: `fget` has no preconditions; it returns a counted
        // reference or null.
        let ptr = unsafe { bindings::fget(fd) };
        // INVARIANT: `fget` returned a counted reference that we now own.
        NonNull::new(ptr).map(|ptr| FileRef { ptr }).ok_or(EBADF)
    }

    /// Takes a new reference to `file`.
    ///
    /// # Safety
    ///
    /// `file` must point to a live `struct file` (the caller holds a
    /// reference or a lock that keeps it alive for this call).
    pub unsafe fn from_raw_get(file: NonNull<bindings::file>) -> Self {
        // SAFETY: the file is alive (function safety requirement).
        unsafe { bindings::get_file(file.as_ptr()) };
        // INVARIANT: `get_file` took the reference we now own.
        FileRef { ptr: file }
    }

    /// Takes ownership of a reference the caller already holds, e.g. one
    /// returned by `get_mm_exe_file`.  Null gives `None`.
    ///
    /// # Safety
    ///
    /// `file` must be null or point to a `struct file` on which the caller
    /// owns a reference that it hands over.
    pub unsafe fn from_owned(file: *mut bindings::file) -> Option<Self> {
        // INVARIANT: the caller hands over its reference.
        NonNull::new(file).map(|ptr| FileRef { ptr })
    }

    /// Opens `path` (NUL-terminated) with the open flags `flags`; never
    /// creates a file (`O_CREAT`, `O_TRUNC` and `O_EXCL` are cleared) and
    /// never makes a terminal the caller's controlling one (`O_NOCTTY`).
    pub fn open(path: &[u8], flags: u32) -> Result<Self> {
        if path.last() != Some(&0) {
            return Err(EINVAL);
        }
        let never = bindings::O_CREAT | bindings::O_TRUNC | bindings::O_EXCL | bindings::O_PATH;
        let flags = (flags & !never) | bindings::O_LARGEFILE | bindings::O_NOCTTY;
        // SAFETY: `path` is a NUL-terminated string valid for the call;
        // `filp_open` returns a counted reference or an error pointer.
        let ptr = unsafe { bindings::filp_open(path.as_ptr().cast(), flags as i32, 0) };
        // SAFETY: as just said.
        unsafe { Self::from_owned_or_error(ptr) }
    }

    /// Takes ownership of a reference returned by a function that gives a
    /// counted reference or an error pointer (`ERR_PTR`).  Null, which
    /// such functions do not return, is `ENOENT`.
    ///
    /// # Safety
    ///
    /// `file` must be an error pointer, null, or point to a `struct file`
    /// on which the caller owns a reference that it hands over.
    pub unsafe fn from_owned_or_error(file: *mut bindings::file) -> Result<Self> {
        let value = file as isize;
        if (-4095..0).contains(&value) {
            return Err(Error::from_errno(value as i32));
        }
        // INVARIANT: a non-error result is a reference the caller hands
        // over.
        NonNull::new(file).map(|ptr| FileRef { ptr }).ok_or(ENOENT)
    }

    /// The raw pointer, valid while `self` lives.
    pub fn as_ptr(&self) -> *mut bindings::file {
        self.ptr.as_ptr()
    }

    /// The pointer, valid while `self` lives.
    pub fn as_non_null(&self) -> NonNull<bindings::file> {
        self.ptr
    }

    /// The open flags (`f_flags`).
    pub fn flags(&self) -> u32 {
        // SAFETY: the file is alive (type invariant).
        unsafe { (*self.ptr.as_ptr()).f_flags }
    }

    /// Moves the file position to `pos` (`SEEK_SET`).
    pub fn seek(&self, pos: i64) -> Result {
        // SAFETY: the file is alive (type invariant).
        let ret =
            unsafe { bindings::vfs_llseek(self.ptr.as_ptr(), pos, bindings::SEEK_SET as i32) };
        if ret < 0 {
            return Err(Error::from_errno(ret as i32));
        }
        Ok(())
    }

    /// The first offset at or after `offset` that holds data
    /// (`SEEK_DATA`), moving the position there; `None` if only a hole
    /// follows.  A file system that does not track holes has data
    /// everywhere.
    pub fn next_data(&self, offset: u64) -> Result<Option<u64>> {
        let offset = i64::try_from(offset).map_err(|_| EINVAL)?;
        // SAFETY: the file is alive (type invariant).
        let ret =
            unsafe { bindings::vfs_llseek(self.ptr.as_ptr(), offset, bindings::SEEK_DATA as i32) };
        if ret == -(bindings::ENXIO as i64) {
            return Ok(None);
        }
        if ret < 0 {
            return Err(Error::from_errno(ret as i32));
        }
        Ok(Some(ret as u64))
    }

    /// The file type and mode bits of the file's inode (`i_mode`).
    pub fn inode_mode(&self) -> u32 {
        // SAFETY: the file is alive (type invariant) and so is its inode;
        // the type bits of `i_mode` never change.
        unsafe { (*(*self.ptr.as_ptr()).f_inode).i_mode as u32 }
    }

    /// The device number of the file's inode (`i_rdev`, `major << 20 |
    /// minor`), meaningful for device files.
    pub fn inode_rdev(&self) -> u32 {
        // SAFETY: the file is alive (type invariant) and so is its inode;
        // a device inode's number never changes.
        unsafe { (*(*self.ptr.as_ptr()).f_inode).i_rdev }
    }

    /// The file position.
    pub fn pos(&self) -> i64 {
        // SAFETY: the file is alive (type invariant); a racy read of the
        // position is what `lseek(fd, 0, SEEK_CUR)` does too.
        unsafe { (*self.ptr.as_ptr()).f_pos }
    }

    /// Writes the absolute path of the file into `buf` and returns it
    /// (without a NUL).  `EOPNOTSUPP` for a file that was unlinked or
    /// that lives on an internal mount (a memfd, shared memory): it
    /// cannot be opened again by its path.
    pub fn path<'b>(&self, buf: &'b mut [u8]) -> Result<&'b [u8]> {
        // SAFETY: the file is alive (type invariant), so is its path.
        let path = unsafe { core::ptr::addr_of!((*self.ptr.as_ptr()).f_path) };
        if self.is_unlinked() || self.on_internal_mount() {
            return Err(eopnotsupp());
        }
        // SAFETY: the file's path is valid while the file is alive.
        path_to_bytes(unsafe { &*path }, buf)
    }
}

impl FileRef {
    /// Whether the file was unlinked (its dentry is no longer in the
    /// tree).
    pub fn is_unlinked(&self) -> bool {
        // SAFETY: the file is alive (type invariant), so are its path and
        // dentry.
        unsafe { bindings::d_unlinked((*self.ptr.as_ptr()).f_path.dentry) }
    }

    /// Whether the file lives on a mount of the kernel's own that no
    /// path reaches (`MNT_INTERNAL`: pipes, memfds, shared memory).
    pub fn on_internal_mount(&self) -> bool {
        // SAFETY: the file is alive (type invariant), so are its path
        // and mount; a mount's `MNT_INTERNAL` flag never changes.
        let flags = unsafe { (*(*self.ptr.as_ptr()).f_path.mnt).mnt_flags };
        flags as u32 & bindings::MNT_INTERNAL != 0
    }

    /// The size of the file's inode (`i_size`), as `fstat` reports it.
    pub fn size(&self) -> i64 {
        // SAFETY: the file is alive (type invariant) and so is its inode;
        // a racy read of the size is what `fstat` does too.
        unsafe { (*(*self.ptr.as_ptr()).f_inode).i_size }
    }

    /// Reads into `buf` at `offset`, leaving the file position alone;
    /// returns the count read (0 at end of file).
    pub fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<usize> {
        let mut pos = i64::try_from(offset).map_err(|_| EINVAL)?;
        // SAFETY: the file is alive (type invariant); `buf` is valid for
        // writes of `buf.len()` bytes; `pos` is a local position.
        ssize_result(unsafe {
            bindings::kernel_read(
                self.ptr.as_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut pos,
            )
        })
    }

    /// Writes `buf` at `offset`, leaving the file position alone; returns
    /// the count written.
    pub fn write_at(&self, buf: &[u8], offset: u64) -> Result<usize> {
        let mut pos = i64::try_from(offset).map_err(|_| EINVAL)?;
        // SAFETY: the file is alive (type invariant); `buf` is valid for
        // `buf.len()` bytes; `pos` is a local position.
        ssize_result(unsafe {
            bindings::kernel_write(self.ptr.as_ptr(), buf.as_ptr().cast(), buf.len(), &mut pos)
        })
    }

    /// Writes what `/proc/PID/fd` shows for the file into `buf` and
    /// returns it: its path, or for a file without one its kind (e.g.
    /// `anon_inode:[timerfd]`, `pipe:[1234]`).  For messages only.
    pub fn display_name<'b>(&self, buf: &'b mut [u8]) -> Result<&'b [u8]> {
        // SAFETY: the file is alive (type invariant), so is its path.
        path_to_bytes(
            unsafe { &*core::ptr::addr_of!((*self.ptr.as_ptr()).f_path) },
            buf,
        )
    }
}

/// `bytes` with a NUL after them, for the C functions that take a name.
pub fn nul_terminated(bytes: &[u8]) -> Result<KVec<u8>> {
    let mut out = KVec::with_capacity(bytes.len() + 1, GFP_KERNEL)?;
    out.extend_from_slice(bytes, GFP_KERNEL)?;
    out.push(0, GFP_KERNEL)?;
    Ok(out)
}

/// Writes the absolute path of `path` into `buf` (`d_path`) and returns it
/// without a NUL.
pub fn path_to_bytes<'b>(path: &bindings::path, buf: &'b mut [u8]) -> Result<&'b [u8]> {
    let len = i32::try_from(buf.len()).map_err(|_| EINVAL)?;
    let start = buf.as_mut_ptr();
    // SAFETY: `path` is a valid path (a reference); `buf` is writable for
    // `len` bytes; `d_path` writes at the end of it and returns a pointer into
    // it, or an error pointer.
    let p = unsafe { bindings::d_path(path, start.cast(), len) };
    let value = p as isize;
    if (-4095..0).contains(&value) {
        return Err(Error::from_errno(value as i32));
    }
    // The result lies inside `buf`, NUL-terminated at its end.
    let offset = (p as usize).checked_sub(start as usize).ok_or(EINVAL)?;
    let tail = buf.get(offset..).ok_or(EINVAL)?;
    let end = tail.iter().position(|&b| b == 0).ok_or(EINVAL)?;
    let name = tail.get(..end).ok_or(EINVAL)?;
    // Re-borrow from the start of `buf` for the caller.
    Ok(name)
}

impl FileRef {
    fn mode(&self) -> bindings::fmode_t {
        // SAFETY: by the type invariant the file is alive; `f_mode` is set
        // at open and not changed afterwards for the bits we test.
        unsafe { (*self.ptr.as_ptr()).f_mode }
    }

    /// `EBADF` unless the file was opened for writing.
    pub fn require_writable(&self) -> Result {
        if self.mode() & bindings::FMODE_WRITE == 0 {
            return Err(EBADF);
        }
        Ok(())
    }

    /// `EBADF` unless the file was opened for reading.
    pub fn require_readable(&self) -> Result {
        if self.mode() & bindings::FMODE_READ == 0 {
            return Err(EBADF);
        }
        Ok(())
    }

    fn is_stream(&self) -> bool {
        self.mode() & bindings::FMODE_STREAM != 0
    }

    /// Writes from `buf` at the file position; returns the count written.
    pub fn write(&self, buf: &[u8]) -> Result<usize> {
        let file = self.ptr.as_ptr();
        if self.is_stream() {
            // SAFETY: `file` is alive (type invariant); `buf` is valid for
            // `buf.len()` bytes; stream files take no position.
            return ssize_result(unsafe {
                bindings::kernel_write(file, buf.as_ptr().cast(), buf.len(), core::ptr::null_mut())
            });
        }
        // SAFETY: `file` is alive (type invariant).
        let mut pos = unsafe { (*file).f_pos };
        // SAFETY: as above, and `pos` is a valid position to update.
        let ret = unsafe { bindings::kernel_write(file, buf.as_ptr().cast(), buf.len(), &mut pos) };
        if ret >= 0 {
            // SAFETY: `file` is alive; see the module docs on `f_pos`.
            unsafe { (*file).f_pos = pos };
        }
        ssize_result(ret)
    }

    /// Writes all the bytes of `frames`, in order, at the file position
    /// (stream files: without one), straight from their pages: no copy is
    /// made on the way to the file's `write_iter`.
    ///
    /// # Safety
    ///
    /// Each of `frames` must describe `bv_len` bytes from `bv_offset` of a
    /// page that stays alive for the call.
    pub unsafe fn write_pages(&self, frames: &[bindings::bio_vec]) -> Result {
        // SAFETY: the frames are valid (function safety requirement).
        unsafe { self.transfer_pages(frames, 0, bindings::ITER_SOURCE, EIO) }
    }

    /// Fills the bytes of `frames`, seen as one run, from byte `offset` to
    /// their end with the next bytes of the file, straight into their
    /// pages; a file that ends first is `EINVAL`.
    ///
    /// # Safety
    ///
    /// Each of `frames` must describe `bv_len` writable bytes from
    /// `bv_offset` of a page that stays alive for the call.
    pub unsafe fn read_pages(&self, frames: &[bindings::bio_vec], offset: usize) -> Result {
        // SAFETY: the frames are valid (function safety requirement).
        unsafe { self.transfer_pages(frames, offset, bindings::ITER_DEST, EINVAL) }
    }

    /// Writes (`ITER_SOURCE`) or reads (`ITER_DEST`) the bytes of
    /// `frames` from byte `offset` on with `vfs_iter_write` or
    /// `vfs_iter_read`, at the file position (stream files: without one),
    /// until all are done; a call that moves nothing is `stalled` (the
    /// file's own errors pass through as they are).
    ///
    /// # Safety
    ///
    /// Each of `frames` must describe `bv_len` bytes from `bv_offset` of a
    /// page that stays alive for the call, writable for `ITER_DEST`.
    unsafe fn transfer_pages(
        &self,
        frames: &[bindings::bio_vec],
        offset: usize,
        direction: u32,
        stalled: Error,
    ) -> Result {
        let file = self.ptr.as_ptr();
        let total = frames
            .iter()
            .try_fold(0usize, |sum, f| sum.checked_add(f.bv_len as usize))
            .ok_or(EINVAL)?;
        // Stream files take no position.
        let stream = self.is_stream();
        let mut done = offset;
        while done < total {
            let mut iter = core::mem::MaybeUninit::<bindings::iov_iter>::uninit();
            // Started afresh on each pass: a short call may leave it anywhere.
            // SAFETY: `iov_iter_bvec` initialises the iterator over `frames`
            // (valid: safety requirement); advancing by `done < total` stays in.
            unsafe {
                bindings::iov_iter_bvec(
                    iter.as_mut_ptr(),
                    direction,
                    frames.as_ptr(),
                    frames.len(),
                    total,
                );
                bindings::iov_iter_advance(iter.as_mut_ptr(), done);
            }
            let mut pos = if stream {
                0
            } else {
                // SAFETY: `file` is alive (type invariant).
                unsafe { (*file).f_pos }
            };
            let pos_ptr: *mut bindings::loff_t = if stream {
                core::ptr::null_mut()
            } else {
                &mut pos
            };
            // SAFETY: `file` is alive (type invariant), `iter` initialised
            // above, `pos_ptr` null or a valid position to update.
            let ret = unsafe {
                if direction == bindings::ITER_SOURCE {
                    bindings::vfs_iter_write(file, iter.as_mut_ptr(), pos_ptr, 0)
                } else {
                    bindings::vfs_iter_read(file, iter.as_mut_ptr(), pos_ptr, 0)
                }
            };
            if ret >= 0 && !stream {
                // SAFETY: `file` is alive; see the module docs on `f_pos`.
                unsafe { (*file).f_pos = pos };
            }
            let n = ssize_result(ret)?;
            if n == 0 || n > total - done {
                return Err(stalled);
            }
            done += n;
        }
        Ok(())
    }

    /// Reads into `buf` at the file position; returns the count read (0 at
    /// end of file).
    pub fn read(&self, buf: &mut [u8]) -> Result<usize> {
        let file = self.ptr.as_ptr();
        if self.is_stream() {
            // SAFETY: `file` is alive (type invariant); `buf` is valid for
            // writes of `buf.len()` bytes; stream files take no position.
            return ssize_result(unsafe {
                bindings::kernel_read(
                    file,
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    core::ptr::null_mut(),
                )
            });
        }
        // SAFETY: `file` is alive (type invariant).
        let mut pos = unsafe { (*file).f_pos };
        // SAFETY: as above, and `pos` is a valid position to update.
        let ret =
            unsafe { bindings::kernel_read(file, buf.as_mut_ptr().cast(), buf.len(), &mut pos) };
        if ret >= 0 {
            // SAFETY: `file` is alive; see the module docs on `f_pos`.
            unsafe { (*file).f_pos = pos };
        }
        ssize_result(ret)
    }
}

impl Drop for FileRef {
    fn drop(&mut self) {
        // SAFETY: by the type invariant we own one reference, dropped here.
        unsafe { bindings::fput(self.ptr.as_ptr()) };
    }
}

/// The image sink of a checkpoint: an open file.
pub struct FileSink<'a>(pub &'a FileRef);

impl format::Sink for FileSink<'_> {
    fn write_all(&mut self, mut buf: &[u8]) -> format::Result {
        while !buf.is_empty() {
            let n = self.0.write(buf).map_err(to_format_errno)?;
            if n == 0 || n > buf.len() {
                return Err(Errno::EIO);
            }
            buf = buf.get(n..).unwrap_or(&[]);
        }
        Ok(())
    }
}

/// The image source of a restart: an open file.
pub struct FileSource<'a>(pub &'a FileRef);

impl format::Source for FileSource<'_> {
    fn read(&mut self, buf: &mut [u8]) -> format::Result<usize> {
        self.0.read(buf).map_err(to_format_errno)
    }
}

/// An image source that can fill page frames straight from its file.
pub trait FrameSource {
    /// Fills `frames`, seen as one run of bytes, from byte `offset` to
    /// their end with the next bytes of the image; an image that ends
    /// first is `EINVAL`.
    ///
    /// # Safety
    ///
    /// Each of `frames` must describe `bv_len` writable bytes from
    /// `bv_offset` of a page that stays alive for the call.
    unsafe fn read_frames(&mut self, frames: &[bindings::bio_vec], offset: usize) -> Result;
}

impl FrameSource for FileSource<'_> {
    unsafe fn read_frames(&mut self, frames: &[bindings::bio_vec], offset: usize) -> Result {
        // SAFETY: the frames are valid (function safety requirement).
        unsafe { self.0.read_pages(frames, offset) }
    }
}

/// Copies `bytes` into `frames`, seen as one run of bytes, from byte
/// `offset` on; returns the count copied (less if the frames end first).
///
/// # Safety
///
/// As for [`FrameSource::read_frames`].
unsafe fn copy_into_frames(frames: &[bindings::bio_vec], mut offset: usize, bytes: &[u8]) -> usize {
    let mut copied = 0;
    for frame in frames {
        let len = frame.bv_len as usize;
        if offset >= len {
            offset -= len;
            continue;
        }
        let n = (len - offset).min(bytes.len() - copied);
        if n == 0 {
            break;
        }
        // SAFETY: the page is alive and `bv_len` bytes from `bv_offset`
        // are writable (function safety requirement); `kmap_local_page`
        // maps it until `kunmap_local`, and `offset + n <= bv_len`.
        unsafe {
            let base = bindings::kmap_local_page(frame.bv_page).cast::<u8>();
            core::ptr::copy_nonoverlapping(
                bytes.as_ptr().add(copied),
                base.add(frame.bv_offset as usize + offset),
                n,
            );
            bindings::kunmap_local(base.cast());
        }
        copied += n;
        offset = 0;
    }
    copied
}

/// An image source that keeps a copy of what it reads from its file, up
/// to a cap (`EINVAL` beyond it), so that another reader can read the
/// same stream again from its start ([`ReplaySource`]).
pub struct RecordingSource<'a> {
    file: &'a FileRef,
    recorded: KVec<u8>,
    cap: usize,
}

impl<'a> RecordingSource<'a> {
    /// A source reading `file`, keeping at most `cap` bytes.
    pub fn new(file: &'a FileRef, cap: usize) -> Self {
        RecordingSource {
            file,
            recorded: KVec::new(),
            cap,
        }
    }

    /// What was read.
    pub fn into_recorded(self) -> KVec<u8> {
        self.recorded
    }
}

impl format::Source for RecordingSource<'_> {
    fn read(&mut self, buf: &mut [u8]) -> format::Result<usize> {
        let room = self.cap.saturating_sub(self.recorded.len());
        let buf = buf.get_mut(..room.min(buf.len())).unwrap_or(&mut []);
        if buf.is_empty() {
            return Err(format::Errno::EINVAL);
        }
        let n = self.file.read(buf).map_err(to_format_errno)?;
        self.recorded
            .extend_from_slice(buf.get(..n).unwrap_or(&[]), GFP_KERNEL)
            .map_err(|_| format::Errno::ENOMEM)?;
        Ok(n)
    }
}

/// An image source that gives `prefix` (bytes a [`RecordingSource`] read
/// from `file`) first, then the rest of `file`.
pub struct ReplaySource<'a> {
    prefix: &'a [u8],
    file: &'a FileRef,
}

impl<'a> ReplaySource<'a> {
    /// The stream of `file` from its start, `prefix` being what was read
    /// of it already.
    pub fn new(prefix: &'a [u8], file: &'a FileRef) -> Self {
        ReplaySource { prefix, file }
    }
}

impl FrameSource for ReplaySource<'_> {
    unsafe fn read_frames(&mut self, frames: &[bindings::bio_vec], offset: usize) -> Result {
        // SAFETY: the frames are valid (function safety requirement).
        let n = unsafe { copy_into_frames(frames, offset, self.prefix) };
        self.prefix = self.prefix.get(n..).unwrap_or(&[]);
        // SAFETY: as above.
        unsafe { self.file.read_pages(frames, offset + n) }
    }
}

impl format::Source for ReplaySource<'_> {
    fn read(&mut self, buf: &mut [u8]) -> format::Result<usize> {
        if self.prefix.is_empty() {
            return self.file.read(buf).map_err(to_format_errno);
        }
        let n = self.prefix.len().min(buf.len());
        let (now, later) = self.prefix.split_at(n);
        buf.get_mut(..n)
            .ok_or(format::Errno::EINVAL)?
            .copy_from_slice(now);
        self.prefix = later;
        Ok(n)
    }
}
