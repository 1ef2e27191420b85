// SPDX-License-Identifier: GPL-2.0

//! Tasks: finding the target of a checkpoint, and the task state that is
//! neither memory, registers nor files ([`TaskRecord`], [`FsRecord`]).

use crate::arch;
use crate::error::{eopnotsupp, Failure};
use crate::file::path_to_bytes;
use crate::format::{
    CpuRecord, FsRecord, TaskRecord, FUTEX_RESTART_CLOCK_REALTIME, FUTEX_RESTART_SHARED,
    RESTART_FUTEX_WAIT, RESTART_NANOSLEEP, RESTART_NONE, RESTART_NO_TIMEOUT, RESTART_POLL,
    TASK_COMM_LEN, TASK_FLAG_CHILD_SUBREAPER, TASK_FLAG_LEADER_EXITED, TASK_FLAG_NOT_DUMPABLE,
    TASK_FLAG_NO_NEW_PRIVS, TASK_FLAG_THP_DISABLE,
};
use core::ptr::NonNull;
use kernel::alloc::{flags::GFP_KERNEL, KVec};
use kernel::bindings;
use kernel::error::{code::*, to_result, Result};

/// A counted reference to a `struct task_struct`.
///
/// # Invariants
///
/// `ptr` points to a task on which this object owns one reference.
pub struct TaskRef {
    ptr: NonNull<bindings::task_struct>,
}

impl TaskRef {
    /// The task a `checkpoint(pid, ...)` call is about.
    ///
    /// `pid` 0 is the caller.  Any other pid is looked up in the caller's
    /// pid namespace (`ESRCH` if absent); a task other than the caller must
    /// be ptrace-attachable by it (`EPERM` otherwise), because an image
    /// holds everything the task can see.
    pub fn lookup_for_checkpoint(pid: bindings::pid_t) -> Result<Self> {
        // SAFETY: `get_current` has no preconditions.
        let current = unsafe { bindings::get_current() };
        let task = if pid == 0 {
            // SAFETY: `current` is a valid task for the whole syscall.
            unsafe { bindings::get_task_struct(current) };
            current
        } else {
            // SAFETY: no preconditions; returns a counted reference or null.
            unsafe { bindings::find_get_task_by_vpid(pid) }
        };
        // INVARIANT: both branches took a reference that we now own.
        let task = NonNull::new(task).map(|ptr| TaskRef { ptr }).ok_or(ESRCH)?;
        if task.ptr.as_ptr() != current {
            // SAFETY: the task is alive while we hold our reference.
            let allowed = unsafe {
                bindings::ptrace_may_access(
                    task.ptr.as_ptr(),
                    bindings::PTRACE_MODE_ATTACH_REALCREDS,
                )
            };
            if !allowed {
                return Err(EPERM);
            }
        }
        Ok(task)
    }
}

impl TaskRef {
    /// The calling task.
    pub fn current() -> Result<Self> {
        // SAFETY: `get_current` has no preconditions.
        let ptr = NonNull::new(unsafe { bindings::get_current() }).ok_or(ESRCH)?;
        // SAFETY: the calling task is valid for the whole syscall.
        unsafe { bindings::get_task_struct(ptr.as_ptr()) };
        // INVARIANT: we own the reference just taken.
        Ok(TaskRef { ptr })
    }

    /// The task, valid while `self` lives.
    pub fn as_ptr(&self) -> *mut bindings::task_struct {
        self.ptr.as_ptr()
    }

    /// Whether this is the calling task.
    pub fn is_current(&self) -> bool {
        // SAFETY: `get_current` has no preconditions.
        self.ptr.as_ptr() == unsafe { bindings::get_current() }
    }

    /// Whether the task is stopped (by a stop signal or ptrace) or frozen,
    /// and off its CPU: the quiescence a checkpoint of another task needs.
    pub fn is_quiescent(&self) -> bool {
        // SAFETY: the task is alive (type invariant); the helper may wait
        // until it is off its CPU.
        unsafe { bindings::ckpt_task_quiescent(self.ptr.as_ptr()) }
    }

