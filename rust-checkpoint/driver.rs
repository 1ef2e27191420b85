// SPDX-License-Identifier: GPL-2.0

//! The checkpoint and restart drivers: argument checks, the order in which
//! state is saved and restored, and the point of no return of a restart.
//!
//! # Checkpoint
//!
//! A process is saved with its descendants, depth first (see [`tree`]);
//! the records of each follow the order of the format's grammar: task,
//! signals, resource limits, interval and POSIX timers, credentials,
//! scheduling, pending signals, registers, FPU, working directory, fd
//! table, controlling terminal, address space (layout, areas, then the
//! pages of each area).  State this version cannot save stops the
//! checkpoint with `EOPNOTSUPP` after an error record that says
//! what it was, so a reader of the image learns why.
//!
//! # Restart
//!
//! Everything up to the first page of memory is read, validated and
//! prepared (mapped files opened) while the caller is still intact: an
//! image rejected there returns its errno and the caller runs on.  Then
//! comes the point of no return, where the caller's address space is
//! unmapped.  From there on an error (a short image, a checksum mismatch
//! at the tail) cannot be undone, and the caller is killed with `SIGKILL`
//! rather than resumed half restored.  The other processes of a tree are
//! created past the root's point of no return, each restoring itself as
//! the root does; a failure in any of them kills the whole tree.

use crate::arch;
use crate::creds::{self, PreparedCreds};
use crate::ctty;
use crate::error::{eopnotsupp, fmt_result, may_log_image_fault, Failure};
use crate::file::{
    nul_terminated, FileRef, FileSink, FileSource, FrameSource, RecordingSource, ReplaySource,
};
use crate::file_kinds::UnlinkedCopy;
use crate::files::{self, PathRef};
use crate::format::{
    self, fill_cstr_field, ChildrenRecord, CpuRecord, CredsRecord, CttyRecord, FdRecord,
    FileSource as FileObjectSource, ImageHeader, ImageParser, ImageWriter, Item, ItimersRecord,
    KernelConstants, MmRecord, PendingSignal, PtyQueueRecord, RlimitsRecord, SchedRecord,
    SigactionRecord, SignalsRecord, TaskRecord, VmaRecord, ZombieRecord, FORMAT_REVISION,
    IMAGE_MAGIC, MAX_FILE_DATA, MAX_STRING_LEN, MAX_XSTATE_SIZE, NSIG, SIGQUEUE_PROCESS,
    TASK_FLAG_JOB_STOPPED, TASK_FLAG_LEADER_EXITED, TASK_FLAG_NOT_DUMPABLE, UTS_FIELD_SIZE,
};
use crate::limits;
use crate::mm::{self, MmRef, VmaList};
use crate::objhash::{CheckpointObjects, Object, RestartObjects};
use crate::sched;
use crate::sharing::{self, SharedTables};
use crate::signals;
use crate::task::{self, TaskRef};
use crate::thread::{self, PreparedThread};
use crate::timers::{self, PreparedPosixTimers};
use crate::tree::{self, Gate, Next, Place, Places, RestoreChild};
use core::sync::atomic::{AtomicI32, Ordering};
use kernel::alloc::{flags::GFP_KERNEL, KBox, KVVec, KVec};
use kernel::bindings;
use kernel::error::{code::*, Result};
use kernel::prelude::*;
use kernel::str::BStr;
use kernel::sync::Arc;

/// Size of the buffer that gathers small records before a write.
const WRITE_BUFFER_SIZE: usize = 16 * 1024;
/// Size of the read-ahead buffer of restart.
const READ_BUFFER_SIZE: usize = 64 * 1024;
/// Size of a path buffer (`PATH_MAX`).
const PATH_BUFFER_SIZE: usize = 4096;

/// Source of checkpoint ids: positive, increasing, wrapping to 1.
static LAST_CRID: AtomicI32 = AtomicI32::new(0);

fn next_crid() -> i32 {
    let prev = LAST_CRID
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
            Some(if v == i32::MAX { 1 } else { v + 1 })
        })
        .unwrap_or(0);
    if prev == i32::MAX {
        1
    } else {
        prev + 1
    }
}

/// The constants of the running kernel that images must match.
pub fn running_constants() -> KernelConstants {
    KernelConstants {
        page_size: bindings::PAGE_SIZE as u32,
        task_comm_len: bindings::TASK_COMM_LEN as u16,
        uts_len: (bindings::__NEW_UTS_LEN + 1) as u16,
        linux_version_code: bindings::LINUX_VERSION_CODE,
        _reserved: 0,
    }
}

fn copy_uts_field(dst: &mut [u8; UTS_FIELD_SIZE], src: &[u8]) {
    let len = src.iter().position(|&b| b == 0).unwrap_or(src.len());
    fill_cstr_field(dst, src.get(..len).unwrap_or(&[]));
}

