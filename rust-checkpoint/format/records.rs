// SPDX-License-Identifier: GPL-2.0

//! Record layouts of format revision 1.
//!
//! Offsets in the comments are from the start of the payload, which follows
//! the 8-byte [`RecordHeader`].

use super::{cstr_field, Errno, Pod, Result};
use core::mem::size_of;

/// Format revision written into every image and required at restart.
///
/// Bump it whenever a record layout, a record type number or an ordering
/// rule changes (see `Documentation/checkpoint/format.rst`).
pub const FORMAT_REVISION: u32 = 15;

/// First field of the [`ImageHeader`] payload: `"CKPTIMG\0"` in
/// little-endian byte order (`CHECKPOINT_IMAGE_MAGIC` in the uapi header).
pub const IMAGE_MAGIC: u64 = 0x0047_4d49_5450_4b43;

/// First field of the [`ImageTail`] payload: `"CKPTEND\0"`
/// (`CHECKPOINT_TAIL_MAGIC` in the uapi header).
pub const TAIL_MAGIC: u64 = 0x0044_4e45_5450_4b43;

/// Every record's length is a multiple of this.
pub const RECORD_ALIGN: usize = 8;

/// Largest record length the reader accepts, header included.  Bounds every
/// allocation sized by an image.
pub const MAX_RECORD_LEN: u32 = 1 << 20;

/// Size of [`TaskRecord::comm`]: the kernel's `TASK_COMM_LEN`.
pub const TASK_COMM_LEN: usize = 16;

/// Highest user-space address (exclusive) of x86-64 with 4-level page
/// tables: the kernel's `TASK_SIZE_MAX`.  Every saved address lies below it.
pub const USER_ADDR_LIMIT: u64 = 0x7fff_ffff_f000;

/// Longest string a [`StringRecord`] or [`ErrorRecord`] may carry,
/// terminating NUL included (the kernel's `PATH_MAX`).
pub const MAX_STRING_LEN: u32 = 4096;

/// Most pages in one [`PageChunkRecord`].
pub const MAX_CHUNK_PAGES: u32 = 64;

/// Most memory areas in one address space.
pub const MAX_VMAS: u32 = 16384;

/// Most open file descriptors in one fd table.
pub const MAX_FDS: u32 = 65536;

/// File descriptor numbers must be below this (the kernel's `NR_OPEN`).
pub const FD_LIMIT: u32 = 1 << 20;

/// Most shared objects (object references) in one image.
pub const MAX_OBJECTS: u32 = 1 << 20;

/// Largest XSAVE buffer an [`FpuRecord`] may carry.
pub const MAX_XSTATE_SIZE: u32 = 64 * 1024;

/// Size of each utsname string field in the header: the kernel's
/// `__NEW_UTS_LEN + 1` (65) rounded up to the record alignment.
pub const UTS_FIELD_SIZE: usize = 72;

/// Architecture identifier of x86-64 images.
pub const ARCH_X86_64: u32 = 1;

/// Record type numbers.  Numbers are never reused; each state family has
/// its own range so that later families slot in without renumbering.
#[repr(u32)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RecordType {
    /// [`ImageHeader`]: the first record of every image.
    Header = 1,
    /// [`ImageTail`]: the last record of every image.
    Tail = 2,
    /// [`ErrorRecord`] and a message: why a checkpoint failed.
    Error = 3,
    /// [`StringRecord`] and the string's bytes.
    String = 4,
    /// [`TaskRecord`]: starts the records of one task.
    Task = 16,
    /// [`FsRecord`]: umask; a string record with the cwd follows.
    Fs = 17,
    /// [`SignalsRecord`] and [`NSIG`] [`SigactionRecord`]s.
    Signals = 18,
    /// [`RlimitsRecord`].
    Rlimits = 19,
    /// [`ItimersRecord`].
    Itimers = 20,
    /// [`SigPendingRecord`].
    SigPending = 21,
    /// [`CredsRecord`] and the supplementary groups.
    Creds = 22,
    /// [`SchedRecord`].
    Sched = 23,
    /// [`PosixTimersRecord`] and its [`PosixTimer`]s.
    PosixTimers = 24,
    /// [`ThreadRecord`]: starts the records of another thread of the
    /// task's thread group.
    Thread = 25,
    /// [`ChildrenRecord`]: the children of the process whose records
    /// precede it follow.
    Children = 26,
    /// [`ZombieRecord`]: a child that has exited and was not waited for.
    Zombie = 27,
    /// [`MmRecord`]: the address space of a task.
    Mm = 32,
    /// [`VmaRecord`]: one memory area.
    Vma = 33,
    /// [`PageChunkRecord`], addresses and page contents.
    PageChunk = 34,
    /// [`CpuRecord`]: x86-64 general registers and segment state.
    Cpu = 48,
    /// [`FpuRecord`] and an XSAVE buffer.
    Fpu = 49,
    /// [`FilesTableRecord`]: starts the fd table of a task.
    FilesTable = 64,
    /// [`FdRecord`]: one open file descriptor.
    Fd = 65,
    /// [`FileObjectRecord`]: an open file; a string record with its path
    /// or a [`FileStateRecord`] follows.
    FileObject = 66,
    /// [`FileStateRecord`]: the state of an open file that has no path.
    FileState = 67,
    /// [`PipeRecord`] and the data buffered in the pipe; the file object
    /// of one of its ends follows.
    Pipe = 68,
    /// [`TtyRecord`]: the settings of a terminal, after its path.
    Tty = 69,
    /// [`EpollWatchesRecord`] and its [`EpollWatch`]es: the interest list
    /// of an epoll set, after its file object.
    EpollWatches = 70,
    /// [`DeletedFileRecord`]: the size and mode of an unlinked file,
    /// after its directory's path; its [`FileDataRecord`]s follow.
    DeletedFile = 71,
    /// [`FileDataRecord`] and file contents.
    FileData = 72,
    /// [`MemfdRecord`]: the size, seals and mode of a memfd, after its
    /// name; its [`FileDataRecord`]s follow.
    Memfd = 73,
    /// [`SharedMemoryRecord`]: the size of the object behind shared
    /// anonymous memory, after its file object; its [`FileDataRecord`]s
    /// follow.
    SharedMemory = 74,
    /// [`ShmSegmentRecord`]: a SysV shared memory segment; its
    /// [`FileDataRecord`]s follow, then the file object of an attach of
    /// it.
    ShmSegment = 75,
    /// [`InotifyWatchesRecord`]: the number of watches of an inotify
    /// instance, after its file object; its [`InotifyWatchRecord`]s follow.
    InotifyWatches = 76,
    /// [`InotifyWatchRecord`]: one watch of an inotify instance; a string
    /// record with the watched file's path follows.
    InotifyWatch = 77,
    /// [`PtyPairRecord`]: a pseudo-terminal pair, after the path of its
    /// master's file object; two [`PtyQueueRecord`]s follow.
    PtyPair = 78,
    /// [`PtyQueueRecord`] and the bytes a side of a pseudo-terminal pair
    /// has not read yet.
    PtyQueue = 79,
    /// [`CttyRecord`]: the controlling terminal of the task's session,
    /// after its fd table.
    Ctty = 80,
}

impl RecordType {
    /// Maps a type number read from an image to a known type.
    pub fn from_u32(v: u32) -> Option<RecordType> {
        Some(match v {
            1 => RecordType::Header,
            2 => RecordType::Tail,
            3 => RecordType::Error,
            4 => RecordType::String,
            16 => RecordType::Task,
            17 => RecordType::Fs,
            18 => RecordType::Signals,
            19 => RecordType::Rlimits,
            20 => RecordType::Itimers,
            21 => RecordType::SigPending,
            22 => RecordType::Creds,
            23 => RecordType::Sched,
            24 => RecordType::PosixTimers,
            25 => RecordType::Thread,
            26 => RecordType::Children,
            27 => RecordType::Zombie,
            32 => RecordType::Mm,
            33 => RecordType::Vma,
            34 => RecordType::PageChunk,
            48 => RecordType::Cpu,
            49 => RecordType::Fpu,
            64 => RecordType::FilesTable,
            65 => RecordType::Fd,
            66 => RecordType::FileObject,
            67 => RecordType::FileState,
            68 => RecordType::Pipe,
            69 => RecordType::Tty,
            70 => RecordType::EpollWatches,
            71 => RecordType::DeletedFile,
            72 => RecordType::FileData,
            73 => RecordType::Memfd,
            74 => RecordType::SharedMemory,
            75 => RecordType::ShmSegment,
            76 => RecordType::InotifyWatches,
            77 => RecordType::InotifyWatch,
            78 => RecordType::PtyPair,
            79 => RecordType::PtyQueue,
            80 => RecordType::Ctty,
            _ => return None,
        })
    }
}

/// The header in front of every record.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct RecordHeader {
    /// A [`RecordType`] number.
    pub rtype: u32,
    /// Length of the whole record in bytes, this header included; a
    /// multiple of [`RECORD_ALIGN`].
    pub len: u32,
}
const _: () = assert!(size_of::<RecordHeader>() == 8);
// SAFETY: `repr(C)`, two `u32` fields, no padding (size asserted above).
unsafe impl Pod for RecordHeader {}

/// A fixed-size record payload.
pub trait Record: Pod {
    /// The type number that introduces this payload.
    const TYPE: RecordType;

    /// Length of the whole record, header included.
    const RECORD_LEN: u32 = {
        let len = size_of::<RecordHeader>() + size_of::<Self>();
        assert!(len % RECORD_ALIGN == 0 && len <= MAX_RECORD_LEN as usize);
        len as u32
    };
}

/// Kernel constants that the layout of saved state depends on.  Restart
/// requires them to equal the running kernel's.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct KernelConstants {
    /// `PAGE_SIZE`. Offset 0.
    pub page_size: u32,
    /// `TASK_COMM_LEN`. Offset 4.
    pub task_comm_len: u16,
    /// Size of each `struct new_utsname` field (`__NEW_UTS_LEN + 1`). Offset 6.
    pub uts_len: u16,
    /// `LINUX_VERSION_CODE` of the checkpointing kernel (informative, not
    /// compared). Offset 8.
    pub linux_version_code: u32,
    /// Zero. Offset 12.
    pub _reserved: u32,
}
const _: () = assert!(size_of::<KernelConstants>() == 16);
// SAFETY: `repr(C)`, integer fields, no padding (size asserted above).
unsafe impl Pod for KernelConstants {}

impl KernelConstants {
    /// Whether an image made with `self` can be restarted on a kernel with
    /// `running`.  `linux_version_code` is informative and not compared.
    pub fn compatible_with(&self, running: &KernelConstants) -> bool {
        self.page_size == running.page_size
            && self.task_comm_len == running.task_comm_len
            && self.uts_len == running.uts_len
            && self._reserved == 0
    }
}

