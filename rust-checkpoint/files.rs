// SPDX-License-Identifier: GPL-2.0

//! Open files of a task: its fd table, the file objects descriptors and
//! mappings refer to, its working directory and umask.
//!
//! At checkpoint a file is saved once, on first sight, as a file object
//! (kind, open flags, position, path) numbered by the objhash; descriptors
//! and memory areas refer to it by that number, so two descriptors that
//! share an open file (`dup`) share it again after restart.  What a file
//! object holds, and how it is opened again, is up to its kind
//! ([`crate::file_kinds`]); a file of a kind no module saves makes the
//! checkpoint fail with `EOPNOTSUPP` and an error record naming the
//! descriptor and the kind.
//!
//! At restart every file object is opened again by its path, with its
//! saved flags (never creating a file) and the caller's credentials, or
//! created again from its state or its pipe, before the point of no
//! return; then the caller's descriptors are replaced by exactly the
//! saved table.

use crate::error::{eopnotsupp, to_kernel_error, Failure};
use crate::file::{nul_terminated, FileRef};
use crate::file_kinds::{self, ObjectWriter, SaveContext, SavedFile, UnlinkedFile, Unnamed};
use crate::format::{
    EpollWatch, FdRecord, FileObjectRecord, FileSource, FilesTableRecord, ImageWriter,
    PtyPairRecord, PtyQueueRecord, ShmSegmentRecord, Sink, FD_CLOEXEC_FLAG, MAX_FDS,
};
use crate::objhash::{CheckpointObjects, RestartObjects};
use crate::task::TaskRef;
use kernel::alloc::{flags::GFP_KERNEL, KVVec, KVec};
use kernel::bindings;
use kernel::error::{code::*, Error, Result};

/// Open flags that describe an open file rather than how it was opened.
const PERSISTENT_OPEN_FLAGS: u32 = bindings::O_ACCMODE
    | bindings::O_APPEND
    | bindings::O_NONBLOCK
    | bindings::O_DSYNC
    | bindings::O_DIRECT
    | bindings::O_LARGEFILE
    | bindings::O_DIRECTORY
    | bindings::O_NOATIME
    | bindings::__O_SYNC;