/// The image header describing this kernel and the current time.
fn image_header(flags: u64) -> ImageHeader {
    let mut ts = bindings::timespec64::default();
    // SAFETY: `ts` is a valid, writable `timespec64`.
    unsafe { bindings::ktime_get_real_ts64(&mut ts) };
    let mut h = ImageHeader {
        magic: IMAGE_MAGIC,
        format_rev: FORMAT_REVISION,
        arch: arch::IMAGE_ARCH,
        flags,
        time_sec: ts.tv_sec,
        time_nsec: ts.tv_nsec as u32,
        _pad0: 0,
        constants: running_constants(),
        release: [0; UTS_FIELD_SIZE],
        version: [0; UTS_FIELD_SIZE],
        machine: [0; UTS_FIELD_SIZE],
    };
    // SAFETY: `utsname()` returns the calling task's UTS name, valid while
    // the task runs; release, version and machine never change after boot.
    let uts = unsafe { &*bindings::utsname() };
    copy_uts_field(&mut h.release, &uts.release);
    copy_uts_field(&mut h.version, &uts.version);
    copy_uts_field(&mut h.machine, &uts.machine);
    h
}

/// Checkpoints process `pid` (0: the caller) and its descendants to
/// `fd`; returns the checkpoint id.
///
/// Processes other than the caller must be stopped or frozen (`EBUSY`
/// otherwise).
pub fn checkpoint(pid: bindings::pid_t, fd: i32, flags: u64) -> Result<i32> {
    if flags != 0 {
        return Err(EINVAL);
    }
    let file = FileRef::from_fd(fd)?;
    file.require_writable()?;
    let named = TaskRef::lookup_for_checkpoint(pid)?;
    // A process is saved from its thread-group leader, whichever of its
    // threads `pid` names.
    let target = if named.is_current() {
        named
    } else {
        named.group_leader()?
    };
    let threads = if target.is_current() {
        KVec::new()
    } else {
        thread::collect(&target)?
    };
    // A leader that exited while its threads run on is saved with them
    // (see `tree`); a zombie with no threads is only not quiescent.
    let leader_exited = target.has_exited() && !threads.is_empty();
    if !leader_exited && !target.is_current() && !target.is_quiescent() {
        return Err(EBUSY);
    }
    let mut failure = Failure::new();
    let tree = tree::collect(target, threads, &mut failure);
    // Every other task must hold still while it is read (see the docs on
    // quiescence); the caller is quiescent by definition.
    let switches = match &tree {
        Ok(nodes) if !tree::all_quiescent(nodes) => return Err(EBUSY),
        Ok(nodes) => tree::switches(nodes),
        Err(_) => 0,
    };

    let mut buf = KVec::from_elem(0u8, WRITE_BUFFER_SIZE, GFP_KERNEL)?;
    let mut w = ImageWriter::new(FileSink(&file), &mut buf);
    fmt_result(w.write_record(&image_header(flags)))?;
    let saved = tree.and_then(|nodes| {
        save_tree(&mut w, &nodes, &mut failure)?;
        // A stopped task can be continued (or killed) while it is read:
        // then the image may mix two moments, and is refused.
        if tree::switches(&nodes) != switches || !tree::all_quiescent(&nodes) {
            failure.set(format_args!("a task ran during the checkpoint"));
            return Err(EBUSY);
        }
        Ok(())
    });
    match saved {
        Ok(()) => {
            fmt_result(w.finish())?;
            Ok(next_crid())
        }
        Err(e) => {
            if let Some(msg) = failure.message() {
                // Best effort: the checkpoint fails with `e` either way.
                let _ = w.write_error(-e.to_errno(), msg).and_then(|()| w.abort());
            }
            Err(e)
        }
    }
}

/// Saves the processes of a tree, in image order, sharing one object
/// table; then checks what only all their descriptors and mappings
/// together show.
fn save_tree(
    w: &mut ImageWriter<'_, FileSink<'_>>,
    nodes: &[tree::Node],
    failure: &mut Failure,
) -> Result {
    tree::check_places(nodes, failure)?;
    let shares = sharing::plan(nodes, failure)?;
    let mut saved = TreeSave {
        objects: CheckpointObjects::new(),
        all_fds: KVec::new(),
        table_fds: KVec::with_capacity(nodes.len(), GFP_KERNEL)?,
        shared: KVec::new(),
    };
    // Every fd table first: what a file is saved as may depend on what
    // another process holds (the master of a pseudo-terminal pair).
    let mut tables = KVec::with_capacity(nodes.len(), GFP_KERNEL)?;
    for (node, share) in nodes.iter().zip(shares.iter()) {
        let fds = match node.zombie {
            // A shared table is saved with the process that uses it first.
            None if share.files_with == 0 => files::collect_fds(node.process(), failure)?,
            _ => KVec::new(),
        };
        files::prepare_table(&fds, &mut saved.objects)?;
        tables.push(fds, GFP_KERNEL)?;
    }
    for ((node, fds), share) in nodes.iter().zip(tables).zip(shares.iter()) {
        if let Some(zombie) = &node.zombie {
            saved.table_fds.push(0..0, GFP_KERNEL)?;
            fmt_result(w.write_record(zombie))?;
            continue;
        }
        save_task(w, node, fds, *share, &mut saved, failure)?;
        if node.children > 0 {
            fmt_result(w.write_record(&ChildrenRecord {
                count: node.children,
                _pad: 0,
            }))?;
        }
    }
    files::check_tree(&saved.all_fds, failure)?;
    mm::check_tree(&mut saved.shared, failure)
}

