// SPDX-License-Identifier: GPL-2.0

//! Property test: random valid images, written with the writer, parse back
//! into exactly the records they were made of; and no mutation of them
//! makes the parser panic.
//!
//! With `CKPT_CORPUS_DIR` set, a sample of the generated images is written
//! there as seeds for the fuzzer.

use ckpt_format::format::testing::SliceSource;
use ckpt_format::format::tests::sample_header;
use ckpt_format::format::*;

use ckpt_format::XorShift as Rng;

/// One record of the model, as the parser hands it back (owned).
#[derive(Debug, PartialEq, Clone)]
enum Rec {
    Header(ImageHeader),
    Task(TaskRecord),
    Thread(ThreadRecord),
    Children(u32),
    Zombie(ZombieRecord),
    Signals(SignalsRecord, Vec<SigactionRecord>),
    Rlimits(RlimitsRecord),
    Itimers(ItimersRecord),
    PosixTimers(u32, Vec<PosixTimer>),
    Creds(CredsRecord, Vec<u32>),
    Sched(SchedRecord),
    SigPending(Vec<PendingSignal>),
    Cpu(CpuRecord),
    Fpu(FpuRecord, Vec<u8>),
    Fs(FsRecord, Vec<u8>),
    FilesTable(FilesTableRecord),
    FileObject(FileObjectRecord, Vec<u8>),
    StateFile(FileObjectRecord, FileStateRecord),
    Pipe(PipeRecord, Vec<u8>),
    PipeEnd(FileObjectRecord),
    Terminal(FileObjectRecord, Vec<u8>, TtyRecord),
    Epoll(FileObjectRecord, Vec<EpollWatch>),
    Deleted(FileObjectRecord, Vec<u8>, u64, u32),
    Memfd(FileObjectRecord, Vec<u8>, u64, u32, u32),
    SharedMemory(FileObjectRecord, u64),
    ShmSegment(ShmSegmentRecord),
    ShmAttach(FileObjectRecord),
    Inotify(FileObjectRecord, u32, u32),
    InotifyWatch(i32, u32, Vec<u8>),
    PtyMaster(FileObjectRecord, Vec<u8>, PtyPairRecord),
    PtyQueue(PtyQueueRecord, Vec<u8>),
    PtySlave(FileObjectRecord),
    FileData(u64, Vec<u8>),
    Fd(FdRecord),
    Ctty(CttyRecord),
    Mm(MmRecord, Vec<u64>),
    Vma(VmaRecord),
    Pages(Vec<(u64, Vec<u8>)>),
    Error(i32, Vec<u8>),
    Tail,
}

const PAGE: u64 = 4096;

fn path(rng: &mut Rng) -> Vec<u8> {
    let mut p = b"/".to_vec();
    for _ in 0..rng.below(40) {
        p.push(b"abcxyz/._-0123"[rng.below(14) as usize]);
    }
    p
}

/// A random tree of `n` processes: the number of children of each, in
/// image (depth-first) order.
fn tree_shape(rng: &mut Rng, n: u32) -> Vec<u32> {
    if n == 0 {
        return Vec::new();
    }
    let mut sizes = Vec::new();
    let mut left = n - 1;
    while left > 0 {
        let size = 1 + rng.below(left as u64) as u32;
        sizes.push(size);
        left -= size;
    }
    let mut shape = vec![sizes.len() as u32];
    for size in sizes {
        shape.extend(tree_shape(rng, size));
    }
    shape
}

