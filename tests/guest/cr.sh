#!/bin/sh
# The cr tool against the booted kernel: cr checkpoint stops a running
# process by itself (no kill -STOP), saves it and resumes, kills or leaves
# it stopped; cr restart continues its output exactly, in place or as a
# child; cr info shows the mappings /proc/PID/maps showed, also as JSON;
# cr diff tells two checkpoints of a running process apart; a process
# with a zombie child is saved and comes back with it; cr verify and
# cr restart say what is wrong with a damaged image.
. /tests/ktap.inc
counts() { grep '^count' "$1"; }

ktap_begin cr 15

dir=/tmp/cr
mkdir -p $dir && cd $dir || exit 1

# A reference run that is never checkpointed.
/samples/test -n 12 -i 10 -o $dir/ref.out

# --- checkpoint of a running process, killed, restarted in place ------------
/samples/test -n 12 -i 100 -o $dir/run.out &
pid=$!
sleep 0.5
cr checkpoint $pid -o $dir/run.img --kill 2>$dir/ckpt.err
st=$?
wait $pid
grep -q "checkpoint id [0-9]*: process $pid, [0-9]* bytes" $dir/ckpt.err
result $((st + $?)) checkpoint_of_running_process_without_sigstop \
	"status $st: $(cat $dir/ckpt.err)"
cp $dir/run.out $dir/run.ckpt
cr restart -i $dir/run.img
st=$?
[ $st -eq 0 ] && [ "$(counts $dir/run.out)" = "$(counts $dir/ref.out)" ]
result $? restart_in_place_continues_output_exactly \
	"status $st: $(diff $dir/ref.out $dir/run.out | head -5)"

# --- the same image as a child with a new pid --------------------------------
cp $dir/run.ckpt $dir/run.out
cr restart --child --new-pid -i $dir/run.img 2>$dir/child.err
st=$?
[ $st -eq 0 ] && grep -q "restored as pid" $dir/child.err &&
	[ "$(counts $dir/run.out)" = "$(counts $dir/ref.out)" ]
result $? restart_as_child_waits_and_continues_output \
	"status $st: $(cat $dir/child.err) $(diff $dir/ref.out $dir/run.out | head -5)"

# --- 50 checkpoints of a running process: never EBUSY, it runs on -----------
/samples/test -n 100000 -i 5 -o $dir/loop.out &
pid=$!
sleep 0.3
fails=0
for i in $(seq 50); do
	cr checkpoint $pid -o $dir/loop.img 2>>$dir/loop.err || fails=$((fails + 1))
	[ $i -eq 1 ] && cp $dir/loop.img $dir/loop-first.img
done
before=$(counts $dir/loop.out | wc -l)
sleep 0.3
after=$(counts $dir/loop.out | wc -l)
kill $pid
wait $pid 2>/dev/null
[ $fails -eq 0 ] && [ "$after" -gt "$before" ]
result $? fifty_checkpoints_no_ebusy_process_runs_on \
	"$fails failed, lines $before then $after: $(grep -v 'checkpoint id' $dir/loop.err | head -3)"

# --- cr diff: an image against itself, and the first against the last --------
out=$(cr diff $dir/loop.img $dir/loop.img)
result $? diff_of_an_image_with_itself_is_empty "$out"
out=$(cr diff $dir/loop-first.img $dir/loop.img)
st=$?
[ $st -eq 1 ] && echo "$out" | grep -q '^pages: .* differ' &&
	echo "$out" | grep -q '^page 0x'
result $? diff_of_two_checkpoints_names_changed_pages "status $st: $(echo "$out" | head -5)"

