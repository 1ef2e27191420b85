#!/bin/sh
# A real pipeline: busybox sh runs "seq 1 2000000 | awk '{s+=$1} END
# {print s}'" in a session of its own.  Midway, cr checkpoints the shell:
# it stops the shell and its children, and the checkpoint saves the
# whole tree (the shell waiting for its children, seq writing into the
# pipe, awk reading from it); cr then kills the tree.  Restarted, as a child of cr with the
# saved pids and then in place with new ones, the pipeline goes on and
# awk writes the same sum as an uninterrupted run.
. /tests/ktap.inc

ktap_begin busybox_pipeline 4

dir=/tmp/busybox_pipeline_work
rm -rf $dir && mkdir -p $dir && cd $dir || exit 1
pipeline='seq 1 2000000 | awk "{s+=\$1} END{print s}" >sum.out'

# The pids of the processes in process group $group.
group_pids() {
	for stat in /proc/[0-9]*/stat; do
		line=$(cat "$stat" 2>/dev/null) || continue
		# After the ")" that ends the name: state, ppid, pgrp.
		set -- ${line##*) }
		if [ "$3" = "$group" ]; then
			stat=${stat#/proc/}
			echo "${stat%/stat}"
		fi
	done
}

# Waits until none of the pids in $@ exists any more (reaped).
wait_gone() {
	for i in $(seq 100); do
		alive=
		for p in "$@"; do [ -d /proc/$p ] && alive=1; done
		[ -z "$alive" ] && return 0
		sleep 0.1
	done
	return 1
}

# The reference.
sh -c "$pipeline" </dev/null
cp sum.out ref.out
: >sum.out

setsid sh -c "$pipeline" </dev/null &
sh=$!
group=$sh
sleep 1
pids=$(group_pids)
count=$(echo $pids | wc -w)
# cr stops the shell and its children, saves them all and kills them.
cr checkpoint $sh -o img --kill 2>ckpt.err
st=$?
wait $sh 2>/dev/null
wait_gone $pids
[ $st -eq 0 ] && [ "$count" -eq 3 ] && grep -q "and 2 descendants" ckpt.err && [ ! -s sum.out ]
result $? checkpoint_of_running_pipeline "cr status $st: $(cat ckpt.err); $count processes ($pids); sum written before the checkpoint: $(cat sum.out)"

cr info --json img >info.json 2>&1
grep -q '"comm": *"seq"' info.json && grep -q '"comm": *"awk"' info.json
result $? image_holds_the_tree "$(grep -c '"ppid"' info.json) processes in the image"

cr restart --child -i img 2>restart.err
st=$?
[ $st -eq 0 ] && [ -s ref.out ] && cmp -s ref.out sum.out
result $? pipeline_restarted_as_child "cr status $st: $(cat restart.err); reference $(cat ref.out); restarted $(cat sum.out)"

: >sum.out
cr restart -i img 2>restart.err
st=$?
[ $st -eq 0 ] && cmp -s ref.out sum.out
result $? pipeline_restarted_in_place "status $st: $(cat restart.err); reference $(cat ref.out); restarted $(cat sum.out)"

ktap_end
