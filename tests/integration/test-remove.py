#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# test-remove.py - a claimed device that goes (the kernel taking it back, an unplug) over D-Bus, on the sim
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, main, wait_for  # noqa: E402

DEV_PRI, DEV_NIC, DEV_NIC1 = "0000:00:02.0", "0000:00:03.0", "0000:00:03.1"


def monitored(w, *ctl_args):
    """Runs iommuctl ctl_args while `iommuctl monitor` listens; (its result, what the monitor printed)."""
    mon = w.spawn_ctl("monitor")
    try:
        time.sleep(0.5)
        r = w.ctl(*ctl_args)
        time.sleep(0.3)
    finally:
        mon.send_signal(signal.SIGINT)
        out, _ = mon.communicate(timeout=10)
    return r, out


def test_last_device_gone_ends_the_claim_and_its_group(w):
    """As the kernel frees a group, and the claim's DMA ownership, with its last device."""
    r, mon = monitored(w, "claim", "1", "+", "share", "64K", "+", "space", "+",
                       "map", "@space", "@region", "0", "0x100000", "64K", "+", "attach", "@space", DEV_PRI, "+",
                       "unplug", DEV_PRI, "+", "groups", "+", "spaces")
    check(re.search(rf"DeviceRemoved \S+ device={DEV_PRI}", mon), "DeviceRemoved:\n" + mon)
    check(re.search(r"GroupChanged \S+ group=1 ownership=none", mon), "the claim's end is signalled:\n" + mon)
    check(re.search(r"InterfacesRemoved /org/iommud1/group/1 org.iommud1.Group", mon), "the group object goes:\n" + mon)
    check(not re.search(r"^1\s", r.out, re.M), "group 1 is no longer listed:\n" + r.out)
    check("/org/iommud1/space/" in r.out and DEV_PRI not in r.out.split("unplugged " + DEV_PRI)[-1],
          "the client keeps its space, detached:\n" + r.out)
    w.busctl("call", "org.iommud1", "/org/iommud1", "org.freedesktop.DBus.Peer", "Ping")
    r = w.call("ReleaseGroup", "u", 1, check_rc=1)
    check("no group 1" in r.err.lower() or "There is no group 1" in r.err, r.err)


def test_claim_stays_while_other_devices_of_the_group_remain(w):
    r = w.ctl("claim", "2", "--detach-drivers", "+", "unplug", DEV_NIC1, "+", "groups")
    check(re.search(r"^2\s+user\b", r.out, re.M), "group 2 stays claimed:\n" + r.out)
    wait_for("group 2 back to dma-api after the client", lambda: w.groups().get(2) == "dma-api")


TESTS = [(name, fn) for name, fn in sorted(globals().items()) if name.startswith("test_")]

if __name__ == "__main__":
    main(TESTS, suite="remove")
