#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# test-daemon.py - iommud on a private system bus, driven by real client processes
import json
import os
import re
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import NOBODY, Failure, check, main, wait_for, with_world  # noqa: E402

DEV_PRI, DEV_NIC, DEV_NIC1, DEV_NOPRI, DEV_SMALL = (
    "0000:00:02.0", "0000:00:03.0", "0000:00:03.1", "0000:00:04.0", "0000:00:05.0")
INITIAL = {1: "none", 2: "dma-api", 3: "none", 4: "none"}

# nobody may claim groups 1 and 3 and use SVA there; at most 1 group.
NOBODY_POLICY = json.dumps({"rules": [
    {"principals": {"users": ["nobody"]},
     "devices": {"group": 1},
     "allow": ["claim", "sva"]},
    {"principals": {"users": ["nobody"]},
     "devices": {"group": 3},
     "allow": ["claim"]},
    {"principals": {"users": ["nobody"]},
     "quota": {"groups": 1}},
]})


def interfaces(xml_text):
    """{interface name: canonical text} of the org.iommud1 interfaces."""
    out = {}
    for iface in ET.fromstring(xml_text).iter("interface"):
        name = iface.get("name")
        if not name.startswith("org.iommud1."):
            continue
        members = []
        for m in iface:
            if m.tag not in ("method", "property", "signal"):
                continue
            args = [(a.get("type"), a.get("name"), a.get("direction")) for a in m.iter("arg")]
            ann = sorted((a.get("name"), a.get("value")) for a in m.findall("annotation"))
            members.append((m.tag, m.get("name"), m.get("type"), m.get("access"), tuple(args), tuple(ann)))
        out[name] = sorted(members)
    return out


def test_introspection_matches_api_xml(w):
    sess = w.spawn_ctl("claim", "1", "+", "bind", DEV_PRI, "+", "share", "64K", "+", "space", "+", "hold")
    try:
        wait_for("a space", lambda: "/org/iommud1/space/" in w.busctl("tree", "org.iommud1").out)
        tree = w.busctl("tree", "org.iommud1").out
        paths = ["/org/iommud1", "/org/iommud1/group/1", "/org/iommud1/device/_30000_3a00_3a02_2e0"]
        paths += [re.search(r"/org/iommud1/%s/\d+" % kind, tree).group(0) for kind in ("bond", "region", "space")]
        served = {}
        for path in paths:
            served.update(interfaces(w.busctl("introspect", "--xml-interface", "org.iommud1", path).out))
    finally:
        sess.terminate()
        sess.wait(timeout=10)
    api_dir = os.path.join(w.source, "api")
    files = sorted(f for f in os.listdir(api_dir) if f.endswith(".xml"))
    documented = {}
    for f in files:
        with open(os.path.join(api_dir, f)) as fh:
            documented.update(interfaces(fh.read()))
    check(set(served) == set(documented),
          f"interfaces served {sorted(served)} but api/ documents {sorted(documented)}")
    for name in served:
        check(served[name] == documented[name],
              f"{name}: the daemon serves\n{served[name]}\nbut api/{name}.xml says\n{documented[name]}")


def test_busctl_lists_and_reads_properties(w):
    check(w.groups() == INITIAL, f"groups at start: {w.groups()}")
    out = w.call("ListDevices").out
    check(f'"{DEV_NIC}" 2 "e1000e" false false' in out, out)
    check(w.prop("Backend") == "sim", "Backend property")
    check(w.prop("Version") != "", "Version property")
    check(w.prop("Driver", "/org/iommud1/device/_30000_3a00_3a03_2e0", "org.iommud1.Device") == "e1000e",
          "device Driver property")
    # Anyone may read, root or not.
    w.call("ListGroups", uid=NOBODY)
    w.busctl("introspect", "org.iommud1", "/org/iommud1", uid=NOBODY)


def test_claim_refused_while_driver_bound_then_detached_and_restored(w):
    r = w.call("ClaimGroup", "ut", 2, 0, check_rc=1)
    check("DETACH_KERNEL_DRIVERS" in r.err and "e1000e" in r.err, r.err)
    # busctl's connection ends with the call: the claim ends with it (L1, L2).
    out = w.call("ClaimGroup", "ut", 2, 1).out
    check('"/org/iommud1/group/2"' in out, out)
    wait_for("group 2 back to dma-api", lambda: w.groups()[2] == "dma-api")
    check(w.prop("Driver", "/org/iommud1/device/_30000_3a00_3a03_2e0", "org.iommud1.Device") == "e1000e",
          "e1000e rebound after the client went")


