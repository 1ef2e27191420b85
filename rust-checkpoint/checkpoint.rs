// SPDX-License-Identifier: GPL-2.0

//! Checkpoint/restart of processes: the `checkpoint(2)` and `restart(2)`
//! system calls.
//!
//! This crate is built into the kernel (`CONFIG_CHECKPOINT`); the syscall
//! stubs in `kernel/checkpoint_sys.c` enter it through [`sys`].  Modules:
//!
//! - [`format`]: the image format, writer and validating reader; pure Rust,
//!   shared with the host build in `rust-checkpoint/host`.
//! - [`driver`]: the order in which state is saved and restored.
//! - [`error`]: errno conversions and the failure record.
//! - one module per state family, each with its save and restore side:
//!   [`task`], [`thread`], [`tree`], [`signals`], [`limits`], [`timers`], [`creds`], [`sched`],
//!   [`files`] (over [`file`], with one module per kind of open file in
//!   [`file_kinds`]), [`ctty`], [`mm`], and the [`objhash`] of shared
//!   objects.
//! - [`arch`]: x86-64 state (from the project's `arch-x86/` directory).
//!
//! See `Documentation/checkpoint/` for the design and the image format.

/// Prefix of the crate's log messages (used by `pr_*!`).
const __LOG_PREFIX: &[u8] = b"checkpoint\0";

pub mod format;

#[path = "../arch-x86/mod.rs"]
pub mod arch;
pub mod creds;
pub mod ctty;
pub mod driver;
pub mod error;
pub mod file;
pub mod file_kinds;
pub mod files;
pub mod limits;
pub mod mm;
pub mod objhash;
pub mod sched;
pub mod sharing;
pub mod signals;
pub mod sys;
pub mod task;
pub mod thread;
pub mod timers;
pub mod tree;

#[cfg(CONFIG_KUNIT)]
mod kunit;

#[cfg(CONFIG_KUNIT)]
mod kunit_suites {
    use crate::kunit::kunit_suite;

    crate::format_cases!(kunit_suite);
    crate::x86_cases!(kunit_suite);
    crate::objhash_cases!(kunit_suite);
}