/// Payload of the first record of an image.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ImageHeader {
    /// [`IMAGE_MAGIC`]. Offset 0.
    pub magic: u64,
    /// [`FORMAT_REVISION`]. Offset 8.
    pub format_rev: u32,
    /// Architecture, e.g. [`ARCH_X86_64`]. Offset 12.
    pub arch: u32,
    /// The `flags` argument of the `checkpoint` call. Offset 16.
    pub flags: u64,
    /// Wall-clock time of the checkpoint, seconds. Offset 24.
    pub time_sec: i64,
    /// Nanoseconds part of the time. Offset 32.
    pub time_nsec: u32,
    /// Zero. Offset 36.
    pub _pad0: u32,
    /// Layout-defining constants. Offset 40.
    pub constants: KernelConstants,
    /// `uname -r` of the checkpointing kernel, NUL-terminated. Offset 56.
    pub release: [u8; UTS_FIELD_SIZE],
    /// `uname -v`, NUL-terminated. Offset 128.
    pub version: [u8; UTS_FIELD_SIZE],
    /// `uname -m`, NUL-terminated. Offset 200.
    pub machine: [u8; UTS_FIELD_SIZE],
}
const _: () = assert!(size_of::<ImageHeader>() == 272);
// SAFETY: `repr(C)`, integer and byte-array fields, every gap an explicit
// field (size asserted above equals the sum of the field sizes).
unsafe impl Pod for ImageHeader {}

impl Record for ImageHeader {
    const TYPE: RecordType = RecordType::Header;
}

impl ImageHeader {
    /// Checks what a header must satisfy on any machine: the magic, this
    /// format revision, no undefined flags, zero padding, a valid time, a
    /// page size that is a power of two from 4 KiB to 64 KiB, the
    /// `TASK_COMM_LEN` this format's [`TaskRecord`] holds, and strings with
    /// a NUL.  Otherwise `EINVAL`.
    pub fn check(&self) -> Result {
        let strings_ok = cstr_field(&self.release).is_some()
            && cstr_field(&self.version).is_some()
            && cstr_field(&self.machine).is_some();
        let page_size = self.constants.page_size;
        if self.magic != IMAGE_MAGIC
            || self.format_rev != FORMAT_REVISION
            || self.flags != 0
            || self._pad0 != 0
            || self.constants._reserved != 0
            || self.time_nsec >= 1_000_000_000
            || !page_size.is_power_of_two()
            || !(4096..=65536).contains(&page_size)
            || self.constants.task_comm_len as usize != TASK_COMM_LEN
            || !strings_ok
        {
            return Err(Errno::EINVAL);
        }
        Ok(())
    }

    /// Checks a header read from an image against the running kernel:
    /// [`ImageHeader::check`], and the architecture and kernel constants
    /// must be the running kernel's (`EINVAL` otherwise).
    pub fn validate(&self, arch: u32, running: &KernelConstants) -> Result {
        self.check()?;
        if self.arch != arch || !self.constants.compatible_with(running) {
            return Err(Errno::EINVAL);
        }
        Ok(())
    }
}

/// Payload of the last record of an image.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ImageTail {
    /// [`TAIL_MAGIC`]. Offset 0.
    pub magic: u64,
    /// Number of image bytes before the tail record. Offset 8.
    pub image_len: u64,
    /// XXH64 (seed 0) of those bytes. Offset 16.
    pub checksum: u64,
}
const _: () = assert!(size_of::<ImageTail>() == 24);
// SAFETY: `repr(C)`, three `u64` fields, no padding (size asserted above).
unsafe impl Pod for ImageTail {}

impl Record for ImageTail {
    const TYPE: RecordType = RecordType::Tail;
}

/// A record made of a fixed prefix followed by a variable body whose
/// length the prefix determines.
pub trait VarRecord: Pod {
    /// The type number that introduces this payload.
    const TYPE: RecordType;
}

/// Declares that `$t` is a plain-bytes record payload of `$size` bytes.
macro_rules! plain_record {
    ($t:ty, $size:expr) => {
        const _: () = assert!(size_of::<$t>() == $size);
        const _: () = assert!(size_of::<$t>() % RECORD_ALIGN == 0);
        // SAFETY: every payload declared through this macro is `repr(C)`
        // with fields that are integers, integer arrays or arrays of other
        // payloads declared through it, every gap is an explicit padding
        // field, and the size assertion above holds the sum of the field
        // sizes, so there are no implicit padding bytes.
        unsafe impl Pod for $t {}
    };
}

/// Prefix of an error record: the errno of the failed checkpoint.  The
/// body is a NUL-terminated message of `len` bytes, padded to 8.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ErrorRecord {
    /// Positive errno the checkpoint failed with. Offset 0.
    pub errno: i32,
    /// Length of the message, NUL included. Offset 4.
    pub len: u32,
}
plain_record!(ErrorRecord, 8);
impl VarRecord for ErrorRecord {
    const TYPE: RecordType = RecordType::Error;
}

/// Prefix of a string record; the body is `len` bytes whose last (and only)
/// NUL ends the string, padded to 8.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct StringRecord {
    /// Length of the string, NUL included, at most [`MAX_STRING_LEN`].
    /// Offset 0.
    pub len: u32,
    /// Zero. Offset 4.
    pub _pad: u32,
}
plain_record!(StringRecord, 8);
impl VarRecord for StringRecord {
    const TYPE: RecordType = RecordType::String;
}

/// No system call to restart.
pub const RESTART_NONE: u32 = 0;
/// An interrupted `nanosleep`/`clock_nanosleep` to resume: the arguments
/// are the nanoseconds that remained to sleep, the user address of the
/// remaining-time buffer, the clock id and the kernel's timespec type.
pub const RESTART_NANOSLEEP: u32 = 1;
/// An interrupted `poll` to resume: the arguments are the nanoseconds
/// that remained (or [`RESTART_NO_TIMEOUT`]), the user address of the
/// `pollfd` array, the number of entries and 0.
pub const RESTART_POLL: u32 = 2;
/// An interrupted `futex` wait with a timeout to resume: the arguments
/// are the nanoseconds that remained on its clock, the user address of
/// the futex word, the expected value with [`FUTEX_RESTART_SHARED`] and
/// [`FUTEX_RESTART_CLOCK_REALTIME`] shifted left by 32, and the bitset.
pub const RESTART_FUTEX_WAIT: u32 = 3;
/// The remaining time of a restart kind that waits without a timeout.
pub const RESTART_NO_TIMEOUT: u64 = u64::MAX;
/// Most entries a resumed `poll` may have: the kernel's largest `nr_open`.
pub const RESTART_MAX_POLL_FDS: u64 = 1 << 20;
/// Futex wait flag (bit 32 of the third argument): a shared futex.
pub const FUTEX_RESTART_SHARED: u64 = 1 << 32;
/// Futex wait flag: the timeout is on the realtime clock.
pub const FUTEX_RESTART_CLOCK_REALTIME: u64 = 2 << 32;
/// Clocks a resumed sleep may use: realtime, monotonic, boottime, TAI.
pub const RESTART_CLOCKS: [u64; 4] = [0, 1, 7, 11];

/// Task state that is not memory, registers or files.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct TaskRecord {
    /// `comm`, NUL-terminated. Offset 0.
    pub comm: [u8; TASK_COMM_LEN],
    /// Signal sent to the parent at exit. Offset 16.
    pub exit_signal: i32,
    /// Signal sent when the parent dies (`PR_SET_PDEATHSIG`). Offset 20.
    pub pdeath_signal: i32,
    /// Execution domain (`personality(2)`). Offset 24.
    pub personality: u32,
    /// How an interrupted system call resumes: [`RESTART_NONE`] or a kind
    /// defined with the feature that saves it. Offset 28.
    pub restart_kind: u32,
    /// Arguments of the restart kind. Offset 32.
    pub restart_args: [u64; 4],
    /// `set_child_tid`. Offset 64.
    pub set_child_tid: u64,
    /// `clear_child_tid`. Offset 72.
    pub clear_child_tid: u64,
    /// Blocked signals, bit `n - 1` for signal `n`. Offset 80.
    pub sigblocked: u64,
    /// Process id in the checkpointer's pid namespace (informative).
    /// Offset 88.
    pub pid: i32,
    /// Thread-group id, likewise. Offset 92.
    pub tgid: i32,
    /// Address of the registered rseq area, 0 for none. Offset 96.
    pub rseq_area: u64,
    /// Length of the rseq area as registered (0 with no area). Offset 104.
    pub rseq_len: u32,
    /// Signature of the rseq abort handlers (0 with no area). Offset 108.
    pub rseq_sig: u32,
    /// Head of the robust futex list (`set_robust_list`), 0 for none.
    /// Offset 112.
    pub robust_list: u64,
    /// `TASK_FLAG_*` bits. Offset 120.
    pub flags: u32,
    /// Process group id in the checkpointer's pid namespace, 0 if the
    /// group's leader is not in it; not negative. The task led its group
    /// when it equals `pid`. Offset 124.
    pub pgid: i32,
    /// Session id, likewise; the task led its session when it equals
    /// `pid`. Offset 128.
    pub sid: i32,
    /// With [`TASK_FLAG_LEADER_EXITED`], the status the leader exited
    /// with, as `wait(2)` reports it (`code << 8`); zero otherwise.
    /// Offset 132.
    pub exit_status: u32,
}
plain_record!(TaskRecord, 136);
impl Record for TaskRecord {
    const TYPE: RecordType = RecordType::Task;
}

impl TaskRecord {
    /// Whether the task led its session.
    pub fn leads_session(&self) -> bool {
        self.pid > 0 && self.sid == self.pid
    }

    /// Whether the task led its process group.
    pub fn leads_group(&self) -> bool {
        self.pid > 0 && self.pgid == self.pid
    }
}

/// Most threads of one thread group an image holds, the group leader
/// included.
pub const MAX_THREADS: u32 = 4096;

/// A thread of the task's thread group other than its leader: the
/// per-thread fields of a [`TaskRecord`] and the thread's alternate signal
/// stack.  Its pending signals, registers and FPU state follow.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ThreadRecord {
    /// The thread's task fields: `pid` is its thread id, `tgid` the
    /// leader's; `exit_signal` is 0; `pgid`, `sid`, `personality` and
    /// `flags` repeat the leader's.  Offset 0.
    pub task: TaskRecord,
    /// Base of the thread's alternate signal stack (0 when disabled).
    /// Offset 136.
    pub altstack_sp: u64,
    /// Its size (0 when disabled). Offset 144.
    pub altstack_size: u64,
    /// [`SS_DISABLE`], or 0 or [`SS_AUTODISARM`] for a stack. Offset 152.
    pub altstack_flags: u32,
    /// Zero. Offset 156.
    pub _pad: u32,
}
plain_record!(ThreadRecord, 160);
impl Record for ThreadRecord {
    const TYPE: RecordType = RecordType::Thread;
}

