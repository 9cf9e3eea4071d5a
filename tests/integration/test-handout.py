#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# test-handout.py - devices and iommufd contexts handed to a client's own driver, on the sim, over the real bus
import json
import os
import re
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import NOBODY, check, main, spawn, wait_for, with_world  # noqa: E402

DEV_PRI, DEV_NIC, DEV_NIC1, DEV_NOPRI = "0000:00:02.0", "0000:00:03.0", "0000:00:03.1", "0000:00:04.0"
DEV_PRI_PATH = "/org/iommud1/device/_30000_3a00_3a02_2e0"

# A child that stands for a VMM: it says what each fd number among its
# arguments is, then does what stdin says, line by line: "read" the
# daemon's request record from the device fd (the last), "close" it, or
# anything else (or the end) to exit.
HOLDER = r"""
import os, re, stat, sys
fds = [int(n) for a in sys.argv[1:] for n in re.findall(r"fd=(\d+)", a)]
for fd in fds:
    st = os.fstat(fd)
    kind = "socket" if stat.S_ISSOCK(st.st_mode) else "file" if stat.S_ISREG(st.st_mode) else "other"
    print(f"fd {fd} {kind} cloexec={os.get_inheritable(fd) is False}", flush=True)
print("ready", flush=True)
for line in sys.stdin:
    if line.strip() == "read":
        print("got " + os.read(fds[-1], 64).decode(), flush=True)
    elif line.strip() == "close":
        os.close(fds[-1])
        print("closed", flush=True)
    else:
        break
"""


def rules(*rs):
    return json.dumps({"rules": list(rs)})


def nobody(**rule):
    return dict({"principals": {"users": ["nobody"]}}, **rule)


def ping(w):
    w.busctl("call", "org.iommud1", "/org/iommud1", "org.freedesktop.DBus.Peer", "Ping")


def group_prop(w, g, name):
    return w.prop(name, path=f"/org/iommud1/group/{g}", iface="org.iommud1.Group")


def readline(p, what):
    line = p.stdout.readline()
    check(line, f"{what}: the child ended early; stderr:\n{p.stderr.read() if p.poll() is not None else ''}")
    return line.strip()


def test_a_device_of_a_group_nobody_claimed_is_not_claimed(w):
    r = w.ctl("open", DEV_PRI, check_rc=1)
    check("NotClaimed" in r.err or "which you have not claimed" in r.err, r.err)
    check("'iommuctl claim 1'" in r.err, "the error says which group to claim: " + r.err)
    ping(w)


def test_a_second_client_cannot_open_a_device_of_a_group_it_does_not_own(w):
    holder = w.spawn_ctl("claim", "1", "+", "hold")
    try:
        wait_for("group 1 claimed", lambda: w.groups().get(1) == "user")
        r = w.call("OpenDevice", "s", DEV_PRI, check_rc=1)
        check("org.iommud1.Error.NotClaimed" in r.err or "not claimed" in r.err, r.err)
        check(w.prop("HandedTo", path=DEV_PRI_PATH, iface="org.iommud1.Device") == "", "nothing handed out")
    finally:
        holder.send_signal(signal.SIGINT)
        holder.wait(timeout=10)


@with_world(policy_text=rules(nobody(devices={"group": 1}, allow=["claim", "open-device"]),
                              nobody(devices={"group": 3}, allow=["claim"])))
def test_policy_open_device_allows_and_denies_per_device_as_root_and_as_nobody(w):
    r = w.ctl("claim", "1", "+", "open", DEV_PRI, "+", "iommufd", uid=NOBODY)
    check("opened 0000:00:02.0" in r.out and "iommufd context" in r.out, r.out + r.err)
    r = w.ctl("claim", "3", "+", "open", DEV_NOPRI, uid=NOBODY, check_rc=1)
    check("may not open-device on device 0000:00:04.0" in r.err, "denied where no rule grants it: " + r.err)
    r = w.ctl("claim", "3", "+", "open", DEV_NOPRI)
    check("opened 0000:00:04.0" in r.out, "root may by default: " + r.out + r.err)
    ping(w)


@with_world(policy_text=rules(nobody(devices={"group": 3}, allow=["claim"])))
def test_open_iommufd_needs_open_device_somewhere(w):
    r = w.ctl("iommufd", uid=NOBODY, check_rc=1)
    check("may not open-device on any device" in r.err, r.err)
    r = w.ctl("iommufd")
    check("iommufd context of your own" in r.out, r.out + r.err)


@with_world(policy_text=rules(nobody(devices={"group": 2}, allow=["claim", "detach-kernel-drivers", "open-device"],
                                     quota={"open-devices": 1})))
def test_open_devices_quota_is_refused_naming_it(w):
    r = w.ctl("claim", "2", "--detach-drivers", "+", "open", DEV_NIC, "+", "open", DEV_NIC1, uid=NOBODY,
              check_rc=1)
    check('Quota "open-devices" of uid 65534' in r.err, r.err)
    wait_for("group 2 back to its driver", lambda: w.groups().get(2) == "dma-api")


def test_no_bond_while_a_device_of_the_group_is_handed_out(w):
    r = w.ctl("claim", "1", "+", "open", DEV_PRI, "+", "bind", DEV_PRI, check_rc=1)
    check("has a device handed out to a driver of your own" in r.err, r.err)