/// What the processes of a tree being saved share, and what is checked
/// once they all are.
struct TreeSave {
    /// The objects saved so far.
    objects: CheckpointObjects,
    /// Every descriptor of the processes saved so far.
    all_fds: KVec<files::OpenFd>,
    /// Where the descriptors of each process saved so far are in
    /// `all_fds` (none for a zombie or a shared table).
    table_fds: KVec<core::ops::Range<usize>>,
    /// Every area of shared memory without a path they map.
    shared: KVec<mm::SharedArea>,
}

/// Saves the records of the process of `node`: its leader, then its other
/// threads, with its descriptors `fds` (prepared by
/// [`files::prepare_table`]), sharing `saved` with the processes saved
/// before it, and the fd table and fs context of those `shares` names.  A
/// leader that had exited has no registers of its own to save; what
/// belongs to the process is read from a live thread.
fn save_task(
    w: &mut ImageWriter<'_, FileSink<'_>>,
    node: &tree::Node,
    fds: KVec<files::OpenFd>,
    shares: sharing::Shares,
    saved: &mut TreeSave,
    failure: &mut Failure,
) -> Result {
    let target = node.process();
    let nr_threads = target.nr_threads();
    if target.is_current() && nr_threads != 1 {
        failure.set(format_args!(
            "a process with {nr_threads} threads cannot checkpoint itself; checkpoint it stopped, from another process"
        ));
        return Err(eopnotsupp());
    }
    let census = task::census(target);
    task::refuse_unsaved(&census, failure)?;
    let mut path = KVec::from_elem(0u8, PATH_BUFFER_SIZE, GFP_KERNEL)?;
    let (mut task_rec, cpu, altstack) = if node.leader_exited {
        let task_rec = task::save_exited_leader(&node.task, &census);
        (task_rec, None, signals::disabled_altstack())
    } else {
        let mut task_rec = task::save_task(target, &census);
        // The caller in checkpoint(2) sees it return 0; a stopped task may
        // resume an interrupted nanosleep, poll or futex wait.
        let cpu = task::save_registers(target, &mut task_rec, failure)?;
        (task_rec, Some(cpu), signals::save_altstack(target))
    };
    if task::job_stopped(target) {
        task_rec.flags |= TASK_FLAG_JOB_STOPPED;
    }
    fmt_result(w.write_record(&task_rec))?;
    fmt_result(w.write_signals(&altstack, |i| Ok(signals::save_sigaction(target, i))))?;
    fmt_result(w.write_record(&limits::save(target)))?;
    fmt_result(w.write_record(&timers::save(target)?))?;
    let (next_timer_id, posix_timers) = timers::save_posix(target, failure)?;
    fmt_result(w.write_posix_timers(next_timer_id, &posix_timers))?;
    let creds = creds::save(target)?;
    fmt_result(w.write_creds(&creds.0, &creds.1))?;
    let sched = sched::save(target, failure)?;
    fmt_result(w.write_record(&sched))?;
    let mut pending = signals::save_pending(target, failure)?;
    if node.leader_exited {
        // The thread's own queue is saved with it.
        pending = signals::on_queue(&pending, SIGQUEUE_PROCESS)?;
    }
    fmt_result(w.write_pending_signals(pending.len(), |i| {
        pending.get(i).copied().ok_or(format::Errno::EINVAL)
    }))?;
    if let Some(cpu) = &cpu {
        fmt_result(w.write_record(cpu))?;
        let (xfeatures, xsave) = arch::save_fpu(target)?;
        fmt_result(w.write_fpu(xfeatures, &xsave))?;
    }
    thread::save(w, &node.threads, &creds, &sched, failure)?;
    let (mut fs, cwd) = task::save_fs(target, &mut path)?;
    fs.shared_with = shares.fs_with;
    fmt_result(w.write_fs(&fs, cwd))?;

    let objects = &mut saved.objects;
    if shares.files_with == 0 {
        files::save_table(w, objects, &fds, &mut path, failure)?;
    } else {
        files::save_shared_table(w, shares.files_with)?;
    }
    // The terminal is looked for among the descriptors of the table,
    // which a process that shares it saved before.
    let table = match shares.files_with as usize {
        0 => &fds[..],
        owner => saved
            .table_fds
            .get(owner - 1)
            .and_then(|range| saved.all_fds.get(range.clone()))
            .unwrap_or(&[]),
    };
    if let Some(ctty) = ctty::save(target, table, objects) {
        fmt_result(w.write_record(&ctty))?;
    }
    mm::save(w, target, objects, &mut path, &mut saved.shared, failure)?;
    let start = saved.all_fds.len();
    for fd in fds {
        saved.all_fds.push(fd, GFP_KERNEL)?;
    }
    saved
        .table_fds
        .push(start..saved.all_fds.len(), GFP_KERNEL)?;
    Ok(())
}

