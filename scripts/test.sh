#!/usr/bin/env bash
# Run every test: host tests (cargo), then the patched kernel in QEMU with
# the project's KUnit suites at boot and the guest tests from user space.
#
# Installs what it needs (scripts/deps.sh), sets up and builds the kernel
# incrementally, and ends with one line "N passed, N failed".  Fails if any
# test fails, a KUnit suite or guest test is missing, or the guest did not
# finish.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib.sh
. "$top/scripts/lib.sh"
export PATH="$HOME/.cargo/bin:$PATH"

passed=0
failed=0
skipped=0
problems=()

finish() {
	for p in "${problems[@]}"; do
		printf 'problem: %s\n' "$p" >&2
	done
	[ "$skipped" -eq 0 ] || printf '%d skipped\n' "$skipped"
	printf '%d passed, %d failed\n' "$passed" "$failed"
	[ "$failed" -eq 0 ] && [ ${#problems[@]} -eq 0 ]
	exit
}

step() { # description command...
	local what=$1 out
	shift
	out="$top/build/logs/$(echo "$what" | tr ' ' '-').log"
	mkdir -p "$top/build/logs"
	log "$what (output in ${out#"$top"/})"
	if ! "$@" >"$out" 2>&1; then
		tail -n 40 "$out" >&2
		problems+=("$what failed")
		failed=$((failed + 1))
		finish
	fi
}

step "installing dependencies" "$top/scripts/deps.sh"

# Host tests of the pure format code.
log "host tests (cargo test)"
host_log="$top/build/logs/host-tests.log"
mkdir -p "$top/build/logs"
(cd "$top/rust-checkpoint/host" && cargo test --quiet 2>&1) | tee "$host_log"
host_status=${PIPESTATUS[0]}
while read -r p f; do
	passed=$((passed + p))
	failed=$((failed + f))
done < <(sed -n 's/^test result: [A-Za-z]*\. \([0-9]*\) passed; \([0-9]*\) failed.*/\1 \2/p' "$host_log")
if [ "$host_status" -ne 0 ]; then
	problems+=("cargo test exited with status $host_status")
fi

# The parser under libFuzzer for a bounded time; a crash fails the run.
log "fuzzing the image parser for ${CKPT_FUZZ_SECONDS:-60} s (output in build/logs/fuzz.log)"
if "$top/scripts/fuzz.sh" "${CKPT_FUZZ_SECONDS:-60}" >"$top/build/logs/fuzz.log" 2>&1; then
	passed=$((passed + 1))
	grep -E '^(Done|stat::number_of_executed_units)' "$top/build/logs/fuzz.log" || true
else
	tail -n 30 "$top/build/logs/fuzz.log" >&2
	failed=$((failed + 1))
	problems+=("the fuzzer found a crash (see build/logs/fuzz.log, build/fuzz/artifacts)")
fi

step "kernel setup" "$top/scripts/setup-kernel.sh"
step "kernel build" "$top/scripts/build-kernel.sh"
step "initramfs build" "$top/qemu/build-initramfs.sh"

"$top/qemu/run.sh" test >/dev/null
qemu_status=$?
console="$top/build/logs/test.log"
[ "$qemu_status" -eq 0 ] || problems+=("QEMU exited with status $qemu_status")

# Split the console log: the kernel's KTAP (KUnit at boot) comes before
# the guest's marker, the guest tests' KTAP between the two markers.
kunit_log="$top/build/logs/kunit.log"
guest_log="$top/build/logs/guest.log"
sed -n '/^CKPT-GUEST-BEGIN/q;p' "$console" >"$kunit_log"
sed -n '/^CKPT-GUEST-BEGIN/,/^CKPT-GUEST-END/{/^CKPT-GUEST-/d;p}' "$console" >"$guest_log"
grep -q '^CKPT-GUEST-END' "$console" || problems+=("the guest did not finish (see $console)")
if grep -qE 'Kernel panic|BUG:|Oops|WARNING:|general protection|KASAN' "$console"; then
	problems+=("the kernel reported an error (see $console)")
fi

kunit_py="$top/linux/tools/testing/kunit/kunit.py"
parse() { # name log json expected-suites...
	local name=$1 in=$2 json=$3
	shift 3
	log "$name results"
	if ! python3 "$kunit_py" parse --json="$json" "$in"; then
		problems+=("kunit.py parse reports failures or malformed output in $name")
	fi
	[ -s "$json" ] || {
		problems+=("no $name results")
		return
	}
	local counts p f s
	counts=$(python3 "$top/scripts/ktap-summary.py" "$json" "$@") ||
		problems+=("cannot summarise $name results")
	read -r p f s <<<"$counts"
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	skipped=$((skipped + ${s:-0}))
}
mapfile -t kunit_suites < <(grep -v '^#' "$top/tests/kunit-suites" | grep .)
mapfile -t guest_suites < <(cd "$top/tests/guest" && ls ./*.c ./*.sh 2>/dev/null |
	sed 's|^\./||; s/\.[a-z]*$//' | sort)
rm -f "$top/build/logs/"{kunit,guest}.json
parse KUnit "$kunit_log" "$top/build/logs/kunit.json" "${kunit_suites[@]}"
parse "guest test" "$guest_log" "$top/build/logs/guest.json" "${guest_suites[@]}"
finish
