// SPDX-License-Identifier: GPL-2.0

//! What `cr info --json` prints and `cr diff` compares: the image as
//! data.  Its JSON form is schema 1, documented in
//! `Documentation/checkpoint/usage.rst`; numbers are JSON numbers
//! (addresses included), texts are strings.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The version of this layout; a change that is not an addition bumps it.
pub const SCHEMA: u32 = 1;

/// One decoded image.
#[derive(Serialize, Deserialize, PartialEq, Debug, Default, Clone)]
pub struct Image {
    pub schema: u32,
    pub header: Option<Header>,
    pub task: Option<Task>,
    pub registers: Option<Registers>,
    /// Open files by object reference (fds point at them).
    pub files: Vec<File>,
    pub fds: Vec<Fd>,
    /// The memory map, in address order.
    pub areas: Vec<Area>,
    /// Pages saved in all.
    pub pages: u64,
    /// Bytes decoded (the whole image when it is sound).
    pub bytes: u64,
    /// Why decoding stopped early; `None` for a sound image.
    pub failure: Option<Failure>,
    /// Page contents by address, as a hash: what `cr diff` compares.
    #[serde(skip)]
    pub page_hashes: BTreeMap<u64, u64>,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
pub struct Header {
    pub format_rev: u32,
    pub arch: u32,
    pub page_size: u64,
    pub kernel_release: String,
    pub kernel_version: String,
    pub machine: String,
    /// Time of the checkpoint: seconds and nanoseconds since the epoch.
    pub time_sec: i64,
    pub time_nsec: u32,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
pub struct Task {
    pub comm: String,
    pub pid: i32,
    pub tgid: i32,
    pub pgid: i32,
    pub sid: i32,
    pub exit_signal: i32,
    pub blocked_signals: u64,
}

/// The general registers and segment bases, by their kernel names.
#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
pub struct Registers(pub BTreeMap<String, u64>);

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
pub struct File {
    /// The object reference fds and mappings use.
    pub id: u32,
    /// What it is: "regular file", "pipe end", "eventfd"...
    pub kind: String,
    /// Open flags (`O_*`), octal in the text view.
    pub flags: u32,
    pub pos: i64,
    /// The rest, as the text view prints it (path, state...).
    pub detail: String,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
pub struct Fd {
    pub fd: u32,
    pub file: u32,
    pub cloexec: bool,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
pub struct Area {
    pub start: u64,
    pub end: u64,
    /// As in `/proc/PID/maps`: "r-xp", "rw-s"...
    pub perms: String,
    /// Offset in the file, in bytes.
    pub offset: u64,
    /// The file's path, or "[heap]", "[stack]", "[vdso]", "[vvar]", or "".
    pub name: String,
    /// Pages the image holds for this area.
    pub pages: u64,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
pub struct Failure {
    /// "damaged" (the parser refused the image) or "failed checkpoint"
    /// (the image records one).
    pub kind: String,
    pub errno: i32,
    /// Where decoding stopped (damaged images).
    pub offset: u64,
    pub message: String,
}
