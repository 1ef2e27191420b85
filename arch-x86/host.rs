// SPDX-License-Identifier: GPL-2.0

//! The pure part of the x86-64 code, as the host crate
//! (`rust-checkpoint/host`) compiles it: the checks of saved register
//! state and their test cases, from the same files as the kernel build.

pub mod tests;
pub mod xstate;
