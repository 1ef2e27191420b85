// SPDX-License-Identifier: GPL-2.0

//! `ckpt-restart-fuzz COUNT [SEED]`: fuzzes `restart(2)` in the booted
//! kernel (a guest test; it needs the checkpoint syscalls).
//!
//! It makes valid images in this boot (a self checkpoint, an external
//! checkpoint of a stopped child, a self checkpoint with open files of
//! every kind restart re-creates, and a POSIX timer, an external
//! checkpoint of a stopped child with three more threads, and one of a
//! stopped child with a stopped child and a zombie of its own: a process
//! tree),
//! then sends COUNT mutated copies to `restart` in forked children (one
//! in four with `RESTART_CHILD | RESTART_NEW_PID`, restored as a new
//! child of theirs, which they wait for):
//! bit flips, byte overwrites, truncation at and inside records, lengths
//! off by small and huge amounts, records duplicated, dropped and swapped,
//! counts and addresses inflated.  Half of them get a recomputed tail
//! (byte count and checksum), so that mutations reach the deep parsing.
//!
//! The allowed outcomes of each restart are: an errno with the child still
//! intact (its memory, pid and descriptors as before), which then takes
//! the next image (a failed restart must leave its caller usable, and
//! not forking for each failure makes the run several times faster);
//! `SIGKILL` after the point of no return; or a restored task, which
//! checks its own memory and exits 42 (as saved) or 43 (its memory was
//! mutated), or fails as a program with mutated registers or memory
//! would.  A child that returned from `restart` damaged fails the run;
//! so does an unmutated image that does not restore correctly, in place
//! or as a child.  The
//! histogram of outcomes is printed.
//!
//! The images are shared out among one worker process per CPU, so that a
//! guest with two vCPUs runs two restarts at a time.

use ckpt_format::format::{RECORD_ALIGN, USER_ADDR_LIMIT};
use ckpt_format::{fix_image_tail, image_records, XorShift};
use std::collections::BTreeMap;
use std::ffi::c_int;
use std::fs::File;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::process::exit;
use std::time::{Duration, Instant};

const NR_CHECKPOINT: i64 = 463;
const NR_RESTART: i64 = 464;
const SIGKILL: c_int = 9;
const SIGSTOP: c_int = 19;
const WUNTRACED: c_int = 2;
/// Exit code of a restored task whose memory is as saved.
const RESTORED_OK: i32 = 42;
/// Exit code of a restored task whose memory differs (mutated pages).
const RESTORED_MUTATED: i32 = 43;
/// Exit code of a restored tree seed that did not get its zombie back.
const RESTORED_ZOMBIE_LOST: i32 = 44;
/// Exit code of the zombie of the tree seed.
const ZOMBIE_EXIT: i32 = 3;
/// How long a child may run before the harness kills it.
const CHILD_TIMEOUT: Duration = Duration::from_secs(5);

extern "C" {
    fn fork() -> c_int;
    fn waitpid(pid: c_int, status: *mut c_int, options: c_int) -> c_int;
    fn syscall(nr: i64, ...) -> i64;
    fn pipe(fds: *mut c_int) -> c_int;
    fn read(fd: c_int, buf: *mut u8, len: usize) -> isize;
    fn write(fd: c_int, buf: *const u8, len: usize) -> isize;
    fn close(fd: c_int) -> c_int;
    fn kill(pid: c_int, sig: c_int) -> c_int;
    fn raise(sig: c_int) -> c_int;
    fn getpid() -> c_int;
    fn setpgid(pid: c_int, pgid: c_int) -> c_int;
    fn prctl(option: c_int, arg2: u64, ...) -> c_int;
    fn fcntl(fd: c_int, cmd: c_int, ...) -> c_int;
    fn _exit(code: c_int) -> !;
    fn __errno_location() -> *mut c_int;
    fn poll(fds: *mut PollFd, count: u64, timeout_ms: c_int) -> c_int;
    fn eventfd(count: u32, flags: c_int) -> c_int;
    fn signalfd(fd: c_int, mask: *const [u64; 16], flags: c_int) -> c_int;
    fn timerfd_create(clock: c_int, flags: c_int) -> c_int;
    fn epoll_create1(flags: c_int) -> c_int;
    fn memfd_create(name: *const std::ffi::c_char, flags: u32) -> c_int;
    fn epoll_ctl(set: c_int, op: c_int, fd: c_int, event: *mut [u32; 3]) -> c_int;
    fn timerfd_settime(fd: c_int, flags: c_int, new: *const [i64; 4], old: *mut [i64; 4]) -> c_int;
    fn mmap(addr: *mut u8, len: usize, prot: c_int, flags: c_int, fd: c_int, off: i64) -> *mut u8;
    fn shmget(key: c_int, size: usize, flags: c_int) -> c_int;
    fn shmat(id: c_int, addr: *const u8, flags: c_int) -> *mut u8;
    fn shmctl(id: c_int, cmd: c_int, buf: *mut u8) -> c_int;
    fn inotify_init1(flags: c_int) -> c_int;
    fn inotify_add_watch(fd: c_int, path: *const std::ffi::c_char, mask: u32) -> c_int;
    fn open(path: *const std::ffi::c_char, flags: c_int, ...) -> c_int;
    fn ioctl(fd: c_int, request: u64, ...) -> c_int;
}

