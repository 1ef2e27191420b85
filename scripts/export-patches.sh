#!/usr/bin/env bash
# Export the commits above "pristine" in linux/ back to patches/ and
# rewrite patches/series, so the series is again the single source of
# truth.  Run it after committing a kernel change in linux/.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib.sh
. "$top/scripts/lib.sh"
linux="$top/linux"
[ -d "$linux/.git" ] || die "no linux/ tree: run scripts/setup-kernel.sh first"
[ -z "$(git -C "$linux" status --porcelain --untracked-files=no)" ] ||
	die "linux/ has uncommitted changes: commit them in linux/ first"

# Debian's top-level .gitignore hides new files from "git add -A"; the
# build is out of tree, so any ignored file here is a forgotten new file.
forgotten=$(git -C "$linux" ls-files --others --ignored --exclude-standard | grep -v '^kernel/checkpoint$' || true)
[ -z "$forgotten" ] || die "new files not committed in linux/ (add them with git add -f): $forgotten"

rm -f "$top"/patches/*.patch
git -C "$linux" format-patch -q --no-signature --zero-commit --no-numbered \
	-o "$top/patches" pristine..HEAD
(cd "$top/patches" && ls -1 ./*.patch 2>/dev/null | sed 's|^\./||') > "$top/patches/series"
# linux/ now matches patches/: record that so setup-kernel.sh keeps it.
"$top/scripts/setup-kernel.sh" --mark-exported
log "exported $(wc -l < "$top/patches/series") patches to patches/"
