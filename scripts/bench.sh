#!/usr/bin/env bash
# Build everything (installing what is missing), boot the benchmark's
# kernel (the main test kernel plus what CRIU needs, config/criu.config)
# in QEMU with 3 GiB and run the benchmark (bench/ckpt-bench.c): every
# workload, medians of 3, against this guest's copy limits, a user-space
# dumper and CRIU (Debian's package, bench/criu-rootfs.sh), in one boot.
# Prints the table.
#
#   scripts/bench.sh            run and print
#   scripts/bench.sh --record   also append the run to bench/RESULTS.md
#                               (date, machine, commit, kernel, table)
#
# Not part of the test command, which runs only its smoke run.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib.sh
. "$top/scripts/lib.sh"

record=0
[ "${1:-}" = --record ] && record=1

"$top/scripts/deps.sh"
"$top/scripts/setup-kernel.sh"
log "building the kernel (output in build/logs/build.log)"
mkdir -p "$top/build/logs"
if ! "$top/scripts/build-kernel.sh" --criu >"$top/build/logs/build.log" 2>&1; then
	tail -n 40 "$top/build/logs/build.log" >&2
	die "kernel build failed"
fi
"$top/qemu/build-initramfs.sh"
# CRIU from Debian's packages, unpacked by the kernel after our archive.
"$top/bench/criu-rootfs.sh"
cat "$top/build/initramfs.cpio.gz" "$top/build/criu.cpio.gz" >"$top/build/initramfs-bench.cpio.gz"
log "running the benchmark (console log: build/logs/bench-criu.log)"
CKPT_INITRD="$top/build/initramfs-bench.cpio.gz" QEMU_TIMEOUT=${QEMU_TIMEOUT:-3600} \
	"$top/qemu/run.sh" --criu bench >/dev/null
log_file="$top/build/logs/bench-criu.log"
table=$(sed -n '/^CKPT-GUEST-BEGIN/,/^CKPT-GUEST-END/p' "$log_file" |
	grep -E '^(#|workload |[a-z0-9]+ +[0-9])' | tr -d '\r')
echo "$table"
grep -q '^anon256 ' <<<"$table" || die "the benchmark did not finish (log: build/logs/bench-criu.log)"

if [ "$record" = 1 ]; then
	commit=$(git -C "$top" rev-parse --short HEAD)
	dirty=$(git -C "$top" status --porcelain --untracked-files=no | head -n 1)
	[ -z "$dirty" ] || commit="$commit (with uncommitted changes)"
	{
		echo
		echo "## $(date -u '+%Y-%m-%d %H:%M') UTC, commit $commit"
		echo
		echo "- Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)," \
			"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
		echo "- Guest: QEMU $(qemu-system-x86_64 --version | head -n 1 | awk '{print $4}') TCG, -cpu max, 2 vCPUs, 3 GiB;" \
			"kernel $(sed -n 's/^Linux version \([^ ]*\).*/\1/p' "$log_file" | head -n 1)," \
			"the main test configuration plus config/criu.config"
		echo "- Method: bench/ckpt-bench.c (its header comment); files on tmpfs"
		echo
		echo '```'
		echo "$table"
		echo '```'
	} >>"$top/bench/RESULTS.md"
	log "appended to bench/RESULTS.md"
fi
