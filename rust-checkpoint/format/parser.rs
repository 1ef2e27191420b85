// SPDX-License-Identifier: GPL-2.0

//! The image parser: the grammar of an image and the validation of every
//! record in it.
//!
//! [`ImageReader`] checks records one by one (lengths, types, checksum);
//! [`ImageParser`] on top of it enforces the order the format allows and
//! the meaning of each field, and hands back typed [`Item`]s.  Everything a
//! restart needs to know about the validity of an image is checked here,
//! once, so that the kernel and the host tools accept exactly the same
//! images.
//!
//! # Grammar
//!
//! ```text
//! image    := Header process? Tail
//! process  := task (Children child{count})?
//! child    := process | Zombie
//! task     := Task Signals Rlimits Itimers PosixTimers Creds Sched SigPending
//!             (Cpu Fpu)? (Thread Creds? Sched? SigPending Cpu Fpu)*
//!             Fs String(cwd) FilesTable (object? Fd){count} Ctty?
//!             object? Mm (object? Vma){vma_count} pages?
//! pages    := PageChunk(count > 0)* PageChunk(count = 0)
//! object   := FileObject (String(path) (Tty | DeletedFile data)?
//!                          | String(name) Memfd data
//!                          | SharedMemory data
//!                          | FileState | EpollWatches
//!                          | InotifyWatches (InotifyWatch String(path))*
//!                          | String(ptmx) PtyPair PtyQueue PtyQueue)?
//!           | Pipe FileObject String(path)?
//!           | ShmSegment data FileObject
//! data     := FileData(len > 0)* FileData(len = 0)
//! ```
//!
//! Which of the forms of `object` an object takes is set by its kind: a
//! file with a path has a string, one without a path a state, the end of
//! an anonymous pipe neither; a terminal's path is followed by its
//! settings, an epoll set by its interest list, whose files are defined
//! before it, and the path of an unlinked file's directory by the file's
//! size, mode and contents, as is a memfd's name; the object behind shared
//! anonymous memory has only a size and contents.  A pseudo-terminal
//! master's `ptmx` path is followed by its pair and the queues of both
//! sides; the slave of that pair refers to the master, defined before
//! it.  A `ShmSegment` record
//! defines a SysV shared memory segment and its contents; the file object
//! of an attach of it follows at once, and later attaches refer back to
//! it.  A `Pipe` record defines a pipe and its
//! data; the file object of one of its ends follows it at once, and the
//! other ends refer back to it.
//!
//! A task's `pages`, present when it has areas, hold the saved pages of all
//! its private areas in one sequence, in increasing address order; a
//! chunk may hold pages of several areas.
//!
//! An `Error` record may stand in place of any record after the header: the
//! checkpoint failed, and the image ends there.
//!
//! # Invariants of the items handed out
//!
//! - Every count is within its cap ([`MAX_VMAS`], [`MAX_FDS`],
//!   [`MAX_CHUNK_PAGES`], [`MAX_OBJECTS`]), every string has exactly one NUL,
//!   at its end, and every padding field is zero.
//! - Memory areas are page aligned, non-empty, below [`USER_ADDR_LIMIT`],
//!   sorted and not overlapping; page addresses are page aligned, strictly
//!   increasing across the task's pages, and each inside a private (not
//!   shared) area of the task.
//! - Object references are defined in order (1, 2, 3, ...) and every use
//!   refers to an object defined before it; so are pipe numbers, a
//!   sequence of their own, so that a file reference can never name a
//!   pipe.
//! - Fd numbers are below [`FD_LIMIT`] and strictly increasing in a table.
//! - A task has at most [`MAX_THREADS`] threads; every `Thread` record has
//!   the task's thread-group id and a thread id other than it, and its
//!   pending signals are all on the thread's own queue.  A `Sched` record
//!   after a `Thread` record is the thread's own.  The pending
//!   signals of all the threads of a task are at most
//!   [`MAX_PENDING_SIGNALS`] together.
//! - An image holds at most [`MAX_PROCESSES`] processes, nested at most
//!   [`MAX_TREE_DEPTH`] deep; every process but the first (the root) is
//!   a thread-group leader (`tgid` equal to `pid`, not 0), and the
//!   `Children` counts announce exactly the processes that follow.  A
//!   zombie is only ever a child, has no children, and holds a status
//!   `wait(2)` could report and a signal number up to [`NSIG`].

use super::reader::{ImageReader, PageTarget, Source};
use super::{
    align_record_len, cstr_field, ChildrenRecord, CpuRecord, CttyRecord, Errno, ErrorRecord,
    FdRecord, FileKind, FileObjectRecord, FilesTableRecord, FpuRecord, FsRecord, ImageHeader,
    ItimersRecord, MmRecord, PageChunkRecord, Pod, RecordHeader, RecordType, Result, RlimitsRecord,
    SigactionRecord, SignalsRecord, StringRecord, TaskRecord, ThreadRecord, VmaKind, VmaRecord,
    ZombieRecord, CTTY_FLAGS, FD_CLOEXEC_FLAG, FD_LIMIT, FUTEX_RESTART_CLOCK_REALTIME,
    FUTEX_RESTART_SHARED, ITIMER_MAX_NS, MAX_CHUNK_PAGES, MAX_FDS, MAX_GROUPS, MAX_OBJECTS,
    MAX_PROCESSES, MAX_STRING_LEN, MAX_THREADS, MAX_TREE_DEPTH, MAX_VMAS, MAX_XSTATE_SIZE,
    MIN_ALTSTACK_SIZE, MIN_XSTATE_SIZE, NSIG, RESTART_CLOCKS, RESTART_FUTEX_WAIT,
    RESTART_MAX_POLL_FDS, RESTART_NANOSLEEP, RESTART_NONE, RESTART_NO_TIMEOUT, RESTART_POLL,
    RSEQ_MAX_LEN, RSEQ_MIN_LEN, SA_FLAGS_KNOWN, SS_AUTODISARM, SS_DISABLE, TASK_FLAGS_KNOWN,
    TASK_FLAG_LEADER_EXITED, UNCATCHABLE_SIGNALS, USER_ADDR_LIMIT, VMA_FLAGS_MASK, VMA_GROWSDOWN,
    VMA_HEAP, VMA_HUGEPAGE, VMA_LOCKED, VMA_LOCK_ON_FAULT, VMA_NOHUGEPAGE, VMA_PROT_MASK,
    VMA_RANDOM, VMA_SEQUENTIAL, VMA_SHARED, VMA_STACK, VMA_WIPEONFORK,
};
use super::{
    auxv_ok, CredsRecord, PendingSignal, SchedRecord, SigPendingRecord, INVALID_ID, MAX_AUXV_WORDS,
    MAX_PENDING_SIGNALS, SIGQUEUE_PROCESS, SIGQUEUE_THREAD, SI_TIMER,
};
use super::{
    DeletedFileRecord, EpollWatch, EpollWatchesRecord, FileDataRecord, InotifyWatchRecord,
    InotifyWatchesRecord, MemfdRecord, PtyPairRecord, PtyQueueRecord, SharedMemoryRecord,
    ShmSegmentRecord, EPOLL_EVENTS_KNOWN, INOTIFY_WATCH_BITS, MAX_DELETED_FILE_SIZE,
    MAX_EPOLL_WATCHES, MAX_FILE_DATA, MAX_INOTIFY_WATCHES, MAX_MEMFD_NAME, MAX_SHARED_MEMORY_SIZE,
    MEMFD_SEALS,
};
use super::{
    FileStateRecord, PipeRecord, PosixTimer, PosixTimersRecord, TtyRecord,
    MAX_OBJECTS as MAX_PIPES, MAX_POSIX_TIMERS, MAX_POSIX_TIMER_ID, SAVED_CHAR_DEVICES,
    STATE_FILE_FLAGS,
};
use core::mem::size_of;

/// Storage for the memory areas of the address space being parsed; the
/// parser checks page addresses against it, and restart maps from it.
pub trait VmaStore {
    /// Forgets every stored area and makes room for `count` (at most
    /// [`MAX_VMAS`]) new ones.
    fn reset(&mut self, count: usize) -> Result;
    /// Appends an area (after `reset` made room for it).
    fn push(&mut self, vma: VmaRecord) -> Result;
    /// The stored areas, in order.
    fn as_slice(&self) -> &[VmaRecord];
}

