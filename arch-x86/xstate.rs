// SPDX-License-Identifier: GPL-2.0

//! Checks of x86-64 register state read from an image, written as pure
//! functions so that the same code runs in the kernel and in host tests.
//!
//! They mirror what the kernel's FPU core and `ptrace` accept, so that a
//! restart finds a bad image before its point of no return instead of
//! failing half way.

use crate::format::{Errno, Result};

/// Offset of the XSAVE header in a standard-format XSAVE buffer.
pub const XSAVE_HEADER_OFFSET: usize = 512;
/// Size of the XSAVE header.
pub const XSAVE_HEADER_SIZE: usize = 64;
/// Offset of MXCSR in the legacy area.
pub const MXCSR_OFFSET: usize = 24;

/// XSAVE feature bits whose state includes MXCSR (x87, SSE, AVX).
pub const XFEATURES_WITH_MXCSR: u64 = 0b111;

/// The limits the running kernel puts on an XSAVE buffer.
#[derive(Clone, Copy, Debug)]
pub struct XstateLimits {
    /// Size of a user-ABI XSAVE buffer.
    pub size: u32,
    /// Features a user buffer may carry.
    pub features: u64,
    /// Writable MXCSR bits.
    pub mxcsr_mask: u32,
}

fn le_u64(buf: &[u8], at: usize) -> Result<u64> {
    let bytes = buf.get(at..at + 8).ok_or(Errno::EINVAL)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(bytes);
    Ok(u64::from_le_bytes(a))
}

/// Checks a standard-format XSAVE buffer as the FPU core will when it is
/// restored: its size, no feature outside `limits.features`, no compacted
/// format, zero reserved header bytes, no reserved MXCSR bit.
pub fn check_xsave(buf: &[u8], limits: &XstateLimits) -> Result {
    if buf.len() != limits.size as usize || buf.len() < XSAVE_HEADER_OFFSET + XSAVE_HEADER_SIZE {
        return Err(Errno::EINVAL);
    }
    let xstate_bv = le_u64(buf, XSAVE_HEADER_OFFSET)?;
    let xcomp_bv = le_u64(buf, XSAVE_HEADER_OFFSET + 8)?;
    let reserved = buf
        .get(XSAVE_HEADER_OFFSET + 16..XSAVE_HEADER_OFFSET + XSAVE_HEADER_SIZE)
        .ok_or(Errno::EINVAL)?;
    if xstate_bv & !limits.features != 0 || xcomp_bv != 0 || reserved.iter().any(|&b| b != 0) {
        return Err(Errno::EINVAL);
    }
    if xstate_bv & XFEATURES_WITH_MXCSR != 0 {
        let mxcsr = le_u64(buf, MXCSR_OFFSET)? as u32;
        if mxcsr & !limits.mxcsr_mask != 0 {
            return Err(Errno::EINVAL);
        }
    }
    Ok(())
}

/// RFLAGS bits a restarted task gets from its image: the arithmetic
/// flags, DF, AC and ID (the bits `ptrace` lets a debugger set, minus the
/// trap and resume flags, which would make the task stop or skip a
/// breakpoint).
pub const USER_FLAGS_MASK: u64 =
    0x1 | 0x4 | 0x10 | 0x40 | 0x80 | 0x400 | 0x800 | 0x4_0000 | 0x20_0000;

/// RFLAGS bits every user task has: IF and the always-one bit 1.
pub const FLAGS_ALWAYS_SET: u64 = 0x200 | 0x2;

/// The RFLAGS a restarted task returns to user space with.
pub fn sanitize_flags(saved: u64) -> u64 {
    (saved & USER_FLAGS_MASK) | FLAGS_ALWAYS_SET
}
