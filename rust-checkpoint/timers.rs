// SPDX-License-Identifier: GPL-2.0

//! Timers of the task's process: the interval timers (`setitimer(2)`,
//! `alarm(2)`) and the POSIX timers (`timer_create(2)`).
//!
//! Each is saved as the time it had left and its interval.  Restart arms
//! it with that time left, counted from the restart: the CPU-time timers
//! (`ITIMER_VIRTUAL`, `ITIMER_PROF`, POSIX timers on a CPU-time clock)
//! lose nothing, since the process used no CPU time while it was saved;
//! the others do not count the time between checkpoint and restart.
//!
//! A POSIX timer comes back with its id, clock, notification and overrun
//! count, and the process's next `timer_create(2)` gives the id it would
//! have given.  A timer whose signal is pending cannot be saved (its
//! siginfo belongs to the timer; see `signals.rs`), nor one that signals
//! another thread or runs on a clock restart cannot recreate.

use crate::error::{eopnotsupp, Failure};
use crate::format::{
    Itimer, ItimersRecord, PosixTimer, MAX_POSIX_TIMERS, NR_ITIMERS, POSIX_TIMER_ABSTIME,
    POSIX_TIMER_CLOCKS, SIGEV_NONE,
};
use crate::task::TaskRef;
use kernel::alloc::{flags::GFP_KERNEL, KVVec};
use kernel::bindings;
use kernel::error::{
    code::{EINVAL, ESRCH},
    to_result, Result,
};

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

/// `CLOCK_PROCESS_CPUTIME_ID` and `CLOCK_THREAD_CPUTIME_ID`: what the
/// record holds for a timer on the CPU time of its own process or thread.
const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;
const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
/// What the kernel keeps as the clock of such a timer: the CPU-time clock
/// ids of pid 0 (`CPUCLOCK_SCHED` of the process, of the thread).  A CPU
/// clock of a pid other than 0, or of another kind, is not saved: the pid
/// would name another process after restart.
const CPU_CLOCK_OF_PROCESS: i32 = -6;
const CPU_CLOCK_OF_THREAD: i32 = -2;

/// The POSIX timers of `task`'s process, in increasing id order, and the
/// id the next `timer_create(2)` starts from.  A timer that restart could
/// not recreate is `EOPNOTSUPP`, with the reason in `failure`.
pub fn save_posix(task: &TaskRef, failure: &mut Failure) -> Result<(u32, KVVec<PosixTimer>)> {
    let mut room = 4usize;
    loop {
        let mut buf = KVVec::from_elem(bindings::ckpt_posix_timer::default(), room, GFP_KERNEL)?;
        let room_u32 = u32::try_from(room).map_err(|_| EINVAL)?;
        let mut next_id = 0u32;
        // SAFETY: the task is alive (we hold a reference) and stopped or
        // the caller; `buf` has room for `room` entries, and the helper
        // writes at most that many; `next_id` is writable.
        let count = unsafe {
            bindings::ckpt_task_posix_timers(
                task.as_ptr(),
                buf.as_mut_ptr(),
                room_u32,
                &mut next_id,
            )
        };
        to_result(count)?;
        let count = count as usize;
        if count > MAX_POSIX_TIMERS as usize {
            failure.set(format_args!(
                "the process has {count} POSIX timers, more than an image holds"
            ));
            return Err(eopnotsupp());
        }
        if count > room {
            // Timers were created since the count: again, with room.
            room = count;
            continue;
        }
        let mut timers = KVVec::with_capacity(count, GFP_KERNEL)?;
        for t in buf.iter().take(count) {
            let id = t.id;
            if t.flags & bindings::CKPT_POSIX_TIMER_OTHER_THREAD != 0 {
                failure.set(format_args!(
                    "POSIX timer {id} signals another thread, which cannot be saved yet"
                ));
                return Err(eopnotsupp());
            }
            let clock = match t.clock {
                CPU_CLOCK_OF_PROCESS => CLOCK_PROCESS_CPUTIME_ID,
                CPU_CLOCK_OF_THREAD => CLOCK_THREAD_CPUTIME_ID,
                clock => clock,
            };
            if !POSIX_TIMER_CLOCKS.contains(&clock) {
                failure.set(format_args!(
                    "POSIX timer {id} runs on clock {}, which restart cannot recreate",
                    t.clock
                ));
                return Err(eopnotsupp());
            }
            let timer = PosixTimer {
                id,
                clock,
                notify: t.notify,
                // A timer that sends no signal never uses its number.
                signo: if t.notify == SIGEV_NONE { 0 } else { t.signo },
                value: t.value,
                value_ns: t.value_ns,
                interval_ns: t.interval_ns,
                overrun: t.overrun,
                flags: t.flags & POSIX_TIMER_ABSTIME,
            };
            if !timer.is_valid() {
                failure.set(format_args!(
                    "POSIX timer {id} has a notification (sigev_notify {}, signal {}) that cannot be saved",
                    t.notify, t.signo
                ));
                return Err(eopnotsupp());
            }
            timers.push(timer, GFP_KERNEL)?;
        }
        timers.sort_unstable_by_key(|t| t.id);
        return Ok((next_id, timers));
    }
}

// The record's flag is the kernel's.
const _: () = assert!(POSIX_TIMER_ABSTIME == bindings::CKPT_POSIX_TIMER_ABSTIME);

/// POSIX timers read from an image, ready for the kernel before restart's
/// point of no return, so that restoring them allocates nothing more here.
pub struct PreparedPosixTimers {
    next_id: u32,
    timers: KVVec<bindings::ckpt_posix_timer>,
}

impl PreparedPosixTimers {
    /// Room for `count` timers (a parser-checked count) and the next id.
    pub fn new(next_id: u32, count: u32) -> Result<Self> {
        Ok(PreparedPosixTimers {
            next_id,
            timers: KVVec::with_capacity(count as usize, GFP_KERNEL)?,
        })
    }

    /// Adds a timer the parser validated.
    pub fn push(&mut self, t: &PosixTimer) -> Result {
        self.timers.push(
            bindings::ckpt_posix_timer {
                id: t.id,
                clock: t.clock,
                notify: t.notify,
                signo: t.signo,
                value: t.value,
                value_ns: t.value_ns,
                interval_ns: t.interval_ns,
                overrun: t.overrun,
                flags: t.flags,
            },
            GFP_KERNEL,
        )?;
        Ok(())
    }

    /// Recreates the timers in the calling process, which has none left
    /// (past the point of no return, after the pending signals).
    pub fn restore(&self) -> Result {
        let count = u32::try_from(self.timers.len()).map_err(|_| EINVAL)?;
        // SAFETY: `timers` holds `count` timers the parser validated (the
        // helper checks them again); the helper creates them in the
        // calling process.
        to_result(unsafe {
            bindings::ckpt_restore_posix_timers(self.timers.as_ptr(), count, self.next_id)
        })
    }
}
