#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# qmp-check.py - runs a command that ends in `qemu-system-x86_64 ... -qmp stdio`
# and asks that QEMU, over QMP, which PCI devices it realized.
#
# usage: qmp-check.py [--expect VENDOR:DEVICE] [--while SHELL-CMD] -- COMMAND...
#
# Speaks QMP on the command's stdin/stdout: the greeting, qmp_capabilities,
# query-pci; prints every device as "pci BUS:SLOT.FN VENDOR:DEVICE"; runs
# SHELL-CMD (if given) while QEMU is up, printing its output prefixed by
# "while: "; then quit, and waits for the command to end. Lines that are not
# JSON (what iommuctl prints before it starts QEMU) are printed as "out: ".
# Exits 0 when a device VENDOR:DEVICE was realized and the command exited 0;
# 3 when the command ended before QEMU greeted (it was refused before QEMU ran).
import argparse
import json
import select
import subprocess
import sys
import time

TIMEOUT = 300   # nested TCG: a QEMU inside the lane's guest is slow to start


def read_message(proc, deadline):
    """The next QMP message (a dict), or None when the command's stdout ends."""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no QMP message within %d s" % TIMEOUT)
        ready, _, _ = select.select([proc.stdout], [], [], left)
        if not ready:
            continue
        line = proc.stdout.readline()
        if not line:
            return None
        line = line.decode(errors="replace").strip()
        try:
            msg = json.loads(line)
        except ValueError:
            print("out: " + line)
            continue
        if isinstance(msg, dict) and "event" not in msg:
            return msg


def execute(proc, command, deadline):
    proc.stdin.write((json.dumps({"execute": command}) + "\n").encode())
    proc.stdin.flush()
    msg = read_message(proc, deadline)
    if msg is None or "return" not in msg:
        raise RuntimeError("%s answered %r" % (command, msg))
    return msg["return"]


def devices(pci):
    """Every device of query-pci's answer, behind bridges too."""
    def walk(devs):
        for dev in devs:
            yield dev
            yield from walk(dev.get("pci_bridge", {}).get("devices", []))
    for bus in pci:
        yield from walk(bus.get("devices", []))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--expect", default="8086:10d3")
    ap.add_argument("--while", dest="during")
    ap.add_argument("command", nargs="+")
    args = ap.parse_args()
    vendor, device = (int(x, 16) for x in args.expect.split(":"))

    proc = subprocess.Popen(args.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    deadline = time.monotonic() + TIMEOUT
    greeting = read_message(proc, deadline)
    if greeting is None or "QMP" not in greeting:
        rc = proc.wait(timeout=TIMEOUT)
        print("qmp-check: the command ended (status %d) before QEMU greeted" % rc)
        return 3
    print("qmp-check: QEMU %s greeted" % greeting["QMP"]["version"]["qemu"])
    execute(proc, "qmp_capabilities", deadline)
    found = False
    for dev in devices(execute(proc, "query-pci", deadline)):
        ids = (dev["id"]["vendor"], dev["id"]["device"])
        print("pci %02x:%02x.%x %04x:%04x %s" % (dev["bus"], dev["slot"], dev["function"], ids[0], ids[1],
                                                 dev.get("qdev_id", "")))
        found |= ids == (vendor, device)
    if args.during:
        out = subprocess.run(["sh", "-c", args.during], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for line in out.stdout.decode(errors="replace").splitlines():
            print("while: " + line)
    execute(proc, "quit", deadline)
    while read_message(proc, deadline) is not None:
        pass
    rc = proc.wait(timeout=TIMEOUT)
    print("qmp-check: %s %s realized; the command exited %d" % (args.expect, "was" if found else "was NOT", rc))
    return 0 if found and rc == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
