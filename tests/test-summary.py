#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# test-summary.py - turns meson's testlog.json into "N passed, N failed".
#
# Our Python suites print "<suite>: N passed, N failed" and are counted
# from that. A Criterion executable reports "Synthesis: Tested: T | Passing: P |
# Failing: F | Crashing: C"; its cases are counted from that. Any other test
# counts as one case, passed or failed by meson's verdict. A Criterion test
# that failed without a Synthesis line (it crashed, or timed out) counts as
# one failure, so a broken suite can never look like zero failures.
#
# usage: test-summary.py TESTLOG.json MESON_RC [LANE_LOG LANE_RC]...
# Each LANE_LOG is the output of a lane run outside meson (the VM lane); its
# last "<lane>: N passed, N failed" line is added, and a lane that exited
# non-zero without reporting a failure counts one.
import json
import re
import sys

SYNTH = re.compile(r"Synthesis: Tested: (\d+) \| Passing: (\d+) \| Failing: (\d+) \| Crashing: (\d+)")
# Our own suites (tests/integration) end with "<suite>: N passed, N failed".
PLAIN = re.compile(r"^[a-z-]+: (\d+) passed, (\d+) failed$", re.M)


def main():
    path, meson_rc = sys.argv[1], int(sys.argv[2])
    passed = failed = 0
    failures = []
    lanes = sys.argv[3:]
    for log, rc in zip(lanes[::2], lanes[1::2]):
        with open(log) as f:
            counts = PLAIN.findall(f.read())
        p, f_ = map(int, counts[-1]) if counts else (0, 0)
        if int(rc) != 0 and f_ == 0:
            f_ = 1
        passed += p
        failed += f_
        if f_:
            failures.append(f"{log} (the lane's own log)")
        meson_rc = meson_rc or int(rc)
    with open(path) as f:
        for line in f:
            t = json.loads(line)
            ok = t["result"] in ("OK", "EXPECTEDFAIL")
            out = (t.get("stdout") or "") + (t.get("stderr") or "")
            m = SYNTH.findall(out)
            plain = PLAIN.findall(out)
            if plain and not m:
                p, f_ = map(int, plain[-1])
                passed += p
                failed += f_
                if not ok and f_ == 0:
                    failed += 1
                    failures.append(t["name"] + " (exit status)")
                elif f_:
                    failures.append(t["name"])
            elif m:
                tested, passing, failing, crashing = map(int, m[-1])
                passed += passing
                failed += failing + crashing
                if not ok and failing + crashing == 0:
                    failed += 1
                    failures.append(t["name"] + " (exit status)")
                elif failing + crashing:
                    failures.append(t["name"])
            elif t["result"] == "SKIP":
                failed += 1
                failures.append(t["name"] + " (SKIPPED: a lane that cannot run must fail loudly)")
            elif ok:
                passed += 1
            else:
                failed += 1
                failures.append(t["name"])
    if failures:
        print("failed: " + ", ".join(failures))
    if passed + failed == 0:
        print("NO TEST RAN")
        failed = 1
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed or meson_rc else 0)


if __name__ == "__main__":
    main()