    /// The interrupted nanosleep the task would resume, if that is what its
    /// restart block holds.
    pub fn nanosleep(&self) -> Option<bindings::ckpt_nanosleep> {
        let mut ns = bindings::ckpt_nanosleep::default();
        // SAFETY: the task is alive and quiescent (or the caller), so its
        // restart block is stable; `ns` is writable.
        unsafe { bindings::ckpt_task_nanosleep(self.ptr.as_ptr(), &mut ns) }.then_some(ns)
    }

    /// The interrupted poll the task would resume, if that is what its
    /// restart block holds.
    pub fn poll(&self) -> Option<bindings::ckpt_poll> {
        let mut p = bindings::ckpt_poll::default();
        // SAFETY: the task is alive and quiescent (or the caller), so its
        // restart block is stable; `p` is writable.
        unsafe { bindings::ckpt_task_poll(self.ptr.as_ptr(), &mut p) }.then_some(p)
    }

    /// The interrupted futex wait with a timeout the task would resume, if
    /// that is what its restart block holds (a futex2 wait is not).
    pub fn futex_wait(&self) -> Option<bindings::ckpt_futex_wait> {
        let mut w = bindings::ckpt_futex_wait::default();
        // SAFETY: the task is alive and quiescent (or the caller), so its
        // restart block is stable; `w` is writable.
        unsafe { bindings::ckpt_task_futex_wait(self.ptr.as_ptr(), &mut w) }.then_some(w)
    }

    /// How often the task was switched out: it changes if a stopped task
    /// runs.
    pub fn switches(&self) -> usize {
        // SAFETY: the task is alive (type invariant).
        unsafe { bindings::ckpt_task_switches(self.ptr.as_ptr()) }
    }

    /// Takes over a task reference.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a task on which the caller owns a reference,
    /// which this object takes over.
    pub unsafe fn from_owned(ptr: NonNull<bindings::task_struct>) -> Self {
        // INVARIANT: the caller hands over its reference.
        TaskRef { ptr }
    }

    /// The leader of the task's thread group, which may have exited while
    /// its other threads run on.
    pub fn group_leader(&self) -> Result<Self> {
        // SAFETY: the task is alive (type invariant); the helper returns a
        // counted reference.
        let leader = unsafe { bindings::ckpt_task_leader(self.ptr.as_ptr()) };
        let leader = NonNull::new(leader).ok_or(ESRCH)?;
        // SAFETY: we own the reference the helper took.
        Ok(unsafe { TaskRef::from_owned(leader) })
    }

    /// The status the task exited with, as `wait(2)` reports it; for a
    /// task that has exited.
    pub fn exit_status(&self) -> u32 {
        // SAFETY: the task is alive (type invariant).
        unsafe { bindings::ckpt_task_exit_code(self.ptr.as_ptr()) as u32 }
    }

    /// The children of the task's process (of all its threads), each
    /// counted, zombies included.
    pub fn children(&self) -> Result<KVec<TaskRef>> {
        collect_tasks(1, |buf, room| {
            // SAFETY: the task is alive (type invariant); `buf` has room
            // for `room` pointers and the helper writes at most that many.
            unsafe { bindings::ckpt_task_children(self.ptr.as_ptr(), buf, room) }
        })
    }

    /// Whether the task has exited (a zombie, or on its way out).
    pub fn has_exited(&self) -> bool {
        // SAFETY: the task is alive (type invariant).
        unsafe { bindings::ckpt_task_exited(self.ptr.as_ptr()) }
    }

    /// The task's command name, NUL-terminated.
    pub fn comm(&self) -> [u8; TASK_COMM_LEN] {
        let mut comm = [0u8; TASK_COMM_LEN];
        // SAFETY: the task is alive (type invariant); `comm` is writable
        // for its length, which is the kernel's TASK_COMM_LEN (checked by
        // the header constants).
        unsafe {
            bindings::__get_task_comm(comm.as_mut_ptr().cast(), comm.len(), self.ptr.as_ptr())
        };
        // The kernel always NUL-terminates; make sure the record does too.
        if let Some(last) = comm.last_mut() {
            *last = 0;
        }
        comm
    }

