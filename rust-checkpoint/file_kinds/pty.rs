// SPDX-License-Identifier: GPL-2.0

//! Pseudo-terminal pairs (`posix_openpt(3)`, `/dev/pts/N`) whose master
//! the task holds.
//!
//! Unlike a terminal held from outside (`tty.rs`), such a pair is the
//! tree's: both of its queues are saved, not only its settings.  Its
//! slave may be open in another process of the tree (a shell on the
//! terminal of its parent, a terminal emulator), which restart opens from
//! the restored master again.  The
//! master's file object carries the pair, after the path of the `ptmx`
//! device it was opened through: its index, whether the slave is locked
//! (`TIOCSPTLCK`), packet mode (`TIOCPKT`) and the packet status not read
//! yet, whether the slave was opened and closed again, and the settings
//! of both sides.  Two queue records follow, the master's then the
//! slave's.  Each holds what that side's reader has not read: the bytes
//! its line discipline took in (with the ends of lines among them, the
//! line being typed and the output column, so that a canonical read and
//! erasing go on where they were) and the bytes written to it that the
//! line discipline has not taken in yet.  Nothing is consumed.  A slave
//! file saves the master first and names it.
//!
//! Restart opens the `ptmx` device again so that the pair gets its saved
//! index (`EBUSY` if `/dev/pts/N` is taken), gives both sides their
//! settings and the pair its state, and refills both queues: the bytes
//! taken in go straight back into the line discipline, unchanged, and the
//! pending ones are written to the side again, so that they are taken in
//! (echoed, translated) under the saved settings as they would have been.
//! Each slave file is opened from the master as `TIOCGPTPEER` does, with
//! `O_NOCTTY`: the controlling terminal is not the task's to restore
//! (`tty.rs`).
//!
//! Only a pair the tree holds alone can be saved: a slave open in a
//! process outside the tree (or as a `/dev/tty`) is refused with
//! `EOPNOTSUPP`, as is a pair whose output was stopped (`^S`), one with
//! another line discipline, one being read, and one with echoes not yet
//! written (`EBUSY`).

use super::{held_only_by_table, tty, OpenFileKind, SaveContext, SavedFile};
use crate::error::{eopnotsupp, Failure};
use crate::file::FileRef;
use crate::files::OpenFd;
use crate::format::{
    FileKind, FileObjectRecord, PtyPairRecord, PtyQueueRecord, MAX_PTY_PENDING, PTY_LINE_BUFFER,
    PTY_LOCKED, PTY_PACKET, PTY_SLAVE_CLOSED,
};
use crate::objhash::{CheckpointObjects, RestartObjects};
use kernel::alloc::{flags::GFP_KERNEL, KBox, KVVec, KVec};
use kernel::bindings;
use kernel::error::{code::*, Error, Result};

/// Masters of Unix98 pseudo-terminal pairs.
pub(super) struct PtyMaster;

/// Slaves of Unix98 pseudo-terminal pairs.  The slave of a pair whose
/// master the tree holds is saved with the pair; another is saved as any
/// terminal, by `tty.rs`.
pub(super) struct PtySlave;

/// Open flags a pseudo-terminal file keeps: its access and `O_NONBLOCK`.
/// (`O_LARGEFILE`, which `open(2)` adds, means nothing to a terminal.)
const PTY_FILE_FLAGS: u32 = bindings::O_ACCMODE | bindings::O_NONBLOCK;

/// A saved pair: its record and its two queues.
pub struct SavedPair {
    /// The pair.
    pub pair: PtyPairRecord,
    /// The master's queue, then the slave's, each with its body: the
    /// bytes read in, their line-end bitmap, the bytes pending.
    pub queues: [(PtyQueueRecord, KVVec<u8>); 2],
}

/// The terminal state of `file`, if it is a Unix98 pseudo-terminal.
fn read_pty(file: &FileRef) -> Option<bindings::ckpt_tty> {
    tty::read(file).ok().filter(|t| t.pty)
}

