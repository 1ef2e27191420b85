# Shared helpers for the project's scripts (sourced, not run).
# Each step line carries the time of day, so that a run's log shows where
# its time went.
log() { printf '==> %s %s\n' "$(date +%T)" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# The LLVM suffix used for every kernel build.
LLVM_SUFFIX=-19
# Out-of-tree kernel object directory of the main test kernel.
KBUILD_OUT_REL=build/kernel

# The object directory of a kernel flavour: "main" (the realistic test
# kernel) or "debug" (the same with sanitizers).
kbuild_out_rel() {
	case "$1" in
	main) echo "$KBUILD_OUT_REL" ;;
	debug) echo "$KBUILD_OUT_REL-debug" ;;
	criu) echo "$KBUILD_OUT_REL-criu" ;;
	*) die "unknown kernel flavour: $1" ;;
	esac
}
