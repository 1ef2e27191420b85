#!/bin/sh
# The guest side of scripts/demo.sh: a process checkpoints itself, and
# another process restarts from its image.
set -u
echo "### self: counts to /tmp/cr-test.out, checkpoints itself at count 2"
self -n 5 -i 200 > /tmp/self.img
echo "### its output file:"
cat /tmp/cr-test.out
echo "### the image ($(wc -c < /tmp/self.img) bytes), first and last records:"
hexdump -C /tmp/self.img | head -4
echo "..."
hexdump -C /tmp/self.img | tail -3
echo "### rstr < /tmp/self.img"
rstr < /tmp/self.img
echo "### rstr < /dev/zero-filled image (rejected)"
head -c 512 /dev/zero > /tmp/bad.img
rstr < /tmp/bad.img
echo "### demo done"