const NR_TIMER_CREATE: i64 = 222;
const NR_TIMER_SETTIME: i64 = 223;
const CLOCK_MONOTONIC: c_int = 1;

/// Gives the "files" seed one file of each kind without a path (an
/// eventfd, a signalfd, an armed timerfd, both ends of a pipe holding
/// data, an epoll set watching the eventfd, a sealed memfd), an armed
/// POSIX timer, shared anonymous memory and a SysV segment removed while
/// attached (so that a restored copy leaves none behind), and an inotify
/// instance watching `/` and `/tests` (where nothing changes meanwhile: an
/// event would make the checkpoint fail), and a pseudo-terminal pair with
/// data queued both ways, so that mutations reach their
/// parsing and re-creation too.  The timers
/// are 100 s away: a restored task exits long before.
fn open_stateful_files() {
    let in_100_s: [i64; 4] = [0, 0, 100, 0];
    let mut timer_id: c_int = -1;
    // `struct sigevent` for SIGEV_NONE (1): value, signo, notify, pad.
    let mut sigevent = [0u32; 16];
    sigevent[3] = 1;
    // SAFETY: plain system calls on this process; every pointer is to a
    // live local of the size the call reads or writes.
    unsafe {
        // MFD_ALLOW_SEALING, then F_ADD_SEALS (1033) of F_SEAL_GROW.
        let memfd = memfd_create(c"fuzz".as_ptr(), 2);
        write(memfd, b"memfd data".as_ptr(), 10);
        fcntl(memfd, 1033, 4);
        let efd = eventfd(3, 0);
        // `struct epoll_event` (packed on x86-64): EPOLLIN, data.
        let mut event = [1u32, 7, 0];
        epoll_ctl(epoll_create1(0), 1, efd, &mut event);
        signalfd(-1, &[1u64 << (10 - 1); 16], 0);
        let tfd = timerfd_create(CLOCK_MONOTONIC, 0);
        timerfd_settime(tfd, 0, &in_100_s, core::ptr::null_mut());
        let mut ends = [-1 as c_int; 2];
        if pipe(ends.as_mut_ptr()) == 0 {
            write(ends[1], b"pipe data".as_ptr(), 9);
        }
        // PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS.
        let shared = mmap(core::ptr::null_mut(), 8192, 3, 0x21, -1, 0);
        if shared as isize != -1 {
            *shared = 1;
        }
        // IPC_PRIVATE, IPC_CREAT | 0600; then IPC_RMID.
        let segment = shmget(0, 8192, 0o1000 | 0o600);
        let attached = shmat(segment, core::ptr::null(), 0);
        if attached as isize != -1 {
            *attached.add(4096) = 2;
        }
        shmctl(segment, 0, core::ptr::null_mut());
        // /dev/ptmx O_RDWR | O_NOCTTY, unlocked (TIOCSPTLCK), its slave
        // opened (TIOCGPTPEER, O_RDWR | O_NOCTTY); a line and a half
        // typed, a line written back.
        let master = open(c"/dev/ptmx".as_ptr(), 0o402);
        let unlock: c_int = 0;
        ioctl(master, 0x4004_5431, &unlock as *const c_int);
        let slave = ioctl(master, 0x5441, 0o402);
        write(master, b"typed\nhalf".as_ptr(), 10);
        write(slave, b"written\n".as_ptr(), 8);
        // IN_CREATE | IN_DELETE, then IN_MODIFY | IN_ONESHOT.
        let watching = inotify_init1(0);
        inotify_add_watch(watching, c"/".as_ptr(), 0x300);
        inotify_add_watch(watching, c"/tests".as_ptr(), 0x8000_0002);
        syscall(
            NR_TIMER_CREATE,
            CLOCK_MONOTONIC as i64,
            sigevent.as_mut_ptr(),
            &mut timer_id as *mut c_int,
        );
        syscall(
            NR_TIMER_SETTIME,
            timer_id as i64,
            0i64,
            in_100_s.as_ptr(),
            0i64,
        );
    }
}

