// SPDX-License-Identifier: GPL-2.0

//! x86-64 specifics of checkpoint/restart.
//!
//! This module is compiled into the checkpoint crate (see
//! `rust-checkpoint/checkpoint.rs`).  Today it only names the architecture
//! written into image headers; register, FPU/xstate and TLS state come
//! with task checkpoint.

use crate::format::ARCH_X86_64;

/// The architecture identifier of images made by this kernel.
pub const IMAGE_ARCH: u32 = ARCH_X86_64;
