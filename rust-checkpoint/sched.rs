// SPDX-License-Identifier: GPL-2.0

//! Scheduling state of a task: policy, real-time priority, nice value,
//! `SCHED_RESET_ON_FORK`, the CPU affinity it asked for and its timer
//! slack.
//!
//! Restart sets them only as `sched_setattr(2)` would let the caller
//! (`EPERM` before the point of no return otherwise, checked with the
//! caller's `RLIMIT_NICE`, `RLIMIT_RTPRIO` and `CAP_SYS_NICE`).  An
//! affinity is restored as saved if this machine has one of its CPUs
//! (`EINVAL` otherwise); a task without one runs on every CPU.
//! `SCHED_DEADLINE` is refused at checkpoint.

use crate::error::{eopnotsupp, Failure};
use crate::format::{
    SchedRecord, AFFINITY_CPUS, SCHED_FLAG_AFFINITY, SCHED_FLAG_RESET_ON_FORK,
    SCHED_FLAG_TIMER_SLACK,
};
use crate::task::TaskRef;
use kernel::bindings;
use kernel::error::{to_result, Result};

const _: () = assert!(bindings::CKPT_AFFINITY_CPUS as usize == AFFINITY_CPUS);

/// `SCHED_DEADLINE`, which has no record.
const SCHED_DEADLINE: u32 = 6;

/// The scheduling state of `task`; `EOPNOTSUPP` with the reason in
/// `failure` for what the record cannot hold.
pub fn save(task: &TaskRef, failure: &mut Failure) -> Result<SchedRecord> {
    let mut s = bindings::ckpt_sched::default();
    // SAFETY: the task is alive (we hold a reference); `s` is writable.
    let ret = unsafe { bindings::ckpt_task_sched(task.as_ptr(), &mut s) };
    if ret != 0 {
        failure.set(format_args!(
            "the task's CPU affinity names a CPU above {}",
            AFFINITY_CPUS - 1
        ));
        return Err(eopnotsupp());
    }
    if s.policy == SCHED_DEADLINE {
        failure.set(format_args!("the task has the SCHED_DEADLINE policy"));
        return Err(eopnotsupp());
    }
    let mut flags = 0;
    if s.reset_on_fork != 0 {
        flags |= SCHED_FLAG_RESET_ON_FORK;
    }
    if s.has_affinity != 0 {
        flags |= SCHED_FLAG_AFFINITY;
    }
    if s.timer_slack_ns != 0 {
        flags |= SCHED_FLAG_TIMER_SLACK;
    }
    Ok(SchedRecord {
        policy: s.policy,
        rt_priority: s.rt_priority,
        nice: s.nice,
        flags,
        timer_slack_ns: s.timer_slack_ns,
        affinity: s.affinity,
    })
}

fn to_kernel(rec: &SchedRecord) -> bindings::ckpt_sched {
    bindings::ckpt_sched {
        policy: rec.policy,
        rt_priority: rec.rt_priority,
        nice: rec.nice,
        reset_on_fork: u32::from(rec.flags & SCHED_FLAG_RESET_ON_FORK != 0),
        timer_slack_ns: rec.timer_slack_ns,
        has_affinity: u32::from(rec.flags & SCHED_FLAG_AFFINITY != 0),
        _pad: 0,
        affinity: rec.affinity,
    }
}

/// Checks, before the point of no return, that the caller may take the
/// saved policy and priorities (`EPERM`) and that the saved affinity
/// names a CPU of this machine (`EINVAL`).
pub fn check(rec: &SchedRecord) -> Result {
    let s = to_kernel(rec);
    // SAFETY: `s` is valid; the helper reads it and the calling task.
    to_result(unsafe { bindings::ckpt_check_sched(&s) })
}

/// Gives the calling task the saved scheduling state (past the point of
/// no return, after `check`).
pub fn restore(rec: &SchedRecord) -> Result {
    let s = to_kernel(rec);
    // SAFETY: `s` is valid; the helper changes only the calling task.
    to_result(unsafe { bindings::ckpt_restore_sched(&s) })
}
