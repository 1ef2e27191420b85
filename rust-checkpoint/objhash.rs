// SPDX-License-Identifier: GPL-2.0

//! The shared-object table of one checkpoint or restart ("objhash").
//!
//! An object that several parts of a task (or several tasks) share, such
//! as an open file referred to by two descriptors and a mapping, is saved
//! once.  At checkpoint the table maps the object's address to the object
//! reference it was given on first sight (1, 2, 3, ... in image order); at
//! restart it maps each reference back to the object re-created for it.
//! Either way the table holds a reference on every object it stores until
//! the operation ends, so an address cannot be reused for another object
//! while the table still knows it.

use crate::file::FileRef;
use crate::file_kinds::{RestoredPipes, RestoredSegments};
use kernel::alloc::{flags::GFP_KERNEL, KVec};
use kernel::error::{code::*, Result};
use kernel::rbtree::RBTree;

/// Kinds of shared objects.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub enum ObjKind {
    /// An open file (`struct file`).
    File = 1,
    /// A pipe (`struct pipe_inode_info`), numbered in a sequence of its
    /// own.
    Pipe = 2,
    /// The inode of an unlinked file whose contents were saved.
    DeletedInode = 3,
    /// A SysV shared memory segment, numbered in a sequence of its own.
    ShmSegment = 4,
    /// A pseudo-terminal pair whose master the task's fd table holds.
    PtyPair = 5,
}

/// A shared object and the reference the table holds on it.
pub enum Object {
    /// An open file.
    File(FileRef),
}

impl Object {
    fn kind(&self) -> ObjKind {
        match self {
            Object::File(_) => ObjKind::File,
        }
    }
}

/// Objects met during one checkpoint.
pub struct CheckpointObjects {
    /// (kind, object address) to object reference.
    by_address: RBTree<(ObjKind, usize), u32>,
    /// The objects, object reference `n` at index `n - 1`.
    objects: KVec<Object>,
    /// Pipes numbered so far.
    pipes: u32,
    /// SysV segments numbered so far.
    segments: u32,
}

impl CheckpointObjects {
    /// An empty table.
    pub fn new() -> Self {
        CheckpointObjects {
            by_address: RBTree::new(),
            objects: KVec::new(),
            pipes: 0,
            segments: 0,
        }
    }

    /// Number of objects stored.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// The object reference of `file`, if it was saved already.
    pub fn saved_file(&self, file: &FileRef) -> Option<u32> {
        self.by_address
            .get(&(ObjKind::File, file.as_ptr() as usize))
            .copied()
    }

    /// Looks `file` up: returns its object reference, and whether this is
    /// the first sight (then the caller saves the object, and the table
    /// keeps a reference to it).
    pub fn file(&mut self, file: &FileRef) -> Result<(u32, bool)> {
        let key = (ObjKind::File, file.as_ptr() as usize);
        if let Some(&objref) = self.by_address.get(&key) {
            return Ok((objref, false));
        }
        let objref = u32::try_from(self.objects.len() + 1).map_err(|_| ENOMEM)?;
        // SAFETY: `file` is alive (the caller's `FileRef` holds it).
        let held = unsafe { FileRef::from_raw_get(file.as_non_null()) };
        self.objects.push(Object::File(held), GFP_KERNEL)?;
        self.by_address
            .try_create_and_insert(key, objref, GFP_KERNEL)
            .map_err(|_| ENOMEM)?;
        Ok((objref, true))
    }
}

impl CheckpointObjects {
    /// Looks up the pipe at `address`: returns its number, and whether
    /// this is the first sight (then the caller saves it).  The table
    /// holds no reference on the pipe itself: the file through which it
    /// was first seen, which the table holds, keeps it alive.
    pub fn pipe(&mut self, address: usize) -> Result<(u32, bool)> {
        numbered(
            &mut self.by_address,
            (ObjKind::Pipe, address),
            &mut self.pipes,
        )
    }
}