/// One validated element of an image.
#[derive(Debug, PartialEq, Eq)]
pub enum Item<'a> {
    /// The image header (checked with [`ImageHeader::check`]; the caller
    /// compares it with the running kernel).
    Header(ImageHeader),
    /// Starts a task.
    Task(TaskRecord),
    /// The children of the process just read (pages included): the
    /// next `count` processes, each with its own children, depth first.
    Children {
        /// Number of children, at least 1.
        count: u32,
    },
    /// A child that exited and was not waited for, in place of a process
    /// among its parent's children; it has no other records.
    Zombie(ZombieRecord),
    /// Starts another thread of the task's thread group: its pending
    /// signals, registers and FPU state follow, as the leader's do.
    Thread(ThreadRecord),
    /// The task's signal stack; its [`NSIG`] signal actions are read next
    /// with [`ImageParser::read_sigaction`] (or skipped by the next
    /// `next_item`).
    Signals(SignalsRecord),
    /// The resource limits of the task's process.
    Rlimits(RlimitsRecord),
    /// The interval timers of the task's process.
    Itimers(ItimersRecord),
    /// The POSIX timers of the task's process: `count` of them are read
    /// next with [`ImageParser::read_posix_timer`] (or skipped by the next
    /// `next_item`).
    PosixTimers(PosixTimersRecord),
    /// The task's credentials; its `ngroups` supplementary groups are read
    /// next with [`ImageParser::read_groups`] (or skipped by the next
    /// `next_item`).
    Creds(CredsRecord),
    /// The task's scheduling policy, priorities, affinity and timer slack.
    Sched(SchedRecord),
    /// The task's pending signals: `count` of them are read next with
    /// [`ImageParser::read_pending_signal`] (or skipped by the next
    /// `next_item`).
    SigPending(SigPendingRecord),
    /// The task's registers.
    Cpu(CpuRecord),
    /// The task's FPU state; its XSAVE buffer is read next with
    /// [`ImageParser::read_xstate`] (or skipped by the next `next_item`).
    Fpu(FpuRecord),
    /// The task's umask and working directory.
    Fs(FsRecord, &'a [u8]),
    /// Starts the task's fd table.
    FilesTable(FilesTableRecord),
    /// Defines a file object: its path, or the state of a file without
    /// one.
    FileObject(FileObjectRecord, FileSource<'a>),
    /// One watch of the inotify instance defined last, on the file at
    /// `path` (absolute, without its NUL).
    InotifyWatch {
        /// Its watch descriptor.
        wd: i32,
        /// Its events and flags.
        mask: u32,
        /// The watched file.
        path: &'a [u8],
    },
    /// What one side of the pseudo-terminal pair of the last
    /// [`FileSource::PtyMaster`] has not read yet: the master's, then the
    /// slave's.  Its bytes are read next with
    /// [`ImageParser::read_pty_queue`] (or skipped by the next
    /// `next_item`).
    PtyQueue(PtyQueueRecord),
    /// Defines a SysV shared memory segment; its contents follow as
    /// [`Item::FileData`], then the file object of an attach of it.
    ShmSegment(ShmSegmentRecord),
    /// Defines a pipe; its data (`data_len` bytes) is read next with
    /// [`ImageParser::read_pipe_data`] (or skipped by the next
    /// `next_item`).  The file object of one of its ends follows.
    Pipe(PipeRecord),
    /// One file descriptor.
    Fd(FdRecord),
    /// The controlling terminal of the task's session: a file of its fd
    /// table (object defined before it) or none of them (0).
    Ctty(CttyRecord),
    /// Contents of the last [`FileSource::Deleted`] or
    /// [`FileSource::Memfd`] file, of the last
    /// [`FileSource::SharedMemory`] or of the last [`Item::ShmSegment`],
    /// at `offset`:
    /// `len` bytes are read next with [`ImageParser::read_file_data`] (or
    /// skipped by the next `next_item`).  A zero `len` ends them.
    FileData {
        /// Where the bytes go in the file.
        offset: u64,
        /// Number of bytes.
        len: usize,
    },
    /// The task's address space; its auxiliary vector is read next with
    /// [`ImageParser::read_auxv`] (or skipped by the next `next_item`).
    Mm(MmRecord),
    /// One memory area.
    Vma(VmaRecord),
    /// Pages of the task's private areas, in increasing address order
    /// across all its areas: `count` pages are read next with
    /// [`ImageParser::read_page`]; a zero count ends the task's pages.
    PageChunk {
        /// Number of pages in this chunk.
        count: usize,
    },
    /// The checkpoint failed with `errno` for the reason in `message`; the
    /// image ends here.
    Error {
        /// The positive errno of the failed checkpoint.
        errno: i32,
        /// The message, without its NUL.
        message: &'a [u8],
    },
    /// The tail: the whole image was read and its checksum matched.
    Tail,
}

/// Where a file object's file comes from at restart.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum FileSource<'a> {
    /// Its absolute path (without its NUL), to open again.
    Path(&'a [u8]),
    /// The state of a file without a path, to create again.
    State(FileStateRecord),
    /// An end of the anonymous pipe its record names.
    PipeEnd,
    /// A terminal's absolute path (without its NUL), to open again and
    /// give its settings.
    Terminal(&'a [u8], TtyRecord),
    /// An unlinked regular file, to create again in the directory `dir`
    /// (its absolute path, without its NUL) with `size` bytes and the
    /// permission bits `mode`; its contents follow as
    /// [`Item::FileData`].
    Deleted {
        /// The directory the file was in.
        dir: &'a [u8],
        /// Its size.
        size: u64,
        /// Its permission bits.
        mode: u32,
    },
    /// A memfd, to create again with its `name` (without its NUL), `size`
    /// bytes, `seals` and permission bits `mode`; its contents follow as
    /// [`Item::FileData`].
    Memfd {
        /// The name it was created with.
        name: &'a [u8],
        /// Its size.
        size: u64,
        /// Its seals.
        seals: u32,
        /// Its permission bits.
        mode: u32,
    },
    /// The object behind shared anonymous memory, to create again with
    /// `size` bytes; its contents follow as [`Item::FileData`].
    SharedMemory {
        /// Its size, a whole number of pages.
        size: u64,
    },
    /// An attach of the SysV shared memory segment its record names.
    ShmAttach,
    /// A pseudo-terminal master, to create again through the `ptmx`
    /// device at `ptmx` (without its NUL) with its `pair`; the queues of
    /// the pair follow as two [`Item::PtyQueue`]s.
    PtyMaster {
        /// The path of the `ptmx` device.
        ptmx: &'a [u8],
        /// The pair.
        pair: PtyPairRecord,
    },
    /// The slave of the pseudo-terminal master whose object reference is
    /// in its record.
    PtySlave,
    /// An inotify instance whose `count` watches follow as
    /// [`Item::InotifyWatch`]s.
    Inotify {
        /// Number of watches.
        count: u32,
        /// The watch descriptor a new watch gets first.
        next_wd: u32,
    },
    /// An epoll set whose `count` watches are read next with
    /// [`ImageParser::read_epoll_watch`] (or skipped by the next
    /// `next_item`).
    EpollSet {
        /// Number of watches.
        count: u32,
    },
}

// Process numbers index the `live` bitmap by whole words.
const _: () = assert!(MAX_PROCESSES % 64 == 0);

/// What the parser accepts next.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Expect {
    Header,
    /// The first process, or the tail of an image without one.
    TopLevel,
    /// After the pages of a process: its children, its next sibling (or
    /// an ancestor's), or the tail.
    AfterTask,
    /// A child announced by a `Children` record.
    Child,
    /// After a zombie: what [`Expect::AfterTask`] accepts but children.
    AfterZombie,
    Signals,
    Rlimits,
    Itimers,
    PosixTimers,
    Creds,
    Sched,
    /// After a `Thread` record: its own credentials, or what
    /// [`Expect::ThreadSched`] accepts.
    ThreadCreds,
    /// After a thread's own credentials: its own scheduling settings, or
    /// what [`Expect::SigPending`] accepts.
    ThreadSched,
    SigPending,
    Cpu,
    Fpu,
    Fs,
    FilesTable,
    Fd {
        left: u32,
        next_fd: u32,
    },
    /// The controlling terminal, or what [`Expect::Mm`] accepts.
    Ctty,
    Mm,
    Vma {
        left: u32,
        /// Lowest address the next area may start at.
        floor: u64,
    },
    Pages {
        /// The area the last page was in (the first area before any).
        vma: usize,
        /// Lowest address the next page may have.
        floor: u64,
    },
    /// `left` more watches of an inotify instance, with descriptors from
    /// `floor` on.  Then back to `ImageParser::resume`.
    InotifyWatch {
        left: u32,
        floor: i32,
    },
    /// The queue of side `side` of a pseudo-terminal pair.  Then back to
    /// `ImageParser::resume`.
    PtyQueue {
        side: u32,
    },
    /// Contents of an unlinked file of `size` bytes; the next starts at
    /// `floor` or later.  Then back to `ImageParser::resume`.
    FileData {
        floor: u64,
        size: u64,
    },
    Done,
}

/// Whose raw bytes [`Pending::Bytes`] are.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum BytesOf {
    /// An XSAVE buffer.
    Xstate,
    /// The data of a pipe.
    PipeData,
    /// Contents of a file.
    FileData,
    /// What a side of a pseudo-terminal pair has not read yet.
    PtyQueue,
}