/// Most processes of one image, the root of the tree included.
pub const MAX_PROCESSES: u32 = 4096;

/// Deepest nesting of processes in one image: the root is at depth 0, its
/// children at depth 1.
pub const MAX_TREE_DEPTH: u32 = 64;

/// Announces the children of the process whose records (pages included)
/// precede it: the records of `count` processes follow, each with its own
/// children, depth first.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ChildrenRecord {
    /// Number of children, at least 1. Offset 0.
    pub count: u32,
    /// Zero. Offset 4.
    pub _pad: u32,
}
plain_record!(ChildrenRecord, 8);
impl Record for ChildrenRecord {
    const TYPE: RecordType = RecordType::Children;
}

/// A child that has exited and was not waited for (a zombie), in place
/// of a process among its parent's children.  It has no other records:
/// what `wait(2)` reports of it, and where it stands in its session, is
/// all that is left of it.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ZombieRecord {
    /// Its pid, in the checkpointer's pid namespace. Offset 0.
    pub pid: i32,
    /// Its process group. Offset 4.
    pub pgid: i32,
    /// Its session. Offset 8.
    pub sid: i32,
    /// The signal its exit sent its parent (0 to 64). Offset 12.
    pub exit_signal: i32,
    /// The status `wait(2)` reports: an exit code in bits 8-15, or a
    /// signal number in bits 0-6 with the core-dump flag in bit 7.
    /// Offset 16.
    pub status: u32,
    /// Its real user id, in the checkpointer's user namespace. Offset 20.
    pub uid: u32,
    /// Its command name, NUL-terminated. Offset 24.
    pub comm: [u8; TASK_COMM_LEN],
}
plain_record!(ZombieRecord, 40);
impl Record for ZombieRecord {
    const TYPE: RecordType = RecordType::Zombie;
}

/// [`TaskRecord::flags`]: the task may not gain privileges
/// (`PR_SET_NO_NEW_PRIVS`).
pub const TASK_FLAG_NO_NEW_PRIVS: u32 = 1;
/// [`TaskRecord::flags`]: the process is not dumpable
/// (`PR_SET_DUMPABLE` 0).
pub const TASK_FLAG_NOT_DUMPABLE: u32 = 2;
/// [`TaskRecord::flags`]: the process is a child subreaper
/// (`PR_SET_CHILD_SUBREAPER`).
pub const TASK_FLAG_CHILD_SUBREAPER: u32 = 4;
/// [`TaskRecord::flags`]: transparent huge pages are disabled for the
/// address space (`PR_SET_THP_DISABLE`).
pub const TASK_FLAG_THP_DISABLE: u32 = 8;
/// [`TaskRecord::flags`]: the leader of the thread group had exited (with
/// [`TaskRecord::exit_status`]) while its other threads ran on.  The record
/// then describes the process only: its per-thread fields are zero, and
/// no registers or FPU state follow it.
pub const TASK_FLAG_LEADER_EXITED: u32 = 16;
/// [`TaskRecord::flags`]: the process was in a job-control stop of its
/// own (`^Z`, `SIGSTOP`), which only a tree frozen by the cgroup freezer
/// shows; restart stops it again.
pub const TASK_FLAG_JOB_STOPPED: u32 = 32;
/// Every [`TaskRecord::flags`] bit this revision defines.
pub const TASK_FLAGS_KNOWN: u32 = TASK_FLAG_NO_NEW_PRIVS
    | TASK_FLAG_NOT_DUMPABLE
    | TASK_FLAG_CHILD_SUBREAPER
    | TASK_FLAG_THP_DISABLE
    | TASK_FLAG_LEADER_EXITED
    | TASK_FLAG_JOB_STOPPED;
/// Smallest rseq area `rseq(2)` accepts (the original `struct rseq`), and
/// the alignment it requires.
pub const RSEQ_MIN_LEN: u32 = 32;
/// Largest rseq area an image may register: one page, far above any
/// `struct rseq` defined so far.
pub const RSEQ_MAX_LEN: u32 = 4096;

/// Prefix of the signals record of a task: its alternate signal stack
/// (`sigaltstack(2)`); the body is the action of every signal, one
/// [`SigactionRecord`] per signal from 1 to [`NSIG`].
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SignalsRecord {
    /// Base of the alternate signal stack (0 when disabled). Offset 0.
    pub altstack_sp: u64,
    /// Its size (0 when disabled). Offset 8.
    pub altstack_size: u64,
    /// [`SS_DISABLE`], or 0 or [`SS_AUTODISARM`] for a stack. Offset 16.
    pub altstack_flags: u32,
    /// Number of actions that follow: [`NSIG`]. Offset 20.
    pub count: u32,
}
plain_record!(SignalsRecord, 24);
impl VarRecord for SignalsRecord {
    const TYPE: RecordType = RecordType::Signals;
}

/// The action of one signal, as `rt_sigaction(2)` sets it.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SigactionRecord {
    /// Handler address, or [`SIG_DFL`] or [`SIG_IGN`]. Offset 0.
    pub handler: u64,
    /// `SA_*` flags, within [`SA_FLAGS_KNOWN`]. Offset 8.
    pub flags: u64,
    /// Return trampoline (`SA_RESTORER`): a user address or 0. Offset 16.
    pub restorer: u64,
    /// Signals blocked while the handler runs, bit `n - 1` for signal `n`
    /// (never `SIGKILL` or `SIGSTOP`). Offset 24.
    pub mask: u64,
}
plain_record!(SigactionRecord, 32);

/// Number of signals of x86-64 (`_NSIG`).
pub const NSIG: u32 = 64;
/// `SIG_DFL`: the default action.
pub const SIG_DFL: u64 = 0;
/// `SIG_IGN`: the signal is ignored.
pub const SIG_IGN: u64 = 1;
/// `SIGKILL` (9) and `SIGSTOP` (19), bit `n - 1` for signal `n`: their
/// action cannot be changed, nor can they be blocked.
pub const UNCATCHABLE_SIGNALS: u64 = 1 << (9 - 1) | 1 << (19 - 1);
/// The `sa_flags` bits the kernel keeps (`UAPI_SA_FLAGS` of x86-64):
/// `SA_NOCLDSTOP`, `SA_NOCLDWAIT`, `SA_SIGINFO`, `SA_EXPOSE_TAGBITS`,
/// `SA_RESTORER`, `SA_ONSTACK`, `SA_RESTART`, `SA_NODEFER`,
/// `SA_RESETHAND`.
pub const SA_FLAGS_KNOWN: u64 =
    0x1 | 0x2 | 0x4 | 0x800 | 0x0400_0000 | 0x0800_0000 | 0x1000_0000 | 0x4000_0000 | 0x8000_0000;
/// `SS_DISABLE`: no alternate signal stack.
pub const SS_DISABLE: u32 = 2;
/// `SS_AUTODISARM`: the stack is disarmed while a handler runs on it.
pub const SS_AUTODISARM: u32 = 1 << 31;
/// Smallest alternate signal stack `sigaltstack(2)` accepts
/// (`MINSIGSTKSZ`); restart also checks this machine's own minimum.
pub const MIN_ALTSTACK_SIZE: u64 = 2048;

/// Number of resource limits (`RLIM_NLIMITS`), in the order of their
/// `RLIMIT_*` numbers.
pub const RLIM_NLIMITS: usize = 16;
/// `RLIM_INFINITY`: no limit.
pub const RLIM_INFINITY: u64 = u64::MAX;

/// One resource limit, as `getrlimit(2)` reports it.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Rlimit {
    /// The soft limit, at most the hard one. Offset 0.
    pub cur: u64,
    /// The hard limit. Offset 8.
    pub max: u64,
}
plain_record!(Rlimit, 16);

/// The resource limits of the task's process, [`RLIM_NLIMITS`] of them.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct RlimitsRecord {
    /// Limit `n` is that of resource `RLIMIT_*` number `n`. Offset 0.
    pub limits: [Rlimit; RLIM_NLIMITS],
}
plain_record!(RlimitsRecord, 256);
impl Record for RlimitsRecord {
    const TYPE: RecordType = RecordType::Rlimits;
}

/// Number of interval timers: `ITIMER_REAL`, `ITIMER_VIRTUAL`,
/// `ITIMER_PROF`, in that order (their `which` numbers).
pub const NR_ITIMERS: usize = 3;
/// Largest time an interval timer field may hold, in nanoseconds: the
/// kernel's `KTIME_MAX`.
pub const ITIMER_MAX_NS: u64 = i64::MAX as u64;

/// One interval timer, as `getitimer(2)` reports it but in nanoseconds.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Itimer {
    /// Time left until it fires; 0 when it is not armed. Offset 0.
    pub value_ns: u64,
    /// The period it is re-armed with when it fires; 0 for a one-shot
    /// timer. Offset 8.
    pub interval_ns: u64,
}
plain_record!(Itimer, 16);

/// The interval timers of the task's process (`setitimer(2)`,
/// `alarm(2)`).
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ItimersRecord {
    /// Indexed by `ITIMER_*` number. Offset 0.
    pub timers: [Itimer; NR_ITIMERS],
}
plain_record!(ItimersRecord, 48);
impl Record for ItimersRecord {
    const TYPE: RecordType = RecordType::Itimers;
}

/// Most POSIX timers a process may have in an image.
pub const MAX_POSIX_TIMERS: u32 = 4096;
/// Largest timer id (`INT_MAX`): ids are non-negative `int`s.
pub const MAX_POSIX_TIMER_ID: u32 = i32::MAX as u32;

/// `sigev_notify` values of a [`PosixTimer`]: `SIGEV_SIGNAL`.
pub const SIGEV_SIGNAL: u32 = 0;
/// `SIGEV_NONE`: the timer only counts; [`PosixTimer::signo`] is 0.
pub const SIGEV_NONE: u32 = 1;
/// `SIGEV_THREAD` as the kernel sees it (the C library turns it into
/// `SIGEV_THREAD_ID` to a helper thread): a signal to the process.
pub const SIGEV_THREAD: u32 = 2;
/// `SIGEV_SIGNAL | SIGEV_THREAD_ID`: a signal to the task itself.
pub const SIGEV_THREAD_ID: u32 = 4;

/// Clocks a [`PosixTimer`] may run on: `CLOCK_REALTIME`,
/// `CLOCK_MONOTONIC`, `CLOCK_PROCESS_CPUTIME_ID`,
/// `CLOCK_THREAD_CPUTIME_ID`, `CLOCK_BOOTTIME` and `CLOCK_TAI`.
pub const POSIX_TIMER_CLOCKS: [i32; 6] = [0, 1, 2, 3, 7, 11];
/// `CLOCK_REALTIME`, the one clock whose timers may be absolute.
pub const CLOCK_REALTIME: i32 = 0;
/// [`PosixTimer::flags`]: armed with `TIMER_ABSTIME` on `CLOCK_REALTIME`,
/// so that `clock_settime(2)` moves its expiry (restart arms it at the
/// time left from the restart, as an absolute time).
pub const POSIX_TIMER_ABSTIME: u32 = 1;