def test_iommuctl_session_claim_pasid_bind_and_refused_probe(w):
    r = w.ctl("claim", "2", "--detach-drivers", "+", "claim", "1", "+", "pasid", "+", "bind", DEV_PRI,
              "+", "bonds", "+", "groups", "+", "probe", DEV_NIC1, "e1000e", check_rc=1)
    check("PASID 1" in r.out, r.out)
    check(re.search(r"0000:00:02\.0\s+1\s+1\s+active", r.out), "bonds table:\n" + r.out)
    check("Busy" in r.err or "cannot bind" in r.err, "refused probe: " + r.err)
    wait_for("everything released", lambda: w.groups() == INITIAL)
    check(w.prop("PasidsInUse") == 0, "PASID freed at exit")


def test_unprivileged_client_is_denied_with_a_useful_message(w):
    r = w.ctl("claim", "1", uid=NOBODY, check_rc=1)
    check("uid 65534" in r.err and "claim" in r.err, r.err)
    # busctl prints every AccessDenied as "Access denied"; iommuctl shows ours.
    r = w.call("AllocPasid", uid=NOBODY, check_rc=1)
    check("Access denied" in r.err, r.err)
    r = w.ctl("pasid", uid=NOBODY, check_rc=1)
    check("uid 65534 may not sva" in r.err and "policy" in r.err, r.err)
    r = w.call("Reload", uid=NOBODY, check_rc=1)
    r = w.call("Unplug", "s", DEV_PRI, iface="org.iommud1.Simulator", uid=NOBODY, check_rc=1)
    check(w.groups() == INITIAL, "nothing changed")
    check("0000:00:02.0" in w.ctl("list", uid=NOBODY).out, "reading is open to all")


def test_only_root_may_own_the_bus_name(w):
    r = w.run([w.iommud, "--sim"], uid=NOBODY, check_rc=1)
    check("cannot own org.iommud1" in r.err, r.err)


@with_world(policy_text=NOBODY_POLICY)
def test_policy_grants_unprivileged_claim_and_bind_with_quota(w):
    r = w.ctl("claim", "1", "+", "bind", DEV_PRI, "+", "claim", "3", uid=NOBODY, check_rc=1)
    check("bound 0000:00:02.0" in r.out, r.out)
    check("QuotaExceeded" in r.err or "most your policy allows" in r.err, "quota of groups: " + r.err)
    r = w.ctl("claim", "2", "--detach-drivers", uid=NOBODY, check_rc=1)
    check("may not claim" in r.err, r.err)
    wait_for("released", lambda: w.groups() == INITIAL)


def test_sigkill_mid_way_leaks_nothing(w):
    base_fds = w.daemon_fds()
    sess = w.spawn_ctl("claim", "1", "+", "claim", "2", "--detach-drivers", "+", "bind", DEV_PRI, "+", "hold")
    wait_for("the claims", lambda: w.groups()[1] == "user" and w.groups()[2] == "user")
    wait_for("the bond", lambda: "active" in w.call("ListBonds").out)
    check(w.prop("PasidsInUse") == 1, "one PASID while bound")
    check(w.daemon_fds() > base_fds, "a pidfd is held for the client")
    sess.send_signal(signal.SIGKILL)
    sess.wait(timeout=10)
    wait_for("groups back as they were", lambda: w.groups() == INITIAL)
    wait_for("no bonds", lambda: "a(osuuss) 0" in w.call("ListBonds").out)
    check(w.prop("PasidsInUse") == 0, "PASID freed")
    check(w.prop("Clients") == 0, "client forgotten")
    wait_for("no fd left open", lambda: w.daemon_fds() == base_fds)
    check(w.prop("Driver", "/org/iommud1/device/_30000_3a00_3a03_2e0", "org.iommud1.Device") == "e1000e",
          "driver restored")


def test_only_the_owner_may_unbind_or_release(w):
    sess = w.spawn_ctl("claim", "1", "+", "bind", DEV_PRI, "+", "hold")
    try:
        wait_for("a bond", lambda: "/org/iommud1/bond/" in w.call("ListBonds").out)
        bond = re.search(r"/org/iommud1/bond/\d+", w.call("ListBonds").out).group(0)
        w.busctl("call", "org.iommud1", bond, "org.iommud1.Bond", "Unbind", check_rc=1)
        r = w.ctl("unbind", bond, check_rc=1)
        check("belongs to client" in r.err, r.err)
        r = w.ctl("release", "1", check_rc=1)
        check("only that client" in r.err, r.err)
        r = w.call("ReleaseGroup", "u", 3, check_rc=1)
        check("not claimed" in r.err, r.err)
        r = w.call("ClaimGroup", "ut", 1, 0, check_rc=1)
        check("claimed by client" in r.err, r.err)
    finally:
        sess.terminate()
        sess.wait(timeout=10)


