#!/usr/bin/env bash
# Boot a built kernel with the initramfs in QEMU and run the guest.
#
#   qemu/run.sh [--debug | --criu] [test|demo|bench|shell]
#
# --debug boots the sanitizer kernel (build/kernel-debug) instead of the
# main one (build/kernel), --criu the benchmark's (build/kernel-criu); all
# get 2 vCPUs.
# Serial console on stdio, no display, no network.  TCG by default (a KVM
# guest hangs at boot on our machines); QEMU_KVM=1 asks for KVM and is
# honoured only when /dev/kvm is usable.  QEMU_TIMEOUT (seconds, default
# 600) bounds the run; CKPT_INITRD names another initramfs.  The console
# log is kept in build/logs/<mode>.log.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../scripts/lib.sh
. "$top/scripts/lib.sh"

flavour=main
case "${1:-}" in
--debug | --criu)
	flavour=${1#--}
	shift
	;;
esac
mode=${1:-test}
case "$mode" in test | demo | bench | shell) ;; *) die "unknown mode: $mode" ;; esac
kernel="$top/$(kbuild_out_rel "$flavour")/arch/x86/boot/bzImage"
# CKPT_INITRD: another initramfs (the benchmark adds CRIU to ours).
initrd=${CKPT_INITRD:-"$top/build/initramfs.cpio.gz"}
if [ ! -f "$kernel" ]; then
	[ "$flavour" = main ] && die "no kernel: run scripts/build-kernel.sh"
	die "no $flavour kernel: run scripts/build-kernel.sh --$flavour"
fi
[ -f "$initrd" ] || die "no initramfs: run qemu/build-initramfs.sh"
logdir="$top/build/logs"
mkdir -p "$logdir"
log_file="$logdir/$mode.log"
[ "$flavour" = main ] || log_file="$logdir/$mode-$flavour.log"

accel=(-accel tcg)
if [ "${QEMU_KVM:-0}" = 1 ]; then
	if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
		accel=(-accel kvm)
	else
		log "QEMU_KVM=1 but /dev/kvm is not usable: using TCG"
	fi
fi

# panic=-1 with -no-reboot turns a panic into a QEMU exit; oops=panic and
# panic_on_warn=1 make any oops or WARN end the run, so it cannot pass.
# The guest reads the kernel log back at its end (console messages are
# kept quiet while tests print): a large buffer keeps all of it.
# ckpt.kernel= tells the guest which kernel runs (the debug kernel gets
# the long restart fuzz run).
append="console=ttyS0 panic=-1 oops=panic panic_on_warn=1 log_buf_len=16M"
append+=" ckpt.mode=$mode ckpt.kernel=$flavour"
# 1 GiB of memory: plenty for the tests, and what the debug kernel's
# KASAN shadow set-up and the memory-pressure test cost grows with it.
# The benchmark holds a 256 MiB process, its image and its restored copy
# at once: 3 GiB.
memory=1G
[ "$mode" = bench ] && memory=3G
# Under TCG the kernel finds the vCPUs' TSCs unsynchronised and, with no
# ACPI to find an HPET, falls back to jiffies: a 4 ms clock. The
# benchmark times calls of a few milliseconds, so it takes the TSC (one
# host clock for both vCPUs under TCG) as it is.
[ "$mode" = bench ] && append+=" tsc=reliable"
qemu=(qemu-system-x86_64 "${accel[@]}" -cpu max -smp 2,sockets=2,cores=1,threads=1 -m "$memory"
	-kernel "$kernel" -initrd "$initrd" -append "$append"
	-nodefaults -no-reboot -display none -serial stdio -nic none)

if [ "$mode" = shell ]; then
	exec "${qemu[@]}"
fi
log "booting the $flavour kernel ($mode, ${accel[1]}, 2 vCPUs); console log: ${log_file#"$top"/}"
set +e
timeout --foreground -k 10 "${QEMU_TIMEOUT:-600}" "${qemu[@]}" </dev/null | tee "$log_file"
status=${PIPESTATUS[0]}
set -e
if [ "$status" -eq 124 ]; then
	die "QEMU timed out after ${QEMU_TIMEOUT:-600}s (log: $log_file)"
fi
exit "$status"
