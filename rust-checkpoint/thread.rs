// SPDX-License-Identifier: GPL-2.0

//! Threads: the threads of a checkpointed process other than its leader.
//!
//! # Checkpoint
//!
//! Every thread must be quiescent, as the leader must.  A thread's block
//! follows the leader's FPU state and holds what is the thread's own: its
//! task fields (name, blocked mask, tid pointers, rseq, robust list, an
//! interrupted system call), its signal stack, the signals on its own
//! queue, its registers and its FPU state, and its scheduling settings
//! where they differ from its leader's (or the leader has
//! `SCHED_RESET_ON_FORK`, which the threads restart creates would lose as
//! they are forked), and its credentials where they differ from its
//! leader's (a thread that called `setresuid(2)` directly, not through
//! the C library, which changes every thread's).  Everything else belongs
//! to the process and is saved once, with the leader.
//!
//! # Restart
//!
//! Past the point of no return, once the leader's memory, files,
//! credentials and scheduling are in, the leader creates each thread with
//! `CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
//! CLONE_SYSVSEM` (`ckpt_restart_thread` in `kernel/checkpoint_sys.c`).
//! Before it first returns to user space the new thread restores its own
//! block from the leader's memory ([`restore_current`]), its credentials
//! and scheduling settings included (checked against the caller's
//! privileges before the point of no return, as the leader's are), while
//! the leader waits.  A thread gets its saved id when the leader has its saved pid
//! (`restart(RESTART_CHILD)`), otherwise a new one.  A failure kills the
//! whole thread group.

use crate::arch;
use crate::creds::{self, PreparedCreds};
use crate::error::{fmt_result, Failure};
use crate::format::{
    self, CpuRecord, CredsRecord, ImageWriter, PendingSignal, SchedRecord, SignalsRecord, Sink,
    ThreadRecord, NSIG, SCHED_FLAG_RESET_ON_FORK, SIGQUEUE_THREAD,
};
use crate::sched;
use crate::signals;
use crate::task::{self, TaskRef};
use core::ffi::c_void;
use kernel::alloc::{KVVec, KVec};
use kernel::bindings;
use kernel::error::{code::*, to_result, Result};

/// The threads of `leader`'s group other than itself, each counted.
pub fn collect(leader: &TaskRef) -> Result<KVec<TaskRef>> {
    let hint = usize::try_from(leader.nr_threads()).unwrap_or(1);
    task::collect_tasks(hint, |buf, room| {
        // SAFETY: the leader is alive (we hold a reference); `buf` has
        // room for `room` pointers and the helper writes at most that many.
        unsafe { bindings::ckpt_task_threads(leader.as_ptr(), buf, room) }
    })
}

/// Whether each of `threads` is quiescent.
pub fn all_quiescent(threads: &[TaskRef]) -> bool {
    threads.iter().all(TaskRef::is_quiescent)
}

/// How often the threads were switched out, summed: it changes if any
/// of them runs.
pub fn switches(threads: &[TaskRef]) -> usize {
    threads
        .iter()
        .fold(0usize, |sum, t| sum.wrapping_add(t.switches()))
}

/// Writes the block of each of `threads`; `leader_creds` and
/// `leader_sched` are what the leader's records hold.
pub fn save<S: Sink>(
    w: &mut ImageWriter<'_, S>,
    threads: &[TaskRef],
    leader_creds: &(CredsRecord, KVVec<u32>),
    leader_sched: &SchedRecord,
    failure: &mut Failure,
) -> Result {
    // The threads restart creates lose it as they are forked (and with it
    // a real-time policy or negative nice): each then sets its own.
    let reset_on_fork = leader_sched.flags & SCHED_FLAG_RESET_ON_FORK != 0;
    for thread in threads {
        let census = task::census(thread);
        task::refuse_unsaved(&census, failure)?;
        let (creds, groups) = creds::save(thread)?;
        let own_creds = creds != leader_creds.0 || groups[..] != leader_creds.1[..];
        let sched = sched::save(thread, failure)?;
        let own_sched = (reset_on_fork || sched != *leader_sched).then_some(sched);
        let mut task_rec = task::save_task(thread, &census);
        // A thread sends no signal when it exits.
        task_rec.exit_signal = 0;
        let cpu = task::save_registers(thread, &mut task_rec, failure)?;
        let altstack = signals::save_altstack(thread);
        // The process's queue is saved with the leader.
        let all_pending = signals::save_pending(thread, failure)?;
        let pending = signals::on_queue(&all_pending, SIGQUEUE_THREAD)?;
        let (xfeatures, xsave) = arch::save_fpu(thread)?;
        fmt_result(w.write_record(&ThreadRecord {
            task: task_rec,
            altstack_sp: altstack.altstack_sp,
            altstack_size: altstack.altstack_size,
            altstack_flags: altstack.altstack_flags,
            _pad: 0,
        }))?;
        if own_creds {
            fmt_result(w.write_creds(&creds, &groups))?;
        }
        if let Some(sched) = &own_sched {
            fmt_result(w.write_record(sched))?;
        }
        fmt_result(w.write_pending_signals(pending.len(), |i| {
            pending.get(i).copied().ok_or(format::Errno::EINVAL)
        }))?;
        fmt_result(w.write_record(&cpu))?;
        fmt_result(w.write_fpu(xfeatures, &xsave))?;
    }
    Ok(())
}