/// Body bytes of the last item that the caller has not consumed yet.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Pending {
    None,
    /// Raw bytes, `len` of them in a body of `padded` bytes.
    Bytes {
        of: BytesOf,
        len: usize,
        padded: usize,
    },
    Pages {
        next: usize,
        count: usize,
    },
    /// Signal actions: the next is that of signal `next + 1`.
    Sigactions {
        next: u32,
    },
    /// Pending signals, `left` of them.
    Signals {
        left: u32,
    },
    /// POSIX timers, `left` of them; the next has an id of at least
    /// `min_id`.
    PosixTimers {
        left: u32,
        min_id: u32,
    },
    /// The auxiliary vector, `count` words.
    Auxv {
        count: usize,
    },
    /// Supplementary groups, `count` of them in a body of `padded` bytes.
    Groups {
        count: usize,
        padded: usize,
    },
    /// Watches of an epoll set, `left` of them, on files whose references
    /// are below `below` (the set's own).
    EpollWatches {
        left: u32,
        below: u32,
    },
}

/// Parses and validates an image; see the module documentation.
pub struct ImageParser<'b, S: Source, V: VmaStore> {
    reader: ImageReader<'b, S>,
    strings: &'b mut [u8],
    vmas: V,
    expect: Expect,
    pending: Pending,
    page_size: usize,
    objects: u32,
    /// Pipes defined so far.
    pipes: u32,
    /// The pipe of the last `Pipe` record, until the file object of its
    /// first end.
    pipe_awaiting_end: Option<u32>,
    /// SysV shared memory segments defined so far.
    segments: u32,
    /// The segment of the last `ShmSegment` record, until the file object
    /// of its first attach (after its contents).
    segment_awaiting_attach: Option<u32>,
    /// What the parser accepts after the contents of a file.
    resume: Expect,
    /// The task's thread-group id and the threads read so far, leader
    /// included.
    tgid: i32,
    threads: u32,
    /// The task's leader had exited ([`TASK_FLAG_LEADER_EXITED`]).
    leader_exited: bool,
    /// Pending signals of the task's threads announced so far.
    pending_signals: u32,
    /// Supplementary groups of the task's threads announced so far.
    groups: u32,
    /// Processes read so far, zombies included.
    processes: u32,
    /// Which of them are live (not zombies): bit `n - 1` for process `n`.
    live: [u64; MAX_PROCESSES as usize / 64],
    /// For each level of the tree being read, how many announced children
    /// are still to come; `depth` levels are in use.
    children_left: [u32; MAX_TREE_DEPTH as usize],
    depth: usize,
    addrs: [u64; MAX_CHUNK_PAGES as usize],
}

impl<'b, S: Source, V: VmaStore> ImageParser<'b, S, V> {
    /// A parser of the image from `src`.  `read_buf` is the reader's
    /// read-ahead buffer (any non-zero size), `strings` holds the string
    /// of the last item (at least [`MAX_STRING_LEN`] bytes), `vmas` the
    /// areas of the current address space.
    pub fn new(src: S, read_buf: &'b mut [u8], strings: &'b mut [u8], vmas: V) -> Result<Self> {
        if strings.len() < MAX_STRING_LEN as usize {
            return Err(Errno::EINVAL);
        }
        Ok(ImageParser {
            reader: ImageReader::new(src, read_buf),
            strings,
            vmas,
            expect: Expect::Header,
            pending: Pending::None,
            page_size: 0,
            objects: 0,
            pipes: 0,
            pipe_awaiting_end: None,
            segments: 0,
            segment_awaiting_attach: None,
            resume: Expect::Done,
            tgid: 0,
            threads: 0,
            leader_exited: false,
            pending_signals: 0,
            groups: 0,
            processes: 0,
            live: [0; MAX_PROCESSES as usize / 64],
            children_left: [0; MAX_TREE_DEPTH as usize],
            depth: 0,
            addrs: [0; MAX_CHUNK_PAGES as usize],
        })
    }

    /// The memory areas of the current address space read so far.
    pub fn vmas(&self) -> &[VmaRecord] {
        self.vmas.as_slice()
    }

    /// The page size of the image (valid after the header).
    pub fn page_size(&self) -> usize {
        self.page_size
    }

    /// Number of image bytes consumed so far.
    pub fn position(&self) -> u64 {
        self.reader.position()
    }

    /// Reads the XSAVE buffer announced by the last [`Item::Fpu`] into
    /// `out`, which must be exactly `xstate_size` bytes long.
    pub fn read_xstate(&mut self, out: &mut [u8]) -> Result {
        self.read_bytes(BytesOf::Xstate, out)
    }

    /// Reads the pending raw bytes, which must be those of `of`, into
    /// `out`, which must be exactly as long as they are.
    fn read_bytes(&mut self, of: BytesOf, out: &mut [u8]) -> Result {
        let Pending::Bytes {
            of: pending,
            len,
            padded,
        } = self.pending
        else {
            return Err(Errno::EINVAL);
        };
        if pending != of || out.len() != len {
            return Err(Errno::EINVAL);
        }
        self.pending = Pending::None;
        self.reader.take(out)?;
        self.reader.take_zeros(padded - len)
    }

    /// Reads the data of the last [`Item::Pipe`] into `out`, which must be
    /// exactly `data_len` bytes long.
    pub fn read_pipe_data(&mut self, out: &mut [u8]) -> Result {
        self.read_bytes(BytesOf::PipeData, out)
    }

    /// Reads the bytes of the last [`Item::PtyQueue`] into `out`, which
    /// must be exactly [`PtyQueueRecord::body_len`] bytes long.
    pub fn read_pty_queue(&mut self, out: &mut [u8]) -> Result {
        self.read_bytes(BytesOf::PtyQueue, out)
    }

    /// Reads and checks the next signal action of the last
    /// [`Item::Signals`]: that of signal 1 first, of signal [`NSIG`] last.
    pub fn read_sigaction(&mut self) -> Result<SigactionRecord> {
        let Pending::Sigactions { next } = self.pending else {
            return Err(Errno::EINVAL);
        };
        let action: SigactionRecord = self.reader.take_pod()?;
        // `next` < NSIG = 64: the shift stays in range.
        let signal_bit = 1u64 << next;
        if action.flags & !SA_FLAGS_KNOWN != 0
            || action.handler >= USER_ADDR_LIMIT
            || action.restorer >= USER_ADDR_LIMIT
            || action.mask & UNCATCHABLE_SIGNALS != 0
            || (signal_bit & UNCATCHABLE_SIGNALS != 0 && action != SigactionRecord::zeroed())
        {
            return Err(Errno::EINVAL);
        }
        self.pending = if next + 1 == NSIG {
            Pending::None
        } else {
            Pending::Sigactions { next: next + 1 }
        };
        Ok(action)
    }

    /// Reads and checks the next pending signal of the last
    /// [`Item::SigPending`].
    pub fn read_pending_signal(&mut self) -> Result<PendingSignal> {
        let Pending::Signals { left } = self.pending else {
            return Err(Errno::EINVAL);
        };
        let signal: PendingSignal = self.reader.take_pod()?;
        let signo = signal.signo;
        // `signo` is checked to be in 1..=NSIG before the shift.
        if !(1..=NSIG).contains(&signo)
            || (1u64 << (signo - 1)) & UNCATCHABLE_SIGNALS != 0
            || (signal.queue != SIGQUEUE_THREAD && signal.queue != SIGQUEUE_PROCESS)
            // Another thread's block holds only its own queue.
            || (self.threads > 1 && signal.queue != SIGQUEUE_THREAD)
            // A leader that had exited has no queue of its own.
            || (self.threads == 1 && self.leader_exited && signal.queue == SIGQUEUE_THREAD)
            || signal.si_signo() != signo as i32
            || signal.si_code() == SI_TIMER
        {
            return Err(Errno::EINVAL);
        }
        self.pending = if left == 1 {
            Pending::None
        } else {
            Pending::Signals { left: left - 1 }
        };
        Ok(signal)
    }

    /// Reads and checks the next timer of the last [`Item::PosixTimers`];
    /// ids are strictly increasing.
    pub fn read_posix_timer(&mut self) -> Result<PosixTimer> {
        let Pending::PosixTimers { left, min_id } = self.pending else {
            return Err(Errno::EINVAL);
        };
        let timer: PosixTimer = self.reader.take_pod()?;
        if !timer.is_valid() || timer.id < min_id {
            return Err(Errno::EINVAL);
        }
        self.pending = if left == 1 {
            Pending::None
        } else {
            Pending::PosixTimers {
                left: left - 1,
                // The id is at most `MAX_POSIX_TIMER_ID`, so this cannot
                // overflow.
                min_id: timer.id + 1,
            }
        };
        Ok(timer)
    }

    /// Reads the contents of the last [`Item::FileData`] into `out`,
    /// which must be exactly `len` bytes long.
    pub fn read_file_data(&mut self, out: &mut [u8]) -> Result {
        self.read_bytes(BytesOf::FileData, out)
    }

    /// Reads and checks the next watch of the last epoll set
    /// ([`FileSource::EpollSet`]): its file is defined before the set.
    pub fn read_epoll_watch(&mut self) -> Result<EpollWatch> {
        let Pending::EpollWatches { left, below } = self.pending else {
            return Err(Errno::EINVAL);
        };
        let watch: EpollWatch = self.reader.take_pod()?;
        if watch.file_ref == 0
            || watch.file_ref >= below
            || watch.fd >= FD_LIMIT
            || watch.events & !EPOLL_EVENTS_KNOWN != 0
            || watch._pad != 0
        {
            return Err(Errno::EINVAL);
        }
        self.pending = if left == 1 {
            Pending::None
        } else {
            Pending::EpollWatches {
                left: left - 1,
                below,
            }
        };
        Ok(watch)
    }

