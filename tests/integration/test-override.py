#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# test-override.py - groups held for the machine: DetachGroup, clients in them, restarts, ReattachGroup, on the sim
import json
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import NOBODY, check, main, wait_for, with_world  # noqa: E402

DEV_NIC, DEV_NIC1 = "0000:00:03.0", "0000:00:03.1"
NIC_PATH = "/org/iommud1/device/_30000_3a00_3a03_2e0"


def rules(*rs):
    return json.dumps({"rules": list(rs)})


def driver(w, path=NIC_PATH):
    return w.prop("Driver", path=path, iface="org.iommud1.Device")


def group_prop(w, g, name):
    return w.prop(name, path=f"/org/iommud1/group/{g}", iface="org.iommud1.Group")


def stored(w, sub):
    path = os.path.join(w.dir, sub, "overrides")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return {o["device"]: o["driver"] for o in json.load(f)["overrides"]}


def restart(w, *args):
    w.daemon.send_signal(signal.SIGTERM)
    check(w.daemon.wait(timeout=15) == 0, "iommud stopped for the restart")
    w.start_daemon([f"--policy={w.policy}"] if w.policy else list(args))


def test_detach_group_holds_it_for_the_machine_after_the_caller_is_gone(w):
    w.call("DetachGroup", "ut", 2, 0)           # busctl exits: the caller is gone
    check(w.groups()[2] == "machine", f"group 2 is the machine's: {w.groups()}")
    check(driver(w) == "vfio-pci", f"00:03.0 on vfio-pci: {driver(w)}")
    check(group_prop(w, 2, "Override") == "persistent", "saved by default")
    check(stored(w, "lib") == {DEV_NIC: "e1000e", DEV_NIC1: None}, f"stored: {stored(w, 'lib')}")
    check(stored(w, "run") is None, "nothing until-reboot")
    out = w.call("ListOverrides").out
    check(f'"{DEV_NIC}" "e1000e" 2 true "held"' in out, out)
    check(f'"{DEV_NIC1}" "" 2 true "held"' in out, out)
    w.call("DetachGroup", "ut", 2, 0)           # overrides don't nest
    check(w.call("ListOverrides").out.count("held") == 2, "still two")


@with_world(policy_text=rules({"principals": {"users": [NOBODY]}, "devices": {"group": 2}, "allow": ["claim"]}))
def test_a_client_claims_a_held_group_without_detaching_and_its_end_leaves_it_held(w):
    # nobody may claim, not detach kernel drivers: e1000e keeps it out...
    out = w.call("ClaimGroup", "ut", 2, 0, uid=NOBODY, check_rc=1)
    check("e1000e" in out.err, f"in use by e1000e: {out.err}")
    w.call("DetachGroup", "ut", 2, 0)
    # ...until the machine holds the group: then no driver is left to detach.
    p = w.spawn_ctl("claim", "2", "+", "hold", uid=NOBODY)
    wait_for("nobody's claim", lambda: w.groups()[2] == "user")
    check(group_prop(w, 2, "OwnerUid") == NOBODY, "nobody owns it")
    out = w.call("ReattachGroup", "u", 2, check_rc=1)
    check("claimed by client" in out.err and "release" in out.err, f"not while a client holds it: {out.err}")
    p.kill()
    p.wait()
    wait_for("the claim's end", lambda: w.groups()[2] == "machine")
    check(driver(w) == "vfio-pci", "its devices stay on vfio-pci")


def test_a_stored_override_is_held_again_at_start_and_reattach_gives_the_driver_back(w):
    w.call("DetachGroup", "ut", 2, 0)
    restart(w)
    check(w.groups()[2] == "machine", f"re-applied before serving: {w.groups()}")
    check(driver(w) == "vfio-pci", "00:03.0 on vfio-pci again")
    check(f'"{DEV_NIC}" "e1000e" 2 true "held"' in w.call("ListOverrides").out, "its driver is remembered")
    w.call("ReattachGroup", "u", 2)
    check(w.groups()[2] == "dma-api", f"reattached: {w.groups()}")
    check(driver(w) == "e1000e", f"e1000e is back: {driver(w)}")
    check(stored(w, "lib") is None, f"nothing stored any more: {stored(w, 'lib')}")
    check(w.call("ListOverrides").out.strip() == "a(ssubs) 0", w.call("ListOverrides").out)
    restart(w)
    check(w.groups()[2] == "dma-api", "and it stays reattached")


