#!/bin/sh
# The guest side of scripts/demo.sh: a process checkpoints itself, and
# another process is restarted into it and continues where it was.
set -u
echo "### self: counts to /tmp/cr-test.out, checkpoints itself after count 2"
self -n 6 -i 200 -c 2 > /tmp/self.img
echo "### its output:"
cat /tmp/cr-test.out
echo "### the image: $(wc -c < /tmp/self.img) bytes"
ckpt-decode /tmp/self.img | head -24
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
echo "### a damaged image is refused before the point of no return:"
head -c 512 /dev/zero > /tmp/bad.img
rstr < /tmp/bad.img
echo "### demo done"
