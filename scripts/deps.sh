#!/usr/bin/env bash
# Install what building and testing needs; idempotent and quiet when
# everything is already there.
#
#   Debian packages (--no-install-recommends), the Rust rust-src component,
#   and bindgen-cli and cargo-fuzz from crates.io.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib.sh
. "$top/scripts/lib.sh"

apt_packages=(
	"clang$LLVM_SUFFIX" "lld$LLVM_SUFFIX" "llvm$LLVM_SUFFIX" "libclang$LLVM_SUFFIX-dev"
	qemu-system-x86 busybox-static flex bison bc cpio libelf-dev libssl-dev
	make gcc libc6-dev python3 xz-utils git
)

missing=()
for p in "${apt_packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -gt 0 ]; then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	log "installing Debian packages: ${missing[*]}"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

export PATH="$HOME/.cargo/bin:$PATH"
command -v rustup >/dev/null || die "rustup is required (https://rustup.rs)"
if ! rustup component list --installed 2>/dev/null | grep -q '^rust-src'; then
	log "installing the rust-src component"
	rustup component add rust-src
fi
if ! command -v cargo-fuzz >/dev/null; then
	log "installing cargo-fuzz from crates.io"
	cargo install --locked cargo-fuzz
fi
if ! command -v bindgen >/dev/null; then
	log "installing bindgen-cli from crates.io"
	cargo install --locked bindgen-cli
fi
