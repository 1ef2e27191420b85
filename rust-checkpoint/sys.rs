// SPDX-License-Identifier: GPL-2.0

//! The system call boundary: the C stubs in `kernel/checkpoint_sys.c` call
//! these functions.  Everything below them returns `Result`; here, and
//! only here, a result becomes a return value or a negative errno.

use crate::driver;
use crate::thread;
use crate::tree;
use core::ffi::{c_int, c_long, c_ulong, c_void};
use kernel::alloc::KBox;
use kernel::bindings;
use kernel::error::{code::*, Error, Result};
use kernel::sync::Arc;

/// Maps an internal result to a syscall return value.
///
/// The image stream may already be partly written or read when a signal
/// interrupts it, so the call is not restartable: the kernel-internal
/// `-ERESTART*` codes become `-EINTR`.
fn to_syscall_ret(r: Result<c_long>) -> c_long {
    match r {
        Ok(v) => v,
        Err(e) => {
            let errno = e.to_errno();
            let restart_codes = [
                bindings::ERESTARTSYS,
                bindings::ERESTARTNOINTR,
                bindings::ERESTARTNOHAND,
                bindings::ERESTART_RESTARTBLOCK,
            ];
            if restart_codes.iter().any(|&c| errno == -(c as c_int)) {
                Error::to_errno(EINTR) as c_long
            } else {
                errno as c_long
            }
        }
    }
}

/// `checkpoint(pid, fd, flags)`: see `Documentation/checkpoint/usage.rst`.
#[no_mangle]
pub extern "C" fn rust_checkpoint_entry(pid: bindings::pid_t, fd: c_int, flags: c_ulong) -> c_long {
    to_syscall_ret(driver::checkpoint(pid, fd, flags).map(c_long::from))
}

/// `restart(crid, fd, flags)`: see `Documentation/checkpoint/usage.rst`.
#[no_mangle]
pub extern "C" fn rust_restart_entry(crid: c_int, fd: c_int, flags: c_ulong) -> c_long {
    to_syscall_ret(driver::restart(crid, fd, flags))
}

/// `restart(crid, fd, RESTART_CHILD)`, in the caller: reads the image
/// up to its task record; returns 0 with the saved pid in `*pid` and, in
/// `*state`, what [`rust_restart_child_entry`] or
/// [`rust_restart_child_drop`] takes over, or a negative errno.
///
/// # Safety
///
/// `state` and `pid` must be valid for writes.
#[no_mangle]
pub unsafe extern "C" fn rust_restart_child_prepare(
    crid: c_int,
    fd: c_int,
    state: *mut *mut c_void,
    pid: *mut bindings::pid_t,
) -> c_long {
    to_syscall_ret(
        driver::restart_child_prepare(crid, fd).map(|(child, saved)| {
            // SAFETY: both pointers are valid for writes (the caller's
            // guarantee).
            unsafe {
                *pid = saved;
                *state = KBox::into_raw(child).cast();
            }
            0
        }),
    )
}

/// Run by the new child of `restart(RESTART_CHILD)` before it first
/// returns to user space: 0 once the child is the saved process (its
/// registers set), or a negative errno (the C side then kills it).
///
/// # Safety
///
/// `state` must come from [`rust_restart_child_prepare`] and not have been
/// taken over yet; this takes it over.
#[no_mangle]
pub unsafe extern "C" fn rust_restart_child_entry(state: *mut c_void) -> c_long {
    // SAFETY: `state` is a `KBox<ChildRestart>` leaked by
    // `rust_restart_child_prepare`, taken over once (the caller's
    // guarantee).
    let child = unsafe { KBox::from_raw(state.cast::<driver::ChildRestart>()) };
    to_syscall_ret(driver::restart_in_child(child).map(|()| 0))
}

/// Frees the state of a `restart(RESTART_CHILD)` whose child could not be
/// created.
///
/// # Safety
///
/// As for [`rust_restart_child_entry`].
#[no_mangle]
pub unsafe extern "C" fn rust_restart_child_drop(state: *mut c_void) {
    // SAFETY: as in `rust_restart_child_entry`.
    drop(unsafe { KBox::from_raw(state.cast::<driver::ChildRestart>()) });
}

/// Run by a thread that `restart(2)` created, before it first returns to
/// user space: 0 once it is the saved thread (its registers set), or a
/// negative errno (the C side then kills the thread group).
///
/// # Safety
///
/// `state` must point to a [`thread::PreparedThread`] that stays valid,
/// and that nothing else uses, until this returns.
#[no_mangle]
pub unsafe extern "C" fn rust_restart_thread_entry(state: *const c_void) -> c_long {
    // SAFETY: the caller's guarantee: the thread is ours until we return
    // (its creator waits, and made `state` from a unique reference).
    let prepared = unsafe { &mut *state.cast_mut().cast::<thread::PreparedThread>() };
    to_syscall_ret(thread::restore_current(prepared).map(|()| 0))
}

/// Run by a child process that `restart(2)` created, before it first
/// returns to user space: 0 once it is the saved process (its registers
/// set) and its own children are restored, or a negative errno (the C
/// side then kills it).  On success `*gate` holds the gate the child
/// passes, once its parent goes on, with [`rust_restart_process_wait`].
///
/// # Safety
///
/// `state` must point to a [`tree::ChildJob`] that stays valid, and that
/// nothing else uses, until this returns; `gate` must be writable.
#[no_mangle]
pub unsafe extern "C" fn rust_restart_process_entry(
    state: *const c_void,
    gate: *mut *mut c_void,
) -> c_long {
    // SAFETY: the caller's guarantee: the job is ours until we return (its
    // creator waits, and made it from a unique reference).
    let job = unsafe { &mut *state.cast_mut().cast::<tree::ChildJob<'_>>() };
    let restored = tree::restore_current(job).map(|restored_gate| {
        // SAFETY: `gate` is writable (the caller's guarantee); the
        // reference is taken back by `rust_restart_process_wait`.
        unsafe { *gate = Arc::into_raw(restored_gate).cast_mut().cast() };
        0
    });
    to_syscall_ret(restored)
}

/// Run by a zombie child that `restart(2)` created, before it first
/// returns to user space: the status it exits with once it holds its
/// saved place, or a negative errno (the C side then kills it).
///
/// # Safety
///
/// `state` must point to a [`tree::ZombieJob`] that stays valid, and that
/// nothing else uses, until this returns.
#[no_mangle]
pub unsafe extern "C" fn rust_restart_zombie_entry(state: *const c_void) -> c_long {
    // SAFETY: the caller's guarantee: the job is ours until we return (its
    // creator waits, and made it from a unique reference).
    let job = unsafe { &mut *state.cast_mut().cast::<tree::ZombieJob<'_>>() };
    to_syscall_ret(tree::restore_zombie_current(job).map(i64::from))
}

/// Waits, in a restored child process, until the whole tree is restored;
/// kills the child if the restart failed.  Takes over `gate`.
///
/// # Safety
///
/// `gate` must come from [`rust_restart_process_entry`], once.
#[no_mangle]
pub unsafe extern "C" fn rust_restart_process_wait(gate: *mut c_void) {
    // SAFETY: the caller's guarantee: a reference from `Arc::into_raw`,
    // taken back once.
    let gate = unsafe { Arc::from_raw(gate.cast_const().cast::<tree::Gate>()) };
    if !gate.pass() {
        // SAFETY: sends SIGKILL to the calling task, which dies before it
        // returns to user space.
        unsafe { bindings::force_sig(bindings::SIGKILL as i32) };
    }
}
