// SPDX-License-Identifier: GPL-2.0

//! Kinds of open files: one module per kind, each with its checkpoint and
//! its restart side, behind [`OpenFileKind`].
//!
//! The fd table and the memory areas (`files.rs`, `mm.rs`) save and
//! reopen every file through [`kind_of`] and [`by_number`] and know
//! nothing of the kinds.  A new kind is a module here, a [`FileKind`]
//! number in the format, and one line in [`KINDS`].
//!
//! A kind whose files share an object of their own (the pipe behind the
//! two ends of a pipe) saves that object once, through the objhash and
//! an [`ObjectWriter`], before the first file object that uses it; at
//! restart it re-creates the object from that record and joins later
//! files to it through the restart's objhash.  A kind whose files refer
//! to other files (an epoll set and the files it watches) saves those
//! first, through [`SaveContext::save_file`], so that its record names
//! them by references defined before it.

use crate::error::{eopnotsupp, Failure};
use crate::file::FileRef;
use crate::files::OpenFd;
use crate::format::{
    EpollWatch, FileKind, FileObjectRecord, FileStateRecord, PtyPairRecord, PtyQueueRecord,
    ShmSegmentRecord, TtyRecord, STATE_FILE_FLAGS,
};
use crate::objhash::{CheckpointObjects, RestartObjects};
use kernel::alloc::{KBox, KVVec, KVec};
use kernel::bindings;
use kernel::error::{code::EINVAL, Result};

mod chardev;
mod deleted;
mod epoll;
mod eventfd;
mod inotify;
mod memfd;
mod pipe;
mod pty;
mod regular;
mod shared_memory;
mod signalfd;
mod sysv_shm;
mod timerfd;
mod tty;

pub use deleted::{UnlinkedCopy, UnlinkedFile, Unnamed};
pub use inotify::InotifyWatches;
pub use pipe::RestoredPipes;
pub use pty::SavedPair;
pub use sysv_shm::RestoredSegments;

/// How a saved file object is opened again.
pub enum SavedFile {
    /// By its path, written after the file object.
    ByPath,
    /// From its state, written after the file object in place of a path.
    ByState(FileStateRecord),
    /// By joining the pipe its object names (defined before it); nothing
    /// follows the file object.
    PipeEnd,
    /// By opening the slave of the pseudo-terminal master its object
    /// names (defined before it); nothing follows the file object.
    PtySlave,
    /// As a new pseudo-terminal pair, through the `ptmx` device of its
    /// path, written after the file object with the pair.
    PtyMaster(KBox<SavedPair>),
    /// By attaching the SysV segment its object names (defined before
    /// it); nothing follows the file object.
    ShmAttach,
    /// By its path, then given these terminal settings, written after
    /// the path.
    Terminal(TtyRecord),
    /// As a new epoll set with these watches, of files saved before it.
    EpollSet(KVec<EpollWatch>),
    /// As a new inotify instance with these watches.
    Inotify(InotifyWatches),
    /// As a new unnamed file in the directory it was unlinked from, a
    /// new memfd or new shared anonymous memory, with its contents,
    /// written after the file object.
    Contents(UnlinkedFile),
}

/// Writes the records a file object depends on, before it: objects files
/// share, and other files.  (A trait object, so that kinds need not know
/// the image's sink.)
pub trait ObjectWriter {
    /// Writes pipe number `pipe` of `size` bytes holding `data`.
    fn write_pipe(&mut self, pipe: u32, size: u32, data: &[u8]) -> Result;

    /// Writes the SysV segment `segment` with its `contents`.
    fn write_shm_segment(&mut self, segment: &ShmSegmentRecord, contents: &UnlinkedFile) -> Result;

    /// Saves `file` if it was not saved yet (as `files::save_file`), and
    /// returns its object reference; `what` names it in an error record.
    fn save_file(
        &mut self,
        objects: &mut CheckpointObjects,
        failure: &mut Failure,
        file: &FileRef,
        what: core::fmt::Arguments<'_>,
    ) -> Result<u32>;
}

/// What a kind's [`OpenFileKind::save`] may use besides its file.
pub struct SaveContext<'a> {
    /// The checkpoint's objhash.
    pub objects: &'a mut CheckpointObjects,
    /// The image, for shared objects.
    pub out: &'a mut dyn ObjectWriter,
    /// Where to say why the file cannot be saved.
    pub failure: &'a mut Failure,
}

impl SaveContext<'_> {
    /// Saves another file the one being saved refers to, before it, and
    /// returns its object reference.
    pub fn save_file(&mut self, file: &FileRef, what: core::fmt::Arguments<'_>) -> Result<u32> {
        self.out.save_file(self.objects, self.failure, file, what)
    }
}

