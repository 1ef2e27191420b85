#!/usr/bin/env bash
# Configure and build a kernel out of tree from linux/ (populated by
# setup-kernel.sh).  Incremental: a change to one Rust file rebuilds only
# the checkpoint crate and relinks.
#
#   scripts/build-kernel.sh [--debug] [extra make arguments, e.g. CLIPPY=1]
#
# Without --debug: the main test kernel in build/kernel, tinyconfig +
# config/checkpoint.config.  With --debug: the sanitizer kernel in
# build/kernel-debug, the same plus config/debug.config.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib.sh
. "$top/scripts/lib.sh"
flavour=main
if [ "${1:-}" = --debug ]; then
	flavour=debug
	shift
fi
out="$top/$(kbuild_out_rel "$flavour")"
mkdir -p "$out"
export PATH="$HOME/.cargo/bin:$PATH"

kmake() { make -C "$top/linux" O="$out" LLVM="$LLVM_SUFFIX" -j"$(nproc)" "$@"; }

frags=("$top/config/checkpoint.config")
[ "$flavour" = debug ] && frags+=("$top/config/debug.config")

# Regenerate .config when a fragment changed (or on first build).
stamp="$out/.fragment.sha256"
want=$(cat "${frags[@]}" | sha256sum | cut -d' ' -f1)
if [ ! -f "$out/.config" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
	log "configuring $flavour kernel: tinyconfig + ${frags[*]#"$top"/}"
	kmake -s tinyconfig >/dev/null
	"$top/linux/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "${frags[@]}" >/dev/null
	kmake -s olddefconfig >/dev/null
	# Every line of the fragments must have survived: a silently dropped
	# option (unmet dependency) would make the tests test something else.
	missing=0
	while IFS= read -r line; do
		case "$line" in '' | '#'*) continue ;; esac
		opt=${line%%=*}
		val=${line#*=}
		if [ "$val" = n ]; then
			grep -q "^$opt=" "$out/.config" && {
				echo "config: $opt should be unset" >&2
				missing=1
			}
		else
			grep -qx "$line" "$out/.config" || {
				echo "config: $line did not take effect" >&2
				missing=1
			}
		fi
	done < <(cat "${frags[@]}")
	[ "$missing" = 0 ] || die "config fragments not fully applied"
	echo "$want" >"$stamp"
fi
log "building the $flavour kernel (bzImage in ${out#"$top"/})"
kmake "$@" bzImage