/// `struct pollfd`.
#[repr(C)]
struct PollFd {
    fd: c_int,
    events: i16,
    revents: i16,
}

const NR_PIDFD_OPEN: i64 = 434;
const POLLIN: i16 = 1;

/// Closes the standard descriptors, where Rust's runtime puts `/dev/null`
/// if they were closed (a device, which checkpoint does not save yet); a
/// seed child prints nothing.  (The runtime's SIGSEGV handler and signal
/// stack are saved and restored like any program's.)
fn close_standard_fds() {
    for fd in 0..3 {
        // SAFETY: closes a descriptor of this process that nothing uses.
        unsafe { close(fd) };
    }
}

fn errno() -> i32 {
    // SAFETY: `__errno_location` returns the calling thread's errno slot.
    unsafe { *__errno_location() }
}

/// `fork()`; the child gets `Ok(0)`.
fn fork_process() -> i32 {
    // SAFETY: the process is single-threaded, so the child may run any
    // code; both sides continue with valid state.
    unsafe { fork() }
}

fn exit_now(code: i32) -> ! {
    // SAFETY: `_exit` ends the process without running Rust or C
    // destructors, which is what a forked child must do.
    unsafe { _exit(code) }
}

/// Memory the restored task checks: a pattern in static memory.
static mut CANARY: [u64; 2048] = [0; 2048];