/// Copies what side `slave` (or the master's) of the pair of `master`
/// holds for its reader, as a queue record for `side` and its body.
fn read_queue(master: &FileRef, slave: bool) -> Result<(PtyQueueRecord, KVVec<u8>)> {
    let line = PTY_LINE_BUFFER as usize;
    let bitmap = line / 8;
    let mut buf = KVVec::from_elem(0u8, line + bitmap + MAX_PTY_PENDING as usize, GFP_KERNEL)?;
    let mut q = bindings::ckpt_tty_queue::default();
    let (read, rest) = buf.split_at_mut(line);
    let (line_ends, pending) = rest.split_at_mut(bitmap);
    // SAFETY: the file is alive (type invariant of `FileRef`); `read` has
    // room for `N_TTY_BUF_SIZE` bytes, `line_ends` for as many bits, and
    // `pending` for `MAX_PTY_PENDING` bytes, which the helper is told.
    let ret = unsafe {
        bindings::ckpt_pty_read_queue(
            master.as_ptr(),
            slave,
            &mut q,
            read.as_mut_ptr(),
            line_ends.as_mut_ptr(),
            pending.as_mut_ptr(),
            MAX_PTY_PENDING as usize,
        )
    };
    if ret < 0 {
        return Err(Error::from_errno(ret));
    }
    let rec = queue_record(slave, &q);
    // Compact the three parts into the body the image holds.
    let mut body = KVVec::with_capacity(rec.body_len(), GFP_KERNEL)?;
    body.extend_from_slice(read.get(..rec.read_len as usize).ok_or(EINVAL)?, GFP_KERNEL)?;
    body.extend_from_slice(line_ends.get(..rec.bitmap_len()).ok_or(EINVAL)?, GFP_KERNEL)?;
    body.extend_from_slice(
        pending.get(..rec.pending_len as usize).ok_or(EINVAL)?,
        GFP_KERNEL,
    )?;
    Ok((rec, body))
}

/// The record of side `slave` (or the master's) of a queue the kernel
/// copied.
fn queue_record(slave: bool, q: &bindings::ckpt_tty_queue) -> PtyQueueRecord {
    PtyQueueRecord {
        side: u32::from(slave),
        read_len: q.read_len,
        canon_len: q.canon_len,
        line_start: q.line_start,
        pending_len: q.pending_len,
        flags: q.flags,
        column: q.column,
        canon_column: q.canon_column,
    }
}

/// The queue `ckpt_pty_fill_queue` takes, from its record.
fn queue_of(rec: &PtyQueueRecord) -> bindings::ckpt_tty_queue {
    bindings::ckpt_tty_queue {
        read_len: rec.read_len,
        canon_len: rec.canon_len,
        line_start: rec.line_start,
        pending_len: rec.pending_len,
        flags: rec.flags,
        column: rec.column,
        canon_column: rec.canon_column,
    }
}

/// Refuses, with a reason naming `what` in `failure`, a pair whose state
/// `t` (of its master) or whose line discipline (`line` of each side)
/// cannot be saved.
fn check_pair(
    t: &bindings::ckpt_tty,
    slave: &bindings::ckpt_tty,
    failure: &mut Failure,
    what: core::fmt::Arguments<'_>,
) -> Result {
    if t.stopped {
        failure.set(format_args!(
            "{what}: pseudo-terminal {} has its output stopped (^S)",
            t.index
        ));
        return Err(eopnotsupp());
    }
    if t.line != 0 || slave.line != 0 {
        failure.set(format_args!(
            "{what}: pseudo-terminal {} has line discipline {}",
            t.index,
            t.line.max(slave.line)
        ));
        return Err(eopnotsupp());
    }
    Ok(())
}

/// Checks a pseudo-terminal file's open `flags`, keeping those it keeps.
fn file_flags(flags: u32, failure: &mut Failure, what: core::fmt::Arguments<'_>) -> Result<u32> {
    let flags = flags & !bindings::O_LARGEFILE;
    if flags & !PTY_FILE_FLAGS != 0 {
        failure.set(format_args!(
            "{what}: a pseudo-terminal with open flags {flags:#o} cannot be saved"
        ));
        return Err(eopnotsupp());
    }
    Ok(flags)
}

impl OpenFileKind for PtyMaster {
    fn kind(&self) -> FileKind {
        FileKind::PtyMaster
    }

    fn claims(&self, file: &FileRef) -> bool {
        read_pty(file).is_some_and(|t| t.master)
    }

    fn prepare_table(&self, fds: &[OpenFd], objects: &mut CheckpointObjects) -> Result {
        for fd in fds {
            if let Some(t) = read_pty(&fd.file).filter(|t| t.master) {
                objects.hold_pty_pair(t.pair)?;
            }
        }
        Ok(())
    }