    /// Reads the supplementary groups of the last [`Item::Creds`] into
    /// `out`, which must be exactly `ngroups` long.  No group is
    /// [`INVALID_ID`].
    pub fn read_groups(&mut self, out: &mut [u32]) -> Result {
        let Pending::Groups { count, padded } = self.pending else {
            return Err(Errno::EINVAL);
        };
        if out.len() != count {
            return Err(Errno::EINVAL);
        }
        self.pending = Pending::None;
        for group in out.iter_mut() {
            *group = self.reader.take_pod()?;
            if *group == INVALID_ID {
                return Err(Errno::EINVAL);
            }
        }
        self.reader.take_zeros(padded - count * 4)
    }

    /// Reads the auxiliary vector of the last [`Item::Mm`] into `out`,
    /// which must be exactly `auxv_words` long, and checks it
    /// ([`auxv_ok`]).
    pub fn read_auxv(&mut self, out: &mut [u64]) -> Result {
        let Pending::Auxv { count } = self.pending else {
            return Err(Errno::EINVAL);
        };
        if out.len() != count {
            return Err(Errno::EINVAL);
        }
        self.pending = Pending::None;
        for word in out.iter_mut() {
            *word = self.reader.take_pod()?;
        }
        if !auxv_ok(out) {
            return Err(Errno::EINVAL);
        }
        Ok(())
    }

    /// Reads the next page of the last [`Item::PageChunk`] into `out`
    /// (exactly one page long) and returns its address.
    pub fn read_page(&mut self, out: &mut [u8]) -> Result<u64> {
        let Pending::Pages { next, count } = self.pending else {
            return Err(Errno::EINVAL);
        };
        if out.len() != self.page_size || next >= count {
            return Err(Errno::EINVAL);
        }
        let addr = *self.addrs.get(next).ok_or(Errno::EINVAL)?;
        self.reader.take(out)?;
        self.pending = if next + 1 == count {
            Pending::None
        } else {
            Pending::Pages {
                next: next + 1,
                count,
            }
        };
        Ok(addr)
    }

    /// Reads every page of the last [`Item::PageChunk`] not read yet into
    /// `out`, back to back, and returns their addresses.  `out` must hold
    /// exactly those pages (`EINVAL` otherwise, with nothing consumed).
    /// One read of many pages lets the reader fill `out` straight from
    /// its source instead of through its read-ahead buffer.
    pub fn read_chunk_pages(&mut self, out: &mut [u8]) -> Result<&[u64]> {
        let Pending::Pages { next, count } = self.pending else {
            return Err(Errno::EINVAL);
        };
        let left = count.checked_sub(next).ok_or(Errno::EINVAL)?;
        if left == 0 || Some(out.len()) != left.checked_mul(self.page_size) {
            return Err(Errno::EINVAL);
        }
        self.reader.take(out)?;
        self.pending = Pending::None;
        self.addrs.get(next..count).ok_or(Errno::EINVAL)
    }

