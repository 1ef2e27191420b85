#!/bin/sh
# The benchmark's smoke run (scripts/bench.sh runs the whole of it): one
# small workload, once.  It must finish and print its row with every
# figure, so that the benchmark cannot rot.  Nothing about speed is
# asserted.
. /tests/ktap.inc

ktap_begin bench_smoke 1
out=/tmp/bench-smoke.out
/bench/ckpt-bench --smoke --dir /tmp/bench-smoke >$out 2>&1
st=$?
sed 's/^/    # /' $out
row=$(grep '^anon16 ' $out)
# The workload's name and 14 numbers.
fields=$(echo "$row" | awk '{n = 0; for (i = 2; i <= NF; i++) if ($i ~ /^[0-9.]+$/) n++; print n}')
[ $st -eq 0 ] && [ "$fields" = 14 ]
result $? benchmark_smoke_run_prints_its_row "status $st, row '$row'"
ktap_end