    /// What `wait(2)` would report of the task, a process that has
    /// exited: its wait status, exit signal and real user id.
    /// `EOPNOTSUPP` if threads of it still run or it is traced, `EBUSY`
    /// if it is not a zombie (yet, or any more).
    pub fn zombie(&self) -> Result<bindings::ckpt_zombie> {
        let mut z = bindings::ckpt_zombie::default();
        // SAFETY: the task is alive (type invariant); `z` is writable.
        to_result(unsafe { bindings::ckpt_task_zombie(self.ptr.as_ptr(), &mut z) })?;
        Ok(z)
    }

    /// The task's process group and session ids in the caller's pid
    /// namespace (0 where the leader is not in it).
    pub fn pgid_sid(&self) -> (bindings::pid_t, bindings::pid_t) {
        let t = self.ptr.as_ptr();
        // SAFETY: the task is alive; a null namespace means the caller's.
        let pgid = unsafe {
            bindings::__task_pid_nr_ns(t, bindings::pid_type_PIDTYPE_PGID, core::ptr::null_mut())
        };
        // SAFETY: as above.
        let sid = unsafe {
            bindings::__task_pid_nr_ns(t, bindings::pid_type_PIDTYPE_SID, core::ptr::null_mut())
        };
        (pgid, sid)
    }

    /// Whether the leaders of the task's process group and of its session
    /// are gone (exited and reaped), in that order: the group or session
    /// then outlives its leader, its id naming no task.  `ESRCH` if the
    /// task has been reaped.
    pub fn leaders_gone(&self) -> Result<(bool, bool)> {
        // SAFETY: the task is alive (type invariant).
        let gone = unsafe { bindings::ckpt_task_leaders_gone(self.ptr.as_ptr()) };
        to_result(gone)?;
        let bits = gone as u32;
        Ok((
            bits & bindings::CKPT_GROUP_LEADER_GONE != 0,
            bits & bindings::CKPT_SESSION_LEADER_GONE != 0,
        ))
    }

    /// The task's id in the caller's pid namespace (0 if it has none
    /// there).
    pub fn tid(&self) -> bindings::pid_t {
        // SAFETY: the task is alive; a null namespace means the caller's.
        unsafe {
            bindings::__task_pid_nr_ns(
                self.ptr.as_ptr(),
                bindings::pid_type_PIDTYPE_PID,
                core::ptr::null_mut(),
            )
        }
    }

    /// Number of threads in the task's thread group.
    pub fn nr_threads(&self) -> i32 {
        // SAFETY: the task is alive (type invariant).
        unsafe { bindings::get_nr_threads(self.ptr.as_ptr()) }
    }
}

/// A list of tasks from a C helper that fills `buf` with up to `room`
/// counted task references and returns how many it had (see
/// `ckpt_task_threads`); called again with room for them all if that was
/// more.  `hint` is the expected count.
pub fn collect_tasks(
    hint: usize,
    mut fill: impl FnMut(*mut *mut bindings::task_struct, u32) -> i32,
) -> Result<KVec<TaskRef>> {
    let mut room = hint.max(1);
    loop {
        let mut raw = KVec::from_elem(core::ptr::null_mut(), room, GFP_KERNEL)?;
        let mut tasks = KVec::with_capacity(room, GFP_KERNEL)?;
        let count = fill(raw.as_mut_ptr(), u32::try_from(room).map_err(|_| EINVAL)?);
        let count = usize::try_from(count).map_err(|_| EINVAL)?;
        for &ptr in raw.iter().take(count.min(room)) {
            let ptr = NonNull::new(ptr).ok_or(EINVAL)?;
            // SAFETY: the helper took a reference on each task it wrote,
            // which we take over here, once.
            let task = unsafe { TaskRef::from_owned(ptr) };
            // Room was reserved: this does not allocate.
            tasks.push(task, GFP_KERNEL)?;
        }
        if count > room {
            // Tasks were created meanwhile: again, with room (the
            // references taken are dropped with `tasks`).
            room = count;
            continue;
        }
        return Ok(tasks);
    }
}