    /// The addresses of the pages of the last [`Item::PageChunk`] not read
    /// yet (none after any other item).
    pub fn chunk_addrs(&self) -> &[u64] {
        match self.pending {
            Pending::Pages { next, count } => self.addrs.get(next..count).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// Reads every page of the last [`Item::PageChunk`] not read yet into
    /// `pages`, which lie where the caller wants them (their addresses are
    /// [`ImageParser::chunk_addrs`]).  `pages` must be exactly those pages
    /// (`EINVAL` otherwise, with nothing consumed).
    pub fn read_chunk_pages_into<P: PageTarget<S>>(&mut self, pages: &mut P) -> Result {
        let Pending::Pages { next, count } = self.pending else {
            return Err(Errno::EINVAL);
        };
        if pages.count() != count.saturating_sub(next) || pages.page_len() != self.page_size {
            return Err(Errno::EINVAL);
        }
        self.reader.take_into(pages)?;
        self.pending = Pending::None;
        Ok(())
    }

    /// Consumes whatever body of the last item the caller left unread.
    fn skip_pending(&mut self) -> Result {
        match self.pending {
            Pending::None => {}
            Pending::Bytes { padded, .. } | Pending::Groups { padded, .. } => {
                self.reader.skip(padded)?
            }
            Pending::Sigactions { next } => {
                self.reader
                    .skip((NSIG - next) as usize * size_of::<SigactionRecord>())?;
            }
            Pending::Auxv { count } => self.reader.skip(count * 8)?,
            Pending::Signals { left } => {
                self.reader
                    .skip(left as usize * size_of::<PendingSignal>())?;
            }
            Pending::PosixTimers { left, .. } => {
                self.reader.skip(left as usize * size_of::<PosixTimer>())?;
            }
            Pending::EpollWatches { left, .. } => {
                self.reader.skip(left as usize * size_of::<EpollWatch>())?;
            }
            Pending::Pages { next, count } => {
                let pages = (count - next)
                    .checked_mul(self.page_size)
                    .ok_or(Errno::EINVAL)?;
                self.reader.skip(pages)?;
            }
        }
        self.pending = Pending::None;
        Ok(())
    }

    /// Reads and validates the next item.
    ///
    /// Any error leaves the parser unusable: the image is rejected.
    pub fn next_item(&mut self) -> Result<Item<'_>> {
        let expect = self.expect;
        // Poison the state so that a caller who ignores an error cannot go
        // on parsing; success sets the real next state below.
        self.expect = Expect::Done;
        self.skip_pending()?;
        if expect == Expect::Done {
            return Err(Errno::EINVAL);
        }
        let (t, h) = self.reader.next_header()?;
        if t == RecordType::Error && expect != Expect::Header {
            return self.error_record(t, h);
        }
        if self.pipe_awaiting_end.is_some() && t != RecordType::FileObject {
            return Err(Errno::EINVAL);
        }
        if self.segment_awaiting_attach.is_some()
            && !matches!(expect, Expect::FileData { .. })
            && t != RecordType::FileObject
        {
            return Err(Errno::EINVAL);
        }
        // The controlling terminal is optional.
        let expect = match expect {
            Expect::Ctty if t != RecordType::Ctty => Expect::Mm,
            _ => expect,
        };
        match (expect, t) {
            (Expect::Header, RecordType::Header) => {
                let header: ImageHeader = self.reader.payload(t, h)?;
                header.check()?;
                self.page_size = header.constants.page_size as usize;
                self.expect = Expect::TopLevel;
                Ok(Item::Header(header))
            }
            (Expect::AfterTask | Expect::AfterZombie | Expect::Child, RecordType::Zombie) => {
                let zombie: ZombieRecord = self.reader.payload(t, h)?;
                if cstr_field(&zombie.comm).is_none()
                    || zombie.pgid < 0
                    || zombie.sid < 0
                    || !(0..=MAX_SIGNAL).contains(&zombie.exit_signal)
                    || !wait_status_ok(zombie.status)
                {
                    return Err(Errno::EINVAL);
                }
                self.enter_child(zombie.pid)?;
                self.processes += 1;
                self.expect = Expect::AfterZombie;
                Ok(Item::Zombie(zombie))
            }
            (Expect::TopLevel | Expect::AfterTask | Expect::AfterZombie, RecordType::Tail) => {
                // Every announced child must have come.
                if self.finish_levels() != 0 {
                    return Err(Errno::EINVAL);
                }
                self.reader.tail(t, h)?;
                self.expect = Expect::Done;
                Ok(Item::Tail)
            }
            (Expect::AfterTask, RecordType::Children) => {
                let rec: ChildrenRecord = self.reader.payload(t, h)?;
                if rec.count == 0
                    || rec.count > MAX_PROCESSES
                    || rec._pad != 0
                    || self.depth + 1 >= MAX_TREE_DEPTH as usize
                {
                    return Err(Errno::EINVAL);
                }
                *self
                    .children_left
                    .get_mut(self.depth)
                    .ok_or(Errno::EINVAL)? = rec.count;
                self.depth += 1;
                self.expect = Expect::Child;
                Ok(Item::Children { count: rec.count })
            }
            (
                Expect::TopLevel | Expect::AfterTask | Expect::AfterZombie | Expect::Child,
                RecordType::Task,
            ) => {
                let task: TaskRecord = self.reader.payload(t, h)?;
                check_task(&task)?;
                if self.processes > 0 {
                    if task.tgid != task.pid {
                        return Err(Errno::EINVAL);
                    }
                    self.enter_child(task.pid)?;
                }
                self.processes += 1;
                self.mark_live(self.processes);
                self.tgid = task.tgid;
                self.threads = 1;
                self.leader_exited = task.flags & TASK_FLAG_LEADER_EXITED != 0;
                self.pending_signals = 0;
                self.groups = 0;
                self.expect = Expect::Signals;
                Ok(Item::Task(task))
            }
            (Expect::Fs, RecordType::Thread) => {
                let thread: ThreadRecord = self.reader.payload(t, h)?;
                check_task(&thread.task)?;
                if self.threads >= MAX_THREADS
                    || thread.task.flags & TASK_FLAG_LEADER_EXITED != 0
                    || thread.task.tgid != self.tgid
                    || thread.task.pid == self.tgid
                    || thread.task.exit_signal != 0
                    || thread._pad != 0
                    || !altstack_ok(
                        thread.altstack_sp,
                        thread.altstack_size,
                        thread.altstack_flags,
                    )
                {
                    return Err(Errno::EINVAL);
                }
                self.threads += 1;
                self.expect = Expect::ThreadCreds;
                Ok(Item::Thread(thread))
            }
            (Expect::Signals, RecordType::Signals) => {
                let (signals, body): (SignalsRecord, usize) = self.reader.prefix(t, h)?;
                // A leader that had exited has no signal stack.
                let exited_with_stack = self.leader_exited && signals.altstack_flags != SS_DISABLE;
                if signals.count != NSIG
                    || exited_with_stack
                    || body != NSIG as usize * size_of::<SigactionRecord>()
                    || !altstack_ok(
                        signals.altstack_sp,
                        signals.altstack_size,
                        signals.altstack_flags,
                    )
                {
                    return Err(Errno::EINVAL);
                }
                self.pending = Pending::Sigactions { next: 0 };
                self.expect = Expect::Rlimits;
                Ok(Item::Signals(signals))
            }
            (Expect::Rlimits, RecordType::Rlimits) => {
                let rlimits: RlimitsRecord = self.reader.payload(t, h)?;
                if rlimits.limits.iter().any(|l| l.cur > l.max) {
                    return Err(Errno::EINVAL);
                }
                self.expect = Expect::Itimers;
                Ok(Item::Rlimits(rlimits))
            }
            (Expect::Itimers, RecordType::Itimers) => {
                let itimers: ItimersRecord = self.reader.payload(t, h)?;
                if itimers
                    .timers
                    .iter()
                    .any(|t| t.value_ns > ITIMER_MAX_NS || t.interval_ns > ITIMER_MAX_NS)
                {
                    return Err(Errno::EINVAL);
                }
                self.expect = Expect::PosixTimers;
                Ok(Item::Itimers(itimers))
            }
            (Expect::PosixTimers, RecordType::PosixTimers) => {
                let (timers, body): (PosixTimersRecord, usize) = self.reader.prefix(t, h)?;
                if timers.count > MAX_POSIX_TIMERS
                    || timers.next_id > MAX_POSIX_TIMER_ID
                    || body != timers.count as usize * size_of::<PosixTimer>()
                {
                    return Err(Errno::EINVAL);
                }
                if timers.count > 0 {
                    self.pending = Pending::PosixTimers {
                        left: timers.count,
                        min_id: 0,
                    };
                }
                self.expect = Expect::Creds;
                Ok(Item::PosixTimers(timers))
            }
            (Expect::Creds | Expect::ThreadCreds, RecordType::Creds) => {
                let (creds, body): (CredsRecord, usize) = self.reader.prefix(t, h)?;
                let count = creds.ngroups as usize;
                // The cap is on all the threads of the task together.
                self.groups = self.groups.saturating_add(creds.ngroups);
                if !creds.is_valid()
                    || self.groups > MAX_GROUPS
                    || align_record_len(count * 4) != Some(body)
                {
                    return Err(Errno::EINVAL);
                }
                self.pending = Pending::Groups {
                    count,
                    padded: body,
                };
                self.expect = match expect {
                    Expect::ThreadCreds => Expect::ThreadSched,
                    _ => Expect::Sched,
                };
                Ok(Item::Creds(creds))
            }
            (Expect::Sched | Expect::ThreadCreds | Expect::ThreadSched, RecordType::Sched) => {
                let sched: SchedRecord = self.reader.payload(t, h)?;
                if !sched.is_valid() {
                    return Err(Errno::EINVAL);
                }
                self.expect = Expect::SigPending;
                Ok(Item::Sched(sched))
            }
            (
                Expect::SigPending | Expect::ThreadCreds | Expect::ThreadSched,
                RecordType::SigPending,
            ) => {
                let (pending, body): (SigPendingRecord, usize) = self.reader.prefix(t, h)?;
                // The cap is on all the threads of the task together.
                self.pending_signals = self.pending_signals.saturating_add(pending.count);
                if self.pending_signals > MAX_PENDING_SIGNALS
                    || pending._pad != 0
                    || body != pending.count as usize * size_of::<PendingSignal>()
                {
                    return Err(Errno::EINVAL);
                }
                if pending.count > 0 {
                    self.pending = Pending::Signals {
                        left: pending.count,
                    };
                }
                // A leader that had exited has no registers: its threads
                // follow.
                self.expect = if self.threads == 1 && self.leader_exited {
                    Expect::Fs
                } else {
                    Expect::Cpu
                };
                Ok(Item::SigPending(pending))
            }
            (Expect::Cpu, RecordType::Cpu) => {
                let cpu: CpuRecord = self.reader.payload(t, h)?;
                check_cpu(&cpu)?;
                self.expect = Expect::Fpu;
                Ok(Item::Cpu(cpu))
            }
            (Expect::Fpu, RecordType::Fpu) => {
                let (fpu, body): (FpuRecord, usize) = self.reader.prefix(t, h)?;
                let size = fpu.xstate_size;
                if !(MIN_XSTATE_SIZE..=MAX_XSTATE_SIZE).contains(&size)
                    || fpu._pad != 0
                    || align_record_len(size as usize) != Some(body)
                {
                    return Err(Errno::EINVAL);
                }
                self.pending = Pending::Bytes {
                    of: BytesOf::Xstate,
                    len: size as usize,
                    padded: body,
                };
                self.expect = Expect::Fs;
                Ok(Item::Fpu(fpu))
            }
            (Expect::Fs, RecordType::Fs) => {
                let fs: FsRecord = self.reader.payload(t, h)?;
                // A process whose leader had exited lives in its threads.
                let no_live_thread = self.leader_exited && self.threads == 1;
                if fs.umask > 0o777 || !self.may_share(fs.shared_with) || no_live_thread {
                    return Err(Errno::EINVAL);
                }
                let len = self.string()?;
                self.expect = Expect::FilesTable;
                Ok(Item::Fs(fs, self.string_bytes(len)?))
            }
            (Expect::FilesTable, RecordType::FilesTable) => {
                let table: FilesTableRecord = self.reader.payload(t, h)?;
                // A shared table is the other process's: no fds follow.
                let shared = table.shared_with != 0;
                if table.count > MAX_FDS
                    || !self.may_share(table.shared_with)
                    || (shared && table.count != 0)
                {
                    return Err(Errno::EINVAL);
                }
                self.expect = Self::after_fd(table.count, 0);
                Ok(Item::FilesTable(table))
            }
            (Expect::Fd { .. } | Expect::Mm | Expect::Vma { .. }, RecordType::Pipe) => {
                let (pipe, body): (PipeRecord, usize) = self.reader.prefix(t, h)?;
                let number = self.pipes + 1;
                if number > MAX_PIPES || !pipe.is_valid(number, body) {
                    return Err(Errno::EINVAL);
                }
                self.pipes = number;
                self.pipe_awaiting_end = Some(number);
                self.pending = Pending::Bytes {
                    of: BytesOf::PipeData,
                    len: pipe.data_len as usize,
                    padded: body,
                };
                self.expect = expect;
                Ok(Item::Pipe(pipe))
            }
            (Expect::Fd { .. } | Expect::Mm | Expect::Vma { .. }, RecordType::ShmSegment) => {
                let segment: ShmSegmentRecord = self.reader.payload(t, h)?;
                let number = self.segments + 1;
                if number > MAX_PIPES || !segment.is_valid(number) {
                    return Err(Errno::EINVAL);
                }
                self.segments = number;
                self.segment_awaiting_attach = Some(number);
                self.resume = expect;
                self.expect = Expect::FileData {
                    floor: 0,
                    size: segment.size,
                };
                Ok(Item::ShmSegment(segment))
            }
            (Expect::Fd { .. } | Expect::Mm | Expect::Vma { .. }, RecordType::FileObject) => {
                let file: FileObjectRecord = self.reader.payload(t, h)?;
                self.define_object(file.objref)?;
                let Some(kind) = FileKind::from_u32(file.kind) else {
                    return Err(Errno::EINVAL);
                };
                if let Some(pipe) = self.pipe_awaiting_end.take() {
                    if !kind.is_pipe_end() || file.device_or_pipe != pipe {
                        return Err(Errno::EINVAL);
                    }
                }
                if let Some(segment) = self.segment_awaiting_attach.take() {
                    if kind != FileKind::SysvShm || file.device_or_pipe != segment {
                        return Err(Errno::EINVAL);
                    }
                }
                let fields_ok = match kind {
                    FileKind::CharDevice => {
                        SAVED_CHAR_DEVICES.contains(&file.device_or_pipe) && file.pos == 0
                    }
                    FileKind::Regular | FileKind::Directory => file.device_or_pipe == 0,
                    FileKind::Terminal => file.device_or_pipe != 0 && file.pos == 0,
                    FileKind::DeletedFile | FileKind::Memfd => file.device_or_pipe == 0,
                    // Read-only, perhaps non-blocking.
                    FileKind::Inotify => {
                        file.device_or_pipe == 0
                            && file.pos == 0
                            && file.flags & !OPEN_NONBLOCK == 0
                    }
                    // A defined segment, read-only or read-write.
                    FileKind::SysvShm => {
                        (1..=self.segments).contains(&file.device_or_pipe)
                            && file.pos == 0
                            && matches!(file.flags & !OPEN_LARGEFILE, 0 | 2)
                    }
                    // Read-write, as the kernel makes it; no position.
                    FileKind::SharedMemory => {
                        file.device_or_pipe == 0
                            && file.pos == 0
                            && file.flags & !OPEN_LARGEFILE == 2
                    }
                    // Files without a path: read-write, no device, no
                    // position.
                    FileKind::EventFd
                    | FileKind::SignalFd
                    | FileKind::TimerFd
                    | FileKind::EventPoll => {
                        file.device_or_pipe == 0
                            && file.pos == 0
                            && file.flags & OPEN_ACCMODE == 2
                            && file.flags & !STATE_FILE_FLAGS == 0
                    }
                    // Read-write or not, perhaps non-blocking; a slave
                    // names a master defined before it.
                    FileKind::PtyMaster | FileKind::PtySlave => {
                        (kind == FileKind::PtyMaster) == (file.device_or_pipe == 0)
                            && file.device_or_pipe < file.objref
                            && file.pos == 0
                            && file.flags & !(OPEN_ACCMODE | OPEN_NONBLOCK) == 0
                    }
                    // A pipe end: a defined pipe, no position, only
                    // `O_NONBLOCK`; one direction unless it is a FIFO.
                    FileKind::Pipe | FileKind::Fifo => {
                        (1..=self.pipes).contains(&file.device_or_pipe)
                            && file.pos == 0
                            && file.flags & !(OPEN_ACCMODE | OPEN_NONBLOCK) == 0
                            && (kind == FileKind::Fifo || file.flags & OPEN_ACCMODE != 2)
                    }
                };
                if !fields_ok || file.pos < 0 || file.flags & OPEN_ACCMODE == OPEN_ACCMODE {
                    return Err(Errno::EINVAL);
                }
                if kind == FileKind::Pipe {
                    self.expect = expect;
                    return Ok(Item::FileObject(file, FileSource::PipeEnd));
                }
                if kind == FileKind::SysvShm {
                    self.expect = expect;
                    return Ok(Item::FileObject(file, FileSource::ShmAttach));
                }
                if kind == FileKind::PtySlave {
                    self.expect = expect;
                    return Ok(Item::FileObject(file, FileSource::PtySlave));
                }
                if kind == FileKind::PtyMaster {
                    let len = self.string()?;
                    if self.strings.first() != Some(&b'/') {
                        return Err(Errno::EINVAL);
                    }
                    let pair: PtyPairRecord = self.reader.read_record()?;
                    if !pair.is_valid() {
                        return Err(Errno::EINVAL);
                    }
                    self.resume = expect;
                    self.expect = Expect::PtyQueue { side: 0 };
                    return Ok(Item::FileObject(
                        file,
                        FileSource::PtyMaster {
                            ptmx: self.string_bytes(len)?,
                            pair,
                        },
                    ));
                }
                if kind == FileKind::Inotify {
                    let watches: InotifyWatchesRecord = self.reader.read_record()?;
                    if watches.count > MAX_INOTIFY_WATCHES || watches.next_wd > i32::MAX as u32 {
                        return Err(Errno::EINVAL);
                    }
                    self.expect = expect;
                    if watches.count > 0 {
                        self.resume = expect;
                        self.expect = Expect::InotifyWatch {
                            left: watches.count,
                            floor: 1,
                        };
                    }
                    return Ok(Item::FileObject(
                        file,
                        FileSource::Inotify {
                            count: watches.count,
                            next_wd: watches.next_wd,
                        },
                    ));
                }
                if kind == FileKind::EventPoll {
                    let (t, h) = self.reader.next_header()?;
                    let (watches, body): (EpollWatchesRecord, usize) = self.reader.prefix(t, h)?;
                    if watches.count > MAX_EPOLL_WATCHES
                        || watches._pad != 0
                        || body != watches.count as usize * size_of::<EpollWatch>()
                    {
                        return Err(Errno::EINVAL);
                    }
                    if watches.count > 0 {
                        self.pending = Pending::EpollWatches {
                            left: watches.count,
                            below: file.objref,
                        };
                    }
                    self.expect = expect;
                    return Ok(Item::FileObject(
                        file,
                        FileSource::EpollSet {
                            count: watches.count,
                        },
                    ));
                }
                if kind == FileKind::Memfd {
                    let len = self.string()?;
                    if len > MAX_MEMFD_NAME {
                        return Err(Errno::EINVAL);
                    }
                    let memfd: MemfdRecord = self.reader.read_record()?;
                    if memfd.size > MAX_DELETED_FILE_SIZE
                        || memfd.seals & !MEMFD_SEALS != 0
                        || memfd.mode > 0o7777
                    {
                        return Err(Errno::EINVAL);
                    }
                    self.resume = expect;
                    self.expect = Expect::FileData {
                        floor: 0,
                        size: memfd.size,
                    };
                    return Ok(Item::FileObject(
                        file,
                        FileSource::Memfd {
                            name: self.string_bytes(len)?,
                            size: memfd.size,
                            seals: memfd.seals,
                            mode: memfd.mode,
                        },
                    ));
                }
                if kind == FileKind::SharedMemory {
                    let shared: SharedMemoryRecord = self.reader.read_record()?;
                    if shared.size == 0
                        || shared.size > MAX_SHARED_MEMORY_SIZE
                        || shared.size % self.page_size as u64 != 0
                    {
                        return Err(Errno::EINVAL);
                    }
                    self.resume = expect;
                    self.expect = Expect::FileData {
                        floor: 0,
                        size: shared.size,
                    };
                    return Ok(Item::FileObject(
                        file,
                        FileSource::SharedMemory { size: shared.size },
                    ));
                }
                if !kind.has_path() {
                    let state: FileStateRecord = self.reader.read_record()?;
                    if !state.is_valid_for(kind) {
                        return Err(Errno::EINVAL);
                    }
                    self.expect = expect;
                    return Ok(Item::FileObject(file, FileSource::State(state)));
                }
                let len = self.string()?;
                if self.strings.first() != Some(&b'/') {
                    return Err(Errno::EINVAL);
                }
                if kind == FileKind::DeletedFile {
                    let deleted: DeletedFileRecord = self.reader.read_record()?;
                    if deleted.size > MAX_DELETED_FILE_SIZE
                        || deleted.mode > 0o7777
                        || deleted._pad != 0
                    {
                        return Err(Errno::EINVAL);
                    }
                    self.resume = expect;
                    self.expect = Expect::FileData {
                        floor: 0,
                        size: deleted.size,
                    };
                    return Ok(Item::FileObject(
                        file,
                        FileSource::Deleted {
                            dir: self.string_bytes(len)?,
                            size: deleted.size,
                            mode: deleted.mode,
                        },
                    ));
                }
                if kind == FileKind::Terminal {
                    let tty: TtyRecord = self.reader.read_record()?;
                    if !tty.is_valid() {
                        return Err(Errno::EINVAL);
                    }
                    self.expect = expect;
                    return Ok(Item::FileObject(
                        file,
                        FileSource::Terminal(self.string_bytes(len)?, tty),
                    ));
                }
                self.expect = expect;
                Ok(Item::FileObject(
                    file,
                    FileSource::Path(self.string_bytes(len)?),
                ))
            }
            (Expect::Fd { left, next_fd }, RecordType::Fd) => {
                let fd: FdRecord = self.reader.payload(t, h)?;
                if fd.fd < next_fd
                    || fd.fd >= FD_LIMIT
                    || fd.flags & !FD_CLOEXEC_FLAG != 0
                    || fd._pad != 0
                {
                    return Err(Errno::EINVAL);
                }
                self.use_object(fd.file_ref)?;
                self.expect = Self::after_fd(left - 1, fd.fd + 1);
                Ok(Item::Fd(fd))
            }
            (Expect::Ctty, RecordType::Ctty) => {
                let ctty: CttyRecord = self.reader.payload(t, h)?;
                if ctty.flags & !CTTY_FLAGS != 0 {
                    return Err(Errno::EINVAL);
                }
                if ctty.file_ref != 0 {
                    self.use_object(ctty.file_ref)?;
                }
                self.expect = Expect::Mm;
                Ok(Item::Ctty(ctty))
            }
            (Expect::Mm, RecordType::Mm) => {
                let (mm, body): (MmRecord, usize) = self.reader.prefix(t, h)?;
                let words = mm.auxv_words as usize;
                if !(2..=MAX_AUXV_WORDS).contains(&words) || body != words * 8 || mm._pad != 0 {
                    return Err(Errno::EINVAL);
                }
                self.check_mm(&mm)?;
                self.pending = Pending::Auxv { count: words };
                self.vmas.reset(mm.vma_count as usize)?;
                self.expect = self.after_vmas(mm.vma_count);
                Ok(Item::Mm(mm))
            }
            (Expect::Vma { left, floor }, RecordType::Vma) => {
                let vma: VmaRecord = self.reader.payload(t, h)?;
                self.check_vma(&vma, floor)?;
                self.vmas.push(vma)?;
                self.expect = if left > 1 {
                    Expect::Vma {
                        left: left - 1,
                        floor: vma.end,
                    }
                } else {
                    self.pages_of(0)
                };
                Ok(Item::Vma(vma))
            }
            (Expect::Pages { vma, floor }, RecordType::PageChunk) => {
                self.page_chunk(t, h, vma, floor)
            }
            (Expect::PtyQueue { side }, RecordType::PtyQueue) => {
                let (queue, body): (PtyQueueRecord, usize) = self.reader.prefix(t, h)?;
                if !queue.is_valid(side, body) {
                    return Err(Errno::EINVAL);
                }
                self.pending = Pending::Bytes {
                    of: BytesOf::PtyQueue,
                    len: queue.body_len(),
                    padded: body,
                };
                self.expect = if side == 0 {
                    Expect::PtyQueue { side: 1 }
                } else {
                    self.resume
                };
                Ok(Item::PtyQueue(queue))
            }
            (Expect::InotifyWatch { left, floor }, RecordType::InotifyWatch) => {
                let watch: InotifyWatchRecord = self.reader.payload(t, h)?;
                if watch.wd < floor
                    || watch.mask & !INOTIFY_WATCH_BITS != 0
                    || watch.mask & 0xfff == 0
                {
                    return Err(Errno::EINVAL);
                }
                let len = self.string()?;
                if self.strings.first() != Some(&b'/') {
                    return Err(Errno::EINVAL);
                }
                self.expect = match (left - 1, watch.wd.checked_add(1)) {
                    (0, _) => self.resume,
                    (left, Some(floor)) => Expect::InotifyWatch { left, floor },
                    (_, None) => return Err(Errno::EINVAL),
                };
                Ok(Item::InotifyWatch {
                    wd: watch.wd,
                    mask: watch.mask,
                    path: self.string_bytes(len)?,
                })
            }
            (Expect::FileData { floor, size }, RecordType::FileData) => {
                let (data, body): (FileDataRecord, usize) = self.reader.prefix(t, h)?;
                let end = data.offset.checked_add(data.len.into());
                if data.offset < floor
                    || !end.is_some_and(|end| end <= size)
                    || data.len > MAX_FILE_DATA
                    || data._pad != 0
                    || align_record_len(data.len as usize) != Some(body)
                {
                    return Err(Errno::EINVAL);
                }
                let len = data.len as usize;
                // (Reading the empty last record's bytes reads nothing.)
                self.pending = Pending::Bytes {
                    of: BytesOf::FileData,
                    len,
                    padded: body,
                };
                if len == 0 {
                    self.expect = self.resume;
                } else {
                    self.expect = Expect::FileData {
                        floor: end.unwrap_or(size),
                        size,
                    };
                }
                Ok(Item::FileData {
                    offset: data.offset,
                    len,
                })
            }
            _ => Err(Errno::EINVAL),
        }
    }

    /// Records that process number `n` (from 1) is live.
    fn mark_live(&mut self, n: u32) {
        let bit = n.wrapping_sub(1) as usize;
        if let Some(word) = self.live.get_mut(bit / 64) {
            *word |= 1 << (bit % 64);
        }
    }

    /// Whether the current process may share what process number `n`
    /// holds: 0 (shares nothing), or a live process before it.
    fn may_share(&self, n: u32) -> bool {
        if n == 0 {
            return true;
        }
        let bit = (n - 1) as usize;
        n < self.processes
            && self
                .live
                .get(bit / 64)
                .is_some_and(|word| word & (1 << (bit % 64)) != 0)
    }

    /// The state after an fd record when `left` fds remain.
    fn after_fd(left: u32, next_fd: u32) -> Expect {
        if left == 0 {
            Expect::Ctty
        } else {
            Expect::Fd { left, next_fd }
        }
    }

    /// The state after the areas' records when `left` areas remain.
    fn after_vmas(&self, left: u32) -> Expect {
        if left > 0 {
            Expect::Vma { left, floor: 0 }
        } else {
            self.pages_of(0)
        }
    }

    /// The state before the task's pages: none without areas.
    fn pages_of(&self, vma: usize) -> Expect {
        match self.vmas.as_slice().get(vma) {
            Some(area) => Expect::Pages {
                vma,
                floor: area.start,
            },
            None => Expect::AfterTask,
        }
    }

    /// Counts a child process `pid` (not the root) against the deepest
    /// level of the tree with children still to come, and the cap.
    fn enter_child(&mut self, pid: i32) -> Result {
        let level = self.finish_levels();
        let left = self
            .children_left
            .get_mut(level.wrapping_sub(1))
            .ok_or(Errno::EINVAL)?;
        if self.processes >= MAX_PROCESSES || pid <= 0 {
            return Err(Errno::EINVAL);
        }
        *left -= 1;
        Ok(())
    }

    /// Leaves the levels of the tree whose announced children all came;
    /// returns the number of levels still open.
    fn finish_levels(&mut self) -> usize {
        while self.depth > 0 && self.children_left.get(self.depth - 1) == Some(&0) {
            self.depth -= 1;
        }
        self.depth
    }

    fn page_chunk(
        &mut self,
        t: RecordType,
        h: RecordHeader,
        vma: usize,
        floor: u64,
    ) -> Result<Item<'_>> {
        let (chunk, body): (PageChunkRecord, usize) = self.reader.prefix(t, h)?;
        let count = chunk.count as usize;
        let per_page = self.page_size.checked_add(8).ok_or(Errno::EINVAL)?;
        if chunk.count > MAX_CHUNK_PAGES
            || chunk._pad != 0
            || count.checked_mul(per_page) != Some(body)
        {
            return Err(Errno::EINVAL);
        }
        let mask = self.page_size as u64 - 1;
        let (mut vma, mut floor) = (vma, floor);
        for slot in self.addrs.iter_mut().take(count) {
            let addr: u64 = self.reader.take_pod()?;
            if addr & mask != 0 || addr < floor {
                return Err(Errno::EINVAL);
            }
            // The areas are sorted and apart: move on to the one that can
            // hold `addr`, which must hold it and be private.
            let areas = self.vmas.as_slice();
            while areas.get(vma).is_some_and(|a| addr >= a.end) {
                vma += 1;
            }
            let area = areas.get(vma).ok_or(Errno::EINVAL)?;
            if addr < area.start || area.flags & VMA_SHARED != 0 {
                return Err(Errno::EINVAL);
            }
            *slot = addr;
            floor = addr + self.page_size as u64;
        }
        if count == 0 {
            self.expect = Expect::AfterTask;
        } else {
            self.pending = Pending::Pages { next: 0, count };
            self.expect = Expect::Pages { vma, floor };
        }
        Ok(Item::PageChunk { count })
    }

