// SPDX-License-Identifier: GPL-2.0

//! Signals: the action of every signal, the alternate signal stack, and
//! the signals pending for the task (its blocked mask is in the task
//! record).
//!
//! Pending signals are queued again at the end of a restart, on the queue
//! they were on (the thread's or the process's) and in their order, with
//! the siginfo they had, as `rt_tgsigqueueinfo(2)` to itself would.  What
//! cannot be queued again faithfully is refused: a signal owned by a
//! POSIX timer.  A stopped target's pending stop signals are left out,
//! since the restored task resumes as after `SIGCONT`, which discards
//! them.

use crate::error::{eopnotsupp, Failure};
use crate::format::{
    PendingSignal, SigactionRecord, SignalsRecord, MAX_PENDING_SIGNALS, NSIG, SIGQUEUE_PROCESS,
    SIGQUEUE_THREAD, SI_TIMER, SS_DISABLE,
};
use crate::task::TaskRef;
use kernel::alloc::{flags::GFP_KERNEL, KVVec};
use kernel::bindings;
use kernel::error::{code::*, to_result, Result};

/// `SIGKILL`: pending only for a task that is being killed.
const SIGKILL: u32 = 9;
/// `SIGSTOP`, `SIGTSTP`, `SIGTTIN`, `SIGTTOU`, which `SIGCONT` discards.
const STOP_SIGNALS: [u32; 4] = [19, 20, 21, 22];

/// The alternate signal stack of `task`, as the prefix of its signals
/// record.
pub fn save_altstack(task: &TaskRef) -> SignalsRecord {
    let mut ss = bindings::ckpt_altstack::default();
    // SAFETY: the task is alive (we hold a reference) and stopped or the
    // caller; `ss` is writable.
    unsafe { bindings::ckpt_task_altstack(task.as_ptr(), &mut ss) };
    SignalsRecord {
        altstack_sp: ss.sp,
        altstack_size: ss.size,
        altstack_flags: ss.flags,
        count: NSIG,
    }
}

/// The signals of `pending` that are on `queue` ([`SIGQUEUE_THREAD`] or
/// [`SIGQUEUE_PROCESS`]), in order.
pub fn on_queue(pending: &[PendingSignal], queue: u32) -> Result<KVVec<PendingSignal>> {
    let mut on = KVVec::with_capacity(pending.len(), GFP_KERNEL)?;
    for s in pending.iter().filter(|s| s.queue == queue) {
        on.push(*s, GFP_KERNEL)?;
    }
    Ok(on)
}

/// Blocks every signal the calling task can block.
pub fn block_all() {
    let mut all = bindings::sigset_t::default();
    all.sig[0] = usize::MAX;
    // SAFETY: `all` is a valid signal set; `set_current_blocked` itself
    // removes SIGKILL and SIGSTOP.
    unsafe { bindings::set_current_blocked(&mut all) };
}

/// The signal stack of a leader that had exited: none.
pub fn disabled_altstack() -> SignalsRecord {
    SignalsRecord {
        altstack_sp: 0,
        altstack_size: 0,
        altstack_flags: SS_DISABLE,
        count: NSIG,
    }
}

/// The action of signal `index + 1` of `task`.
pub fn save_sigaction(task: &TaskRef, index: usize) -> SigactionRecord {
    let mut a = bindings::ckpt_sigaction::default();
    // SAFETY: the task is alive; `a` is writable; the helper ignores a
    // signal number out of range.
    unsafe { bindings::ckpt_task_sigaction(task.as_ptr(), index as i32 + 1, &mut a) };
    SigactionRecord {
        handler: a.handler,
        flags: a.flags,
        restorer: a.restorer,
        mask: a.mask,
    }
}

fn altstack_for_c(rec: &SignalsRecord) -> bindings::ckpt_altstack {
    bindings::ckpt_altstack {
        sp: rec.altstack_sp,
        size: rec.altstack_size,
        flags: rec.altstack_flags,
    }
}

/// Checks, before the point of no return, that this machine accepts the
/// saved signal stack: `ENOMEM` if it is smaller than this CPU's signal
/// frame needs, as `sigaltstack(2)` says (the parser checked the rest).
pub fn check_altstack(rec: &SignalsRecord) -> Result {
    // SAFETY: the argument is a valid structure for the call.
    to_result(unsafe { bindings::ckpt_check_altstack(&altstack_for_c(rec)) })
}