/// What restart reads before its point of no return.
struct Prepared {
    task: TaskRecord,
    /// The signal stack, and the action of every signal (index `n - 1`).
    signals: SignalsRecord,
    sigactions: KVec<SigactionRecord>,
    rlimits: RlimitsRecord,
    itimers: ItimersRecord,
    posix_timers: PreparedPosixTimers,
    creds: CredsRecord,
    groups: KVVec<u32>,
    sched: SchedRecord,
    /// Signals to queue again, in order.
    pending: KVVec<PendingSignal>,
    /// The leader's registers and FPU state; `None` (and no FPU state)
    /// if it had exited.
    cpu: Option<CpuRecord>,
    xsave: KVec<u8>,
    /// The other threads of the process.
    threads: KVec<PreparedThread>,
    mm: MmRecord,
    /// The auxiliary vector of the address space.
    auxv: KVec<u64>,
    /// The working directory (looked up) and umask; `None` if the fs
    /// context is another process's.
    fs: Option<(PathRef, u32)>,
    /// The number of the process whose fs context this one uses, 0 for
    /// its own.
    fs_shared_with: u32,
    /// The fd table.
    fds: KVec<FdRecord>,
    /// The number of the process whose fd table this one uses, 0 for its
    /// own.
    files_shared_with: u32,
    /// The controlling terminal of the saved task's session.
    ctty: Option<CttyRecord>,
    /// What was read last: the first page chunk (its pages not read
    /// yet), or what follows a process without pages.
    after: AfterRecords,
}

impl Prepared {
    /// Whether the process was dumpable.
    fn dumpable(&self) -> bool {
        self.task.flags & TASK_FLAG_NOT_DUMPABLE == 0
    }
}

/// Where [`prepare`] stopped reading.
enum AfterRecords {
    /// At a page chunk of this many pages, which are still to be read.
    Pages(usize),
    /// At what follows the process (it has no pages).
    Next(Next),
}

/// Restarts from the image at `fd`: the calling task becomes the saved
/// one, and this returns what the saved task's system call returns.
///
/// An image without a task returns 0 with the caller unchanged.  An image
/// that records a failed checkpoint gives `EIO` after its message is
/// logged.
pub fn restart(crid: i32, fd: i32, flags: u64) -> Result<i64> {
    if flags != 0 {
        return Err(EINVAL);
    }
    Ok(restart_image(crid, fd)?.unwrap_or(0))
}

/// Most bytes `restart(RESTART_CHILD)` reads ahead in the caller to find
/// the saved pid: the header, the task record and the reader's
/// read-ahead.
const MAX_CHILD_PREFIX: usize = 4 * READ_BUFFER_SIZE;

/// What the caller of `restart(RESTART_CHILD)` hands its child: the image
/// and the bytes of it the caller read already.
pub struct ChildRestart {
    file: FileRef,
    prefix: KVec<u8>,
    /// The saved task led its session, or its process group.
    leads_session: bool,
    leads_group: bool,
}

/// `restart(RESTART_CHILD)`, in the caller: reads the image at `fd` up to
/// its task record (checking what it read), and returns the saved pid and
/// what the child needs to restart the whole image.  An image without a
/// task is `EINVAL`: the child would have nothing to run.
pub fn restart_child_prepare(crid: i32, fd: i32) -> Result<(KBox<ChildRestart>, i32)> {
    let file = open_image(crid, fd)?;
    let mut read_buf = KVec::from_elem(0u8, READ_BUFFER_SIZE, GFP_KERNEL)?;
    let mut strings = KVec::from_elem(0u8, MAX_STRING_LEN as usize, GFP_KERNEL)?;
    let mut source = RecordingSource::new(&file, MAX_CHILD_PREFIX);
    let task = {
        let mut parser = fmt_result(ImageParser::new(
            &mut source,
            &mut read_buf,
            &mut strings,
            VmaList::new(),
        ))?;
        match fmt_result(parser.next_item())? {
            Item::Header(_) => {}
            _ => return Err(EINVAL),
        }
        match fmt_result(parser.next_item())? {
            Item::Task(task) => task,
            Item::Error { .. } => return Err(EIO),
            _ => return Err(EINVAL),
        }
    };
    let prefix = source.into_recorded();
    let child = ChildRestart {
        file,
        prefix,
        leads_session: task.leads_session(),
        leads_group: task.leads_group(),
    };
    Ok((KBox::new(child, GFP_KERNEL)?, task.pid))
}

/// `restart(RESTART_CHILD)`, in the child the caller forked for it, before
/// that child first returns to user space: takes the saved task's place
/// in its session (a leader of its session or group leads a new one),
/// restarts from the image the caller began to read, as [`restart`]
/// does, and leaves in the child's registers what the saved task's
/// system call returns.
pub fn restart_in_child(child: KBox<ChildRestart>) -> Result {
    task::take_saved_place(child.leads_session, child.leads_group)?;
    let source = ReplaySource::new(&child.prefix, &child.file);
    let ax = restart_from(source, true)?.ok_or(EINVAL)?;
    arch::set_return_value(ax);
    Ok(())
}

/// Restarts from the image at `fd` into the calling task; `None` for an
/// image without a task.
fn restart_image(crid: i32, fd: i32) -> Result<Option<i64>> {
    restart_from(FileSource(&open_image(crid, fd)?), false)
}

/// The image file of `restart(crid, fd, ...)`: `crid` must be 0, `fd` open
/// for reading.
fn open_image(crid: i32, fd: i32) -> Result<FileRef> {
    if crid != 0 {
        return Err(EINVAL);
    }
    let file = FileRef::from_fd(fd)?;
    file.require_readable()?;
    Ok(file)
}