    fn save(
        &self,
        file: &FileRef,
        rec: &mut FileObjectRecord,
        cx: &mut SaveContext<'_>,
        what: core::fmt::Arguments<'_>,
    ) -> Result<SavedFile> {
        rec.flags = file_flags(rec.flags, cx.failure, what)?;
        let t = tty::read(file)?;
        let mut slave = bindings::ckpt_tty::default();
        // SAFETY: the file is alive and a pseudo-terminal master (it was
        // claimed); `slave` is writable.
        let ret = unsafe { bindings::ckpt_pty_read_slave(file.as_ptr(), &mut slave) };
        if ret < 0 {
            return Err(Error::from_errno(ret));
        }
        check_pair(&t, &slave, cx.failure, what)?;
        let read = |side| {
            read_queue(file, side).map_err(|e| {
                let why = if e == EFBIG {
                    "more written to it than its line discipline took in"
                } else if e == EBUSY {
                    "it is being read, or has echoes not written yet"
                } else {
                    "its queue cannot be read"
                };
                (e, why)
            })
        };
        let (master_queue, slave_queue) = match read(false).and_then(|m| Ok((m, read(true)?))) {
            Ok(queues) => queues,
            Err((e, why)) => {
                cx.failure
                    .set(format_args!("{what}: pseudo-terminal {}: {why}", t.index));
                return Err(if e == EFBIG { eopnotsupp() } else { e });
            }
        };
        let flags = if t.locked { PTY_LOCKED } else { 0 }
            | if t.packet { PTY_PACKET } else { 0 }
            | if t.slave_closed { PTY_SLAVE_CLOSED } else { 0 };
        let saved = SavedPair {
            pair: PtyPairRecord {
                index: t.index,
                flags,
                packet_status: t.packet_status.into(),
                _pad: 0,
                master: tty::settings_record(&t),
                slave: tty::settings_record(&slave),
            },
            queues: [master_queue, slave_queue],
        };
        if !saved.pair.is_valid() {
            return Err(EINVAL);
        }
        Ok(SavedFile::PtyMaster(KBox::new(saved, GFP_KERNEL)?))
    }

    fn check_tree(&self, fds: &[OpenFd], failure: &mut Failure) -> Result {
        check_held_by_tree(fds, failure)
    }

    fn recreate_pty(
        &self,
        rec: &FileObjectRecord,
        ptmx: &[u8],
        pair: &PtyPairRecord,
        next_queue: &mut dyn FnMut() -> Result<(PtyQueueRecord, KVVec<u8>)>,
    ) -> Result<FileRef> {
        let mut master = tty::settings_of(&pair.master);
        master.index = pair.index;
        master.locked = pair.flags & PTY_LOCKED != 0;
        master.packet = pair.flags & PTY_PACKET != 0;
        master.slave_closed = pair.flags & PTY_SLAVE_CLOSED != 0;
        master.packet_status = pair.packet_status as u8;
        let slave = tty::settings_of(&pair.slave);
        let (path, flags) = (ptmx.as_ptr(), rec.flags as i32);
        // SAFETY: `path` is NUL-terminated; both settings are valid
        // structures for the call, which returns a counted reference or
        // an error pointer.
        let file = unsafe { bindings::ckpt_pty_create(path, flags, &master, &slave) };
        // SAFETY: as just said, which `from_owned_or_error` takes.
        let file = unsafe { FileRef::from_owned_or_error(file) }?;
        for side in [false, true] {
            let (q, body) = next_queue()?;
            if q.side != u32::from(side) {
                return Err(EINVAL);
            }
            let (read, line_ends, pending) = q.split_body(&body).ok_or(EINVAL)?;
            let queue = queue_of(&q);
            // SAFETY: the file is the master restart just created; the
            // three buffers hold the lengths `queue` gives (checked above
            // and by the parser), which the helper checks again.
            let ret = unsafe {
                bindings::ckpt_pty_fill_queue(
                    file.as_ptr(),
                    side,
                    &queue,
                    read.as_ptr(),
                    line_ends.as_ptr(),
                    pending.as_ptr(),
                )
            };
            if ret < 0 {
                return Err(Error::from_errno(ret));
            }
        }
        Ok(file)
    }
}