/// Generates a random valid image as a list of records.
fn gen_image(rng: &mut Rng) -> Vec<Rec> {
    let mut recs = vec![Rec::Header(sample_header())];
    let mut objects = 0u32;
    let mut pipes = 0u32;
    let mut pty_masters: Vec<u32> = Vec::new();
    let mut segments = 0u32;
    let tasks = rng.below(5) as u32;
    // The number of children of each process, in image order.
    let shape = tree_shape(rng, tasks);
    for (index, &children) in shape.iter().enumerate() {
        let mut task = TaskRecord::zeroed();
        let comm_len = rng.below(16) as usize;
        for b in task.comm.iter_mut().take(comm_len) {
            *b = b'a' + rng.below(26) as u8;
        }
        task.exit_signal = rng.below(65) as i32;
        task.set_child_tid = rng.below(USER_ADDR_LIMIT);
        task.sigblocked = rng.next_u64();
        task.pid = rng.below(1 << 22) as i32;
        if index > 0 {
            // Every process but the root leads its thread group.
            task.pid += 1;
            task.tgid = task.pid;
        }
        if index > 0 && children == 0 && rng.chance(4) {
            // A leaf may be a zombie, with any status wait(2) reports.
            let status = match rng.below(3) {
                0 => (rng.below(256) as u32) << 8,
                1 => 1 + rng.below(64) as u32,
                _ => 0x80 | (1 + rng.below(64) as u32),
            };
            recs.push(Rec::Zombie(ZombieRecord {
                pid: task.pid,
                pgid: 1 + rng.below(1 << 22) as i32,
                sid: 1 + rng.below(1 << 22) as i32,
                exit_signal: task.exit_signal,
                status,
                uid: rng.next_u64() as u32,
                comm: task.comm,
            }));
            continue;
        }
        recs.push(Rec::Task(task));
        let mut actions = vec![SigactionRecord::zeroed(); NSIG as usize];
        for (i, a) in actions.iter_mut().enumerate() {
            if (1u64 << i) & UNCATCHABLE_SIGNALS != 0 {
                continue;
            }
            match rng.below(3) {
                0 => {}
                1 => a.handler = SIG_IGN,
                _ => {
                    a.handler = rng.below(USER_ADDR_LIMIT);
                    a.flags = rng.next_u64() & SA_FLAGS_KNOWN;
                    a.restorer = rng.below(USER_ADDR_LIMIT);
                    a.mask = rng.next_u64() & !UNCATCHABLE_SIGNALS;
                }
            }
        }
        let signals = SignalsRecord {
            altstack_sp: 0,
            altstack_size: 0,
            altstack_flags: SS_DISABLE,
            count: NSIG,
        };
        recs.push(Rec::Signals(signals, actions));
        let mut rlimits = RlimitsRecord {
            limits: [Rlimit { cur: 0, max: 0 }; RLIM_NLIMITS],
        };
        for l in rlimits.limits.iter_mut() {
            l.max = if rng.chance(50) {
                RLIM_INFINITY
            } else {
                rng.next_u64()
            };
            l.cur = if rng.chance(50) {
                l.max
            } else {
                rng.below(l.max)
            };
        }
        recs.push(Rec::Rlimits(rlimits));
        let mut itimers = ItimersRecord {
            timers: [Itimer {
                value_ns: 0,
                interval_ns: 0,
            }; NR_ITIMERS],
        };
        for t in itimers.timers.iter_mut() {
            t.value_ns = rng.below(ITIMER_MAX_NS + 1);
            t.interval_ns = rng.below(ITIMER_MAX_NS + 1);
        }
        recs.push(Rec::Itimers(itimers));
        let mut timers = Vec::new();
        let mut next = 0u64;
        for _ in 0..rng.below(6) {
            let id = next + rng.below(1000);
            if id > MAX_POSIX_TIMER_ID as u64 {
                break;
            }
            next = id + 1;
            let clock = POSIX_TIMER_CLOCKS[rng.below(POSIX_TIMER_CLOCKS.len() as u64) as usize];
            let notify =
                [SIGEV_SIGNAL, SIGEV_NONE, SIGEV_THREAD, SIGEV_THREAD_ID][rng.below(4) as usize];
            let value_ns = rng.below(ITIMER_MAX_NS + 1);
            timers.push(PosixTimer {
                id: id as u32,
                clock,
                notify,
                signo: if notify == SIGEV_NONE {
                    0
                } else {
                    1 + rng.below(NSIG as u64) as u32
                },
                value: rng.next_u64(),
                value_ns,
                interval_ns: rng.below(ITIMER_MAX_NS + 1),
                overrun: rng.below(i32::MAX as u64 + 1) as u32,
                flags: if clock == CLOCK_REALTIME && value_ns != 0 && rng.chance(50) {
                    POSIX_TIMER_ABSTIME
                } else {
                    0
                },
            });
        }
        let next_id = rng.below(MAX_POSIX_TIMER_ID as u64 + 1) as u32;
        recs.push(Rec::PosixTimers(next_id, timers));
        let id = |rng: &mut Rng| rng.below(INVALID_ID as u64) as u32;
        let permitted = rng.next_u64() & CAP_VALID_MASK;
        let inheritable = rng.next_u64() & CAP_VALID_MASK;
        let groups: Vec<u32> = (0..rng.below(40)).map(|_| id(rng)).collect();
        let creds = CredsRecord {
            uid: id(rng),
            euid: id(rng),
            suid: id(rng),
            fsuid: id(rng),
            gid: id(rng),
            egid: id(rng),
            sgid: id(rng),
            fsgid: id(rng),
            cap_inheritable: inheritable,
            cap_permitted: permitted,
            cap_effective: permitted & rng.next_u64(),
            cap_bset: rng.next_u64() & CAP_VALID_MASK,
            cap_ambient: permitted & inheritable & rng.next_u64(),
            securebits: rng.below(SECUREBITS_MASK as u64 + 1) as u32,
            ngroups: groups.len() as u32,
        };
        recs.push(Rec::Creds(creds, groups));
        let mut sched = SchedRecord {
            policy: [SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_IDLE]
                [rng.below(5) as usize],
            rt_priority: 0,
            nice: 0,
            flags: rng.below(2) as u32 * SCHED_FLAG_RESET_ON_FORK,
            timer_slack_ns: 0,
            affinity: [0; AFFINITY_CPUS / 64],
        };
        if sched.policy == SCHED_FIFO || sched.policy == SCHED_RR {
            sched.rt_priority = 1 + rng.below(MAX_RT_PRIORITY as u64) as u32;
        }
        sched.nice = rng.below(40) as i32 - 20;
        if rng.chance(50) {
            sched.flags |= SCHED_FLAG_AFFINITY;
            for w in sched.affinity.iter_mut() {
                *w = rng.next_u64();
            }
            sched.affinity[0] |= 1;
        }
        if rng.chance(50) {
            sched.flags |= SCHED_FLAG_TIMER_SLACK;
            sched.timer_slack_ns = 1 + rng.below(ITIMER_MAX_NS);
        }
        recs.push(Rec::Sched(sched));
        let mut pending = Vec::new();
        for _ in 0..rng.below(5) {
            let signo = loop {
                let s = 1 + rng.below(NSIG as u64) as u32;
                if (1u64 << (s - 1)) & UNCATCHABLE_SIGNALS == 0 {
                    break s;
                }
            };
            let mut info = [0u64; SIGINFO_SIZE / 8];
            for w in info.iter_mut() {
                *w = rng.next_u64();
            }
            // si_signo is the signal; si_code anything but SI_TIMER.
            info[0] = (info[0] & !0xffff_ffff) | signo as u64;
            info[1] &= !0xffff_ffff;
            pending.push(PendingSignal {
                queue: rng.below(2) as u32,
                signo,
                info,
            });
        }
        recs.push(Rec::SigPending(pending.clone()));
        let mut cpu = CpuRecord::zeroed();
        cpu.r8 = rng.next_u64();
        cpu.r15 = rng.next_u64();
        cpu.ip = rng.next_u64();
        cpu.sp = rng.next_u64();
        cpu.cs = parser::X86_64_USER_CS;
        cpu.ss = parser::X86_64_USER_DS;
        cpu.fs_base = rng.below(USER_ADDR_LIMIT);
        recs.push(Rec::Cpu(cpu));
        let xs = (MIN_XSTATE_SIZE as u64 + rng.below(3000)) as usize;
        let xstate: Vec<u8> = (0..xs).map(|_| rng.next_u64() as u8).collect();
        recs.push(Rec::Fpu(
            FpuRecord {
                xstate_size: xs as u32,
                _pad: 0,
                xfeatures: rng.next_u64(),
            },
            xstate,
        ));
        for _ in 0..rng.below(3) {
            let mut thread = ThreadRecord::zeroed();
            thread.task.tgid = task.tgid;
            thread.task.pid = task.tgid + 1 + rng.below(1 << 20) as i32;
            thread.task.sigblocked = rng.next_u64();
            thread.task.clear_child_tid = rng.below(USER_ADDR_LIMIT);
            thread.altstack_flags = SS_DISABLE;
            recs.push(Rec::Thread(thread));
            if rng.chance(50) {
                // Its own scheduling settings.
                recs.push(Rec::Sched(SchedRecord {
                    nice: rng.below(40) as i32 - 20,
                    ..sched
                }));
            }
            let pending = pending
                .iter()
                .map(|p| PendingSignal {
                    queue: SIGQUEUE_THREAD,
                    ..*p
                })
                .collect();
            recs.push(Rec::SigPending(pending));
            let mut thread_cpu = cpu;
            thread_cpu.ip = rng.next_u64();
            recs.push(Rec::Cpu(thread_cpu));
            recs.push(Rec::Fpu(
                FpuRecord {
                    xstate_size: MIN_XSTATE_SIZE,
                    _pad: 0,
                    xfeatures: 3,
                },
                vec![0u8; MIN_XSTATE_SIZE as usize],
            ));
        }
        recs.push(Rec::Fs(
            FsRecord {
                umask: rng.below(0o1000) as u32,
                shared_with: 0,
            },
            path(rng),
        ));
        let nfds = rng.below(6) as u32;
        recs.push(Rec::FilesTable(FilesTableRecord {
            count: nfds,
            shared_with: 0,
        }));
        let mut fd = 0u32;
        for _ in 0..nfds {
            let file_ref = if objects == 0 || rng.chance(50) {
                objects += 1;
                let kind = if rng.chance(7) {
                    FileKind::Inotify as u32
                } else if rng.chance(6) {
                    FileKind::PtyMaster as u32
                } else if !pty_masters.is_empty() && rng.chance(6) {
                    FileKind::PtySlave as u32
                } else {
                    1 + rng.below(13) as u32
                };
                let device = kind == FileKind::CharDevice as u32;
                if kind == FileKind::PtyMaster as u32 {
                    pty_masters.push(objects);
                    recs.push(Rec::PtyMaster(
                        FileObjectRecord {
                            objref: objects,
                            kind,
                            flags: rng.below(3) as u32 | [0, 0o4000][rng.below(2) as usize],
                            device_or_pipe: 0,
                            pos: 0,
                        },
                        path(rng),
                        PtyPairRecord {
                            index: rng.below(MAX_PTY_INDEX as u64 + 1) as u32,
                            flags: rng.below(PTY_FLAGS as u64 + 1) as u32,
                            packet_status: rng.below(256) as u32,
                            _pad: 0,
                            master: random_tty(rng),
                            slave: random_tty(rng),
                        },
                    ));
                    for side in 0..2 {
                        let read_len = rng.below(PTY_LINE_BUFFER as u64 + 1) as u32;
                        let pending_len = rng.below(MAX_PTY_PENDING as u64 + 1) as u32;
                        let queue = PtyQueueRecord {
                            side,
                            read_len,
                            canon_len: rng.below(read_len as u64 + 1) as u32,
                            line_start: rng.below(read_len as u64 + 1) as u32,
                            pending_len,
                            flags: rng.below(PTY_QUEUE_FLAGS as u64 + 1) as u32,
                            column: rng.next_u64() as u32,
                            canon_column: rng.next_u64() as u32,
                        };
                        let body = (0..queue.body_len())
                            .map(|_| rng.below(256) as u8)
                            .collect();
                        recs.push(Rec::PtyQueue(queue, body));
                    }
                } else if kind == FileKind::PtySlave as u32 {
                    recs.push(Rec::PtySlave(FileObjectRecord {
                        objref: objects,
                        kind,
                        flags: rng.below(3) as u32,
                        device_or_pipe: pty_masters[rng.below(pty_masters.len() as u64) as usize],
                        pos: 0,
                    }));
                } else if kind == FileKind::Inotify as u32 {
                    let count = rng.below(4) as u32;
                    recs.push(Rec::Inotify(
                        FileObjectRecord {
                            objref: objects,
                            kind,
                            flags: [0, 0o4000][rng.below(2) as usize],
                            device_or_pipe: 0,
                            pos: 0,
                        },
                        count,
                        rng.below(i32::MAX as u64 + 1) as u32,
                    ));
                    let mut wd = 0i32;
                    for _ in 0..count {
                        wd += 1 + rng.below(1000) as i32;
                        let mask = (1 + rng.below(0xfff) as u32)
                            | [0, 0x0400_0000, 0x8000_0000][rng.below(3) as usize];
                        recs.push(Rec::InotifyWatch(wd, mask, path(rng)));
                    }
                } else if kind == FileKind::DeletedFile as u32
                    || kind == FileKind::Memfd as u32
                    || kind == FileKind::SharedMemory as u32
                {
                    let shared = kind == FileKind::SharedMemory as u32;
                    let size = if shared {
                        PAGE * (1 + rng.below(80))
                    } else {
                        rng.below(300_000)
                    };
                    let file = FileObjectRecord {
                        objref: objects,
                        kind,
                        flags: if shared { 0o2 } else { rng.below(3) as u32 },
                        device_or_pipe: 0,
                        pos: if shared { 0 } else { rng.below(1 << 20) as i64 },
                    };
                    let mode = rng.below(0o10000) as u32;
                    recs.push(if shared {
                        Rec::SharedMemory(file, size)
                    } else if kind == FileKind::Memfd as u32 {
                        let name = (0..rng.below(MAX_MEMFD_NAME as u64 + 1))
                            .map(|_| b"abc:xyz /._-01"[rng.below(14) as usize])
                            .collect();
                        Rec::Memfd(
                            file,
                            name,
                            size,
                            rng.below(MEMFD_SEALS as u64 + 1) as u32,
                            mode,
                        )
                    } else {
                        Rec::Deleted(file, path(rng), size, mode)
                    });
                    // Ranges of contents in order, then the empty record.
                    let mut at = 0;
                    while at < size && rng.chance(70) {
                        let offset = at + rng.below(size - at);
                        let len = (1 + rng.below(MAX_FILE_DATA as u64)).min(size - offset) as usize;
                        recs.push(Rec::FileData(
                            offset,
                            (0..len).map(|_| rng.below(256) as u8).collect(),
                        ));
                        at = offset + len as u64;
                    }
                    recs.push(Rec::FileData(at + rng.below(size - at + 1), Vec::new()));
                } else if kind == FileKind::EventPoll as u32 {
                    // Watches of files defined before the set.
                    let watches = (0..rng.below(5).min(objects as u64 - 1))
                        .map(|_| EpollWatch {
                            file_ref: 1 + rng.below(objects as u64 - 1) as u32,
                            fd: rng.below(FD_LIMIT as u64) as u32,
                            events: rng.next_u64() as u32 & EPOLL_EVENTS_KNOWN,
                            _pad: 0,
                            data: rng.next_u64(),
                        })
                        .collect();
                    recs.push(Rec::Epoll(
                        FileObjectRecord {
                            objref: objects,
                            kind,
                            flags: 0o2,
                            device_or_pipe: 0,
                            pos: 0,
                        },
                        watches,
                    ));
                } else if kind == FileKind::Terminal as u32 {
                    recs.push(Rec::Terminal(
                        FileObjectRecord {
                            objref: objects,
                            kind,
                            flags: rng.below(3) as u32 | 0o4000,
                            device_or_pipe: 1 + rng.below(0xfff_ffff) as u32,
                            pos: 0,
                        },
                        path(rng),
                        random_tty(rng),
                    ));
                } else if kind >= FileKind::Pipe as u32 {
                    // An end of a new pipe, or of one defined before.
                    let pipe = if pipes == 0 || rng.chance(50) {
                        pipes += 1;
                        let size = (PAGE as u32) << rng.below(9);
                        let data: Vec<u8> = (0..rng.below(3000).min(size.into()))
                            .map(|_| rng.below(256) as u8)
                            .collect();
                        recs.push(Rec::Pipe(
                            PipeRecord {
                                pipe: pipes,
                                size,
                                data_len: data.len() as u32,
                                _pad: 0,
                            },
                            data,
                        ));
                        pipes
                    } else {
                        1 + rng.below(pipes.into()) as u32
                    };
                    let fifo = kind == FileKind::Fifo as u32;
                    let file = FileObjectRecord {
                        objref: objects,
                        kind,
                        flags: rng.below(if fifo { 3 } else { 2 }) as u32
                            | if rng.chance(50) { 0o4000 } else { 0 },
                        device_or_pipe: pipe,
                        pos: 0,
                    };
                    recs.push(if fifo {
                        Rec::FileObject(file, path(rng))
                    } else {
                        Rec::PipeEnd(file)
                    });
                } else if kind >= FileKind::EventFd as u32 {
                    let state = if kind == FileKind::EventFd as u32 {
                        [rng.below(u64::MAX), rng.below(2), 0, 0]
                    } else if kind == FileKind::SignalFd as u32 {
                        [rng.next_u64() & !UNCATCHABLE_SIGNALS, 0, 0, 0]
                    } else {
                        [
                            TIMERFD_CLOCKS[rng.below(3) as usize] | rng.below(4) << 32,
                            rng.below(ITIMER_MAX_NS + 1),
                            rng.below(ITIMER_MAX_NS + 1),
                            rng.next_u64(),
                        ]
                    };
                    recs.push(Rec::StateFile(
                        FileObjectRecord {
                            objref: objects,
                            kind,
                            flags: if rng.chance(50) {
                                STATE_FILE_FLAGS
                            } else {
                                0o2
                            },
                            device_or_pipe: 0,
                            pos: 0,
                        },
                        FileStateRecord { words: state },
                    ));
                } else {
                    recs.push(Rec::FileObject(
                        FileObjectRecord {
                            objref: objects,
                            kind,
                            flags: rng.below(3) as u32 | 0o2000,
                            device_or_pipe: if device {
                                SAVED_CHAR_DEVICES
                                    [rng.below(SAVED_CHAR_DEVICES.len() as u64) as usize]
                            } else {
                                0
                            },
                            pos: if device { 0 } else { rng.below(1 << 40) as i64 },
                        },
                        path(rng),
                    ));
                }
                objects
            } else {
                1 + rng.below(objects as u64) as u32
            };
            fd += rng.below(5) as u32;
            recs.push(Rec::Fd(FdRecord {
                fd,
                flags: rng.below(2) as u32,
                file_ref,
                _pad: 0,
            }));
            fd += 1;
        }
        if rng.below(3) == 0 {
            recs.push(Rec::Ctty(CttyRecord {
                file_ref: rng.below(objects as u64 + 1) as u32,
                flags: rng.below(CTTY_FLAGS as u64 + 1) as u32,
            }));
        }
        let nvmas = rng.below(5) as u32;
        let mut mm = MmRecord::zeroed();
        let mut auxv = Vec::new();
        for _ in 0..rng.below(MAX_AUXV_WORDS as u64 / 2) {
            auxv.push(1 + rng.below(50));
            auxv.push(rng.next_u64());
        }
        auxv.extend_from_slice(&[0, 0]);
        mm.auxv_words = auxv.len() as u32;
        mm.start_brk = 0x60_0000;
        mm.brk = 0x60_0000 + rng.below(100) * PAGE;
        mm.vdso_base = rng.below(1000) * PAGE;
        mm.vma_count = nvmas;
        recs.push(Rec::Mm(mm, auxv));
        let mut next = 0x1000 * (1 + rng.below(16));
        let mut vmas = Vec::new();
        for _ in 0..nvmas {
            let start = next + PAGE * rng.below(4);
            let end = start + PAGE * (1 + rng.below(80));
            next = end;
            let file = rng.chance(40);
            let attach = file && rng.chance(30);
            let file_ref = if attach {
                // An attach of a new SysV segment (with its contents), or
                // of one defined before.
                if segments == 0 || rng.chance(50) {
                    segments += 1;
                    let size = 1 + rng.below(300_000);
                    let removed = rng.chance(50);
                    recs.push(Rec::ShmSegment(ShmSegmentRecord {
                        segment: segments,
                        id: rng.below(i32::MAX as u64) as i32,
                        key: if removed { 0 } else { rng.next_u64() as i32 },
                        mode: rng.below(0o1000) as u32 | if removed { SHM_MODE_REMOVED } else { 0 },
                        uid: rng.below(u32::MAX as u64) as u32,
                        gid: rng.below(u32::MAX as u64) as u32,
                        size,
                    }));
                    if size > 10 {
                        recs.push(Rec::FileData(5, vec![7u8; 5]));
                    }
                    recs.push(Rec::FileData(size, Vec::new()));
                }
                objects += 1;
                recs.push(Rec::ShmAttach(FileObjectRecord {
                    objref: objects,
                    kind: FileKind::SysvShm as u32,
                    flags: [0, 2][rng.below(2) as usize],
                    device_or_pipe: if matches!(recs.last(), Some(Rec::FileData(..))) {
                        segments
                    } else {
                        1 + rng.below(segments as u64) as u32
                    },
                    pos: 0,
                }));
                objects
            } else if file {
                if objects == 0 || rng.chance(30) {
                    objects += 1;
                    recs.push(Rec::FileObject(
                        FileObjectRecord {
                            objref: objects,
                            kind: 1,
                            flags: 0,
                            device_or_pipe: 0,
                            pos: 0,
                        },
                        path(rng),
                    ));
                    objects
                } else {
                    1 + rng.below(objects as u64) as u32
                }
            } else {
                0
            };
            let kind = if file {
                VmaKind::File as u32
            } else {
                [1, 3, 4][rng.below(3) as usize]
            };
            let mut flags = rng.below(8192) as u32 & VMA_FLAGS_MASK;
            // Only what the kernel can have together.
            if flags & VMA_HUGEPAGE != 0 {
                flags &= !VMA_NOHUGEPAGE;
            }
            if flags & VMA_SEQUENTIAL != 0 {
                flags &= !VMA_RANDOM;
            }
            if kind != VmaKind::Anonymous as u32 {
                flags &= !VMA_WIPEONFORK;
            }
            if flags & VMA_LOCKED == 0 {
                flags &= !VMA_LOCK_ON_FAULT;
            }
            if !file || flags & (VMA_GROWSDOWN | VMA_STACK | VMA_HEAP) != 0 {
                flags &= !VMA_SHARED;
            }
            if attach {
                flags = VMA_SHARED | (flags & (VMA_LOCKED | VMA_DONTFORK | VMA_DONTDUMP));
            }
            let vma = VmaRecord {
                start,
                end,
                pgoff: if file { rng.below(1000) } else { 0 },
                prot: rng.below(8) as u32,
                flags,
                kind,
                file_ref,
            };
            vmas.push(vma);
            recs.push(Rec::Vma(vma));
        }
        // The pages of all the private areas, in chunks that may span
        // areas (a shared area's pages are in its file).
        let mut addrs = vmas
            .iter()
            .filter(|v| v.flags & VMA_SHARED == 0)
            .flat_map(|v| (v.start..v.end).step_by(PAGE as usize))
            .peekable();
        while addrs.peek().is_some() {
            let mut chunk = Vec::new();
            let want = 1 + rng.below(MAX_CHUNK_PAGES as u64);
            while (chunk.len() as u64) < want {
                let Some(addr) = addrs.next() else { break };
                if rng.chance(60) {
                    let data: Vec<u8> = (0..PAGE).map(|_| rng.next_u64() as u8).collect();
                    chunk.push((addr, data));
                }
            }
            if !chunk.is_empty() {
                recs.push(Rec::Pages(chunk));
            }
        }
        if !vmas.is_empty() {
            recs.push(Rec::Pages(Vec::new()));
        }
        if children > 0 {
            recs.push(Rec::Children(children));
        }
    }
    if rng.chance(10) {
        recs.push(Rec::Error(1 + rng.below(133) as i32, path(rng)));
    } else {
        recs.push(Rec::Tail);
    }
    recs
}