/// One kind of open file.
pub trait OpenFileKind: Sync {
    /// The number images give this kind.
    fn kind(&self) -> FileKind;

    /// Whether `file` is of this kind (by the type of its inode).
    fn claims(&self, file: &FileRef) -> bool;

    /// Fills in the kind's fields of `rec` (position, device number,
    /// pipe), saving first any object the file shares that was not saved
    /// yet, or refuses `file` with `EOPNOTSUPP` after saying why in
    /// `cx.failure`, naming its user `what` ("fd 3").  Returns how restart
    /// opens the file again.
    fn save(
        &self,
        file: &FileRef,
        rec: &mut FileObjectRecord,
        cx: &mut SaveContext<'_>,
        what: core::fmt::Arguments<'_>,
    ) -> Result<SavedFile>;

    /// Notes in `objects`, before any fd table of the tree is saved, what
    /// the kind's files need to know of the table `fds` (which
    /// pseudo-terminal masters it holds).
    fn prepare_table(&self, _fds: &[OpenFd], _objects: &mut CheckpointObjects) -> Result {
        Ok(())
    }

    /// Checks, once the whole fd table `fds` is saved, what only the
    /// whole table shows (which epoll watches stay usable); refuses with
    /// `EOPNOTSUPP` after saying why in `failure`.
    fn check_table(&self, _fds: &[OpenFd], _failure: &mut Failure) -> Result {
        Ok(())
    }

    /// Checks, once every process of the tree is saved, what only all
    /// their descriptors `fds` together show (who else holds a pipe);
    /// refuses with `EOPNOTSUPP` after saying why in `failure`.
    fn check_tree(&self, _fds: &[OpenFd], _failure: &mut Failure) -> Result {
        Ok(())
    }

    /// Opens the file of `rec` (a parser-checked record of this kind)
    /// again by `path` (NUL-terminated), before restart's point of no
    /// return; `EINVAL` if the path now names a file of another kind, or
    /// if files of this kind have no path.
    fn reopen(
        &self,
        _rec: &FileObjectRecord,
        _path: &[u8],
        _objects: &mut RestartObjects,
    ) -> Result<FileRef> {
        Err(EINVAL)
    }

    /// Opens the terminal of `rec` again by `path` (NUL-terminated) and
    /// gives it `settings`, before restart's point of no return; `EINVAL`
    /// if the path now names another device, or for a kind that is not a
    /// terminal.
    fn reopen_terminal(
        &self,
        _rec: &FileObjectRecord,
        _path: &[u8],
        _settings: &TtyRecord,
    ) -> Result<FileRef> {
        Err(EINVAL)
    }

    /// Creates the epoll set of `rec` again, with `watches` (checked by
    /// the parser) on files the restart's objhash holds, before restart's
    /// point of no return; `EINVAL` for a kind that is not an epoll set.
    fn recreate_epoll(
        &self,
        _rec: &FileObjectRecord,
        _watches: &[EpollWatch],
        _objects: &RestartObjects,
    ) -> Result<FileRef> {
        Err(EINVAL)
    }

    /// Creates the inotify instance of `rec` again, giving new watches
    /// `next_wd` first, with `count` watches that `next_watch` reads one
    /// by one from the image (descriptor, mask, NUL-terminated path),
    /// before restart's
    /// point of no return; `EINVAL` for a kind that is not inotify.
    fn recreate_inotify(
        &self,
        _rec: &FileObjectRecord,
        _next_wd: u32,
        _count: u32,
        _next_watch: &mut dyn FnMut() -> Result<(i32, u32, KVec<u8>)>,
    ) -> Result<FileRef> {
        Err(EINVAL)
    }

    /// Creates the pseudo-terminal pair of `rec` again through the `ptmx`
    /// device at `ptmx` (NUL-terminated), with the state of `pair` and the
    /// two queues `next_queue` reads from the image (the master's, then
    /// the slave's: its record, and the read bytes, line-end bitmap and
    /// pending bytes in one buffer), before restart's point of no return;
    /// returns the master.  `EINVAL` for a kind that is not a master.
    fn recreate_pty(
        &self,
        _rec: &FileObjectRecord,
        _ptmx: &[u8],
        _pair: &PtyPairRecord,
        _next_queue: &mut dyn FnMut() -> Result<(PtyQueueRecord, KVVec<u8>)>,
    ) -> Result<FileRef> {
        Err(EINVAL)
    }