def test_revoke_waits_for_the_holder_to_close_and_the_daemon_answers_meanwhile(w):
    child = spawn(w, [w.iommuctl, "claim", "2", "--detach-drivers", "+", "open", DEV_NIC1, "+", "exec", "--",
                      sys.executable, "-c", HOLDER, "fd=@fd:" + DEV_NIC1])
    try:
        while readline(child, "the holder's fds") != "ready":
            pass
        check(w.prop("HandedTo", path="/org/iommud1/device/_30000_3a00_3a03_2e1", iface="org.iommud1.Device")
              .startswith(":1."), "HandedTo names the bus name")
        check(re.search(rf"^{re.escape(DEV_NIC1)}\s.*\s:1\.\d+\s*$", w.ctl("list").out, re.M),
              "iommuctl list shows it: " + w.ctl("list").out)
        w.ctl("revoke", "2")
        check(group_prop(w, 2, "Transit") == "releasing", "releasing while the holder keeps its fd")
        check(group_prop(w, 2, "Ownership") != "user", "the claim is over")
        holders = w.busctl("get-property", "org.iommud1", "/org/iommud1/group/2", "org.iommud1.Group",
                           "Holders").out
        check(f'"{DEV_NIC1}" {child.pid}' in holders or re.search(rf'"{DEV_NIC1}" \d+', holders),
              "the holder is reported with its pid: " + holders)
        for _ in range(3):
            ping(w)
        check(w.groups().get(2) != "dma-api", "e1000e waits for the holder")
        child.stdin.write("read\nclose\n")
        child.stdin.flush()
        check(readline(child, "the request") == "got request", "the holder was asked to let go")
        check(readline(child, "close") == "closed", "closed")
        wait_for("the drivers back once the fd is closed", lambda: w.groups().get(2) == "dma-api")
        check(group_prop(w, 2, "Transit") == "", "steady again")
        check(child.poll() is None, "while the holder still runs")
        ping(w)
    finally:
        if child.poll() is None:
            child.stdin.write("exit\n")
            child.stdin.flush()
        child.wait(timeout=10)
    check("pid" in w.log() and "releasing" in w.log(), "the wait is logged:\n" + w.log())


def test_exec_substitutes_fds_that_are_valid_in_the_child_and_the_claim_ends_with_it(w):
    child = spawn(w, [w.iommuctl, "claim", "1", "+", "open", DEV_PRI, "+", "iommufd", "+", "exec", "--",
                      sys.executable, "-c", HOLDER, "iommufd,id=i0,fd=@iommufd",
                      "vfio-pci,iommufd=i0,fd=@fd:" + DEV_PRI])
    lines = []
    while not lines or lines[-1] != "ready":
        lines.append(readline(child, "the child's fds"))
    check(re.match(r"fd \d+ file cloexec=False", lines[0]), "the iommufd (a memfd on the sim): %s" % lines)
    check(re.match(r"fd \d+ socket cloexec=False", lines[1]), "the device (a socket end on the sim): %s" % lines)
    check(w.groups().get(1) == "user", "claimed while the child runs")
    out, err = child.communicate("exit\n", timeout=20)
    check(child.returncode == 0, f"iommuctl exits with the child's status: {child.returncode}\n{err}")
    check("claimed group 1" in err and "claimed group 1" not in "\n".join(lines),
          "iommuctl's own output goes to stderr, the child's stdout is its own")
    wait_for("the claim ends with the child", lambda: w.groups().get(1) == "none")


def test_exec_refuses_a_memlock_limit_below_the_guest_ram_unless_told(w):
    as_nobody = ["prlimit", "--memlock=65536:65536", "setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}",
                 "--clear-groups", "--", w.iommuctl]
    qemu = ["/nonexistent/qemu-system-x86_64", "-m", "2G", "-nodefaults"]
    r = w.run([*as_nobody, "exec", "--", *qemu], check_rc=1)
    check("RLIMIT_MEMLOCK is 64 KiB" in r.err and "at least 2 GiB" not in r.err and "ulimit -l" in r.err
          and "--ignore-memlock" in r.err, "says what to raise and how: " + r.err)
    r = w.run([*as_nobody, "exec", "--ignore-memlock", "--", *qemu], check_rc=127)
    check("going on as asked" in r.err and "cannot run" in r.err, r.err)
    r = w.run([*as_nobody, "exec", "--", "/bin/true"], check_rc=0)
    check("notice: RLIMIT_MEMLOCK is 64 KiB" in r.err, "other commands get a notice: " + r.err)


def test_claim_for_a_process_ends_when_that_process_exits(w):
    proc = subprocess.Popen(["sleep", "600"])
    try:
        w.ctl("claim", "1", "--for-pid", str(proc.pid))
        check(w.groups().get(1) == "user", "the claim outlives iommuctl's connection")
        check(group_prop(w, 1, "Owner") == f"pid:{proc.pid}", "held for the process")
        r = w.ctl("claim", "3", "--for-pid", str(proc.pid), uid=NOBODY, check_rc=1)
        check("may not claim" in r.err, "claimed with the caller's rights: " + r.err)
    finally:
        proc.kill()
        proc.wait()
    wait_for("the claim ends with the process", lambda: w.groups().get(1) == "none")
    ping(w)


TESTS = [(name, fn) for name, fn in sorted(globals().items()) if name.startswith("test_")]

if __name__ == "__main__":
    main(TESTS, suite="handout")
