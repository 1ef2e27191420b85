#!/usr/bin/env bash
# CRIU for the benchmark's guest, from Debian's packages: downloads the
# criu package and the libraries it links (with the C library and its
# loader), unpacks them, and writes build/criu.cpio.gz, an initramfs
# archive with /usr/sbin/criu and those libraries in their usual places.
# The benchmark's guest loads it after the project's own initramfs (the
# kernel unpacks concatenated archives in turn).  The packages are cached
# in build/cache/criu-debs; the script does nothing when the archive is
# newer than this script.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../scripts/lib.sh
. "$top/scripts/lib.sh"

out="$top/build/criu.cpio.gz"
if [ -f "$out" ] && [ "$out" -nt "$0" ]; then
	exit 0
fi
debs="$top/build/cache/criu-debs"
stage="$top/build/criu-root"
# criu and every library `ldd criu` lists, by package (Debian 12).
packages=(
	criu libc6 libbsd0 libmd0 libgnutls30 libnftables1 libnftnl11
	libprotobuf-c1 libnl-3-200 libnet1 libp11-kit0 libidn2-0
	libunistring2 libtasn1-6 libnettle8 libhogweed6 libgmp10 libmnl0
	libxtables12 libjansson4 libffi8
)
mkdir -p "$debs"
missing=()
for p in "${packages[@]}"; do
	compgen -G "$debs/${p}_*.deb" >/dev/null || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	log "downloading Debian packages for CRIU: ${missing[*]}"
	# apt's sandbox user cannot write to our tree: download as ourselves.
	(cd "$debs" && apt-get download -o APT::Sandbox::User=root "${missing[@]}" >/dev/null)
fi
rm -rf "$stage"
mkdir -p "$stage"
for deb in "$debs"/*.deb; do
	dpkg-deb -x "$deb" "$stage"
done
# Keep only the program and the shared libraries it needs.
keep="$top/build/criu-keep"
rm -rf "$keep"
mkdir -p "$keep/usr/sbin" "$keep/lib64" "$keep/lib/x86_64-linux-gnu"
cp "$stage/usr/sbin/criu" "$keep/usr/sbin/"
cp -L "$stage/lib64/ld-linux-x86-64.so.2" "$keep/lib64/" 2>/dev/null ||
	cp -L "$stage/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" "$keep/lib64/"
libdirs="$stage/lib/x86_64-linux-gnu:$stage/usr/lib/x86_64-linux-gnu"
# The libraries the dynamic loader of the staged tree resolves.
"$keep/lib64/ld-linux-x86-64.so.2" --library-path "$libdirs" --list "$keep/usr/sbin/criu" |
	awk '/=> \// {print $3}' | grep -v "$keep" | while read -r lib; do
	cp -L "$lib" "$keep/lib/x86_64-linux-gnu/"
done
# Nothing may come from the build machine: every library is from the packages.
if "$keep/lib64/ld-linux-x86-64.so.2" --library-path "$libdirs" --list "$keep/usr/sbin/criu" |
	grep '=>' | grep -v -e "$stage" -e "$keep" | grep -q .; then
	die "a library of criu is not in the downloaded packages"
fi
(cd "$keep" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc --owner=0:0 --quiet) | gzip -9n >"$out.tmp"
mv "$out.tmp" "$out"
log "CRIU for the guest: $out ($(du -h "$out" | cut -f1)), criu $(dpkg-deb -f "$debs"/criu_*.deb Version)"