/// Returns the object reference of `file`, saving the file object first
/// if this is its first sight.  `what` names the user of the file for the
/// error record ("fd 3", "the mapping at 0x...").
///
/// The kind saves what the file depends on first (its pipe, the files an
/// epoll set watches); only then does the file get its reference, so that
/// references are defined in image order.
pub fn save_file<S: Sink>(
    w: &mut ImageWriter<'_, S>,
    objects: &mut CheckpointObjects,
    file: &FileRef,
    path: &mut [u8],
    failure: &mut Failure,
    what: core::fmt::Arguments<'_>,
) -> Result<u32> {
    if let Some(objref) = objects.saved_file(file) {
        return Ok(objref);
    }
    let Some(kind) = file_kinds::kind_of(file) else {
        // The path of a file without one names its kind, e.g.
        // "anon_inode:[timerfd]".
        let name = file.display_name(path).unwrap_or(b"?");
        failure.set(format_args!(
            "{what}: {} ({}) is not supported",
            file_kinds::unsupported_kind_name(file.inode_mode()),
            kernel::str::BStr::from_bytes(name)
        ));
        return Err(eopnotsupp());
    };
    let mut rec = FileObjectRecord {
        objref: 0,
        kind: kind.kind() as u32,
        flags: file.flags() & PERSISTENT_OPEN_FLAGS,
        device_or_pipe: 0,
        pos: 0,
    };
    let mut out = ImageOut { w, path };
    let mut cx = SaveContext {
        objects,
        out: &mut out,
        failure,
    };
    let saved = kind.save(file, &mut rec, &mut cx, what)?;
    let ImageOut { w, path } = out;
    let name = match saved {
        SavedFile::ByPath | SavedFile::Terminal(_) | SavedFile::PtyMaster(_) => {
            match file.path(path) {
                Ok(name) => Some(name),
                Err(e) => {
                    // Its name says what it is: "/SYSV0000002a (deleted)" is
                    // SysV shared memory.
                    let mut buf = [0u8; 128];
                    let name = file.display_name(&mut buf).unwrap_or(b"?");
                    failure.set(format_args!(
                        "{what}: a file without a path ({}) cannot be saved",
                        kernel::str::BStr::from_bytes(name)
                    ));
                    return Err(e);
                }
            }
        }
        _ => None,
    };
    // Nothing is written between a kind's own records and this one.
    let (objref, first) = objects.file(file)?;
    if !first {
        // Only a loop of files each needing the other could get here.
        return Err(EINVAL);
    }
    rec.objref = objref;
    match (saved, name) {
        (SavedFile::ByPath, Some(name)) => w.write_file_object(&rec, name),
        (SavedFile::Terminal(settings), Some(name)) => {
            w.write_file_object_terminal(&rec, name, &settings)
        }
        (SavedFile::ByState(state), _) => w.write_file_object_state(&rec, &state),
        (SavedFile::PipeEnd | SavedFile::ShmAttach | SavedFile::PtySlave, _) => {
            w.write_record(&rec)
        }
        (SavedFile::PtyMaster(saved), Some(name)) => {
            w.write_file_object_pty_master(&rec, name, &saved.pair)
                .map_err(to_kernel_error)?;
            for (queue, body) in saved.queues.iter() {
                let (read, line_ends, pending) = queue.split_body(body).ok_or(EINVAL)?;
                w.write_pty_queue(queue, read, line_ends, pending)
                    .map_err(to_kernel_error)?;
            }
            return Ok(objref);
        }
        (SavedFile::EpollSet(watches), _) => w.write_file_object_epoll(&rec, &watches),
        (SavedFile::Inotify(watches), _) => {
            let count = u32::try_from(watches.len()).map_err(|_| EINVAL)?;
            w.write_file_object_inotify(&rec, count, watches.next_wd)
                .map_err(to_kernel_error)?;
            watches.for_each(|wd, mask, path| {
                w.write_inotify_watch(wd, mask, path)
                    .map_err(to_kernel_error)
            })?;
            return Ok(objref);
        }
        (SavedFile::Contents(unlinked), _) => {
            match unlinked.of {
                Unnamed::Memfd(seals) => w.write_file_object_memfd(
                    &rec,
                    &unlinked.dir_or_name,
                    unlinked.size,
                    seals,
                    unlinked.mode,
                ),
                Unnamed::Deleted => w.write_file_object_deleted(
                    &rec,
                    &unlinked.dir_or_name,
                    unlinked.size,
                    unlinked.mode,
                ),
                Unnamed::SharedMemory => w.write_file_object_shared_memory(&rec, unlinked.size),
                // Written by `write_shm_segment`, never as a file object.
                Unnamed::SysvSegment => return Err(EINVAL),
            }
            .map_err(to_kernel_error)?;
            write_contents(w, &unlinked)?;
            return Ok(objref);
        }
        _ => return Err(EINVAL),
    }
    .map_err(to_kernel_error)?;
    Ok(objref)
}

/// Writes the contents of an unlinked file, memfd, shared memory or SysV
/// segment as `FileData` records.
fn write_contents<S: Sink>(w: &mut ImageWriter<'_, S>, contents: &UnlinkedFile) -> Result {
    contents.write_contents(|offset, data| w.write_file_data(offset, data).map_err(to_kernel_error))
}

/// The image and the path buffer, for the records a kind writes before
/// its file object.
struct ImageOut<'w, 'a, S: Sink> {
    w: &'w mut ImageWriter<'a, S>,
    path: &'w mut [u8],
}

impl<S: Sink> ObjectWriter for ImageOut<'_, '_, S> {
    fn write_pipe(&mut self, pipe: u32, size: u32, data: &[u8]) -> Result {
        self.w.write_pipe(pipe, size, data).map_err(to_kernel_error)
    }

    fn write_shm_segment(&mut self, segment: &ShmSegmentRecord, contents: &UnlinkedFile) -> Result {
        self.w.write_shm_segment(segment).map_err(to_kernel_error)?;
        write_contents(self.w, contents)
    }

    fn save_file(
        &mut self,
        objects: &mut CheckpointObjects,
        failure: &mut Failure,
        file: &FileRef,
        what: core::fmt::Arguments<'_>,
    ) -> Result<u32> {
        save_file(self.w, objects, file, self.path, failure, what)
    }
}

