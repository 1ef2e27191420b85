#!/bin/sh
# A real program with signal state: a busybox shell script that traps INT,
# TERM and ALRM, has an alarm armed, and loops.  It is stopped,
# checkpointed from outside and killed; the restarted shell gets its alarm
# after the time that remained, runs its ALRM trap, and reacts to
# kill -INT (and, restarted again, to kill -TERM) with its traps.
. /tests/ktap.inc

ktap_begin shell_trap 4

dir=/tmp/shell_trap_work
rm -rf $dir && mkdir -p $dir && cd $dir || exit 1
script='trap "echo got INT; exit 3" INT
trap "echo got TERM; exit 4" TERM
trap "echo got ALRM" ALRM
echo started
while :; do i=$((i + 1)); done'

# wait_for FILE PATTERN SECONDS: until a line of FILE matches PATTERN.
wait_for() {
	n=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		n=$((n + 1))
		[ $n -gt $(($3 * 10)) ] && return 1
		sleep 0.1
	done
}

# The alarm is 6 s away; the checkpoint comes after about 1 s.
: >$dir/out
/tests/bin/with-alarm 6 sh -c "$script" >>$dir/out 2>&1 <&- &
pid=$!
wait_for $dir/out started 10
sleep 1
kill -STOP $pid
while ! grep -q '^State:.*stopped' /proc/$pid/status; do sleep 0.05; done
ckpt $pid >$dir/img 2>$dir/ckpt.err
st=$?
kill -KILL $pid
wait $pid 2>/dev/null
cp $dir/out $dir/out.ckpt
result $st checkpoint_of_trapping_shell "ckpt: $(cat $dir/ckpt.err)"

# Restarted: the ALRM trap runs once the remaining ~5 s have passed.
cp $dir/out.ckpt $dir/out
start=$(date +%s)
rstr <$dir/img &
rpid=$!
wait_for $dir/out "got ALRM" 30
st=$?
took=$(($(date +%s) - start))
[ $st -eq 0 ] && [ $took -ge 3 ]
result $? alarm_trap_runs_after_remaining_time "ALRM after ${took} s (about 5 expected); output: $(tr '\n' ' ' <$dir/out)"

kill -INT $rpid
wait $rpid
st=$?
[ $st -eq 3 ] && grep -q "got INT" $dir/out
result $? int_trap_runs_after_restart "status $st; output: $(tr '\n' ' ' <$dir/out)"

# The same image again, ended by TERM before its alarm.
cp $dir/out.ckpt $dir/out
rstr <$dir/img &
rpid=$!
sleep 1
kill -TERM $rpid
wait $rpid
st=$?
[ $st -eq 4 ] && grep -q "got TERM" $dir/out && ! grep -q "got ALRM" $dir/out
result $? term_trap_runs_after_second_restart "status $st; output: $(tr '\n' ' ' <$dir/out)"

ktap_end