/// Prefix of the POSIX-timers record of a task's process
/// (`timer_create(2)`); the body is `count` [`PosixTimer`]s in increasing
/// id order.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PosixTimersRecord {
    /// Number of timers that follow, at most [`MAX_POSIX_TIMERS`].
    /// Offset 0.
    pub count: u32,
    /// The id from which the next `timer_create(2)` searches for a free
    /// one, at most [`MAX_POSIX_TIMER_ID`]. Offset 4.
    pub next_id: u32,
}
plain_record!(PosixTimersRecord, 8);
impl VarRecord for PosixTimersRecord {
    const TYPE: RecordType = RecordType::PosixTimers;
}
// The largest POSIX-timers record fits in a record.
const _: () = assert!(
    size_of::<RecordHeader>()
        + size_of::<PosixTimersRecord>()
        + MAX_POSIX_TIMERS as usize * size_of::<PosixTimer>()
        <= MAX_RECORD_LEN as usize
);

/// One POSIX timer: how it notifies and, as `timer_gettime(2)` reports
/// it, how long it has left.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PosixTimer {
    /// Its id (`timer_t`), at most [`MAX_POSIX_TIMER_ID`]. Offset 0.
    pub id: u32,
    /// Its clock, one of [`POSIX_TIMER_CLOCKS`]. Offset 4.
    pub clock: i32,
    /// How it notifies: [`SIGEV_SIGNAL`], [`SIGEV_NONE`], [`SIGEV_THREAD`]
    /// or [`SIGEV_THREAD_ID`]. Offset 8.
    pub notify: u32,
    /// The signal it sends, 1 to [`NSIG`]; 0 for [`SIGEV_NONE`].
    /// Offset 12.
    pub signo: u32,
    /// The `sigev_value` its signal carries. Offset 16.
    pub value: u64,
    /// Time left until it fires, in nanoseconds of its clock; 0 when it
    /// is not armed. Offset 24.
    pub value_ns: u64,
    /// Its period, 0 for a one-shot timer. Offset 32.
    pub interval_ns: u64,
    /// What `timer_getoverrun(2)` returns, at most `INT_MAX`. Offset 40.
    pub overrun: u32,
    /// [`POSIX_TIMER_ABSTIME`] or 0. Offset 44.
    pub flags: u32,
}
plain_record!(PosixTimer, 48);

impl PosixTimer {
    /// Whether every field holds a value a timer can have.
    pub fn is_valid(&self) -> bool {
        let signal_ok = match self.notify {
            SIGEV_NONE => self.signo == 0,
            SIGEV_SIGNAL | SIGEV_THREAD | SIGEV_THREAD_ID => (1..=NSIG).contains(&self.signo),
            _ => false,
        };
        let flags_ok = match self.flags {
            0 => true,
            POSIX_TIMER_ABSTIME => self.clock == CLOCK_REALTIME && self.value_ns != 0,
            _ => false,
        };
        signal_ok
            && flags_ok
            && self.id <= MAX_POSIX_TIMER_ID
            && POSIX_TIMER_CLOCKS.contains(&self.clock)
            && self.value_ns <= ITIMER_MAX_NS
            && self.interval_ns <= ITIMER_MAX_NS
            && self.overrun <= i32::MAX as u32
    }
}

/// Most supplementary groups a [`CredsRecord`] may carry: the kernel's
/// `NGROUPS_MAX`.
pub const MAX_GROUPS: u32 = 65536;
/// Capability bits this revision knows: 0 to `CAP_LAST_CAP` (40).
pub const CAP_VALID_MASK: u64 = (1 << 41) - 1;
/// Every `securebits` bit (`SECURE_ALL_BITS | SECURE_ALL_LOCKS`).
pub const SECUREBITS_MASK: u32 = 0xff;
/// An invalid uid or gid (`(uid_t)-1`), never in an image.
pub const INVALID_ID: u32 = u32::MAX;

/// Prefix of the credentials record of a task: its ids as seen in the
/// checkpointer's user namespace, its capability sets and securebits; the
/// body is `ngroups` supplementary group ids (`u32` each), padded to 8
/// bytes.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct CredsRecord {
    /// Real, effective, saved and file-system user ids. Offset 0.
    pub uid: u32,
    /// Offset 4.
    pub euid: u32,
    /// Offset 8.
    pub suid: u32,
    /// Offset 12.
    pub fsuid: u32,
    /// Real, effective, saved and file-system group ids. Offset 16.
    pub gid: u32,
    /// Offset 20.
    pub egid: u32,
    /// Offset 24.
    pub sgid: u32,
    /// Offset 28.
    pub fsgid: u32,
    /// Inheritable capabilities, bit `n` for capability `n`. Offset 32.
    pub cap_inheritable: u64,
    /// Permitted capabilities. Offset 40.
    pub cap_permitted: u64,
    /// Effective capabilities, a subset of the permitted ones. Offset 48.
    pub cap_effective: u64,
    /// Capability bounding set. Offset 56.
    pub cap_bset: u64,
    /// Ambient capabilities, a subset of permitted and inheritable.
    /// Offset 64.
    pub cap_ambient: u64,
    /// `SECBIT_*` bits (`PR_GET_SECUREBITS`). Offset 72.
    pub securebits: u32,
    /// Number of supplementary groups that follow, at most
    /// [`MAX_GROUPS`]. Offset 76.
    pub ngroups: u32,
}
plain_record!(CredsRecord, 80);
impl VarRecord for CredsRecord {
    const TYPE: RecordType = RecordType::Creds;
}
// The largest credentials record fits in a record.
const _: () = assert!(
    size_of::<RecordHeader>() + size_of::<CredsRecord>() + MAX_GROUPS as usize * 4
        <= MAX_RECORD_LEN as usize
);

impl CredsRecord {
    /// Whether the fields are consistent: valid ids, known capability and
    /// securebits bits, effective within permitted, ambient within
    /// permitted and inheritable, and a bounded group count.
    pub fn is_valid(&self) -> bool {
        let ids = [
            self.uid, self.euid, self.suid, self.fsuid, self.gid, self.egid, self.sgid, self.fsgid,
        ];
        let caps = [
            self.cap_inheritable,
            self.cap_permitted,
            self.cap_effective,
            self.cap_bset,
            self.cap_ambient,
        ];
        !ids.contains(&INVALID_ID)
            && caps.iter().all(|&c| c & !CAP_VALID_MASK == 0)
            && self.cap_effective & !self.cap_permitted == 0
            && self.cap_ambient & !(self.cap_permitted & self.cap_inheritable) == 0
            && self.securebits & !SECUREBITS_MASK == 0
            && self.ngroups <= MAX_GROUPS
    }
}

/// `SchedRecord::policy`: `SCHED_OTHER`.
pub const SCHED_OTHER: u32 = 0;
/// `SchedRecord::policy`: `SCHED_FIFO`.
pub const SCHED_FIFO: u32 = 1;
/// `SchedRecord::policy`: `SCHED_RR`.
pub const SCHED_RR: u32 = 2;
/// `SchedRecord::policy`: `SCHED_BATCH`.
pub const SCHED_BATCH: u32 = 3;
/// `SchedRecord::policy`: `SCHED_IDLE`.
pub const SCHED_IDLE: u32 = 5;
/// Highest real-time priority (`MAX_RT_PRIO - 1`).
pub const MAX_RT_PRIORITY: u32 = 99;
/// `SchedRecord::flags`: children start with the default policy
/// (`SCHED_RESET_ON_FORK`).
pub const SCHED_FLAG_RESET_ON_FORK: u32 = 1;
/// `SchedRecord::flags`: the task set its CPU affinity
/// (`sched_setaffinity`); `affinity` holds the mask it asked for.
pub const SCHED_FLAG_AFFINITY: u32 = 2;
/// `SchedRecord::flags`: the timer slack was changed from the default
/// (`PR_SET_TIMERSLACK`); `timer_slack_ns` holds it.
pub const SCHED_FLAG_TIMER_SLACK: u32 = 4;
/// Every `SchedRecord::flags` bit this revision defines.
pub const SCHED_FLAGS_KNOWN: u32 =
    SCHED_FLAG_RESET_ON_FORK | SCHED_FLAG_AFFINITY | SCHED_FLAG_TIMER_SLACK;
/// Number of CPUs an affinity mask in an image can name (glibc's
/// `CPU_SETSIZE`).
pub const AFFINITY_CPUS: usize = 1024;

/// Scheduling state of a task: policy, priorities, CPU affinity and
/// timer slack.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SchedRecord {
    /// [`SCHED_OTHER`], [`SCHED_FIFO`], [`SCHED_RR`], [`SCHED_BATCH`] or
    /// [`SCHED_IDLE`]. Offset 0.
    pub policy: u32,
    /// Real-time priority: 1 to [`MAX_RT_PRIORITY`] for `SCHED_FIFO` and
    /// `SCHED_RR`, 0 otherwise. Offset 4.
    pub rt_priority: u32,
    /// Nice value, -20 to 19; a real-time task keeps one too, which
    /// `getpriority(2)` shows. Offset 8.
    pub nice: i32,
    /// `SCHED_FLAG_*` bits. Offset 12.
    pub flags: u32,
    /// Timer slack in nanoseconds, with [`SCHED_FLAG_TIMER_SLACK`];
    /// otherwise 0. Offset 16.
    pub timer_slack_ns: u64,
    /// CPU affinity, bit `n % 64` of word `n / 64` for CPU `n`, with
    /// [`SCHED_FLAG_AFFINITY`] (then not empty); otherwise all zero.
    /// Offset 24.
    pub affinity: [u64; AFFINITY_CPUS / 64],
}
plain_record!(SchedRecord, 152);
impl Record for SchedRecord {
    const TYPE: RecordType = RecordType::Sched;
}

impl SchedRecord {
    /// Whether the fields are consistent: a known policy with a priority
    /// in its range, a nice value in range, known flags, and a mask and slack
    /// present exactly when their flags say so.
    pub fn is_valid(&self) -> bool {
        let policy_ok = match self.policy {
            SCHED_FIFO | SCHED_RR => (1..=MAX_RT_PRIORITY).contains(&self.rt_priority),
            SCHED_OTHER | SCHED_BATCH | SCHED_IDLE => self.rt_priority == 0,
            _ => false,
        };
        let any_cpu = self.affinity.iter().any(|&w| w != 0);
        let has_affinity = self.flags & SCHED_FLAG_AFFINITY != 0;
        let has_slack = self.flags & SCHED_FLAG_TIMER_SLACK != 0;
        policy_ok
            && (-20..=19).contains(&self.nice)
            && self.flags & !SCHED_FLAGS_KNOWN == 0
            && any_cpu == has_affinity
            && (self.timer_slack_ns != 0) == has_slack
            && self.timer_slack_ns <= ITIMER_MAX_NS
    }
}

