#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# test-claim-async.py - claims whose drivers take seconds to unbind and probe, on the sim: nothing waits for them
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, main, wait_for, with_world  # noqa: E402

# Group 7: a NIC whose driver takes 3 s to unbind and 2 s to probe again, and
# a device with page requests in group 8, claimed by another client.
TOPOLOGY = {
    "devices": [
        {"name": "0000:07:00.0", "group": 7, "iommu": "dmar0", "driver": "e1000e",
         "unbind_ms": 3000, "probe_ms": 2000},
        {"name": "0000:07:00.1", "group": 7, "iommu": "dmar0"},
        {"name": "0000:08:00.0", "group": 8, "iommu": "dmar0", "pasid": True, "max_pasids": 1048576,
         "pri": True},
        {"name": "0000:09:00.0", "group": 9, "iommu": "dmar0", "driver": "nvme", "unbind_ms": 1000,
         "refuse_unbind": True},
    ]
}
TOPO_PATH = "/tmp/iommud-it-claim-async-topology.json"
with open(TOPO_PATH, "w") as f:
    json.dump(TOPOLOGY, f)
os.chmod(TOPO_PATH, 0o644)
SLOW = with_world(daemon_args=[f"--topology={TOPO_PATH}"])


def ping_ms(w):
    t = time.monotonic()
    w.busctl("call", "org.iommud1", "/org/iommud1", "org.freedesktop.DBus.Peer", "Ping")
    return (time.monotonic() - t) * 1000


def transit(w, group):
    return w.prop("Transit", path=f"/org/iommud1/group/{group}", iface="org.iommud1.Group")


def start_claim(w, group, *rest):
    p = w.spawn_ctl("claim", str(group), "--detach-drivers", *rest)
    wait_for(f"group {group} claiming", lambda: transit(w, group) == "claiming", timeout=5)
    return p


@SLOW
def test_daemon_serves_others_while_a_claim_unbinds_its_driver(w):
    t = time.monotonic()
    p = start_claim(w, 7, "+", "groups")
    pings = [ping_ms(w) for _ in range(5)]
    check(transit(w, 7) == "claiming", "still claiming while the driver unbinds")
    check(w.groups().get(7) == "dma-api", f"not the claimer's yet: {w.groups()}")
    # Another client's whole page-request round trip is served meanwhile.
    r = w.ctl("claim", "8", "+", "share", "64K", "+", "bind", "0000:08:00.0", "+",
              "dma", "0000:08:00.0", "@pasid", "@share+0x1000", "16", "--fill", "0x5a", "+",
              "peek", "@share+0x1000", "16")
    check(re.search(r"5a 5a 5a 5a", r.out), f"the device's write through a page request landed: {r.out}")
    check(transit(w, 7) == "claiming", "and that was all while group 7's claim ran")
    out, err = p.communicate(timeout=20)
    took = time.monotonic() - t
    check(p.returncode == 0, f"the claim succeeds once the driver is off: {err}")
    check(re.search(r"^7\s+user\b", out, re.M), out)
    check(took >= 2.9, f"the claim waited for the 3 s unbind ({took:.2f} s)")
    check(max(pings) < 1000, f"Ping answered while the claim ran, worst {max(pings):.0f} ms: {pings}")


@SLOW
def test_second_claimer_is_told_the_group_is_being_claimed(w):
    p = start_claim(w, 7, "+", "hold")
    r = w.ctl("claim", "7", "--detach-drivers", uid=0, check_rc=1)
    check("being claimed by another client" in r.err, r.err)
    p.terminate()
    p.communicate(timeout=10)


@SLOW
def test_L5_client_gone_mid_claim_gets_nothing_and_the_driver_comes_back(w):
    p = start_claim(w, 7, "+", "hold")
    p.kill()
    p.communicate(timeout=10)
    wait_for("the claim undone: e1000e back, steady", lambda: transit(w, 7) == "" and
             w.groups().get(7) == "dma-api", timeout=15)
    dev = w.call("ListDevices").out
    check('"0000:07:00.0" 7 "e1000e"' in dev, dev)
    check("ERROR" not in w.log(), w.log())


@SLOW
def test_release_reads_releasing_until_the_driver_probed(w):
    r = w.ctl("claim", "7", "--detach-drivers", "+", "release", "7", "+", "groups")
    check(re.search(r"^7\s+(none|dma-api)\b", r.out, re.M), r.out)
    check(transit(w, 7) == "releasing", "the probe takes 2 s")
    r = w.ctl("claim", "7", "--detach-drivers", check_rc=1)
    check("being released" in r.err, r.err)
    wait_for("e1000e probed again", lambda: transit(w, 7) == "" and w.groups().get(7) == "dma-api", timeout=10)
    w.ctl("claim", "7", "--detach-drivers")


@SLOW
def test_L5_a_slow_refusal_is_answered_with_the_driver_named_and_nothing_changed(w):
    r = w.ctl("claim", "9", "--detach-drivers", check_rc=1)
    check("refused to unbind" in r.err and "left as it was" in r.err, r.err)
    check(w.groups().get(9) == "dma-api" and transit(w, 9) == "", w.groups())


@SLOW
def test_daemon_stopped_mid_release_binds_the_driver_before_it_exits(w):
    w.ctl("claim", "7", "--detach-drivers", "+", "release", "7")
    check(transit(w, 7) == "releasing", "released, the probe is running")
    t = time.monotonic()
    w.daemon.terminate()
    rc = w.daemon.wait(timeout=20)
    check(rc == 0, f"exits 0: {rc}\n{w.log()}")
    check(time.monotonic() - t >= 1.0, "it waited for the probe")
    w.start_daemon([f"--topology={TOPO_PATH}"])


TESTS = [(name, fn) for name, fn in sorted(globals().items()) if name.startswith("test_")]

if __name__ == "__main__":
    main(TESTS, suite="claim-async")