/// One open descriptor of a task.
pub struct OpenFd {
    /// The descriptor number.
    pub fd: u32,
    /// Its close-on-exec flag.
    pub cloexec: bool,
    /// The open file.
    pub file: FileRef,
}

/// The open descriptors of `task`, in increasing order.
pub fn collect_fds(task: &TaskRef, failure: &mut Failure) -> Result<KVec<OpenFd>> {
    let mut fds = KVec::new();
    let mut fd = 0u32;
    loop {
        let mut cloexec = false;
        // SAFETY: the task is alive; the helper returns a counted reference
        // (which `from_owned` takes over) or null.
        let file = unsafe {
            FileRef::from_owned(bindings::ckpt_task_next_file(
                task.as_ptr(),
                &mut fd,
                &mut cloexec,
            ))
        };
        let Some(file) = file else { break };
        if fds.len() >= MAX_FDS as usize {
            failure.set(format_args!("more than {MAX_FDS} open descriptors"));
            return Err(eopnotsupp());
        }
        fds.push(OpenFd { fd, cloexec, file }, GFP_KERNEL)?;
        fd = match fd.checked_add(1) {
            Some(next) => next,
            None => break,
        };
    }
    Ok(fds)
}

/// Saves the fd table `fds`: its record, then each descriptor, with its
/// file object on first sight; then checks what only the whole table
/// shows (see [`file_kinds::check_table`]).
pub fn save_table<S: Sink>(
    w: &mut ImageWriter<'_, S>,
    objects: &mut CheckpointObjects,
    fds: &[OpenFd],
    path: &mut [u8],
    failure: &mut Failure,
) -> Result {
    let count = u32::try_from(fds.len()).map_err(|_| EINVAL)?;
    w.write_record(&FilesTableRecord {
        count,
        shared_with: 0,
    })
    .map_err(to_kernel_error)?;
    for fd in fds {
        let objref = save_file(
            w,
            objects,
            &fd.file,
            path,
            failure,
            format_args!("fd {}", fd.fd),
        )?;
        w.write_record(&fd_record(fd, objref))
            .map_err(to_kernel_error)?;
    }
    file_kinds::check_table(fds, failure)
}

/// Writes the fd table of a process that uses the table of process
/// number `shared_with`, saved with that process.
pub fn save_shared_table<S: Sink>(w: &mut ImageWriter<'_, S>, shared_with: u32) -> Result {
    w.write_record(&FilesTableRecord {
        count: 0,
        shared_with,
    })
    .map_err(to_kernel_error)
}

/// Notes in `objects`, before any fd table of the tree is saved, what the
/// kinds need to know of the fd table `fds` (see
/// [`file_kinds::prepare_table`]).
pub fn prepare_table(fds: &[OpenFd], objects: &mut CheckpointObjects) -> Result {
    file_kinds::prepare_table(fds, objects)
}

/// Checks, once every process of the tree is saved, what only all their
/// descriptors `fds` together show (see [`file_kinds::check_tree`]).
pub fn check_tree(fds: &[OpenFd], failure: &mut Failure) -> Result {
    file_kinds::check_tree(fds, failure)
}

/// The fd record of `fd`, whose file has object reference `objref`.
fn fd_record(fd: &OpenFd, objref: u32) -> FdRecord {
    FdRecord {
        fd: fd.fd,
        flags: if fd.cloexec { FD_CLOEXEC_FLAG } else { 0 },
        file_ref: objref,
        _pad: 0,
    }
}

/// Opens a file object again by its path, or creates it again from its
/// state or its pipe, as its kind does it.
pub fn reopen(
    rec: &FileObjectRecord,
    source: FileSource<'_>,
    objects: &mut RestartObjects,
) -> Result<FileRef> {
    let kind = file_kinds::by_number(rec.kind).ok_or(EINVAL)?;
    match source {
        FileSource::Path(path) => kind.reopen(rec, &nul_terminated(path)?, objects),
        FileSource::Terminal(path, settings) => {
            kind.reopen_terminal(rec, &nul_terminated(path)?, &settings)
        }
        FileSource::State(state) => kind.recreate(rec, &state),
        FileSource::PipeEnd | FileSource::ShmAttach | FileSource::PtySlave => {
            kind.rejoin(rec, objects)
        }
        // Their watches or contents follow in the image: the driver
        // creates them (`recreate_epoll`, `UnlinkedCopy`).
        FileSource::EpollSet { .. }
        | FileSource::Inotify { .. }
        | FileSource::Deleted { .. }
        | FileSource::Memfd { .. }
        | FileSource::SharedMemory { .. }
        | FileSource::PtyMaster { .. } => Err(EINVAL),
    }
}

