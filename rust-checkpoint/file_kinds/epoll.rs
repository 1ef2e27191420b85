// SPDX-License-Identifier: GPL-2.0

//! Epoll sets (`epoll_create(2)`): saved with their interest list, each
//! watch as the file it watches (saved first, so the watch names it by
//! reference), the descriptor number it was added with, its events and
//! flags, and its user data.  Restart creates a new epoll set and adds
//! each watch again as `epoll_ctl(EPOLL_CTL_ADD)` would, on the file the
//! restart re-created; a one-shot watch that fired stays disarmed.
//!
//! The ready list is not saved: a new watch is ready as soon as its file
//! is, so a level-triggered watch reports what it reported before, and
//! an edge-triggered one on a ready file reports one edge after restart
//! that it may have reported already.
//!
//! A watched file must be the one the task holds at the descriptor the
//! watch names (checked once the fd table is saved): a watch on a file
//! the task no longer holds there could not be used or removed with
//! `epoll_ctl` either, and it is refused rather than changed.

use super::{OpenFileKind, SaveContext, SavedFile};
use crate::error::{eopnotsupp, Failure};
use crate::file::FileRef;
use crate::files::OpenFd;
use crate::format::{EpollWatch, FileKind, FileObjectRecord, MAX_EPOLL_WATCHES};
use crate::objhash::RestartObjects;
use kernel::alloc::{flags::GFP_KERNEL, KVec};
use kernel::bindings;
use kernel::error::{code::*, Error, Result};

/// Epoll sets.
pub(super) struct EventPoll;

/// One watch as read from an epoll set, holding its file.
struct Watch {
    file: FileRef,
    fd: i32,
    events: u32,
    data: u64,
}

/// The number of watches of `file`, or `None` if it is not an epoll set.
fn count(file: &FileRef) -> Option<usize> {
    // SAFETY: the file is alive (type invariant of `FileRef`); with no
    // room, the helper only counts (and checks that it is an epoll set).
    let n = unsafe { bindings::ckpt_epoll_watches(file.as_ptr(), core::ptr::null_mut(), 0) };
    usize::try_from(n).ok()
}

/// The watches of the epoll set `file`, or `None` if it is not one.
/// At most `MAX_EPOLL_WATCHES + 1` are read: more are refused anyway.
fn watches(file: &FileRef) -> Result<Option<KVec<Watch>>> {
    let Some(mut room) = count(file) else {
        return Ok(None);
    };
    // The set may grow between the calls (another process may share it).
    for _ in 0..4 {
        room = room.saturating_add(8).min(MAX_EPOLL_WATCHES as usize + 1);
        let mut raw = KVec::from_elem(bindings::ckpt_epoll_watch::default(), room, GFP_KERNEL)?;
        let max = u32::try_from(room).map_err(|_| EINVAL)?;
        // SAFETY: as in `count`; `raw` has room for `max` watches, each
        // filled with a counted reference to its file.
        let n = unsafe { bindings::ckpt_epoll_watches(file.as_ptr(), raw.as_mut_ptr(), max) };
        let total = usize::try_from(n).map_err(|_| Error::from_errno(n))?;
        let mut out = KVec::with_capacity(total.min(room), GFP_KERNEL)?;
        for w in raw.iter().take(total.min(room)) {
            // SAFETY: the helper handed over a reference for each of the
            // first `min(total, room)` entries.
            let target = unsafe { FileRef::from_owned(w.file) }.ok_or(EINVAL)?;
            out.push(
                Watch {
                    file: target,
                    fd: w.fd,
                    events: w.events,
                    data: w.data,
                },
                GFP_KERNEL,
            )?;
        }
        if total <= room {
            return Ok(Some(out));
        }
        if room > MAX_EPOLL_WATCHES as usize {
            // Enough to refuse it.
            return Ok(Some(out));
        }
        room = total;
    }
    Err(EAGAIN)
}

impl OpenFileKind for EventPoll {
    fn kind(&self) -> FileKind {
        FileKind::EventPoll
    }

    fn claims(&self, file: &FileRef) -> bool {
        count(file).is_some()
    }

    fn save(
        &self,
        file: &FileRef,
        rec: &mut FileObjectRecord,
        cx: &mut SaveContext<'_>,
        what: core::fmt::Arguments<'_>,
    ) -> Result<SavedFile> {
        super::check_state_file_flags("an epoll set", rec, cx.failure, what)?;
        let list = watches(file)?.ok_or(EINVAL)?;
        if list.len() > MAX_EPOLL_WATCHES as usize {
            cx.failure.set(format_args!(
                "{what}: an epoll set with more than {MAX_EPOLL_WATCHES} watches cannot be saved"
            ));
            return Err(eopnotsupp());
        }
        let mut saved = KVec::with_capacity(list.len(), GFP_KERNEL)?;
        for w in list.iter() {
            let file_ref = cx.save_file(
                &w.file,
                format_args!("{what}: the file it watches as fd {}", w.fd),
            )?;
            saved.push(
                EpollWatch {
                    file_ref,
                    fd: u32::try_from(w.fd).map_err(|_| EINVAL)?,
                    events: w.events,
                    _pad: 0,
                    data: w.data,
                },
                GFP_KERNEL,
            )?;
        }
        Ok(SavedFile::EpollSet(saved))
    }

    fn check_table(&self, fds: &[OpenFd], failure: &mut Failure) -> Result {
        for fd in fds {
            let Some(list) = watches(&fd.file)? else {
                continue;
            };
            for w in list.iter() {
                // `fds` is in increasing descriptor order.
                let held = u32::try_from(w.fd)
                    .ok()
                    .and_then(|n| fds.binary_search_by_key(&n, |f| f.fd).ok())
                    .and_then(|i| fds.get(i))
                    .is_some_and(|f| f.file.as_ptr() == w.file.as_ptr());
                if !held {
                    failure.set(format_args!(
                        "fd {}: an epoll set watches a file as fd {}, which the task does not hold there",
                        fd.fd, w.fd
                    ));
                    return Err(eopnotsupp());
                }
            }
        }
        Ok(())
    }

    fn recreate_epoll(
        &self,
        rec: &FileObjectRecord,
        watches: &[EpollWatch],
        objects: &RestartObjects,
    ) -> Result<FileRef> {
        // SAFETY: the helper returns a new counted reference or an error
        // pointer, which `from_owned_or_error` takes.
        let set = unsafe {
            FileRef::from_owned_or_error(bindings::ckpt_epoll_create(
                rec.flags & bindings::O_NONBLOCK != 0,
            ))
        }?;
        for w in watches {
            let target = objects.file(w.file_ref)?;
            let fd = i32::try_from(w.fd).map_err(|_| EINVAL)?;
            // SAFETY: both files are alive (the objhash and `set` hold
            // them); the helper checks everything `epoll_ctl` checks.
            let ret = unsafe {
                bindings::ckpt_epoll_add(set.as_ptr(), target.as_ptr(), fd, w.events, w.data)
            };
            if ret < 0 {
                return Err(Error::from_errno(ret));
            }
        }
        Ok(set)
    }
}
