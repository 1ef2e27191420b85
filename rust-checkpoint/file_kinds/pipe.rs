// SPDX-License-Identifier: GPL-2.0

//! Pipes (`pipe(2)`) and named FIFOs (`mkfifo(3)`).
//!
//! A pipe is saved once, when the first of its ends is seen, as a pipe
//! record: its size and the data buffered in it, copied without being
//! consumed (the running task still reads it after a checkpoint).  Each
//! end is a file object naming the pipe, with its direction and
//! `O_NONBLOCK`; a FIFO's end also carries its path.
//!
//! Restart creates an anonymous pipe when it meets its first end, sets
//! its size and refills its data, and hands each end the file of its
//! direction.  A FIFO is opened by path, first read-write (which never
//! blocks, and is refused with `EBUSY` if anyone else has the FIFO open
//! or data is in it), then each end with its own flags.  An end the task
//! did not hold is closed when the restart ends: its reader sees end of
//! file, its writer `EPIPE`, as before.
//!
//! Only a pipe the saved processes hold alone can be saved: an end held
//! by a process outside the checkpointed tree cannot be reconnected by
//! the restart, so checkpoint refuses it with `EOPNOTSUPP` and says which
//! descriptor it was.  The ends held by the processes of the tree
//! (`seq | awk`, saved with the shell) are restored as they were.  So is a pipe of packets (`O_DIRECT`), a notification pipe, an
//! anonymous pipe opened twice in one direction (through `/proc`), and a
//! pipe holding more than [`MAX_PIPE_DATA`] bytes (`EFBIG`).

use super::{held_only_by_table, OpenFileKind, SaveContext, SavedFile};
use crate::error::{eopnotsupp, Failure};
use crate::file::FileRef;
use crate::files::OpenFd;
use crate::format::{FileKind, FileObjectRecord, PipeRecord, MAX_PIPE_DATA};
use crate::objhash::RestartObjects;
use kernel::alloc::{flags::GFP_KERNEL, KVVec, KVec};
use kernel::bindings;
use kernel::error::{code::*, Error, Result};

/// Ends of anonymous pipes.
pub(super) const ANONYMOUS_PIPE: PipeKind = PipeKind { anonymous: true };
/// Ends of named FIFOs.
pub(super) const FIFO: PipeKind = PipeKind { anonymous: false };

/// Open flags a pipe end keeps: its direction and `O_NONBLOCK`.
/// (`O_LARGEFILE`, which `open(2)` adds, means nothing to a pipe.)
const PIPE_FLAGS: u32 = bindings::O_ACCMODE | bindings::O_NONBLOCK;

/// The ends of anonymous pipes or of FIFOs.
pub(super) struct PipeKind {
    anonymous: bool,
}

/// What `ckpt_pipe_peek` returned: the pipe, and the bytes buffered in it
/// or the error that keeps it from being saved.
struct Peek {
    info: bindings::ckpt_pipe_info,
    buffered: Result<usize>,
}

/// Reads the state of the pipe of `file`, copying its data into `buf` if
/// all of it fits; `None` if `file` is not a pipe or FIFO.
fn peek(file: &FileRef, buf: Option<&mut [u8]>) -> Option<Peek> {
    let mut info = bindings::ckpt_pipe_info::default();
    let (ptr, len) = match buf {
        Some(b) => (b.as_mut_ptr(), b.len()),
        None => (core::ptr::null_mut(), 0),
    };
    // SAFETY: the file is alive (type invariant of `FileRef`); `ptr` is
    // null or valid for writes of `len` bytes; `info` is writable.  The
    // helper checks that the file is a pipe before it looks further.
    let ret = unsafe { bindings::ckpt_pipe_peek(file.as_ptr(), ptr.cast(), len, &mut info) };
    if ret == -(bindings::EBADF as isize) {
        return None;
    }
    let buffered = if ret < 0 {
        Err(Error::from_errno(ret as i32))
    } else {
        Ok(ret as usize)
    };
    Some(Peek { info, buffered })
}

/// The pipe of `file` as a number, if it is a pipe end.
fn pipe_key(file: &FileRef) -> Option<usize> {
    peek(file, None).map(|p| p.info.pipe as usize)
}

/// Sets or clears `O_NONBLOCK` on `file` as `flags` has it.
fn set_nonblock(file: &FileRef, flags: u32) {
    // SAFETY: the file is alive; the helper takes its `f_lock`.
    unsafe { bindings::ckpt_set_nonblock(file.as_ptr(), flags & bindings::O_NONBLOCK != 0) };
}

impl OpenFileKind for PipeKind {
    fn kind(&self) -> FileKind {
        if self.anonymous {
            FileKind::Pipe
        } else {
            FileKind::Fifo
        }
    }

    fn claims(&self, file: &FileRef) -> bool {
        peek(file, None).is_some_and(|p| p.info.anonymous == self.anonymous)
    }