impl OpenFileKind for PtySlave {
    fn kind(&self) -> FileKind {
        FileKind::PtySlave
    }

    fn claims(&self, file: &FileRef) -> bool {
        read_pty(file).is_some_and(|t| !t.master)
    }

    fn save(
        &self,
        file: &FileRef,
        rec: &mut FileObjectRecord,
        cx: &mut SaveContext<'_>,
        what: core::fmt::Arguments<'_>,
    ) -> Result<SavedFile> {
        let t = tty::read(file)?;
        if !cx.objects.holds_pty_pair(t.pair) {
            rec.kind = FileKind::Terminal as u32;
            return tty::Terminal.save(file, rec, cx, what);
        }
        rec.flags = file_flags(rec.flags, cx.failure, what)?;
        // SAFETY: the file is alive; the helper returns a counted
        // reference to the master's file, or null.
        let master = unsafe { FileRef::from_owned(bindings::ckpt_pty_master_file(file.as_ptr())) };
        let master = master.ok_or(EINVAL)?;
        rec.device_or_pipe = cx.save_file(
            &master,
            format_args!("the pseudo-terminal master of {what}"),
        )?;
        Ok(SavedFile::PtySlave)
    }

    fn rejoin(&self, rec: &FileObjectRecord, objects: &mut RestartObjects) -> Result<FileRef> {
        let master = objects.file(rec.device_or_pipe)?;
        // SAFETY: the file is alive (the objhash holds it); the helper
        // checks that it is a pseudo-terminal master and returns a
        // counted reference or an error pointer.
        let file = unsafe { bindings::ckpt_pty_open_slave(master.as_ptr(), rec.flags as i32) };
        // SAFETY: as just said, which `from_owned_or_error` takes.
        unsafe { FileRef::from_owned_or_error(file) }
    }
}

/// One pseudo-terminal file in the fd tables, for [`check_held_by_tree`].
#[derive(Clone, Copy)]
struct PtyUse {
    pair: usize,
    file: usize,
    master: bool,
    /// Open files of the pair's slave.
    slave_opens: i32,
    /// Its index in the fd table.
    index: usize,
}

/// Refuses a pair whose master the fd tables of the tree (`fds`, all
/// their descriptors) hold but not every open file of: every open of the
/// slave must be a file of the tables, and no file of the pair may have a
/// reference besides their descriptors, one per descriptor in `fds`, and
/// the objhash's.
fn check_held_by_tree(fds: &[OpenFd], failure: &mut Failure) -> Result {
    let mut uses = KVec::new();
    for (index, fd) in fds.iter().enumerate() {
        if let Some(t) = read_pty(&fd.file) {
            uses.push(
                PtyUse {
                    pair: t.pair,
                    file: fd.file.as_ptr() as usize,
                    master: t.master,
                    slave_opens: t.slave_opens,
                    index,
                },
                GFP_KERNEL,
            )?;
        }
    }
    uses.sort_unstable_by_key(|u| (u.pair, u.file, u.index));
    for pair in uses.chunk_by(|a, b| a.pair == b.pair) {
        if pair.iter().any(|u| u.master) {
            check_one_pair(pair, fds, failure)?;
        }
    }
    Ok(())
}

/// [`check_held_by_tree`] for the uses of one pair, sorted by file.
fn check_one_pair(uses: &[PtyUse], fds: &[OpenFd], failure: &mut Failure) -> Result {
    let fd_of = |index: usize| fds.get(index).ok_or(EINVAL);
    let mut slave_files = 0i32;
    for same_file in uses.chunk_by(|a, b| a.file == b.file) {
        let one = same_file.first().ok_or(EINVAL)?;
        slave_files += i32::from(!one.master);
        let fd = fd_of(one.index)?;
        if !held_only_by_table(&fd.file, same_file.len()) {
            failure.set(format_args!(
                "fd {}: a pseudo-terminal file also held outside the tree",
                fd.fd
            ));
            return Err(eopnotsupp());
        }
    }
    let first = uses.first().ok_or(EINVAL)?;
    if slave_files != first.slave_opens {
        failure.set(format_args!(
            "fd {}: the pseudo-terminal's slave is open outside the tree (or as /dev/tty)",
            fd_of(first.index)?.fd
        ));
        return Err(eopnotsupp());
    }
    Ok(())
}
