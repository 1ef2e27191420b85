// SPDX-License-Identifier: GPL-2.0

//! The system call boundary: the C stubs in `kernel/checkpoint_sys.c` call
//! these two functions.  Everything below them returns `Result`; here, and
//! only here, a result becomes a return value or a negative errno.

use crate::driver;
use core::ffi::{c_int, c_long, c_ulong};
use kernel::bindings;
use kernel::error::{code::*, Error, Result};

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

/// `restart(crid, fd, RESTART_CHILD)`, run by the new child before it
/// first returns to user space: 0 once the child is the saved process
/// (its registers set), or a negative errno (the C side then kills it).
#[no_mangle]
pub extern "C" fn rust_restart_child_entry(crid: c_int, fd: c_int, _flags: c_ulong) -> c_long {
    to_syscall_ret(driver::restart_in_child(crid, fd).map(|()| 0))
}
