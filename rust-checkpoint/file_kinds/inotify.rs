// SPDX-License-Identifier: GPL-2.0

//! Inotify instances (`inotify_init1(2)`): saved with their watches, each
//! as its watch descriptor, its events and flags (`IN_ONESHOT`,
//! `IN_EXCL_UNLINK`), and the path of the watched file, and with the
//! descriptor a new watch gets next.  Restart creates a new instance and
//! adds each watch again with its own descriptor, as
//! `inotify_add_watch(2)` would (with its permission check), on the file
//! at that path; the program's descriptors and the ones it gets later are
//! the same as before.
//!
//! A watch follows an inode, which the kernel does not name: its path is
//! a name of the inode under a mount of the checkpointer's mount
//! namespace, seen from its root.  A watched file with no such name (one
//! unlinked meanwhile) is refused, and so is an instance with events not
//! read yet (they are not saved): both with `EOPNOTSUPP` and an error
//! record.

use super::{OpenFileKind, SaveContext, SavedFile};
use crate::error::eopnotsupp;
use crate::file::FileRef;
use crate::format::{FileKind, FileObjectRecord, MAX_INOTIFY_WATCHES};
use kernel::alloc::{flags::GFP_KERNEL, KVec};
use kernel::bindings;
use kernel::error::{code::*, Error, Result};

/// Inotify instances.
pub(super) struct Inotify;

/// Size of a path buffer (`PATH_MAX`).
const PATH_BUFFER_SIZE: usize = 4096;

/// The watches of an instance as the kernel gave them, each holding its
/// inode.
///
/// # Invariants
///
/// The `inode` of each of the first `len` entries is a counted reference
/// this object owns.
struct RawWatches {
    raw: KVec<bindings::ckpt_inotify_watch>,
    len: usize,
}

impl RawWatches {
    fn as_slice(&self) -> &[bindings::ckpt_inotify_watch] {
        self.raw.get(..self.len).unwrap_or(&[])
    }

    /// Orders the watches by descriptor (the references move with them).
    fn sort(&mut self) {
        if let Some(watches) = self.raw.get_mut(..self.len) {
            watches.sort_unstable_by_key(|w| w.wd);
        }
    }
}

impl Drop for RawWatches {
    fn drop(&mut self) {
        for w in self.as_slice() {
            // SAFETY: drops the reference the entry holds (invariant).
            unsafe { bindings::iput(w.inode) };
        }
    }
}

/// What `ckpt_inotify_read` says of `file` with room for `room` watches.
fn read(file: &FileRef, room: usize) -> Result<(RawWatches, u32)> {
    let mut raw = KVec::from_elem(bindings::ckpt_inotify_watch::default(), room, GFP_KERNEL)?;
    let max = u32::try_from(room).map_err(|_| EINVAL)?;
    let mut next_wd = 0u32;
    let (file, out) = (file.as_ptr(), raw.as_mut_ptr());
    // SAFETY: the file is alive (type invariant of `FileRef`); `out` has
    // room for `max` entries; the helper checks the file is an inotify
    // instance first and fills in at most `max`, each with a reference.
    let n = unsafe { bindings::ckpt_inotify_read(file, out, max, &mut next_wd) };
    if n < 0 {
        return Err(Error::from_errno(n));
    }
    // INVARIANT: the first `n` (at most `max`) entries hold references.
    let len = (n as usize).min(room);
    Ok((RawWatches { raw, len }, next_wd))
}

/// The saved watches of an instance: descriptors, masks, and their paths
/// back to back in one buffer.
pub struct InotifyWatches {
    /// The descriptor a new watch gets next.
    pub next_wd: u32,
    /// (descriptor, mask, end of its path in `paths`), in increasing
    /// descriptor order.
    entries: KVec<(i32, u32, usize)>,
    paths: KVec<u8>,
}

impl InotifyWatches {
    /// The number of watches.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Calls `f(wd, mask, path)` for each watch in order.
    pub fn for_each(&self, mut f: impl FnMut(i32, u32, &[u8]) -> Result) -> Result {
        let mut start = 0;
        for &(wd, mask, end) in self.entries.iter() {
            f(wd, mask, self.paths.get(start..end).ok_or(EINVAL)?)?;
            start = end;
        }
        Ok(())
    }
}