struct VecSink(Vec<u8>);

impl Sink for VecSink {
    fn write_all(&mut self, buf: &[u8]) -> Result {
        self.0.extend_from_slice(buf);
        Ok(())
    }
}

fn encode(recs: &[Rec], wbuf_len: usize) -> Vec<u8> {
    let mut wbuf = vec![0u8; wbuf_len];
    let mut w = ImageWriter::new(VecSink(Vec::new()), &mut wbuf);
    for r in recs {
        match r {
            Rec::Header(h) => w.write_record(h),
            Rec::Task(t) => w.write_record(t),
            Rec::Thread(t) => w.write_record(t),
            Rec::Children(count) => w.write_record(&ChildrenRecord {
                count: *count,
                _pad: 0,
            }),
            Rec::Zombie(z) => w.write_record(z),
            Rec::Signals(sig, actions) => w.write_signals(sig, |i| Ok(actions[i])),
            Rec::Rlimits(r) => w.write_record(r),
            Rec::Itimers(t) => w.write_record(t),
            Rec::PosixTimers(next_id, timers) => w.write_posix_timers(*next_id, timers),
            Rec::Creds(c, g) => w.write_creds(c, g),
            Rec::Sched(s) => w.write_record(s),
            Rec::SigPending(p) => w.write_pending_signals(p.len(), |i| Ok(p[i])),
            Rec::Cpu(c) => w.write_record(c),
            Rec::Fpu(f, x) => w.write_fpu(f.xfeatures, x),
            Rec::Fs(f, p) => w.write_fs(f, p),
            Rec::FilesTable(t) => w.write_record(t),
            Rec::FileObject(f, p) => w.write_file_object(f, p),
            Rec::StateFile(f, state) => w.write_file_object_state(f, state),
            Rec::Pipe(pipe, data) => w.write_pipe(pipe.pipe, pipe.size, data),
            Rec::PipeEnd(f) => w.write_record(f),
            Rec::Terminal(f, p, tty) => w.write_file_object_terminal(f, p, tty),
            Rec::Epoll(f, watches) => w.write_file_object_epoll(f, watches),
            Rec::Deleted(f, dir, size, mode) => w.write_file_object_deleted(f, dir, *size, *mode),
            Rec::Memfd(f, name, size, seals, mode) => {
                w.write_file_object_memfd(f, name, *size, *seals, *mode)
            }
            Rec::SharedMemory(f, size) => w.write_file_object_shared_memory(f, *size),
            Rec::ShmSegment(seg) => w.write_shm_segment(seg),
            Rec::ShmAttach(f) => w.write_record(f),
            Rec::Inotify(f, count, next_wd) => w.write_file_object_inotify(f, *count, *next_wd),
            Rec::InotifyWatch(wd, mask, path) => w.write_inotify_watch(*wd, *mask, path),
            Rec::PtyMaster(f, ptmx, pair) => w.write_file_object_pty_master(f, ptmx, pair),
            Rec::PtyQueue(q, body) => {
                let (read, line_ends, pending) = q.split_body(body).expect("a whole body");
                w.write_pty_queue(q, read, line_ends, pending)
            }
            Rec::PtySlave(f) => w.write_record(f),
            Rec::FileData(offset, data) => w.write_file_data(*offset, data),
            Rec::Fd(f) => w.write_record(f),
            Rec::Ctty(c) => w.write_record(c),
            Rec::Mm(m, a) => w.write_mm(m, a),
            Rec::Vma(v) => w.write_record(v),
            Rec::Pages(pages) => {
                let addrs: Vec<u64> = pages.iter().map(|(a, _)| *a).collect();
                let data: Vec<u8> = pages.iter().flat_map(|(_, d)| d.iter().copied()).collect();
                w.write_page_chunk(&addrs, &data)
            }
            Rec::Error(e, m) => w.write_error(*e, m),
            Rec::Tail => break,
        }
        .expect("writing a valid record");
    }
    if matches!(recs.last(), Some(Rec::Tail)) {
        w.finish().expect("finishing").0
    } else {
        // An image ending in an error record: flush without a tail.
        let mut out = w.finish().expect("finishing").0;
        out.truncate(out.len() - 32);
        out
    }
}