/// Restarts from the image `source` into the calling task, and the rest
/// of the tree below it; `None` for an image without a task.  `as_child`:
/// the caller is the child `restart(RESTART_CHILD)` created.
fn restart_from<S: format::Source + FrameSource>(source: S, as_child: bool) -> Result<Option<i64>> {
    let mut read_buf = KVec::from_elem(0u8, READ_BUFFER_SIZE, GFP_KERNEL)?;
    let mut strings = KVec::from_elem(0u8, MAX_STRING_LEN as usize, GFP_KERNEL)?;
    let mut parser = fmt_result(ImageParser::new(
        source,
        &mut read_buf,
        &mut strings,
        VmaList::new(),
    ))?;
    let mut objects = RestartObjects::new();
    let Some(mut prepared) = prepare(&mut parser, None, &mut objects)? else {
        return Ok(None);
    };
    let task = TaskRef::current()?;
    if task.nr_threads() != 1 {
        return Err(eopnotsupp());
    }
    let (new_creds, ctty) = check_prepared(&prepared, parser.vmas(), &objects)?;
    // Threads keep their ids when the root keeps its pid
    // (`RESTART_CHILD` without `RESTART_NEW_PID`); so do the other
    // processes, which also keep theirs in place when the caller may
    // choose ids.
    let saved_tids = task.tid() == prepared.task.pid;
    let saved_pids = if as_child {
        saved_tids
    } else {
        task::may_choose_ids()
    };
    let dumpable = prepared.dumpable();
    thread::check(&mut prepared.threads, saved_tids, dumpable)?;
    let mut tree = TreeRestart {
        parser: &mut parser,
        objects,
        saved_pids,
        places: Places::new(saved_pids),
        next: None,
        gate: Gate::new()?,
        tables: SharedTables::new(),
    };
    // Where the root stands now (the caller's place, or the one
    // `restart_in_child` took), for the processes saved in its group or
    // session.
    tree.places.record(&Place::of_task(&prepared.task))?;

    // The point of no return.
    let restored = tree
        .restore(&mut prepared, new_creds, ctty, saved_tids)
        .and_then(|ret| match tree.next {
            // The root's records end the image.
            Some(Next::Tail) => Ok(ret),
            _ => Err(EINVAL),
        });
    match restored {
        Ok(ret) => {
            tree.gate.open();
            Ok(Some(ret))
        }
        Err(e) => {
            tree.gate.fail();
            if may_log_image_fault() {
                pr_warn!(
                    "restart: failed past the point of no return (errno {}); killing the task\n",
                    -e.to_errno()
                );
            }
            // SAFETY: sends SIGKILL to the calling task, which dies before
            // it returns to user space.
            unsafe { bindings::force_sig(bindings::SIGKILL as i32) };
            Err(e)
        }
    }
}

/// Checks the prepared records of a process against this kernel and the
/// caller's privileges, before its point of no return; returns the
/// credentials to commit and the controlling terminal to take.
fn check_prepared(
    p: &Prepared,
    vmas: &[VmaRecord],
    objects: &RestartObjects,
) -> Result<(PreparedCreds, Option<u32>)> {
    task::check_restart_caller(&p.task)?;
    signals::check_altstack(&p.signals)?;
    limits::check(&p.rlimits)?;
    sched::check(&p.sched)?;
    let new_creds = PreparedCreds::prepare(&p.creds, &p.groups)?;
    if let Some(cpu) = &p.cpu {
        arch::check_cpu(cpu, &p.task)?;
        arch::check_fpu(&p.xsave)?;
    }
    mm::check_areas(&p.mm, vmas, objects)?;
    mm::check_area_flags(vmas, &p.rlimits, &p.creds)?;
    mm::check_auxv(&p.auxv)?;
    let ctty = ctty::prepare(p.ctty.as_ref(), objects)?;
    Ok((new_creds, ctty))
}

/// What the processes of one restart share while the tree is rebuilt.
/// One process at a time uses it: the others wait for the child they
/// created.
struct TreeRestart<'p, 'b, S: format::Source + FrameSource, V: format::VmaStore> {
    parser: &'p mut ImageParser<'b, S, V>,
    /// The objects the image defined so far, for all its processes.
    objects: RestartObjects,
    /// The processes below the root get their saved pids (and their
    /// threads their saved ids).
    saved_pids: bool,
    /// The process groups and sessions restored so far.
    places: Places,
    /// The item read after the last process's pages, not used yet.
    next: Option<Next>,
    gate: Arc<Gate>,
    /// The fd tables and fs contexts of the processes restored so far.
    tables: SharedTables,
}

impl<S: format::Source + FrameSource, V: format::VmaStore> TreeRestart<'_, '_, S, V> {
    /// The next item that can follow a process.
    fn read_next(&mut self) -> Result<Next> {
        Next::of(&fmt_result(self.parser.next_item())?).ok_or(EINVAL)
    }

