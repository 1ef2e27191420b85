// SPDX-License-Identifier: GPL-2.0

//! `cr info` and `cr verify`: decode an image with the kernel's own
//! parser (the same format sources), print its records and its memory map,
//! or only check it.

use crate::model;
use ckpt_format::format::{
    checksum, cstr_field, CpuRecord, Errno, FileKind, FileSource, ImageParser, Item, Result,
    Source, TaskRecord, VmaKind, VmaRecord, AFFINITY_CPUS, CTTY_FOREGROUND, CTTY_SESSION_LEADER,
    FUTEX_RESTART_CLOCK_REALTIME, FUTEX_RESTART_SHARED, MAX_STRING_LEN, NR_ITIMERS, NSIG,
    POSIX_TIMER_ABSTIME, RESTART_FUTEX_WAIT, RESTART_NANOSLEEP, RESTART_NO_TIMEOUT, RESTART_POLL,
    RLIM_INFINITY, SCHED_FLAG_AFFINITY, SIGEV_NONE, SIGEV_THREAD_ID, SIGQUEUE_PROCESS, SIG_DFL,
    SIG_IGN, SS_DISABLE, TASK_FLAG_LEADER_EXITED, VMA_HEAP, VMA_PROT_EXEC, VMA_PROT_READ,
    VMA_PROT_WRITE, VMA_SHARED, VMA_STACK,
};
use std::collections::BTreeMap;
use std::io::Read;

/// Prints a line; a closed standard output (say, a pipe into `head`) is
/// not an error worth a panic.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// Reads from any `std::io::Read`.
struct ReadSource<R: Read>(R);

impl<R: Read> Source for ReadSource<R> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        loop {
            match self.0.read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Errno(e.raw_os_error().unwrap_or(5))),
            }
        }
    }
}

/// Why an image did not decode.
pub enum Failure {
    /// The parser refused it (the errno restart would give) at this byte.
    Damaged { errno: Errno, at: u64 },
    /// The image records a checkpoint that failed.
    FailedCheckpoint { errno: i32, message: String },
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Damaged { errno, at } => write!(
                f,
                "invalid image: {} (errno {}) at byte {at}",
                errno_name(*errno),
                errno.0
            ),
            Failure::FailedCheckpoint { errno, message } => write!(
                f,
                "the image records a failed checkpoint: errno {errno} ({}): {message}",
                crate::sys::errno_text(*errno)
            ),
        }
    }
}

/// The `/proc/PID/maps` view of the memory area `v` whose files have the
/// paths in `paths`.
fn map_area(v: &VmaRecord, paths: &BTreeMap<u32, String>) -> model::Area {
    let bit = |b: u32, c: char| if v.prot & b != 0 { c } else { '-' };
    let name = match VmaKind::from_u32(v.kind) {
        Some(VmaKind::File) => paths
            .get(&v.file_ref)
            .cloned()
            .unwrap_or_else(|| format!("(file #{})", v.file_ref)),
        Some(VmaKind::Vdso) => "[vdso]".to_string(),
        Some(VmaKind::Vvar) => "[vvar]".to_string(),
        _ if v.flags & VMA_HEAP != 0 => "[heap]".to_string(),
        _ if v.flags & VMA_STACK != 0 => "[stack]".to_string(),
        _ => String::new(),
    };
    model::Area {
        start: v.start,
        end: v.end,
        perms: [
            bit(VMA_PROT_READ, 'r'),
            bit(VMA_PROT_WRITE, 'w'),
            bit(VMA_PROT_EXEC, 'x'),
            if v.flags & VMA_SHARED != 0 { 's' } else { 'p' },
        ]
        .iter()
        .collect(),
        offset: v.pgoff.saturating_mul(4096),
        name,
        pages: 0,
    }
}

/// Prints the memory map in the style of `/proc/PID/maps`: address range,
/// permissions, offset, pages saved, and the file or the kind.
fn print_map(areas: &[model::Area]) {
    out!("memory map ({} areas):", areas.len());
    for a in areas {
        out!(
            "{:08x}-{:08x} {} {:08x} {:>7} pages  {}",
            a.start,
            a.end,
            a.perms,
            a.offset,
            a.pages,
            a.name
        );
    }
}

