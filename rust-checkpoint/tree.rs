// SPDX-License-Identifier: GPL-2.0

//! Process trees: a checkpointed process with all its descendants.
//!
//! # Checkpoint
//!
//! `checkpoint(pid, ...)` saves the process `pid` and every process below
//! it, depth first: each process's records (threads and pages included),
//! then, if it has children, a `Children` record and each child's
//! subtree.  Every process and thread of the tree must be quiescent.  A
//! process group or session the restart could not rebuild (one whose
//! leader lives outside the tree, or is saved after it), or a tree deeper
//! or larger than the format's caps is refused with `EOPNOTSUPP` and an error record.
//!
//! # Restart
//!
//! Restart rebuilds the tree in the same order, in the kernel: past its
//! own point of no return, once its pages are in and before its
//! credentials change, each process forks each of its children
//! (`ckpt_restart_process` in `kernel/checkpoint_sys.c`), and waits while
//! the child restores itself from the next records of the image, its own
//! children included.  Children keep their saved pids when the root has
//! its own (`RESTART_CHILD`), or in place when the caller may choose
//! pids, otherwise get new ones.  Each takes its saved place in its
//! process group and session ([`Places`]): one of a process restored
//! before it, one it leads, or, where the leader had exited, a vacant pid
//! as the kernel leaves behind a leader that has gone.  A restored child
//! does not return to
//! user space before the whole tree is restored: it waits at a [`Gate`]
//! the root opens at its end, or fails, and then every process of the
//! tree is killed.

use crate::arch;
use crate::error::{eopnotsupp, Failure};
use crate::format::{Item, TaskRecord, ZombieRecord, MAX_PROCESSES, MAX_TREE_DEPTH};
use crate::task::{self, PlacePid, TaskRef};
use crate::thread;
use kernel::alloc::{flags::GFP_KERNEL, KVec};
use kernel::bindings;
use kernel::error::{code::*, Result};
use kernel::prelude::*;
use kernel::sync::{new_condvar, new_mutex, Arc, CondVar, Mutex};

/// A process of a tree being checkpointed.
pub struct Node {
    /// Its thread-group leader.
    pub task: TaskRef,
    /// Its other threads.
    pub threads: KVec<TaskRef>,
    /// Its leader had exited while its other threads ran on.
    pub leader_exited: bool,
    /// How many of the nodes that follow are its children.
    pub children: u32,
    /// Its pid, process group and session, in the checkpointer's pid
    /// namespace.
    pub pid: i32,
    pgid: i32,
    sid: i32,
    /// Index of its parent's node (`None` for the root).
    parent: Option<usize>,
    /// What is left of it if it is a zombie: then it has no threads and
    /// no children, and is saved as this record alone.
    pub zombie: Option<ZombieRecord>,
}

/// A process still to visit while the tree is listed.
struct Visit {
    task: TaskRef,
    /// Its other threads, if known already (the root's).
    threads: Option<KVec<TaskRef>>,
    /// Index of its parent's node.
    parent: Option<usize>,
    /// Its depth below the root.
    depth: u32,
}

