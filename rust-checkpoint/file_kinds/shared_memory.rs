// SPDX-License-Identifier: GPL-2.0

//! Shared anonymous memory (`MAP_SHARED | MAP_ANONYMOUS`, or a shared
//! mapping of `/dev/zero`).
//!
//! The kernel keeps such memory in an unnamed shmem file that only the
//! memory areas hold; areas split from one mapping, or mapped again by
//! `mremap`, share it.  It is saved once, as a file object with its size
//! and its contents (holes left out), however many areas map it, and the
//! areas refer to it.  Restart creates a new such object of that size,
//! charged to the caller as shared anonymous memory is, writes the
//! contents and maps it into every area again (see `mm.rs`).
//!
//! Memory shared with another process (a child after `fork`) is refused
//! by `mm.rs`, which sees the other mappings; a restarted copy would no
//! longer be shared.

use super::deleted::{check_contents, reopen_inode, UnlinkedFile, Unnamed};
use super::{OpenFileKind, SaveContext, SavedFile};
use crate::error::eopnotsupp;
use crate::file::FileRef;
use crate::format::{FileKind, FileObjectRecord, MAX_SHARED_MEMORY_SIZE};
use kernel::alloc::KVec;
use kernel::bindings;
use kernel::error::Result;

/// The objects behind shared anonymous memory.
pub(super) struct SharedMemory;

impl OpenFileKind for SharedMemory {
    fn kind(&self) -> FileKind {
        FileKind::SharedMemory
    }

    fn claims(&self, file: &FileRef) -> bool {
        // SAFETY: the file is alive (type invariant of `FileRef`).
        unsafe { bindings::ckpt_is_shared_anon(file.as_ptr()) }
    }

    fn save(
        &self,
        file: &FileRef,
        rec: &mut FileObjectRecord,
        cx: &mut SaveContext<'_>,
        what: core::fmt::Arguments<'_>,
    ) -> Result<SavedFile> {
        let size = check_contents(file, cx, what, "shared memory", MAX_SHARED_MEMORY_SIZE)?;
        if size == 0 || size % bindings::PAGE_SIZE as u64 != 0 {
            // Only a resize through /proc/PID/map_files gives this.
            cx.failure.set(format_args!(
                "{what}: shared memory of {size} bytes, not whole pages"
            ));
            return Err(eopnotsupp());
        }
        // Its own reader, whose position the hole search may move.
        let reader = reopen_inode(file, bindings::O_RDONLY | bindings::O_LARGEFILE)?;
        // Restart makes it read-write, as the kernel does.
        rec.flags = bindings::O_RDWR;
        Ok(SavedFile::Contents(UnlinkedFile {
            of: Unnamed::SharedMemory,
            dir_or_name: KVec::new(),
            size,
            mode: 0,
            reader,
        }))
    }
}