/// A file object's path, for the memory map, where it has one.
fn file_path(source: &FileSource<'_>) -> Option<String> {
    match source {
        FileSource::Path(p) | FileSource::Terminal(p, _) => {
            Some(String::from_utf8_lossy(p).into_owned())
        }
        FileSource::Memfd { name, .. } => Some(format!(
            "/memfd:{} (deleted)",
            String::from_utf8_lossy(name)
        )),
        FileSource::Deleted { dir, .. } => {
            Some(format!("{}/(deleted file)", String::from_utf8_lossy(dir)))
        }
        FileSource::SharedMemory { .. } => Some("/dev/zero (deleted)".to_string()),
        _ => None,
    }
}

/// The nesting of the processes of an image, as the parser checks it.
#[derive(Default)]
struct Tree {
    /// For each open level: the parent's pid and its children still to
    /// come.
    levels: Vec<(i32, u32)>,
    /// The pid of the last process read.
    last: i32,
}

impl Tree {
    /// A process `pid` starts; returns its parent's pid (0 for the root).
    fn enter(&mut self, pid: i32) -> i32 {
        while self.levels.last().is_some_and(|&(_, left)| left == 0) {
            self.levels.pop();
        }
        let ppid = match self.levels.last_mut() {
            Some((parent, left)) => {
                *left -= 1;
                *parent
            }
            None => 0,
        };
        self.last = pid;
        ppid
    }

    /// The last process has `count` children.
    fn children(&mut self, count: u32) {
        self.levels.push((self.last, count));
    }
}

/// Notes something the image carries for a file.
fn content(m: &mut model::Image, kind: &str, detail: String) {
    m.file_contents.push(model::FileContent {
        kind: kind.into(),
        detail,
    });
}

/// The registers of `c` by name.
fn registers(c: &CpuRecord) -> model::Registers {
    let named = [
        ("r15", c.r15),
        ("r14", c.r14),
        ("r13", c.r13),
        ("r12", c.r12),
        ("bp", c.bp),
        ("bx", c.bx),
        ("r11", c.r11),
        ("r10", c.r10),
        ("r9", c.r9),
        ("r8", c.r8),
        ("ax", c.ax),
        ("cx", c.cx),
        ("dx", c.dx),
        ("si", c.si),
        ("di", c.di),
        ("orig_ax", c.orig_ax),
        ("ip", c.ip),
        ("cs", c.cs),
        ("flags", c.flags),
        ("sp", c.sp),
        ("ss", c.ss),
        ("fs_base", c.fs_base),
        ("gs_base", c.gs_base),
        ("ds", c.ds),
        ("es", c.es),
        ("fs", c.fs),
        ("gs", c.gs),
    ];
    model::Registers(named.iter().map(|&(n, v)| (n.to_string(), v)).collect())
}

fn errno_name(e: Errno) -> &'static str {
    match e {
        Errno::EINVAL => "EINVAL (malformed image)",
        Errno::EBADMSG => "EBADMSG (checksum mismatch: corrupted image)",
        Errno::ENOMEM => "ENOMEM",
        Errno::EIO => "EIO",
        _ => "error",
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(cstr_field(bytes).unwrap_or(bytes)).into_owned()
}

/// Decodes the whole image from `src`, printing it unless `quiet`.
pub fn decode(src: Box<dyn Read>, quiet: bool) -> std::result::Result<(), Failure> {
    decode_into(src, quiet, &mut model::Image::default(), false)
}

/// The interrupted system call a task or thread resumes, said and
/// returned.
fn resumes(t: &TaskRecord, say: &dyn Fn(String)) -> Option<model::Resume> {
    let [left, arg1, arg2, arg3] = t.restart_args;
    let call = match t.restart_kind {
        RESTART_NANOSLEEP => Some("nanosleep"),
        RESTART_POLL => Some("poll"),
        RESTART_FUTEX_WAIT => Some("futex wait"),
        _ => None,
    };
    match t.restart_kind {
        RESTART_NANOSLEEP => say(format!(
            "  resumes nanosleep: {left} ns left on clock {arg2}"
        )),
        RESTART_POLL if left == RESTART_NO_TIMEOUT => say(format!(
            "  resumes poll of {arg2} fds at {arg1:#x}, no timeout"
        )),
        RESTART_POLL => say(format!(
            "  resumes poll of {arg2} fds at {arg1:#x}: {left} ns left"
        )),
        RESTART_FUTEX_WAIT => {
            say(format!(
            "  resumes futex wait at {arg1:#x} for value {} bitset {arg3:#x}{}{}: {left} ns left",
            arg2 as u32,
            if arg2 & FUTEX_RESTART_SHARED != 0 { ", shared" } else { "" },
            if arg2 & FUTEX_RESTART_CLOCK_REALTIME != 0 { ", realtime clock" } else { "" },
        ))
        }
        _ => {}
    }
    call.map(|call| model::Resume {
        call: call.into(),
        args: t.restart_args,
    })
}