/// The process tree below `root` (with its `threads`), in image order:
/// depth first, each parent before its children, children in the order
/// they were created.
pub fn collect(root: TaskRef, threads: KVec<TaskRef>, failure: &mut Failure) -> Result<KVec<Node>> {
    let mut nodes: KVec<Node> = KVec::new();
    let mut stack = Stack::new();
    stack.push(Visit {
        task: root,
        threads: Some(threads),
        parent: None,
        depth: 0,
    })?;
    while let Some(Visit {
        task,
        threads,
        parent,
        depth,
    }) = stack.pop()
    {
        let pid = task.tid();
        let threads = match threads {
            Some(threads) => threads,
            None => thread::collect(&task)?,
        };
        // A leader that exited while its threads run on is saved with
        // them, as a live process.
        let exited = task.has_exited();
        if parent.is_some() && exited && threads.is_empty() {
            let zombie = save_zombie(&task, pid, failure)?;
            nodes.push(
                Node {
                    task,
                    threads,
                    leader_exited: false,
                    children: 0,
                    pid,
                    pgid: zombie.pgid,
                    sid: zombie.sid,
                    parent,
                    zombie: Some(zombie),
                },
                GFP_KERNEL,
            )?;
            continue;
        }
        let children = task.children()?;
        if task.is_current() && !children.is_empty() {
            failure.set(format_args!(
                "a process with children cannot checkpoint itself; checkpoint it stopped, from another process"
            ));
            return Err(eopnotsupp());
        }
        if !children.is_empty() && depth + 1 >= MAX_TREE_DEPTH {
            failure.set(format_args!(
                "the tree is deeper than {MAX_TREE_DEPTH} levels at process {pid}"
            ));
            return Err(eopnotsupp());
        }
        if nodes.len() + stack.len() + children.len() >= MAX_PROCESSES as usize {
            failure.set(format_args!(
                "the tree has more than {MAX_PROCESSES} processes"
            ));
            return Err(eopnotsupp());
        }
        let (pgid, sid) = task.pgid_sid();
        let index = nodes.len();
        let count = u32::try_from(children.len()).map_err(|_| EINVAL)?;
        nodes.push(
            Node {
                task,
                leader_exited: exited && !threads.is_empty(),
                threads,
                children: count,
                pid,
                pgid,
                sid,
                parent,
                zombie: None,
            },
            GFP_KERNEL,
        )?;
        // Reversed, so that the first child is visited first.
        let mut slots = KVec::with_capacity(children.len(), GFP_KERNEL)?;
        for child in children {
            slots.push(Some(child), GFP_KERNEL)?;
        }
        for child in slots.iter_mut().rev().filter_map(Option::take) {
            stack.push(Visit {
                task: child,
                threads: None,
                parent: Some(index),
                depth: depth + 1,
            })?;
        }
    }
    Ok(nodes)
}

impl Node {
    /// The task that holds the state of the process: its leader, or, if
    /// the leader had exited, its first other thread.
    pub fn process(&self) -> &TaskRef {
        match self.threads.first() {
            Some(thread) if self.leader_exited => thread,
            _ => &self.task,
        }
    }
}

/// The record of `task` (pid `pid`), a child that has exited: a zombie
/// with no threads left, or refused.
fn save_zombie(task: &TaskRef, pid: i32, failure: &mut Failure) -> Result<ZombieRecord> {
    let z = task.zombie().inspect_err(|e| {
        if *e == eopnotsupp() {
            failure.set(format_args!(
                "process {pid} exited while a thread of it was exiting, or is traced, which cannot be saved yet"
            ));
        }
    })?;
    let (pgid, sid) = task.pgid_sid();
    Ok(ZombieRecord {
        pid,
        pgid,
        sid,
        exit_signal: z.exit_signal,
        status: z.status as u32,
        uid: z.uid,
        comm: task.comm(),
    })
}

/// A stack over a `KVec`, whose slots are reused (`KVec` has no `pop`
/// here).
struct Stack<T> {
    slots: KVec<Option<T>>,
    len: usize,
}

