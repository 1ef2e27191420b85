// SPDX-License-Identifier: GPL-2.0

//! Runs the format layer's shared test cases (the same ones KUnit runs in
//! the booted kernel) as ordinary `cargo test` tests.

use ckpt_format::format::testing::Check;

use ckpt_format::format::testing::{Case, SCRATCH_LEN};

/// A checker that collects failures; the test panics if there were any.
struct HostCheck(Vec<String>);

impl Check for HostCheck {
    fn fail(&mut self, file: &'static str, line: u32, msg: std::fmt::Arguments<'_>) {
        self.0.push(format!("{file}:{line}: {msg}"));
    }
}

fn run(case: Case) {
    let mut c = HostCheck(Vec::new());
    let mut scratch = vec![0; SCRATCH_LEN];
    case(&mut c, &mut scratch);
    assert!(c.0.is_empty(), "failed expectations:\n{}", c.0.join("\n"));
}

macro_rules! host_tests {
    ($suite:ident, [$(($name:ident, $f:path)),* $(,)?]) => {
        mod $suite {
            $(
                #[test]
                fn $name() {
                    super::run($f);
                }
            )*
        }
    };
}

ckpt_format::format_cases!(host_tests);
ckpt_format::x86_cases!(host_tests);