impl CheckpointObjects {
    /// Looks up the SysV segment whose memory is the file at `address`:
    /// returns its number, and whether this is the first sight (then the
    /// caller saves it).  Like pipes, it is kept alive by the attach the
    /// table holds.
    pub fn segment(&mut self, address: usize) -> Result<(u32, bool)> {
        numbered(
            &mut self.by_address,
            (ObjKind::ShmSegment, address),
            &mut self.segments,
        )
    }
}

impl CheckpointObjects {
    /// Records the inode at `address` of an unlinked file being saved;
    /// `false` if one of its open files was saved already.  Like pipes,
    /// the inode is kept alive by the file the table holds.
    pub fn deleted_inode(&mut self, address: usize) -> Result<bool> {
        let key = (ObjKind::DeletedInode, address);
        if self.by_address.get(&key).is_some() {
            return Ok(false);
        }
        self.by_address
            .try_create_and_insert(key, 0, GFP_KERNEL)
            .map_err(|_| ENOMEM)?;
        Ok(true)
    }
}

impl CheckpointObjects {
    /// Records that the fd table being saved holds the master of the
    /// pseudo-terminal pair at `address` (kept alive by that master).
    pub fn hold_pty_pair(&mut self, address: usize) -> Result {
        let key = (ObjKind::PtyPair, address);
        if self.by_address.get(&key).is_none() {
            self.by_address
                .try_create_and_insert(key, 0, GFP_KERNEL)
                .map_err(|_| ENOMEM)?;
        }
        Ok(())
    }

    /// Whether [`Self::hold_pty_pair`] recorded the pair at `address`.
    pub fn holds_pty_pair(&self, address: usize) -> bool {
        self.by_address.get(&(ObjKind::PtyPair, address)).is_some()
    }
}

/// Looks up `key` among objects numbered in a sequence of their own,
/// whose last number is `last`: returns its number, and whether this is
/// the first sight (then it gets the next number).
fn numbered(
    by_address: &mut RBTree<(ObjKind, usize), u32>,
    key: (ObjKind, usize),
    last: &mut u32,
) -> Result<(u32, bool)> {
    if let Some(&number) = by_address.get(&key) {
        return Ok((number, false));
    }
    let number = last.checked_add(1).ok_or(ENOMEM)?;
    by_address
        .try_create_and_insert(key, number, GFP_KERNEL)
        .map_err(|_| ENOMEM)?;
    *last = number;
    Ok((number, true))
}

impl Default for CheckpointObjects {
    fn default() -> Self {
        Self::new()
    }
}

/// Objects re-created during one restart.
pub struct RestartObjects {
    /// Object reference `n` at index `n - 1`.
    objects: KVec<Object>,
    /// The pipes, in a sequence of their own.
    pub pipes: RestoredPipes,
    /// The SysV segments, in a sequence of their own.
    pub segments: RestoredSegments,
}

impl RestartObjects {
    /// An empty table.
    pub fn new() -> Self {
        RestartObjects {
            objects: KVec::new(),
            pipes: RestoredPipes::default(),
            segments: RestoredSegments::default(),
        }
    }

    /// Stores the object re-created for `objref`, which must be the next
    /// reference (the image defines them in order); `EINVAL` otherwise.
    pub fn insert(&mut self, objref: u32, object: Object) -> Result {
        if objref as usize != self.objects.len() + 1 {
            return Err(EINVAL);
        }
        self.objects.push(object, GFP_KERNEL)?;
        Ok(())
    }

    /// The object for `objref`, which must be of kind `kind`; `EINVAL` for
    /// an unknown reference or another kind.
    pub fn get(&self, objref: u32, kind: ObjKind) -> Result<&Object> {
        let index = (objref as usize).checked_sub(1).ok_or(EINVAL)?;
        let object = self.objects.get(index).ok_or(EINVAL)?;
        if object.kind() != kind {
            return Err(EINVAL);
        }
        Ok(object)
    }

    /// The file for `objref`; `EINVAL` if there is none.
    pub fn file(&self, objref: u32) -> Result<&FileRef> {
        match self.get(objref, ObjKind::File)? {
            Object::File(f) => Ok(f),
        }
    }
}