impl<T> Stack<T> {
    fn new() -> Self {
        Stack {
            slots: KVec::new(),
            len: 0,
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    fn push(&mut self, item: T) -> Result {
        match self.slots.get_mut(self.len) {
            Some(slot) => *slot = Some(item),
            None => self.slots.push(Some(item), GFP_KERNEL)?,
        }
        self.len += 1;
        Ok(())
    }

    fn pop(&mut self) -> Option<T> {
        self.len = self.len.checked_sub(1)?;
        self.slots.get_mut(self.len)?.take()
    }
}

/// Whether every process and thread of the tree is quiescent.
pub fn all_quiescent(nodes: &[Node]) -> bool {
    nodes.iter().all(|n| {
        let still = match n.zombie {
            // Not reaped meanwhile.
            Some(_) => n.task.zombie().is_ok(),
            // Its threads hold still; it has exited.
            None if n.leader_exited => n.task.has_exited(),
            None => n.task.is_current() || n.task.is_quiescent(),
        };
        still && thread::all_quiescent(&n.threads)
    })
}

/// How often the tasks of the tree other than the caller were switched
/// out, summed: it changes if any of them runs.
pub fn switches(nodes: &[Node]) -> usize {
    nodes
        .iter()
        .filter(|n| !n.task.is_current() && n.zombie.is_none())
        .fold(0usize, |sum, n| {
            sum.wrapping_add(n.task.switches())
                .wrapping_add(thread::switches(&n.threads))
        })
}

/// Refuses, with `EOPNOTSUPP` and the reason in `failure`, a process
/// whose session or process group restart could not rebuild.  A child's
/// session and group are each one it leads, one of a process saved
/// before it, or one whose leader has gone (exited and been reaped), which
/// restart rebuilds around a vacant pid.  What is left is a leader that
/// lives outside the tree, or is saved after the process.
pub fn check_places(nodes: &[Node], failure: &mut Failure) -> Result {
    for (i, node) in nodes.iter().enumerate() {
        if node.parent.is_none() {
            // The root's place is the caller's (see `usage.rst`).
            continue;
        }
        let before = nodes.get(..i).unwrap_or(&[]);
        let pid = node.pid;
        let (group_gone, session_gone) = node.task.leaders_gone()?;
        let session_ok = node.sid == pid
            || before.iter().any(|e| e.sid == node.sid)
            || (node.sid > 0 && session_gone);
        if !session_ok {
            failure.set(format_args!(
                "process {pid} is in session {}, whose leader runs outside the tree or is saved after it, which cannot be saved yet",
                node.sid
            ));
            return Err(eopnotsupp());
        }
        let group_ok = node.pgid == pid
            || before.iter().any(|e| e.pgid == node.pgid)
            || (node.pgid > 0 && group_gone);
        if !group_ok {
            failure.set(format_args!(
                "process {pid} is in process group {}, whose leader runs outside the tree or is saved after it, which cannot be saved yet",
                node.pgid
            ));
            return Err(eopnotsupp());
        }
    }
    Ok(())
}

/// How a restart ends for the processes it created: they wait until the
/// root opens the gate (the whole tree is restored) or fails it.
#[pin_data]
pub struct Gate {
    #[pin]
    state: Mutex<GateState>,
    #[pin]
    changed: CondVar,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum GateState {
    Closed,
    Open,
    Failed,
}

impl Gate {
    /// A closed gate.
    pub fn new() -> Result<Arc<Gate>> {
        Arc::pin_init(
            pin_init!(Gate {
                state <- new_mutex!(GateState::Closed),
                changed <- new_condvar!(),
            }),
            GFP_KERNEL,
        )
    }

    fn settle(&self, state: GateState) {
        *self.state.lock() = state;
        self.changed.notify_all();
    }

    /// The whole tree is restored: its processes may run.
    pub fn open(&self) {
        self.settle(GateState::Open);
    }

    /// The restart failed: its processes are to die.
    pub fn fail(&self) {
        self.settle(GateState::Failed);
    }

    /// Waits until the gate is opened or failed; whether it was opened.
    /// The wait cannot be interrupted: the root settles the gate on every
    /// path out of its restart.
    pub fn pass(&self) -> bool {
        let mut state = self.state.lock();
        while *state == GateState::Closed {
            self.changed.wait(&mut state);
        }
        *state == GateState::Open
    }
}

/// What follows the pages of a process in an image.
#[derive(Clone, Copy)]
pub enum Next {
    /// Its children, this many of them.
    Children(u32),
    /// Another process (a sibling, or an ancestor's sibling).
    Task(TaskRecord),
    /// A zombie (a sibling, or an ancestor's sibling).
    Zombie(ZombieRecord),
    /// The end of the image.
    Tail,
}

impl Next {
    /// What `item` is as the item that follows a process, if it is one.
    pub fn of(item: &Item<'_>) -> Option<Next> {
        match *item {
            Item::Children { count } => Some(Next::Children(count)),
            Item::Task(t) => Some(Next::Task(t)),
            Item::Zombie(z) => Some(Next::Zombie(z)),
            Item::Tail => Some(Next::Tail),
            _ => None,
        }
    }
}

/// The side of a restart that creates a process's children, seen by the
/// children as they restore themselves.
pub trait RestoreChild {
    /// In a child just created for `task`: becomes the saved process (and
    /// creates its own children).  Returns the gate to pass before
    /// running, and what the child's interrupted system call returns.
    fn restore_child(&mut self, task: TaskRecord) -> Result<(Arc<Gate>, i64)>;

    /// In a child just created for `zombie`: takes the zombie's place,
    /// name and real user id.  Returns the status to exit with.
    fn restore_zombie(&mut self, zombie: &ZombieRecord) -> Result<u32>;
}

/// A child being created: what its task work restores it from.
pub struct ChildJob<'a> {
    tree: &'a mut dyn RestoreChild,
    task: TaskRecord,
}

/// Creates the child `task` of the calling process, which restores itself
/// through `tree` before this returns; it gets its saved pid if
/// `saved_pid`.
pub fn create_child(tree: &mut dyn RestoreChild, task: TaskRecord, saved_pid: bool) -> Result {
    let pid = if saved_pid { task.pid } else { 0 };
    let exit_signal = task.exit_signal;
    let mut job = ChildJob { tree, task };
    let state: *mut ChildJob<'_> = &mut job;
    // SAFETY: `state` points to `job`, which lives until this returns;
    // the helper returns only once the child is done with it, and nothing
    // else uses `job` or the tree it borrows meanwhile.
    kernel::error::to_result(unsafe {
        bindings::ckpt_restart_process(state.cast(), pid, exit_signal)
    })
}

/// In a child created by [`create_child`], before it first returns to
/// user space: restores it from `job`, leaving in its registers what its
/// interrupted system call returns; returns the gate to pass.
pub fn restore_current(job: &mut ChildJob<'_>) -> Result<Arc<Gate>> {
    let (gate, ret) = job.tree.restore_child(job.task)?;
    arch::set_return_value(ret);
    Ok(gate)
}

/// Where a saved process stood: its pid, process group and session.
#[derive(Clone, Copy)]
pub struct Place {
    /// Its pid.
    pub pid: i32,
    /// Its process group.
    pub pgid: i32,
    /// Its session.
    pub sid: i32,
}

impl Place {
    /// Where the process of `task` stood.
    pub fn of_task(task: &TaskRecord) -> Self {
        Place {
            pid: task.pid,
            pgid: task.pgid,
            sid: task.sid,
        }
    }

    /// Where `zombie` stood.
    pub fn of_zombie(zombie: &ZombieRecord) -> Self {
        Place {
            pid: zombie.pid,
            pgid: zombie.pgid,
            sid: zombie.sid,
        }
    }

    /// Whether it led its session.
    pub fn leads_session(&self) -> bool {
        self.pid > 0 && self.sid == self.pid
    }

    /// Whether it led its process group.
    pub fn leads_group(&self) -> bool {
        self.pid > 0 && self.pgid == self.pid
    }
}

/// A zombie being created: what its task work restores it from.
pub struct ZombieJob<'a> {
    tree: &'a mut dyn RestoreChild,
    zombie: ZombieRecord,
}

/// Creates the zombie child `zombie` of the calling process, which takes
/// its place through `tree` and exits with its status before this
/// returns; it gets its saved pid if `saved_pid`.  No signal reaches the
/// caller.
pub fn create_zombie(tree: &mut dyn RestoreChild, zombie: ZombieRecord, saved_pid: bool) -> Result {
    let pid = if saved_pid { zombie.pid } else { 0 };
    let exit_signal = zombie.exit_signal;
    let mut job = ZombieJob { tree, zombie };
    let state: *mut ZombieJob<'_> = &mut job;
    // SAFETY: as in `create_child`: the helper returns only once the
    // child is done with `job`, which lives until then.
    kernel::error::to_result(unsafe {
        bindings::ckpt_restart_zombie(state.cast(), pid, exit_signal)
    })
}

/// In a child created by [`create_zombie`], before it first returns to
/// user space: takes the zombie's place; returns the status it exits
/// with.
pub fn restore_zombie_current(job: &mut ZombieJob<'_>) -> Result<u32> {
    job.tree.restore_zombie(&job.zombie)
}

/// Where the processes of a tree being restored stand: the process
/// groups and sessions restored so far, by saved id.
///
/// Each restored process records its own group and session, so a later
/// process saved in one of them joins it (a process joins the restored
/// root's too, which with `RESTART_CHILD` or in place is the caller's or a
/// new one).  A group or session found nowhere had lost its leader: the
/// first of its members makes it anew around a vacant pid, with the saved
/// id when the processes keep theirs.
pub struct Places {
    groups: KVec<(i32, PlacePid)>,
    sessions: KVec<(i32, PlacePid)>,
    /// The saved pids of the processes restored so far.
    restored: KVec<i32>,
    /// The saved ids given to vacant pids.
    vacant: KVec<i32>,
    /// Vacant pids get their saved ids.
    saved_pids: bool,
}

impl Places {
    /// No place yet; vacant pids get their saved ids if `saved_pids`.
    pub fn new(saved_pids: bool) -> Self {
        Places {
            groups: KVec::new(),
            sessions: KVec::new(),
            restored: KVec::new(),
            vacant: KVec::new(),
            saved_pids,
        }
    }

