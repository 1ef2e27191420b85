// SPDX-License-Identifier: GPL-2.0

//! x86-64 specifics of checkpoint/restart: general registers, segment
//! state and TLS bases (fs/gs), and the FPU state as an XSAVE buffer.
//!
//! This module is compiled into the checkpoint crate (see
//! `rust-checkpoint/checkpoint.rs`).  Register state is that of the task's
//! user-space context (`task_pt_regs`); the FPU state travels in the
//! standard (uncompacted) XSAVE format that `ptrace` uses, converted by
//! the FPU core (`arch/x86/kernel/checkpoint.c`).

pub mod tests;
pub mod xstate;

use crate::format::{CpuRecord, TaskRecord, ARCH_X86_64, RESTART_NONE};
use crate::task::TaskRef;
use kernel::alloc::{flags::GFP_KERNEL, KVec};
use kernel::bindings;
use kernel::error::{code::*, to_result, Result};
use xstate::XstateLimits;

/// The architecture identifier of images made by this kernel.
pub const IMAGE_ARCH: u32 = ARCH_X86_64;

/// The user code segment selector of 64-bit tasks (`__USER_CS`).
const USER_CS: u64 = 0x33;
/// The user stack segment selector (`__USER_DS`).
const USER_DS: u64 = 0x2b;

/// The user registers of `task` as they will be when it returns to user
/// space.  For the calling task that is the return from the current
/// system call; the caller sets the return value (`ax`).
pub fn save_cpu(task: &TaskRef) -> CpuRecord {
    let t = task.as_ptr();
    // SAFETY: `t` is alive (we hold a reference); its pt_regs are at the
    // top of its kernel stack, which lives as long as the task.
    let r = unsafe { &*bindings::ckpt_task_pt_regs(t) };
    let mut seg = bindings::ckpt_segments::default();
    // SAFETY: `t` is alive; `seg` is writable.
    unsafe { bindings::ckpt_read_segments(t, &mut seg) };
    // SAFETY: `t` is alive; reading a task's bases has no other
    // requirement (for the current task it reads the live registers).
    let (fs_base, gs_base) = unsafe {
        (
            bindings::x86_fsbase_read_task(t) as u64,
            bindings::x86_gsbase_read_task(t) as u64,
        )
    };
    CpuRecord {
        r15: r.r15 as u64,
        r14: r.r14 as u64,
        r13: r.r13 as u64,
        r12: r.r12 as u64,
        bp: r.bp as u64,
        bx: r.bx as u64,
        r11: r.r11 as u64,
        r10: r.r10 as u64,
        r9: r.r9 as u64,
        r8: r.r8 as u64,
        ax: r.ax as u64,
        cx: r.cx as u64,
        dx: r.dx as u64,
        si: r.si as u64,
        di: r.di as u64,
        orig_ax: r.orig_ax as u64,
        ip: r.ip as u64,
        // SAFETY: `csx` covers the whole 64-bit slot of the union, and
        // every bit pattern is a valid `u64`.
        cs: unsafe { r.__bindgen_anon_1.csx },
        flags: r.flags as u64,
        sp: r.sp as u64,
        // SAFETY: as for `cs`.
        ss: unsafe { r.__bindgen_anon_2.ssx },
        fs_base,
        gs_base,
        ds: seg.ds.into(),
        es: seg.es.into(),
        fs: seg.fs.into(),
        gs: seg.gs.into(),
    }
}

/// `-ERESTARTSYS`, `-ERESTARTNOINTR`, `-ERESTARTNOHAND`: a system call
/// interrupted by a signal, to be run again if no handler runs.
const ERESTART_AGAIN: [i64; 3] = [-512, -513, -514];
/// `-ERESTART_RESTARTBLOCK`: resumed through `restart_syscall(2)` and the
/// task's restart block.
const ERESTART_RESTARTBLOCK: i64 = -516;
/// `__NR_restart_syscall` of x86-64.
const NR_RESTART_SYSCALL: i64 = 219;
/// Length of the `syscall` instruction.
const SYSCALL_INSN_LEN: u64 = 2;

/// Whether the registers are those of a task stopped inside a system call
/// that resumes through its restart block.
pub fn in_restartable_syscall(cpu: &CpuRecord) -> bool {
    (cpu.orig_ax as i64) >= 0 && cpu.ax as i64 == ERESTART_RESTARTBLOCK
}

/// Checks saved registers against this machine before the point of no
/// return (the parser has checked the selectors and the bases' range): a
/// system call to resume through a restart block needs one in the task
/// record.
pub fn check_cpu(cpu: &CpuRecord, task: &TaskRecord) -> Result {
    // SAFETY: no preconditions.
    let limit = unsafe { bindings::task_size_max() };
    if cpu.fs_base >= limit as u64 || cpu.gs_base >= limit as u64 {
        return Err(EINVAL);
    }
    if in_restartable_syscall(cpu) && task.restart_kind == RESTART_NONE {
        return Err(EINVAL);
    }
    if (cpu.orig_ax as i64) >= 0 && cpu.ip < SYSCALL_INSN_LEN {
        return Err(EINVAL);
    }
    Ok(())
}

