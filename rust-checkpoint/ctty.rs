// SPDX-License-Identifier: GPL-2.0

//! The controlling terminal of a task's session.
//!
//! The controlling terminal belongs to the session, not to the task: a
//! restarted task keeps the session and process group of the caller of
//! `restart` (or, with `RESTART_CHILD`, of its parent).  What the task
//! itself can give back is the terminal it took when it led a session.
//! So checkpoint records, when the task's session has a controlling
//! terminal, a [`CttyRecord`]: which file of the fd table is open on that
//! terminal for reading (none if the task holds no such file), whether
//! the task's process group was the terminal's foreground group, and
//! whether the task led the session.
//!
//! Restart applies one rule.  When the restarted task leads its session,
//! the session has no controlling terminal, and the saved task was in the
//! foreground of a terminal it held a file on, that terminal becomes the
//! session's controlling terminal with the task's group in the
//! foreground, as `TIOCSCTTY` would do.  In every other case the session
//! keeps what it has: the caller's controlling terminal, or none.  A
//! terminal that already controls another session makes restart fail
//! with `EBUSY` before its point of no return; it is never stolen.  In a
//! tree, a leader takes its terminal back before it creates its children,
//! which inherit it as they did.

use crate::file::FileRef;
use crate::files::OpenFd;
use crate::format::{CttyRecord, CTTY_FOREGROUND, CTTY_SESSION_LEADER};
use crate::objhash::{CheckpointObjects, RestartObjects};
use crate::task::TaskRef;
use kernel::bindings;
use kernel::error::{code::*, Error, Result};

/// The identity of the terminal `file` is open on, 0 if it is none.
fn terminal_of(file: &FileRef) -> usize {
    // SAFETY: the file is alive (type invariant of `FileRef`); the helper
    // only reads its operations and private data.
    unsafe { bindings::ckpt_file_tty(file.as_ptr()) }
}

/// The controlling terminal of `target`'s session, as a record naming the
/// first file of `fds` (saved in `objects`) open on it for reading; `None`
/// if the session has no controlling terminal.
pub fn save(target: &TaskRef, fds: &[OpenFd], objects: &CheckpointObjects) -> Option<CttyRecord> {
    let mut ctty = bindings::ckpt_ctty::default();
    // SAFETY: the task is alive (type invariant of `TaskRef`) and stopped
    // or current; the helper takes the locks it needs.
    unsafe { bindings::ckpt_task_ctty(target.as_ptr(), &mut ctty) };
    if ctty.tty == 0 {
        return None;
    }
    // The files hold their terminals, so identities compare safely.
    let file_ref = fds
        .iter()
        .find(|fd| terminal_of(&fd.file) == ctty.tty && fd.file.require_readable().is_ok())
        .and_then(|fd| objects.saved_file(&fd.file))
        .unwrap_or(0);
    let mut flags = 0;
    if ctty.foreground {
        flags |= CTTY_FOREGROUND;
    }
    if ctty.leader {
        flags |= CTTY_SESSION_LEADER;
    }
    Some(CttyRecord { file_ref, flags })
}

/// Asks the kernel to make the terminal of `file` the controlling
/// terminal of the calling session leader (only to tell whether it would,
/// with `check_only`): `true` if it does, `false` if the rule keeps the
/// session as it is.
fn acquire(file: &FileRef, check_only: bool) -> Result<bool> {
    // SAFETY: the file is alive (type invariant of `FileRef`); the helper
    // takes the terminal's and the task list's locks.
    let ret = unsafe { bindings::ckpt_ctty_acquire(file.as_ptr(), check_only) };
    match ret {
        0 => Ok(false),
        1 => Ok(true),
        // The image named a file that is no terminal.
        r if r == ENOTTY.to_errno() => Err(EINVAL),
        r => Err(Error::from_errno(r)),
    }
}

/// Decides, before restart's point of no return, what the saved
/// controlling terminal `rec` gives the caller: the object reference of
/// the file whose terminal it will take, or `None`.  `EBUSY` if that
/// terminal controls another session.
pub fn prepare(rec: Option<&CttyRecord>, objects: &RestartObjects) -> Result<Option<u32>> {
    let Some(rec) = rec else {
        return Ok(None);
    };
    if rec.flags & CTTY_FOREGROUND == 0 || rec.file_ref == 0 {
        return Ok(None);
    }
    Ok(acquire(objects.file(rec.file_ref)?, true)?.then_some(rec.file_ref))
}

/// Gives the restarted session leader the terminal [`prepare`] chose;
/// past the point of no return.
pub fn restore(chosen: Option<u32>, objects: &RestartObjects) -> Result {
    if let Some(file_ref) = chosen {
        if !acquire(objects.file(file_ref)?, false)? {
            // The caller's session cannot have changed since `prepare`.
            return Err(EBUSY);
        }
    }
    Ok(())
}