fn canary_value(i: usize) -> u64 {
    (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5EED
}

fn fill_canary() {
    for i in 0..2048 {
        // SAFETY: single-threaded; nothing else refers to CANARY.
        unsafe { (*core::ptr::addr_of_mut!(CANARY))[i] = canary_value(i) };
    }
}

fn canary_intact() -> bool {
    // SAFETY: single-threaded; a shared read of the array.
    let c = unsafe { &*core::ptr::addr_of!(CANARY) };
    c.iter().enumerate().all(|(i, &v)| v == canary_value(i))
}

/// What a restored task does: report whether its memory is as saved.
fn restored_exit() -> ! {
    exit_now(if canary_intact() {
        RESTORED_OK
    } else {
        RESTORED_MUTATED
    })
}

fn checkpoint(pid: i32, fd: i32) -> i64 {
    // SAFETY: the checkpoint syscall takes plain integers.
    unsafe { syscall(NR_CHECKPOINT, pid as i64, fd as i64, 0i64) }
}

/// `restart(2)` flags: `RESTART_CHILD | RESTART_NEW_PID`.
const RESTART_AS_NEW_CHILD: i64 = 1 | 2;

/// Restarts from `fd`, in place or (`as_child`) as a new child with a new
/// pid, whose pid it returns.
fn restart(fd: i32, as_child: bool) -> i64 {
    let flags = if as_child { RESTART_AS_NEW_CHILD } else { 0 };
    // SAFETY: the restart syscall takes plain integers; on success in
    // place this process becomes the saved one and never returns here.
    unsafe { syscall(NR_RESTART, 0i64, fd as i64, flags) }
}

fn wait_status(pid: i32, options: c_int) -> Option<c_int> {
    let mut status = 0;
    // SAFETY: `status` is writable.
    let r = unsafe { waitpid(pid, &mut status, options) };
    (r == pid).then_some(status)
}

/// The kinds of seed image.
const SEED_KINDS: [&str; 5] = ["self", "external", "files", "threads", "tree"];

/// `prctl` option that makes orphaned descendants this process's
/// children.
const PR_SET_CHILD_SUBREAPER: c_int = 36;

/// Makes the seed images: self, external (stopped child), with files,
/// external with three more threads sleeping, and external with a
/// stopped child (a tree, which its own group lets the harness kill).
/// Every seed child is forked before any image is read back, so that no
/// seed carries the earlier ones in its memory (which would make every
/// restart of it restore several times as many pages).
fn make_seeds(dir: &str) -> Vec<(String, Vec<u8>)> {
    // The killed seed trees' orphans come back here, to be reaped before
    // their pids are restored.
    // SAFETY: plain integer arguments.
    unsafe { prctl(PR_SET_CHILD_SUBREAPER, 1) };
    for kind in SEED_KINDS {
        let path = format!("{dir}/seed-{kind}.img");
        let out = File::create(&path).expect("create seed image");
        let fd = out.as_raw_fd();
        let pid = fork_process();
        if pid == 0 {
            close_standard_fds();
            match kind {
                "tree" => {
                    // SAFETY: plain calls on this process and its child.
                    unsafe { setpgid(0, 0) };
                    // A zombie, left for the restored process to reap.
                    let zombie = fork_process();
                    if zombie == 0 {
                        exit_now(ZOMBIE_EXIT);
                    }
                    let stat = format!("/proc/{zombie}/stat");
                    while !std::fs::read_to_string(&stat).is_ok_and(|s| s.contains(") Z ")) {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    let child = fork_process();
                    if child == 0 {
                        // SAFETY: stops this grandchild until it is killed,
                        // or restored.
                        unsafe { raise(SIGSTOP) };
                        restored_exit();
                    }
                    wait_status(child, WUNTRACED);
                    // SAFETY: stops this child until it is killed, or
                    // restored.
                    unsafe { raise(SIGSTOP) };
                    // Restored: with its child and its zombie, which it
                    // waits for (by any pid: they may have new ones).
                    let mut zombie_back = false;
                    for _ in 0..2 {
                        let mut status = 0;
                        // SAFETY: `status` is writable.
                        let r = unsafe { waitpid(-1, &mut status, 0) };
                        zombie_back |= r > 0 && status == ZOMBIE_EXIT << 8;
                    }
                    if !zombie_back {
                        exit_now(RESTORED_ZOMBIE_LOST);
                    }
                    restored_exit();
                }
                "external" | "threads" => {
                    if kind == "threads" {
                        for _ in 0..3 {
                            std::thread::spawn(|| loop {
                                std::thread::sleep(Duration::from_secs(1000));
                            });
                        }
                    }
                    // SAFETY: stops this child until it is killed, or
                    // restored.
                    unsafe { raise(SIGSTOP) };
                    restored_exit();
                }
                _ => {
                    // Open files for the image to hold: a regular file,
                    // a directory, a device, a deleted file and the kinds
                    // without a path.
                    let _open = (kind == "files").then(|| {
                        std::fs::write(format!("{dir}/data"), b"fuzz data\n").ok();
                        std::fs::write(format!("{dir}/deleted"), b"deleted data\n").ok();
                        open_stateful_files();
                        let open = (
                            File::open(format!("{dir}/data")).ok(),
                            File::open(dir).ok(),
                            File::open("/dev/null").ok(),
                            File::open(format!("{dir}/deleted")).ok(),
                        );
                        std::fs::remove_file(format!("{dir}/deleted")).ok();
                        open
                    });
                    match checkpoint(0, fd) {
                        0 => restored_exit(),
                        r if r > 0 => exit_now(0),
                        _ => exit_now(1),
                    }
                }
            }
        }
        if kind == "external" || kind == "threads" || kind == "tree" {
            let stopped = wait_status(pid, WUNTRACED).is_some();
            let r = if stopped { checkpoint(pid, fd) } else { -1 };
            // SAFETY: kills our own child and, for a tree, its group.
            unsafe {
                kill(pid, SIGKILL);
                kill(-pid, SIGKILL);
            }
            wait_status(pid, 0);
            // The grandchild of a tree, once orphaned.
            // SAFETY: `waitpid` with a null status pointer.
            while unsafe { waitpid(-1, core::ptr::null_mut(), 0) } > 0 {}
            if r <= 0 {
                eprintln!("external checkpoint failed: errno {}", errno());
                exit(1);
            }
        } else if wait_status(pid, 0) != Some(0) {
            eprintln!("{kind} checkpoint failed");
            exit(1);
        }
    }
    // SAFETY: plain integer arguments.
    unsafe { prctl(PR_SET_CHILD_SUBREAPER, 0) };
    SEED_KINDS
        .iter()
        .map(|kind| {
            let image = std::fs::read(format!("{dir}/seed-{kind}.img")).expect("read seed image");
            (kind.to_string(), image)
        })
        .collect()
}

fn put_u32(img: &mut [u8], off: usize, v: u32) {
    if let Some(d) = img.get_mut(off..off + 4) {
        d.copy_from_slice(&v.to_le_bytes());
    }
}

fn put_u64(img: &mut [u8], off: usize, v: u64) {
    if let Some(d) = img.get_mut(off..off + 8) {
        d.copy_from_slice(&v.to_le_bytes());
    }
}

/// Values that probe bounds: counts and addresses "inflated".
const BIG_VALUES: [u64; 10] = [
    0xffff_ffff,
    0x8000_0000,
    0x1_0000_0000,
    0xffff_ffff_ffff_ffff,
    1 << 40,
    USER_ADDR_LIMIT,
    USER_ADDR_LIMIT - 4096,
    0xffff_8000_0000_0000,
    4097,
    0x7fff_ffff,
];

/// Applies one mutation; returns its name.
fn mutate(img: &mut Vec<u8>, rng: &mut XorShift) -> &'static str {
    let recs = image_records(img);
    let pick = |rng: &mut XorShift| recs.get(rng.index(recs.len())).copied().unwrap_or((0, 8));
    match rng.index(10) {
        0 => {
            for _ in 0..1 + rng.index(8) {
                let i = rng.index(img.len());
                img[i] ^= 1 << rng.index(8);
            }
            "bit flips"
        }
        1 => {
            let i = rng.index(img.len());
            let n = 1 + rng.index(8);
            let v = [0u8, 0xff, 0x7f, 0x80][rng.index(4)];
            for b in img.iter_mut().skip(i).take(n) {
                *b = v;
            }
            "byte overwrite"
        }
        2 => {
            let (off, _) = pick(rng);
            img.truncate(off);
            "truncated at a record boundary"
        }
        3 => {
            let (off, len) = pick(rng);
            img.truncate(off + 1 + rng.index(len - 1));
            "truncated inside a record"
        }
        4 => {
            let (off, len) = pick(rng);
            let delta = [1i64, -1, 8, -8, 16, 4096][rng.index(6)];
            put_u32(img, off + 4, (len as i64 + delta) as u32);
            "length off by a little"
        }
        5 => {
            let (off, _) = pick(rng);
            put_u32(img, off + 4, BIG_VALUES[rng.index(BIG_VALUES.len())] as u32);
            "length off by a lot"
        }
        6 => {
            let (off, len) = pick(rng);
            let copy = img[off..off + len].to_vec();
            img.splice(off..off, copy);
            "record duplicated"
        }
        7 => {
            let (off, len) = pick(rng);
            img.drain(off..off + len);
            "record dropped"
        }
        8 => {
            let i = rng.index(recs.len().saturating_sub(1));
            if let (Some(&(a, alen)), Some(&(_, blen))) = (recs.get(i), recs.get(i + 1)) {
                let mut both = img[a + alen..a + alen + blen].to_vec();
                both.extend_from_slice(&img[a..a + alen]);
                img.splice(a..a + alen + blen, both);
            }
            "records swapped"
        }
        _ => {
            let (off, len) = pick(rng);
            let slots = (len.saturating_sub(8)) / RECORD_ALIGN;
            let at = off + 8 + RECORD_ALIGN * rng.index(slots.max(1));
            let v = BIG_VALUES[rng.index(BIG_VALUES.len())];
            if rng.index(2) == 0 {
                put_u64(img, at, v);
            } else {
                put_u32(img, at + 4 * rng.index(2), v as u32);
            }
            "count or address inflated"
        }
    }
}

/// A child that calls `restart` on the image file each time it is told
/// to, and reports the errno and whether it is intact.  A failed restart
/// must leave the caller usable, so the same child takes the next image;
/// a new one is forked only after a restart went past the point of no
/// return (the child is then the restored task, or was killed).
struct Restarter {
    pid: i32,
    /// A pidfd of `pid`: readable when it has exited.
    pidfd: c_int,
    /// Write end of the command pipe: one byte per image.
    command: c_int,
    /// Read end of the report pipe: `[errno, intact, child status]` per
    /// restart that returned.
    report: c_int,
}

/// Two pipe descriptors, `[read, write]`.
fn new_pipe() -> Option<[c_int; 2]> {
    let mut p = [0 as c_int; 2];
    // SAFETY: `p` has room for two descriptors.
    (unsafe { pipe(p.as_mut_ptr()) } == 0).then_some(p)
}

fn close_fd(fd: c_int) {
    // SAFETY: closes a descriptor this process owns and no longer uses.
    unsafe { close(fd) };
}

/// Reads exactly `buf.len()` bytes; false at end of file or on error.
fn read_exact_fd(fd: c_int, buf: &mut [u8]) -> bool {
    // SAFETY: `buf` is writable for its length.
    let n = unsafe { read(fd, buf.as_mut_ptr(), buf.len()) };
    n == buf.len() as isize
}

impl Restarter {
    /// Forks a restarter that restarts from `path` whenever a byte
    /// arrives on its command pipe: 1 in place, 2 as a new child.
    fn spawn(path: &str) -> Option<Restarter> {
        let command = new_pipe()?;
        let report = new_pipe()?;
        let pid = fork_process();
        if pid == 0 {
            close_fd(command[1]);
            close_fd(report[0]);
            // SAFETY: puts this child in its own process group, so that
            // whatever a restored task leaves behind can be killed.
            unsafe { setpgid(0, 0) };
            Self::serve(path, command[0], report[1]);
        }
        close_fd(command[0]);
        close_fd(report[1]);
        // SAFETY: pidfd_open takes plain integers and returns a new fd.
        let pidfd = unsafe { syscall(NR_PIDFD_OPEN, pid as i64, 0i64) } as c_int;
        let restarter = Restarter {
            pid,
            pidfd,
            command: command[1],
            report: report[0],
        };
        (pid > 0 && pidfd >= 0).then_some(restarter)
    }

    /// The child's loop.  It ends when its worker closes the command pipe,
    /// or when a restart succeeds (this process is then the saved one).
    fn serve(path: &str, command: c_int, report: c_int) -> ! {
        let my_pid = std::process::id();
        let mut go = [0u8; 1];
        while read_exact_fd(command, &mut go) {
            let Ok(file) = File::open(path) else {
                exit_now(1);
            };
            let fd = file.as_raw_fd();
            let as_child = go[0] == 2;
            let r = restart(fd, as_child);
            let err = errno();
            // A restored child: its wait status.
            let child_status = if as_child && r > 0 {
                wait_status(r as c_int, 0).unwrap_or(-1)
            } else {
                -1
            };
            // Still here: restart failed (or the image had no task).
            // Check that nothing of this process changed.
            // SAFETY: `fcntl(F_GETFD)` on descriptors we own.
            let fds_ok =
                unsafe { fcntl(fd, 1) >= 0 && fcntl(command, 1) >= 0 && fcntl(report, 1) >= 0 };
            // SAFETY: no preconditions.
            let same_pid = unsafe { getpid() } as u32 == my_pid;
            let intact = canary_intact() && fds_ok && same_pid;
            drop(file);
            let rep = [if r >= 0 { 0 } else { err }, intact as i32, child_status];
            // SAFETY: writes 12 bytes from `rep` to our pipe.
            unsafe { write(report, rep.as_ptr().cast(), 12) };
        }
        exit_now(0)
    }

    /// Ends the child (and its process group) and reaps it.
    fn kill_and_reap(self) -> Option<c_int> {
        // SAFETY: kills our child's process group.
        unsafe { kill(-self.pid, SIGKILL) };
        let status = wait_status(self.pid, 0);
        for fd in [self.pidfd, self.command, self.report] {
            close_fd(fd);
        }
        status
    }
}

/// Waits until one of `fds` is readable or `limit` passes; returns which
/// are readable.  (A pidfd is readable once its process has exited.)
fn readable<const N: usize>(fds: [c_int; N], limit: Duration) -> [bool; N] {
    let mut pfds = fds.map(|fd| PollFd {
        fd,
        events: POLLIN,
        revents: 0,
    });
    let ms = limit.as_millis() as c_int;
    loop {
        // SAFETY: `pfds` is an array of `N` valid pollfds.
        let ready = unsafe { poll(pfds.as_mut_ptr(), N as u64, ms) };
        if ready >= 0 || errno() != 4 {
            break; // not EINTR
        }
    }
    pfds.map(|p| p.revents != 0)
}

/// Restarts `img` in `restarter` (forking one if there is none); returns
/// the outcome's name, and whether it is allowed.  The restarter is kept
/// for the next image if it returned from `restart` intact.
fn try_restart(
    img: &[u8],
    path: &str,
    restarter: &mut Option<Restarter>,
    as_child: bool,
) -> (String, bool) {
    std::fs::write(path, img).expect("write image");
    if restarter.is_none() {
        *restarter = Restarter::spawn(path);
    }
    let Some(r) = restarter.as_ref() else {
        return ("fork or pipe failed".into(), false);
    };
    let command = [if as_child { 2u8 } else { 1u8 }];
    // SAFETY: writes one byte to our command pipe.
    if unsafe { write(r.command, command.as_ptr(), 1) } != 1 {
        restarter.take().map(Restarter::kill_and_reap);
        return ("the restarter is gone".into(), false);
    }
    let began = Instant::now();
    let [reported, _] = readable([r.report, r.pidfd], CHILD_TIMEOUT);
    let mut rep = [0u8; 12];
    if reported && read_exact_fd(r.report, &mut rep) {
        let word = |i: usize| i32::from_ne_bytes([rep[i], rep[i + 1], rep[i + 2], rep[i + 3]]);
        let (err, intact, child_status) = (word(0), word(4) == 1, word(8));
        if !intact {
            restarter.take().map(Restarter::kill_and_reap);
            return (format!("errno {err} and the caller damaged"), false);
        }
        if err != 0 {
            return (format!("errno {}", errno_name(err)), true);
        }
        if as_child {
            return classify_restored(child_status, "as a child");
        }
        return ("returned 0: no task in the image".into(), true);
    }
    // No report: the restart went past the point of no return (its
    // descriptors were replaced, so the report pipe was closed).
    let left = CHILD_TIMEOUT.saturating_sub(began.elapsed());
    let [exited] = readable([r.pidfd], left);
    let status = restarter.take().and_then(Restarter::kill_and_reap);
    if !exited {
        return ("restored, ran past the time limit (killed)".into(), true);
    }
    if as_child {
        // The restarter returns from restart(RESTART_CHILD) in any case.
        return ("restart as a child did not return".into(), false);
    }
    classify_restored(status.unwrap_or(-1), "in place")
}

/// The outcome of a restart that went past its point of no return, by the
/// wait status of the restored task; `how` says where it ran.
fn classify_restored(status: c_int, how: &str) -> (String, bool) {
    let signal = status & 0x7f;
    let code = (status >> 8) & 0xff;
    match (signal, code) {
        (s, _) if s == SIGKILL => (format!("SIGKILL past the point of no return ({how})"), true),
        (0, c) if c == RESTORED_OK => (format!("restored, memory as saved ({how})"), true),
        (0, c) if c == RESTORED_MUTATED => {
            (format!("restored, saw its mutated memory ({how})"), true)
        }
        (0, c) => (
            format!("restored, exited {c} (mutated registers, {how})"),
            true,
        ),
        (s, _) => (
            format!("restored, killed by signal {s} (mutated state, {how})"),
            true,
        ),
    }
}

fn errno_name(e: i32) -> String {
    let names = [
        (1, "EPERM"),
        (2, "ENOENT"),
        (4, "EINTR"),
        (5, "EIO"),
        (7, "E2BIG"),
        (9, "EBADF"),
        (12, "ENOMEM"),
        (13, "EACCES"),
        (14, "EFAULT"),
        (16, "EBUSY"),
        (20, "ENOTDIR"),
        (21, "EISDIR"),
        (22, "EINVAL"),
        (24, "EMFILE"),
        (26, "ETXTBSY"),
        (27, "EFBIG"),
        (34, "ERANGE"),
        (36, "ENAMETOOLONG"),
        (61, "ENODATA"),
        (74, "EBADMSG"),
        (75, "EOVERFLOW"),
        (95, "EOPNOTSUPP"),
    ];
    names
        .iter()
        .find(|(n, _)| *n == e)
        .map_or_else(|| format!("{e}"), |(_, s)| s.to_string())
}

/// Worker `w` of `workers`: makes the images of the sequence from `seed`
/// and restarts those whose index is `w` modulo `workers`, writing a line
/// per image to its result file: mutation, whether the checksum was
/// recomputed, whether the outcome is allowed, the time the restart took
/// (µs), the outcome.  Returns the worker's exit code.
fn run_worker(
    seeds: &[(String, Vec<u8>)],
    count: usize,
    seed: u64,
    w: usize,
    workers: usize,
    dir: &str,
) -> i32 {
    let img_path = format!("{dir}/mutant-{w}.img");
    let Ok(mut results) = File::create(format!("{dir}/worker-{w}.txt")) else {
        return 1;
    };
    let mut rng = XorShift(seed | 1);
    let mut restarter = None;
    for i in 0..count {
        let (_, base) = &seeds[i % seeds.len()];
        let mut img = base.clone();
        let what = mutate(&mut img, &mut rng);
        let fixed = rng.index(2) == 0 && fix_image_tail(&mut img);
        if i % workers != w {
            continue;
        }
        let began = Instant::now();
        // One image in four restarts as a new child.
        let as_child = i % 4 == 3;
        let (outcome, allowed) = try_restart(&img, &img_path, &mut restarter, as_child);
        let micros = began.elapsed().as_micros();
        if !allowed {
            let keep = format!("{dir}/bad-{i}.img");
            std::fs::write(&keep, &img).ok();
            println!("image {i} ({what}): {outcome}; kept as {keep}");
        }
        if writeln!(
            results,
            "{what}\t{}\t{}\t{micros}\t{outcome}",
            u8::from(fixed),
            u8::from(allowed)
        )
        .is_err()
        {
            return 1;
        }
    }
    restarter.map(Restarter::kill_and_reap);
    0
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let count: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1000);
    let seed: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
    });
    let dir = "/tmp/restart-fuzz";
    std::fs::create_dir_all(dir).expect("scratch directory");
    fill_canary();
    let seeds = make_seeds(dir);
    let img_path = format!("{dir}/mutant.img");
    let mut failed = 0usize;

    // Controls: each unmutated seed restores correctly, in place and as
    // a child.
    let mut restarter = None;
    for as_child in [false, true] {
        for (kind, image) in &seeds {
            let (outcome, _) = try_restart(image, &img_path, &mut restarter, as_child);
            let ok = outcome.starts_with("restored, memory as saved");
            println!("control {kind} ({} bytes): {outcome}", image.len());
            failed += usize::from(!ok);
        }
    }
    restarter.map(Restarter::kill_and_reap);

    // The images are shared out among one worker process per CPU (each
    // restart runs in a restarter child of its worker), which makes the same
    // sequence of images from the seed and runs every `workers`-th one;
    // each worker writes one line per image it ran to its result file.
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    let started = Instant::now();
    let mut pids = Vec::new();
    for w in 0..workers {
        let pid = fork_process();
        if pid == 0 {
            let code = run_worker(&seeds, count, seed, w, workers, dir);
            exit_now(code);
        }
        pids.push(pid);
    }
    for pid in pids {
        if wait_status(pid, 0) != Some(0) {
            failed += 1;
            println!("worker {pid} failed");
        }
    }
    // Per outcome: how many, and their total time (µs).
    let mut histogram: BTreeMap<String, (usize, u128)> = BTreeMap::new();
    let mut mutations: BTreeMap<String, usize> = BTreeMap::new();
    let (mut checksummed, mut ran) = (0, 0);
    for w in 0..workers {
        let results = std::fs::read_to_string(format!("{dir}/worker-{w}.txt")).unwrap_or_default();
        for line in results.lines() {
            let mut fields = line.split('\t');
            let (Some(what), Some(fixed), Some(allowed), Some(micros), Some(outcome)) = (
                fields.next(),
                fields.next(),
                fields.next(),
                fields.next(),
                fields.next(),
            ) else {
                continue;
            };
            ran += 1;
            checksummed += usize::from(fixed == "1");
            failed += usize::from(allowed != "1");
            *mutations.entry(what.to_string()).or_default() += 1;
            let entry = histogram.entry(outcome.to_string()).or_default();
            entry.0 += 1;
            entry.1 += micros.parse::<u128>().unwrap_or(0);
        }
    }
    // Every image ran exactly once.
    failed += usize::from(ran != count);
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{ran} mutated images (seed {seed}, {checksummed} with a recomputed checksum) in {:.1} s by {workers} workers",
        started.elapsed().as_secs_f64()
    );
    for (what, n) in &mutations {
        let _ = writeln!(out, "  mutation {what}: {n}");
    }
    // The mean time of each outcome shows where a slow kernel spends it.
    for (outcome, (n, micros)) in &histogram {
        let mean_ms = *micros as f64 / 1000.0 / (*n).max(1) as f64;
        let _ = writeln!(out, "  outcome {outcome}: {n} (mean {mean_ms:.1} ms)");
    }
    let _ = writeln!(out, "{failed} not allowed");
    exit(if failed == 0 { 0 } else { 1 });
}