/// A thread read from an image, to be created at restart.
pub struct PreparedThread {
    record: ThreadRecord,
    /// Signals to queue again on the thread, in order.
    pending: KVVec<PendingSignal>,
    cpu: CpuRecord,
    xsave: KVec<u8>,
    /// Its own scheduling settings, if it has other than the leader's.
    sched: Option<SchedRecord>,
    /// Its own credentials and groups, if it has other than the
    /// leader's.
    creds: Option<(CredsRecord, KVVec<u32>)>,
    /// Those credentials, built by [`check`] and installed by the thread.
    prepared_creds: Option<PreparedCreds>,
    /// Whether its process is dumpable, as saved.
    dumpable: bool,
}

impl PreparedThread {
    /// A thread from its record; its pending signals, registers and FPU
    /// state follow.
    pub fn new(record: ThreadRecord) -> Self {
        PreparedThread {
            record,
            pending: KVVec::new(),
            cpu: <CpuRecord as format::Pod>::zeroed(),
            xsave: KVec::new(),
            sched: None,
            creds: None,
            prepared_creds: None,
            dumpable: false,
        }
    }

    /// Its own credentials and supplementary groups.
    pub fn set_creds(&mut self, creds: CredsRecord, groups: KVVec<u32>) {
        self.creds = Some((creds, groups));
    }

    /// Its own scheduling settings.
    pub fn set_sched(&mut self, sched: SchedRecord) {
        self.sched = Some(sched);
    }

    /// Its pending signals.
    pub fn set_pending(&mut self, pending: KVVec<PendingSignal>) {
        self.pending = pending;
    }

    /// Its registers.
    pub fn set_cpu(&mut self, cpu: CpuRecord) {
        self.cpu = cpu;
    }

    /// Its XSAVE buffer.
    pub fn set_xsave(&mut self, xsave: KVec<u8>) {
        self.xsave = xsave;
    }

    fn altstack(&self) -> SignalsRecord {
        SignalsRecord {
            altstack_sp: self.record.altstack_sp,
            altstack_size: self.record.altstack_size,
            altstack_flags: self.record.altstack_flags,
            count: NSIG,
        }
    }
}

/// Checks the threads before the point of no return, as the leader's
/// records are checked, and builds the credentials of those that have
/// their own; their process is `dumpable` or not.  With `saved_tids`
/// every thread is to get its saved id: `EBUSY` if one is taken or not
/// the caller's to choose, or appears twice.
pub fn check(threads: &mut [PreparedThread], saved_tids: bool, dumpable: bool) -> Result {
    for t in threads.iter_mut() {
        t.dumpable = dumpable;
        if let Some((creds, groups)) = &t.creds {
            t.prepared_creds = Some(PreparedCreds::prepare(creds, groups)?);
        }
    }
    for (i, t) in threads.iter().enumerate() {
        task::check_record(&t.record.task)?;
        signals::check_altstack(&t.altstack())?;
        arch::check_cpu(&t.cpu, &t.record.task)?;
        arch::check_fpu(&t.xsave)?;
        if let Some(sched) = &t.sched {
            sched::check(sched)?;
        }
        if saved_tids {
            let tid = t.record.task.pid;
            let earlier = threads.get(..i).unwrap_or(&[]);
            if earlier.iter().any(|e| e.record.task.pid == tid) {
                return Err(EBUSY);
            }
            // SAFETY: no preconditions; reads the caller's pid namespace.
            match to_result(unsafe { bindings::ckpt_tid_settable(tid) }) {
                Err(e) if e == EPERM || e == EINVAL => return Err(EBUSY),
                r => r?,
            }
        }
    }
    Ok(())
}

/// Creates the threads in the caller's group, past the point of no
/// return; each restores itself before this goes on to the next.
pub fn restore(threads: &mut [PreparedThread], saved_tids: bool) -> Result {
    for t in threads {
        let tid = if saved_tids { t.record.task.pid } else { 0 };
        let state: *mut PreparedThread = t;
        // SAFETY: `state` points to a `PreparedThread` that lives until
        // this returns, and that nothing else uses until the helper
        // returns, once the thread is done with it.
        to_result(unsafe { bindings::ckpt_restart_thread(state.cast::<c_void>(), tid) })?;
    }
    Ok(())
}

/// In a thread created by [`restore`], before it first returns to user
/// space: becomes the saved thread.  Its registers are set last, and what
/// its interrupted system call returns is left in them.
pub fn restore_current(t: &mut PreparedThread) -> Result {
    // First: new credentials may reset the parent-death signal.
    if let Some(creds) = t.prepared_creds.take() {
        creds.commit(t.dumpable);
    }
    task::restore_thread_fields(&t.record.task)?;
    if let Some(sched) = &t.sched {
        // Without a permission check: the caller's was made before the
        // point of no return.
        sched::restore(sched)?;
    }
    signals::restore_altstack(&t.altstack());
    signals::restore_pending(&t.pending)?;
    arch::restore_fpu(&t.xsave)?;
    let ax = arch::restore_cpu(&t.cpu, signals::delivery_pending())?;
    arch::set_return_value(ax);
    Ok(())
}