/// State that no record saves yet: each `CKPT_STATE_*` bit of the census
/// that makes checkpoint fail, with what the error record calls it.  The
/// table of `Documentation/checkpoint/state.rst` lists the same.
const UNSAVED_STATE: [(u32, &str); 15] = [
    (
        bindings::ckpt_state_bits_CKPT_STATE_SECCOMP,
        "seccomp filtering",
    ),
    (
        bindings::ckpt_state_bits_CKPT_STATE_SPECULATION,
        "speculation control settings",
    ),
    (
        bindings::ckpt_state_bits_CKPT_STATE_IO_FLUSHER,
        "the IO flusher attribute",
    ),
    (
        bindings::ckpt_state_bits_CKPT_STATE_IO_URING,
        "an io_uring context",
    ),
    (
        bindings::ckpt_state_bits_CKPT_STATE_SEM_UNDO,
        "System V semaphore undo records",
    ),
    (
        bindings::ckpt_state_bits_CKPT_STATE_NAMESPACES,
        "namespaces other than the checkpointer's",
    ),
    (
        bindings::ckpt_state_bits_CKPT_STATE_ROOT,
        "a root directory other than the checkpointer's",
    ),
    (
        bindings::ckpt_state_bits_CKPT_STATE_SHARED_SIGHAND,
        "signal handlers shared with another process",
    ),
    (
        bindings::ckpt_state_bits_CKPT_STATE_SHARED_MM,
        "an address space shared with another process",
    ),
    (
        bindings::ckpt_state_bits_CKPT_STATE_ROOT_DUMPABLE,
        "core dumps readable by root only (suid_dumpable 2)",
    ),
    (
        bindings::ckpt_state_bits_CKPT_STATE_MDWE,
        "memory-deny-write-execute",
    ),
    (
        bindings::ckpt_state_bits_CKPT_STATE_MLOCK_FUTURE,
        "mlockall(MCL_FUTURE)",
    ),
    (bindings::ckpt_state_bits_CKPT_STATE_AIO, "AIO contexts"),
    (
        bindings::ckpt_state_bits_CKPT_STATE_TRACEES,
        "tracees (it is a ptrace tracer)",
    ),
    (
        bindings::ckpt_state_bits_CKPT_STATE_ARCH,
        "x86 TLS descriptors, I/O permissions or TSC/CPUID faulting",
    ),
];

/// Census bits that a [`TaskRecord`] flag saves.
const SAVED_FLAGS: [(u32, u32); 4] = [
    (
        bindings::ckpt_state_bits_CKPT_STATE_NO_NEW_PRIVS,
        TASK_FLAG_NO_NEW_PRIVS,
    ),
    (
        bindings::ckpt_state_bits_CKPT_STATE_NOT_DUMPABLE,
        TASK_FLAG_NOT_DUMPABLE,
    ),
    (
        bindings::ckpt_state_bits_CKPT_STATE_SUBREAPER,
        TASK_FLAG_CHILD_SUBREAPER,
    ),
    (
        bindings::ckpt_state_bits_CKPT_STATE_THP_DISABLE,
        TASK_FLAG_THP_DISABLE,
    ),
];

/// The census of `task` (see `kernel/checkpoint_task.c`).
pub fn census(task: &TaskRef) -> bindings::ckpt_task_census {
    let mut c = bindings::ckpt_task_census::default();
    // SAFETY: the task is alive (we hold a reference) and stopped or the
    // caller; `c` is writable.
    unsafe { bindings::ckpt_task_census(task.as_ptr(), &mut c) };
    c
}

/// Fails with `EOPNOTSUPP`, the reason in `failure`, if the census shows
/// state that no record saves (so that it is never silently dropped).
pub fn refuse_unsaved(c: &bindings::ckpt_task_census, failure: &mut Failure) -> Result {
    if let Some((_, what)) = UNSAVED_STATE.iter().find(|(bit, _)| c.state & bit != 0) {
        failure.set(format_args!(
            "the task has {what}, which cannot be saved yet"
        ));
    } else if c.oom_score_adj != 0 {
        failure.set(format_args!(
            "the task has oom_score_adj {}, which cannot be saved yet",
            c.oom_score_adj
        ));
    } else {
        return Ok(());
    }
    Err(eopnotsupp())
}

