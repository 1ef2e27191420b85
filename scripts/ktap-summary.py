#!/usr/bin/env python3
"""Counts the results of JSON files written by `kunit.py parse --json`.

usage: ktap-summary.py RESULT.json EXPECTED_SUITE...

Prints one line per failed case and, last, "PASSED FAILED SKIPPED".  An
expected suite missing from the results counts as one failure.
"""
import json
import sys


def walk(group, path, out):
    for case in group.get("test_cases", []):
        out.append(("/".join(path + [case["name"]]), case["status"]))
    for sub in group.get("sub_groups", []):
        walk(sub, path + [sub["name"]], out)


def main():
    with open(sys.argv[1]) as f:
        root = json.load(f)
    cases = []
    walk(root, [], cases)
    suites = {g["name"] for g in root.get("sub_groups", [])}
    suites |= {c["name"] for c in root.get("test_cases", [])}
    passed = sum(1 for _, s in cases if s == "PASS")
    skipped = sum(1 for _, s in cases if s == "SKIP")
    failed = 0
    for name, status in cases:
        if status not in ("PASS", "SKIP"):
            failed += 1
            print(f"FAILED: {name} ({status})", file=sys.stderr)
    for suite in sys.argv[2:]:
        if suite not in suites:
            failed += 1
            print(f"FAILED: suite {suite} is missing from the log", file=sys.stderr)
    print(passed, failed, skipped)


if __name__ == "__main__":
    main()