/// Parses an image back into records; `Err` with the errno on rejection.
fn decode(image: &[u8], chunk: usize) -> std::result::Result<Vec<Rec>, Errno> {
    let mut rbuf = vec![0u8; 4096];
    let mut strings = vec![0u8; MAX_STRING_LEN as usize];
    let mut p = ImageParser::new(
        SliceSource::new(image, chunk),
        &mut rbuf,
        &mut strings,
        Vec::<VmaRecord>::new(),
    )?;
    let mut out = Vec::new();
    loop {
        let rec = match p.next_item()? {
            Item::Header(h) => Rec::Header(h),
            Item::Task(t) => Rec::Task(t),
            Item::Thread(t) => Rec::Thread(t),
            Item::Children { count } => Rec::Children(count),
            Item::Zombie(z) => Rec::Zombie(z),
            Item::Signals(sig) => {
                let mut actions = Vec::new();
                for _ in 0..NSIG {
                    actions.push(p.read_sigaction()?);
                }
                Rec::Signals(sig, actions)
            }
            Item::Rlimits(r) => Rec::Rlimits(r),
            Item::Itimers(t) => Rec::Itimers(t),
            Item::PosixTimers(rec) => {
                let mut timers = Vec::new();
                for _ in 0..rec.count {
                    timers.push(p.read_posix_timer()?);
                }
                Rec::PosixTimers(rec.next_id, timers)
            }
            Item::Creds(c) => {
                let mut groups = vec![0u32; c.ngroups as usize];
                p.read_groups(&mut groups)?;
                Rec::Creds(c, groups)
            }
            Item::Sched(s) => Rec::Sched(s),
            Item::SigPending(rec) => {
                let mut pending = Vec::new();
                for _ in 0..rec.count {
                    pending.push(p.read_pending_signal()?);
                }
                Rec::SigPending(pending)
            }
            Item::Cpu(c) => Rec::Cpu(c),
            Item::Fpu(f) => {
                let mut x = vec![0u8; f.xstate_size as usize];
                p.read_xstate(&mut x)?;
                Rec::Fpu(f, x)
            }
            Item::Fs(f, path) => Rec::Fs(f, path.to_vec()),
            Item::FilesTable(t) => Rec::FilesTable(t),
            Item::FileObject(f, FileSource::Path(path)) => Rec::FileObject(f, path.to_vec()),
            Item::FileObject(f, FileSource::State(state)) => Rec::StateFile(f, state),
            Item::FileObject(f, FileSource::PipeEnd) => Rec::PipeEnd(f),
            Item::FileObject(f, FileSource::ShmAttach) => Rec::ShmAttach(f),
            Item::ShmSegment(seg) => Rec::ShmSegment(seg),
            Item::FileObject(f, FileSource::Inotify { count, next_wd }) => {
                Rec::Inotify(f, count, next_wd)
            }
            Item::InotifyWatch { wd, mask, path } => Rec::InotifyWatch(wd, mask, path.to_vec()),
            Item::FileObject(f, FileSource::PtyMaster { ptmx, pair }) => {
                Rec::PtyMaster(f, ptmx.to_vec(), pair)
            }
            Item::PtyQueue(q) => {
                let mut body = vec![0u8; q.body_len()];
                p.read_pty_queue(&mut body)?;
                Rec::PtyQueue(q, body)
            }
            Item::FileObject(f, FileSource::PtySlave) => Rec::PtySlave(f),
            Item::FileObject(
                f,
                FileSource::Memfd {
                    name,
                    size,
                    seals,
                    mode,
                },
            ) => Rec::Memfd(f, name.to_vec(), size, seals, mode),
            Item::FileObject(f, FileSource::SharedMemory { size }) => Rec::SharedMemory(f, size),
            Item::FileObject(f, FileSource::Deleted { dir, size, mode }) => {
                Rec::Deleted(f, dir.to_vec(), size, mode)
            }
            Item::FileData { offset, len } => {
                let mut data = vec![0u8; len];
                p.read_file_data(&mut data)?;
                Rec::FileData(offset, data)
            }
            Item::FileObject(f, FileSource::EpollSet { count }) => {
                let mut watches = Vec::new();
                for _ in 0..count {
                    watches.push(p.read_epoll_watch()?);
                }
                Rec::Epoll(f, watches)
            }
            Item::FileObject(f, FileSource::Terminal(path, tty)) => {
                Rec::Terminal(f, path.to_vec(), tty)
            }
            Item::Pipe(pipe) => {
                let mut data = vec![0u8; pipe.data_len as usize];
                p.read_pipe_data(&mut data)?;
                Rec::Pipe(pipe, data)
            }
            Item::Fd(f) => Rec::Fd(f),
            Item::Ctty(c) => Rec::Ctty(c),
            Item::Mm(m) => {
                let mut auxv = vec![0u64; m.auxv_words as usize];
                p.read_auxv(&mut auxv)?;
                Rec::Mm(m, auxv)
            }
            Item::Vma(v) => Rec::Vma(v),
            Item::PageChunk { count } => {
                let mut pages = Vec::new();
                for _ in 0..count {
                    let mut d = vec![0u8; p.page_size()];
                    let a = p.read_page(&mut d)?;
                    pages.push((a, d));
                }
                Rec::Pages(pages)
            }
            Item::Error { errno, message } => {
                out.push(Rec::Error(errno, message.to_vec()));
                return Ok(out);
            }
            Item::Tail => {
                out.push(Rec::Tail);
                return Ok(out);
            }
        };
        out.push(rec);
    }
}