/// Prefix of the pending-signals record of a task: the signals sent to
/// it and not delivered yet; the body is `count` [`PendingSignal`]s, in
/// the order they are to be queued again.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SigPendingRecord {
    /// Number of signals that follow, at most [`MAX_PENDING_SIGNALS`].
    /// Offset 0.
    pub count: u32,
    /// Zero. Offset 4.
    pub _pad: u32,
}
plain_record!(SigPendingRecord, 8);
impl VarRecord for SigPendingRecord {
    const TYPE: RecordType = RecordType::SigPending;
}

/// [`PendingSignal::queue`]: pending for the thread (`tgkill`, `raise`,
/// faults).
pub const SIGQUEUE_THREAD: u32 = 0;
/// [`PendingSignal::queue`]: pending for the whole process (`kill`,
/// `sigqueue`).
pub const SIGQUEUE_PROCESS: u32 = 1;
/// Most pending signals a task may have in an image (a real-time signal
/// can be queued many times, up to `RLIMIT_SIGPENDING`).
pub const MAX_PENDING_SIGNALS: u32 = 16384;
/// Size of the kernel's `struct kernel_siginfo` on x86-64.
pub const SIGINFO_SIZE: usize = 48;
/// `SI_TIMER`: the `si_code` of a POSIX timer's signal, which belongs to
/// its timer and is never in an image.
pub const SI_TIMER: i32 = -2;

/// One pending signal and the `siginfo` it will be delivered with.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PendingSignal {
    /// [`SIGQUEUE_THREAD`] or [`SIGQUEUE_PROCESS`]. Offset 0.
    pub queue: u32,
    /// The signal, 1 to [`NSIG`], never `SIGKILL` or `SIGSTOP`. Offset 4.
    pub signo: u32,
    /// The `struct kernel_siginfo` (`si_signo`, `si_errno`, `si_code`,
    /// then the union) as the kernel queued it; `si_signo` is `signo`.
    /// Offset 8.
    pub info: [u64; SIGINFO_SIZE / 8],
}
plain_record!(PendingSignal, 56);
// The largest pending-signals record fits in a record.
const _: () = assert!(
    size_of::<RecordHeader>()
        + size_of::<SigPendingRecord>()
        + MAX_PENDING_SIGNALS as usize * size_of::<PendingSignal>()
        <= MAX_RECORD_LEN as usize
);

impl PendingSignal {
    /// The `si_signo` field of the siginfo.
    pub fn si_signo(&self) -> i32 {
        self.info.first().map_or(0, |&w| w as u32 as i32)
    }

    /// The `si_code` field of the siginfo.
    pub fn si_code(&self) -> i32 {
        self.info.get(1).map_or(0, |&w| w as u32 as i32)
    }
}

/// File-system context of a task; a string record with the working
/// directory's path follows.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct FsRecord {
    /// File mode creation mask, at most `0o777`. Offset 0.
    pub umask: u32,
    /// 0 for an fs context of its own; otherwise the task shares the one
    /// of process number `shared_with` (see [`FilesTableRecord`]), and the
    /// umask and path are that process's. Offset 4.
    pub shared_with: u32,
}
plain_record!(FsRecord, 8);
impl Record for FsRecord {
    const TYPE: RecordType = RecordType::Fs;
}

/// Most words of the auxiliary vector in an [`MmRecord`]: more than the
/// kernel's `AT_VECTOR_SIZE` (52 on x86-64).
pub const MAX_AUXV_WORDS: usize = 64;

/// Whether `auxv` is an auxiliary vector as `/proc/PID/auxv` shows it:
/// type and value pairs, the last (and only the last) an `AT_NULL` pair
/// `(0, 0)`, at most [`MAX_AUXV_WORDS`] words in all.
pub fn auxv_ok(auxv: &[u64]) -> bool {
    let Some((pairs, last)) = auxv.split_last_chunk::<2>() else {
        return false;
    };
    auxv.len() % 2 == 0
        && auxv.len() <= MAX_AUXV_WORDS
        && *last == [0, 0]
        && pairs.chunks_exact(2).all(|pair| pair.first() != Some(&0))
}

/// The layout of an address space; the body is its auxiliary vector,
/// `auxv_words` 64-bit words (see [`auxv_ok`]).
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct MmRecord {
    /// Code segment start. Offset 0.
    pub start_code: u64,
    /// Code segment end. Offset 8.
    pub end_code: u64,
    /// Data segment start. Offset 16.
    pub start_data: u64,
    /// Data segment end. Offset 24.
    pub end_data: u64,
    /// Heap start. Offset 32.
    pub start_brk: u64,
    /// Current program break. Offset 40.
    pub brk: u64,
    /// Stack start (top of the initial stack). Offset 48.
    pub start_stack: u64,
    /// Arguments start. Offset 56.
    pub arg_start: u64,
    /// Arguments end. Offset 64.
    pub arg_end: u64,
    /// Environment start. Offset 72.
    pub env_start: u64,
    /// Environment end. Offset 80.
    pub env_end: u64,
    /// Address of the vDSO text, 0 if none. Offset 88.
    pub vdso_base: u64,
    /// Object reference of the executable file, 0 if none. Offset 96.
    pub exe_file_ref: u32,
    /// Number of [`VmaRecord`]s that follow, at most [`MAX_VMAS`].
    /// Offset 100.
    pub vma_count: u32,
    /// Words of the auxiliary vector in the body, at most
    /// [`MAX_AUXV_WORDS`]. Offset 104.
    pub auxv_words: u32,
    /// Zero. Offset 108.
    pub _pad: u32,
}
plain_record!(MmRecord, 112);
impl VarRecord for MmRecord {
    const TYPE: RecordType = RecordType::Mm;
}

/// `VmaRecord::prot`: readable.
pub const VMA_PROT_READ: u32 = 1;
/// `VmaRecord::prot`: writable.
pub const VMA_PROT_WRITE: u32 = 2;
/// `VmaRecord::prot`: executable.
pub const VMA_PROT_EXEC: u32 = 4;
/// Every defined `VmaRecord::prot` bit.
pub const VMA_PROT_MASK: u32 = VMA_PROT_READ | VMA_PROT_WRITE | VMA_PROT_EXEC;

/// `VmaRecord::flags`: shared mapping (`MAP_SHARED`).
pub const VMA_SHARED: u32 = 1;
/// `VmaRecord::flags`: grows down (a stack).
pub const VMA_GROWSDOWN: u32 = 2;
/// `VmaRecord::flags`: the main stack of the task.
pub const VMA_STACK: u32 = 4;
/// `VmaRecord::flags`: the heap (`brk` area).
pub const VMA_HEAP: u32 = 8;
/// `VmaRecord::flags`: locked in memory (`mlock`).
pub const VMA_LOCKED: u32 = 16;
/// `VmaRecord::flags`: not copied to a child on fork (`MADV_DONTFORK`).
pub const VMA_DONTFORK: u32 = 32;
/// `VmaRecord::flags`: left out of core dumps (`MADV_DONTDUMP`).
pub const VMA_DONTDUMP: u32 = 64;
/// `VmaRecord::flags`: zero-filled in a child after fork
/// (`MADV_WIPEONFORK`; private anonymous areas only).
pub const VMA_WIPEONFORK: u32 = 128;
/// `VmaRecord::flags`: transparent huge pages asked for (`MADV_HUGEPAGE`).
pub const VMA_HUGEPAGE: u32 = 256;
/// `VmaRecord::flags`: transparent huge pages refused (`MADV_NOHUGEPAGE`).
pub const VMA_NOHUGEPAGE: u32 = 512;
/// `VmaRecord::flags`: read in order (`MADV_SEQUENTIAL`).
pub const VMA_SEQUENTIAL: u32 = 1024;
/// `VmaRecord::flags`: read at random (`MADV_RANDOM`).
pub const VMA_RANDOM: u32 = 2048;
/// `VmaRecord::flags`: with [`VMA_LOCKED`], pages are locked as they are
/// faulted in (`mlock2(MLOCK_ONFAULT)`).
pub const VMA_LOCK_ON_FAULT: u32 = 4096;
/// Every defined `VmaRecord::flags` bit.
pub const VMA_FLAGS_MASK: u32 = VMA_SHARED
    | VMA_GROWSDOWN
    | VMA_STACK
    | VMA_HEAP
    | VMA_LOCKED
    | VMA_DONTFORK
    | VMA_DONTDUMP
    | VMA_WIPEONFORK
    | VMA_HUGEPAGE
    | VMA_NOHUGEPAGE
    | VMA_SEQUENTIAL
    | VMA_RANDOM
    | VMA_LOCK_ON_FAULT;

/// What backs a memory area.
#[repr(u32)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum VmaKind {
    /// Anonymous memory.
    Anonymous = 1,
    /// A file mapping: `file_ref` names the file, `pgoff` the offset.
    File = 2,
    /// The vDSO text.
    Vdso = 3,
    /// The vDSO data pages (`[vvar]`), recreated with the vDSO.
    Vvar = 4,
}

impl VmaKind {
    /// Maps a kind read from an image to a known kind.
    pub fn from_u32(v: u32) -> Option<VmaKind> {
        Some(match v {
            1 => VmaKind::Anonymous,
            2 => VmaKind::File,
            3 => VmaKind::Vdso,
            4 => VmaKind::Vvar,
            _ => return None,
        })
    }
}

/// One memory area `[start, end)`.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct VmaRecord {
    /// First address, page aligned. Offset 0.
    pub start: u64,
    /// End (exclusive), page aligned, above `start`. Offset 8.
    pub end: u64,
    /// Offset in the file, in pages ([`VmaKind::File`] only). Offset 16.
    pub pgoff: u64,
    /// `VMA_PROT_*` bits. Offset 24.
    pub prot: u32,
    /// `VMA_*` flag bits. Offset 28.
    pub flags: u32,
    /// A [`VmaKind`]. Offset 32.
    pub kind: u32,
    /// Object reference of the mapped file; 0 unless the kind is
    /// [`VmaKind::File`]. Offset 36.
    pub file_ref: u32,
}
plain_record!(VmaRecord, 40);
impl Record for VmaRecord {
    const TYPE: RecordType = RecordType::Vma;
}

/// Prefix of a page chunk: `count` page addresses (`u64` each), then the
/// `count` pages' contents, `page_size` bytes each.  A chunk with a zero
/// count ends the pages of the current task (of all its areas).
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PageChunkRecord {
    /// Number of pages, at most [`MAX_CHUNK_PAGES`]. Offset 0.
    pub count: u32,
    /// Zero. Offset 4.
    pub _pad: u32,
}
plain_record!(PageChunkRecord, 8);
impl VarRecord for PageChunkRecord {
    const TYPE: RecordType = RecordType::PageChunk;
}

