// SPDX-License-Identifier: GPL-2.0

//! Record layouts of format revision 1.
//!
//! Offsets in the comments are from the start of the payload, which follows
//! the 8-byte [`RecordHeader`].

use super::{cstr_field, Errno, Pod, Result};
use core::mem::size_of;

/// Format revision written into every image and required at restart.
///
/// Bump it whenever a record layout, a record type number or an ordering
/// rule changes (see `Documentation/checkpoint/format.rst`).
pub const FORMAT_REVISION: u32 = 1;

/// First field of the [`ImageHeader`] payload: `"CKPTIMG\0"` in
/// little-endian byte order (`CHECKPOINT_IMAGE_MAGIC` in the uapi header).
pub const IMAGE_MAGIC: u64 = 0x0047_4d49_5450_4b43;

/// First field of the [`ImageTail`] payload: `"CKPTEND\0"`
/// (`CHECKPOINT_TAIL_MAGIC` in the uapi header).
pub const TAIL_MAGIC: u64 = 0x0044_4e45_5450_4b43;

/// Every record's length is a multiple of this.
pub const RECORD_ALIGN: usize = 8;

/// Largest record length the reader accepts, header included.  Bounds every
/// allocation sized by an image.
pub const MAX_RECORD_LEN: u32 = 1 << 20;

/// Size of each utsname string field in the header: the kernel's
/// `__NEW_UTS_LEN + 1` (65) rounded up to the record alignment.
pub const UTS_FIELD_SIZE: usize = 72;

/// Architecture identifier of x86-64 images.
pub const ARCH_X86_64: u32 = 1;

/// Record type numbers.  Numbers are never reused; new families get new
/// ranges (see the format documentation for the plan).
#[repr(u32)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RecordType {
    /// [`ImageHeader`]: the first record of every image.
    Header = 1,
    /// [`ImageTail`]: the last record of every image.
    Tail = 2,
}

impl RecordType {
    /// Maps a type number read from an image to a known type.
    pub fn from_u32(v: u32) -> Option<RecordType> {
        match v {
            1 => Some(RecordType::Header),
            2 => Some(RecordType::Tail),
            _ => None,
        }
    }
}

/// The header in front of every record.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct RecordHeader {
    /// A [`RecordType`] number.
    pub rtype: u32,
    /// Length of the whole record in bytes, this header included; a
    /// multiple of [`RECORD_ALIGN`].
    pub len: u32,
}
const _: () = assert!(size_of::<RecordHeader>() == 8);
// SAFETY: `repr(C)`, two `u32` fields, no padding (size asserted above).
unsafe impl Pod for RecordHeader {}

/// A fixed-size record payload.
pub trait Record: Pod {
    /// The type number that introduces this payload.
    const TYPE: RecordType;

    /// Length of the whole record, header included.
    const RECORD_LEN: u32 = {
        let len = size_of::<RecordHeader>() + size_of::<Self>();
        assert!(len % RECORD_ALIGN == 0 && len <= MAX_RECORD_LEN as usize);
        len as u32
    };
}

/// Kernel constants that the layout of saved state depends on.  Restart
/// requires them to equal the running kernel's.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct KernelConstants {
    /// `PAGE_SIZE`. Offset 0.
    pub page_size: u32,
    /// `TASK_COMM_LEN`. Offset 4.
    pub task_comm_len: u16,
    /// Size of each `struct new_utsname` field (`__NEW_UTS_LEN + 1`). Offset 6.
    pub uts_len: u16,
    /// `LINUX_VERSION_CODE` of the checkpointing kernel (informative, not
    /// compared). Offset 8.
    pub linux_version_code: u32,
    /// Zero. Offset 12.
    pub _reserved: u32,
}
const _: () = assert!(size_of::<KernelConstants>() == 16);
// SAFETY: `repr(C)`, integer fields, no padding (size asserted above).
unsafe impl Pod for KernelConstants {}

impl KernelConstants {
    /// Whether an image made with `self` can be restarted on a kernel with
    /// `running`.  `linux_version_code` is informative and not compared.
    pub fn compatible_with(&self, running: &KernelConstants) -> bool {
        self.page_size == running.page_size
            && self.task_comm_len == running.task_comm_len
            && self.uts_len == running.uts_len
            && self._reserved == 0
    }
}

/// Payload of the first record of an image.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ImageHeader {
    /// [`IMAGE_MAGIC`]. Offset 0.
    pub magic: u64,
    /// [`FORMAT_REVISION`]. Offset 8.
    pub format_rev: u32,
    /// Architecture, e.g. [`ARCH_X86_64`]. Offset 12.
    pub arch: u32,
    /// The `flags` argument of the `checkpoint` call. Offset 16.
    pub flags: u64,
    /// Wall-clock time of the checkpoint, seconds. Offset 24.
    pub time_sec: i64,
    /// Nanoseconds part of the time. Offset 32.
    pub time_nsec: u32,
    /// Zero. Offset 36.
    pub _pad0: u32,
    /// Layout-defining constants. Offset 40.
    pub constants: KernelConstants,
    /// `uname -r` of the checkpointing kernel, NUL-terminated. Offset 56.
    pub release: [u8; UTS_FIELD_SIZE],
    /// `uname -v`, NUL-terminated. Offset 128.
    pub version: [u8; UTS_FIELD_SIZE],
    /// `uname -m`, NUL-terminated. Offset 200.
    pub machine: [u8; UTS_FIELD_SIZE],
}
const _: () = assert!(size_of::<ImageHeader>() == 272);
// SAFETY: `repr(C)`, integer and byte-array fields, every gap an explicit
// field (size asserted above equals the sum of the field sizes).
unsafe impl Pod for ImageHeader {}

impl Record for ImageHeader {
    const TYPE: RecordType = RecordType::Header;
}

impl ImageHeader {
    /// Checks a header read from an image against the running kernel.
    ///
    /// Rejects (with `EINVAL`) a wrong magic, another format revision or
    /// architecture, flag bits this revision does not define, incompatible
    /// kernel constants, non-zero padding and strings without a NUL.
    pub fn validate(&self, arch: u32, running: &KernelConstants) -> Result {
        let strings_ok = cstr_field(&self.release).is_some()
            && cstr_field(&self.version).is_some()
            && cstr_field(&self.machine).is_some();
        if self.magic != IMAGE_MAGIC
            || self.format_rev != FORMAT_REVISION
            || self.arch != arch
            || self.flags != 0
            || self._pad0 != 0
            || self.time_nsec >= 1_000_000_000
            || !self.constants.compatible_with(running)
            || !strings_ok
        {
            return Err(Errno::EINVAL);
        }
        Ok(())
    }
}

/// Payload of the last record of an image.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ImageTail {
    /// [`TAIL_MAGIC`]. Offset 0.
    pub magic: u64,
    /// Number of image bytes before the tail record. Offset 8.
    pub image_len: u64,
    /// XXH64 (seed 0) of those bytes. Offset 16.
    pub checksum: u64,
}
const _: () = assert!(size_of::<ImageTail>() == 24);
// SAFETY: `repr(C)`, three `u64` fields, no padding (size asserted above).
unsafe impl Pod for ImageTail {}

impl Record for ImageTail {
    const TYPE: RecordType = RecordType::Tail;
}