/// The state of `task` for its [`TaskRecord`], with the registrations of
/// its census.
pub fn save_task(task: &TaskRef, c: &bindings::ckpt_task_census) -> TaskRecord {
    let t = task.as_ptr();
    let comm = task.comm();
    let (pgid, sid) = task.pgid_sid();
    let mut f = bindings::ckpt_task_fields::default();
    // SAFETY: `t` is alive; `f` is writable.
    unsafe { bindings::ckpt_task_read(t, &mut f) };
    TaskRecord {
        comm,
        exit_signal: f.exit_signal,
        pdeath_signal: f.pdeath_signal,
        personality: f.personality,
        restart_kind: RESTART_NONE,
        restart_args: [0; 4],
        set_child_tid: f.set_child_tid,
        clear_child_tid: f.clear_child_tid,
        // The mask it returns to user space with (the one saved by
        // sigsuspend and its kin, which run again).
        sigblocked: c.blocked,
        // SAFETY: `t` is alive; a null namespace means the caller's.
        pid: unsafe {
            bindings::__task_pid_nr_ns(t, bindings::pid_type_PIDTYPE_PID, core::ptr::null_mut())
        },
        // SAFETY: as above.
        tgid: unsafe {
            bindings::__task_pid_nr_ns(t, bindings::pid_type_PIDTYPE_TGID, core::ptr::null_mut())
        },
        rseq_area: c.rseq,
        rseq_len: c.rseq_len,
        rseq_sig: c.rseq_sig,
        robust_list: c.robust_list,
        flags: SAVED_FLAGS
            .iter()
            .filter(|(bit, _)| c.state & bit != 0)
            .fold(0, |flags, (_, flag)| flags | flag),
        pgid,
        sid,
        exit_status: 0,
    }
}

/// The record of a process whose leader `leader` had exited while its
/// threads ran on, with the process's registrations in `process_census`
/// (a live thread's): the leader's ids, name, exit signal, personality and
/// exit status; its per-thread fields are left zero, for it is restored
/// only to exit again.
pub fn save_exited_leader(
    leader: &TaskRef,
    process_census: &bindings::ckpt_task_census,
) -> TaskRecord {
    // Only its process flags: no registrations of the live thread's.
    let census = bindings::ckpt_task_census {
        state: process_census.state & !bindings::ckpt_state_bits_CKPT_STATE_NO_NEW_PRIVS,
        ..Default::default()
    };
    let mut task = save_task(leader, &census);
    task.set_child_tid = 0;
    task.clear_child_tid = 0;
    task.pdeath_signal = 0;
    task.flags |= TASK_FLAG_LEADER_EXITED;
    task.exit_status = leader.exit_status();
    task
}

/// Whether the process of `task` (a live thread of it) is in a
/// job-control stop of its own: only a process of a frozen cgroup can
/// tell, since the checkpoint's caller may have stopped it.
pub fn job_stopped(task: &TaskRef) -> bool {
    // SAFETY: the task is alive (we hold a reference); the helper takes
    // the locks it needs.
    unsafe { bindings::ckpt_task_job_stopped(task.as_ptr()) }
}

/// Makes the calling process, restored from a job-control stop, stop
/// again on its way back to user space.
pub fn stop_at_return() -> Result {
    // SAFETY: no preconditions; signals the calling process only.
    to_result(unsafe { bindings::ckpt_stop_at_return() })
}

/// Makes the calling task, a restored leader whose saved self had
/// exited, exit with `status` on its way back to user space.
pub fn exit_at_return(status: u32) -> Result {
    let status = isize::try_from(status).map_err(|_| EINVAL)?;
    // SAFETY: no preconditions; queues work on the calling task only.
    to_result(unsafe { bindings::ckpt_exit_at_return(status) })
}

/// Checks, before the point of no return, that the calling task can become
/// the saved one: `EINTR` with a signal to handle; `EBUSY` if it shares
/// its address space or signal handlers with another process, has blocked
/// signals pending, or x86 state restart would have to drop; `EOPNOTSUPP`
/// if the image registers an rseq area and this kernel has no rseq.
pub fn check_restart_caller(task: &TaskRecord) -> Result {
    // SAFETY: no preconditions; reads the calling task.
    to_result(unsafe { bindings::ckpt_restart_check_current() })?;
    check_record(task)
}