# --- cr info lists the mappings of /proc/PID/maps ---------------------------
/samples/test -n 100000 -i 5 -o $dir/maps.out &
pid=$!
sleep 0.3
cr checkpoint $pid -o $dir/maps.img --leave-stopped 2>/dev/null
st=$?
grep -q '^State:.*stopped' /proc/$pid/status
left_stopped=$?
# The vsyscall page is the kernel's, in no process's memory map.
grep -v '\[vsyscall\]' /proc/$pid/maps | awk '{ print $1, $2 }' >$dir/maps.proc
kill -KILL $pid
wait $pid 2>/dev/null
result $((st + left_stopped)) leave_stopped_leaves_it_stopped
cr info $dir/maps.img | grep -E '^[0-9a-f]+-[0-9a-f]+ [-r][-w][-x][ps] ' |
	awk '{ print $1, $2 }' >$dir/maps.cr
[ -s $dir/maps.cr ] && cmp -s $dir/maps.proc $dir/maps.cr
result $? info_lists_the_mappings_of_proc_maps \
	"$(diff $dir/maps.proc $dir/maps.cr | head -6)"

# The same image as JSON: the task, and as many areas.
cr info --json $dir/maps.img >$dir/maps.json
st=$?
grep -q '"schema": 1' $dir/maps.json && grep -q '"comm": "test"' $dir/maps.json &&
	[ "$(grep -c '"perms":' $dir/maps.json)" -eq "$(wc -l <$dir/maps.cr)" ]
result $((st + $?)) info_json_has_the_task_and_every_area "status $st: $(head -c 300 $dir/maps.json)"

# --- a process with a zombie child: saved, and back after restart -----------
# The pid of a child of $1 in state $2 (Z: a zombie), if there is one.
child_in_state() {
	for stat in /proc/[0-9]*/stat; do
		line=$(cat "$stat" 2>/dev/null) || continue
		set -- "$1" "$2" ${line##*) }
		if [ "$4" = "$1" ] && [ "$3" = "$2" ]; then
			stat=${stat#/proc/}
			echo "${stat%/stat}"
			return
		fi
	done
}
# sleep, whose background child has exited 7 and is never reaped.
sh -c 'sh -c "exit 7" & exec sleep 30' &
pid=$!
for i in $(seq 100); do
	[ -n "$(child_in_state $pid Z)" ] && break
	sleep 0.1
done
cr checkpoint $pid -o $dir/zombie.img --kill 2>$dir/zombie.err
st=$?
wait $pid 2>/dev/null
grep -q "and 1 descendant" $dir/zombie.err &&
	cr info $dir/zombie.img | grep -q 'zombie: comm "sh" .* status 0x700'
result $((st + $?)) checkpoint_of_process_with_zombie_child \
	"status $st: $(cat $dir/zombie.err)"
cr restart --child --new-pid -i $dir/zombie.img 2>/dev/null &
crpid=$!
sleeper= zombie=
for i in $(seq 100); do
	sleeper=$(child_in_state $crpid S)
	[ -n "$sleeper" ] && zombie=$(child_in_state $sleeper Z)
	[ -n "$zombie" ] && break
	sleep 0.1
done
[ -n "$sleeper" ] && kill $sleeper
wait $crpid 2>/dev/null
[ -n "$zombie" ]
result $? restart_brings_back_the_zombie_child \
	"restored sleep ${sleeper:-not found}, no zombie child"

# --- cr verify: sound and damaged images ------------------------------------
out=$(cr verify $dir/run.img)
result $? verify_accepts_a_sound_image "$out"
head -c 1000 $dir/run.img >$dir/short.img
out=$(cr verify $dir/short.img 2>&1)
st=$?
echo "$out" | grep -q "EINVAL.* at byte"
result $((st != 1 || $? != 0)) verify_rejects_a_truncated_image "status $st: $out"

# --- cr restart of a damaged image: the errno, what to do, and where ---------
out=$(cr restart -i $dir/short.img 2>&1)
st=$?
echo "$out" | grep -q "restart: Invalid argument" &&
	echo "$out" | grep -q "invalid image: EINVAL"
result $((st != 1 || $? != 0)) restart_of_damaged_image_says_why "status $st: $out"

# --- completions and the manual page -----------------------------------------
cr completions bash | grep -q 'complete -F' && cr man | grep -q '^\.TH cr'
result $? completions_and_manual_page_generated

ktap_end