    fn error_record(&mut self, t: RecordType, h: RecordHeader) -> Result<Item<'_>> {
        let (err, body): (ErrorRecord, usize) = self.reader.prefix(t, h)?;
        if err.errno <= 0 || err.errno >= 4096 {
            return Err(Errno::EINVAL);
        }
        let len = self.string_body(err.len, body)?;
        self.expect = Expect::Done;
        Ok(Item::Error {
            errno: err.errno,
            message: self.string_bytes(len)?,
        })
    }

    /// Reads the string record that must come next; returns its length
    /// without the NUL.
    fn string(&mut self) -> Result<usize> {
        let (t, h) = self.reader.next_header()?;
        let (s, body): (StringRecord, usize) = self.reader.prefix(t, h)?;
        if s._pad != 0 {
            return Err(Errno::EINVAL);
        }
        self.string_body(s.len, body)
    }

    /// Reads a string body of `len` bytes (NUL included) padded to `body`
    /// bytes into `self.strings`; returns its length without the NUL.
    fn string_body(&mut self, len: u32, body: usize) -> Result<usize> {
        if len == 0 || len > MAX_STRING_LEN || align_record_len(len as usize) != Some(body) {
            return Err(Errno::EINVAL);
        }
        let len = len as usize;
        let dst = self.strings.get_mut(..len).ok_or(Errno::EINVAL)?;
        self.reader.take(dst)?;
        // Exactly one NUL, the last byte.
        if cstr_field(dst).map(|s| s.len()) != Some(len - 1) {
            return Err(Errno::EINVAL);
        }
        self.reader.take_zeros(body - len)?;
        Ok(len - 1)
    }

    fn string_bytes(&self, len: usize) -> Result<&[u8]> {
        self.strings.get(..len).ok_or(Errno::EINVAL)
    }

    /// Accepts the definition of object `objref`: the next number.
    fn define_object(&mut self, objref: u32) -> Result {
        if objref != self.objects + 1 || objref > MAX_OBJECTS {
            return Err(Errno::EINVAL);
        }
        self.objects = objref;
        Ok(())
    }

    /// Accepts a use of object `objref`: defined earlier in the image.
    fn use_object(&self, objref: u32) -> Result {
        if objref == 0 || objref > self.objects {
            return Err(Errno::EINVAL);
        }
        Ok(())
    }

    fn check_mm(&self, mm: &MmRecord) -> Result {
        let ranges = [
            (mm.start_code, mm.end_code),
            (mm.start_data, mm.end_data),
            (mm.start_brk, mm.brk),
            (mm.arg_start, mm.arg_end),
            (mm.env_start, mm.env_end),
        ];
        let ranges_ok = ranges
            .iter()
            .all(|&(lo, hi)| lo <= hi && hi <= USER_ADDR_LIMIT);
        if !ranges_ok
            || mm.start_stack > USER_ADDR_LIMIT
            || mm.vdso_base >= USER_ADDR_LIMIT
            || mm.vdso_base & (self.page_size as u64 - 1) != 0
            || mm.vma_count > MAX_VMAS
        {
            return Err(Errno::EINVAL);
        }
        if mm.exe_file_ref != 0 {
            self.use_object(mm.exe_file_ref)?;
        }
        Ok(())
    }

    fn check_vma(&self, vma: &VmaRecord, floor: u64) -> Result {
        let mask = self.page_size as u64 - 1;
        let kind = VmaKind::from_u32(vma.kind).ok_or(Errno::EINVAL)?;
        if vma.start & mask != 0
            || vma.end & mask != 0
            || vma.start >= vma.end
            || vma.end > USER_ADDR_LIMIT
            || vma.start < floor
            || vma.prot & !VMA_PROT_MASK != 0
            || vma.flags & !VMA_FLAGS_MASK != 0
        {
            return Err(Errno::EINVAL);
        }
        // Only a file can be shared; its pages are in the file.
        let private_only = VMA_GROWSDOWN | VMA_STACK | VMA_HEAP | VMA_WIPEONFORK;
        if vma.flags & VMA_SHARED != 0 && (kind != VmaKind::File || vma.flags & private_only != 0) {
            return Err(Errno::EINVAL);
        }
        // As the kernel keeps them: one of each pair at most, wipe on
        // fork only for anonymous memory, on fault only for locked.
        if vma.flags & (VMA_HUGEPAGE | VMA_NOHUGEPAGE) == VMA_HUGEPAGE | VMA_NOHUGEPAGE
            || vma.flags & (VMA_SEQUENTIAL | VMA_RANDOM) == VMA_SEQUENTIAL | VMA_RANDOM
            || (vma.flags & VMA_WIPEONFORK != 0 && kind != VmaKind::Anonymous)
            || (vma.flags & VMA_LOCK_ON_FAULT != 0 && vma.flags & VMA_LOCKED == 0)
        {
            return Err(Errno::EINVAL);
        }
        if kind == VmaKind::File {
            self.use_object(vma.file_ref)?;
            // The last page's file offset must not overflow.
            let pages = (vma.end - vma.start) / self.page_size as u64;
            vma.pgoff.checked_add(pages).ok_or(Errno::EINVAL)?;
        } else if vma.file_ref != 0 || vma.pgoff != 0 {
            return Err(Errno::EINVAL);
        }
        Ok(())
    }
}

