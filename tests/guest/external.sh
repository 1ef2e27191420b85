#!/bin/sh
# The seeds' two scenarios with the samples: "self" checkpoints itself and
# is restarted with its output file as it was; "test" is stopped,
# checkpointed from outside with ckpt, resumed (SIGCONT) or killed, and
# restarted with rstr, in place or as rstr's child (rstr -w).  Restarted output continues the count with
# bit-identical floating-point values and no line lost or repeated.
. /tests/ktap.inc
counts() { grep '^count' "$1"; }

ktap_begin external 9

dir=/tmp/external
mkdir -p $dir && cd $dir || exit 1

# --- self: checkpoints itself after count 2 --------------------------------
self -n 6 -i 50 -c 2 -o $dir/self.out >$dir/self.img
cp $dir/self.out $dir/self.full
head -n 4 $dir/self.full >$dir/self.out # as at the checkpoint
rstr <$dir/self.img
st=$?
expect="$(counts $dir/self.full)"
got="$(counts $dir/self.out)"
[ $st -eq 0 ] && [ "$got" = "$expect" ] && grep -q "checkpoint returned 0" $dir/self.out
result $? self_restart_continues_output "rstr status $st; got: $(echo $got | head -c 300)"

# --- test: a reference run that is never checkpointed ------------------------
/samples/test -n 10 -i 10 -o $dir/ref.out
[ "$(counts $dir/ref.out | wc -l)" -eq 10 ]
result $? reference_run_completes

# --- test: stopped, checkpointed from outside, resumed ----------------------
/samples/test -n 10 -i 200 -o $dir/test.out &
pid=$!
sleep 1
# Stop it inside its nanosleep: on several CPUs a stop can also land
# while it computes, or just as a sleep ends; then continue it and try
# again (the output does not change).
for try in 1 2 3 4 5 6 7 8 9 10; do
	kill -STOP $pid
	while [ -e /proc/$pid ] && ! grep -q '^State:.*stopped' /proc/$pid/status; do
		sleep 0.05
	done
	ckpt $pid >$dir/test.img 2>$dir/ckpt.err
	st=$?
	[ $st -ne 0 ] && break
	cr info $dir/test.img | grep -q "resumes nanosleep" && break
	kill -CONT $pid
	sleep 0.07
done
st=$?
cp $dir/test.out $dir/test.ckpt # the output as at the checkpoint
result $st external_checkpoint_of_stopped_task "ckpt: $(cat $dir/ckpt.err)"
# It was stopped in its nanosleep, which the image resumes.
cr info $dir/test.img | grep -q "resumes nanosleep"
result $? stopped_in_nanosleep_saved_as_restart "$(cr info $dir/test.img | head -3)"
kill -CONT $pid
wait $pid
cmp -s $dir/test.out $dir/ref.out
result $? resumed_target_output_unchanged "$(diff $dir/ref.out $dir/test.out | head -5)"

# --- test: restarted from the image, twice ---------------------------------
for run in 1 2; do
	cp $dir/test.ckpt $dir/test.out
	rstr <$dir/test.img
	st=$?
	cmp -s $dir/test.out $dir/ref.out
	result $((st + $?)) restarted_test_output_identical_run$run \
		"rstr status $st; $(diff $dir/ref.out $dir/test.out | head -5)"
done

# --- test: restarted as a child of rstr, which waits for it -----------------
cp $dir/test.ckpt $dir/test.out
rstr -w <$dir/test.img 2>$dir/rstr.err
st=$?
cmp -s $dir/test.out $dir/ref.out && grep -q "restored as pid" $dir/rstr.err
result $((st + $?)) restarted_as_child_output_identical \
	"rstr -w status $st: $(cat $dir/rstr.err); $(diff $dir/ref.out $dir/test.out | head -5)"

# --- a running target cannot be checkpointed --------------------------------
/samples/test -n 5 -i 100 -o $dir/busy.out &
pid=$!
ckpt $pid >$dir/busy.img 2>$dir/busy.err
st=$?
wait $pid
[ $st -ne 0 ] && grep -q "busy" $dir/busy.err
result $? running_target_ebusy "ckpt status $st: $(cat $dir/busy.err)"

ktap_end
