# Shared helpers for the project's scripts (sourced, not run).
log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# The LLVM suffix used for every kernel build.
LLVM_SUFFIX=-19
# Out-of-tree kernel object directory.
KBUILD_OUT_REL=build/kernel
