// SPDX-License-Identifier: GPL-2.0

//! Tasks: finding the target of a checkpoint and holding it.

use core::ptr::NonNull;
use kernel::bindings;
use kernel::error::{code::*, Result};

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

impl Drop for TaskRef {
    fn drop(&mut self) {
        // SAFETY: by the type invariant we own one reference, dropped here.
        unsafe { bindings::put_task_struct(self.ptr.as_ptr()) };
    }
}