    /// Joins the file of `rec` to the pipe, SysV segment or
    /// pseudo-terminal master it names, re-created from the objhash,
    /// before restart's point of no return; `EINVAL` for a kind that is
    /// none of an anonymous pipe end, an attach or a pseudo-terminal
    /// slave.
    fn rejoin(&self, _rec: &FileObjectRecord, _objects: &mut RestartObjects) -> Result<FileRef> {
        Err(EINVAL)
    }

    /// Creates the file of `rec` again from its `state` (both checked by
    /// the parser), before restart's point of no return; `EINVAL` for a
    /// kind saved by path.
    fn recreate(&self, _rec: &FileObjectRecord, _state: &FileStateRecord) -> Result<FileRef> {
        Err(EINVAL)
    }
}

/// Every kind this version saves.
static KINDS: [&dyn OpenFileKind; 17] = [
    // Before regular files, which claim every other one.
    &deleted::DeletedFile,
    &memfd::Memfd,
    &shared_memory::SharedMemory,
    &sysv_shm::SysvShm,
    &regular::REGULAR_FILE,
    &regular::DIRECTORY,
    // Before terminals, which claim every other one.
    &pty::PtyMaster,
    &pty::PtySlave,
    // Before character devices, which claim every other device.
    &tty::Terminal,
    &chardev::CharDevice,
    &eventfd::EventFd,
    &signalfd::SignalFd,
    &timerfd::TimerFd,
    &epoll::EventPoll,
    &inotify::Inotify,
    &pipe::ANONYMOUS_PIPE,
    &pipe::FIFO,
];

/// The kind that saves `file`, if any.
pub fn kind_of(file: &FileRef) -> Option<&'static dyn OpenFileKind> {
    KINDS.iter().copied().find(|k| k.claims(file))
}

/// The kind of number `kind` in an image.
pub fn by_number(kind: u32) -> Option<&'static dyn OpenFileKind> {
    KINDS.iter().copied().find(|k| k.kind() as u32 == kind)
}

/// Runs every kind's [`OpenFileKind::prepare_table`] on an fd table of
/// the tree, before any is saved.
pub fn prepare_table(fds: &[OpenFd], objects: &mut CheckpointObjects) -> Result {
    for kind in KINDS.iter() {
        kind.prepare_table(fds, objects)?;
    }
    Ok(())
}

/// Runs every kind's [`OpenFileKind::check_table`] on the saved fd table.
pub fn check_table(fds: &[OpenFd], failure: &mut Failure) -> Result {
    for kind in KINDS.iter() {
        kind.check_table(fds, failure)?;
    }
    Ok(())
}

/// Runs every kind's [`OpenFileKind::check_tree`] on the descriptors of
/// all the saved processes.
pub fn check_tree(fds: &[OpenFd], failure: &mut Failure) -> Result {
    for kind in KINDS.iter() {
        kind.check_tree(fds, failure)?;
    }
    Ok(())
}

/// Whether `file`, which `uses` descriptors of the saved fd tables refer
/// to, has no reference but theirs: each descriptor's, the one
/// `collect_fds` took per descriptor, and the objhash's.  One more is a
/// process's outside the tree (or a message in flight).
fn held_only_by_table(file: &FileRef, uses: usize) -> bool {
    // SAFETY: the file is alive (the caller's `FileRef` holds it).
    let refs = unsafe { bindings::file_count(file.as_ptr()) };
    refs <= 2 * uses as isize + 1
}

/// Refuses, with `EOPNOTSUPP` and a message naming `what` and `name`, a
/// file without a path whose open flags (in `rec`) are more than
/// read-write access and `O_NONBLOCK` ([`STATE_FILE_FLAGS`]): no other
/// flag means anything to such a file, so restart sets only those.
fn check_state_file_flags(
    name: &str,
    rec: &FileObjectRecord,
    failure: &mut Failure,
    what: core::fmt::Arguments<'_>,
) -> Result {
    if rec.flags & !STATE_FILE_FLAGS != 0 {
        failure.set(format_args!(
            "{what}: {name} with open flags {:#o} cannot be saved",
            rec.flags
        ));
        return Err(eopnotsupp());
    }
    Ok(())
}

/// A human name for a kind of file no module saves, by the type bits of
/// its inode mode.
pub fn unsupported_kind_name(mode: u32) -> &'static str {
    match mode & bindings::S_IFMT {
        bindings::S_IFSOCK => "a socket",
        bindings::S_IFBLK => "a block device",
        bindings::S_IFLNK => "a symbolic link",
        _ => "an unknown kind of file",
    }
}