/// Decodes the image from `src` into data; a damaged image gives what
/// was decoded before the damage, and the failure.  Only with
/// `hash_pages` is every page hashed (what `cr diff` compares).
pub fn decode_model(src: Box<dyn Read>, hash_pages: bool) -> model::Image {
    let mut m = model::Image {
        schema: model::SCHEMA,
        ..Default::default()
    };
    if let Err(e) = decode_into(src, true, &mut m, hash_pages) {
        m.failure = Some(match e {
            Failure::Damaged { errno, at } => model::Failure {
                kind: "damaged".into(),
                errno: errno.0,
                offset: at,
                message: e.to_string(),
            },
            Failure::FailedCheckpoint { errno, ref message } => model::Failure {
                kind: "failed checkpoint".into(),
                errno,
                offset: 0,
                message: message.clone(),
            },
        });
    }
    m
}

/// Decodes the image from `src` into `m`, printing it unless `quiet`, and
/// hashing every page into `m.page_hashes` if `hash_pages`.
fn decode_into(
    src: Box<dyn Read>,
    quiet: bool,
    m: &mut model::Image,
    hash_pages: bool,
) -> std::result::Result<(), Failure> {
    let mut read_buf = vec![0u8; 64 * 1024];
    let mut strings = vec![0u8; MAX_STRING_LEN as usize];
    let mut page = Vec::new();
    let mut p = ImageParser::new(
        ReadSource(src),
        &mut read_buf,
        &mut strings,
        Vec::<VmaRecord>::new(),
    )
    .map_err(|errno| Failure::Damaged { errno, at: 0 })?;
    let say = |s: String| {
        if !quiet {
            out!("{s}");
        }
    };
    let mut pages_total = 0u64;
    let mut paths: BTreeMap<u32, String> = BTreeMap::new();
    let mut scratch = model::Image::default();
    let mut root: Option<model::Process> = None;
    let mut others: Vec<model::Process> = Vec::new();
    let mut tree = Tree::default();
    loop {
        let at = p.position();
        m.bytes = at;
        // Only the root's state is modelled in detail; the other
        // processes are listed in `processes`.
        let mut cur: &mut model::Image = if others.is_empty() {
            &mut *m
        } else {
            &mut scratch
        };
        let item = p
            .next_item()
            .map_err(|errno| Failure::Damaged { errno, at })?;
        match item {
            Item::Header(h) => {
                cur.header = Some(model::Header {
                    format_rev: h.format_rev,
                    arch: h.arch,
                    page_size: h.constants.page_size as u64,
                    kernel_release: text(&h.release),
                    kernel_version: text(&h.version),
                    machine: text(&h.machine),
                    time_sec: h.time_sec,
                    time_nsec: h.time_nsec,
                });
                say(format!(
                    "header: format {} arch {} page size {} kernel {} {} ({}), time {}.{:09}",
                    h.format_rev,
                    h.arch,
                    h.constants.page_size,
                    text(&h.release),
                    text(&h.machine),
                    text(&h.version),
                    h.time_sec,
                    h.time_nsec
                ))
            }
            Item::Task(t) => {
                let ppid = tree.enter(t.pid);
                let process = model::Process {
                    pid: t.pid,
                    ppid,
                    pgid: t.pgid,
                    sid: t.sid,
                    comm: text(&t.comm),
                    threads: 1,
                    exit_status: None,
                };
                if root.is_some() {
                    others.push(process);
                    cur = &mut scratch;
                } else {
                    root = Some(process);
                }
                cur.task = Some(model::Task {
                    comm: text(&t.comm),
                    pid: t.pid,
                    tgid: t.tgid,
                    pgid: t.pgid,
                    sid: t.sid,
                    exit_signal: t.exit_signal,
                    blocked_signals: t.sigblocked,
                });
                say(format!(
                    "task: comm {:?} pid {} tgid {} pgid {} sid {} exit_signal {} set_child_tid {:#x} clear_child_tid {:#x}",
                    text(&t.comm),
                    t.pid,
                    t.tgid,
                    t.pgid,
                    t.sid,
                    t.exit_signal,
                    t.set_child_tid,
                    t.clear_child_tid
                ));
                if t.flags & TASK_FLAG_LEADER_EXITED != 0 {
                    say(format!(
                        "  the leader had exited (status {:#x}); the process runs in its threads",
                        t.exit_status
                    ));
                }
                cur.resumes = resumes(&t, &say);
            }
            Item::Zombie(z) => {
                let ppid = tree.enter(z.pid);
                others.push(model::Process {
                    pid: z.pid,
                    ppid,
                    pgid: z.pgid,
                    sid: z.sid,
                    comm: text(&z.comm),
                    threads: 0,
                    exit_status: Some(z.status),
                });
                say(format!(
                    "zombie: comm {:?} pid {} pgid {} sid {} exit_signal {} status {:#x} uid {}",
                    text(&z.comm),
                    z.pid,
                    z.pgid,
                    z.sid,
                    z.exit_signal,
                    z.status,
                    z.uid
                ));
            }
            Item::Children { count } => {
                tree.children(count);
                say(format!("children: {count}"));
            }
            Item::Thread(t) => {
                if let Some(last) = others.last_mut().or(root.as_mut()) {
                    last.threads += 1;
                }
                let signal_stack = (t.altstack_flags != SS_DISABLE).then_some(model::SignalStack {
                    sp: t.altstack_sp,
                    size: t.altstack_size,
                    flags: t.altstack_flags,
                });
                let task = &t.task;
                say(format!(
                    "thread: comm {:?} tid {} blocked {:#x} set_child_tid {:#x} clear_child_tid {:#x}",
                    text(&task.comm),
                    task.pid,
                    task.sigblocked,
                    task.set_child_tid,
                    task.clear_child_tid
                ));
                if let Some(ss) = &signal_stack {
                    say(format!(
                        "  signal stack: {:#x}, {} bytes, flags {:#x}",
                        ss.sp, ss.size, ss.flags
                    ));
                }
                let resumes = resumes(task, &say);
                cur.threads.push(model::Thread {
                    tid: task.pid,
                    comm: text(&task.comm),
                    blocked_signals: task.sigblocked,
                    signal_stack,
                    resumes,
                    ..Default::default()
                });
            }
            Item::Signals(sig) => {
                for i in 0..NSIG as usize {
                    let a = p.read_sigaction().map_err(|errno| Failure::Damaged {
                        errno,
                        at: p.position(),
                    })?;
                    match a.handler {
                        SIG_DFL => {}
                        SIG_IGN => {
                            cur.signal_actions.push(model::SignalAction {
                                signal: i as u32 + 1,
                                handler: None,
                                flags: a.flags,
                                mask: a.mask,
                            });
                            say(format!("  signal {}: ignored", i + 1))
                        }
                        h => {
                            cur.signal_actions.push(model::SignalAction {
                                signal: i as u32 + 1,
                                handler: Some(h),
                                flags: a.flags,
                                mask: a.mask,
                            });
                            say(format!(
                                "  signal {}: handler {h:#x} flags {:#x} mask {:#x}",
                                i + 1,
                                a.flags,
                                a.mask
                            ))
                        }
                    }
                }
                if sig.altstack_flags != SS_DISABLE {
                    cur.signal_stack = Some(model::SignalStack {
                        sp: sig.altstack_sp,
                        size: sig.altstack_size,
                        flags: sig.altstack_flags,
                    });
                    say(format!(
                        "  signal stack: {:#x}, {} bytes, flags {:#x}",
                        sig.altstack_sp, sig.altstack_size, sig.altstack_flags
                    ));
                }
            }
            Item::Rlimits(r) => {
                let show = |v: u64| {
                    if v == RLIM_INFINITY {
                        "unlimited".to_string()
                    } else {
                        v.to_string()
                    }
                };
                for (n, l) in r.limits.iter().enumerate() {
                    if l.cur != RLIM_INFINITY || l.max != RLIM_INFINITY {
                        let finite = |v: u64| (v != RLIM_INFINITY).then_some(v);
                        cur.limits.push(model::Limit {
                            resource: n as u32,
                            soft: finite(l.cur),
                            hard: finite(l.max),
                        });
                        say(format!(
                            "  limit {n}: soft {} hard {}",
                            show(l.cur),
                            show(l.max)
                        ));
                    }
                }
            }
            Item::SigPending(rec) => {
                for _ in 0..rec.count {
                    let sig = p.read_pending_signal().map_err(|errno| Failure::Damaged {
                        errno,
                        at: p.position(),
                    })?;
                    let queue = match cur.threads.last_mut() {
                        Some(thread) => &mut thread.pending_signals,
                        None => &mut cur.pending_signals,
                    };
                    queue.push(model::PendingSignal {
                        signal: sig.signo as u32,
                        queue: if sig.queue == SIGQUEUE_PROCESS {
                            "process".into()
                        } else {
                            "thread".into()
                        },
                        si_code: sig.si_code(),
                    });
                    say(format!(
                        "  pending signal {} for the {} (si_code {})",
                        sig.signo,
                        if sig.queue == SIGQUEUE_PROCESS {
                            "process"
                        } else {
                            "thread"
                        },
                        sig.si_code()
                    ));
                }
            }
            Item::Itimers(t) => {
                const NAMES: [&str; NR_ITIMERS] = ["real", "virtual", "prof"];
                for (name, it) in NAMES.iter().zip(t.timers.iter()) {
                    if it.value_ns != 0 || it.interval_ns != 0 {
                        cur.interval_timers.push(model::IntervalTimer {
                            which: name.to_string(),
                            value_ns: it.value_ns,
                            interval_ns: it.interval_ns,
                        });
                        say(format!(
                            "  interval timer {name}: {} ns left, interval {} ns",
                            it.value_ns, it.interval_ns
                        ));
                    }
                }
            }
            Item::PosixTimers(rec) => {
                if rec.count > 0 {
                    say(format!(
                        "  POSIX timers: {}, next id {}",
                        rec.count, rec.next_id
                    ));
                }
                for _ in 0..rec.count {
                    let at = p.position();
                    let t = p
                        .read_posix_timer()
                        .map_err(|errno| Failure::Damaged { errno, at })?;
                    let notify = match t.notify {
                        SIGEV_NONE => "no signal".to_string(),
                        SIGEV_THREAD_ID => format!("signal {} to the thread", t.signo),
                        _ => format!("signal {}", t.signo),
                    };
                    cur.posix_timers.push(model::PosixTimer {
                        id: t.id,
                        clock: t.clock,
                        notify: match t.notify {
                            SIGEV_NONE => "none".into(),
                            SIGEV_THREAD_ID => "thread signal".into(),
                            _ => "signal".into(),
                        },
                        signal: t.signo as u32,
                        value: t.value,
                        value_ns: t.value_ns,
                        absolute: t.flags & POSIX_TIMER_ABSTIME != 0,
                        interval_ns: t.interval_ns,
                        overrun: t.overrun,
                    });
                    say(format!(
                        "  POSIX timer {}: clock {}, {notify}, value {:#x}, {} ns left{}, interval {} ns, overrun {}",
                        t.id,
                        t.clock,
                        t.value,
                        t.value_ns,
                        if t.flags & POSIX_TIMER_ABSTIME != 0 {
                            " (absolute)"
                        } else {
                            ""
                        },
                        t.interval_ns,
                        t.overrun
                    ));
                }
            }
            Item::Creds(c) => {
                let mut groups = vec![0u32; c.ngroups as usize];
                let at = p.position();
                p.read_groups(&mut groups)
                    .map_err(|errno| Failure::Damaged { errno, at })?;
                let creds = Some(model::Creds {
                    uids: [c.uid, c.euid, c.suid, c.fsuid],
                    gids: [c.gid, c.egid, c.sgid, c.fsgid],
                    groups: groups.clone(),
                    cap_effective: c.cap_effective,
                    cap_permitted: c.cap_permitted,
                    cap_inheritable: c.cap_inheritable,
                    cap_bounding: c.cap_bset,
                    cap_ambient: c.cap_ambient,
                    securebits: c.securebits,
                });
                // After a thread's record, the thread's own.
                match cur.threads.last_mut() {
                    Some(thread) => thread.creds = creds,
                    None => cur.creds = creds,
                }
                say(format!(
                    "  creds: uid {}/{}/{}/{} gid {}/{}/{}/{} groups {:?}",
                    c.uid, c.euid, c.suid, c.fsuid, c.gid, c.egid, c.sgid, c.fsgid, groups
                ));
                say(format!(
                    "  capabilities: effective {:#x} permitted {:#x} inheritable {:#x} bounding {:#x} ambient {:#x} securebits {:#x}",
                    c.cap_effective,
                    c.cap_permitted,
                    c.cap_inheritable,
                    c.cap_bset,
                    c.cap_ambient,
                    c.securebits
                ));
            }
            Item::Sched(s) => {
                let cpus: Vec<usize> = (0..AFFINITY_CPUS)
                    .filter(|&n| s.affinity[n / 64] & (1 << (n % 64)) != 0)
                    .collect();
                let sched = Some(model::Sched {
                    policy: s.policy,
                    rt_priority: s.rt_priority,
                    nice: s.nice,
                    flags: s.flags,
                    timer_slack_ns: s.timer_slack_ns,
                    affinity: (s.flags & SCHED_FLAG_AFFINITY != 0).then(|| cpus.clone()),
                });
                // After a thread's record, the thread's own.
                match cur.threads.last_mut() {
                    Some(thread) => thread.sched = sched,
                    None => cur.sched = sched,
                }
                say(format!(
                    "  sched: policy {} priority {} nice {} flags {:#x} timer slack {} ns",
                    s.policy, s.rt_priority, s.nice, s.flags, s.timer_slack_ns
                ));
                if s.flags & SCHED_FLAG_AFFINITY != 0 {
                    say(format!("  affinity: cpus {cpus:?}"));
                }
            }
            Item::Cpu(c) => {
                let regs = Some(registers(&c));
                match cur.threads.last_mut() {
                    Some(thread) => thread.registers = regs,
                    None => cur.registers = regs,
                }
                say(format!(
                    "  cpu: ip {:#x} sp {:#x} ax {:#x} flags {:#x} fs_base {:#x} gs_base {:#x}",
                    c.ip, c.sp, c.ax, c.flags, c.fs_base, c.gs_base
                ))
            }
            Item::Fpu(f) => {
                let fpu = Some(model::Fpu {
                    size: f.xstate_size,
                    features: f.xfeatures,
                });
                match cur.threads.last_mut() {
                    Some(thread) => thread.fpu = fpu,
                    None => cur.fpu = fpu,
                }
                say(format!(
                    "  fpu: {} bytes of XSAVE state, features {:#x}",
                    f.xstate_size, f.xfeatures
                ));
                let mut buf = vec![0u8; f.xstate_size as usize];
                let at = p.position();
                p.read_xstate(&mut buf)
                    .map_err(|errno| Failure::Damaged { errno, at })?;
            }
            Item::Fs(fs, cwd) => {
                cur.fs = Some(model::Fs {
                    umask: fs.umask,
                    cwd: String::from_utf8_lossy(cwd).into_owned(),
                });
                let shared = match fs.shared_with {
                    0 => String::new(),
                    n => format!(" (shared with process #{n})"),
                };
                say(format!(
                    "  fs: umask {:03o} cwd {}{shared}",
                    fs.umask,
                    String::from_utf8_lossy(cwd)
                ))
            }
            Item::InotifyWatch { wd, mask, path } => {
                let detail = format!(
                    "inotify watch {wd}: mask {mask:#x} on {}",
                    String::from_utf8_lossy(path)
                );
                say(format!("      {detail}"));
                content(cur, "inotify watch", detail);
            }
            Item::ShmSegment(seg) => {
                let detail = format!(
                    "SysV segment #{}: id {} key {:#x} mode {:04o} owner {}:{} size {}",
                    seg.segment, seg.id, seg.key, seg.mode, seg.uid, seg.gid, seg.size
                );
                say(format!("    {detail} (contents follow)"));
                content(cur, "SysV segment", detail);
            }
            Item::Pipe(pipe) => {
                let detail = format!(
                    "pipe #{}: size {} with {} bytes buffered",
                    pipe.pipe, pipe.size, pipe.data_len
                );
                say(format!("    {detail}"));
                content(cur, "pipe", detail);
                let mut buf = vec![0u8; pipe.data_len as usize];
                let at = p.position();
                p.read_pipe_data(&mut buf)
                    .map_err(|errno| Failure::Damaged { errno, at })?;
            }
            Item::PtyQueue(q) => {
                let detail = format!(
                    "{} queue: {} bytes read in ({} in whole lines), {} pending, column {}",
                    if q.side == 0 { "master" } else { "slave" },
                    q.read_len,
                    q.canon_len,
                    q.pending_len,
                    q.column
                );
                say(format!("      {detail}"));
                content(cur, "pty queue", detail);
                let mut buf = vec![0u8; q.body_len()];
                let at = p.position();
                p.read_pty_queue(&mut buf)
                    .map_err(|errno| Failure::Damaged { errno, at })?;
            }
            Item::FileData { offset, len } => {
                if len > 0 {
                    say(format!("      {len} bytes at offset {offset}"));
                    content(cur, "file data", format!("{len} bytes at offset {offset}"));
                }
                let mut buf = vec![0u8; len];
                let at = p.position();
                p.read_file_data(&mut buf)
                    .map_err(|errno| Failure::Damaged { errno, at })?;
            }
            Item::FilesTable(t) if t.shared_with != 0 => say(format!(
                "  files: the descriptor table of process #{} (shared)",
                t.shared_with
            )),
            Item::FilesTable(t) => say(format!("  files: {} descriptors", t.count)),
            Item::FileObject(f, FileSource::EpollSet { count }) => {
                say(format!(
                    "    file #{}: epoll set flags {:#o} with {} watches",
                    f.objref, f.flags, count
                ));
                cur.files.push(model::File {
                    id: f.objref,
                    kind: "epoll set".into(),
                    flags: f.flags,
                    pos: f.pos,
                    detail: format!("{count} watches"),
                });
                for _ in 0..count {
                    let at = p.position();
                    let w = p
                        .read_epoll_watch()
                        .map_err(|errno| Failure::Damaged { errno, at })?;
                    let detail = format!(
                        "watch file #{} as fd {}: events {:#x} data {:#x}",
                        w.file_ref, w.fd, w.events, w.data
                    );
                    say(format!("      {detail}"));
                    content(cur, "epoll watch", detail);
                }
            }
            Item::FileObject(f, source) => {
                if let Some(path) = file_path(&source) {
                    paths.insert(f.objref, path);
                }
                let kind = match FileKind::from_u32(f.kind) {
                    Some(FileKind::Regular) => "regular file".to_string(),
                    Some(FileKind::Directory) => "directory".to_string(),
                    Some(FileKind::CharDevice) => format!(
                        "character device {}:{}",
                        f.device_or_pipe >> 20,
                        f.device_or_pipe & 0xf_ffff
                    ),
                    Some(FileKind::EventFd) => "eventfd".to_string(),
                    Some(FileKind::SignalFd) => "signalfd".to_string(),
                    Some(FileKind::TimerFd) => "timerfd".to_string(),
                    Some(FileKind::Pipe) => format!("end of pipe #{}", f.device_or_pipe),
                    Some(FileKind::Fifo) => format!("FIFO of pipe #{}", f.device_or_pipe),
                    Some(FileKind::EventPoll) => "epoll set".to_string(),
                    Some(FileKind::DeletedFile) => "deleted file".to_string(),
                    Some(FileKind::Memfd) => "memfd".to_string(),
                    Some(FileKind::SharedMemory) => "shared anonymous memory".to_string(),
                    Some(FileKind::Inotify) => "inotify instance".to_string(),
                    Some(FileKind::SysvShm) => {
                        format!("attach of SysV segment #{}", f.device_or_pipe)
                    }
                    Some(FileKind::PtyMaster) => "pseudo-terminal master".to_string(),
                    Some(FileKind::PtySlave) => {
                        format!("slave of the pseudo-terminal master #{}", f.device_or_pipe)
                    }
                    Some(FileKind::Terminal) => format!(
                        "terminal {}:{}",
                        f.device_or_pipe >> 20,
                        f.device_or_pipe & 0xf_ffff
                    ),
                    None => format!("kind {}", f.kind),
                };
                let detail = match source {
                    FileSource::PipeEnd
                    | FileSource::EpollSet { .. }
                    | FileSource::ShmAttach
                    | FileSource::PtySlave => String::new(),
                    FileSource::PtyMaster { ptmx, pair } => format!(
                        "through {}: /dev/pts/{} flags {:#x} packet status {:#x} size {}x{} (queues follow)",
                        String::from_utf8_lossy(ptmx),
                        pair.index,
                        pair.flags,
                        pair.packet_status,
                        pair.slave.cols,
                        pair.slave.rows
                    ),
                    FileSource::Memfd {
                        name,
                        size,
                        seals,
                        mode,
                    } => format!(
                        "{:?} ({} bytes, seals {:#x}, mode {:04o}; contents follow)",
                        String::from_utf8_lossy(name),
                        size,
                        seals,
                        mode
                    ),
                    FileSource::Inotify { count, next_wd } => {
                        format!("({count} watches follow; next descriptor {next_wd})")
                    }
                    FileSource::SharedMemory { size } => {
                        format!("({size} bytes; contents follow)")
                    }
                    FileSource::Deleted { dir, size, mode } => format!(
                        "in {} ({} bytes, mode {:04o}; contents follow)",
                        String::from_utf8_lossy(dir),
                        size,
                        mode
                    ),
                    FileSource::Terminal(path, tty) => format!(
                        "path {} iflag {:#o} oflag {:#o} cflag {:#o} lflag {:#o} speed {}/{} size {}x{}",
                        String::from_utf8_lossy(path),
                        tty.iflag,
                        tty.oflag,
                        tty.cflag,
                        tty.lflag,
                        tty.ispeed,
                        tty.ospeed,
                        tty.cols,
                        tty.rows
                    ),
                    FileSource::Path(path) => format!("path {}", String::from_utf8_lossy(path)),
                    FileSource::State(state) => match FileKind::from_u32(f.kind) {
                        Some(FileKind::EventFd) => format!(
                            "counter {}{}",
                            state.words[0],
                            if state.words[1] != 0 {
                                " (semaphore)"
                            } else {
                                ""
                            }
                        ),
                        Some(FileKind::TimerFd) => format!(
                            "clock {} flags {} {} ns left, interval {} ns, {} expirations unread",
                            state.words[0] & 0xffff_ffff,
                            state.words[0] >> 32,
                            state.words[1],
                            state.words[2],
                            state.words[3]
                        ),
                        _ => format!("signals {:#x}", state.words[0]),
                    },
                };
                say(format!(
                    "    file #{}: {kind} flags {:#o} pos {} {detail}",
                    f.objref, f.flags, f.pos
                ));
                cur.files.push(model::File {
                    id: f.objref,
                    kind,
                    flags: f.flags,
                    pos: f.pos,
                    detail,
                });
            }
            Item::Fd(fd) => {
                cur.fds.push(model::Fd {
                    fd: fd.fd,
                    file: fd.file_ref,
                    cloexec: fd.flags != 0,
                });
                say(format!(
                    "    fd {} -> file #{}{}",
                    fd.fd,
                    fd.file_ref,
                    if fd.flags != 0 { " (cloexec)" } else { "" }
                ))
            }
            Item::Ctty(c) => {
                cur.controlling_terminal = Some(model::ControllingTerminal {
                    file: c.file_ref,
                    foreground: c.flags & CTTY_FOREGROUND != 0,
                    session_leader: c.flags & CTTY_SESSION_LEADER != 0,
                });
                say(format!(
                    "    controlling terminal: {}{}{}",
                    match c.file_ref {
                        0 => "not open in the task".to_string(),
                        r => format!("file #{r}"),
                    },
                    if c.flags & CTTY_FOREGROUND != 0 {
                        ", foreground"
                    } else {
                        ""
                    },
                    if c.flags & CTTY_SESSION_LEADER != 0 {
                        ", session leader"
                    } else {
                        ""
                    }
                ))
            }
            Item::Mm(mm) => {
                let mut auxv = vec![0u64; mm.auxv_words as usize];
                let at = p.position();
                p.read_auxv(&mut auxv)
                    .map_err(|errno| Failure::Damaged { errno, at })?;
                cur.mm = Some(model::Mm {
                    start_brk: mm.start_brk,
                    brk: mm.brk,
                    start_stack: mm.start_stack,
                    vdso: mm.vdso_base,
                    auxv_entries: auxv.len() / 2,
                });
                say(format!(
                    "  mm: {} areas, brk {:#x}-{:#x}, stack {:#x}, vdso {:#x}, auxv {} entries",
                    mm.vma_count,
                    mm.start_brk,
                    mm.brk,
                    mm.start_stack,
                    mm.vdso_base,
                    auxv.len() / 2
                ));
            }
            Item::Vma(v) => {
                say(format!(
                    "    area {:#014x}-{:#014x} prot {} flags {:#x} kind {} file #{} pgoff {:#x}",
                    v.start, v.end, v.prot, v.flags, v.kind, v.file_ref, v.pgoff
                ));
                cur.areas.push(map_area(&v, &paths));
            }
            Item::PageChunk { count } => {
                page.resize(p.page_size(), 0);
                for _ in 0..count {
                    let at = p.position();
                    let addr = p
                        .read_page(&mut page)
                        .map_err(|errno| Failure::Damaged { errno, at })?;
                    if hash_pages {
                        cur.page_hashes.insert(addr, checksum::xxh64(&page));
                    }
                    // The parser checked that an area holds it; the areas
                    // are sorted.
                    let i = cur.areas.partition_point(|a| a.end <= addr);
                    if let Some(a) = cur.areas.get_mut(i) {
                        a.pages += 1;
                    }
                }
                pages_total += count as u64;
                cur.pages = pages_total;
                if count == 0 && !quiet {
                    out!("    (end of the pages)");
                }
            }
            Item::Error { errno, message } => {
                return Err(Failure::FailedCheckpoint {
                    errno,
                    message: String::from_utf8_lossy(message).into_owned(),
                });
            }
            Item::Tail => break,
        }
    }
    m.bytes = p.position();
    m.pages = pages_total;
    m.processes = root.into_iter().chain(others).collect();
    if !quiet {
        print_map(&m.areas);
    }
    say(format!(
        "tail: {} bytes, {} pages, checksum ok",
        p.position(),
        pages_total
    ));
    Ok(())
}