impl Default for RestartObjects {
    fn default() -> Self {
        Self::new()
    }
}

/// KUnit cases of the objhash, on real files of the booted kernel (the
/// root directory, opened twice: two distinct open files).
#[cfg(CONFIG_KUNIT)]
pub mod tests {
    use super::*;
    use crate::format::testing::{check, check_eq, Check};
    use kernel::bindings;

    fn open_root() -> Option<FileRef> {
        FileRef::open(b"/\0", bindings::O_RDONLY | bindings::O_DIRECTORY).ok()
    }

    fn count(file: &FileRef) -> i64 {
        // SAFETY: `file` is alive while the `FileRef` is.
        unsafe { bindings::file_count(file.as_ptr()) as i64 }
    }

    /// The same file gets one reference; another file the next one.
    pub fn checkpoint_dedup(t: &mut dyn Check, _scratch: &mut [u8]) {
        let (Some(a), Some(b)) = (open_root(), open_root()) else {
            t.fail(file!(), line!(), format_args!("cannot open /"));
            return;
        };
        let mut table = CheckpointObjects::new();
        check_eq!(t, table.file(&a).ok(), Some((1, true)));
        check_eq!(t, table.file(&a).ok(), Some((1, false)));
        check_eq!(t, table.file(&b).ok(), Some((2, true)));
        check_eq!(t, table.file(&a).ok(), Some((1, false)));
        check_eq!(t, table.len(), 2);
    }

    /// The checkpoint table holds one reference per object until dropped.
    pub fn checkpoint_references(t: &mut dyn Check, _scratch: &mut [u8]) {
        let Some(a) = open_root() else {
            t.fail(file!(), line!(), format_args!("cannot open /"));
            return;
        };
        let before = count(&a);
        let mut table = CheckpointObjects::new();
        check!(t, table.file(&a).is_ok());
        check!(t, table.file(&a).is_ok());
        check_eq!(t, count(&a), before + 1);
        drop(table);
        check_eq!(t, count(&a), before);
    }

    /// References map back to their objects; unknown or out-of-order ones
    /// are `EINVAL`; the table's references go with it.
    pub fn restart_lookup(t: &mut dyn Check, _scratch: &mut [u8]) {
        let (Some(a), Some(b)) = (open_root(), open_root()) else {
            t.fail(file!(), line!(), format_args!("cannot open /"));
            return;
        };
        let (a_ptr, before) = (a.as_ptr(), count(&a));
        // SAFETY: `a` is alive.
        let held = unsafe { FileRef::from_raw_get(a.as_non_null()) };
        let mut table = RestartObjects::new();
        check!(t, table.insert(1, Object::File(held)).is_ok());
        check_eq!(t, count(&a), before + 1);
        // SAFETY: `b` is alive.
        let held_b = unsafe { FileRef::from_raw_get(b.as_non_null()) };
        // Reference 3 before 2: out of order.
        check_eq!(t, table.insert(3, Object::File(held_b)), Err(EINVAL));
        check_eq!(t, table.file(1).map(|f| f.as_ptr()).ok(), Some(a_ptr));
        check_eq!(t, table.file(0).err(), Some(EINVAL));
        check_eq!(t, table.file(2).err(), Some(EINVAL));
        check_eq!(t, table.get(1, ObjKind::File).is_ok(), true);
        drop(table);
        check_eq!(t, count(&a), before);
    }
}

/// Calls `$m!(suite_name, [(case_name, case_fn), ...])` with the cases.
#[macro_export]
macro_rules! objhash_cases {
    ($m:ident) => {
        $m!(
            checkpoint_objhash,
            [
                (checkpoint_dedup, $crate::objhash::tests::checkpoint_dedup),
                (
                    checkpoint_references,
                    $crate::objhash::tests::checkpoint_references
                ),
                (restart_lookup, $crate::objhash::tests::restart_lookup),
            ]
        );
    };
}