/// x86-64 general registers, in the order of the kernel's `struct pt_regs`,
/// and the segment state of a task.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct CpuRecord {
    /// Offset 0.
    pub r15: u64,
    /// Offset 8.
    pub r14: u64,
    /// Offset 16.
    pub r13: u64,
    /// Offset 24.
    pub r12: u64,
    /// Offset 32.
    pub bp: u64,
    /// Offset 40.
    pub bx: u64,
    /// Offset 48.
    pub r11: u64,
    /// Offset 56.
    pub r10: u64,
    /// Offset 64.
    pub r9: u64,
    /// Offset 72.
    pub r8: u64,
    /// Offset 80.
    pub ax: u64,
    /// Offset 88.
    pub cx: u64,
    /// Offset 96.
    pub dx: u64,
    /// Offset 104.
    pub si: u64,
    /// Offset 112.
    pub di: u64,
    /// System call number at entry, or -1. Offset 120.
    pub orig_ax: u64,
    /// Offset 128.
    pub ip: u64,
    /// Offset 136.
    pub cs: u64,
    /// RFLAGS. Offset 144.
    pub flags: u64,
    /// Offset 152.
    pub sp: u64,
    /// Offset 160.
    pub ss: u64,
    /// FS segment base (TLS). Offset 168.
    pub fs_base: u64,
    /// GS segment base. Offset 176.
    pub gs_base: u64,
    /// Offset 184.
    pub ds: u64,
    /// Offset 192.
    pub es: u64,
    /// Offset 200.
    pub fs: u64,
    /// Offset 208.
    pub gs: u64,
}
plain_record!(CpuRecord, 216);
impl Record for CpuRecord {
    const TYPE: RecordType = RecordType::Cpu;
}

/// Prefix of the FPU record; the body is the task's XSAVE buffer
/// (standard format), `xstate_size` bytes padded to 8.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct FpuRecord {
    /// Size of the XSAVE buffer, at least 576 (legacy area and XSAVE
    /// header), at most [`MAX_XSTATE_SIZE`]. Offset 0.
    pub xstate_size: u32,
    /// Zero. Offset 4.
    pub _pad: u32,
    /// XSAVE features the buffer was saved with (XCR0 of the
    /// checkpointing kernel's user state). Offset 8.
    pub xfeatures: u64,
}
plain_record!(FpuRecord, 16);
impl VarRecord for FpuRecord {
    const TYPE: RecordType = RecordType::Fpu;
}

/// Smallest XSAVE buffer: 512 bytes of legacy area and the 64-byte header.
pub const MIN_XSTATE_SIZE: u32 = 576;

/// Starts a task's fd table.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct FilesTableRecord {
    /// Number of [`FdRecord`]s that follow, at most [`MAX_FDS`]. Offset 0.
    pub count: u32,
    /// 0 for a table of its own; otherwise the task shares the table of
    /// an earlier live process of the image (as `CLONE_FILES` makes two
    /// processes do): its number, counting every process and zombie from
    /// 1 in image order.  No fd records follow then. Offset 4.
    pub shared_with: u32,
}
plain_record!(FilesTableRecord, 8);
impl Record for FilesTableRecord {
    const TYPE: RecordType = RecordType::FilesTable;
}

/// `FdRecord::flags`: close on exec.
pub const FD_CLOEXEC_FLAG: u32 = 1;

/// One open file descriptor.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct FdRecord {
    /// The descriptor number, below [`FD_LIMIT`]; increasing within a
    /// table. Offset 0.
    pub fd: u32,
    /// [`FD_CLOEXEC_FLAG`] or 0. Offset 4.
    pub flags: u32,
    /// Object reference of the open file. Offset 8.
    pub file_ref: u32,
    /// Zero. Offset 12.
    pub _pad: u32,
}
plain_record!(FdRecord, 16);
impl Record for FdRecord {
    const TYPE: RecordType = RecordType::Fd;
}

/// [`CttyRecord::flags`]: the task's process group was the terminal's
/// foreground group.
pub const CTTY_FOREGROUND: u32 = 1;
/// [`CttyRecord::flags`]: the task led its session (informative).
pub const CTTY_SESSION_LEADER: u32 = 2;
/// Every bit [`CttyRecord::flags`] may have.
pub const CTTY_FLAGS: u32 = CTTY_FOREGROUND | CTTY_SESSION_LEADER;

/// The controlling terminal of the task's session, after its fd table;
/// present only when the session has one.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct CttyRecord {
    /// Object reference of a file of the fd table open on the terminal,
    /// or 0 when the task holds none. Offset 0.
    pub file_ref: u32,
    /// [`CTTY_FLAGS`] bits. Offset 4.
    pub flags: u32,
}
plain_record!(CttyRecord, 8);
impl Record for CttyRecord {
    const TYPE: RecordType = RecordType::Ctty;
}

/// What an open file is.
#[repr(u32)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum FileKind {
    /// A regular file.
    Regular = 1,
    /// A directory.
    Directory = 2,
    /// A character device of [`SAVED_CHAR_DEVICES`].
    CharDevice = 3,
    /// An eventfd (`eventfd(2)`); no path, a [`FileStateRecord`].
    EventFd = 4,
    /// A signalfd (`signalfd(2)`); no path, a [`FileStateRecord`].
    SignalFd = 5,
    /// A timerfd (`timerfd_create(2)`); no path, a [`FileStateRecord`].
    TimerFd = 6,
    /// One end of an anonymous pipe (`pipe(2)`); neither a path nor a
    /// state follows: the pipe is a [`PipeRecord`] defined before.
    Pipe = 7,
    /// A named FIFO (`mkfifo(3)`), opened again by its path; its pipe is a
    /// [`PipeRecord`] defined before.
    Fifo = 8,
    /// A terminal, opened again by its path; a [`TtyRecord`] with its
    /// settings follows the path.
    Terminal = 9,
    /// An epoll set (`epoll_create(2)`); no path, an
    /// [`EpollWatchesRecord`] with its interest list.
    EventPoll = 10,
    /// A regular file that was unlinked: the path that follows is its
    /// directory's, and its contents follow (a [`DeletedFileRecord`]).
    DeletedFile = 11,
    /// A memfd (`memfd_create(2)`): the string that follows is its name,
    /// then its contents (a [`MemfdRecord`]).
    Memfd = 12,
    /// The object behind shared anonymous memory (`MAP_SHARED |
    /// MAP_ANONYMOUS`, or a shared mapping of `/dev/zero`): no path, its
    /// size and contents follow (a [`SharedMemoryRecord`]).  Only memory
    /// areas refer to it.
    SharedMemory = 13,
    /// An attach of a SysV shared memory segment (`shmat(2)`): no path,
    /// nothing follows; [`FileObjectRecord::device_or_pipe`] names its
    /// [`ShmSegmentRecord`], defined before.  Only memory areas refer to
    /// it.
    SysvShm = 14,
    /// An inotify instance (`inotify_init1(2)`): no path, an
    /// [`InotifyWatchesRecord`] and its watches follow.
    Inotify = 15,
    /// The master of a pseudo-terminal pair (`/dev/ptmx`): the path that
    /// follows is that of the `ptmx` device it was opened through, then
    /// the pair (a [`PtyPairRecord`] and its two queues).
    PtyMaster = 16,
    /// The slave of a pseudo-terminal pair whose master the task holds:
    /// no path, nothing follows; [`FileObjectRecord::device_or_pipe`] is
    /// the object reference of the master, defined before.
    PtySlave = 17,
}

/// Clocks a timerfd may run on in an image: `CLOCK_REALTIME`,
/// `CLOCK_MONOTONIC`, `CLOCK_BOOTTIME`.
pub const TIMERFD_CLOCKS: [u64; 3] = [0, 1, 7];
/// `timerfd_settime(2)` flags a timerfd may have been armed with:
/// `TFD_TIMER_ABSTIME`, `TFD_TIMER_CANCEL_ON_SET`.
pub const TIMERFD_FLAGS: u64 = 1 | 2;

/// [`FileStateRecord`] of an eventfd: `words[1]` is this or 0.
pub const EVENTFD_SEMAPHORE: u64 = 1;
/// Open flags a file without a path may have: read-write access
/// (`O_RDWR`), and `O_NONBLOCK`.
pub const STATE_FILE_FLAGS: u32 = 0o2 | 0o4000;

/// The state of an open file that has no path (an eventfd, a signalfd),
/// in place of the path of the [`FileObjectRecord`] it follows.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct FileStateRecord {
    /// By kind.  Eventfd: the counter (below `2^64 - 1`), then 0 or
    /// [`EVENTFD_SEMAPHORE`].  Signalfd: the signals it accepts (bit
    /// `n - 1` for signal `n`, never `SIGKILL` or `SIGSTOP`).  Timerfd:
    /// its clock (one of [`TIMERFD_CLOCKS`]) with its [`TIMERFD_FLAGS`]
    /// shifted left by 32, the nanoseconds left until it fires (0: not
    /// armed) and its interval (both at most `INT64_MAX`), then the
    /// expirations not read yet.  Unused words are 0. Offset 0.
    pub words: [u64; 4],
}
plain_record!(FileStateRecord, 32);
impl Record for FileStateRecord {
    const TYPE: RecordType = RecordType::FileState;
}

impl FileStateRecord {
    /// Whether this is a valid state of a file of kind `kind`.
    pub fn is_valid_for(&self, kind: FileKind) -> bool {
        let [a, b, c, d] = self.words;
        match kind {
            FileKind::EventFd => {
                a != u64::MAX && (b == 0 || b == EVENTFD_SEMAPHORE) && c == 0 && d == 0
            }
            FileKind::SignalFd => a & UNCATCHABLE_SIGNALS == 0 && b == 0 && c == 0 && d == 0,
            // `d`, the expirations not read, may be any number.
            FileKind::TimerFd => {
                TIMERFD_CLOCKS.contains(&(a & 0xffff_ffff))
                    && (a >> 32) & !TIMERFD_FLAGS == 0
                    && b <= ITIMER_MAX_NS
                    && c <= ITIMER_MAX_NS
            }
            _ => false,
        }
    }
}

/// Builds the device number a [`FileObjectRecord`] holds: the kernel's
/// own encoding, `major << 20 | minor`.
pub const fn device_number(major: u32, minor: u32) -> u32 {
    major << 20 | minor
}

/// The character devices an image may hold: `/dev/null`, `/dev/zero`,
/// `/dev/full`, `/dev/random`, `/dev/urandom` and `/dev/tty`.  They keep
/// no state of their own an open file could lose.
pub const SAVED_CHAR_DEVICES: [u32; 6] = [
    device_number(1, 3),
    device_number(1, 5),
    device_number(1, 7),
    device_number(1, 8),
    device_number(1, 9),
    device_number(5, 0),
];