/// In the child of `restart(RESTART_CHILD)`, before it restarts: leads a
/// new session if the saved task led its own, else a new process group
/// in its parent's session if the saved task led its group; otherwise
/// stays in its parent's group.
pub fn take_saved_place(leads_session: bool, leads_group: bool) -> Result {
    // SAFETY: no preconditions; changes the calling task's session or
    // group as `setsid` or `setpgid(0, 0)` would.
    to_result(unsafe { bindings::ckpt_restart_child_session(leads_session, leads_group) })
}

/// Whether the caller may choose the ids of the tasks it creates
/// (`CAP_CHECKPOINT_RESTORE` over its pid namespace).
pub fn may_choose_ids() -> bool {
    // SAFETY: no preconditions.  Id 0 is never settable: a caller with
    // the capability gets `EINVAL` for it, one without `EPERM`.
    let r = unsafe { bindings::ckpt_tid_settable(0) };
    r != EPERM.to_errno()
}

/// A counted reference to a `struct pid` that names a process group or a
/// session of a tree being restored.
///
/// # Invariants
///
/// `ptr` points to a pid on which this object owns one reference, taken
/// by `ckpt_vacant_pid` or `ckpt_current_place`.
pub struct PlacePid {
    ptr: NonNull<bindings::pid>,
}

impl PlacePid {
    /// A new pid that names no task, for a process group or session whose
    /// leader had exited: `nr` in the caller's pid namespace (`EBUSY` if
    /// taken, `EPERM` without `CAP_CHECKPOINT_RESTORE` over it), or any
    /// free id for 0.  Freed when dropped unless a task took it.
    pub fn vacant(nr: bindings::pid_t) -> Result<Self> {
        let mut pid = core::ptr::null_mut();
        // SAFETY: `pid` is writable; on success it holds a counted
        // reference.
        to_result(unsafe { bindings::ckpt_vacant_pid(nr, &mut pid) })?;
        // INVARIANT: the helper took a reference for us.
        NonNull::new(pid).map(|ptr| PlacePid { ptr }).ok_or(EINVAL)
    }

    /// The calling task's process group and session.
    pub fn current() -> Result<(Self, Self)> {
        let mut pgrp = core::ptr::null_mut();
        let mut session = core::ptr::null_mut();
        // SAFETY: both pointers are writable; the helper stores a counted
        // reference in each (a task is always in a group and a session).
        unsafe { bindings::ckpt_current_place(&mut pgrp, &mut session) };
        // INVARIANT: the helper took a reference on each for us; one that
        // came back null (never) is not wrapped, so nothing leaks a put.
        let pgrp = NonNull::new(pgrp).map(|ptr| PlacePid { ptr });
        let session = NonNull::new(session).map(|ptr| PlacePid { ptr });
        pgrp.zip(session).ok_or(ESRCH)
    }
}

impl Drop for PlacePid {
    fn drop(&mut self) {
        // SAFETY: we own one reference (type invariant), given up here.
        unsafe { bindings::ckpt_put_place_pid(self.ptr.as_ptr()) };
    }
}

/// Moves the calling task, a restarted child that leads no session, into
/// process group `pgrp` (`None`: a new one it leads) of `session`, across
/// sessions if need be, as only a restart may: `EPERM` for a place the
/// kernel never makes (a group of another session...), `ESRCH` for a
/// group or session whose tasks have all gone.
pub fn set_place(pgrp: Option<&PlacePid>, session: &PlacePid) -> Result {
    let pgrp = pgrp.map_or(core::ptr::null_mut(), |p| p.ptr.as_ptr());
    // SAFETY: both pids are alive while their `PlacePid`s hold a reference;
    // null asks for a new group.
    to_result(unsafe { bindings::ckpt_set_place(pgrp, session.ptr.as_ptr()) })
}

/// Drops the calling task's own registrations as `execve` does (rseq,
/// robust futexes, timers, signal handlers, signal stack, AIO, io_uring,
/// shared descriptor table and fs), at the point of no return.
pub fn reset_for_restart() -> Result {
    // SAFETY: no preconditions; changes only the calling task, which is
    // single-threaded and does not share its mm or signal handlers
    // (checked by `check_restart_caller`).
    to_result(unsafe { bindings::ckpt_restart_reset_current() })
}

