// SPDX-License-Identifier: GPL-2.0

//! Test cases of the x86-64 checks, run as the `checkpoint_x86` KUnit
//! suite and by `cargo test` on the host.

use super::xstate::*;
use crate::format::testing::{check, check_eq, Check};
use crate::format::Errno;

/// The limits of a CPU with x87, SSE and AVX and an 832-byte buffer.
const LIMITS: XstateLimits = XstateLimits {
    size: 832,
    features: 0b111,
    mxcsr_mask: 0xffbf,
};

fn valid_xsave(buf: &mut [u8]) {
    buf.fill(0);
    // MXCSR default, xstate_bv = x87 | SSE.
    buf[MXCSR_OFFSET..MXCSR_OFFSET + 4].copy_from_slice(&0x1f80u32.to_le_bytes());
    buf[XSAVE_HEADER_OFFSET] = 0b11;
}

/// A buffer the FPU core would accept passes; each defect is `EINVAL`.
pub fn xsave_checks(t: &mut dyn Check, scratch: &mut [u8]) {
    let buf = &mut scratch[..LIMITS.size as usize];
    valid_xsave(buf);
    check_eq!(t, check_xsave(buf, &LIMITS), Ok(()));
    let defects: [fn(&mut [u8]); 5] = [
        |b| b[XSAVE_HEADER_OFFSET] = 0b1000,    // a feature not enabled
        |b| b[XSAVE_HEADER_OFFSET + 15] = 0x80, // compacted format
        |b| b[XSAVE_HEADER_OFFSET + 40] = 1,    // reserved header byte
        |b| b[MXCSR_OFFSET + 2] = 1,            // reserved MXCSR bit
        |b| b[MXCSR_OFFSET] |= 0x40,            // DAZ, not in the mask
    ];
    for defect in defects {
        valid_xsave(buf);
        defect(buf);
        check_eq!(t, check_xsave(buf, &LIMITS), Err(Errno::EINVAL));
    }
    // Wrong sizes.
    valid_xsave(buf);
    check_eq!(
        t,
        check_xsave(&buf[..LIMITS.size as usize - 64], &LIMITS),
        Err(Errno::EINVAL)
    );
    let small = XstateLimits {
        size: 512,
        ..LIMITS
    };
    check_eq!(t, check_xsave(&buf[..512], &small), Err(Errno::EINVAL));
    // Without x87/SSE/AVX state MXCSR is not looked at.
    valid_xsave(buf);
    buf[XSAVE_HEADER_OFFSET] = 0;
    buf[MXCSR_OFFSET + 2] = 1;
    check_eq!(t, check_xsave(buf, &LIMITS), Ok(()));
}

/// Saved RFLAGS keep only the user-settable bits and always have IF.
pub fn flags_sanitized(t: &mut dyn Check, _scratch: &mut [u8]) {
    check_eq!(t, sanitize_flags(0), 0x202);
    check_eq!(t, sanitize_flags(0x246), 0x246);
    // TF, IOPL, NT, RF, VM, VIF/VIP dropped; CF, DF, AC, ID kept.
    check_eq!(
        t,
        sanitize_flags(0x100 | 0x3000 | 0x4000 | 0x1_0000 | 0x2_0000),
        0x202
    );
    check_eq!(
        t,
        sanitize_flags(0x1 | 0x400 | 0x4_0000 | 0x20_0000),
        0x24_0603
    );
    check!(
        t,
        sanitize_flags(u64::MAX) & !USER_FLAGS_MASK == FLAGS_ALWAYS_SET
    );
}

/// Calls `$m!(suite_name, [(case_name, case_fn), ...])` with the cases.
#[macro_export]
macro_rules! x86_cases {
    ($m:ident) => {
        $m!(
            checkpoint_x86,
            [
                (xsave_checks, $crate::arch::tests::xsave_checks),
                (flags_sanitized, $crate::arch::tests::flags_sanitized),
            ]
        );
    };
}
