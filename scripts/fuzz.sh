#!/usr/bin/env bash
# Fuzz the image parser (rust-checkpoint/host/fuzz, target parse_image)
# with cargo-fuzz/libFuzzer.
#
#   scripts/fuzz.sh [SECONDS]        run for SECONDS (default 60)
#   scripts/fuzz.sh --runs N         run N executions (the long run)
#
# The corpus lives in build/fuzz/corpus, seeded with valid images from the
# host property test; crashes are left in build/fuzz/artifacts.
# cargo-fuzz needs nightly flags: RUSTC_BOOTSTRAP=1 enables them on the
# stable toolchain.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib.sh
. "$top/scripts/lib.sh"
export PATH="$HOME/.cargo/bin:$PATH"

limit=(-max_total_time="${1:-60}")
if [ "${1:-}" = --runs ]; then
	limit=(-runs="${2:?--runs needs a count}")
fi
command -v cargo-fuzz >/dev/null || die "cargo-fuzz is missing: run scripts/deps.sh"

corpus="$top/build/fuzz/corpus"
artifacts="$top/build/fuzz/artifacts"
mkdir -p "$corpus" "$artifacts"
log "seeding the corpus with valid images"
(cd "$top/rust-checkpoint/host" &&
	CKPT_CORPUS_DIR="$corpus" cargo test --release --quiet --test roundtrip >/dev/null)

log "fuzzing parse_image (${limit[*]})"
cd "$top/rust-checkpoint/host/fuzz"
RUSTC_BOOTSTRAP=1 cargo fuzz run --release parse_image "$corpus" -- \
	"${limit[@]}" -max_len=131072 -artifact_prefix="$artifacts/" -print_final_stats=1