/// Loads saved registers into the calling task's user context and returns
/// the value the current system call must return (the saved `ax`), since
/// the system-call exit path stores the return value into `ax`.
///
/// A task saved while stopped in an interrupted system call resumes as the
/// signal code would have resumed it: the system call runs again
/// (`-ERESTARTSYS` and its kin), or `restart_syscall(2)` runs and continues
/// it from the restart block (`-ERESTART_RESTARTBLOCK`).  With
/// `signal_waits` (a signal is to be delivered on the way out) that
/// decision is left to the signal code itself, which makes it knowing
/// whether a handler runs: the saved `ax` is returned unchanged, and a
/// handler makes the call fail with `EINTR` where its kind says so.
///
/// Segment selectors are those of 64-bit tasks; data selectors are not
/// restored (64-bit code does not use them).
pub fn restore_cpu(cpu: &CpuRecord, signal_waits: bool) -> Result<i64> {
    // SAFETY: `get_current` has no preconditions.
    let current = unsafe { bindings::get_current() };
    let arch_prctl = |code: u32, base: u64| {
        // SAFETY: `current` is the calling task; `do_arch_prctl_64`
        // validates the base itself.
        to_result(unsafe { bindings::do_arch_prctl_64(current, code as i32, base as usize) } as i32)
    };
    arch_prctl(bindings::ARCH_SET_FS, cpu.fs_base)?;
    arch_prctl(bindings::ARCH_SET_GS, cpu.gs_base)?;
    // SAFETY: the calling task's pt_regs are valid and only this task
    // (which is running this code) modifies them during a system call.
    let r = unsafe { &mut *bindings::ckpt_task_pt_regs(current) };
    r.r15 = cpu.r15 as usize;
    r.r14 = cpu.r14 as usize;
    r.r13 = cpu.r13 as usize;
    r.r12 = cpu.r12 as usize;
    r.bp = cpu.bp as usize;
    r.bx = cpu.bx as usize;
    r.r11 = cpu.r11 as usize;
    r.r10 = cpu.r10 as usize;
    r.r9 = cpu.r9 as usize;
    r.r8 = cpu.r8 as usize;
    r.ax = cpu.ax as usize;
    r.cx = cpu.cx as usize;
    r.dx = cpu.dx as usize;
    r.si = cpu.si as usize;
    r.di = cpu.di as usize;
    r.orig_ax = cpu.orig_ax as usize;
    r.ip = cpu.ip as usize;
    r.__bindgen_anon_1.csx = USER_CS;
    r.flags = xstate::sanitize_flags(cpu.flags) as usize;
    r.sp = cpu.sp as usize;
    r.__bindgen_anon_2.ssx = USER_DS;
    let ax = cpu.ax as i64;
    if (cpu.orig_ax as i64) >= 0 && !signal_waits {
        let rerun = if ERESTART_AGAIN.contains(&ax) {
            Some(cpu.orig_ax as i64)
        } else if ax == ERESTART_RESTARTBLOCK {
            Some(NR_RESTART_SYSCALL)
        } else {
            None
        };
        if let Some(nr) = rerun {
            // Back to the `syscall` instruction, with the number in `ax`
            // (the value this system call returns).
            r.ip = (cpu.ip - SYSCALL_INSN_LEN) as usize;
            return Ok(nr);
        }
    }
    Ok(ax)
}

/// Sets what the calling task's interrupted system call returns, as the
/// system-call exit path would: for a task that restores itself outside
/// a system call's return (the child of `restart(RESTART_CHILD)`).
pub fn set_return_value(ax: i64) {
    // SAFETY: `get_current` has no preconditions.
    let current = unsafe { bindings::get_current() };
    // SAFETY: the calling task's pt_regs are valid and only this task,
    // which is running this code, modifies them.
    let r = unsafe { &mut *bindings::ckpt_task_pt_regs(current) };
    r.ax = ax as usize;
}

/// What this kernel accepts as an XSAVE buffer for `task`.
pub fn fpu_limits(task: &TaskRef) -> Result<XstateLimits> {
    let mut l = bindings::ckpt_fpu_limits::default();
    // SAFETY: the task is alive (we hold a reference); `l` is writable.
    unsafe { bindings::ckpt_fpu_limits(task.as_ptr(), &mut l) };
    if !l.xsave {
        // Only XSAVE-capable CPUs are supported.
        return Err(crate::error::eopnotsupp());
    }
    Ok(XstateLimits {
        size: l.size,
        features: l.features,
        mxcsr_mask: l.mxcsr_mask,
    })
}

/// The FPU state of `task` as a standard-format XSAVE buffer, and the
/// features it was saved with.
pub fn save_fpu(task: &TaskRef) -> Result<(u64, KVec<u8>)> {
    let limits = fpu_limits(task)?;
    let mut buf = KVec::from_elem(0u8, limits.size as usize, GFP_KERNEL)?;
    // SAFETY: the task is alive; `buf` is writable for `limits.size`
    // bytes, the size the FPU core expects.
    to_result(unsafe {
        bindings::ckpt_fpu_save(task.as_ptr(), buf.as_mut_ptr().cast(), limits.size)
    })?;
    Ok((limits.features, buf))
}

/// The size of this kernel's XSAVE buffer for the calling task: the only
/// size [`check_fpu`] accepts.
pub fn xstate_size() -> Result<u32> {
    Ok(fpu_limits(&TaskRef::current()?)?.size)
}

/// Checks a saved XSAVE buffer before the point of no return.
pub fn check_fpu(buf: &[u8]) -> Result {
    let limits = fpu_limits(&TaskRef::current()?)?;
    xstate::check_xsave(buf, &limits).map_err(crate::error::to_kernel_error)
}

/// Loads a saved XSAVE buffer (checked with [`check_fpu`]) into the calling
/// task; it takes effect on the return to user space.
pub fn restore_fpu(buf: &[u8]) -> Result {
    let size = u32::try_from(buf.len()).map_err(|_| EINVAL)?;
    // SAFETY: `buf` is readable for `size` bytes.
    to_result(unsafe { bindings::ckpt_fpu_restore_current(buf.as_ptr().cast(), size) })
}