/// Sets up the calling task's restart block as the saved task's was, so
/// that the interrupted call goes on when `restart` returns into
/// `restart_syscall(2)`.  The parser has checked the arguments of each
/// kind; times are what remained at the checkpoint.
fn resume_restart_block(task: &TaskRecord) {
    let [remaining_ns, arg1, arg2, arg3] = task.restart_args;
    match task.restart_kind {
        RESTART_NANOSLEEP => {
            let ns = bindings::ckpt_nanosleep {
                remaining_ns: remaining_ns as i64,
                rmtp: arg1,
                clockid: arg2 as i32,
                type_: arg3 as u32,
            };
            // SAFETY: `ns` is valid; the helper writes the calling task's
            // restart block.
            unsafe { bindings::ckpt_nanosleep_resume(&ns) };
        }
        RESTART_POLL => {
            let p = bindings::ckpt_poll {
                remaining_ns: if remaining_ns == RESTART_NO_TIMEOUT {
                    -1
                } else {
                    remaining_ns as i64
                },
                ufds: arg1,
                nfds: arg2 as u32,
                pad: 0,
            };
            // SAFETY: `p` is valid; the helper writes the calling task's
            // restart block.
            unsafe { bindings::ckpt_poll_resume(&p) };
        }
        RESTART_FUTEX_WAIT => {
            let w = bindings::ckpt_futex_wait {
                remaining_ns: remaining_ns as i64,
                uaddr: arg1,
                val: arg2 as u32,
                bitset: arg3 as u32,
                shared: arg2 & FUTEX_RESTART_SHARED != 0,
                clock_realtime: arg2 & FUTEX_RESTART_CLOCK_REALTIME != 0,
            };
            // SAFETY: `w` is valid; the helper writes the calling task's
            // restart block.
            unsafe { bindings::ckpt_futex_wait_resume(&w) };
        }
        _ => {}
    }
}

/// Saves the restart block of `target`, stopped in a system call that
/// resumes through `restart_syscall(2)`: its kind and arguments, or
/// `None` for a call this version cannot resume.
pub fn save_restart_block(target: &TaskRef) -> Option<(u32, [u64; 4])> {
    if let Some(ns) = target.nanosleep() {
        let args = [
            ns.remaining_ns as u64,
            ns.rmtp,
            ns.clockid as u64,
            ns.type_.into(),
        ];
        return Some((RESTART_NANOSLEEP, args));
    }
    if let Some(p) = target.poll() {
        let remaining = if p.remaining_ns < 0 {
            RESTART_NO_TIMEOUT
        } else {
            p.remaining_ns as u64
        };
        return Some((RESTART_POLL, [remaining, p.ufds, p.nfds.into(), 0]));
    }
    if let Some(w) = target.futex_wait() {
        let mut val_flags = u64::from(w.val);
        if w.shared {
            val_flags |= FUTEX_RESTART_SHARED;
        }
        if w.clock_realtime {
            val_flags |= FUTEX_RESTART_CLOCK_REALTIME;
        }
        let args = [w.remaining_ns as u64, w.uaddr, val_flags, w.bitset.into()];
        return Some((RESTART_FUTEX_WAIT, args));
    }
    None
}

/// The registers of `target` for its CPU record, with an interrupted
/// system call it resumes saved in `task_rec`: the caller in
/// `checkpoint(2)` sees it return 0; a task stopped in a call that
/// resumes through its restart block (nanosleep, poll, futex waits) has
/// the block saved, and any other such call is refused with
/// `EOPNOTSUPP`.
pub fn save_registers(
    target: &TaskRef,
    task_rec: &mut TaskRecord,
    failure: &mut Failure,
) -> Result<CpuRecord> {
    let mut cpu = arch::save_cpu(target);
    if target.is_current() {
        cpu.ax = 0;
    } else if arch::in_restartable_syscall(&cpu) {
        let Some((kind, args)) = save_restart_block(target) else {
            failure.set(format_args!(
                "task {} is stopped in system call {} which cannot be resumed yet",
                task_rec.pid, cpu.orig_ax as i64
            ));
            return Err(eopnotsupp());
        };
        task_rec.restart_kind = kind;
        task_rec.restart_args = args;
    }
    Ok(cpu)
}

