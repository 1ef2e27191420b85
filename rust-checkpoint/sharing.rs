// SPDX-License-Identifier: GPL-2.0

//! Fd tables and fs contexts shared between the processes of a tree, as
//! `clone(CLONE_FILES)` and `clone(CLONE_FS)` without `CLONE_THREAD`
//! leave them.
//!
//! # Checkpoint
//!
//! Each process's table and fs context are known by their addresses
//! (`ckpt_task_sharing`, which also counts their users).  The first
//! process of the image that uses one saves it; a later one records the
//! number of that process instead ([`FilesTableRecord::shared_with`],
//! [`FsRecord::shared_with`]).  Every user must be a thread of a process
//! of the tree: the users the tree accounts for must be all there are,
//! or the checkpoint fails with `EOPNOTSUPP` and an error record naming
//! the process, because a restart could not share the table with a
//! process outside the tree again.
//!
//! # Restart
//!
//! Each restored process registers its table and fs context
//! ([`SharedTables`]) once it has dropped the caller's; a later process
//! that shares one takes it in place of its own (`ckpt_share_files`,
//! `ckpt_share_fs`) before it creates its threads or children, and
//! neither installs descriptors nor sets a working directory: the process
//! that owns the table does, before the tree runs.
//!
//! [`FilesTableRecord::shared_with`]: crate::format::FilesTableRecord
//! [`FsRecord::shared_with`]: crate::format::FsRecord

use crate::error::{eopnotsupp, Failure};
use crate::task::TaskRef;
use crate::tree::Node;
use core::ptr::NonNull;
use kernel::alloc::{flags::GFP_KERNEL, KVec};
use kernel::bindings;
use kernel::error::{code::*, Result};

/// What a process of a tree being saved shares: the numbers (from 1, in
/// image order) of the earlier processes whose fd table and fs context it
/// uses, 0 for its own.
#[derive(Clone, Copy, Default)]
pub struct Shares {
    /// The process whose fd table it uses.
    pub files_with: u32,
    /// The process whose fs context it uses.
    pub fs_with: u32,
}

/// The fd table and fs context of `task`'s process, with their users.
fn sharing_of(task: &TaskRef) -> bindings::ckpt_sharing {
    let mut s = bindings::ckpt_sharing::default();
    // SAFETY: the task is alive (we hold a reference) and stopped or the
    // caller; `s` is writable.
    unsafe { bindings::ckpt_task_sharing(task.as_ptr(), &mut s) };
    s
}

/// One process's use of a shared object: the object's identity (0 for
/// none), all its users, and how many of them are the process's threads.
#[derive(Clone, Copy)]
struct Use {
    id: u64,
    users: u32,
    own: u32,
}

impl Use {
    /// Whether no other process uses the object (or there is none): its
    /// users are all the process's threads.  The lists below are scanned
    /// only for the others, so a tree that shares nothing costs one pass.
    fn alone(&self) -> bool {
        self.id == 0 || self.users == self.own
    }
}

/// For each of `uses` (one per process, in image order), the number
/// (from 1) of the first process that uses the same object, if that is
/// an earlier one; 0 otherwise.
fn first_users(uses: &[Use]) -> Result<KVec<u32>> {
    let mut firsts = KVec::with_capacity(uses.len(), GFP_KERNEL)?;
    for (i, u) in uses.iter().enumerate() {
        let first = if u.alone() {
            None
        } else {
            uses.iter().take(i).position(|e| e.id == u.id)
        };
        let number = first.map_or(Ok(0), |j| u32::try_from(j + 1).map_err(|_| EINVAL))?;
        firsts.push(number, GFP_KERNEL)?;
    }
    Ok(firsts)
}

/// The first process of `uses` whose object has users that no process
/// of the tree accounts for (other than the processes' own threads).
fn used_outside(uses: &[Use]) -> Option<usize> {
    uses.iter().position(|u| {
        !u.alone()
            && uses
                .iter()
                .filter(|e| e.id == u.id)
                .fold(0u32, |sum, e| sum.saturating_add(e.own))
                != u.users
    })
}

