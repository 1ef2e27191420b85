// SPDX-License-Identifier: GPL-2.0

//! The system calls `cr` makes, each behind a small safe function, and
//! the wait for a process to stop.

use std::io;
use std::os::fd::RawFd;
use std::time::{Duration, Instant};

/// x86-64 numbers of the two system calls (`linux/checkpoint.h`).
const NR_CHECKPOINT: libc::c_long = 463;
const NR_RESTART: libc::c_long = 464;

/// `restart(2)` flags.
pub const RESTART_CHILD: u64 = 1;
pub const RESTART_NEW_PID: u64 = 2;

/// `checkpoint(pid, fd, 0)`: the checkpoint id (positive), or 0 in a
/// process that checkpointed itself and was restarted.
pub fn checkpoint(pid: i32, fd: RawFd) -> io::Result<i64> {
    // SAFETY: the system call takes plain integers and touches no memory
    // of this process.
    let r = unsafe { libc::syscall(NR_CHECKPOINT, pid as libc::c_long, fd as libc::c_long, 0) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(r)
}

/// `restart(0, fd, flags)`.  Without `RESTART_CHILD` it does not return
/// on success: this process becomes the saved one.
pub fn restart(fd: RawFd, flags: u64) -> io::Result<i64> {
    // SAFETY: as for `checkpoint`; on success without RESTART_CHILD the
    // kernel replaces this process's whole state, which is what the
    // caller asked for.
    let r = unsafe { libc::syscall(NR_RESTART, 0 as libc::c_long, fd as libc::c_long, flags) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(r)
}

/// Sends `sig` to process `pid`.
pub fn kill(pid: i32, sig: i32) -> io::Result<()> {
    // SAFETY: plain integers.
    if unsafe { libc::kill(pid, sig) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Waits for the child `pid` to end; returns its wait status.
pub fn wait_child(pid: i32) -> io::Result<i32> {
    let mut status = 0;
    loop {
        // SAFETY: `status` is a valid place for the status.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            return Ok(status);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Whether `fd` is a terminal.
pub fn is_terminal(fd: RawFd) -> bool {
    // SAFETY: plain integer; an invalid fd just gives 0.
    unsafe { libc::isatty(fd) == 1 }
}

/// The text of an errno, as `strerror` gives it.
pub fn errno_text(errno: i32) -> String {
    io::Error::from_raw_os_error(errno).to_string()
}

/// Where a process is in being stopped, from `/proc/PID/status`.
#[derive(PartialEq, Eq, Clone, Copy, Debug)]
pub enum StopState {
    /// Running or sleeping, with no stop pending.
    Running,
    /// A `SIGSTOP` is pending but has not stopped it yet.
    Stopping,
    /// Stopped by a signal or by ptrace.
    Stopped,
    /// Exited: a zombie (saved as one), or being reaped.  It cannot run.
    Exited,
}

/// Reads the stop state of `pid`.
pub fn stop_state(pid: i32) -> io::Result<StopState> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let stop_bit = 1u64 << (libc::SIGSTOP - 1);
    let mut state = StopState::Running;
    let mut pending = false;
    for line in status.lines() {
        if let Some(s) = line.strip_prefix("State:") {
            match s.trim_start().chars().next() {
                Some('T' | 't') => state = StopState::Stopped,
                Some('Z' | 'X') => return Ok(StopState::Exited),
                _ => {}
            }
        }
        for key in ["SigPnd:", "ShdPnd:"] {
            if let Some(mask) = line.strip_prefix(key) {
                let mask = u64::from_str_radix(mask.trim(), 16).unwrap_or(0);
                pending |= mask & stop_bit != 0;
            }
        }
    }
    if state == StopState::Running && pending {
        state = StopState::Stopping;
    }
    Ok(state)
}

/// The descendants of process `pid` (children, grandchildren, ...), from
/// the parent of every process in `/proc`: parents before their
/// children.
pub fn descendants(pid: i32) -> io::Result<Vec<i32>> {
    let mut children: std::collections::BTreeMap<i32, Vec<i32>> = Default::default();
    for entry in std::fs::read_dir("/proc")? {
        let Some(child) = entry?
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        // Gone meanwhile: not a descendant to stop.
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else {
            continue;
        };
        // After the ")" that ends the name: state, then the parent.
        let parent = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<i32>().ok());
        if let Some(parent) = parent {
            children.entry(parent).or_default().push(child);
        }
    }
    let mut found = Vec::new();
    let mut next = 0;
    let mut parents = vec![pid];
    while let Some(&parent) = parents.get(next) {
        next += 1;
        for &child in children.get(&parent).into_iter().flatten() {
            if !found.contains(&child) && child != pid {
                found.push(child);
                parents.push(child);
            }
        }
    }
    Ok(found)
}

/// Waits until `pid` is stopped (or has exited), up to `limit`.  `kill` returns before
/// the stop it sent has happened, so this polls `/proc`.
pub fn wait_until_stopped(pid: i32, limit: Duration) -> io::Result<bool> {
    let began = Instant::now();
    loop {
        if matches!(stop_state(pid)?, StopState::Stopped | StopState::Exited) {
            return Ok(true);
        }
        if began.elapsed() >= limit {
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}