    /// Restores the prepared process into the caller and reads the rest
    /// of its records, creating its children on the way; its threads get
    /// their saved ids if `saved_tids`.  Past the point of no return.
    fn restore(
        &mut self,
        p: &mut Prepared,
        new_creds: PreparedCreds,
        ctty: Option<u32>,
        saved_tids: bool,
    ) -> Result<i64> {
        task::reset_for_restart()?;
        // Before its threads and children are created: they inherit it.
        self.tables.join(p.files_shared_with, p.fs_shared_with)?;
        let mm = MmRef::current()?;
        mm::replace_mm(&mm, &p.mm, &p.auxv, self.parser.vmas(), &self.objects)?;
        // The SysV segments are attached now: they stay.
        self.objects.segments.commit();
        let next = match p.after {
            AfterRecords::Pages(first_chunk) => mm::read_pages(self.parser, &mm, first_chunk)?,
            AfterRecords::Next(next) => next,
        };
        // Before the children, which inherit it as they did.
        ctty::restore(ctty, &self.objects)?;
        // Before the credentials, limits and scheduling change: each child
        // is checked against the caller's, as the root is.
        self.create_children(next)?;
        // A shared table is filled by the process that owns it.
        if p.files_shared_with == 0 {
            files::install_fds(&p.fds, &self.objects)?;
        }
        if let Some((pwd, umask)) = &p.fs {
            files::restore_fs(pwd, *umask);
        }
        task::restore_task(&p.task)?;
        if p.cpu.is_none() {
            // A leader restored only to exit again takes no signal meant
            // for the process: its threads do.
            signals::block_all();
        }
        signals::restore_signals(&p.signals, &p.sigactions)?;
        // After the memory and descriptors, which lower limits could refuse.
        limits::restore(&p.rlimits)?;
        sched::restore(&p.sched)?;
        // After everything the caller's privileges allowed (limits,
        // scheduling).
        new_creds.commit(p.dumpable());
        // Locking under the saved limit and capabilities, once the pages are
        // in.
        mm::apply_area_flags(&mm, self.parser.vmas())?;
        // The threads copy the leader's credentials, limits and scheduling;
        // before any timer or signal, since a thread cannot be created with
        // a signal pending.
        thread::restore(&mut p.threads, saved_tids)?;
        timers::restore(&p.itimers)?;
        // Last, with actions, mask and limits in place.
        signals::restore_pending(&p.pending)?;
        // After the pending signals: a timer may fire at once.
        p.posix_timers.restore()?;
        if p.task.flags & TASK_FLAG_JOB_STOPPED != 0 {
            task::stop_at_return()?;
        }
        let Some(cpu) = &p.cpu else {
            // Its threads are restored: the leader exits again, as it had.
            task::exit_at_return(p.task.exit_status)?;
            return Ok(0);
        };
        arch::restore_fpu(&p.xsave)?;
        arch::restore_cpu(cpu, signals::delivery_pending())
    }

    /// Creates the children `next` announces (if it does), each of which
    /// restores itself, as a child of the caller; leaves the item after
    /// them (or `next` itself) in `self.next`.
    fn create_children(&mut self, next: Next) -> Result {
        let Next::Children(count) = next else {
            self.next = Some(next);
            return Ok(());
        };
        for _ in 0..count {
            let next = match self.next.take() {
                Some(next) => next,
                None => self.read_next()?,
            };
            let saved_pid = self.saved_pids;
            match next {
                Next::Task(child) => tree::create_child(self, child, saved_pid)?,
                Next::Zombie(zombie) => tree::create_zombie(self, zombie, saved_pid)?,
                _ => return Err(EINVAL),
            }
        }
        // A live child leaves the item after its records here; a zombie,
        // a record alone, does not.
        if self.next.is_none() {
            self.next = Some(self.read_next()?);
        }
        Ok(())
    }
}

impl<S: format::Source + FrameSource, V: format::VmaStore> RestoreChild
    for TreeRestart<'_, '_, S, V>
{
    fn restore_child(&mut self, task: TaskRecord) -> Result<(Arc<Gate>, i64)> {
        self.places.take(&Place::of_task(&task))?;
        let mut p = prepare(self.parser, Some(task), &mut self.objects)?.ok_or(EINVAL)?;
        let (new_creds, ctty) = check_prepared(&p, self.parser.vmas(), &self.objects)?;
        // Below the root, a process with its saved pid gives its threads
        // theirs.
        let saved_tids = self.saved_pids;
        let dumpable = p.dumpable();
        thread::check(&mut p.threads, saved_tids, dumpable)?;
        let ret = self.restore(&mut p, new_creds, ctty, saved_tids)?;
        Ok((self.gate.clone(), ret))
    }

    fn restore_zombie(&mut self, zombie: &ZombieRecord) -> Result<u32> {
        self.tables.add_zombie()?;
        self.places.take(&Place::of_zombie(zombie))?;
        task::set_comm(&zombie.comm);
        // What wait(2) reports of it; its other credentials are its
        // parent's at this point (the caller's).
        task::set_real_uid(zombie.uid)?;
        Ok(zombie.status)
    }
}