#[test]
fn random_valid_images_roundtrip() {
    let corpus = std::env::var_os("CKPT_CORPUS_DIR").map(std::path::PathBuf::from);
    if let Some(dir) = &corpus {
        std::fs::create_dir_all(dir).expect("corpus directory");
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for case in 0..300 {
        let recs = gen_image(&mut rng);
        let wbuf = [1usize, 100, 4096, 70_000][case % 4];
        let image = encode(&recs, wbuf);
        let chunk = [1usize, 13, 4096, 1 << 20][(case / 4) % 4];
        if chunk == 1 && image.len() > 200_000 {
            continue; // byte-at-a-time reads of big images are slow
        }
        let back = decode(&image, chunk);
        assert_eq!(back.as_ref(), Ok(&recs), "case {case}");
        if let (Some(dir), true) = (&corpus, case % 10 == 0) {
            std::fs::write(dir.join(format!("valid-{case}")), &image).expect("corpus file");
        }
    }
}

#[test]
fn mutated_images_never_panic() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for _ in 0..150 {
        let recs = gen_image(&mut rng);
        let image = encode(&recs, 4096);
        for _ in 0..20 {
            let mut bad = image.clone();
            match rng.below(4) {
                0 => {
                    let at = rng.below(bad.len() as u64) as usize;
                    bad[at] ^= 1 << rng.below(8);
                }
                1 => bad.truncate(rng.below(bad.len() as u64) as usize),
                2 => {
                    let at = rng.below(bad.len() as u64 / 4) as usize * 4;
                    let v =
                        [0u32, 1, 7, u32::MAX, MAX_RECORD_LEN, 0x8000_0000][rng.below(6) as usize];
                    if at + 4 <= bad.len() {
                        bad[at..at + 4].copy_from_slice(&v.to_le_bytes());
                    }
                }
                _ => {
                    let at = rng.below(bad.len() as u64) as usize;
                    let extra: Vec<u8> = (0..rng.below(64)).map(|_| rng.next_u64() as u8).collect();
                    bad.splice(at..at, extra);
                }
            }
            // Any outcome but a panic is fine; a changed image that still
            // parses must not parse to the original records with a
            // different tail (the checksum covers every byte).
            if let Ok(back) = decode(&bad, 4096) {
                if bad != image && matches!(back.last(), Some(Rec::Tail)) {
                    assert_ne!(back, recs, "a corrupted image parsed as the original");
                }
            }
        }
    }
}

/// Random terminal settings, as an image may hold them.
fn random_tty(rng: &mut Rng) -> TtyRecord {
    let mut cc = [0u8; TTY_NCCS];
    for c in cc.iter_mut() {
        *c = rng.below(256) as u8;
    }
    TtyRecord {
        iflag: rng.next_u64() as u32,
        oflag: rng.next_u64() as u32,
        cflag: rng.next_u64() as u32,
        lflag: rng.next_u64() as u32,
        ispeed: rng.next_u64() as u32,
        ospeed: rng.next_u64() as u32,
        rows: rng.below(1 << 16) as u16,
        cols: rng.below(1 << 16) as u16,
        xpixel: rng.below(1 << 16) as u16,
        ypixel: rng.below(1 << 16) as u16,
        line: 0,
        cc,
        _pad: [0; 4],
    }
}
