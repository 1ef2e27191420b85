#!/bin/sh
# Fuzzes restart(2) in this boot with ckpt-restart-fuzz: mutated copies of
# images made here (self, external, with files, with threads, a tree) go to restart in forked
# children, one in four as a new child of theirs (RESTART_CHILD); only an
# errno with the caller intact, SIGKILL past the point of no return, or a
# restored task are allowed.  The debug kernel runs
# 10,000 images (its sanitizers watch every one); the main kernel 2,000.
# CKPT_RESTART_FUZZ overrides the count.
. /tests/ktap.inc

count=2000
[ "${CKPT_KERNEL:-main}" = debug ] && count=10000
count=${CKPT_RESTART_FUZZ:-$count}

ktap_begin restart_fuzz 2
out=/tmp/restart-fuzz.out
ckpt-restart-fuzz "$count" >$out 2>&1
st=$?
sed 's/^/    # /' $out
grep -q '^control .*: restored, memory as saved' $out &&
	[ "$(grep -c '^control .*: restored, memory as saved' $out)" -eq 10 ]
result $? unmutated_images_restore_correctly "$(grep '^control' $out | tr '\n' ';')"
grep -q "^$count mutated images" $out && [ $st -eq 0 ]
result $? mutated_images_only_allowed_outcomes "status $st: $(tail -n 1 $out)"
ktap_end
