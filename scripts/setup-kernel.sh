#!/usr/bin/env bash
# Populate linux/ from the pinned Debian linux-source package and apply the
# patch series in patches/ as git commits on top of a "pristine" tag.
#
#   scripts/setup-kernel.sh            create or refresh linux/ (idempotent)
#   scripts/setup-kernel.sh --force    discard unexported work in linux/
#   scripts/setup-kernel.sh --print-sha  print the sha256 of the fetched tarball
#   (--mark-exported is used by export-patches.sh)
#
# linux/ is a local git repository: "pristine" is the unpacked Debian tree,
# each patch of patches/series is one commit above it.  Edit the kernel by
# committing in linux/ and running scripts/export-patches.sh; never edit
# patches/ and linux/ at the same time.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=kernel-pin
. "$top/scripts/kernel-pin"
# shellcheck source=lib.sh
. "$top/scripts/lib.sh"

linux="$top/linux"
cache="$top/build/cache"
deb="$cache/${KERNEL_DEB_PACKAGE}_${KERNEL_DEB_VERSION/:/%3a}_all.deb"
tarball="$cache/${KERNEL_DEB_PACKAGE}-${KERNEL_DEB_VERSION}.tar.xz"
force=0
print_sha=0
mark_exported=0
for arg in "$@"; do
	case "$arg" in
	--force) force=1 ;;
	--print-sha) print_sha=1 ;;
	--mark-exported) mark_exported=1 ;;
	*) die "unknown argument: $arg" ;;
	esac
done

fetch_tarball() {
	mkdir -p "$cache"
	if [ ! -f "$tarball" ]; then
		if [ ! -f "$deb" ]; then
			log "downloading $KERNEL_DEB_PACKAGE=$KERNEL_DEB_VERSION"
			if ! (cd "$cache" && apt-get download -q "$KERNEL_DEB_PACKAGE=$KERNEL_DEB_VERSION" >/dev/null 2>&1); then
				(apt-get update -qq >/dev/null 2>&1 || true)
				if ! (cd "$cache" && apt-get download -q "$KERNEL_DEB_PACKAGE=$KERNEL_DEB_VERSION" >/dev/null 2>&1); then
					cat >&2 <<EOF
error: apt cannot serve $KERNEL_DEB_PACKAGE=$KERNEL_DEB_VERSION any more.
To bump the pin: choose a version listed by
    apt-cache policy $KERNEL_DEB_PACKAGE
set KERNEL_DEB_VERSION in scripts/kernel-pin, run
    scripts/setup-kernel.sh --print-sha
and put the printed value in KERNEL_TARBALL_SHA256; then rebuild and
re-run the tests (refresh patches/ if they no longer apply).
EOF
					exit 1
				fi
			fi
			mv "$cache"/"${KERNEL_DEB_PACKAGE}"_*_all.deb "$deb" 2>/dev/null || true
		fi
		local tmp
		tmp=$(mktemp -d "$cache/unpack.XXXXXX")
		dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" "./usr/src/${KERNEL_DEB_PACKAGE}.tar.xz"
		mv "$tmp/usr/src/${KERNEL_DEB_PACKAGE}.tar.xz" "$tarball"
		rm -rf "$tmp"
	fi
	local sum
	sum=$(sha256sum "$tarball" | cut -d' ' -f1)
	if [ "$print_sha" = 1 ]; then
		echo "$sum"
		exit 0
	fi
	if [ "$sum" != "$KERNEL_TARBALL_SHA256" ]; then
		rm -f "$tarball" "$deb"
		die "sha256 mismatch for $KERNEL_DEB_PACKAGE $KERNEL_DEB_VERSION: got $sum, expected $KERNEL_TARBALL_SHA256 (see scripts/kernel-pin)"
	fi
}

# The stamp identifies the inputs linux/ was made from: pin and patches.
inputs_stamp() {
	(cat "$top/scripts/kernel-pin" "$top/patches/series"
	 while read -r p; do
		case "$p" in ''|'#'*) continue ;; esac
		cat "$top/patches/$p"
	 done < "$top/patches/series") | sha256sum | cut -d' ' -f1
}

git_linux() { git -C "$linux" -c user.name=ckpt-setup -c user.email=ckpt-setup@localhost "$@"; }

extract_pristine() {
	fetch_tarball
	log "extracting $KERNEL_DEB_PACKAGE $KERNEL_DEB_VERSION into linux/"
	rm -rf "$linux" "$linux.tmp"
	mkdir -p "$linux.tmp"
	tar -xJf "$tarball" -C "$linux.tmp" --strip-components=1
	mv "$linux.tmp" "$linux"
	git_linux init -q -b main
	git_linux config core.autocrlf false
	git_linux config gc.auto 0
	git_linux add -A -f .
	git_linux commit -q -m "pristine $KERNEL_DEB_PACKAGE $KERNEL_DEB_VERSION"
	git_linux tag -f pristine >/dev/null
	echo "$KERNEL_TARBALL_SHA256" > "$linux/.git/ckpt-pristine"
}

apply_series() {
	log "applying patches/series"
	while read -r p; do
		case "$p" in ''|'#'*) continue ;; esac
		git_linux am -q --whitespace=nowarn "$top/patches/$p" ||
			{ git_linux am --abort || true; die "patch $p does not apply"; }
	done < "$top/patches/series"
}

link_crates() {
	# Our crates live outside linux/; Kbuild reaches them through links
	# that the series' Makefile lines point at.
	ln -sfn ../../rust-checkpoint "$linux/kernel/checkpoint"
	grep -qx '/kernel/checkpoint' "$linux/.git/info/exclude" 2>/dev/null ||
		echo '/kernel/checkpoint' >> "$linux/.git/info/exclude"
}

write_stamp() {
	{ inputs_stamp; git_linux rev-parse HEAD; } > "$linux/.git/ckpt-stamp"
}

if [ "$print_sha" = 1 ]; then
	fetch_tarball
fi
if [ "$mark_exported" = 1 ]; then
	write_stamp
	exit 0
fi

want=$(inputs_stamp)
if [ -d "$linux/.git" ] && [ "$(cat "$linux/.git/ckpt-pristine" 2>/dev/null)" = "$KERNEL_TARBALL_SHA256" ]; then
	have_inputs=$(sed -n 1p "$linux/.git/ckpt-stamp" 2>/dev/null || true)
	have_head=$(sed -n 2p "$linux/.git/ckpt-stamp" 2>/dev/null || true)
	head=$(git_linux rev-parse HEAD)
	dirty=$(git_linux status --porcelain --untracked-files=no | head -n1)
	if [ "$have_inputs" = "$want" ] && [ "$have_head" = "$head" ] && [ -z "$dirty" ]; then
		link_crates
		log "linux/ is up to date with patches/"
		exit 0
	fi
	if { [ "$have_head" != "$head" ] || [ -n "$dirty" ]; } && [ "$force" != 1 ]; then
		die "linux/ has commits or changes not exported to patches/: run scripts/export-patches.sh, or scripts/setup-kernel.sh --force to discard them"
	fi
	log "patches/ changed: recreating linux/ from pristine"
	git_linux am --abort >/dev/null 2>&1 || true
	git_linux checkout -q -f main
	git_linux reset -q --hard pristine
	git_linux clean -q -fdx -e /kernel/checkpoint
else
	extract_pristine
fi
apply_series
link_crates
write_stamp
log "linux/ ready: $(git_linux rev-list --count pristine..HEAD) patches on pristine"
