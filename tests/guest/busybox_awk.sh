#!/bin/sh
# A real program started the ordinary way: busybox awk with its stdin on
# /dev/null and its output on the console, computing for a few seconds.
# cr stops it, checkpoints it from outside and kills it; the restarted awk
# finishes its computation and prints the same result on the console as
# an uninterrupted run.  (awk also writes the result to a file of its
# own, opened only when it prints, which the test compares.)
. /tests/ktap.inc

ktap_begin busybox_awk 2

dir=/tmp/busybox_awk_work
rm -rf $dir && mkdir -p $dir && cd $dir || exit 1
# The loop runs for some seconds under TCG; its result depends on every
# iteration.
program='BEGIN {
	for (i = 1; i <= 200000; i++) s = (s * 31 + i % 977) % 1000003
	r = "awk result " s
	print r
	print r > out
}'

# An uninterrupted run first, for the reference.
busybox awk -v out=$dir/ref.out "$program" </dev/null >/dev/console 2>&1

busybox awk -v out=$dir/restarted.out "$program" </dev/null >/dev/console 2>&1 &
pid=$!
sleep 1
# cr stops it, saves it and kills it.
cr checkpoint $pid -o $dir/img --kill 2>$dir/ckpt.err
st=$?
wait $pid 2>/dev/null
[ $st -eq 0 ] && [ ! -e $dir/restarted.out ]
result $? checkpoint_of_awk_on_console "cr status $st: $(cat $dir/ckpt.err); awk had not printed yet: $([ -e $dir/restarted.out ] && echo no || echo yes)"

cr restart -i $dir/img
st=$?
[ $st -eq 0 ] && [ -s $dir/ref.out ] && cmp -s $dir/ref.out $dir/restarted.out
result $? restarted_awk_prints_same_result "cr status $st; reference: $(cat $dir/ref.out); restarted: $(cat $dir/restarted.out 2>&1)"

ktap_end