    fn save(
        &self,
        file: &FileRef,
        rec: &mut FileObjectRecord,
        cx: &mut SaveContext<'_>,
        what: core::fmt::Arguments<'_>,
    ) -> Result<SavedFile> {
        let flags = rec.flags & !bindings::O_LARGEFILE;
        if flags & !PIPE_FLAGS != 0 {
            let packets = if flags & bindings::O_DIRECT != 0 {
                " (packets)"
            } else {
                ""
            };
            cx.failure.set(format_args!(
                "{what}: a pipe with open flags {flags:#o}{packets} cannot be saved"
            ));
            return Err(eopnotsupp());
        }
        rec.flags = flags;
        let first = peek(file, None).ok_or(EINVAL)?;
        let (number, new) = cx.objects.pipe(first.info.pipe as usize)?;
        rec.device_or_pipe = number;
        if new {
            let cap = first.info.size.min(MAX_PIPE_DATA) as usize;
            let mut data = KVVec::from_elem(0u8, cap, GFP_KERNEL)?;
            let now = peek(file, Some(&mut data)).ok_or(EINVAL)?;
            let len = match now.buffered {
                Ok(len) => len,
                Err(e) => {
                    cx.failure.set(format_args!(
                        "{what}: a pipe of packets or of notifications cannot be saved"
                    ));
                    return Err(e);
                }
            };
            if len > data.len() {
                cx.failure.set(format_args!(
                    "{what}: a pipe holding {len} bytes (more than {MAX_PIPE_DATA}) cannot be saved"
                ));
                return Err(EFBIG);
            }
            let data = data.get(..len).ok_or(EINVAL)?;
            cx.out.write_pipe(number, now.info.size, data)?;
        }
        Ok(if self.anonymous {
            SavedFile::PipeEnd
        } else {
            SavedFile::ByPath
        })
    }

    fn check_tree(&self, fds: &[OpenFd], failure: &mut Failure) -> Result {
        // Only the anonymous kind checks, for both kinds at once.
        if !self.anonymous {
            return Ok(());
        }
        check_held_by_task(fds, failure)
    }

    fn rejoin(&self, rec: &FileObjectRecord, objects: &mut RestartObjects) -> Result<FileRef> {
        if !self.anonymous {
            return Err(EINVAL);
        }
        let pipe = objects.pipes.get_mut(rec.device_or_pipe)?;
        if let PipeState::Defined = pipe.state {
            let mut files = [core::ptr::null_mut(); 2];
            // SAFETY: `files` has room for the two files the function
            // stores on success, counted references we take over below.
            let ret = unsafe { bindings::create_pipe_files(files.as_mut_ptr(), O_NONBLOCK_I32) };
            if ret < 0 {
                return Err(Error::from_errno(ret));
            }
            let [read, write] = files;
            // SAFETY: both are counted references handed over to us.
            let (read, write) = unsafe { (FileRef::from_owned(read), FileRef::from_owned(write)) };
            let (Some(read), Some(write)) = (read, write) else {
                return Err(ENOMEM);
            };
            pipe.fill(&write)?;
            pipe.state = PipeState::Anonymous {
                read: Some(read),
                write: Some(write),
            };
        }
        let PipeState::Anonymous { read, write } = &mut pipe.state else {
            return Err(EINVAL);
        };
        // The parser allows read-only or write-only; each is given once.
        let end = if rec.flags & bindings::O_ACCMODE == bindings::O_RDONLY {
            read.take()
        } else {
            write.take()
        };
        let end = end.ok_or(EINVAL)?;
        set_nonblock(&end, rec.flags);
        Ok(end)
    }

    fn reopen(
        &self,
        rec: &FileObjectRecord,
        path: &[u8],
        objects: &mut RestartObjects,
    ) -> Result<FileRef> {
        if self.anonymous {
            return Err(EINVAL);
        }
        let pipe = objects.pipes.get_mut(rec.device_or_pipe)?;
        if let PipeState::Defined = pipe.state {
            // Read-write: never blocks, and keeps both directions open
            // while the ends are opened.
            let holder = FileRef::open(path, bindings::O_RDWR | bindings::O_NONBLOCK)?;
            let Some(now) = peek(&holder, None) else {
                return Err(EINVAL);
            };
            if now.info.anonymous {
                return Err(EINVAL);
            }
            if now.info.readers != 1 || now.info.writers != 1 || now.buffered != Ok(0) {
                return Err(EBUSY);
            }
            pipe.fill(&holder)?;
            pipe.state = PipeState::Fifo { holder };
        }
        let PipeState::Fifo { holder } = &pipe.state else {
            return Err(EINVAL);
        };
        let end = FileRef::open(path, rec.flags | bindings::O_NONBLOCK)?;
        if pipe_key(&end) != pipe_key(holder) {
            return Err(EINVAL);
        }
        set_nonblock(&end, rec.flags);
        Ok(end)
    }
}

/// `O_NONBLOCK` as `create_pipe_files` takes it.
const O_NONBLOCK_I32: i32 = bindings::O_NONBLOCK as i32;

/// One end of a pipe in an fd table, for [`check_held_by_task`].
#[derive(Clone, Copy)]
struct EndUse {
    pipe: usize,
    file: usize,
    readable: bool,
    writable: bool,
    anonymous: bool,
    /// Its index in the fd table.
    index: usize,
}

