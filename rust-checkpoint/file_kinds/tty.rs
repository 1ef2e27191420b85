// SPDX-License-Identifier: GPL-2.0

//! Terminals: the serial console, `/dev/console`, a pseudo-terminal slave
//! whose master is held outside the task, and any other tty device.
//! (Pseudo-terminal pairs whose master the task holds are `pty.rs`'s.)
//!
//! A terminal outlives the task: its queues (what was typed and not yet
//! read, what was written and not yet sent) stay in it and are not the
//! task's to save.  What the task set on it is: its termios (modes,
//! control characters, speeds) and window size.  So a terminal is saved
//! by path and device number with its settings, and restart reopens the
//! path (with `O_NOCTTY`), checks that it is the same device, and gives
//! it back its settings, as `TCSETS` and `TIOCSWINSZ` would (a new size
//! signals the foreground process group with `SIGWINCH`).  That happens
//! before restart's point of no return: a restart that fails later leaves
//! the terminal with the saved settings.
//!
//! The controlling terminal is not the task's either: restart keeps the
//! caller's session, and with it the caller's controlling terminal.
//!
//! Refused with `EOPNOTSUPP`: the master of a BSD pseudo-terminal
//! (`/dev/ptyXX`); a terminal that was hung up; one with another line
//! discipline than `N_TTY`.

use super::{OpenFileKind, SaveContext, SavedFile};
use crate::error::eopnotsupp;
use crate::file::FileRef;
use crate::format::{device_number, FileKind, FileObjectRecord, TtyRecord};
use kernel::bindings;
use kernel::error::{code::*, Error, Result};

/// Terminals.
pub(super) struct Terminal;

/// The settings of `file`'s terminal: `Err(EBADF)` if it is not one,
/// `Err(EIO)` if it was hung up.
pub(super) fn read(file: &FileRef) -> Result<bindings::ckpt_tty> {
    let mut t = bindings::ckpt_tty::default();
    // SAFETY: the file is alive (type invariant of `FileRef`); the helper
    // checks that it is a terminal before it looks further.
    let ret = unsafe { bindings::ckpt_tty_read(file.as_ptr(), &mut t) };
    if ret < 0 {
        return Err(Error::from_errno(ret));
    }
    Ok(t)
}

impl OpenFileKind for Terminal {
    fn kind(&self) -> FileKind {
        FileKind::Terminal
    }

    fn claims(&self, file: &FileRef) -> bool {
        // `/dev/tty` stands for whatever the controlling terminal is: a
        // character device without state of its own.  A hung-up terminal
        // is claimed: `save` refuses it with a reason.
        file.inode_rdev() != device_number(5, 0) && !matches!(read(file), Err(e) if e == EBADF)
    }

    fn save(
        &self,
        file: &FileRef,
        rec: &mut FileObjectRecord,
        cx: &mut SaveContext<'_>,
        what: core::fmt::Arguments<'_>,
    ) -> Result<SavedFile> {
        let t = match read(file) {
            Ok(t) => t,
            Err(e) => {
                cx.failure
                    .set(format_args!("{what}: a hung-up terminal cannot be saved"));
                return Err(if e == EIO { eopnotsupp() } else { e });
            }
        };
        if t.master {
            cx.failure.set(format_args!(
                "{what}: a BSD pseudo-terminal master cannot be saved"
            ));
            return Err(eopnotsupp());
        }
        if t.line != 0 {
            cx.failure.set(format_args!(
                "{what}: a terminal with line discipline {} cannot be saved",
                t.line
            ));
            return Err(eopnotsupp());
        }
        rec.device_or_pipe = file.inode_rdev();
        Ok(SavedFile::Terminal(settings_record(&t)))
    }

    fn reopen_terminal(
        &self,
        rec: &FileObjectRecord,
        path: &[u8],
        settings: &TtyRecord,
    ) -> Result<FileRef> {
        let file = FileRef::open(path, rec.flags)?;
        let now = read(&file)?;
        if now.master || file.inode_rdev() != rec.device_or_pipe {
            return Err(EINVAL);
        }
        let t = settings_of(settings);
        // SAFETY: the file is alive and a terminal (checked above); `t`
        // is a valid settings structure for the call.
        let ret = unsafe { bindings::ckpt_tty_restore(file.as_ptr(), &t) };
        if ret < 0 {
            return Err(Error::from_errno(ret));
        }
        Ok(file)
    }
}

/// The settings record of the terminal `t` describes (whose line
/// discipline is `N_TTY`).
pub(super) fn settings_record(t: &bindings::ckpt_tty) -> TtyRecord {
    TtyRecord {
        iflag: t.iflag,
        oflag: t.oflag,
        cflag: t.cflag,
        lflag: t.lflag,
        ispeed: t.ispeed,
        ospeed: t.ospeed,
        rows: t.rows,
        cols: t.cols,
        xpixel: t.xpixel,
        ypixel: t.ypixel,
        line: 0,
        cc: t.cc,
        _pad: [0; 4],
    }
}

/// The settings `ckpt_tty_restore` gives a terminal, from a record.
pub(super) fn settings_of(settings: &TtyRecord) -> bindings::ckpt_tty {
    bindings::ckpt_tty {
        iflag: settings.iflag,
        oflag: settings.oflag,
        cflag: settings.cflag,
        lflag: settings.lflag,
        ispeed: settings.ispeed,
        ospeed: settings.ospeed,
        rows: settings.rows,
        cols: settings.cols,
        xpixel: settings.xpixel,
        ypixel: settings.ypixel,
        line: 0,
        cc: settings.cc,
        ..Default::default()
    }
}