impl FileKind {
    /// Whether a file of this kind is saved by its path (a string record
    /// follows its object record) rather than by a [`FileStateRecord`].
    pub fn has_path(self) -> bool {
        matches!(
            self,
            FileKind::Regular
                | FileKind::Directory
                | FileKind::CharDevice
                | FileKind::Fifo
                | FileKind::Terminal
                | FileKind::DeletedFile
        )
    }

    /// Whether a file of this kind is an end of a pipe, which its
    /// [`FileObjectRecord::device_or_pipe`] names.
    pub fn is_pipe_end(self) -> bool {
        matches!(self, FileKind::Pipe | FileKind::Fifo)
    }

    /// Maps a kind read from an image to a known kind.
    pub fn from_u32(v: u32) -> Option<FileKind> {
        Some(match v {
            1 => FileKind::Regular,
            2 => FileKind::Directory,
            3 => FileKind::CharDevice,
            4 => FileKind::EventFd,
            5 => FileKind::SignalFd,
            6 => FileKind::TimerFd,
            7 => FileKind::Pipe,
            8 => FileKind::Fifo,
            9 => FileKind::Terminal,
            10 => FileKind::EventPoll,
            11 => FileKind::DeletedFile,
            12 => FileKind::Memfd,
            13 => FileKind::SharedMemory,
            14 => FileKind::SysvShm,
            15 => FileKind::Inotify,
            16 => FileKind::PtyMaster,
            17 => FileKind::PtySlave,
            _ => return None,
        })
    }
}

/// An open file, saved once however many descriptors or mappings refer to
/// it; a string record with its path follows.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct FileObjectRecord {
    /// The object reference this record defines: one more than the last
    /// one defined in the image. Offset 0.
    pub objref: u32,
    /// A [`FileKind`]. Offset 4.
    pub kind: u32,
    /// Open flags (`O_*` values of Linux x86-64). Offset 8.
    pub flags: u32,
    /// For a [`FileKind::CharDevice`], its device number (see
    /// [`device_number`]), one of [`SAVED_CHAR_DEVICES`]; for a
    /// [`FileKind::Terminal`], its device number (not zero); for a
    /// [`FileKind::Pipe`] or [`FileKind::Fifo`], the number of its
    /// [`PipeRecord`]; for a [`FileKind::SysvShm`], the number of its
    /// [`ShmSegmentRecord`]; otherwise 0.  Offset 12.
    pub device_or_pipe: u32,
    /// File position, not negative; 0 for a character device. Offset 16.
    pub pos: i64,
}
plain_record!(FileObjectRecord, 24);
impl Record for FileObjectRecord {
    const TYPE: RecordType = RecordType::FileObject;
}

/// Largest number of bytes a [`PipeRecord`] may carry: what fits in one
/// record.  A pipe holding more cannot be saved (`EFBIG`).
pub const MAX_PIPE_DATA: u32 = MAX_RECORD_LEN - 4096;

/// Smallest pipe size: one page.
pub const MIN_PIPE_SIZE: u32 = 4096;

/// Largest pipe size the kernel can give a pipe (`F_SETPIPE_SZ`).
pub const MAX_PIPE_SIZE: u32 = 1 << 31;

/// A pipe, shared by the file objects of its ends that follow: its size
/// and the data buffered in it, `data_len` bytes padded with zeros to the
/// record alignment.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PipeRecord {
    /// The number this record defines: one more than the last pipe
    /// defined in the image (the first is 1). Offset 0.
    pub pipe: u32,
    /// Its capacity in bytes (`F_GETPIPE_SZ`): a power of two from
    /// [`MIN_PIPE_SIZE`] to [`MAX_PIPE_SIZE`]. Offset 4.
    pub size: u32,
    /// Bytes of data that follow: at most `size` and at most
    /// [`MAX_PIPE_DATA`]. Offset 8.
    pub data_len: u32,
    /// Zero. Offset 12.
    pub _pad: u32,
}
plain_record!(PipeRecord, 16);
impl VarRecord for PipeRecord {
    const TYPE: RecordType = RecordType::Pipe;
}

impl PipeRecord {
    /// Whether the fields are valid for a record of pipe `pipe` with a
    /// body of `body` bytes.
    pub fn is_valid(&self, pipe: u32, body: usize) -> bool {
        self.pipe == pipe
            && self.size.is_power_of_two()
            && (MIN_PIPE_SIZE..=MAX_PIPE_SIZE).contains(&self.size)
            && self.data_len <= self.size
            && self.data_len <= MAX_PIPE_DATA
            && self._pad == 0
            && super::align_record_len(self.data_len as usize) == Some(body)
    }
}

/// Number of control characters of a terminal (`NCCS`).
pub const TTY_NCCS: usize = 19;

/// The settings of a terminal (`struct termios2` and `struct winsize`),
/// after the path of its [`FileObjectRecord`].
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct TtyRecord {
    /// Input modes (`c_iflag`). Offset 0.
    pub iflag: u32,
    /// Output modes (`c_oflag`). Offset 4.
    pub oflag: u32,
    /// Control modes (`c_cflag`). Offset 8.
    pub cflag: u32,
    /// Local modes (`c_lflag`). Offset 12.
    pub lflag: u32,
    /// Input speed (`c_ispeed`). Offset 16.
    pub ispeed: u32,
    /// Output speed (`c_ospeed`). Offset 20.
    pub ospeed: u32,
    /// Window rows (`ws_row`). Offset 24.
    pub rows: u16,
    /// Window columns (`ws_col`). Offset 26.
    pub cols: u16,
    /// Window width in pixels (`ws_xpixel`). Offset 28.
    pub xpixel: u16,
    /// Window height in pixels (`ws_ypixel`). Offset 30.
    pub ypixel: u16,
    /// Line discipline: 0 (`N_TTY`), the only one saved. Offset 32.
    pub line: u8,
    /// Control characters (`c_cc`). Offset 33.
    pub cc: [u8; TTY_NCCS],
    /// Zero. Offset 52.
    pub _pad: [u8; 4],
}
plain_record!(TtyRecord, 56);
impl Record for TtyRecord {
    const TYPE: RecordType = RecordType::Tty;
}

/// Highest index of a pseudo-terminal pair (`/dev/pts/N`), below the
/// kernel's `NR_UNIX98_PTY_MAX`.
pub const MAX_PTY_INDEX: u32 = (1 << 20) - 1;

/// [`PtyPairRecord::flags`]: the slave may not be opened (`TIOCSPTLCK`).
pub const PTY_LOCKED: u32 = 1;
/// [`PtyPairRecord::flags`]: the master is in packet mode (`TIOCPKT`).
pub const PTY_PACKET: u32 = 2;
/// [`PtyPairRecord::flags`]: the slave was opened and every open of it
/// closed again, so reading the master fails with `EIO`.
pub const PTY_SLAVE_CLOSED: u32 = 4;
/// Every bit [`PtyPairRecord::flags`] may have.
pub const PTY_FLAGS: u32 = PTY_LOCKED | PTY_PACKET | PTY_SLAVE_CLOSED;

/// A pseudo-terminal pair, after the path of its master's
/// [`FileObjectRecord`]: its index, state and the settings of both sides.
/// Two [`PtyQueueRecord`]s follow, the master's then the slave's.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PtyPairRecord {
    /// Its index: the slave is `/dev/pts/<index>`, at most
    /// [`MAX_PTY_INDEX`]. Offset 0.
    pub index: u32,
    /// [`PTY_FLAGS`] bits. Offset 4.
    pub flags: u32,
    /// Packet mode status (`TIOCPKT_*` bits) the master has not read yet,
    /// below 256. Offset 8.
    pub packet_status: u32,
    /// Zero. Offset 12.
    pub _pad: u32,
    /// The master's settings. Offset 16.
    pub master: TtyRecord,
    /// The slave's settings. Offset 72.
    pub slave: TtyRecord,
}
plain_record!(PtyPairRecord, 128);
impl Record for PtyPairRecord {
    const TYPE: RecordType = RecordType::PtyPair;
}

impl PtyPairRecord {
    /// Whether the fields are valid.
    pub fn is_valid(&self) -> bool {
        self.index <= MAX_PTY_INDEX
            && self.flags & !PTY_FLAGS == 0
            && self.packet_status < 256
            && self._pad == 0
            && self.master.is_valid()
            && self.slave.is_valid()
    }
}

impl TtyRecord {
    /// Whether the fields are valid: only `N_TTY`, zero padding.
    pub fn is_valid(&self) -> bool {
        self.line == 0 && self._pad == [0; 4]
    }
}

/// The size of a terminal's line discipline buffer (`N_TTY_BUF_SIZE`):
/// most bytes it holds for its reader.
pub const PTY_LINE_BUFFER: u32 = 4096;
/// Most bytes written to one side of a pseudo-terminal pair that its line
/// discipline has not taken in yet (the kernel's flip buffers, limited
/// to 8 KiB per side, and allocated in pieces of up to 2 KiB).
pub const MAX_PTY_PENDING: u32 = 16384;

/// [`PtyQueueRecord::flags`]: an end-of-file character was read in
/// canonical mode with nothing before it (the line discipline's `push`).
pub const PTY_QUEUE_PUSH: u32 = 1;
/// [`PtyQueueRecord::flags`]: the next character is taken literally
/// (`VLNEXT` was typed).
pub const PTY_QUEUE_LNEXT: u32 = 2;
/// [`PtyQueueRecord::flags`]: an erase is being echoed (`ECHOPRT`).
pub const PTY_QUEUE_ERASING: u32 = 4;
/// Every bit [`PtyQueueRecord::flags`] may have.
pub const PTY_QUEUE_FLAGS: u32 = PTY_QUEUE_PUSH | PTY_QUEUE_LNEXT | PTY_QUEUE_ERASING;

/// What one side of a pseudo-terminal pair has not read yet, after its
/// [`PtyPairRecord`].  The body holds `read_len` bytes its line
/// discipline took in, then a bitmap of `read_len` bits (bit `i % 8` of
/// byte `i / 8`) marking the ends of lines among them, then the
/// `pending_len` bytes written to it that its line discipline has not
/// taken in yet, padded with zeros to the record alignment.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PtyQueueRecord {
    /// 0: the master's queue (what the slave wrote); 1: the slave's.
    /// Offset 0.
    pub side: u32,
    /// Bytes in the line discipline, at most [`PTY_LINE_BUFFER`].
    /// Offset 4.
    pub read_len: u32,
    /// How many of them a canonical read may return (whole lines), at
    /// most `read_len`. Offset 8.
    pub canon_len: u32,
    /// Where the line being typed starts, at most `read_len`. Offset 12.
    pub line_start: u32,
    /// Bytes not taken in yet, at most [`MAX_PTY_PENDING`]. Offset 16.
    pub pending_len: u32,
    /// [`PTY_QUEUE_FLAGS`] bits. Offset 20.
    pub flags: u32,
    /// The output column, for tabs and erasing. Offset 24.
    pub column: u32,
    /// The column the line being typed started at. Offset 28.
    pub canon_column: u32,
}
plain_record!(PtyQueueRecord, 32);
impl VarRecord for PtyQueueRecord {
    const TYPE: RecordType = RecordType::PtyQueue;
}