/// Reads and checks the records of a process up to its first page (or
/// what follows it); `None` for an image without a task.  `first` is the
/// process's task record if it was read already; the objects the records
/// define go to `objects`.
fn prepare<S: format::Source, V: format::VmaStore>(
    parser: &mut ImageParser<'_, S, V>,
    first: Option<TaskRecord>,
    objects: &mut RestartObjects,
) -> Result<Option<Prepared>> {
    // The parser guarantees the order of items; `task`, `cpu` and `mm` are
    // checked to be present before they are used.
    let mut task = first;
    let mut signals = None;
    let mut sigactions = KVec::new();
    let mut rlimits = None;
    let mut itimers = None;
    let mut posix_timers = None;
    let mut creds = None;
    let mut groups = KVVec::new();
    let mut sched = None;
    let mut pending = KVVec::new();
    let mut cpu = None;
    let mut xsave = KVec::new();
    let mut threads: KVec<PreparedThread> = KVec::new();
    let mut mm = None;
    let mut auxv = KVec::new();
    let mut fs = None;
    let mut fs_shared_with = 0;
    let mut fds = KVec::new();
    let mut files_shared_with = 0;
    let mut ctty = None;
    // An unlinked file being created again, until its contents are in.
    let mut unlinked = None;
    let mut file_data = KVec::new();
    loop {
        match fmt_result(parser.next_item())? {
            Item::Header(h) => fmt_result(h.validate(arch::IMAGE_ARCH, &running_constants()))?,
            Item::Error { errno, message } => {
                if may_log_image_fault() {
                    pr_err!(
                        "restart: the image records a failed checkpoint (errno {}): {}\n",
                        errno,
                        BStr::from_bytes(message)
                    );
                }
                return Err(EIO);
            }
            Item::Tail if task.is_none() => return Ok(None),
            Item::Task(t) if task.is_none() => task = Some(t),
            Item::Signals(sig) => {
                sigactions = KVec::with_capacity(NSIG as usize, GFP_KERNEL)?;
                for _ in 0..NSIG {
                    sigactions.push(fmt_result(parser.read_sigaction())?, GFP_KERNEL)?;
                }
                signals = Some(sig);
            }
            Item::Rlimits(r) => rlimits = Some(r),
            Item::Itimers(t) => itimers = Some(t),
            Item::PosixTimers(rec) => {
                let mut prepared = PreparedPosixTimers::new(rec.next_id, rec.count)?;
                for _ in 0..rec.count {
                    prepared.push(&fmt_result(parser.read_posix_timer())?)?;
                }
                posix_timers = Some(prepared);
            }
            Item::Creds(c) => {
                let mut read = KVVec::from_elem(0u32, c.ngroups as usize, GFP_KERNEL)?;
                fmt_result(parser.read_groups(&mut read))?;
                // After a thread record, the thread's own.
                match threads.last_mut() {
                    Some(t) => t.set_creds(c, read),
                    None => {
                        groups = read;
                        creds = Some(c);
                    }
                }
            }
            // After a thread record, the thread's own.
            Item::Sched(s) => match threads.last_mut() {
                Some(t) => t.set_sched(s),
                None => sched = Some(s),
            },
            Item::Thread(t) => threads.push(PreparedThread::new(t), GFP_KERNEL)?,
            // After a thread record, these are the thread's.
            Item::SigPending(rec) => {
                let mut signals = KVVec::with_capacity(rec.count as usize, GFP_KERNEL)?;
                for _ in 0..rec.count {
                    signals.push(fmt_result(parser.read_pending_signal())?, GFP_KERNEL)?;
                }
                match threads.last_mut() {
                    Some(t) => t.set_pending(signals),
                    None => pending = signals,
                }
            }
            Item::Cpu(c) => match threads.last_mut() {
                Some(t) => t.set_cpu(c),
                None => cpu = Some(c),
            },
            Item::Fpu(f) => {
                // Only this kernel's size is accepted later: refusing any
                // other now bounds what the threads of an image allocate.
                if f.xstate_size != arch::xstate_size()? {
                    return Err(EINVAL);
                }
                let size = f.xstate_size.min(MAX_XSTATE_SIZE) as usize;
                let mut buf = KVec::from_elem(0u8, size, GFP_KERNEL)?;
                fmt_result(parser.read_xstate(&mut buf))?;
                match threads.last_mut() {
                    Some(t) => t.set_xsave(buf),
                    None => xsave = buf,
                }
            }
            Item::Pipe(rec) => {
                let mut data = KVVec::from_elem(0u8, rec.data_len as usize, GFP_KERNEL)?;
                fmt_result(parser.read_pipe_data(&mut data))?;
                objects.pipes.define(&rec, data)?;
            }
            Item::FileObject(f, FileObjectSource::Deleted { dir, size, mode }) => {
                unlinked = Some(UnlinkedCopy::create(&f, dir, size, mode)?);
            }
            Item::FileObject(
                f,
                FileObjectSource::Memfd {
                    name,
                    size,
                    seals,
                    mode,
                },
            ) => {
                unlinked = Some(UnlinkedCopy::create_memfd(&f, name, size, seals, mode)?);
            }
            Item::ShmSegment(rec) => {
                unlinked = Some(objects.segments.define(&rec)?);
            }
            Item::FileObject(f, FileObjectSource::SharedMemory { size }) => {
                unlinked = Some(UnlinkedCopy::create_shared_memory(&f, size)?);
            }
            Item::FileData { offset, len } => {
                // The parser allows these only after a deleted file.
                let copy = unlinked.as_ref().ok_or(EINVAL)?;
                if len > 0 {
                    // Allocated at the first contents, kept for the next.
                    if file_data.is_empty() {
                        file_data = KVec::from_elem(0u8, MAX_FILE_DATA as usize, GFP_KERNEL)?;
                    }
                    let data = file_data.get_mut(..len).ok_or(EINVAL)?;
                    fmt_result(parser.read_file_data(data))?;
                    copy.write(offset, data)?;
                } else {
                    let copy = unlinked.take().ok_or(EINVAL)?;
                    if let Some((objref, file)) = copy.finish()? {
                        objects.insert(objref, Object::File(file))?;
                    }
                }
            }
            Item::FileObject(f, FileObjectSource::Inotify { count, next_wd }) => {
                let mut next_watch = || read_inotify_watch(parser);
                let opened = files::recreate_inotify(&f, next_wd, count, &mut next_watch)?;
                objects.insert(f.objref, Object::File(opened))?;
            }
            Item::FileObject(f, FileObjectSource::PtyMaster { ptmx, pair }) => {
                let ptmx = nul_terminated(ptmx)?;
                let mut next_queue = || read_pty_queue(parser);
                let opened = files::recreate_pty(&f, &ptmx, &pair, &mut next_queue)?;
                objects.insert(f.objref, Object::File(opened))?;
            }
            Item::FileObject(f, FileObjectSource::EpollSet { count }) => {
                let mut watches = KVec::with_capacity(count as usize, GFP_KERNEL)?;
                for _ in 0..count {
                    watches.push(fmt_result(parser.read_epoll_watch())?, GFP_KERNEL)?;
                }
                let opened = files::recreate_epoll(&f, &watches, objects)?;
                objects.insert(f.objref, Object::File(opened))?;
            }
            Item::FileObject(f, source) => {
                let opened = files::reopen(&f, source, objects)?;
                objects.insert(f.objref, Object::File(opened))?;
            }
            // Another process's fs context is set up by that process.
            Item::Fs(rec, _) if rec.shared_with != 0 => fs_shared_with = rec.shared_with,
            Item::Fs(rec, cwd) => {
                fs = Some((PathRef::lookup_dir(&nul_terminated(cwd)?)?, rec.umask));
            }
            Item::FilesTable(table) => files_shared_with = table.shared_with,
            Item::Fd(fd) => fds.push(fd, GFP_KERNEL)?,
            Item::Ctty(c) => ctty = Some(c),
            Item::Mm(m) => {
                auxv = KVec::from_elem(0u64, m.auxv_words as usize, GFP_KERNEL)?;
                fmt_result(parser.read_auxv(&mut auxv))?;
                mm = Some(m);
            }
            // Read with their instance or pair.
            Item::InotifyWatch { .. } | Item::PtyQueue(_) => return Err(EINVAL),
            Item::Vma(_) => {}
            item @ (Item::PageChunk { .. }
            | Item::Tail
            | Item::Children { .. }
            | Item::Task(_)
            | Item::Zombie(_)) => {
                let (
                    Some(task),
                    Some(signals),
                    Some(rlimits),
                    Some(itimers),
                    Some(posix_timers),
                    Some(creds),
                    Some(sched),
                    Some(mm),
                ) = (
                    task,
                    signals,
                    rlimits,
                    itimers,
                    posix_timers,
                    creds,
                    sched,
                    mm,
                )
                else {
                    return Err(EINVAL);
                };
                // Only a leader that had exited has no registers (the
                // parser's rule, relied on here).
                if cpu.is_none() != (task.flags & TASK_FLAG_LEADER_EXITED != 0) {
                    return Err(EINVAL);
                }
                let after = match item {
                    Item::PageChunk { count } => AfterRecords::Pages(count),
                    item => AfterRecords::Next(Next::of(&item).ok_or(EINVAL)?),
                };
                return Ok(Some(Prepared {
                    task,
                    signals,
                    sigactions,
                    rlimits,
                    itimers,
                    posix_timers,
                    creds,
                    groups,
                    sched,
                    pending,
                    cpu,
                    xsave,
                    threads,
                    mm,
                    auxv,
                    fs,
                    fs_shared_with,
                    fds,
                    files_shared_with,
                    ctty,
                    after,
                }));
            }
        }
    }
}

/// Reads the next watch of an inotify instance: its descriptor, mask,
/// and the NUL-terminated path of the watched file.
fn read_inotify_watch<S: format::Source, V: format::VmaStore>(
    parser: &mut ImageParser<'_, S, V>,
) -> Result<(i32, u32, KVec<u8>)> {
    match fmt_result(parser.next_item())? {
        Item::InotifyWatch { wd, mask, path } => Ok((wd, mask, nul_terminated(path)?)),
        _ => Err(EINVAL),
    }
}

/// Reads the next queue of a pseudo-terminal pair: its record and its
/// body.
fn read_pty_queue<S: format::Source, V: format::VmaStore>(
    parser: &mut ImageParser<'_, S, V>,
) -> Result<(PtyQueueRecord, KVVec<u8>)> {
    match fmt_result(parser.next_item())? {
        Item::PtyQueue(queue) => {
            let mut body = KVVec::from_elem(0u8, queue.body_len(), GFP_KERNEL)?;
            fmt_result(parser.read_pty_queue(&mut body))?;
            Ok((queue, body))
        }
        _ => Err(EINVAL),
    }
}