/// Creates an epoll set again with its `watches`.
pub fn recreate_epoll(
    rec: &FileObjectRecord,
    watches: &[EpollWatch],
    objects: &RestartObjects,
) -> Result<FileRef> {
    let kind = file_kinds::by_number(rec.kind).ok_or(EINVAL)?;
    kind.recreate_epoll(rec, watches, objects)
}

/// Creates an inotify instance again with `count` watches, which
/// `next_watch` reads from the image.
pub fn recreate_inotify(
    rec: &FileObjectRecord,
    next_wd: u32,
    count: u32,
    next_watch: &mut dyn FnMut() -> Result<(i32, u32, KVec<u8>)>,
) -> Result<FileRef> {
    let kind = file_kinds::by_number(rec.kind).ok_or(EINVAL)?;
    kind.recreate_inotify(rec, next_wd, count, next_watch)
}

/// Creates a pseudo-terminal pair again through the `ptmx` device at
/// `ptmx` (NUL-terminated), with `pair` and the two queues `next_queue`
/// reads from the image; returns its master.
pub fn recreate_pty(
    rec: &FileObjectRecord,
    ptmx: &[u8],
    pair: &PtyPairRecord,
    next_queue: &mut dyn FnMut() -> Result<(PtyQueueRecord, KVVec<u8>)>,
) -> Result<FileRef> {
    let kind = file_kinds::by_number(rec.kind).ok_or(EINVAL)?;
    kind.recreate_pty(rec, ptmx, pair, next_queue)
}

/// Replaces the calling task's descriptors by `fds` (past the point of no
/// return).
pub fn install_fds(fds: &[FdRecord], objects: &RestartObjects) -> Result {
    // SAFETY: closes every descriptor of the calling task; files still in
    // use elsewhere (the image, the objhash) are kept alive by their own
    // references.
    let ret = unsafe { bindings::__close_range(0, u32::MAX, 0) };
    if ret < 0 {
        return Err(Error::from_errno(ret));
    }
    for fd in fds {
        let file = objects.file(fd.file_ref)?;
        let flags = if fd.flags & FD_CLOEXEC_FLAG != 0 {
            bindings::O_CLOEXEC
        } else {
            0
        };
        // SAFETY: `file` is alive (the objhash holds it); `replace_fd`
        // takes its own reference for the descriptor.
        let ret = unsafe { bindings::replace_fd(fd.fd, file.as_ptr(), flags) };
        if ret < 0 {
            return Err(Error::from_errno(ret));
        }
    }
    Ok(())
}

/// A counted reference to a path (from `kern_path`).
///
/// # Invariants
///
/// `path` holds references (`path_get`) that this object owns.
pub struct PathRef {
    path: bindings::path,
}

impl PathRef {
    /// Looks up the directory `name` (NUL-terminated).
    pub fn lookup_dir(name: &[u8]) -> Result<Self> {
        if name.last() != Some(&0) {
            return Err(EINVAL);
        }
        let mut path = bindings::path::default();
        // SAFETY: `name` is NUL-terminated; `path` is writable and filled
        // with counted references on success.
        let ret = unsafe {
            bindings::kern_path(
                name.as_ptr().cast(),
                bindings::LOOKUP_FOLLOW | bindings::LOOKUP_DIRECTORY,
                &mut path,
            )
        };
        if ret < 0 {
            return Err(Error::from_errno(ret));
        }
        // INVARIANT: `kern_path` succeeded and took the references.
        Ok(PathRef { path })
    }
}

impl Drop for PathRef {
    fn drop(&mut self) {
        // SAFETY: drops the references owned by this object.
        unsafe { bindings::path_put(&self.path) };
    }
}

/// Sets the calling task's working directory and umask.
pub fn restore_fs(pwd: &PathRef, umask: u32) {
    // SAFETY: `pwd` is a counted path; the helper takes its own reference
    // for the fs and writes only the calling task's fs.
    unsafe { bindings::ckpt_set_fs(&pwd.path, umask) };
}
