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
use kernel::alloc::{flags::GFP_KERNEL, KVec};
use kernel::error::{code::*, Result};
use kernel::rbtree::RBTree;

/// Kinds of shared objects.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub enum ObjKind {
    /// An open file (`struct file`).
    File = 1,
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
}

impl CheckpointObjects {
    /// An empty table.
    pub fn new() -> Self {
        CheckpointObjects {
            by_address: RBTree::new(),
            objects: KVec::new(),
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

impl Default for CheckpointObjects {
    fn default() -> Self {
        Self::new()
    }
}

/// Objects re-created during one restart.
pub struct RestartObjects {
    /// Object reference `n` at index `n - 1`.
    objects: KVec<Object>,
}

impl RestartObjects {
    /// An empty table.
    pub fn new() -> Self {
        RestartObjects {
            objects: KVec::new(),
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
