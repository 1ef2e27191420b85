#!/usr/bin/env bash
# Build the guest's initramfs: busybox-static, qemu/init, the guest test
# programs (tests/guest/*.c, statically linked) and scripts
# (tests/guest/*.sh) with their helpers (tests/guest/helpers), the sample programs (samples/*.c, samples/*.sh), and
# cr and ckpt-restart-fuzz (rust-checkpoint/host), statically linked.
#
# Output: build/initramfs.cpio.gz.  Needs the kernel's exported uapi
# headers, which it generates into build/kernel/usr/include.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../scripts/lib.sh
. "$top/scripts/lib.sh"

out="$top/build"
kout="$top/$KBUILD_OUT_REL"
stage="$out/initramfs"
[ -d "$top/linux" ] || die "linux/ is missing: run scripts/setup-kernel.sh"

log "exporting uapi headers"
make -s -C "$top/linux" O="$kout" LLVM="$LLVM_SUFFIX" headers >/dev/null
uapi="$kout/usr/include"
[ -f "$uapi/linux/checkpoint.h" ] || die "uapi header linux/checkpoint.h missing"

rm -rf "$stage"
mkdir -p "$stage"/{bin,dev,proc,sys,tmp,tests/cases,tests/bin,samples}
cp /bin/busybox "$stage/bin/busybox"
file -b "$stage/bin/busybox" 2>/dev/null | grep -q "statically linked" ||
	ldd /bin/busybox 2>&1 | grep -q "not a dynamic" ||
	die "/bin/busybox is not static: install busybox-static"
install -m 0755 "$top/qemu/init" "$stage/init"
install -m 0755 "$top/tests/guest/run-all" "$stage/tests/run-all"
install -m 0644 "$top/tests/guest/ktap.inc" "$stage/tests/ktap.inc"

CC=${CC:-gcc}
CFLAGS=(-static -O2 -g -Wall -Wextra -Werror -std=gnu11 -isystem "$uapi" -I "$top/tests/guest")
compile() { # src dst
	"$CC" "${CFLAGS[@]}" -o "$2" "$1" -lm
}
for src in "$top"/tests/guest/*.c; do
	[ -e "$src" ] || continue
	name=$(basename "$src" .c)
	compile "$src" "$stage/tests/cases/$name"
done
# Helper programs the guest tests run (not tests themselves).
for src in "$top"/tests/guest/helpers/*.c; do
	[ -e "$src" ] || continue
	compile "$src" "$stage/tests/bin/$(basename "$src" .c)"
done
for src in "$top"/tests/guest/*.sh; do
	[ -e "$src" ] || continue
	install -m 0755 "$src" "$stage/tests/cases/$(basename "$src" .sh)"
done
for src in "$top"/samples/*.c; do
	[ -e "$src" ] || continue
	compile "$src" "$stage/samples/$(basename "$src" .c)"
done
# The benchmark (bench/, run by scripts/bench.sh; its smoke run is a test).
mkdir -p "$stage/bench"
for src in "$top"/bench/*.c; do
	[ -e "$src" ] || continue
	compile "$src" "$stage/bench/$(basename "$src" .c)"
done
for src in "$top"/samples/*.sh; do
	[ -e "$src" ] || continue
	install -m 0755 "$src" "$stage/samples/$(basename "$src")"
done

# cr (the command-line tool) and ckpt-restart-fuzz (the in-guest fuzzer
# of restart), linked statically for the guest.
log "building cr and ckpt-restart-fuzz for the guest"
(cd "$top/rust-checkpoint/host" &&
	RUSTFLAGS="-C target-feature=+crt-static" cargo build --quiet --release \
		--bin cr --bin ckpt-restart-fuzz \
		--target x86_64-unknown-linux-gnu --target-dir "$out/guest-rust")
for bin in cr ckpt-restart-fuzz; do
	install -m 0755 "$out/guest-rust/x86_64-unknown-linux-gnu/release/$bin" "$stage/bin/$bin"
done

(cd "$stage" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc --owner=0:0 --quiet) | gzip -9n >"$out/initramfs.cpio.gz.tmp"
mv "$out/initramfs.cpio.gz.tmp" "$out/initramfs.cpio.gz"
log "initramfs: $out/initramfs.cpio.gz ($(du -h "$out/initramfs.cpio.gz" | cut -f1))"
