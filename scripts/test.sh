#!/usr/bin/env bash
# Run every test: host tests (cargo) and the fuzzer, then two kernels in
# QEMU with 2 vCPUs: the main test kernel (a distribution-like
# configuration) and the debug kernel (the same with KASAN, lockdep,
# UBSAN, kmemleak...).  Each boot runs the project's KUnit suites and then
# the guest tests from user space.
#
#   scripts/test.sh                  everything
#   scripts/test.sh --kernel main    host tests, then the main kernel only
#   scripts/test.sh --kernel debug   host tests, then the debug kernel only
#   scripts/test.sh --quick          the main kernel only, no host tests
#
# Installs what it needs (scripts/deps.sh), sets up and builds the kernels
# incrementally, and ends with one line "N passed, N failed".  The work
# overlaps so that both cores stay busy: linux/ is unpacked while the host
# tests run; then both kernels build at once in the background, the main
# one at low priority and the debug one at the lowest, so the debug build
# takes what the main build, the initramfs and the main kernel's boot leave
# idle.  Every step's log line carries the time of day.  Fails if any test
# fails, a KUnit suite or guest test is missing, a guest did not finish, or
# a kernel reported a problem (BUG, WARNING, Oops, KASAN, UBSAN, lockdep,
# kmemleak).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib.sh
. "$top/scripts/lib.sh"
export PATH="$HOME/.cargo/bin:$PATH"

kernels=(main debug)
host=1
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel)
		case "${2:-}" in
		main | debug) kernels=("$2") ;;
		both) kernels=(main debug) ;;
		*) die "--kernel takes main, debug or both" ;;
		esac
		shift
		;;
	--quick)
		kernels=(main)
		host=0
		;;
	*) die "unknown argument: $1 (see the comment at the top of $0)" ;;
	esac
	shift
done

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

step_log() { echo "$top/build/logs/$(echo "$1" | tr ' ' '-').log"; }

step_failed() { # description
	tail -n 40 "$(step_log "$1")" >&2
	problems+=("$1 failed")
	failed=$((failed + 1))
	finish
}

step() { # description command...
	local what=$1 out
	shift
	out=$(step_log "$what")
	mkdir -p "$top/build/logs"
	log "$what (output in ${out#"$top"/})"
	"$@" >"$out" 2>&1 || step_failed "$what"
}

# Background work runs at a lower priority than the foreground (host
# tests, a kernel's boot): it takes only the CPU time the foreground leaves
# idle (libFuzzer uses one core, guests sleep), and the foreground keeps
# the machine as if it were alone.
declare -A background=()
start_background() { # description niceness command...
	local what=$1 niceness=$2 out
	shift 2
	out=$(step_log "$what")
	mkdir -p "$top/build/logs"
	log "$what, in the background at nice $niceness (output in ${out#"$top"/})"
	# Its own session, so that a failing run can stop the whole build.
	# A new session is also a new scheduler autogroup, where a process's
	# nice value only counts against the group's other members: the
	# niceness goes to the group (/proc/self/autogroup) as well.
	# shellcheck disable=SC2016
	setsid bash -c 'echo "$0" >/proc/self/autogroup 2>/dev/null; exec nice -n "$0" "$@"' \
		"$niceness" "$@" >"$out" 2>&1 &
	background[$what]=$!
}
stop_background() {
	local pid
	for pid in "${background[@]}"; do
		kill -- -"$pid" 2>/dev/null
	done
}
trap stop_background EXIT
wait_background() { # description
	log "waiting for the $1"
	wait "${background[$1]}" || step_failed "$1"
	unset "background[$1]"
	log "$1 done"
}

step "installing dependencies" "$top/scripts/deps.sh"
# Unpacking the kernel is one core's work, as are most of the host tests;
# the kernels start building as soon as linux/ is ready, under the host
# tests.  The main kernel's build also provides the uapi headers of the
# initramfs.
setup_status="$top/build/logs/kernel-setup.status"
rm -f "$setup_status"
mkdir -p "$top/build/logs"
start_background "kernel setup" 0 \
	bash -c '"$1"; st=$?; echo "$st" >"$0"; exit "$st"' "$setup_status" "$top/scripts/setup-kernel.sh"
# Runs its arguments once the setup has succeeded.
after_setup='while [ ! -s "$0" ]; do sleep 1; done
[ "$(cat "$0")" = 0 ] || { echo "kernel setup failed" >&2; exit 1; }
exec "$@"'
start_background "main kernel build" 10 \
	bash -c "$after_setup" "$setup_status" "$top/scripts/build-kernel.sh"