/// `O_ACCMODE`: the access mode bits of open flags; all set is invalid.
const OPEN_ACCMODE: u32 = 3;
/// `O_NONBLOCK` of Linux x86-64.
const OPEN_NONBLOCK: u32 = 0o4000;
/// `O_LARGEFILE` of Linux x86-64.
const OPEN_LARGEFILE: u32 = 0o100000;

/// Highest signal number of x86-64 (`_NSIG`).
const MAX_SIGNAL: i32 = NSIG as i32;

/// Whether the task's interrupted-system-call state is one this format
/// defines, with arguments in range.
fn restart_ok(task: &TaskRecord) -> bool {
    // Every kind but none starts with the time that remained.
    let [remaining_ns, arg1, arg2, arg3] = task.restart_args;
    let time_ok = remaining_ns <= i64::MAX as u64;
    match task.restart_kind {
        RESTART_NONE => task.restart_args == [0; 4],
        // The remaining-time buffer, the clock, the timespec type.
        RESTART_NANOSLEEP => {
            time_ok && arg1 < USER_ADDR_LIMIT && RESTART_CLOCKS.contains(&arg2) && arg3 <= 2
        }
        // The pollfd array, its length, 0.
        RESTART_POLL => {
            (time_ok || remaining_ns == RESTART_NO_TIMEOUT)
                && arg1 < USER_ADDR_LIMIT
                && arg2 <= RESTART_MAX_POLL_FDS
                && arg3 == 0
        }
        // The futex word, its value and flags, the bitset.
        RESTART_FUTEX_WAIT => {
            let flags = arg2 & !u64::from(u32::MAX);
            time_ok
                && arg1 < USER_ADDR_LIMIT
                && arg1 % 4 == 0
                && flags & !(FUTEX_RESTART_SHARED | FUTEX_RESTART_CLOCK_REALTIME) == 0
                && arg3 != 0
                && arg3 <= u64::from(u32::MAX)
        }
        _ => false,
    }
}

