// SPDX-License-Identifier: GPL-2.0

//! Resource limits (`getrlimit(2)`) of the task's process: saved whole,
//! and restored only as far as the restart caller could set them itself
//! with `setrlimit(2)` (raising a hard limit needs `CAP_SYS_RESOURCE`).

use crate::format::{Rlimit, RlimitsRecord, RLIM_NLIMITS};
use crate::task::TaskRef;
use kernel::bindings;
use kernel::error::{to_result, Result};

// The record holds exactly the kernel's limits, in its order, and a limit
// (an `unsigned long`) converts to and from `u64` without loss.
const _: () = assert!(RLIM_NLIMITS == bindings::RLIM_NLIMITS as usize);
const _: () = assert!(core::mem::size_of::<usize>() == core::mem::size_of::<u64>());

fn to_kernel(rec: &RlimitsRecord) -> [bindings::rlimit; RLIM_NLIMITS] {
    rec.limits.map(|l| bindings::rlimit {
        rlim_cur: l.cur as usize,
        rlim_max: l.max as usize,
    })
}

/// The limits of `task`'s process.
pub fn save(task: &TaskRef) -> RlimitsRecord {
    let mut limits = [bindings::rlimit::default(); RLIM_NLIMITS];
    // SAFETY: the task is alive (we hold a reference); `limits` has room
    // for the `RLIM_NLIMITS` limits the helper writes.
    unsafe { bindings::ckpt_task_rlimits(task.as_ptr(), limits.as_mut_ptr()) };
    RlimitsRecord {
        limits: limits.map(|l| Rlimit {
            cur: l.rlim_cur as u64,
            max: l.rlim_max as u64,
        }),
    }
}

/// Checks, before the point of no return, that the caller may set every
/// saved limit: `EPERM` for a hard limit above its own without
/// `CAP_SYS_RESOURCE`, or a descriptor limit above `fs.nr_open`.
pub fn check(rec: &RlimitsRecord) -> Result {
    let limits = to_kernel(rec);
    // SAFETY: `limits` holds `RLIM_NLIMITS` limits; the helper reads them
    // and the calling task.
    to_result(unsafe { bindings::ckpt_check_rlimits(limits.as_ptr()) })
}

/// Gives the calling process the saved limits (past the point of no
/// return, after `check`).
pub fn restore(rec: &RlimitsRecord) -> Result {
    let limits = to_kernel(rec);
    // SAFETY: as in `check`; the helper sets the calling process's limits
    // as `setrlimit(2)` does.
    to_result(unsafe { bindings::ckpt_restore_rlimits(limits.as_ptr()) })
}
