// SPDX-License-Identifier: GPL-2.0

//! Host build of the checkpoint image format.
//!
//! The module below is the kernel crate's `format` module, compiled from
//! the very same files (`rust-checkpoint/format/`), so host tools and tests
//! exercise the code the kernel runs.

#![no_std]

#[path = "../format/mod.rs"]
pub mod format;