/// Loads a task record into the calling task.  The exit signal and the
/// process ids stay the caller's: they describe its place among the tasks
/// of this system, not the saved program.
pub fn restore_task(task: &TaskRecord) -> Result {
    restore_thread_fields(task)?;
    // SAFETY: plain values; the helper changes only the calling process,
    // whose mm restart has just replaced.
    unsafe {
        bindings::ckpt_restore_process_flags(
            task.flags & TASK_FLAG_CHILD_SUBREAPER != 0,
            task.flags & TASK_FLAG_THP_DISABLE != 0,
        )
    };
    Ok(())
}

/// Checks, before the point of no return, what this kernel must support
/// for a task record: `EOPNOTSUPP` if it registers an rseq area and this
/// kernel has no rseq.
pub fn check_record(task: &TaskRecord) -> Result {
    // SAFETY: no preconditions.
    if task.rseq_area != 0 && !unsafe { bindings::ckpt_rseq_supported() } {
        return Err(eopnotsupp());
    }
    Ok(())
}

/// Names the calling task `comm` (cut at its last byte if need be).
pub fn set_comm(comm: &[u8; TASK_COMM_LEN]) {
    let mut comm = *comm;
    if let Some(last) = comm.last_mut() {
        *last = 0;
    }
    // SAFETY: `get_current` has no preconditions; `comm` is
    // NUL-terminated.
    unsafe { bindings::__set_task_comm(bindings::get_current(), comm.as_ptr().cast(), false) };
}

/// Sets the calling task's real user id (in its user namespace), as
/// `setresuid(uid, -1, -1)` would: allowed to the caller's own ids, or
/// with `CAP_SETUID`.
pub fn set_real_uid(uid: u32) -> Result {
    // SAFETY: no preconditions; changes only the calling task's
    // credentials.
    to_result(unsafe { bindings::ckpt_set_real_uid(uid) })
}

/// Loads the per-thread fields of a task record into the calling task:
/// its name, tid pointers, parent-death signal, personality, interrupted
/// call, blocked mask, and its rseq, robust list and no_new_privs
/// registrations.
pub fn restore_thread_fields(task: &TaskRecord) -> Result {
    set_comm(&task.comm);
    let f = bindings::ckpt_task_fields {
        set_child_tid: task.set_child_tid,
        clear_child_tid: task.clear_child_tid,
        blocked: task.sigblocked,
        exit_signal: task.exit_signal,
        pdeath_signal: task.pdeath_signal,
        personality: task.personality,
    };
    // SAFETY: `f` is valid; the helper writes only the calling task.
    unsafe { bindings::ckpt_task_write_current(&f) };
    resume_restart_block(task);
    let mut blocked = bindings::sigset_t::default();
    blocked.sig[0] = task.sigblocked as usize;
    // SAFETY: `blocked` is a valid signal set; `set_current_blocked`
    // itself removes SIGKILL and SIGSTOP.
    unsafe { bindings::set_current_blocked(&mut blocked) };
    // SAFETY: plain values (checked by the parser and again by the
    // helper); the helper writes only the calling task.
    to_result(unsafe {
        bindings::ckpt_restore_registrations(
            task.rseq_area,
            task.rseq_len,
            task.rseq_sig,
            task.robust_list,
            task.flags & TASK_FLAG_NO_NEW_PRIVS != 0,
        )
    })
}

/// The umask of `task` and the path of its working directory (in `buf`).
pub fn save_fs<'b>(task: &TaskRef, buf: &'b mut [u8]) -> Result<(FsRecord, &'b [u8])> {
    let mut pwd = bindings::path::default();
    let mut umask = 0u32;
    // SAFETY: the task is alive; on success the helper took a reference
    // on `pwd`.
    if !unsafe { bindings::ckpt_task_fs(task.as_ptr(), &mut pwd, &mut umask) } {
        return Err(ESRCH);
    }
    let r = path_to_bytes(&pwd, buf);
    // SAFETY: drops the reference the helper took.
    unsafe { bindings::path_put(&pwd) };
    Ok((
        FsRecord {
            umask,
            shared_with: 0,
        },
        r?,
    ))
}

impl Drop for TaskRef {
    fn drop(&mut self) {
        // SAFETY: by the type invariant we own one reference, dropped here.
        unsafe { bindings::put_task_struct(self.ptr.as_ptr()) };
    }
}