    /// Records where the calling process, saved at `place`, now stands.
    /// A group or session it leads replaces an entry of the same id (the
    /// root's, which may have been left for the caller's).
    pub fn record(&mut self, place: &Place) -> Result {
        let (group, session) = PlacePid::current()?;
        remember(&mut self.groups, place.pgid, group, place.leads_group())?;
        remember(
            &mut self.sessions,
            place.sid,
            session,
            place.leads_session(),
        )?;
        self.restored.push(place.pid, GFP_KERNEL)?;
        Ok(())
    }

    /// In a child just created for the process saved at `place`, before
    /// its own children inherit it: takes that place, and records it.
    /// `EINVAL` for a place no checkpoint writes.
    pub fn take(&mut self, place: &Place) -> Result {
        // A vacant pid took this id: the image named a group or session
        // after a process saved later.
        if self.vacant.contains(&place.pid) {
            return Err(EINVAL);
        }
        if place.leads_session() {
            // setsid() makes it lead its group too, as it did.
            if !place.leads_group() {
                return Err(EINVAL);
            }
            task::take_saved_place(true, true)?;
        } else {
            // Vacant pids first: the lookups below borrow the maps.
            let new_session = find(&self.sessions, place.sid)
                .is_none()
                .then(|| self.vacant_pid(place.sid))
                .transpose()?;
            // The group its session's leader led, met for the first time:
            // the session's pid is its id too (a vacant one if the leader
            // had gone, whichever member came first).
            let group_unknown = !place.leads_group() && find(&self.groups, place.pgid).is_none();
            let group_is_session = group_unknown && place.pgid == place.sid;
            let new_group = (group_unknown && !group_is_session)
                .then(|| self.vacant_pid(place.pgid))
                .transpose()?;
            let session = new_session
                .as_ref()
                .or_else(|| find(&self.sessions, place.sid))
                .ok_or(EINVAL)?;
            let group = if place.leads_group() {
                None
            } else if group_is_session {
                Some(session)
            } else {
                let group = new_group
                    .as_ref()
                    .or_else(|| find(&self.groups, place.pgid))
                    .ok_or(EINVAL)?;
                Some(group)
            };
            task::set_place(group, session)?;
        }
        self.record(place)
    }

