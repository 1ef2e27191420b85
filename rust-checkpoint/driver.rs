// SPDX-License-Identifier: GPL-2.0

//! The checkpoint and restart drivers: argument checks, the order in which
//! state is written and read, and the image header of the running kernel.
//!
//! An image is today a header and a tail; the task, memory, register and
//! file records are written between the two as those families arrive.

use crate::arch;
use crate::file::{to_kernel_error, FileRef, FileSink, FileSource};
use crate::format::{
    fill_cstr_field, Errno, ImageHeader, ImageParser, ImageWriter, Item, KernelConstants,
    FORMAT_REVISION, IMAGE_MAGIC, MAX_STRING_LEN, UTS_FIELD_SIZE,
};
use crate::mm::VmaList;
use crate::task::TaskRef;
use core::sync::atomic::{AtomicI32, Ordering};
use kernel::alloc::{flags::GFP_KERNEL, KVec};
use kernel::bindings;
use kernel::error::{code::*, Result};
use kernel::prelude::*;
use kernel::str::BStr;

/// Size of the buffer that gathers small records before a write.
const WRITE_BUFFER_SIZE: usize = 16 * 1024;
/// Size of the read-ahead buffer of restart.
const READ_BUFFER_SIZE: usize = 16 * 1024;

/// Source of checkpoint ids: positive, increasing, wrapping to 1.
static LAST_CRID: AtomicI32 = AtomicI32::new(0);

fn next_crid() -> i32 {
    let prev = LAST_CRID
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
            Some(if v == i32::MAX { 1 } else { v + 1 })
        })
        .unwrap_or(0);
    if prev == i32::MAX {
        1
    } else {
        prev + 1
    }
}

/// The constants of the running kernel that images must match.
pub fn running_constants() -> KernelConstants {
    KernelConstants {
        page_size: bindings::PAGE_SIZE as u32,
        task_comm_len: bindings::TASK_COMM_LEN as u16,
        uts_len: (bindings::__NEW_UTS_LEN + 1) as u16,
        linux_version_code: bindings::LINUX_VERSION_CODE,
        _reserved: 0,
    }
}

fn copy_uts_field(dst: &mut [u8; UTS_FIELD_SIZE], src: &[u8]) {
    let len = src.iter().position(|&b| b == 0).unwrap_or(src.len());
    fill_cstr_field(dst, src.get(..len).unwrap_or(&[]));
}

/// The image header describing this kernel and the current time.
fn image_header(flags: u64) -> ImageHeader {
    let mut ts = bindings::timespec64::default();
    // SAFETY: `ts` is a valid, writable `timespec64`.
    unsafe { bindings::ktime_get_real_ts64(&mut ts) };
    let mut h = ImageHeader {
        magic: IMAGE_MAGIC,
        format_rev: FORMAT_REVISION,
        arch: arch::IMAGE_ARCH,
        flags,
        time_sec: ts.tv_sec,
        time_nsec: ts.tv_nsec as u32,
        _pad0: 0,
        constants: running_constants(),
        release: [0; UTS_FIELD_SIZE],
        version: [0; UTS_FIELD_SIZE],
        machine: [0; UTS_FIELD_SIZE],
    };
    // SAFETY: `utsname()` returns the calling task's UTS name, valid while
    // the task runs; release, version and machine never change after boot.
    let uts = unsafe { &*bindings::utsname() };
    copy_uts_field(&mut h.release, &uts.release);
    copy_uts_field(&mut h.version, &uts.version);
    copy_uts_field(&mut h.machine, &uts.machine);
    h
}

/// Checkpoints task `pid` (0: the caller) to `fd`; returns the checkpoint id.
pub fn checkpoint(pid: bindings::pid_t, fd: i32, flags: u64) -> Result<i32> {
    if flags != 0 {
        return Err(EINVAL);
    }
    let file = FileRef::from_fd(fd)?;
    file.require_writable()?;
    let _target = TaskRef::lookup_for_checkpoint(pid)?;

    let mut buf = KVec::from_elem(0u8, WRITE_BUFFER_SIZE, GFP_KERNEL)?;
    let mut w = ImageWriter::new(FileSink(&file), &mut buf);
    w.write_record(&image_header(flags))
        .map_err(to_kernel_error)?;
    w.finish().map_err(to_kernel_error)?;
    Ok(next_crid())
}

/// Restarts from the image at `fd`.
///
/// The whole image is parsed and validated first.  Restoring task state
/// comes with the memory and register families: until then an image that
/// holds a task is valid but gives `EOPNOTSUPP`, and an image without one
/// returns 0 with the caller unchanged.  An image that records a failed
/// checkpoint gives `EIO` after its message is logged.
pub fn restart(crid: i32, fd: i32, flags: u64) -> Result<i64> {
    if flags != 0 || crid != 0 {
        return Err(EINVAL);
    }
    let file = FileRef::from_fd(fd)?;
    file.require_readable()?;

    let mut read_buf = KVec::from_elem(0u8, READ_BUFFER_SIZE, GFP_KERNEL)?;
    let mut strings = KVec::from_elem(0u8, MAX_STRING_LEN as usize, GFP_KERNEL)?;
    let mut parser = ImageParser::new(
        FileSource(&file),
        &mut read_buf,
        &mut strings,
        VmaList::new(),
    )
    .map_err(to_kernel_error)?;
    let mut tasks = 0usize;
    loop {
        match parser.next_item().map_err(to_kernel_error)? {
            Item::Header(h) => h
                .validate(arch::IMAGE_ARCH, &running_constants())
                .map_err(to_kernel_error)?,
            Item::Task(_) => tasks += 1,
            Item::Error { errno, message } => {
                pr_err!(
                    "restart: the image records a failed checkpoint (errno {}): {}\n",
                    errno,
                    BStr::from_bytes(message)
                );
                return Err(EIO);
            }
            Item::Tail => break,
            // Validated by the parser; restored by later state families.
            _ => {}
        }
    }
    if tasks > 0 {
        return Err(to_kernel_error(Errno::EOPNOTSUPP));
    }
    Ok(0)
}
