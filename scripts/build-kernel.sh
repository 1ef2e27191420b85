#!/usr/bin/env bash
# Configure and build a kernel out of tree from linux/ (populated by
# setup-kernel.sh).  Incremental: a change to one Rust file rebuilds only
# the checkpoint crate and relinks.
#
#   scripts/build-kernel.sh [--debug | --criu] [extra make arguments, e.g. CLIPPY=1]
#
# Without a flavour: the main test kernel in build/kernel, tinyconfig +
# config/checkpoint.config.  With --debug: the sanitizer kernel in
# build/kernel-debug, the same plus config/debug.config.  With --criu: the
# benchmark's kernel in build/kernel-criu, the same plus config/criu.config
# (what CRIU needs besides).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib.sh
. "$top/scripts/lib.sh"
flavour=main
case "${1:-}" in
--debug | --criu)
	flavour=${1#--}
	shift
	;;
esac
out="$top/$(kbuild_out_rel "$flavour")"
mkdir -p "$out"
export PATH="$HOME/.cargo/bin:$PATH"

kmake() { make -C "$top/linux" O="$out" LLVM="$LLVM_SUFFIX" -j"$(nproc)" "$@"; }

frags=("$top/config/checkpoint.config")
[ "$flavour" = main ] || frags+=("$top/config/$flavour.config")

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
	# A later fragment overrides an earlier one, as in merge_config.sh.
	missing=0
	declare -A final=()
	while IFS= read -r line; do
		case "$line" in '' | '#'*) continue ;; esac
		final[${line%%=*}]=${line#*=}
	done < <(cat "${frags[@]}")
	for opt in "${!final[@]}"; do
		val=${final[$opt]}
		line="$opt=$val"
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
	done
	[ "$missing" = 0 ] || die "config fragments not fully applied"
	echo "$want" >"$stamp"
fi
log "building the $flavour kernel (bzImage in ${out#"$top"/})"
kmake "$@" bzImage