    /// A vacant pid for the group or session saved as `id`, whose leader
    /// had gone.
    fn vacant_pid(&mut self, id: i32) -> Result<PlacePid> {
        // Not the id of a process restored before, which leads no such
        // group or session, nor of another vacant pid, nor a leader
        // outside the namespace (0).
        if id <= 0 || self.restored.contains(&id) || self.vacant.contains(&id) {
            return Err(EINVAL);
        }
        let pid = PlacePid::vacant(if self.saved_pids { id } else { 0 })?;
        self.vacant.push(id, GFP_KERNEL)?;
        Ok(pid)
    }
}

/// The pid restored for the saved id `id` among `entries`.
fn find(entries: &[(i32, PlacePid)], id: i32) -> Option<&PlacePid> {
    entries
        .iter()
        .find(|(saved, _)| *saved == id)
        .map(|(_, pid)| pid)
}

/// Adds (`id`, `pid`) to `entries`; replaces an entry of the same id if
/// `leads`.
fn remember(entries: &mut KVec<(i32, PlacePid)>, id: i32, pid: PlacePid, leads: bool) -> Result {
    match entries.iter_mut().find(|(saved, _)| *saved == id) {
        Some(entry) if leads => entry.1 = pid,
        Some(_) => {}
        None => entries.push((id, pid), GFP_KERNEL)?,
    }
    Ok(())
}
