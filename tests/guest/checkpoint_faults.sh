#!/bin/sh
# Faults and races around an external checkpoint of a stopped target (the
# "test" sample), on several CPUs: output to a full tmpfs (ENOSPC), to a
# pipe whose reader is gone (EPIPE), SIGKILL to the checkpointer in the
# middle, two checkpoints of one target at once, a target continued or
# killed during its checkpoint, restart under memory pressure.  Each
# failure returns its errno, and the target resumed with SIGCONT writes
# exactly the output of a run that was never checkpointed.  (Leaks are
# caught by kmemleak on the debug kernel, at the end of the run.)
. /tests/ktap.inc

ktap_begin checkpoint_faults 8

dir=/tmp/faults
mkdir -p $dir && cd $dir || exit 1

/samples/test -n 40 -i 20 -m 1024 -o $dir/ref.out

# start_target NAME: a stopped "test" writing to NAME.out, with 1 MiB of
# memory (its image is larger than a pipe buffer); sets $pid.
start_target() {
	/samples/test -n 40 -i 20 -m 1024 -o "$dir/$1.out" &
	pid=$!
	sleep 0.1
	kill -STOP $pid
	while [ -e /proc/$pid ] && ! grep -q '^State:.*stopped' /proc/$pid/status; do
		sleep 0.02
	done
}

# finish_target NAME: continue it and compare its output with the reference.
finish_target() {
	kill -CONT $pid
	wait $pid
	cmp -s "$dir/$1.out" $dir/ref.out
}

# --- ENOSPC ------------------------------------------------------------------
mkdir -p $dir/full
mount -t tmpfs -o size=32k tmpfs $dir/full
start_target enospc
ckpt $pid >$dir/full/img 2>$dir/enospc.err
st=$?
grep -q "No space left on device" $dir/enospc.err
r=$?
finish_target enospc
result $((st == 0 || r + $?)) full_tmpfs_enospc_and_target_unharmed \
	"ckpt status $st: $(cat $dir/enospc.err)"
umount $dir/full

# --- EPIPE -------------------------------------------------------------------
start_target epipe
# The image is larger than a pipe's buffer: ckpt blocks until the reader
# is gone, then gets EPIPE (SIGPIPE is ignored, as the trap is inherited).
(
	trap '' PIPE
	ckpt $pid 2>$dir/epipe.err
	echo $? >$dir/epipe.status
) | dd bs=1k count=1 of=/dev/null 2>/dev/null
st=$(cat $dir/epipe.status)
grep -q "Broken pipe" $dir/epipe.err
r=$?
finish_target epipe
result $((st == 0 || r + $?)) closed_pipe_epipe_and_target_unharmed \
	"ckpt status $st: $(cat $dir/epipe.err)"

# --- SIGKILL to the checkpointer in the middle --------------------------------
start_target killed
rm -f $dir/fifo && mkfifo $dir/fifo
ckpt $pid >$dir/fifo 2>/dev/null &
cpid=$!
exec 3<$dir/fifo
dd bs=4k count=1 <&3 >/dev/null 2>&1 # it has begun, and blocks on the full pipe
sleep 0.3
kill -KILL $cpid
wait $cpid
st=$?
exec 3<&-
finish_target killed
result $((st != 137 || $?)) checkpointer_killed_midway_target_unharmed \
	"ckpt status $st (expected 137, killed)"

# --- two checkpoints of one target at once -----------------------------------
start_target twice
ckpt $pid >$dir/a.img 2>$dir/a.err &
a=$!
ckpt $pid >$dir/b.img 2>$dir/b.err &
b=$!
wait $a
sa=$?
wait $b
sb=$?
cr info $dir/a.img >/dev/null && cr info $dir/b.img >/dev/null
r=$?
cp $dir/twice.out $dir/twice.ckpt # the output as at the checkpoints
finish_target twice
result $((sa + sb + r + $?)) two_concurrent_checkpoints_both_sound \
	"status $sa/$sb decode $r: $(cat $dir/a.err $dir/b.err)"
# Both images restart to the same output.
ok=0
for img in a b; do
	cp $dir/twice.ckpt $dir/twice.out
	rstr <$dir/$img.img
	cmp -s $dir/twice.out $dir/ref.out || ok=1
done
result $ok concurrent_images_restart_identically

# --- target continued during its checkpoint: EBUSY, never a torn image ------
start_target cont
ckpt $pid >$dir/fifo 2>$dir/cont.err &
cpid=$!
exec 3<$dir/fifo
dd bs=4k count=1 <&3 >/dev/null 2>&1
kill -CONT $pid
sleep 0.3 # it runs (its nanosleep goes on)
cat <&3 >$dir/cont.img
exec 3<&-
wait $cpid
st=$?
wait $pid
grep -q "busy" $dir/cont.err
r=$?
result $((st == 0 || r)) target_continued_during_checkpoint_ebusy \
	"ckpt status $st: $(cat $dir/cont.err)"

# --- target killed during its checkpoint: an errno or a sound image ---------
start_target kill
ckpt $pid >$dir/fifo 2>$dir/kill.err &
cpid=$!
exec 3<$dir/fifo
dd bs=4k count=1 <&3 >/dev/null 2>&1
kill -KILL $pid
sleep 0.3
cat <&3 >$dir/kill.img
exec 3<&-
wait $cpid
st=$?
wait $pid
if [ $st -eq 0 ]; then
	cr info $dir/kill.img >/dev/null
	r=$?
else
	grep -qE "busy|No such process" $dir/kill.err
	r=$?
fi
result $r target_killed_during_checkpoint_errno_or_sound_image \
	"ckpt status $st: $(cat $dir/kill.err)"

# --- restart under memory pressure -------------------------------------------
start_target pressure
ckpt $pid >$dir/pressure.img 2>/dev/null
cp $dir/pressure.out $dir/pressure.ckpt
finish_target pressure
avail=$(awk '/MemAvailable/ { print int($2 / 1024) }' /proc/meminfo)
mkdir -p $dir/hog
# Leave 96 MiB: enough for restart, but the kernel has to reclaim.
mount -t tmpfs -o size=$((avail - 96))m tmpfs $dir/hog
# fallocate takes the pages without copying zeros from user space (a
# third faster than dd on the debug kernel).
fallocate -l $((avail - 96))m $dir/hog/fill
outcome=ok
for i in 1 2 3; do
	cp $dir/pressure.ckpt $dir/pressure.out
	rstr <$dir/pressure.img
	st=$?
	# Allowed: a correct restart, ENOMEM, or the OOM killer's SIGKILL.
	if [ $st -eq 0 ]; then
		cmp -s $dir/pressure.out $dir/ref.out || outcome="wrong output"
	elif [ $st -ne 137 ] && ! [ $st -eq 1 ]; then
		outcome="rstr status $st"
	fi
done
rm -f $dir/hog/fill
umount $dir/hog
[ "$outcome" = ok ]
result $? restart_under_memory_pressure "$outcome"

ktap_end
