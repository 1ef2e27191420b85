// SPDX-License-Identifier: GPL-2.0

//! Interval timers (`setitimer(2)`, `alarm(2)`) of the task's process.
//!
//! Each is saved as the time it had left and its interval.  Restart arms
//! it with that time left, counted from the restart: the CPU-time timers
//! (`ITIMER_VIRTUAL`, `ITIMER_PROF`) lose nothing, since the process used
//! no CPU time while it was saved; `ITIMER_REAL` does not count the wall
//! time between checkpoint and restart.

use crate::format::{Itimer, ItimersRecord, NR_ITIMERS};
use crate::task::TaskRef;
use kernel::bindings;
use kernel::error::{code::ESRCH, to_result, Result};

// `ITIMER_REAL`, `ITIMER_VIRTUAL`, `ITIMER_PROF` are 0, 1, 2: the indices
// of the record's timers.
const _: () = assert!(
    bindings::ITIMER_REAL == 0
        && bindings::ITIMER_VIRTUAL == 1
        && bindings::ITIMER_PROF == 2
        && NR_ITIMERS == 3
);

/// The interval timers of `task`'s process; `ESRCH` if it is exiting.
pub fn save(task: &TaskRef) -> Result<ItimersRecord> {
    let none = Itimer {
        value_ns: 0,
        interval_ns: 0,
    };
    let mut rec = ItimersRecord {
        timers: [none; NR_ITIMERS],
    };
    for (which, timer) in rec.timers.iter_mut().enumerate() {
        let mut it = bindings::ckpt_itimer::default();
        // SAFETY: the task is alive (we hold a reference) and stopped or
        // the caller; `it` is writable; `which` is a valid timer.
        if !unsafe { bindings::ckpt_task_itimer(task.as_ptr(), which as i32, &mut it) } {
            return Err(ESRCH);
        }
        *timer = Itimer {
            value_ns: it.value_ns,
            interval_ns: it.interval_ns,
        };
    }
    Ok(rec)
}

/// Arms the calling process's timers as saved (past the point of no
/// return, after the caller's own were removed).
pub fn restore(rec: &ItimersRecord) -> Result {
    for (which, timer) in rec.timers.iter().enumerate() {
        let it = bindings::ckpt_itimer {
            value_ns: timer.value_ns,
            interval_ns: timer.interval_ns,
        };
        // SAFETY: `it` is valid (the parser bounded both times, and the
        // helper checks them again); the helper arms the calling
        // process's timer `which`.
        to_result(unsafe { bindings::ckpt_restore_itimer(which as i32, &it) })?;
    }
    Ok(())
}
