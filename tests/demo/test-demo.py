#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# test-demo.py - tools/demo, piped as a log or a CI job would take it: plain text, no shell job noise
#
# Runs the whole demo (a private bus, iommud --sim, iommuctl, a client
# killed with SIGKILL) twice on this build: with stdout and stderr to pipes,
# where it must print no escape byte and no "Killed"/"Terminated" report of
# the shell, and on a pseudo-terminal, where its headings are bold. Needs
# root, as the demo does; slow, so it is its own suite.
import os
import pty
import re
import subprocess
import sys

ESC = "\x1b"
JOB_NOISE = re.compile(r"\b(Killed|Terminated)\b")


def demo(source, build, stdout, stderr):
    env = dict(os.environ, BUILD_DIR=build)
    return subprocess.run([os.path.join(source, "tools/demo")], stdout=stdout, stderr=stderr,
                          env=env, timeout=600)


def test_piped_demo_prints_plain_text_without_job_noise(source, build):
    p = demo(source, build, subprocess.PIPE, subprocess.PIPE)
    out, err = p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
    problems = []
    if p.returncode != 0:
        problems.append(f"the demo exited {p.returncode}")
    # It ran to its end: the killed client's claims are back.
    if "== 7. What 'iommuctl monitor' saw on the bus" not in out or "$ kill -9 " not in out:
        problems.append("the demo did not run through step 7")
    for name, text in (("stdout", out), ("stderr", err)):
        if ESC in text:
            line = next(l for l in text.splitlines() if ESC in l)
            problems.append(f"an escape byte on {name}: {line!r}")
        noise = [l for l in text.splitlines() if JOB_NOISE.search(l)]
        if noise:
            problems.append(f"shell job reports on {name}: {noise}")
    return problems, out + "\n--- stderr ---\n" + err


def test_demo_on_a_terminal_has_bold_headings(source, build):
    leader, follower = pty.openpty()
    try:
        p = subprocess.Popen([os.path.join(source, "tools/demo")], stdout=follower, stderr=subprocess.PIPE,
                             env=dict(os.environ, BUILD_DIR=build))
        os.close(follower)
        follower = None
        chunks = []
        while True:
            try:
                data = os.read(leader, 65536)
            except OSError:         # EIO: the demo closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        p.wait(timeout=600)
        out = b"".join(chunks).decode(errors="replace")
    finally:
        os.close(leader)
        if follower is not None:
            os.close(follower)
    problems = []
    if p.returncode != 0:
        problems.append(f"the demo exited {p.returncode}")
    if "\x1b[1m== 1. " not in out:
        problems.append("no bold heading on a terminal")
    return problems, out


def main():
    build = sys.argv[sys.argv.index("--build") + 1]
    source = sys.argv[sys.argv.index("--source") + 1]
    if os.geteuid() != 0:
        print("THE DEMO TEST NEEDS ROOT (the demo owns org.iommud1 on its private bus); run tools/run-tests as root")
        print("demo: 0 passed, 1 failed")
        sys.exit(1)
    passed = failed = 0
    for name, fn in sorted((n, f) for n, f in globals().items() if n.startswith("test_")):
        problems, output = fn(source, build)
        if problems:
            failed += 1
            print(f"FAIL {name}: " + "; ".join(problems) + "\n--- the demo's output ---\n" + output, flush=True)
        else:
            passed += 1
            print(f"PASS {name}", flush=True)
    print(f"demo: {passed} passed, {failed} failed", flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