def test_a_stored_override_is_not_held_again_on_another_kind_of_device_at_its_address(w):
    w.call("DetachGroup", "ut", 2, 0)
    with open(os.path.join(w.dir, "lib", "overrides")) as f:
        ids = {o["device"]: o.get("pci_id") for o in json.load(f)["overrides"]}
    check(ids == {DEV_NIC: "8086:10d3", DEV_NIC1: "8086:10d3"}, f"the kind of each device is stored: {ids}")
    # The next start finds an NVMe drive at 00:03.0 (a card moved, or another machine).
    topo = w.write("moved.json", json.dumps({"devices": [
        {"name": DEV_NIC, "group": 2, "iommu": "dmar0", "vendor": "0x144d", "device": "0xa808",
         "class": "0x010802", "driver": "nvme"},
        {"name": DEV_NIC1, "group": 2, "iommu": "dmar0", "vendor": "0x8086", "device": "0x10d3"}]}))
    restart(w, f"--topology={topo}")
    check(w.groups()[2] == "dma-api", f"group 2 is not held: {w.groups()}")
    check(driver(w) == "nvme", f"the drive keeps its driver: {driver(w)}")
    check(f"{DEV_NIC} was set on a 8086:10d3, and {DEV_NIC} is a 144d:a808 now: group 2 is not held again"
          in w.log(), w.log())
    check(stored(w, "lib") == {DEV_NIC: "e1000e", DEV_NIC1: None}, f"its records are kept: {stored(w, 'lib')}")
    w.call("ReattachGroup", "u", 2)
    check(stored(w, "lib") is None, f"reattach-group forgets them: {stored(w, 'lib')}")
    check(driver(w) == "nvme" and "records of group 2, not re-applied at start, forgotten by" in w.log(),
          "the drive left as it was, and the log says so:\n" + w.log())


def test_nosave_keeps_it_in_the_state_directory_only(w):
    w.call("DetachGroup", "ut", 2, 1)
    check(group_prop(w, 2, "Override") == "until-reboot", "NOSAVE")
    check(stored(w, "run") == {DEV_NIC: "e1000e", DEV_NIC1: None}, f"in run/: {stored(w, 'run')}")
    check(stored(w, "lib") is None, "not in lib/")
    w.call("DetachGroup", "ut", 2, 0)           # asked again without NOSAVE: now saved
    check(stored(w, "lib") == {DEV_NIC: "e1000e", DEV_NIC1: None} and stored(w, "run") is None,
          f"moved to lib/: {stored(w, 'lib')} {stored(w, 'run')}")
    check(group_prop(w, 2, "Override") == "persistent", "now persistent")


@with_world(policy_text=rules({"principals": {"users": [NOBODY]}, "devices": {"group": 2},
                               "allow": ["admin-claim"]}))
def test_admin_claim_is_root_s_or_the_policy_s_to_give(w):
    # busctl says "Access denied" whatever the message; the log has ours.
    out = w.call("DetachGroup", "ut", 1, 0, uid=NOBODY, check_rc=1)
    check("Access denied" in out.err, f"group 1 is not granted: {out.err}")
    check("denied admin-claim on 0000:00:02.0" in w.log(), w.log())
    w.call("DetachGroup", "ut", 2, 0, uid=NOBODY)
    check(w.groups()[2] == "machine", "granted on group 2")
    out = w.call("ReattachGroup", "u", 1, uid=NOBODY, check_rc=1)
    check("Access denied" in out.err, out.err)
    w.call("ReattachGroup", "u", 2, uid=NOBODY)
    check(driver(w) == "e1000e", "reattached by the policy's grantee")


def test_bad_input_is_refused_with_what_to_do(w):
    out = w.call("DetachGroup", "ut", 99, 0, check_rc=1)
    check("no group 99" in out.err and "iommuctl groups" in out.err, out.err)
    out = w.call("DetachGroup", "ut", 2, 6, check_rc=1)
    check("Unknown flags 0x6" in out.err and "NOSAVE" in out.err, out.err)
    out = w.call("ReattachGroup", "u", 2, check_rc=1)
    check("has no override" in out.err and "list-overrides" in out.err, out.err)


def test_a_broken_stored_file_is_moved_aside_and_the_daemon_serves(w):
    w.daemon.send_signal(signal.SIGTERM)
    check(w.daemon.wait(timeout=15) == 0, "stopped")
    os.makedirs(os.path.join(w.dir, "lib"), exist_ok=True)
    with open(os.path.join(w.dir, "lib", "overrides"), "w") as f:
        f.write("{not json")
    w.start_daemon([])
    check(w.groups()[2] == "dma-api", "nothing re-applied")
    check(os.path.exists(os.path.join(w.dir, "lib", "overrides.broken")), "kept for the administrator")
    check("overrides.broken" in w.log(), f"the log says where: {w.log()}")
    w.call("DetachGroup", "ut", 2, 0)
    check(stored(w, "lib") == {DEV_NIC: "e1000e", DEV_NIC1: None}, "a new file")


TESTS = [(name, fn) for name, fn in sorted(globals().items()) if name.startswith("test_")]

if __name__ == "__main__":
    main(TESTS, suite="override")
