#!/usr/bin/env python3
"""Map kernel addresses (from an oops) to symbol+offset using System.map.

usage: scripts/addr2sym.py ADDR... (System.map from build/kernel)
"""
import bisect
import os
import sys

top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
syms = []
with open(os.path.join(top, "build/kernel/System.map")) as f:
    for line in f:
        a, t, n = line.split()[:3]
        if t.lower() in "tw":
            syms.append((int(a, 16), n))
syms.sort()
keys = [a for a, _ in syms]
for arg in sys.argv[1:]:
    a = int(arg, 16)
    i = bisect.bisect_right(keys, a) - 1
    print(f"{arg} {syms[i][1]}+{a - syms[i][0]:#x}" if i >= 0 else arg)
