#!/usr/bin/env bash
# Build everything (installing what is missing) and boot the patched
# kernel in QEMU to run the demo in samples/demo.sh.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib.sh
. "$top/scripts/lib.sh"

"$top/scripts/deps.sh"
"$top/scripts/setup-kernel.sh"
log "building the kernel (output in build/logs/build.log)"
mkdir -p "$top/build/logs"
if ! "$top/scripts/build-kernel.sh" >"$top/build/logs/build.log" 2>&1; then
	tail -n 40 "$top/build/logs/build.log" >&2
	die "kernel build failed"
fi
"$top/qemu/build-initramfs.sh"
"$top/qemu/run.sh" demo | sed -n '/^CKPT-GUEST-BEGIN/,/^CKPT-GUEST-END/p'