/// What each process of `nodes` shares with the ones before it (zombies
/// share nothing).  `EOPNOTSUPP`, the reason in `failure`, if a table or
/// fs context is also used outside the tree.
pub fn plan(nodes: &[Node], failure: &mut Failure) -> Result<KVec<Shares>> {
    let mut files = KVec::with_capacity(nodes.len(), GFP_KERNEL)?;
    let mut fs = KVec::with_capacity(nodes.len(), GFP_KERNEL)?;
    for node in nodes {
        let s = match node.zombie {
            Some(_) => bindings::ckpt_sharing::default(),
            None => sharing_of(node.process()),
        };
        let (f, c) = (
            Use {
                id: s.files,
                users: s.files_users,
                own: s.files_group,
            },
            Use {
                id: s.fs,
                users: s.fs_users,
                own: s.fs_group,
            },
        );
        files.push(f, GFP_KERNEL)?;
        fs.push(c, GFP_KERNEL)?;
    }
    let pid_of = |i: usize| nodes.get(i).map_or(0, |n| n.pid);
    if let Some(pid) = used_outside(&files).map(pid_of) {
        failure.set(format_args!(
            "process {pid} shares its descriptor table with a process outside the tree, which cannot be saved"
        ));
        return Err(eopnotsupp());
    }
    if let Some(pid) = used_outside(&fs).map(pid_of) {
        failure.set(format_args!(
            "process {pid} shares its working directory (CLONE_FS) with a process outside the tree, which cannot be saved"
        ));
        return Err(eopnotsupp());
    }
    let files_with = first_users(&files)?;
    let fs_with = first_users(&fs)?;
    let mut plan = KVec::with_capacity(nodes.len(), GFP_KERNEL)?;
    for (&files_with, &fs_with) in files_with.iter().zip(fs_with.iter()) {
        plan.push(
            Shares {
                files_with,
                fs_with,
            },
            GFP_KERNEL,
        )?;
    }
    Ok(plan)
}

/// A counted reference to a `struct files_struct`.
///
/// # Invariants
///
/// `ptr` points to an fd table on which this object owns one reference.
pub struct FilesRef {
    ptr: NonNull<bindings::files_struct>,
}

impl FilesRef {
    /// The calling task's fd table.
    fn current() -> Result<Self> {
        // SAFETY: no preconditions; returns a counted reference to the
        // caller's table, which a task in a system call always has.
        let ptr = NonNull::new(unsafe { bindings::ckpt_get_current_files() }).ok_or(EINVAL)?;
        // INVARIANT: the helper took the reference for us.
        Ok(FilesRef { ptr })
    }
}

impl Drop for FilesRef {
    fn drop(&mut self) {
        // SAFETY: we own one reference (type invariant), given up here.
        unsafe { bindings::ckpt_put_files(self.ptr.as_ptr()) };
    }
}

/// A counted reference to a `struct fs_struct` (one of its users).
///
/// # Invariants
///
/// `ptr` points to an fs context of which this object is one user.
pub struct FsRef {
    ptr: NonNull<bindings::fs_struct>,
}

impl FsRef {
    /// The calling task's fs context.
    fn current() -> Result<Self> {
        // SAFETY: no preconditions; counts a user of the caller's fs
        // context, which a task in a system call always has.
        let ptr = NonNull::new(unsafe { bindings::ckpt_get_current_fs() }).ok_or(EINVAL)?;
        // INVARIANT: the helper counted us as a user.
        Ok(FsRef { ptr })
    }
}

impl Drop for FsRef {
    fn drop(&mut self) {
        // SAFETY: we are one user (type invariant), given up here.
        unsafe { bindings::ckpt_put_fs(self.ptr.as_ptr()) };
    }
}

impl Default for SharedTables {
    fn default() -> Self {
        Self::new()
    }
}

/// The fd tables and fs contexts of the processes of a tree being
/// restored, by process number; `None` for a zombie.
pub struct SharedTables {
    tables: KVec<Option<(FilesRef, FsRef)>>,
}

impl SharedTables {
    /// No process yet.
    pub fn new() -> Self {
        SharedTables {
            tables: KVec::new(),
        }
    }

    /// Records that the next process of the image is a zombie.
    pub fn add_zombie(&mut self) -> Result {
        self.tables.push(None, GFP_KERNEL)?;
        Ok(())
    }

    /// In the calling process, the next of the image, once it has
    /// dropped the caller's table and fs context: takes the table of
    /// process number `files_with` and the fs context of `fs_with` (0:
    /// keeps its own), and records what it then uses for the processes
    /// after it.  `EINVAL` for a number that names no restored process.
    pub fn join(&mut self, files_with: u32, fs_with: u32) -> Result {
        let table = |n: u32| -> Result<&(FilesRef, FsRef)> {
            let index = usize::try_from(n).map_err(|_| EINVAL)?;
            let entry = index.checked_sub(1).and_then(|i| self.tables.get(i));
            entry.and_then(Option::as_ref).ok_or(EINVAL)
        };
        if files_with != 0 {
            let files = table(files_with)?.0.ptr;
            // SAFETY: `files` is alive (our reference holds it); the
            // caller is a restored process with no other thread yet.
            unsafe { bindings::ckpt_share_files(files.as_ptr()) };
        }
        if fs_with != 0 {
            let fs = table(fs_with)?.1.ptr;
            // SAFETY: `fs` is alive (our reference counts as a user); the
            // caller is a restored process with no other thread yet.
            unsafe { bindings::ckpt_share_fs(fs.as_ptr()) };
        }
        let own = (FilesRef::current()?, FsRef::current()?);
        self.tables.push(Some(own), GFP_KERNEL)?;
        Ok(())
    }
}
