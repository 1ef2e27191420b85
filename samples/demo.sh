#!/bin/sh
# The guest side of scripts/demo.sh: a process checkpoints itself, and
# another process is restarted into it and continues where it was; then a
# running process is checkpointed from outside with cr and restarted, and
# cr diff compares two checkpoints of one process.
set -u
echo "### self: counts to /tmp/cr-test.out, checkpoints itself after count 2"
self -n 6 -i 200 -c 2 > /tmp/self.img
echo "### its output:"
cat /tmp/cr-test.out
echo "### the image: $(wc -c < /tmp/self.img) bytes"
cr info /tmp/self.img | head -24
echo "### put the output file back as it was at the checkpoint, then"
echo "### rstr < /tmp/self.img"
cp /tmp/cr-test.out /tmp/cr-test.orig
head -n 5 /tmp/cr-test.orig > /tmp/cr-test.out
rstr < /tmp/self.img
echo "### rstr exited with status $?; the output now:"
cat /tmp/cr-test.out
echo "### the counts after the checkpoint are bit-identical to the first run:"
if [ "$(grep '^count [345]' /tmp/cr-test.out)" = "$(grep '^count [345]' /tmp/cr-test.orig)" ]; then
	echo "identical"
else
	echo "DIFFERENT"
fi
echo
echo "### external: /samples/test counts to /tmp/ext.out every 300 ms"
/samples/test -n 8 -i 300 -o /tmp/ext.out &
pid=$!
sleep 1
echo "### cr checkpoint $pid -o /tmp/ext.img --leave-stopped"
# cr stops the running process itself, waits until it has stopped, and
# saves it; --leave-stopped keeps it stopped so that its output can be
# copied as it was at the checkpoint.
cr checkpoint $pid -o /tmp/ext.img --leave-stopped
cp /tmp/ext.out /tmp/ext.saved
echo "### output at the checkpoint:"
cat /tmp/ext.saved
echo "### kill -CONT $pid: it runs to the end"
kill -CONT $pid
wait $pid
cp /tmp/ext.out /tmp/ext.full
echo "### put the output back as at the checkpoint; cr restart -i /tmp/ext.img"
cp /tmp/ext.saved /tmp/ext.out
cr restart -i /tmp/ext.img
echo "### the restarted run's output:"
cat /tmp/ext.out
if cmp -s /tmp/ext.out /tmp/ext.full; then
	echo "### identical to the run that was resumed with SIGCONT"
else
	echo "### DIFFERENT from the resumed run"
fi
echo
echo "### cr diff: what the process changed between two checkpoints"
/samples/test -n 100 -i 100 -o /tmp/diff.out &
pid=$!
sleep 0.3
cr checkpoint $pid -o /tmp/diff1.img
sleep 0.3
cr checkpoint $pid -o /tmp/diff2.img --kill
wait $pid
cr diff /tmp/diff1.img /tmp/diff2.img
echo
echo "### a damaged image is refused before the point of no return:"
head -c 512 /dev/zero > /tmp/bad.img
cr restart -i /tmp/bad.img
echo "### demo done"