def test_unplug_leaves_stale_bond_until_unbound(w):
    r = w.ctl("claim", "1", "+", "bind", DEV_PRI, "+", "unplug", DEV_PRI, "+", "bonds")
    check(re.search(r"0000:00:02\.0\s+1\s+1\s+stale", r.out), "stale bond:\n" + r.out)
    r = w.ctl("claim", "4", "+", "bind", DEV_SMALL, "+", "unplug", DEV_SMALL, "+", "unbind", "1", check_rc=None)
    check(DEV_PRI not in w.ctl("list").out, "device gone")


def test_reload_with_bad_policy_keeps_the_old_one(w):
    good = w.write("p.json", NOBODY_POLICY)
    w.daemon.send_signal(signal.SIGTERM)
    w.daemon.wait(timeout=10)
    w.start_daemon([f"--policy={good}"])
    w.write("p.json", '{"rules": [ {"principals": "*", "allow": ["fly"]} ]}')
    r = w.call("Reload", check_rc=1)
    check("p.json" in r.err and "rules[0]" in r.err, "reload error names file and place: " + r.err)
    r = w.ctl("claim", "1", uid=NOBODY)      # the old policy still grants it
    w.daemon.send_signal(signal.SIGHUP)
    wait_for("SIGHUP refusal logged", lambda: "NOT reloaded" in w.log())
    check(w.daemon.poll() is None, "still running")


def test_reload_revokes_claims_no_longer_allowed(w):
    pol = w.write("p.json", NOBODY_POLICY)
    w.daemon.send_signal(signal.SIGTERM)
    w.daemon.wait(timeout=10)
    w.start_daemon([f"--policy={pol}"])
    sess = w.spawn_ctl("claim", "1", "+", "bind", DEV_PRI, "+", "hold", uid=NOBODY)
    try:
        wait_for("nobody's claim", lambda: w.groups()[1] == "user")
        w.write("p.json", '{"rules": []}')
        w.call("Reload")
        wait_for("claim revoked", lambda: w.groups()[1] == "none")
        check("stale" in w.call("ListBonds").out, "the bond stays, stale (L3)")
    finally:
        sess.terminate()
        sess.wait(timeout=10)


def test_check_policy_command(w):
    good = w.write("good.json", NOBODY_POLICY)
    bad = w.write("bad.json", '{"rules": [ {"principals": {"users": ["nobody"]}, "allow": [1]} ]}')
    r = w.run([w.iommud, f"--check-policy={good}"])
    check("OK" in r.out, r.out)
    r = w.run([w.iommud, f"--check-policy={bad}"], check_rc=1)
    check("bad.json" in r.err and "rules[0].allow" in r.err, r.err)


def test_monitor_shows_signals(w):
    mon = w.spawn_ctl("monitor")
    try:
        time.sleep(0.5)
        w.call("ClaimGroup", "ut", 1, 0)
        wait_for("group released again", lambda: w.groups()[1] == "none")
        time.sleep(0.3)
    finally:
        mon.send_signal(signal.SIGINT)
        out, err = mon.communicate(timeout=10)
    check(mon.returncode == 0, f"monitor exit {mon.returncode}: {err}")
    check(re.search(r"GroupChanged.*1.*user", out), "monitor output:\n" + out)