/// Whether the rseq registration is none (all zero) or one `rseq(2)`
/// could have made: an aligned area of a sane length in user space.
fn rseq_ok(task: &TaskRecord) -> bool {
    if task.rseq_area == 0 {
        return task.rseq_len == 0 && task.rseq_sig == 0;
    }
    (RSEQ_MIN_LEN..=RSEQ_MAX_LEN).contains(&task.rseq_len)
        && task.rseq_area % u64::from(RSEQ_MIN_LEN) == 0
        && task
            .rseq_area
            .checked_add(u64::from(task.rseq_len))
            .is_some_and(|end| end <= USER_ADDR_LIMIT)
}

/// Whether `status` is one `wait(2)` can report of a process that has
/// exited: an exit code (bits 8-15), or a signal number up to [`NSIG`]
/// (bits 0-6) and the core-dump flag (bit 7).
fn wait_status_ok(status: u32) -> bool {
    let signal = status & 0x7f;
    if signal == 0 {
        status & !0xff00 == 0
    } else {
        status & !0xff == 0 && signal <= NSIG
    }
}

fn check_task(task: &TaskRecord) -> Result {
    if cstr_field(&task.comm).is_none()
        || !(0..=MAX_SIGNAL).contains(&task.exit_signal)
        || !(0..=MAX_SIGNAL).contains(&task.pdeath_signal)
        || !restart_ok(task)
        || task.set_child_tid >= USER_ADDR_LIMIT
        || task.clear_child_tid >= USER_ADDR_LIMIT
        || !rseq_ok(task)
        || task.robust_list >= USER_ADDR_LIMIT
        || task.flags & !TASK_FLAGS_KNOWN != 0
        || task.pgid < 0
        || task.sid < 0
        || !exit_ok(task)
    {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

/// Whether the exit status is zero, or, for a leader that had exited, one
/// `exit(2)` leaves (`code << 8`) with zero per-thread fields: it is
/// restored only to exit again.
fn exit_ok(task: &TaskRecord) -> bool {
    if task.flags & TASK_FLAG_LEADER_EXITED == 0 {
        return task.exit_status == 0;
    }
    task.exit_status & !0xff00 == 0
        && task.pdeath_signal == 0
        && task.restart_kind == RESTART_NONE
        && task.set_child_tid == 0
        && task.clear_child_tid == 0
        && task.sigblocked == 0
        && task.rseq_area == 0
        && task.robust_list == 0
}

/// Whether the signal stack is disabled, or one `sigaltstack(2)` could
/// have set up in user space.
fn altstack_ok(sp: u64, size: u64, flags: u32) -> bool {
    if flags == SS_DISABLE {
        return sp == 0 && size == 0;
    }
    (flags == 0 || flags == SS_AUTODISARM)
        && size >= MIN_ALTSTACK_SIZE
        && sp
            .checked_add(size)
            .is_some_and(|end| end <= USER_ADDR_LIMIT)
}

/// User code and stack segment selectors of x86-64 (`__USER_CS`,
/// `__USER_DS`), the only values a 64-bit task returns to user space with.
pub const X86_64_USER_CS: u64 = 0x33;
/// See [`X86_64_USER_CS`].
pub const X86_64_USER_DS: u64 = 0x2b;

fn check_cpu(cpu: &CpuRecord) -> Result {
    let data_selector_ok = |sel: u64| sel == 0 || sel == X86_64_USER_DS;
    if cpu.cs != X86_64_USER_CS
        || cpu.ss != X86_64_USER_DS
        || !data_selector_ok(cpu.ds)
        || !data_selector_ok(cpu.es)
        || !data_selector_ok(cpu.fs)
        || !data_selector_ok(cpu.gs)
        || cpu.fs_base >= USER_ADDR_LIMIT
        || cpu.gs_base >= USER_ADDR_LIMIT
    {
        return Err(Errno::EINVAL);
    }
    Ok(())
}
