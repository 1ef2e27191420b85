// SPDX-License-Identifier: GPL-2.0

//! What `cr info --json` prints and `cr diff` compares: the image as
//! data.  Its JSON form is schema 1, documented in
//! `Documentation/checkpoint/usage.rst`; numbers are JSON numbers
//! (addresses included), texts are strings.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The version of this layout; a change that is not an addition bumps it.
pub const SCHEMA: u32 = 1;

/// One decoded image.
#[derive(Serialize, Deserialize, PartialEq, Debug, Default, Clone)]
pub struct Image {
    pub schema: u32,
    pub header: Option<Header>,
    pub task: Option<Task>,
    pub registers: Option<Registers>,
    /// The interrupted system call the task resumes, if any.
    pub resumes: Option<Resume>,
    /// The XSAVE area: its size in bytes and the features it holds.
    pub fpu: Option<Fpu>,
    /// Signals with a handler or ignored (the others have the default).
    pub signal_actions: Vec<SignalAction>,
    pub signal_stack: Option<SignalStack>,
    pub pending_signals: Vec<PendingSignal>,
    /// Resource limits that are not unlimited (`null` for unlimited).
    pub limits: Vec<Limit>,
    /// Armed interval timers ("real", "virtual", "prof").
    pub interval_timers: Vec<IntervalTimer>,
    pub posix_timers: Vec<PosixTimer>,
    pub creds: Option<Creds>,
    pub sched: Option<Sched>,
    /// Every process of the image, the root first, then the others depth
    /// first (the fields above describe the root only).
    #[serde(default)]
    pub processes: Vec<Process>,
    /// The other threads of the thread group, in image order.
    #[serde(default)]
    pub threads: Vec<Thread>,
    pub fs: Option<Fs>,
    pub mm: Option<Mm>,
    pub controlling_terminal: Option<ControllingTerminal>,
    /// Pipes, pty queues, watches, SysV segments and file contents the
    /// image carries for its files.
    pub file_contents: Vec<FileContent>,
    /// Open files by object reference (fds point at them).
    pub files: Vec<File>,
    pub fds: Vec<Fd>,
    /// The memory map, in address order.
    pub areas: Vec<Area>,
    /// Pages saved in all.
    pub pages: u64,
    /// Bytes decoded (the whole image when it is sound).
    pub bytes: u64,
    /// Why decoding stopped early; `None` for a sound image.
    pub failure: Option<Failure>,
    /// Page contents by address, as a hash: what `cr diff` compares.
    #[serde(skip)]
    pub page_hashes: BTreeMap<u64, u64>,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
pub struct Header {
    pub format_rev: u32,
    pub arch: u32,
    pub page_size: u64,
    pub kernel_release: String,
    pub kernel_version: String,
    pub machine: String,
    /// Time of the checkpoint: seconds and nanoseconds since the epoch.
    pub time_sec: i64,
    pub time_nsec: u32,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
pub struct Task {
    pub comm: String,
    pub pid: i32,
    pub tgid: i32,
    pub pgid: i32,
    pub sid: i32,
    pub exit_signal: i32,
    pub blocked_signals: u64,
}

/// A process of the image's tree.
#[derive(Serialize, Deserialize, PartialEq, Debug, Clone, Default)]
pub struct Process {
    pub pid: i32,
    /// The parent's saved pid; 0 for the root.
    pub ppid: i32,
    pub pgid: i32,
    pub sid: i32,
    pub comm: String,
    /// Threads, the leader included (none for a zombie).
    pub threads: u32,
    /// For a zombie: the status `wait(2)` reports of it.
    pub exit_status: Option<u32>,
}

/// A thread of the thread group other than its leader.
#[derive(Serialize, Deserialize, PartialEq, Debug, Clone, Default)]
pub struct Thread {
    pub tid: i32,
    pub comm: String,
    pub blocked_signals: u64,
    pub signal_stack: Option<SignalStack>,
    /// The interrupted system call the thread resumes, if any.
    pub resumes: Option<Resume>,
    /// Signals pending on the thread's own queue.
    pub pending_signals: Vec<PendingSignal>,
    pub registers: Option<Registers>,
    pub fpu: Option<Fpu>,
    /// Its own scheduling settings, where they differ from its process's.
    pub sched: Option<Sched>,
    /// Its own credentials, where they differ from its leader's.
    #[serde(default)]
    pub creds: Option<Creds>,
}

/// The general registers and segment bases, by their kernel names.
#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
pub struct Registers(pub BTreeMap<String, u64>);

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
pub struct File {
    /// The object reference fds and mappings use.
    pub id: u32,
    /// What it is: "regular file", "pipe end", "eventfd"...
    pub kind: String,
    /// Open flags (`O_*`), octal in the text view.
    pub flags: u32,
    pub pos: i64,
    /// The rest, as the text view prints it (path, state...).
    pub detail: String,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
pub struct Fd {
    pub fd: u32,
    pub file: u32,
    pub cloexec: bool,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
pub struct Area {
    pub start: u64,
    pub end: u64,
    /// As in `/proc/PID/maps`: "r-xp", "rw-s"...
    pub perms: String,
    /// Offset in the file, in bytes.
    pub offset: u64,
    /// The file's path, or "[heap]", "[stack]", "[vdso]", "[vvar]", or "".
    pub name: String,
    /// Pages the image holds for this area.
    pub pages: u64,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
pub struct Failure {
    /// "damaged" (the parser refused the image) or "failed checkpoint"
    /// (the image records one).
    pub kind: String,
    pub errno: i32,
    /// Where decoding stopped (damaged images).
    pub offset: u64,
    pub message: String,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
pub struct Resume {
    /// "nanosleep", "poll" or "futex wait".
    pub call: String,
    /// Nanoseconds left (`u64::MAX`: no timeout), then the call's own
    /// arguments as format.rst lists them.
    pub args: [u64; 4],
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
pub struct Fpu {
    pub size: u32,
    pub features: u64,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
pub struct SignalAction {
    pub signal: u32,
    /// The handler's address; `null` when the signal is ignored.
    pub handler: Option<u64>,
    pub flags: u64,
    pub mask: u64,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
pub struct SignalStack {
    pub sp: u64,
    pub size: u64,
    pub flags: u32,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
pub struct PendingSignal {
    pub signal: u32,
    /// "process" or "thread".
    pub queue: String,
    pub si_code: i32,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
pub struct Limit {
    /// The `RLIMIT_*` number.
    pub resource: u32,
    pub soft: Option<u64>,
    pub hard: Option<u64>,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
pub struct IntervalTimer {
    pub which: String,
    pub value_ns: u64,
    pub interval_ns: u64,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
pub struct PosixTimer {
    pub id: u32,
    pub clock: i32,
    /// "none", "signal" or "thread signal".
    pub notify: String,
    pub signal: u32,
    pub value: u64,
    pub value_ns: u64,
    pub absolute: bool,
    pub interval_ns: u64,
    pub overrun: u32,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
pub struct Creds {
    /// Real, effective, saved and filesystem ids.
    pub uids: [u32; 4],
    pub gids: [u32; 4],
    pub groups: Vec<u32>,
    pub cap_effective: u64,
    pub cap_permitted: u64,
    pub cap_inheritable: u64,
    pub cap_bounding: u64,
    pub cap_ambient: u64,
    pub securebits: u32,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
pub struct Sched {
    pub policy: u32,
    pub rt_priority: u32,
    pub nice: i32,
    pub flags: u32,
    pub timer_slack_ns: u64,
    /// The CPUs the task may run on, when the image restricts them.
    pub affinity: Option<Vec<usize>>,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
pub struct Fs {
    pub umask: u32,
    pub cwd: String,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
pub struct Mm {
    pub start_brk: u64,
    pub brk: u64,
    pub start_stack: u64,
    pub vdso: u64,
    pub auxv_entries: usize,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
pub struct ControllingTerminal {
    /// The file (an `id` of `files`) open on it; 0 if the task holds none.
    pub file: u32,
    pub foreground: bool,
    pub session_leader: bool,
}

/// Something the image carries for a file, described as the text view
/// does ("pipe #1: size 65536 with 5 bytes buffered").
#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
pub struct FileContent {
    /// "pipe", "pty queue", "inotify watch", "epoll watch", "SysV
    /// segment" or "file data".
    pub kind: String,
    pub detail: String,
}
