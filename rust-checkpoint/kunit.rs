// SPDX-License-Identifier: GPL-2.0

//! Declaring KUnit suites from Rust.
//!
//! Linux 6.12 has no `#[kunit_tests]`; [`kunit_suite!`] fills that gap on
//! top of the C structures.  It builds, at compile time, a static array of
//! `struct kunit_case` (terminated by a zeroed entry), a static
//! `struct kunit_suite`, and a pointer to the suite in the
//! `.kunit_test_suites` section, which is where the linker gathers
//! built-in suites for KUnit to run at boot.
//!
//! A case is a safe [`Case`]; the generated `extern "C"` trampoline hands
//! it a [`KunitCheck`], which reports failed expectations to KUnit without
//! aborting the case (no forced unwinding through Rust frames), and
//! vmalloc'ed scratch memory.  The same case functions run on the host
//! under `cargo test`.

use crate::format::testing::{Case, Check, SCRATCH_LEN};
use kernel::alloc::{flags::GFP_KERNEL, VVec};
use kernel::bindings;

/// Reports failures of a running case to KUnit.
pub(crate) struct KunitCheck {
    test: *mut bindings::kunit,
}

impl Check for KunitCheck {
    fn fail(&mut self, file: &'static str, line: u32, msg: core::fmt::Arguments<'_>) {
        kernel::kunit::err(format_args!("    # EXPECTATION FAILED at {file}:{line}\n"));
        kernel::kunit::err(format_args!("    {msg}\n"));
        // SAFETY: `self.test` is the `struct kunit` KUnit passed to the
        // running case (see `run_case`) and stays valid until it returns;
        // this is the store `kunit_set_failure()` does.
        unsafe {
            core::ptr::write_volatile(
                core::ptr::addr_of_mut!((*self.test).status),
                bindings::kunit_status_KUNIT_FAILURE,
            )
        };
    }
}

/// Runs `case` as the body of a KUnit case.
///
/// # Safety
///
/// `test` must be the pointer KUnit passed to the case's `run_case`.
pub(crate) unsafe fn run_case(test: *mut bindings::kunit, case: Case) {
    let mut check = KunitCheck { test };
    match VVec::from_elem(0u8, SCRATCH_LEN, GFP_KERNEL) {
        Ok(mut scratch) => case(&mut check, &mut scratch),
        Err(_) => check.fail(
            file!(),
            line!(),
            format_args!("cannot allocate {SCRATCH_LEN} bytes of scratch memory"),
        ),
    }
}

/// A `kunit_case` for `run` named by the NUL-terminated `name`.
pub(crate) const fn case(
    name: &'static [u8],
    run: unsafe extern "C" fn(*mut bindings::kunit),
) -> bindings::kunit_case {
    assert!(!name.is_empty() && name[name.len() - 1] == 0);
    // SAFETY: `kunit_case` is a C struct for which all-zero bytes are valid
    // (null pointers, `None` callbacks, zero enums and counters).
    let mut c: bindings::kunit_case = unsafe { core::mem::zeroed() };
    c.run_case = Some(run);
    c.name = name.as_ptr().cast();
    c
}

/// The zeroed entry that terminates a case array.
pub(crate) const fn case_end() -> bindings::kunit_case {
    // SAFETY: as in `case`, all-zero is a valid `kunit_case`.
    unsafe { core::mem::zeroed() }
}

/// A `kunit_suite` named `name` running the cases at `cases`.
pub(crate) const fn suite(name: &str, cases: *mut bindings::kunit_case) -> bindings::kunit_suite {
    // SAFETY: `kunit_suite` is a C struct for which all-zero bytes are valid.
    let mut s: bindings::kunit_suite = unsafe { core::mem::zeroed() };
    let bytes = name.as_bytes();
    assert!(bytes.len() < s.name.len());
    let mut i = 0;
    while i < bytes.len() {
        s.name[i] = bytes[i] as _;
        i += 1;
    }
    s.test_cases = cases;
    s
}

/// Declares a built-in KUnit suite:
/// `kunit_suite!(suite_name, [(case_name, path::to::case_fn), ...]);`
///
/// Each case function is a [`Case`].
macro_rules! kunit_suite {
    ($suite:ident, [$(($name:ident, $f:path)),* $(,)?]) => {
        const _: () = {
            use kernel::bindings;
            const COUNT: usize = [$(stringify!($name)),*].len();
            static mut CASES: [bindings::kunit_case; COUNT + 1] = [
                $(
                    $crate::kunit::case(concat!(stringify!($name), "\0").as_bytes(), {
                        /// # Safety
                        ///
                        /// Only KUnit calls this, with the test it runs.
                        unsafe extern "C" fn run(test: *mut bindings::kunit) {
                            // SAFETY: KUnit calls `run_case` with the test
                            // it is running.
                            unsafe { $crate::kunit::run_case(test, $f) }
                        }
                        run
                    }),
                )*
                $crate::kunit::case_end(),
            ];
            static mut SUITE: bindings::kunit_suite = $crate::kunit::suite(
                stringify!($suite),
                // Only the address is taken; KUnit is the sole user of the
                // array once the kernel runs.
                core::ptr::addr_of_mut!(CASES).cast(),
            );
            #[used]
            #[link_section = ".kunit_test_suites"]
            static mut SUITE_ENTRY: *mut bindings::kunit_suite = core::ptr::addr_of_mut!(SUITE);
        };
    };
}
pub(crate) use kunit_suite;
