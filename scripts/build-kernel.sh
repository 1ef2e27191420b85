#!/usr/bin/env bash
# Configure and build the kernel out of tree in build/kernel from linux/
# (populated by setup-kernel.sh).  Incremental: a change to one Rust file
# rebuilds only the checkpoint crate and relinks.
#
#   scripts/build-kernel.sh [extra make arguments, e.g. CLIPPY=1]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib.sh
. "$top/scripts/lib.sh"
out="$top/$KBUILD_OUT_REL"
mkdir -p "$out"
export PATH="$HOME/.cargo/bin:$PATH"

kmake() { make -C "$top/linux" O="$out" LLVM="$LLVM_SUFFIX" -j"$(nproc)" "$@"; }

# Regenerate .config when the fragment changed (or on first build).
frag="$top/config/checkpoint.config"
stamp="$out/.fragment.sha256"
want=$(sha256sum "$frag" | cut -d' ' -f1)
if [ ! -f "$out/.config" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
	log "configuring: tinyconfig + config/checkpoint.config"
	kmake -s tinyconfig >/dev/null
	"$top/linux/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "$frag" >/dev/null
	kmake -s olddefconfig >/dev/null
	# Every line of the fragment must have survived: a silently dropped
	# option (unmet dependency) would make the tests test something else.
	missing=0
	while IFS= read -r line; do
		case "$line" in ''|'#'*) continue ;; esac
		opt=${line%%=*}; val=${line#*=}
		if [ "$val" = n ]; then
			grep -q "^$opt=" "$out/.config" && { echo "config: $opt should be unset" >&2; missing=1; }
		else
			grep -qx "$line" "$out/.config" || { echo "config: $line did not take effect" >&2; missing=1; }
		fi
	done < "$frag"
	[ "$missing" = 0 ] || die "config fragment not fully applied"
	echo "$want" > "$stamp"
fi
log "building bzImage"
kmake "$@" bzImage
