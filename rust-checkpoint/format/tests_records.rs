// SPDX-License-Identifier: GPL-2.0

//! Test cases of the records and the parser: a round trip of every record
//! type, and one case per class of image the parser must reject.  They run
//! as the `checkpoint_records` KUnit suite and under `cargo test`.
//!
//! Each rejection case writes its bad image with the writer, which checks
//! nothing, so the checksum is right: if the parser's check were removed,
//! the image would be accepted and the case would fail.

use super::testing::{check, check_eq, ArrayVmaStore, Check, SlicePages, SliceSink, SliceSource};
use super::tests::sample_header;
use super::*;

/// Areas the sample stores at most.
const STORE: usize = 8;
const PAGE: usize = 4096;

/// An unlinked file in a sample: size, mode, and two ranges of contents
/// (offset, length).
pub type DeletedSample = (u64, u32, [(u64, usize); 2]);

/// An inotify watch in a sample: descriptor, mask, path.
pub type InotifyWatchSample = (i32, u32, &'static [u8]);

/// A pseudo-terminal pair, its two queues, and how many of them are
/// written.
pub type PtySample = (PtyPairRecord, [PtyQueueRecord; 2], usize);

/// Every record of a one-task image, ready to be mutated by a case.
#[derive(Clone, Copy)]
pub struct Sample {
    /// The image header.
    pub header: ImageHeader,
    /// The task.
    pub task: TaskRecord,
    /// Its signal stack.
    pub signals: SignalsRecord,
    /// Its signal actions other than the default: (index, action).
    pub actions: [(usize, SigactionRecord); 2],
    /// Its process's resource limits.
    pub rlimits: RlimitsRecord,
    /// Its process's interval timers.
    pub itimers: ItimersRecord,
    /// Its process's POSIX timers.
    pub posix_timers: [PosixTimer; 2],
    /// The id the next `timer_create` starts from.
    pub posix_next_id: u32,
    /// Its credentials.
    pub creds: CredsRecord,
    /// Its supplementary groups (`creds.ngroups` of them are written).
    pub groups: [u32; 3],
    /// Its scheduling state.
    pub sched: SchedRecord,
    /// Its pending signals.
    pub pending: [PendingSignal; 2],
    /// Its registers.
    pub cpu: CpuRecord,
    /// If set, a second thread with these registers, after the task's FPU
    /// state: its pending signal is `pending[0]` and its FPU state the
    /// task's.
    pub thread: Option<(ThreadRecord, CpuRecord)>,
    /// If set (with `thread`), the thread's own scheduling state.
    pub thread_sched: Option<SchedRecord>,
    /// If set (with `thread`), the thread's own credentials, with the
    /// sample's groups.
    pub thread_creds: Option<CredsRecord>,
    /// With [`TASK_FLAG_LEADER_EXITED`], the leader's registers and FPU
    /// state are written all the same.
    pub leader_cpu: bool,
    /// Its FPU feature mask.
    pub xfeatures: u64,
    /// Length of the XSAVE buffer (the contents are a pattern).
    pub xstate_len: usize,
    /// umask.
    pub fs: FsRecord,
    /// Working directory.
    pub cwd: &'static [u8],
    /// If set, the cwd string record is written raw with this length and
    /// `cwd` as its whole body (no NUL added).
    pub cwd_raw_len: Option<u32>,
    /// Two file objects.
    pub files: [FileObjectRecord; 2],
    /// Their paths.
    pub paths: [&'static [u8]; 2],
    /// If set, the second file object is written with this state in place
    /// of its path (a file without a path).
    pub file_state: Option<FileStateRecord>,
    /// If set, a pipe record (number, size, data) is written before the
    /// second file object, which is then an end of it (of kind
    /// [`FileKind::Pipe`], written without a path).
    pub pipe: Option<(u32, u32, &'static [u8])>,
    /// If set, the second file object is written as a terminal with
    /// these settings after its path.
    pub tty: Option<TtyRecord>,
    /// If set, the second file object is written as an epoll set with
    /// these watches.
    pub epoll: Option<[EpollWatch; 2]>,
    /// If set, the second file object is written as an unlinked file of
    /// this size and mode in `paths[1]`, with two ranges of contents
    /// (offset, length) and the empty record that ends them.
    pub deleted: Option<DeletedSample>,
    /// If set with `deleted`, the file is a memfd with these seals, and
    /// `paths[1]` its name.
    pub memfd_seals: Option<u32>,
    /// If set with `deleted`, the second file object is the object
    /// behind shared anonymous memory (of the size in `deleted`), which
    /// the file-backed area maps shared.
    pub shared_memory: bool,
    /// If set with `deleted` (its size and contents), this SysV segment,
    /// its contents and an attach of it stand in place of the second
    /// file object.
    pub segment: Option<ShmSegmentRecord>,
    /// If set, the second file object is an inotify instance with these
    /// watches (descriptor, mask, path) and this next descriptor.
    pub inotify: Option<([InotifyWatchSample; 2], u32)>,
    /// If set, the second file object is a pseudo-terminal master opened
    /// through `paths[1]`, with this pair and queues (bodies of bytes
    /// [`pty_body_byte`]).
    pub pty: Option<PtySample>,
    /// If set, the controlling terminal written after the fd table.
    pub ctty: Option<CttyRecord>,
    /// The fd table's count (normally 3).
    pub fd_count: u32,
    /// Three fds: two share file 1, one is file 2.
    pub fds: [FdRecord; 3],
    /// The address space.
    pub mm: MmRecord,
    /// Its auxiliary vector: AT_PAGESZ, AT_ENTRY, AT_NULL.
    pub auxv: [u64; 6],
    /// Three areas: anonymous, file-backed, vDSO.
    pub vmas: [VmaRecord; 3],
    /// Pages saved: (area index, address).
    pub pages: [(usize, u64); 3],
}

/// A valid sample task.
pub fn sample() -> Sample {
    let mut task = TaskRecord::zeroed();
    fill_cstr_field(&mut task.comm, b"sample");
    task.exit_signal = 17;
    task.set_child_tid = 0x7f00_0000_1000;
    task.clear_child_tid = 0x7f00_0000_2000;
    task.sigblocked = 1 << 9;
    task.pid = 42;
    task.tgid = 42;
    task.pgid = 42;
    task.sid = 40;
    task.rseq_area = 0x7f00_0000_3020;
    task.rseq_len = 32;
    task.rseq_sig = 0x5305_3053;
    task.robust_list = 0x7f00_0000_3040;
    task.flags = TASK_FLAG_NO_NEW_PRIVS | TASK_FLAG_CHILD_SUBREAPER;
    let creds = CredsRecord {
        uid: 1000,
        euid: 1000,
        suid: 1000,
        fsuid: 1000,
        gid: 100,
        egid: 100,
        sgid: 100,
        fsgid: 100,
        cap_inheritable: 1 << 10,
        cap_permitted: (1 << 10) | (1 << 12),
        cap_effective: 1 << 12,
        cap_bset: CAP_VALID_MASK,
        cap_ambient: 1 << 10,
        securebits: 0x10, // SECBIT_KEEP_CAPS
        ngroups: 3,
    };
    let mut sched = SchedRecord {
        policy: SCHED_BATCH,
        rt_priority: 0,
        nice: 5,
        flags: SCHED_FLAG_AFFINITY | SCHED_FLAG_TIMER_SLACK,
        timer_slack_ns: 100_000,
        affinity: [0; AFFINITY_CPUS / 64],
    };
    sched.affinity[0] = 0b10;
    let signals = SignalsRecord {
        altstack_sp: 0x7f00_0001_0000,
        altstack_size: 0x8000,
        altstack_flags: SS_AUTODISARM,
        count: NSIG,
    };
    let ignore_sigint = SigactionRecord {
        handler: SIG_IGN,
        ..SigactionRecord::zeroed()
    };
    let handle_sigusr1 = SigactionRecord {
        handler: 0x40_1200,
        flags: 0x0400_0000 | 0x1000_0000 | 0x4, // SA_RESTORER | SA_RESTART | SA_SIGINFO
        restorer: 0x40_1300,
        mask: 1 << (12 - 1),
    };
    let actions = [(1, ignore_sigint), (9, handle_sigusr1)];
    let mut rlimits = RlimitsRecord {
        limits: [Rlimit {
            cur: RLIM_INFINITY,
            max: RLIM_INFINITY,
        }; RLIM_NLIMITS],
    };
    rlimits.limits[7] = Rlimit {
        cur: 1024,
        max: 4096,
    }; // RLIMIT_NOFILE
    rlimits.limits[4] = Rlimit { cur: 0, max: 0 }; // RLIMIT_CORE
    let pending_signal = |queue: u32, signo: u32, code: i32, value: u64| PendingSignal {
        queue,
        signo,
        info: [
            signo as u64,
            code as u32 as u64,
            0x3e8_0000_0007,
            value,
            0,
            0,
        ],
    };
    // SIGUSR1 from tgkill (SI_TKILL) for the thread, SIGRTMIN with a value
    // from sigqueue (SI_QUEUE) for the process.
    let pending = [
        pending_signal(SIGQUEUE_THREAD, 10, -6, 0),
        pending_signal(SIGQUEUE_PROCESS, 34, -1, 77),
    ];
    let itimers = ItimersRecord {
        timers: [
            Itimer {
                value_ns: 1_500_000_000,
                interval_ns: 0,
            },
            Itimer {
                value_ns: 0,
                interval_ns: 0,
            },
            Itimer {
                value_ns: 10_000_000,
                interval_ns: 10_000_000,
            },
        ],
    };
    // An absolute, periodic real-time timer that sends SIGALRM, and a
    // CPU-time timer that only counts.
    let posix_timers = [
        PosixTimer {
            id: 0,
            clock: CLOCK_REALTIME,
            notify: SIGEV_SIGNAL,
            signo: 14,
            value: 0,
            value_ns: 5_000_000_000,
            interval_ns: 1_000_000_000,
            overrun: 3,
            flags: POSIX_TIMER_ABSTIME,
        },
        PosixTimer {
            id: 4,
            clock: 2,
            notify: SIGEV_NONE,
            signo: 0,
            value: 0x7f00_0000_1000,
            value_ns: 2_000_000,
            interval_ns: 0,
            overrun: 0,
            flags: 0,
        },
    ];
    let mut cpu = CpuRecord::zeroed();
    cpu.r8 = 8;
    cpu.r15 = 15;
    cpu.ip = 0x40_1000;
    cpu.sp = 0x7ffc_0000_0000;
    cpu.cs = parser::X86_64_USER_CS;
    cpu.ss = parser::X86_64_USER_DS;
    cpu.flags = 0x246;
    cpu.orig_ax = u64::MAX;
    cpu.fs_base = 0x7f00_0000_3000;
    // A second thread with its own name, mask, registrations, registers
    // and signal stack.
    let mut thread_task = task;
    fill_cstr_field(&mut thread_task.comm, b"worker");
    thread_task.pid = 43;
    thread_task.exit_signal = 0;
    thread_task.sigblocked = 1 << 13;
    thread_task.rseq_area = 0x7f00_0000_5020;
    thread_task.robust_list = 0x7f00_0000_5040;
    thread_task.clear_child_tid = 0x7f00_0000_5000;
    let thread = ThreadRecord {
        task: thread_task,
        altstack_sp: 0x7f00_0002_0000,
        altstack_size: 0x4000,
        altstack_flags: 0,
        _pad: 0,
    };
    let mut thread_cpu = cpu;
    thread_cpu.ip = 0x40_2000;
    thread_cpu.sp = 0x7f00_0000_4f00;
    thread_cpu.fs_base = 0x7f00_0000_5000;
    let vma = |start: u64, end: u64, prot: u32, kind: VmaKind, file_ref: u32| VmaRecord {
        start,
        end,
        pgoff: if kind == VmaKind::File { 2 } else { 0 },
        prot,
        flags: 0,
        kind: kind as u32,
        file_ref,
    };
    Sample {
        header: sample_header(),
        task,
        signals,
        actions,
        rlimits,
        itimers,
        posix_timers,
        posix_next_id: 5,
        creds,
        groups: [4, 24, 100],
        sched,
        pending,
        cpu,
        thread: Some((thread, thread_cpu)),
        thread_sched: Some(SchedRecord { nice: 7, ..sched }),
        thread_creds: None,
        leader_cpu: false,
        xfeatures: 0x7,
        xstate_len: 832,
        fs: FsRecord {
            umask: 0o022,
            shared_with: 0,
        },
        cwd: b"/tmp",
        cwd_raw_len: None,
        files: [
            FileObjectRecord {
                objref: 1,
                kind: FileKind::Regular as u32,
                flags: 0o2 | 0o2000,
                device_or_pipe: 0,
                pos: 123,
            },
            FileObjectRecord {
                objref: 2,
                kind: FileKind::Directory as u32,
                flags: 0o200000,
                device_or_pipe: 0,
                pos: 0,
            },
        ],
        paths: [b"/tmp/out.txt", b"/"],
        file_state: None,
        pipe: None,
        tty: None,
        epoll: None,
        deleted: None,
        memfd_seals: None,
        shared_memory: false,
        segment: None,
        inotify: None,
        pty: None,
        ctty: Some(CttyRecord {
            file_ref: 1,
            flags: CTTY_FOREGROUND | CTTY_SESSION_LEADER,
        }),
        fd_count: 3,
        fds: [
            FdRecord {
                fd: 0,
                flags: 0,
                file_ref: 1,
                _pad: 0,
            },
            FdRecord {
                fd: 1,
                flags: FD_CLOEXEC_FLAG,
                file_ref: 1,
                _pad: 0,
            },
            FdRecord {
                fd: 7,
                flags: 0,
                file_ref: 2,
                _pad: 0,
            },
        ],
        mm: MmRecord {
            start_code: 0x40_0000,
            end_code: 0x40_2000,
            start_data: 0x60_0000,
            end_data: 0x60_1000,
            start_brk: 0x60_1000,
            brk: 0x60_3000,
            start_stack: 0x7ffc_0000_0000,
            arg_start: 0x7ffc_0000_1000,
            arg_end: 0x7ffc_0000_1010,
            env_start: 0x7ffc_0000_1010,
            env_end: 0x7ffc_0000_1100,
            vdso_base: 0x7fff_f000_0000,
            exe_file_ref: 1,
            vma_count: 3,
            auxv_words: 6,
            _pad: 0,
        },
        auxv: [6, 4096, 9, 0x40_1000, 0, 0],
        vmas: [
            vma(
                0x40_0000,
                0x40_4000,
                VMA_PROT_READ | VMA_PROT_WRITE,
                VmaKind::Anonymous,
                0,
            ),
            vma(
                0x7f00_0000_0000,
                0x7f00_0000_3000,
                VMA_PROT_READ,
                VmaKind::File,
                1,
            ),
            vma(
                0x7fff_f000_0000,
                0x7fff_f000_2000,
                VMA_PROT_READ | VMA_PROT_EXEC,
                VmaKind::Vdso,
                0,
            ),
        ],
        pages: [(0, 0x40_0000), (0, 0x40_3000), (1, 0x7f00_0000_1000)],
    }
}

/// The byte `i` of the page at `addr`.
fn page_byte(addr: u64, i: usize) -> u8 {
    ((addr >> 12) as u8).wrapping_mul(31).wrapping_add(i as u8)
}

/// Byte `i` of the sample XSAVE buffer.
fn xstate_byte(i: usize) -> u8 {
    (i as u8).wrapping_mul(7) ^ 0x5a
}

/// The action of signal `i + 1` in `s`.
pub fn sample_action(s: &Sample, i: usize) -> SigactionRecord {
    s.actions
        .iter()
        .find(|(at, _)| *at == i)
        .map_or(SigactionRecord::zeroed(), |(_, a)| *a)
}

/// Writes the records of `s` between its task and registers: signals,
/// resource limits, interval and POSIX timers, credentials, scheduling, pending
/// signals.
pub fn write_signals<K: Sink>(w: &mut ImageWriter<'_, K>, s: &Sample) -> Result {
    w.write_signals(&s.signals, |i| Ok(sample_action(s, i)))?;
    w.write_record(&s.rlimits)?;
    w.write_record(&s.itimers)?;
    w.write_posix_timers(s.posix_next_id, &s.posix_timers)?;
    write_creds_and_sched(w, s)?;
    // A leader that had exited holds the process's queue only: the
    // sample's signals but the first, which is its thread's.
    let first = usize::from(s.task.flags & TASK_FLAG_LEADER_EXITED != 0);
    let pending = s.pending.get(first..).unwrap_or(&[]);
    w.write_pending_signals(pending.len(), |i| {
        pending.get(i).copied().ok_or(Errno::EINVAL)
    })
}

/// Writes the credentials and scheduling records of `s`.
/// A count of groups above the sample's 3 is written with only those 3
/// in the body.
pub fn write_creds_and_sched<K: Sink>(w: &mut ImageWriter<'_, K>, s: &Sample) -> Result {
    match s.groups.get(..s.creds.ngroups as usize) {
        Some(groups) => w.write_creds(&s.creds, groups)?,
        None => {
            let mut body = [0u8; 12];
            for (out, g) in body.chunks_exact_mut(4).zip(s.groups.iter()) {
                out.copy_from_slice(&g.to_le_bytes());
            }
            w.write_var(&s.creds, &[&body])?
        }
    }
    w.write_record(&s.sched)
}

/// Writes the records of `s`'s task (not the header or tail).
pub fn write_task<K: Sink>(w: &mut ImageWriter<'_, K>, s: &Sample, page: &mut [u8]) -> Result {
    w.write_record(&s.task)?;
    write_signals(w, s)?;
    let xstate = page.get_mut(..s.xstate_len).ok_or(Errno::EINVAL)?;
    for (i, b) in xstate.iter_mut().enumerate() {
        *b = xstate_byte(i);
    }
    // A leader that had exited has no registers (see `leader_exited`).
    if s.task.flags & TASK_FLAG_LEADER_EXITED == 0 || s.leader_cpu {
        w.write_record(&s.cpu)?;
        w.write_fpu(s.xfeatures, xstate)?;
    }
    if let Some((thread, cpu)) = s.thread {
        w.write_record(&thread)?;
        if let Some(creds) = &s.thread_creds {
            let groups = s.groups.get(..creds.ngroups as usize);
            w.write_creds(creds, groups.ok_or(Errno::EINVAL)?)?;
        }
        if let Some(sched) = &s.thread_sched {
            w.write_record(sched)?;
        }
        w.write_pending_signals(1, |_| Ok(s.pending[0]))?;
        w.write_record(&cpu)?;
        w.write_fpu(s.xfeatures, xstate)?;
    }
    match s.cwd_raw_len {
        None => w.write_fs(&s.fs, s.cwd)?,
        Some(len) => {
            w.write_record(&s.fs)?;
            w.write_var(&StringRecord { len, _pad: 0 }, &[s.cwd])?;
        }
    }
    w.write_record(&FilesTableRecord {
        count: s.fd_count,
        shared_with: 0,
    })?;
    w.write_file_object(&s.files[0], s.paths[0])?;
    w.write_record(&s.fds[0])?;
    w.write_record(&s.fds[1])?;
    if let Some((number, size, data)) = s.pipe {
        w.write_pipe(number, size, data)?;
    }
    match &s.file_state {
        Some(state) => w.write_file_object_state(&s.files[1], state)?,
        None if s.files[1].kind == FileKind::Pipe as u32 => w.write_record(&s.files[1])?,
        None if s.files[1].kind == FileKind::PtySlave as u32 => w.write_record(&s.files[1])?,
        None if s.deleted.is_some() => {
            let (size, mode, ranges) = s.deleted.unwrap_or((0, 0, [(0, 0); 2]));
            if let Some(segment) = &s.segment {
                w.write_shm_segment(segment)?;
            }
            match s.memfd_seals {
                _ if s.segment.is_some() => {}
                _ if s.shared_memory => w.write_file_object_shared_memory(&s.files[1], size)?,
                Some(seals) => {
                    w.write_file_object_memfd(&s.files[1], s.paths[1], size, seals, mode)?
                }
                None => w.write_file_object_deleted(&s.files[1], s.paths[1], size, mode)?,
            }
            for (offset, len) in ranges {
                let data = page.get_mut(..len).ok_or(Errno::EINVAL)?;
                data.iter_mut().for_each(|b| *b = 0x5a);
                w.write_file_data(offset, data)?;
            }
            w.write_file_data(size, &[])?;
            if s.segment.is_some() {
                w.write_record(&s.files[1])?;
            }
        }
        None if s.inotify.is_some() => {
            let (watches, next_wd) = s.inotify.unwrap_or((INOTIFY_WATCHES, 0));
            w.write_file_object_inotify(&s.files[1], 2, next_wd)?;
            for (wd, mask, path) in watches {
                w.write_inotify_watch(wd, mask, path)?;
            }
        }
        None if s.pty.is_some() => {
            let (pair, queues, written) = s.pty.unwrap_or((PTY_PAIR, PTY_QUEUES, 2));
            w.write_file_object_pty_master(&s.files[1], s.paths[1], &pair)?;
            for q in queues.iter().take(written) {
                let body = page.get_mut(..q.body_len()).ok_or(Errno::EINVAL)?;
                for (i, b) in body.iter_mut().enumerate() {
                    *b = pty_body_byte(q.side, i);
                }
                let (read, line_ends, pending) = q.split_body(body).ok_or(Errno::EINVAL)?;
                w.write_pty_queue(q, read, line_ends, pending)?;
            }
        }
        None if s.epoll.is_some() => {
            w.write_file_object_epoll(&s.files[1], &s.epoll.unwrap_or([WATCH; 2]))?
        }
        None if s.tty.is_some() => {
            w.write_file_object_terminal(&s.files[1], s.paths[1], &s.tty.unwrap_or(TTY))?
        }
        None => w.write_file_object(&s.files[1], s.paths[1])?,
    }
    w.write_record(&s.fds[2])?;
    if let Some(ctty) = &s.ctty {
        w.write_record(ctty)?;
    }
    w.write_mm(&s.mm, &s.auxv)?;
    for v in &s.vmas {
        w.write_record(v)?;
    }
    // All the pages in one chunk, across the areas they lie in.
    let mut addrs = [0u64; 3];
    for (n, &(_, addr)) in s.pages.iter().enumerate() {
        addrs[n] = addr;
        let dst = page
            .get_mut(n * PAGE..(n + 1) * PAGE)
            .ok_or(Errno::EINVAL)?;
        for (i, b) in dst.iter_mut().enumerate() {
            *b = page_byte(addr, i);
        }
    }
    if !s.vmas.is_empty() {
        let n = s.pages.len();
        w.write_page_chunk(&addrs[..n], page.get(..n * PAGE).ok_or(Errno::EINVAL)?)?;
        w.write_page_chunk(&[], &[])?;
    }
    Ok(())
}

/// Buffers carved out of a case's scratch memory.
struct Bufs<'a> {
    image: &'a mut [u8],
    work: &'a mut [u8],
    read: &'a mut [u8],
    strings: &'a mut [u8],
}

fn bufs(scratch: &mut [u8]) -> Bufs<'_> {
    let (image, rest) = scratch.split_at_mut(640 * 1024);
    let (work, rest) = rest.split_at_mut(320 * 1024);
    let (read, rest) = rest.split_at_mut(16 * 1024);
    let (strings, _) = rest.split_at_mut(MAX_STRING_LEN as usize);
    Bufs {
        image,
        work,
        read,
        strings,
    }
}

/// Writes an image: header, whatever `body` writes, tail.  Returns its
/// length.
fn build(
    b: &mut Bufs<'_>,
    header: &ImageHeader,
    body: impl FnOnce(&mut ImageWriter<'_, SliceSink<'_>>, &mut [u8]) -> Result,
) -> Result<usize> {
    let (wbuf, page) = b.work.split_at_mut(4096);
    let mut w = ImageWriter::new(SliceSink::new(b.image), wbuf);
    w.write_record(header)?;
    body(&mut w, page)?;
    Ok(w.finish()?.len)
}

/// Writes the one-task image of `s`.
fn build_sample(b: &mut Bufs<'_>, s: &Sample) -> Result<usize> {
    build(b, &s.header, |w, page| write_task(w, s, page))
}

/// Parses `len` bytes of the image to its end, reading every body; returns
/// the number of items.
fn parse(b: &mut Bufs<'_>, len: usize, chunk: usize) -> Result<usize> {
    let image = b.image.get(..len).ok_or(Errno::EINVAL)?;
    let mut p = ImageParser::new(
        SliceSource::new(image, chunk),
        b.read,
        b.strings,
        ArrayVmaStore::<STORE>::new(),
    )?;
    let mut items = 0;
    loop {
        items += 1;
        match p.next_item()? {
            Item::Tail => return Ok(items),
            Item::Error { errno, .. } => return Err(Errno(errno)),
            Item::Signals(_) => {
                for _ in 0..NSIG {
                    p.read_sigaction()?;
                }
            }
            Item::SigPending(rec) => {
                for _ in 0..rec.count {
                    p.read_pending_signal()?;
                }
            }
            Item::PosixTimers(rec) => {
                for _ in 0..rec.count {
                    p.read_posix_timer()?;
                }
            }
            Item::FileObject(_, FileSource::EpollSet { count }) => {
                for _ in 0..count {
                    p.read_epoll_watch()?;
                }
            }
            Item::Mm(m) => {
                let mut auxv = [0u64; 6];
                p.read_auxv(auxv.get_mut(..m.auxv_words as usize).ok_or(Errno::EINVAL)?)?;
            }
            Item::Creds(c) => {
                let mut groups = [0u32; 3];
                p.read_groups(groups.get_mut(..c.ngroups as usize).ok_or(Errno::EINVAL)?)?;
            }
            Item::Fpu(f) => {
                let out = b
                    .work
                    .get_mut(..f.xstate_size as usize)
                    .ok_or(Errno::EINVAL)?;
                p.read_xstate(out)?;
            }
            Item::PageChunk { count } => {
                for _ in 0..count {
                    p.read_page(b.work.get_mut(..PAGE).ok_or(Errno::EINVAL)?)?;
                }
            }
            _ => {}
        }
    }
}

/// A non-blocking eventfd object with reference `objref`.
fn eventfd_object(objref: u32) -> FileObjectRecord {
    FileObjectRecord {
        objref,
        kind: FileKind::EventFd as u32,
        flags: STATE_FILE_FLAGS,
        device_or_pipe: 0,
        pos: 0,
    }
}

/// Settings of a terminal in raw mode, 33 rows of 101 columns.
const TTY: TtyRecord = TtyRecord {
    iflag: 0o2400,
    oflag: 0,
    cflag: 0o277,
    lflag: 0o10060,
    ispeed: 38400,
    ospeed: 9600,
    rows: 33,
    cols: 101,
    xpixel: 0,
    ypixel: 0,
    line: 0,
    cc: [
        3, 28, 127, 21, 4, 7, 3, 0, 17, 19, 26, 0, 18, 15, 23, 22, 0, 0, 0,
    ],
    _pad: [0; 4],
};

/// An edge-triggered watch for input on file 1 at fd 0.
const WATCH: EpollWatch = EpollWatch {
    file_ref: 1,
    fd: 0,
    events: 1 | 8 | 0x10 | 1 << 31,
    _pad: 0,
    data: 0xfeed_f00d,
};

/// An unlinked file with reference `objref`, at position 100.
fn deleted_file(objref: u32) -> FileObjectRecord {
    FileObjectRecord {
        objref,
        kind: FileKind::DeletedFile as u32,
        flags: 0o2,
        device_or_pipe: 0,
        pos: 100,
    }
}

/// Checks the contents items of a sample's unlinked file, memfd, shared
/// memory or segment: its two ranges of 0x5a bytes and the empty end.
fn check_file_data<S: Source, V: VmaStore>(
    t: &mut dyn Check,
    p: &mut ImageParser<'_, S, V>,
    work: &mut [u8],
    (size, _, ranges): DeletedSample,
) {
    for (offset, len) in ranges {
        check_eq!(t, p.next_item(), Ok(Item::FileData { offset, len }));
        let data = work.get_mut(..len).unwrap_or(&mut []);
        check_eq!(t, p.read_file_data(data), Ok(()));
        check!(t, data.iter().all(|&v| v == 0x5a));
    }
    check_eq!(
        t,
        p.next_item(),
        Ok(Item::FileData {
            offset: size,
            len: 0
        })
    );
}

/// An unlinked file of 10000 bytes, mode 0600, with data at 0 and 8192.
const DELETED: DeletedSample = (10000, 0o600, [(0, 5), (8192, 100)]);

/// The object behind shared anonymous memory, with reference `objref`.
fn shared_memory(objref: u32) -> FileObjectRecord {
    FileObjectRecord {
        objref,
        kind: FileKind::SharedMemory as u32,
        flags: 0o2,
        device_or_pipe: 0,
        pos: 0,
    }
}

/// A non-blocking inotify instance with reference `objref`.
fn inotify_object(objref: u32) -> FileObjectRecord {
    FileObjectRecord {
        objref,
        kind: FileKind::Inotify as u32,
        flags: 0o4000,
        device_or_pipe: 0,
        pos: 0,
    }
}

/// Two inotify watches: creations and deletions in /tmp (wd 3), and one
/// modification of /tmp/out.txt (wd 7).
const INOTIFY_WATCHES: [InotifyWatchSample; 2] = [
    (3, 0x100 | 0x200, b"/tmp"),
    (7, 0x2 | 0x8000_0000, b"/tmp/out.txt"),
];

/// An attach, read-only, of SysV segment `segment`, with reference
/// `objref`.
fn shm_attach(objref: u32, segment: u32) -> FileObjectRecord {
    FileObjectRecord {
        objref,
        kind: FileKind::SysvShm as u32,
        flags: 0,
        device_or_pipe: segment,
        pos: 0,
    }
}

/// SysV segment 1 (id 32769, key 0x2a, 10000 bytes, owner 1000:100).
const SEGMENT: ShmSegmentRecord = ShmSegmentRecord {
    segment: 1,
    id: 32769,
    key: 0x2a,
    mode: 0o640,
    uid: 1000,
    gid: 100,
    size: DELETED.0,
};

/// 16 KiB of shared anonymous memory with data at 0 and 8192.
const SHARED_MEMORY: DeletedSample = (16384, 0, [(0, 5), (8192, 100)]);

/// An epoll set with reference `objref`.
fn epoll_set(objref: u32) -> FileObjectRecord {
    FileObjectRecord {
        kind: FileKind::EventPoll as u32,
        ..eventfd_object(objref)
    }
}

/// `/dev/pts/3` (136:3) read-write, with reference `objref`.
fn pty_master(objref: u32) -> FileObjectRecord {
    FileObjectRecord {
        objref,
        kind: FileKind::PtyMaster as u32,
        flags: 0o2,
        device_or_pipe: 0,
        pos: 0,
    }
}

/// Byte `i` of the body of a sample queue of side `side`.
pub fn pty_body_byte(side: u32, i: usize) -> u8 {
    (i as u8).wrapping_mul(7).wrapping_add(side as u8)
}

/// Pair 5, locked, in packet mode with a flush reported, raw master.
const PTY_PAIR: PtyPairRecord = PtyPairRecord {
    index: 5,
    flags: PTY_LOCKED | PTY_PACKET,
    packet_status: 1,
    _pad: 0,
    master: TtyRecord { lflag: 0, ..TTY },
    slave: TTY,
};

/// The master's queue: 10 bytes read in, 3 pending; the slave's: a line
/// of 6 bytes and half a line read in, nothing pending.
const PTY_QUEUES: [PtyQueueRecord; 2] = [
    PtyQueueRecord {
        side: 0,
        read_len: 10,
        canon_len: 0,
        line_start: 0,
        pending_len: 3,
        flags: 0,
        column: 0,
        canon_column: 0,
    },
    PtyQueueRecord {
        side: 1,
        read_len: 9,
        canon_len: 6,
        line_start: 6,
        pending_len: 0,
        flags: PTY_QUEUE_LNEXT,
        column: 3,
        canon_column: 0,
    },
];

/// A pseudo-terminal master (the sample's) with one field of its pair
/// or queues changed by `change`.
fn bad_pty(s: &mut Sample, change: fn(&mut PtySample)) {
    s.files[1] = pty_master(2);
    s.paths[1] = b"/dev/ptmx";
    let mut pty = (PTY_PAIR, PTY_QUEUES, 2);
    change(&mut pty);
    s.pty = Some(pty);
}

fn terminal(objref: u32) -> FileObjectRecord {
    FileObjectRecord {
        objref,
        kind: FileKind::Terminal as u32,
        flags: 0o2,
        device_or_pipe: device_number(136, 3),
        pos: 0,
    }
}

/// The read end of pipe 1, non-blocking, with reference `objref`.
fn pipe_end(objref: u32) -> FileObjectRecord {
    FileObjectRecord {
        objref,
        kind: FileKind::Pipe as u32,
        flags: 0o4000,
        device_or_pipe: 1,
        pos: 0,
    }
}

/// Writes `s` and expects the parser to reject it with `want`.
fn expect_rejected(t: &mut dyn Check, scratch: &mut [u8], s: &Sample, want: Errno, line: u32) {
    let mut b = bufs(scratch);
    let r = build_sample(&mut b, s).and_then(|len| parse(&mut b, len, 4096));
    if r != Err(want) {
        t.fail(
            file!(),
            line,
            format_args!("expected {want:?}, parsed with {r:?}"),
        );
    }
}

/// Changes the sample's second thread.
fn set_thread(s: &mut Sample, change: fn(&mut ThreadRecord, &mut CpuRecord)) {
    if let Some((thread, cpu)) = s.thread.as_mut() {
        change(thread, cpu);
    }
}

/// Every record type written comes back equal, whatever the read size.
pub fn every_record_roundtrips(t: &mut dyn Check, scratch: &mut [u8]) {
    let mut s = sample();
    // Each read size with an interrupted call of another kind: a
    // nanosleep with 250 ms to go, a poll with and without a timeout, a
    // shared futex wait on the realtime clock.
    let runs = [
        (
            7usize,
            RESTART_NANOSLEEP,
            [250_000_000, 0x7ffc_0000_2000, 1, 1],
        ),
        (4096, RESTART_POLL, [1_500_000_000, 0x7ffc_0000_3000, 2, 0]),
        (64, RESTART_NANOSLEEP, [1, 0x7ffc_0000_2000, 0, 0]),
        (32, RESTART_NONE, [0; 4]),
        (16, RESTART_NONE, [0; 4]),
        (8, RESTART_NONE, [0; 4]),
        (128, RESTART_NONE, [0; 4]),
        (256, RESTART_NONE, [0; 4]),
        (512, RESTART_NONE, [0; 4]),
        (1024, RESTART_NONE, [0; 4]),
        (2048, RESTART_NONE, [0; 4]),
        (100_000, RESTART_POLL, [RESTART_NO_TIMEOUT, 0, 0, 0]),
        (
            4096,
            RESTART_FUTEX_WAIT,
            [
                999,
                0x7ffc_0000_4004,
                7 | FUTEX_RESTART_SHARED | FUTEX_RESTART_CLOCK_REALTIME,
                u32::MAX.into(),
            ],
        ),
    ];
    for (chunk, kind, args) in runs {
        s.task.restart_kind = kind;
        s.task.restart_args = args;
        s.pipe = None;
        s.tty = None;
        s.epoll = None;
        s.deleted = None;
        s.memfd_seals = None;
        s.shared_memory = false;
        s.segment = None;
        s.inotify = None;
        s.pty = None;
        s.vmas = sample().vmas;
        s.pages = sample().pages;
        if chunk == 7 {
            // And a terminal in raw mode.
            s.files[1] = terminal(2);
            s.paths[1] = b"/dev/pts/3";
            s.tty = Some(TTY);
        }
        if kind == RESTART_FUTEX_WAIT {
            // And a character device in place of the directory.
            s.files[1].kind = FileKind::CharDevice as u32;
            s.files[1].flags = 0o2;
            s.files[1].device_or_pipe = device_number(1, 3);
            s.paths[1] = b"/dev/null";
            s.file_state = None;
        }
        if kind == RESTART_POLL && chunk == 100_000 {
            // And a periodic absolute real-time timerfd with 2 expirations
            // unread.
            s.files[1] = eventfd_object(2);
            s.files[1].kind = FileKind::TimerFd as u32;
            s.file_state = Some(FileStateRecord {
                words: [1 << 32, 900_000_000, 1_000_000_000, 2],
            });
        }
        if chunk == 2048 {
            // And a memfd, sealed against shrinking and growing.
            s.files[1] = deleted_file(2);
            s.files[1].kind = FileKind::Memfd as u32;
            s.file_state = None;
            s.paths[1] = b"buffer";
            s.deleted = Some(DELETED);
            s.memfd_seals = Some(2 | 4);
        }
        if chunk == 256 {
            // And shared anonymous memory, mapped by the file-backed
            // area in place of the regular file.
            s.files[1] = shared_memory(2);
            s.file_state = None;
            s.deleted = Some(SHARED_MEMORY);
            s.shared_memory = true;
            s.vmas[1].file_ref = 2;
            s.vmas[1].flags = VMA_SHARED;
            s.pages[2] = (0, 0x40_1000);
            s.pages.sort_unstable();
        }
        if chunk == 16 {
            // And a pseudo-terminal master, locked, in packet mode, with
            // a line and a half read in by the slave and bytes pending on
            // both sides.
            s.files[1] = pty_master(2);
            s.file_state = None;
            s.paths[1] = b"/dev/ptmx";
            s.pty = Some((PTY_PAIR, PTY_QUEUES, 2));
        }
        if chunk == 8 {
            // And the slave of the master that file 1 is to the parser
            // (restart checks the kind of the master).
            s.files[1] = pty_master(2);
            s.files[1].kind = FileKind::PtySlave as u32;
            s.files[1].device_or_pipe = 1;
            s.file_state = None;
        }
        if chunk == 32 {
            // And an inotify instance watching a directory and, once, a
            // file.
            s.files[1] = inotify_object(2);
            s.file_state = None;
            s.inotify = Some((INOTIFY_WATCHES, 9));
            // And advice and locking on the anonymous area.
            s.vmas[0].flags = VMA_DONTDUMP
                | VMA_WIPEONFORK
                | VMA_SEQUENTIAL
                | VMA_NOHUGEPAGE
                | VMA_LOCKED
                | VMA_LOCK_ON_FAULT;
        }
        if chunk == 128 {
            // And a SysV segment removed while attached, mapped shared and
            // read-only by the file-backed area through an attach.
            s.files[1] = shm_attach(2, 1);
            s.file_state = None;
            s.deleted = Some(DELETED);
            s.segment = Some(SEGMENT);
            s.vmas[1].file_ref = 2;
            s.vmas[1].flags = VMA_SHARED;
            s.pages[2] = (0, 0x40_1000);
            s.pages.sort_unstable();
        }
        if chunk == 1024 {
            // And an unlinked file with contents at two offsets.
            s.files[1] = deleted_file(2);
            s.file_state = None;
            s.paths[1] = b"/tmp";
            s.deleted = Some(DELETED);
        }
        if chunk == 512 {
            // And an epoll set watching file 1 twice: at fd 0, and at fd
            // 1 one-shot and disarmed (flags only).
            s.files[1] = epoll_set(2);
            s.file_state = None;
            s.epoll = Some([
                WATCH,
                EpollWatch {
                    fd: 1,
                    events: 1 << 30 | 1 << 31,
                    ..WATCH
                },
            ]);
        }
        if chunk == 64 {
            // And the read end of a 64 KiB pipe holding 13 bytes.
            s.files[1] = pipe_end(2);
            s.file_state = None;
            s.pipe = Some((1, 65536, b"buffered data"));
        }
        if kind == RESTART_POLL && chunk == 4096 {
            // And an eventfd, a semaphore with 5 in its counter.
            s.files[1] = eventfd_object(2);
            s.file_state = Some(FileStateRecord {
                words: [5, EVENTFD_SEMAPHORE, 0, 0],
            });
        }
        let mut b = bufs(scratch);
        let len = match build_sample(&mut b, &s) {
            Ok(len) => len,
            Err(e) => {
                t.fail(file!(), line!(), format_args!("write failed: {e:?}"));
                return;
            }
        };
        let image = b.image.get(..len).unwrap_or(&[]);
        let mut p = match ImageParser::new(
            SliceSource::new(image, chunk),
            b.read,
            b.strings,
            ArrayVmaStore::<STORE>::new(),
        ) {
            Ok(p) => p,
            Err(_) => return,
        };
        let xs = s.xstate_len;
        check_eq!(t, p.next_item(), Ok(Item::Header(s.header)));
        check_eq!(t, p.next_item(), Ok(Item::Task(s.task)));
        check_eq!(t, p.next_item(), Ok(Item::Signals(s.signals)));
        check!(
            t,
            (0..NSIG as usize).all(|i| p.read_sigaction() == Ok(sample_action(&s, i)))
        );
        check_eq!(t, p.read_sigaction(), Err(Errno::EINVAL)); // no 65th
        check_eq!(t, p.next_item(), Ok(Item::Rlimits(s.rlimits)));
        check_eq!(t, p.next_item(), Ok(Item::Itimers(s.itimers)));
        check_eq!(
            t,
            p.next_item(),
            Ok(Item::PosixTimers(PosixTimersRecord {
                count: 2,
                next_id: 5
            }))
        );
        check!(
            t,
            s.posix_timers
                .iter()
                .all(|timer| p.read_posix_timer() == Ok(*timer))
        );
        check_eq!(t, p.read_posix_timer(), Err(Errno::EINVAL)); // no third
        check_eq!(t, p.next_item(), Ok(Item::Creds(s.creds)));
        let mut groups = [0u32; 3];
        check_eq!(t, p.read_groups(&mut groups[..2]), Err(Errno::EINVAL));
        check_eq!(t, p.read_groups(&mut groups), Ok(()));
        check_eq!(t, groups, s.groups);
        check_eq!(t, p.next_item(), Ok(Item::Sched(s.sched)));
        check_eq!(
            t,
            p.next_item(),
            Ok(Item::SigPending(SigPendingRecord { count: 2, _pad: 0 }))
        );
        check!(
            t,
            s.pending
                .iter()
                .all(|sig| p.read_pending_signal() == Ok(*sig))
        );
        check_eq!(t, p.read_pending_signal(), Err(Errno::EINVAL)); // no third
        check_eq!(t, p.next_item(), Ok(Item::Cpu(s.cpu)));
        check_eq!(
            t,
            p.next_item(),
            Ok(Item::Fpu(FpuRecord {
                xstate_size: xs as u32,
                _pad: 0,
                xfeatures: s.xfeatures
            }))
        );
        let xstate = b.work.get_mut(..xs).unwrap_or(&mut []);
        check_eq!(t, p.read_xstate(xstate), Ok(()));
        check!(
            t,
            xstate.iter().enumerate().all(|(i, &v)| v == xstate_byte(i))
        );
        if let Some((thread, cpu)) = s.thread {
            check_eq!(t, p.next_item(), Ok(Item::Thread(thread)));
            if let Some(sched) = s.thread_sched {
                check_eq!(t, p.next_item(), Ok(Item::Sched(sched)));
            }
            check_eq!(
                t,
                p.next_item(),
                Ok(Item::SigPending(SigPendingRecord { count: 1, _pad: 0 }))
            );
            check_eq!(t, p.read_pending_signal(), Ok(s.pending[0]));
            check_eq!(t, p.next_item(), Ok(Item::Cpu(cpu)));
            check!(t, matches!(p.next_item(), Ok(Item::Fpu(_))));
        }
        check_eq!(t, p.next_item(), Ok(Item::Fs(s.fs, s.cwd)));
        check_eq!(
            t,
            p.next_item(),
            Ok(Item::FilesTable(FilesTableRecord {
                count: 3,
                shared_with: 0
            }))
        );
        check_eq!(
            t,
            p.next_item(),
            Ok(Item::FileObject(s.files[0], FileSource::Path(s.paths[0])))
        );
        check_eq!(t, p.next_item(), Ok(Item::Fd(s.fds[0])));
        check_eq!(t, p.next_item(), Ok(Item::Fd(s.fds[1])));
        if let Some((pipe, size, data)) = s.pipe {
            let data_len = data.len() as u32;
            check_eq!(
                t,
                p.next_item(),
                Ok(Item::Pipe(PipeRecord {
                    pipe,
                    size,
                    data_len,
                    _pad: 0
                }))
            );
            let mut read = [0u8; 13];
            check_eq!(t, p.read_pipe_data(&mut read[..1]), Err(Errno::EINVAL));
            check_eq!(t, p.read_pipe_data(&mut read), Ok(()));
            check_eq!(t, &read[..], data);
        }
        if let (Some(segment), Some(deleted)) = (s.segment, s.deleted) {
            check_eq!(t, p.next_item(), Ok(Item::ShmSegment(segment)));
            check_file_data(t, &mut p, b.work, deleted);
        }
        check_eq!(
            t,
            p.next_item(),
            Ok(Item::FileObject(
                s.files[1],
                match (s.file_state, s.pipe, s.tty, s.epoll, s.deleted) {
                    _ if s.segment.is_some() => FileSource::ShmAttach,
                    _ if s.files[1].kind == FileKind::PtySlave as u32 => FileSource::PtySlave,
                    _ if s.pty.is_some() => FileSource::PtyMaster {
                        ptmx: s.paths[1],
                        pair: PTY_PAIR,
                    },
                    _ if s.inotify.is_some() => FileSource::Inotify {
                        count: 2,
                        next_wd: s.inotify.map_or(0, |(_, next)| next),
                    },
                    (Some(state), _, _, _, _) => FileSource::State(state),
                    (None, Some(_), _, _, _) => FileSource::PipeEnd,
                    (None, None, Some(tty), _, _) => FileSource::Terminal(s.paths[1], tty),
                    (None, None, None, Some(_), _) => FileSource::EpollSet { count: 2 },
                    (None, None, None, None, Some((size, mode, _))) => match s.memfd_seals {
                        _ if s.shared_memory => FileSource::SharedMemory { size },
                        Some(seals) => FileSource::Memfd {
                            name: s.paths[1],
                            size,
                            seals,
                            mode,
                        },
                        None => FileSource::Deleted {
                            dir: s.paths[1],
                            size,
                            mode,
                        },
                    },
                    (None, None, None, None, None) => FileSource::Path(s.paths[1]),
                }
            ))
        );
        if let Some((watches, _)) = s.inotify {
            for (wd, mask, path) in watches {
                check_eq!(t, p.next_item(), Ok(Item::InotifyWatch { wd, mask, path }));
            }
        }
        if let (None, Some(deleted)) = (s.segment, s.deleted) {
            check_file_data(t, &mut p, b.work, deleted);
        }
        if let Some((_, queues, _)) = s.pty {
            for q in queues {
                check_eq!(t, p.next_item(), Ok(Item::PtyQueue(q)));
                let body = b.work.get_mut(..q.body_len()).unwrap_or(&mut []);
                check_eq!(t, p.read_pty_queue(body), Ok(()));
                let expected = (0..q.body_len()).map(|i| pty_body_byte(q.side, i));
                check!(t, body.iter().copied().eq(expected));
            }
        }
        if let Some(watches) = s.epoll {
            check_eq!(t, p.read_epoll_watch(), Ok(watches[0]));
            check_eq!(t, p.read_epoll_watch(), Ok(watches[1]));
            check_eq!(t, p.read_epoll_watch(), Err(Errno::EINVAL)); // no third
        }
        check_eq!(t, p.next_item(), Ok(Item::Fd(s.fds[2])));
        if let Some(ctty) = s.ctty {
            check_eq!(t, p.next_item(), Ok(Item::Ctty(ctty)));
        }
        check_eq!(t, p.next_item(), Ok(Item::Mm(s.mm)));
        let mut auxv = [0u64; 6];
        check_eq!(t, p.read_auxv(&mut auxv), Ok(()));
        check_eq!(t, auxv, s.auxv);
        for v in &s.vmas {
            check_eq!(t, p.next_item(), Ok(Item::Vma(*v)));
        }
        check!(t, p.vmas() == &s.vmas[..]);
        // One chunk: two pages in area 0 and one in area 1, or all three
        // in area 0 when area 1 is shared.
        let count = s.pages.len();
        check_eq!(t, p.next_item(), Ok(Item::PageChunk { count }));
        // The first page alone, the others at once.
        let &(_, first) = s.pages.first().unwrap_or(&(0, 0));
        let page = b.work.get_mut(..PAGE).unwrap_or(&mut []);
        check_eq!(t, p.read_page(page), Ok(first));
        check!(
            t,
            page.iter()
                .enumerate()
                .all(|(i, &v)| v == page_byte(first, i))
        );
        let rest = count - 1;
        let pages = b.work.get_mut(..(rest + 1) * PAGE).unwrap_or(&mut []);
        // One page too many: refused, and nothing is consumed.
        check_eq!(t, p.read_chunk_pages(pages).err(), Some(Errno::EINVAL));
        let want: [u64; 3] = [
            s.pages.get(1).map_or(0, |p| p.1),
            s.pages.get(2).map_or(0, |p| p.1),
            0,
        ];
        check_eq!(t, Some(p.chunk_addrs()), want.get(..rest));
        if chunk == 7 {
            // Left unread: the next item skips them.
        } else {
            if chunk >= 1024 {
                // Read where the pages lie, through the reader's buffer
                // and straight from the source.
                let mut too_many = SlicePages {
                    data: b.work.get_mut(..(rest + 1) * PAGE).unwrap_or(&mut []),
                    page_len: PAGE,
                };
                check_eq!(
                    t,
                    p.read_chunk_pages_into(&mut too_many),
                    Err(Errno::EINVAL)
                );
                let mut pages = SlicePages {
                    data: b.work.get_mut(..rest * PAGE).unwrap_or(&mut []),
                    page_len: PAGE,
                };
                check_eq!(t, p.read_chunk_pages_into(&mut pages), Ok(()));
                check!(t, p.chunk_addrs().is_empty());
            } else {
                let pages = b.work.get_mut(..rest * PAGE).unwrap_or(&mut []);
                check_eq!(t, p.read_chunk_pages(pages).ok(), want.get(..rest));
            }
            for (n, addr) in want.iter().take(rest).enumerate() {
                let page = b.work.get(n * PAGE..(n + 1) * PAGE).unwrap_or(&[]);
                check!(
                    t,
                    page.iter()
                        .enumerate()
                        .all(|(i, &v)| v == page_byte(*addr, i))
                );
            }
            // All read: nothing left to read at once.
            check_eq!(
                t,
                p.read_chunk_pages(b.work.get_mut(..PAGE).unwrap_or(&mut []))
                    .err(),
                Some(Errno::EINVAL)
            );
        }
        check_eq!(t, p.next_item(), Ok(Item::PageChunk { count: 0 }));
        check_eq!(t, p.next_item(), Ok(Item::Tail));
        // Nothing after the tail.
        check_eq!(t, p.next_item(), Err(Errno::EINVAL));
    }
}

/// An error record and its message come back; the image ends there.
pub fn error_record_roundtrips(t: &mut dyn Check, scratch: &mut [u8]) {
    let s = sample();
    let mut b = bufs(scratch);
    let r = build(&mut b, &s.header, |w, _| {
        w.write_record(&s.task)?;
        w.write_error(95, b"fd 3: pipe not supported\0ignored")
    });
    let image = b.image.get(..r.unwrap_or(0)).unwrap_or(&[]);
    let p = ImageParser::new(
        SliceSource::new(image, 64),
        b.read,
        b.strings,
        ArrayVmaStore::<STORE>::new(),
    );
    let Ok(mut p) = p else { return };
    check_eq!(t, p.next_item(), Ok(Item::Header(s.header)));
    check_eq!(t, p.next_item(), Ok(Item::Task(s.task)));
    check_eq!(
        t,
        p.next_item(),
        Ok(Item::Error {
            errno: 95,
            message: b"fd 3: pipe not supported"
        })
    );
    check_eq!(t, p.next_item(), Err(Errno::EINVAL));
    // Before the header an error record is just out of order.
    let mut b = bufs(scratch);
    let mut w = ImageWriter::new(SliceSink::new(b.image), b.read);
    let len = w
        .write_error(5, b"x")
        .and_then(|()| w.finish())
        .map(|s| s.len);
    check_eq!(t, parse(&mut b, len.unwrap_or(0), 64), Err(Errno::EINVAL));
}

/// An image with no task (what a checkpoint with nothing to save writes)
/// parses, and so does a tree: a root with two children, the first with
/// a child of its own, the last sharing an object the root defined.
/// Processes the `Children` counts do not announce, counts that do not
/// match, and children that do not lead their thread group are rejected.
pub fn task_counts_parse(t: &mut dyn Check, scratch: &mut [u8]) {
    let s = sample();
    let mut b = bufs(scratch);
    let len = build(&mut b, &s.header, |_, _| Ok(()));
    check_eq!(t, len.and_then(|len| parse(&mut b, len, 64)), Ok(2));
    // root (children: 2) child 500 (children: 1) child 501, child 502.
    let tree: [Step; 3] = [(Some(2), 500, 500), (Some(1), 501, 501), (None, 502, 502)];
    let len = build(&mut b, &s.header, |w, page| write_tree(w, &s, page, &tree));
    // The sample's 31 items (header and tail included), 2 Children, and 3
    // children of 14 items each.
    check_eq!(t, len.and_then(|len| parse(&mut b, len, 64)), Ok(75));
    let bad: [(&str, &[Step]); 6] = [
        ("a second root", &[(None, 500, 500)]),
        ("fewer children than announced", &[(Some(2), 500, 500)]),
        ("no child announced", &[(Some(0), 500, 500)]),
        ("a child that is a thread", &[(Some(1), 501, 500)]),
        ("a child without a pid", &[(Some(1), 0, 0)]),
        (
            "more children than announced",
            &[(Some(1), 500, 500), (None, 501, 501)],
        ),
    ];
    for (what, steps) in bad {
        let len = build(&mut b, &s.header, |w, page| write_tree(w, &s, page, steps));
        let parsed = len.and_then(|len| parse(&mut b, len, 64));
        check_eq!(t, (what, parsed), (what, Err(Errno::EINVAL)));
    }
}

/// A thread's own credentials parse after its Thread record, before its
/// scheduling settings, and are checked as the leader's are.
pub fn thread_creds_parse(t: &mut dyn Check, scratch: &mut [u8]) {
    let mut b = bufs(scratch);
    let mut s = sample();
    s.thread_creds = Some(CredsRecord {
        euid: 0,
        ngroups: 1,
        ..s.creds
    });
    let parsed = build_sample(&mut b, &s).and_then(|len| parse(&mut b, len, 64));
    // The sample's 31 items and the thread's credentials.
    check_eq!(t, parsed, Ok(32));
    let cases: [NamedMutation; 2] = [
        ("an unmapped id", |s| {
            if let Some(c) = s.thread_creds.as_mut() {
                c.fsuid = INVALID_ID;
            }
        }),
        ("an effective capability not permitted", |s| {
            if let Some(c) = s.thread_creds.as_mut() {
                c.cap_effective = 1 << 11;
            }
        }),
    ];
    for (what, mutate) in cases {
        let mut bad = s;
        mutate(&mut bad);
        let parsed = build_sample(&mut b, &bad).and_then(|len| parse(&mut b, len, 64));
        check_eq!(t, (what, parsed), (what, Err(Errno::EINVAL)));
    }
    // After the thread's scheduling settings: out of order.
    let len = build(&mut b, &s.header, |w, page| {
        let mut late = s;
        late.thread_creds = None;
        write_up_to_thread_sched(w, &late, page)?;
        w.write_creds(&s.creds, &s.groups)
    });
    let parsed = len.and_then(|len| parse(&mut b, len, 64));
    check_eq!(t, parsed, Err(Errno::EINVAL));
}

/// Writes `s`'s records up to its thread's scheduling settings.
fn write_up_to_thread_sched<K: Sink>(
    w: &mut ImageWriter<'_, K>,
    s: &Sample,
    page: &mut [u8],
) -> Result {
    w.write_record(&s.task)?;
    write_signals(w, s)?;
    w.write_record(&s.cpu)?;
    w.write_fpu(s.xfeatures, page.get(..s.xstate_len).ok_or(Errno::EINVAL)?)?;
    let (thread, _) = s.thread.ok_or(Errno::EINVAL)?;
    w.write_record(&thread)?;
    w.write_record(&s.thread_sched.ok_or(Errno::EINVAL)?)
}

/// A change to a sample, named for the report.
type NamedMutation = (&'static str, fn(&mut Sample));

/// The sample as a process whose leader had exited with status 3: no
/// per-thread fields, registers or private signals of the leader; its
/// thread lives on.
pub fn leader_exited() -> Sample {
    let mut s = sample();
    let task = &mut s.task;
    task.flags |= TASK_FLAG_LEADER_EXITED;
    task.exit_status = 3 << 8;
    task.set_child_tid = 0;
    task.clear_child_tid = 0;
    task.sigblocked = 0;
    task.rseq_area = 0;
    task.rseq_len = 0;
    task.rseq_sig = 0;
    task.robust_list = 0;
    s.signals.altstack_sp = 0;
    s.signals.altstack_size = 0;
    s.signals.altstack_flags = SS_DISABLE;
    s
}

/// A process whose leader had exited parses without the leader's
/// registers and FPU state.  It is refused with them, without a live
/// thread, with per-thread fields, a signal stack or a private signal of
/// the leader, or with a status `exit(2)` could not leave; a thread, or a
/// process with a live leader, is refused with an exit status.
pub fn leader_exited_parses(t: &mut dyn Check, scratch: &mut [u8]) {
    let mut b = bufs(scratch);
    let s = leader_exited();
    let len = build_sample(&mut b, &s);
    // The sample's 31 items less the leader's registers and FPU state.
    check_eq!(t, len.and_then(|len| parse(&mut b, len, 64)), Ok(29));
    let cases: [NamedMutation; 14] = [
        ("leader registers", |s| s.leader_cpu = true),
        ("leader signal stack", |s| s.signals = sample().signals),
        ("no live thread", |s| s.thread = None),
        ("status not from exit", |s| s.task.exit_status = 9),
        ("status too wide", |s| s.task.exit_status = 1 << 16),
        ("leader tid pointer", |s| s.task.set_child_tid = 0x1000),
        ("leader clear tid", |s| s.task.clear_child_tid = 0x1000),
        ("leader mask", |s| s.task.sigblocked = 1),
        ("leader robust list", |s| s.task.robust_list = 0x1000),
        ("leader pdeath signal", |s| s.task.pdeath_signal = 9),
        ("leader private signal", |s| {
            s.pending[1].queue = SIGQUEUE_THREAD
        }),
        ("leader rseq", |s| {
            s.task.rseq_area = 0x7f00_0000_3020;
            s.task.rseq_len = 32;
            s.task.rseq_sig = 1;
        }),
        ("thread flagged", |s| {
            set_thread(s, |th, _| th.task.flags |= TASK_FLAG_LEADER_EXITED)
        }),
        ("thread status", |s| {
            set_thread(s, |th, _| th.task.exit_status = 1 << 8)
        }),
    ];
    for (what, mutate) in cases {
        let mut s = leader_exited();
        mutate(&mut s);
        let parsed = build_sample(&mut b, &s).and_then(|len| parse(&mut b, len, 64));
        check_eq!(t, (what, parsed), (what, Err(Errno::EINVAL)));
    }
    // A live leader leaves no status.
    let mut s = sample();
    s.task.exit_status = 1 << 8;
    let parsed = build_sample(&mut b, &s).and_then(|len| parse(&mut b, len, 64));
    check_eq!(t, parsed, Err(Errno::EINVAL));
}

/// A zombie `pid`, in its own group of the sample's session, that exited
/// with `status`.
pub fn zombie(s: &Sample, pid: i32, status: u32) -> ZombieRecord {
    let mut comm = [0u8; TASK_COMM_LEN];
    comm[..4].copy_from_slice(b"gone");
    ZombieRecord {
        pid,
        pgid: pid,
        sid: s.task.sid,
        exit_signal: 17,
        status,
        uid: 1000,
        comm,
    }
}

/// Zombies parse among the children of any process, and are refused
/// where a process could not be a child, with children of their own, and
/// with a status or signal `wait(2)` could not report.
pub fn zombies_parse(t: &mut dyn Check, scratch: &mut [u8]) {
    let s = sample();
    let mut b = bufs(scratch);
    let children = |count| ChildrenRecord { count, _pad: 0 };
    // root (children: 3) zombie 500, child 501 (children: 1) zombie 502,
    // zombie 503.
    let len = build(&mut b, &s.header, |w, page| {
        write_task(w, &s, page)?;
        w.write_record(&children(3))?;
        w.write_record(&zombie(&s, 500, 3 << 8))?;
        write_steps(w, &s, page, &[(None, 501, 501)])?;
        w.write_record(&children(1))?;
        w.write_record(&zombie(&s, 502, 9))?;
        w.write_record(&zombie(&s, 503, 0x80 | 11))
    });
    // The sample's 31 items, 2 Children, a child of 14 items, 3 zombies.
    check_eq!(t, len.and_then(|len| parse(&mut b, len, 64)), Ok(50));
    let wrong = |f: fn(&mut ZombieRecord)| {
        let mut z = zombie(&s, 500, 0);
        f(&mut z);
        z
    };
    let bad: [(&str, ZombieRecord, Option<u32>); 9] = [
        ("a zombie as a second root", zombie(&s, 500, 0), None),
        ("a zombie with children", zombie(&s, 500, 0), Some(1)),
        ("a stop status", wrong(|z| z.status = 0x137f), Some(0)),
        ("a signal above 64", wrong(|z| z.status = 65), Some(0)),
        ("a code with a signal", wrong(|z| z.status = 0x109), Some(0)),
        (
            "a code with the core flag",
            wrong(|z| z.status = 0x180),
            Some(0),
        ),
        (
            "an exit signal above 64",
            wrong(|z| z.exit_signal = 65),
            Some(0),
        ),
        ("a negative process group", wrong(|z| z.pgid = -1), Some(0)),
        (
            "a comm without a NUL",
            wrong(|z| z.comm = [b'x'; 16]),
            Some(0),
        ),
    ];
    for (what, z, after) in bad {
        // `after`: Some(0) announces the zombie as the root's child,
        // Some(n) also has it announce n children of its own.
        let len = build(&mut b, &s.header, |w, page| {
            write_task(w, &s, page)?;
            if after.is_some() {
                w.write_record(&children(1))?;
            }
            w.write_record(&z)?;
            match after {
                Some(n) if n > 0 => {
                    w.write_record(&children(n))?;
                    write_steps(w, &s, page, &[(None, 501, 501)])
                }
                _ => Ok(()),
            }
        });
        let parsed = len.and_then(|len| parse(&mut b, len, 64));
        check_eq!(t, (what, parsed), (what, Err(Errno::EINVAL)));
    }
}

/// Writes a small child `pid` that shares the fd table of process number
/// `files` (with `fds` fd records all the same) and the fs context of
/// process number `fs`.
fn write_sharing_child(
    w: &mut ImageWriter<'_, SliceSink<'_>>,
    s: &Sample,
    page: &mut [u8],
    pid: i32,
    (files, fds, fs): (u32, u32, u32),
) -> Result {
    let mut task = s.task;
    task.pid = pid;
    task.tgid = pid;
    w.write_record(&task)?;
    write_signals(w, s)?;
    w.write_record(&s.cpu)?;
    w.write_fpu(1, page.get(..576).unwrap_or(&[]))?;
    let fs_rec = FsRecord {
        shared_with: fs,
        ..s.fs
    };
    w.write_fs(&fs_rec, b"/")?;
    w.write_record(&FilesTableRecord {
        count: fds,
        shared_with: files,
    })?;
    for _ in 0..fds {
        w.write_record(&s.fds[0])?;
    }
    w.write_mm(
        &MmRecord {
            vma_count: 0,
            ..s.mm
        },
        &s.auxv,
    )
}

/// Processes share the fd table and fs context of an earlier live
/// process by its number; one that names itself, a later process, a
/// zombie or no process, or a shared table with fds of its own, is
/// refused.
pub fn shared_tables_parse(t: &mut dyn Check, scratch: &mut [u8]) {
    let s = sample();
    let mut b = bufs(scratch);
    let children = |count| ChildrenRecord { count, _pad: 0 };
    // root 1 (children: 3): child 500 (2), zombie 501 (3), child 502 (4)
    // with `sharing` (files table, its fds, fs).
    let mut tree = |sharing: (u32, u32, u32)| {
        build(&mut b, &s.header, |w, page| {
            write_task(w, &s, page)?;
            w.write_record(&children(3))?;
            write_steps(w, &s, page, &[(None, 500, 500)])?;
            w.write_record(&zombie(&s, 501, 0))?;
            write_sharing_child(w, &s, page, 502, sharing)
        })
        .and_then(|len| parse(&mut b, len, 64))
    };
    // The sample's 31 items, Children, a child of 14, a zombie, and a
    // child of 13 items and its fds.
    check_eq!(t, tree((1, 0, 1)), Ok(60));
    check_eq!(t, tree((2, 0, 1)), Ok(60));
    check_eq!(t, tree((0, 1, 2)), Ok(61));
    let bad: [(&str, (u32, u32, u32)); 8] = [
        ("its own table", (4, 0, 0)),
        ("a later table", (5, 0, 0)),
        ("a zombie's table", (3, 0, 0)),
        ("a table of no process", (4097, 0, 0)),
        ("a shared table with fds", (1, 1, 0)),
        ("its own fs", (0, 1, 4)),
        ("a zombie's fs", (0, 1, 3)),
        ("a later fs", (0, 1, 9)),
    ];
    for (what, sharing) in bad {
        check_eq!(t, (what, tree(sharing)), (what, Err(Errno::EINVAL)));
    }
}

/// A `Children` record (if any) followed by a process with this pid and
/// thread-group id.
pub type Step = (Option<u32>, i32, i32);

/// Writes the sample task, then for each step its `Children` record and a
/// small process whose only fd refers to file 1, defined by the sample.
pub fn write_tree(
    w: &mut ImageWriter<'_, SliceSink<'_>>,
    s: &Sample,
    page: &mut [u8],
    steps: &[Step],
) -> Result {
    write_task(w, s, page)?;
    write_steps(w, s, page, steps)
}

/// Writes the processes of `steps`, as [`write_tree`] does after the
/// root.
pub fn write_steps(
    w: &mut ImageWriter<'_, SliceSink<'_>>,
    s: &Sample,
    page: &mut [u8],
    steps: &[Step],
) -> Result {
    for &(children, pid, tgid) in steps {
        if let Some(count) = children {
            w.write_record(&ChildrenRecord { count, _pad: 0 })?;
        }
        let mut task = s.task;
        task.pid = pid;
        task.tgid = tgid;
        w.write_record(&task)?;
        write_signals(w, s)?;
        w.write_record(&s.cpu)?;
        w.write_fpu(1, page.get(..576).unwrap_or(&[]))?;
        w.write_fs(&s.fs, b"/")?;
        w.write_record(&FilesTableRecord {
            count: 1,
            shared_with: 0,
        })?;
        w.write_record(&s.fds[0])?;
        w.write_mm(
            &MmRecord {
                vma_count: 0,
                ..s.mm
            },
            &s.auxv,
        )?;
    }
    Ok(())
}

/// Unknown record types are rejected.
pub fn unknown_type_rejected(t: &mut dyn Check, scratch: &mut [u8]) {
    let s = sample();
    let mut b = bufs(scratch);
    let len = build_sample(&mut b, &s).unwrap_or(0);
    // The task record's header follows the 280-byte header record.
    if let Some(f) = b.image.get_mut(280..284) {
        f.copy_from_slice(&5u32.to_le_bytes());
    }
    check_eq!(t, parse(&mut b, len, 4096), Err(Errno::EINVAL));
}

/// Records whose length is not their type's are rejected.
pub fn bad_length_rejected(t: &mut dyn Check, scratch: &mut [u8]) {
    let s = sample();
    for bad_len in [0u32, 8, 100, 96, 112, MAX_RECORD_LEN + 8] {
        let mut b = bufs(scratch);
        let len = build_sample(&mut b, &s).unwrap_or(0);
        if let Some(f) = b.image.get_mut(284..288) {
            f.copy_from_slice(&bad_len.to_le_bytes());
        }
        check_eq!(t, parse(&mut b, len, 4096), Err(Errno::EINVAL));
    }
    // A variable record whose length disagrees with its own count: a page
    // chunk announcing one page more than it carries.
    let mut b = bufs(scratch);
    let r = build(&mut b, &s.header, |w, page| {
        let mut short = s;
        short.mm.vma_count = 1;
        short.pages = [(0, 0x40_0000); 3];
        write_task_prefix(w, &short, page)?;
        w.write_record(&short.vmas[0])?;
        w.write_var(
            &PageChunkRecord { count: 2, _pad: 0 },
            &[&0x40_0000u64.to_le_bytes(), page.get(..PAGE).unwrap_or(&[])],
        )
    });
    check_eq!(
        t,
        r.and_then(|len| parse(&mut b, len, 4096)),
        Err(Errno::EINVAL)
    );
}

/// Writes `s`'s records up to and including the mm record.
fn write_task_prefix<K: Sink>(w: &mut ImageWriter<'_, K>, s: &Sample, page: &mut [u8]) -> Result {
    write_up_to_table(w, s, page)?;
    w.write_file_object(&s.files[0], s.paths[0])?;
    w.write_mm(&s.mm, &s.auxv)
}

/// Writes `s`'s records up to an empty fd table.
fn write_up_to_table<K: Sink>(w: &mut ImageWriter<'_, K>, s: &Sample, page: &mut [u8]) -> Result {
    w.write_record(&s.task)?;
    write_signals(w, s)?;
    w.write_record(&s.cpu)?;
    w.write_fpu(s.xfeatures, page.get(..s.xstate_len).ok_or(Errno::EINVAL)?)?;
    w.write_fs(&s.fs, s.cwd)?;
    w.write_record(&FilesTableRecord {
        count: 0,
        shared_with: 0,
    })
}

/// Writes `s`'s task record and what follows it up to the timers.
fn write_up_to_timers<K: Sink>(w: &mut ImageWriter<'_, K>, s: &Sample) -> Result {
    w.write_record(&s.task)?;
    w.write_signals(&s.signals, |i| Ok(sample_action(s, i)))?;
    w.write_record(&s.rlimits)?;
    w.write_record(&s.itimers)?;
    w.write_posix_timers(s.posix_next_id, &s.posix_timers)
}

/// Writes `s`'s task record and what follows it up to the scheduling
/// record.
fn write_up_to_sched<K: Sink>(w: &mut ImageWriter<'_, K>, s: &Sample) -> Result {
    write_up_to_timers(w, s)?;
    write_creds_and_sched(w, s)
}

/// Records out of the order of the grammar are rejected.
pub fn out_of_order_rejected(t: &mut dyn Check, scratch: &mut [u8]) {
    let s = sample();
    type Body = fn(&mut ImageWriter<'_, SliceSink<'_>>, &Sample, &mut [u8]) -> Result;
    let cases: [Body; 24] = [
        // A second header.
        |w, s, _| w.write_record(&s.header),
        // A thread's scheduling state twice.
        |w, s, page| {
            write_up_to_sched(w, s)?;
            w.write_pending_signals(0, |_| Err(Errno::EINVAL))?;
            w.write_record(&s.cpu)?;
            w.write_fpu(1, page.get(..576).unwrap_or(&[]))?;
            w.write_record(&s.thread.map(|(t, _)| t).unwrap_or(ThreadRecord::zeroed()))?;
            w.write_record(&s.sched)?;
            w.write_record(&s.sched)
        },
        // A thread's scheduling state after its pending signals.
        |w, s, page| {
            write_up_to_sched(w, s)?;
            w.write_pending_signals(0, |_| Err(Errno::EINVAL))?;
            w.write_record(&s.cpu)?;
            w.write_fpu(1, page.get(..576).unwrap_or(&[]))?;
            w.write_record(&s.thread.map(|(t, _)| t).unwrap_or(ThreadRecord::zeroed()))?;
            w.write_pending_signals(0, |_| Err(Errno::EINVAL))?;
            w.write_record(&s.sched)
        },
        // A thread before the task's FPU state.
        |w, s, _| {
            write_up_to_sched(w, s)?;
            w.write_pending_signals(0, |_| Err(Errno::EINVAL))?;
            w.write_record(&s.cpu)?;
            w.write_record(&s.thread.map(|(t, _)| t).unwrap_or(ThreadRecord::zeroed()))
        },
        // A thread without its registers.
        |w, s, page| {
            write_up_to_sched(w, s)?;
            w.write_pending_signals(0, |_| Err(Errno::EINVAL))?;
            w.write_record(&s.cpu)?;
            w.write_fpu(1, page.get(..576).unwrap_or(&[]))?;
            w.write_record(&s.thread.map(|(t, _)| t).unwrap_or(ThreadRecord::zeroed()))?;
            w.write_pending_signals(0, |_| Err(Errno::EINVAL))?;
            w.write_fpu(1, page.get(..576).unwrap_or(&[]))
        },
        // A thread after the working directory.
        |w, s, page| {
            write_up_to_sched(w, s)?;
            w.write_pending_signals(0, |_| Err(Errno::EINVAL))?;
            w.write_record(&s.cpu)?;
            w.write_fpu(1, page.get(..576).unwrap_or(&[]))?;
            w.write_fs(&s.fs, s.cwd)?;
            w.write_record(&s.thread.map(|(t, _)| t).unwrap_or(ThreadRecord::zeroed()))
        },
        // Registers before the task.
        |w, s, _| w.write_record(&s.cpu),
        // The task without its registers.
        |w, s, page| {
            w.write_record(&s.task)?;
            w.write_fpu(1, page.get(..576).unwrap_or(&[]))
        },
        // The tail in the middle of a task.
        |w, s, _| w.write_record(&s.task),
        // A string where no string belongs.
        |w, _, _| w.write_string(b"/tmp"),
        // A file object at the top level.
        |w, s, _| w.write_file_object(&s.files[0], s.paths[0]),
        // An area before the mm record.
        |w, s, _| w.write_record(&s.vmas[0]),
        // Timers before limits.
        |w, s, _| {
            w.write_record(&s.task)?;
            w.write_signals(&s.signals, |i| Ok(sample_action(s, i)))?;
            w.write_record(&s.itimers)?;
            w.write_record(&s.rlimits)
        },
        // Registers without limits and timers.
        |w, s, _| {
            w.write_record(&s.task)?;
            w.write_signals(&s.signals, |i| Ok(sample_action(s, i)))?;
            w.write_record(&s.cpu)
        },
        // Credentials right after the interval timers: no POSIX timers.
        |w, s, _| {
            w.write_record(&s.task)?;
            w.write_signals(&s.signals, |i| Ok(sample_action(s, i)))?;
            w.write_record(&s.rlimits)?;
            w.write_record(&s.itimers)?;
            write_creds_and_sched(w, s)
        },
        // POSIX timers before the interval timers.
        |w, s, _| {
            w.write_record(&s.task)?;
            w.write_signals(&s.signals, |i| Ok(sample_action(s, i)))?;
            w.write_record(&s.rlimits)?;
            w.write_posix_timers(s.posix_next_id, &s.posix_timers)?;
            w.write_record(&s.itimers)
        },
        // Pending signals right after the timers: no credentials.
        |w, s, _| {
            write_up_to_timers(w, s)?;
            w.write_pending_signals(0, |_| Err(Errno::EINVAL))
        },
        // Scheduling before credentials.
        |w, s, _| {
            write_up_to_timers(w, s)?;
            w.write_record(&s.sched)?;
            w.write_creds(&s.creds, &s.groups)
        },
        // Credentials without scheduling.
        |w, s, _| {
            write_up_to_timers(w, s)?;
            w.write_creds(&s.creds, &s.groups)?;
            w.write_pending_signals(0, |_| Err(Errno::EINVAL))
        },
        // Registers right after scheduling: no pending-signals record.
        |w, s, _| {
            write_up_to_sched(w, s)?;
            w.write_record(&s.cpu)
        },
        // Three pending signals announced, two carried.
        |w, s, _| {
            write_up_to_sched(w, s)?;
            w.write_var(
                &SigPendingRecord { count: 3, _pad: 0 },
                &[s.pending[0].as_bytes(), s.pending[1].as_bytes()],
            )?;
            w.write_record(&s.cpu)
        },
        // Two controlling terminals.
        |w, s, page| {
            write_up_to_table(w, s, page)?;
            w.write_record(&CttyRecord::zeroed())?;
            w.write_record(&CttyRecord::zeroed())?;
            w.write_mm(&s.mm, &s.auxv)
        },
        // The controlling terminal after the address space.
        |w, s, page| {
            write_up_to_table(w, s, page)?;
            w.write_mm(&s.mm, &s.auxv)?;
            w.write_record(&CttyRecord::zeroed())
        },
        // Fewer fds than the table announced: mm comes early.
        |w, s, page| {
            let mut short = *s;
            short.fd_count = 4;
            write_task(w, &short, page)
        },
    ];
    for body in cases {
        let mut b = bufs(scratch);
        let r = build(&mut b, &s.header, |w, page| body(w, &s, page));
        check_eq!(
            t,
            r.and_then(|len| parse(&mut b, len, 4096)),
            Err(Errno::EINVAL)
        );
    }
}

/// Counts beyond their caps are rejected before anything is sized by them.
pub fn counts_beyond_caps_rejected(t: &mut dyn Check, scratch: &mut [u8]) {
    // One sample at a time: the kernel runs this on a 16 KiB stack.
    let cases: [fn(&mut Sample); 4] = [
        |s| s.mm.vma_count = MAX_VMAS + 1,
        |s| s.fd_count = MAX_FDS + 1,
        |s| s.xstate_len = MAX_XSTATE_SIZE as usize + 8,
        |s| s.xstate_len = MIN_XSTATE_SIZE as usize - 8,
    ];
    for mutate in cases {
        let mut s = sample();
        mutate(&mut s);
        expect_rejected(t, scratch, &s, Errno::EINVAL, line!());
    }
    // A page chunk with more pages than the cap (written by hand: the
    // writer refuses it).
    let mut s = sample();
    s.mm.vma_count = 1;
    let mut b = bufs(scratch);
    let r = build(&mut b, &s.header, |w, page| {
        write_task_prefix(w, &s, page)?;
        w.write_record(&VmaRecord {
            end: 0x40_0000 + 0x1000 * (MAX_CHUNK_PAGES as u64 + 1),
            ..s.vmas[0]
        })?;
        let mut addrs = [0u8; 8 * (MAX_CHUNK_PAGES as usize + 1)];
        for (i, a) in addrs.chunks_exact_mut(8).enumerate() {
            a.copy_from_slice(&(0x40_0000 + 0x1000 * i as u64).to_le_bytes());
        }
        let pages = page
            .get(..PAGE * (MAX_CHUNK_PAGES as usize + 1))
            .ok_or(Errno::EINVAL)?;
        w.write_var(
            &PageChunkRecord {
                count: MAX_CHUNK_PAGES + 1,
                _pad: 0,
            },
            &[&addrs, pages],
        )?;
        w.write_var(&PageChunkRecord { count: 0, _pad: 0 }, &[])
    });
    check_eq!(
        t,
        r.and_then(|len| parse(&mut b, len, 4096)),
        Err(Errno::EINVAL)
    );
    // A string longer than the cap.
    let mut b = bufs(scratch);
    let r = build(&mut b, &s.header, |w, page| {
        w.write_record(&s.task)?;
        write_signals(w, &s)?;
        w.write_record(&s.cpu)?;
        w.write_fpu(1, page.get(..576).unwrap_or(&[]))?;
        w.write_record(&s.fs)?;
        let long = page
            .get_mut(..MAX_STRING_LEN as usize + 1)
            .unwrap_or(&mut []);
        long.fill(b'a');
        if let Some(last) = long.last_mut() {
            *last = 0;
        }
        w.write_var(
            &StringRecord {
                len: MAX_STRING_LEN + 1,
                _pad: 0,
            },
            &[long],
        )
    });
    check_eq!(
        t,
        r.and_then(|len| parse(&mut b, len, 4096)),
        Err(Errno::EINVAL)
    );
}

/// Memory areas that are misaligned, empty, out of user space, unsorted or
/// overlapping are rejected, as are bad protection, flag and kind values.
pub fn bad_vmas_rejected(t: &mut dyn Check, scratch: &mut [u8]) {
    let cases: [fn(&mut Sample); 11] = [
        |s| s.vmas[0].start += 8,
        |s| s.vmas[0].end -= 8,
        |s| s.vmas[0].end = s.vmas[0].start,
        |s| s.vmas[2].end = USER_ADDR_LIMIT + 0x1000,
        |s| s.vmas[1].start = 0x40_3000, // overlaps area 0
        |s| s.vmas.swap(0, 1),           // unsorted
        |s| s.vmas[0].prot = 8,
        |s| s.vmas[0].flags = 1 << 20,
        |s| s.vmas[0].kind = 9,
        |s| s.vmas[0].file_ref = 1, // anonymous with a file
        |s| s.vmas[1].pgoff = u64::MAX,
    ];
    for mutate in cases {
        let mut s = sample();
        mutate(&mut s);
        expect_rejected(t, scratch, &s, Errno::EINVAL, line!());
    }
}

/// Page addresses that are misaligned, outside every area, in a shared
/// area, or not increasing are rejected.
pub fn bad_pages_rejected(t: &mut dyn Check, scratch: &mut [u8]) {
    let cases: [fn(&mut Sample); 6] = [
        |s| s.pages[0].1 += 16,
        |s| s.pages[1].1 = 0x40_4000, // one past area 0, before area 1
        |s| s.pages.swap(0, 1),       // decreasing
        |s| s.pages[1].1 = s.pages[0].1,
        |s| s.vmas[1].flags |= VMA_SHARED, // a page of a shared area
        |s| s.pages[2].1 = 0x7fff_f000_4000, // past the last area
    ];
    for mutate in cases {
        let mut s = sample();
        mutate(&mut s);
        expect_rejected(t, scratch, &s, Errno::EINVAL, line!());
    }
}

/// Strings without a NUL, or with one before their end, are rejected, in
/// string records and in fixed fields.
pub fn strings_without_nul_rejected(t: &mut dyn Check, scratch: &mut [u8]) {
    for body in [&b"/tmpxyz"[..], b"/t\0mp\0"] {
        let mut s = sample();
        s.cwd = body;
        s.cwd_raw_len = Some(body.len() as u32);
        expect_rejected(t, scratch, &s, Errno::EINVAL, line!());
    }
    // The same record written properly is accepted.
    let mut s = sample();
    s.cwd = b"/tmp\0\0\0\0";
    s.cwd_raw_len = Some(5);
    let mut b = bufs(scratch);
    let r = build_sample(&mut b, &s).and_then(|len| parse(&mut b, len, 4096));
    check!(t, r.is_ok());
    let mut s = sample();
    s.task.comm = [b'x'; TASK_COMM_LEN];
    expect_rejected(t, scratch, &s, Errno::EINVAL, line!());
    let mut s = sample();
    s.header.release = [b'x'; UTS_FIELD_SIZE];
    expect_rejected(t, scratch, &s, Errno::EINVAL, line!());
}

/// Object references must be defined in order and used after definition.
pub fn bad_object_references_rejected(t: &mut dyn Check, scratch: &mut [u8]) {
    let cases: [fn(&mut Sample); 7] = [
        |s| s.files[0].objref = 2,  // defined out of order
        |s| s.files[1].objref = 1,  // defined twice
        |s| s.fds[0].file_ref = 2,  // used before its definition
        |s| s.fds[2].file_ref = 0,  // no object
        |s| s.vmas[1].file_ref = 9, // never defined
        |s| s.mm.exe_file_ref = 3,  // never defined
        |s| {
            if let Some(c) = s.ctty.as_mut() {
                c.file_ref = 3; // a terminal never defined
            }
        },
    ];
    for mutate in cases {
        let mut s = sample();
        mutate(&mut s);
        expect_rejected(t, scratch, &s, Errno::EINVAL, line!());
    }
}

/// Field values outside their ranges are rejected: fds, file objects,
/// task, registers, umask, padding.
pub fn bad_fields_rejected(t: &mut dyn Check, scratch: &mut [u8]) {
    let cases: [fn(&mut Sample); 187] = [
        |s| s.task.pgid = -1,
        |s| set_thread(s, |th, _| th.task.tgid = 44), // another thread group
        |s| set_thread(s, |th, _| th.task.pid = 42),  // the leader again
        |s| set_thread(s, |th, _| th.task.exit_signal = 17),
        |s| set_thread(s, |th, _| th._pad = 1),
        |s| set_thread(s, |th, _| th.altstack_size = 1024), // below MINSIGSTKSZ
        |s| set_thread(s, |th, _| th.altstack_flags = 1),   // SS_ONSTACK
        |s| set_thread(s, |th, _| th.task.robust_list = USER_ADDR_LIMIT),
        |s| set_thread(s, |th, _| th.task.rseq_area += 8), // misaligned
        |s| set_thread(s, |_, cpu| cpu.cs = 0x23),         // 32-bit code
        |s| s.pending[0].queue = SIGQUEUE_PROCESS,         // on the thread's queue only
        |s| s.task.sid = -42,
        |s| {
            if let Some(c) = s.ctty.as_mut() {
                c.flags = 4; // undefined controlling terminal flag
            }
        },
        |s| s.task.restart_args[0] = 1, // arguments without a kind
        |s| s.task.rseq_area += 8,      // misaligned rseq area
        |s| s.task.rseq_len = 16,       // shorter than struct rseq
        |s| s.task.rseq_len = RSEQ_MAX_LEN + 32,
        |s| s.task.rseq_area = USER_ADDR_LIMIT - 16, // ends in kernel space
        |s| {
            s.task.rseq_area = 0; // no area, but a length
        },
        |s| s.task.robust_list = USER_ADDR_LIMIT,
        |s| s.task.flags = 64,             // undefined flag
        |s| s.task.exit_status = 1 << 8,   // a live leader's
        |s| s.actions[0].0 = 8,            // SIGKILL cannot be ignored
        |s| s.actions[1].0 = 18,           // nor SIGSTOP handled
        |s| s.actions[1].1.flags |= 0x400, // SA_UNSUPPORTED is never kept
        |s| s.actions[1].1.handler = USER_ADDR_LIMIT,
        |s| s.actions[1].1.restorer = USER_ADDR_LIMIT,
        |s| s.actions[1].1.mask |= 1 << (19 - 1), // blocking SIGSTOP
        |s| s.signals.altstack_size = 1024,       // below MINSIGSTKSZ
        |s| s.signals.altstack_flags = 1,         // SS_ONSTACK is not a setting
        |s| s.signals.altstack_sp = USER_ADDR_LIMIT - 0x4000,
        |s| s.signals.count = 32,
        |s| s.rlimits.limits[7].cur = 4097, // soft above hard
        |s| s.rlimits.limits[0].max = 0,    // likewise, from infinity
        |s| s.itimers.timers[0].value_ns = ITIMER_MAX_NS + 1,
        |s| s.itimers.timers[2].interval_ns = u64::MAX,
        |s| s.posix_timers[1].id = 0, // ids not increasing
        |s| s.posix_timers[1].id = MAX_POSIX_TIMER_ID + 1,
        |s| s.posix_next_id = MAX_POSIX_TIMER_ID + 1,
        |s| s.posix_timers[0].clock = 8,  // CLOCK_REALTIME_ALARM
        |s| s.posix_timers[1].clock = -6, // a CPU clock by pid
        |s| s.posix_timers[0].notify = 5, // SIGEV_NONE | SIGEV_THREAD_ID
        |s| s.posix_timers[0].signo = NSIG + 1,
        |s| s.posix_timers[0].signo = 0,
        |s| s.posix_timers[1].signo = 14, // a signal for SIGEV_NONE
        |s| s.posix_timers[1].flags = POSIX_TIMER_ABSTIME, // not real time
        |s| s.posix_timers[0].flags = 2,
        |s| s.posix_timers[0].value_ns = 0, // absolute but disarmed
        |s| s.posix_timers[1].value_ns = ITIMER_MAX_NS + 1,
        |s| s.posix_timers[0].interval_ns = u64::MAX,
        |s| s.posix_timers[0].overrun = 1 << 31,
        |s| s.files[0].device_or_pipe = device_number(1, 3), // a device number on a file
        |s| s.files[1].kind = 9,                             // no such kind
        |s| {
            // A character device outside the saved ones (/dev/console).
            s.files[1].kind = FileKind::CharDevice as u32;
            s.files[1].device_or_pipe = device_number(5, 1);
        },
        |s| {
            // An eventfd whose counter is at the maximum.
            s.files[1] = eventfd_object(2);
            s.file_state = Some(FileStateRecord {
                words: [u64::MAX, 0, 0, 0],
            });
        },
        |s| {
            // An eventfd with an unknown flag.
            s.files[1] = eventfd_object(2);
            s.file_state = Some(FileStateRecord {
                words: [1, 2, 0, 0],
            });
        },
        |s| {
            // A signalfd that would take SIGKILL.
            s.files[1] = eventfd_object(2);
            s.files[1].kind = FileKind::SignalFd as u32;
            s.file_state = Some(FileStateRecord {
                words: [1 << 8, 0, 0, 0],
            });
        },
        |s| {
            // A timerfd on an alarm clock.
            s.files[1] = eventfd_object(2);
            s.files[1].kind = FileKind::TimerFd as u32;
            s.file_state = Some(FileStateRecord {
                words: [8, 1_000_000, 0, 0],
            });
        },
        |s| {
            // A timerfd with an unknown flag.
            s.files[1] = eventfd_object(2);
            s.files[1].kind = FileKind::TimerFd as u32;
            s.file_state = Some(FileStateRecord {
                words: [1 | 4 << 32, 1_000_000, 0, 0],
            });
        },
        |s| {
            // A timerfd with an interval beyond KTIME_MAX.
            s.files[1] = eventfd_object(2);
            s.files[1].kind = FileKind::TimerFd as u32;
            s.file_state = Some(FileStateRecord {
                words: [1, 0, ITIMER_MAX_NS + 1, 0],
            });
        },
        |s| {
            // An eventfd opened read-only.
            s.files[1] = eventfd_object(2);
            s.files[1].flags = 0;
            s.file_state = Some(FileStateRecord {
                words: [1, 0, 0, 0],
            });
        },
        |s| {
            // An eventfd with a path instead of its state.
            s.files[1] = eventfd_object(2);
        },
        |s| {
            // Shared memory of a size that is not a whole number of pages.
            s.files[1] = shared_memory(2);
            s.deleted = Some((10000, 0, DELETED.2));
            s.shared_memory = true;
        },
        |s| {
            // Shared memory with a position.
            s.files[1] = shared_memory(2);
            s.files[1].pos = 4096;
            s.deleted = Some(SHARED_MEMORY);
            s.shared_memory = true;
        },
        |s| {
            // Shared memory open read-only.
            s.files[1] = shared_memory(2);
            s.files[1].flags = 0;
            s.deleted = Some(SHARED_MEMORY);
            s.shared_memory = true;
        },
        |s| {
            // Shared memory beyond the largest mapping.
            s.files[1] = shared_memory(2);
            s.deleted = Some((MAX_SHARED_MEMORY_SIZE + 4096, 0, DELETED.2));
            s.shared_memory = true;
        },
        |s| s.vmas[1].flags = VMA_SHARED, // pages saved in a shared area
        |s| s.vmas[1].flags = VMA_WIPEONFORK, // wipe on fork of a file
        |s| s.vmas[0].flags = VMA_HUGEPAGE | VMA_NOHUGEPAGE,
        |s| s.vmas[0].flags = VMA_SEQUENTIAL | VMA_RANDOM,
        |s| s.vmas[0].flags = VMA_LOCK_ON_FAULT, // on fault, but not locked
        |s| s.vmas[0].flags = 8192,              // an undefined flag
        |s| {
            // Inotify watches out of order.
            s.files[1] = inotify_object(2);
            s.inotify = Some(([INOTIFY_WATCHES[1], INOTIFY_WATCHES[0]], 9));
        },
        |s| {
            // An inotify watch without an event.
            s.files[1] = inotify_object(2);
            s.inotify = Some(([(3, 0x8000_0000, b"/tmp"), INOTIFY_WATCHES[1]], 9));
        },
        |s| {
            // An inotify watch with an unknown flag (IN_MASK_ADD).
            s.files[1] = inotify_object(2);
            s.inotify = Some(([(3, 0x2000_0100, b"/tmp"), INOTIFY_WATCHES[1]], 9));
        },
        |s| {
            // An inotify watch of a relative path.
            s.files[1] = inotify_object(2);
            s.inotify = Some(([(3, 0x100, b"tmp"), INOTIFY_WATCHES[1]], 9));
        },
        |s| {
            // A watch descriptor that is not positive.
            s.files[1] = inotify_object(2);
            s.inotify = Some(([(0, 0x100, b"/tmp"), INOTIFY_WATCHES[1]], 9));
        },
        |s| {
            // An inotify instance open read-write.
            s.files[1] = inotify_object(2);
            s.files[1].flags = 2;
            s.inotify = Some((INOTIFY_WATCHES, 9));
        },
        |s| {
            // A next descriptor beyond any.
            s.files[1] = inotify_object(2);
            s.inotify = Some((INOTIFY_WATCHES, 1 << 31));
        },
        |s| {
            // A segment numbered out of sequence.
            s.files[1] = shm_attach(2, 2);
            s.deleted = Some(DELETED);
            s.segment = Some(ShmSegmentRecord {
                segment: 2,
                ..SEGMENT
            });
        },
        |s| {
            // A segment followed by an attach of another.
            s.files[1] = shm_attach(2, 2);
            s.deleted = Some(DELETED);
            s.segment = Some(SEGMENT);
        },
        |s| {
            // A segment with SHM_LOCKED in its mode.
            s.files[1] = shm_attach(2, 1);
            s.deleted = Some(DELETED);
            s.segment = Some(ShmSegmentRecord {
                mode: 0o2600,
                ..SEGMENT
            });
        },
        |s| {
            // A removed segment that kept its key.
            s.files[1] = shm_attach(2, 1);
            s.deleted = Some(DELETED);
            s.segment = Some(ShmSegmentRecord {
                mode: 0o1600,
                ..SEGMENT
            });
        },
        |s| {
            // A segment with a negative id.
            s.files[1] = shm_attach(2, 1);
            s.deleted = Some(DELETED);
            s.segment = Some(ShmSegmentRecord { id: -1, ..SEGMENT });
        },
        |s| {
            // An attach with a position.
            s.files[1] = shm_attach(2, 1);
            s.files[1].pos = 8;
            s.deleted = Some(DELETED);
            s.segment = Some(SEGMENT);
        },
        |s| {
            // An attach opened write-only.
            s.files[1] = shm_attach(2, 1);
            s.files[1].flags = 1;
            s.deleted = Some(DELETED);
            s.segment = Some(SEGMENT);
        },
        |s| s.vmas[0].flags = VMA_SHARED, // shared anonymous, not by its object
        |s| {
            s.vmas[1].flags = VMA_SHARED | VMA_STACK; // a shared stack
            s.pages[2] = (0, 0x40_1000);
            s.pages.sort_unstable();
        },
        |s| {
            // A memfd with an unknown seal.
            s.files[1] = deleted_file(2);
            s.files[1].kind = FileKind::Memfd as u32;
            s.paths[1] = b"name";
            s.deleted = Some(DELETED);
            s.memfd_seals = Some(0x40);
        },
        |s| {
            // A memfd beyond the size cap.
            s.files[1] = deleted_file(2);
            s.files[1].kind = FileKind::Memfd as u32;
            s.deleted = Some((MAX_DELETED_FILE_SIZE + 1, 0o600, DELETED.2));
            s.memfd_seals = Some(1);
        },
        |s| {
            // A memfd whose name is too long for the kernel.
            s.files[1] = deleted_file(2);
            s.files[1].kind = FileKind::Memfd as u32;
            s.paths[1] = &[b'm'; MAX_MEMFD_NAME + 1];
            s.deleted = Some(DELETED);
            s.memfd_seals = Some(1);
        },
        |s| {
            // An unlinked file beyond the size cap.
            s.files[1] = deleted_file(2);
            s.deleted = Some((MAX_DELETED_FILE_SIZE + 1, 0o600, DELETED.2));
        },
        |s| {
            // An unlinked file with a file type in its mode.
            s.files[1] = deleted_file(2);
            s.deleted = Some((10000, 0o100600, DELETED.2));
        },
        |s| {
            // Contents out of order.
            s.files[1] = deleted_file(2);
            s.deleted = Some((10000, 0o600, [(8192, 100), (0, 5)]));
        },
        |s| {
            // Contents beyond the size.
            s.files[1] = deleted_file(2);
            s.deleted = Some((10000, 0o600, [(0, 5), (9950, 100)]));
        },
        |s| {
            // Contents that overlap.
            s.files[1] = deleted_file(2);
            s.deleted = Some((10000, 0o600, [(0, 5), (4, 100)]));
        },
        |s| {
            // An epoll set watching itself.
            s.files[1] = epoll_set(2);
            s.epoll = Some([
                WATCH,
                EpollWatch {
                    file_ref: 2,
                    ..WATCH
                },
            ]);
        },
        |s| {
            // An epoll watch at a descriptor beyond NR_OPEN.
            s.files[1] = epoll_set(2);
            s.epoll = Some([
                WATCH,
                EpollWatch {
                    fd: FD_LIMIT,
                    ..WATCH
                },
            ]);
        },
        |s| {
            // An epoll watch with an unknown event bit.
            s.files[1] = epoll_set(2);
            s.epoll = Some([
                WATCH,
                EpollWatch {
                    events: 1 << 20,
                    ..WATCH
                },
            ]);
        },
        |s| {
            // An epoll watch with padding.
            s.files[1] = epoll_set(2);
            s.epoll = Some([WATCH, EpollWatch { _pad: 1, ..WATCH }]);
        },
        |s| bad_pty(s, |p| p.0.index = MAX_PTY_INDEX + 1),
        |s| bad_pty(s, |p| p.0.flags = 8),
        |s| bad_pty(s, |p| p.0.packet_status = 256),
        |s| bad_pty(s, |p| p.0._pad = 1),
        |s| bad_pty(s, |p| p.0.slave.line = 1),
        |s| bad_pty(s, |p| p.1[0].side = 1),
        |s| bad_pty(s, |p| p.1[1].read_len = PTY_LINE_BUFFER + 1),
        |s| bad_pty(s, |p| p.1[1].canon_len = 10),
        |s| bad_pty(s, |p| p.1[1].line_start = 10),
        |s| bad_pty(s, |p| p.1[0].pending_len = MAX_PTY_PENDING + 1),
        |s| bad_pty(s, |p| p.1[0].flags = 8),
        // The slave's queue missing.
        |s| bad_pty(s, |p| p.2 = 1),
        |s| {
            // A master with a device number.
            bad_pty(s, |_| {});
            s.files[1].device_or_pipe = 1;
        },
        |s| {
            // A master opened through a relative path.
            bad_pty(s, |_| {});
            s.paths[1] = b"dev/ptmx";
        },
        |s| {
            // A master opened for appending.
            bad_pty(s, |_| {});
            s.files[1].flags |= 0o2000;
        },
        |s| {
            // A slave of itself.
            s.files[1] = pty_master(2);
            s.files[1].kind = FileKind::PtySlave as u32;
            s.files[1].device_or_pipe = 2;
        },
        |s| {
            // A slave of no master.
            s.files[1] = pty_master(2);
            s.files[1].kind = FileKind::PtySlave as u32;
        },
        |s| {
            // A terminal without a device number.
            s.files[1] = terminal(2);
            s.files[1].device_or_pipe = 0;
            s.tty = Some(TTY);
        },
        |s| {
            // A terminal with another line discipline (N_SLIP).
            s.files[1] = terminal(2);
            s.tty = Some(TtyRecord { line: 1, ..TTY });
        },
        |s| {
            // A terminal with a position.
            s.files[1] = terminal(2);
            s.files[1].pos = 8;
            s.tty = Some(TTY);
        },
        |s| {
            // A terminal without its settings.
            s.files[1] = terminal(2);
        },
        |s| {
            // A pipe end without a pipe.
            s.files[1] = pipe_end(2);
        },
        |s| {
            // A pipe end naming a pipe not defined yet.
            s.files[1] = pipe_end(2);
            s.files[1].device_or_pipe = 2;
            s.pipe = Some((1, 4096, b""));
        },
        |s| {
            // A pipe numbered 2 first.
            s.files[1] = pipe_end(2);
            s.files[1].device_or_pipe = 2;
            s.pipe = Some((2, 4096, b""));
        },
        |s| {
            // A pipe size that is not a power of two.
            s.files[1] = pipe_end(2);
            s.pipe = Some((1, 12288, b""));
        },
        |s| {
            // A pipe smaller than a page.
            s.files[1] = pipe_end(2);
            s.pipe = Some((1, 2048, b""));
        },
        |s| {
            // More data than the pipe holds.
            s.files[1] = pipe_end(2);
            s.pipe = Some((1, 4096, &[7u8; 4097]));
        },
        |s| {
            // An anonymous pipe end open for reading and writing.
            s.files[1] = pipe_end(2);
            s.files[1].flags = 0o2;
            s.pipe = Some((1, 4096, b"x"));
        },
        |s| {
            // A pipe end in append mode.
            s.files[1] = pipe_end(2);
            s.files[1].flags = 0o2001;
            s.pipe = Some((1, 4096, b"x"));
        },
        |s| {
            // A pipe whose next file object is not one of its ends.
            s.files[1] = eventfd_object(2);
            s.file_state = Some(FileStateRecord {
                words: [1, 0, 0, 0],
            });
            s.pipe = Some((1, 4096, b"x"));
        },
        |s| {
            // A pipe end with a position.
            s.files[1] = pipe_end(2);
            s.files[1].pos = 1;
            s.pipe = Some((1, 4096, b"x"));
        },
        |s| {
            // A directory with a state instead of its path.
            s.file_state = Some(FileStateRecord { words: [0; 4] });
        },
        |s| {
            // /dev/null with a position.
            s.files[0].kind = FileKind::CharDevice as u32;
            s.files[0].device_or_pipe = device_number(1, 3);
        },
        |s| s.creds.euid = INVALID_ID,
        |s| s.creds.fsgid = INVALID_ID,
        |s| s.groups[1] = INVALID_ID,
        |s| s.creds.cap_bset = CAP_VALID_MASK + 1, // capability 41
        |s| s.creds.cap_effective = 1 << 11,       // not permitted
        |s| s.creds.cap_ambient = 1 << 12,         // not inheritable
        |s| s.creds.securebits = 0x100,
        |s| s.creds.ngroups = MAX_GROUPS + 1,
        |s| s.sched.policy = 6, // SCHED_DEADLINE
        |s| s.sched.nice = 20,
        |s| s.sched.rt_priority = 1, // a priority for SCHED_BATCH
        |s| {
            s.sched.policy = SCHED_FIFO;
            s.sched.rt_priority = MAX_RT_PRIORITY + 1;
        },
        |s| s.sched.policy = SCHED_RR, // without a priority
        |s| s.sched.nice = -21,
        |s| s.sched.flags = 8,
        |s| s.sched.affinity = [0; AFFINITY_CPUS / 64], // empty mask
        |s| s.sched.flags = SCHED_FLAG_TIMER_SLACK,     // a mask, no flag
        |s| s.sched.timer_slack_ns = 0,                 // flag, no slack
        |s| s.pending[0].queue = 2,
        |s| s.pending[0].signo = 0,
        |s| s.pending[0].signo = NSIG + 1,
        |s| {
            s.pending[0].signo = 9; // SIGKILL is never pending in an image
            s.pending[0].info[0] = 9;
        },
        |s| s.pending[1].info[0] = 35, // si_signo is another signal
        |s| s.pending[1].info[1] = SI_TIMER as u32 as u64,
        |s| s.pending[1].signo = 35,
        |s| {
            s.task.restart_kind = RESTART_NANOSLEEP;
            s.task.restart_args = [1000, 0, 5, 1]; // clock 5: not resumable
        },
        |s| {
            s.task.restart_kind = RESTART_NANOSLEEP;
            s.task.restart_args = [1000, 0, 1, 3]; // no such timespec type
        },
        |s| {
            s.task.restart_kind = RESTART_POLL;
            s.task.restart_args = [1000, USER_ADDR_LIMIT, 1, 0];
        },
        |s| {
            s.task.restart_kind = RESTART_POLL;
            s.task.restart_args = [1000, 0x1000, RESTART_MAX_POLL_FDS + 1, 0];
        },
        |s| {
            s.task.restart_kind = RESTART_POLL;
            s.task.restart_args = [1 << 63, 0x1000, 1, 0]; // neither time nor none
        },
        |s| {
            s.task.restart_kind = RESTART_POLL;
            s.task.restart_args = [1000, 0x1000, 1, 1];
        },
        |s| {
            s.task.restart_kind = RESTART_FUTEX_WAIT;
            s.task.restart_args = [1000, 0x1002, 0, 1]; // unaligned word
        },
        |s| {
            s.task.restart_kind = RESTART_FUTEX_WAIT;
            s.task.restart_args = [1000, 0x1000, 4 << 32, 1]; // unknown flag
        },
        |s| {
            s.task.restart_kind = RESTART_FUTEX_WAIT;
            s.task.restart_args = [1000, 0x1000, 0, 0]; // empty bitset
        },
        |s| {
            s.task.restart_kind = RESTART_FUTEX_WAIT;
            s.task.restart_args = [RESTART_NO_TIMEOUT, 0x1000, 0, 1]; // needs a timeout
        },
        |s| s.fds[1].fd = 0, // not increasing
        |s| s.fds[2].fd = FD_LIMIT,
        |s| s.fds[0].flags = 2,
        |s| s.fds[0]._pad = 1,
        |s| s.files[0].kind = 7,
        |s| s.files[0].pos = -1,
        |s| s.files[0].flags = 3, // O_ACCMODE
        |s| s.paths[0] = b"relative/path",
        |s| s.task.exit_signal = 65,
        |s| s.task.restart_kind = 99,
        |s| s.cpu.cs = 0x10,
        |s| s.cpu.fs_base = USER_ADDR_LIMIT,
        |s| s.fs.umask = 0o1000,
        |s| s.mm.brk = s.mm.start_brk - 0x1000,
        |s| s.mm.vdso_base = 0x7fff_f000_0010,
        |s| s.auxv[5] = 1, // AT_NULL with a value
        |s| s.auxv[4] = 7, // no AT_NULL
        |s| s.auxv[2] = 0, // AT_NULL before the end
        |s| s.header.constants.page_size = 12288,
    ];
    for mutate in cases {
        let mut s = sample();
        mutate(&mut s);
        expect_rejected(t, scratch, &s, Errno::EINVAL, line!());
    }
}

/// Non-zero padding, in fixed records and after variable bodies, is
/// rejected.
pub fn nonzero_padding_rejected(t: &mut dyn Check, scratch: &mut [u8]) {
    // One sample at a time: the kernel runs this on a 16 KiB stack.
    let cases: [fn(&mut Sample); 1] = [|s| {
        s.files[1] = terminal(2);
        s.tty = Some(TtyRecord {
            _pad: [0, 0, 1, 0],
            ..TTY
        });
    }];
    for mutate in cases {
        let mut s = sample();
        mutate(&mut s);
        expect_rejected(t, scratch, &s, Errno::EINVAL, line!());
    }
    // The XSAVE buffer of 836 bytes is followed by 4 bytes of padding.
    let s = sample();
    let mut b = bufs(scratch);
    let r = build(&mut b, &s.header, |w, page| {
        w.write_record(&s.task)?;
        write_signals(w, &s)?;
        w.write_record(&s.cpu)?;
        w.write_var(
            &FpuRecord {
                xstate_size: 836,
                _pad: 0,
                xfeatures: 1,
            },
            &[page.get(..836).unwrap_or(&[]), &[0, 0, 1, 0]],
        )?;
        w.write_fs(&s.fs, s.cwd)
    });
    let len = r.unwrap_or(0);
    let mut p = match ImageParser::new(
        SliceSource::new(b.image.get(..len).unwrap_or(&[]), 64),
        b.read,
        b.strings,
        ArrayVmaStore::<STORE>::new(),
    ) {
        Ok(p) => p,
        Err(_) => return,
    };
    check!(t, p.next_item().is_ok()); // header
    check!(t, p.next_item().is_ok()); // task
    check!(t, p.next_item().is_ok()); // signals
    check!(t, p.next_item().is_ok()); // rlimits
    check!(t, p.next_item().is_ok()); // itimers
    check!(t, p.next_item().is_ok()); // posix timers
    check!(t, p.next_item().is_ok()); // creds
    check!(t, p.next_item().is_ok()); // sched
    check!(t, p.next_item().is_ok()); // pending signals
    check!(t, p.next_item().is_ok()); // cpu
    check!(t, p.next_item().is_ok()); // fpu
    let out = b.work.get_mut(..836).unwrap_or(&mut []);
    check_eq!(t, p.read_xstate(out), Err(Errno::EINVAL));

    // Three groups (12 bytes) are followed by 4 bytes of padding.
    let mut b = bufs(scratch);
    let r = build(&mut b, &s.header, |w, _| {
        write_up_to_timers(w, &s)?;
        let groups = [4u8, 0, 0, 0, 24, 0, 0, 0, 100, 0, 0, 0];
        w.write_var(&s.creds, &[&groups, &[0, 1, 0, 0]])?;
        w.write_record(&s.sched)
    });
    let len = r.unwrap_or(0);
    let mut p = match ImageParser::new(
        SliceSource::new(b.image.get(..len).unwrap_or(&[]), 64),
        b.read,
        b.strings,
        ArrayVmaStore::<STORE>::new(),
    ) {
        Ok(p) => p,
        Err(_) => return,
    };
    for _ in 0..6 {
        check!(t, p.next_item().is_ok()); // header to POSIX timers
    }
    check_eq!(t, p.next_item(), Ok(Item::Creds(s.creds)));
    let mut groups = [0u32; 3];
    check_eq!(t, p.read_groups(&mut groups), Err(Errno::EINVAL));
}

/// Every prefix of a full image is rejected (`EINVAL`), as is an image
/// whose tail is missing or wrong; a flipped bit is `EBADMSG`.
pub fn truncation_and_corruption_rejected(t: &mut dyn Check, scratch: &mut [u8]) {
    let s = sample();
    let mut b = bufs(scratch);
    let len = build_sample(&mut b, &s).unwrap_or(0);
    check_eq!(t, parse(&mut b, len, 4096).map(|_| ()), Ok(()));
    // Every 8-byte boundary and a few odd lengths.
    let mut cut = 0;
    while cut < len {
        check_eq!(t, parse(&mut b, cut, 4096), Err(Errno::EINVAL));
        cut += if cut % 8 == 0 { 3 } else { 5 };
    }
    // A bit flipped in page data, which no field check looks at.
    // The image ends: last page, three empty chunks (16 bytes each), tail.
    let in_page = len - 32 - 3 * 16 - PAGE / 2;
    if let Some(byte) = b.image.get_mut(in_page) {
        *byte ^= 0x10;
    }
    check_eq!(t, parse(&mut b, len, 4096), Err(Errno::EBADMSG));
}
