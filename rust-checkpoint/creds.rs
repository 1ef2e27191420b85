// SPDX-License-Identifier: GPL-2.0

//! Credentials of a task: uids, gids, supplementary groups, capability
//! sets and securebits.
//!
//! Checkpoint saves them as the checkpointer's user namespace sees them.
//! Restart builds the new credentials before its point of no return and
//! checks every field against the caller's own by the rules of
//! `setresuid(2)`, `setresgid(2)`, `setfsuid(2)`, `setgroups(2)`,
//! `capset(2)` and the capability `prctl(2)`s, so an image can never give
//! a task more than its restarter could give itself (`EPERM`).  They are
//! installed late, after everything else that needs the caller's
//! privileges.  See `Documentation/checkpoint/security.rst`.

use crate::format::{CredsRecord, MAX_GROUPS};
use crate::task::TaskRef;
use core::ptr::NonNull;
use kernel::alloc::{flags::GFP_KERNEL, KVVec};
use kernel::bindings;
use kernel::error::{code::*, from_err_ptr, Result};

fn to_kernel(rec: &CredsRecord) -> bindings::ckpt_creds {
    bindings::ckpt_creds {
        uid: rec.uid,
        euid: rec.euid,
        suid: rec.suid,
        fsuid: rec.fsuid,
        gid: rec.gid,
        egid: rec.egid,
        sgid: rec.sgid,
        fsgid: rec.fsgid,
        cap_inheritable: rec.cap_inheritable,
        cap_permitted: rec.cap_permitted,
        cap_effective: rec.cap_effective,
        cap_bset: rec.cap_bset,
        cap_ambient: rec.cap_ambient,
        securebits: rec.securebits,
        ngroups: rec.ngroups,
    }
}

/// The credentials of `task` and its supplementary groups.
pub fn save(task: &TaskRef) -> Result<(CredsRecord, KVVec<u32>)> {
    let mut c = bindings::ckpt_creds::default();
    let mut groups = KVVec::new();
    // Ask again with room for exactly the groups it has until the count
    // holds still: a stopped task does not change its groups, but
    // another task sharing its credentials might.
    for _ in 0..3 {
        let room = groups.len();
        // SAFETY: the task is alive (we hold a reference); `c` is
        // writable and `groups` has room for `room` ids.
        let n = unsafe {
            bindings::ckpt_task_creds(task.as_ptr(), &mut c, groups.as_mut_ptr(), room as u32)
        };
        let n = usize::try_from(n).map_err(|_| EINVAL)?;
        if n > MAX_GROUPS as usize {
            return Err(EINVAL);
        }
        if n == room {
            let rec = CredsRecord {
                uid: c.uid,
                euid: c.euid,
                suid: c.suid,
                fsuid: c.fsuid,
                gid: c.gid,
                egid: c.egid,
                sgid: c.sgid,
                fsgid: c.fsgid,
                cap_inheritable: c.cap_inheritable,
                cap_permitted: c.cap_permitted,
                cap_effective: c.cap_effective,
                cap_bset: c.cap_bset,
                cap_ambient: c.cap_ambient,
                securebits: c.securebits,
                ngroups: n as u32,
            };
            return Ok((rec, groups));
        }
        groups = KVVec::from_elem(0u32, n, GFP_KERNEL)?;
    }
    Err(EAGAIN)
}

/// Credentials built for the restarted task and not installed yet; dropped
/// without a [`PreparedCreds::commit`], they are discarded.
///
/// # Invariants
///
/// `ptr` is a `struct cred` from `ckpt_prepare_creds` that this object
/// owns and that was neither committed nor aborted.
pub struct PreparedCreds {
    ptr: NonNull<bindings::cred>,
}

impl PreparedCreds {
    /// Builds the saved credentials from the caller's, before the point
    /// of no return: `EPERM` for anything the caller could not set
    /// itself, `EINVAL` for an id its user namespace does not map.
    pub fn prepare(rec: &CredsRecord, groups: &[u32]) -> Result<Self> {
        if groups.len() != rec.ngroups as usize {
            return Err(EINVAL);
        }
        let c = to_kernel(rec);
        // SAFETY: `c` is valid and `groups` holds `c.ngroups` ids; the
        // helper returns an owned cred or an error pointer.
        let ptr = from_err_ptr(unsafe { bindings::ckpt_prepare_creds(&c, groups.as_ptr()) })?;
        // INVARIANT: a fresh, uncommitted cred that we now own.
        NonNull::new(ptr)
            .map(|ptr| PreparedCreds { ptr })
            .ok_or(ENOMEM)
    }

    /// Installs the credentials in the calling task (past the point of no
    /// return), and makes its process dumpable or not as saved.  A
    /// dumpable process stays non-dumpable when the new credentials
    /// changed its effective ids or raised its capabilities, as after
    /// `setuid`.
    pub fn commit(self, dumpable: bool) {
        let ptr = self.ptr.as_ptr();
        core::mem::forget(self);
        // SAFETY: by the type invariant `ptr` is an uncommitted cred we
        // own; `commit_creds` consumes it (forgotten above, so `Drop` does
        // not abort it).
        unsafe { bindings::ckpt_commit_creds(ptr, dumpable) };
    }
}

impl Drop for PreparedCreds {
    fn drop(&mut self) {
        // SAFETY: by the type invariant the cred is ours and uncommitted.
        unsafe { bindings::ckpt_abort_creds(self.ptr.as_ptr()) };
    }
}