for flavour in "${kernels[@]}"; do
	[ "$flavour" = debug ] &&
		start_background "debug kernel build" 19 \
			bash -c "$after_setup" "$setup_status" "$top/scripts/build-kernel.sh" --debug
done

if [ "$host" = 1 ]; then
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
fi

wait_background "kernel setup"
wait_background "main kernel build"
step "initramfs build" "$top/qemu/build-initramfs.sh"

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

# What a kernel says when something went wrong: crashes and warnings, and
# the reports of the debug kernel's checkers.  A kernel GP fault is an
# "Oops: general protection fault"; the bare words also appear in the
# kernel's note of a user-space fault ("traps: ... general protection
# fault ip:..."), which the fuzzer's restored tasks with mutated registers
# are allowed to have.
kernel_report='Kernel panic|BUG:|Oops|WARNING:|KASAN|UBSAN|'
kernel_report+='possible circular locking|possible recursive locking|inconsistent lock state|'
kernel_report+='suspicious RCU|sleeping function called from invalid context|'
kernel_report+='list_add corruption|list_del corruption|suspected memory leak|unreferenced object'

# Boots one kernel flavour and counts its KUnit and guest results.
boot_and_check() { # flavour
	local flavour=$1 console logs="$top/build/logs" tag=""
	[ "$flavour" = main ] || tag="-$flavour"
	console="$logs/test$tag.log"
	local qemu_args=() timeout=600
	# The debug kernel runs everything several times slower, and fuzzes
	# five times as many images.
	[ "$flavour" = main ] || { qemu_args=(--debug) && timeout=1200; }
	QEMU_TIMEOUT=${QEMU_TIMEOUT:-$timeout} "$top/qemu/run.sh" "${qemu_args[@]}" test >/dev/null
	local qemu_status=$?
	[ "$qemu_status" -eq 0 ] || problems+=("QEMU ($flavour kernel) exited with status $qemu_status")
	# The guest's seconds since boot at each phase.
	grep -E '^CKPT-(GUEST-(BEGIN|END)|KMEMLEAK-BEGIN)' "$console" | sed 's/^/    /' >&2

	# Split the console log: the kernel's KTAP (KUnit at boot) comes
	# before the guest's marker, the guest tests' KTAP between the two
	# markers, then kmemleak's findings and the kernel log.
	local kunit_log="$logs/kunit$tag.log" guest_log="$logs/guest$tag.log"
	local dmesg_log="$logs/dmesg$tag.log" leak_log="$logs/kmemleak$tag.log"
	sed -n '/^CKPT-GUEST-BEGIN/q;p' "$console" >"$kunit_log"
	sed -n '/^CKPT-GUEST-BEGIN/,/^CKPT-GUEST-END/{/^CKPT-GUEST-/d;p}' "$console" >"$guest_log"
	sed -n '/^CKPT-DMESG-BEGIN/,/^CKPT-DMESG-END/{/^CKPT-DMESG-/d;p}' "$console" >"$dmesg_log"
	sed -n '/^CKPT-KMEMLEAK-BEGIN/,/^CKPT-KMEMLEAK-END/{/^CKPT-KMEMLEAK-/d;p}' "$console" >"$leak_log"
	# Both vCPUs must be up: a kernel that finds one CPU tests nothing of SMP.
	grep -q 'smp: Brought up 1 node, 2 CPUs' "$console" ||
		problems+=("the $flavour kernel did not bring up 2 CPUs (see $console)")
	grep -q '^CKPT-GUEST-END' "$console" || problems+=("the guest did not finish on the $flavour kernel (see $console)")
	grep -q '^CKPT-DMESG-END' "$console" || problems+=("no kernel log from the $flavour kernel (see $console)")
	if [ "$flavour" = debug ] && ! grep -q '^CKPT-KMEMLEAK-END' "$console"; then
		problems+=("no kmemleak scan on the debug kernel (see $console)")
	fi
	if grep -qE "$kernel_report" "$console"; then
		grep -E "$kernel_report" "$console" | head -n 5 >&2
		problems+=("the $flavour kernel reported an error (see $console)")
	fi
	if [ -s "$leak_log" ]; then
		head -n 20 "$leak_log" >&2
		problems+=("kmemleak found leaks on the $flavour kernel (see $leak_log)")
	fi
	rm -f "$logs/"{kunit,guest}"$tag.json"
	parse "KUnit ($flavour kernel)" "$kunit_log" "$logs/kunit$tag.json" "${kunit_suites[@]}"
	parse "guest test ($flavour kernel)" "$guest_log" "$logs/guest$tag.json" "${guest_suites[@]}"
}

for flavour in "${kernels[@]}"; do
	[ "$flavour" = debug ] && wait_background "debug kernel build"
	boot_and_check "$flavour"
done
finish