/// Gives the calling task the saved signal actions (`actions[n - 1]` for
/// signal `n`) and signal stack, past the point of no return, after the
/// caller's own were reset.
pub fn restore_signals(rec: &SignalsRecord, actions: &[SigactionRecord]) -> Result {
    for (i, a) in actions.iter().enumerate() {
        let action = bindings::ckpt_sigaction {
            handler: a.handler,
            flags: a.flags,
            restorer: a.restorer,
            mask: a.mask,
        };
        // SAFETY: `action` is valid (checked by the parser); the helper
        // changes the calling task's handlers, which it does not share
        // (`check_restart_caller`).
        to_result(unsafe { bindings::ckpt_restore_sigaction(i as i32 + 1, &action) })?;
    }
    restore_altstack(rec);
    Ok(())
}

/// Gives the calling task the saved signal stack (checked by
/// [`check_altstack`]), past the point of no return.
pub fn restore_altstack(rec: &SignalsRecord) {
    // SAFETY: the argument is valid; the helper changes only the calling
    // task's signal stack.
    unsafe { bindings::ckpt_restore_altstack(&altstack_for_c(rec)) };
}

/// The signals pending for `task`, in the order they are to be queued
/// again.  `ESRCH` if the task is being killed; `EOPNOTSUPP` (the reason
/// in `failure`) for a signal that cannot be saved.
pub fn save_pending(task: &TaskRef, failure: &mut Failure) -> Result<KVVec<PendingSignal>> {
    let mut room = 16usize;
    loop {
        let mut buf = KVVec::from_elem(bindings::ckpt_pending_signal::default(), room, GFP_KERNEL)?;
        let room_u32 = u32::try_from(room).map_err(|_| EINVAL)?;
        // SAFETY: the task is alive (we hold a reference); `buf` has room
        // for `room` entries, and the helper writes at most that many.
        let count = unsafe {
            bindings::ckpt_task_pending_signals(task.as_ptr(), buf.as_mut_ptr(), room_u32)
        };
        to_result(count)?;
        let count = count as usize;
        if count > MAX_PENDING_SIGNALS as usize {
            failure.set(format_args!(
                "the task has {count} pending signals, more than an image holds"
            ));
            return Err(eopnotsupp());
        }
        if count > room {
            // More were queued than there was room for: again, with room.
            room = count;
            continue;
        }
        let mut pending = KVVec::with_capacity(count, GFP_KERNEL)?;
        for s in buf.iter().take(count) {
            let mut signal = PendingSignal {
                queue: if s.shared != 0 {
                    SIGQUEUE_PROCESS
                } else {
                    SIGQUEUE_THREAD
                },
                signo: 0,
                info: s.info,
            };
            signal.signo = signal.si_signo() as u32;
            let signo = signal.signo;
            // A timer's signal stays pending (with its code) after the
            // timer is deleted.
            if s.from_timer != 0 || signal.si_code() == SI_TIMER {
                failure.set(format_args!(
                    "signal {signo} from a POSIX timer is pending, which cannot be saved yet"
                ));
                return Err(eopnotsupp());
            }
            if signo == SIGKILL {
                return Err(ESRCH);
            }
            if STOP_SIGNALS.contains(&signo) && !task.is_current() {
                continue;
            }
            pending.push(signal, GFP_KERNEL)?;
        }
        return Ok(pending);
    }
}

/// Queues the saved pending signals for the calling task again, last in a
/// restart (after its actions, mask and limits are in place).
pub fn restore_pending(pending: &[PendingSignal]) -> Result {
    for p in pending {
        let s = bindings::ckpt_pending_signal {
            shared: u32::from(p.queue == SIGQUEUE_PROCESS),
            from_timer: 0,
            info: p.info,
        };
        // SAFETY: `s` is valid (the parser checked the signal and its
        // siginfo; the helper checks them again); the helper sends it to
        // the calling task.
        to_result(unsafe { bindings::ckpt_restore_pending_signal(&s) })?;
    }
    Ok(())
}

/// Whether a signal waits to be delivered to the calling task as it
/// returns to user space.
pub fn delivery_pending() -> bool {
    // SAFETY: `get_current` has no preconditions, and the calling task is
    // valid while it runs this.
    unsafe { bindings::signal_pending(bindings::get_current()) != 0 }
}
