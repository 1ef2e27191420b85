#!/bin/sh
# Images written by checkpoint(2) in the booted kernel are accepted by the
# host-side parser (cr info and cr verify, built from the same format
# sources), and
# its verdicts on damaged images match restart's errnos.
. /tests/ktap.inc

ktap_begin decode_image 4

self -n 3 -c 1 -i 10 -o /tmp/decode.out >/tmp/self.img
out=$(cr info /tmp/self.img)
st=$?
echo "$out" | grep -q "checksum ok"
result $((st + $?)) self_image_accepted_by_host_parser "exit $st: $out"

rstr </tmp/self.img >/dev/null
result $? self_image_accepted_by_restart

cp /tmp/self.img /tmp/bad.img
# Flip one bit of the low byte of the header's time stamp, which only the
# checksum covers. Writing a fixed value would leave the image intact
# whenever the stamp already ended in that byte.
byte=$(od -An -tu1 -j32 -N1 /tmp/bad.img </dev/null | tr -d ' ')
printf "\\$(printf %03o $((byte ^ 1)))" |
	dd of=/tmp/bad.img bs=1 seek=32 conv=notrunc 2>/dev/null
cmp -s /tmp/self.img /tmp/bad.img && echo "# corruption left the image unchanged"
out=$(cr verify /tmp/bad.img 2>&1)
st=$?
echo "$out" | grep -q EBADMSG
result $((st != 1 || $? != 0)) corrupted_image_ebadmsg "exit $st: $out"

head -c 300 /tmp/self.img >/tmp/short.img
out=$(cr verify /tmp/short.img 2>&1)
st=$?
echo "$out" | grep -q EINVAL
result $((st != 1 || $? != 0)) truncated_image_einval "exit $st: $out"

ktap_end