impl PtyQueueRecord {
    /// Bytes of the line-end bitmap.
    pub fn bitmap_len(&self) -> usize {
        (self.read_len as usize).div_ceil(8)
    }

    /// Bytes of the body before padding.
    pub fn body_len(&self) -> usize {
        self.read_len as usize + self.bitmap_len() + self.pending_len as usize
    }

    /// Splits `body` (at least [`Self::body_len`] bytes) into the bytes
    /// read in, their line-end bitmap and the bytes pending.
    pub fn split_body<'a>(&self, body: &'a [u8]) -> Option<(&'a [u8], &'a [u8], &'a [u8])> {
        let read_end = self.read_len as usize;
        let bitmap_end = read_end.checked_add(self.bitmap_len())?;
        let pending_end = bitmap_end.checked_add(self.pending_len as usize)?;
        Some((
            body.get(..read_end)?,
            body.get(read_end..bitmap_end)?,
            body.get(bitmap_end..pending_end)?,
        ))
    }

    /// Whether the fields are valid for side `side` with a body of `body`
    /// bytes.
    pub fn is_valid(&self, side: u32, body: usize) -> bool {
        self.side == side
            && self.read_len <= PTY_LINE_BUFFER
            && self.canon_len <= self.read_len
            && self.line_start <= self.read_len
            && self.pending_len <= MAX_PTY_PENDING
            && self.flags & !PTY_QUEUE_FLAGS == 0
            && super::align_record_len(self.body_len()) == Some(body)
    }
}

/// Most watches of one epoll set in an image.
pub const MAX_EPOLL_WATCHES: u32 = 32768;

/// Event bits and flags an [`EpollWatch`] may carry: `EPOLLIN` to
/// `EPOLLMSG`, `EPOLLRDHUP`, and `EPOLLEXCLUSIVE`, `EPOLLWAKEUP`,
/// `EPOLLONESHOT`, `EPOLLET`.
pub const EPOLL_EVENTS_KNOWN: u32 = 0x7ff | 0x2000 | 0xf000_0000;

/// The interest list of an epoll set: `count` [`EpollWatch`]es follow.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct EpollWatchesRecord {
    /// Number of watches, at most [`MAX_EPOLL_WATCHES`]. Offset 0.
    pub count: u32,
    /// Zero. Offset 4.
    pub _pad: u32,
}
plain_record!(EpollWatchesRecord, 8);
impl VarRecord for EpollWatchesRecord {
    const TYPE: RecordType = RecordType::EpollWatches;
}

/// One watch of an epoll set (`epoll_ctl(EPOLL_CTL_ADD)`).
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct EpollWatch {
    /// Object reference of the watched file, defined before the epoll
    /// set's file object. Offset 0.
    pub file_ref: u32,
    /// The descriptor number it was added with, below [`FD_LIMIT`].
    /// Offset 4.
    pub fd: u32,
    /// Its events and flags, within [`EPOLL_EVENTS_KNOWN`]. Offset 8.
    pub events: u32,
    /// Zero. Offset 12.
    pub _pad: u32,
    /// The user data `epoll_wait` returns with it. Offset 16.
    pub data: u64,
}
plain_record!(EpollWatch, 24);

/// Largest unlinked file or memfd an image holds the contents of; a
/// larger one cannot be saved (`EFBIG`).
pub const MAX_DELETED_FILE_SIZE: u64 = 64 << 20;

/// Largest object behind shared anonymous memory an image holds: the
/// largest mapping there can be.  Only the pages that hold data are
/// written.
pub const MAX_SHARED_MEMORY_SIZE: u64 = USER_ADDR_LIMIT;

/// Most bytes of one [`FileDataRecord`].
pub const MAX_FILE_DATA: u32 = 64 * 1024;

/// The size and mode of an unlinked file, after its file object and the
/// path of its directory; [`FileDataRecord`]s with its contents follow,
/// the last one empty.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct DeletedFileRecord {
    /// Its size in bytes, at most [`MAX_DELETED_FILE_SIZE`]. Offset 0.
    pub size: u64,
    /// Its permission bits (at most `0o7777`). Offset 8.
    pub mode: u32,
    /// Zero. Offset 12.
    pub _pad: u32,
}
plain_record!(DeletedFileRecord, 16);
impl Record for DeletedFileRecord {
    const TYPE: RecordType = RecordType::DeletedFile;
}

/// Contents of a file at `offset`: `len` bytes follow, padded to the
/// record alignment.  Ranges are in increasing order and do not overlap;
/// the bytes no record covers are zero.  An empty record ends them.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct FileDataRecord {
    /// Where the bytes go; with the length, at most the file size.
    /// Offset 0.
    pub offset: u64,
    /// Number of bytes, at most [`MAX_FILE_DATA`]; 0 for the last
    /// record. Offset 8.
    pub len: u32,
    /// Zero. Offset 12.
    pub _pad: u32,
}
plain_record!(FileDataRecord, 16);
impl VarRecord for FileDataRecord {
    const TYPE: RecordType = RecordType::FileData;
}

/// Seals a memfd may have: `F_SEAL_SEAL`, `F_SEAL_SHRINK`, `F_SEAL_GROW`,
/// `F_SEAL_WRITE`, `F_SEAL_FUTURE_WRITE`, `F_SEAL_EXEC`.
pub const MEMFD_SEALS: u32 = 0x3f;

/// Longest memfd name, without its NUL (the kernel's `NAME_MAX` less the
/// `"memfd:"` prefix).
pub const MAX_MEMFD_NAME: usize = 249;

/// The size, seals and mode of a memfd, after its file object and its
/// name; [`FileDataRecord`]s with its contents follow, the last one empty.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct MemfdRecord {
    /// Its size in bytes, at most [`MAX_DELETED_FILE_SIZE`]. Offset 0.
    pub size: u64,
    /// Its seals, within [`MEMFD_SEALS`]. Offset 8.
    pub seals: u32,
    /// Its permission bits (at most `0o7777`). Offset 12.
    pub mode: u32,
}
plain_record!(MemfdRecord, 16);
impl Record for MemfdRecord {
    const TYPE: RecordType = RecordType::Memfd;
}

/// The size of the object behind shared anonymous memory, after its file
/// object (read-write, no position); [`FileDataRecord`]s with its contents
/// follow, the last one empty.  Memory areas map it by its object
/// reference, each at its own offset.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SharedMemoryRecord {
    /// Its size in bytes: a whole number of pages, not zero, at most
    /// [`MAX_SHARED_MEMORY_SIZE`]. Offset 0.
    pub size: u64,
}
plain_record!(SharedMemoryRecord, 8);
impl Record for SharedMemoryRecord {
    const TYPE: RecordType = RecordType::SharedMemory;
}

/// `ShmSegmentRecord::mode`: the segment was removed (`IPC_RMID`) and
/// lives on only while attached (`SHM_DEST`).
pub const SHM_MODE_REMOVED: u32 = 0o1000;
/// Every bit `ShmSegmentRecord::mode` may have: the permission bits and
/// [`SHM_MODE_REMOVED`].
pub const SHM_MODES: u32 = 0o777 | SHM_MODE_REMOVED;

/// A SysV shared memory segment (`shmget(2)`), saved once however many
/// attaches map it: its [`FileDataRecord`]s with its contents follow, the
/// last one empty, then the file object of one attach of it
/// ([`FileKind::SysvShm`]); later attaches name it by its number.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ShmSegmentRecord {
    /// The number this record defines: one more than the last segment
    /// defined in the image (the first is 1). Offset 0.
    pub segment: u32,
    /// Its id (`shmid`), not negative. Offset 4.
    pub id: i32,
    /// Its key; 0 (`IPC_PRIVATE`) for none, or after its removal.
    /// Offset 8.
    pub key: i32,
    /// Its permission bits and [`SHM_MODE_REMOVED`], within
    /// [`SHM_MODES`]. Offset 12.
    pub mode: u32,
    /// Its owner's user id, not `-1`. Offset 16.
    pub uid: u32,
    /// Its owner's group id, not `-1`. Offset 20.
    pub gid: u32,
    /// Its size in bytes, not zero, at most [`MAX_SHARED_MEMORY_SIZE`].
    /// Offset 24.
    pub size: u64,
}
plain_record!(ShmSegmentRecord, 32);
impl Record for ShmSegmentRecord {
    const TYPE: RecordType = RecordType::ShmSegment;
}

impl ShmSegmentRecord {
    /// Whether the fields are valid for the segment numbered `number`.
    pub fn is_valid(&self, number: u32) -> bool {
        self.segment == number
            && self.id >= 0
            && self.mode & !SHM_MODES == 0
            && self.uid != u32::MAX
            && self.gid != u32::MAX
            && self.size != 0
            && self.size <= MAX_SHARED_MEMORY_SIZE
            && (self.mode & SHM_MODE_REMOVED == 0 || self.key == 0)
    }
}

/// Most watches of one inotify instance in an image.
pub const MAX_INOTIFY_WATCHES: u32 = 65536;

/// Bits an [`InotifyWatchRecord`]'s mask may have: the events
/// (`IN_ALL_EVENTS`), `IN_EXCL_UNLINK` and `IN_ONESHOT`.
pub const INOTIFY_WATCH_BITS: u32 = 0xfff | 0x0400_0000 | 0x8000_0000;

/// The watches of an inotify instance, after its file object: `count`
/// [`InotifyWatchRecord`]s follow, each with a string record.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct InotifyWatchesRecord {
    /// Number of watches, at most [`MAX_INOTIFY_WATCHES`]. Offset 0.
    pub count: u32,
    /// The watch descriptor a new watch gets if it is free (the kernel
    /// hands them out cyclically), at most `i32::MAX`. Offset 4.
    pub next_wd: u32,
}
plain_record!(InotifyWatchesRecord, 8);
impl Record for InotifyWatchesRecord {
    const TYPE: RecordType = RecordType::InotifyWatches;
}

/// One watch of an inotify instance; a string record with the absolute
/// path of the watched file follows (not followed if it is a link).
/// Watches come in increasing descriptor order.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct InotifyWatchRecord {
    /// Its watch descriptor, positive, above the last one's. Offset 0.
    pub wd: i32,
    /// Its events and flags, within [`INOTIFY_WATCH_BITS`], with at least
    /// one event. Offset 4.
    pub mask: u32,
}
plain_record!(InotifyWatchRecord, 8);
impl Record for InotifyWatchRecord {
    const TYPE: RecordType = RecordType::InotifyWatch;
}