def test_one_claim_and_bind_signal_only_their_own_objects(w):
    """Signals and property changes of a claim, a bind and the release at the
    client's exit name the group, its devices, the bond and the manager
    (GroupChanged, InterfacesAdded/Removed), never another group's objects."""
    mon = subprocess.Popen(["dbus-monitor", "--address", w.env["DBUS_SYSTEM_BUS_ADDRESS"], "--profile",
                            "type='signal',sender='org.iommud1'"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)
        w.ctl("claim", "1", "+", "bind", DEV_PRI)
        wait_for("group released again", lambda: w.groups()[1] == "none")
        time.sleep(0.3)
    finally:
        mon.terminate()
        out, err = mon.communicate(timeout=10)
    # The daemon's signals only: the bus tells the monitor its own name too.
    sigs = [f for f in (line.split("\t") for line in out.splitlines() if line.startswith("sig\t"))
            if len(f) > 7 and f[3] != "org.freedesktop.DBus"]
    paths = [f[5] for f in sigs]
    devices = re.findall(r'"([^"]+)"', w.prop("Devices", path="/org/iommud1/group/1", iface="org.iommud1.Group"))
    check(DEV_PRI in devices, "group 1's devices: %s" % devices)
    # sd_bus_path_encode(): every byte but [A-Za-z0-9] as _XX, and a leading digit.
    group_paths = {"/org/iommud1/group/1"} | {
        "/org/iommud1/device/" + "".join(c if c.isalnum() and (i or not c.isdigit()) else "_%02x" % ord(c)
                                         for i, c in enumerate(d)) for d in devices}
    stray = [p for p in paths if p != "/org/iommud1" and p not in group_paths and
             not p.startswith("/org/iommud1/bond/")]
    check(paths, "the claim was signalled:\n" + out + err)
    check(not stray, "signals for objects the calls did not change: %s\n%s" % (stray, out))
    check(len(paths) <= 12, "%d signals for one claim, bind and release:\n%s" % (len(paths), out))


def test_sd_notify_ready_reloading_stopping(w):
    import socket
    path = os.path.join(w.dir, "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(10)
    w.daemon.send_signal(signal.SIGTERM)
    w.daemon.wait(timeout=10)
    # Only the daemon gets NOTIFY_SOCKET: systemd's tools report ERRNO= there.
    w.start_daemon([], extra_env={"NOTIFY_SOCKET": path})
    msgs = sock.recv(4096).decode()
    check("READY=1" in msgs, "first notification: " + msgs)
    check(w.call("ListGroups").rc == 0, "serving once ready")
    w.daemon.send_signal(signal.SIGHUP)
    msgs = sock.recv(4096).decode() + sock.recv(4096).decode()
    check("RELOADING=1" in msgs and "READY=1" in msgs, "on SIGHUP: " + msgs)
    w.daemon.send_signal(signal.SIGTERM)
    check("STOPPING=1" in sock.recv(4096).decode(), "STOPPING on SIGTERM")
    check(w.daemon.wait(timeout=10) == 0, "clean exit")
    sock.close()


def test_bad_arguments_are_explained(w):
    r = w.run([w.iommud, "--backend=bogus"], check_rc=1)
    check("unknown backend" in r.err, r.err)
    r = w.run([w.iommud, "--sim", "--topology=/nonexistent.json"], check_rc=1)
    check("/nonexistent.json" in r.err, r.err)
    bad = w.write("topo.json", '{"devices": [ {"name": "x", "iommu": "i", "max_pasids": "lots"} ]}')
    r = w.run([w.iommud, "--sim", f"--topology={bad}"], check_rc=1)
    check("devices[0].max_pasids" in r.err, r.err)


def test_custom_topology_driver_refusing_unbind_rolls_back(w):
    topo = w.write("t.json", json.dumps({"devices": [
        {"name": "0000:01:00.0", "group": 7, "iommu": "dmar0", "driver": "nvme"},
        {"name": "0000:01:00.1", "group": 7, "iommu": "dmar0", "driver": "nvme", "refuse_unbind": True},
    ]}))
    w.daemon.send_signal(signal.SIGTERM)
    w.daemon.wait(timeout=10)
    w.start_daemon([f"--topology={topo}"])
    r = w.call("ClaimGroup", "ut", 7, 1, check_rc=1)
    check("left as it was" in r.err, r.err)
    out = w.call("ListDevices").out
    check(out.count('"nvme"') == 2, "both drivers still bound (L5): " + out)
    check(w.groups() == {7: "dma-api"}, str(w.groups()))


def test_claim_error_says_a_driver_refused_to_unbind(w):
    topo = w.write("t.json", json.dumps({"devices": [
        {"name": "0000:01:00.0", "group": 7, "iommu": "dmar0", "driver": "nvme", "refuse_unbind": True},
    ]}))
    w.daemon.send_signal(signal.SIGTERM)
    w.daemon.wait(timeout=10)
    w.start_daemon([f"--topology={topo}"])
    r = w.run(["dbus-send", "--system", "--print-reply", "--dest=org.iommud1", "/org/iommud1",
               "org.iommud1.Manager.ClaimGroup", "uint32:7", "uint64:1"], check_rc=1)
    check("org.iommud1.Error.Busy" in r.err, "the error name: " + r.err)
    check("refused to unbind" in r.err and "left as it was" in r.err, r.err)
    # Without the flag the driver is merely in the way, and the error says so.
    r = w.ctl("claim", "7", check_rc=1)
    check("--detach-drivers" in r.err and "nvme" in r.err, r.err)


def test_shared_memory_dma_and_page_requests_end_to_end(w):
    """A separate client process shares memfds and checks device DMA in its own pages."""
    r = w.run([os.path.join(w.build, "tests/integration/share-client")], check_rc=None)
    check(r.rc == 0 and "share-client:" in r.out and " 0 failed" in r.out, f"share-client:\n{r.out}{r.err}")
    wait_for("everything released", lambda: w.groups() == INITIAL)
    check(w.prop("PasidsInUse") == 0, "PASIDs freed")


def test_space_maps_chosen_iovas_and_never_maps_on_fault(w):
    r = w.ctl("claim", "2", "--detach-drivers", "+", "share", "64K", "+", "space", "+",
              "map", "@space", "@region", "0x3000", "0x100000", "0x2000", "+",
              "attach", "@space", DEV_NIC, "+",
              "dma", DEV_NIC, "0", "0x100010", "8", "--fill", "0x5c", "+",
              "peek", "@share+0x3010", "8", "+", "spaces")
    check(re.search(r"0x[0-9a-f]+: 5c 5c 5c 5c 5c 5c 5c 5c", r.out), "device write in the client's pages:\n" + r.out)
    check("0x100000+0x2000" in r.out, "spaces table shows the mapping:\n" + r.out)
    r = w.ctl("claim", "2", "--detach-drivers", "+", "share", "64K", "+", "space", "+",
              "attach", "@space", DEV_NIC, "+", "dma", DEV_NIC, "0", "0x200000", "8", check_rc=1)
    check("DmaFault" in r.err or "DMA fault" in r.err, "unmapped IOVA of a space: " + r.err)
    wait_for("released", lambda: w.groups() == INITIAL)


def test_L6_space_and_bond_exclude_each_other_over_dbus(w):
    r = w.ctl("claim", "1", "+", "bind", DEV_PRI, "+", "space", "+", "attach", "@space", DEV_PRI, "@pasid",
              check_rc=1)
    check("Busy" in r.err or "taken" in r.err, r.err)
    r = w.ctl("claim", "1", "+", "pasid", "+", "space", "+", "attach", "@space", DEV_PRI, "@pasid", "+",
              "bind", DEV_PRI, check_rc=1)
    check("held by a space" in r.err, r.err)


@with_world(policy_text=json.dumps({"rules": [
    {"principals": {"users": ["nobody"]}, "allow": ["share-memory"],
     "quota": {"bytes": "64K", "regions": 4}}]}))
def test_L10_bytes_quota_for_an_unprivileged_client(w):
    r = w.ctl("share", "32K", "+", "share", "32K", "+", "share", "4K", uid=NOBODY, check_rc=1)
    check(r.out.count("shared ") == 2, r.out)
    check("quota" in r.err, "third share over 64K: " + r.err)
    r = w.ctl("space", uid=NOBODY, check_rc=1)
    check("may not spaces" in r.err, "spaces not granted: " + r.err)


def test_refused_faults_are_counted_and_signalled(w):
    mon = w.spawn_ctl("monitor")
    try:
        time.sleep(0.5)
        r = w.ctl("claim", "1", "+", "bind", DEV_PRI, "+", "share", "16K", "+",
                  "dma", DEV_PRI, "@pasid", "@share+0x1000", "8", "--fill", "1", "+",
                  "dma", DEV_PRI, "@pasid", "0x1000", "8", "--fill", "1", check_rc=1)
        check("DmaFault" in r.err or "DMA fault" in r.err, r.err)
        time.sleep(0.3)
    finally:
        mon.send_signal(signal.SIGINT)
        out, _ = mon.communicate(timeout=10)
    check(re.search(r"FaultRefused.*0000:00:02\.0.*address=0x1000", out), "monitor:\n" + out)
    faults = w.ctl("faults").out
    check(re.search(r"0000:00:02\.0\s+2\s+1\s+1\s+0\s+0", faults), "counters:\n" + faults)


TESTS = [(name, fn) for name, fn in sorted(globals().items()) if name.startswith("test_")]

if __name__ == "__main__":
    main(TESTS)