impl OpenFileKind for Inotify {
    fn kind(&self) -> FileKind {
        FileKind::Inotify
    }

    fn claims(&self, file: &FileRef) -> bool {
        !matches!(read(file, 0), Err(e) if e == EBADF)
    }

    fn save(
        &self,
        file: &FileRef,
        rec: &mut FileObjectRecord,
        cx: &mut SaveContext<'_>,
        what: core::fmt::Arguments<'_>,
    ) -> Result<SavedFile> {
        // Watches may be added meanwhile (another process may share it).
        let mut room = 16usize;
        let (mut raw, next_wd) = loop {
            match read(file, room) {
                Err(e) if e == ENOSPC && room <= MAX_INOTIFY_WATCHES as usize => room *= 4,
                Err(e) if e == ENOSPC => {
                    cx.failure.set(format_args!(
                        "{what}: an inotify instance with more than {MAX_INOTIFY_WATCHES} watches"
                    ));
                    return Err(eopnotsupp());
                }
                Err(e) if e == EBUSY => {
                    cx.failure.set(format_args!(
                        "{what}: an inotify instance with events not read yet cannot be saved"
                    ));
                    return Err(eopnotsupp());
                }
                other => break other?,
            }
        };
        if raw.len > MAX_INOTIFY_WATCHES as usize {
            cx.failure.set(format_args!(
                "{what}: an inotify instance with more than {MAX_INOTIFY_WATCHES} watches"
            ));
            return Err(eopnotsupp());
        }
        raw.sort();
        let mut saved = InotifyWatches {
            next_wd,
            entries: KVec::with_capacity(raw.len, GFP_KERNEL)?,
            paths: KVec::new(),
        };
        let mut buf = KVec::from_elem(0u8, PATH_BUFFER_SIZE, GFP_KERNEL)?;
        for w in raw.as_slice() {
            let Some(path) = inode_path(w.inode, &mut buf) else {
                cx.failure.set(format_args!(
                    "{what}: inotify watch {} is on a file with no path left",
                    w.wd
                ));
                return Err(eopnotsupp());
            };
            saved.paths.extend_from_slice(path, GFP_KERNEL)?;
            saved
                .entries
                .push((w.wd, w.mask, saved.paths.len()), GFP_KERNEL)?;
        }
        rec.pos = 0;
        Ok(SavedFile::Inotify(saved))
    }

    fn recreate_inotify(
        &self,
        rec: &FileObjectRecord,
        next_wd: u32,
        count: u32,
        next_watch: &mut dyn FnMut() -> Result<(i32, u32, KVec<u8>)>,
    ) -> Result<FileRef> {
        // SAFETY: no preconditions; the helper returns a new counted
        // reference or an error pointer, which `from_owned_or_error` takes.
        let file = unsafe {
            FileRef::from_owned_or_error(bindings::ckpt_inotify_create(
                rec.flags & bindings::O_NONBLOCK != 0,
                next_wd,
            ))
        }?;
        for _ in 0..count {
            let (wd, mask, path) = next_watch()?;
            // SAFETY: the file is alive and an inotify instance; `path`
            // is NUL-terminated; the helper checks the rest.
            let ret = unsafe {
                bindings::ckpt_inotify_add(file.as_ptr(), path.as_ptr().cast(), mask, wd)
            };
            if ret < 0 {
                return Err(Error::from_errno(ret));
            }
        }
        Ok(file)
    }
}

/// A path naming `inode` in the caller's mount namespace, in `buf`.
fn inode_path<'b>(inode: *mut bindings::inode, buf: &'b mut [u8]) -> Option<&'b [u8]> {
    let len = i32::try_from(buf.len()).ok()?;
    let start = buf.as_mut_ptr();
    // SAFETY: `inode` is held by a `RawWatches`; `buf` is writable for
    // `len` bytes; the helper writes at its end and returns a pointer into
    // it, or an error pointer.
    let p = unsafe { bindings::ckpt_inode_path(inode, start.cast(), len) };
    if (-4095..0).contains(&(p as isize)) {
        return None;
    }
    let offset = (p as usize).checked_sub(start as usize)?;
    let tail = buf.get(offset..)?;
    let end = tail.iter().position(|&b| b == 0)?;
    tail.get(..end)
}