/// Refuses a pipe an fd table does not hold alone.
///
/// The pipe counts its open files by direction; the table must hold all
/// of them.  And each of those files must have no reference besides the
/// table's descriptors, one per descriptor in `fds`, and the objhash's:
/// one more is another process's (or a message in flight).
fn check_held_by_task(fds: &[OpenFd], failure: &mut Failure) -> Result {
    let mut ends = KVec::new();
    for (index, fd) in fds.iter().enumerate() {
        if let Some(p) = peek(&fd.file, None) {
            let flags = fd.file.flags() & bindings::O_ACCMODE;
            ends.push(
                EndUse {
                    pipe: p.info.pipe as usize,
                    file: fd.file.as_ptr() as usize,
                    readable: flags != bindings::O_WRONLY,
                    writable: flags != bindings::O_RDONLY,
                    anonymous: p.info.anonymous,
                    index,
                },
                GFP_KERNEL,
            )?;
        }
    }
    ends.sort_unstable_by_key(|e| (e.pipe, e.file, e.index));
    for pipe in ends.chunk_by(|a, b| a.pipe == b.pipe) {
        check_one_pipe(pipe, fds, failure)?;
    }
    Ok(())
}

/// [`check_held_by_task`] for the uses of one pipe, sorted by file.
fn check_one_pipe(uses: &[EndUse], fds: &[OpenFd], failure: &mut Failure) -> Result {
    let Some(first) = uses.first() else {
        return Ok(());
    };
    let fd_of = |index: usize| fds.get(index).ok_or(EINVAL);
    let (mut readers, mut writers) = (0u32, 0u32);
    for same_file in uses.chunk_by(|a, b| a.file == b.file) {
        let end = same_file.first().ok_or(EINVAL)?;
        readers += u32::from(end.readable);
        writers += u32::from(end.writable);
        let fd = fd_of(end.index)?;
        if !held_only_by_table(&fd.file, same_file.len()) {
            failure.set(format_args!(
                "fd {}: a pipe end also held outside the checkpointed processes",
                fd.fd
            ));
            return Err(eopnotsupp());
        }
    }
    let fd = fd_of(first.index)?;
    let info = peek(&fd.file, None).ok_or(EINVAL)?.info;
    if readers != info.readers || writers != info.writers {
        failure.set(format_args!(
            "fd {}: the pipe has an end open outside the checkpointed processes",
            fd.fd
        ));
        return Err(eopnotsupp());
    }
    if first.anonymous && (readers > 1 || writers > 1) {
        failure.set(format_args!(
            "fd {}: a pipe opened twice in one direction cannot be saved",
            fd.fd
        ));
        return Err(eopnotsupp());
    }
    Ok(())
}

/// What restart knows of one pipe.
enum PipeState {
    /// Its record was read; no end was met yet.
    Defined,
    /// An anonymous pipe: the ends no file object took yet.
    Anonymous {
        read: Option<FileRef>,
        write: Option<FileRef>,
    },
    /// A FIFO, held open read-write until the restart ends.
    Fifo { holder: FileRef },
}

/// One pipe of a restart.
struct RestoredPipe {
    size: u32,
    /// The data to refill, until the pipe exists.
    data: KVVec<u8>,
    state: PipeState,
}

impl RestoredPipe {
    /// Sets the size of the new pipe of `write` (a file open for writing)
    /// and refills its data.
    fn fill(&mut self, write: &FileRef) -> Result {
        // SAFETY: the file is alive and a pipe; `pipe_fcntl` checks the
        // size against the caller's limits (`EPERM` above them).
        let ret =
            unsafe { bindings::pipe_fcntl(write.as_ptr(), bindings::F_SETPIPE_SZ, self.size) };
        if ret < 0 {
            return Err(Error::from_errno(ret as i32));
        }
        let mut left: &[u8] = &self.data;
        while !left.is_empty() {
            let n = write.write(left)?;
            left = left.get(n..).filter(|_| n > 0).ok_or(EIO)?;
        }
        self.data = KVVec::new();
        Ok(())
    }
}

/// The pipes of one restart, pipe number `n` at index `n - 1`.
///
/// Dropping it closes the pipe ends no file object took.
#[derive(Default)]
pub struct RestoredPipes {
    pipes: KVec<RestoredPipe>,
}

impl RestoredPipes {
    /// Records pipe `rec` (checked by the parser, so numbered in order)
    /// with its `data`.
    pub fn define(&mut self, rec: &PipeRecord, data: KVVec<u8>) -> Result {
        if rec.pipe as usize != self.pipes.len() + 1 {
            return Err(EINVAL);
        }
        self.pipes.push(
            RestoredPipe {
                size: rec.size,
                data,
                state: PipeState::Defined,
            },
            GFP_KERNEL,
        )?;
        Ok(())
    }

    fn get_mut(&mut self, number: u32) -> Result<&mut RestoredPipe> {
        let index = (number as usize).checked_sub(1).ok_or(EINVAL)?;
        self.pipes.get_mut(index).ok_or(EINVAL)
    }
}
