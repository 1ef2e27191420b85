#!/bin/sh
# "kill -STOP PID; ckpt PID" with nothing in between: kill returns before
# the stop has happened, and ckpt waits for a stop it finds pending, so
# that the checkpoint is never refused as of a running task (EBUSY).  The
# target writes 16 MiB with each write(2) to tmpfs, which a SIGSTOP does
# not interrupt: its stop comes only when the write is done.  It is
# stopped, checkpointed and continued 10 times.  A task that nothing
# stops is still refused at once.
. /tests/ktap.inc

ktap_begin ckpt_stop 2

dir=/tmp/ckpt_stop_work
rm -rf $dir && mkdir -p $dir && cd $dir || exit 1

/tests/bin/long-writes $dir/data >/dev/null 2>&1 <&- &
pid=$!
sleep 1
refused=0
i=0
while [ $i -lt 10 ]; do
	kill -STOP $pid
	ckpt $pid >$dir/img 2>$dir/err || refused=$((refused + 1))
	kill -CONT $pid
	i=$((i + 1))
done
[ $refused -eq 0 ]
result $? kill_stop_then_ckpt_never_busy "$refused of 10 refused: $(cat $dir/err)"

start=$(date +%s)
ckpt $pid >$dir/img 2>$dir/err
st=$?
took=$(($(date +%s) - start))
[ $st -ne 0 ] && grep -q 'Device or resource busy' $dir/err && [ $took -le 1 ]
result $? running_task_refused_at_once "ckpt status $st after $took s: $(cat $dir/err)"
kill -KILL $pid
wait $pid 2>/dev/null

ktap_end
