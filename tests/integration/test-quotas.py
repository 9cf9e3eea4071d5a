#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# test-quotas.py - hostile clients: per-uid quotas, mapping limits, PASID squatting, reload revocation
import json
import os
import re
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import NOBODY, Failure, check, main, wait_for, with_world  # noqa: E402

DEV_PRI, DEV_SMALL = "0000:00:02.0", "0000:00:05.0"


def rules(*rs):
    return json.dumps({"rules": list(rs)})


def nobody(**rule):
    return dict({"principals": {"users": ["nobody"]}}, **rule)


class Session:
    """An iommuctl run as a separate process with its output in files, so
    that a test can wait for a line while the run holds what it made."""

    def __init__(self, w, *args, uid=None):
        self.w = w
        n = len([f for f in os.listdir(w.dir) if f.startswith("session-")])
        self.out_path = os.path.join(w.dir, f"session-{n}.out")
        self.err_path = os.path.join(w.dir, f"session-{n}.err")
        argv = [w.iommuctl, *args]
        if uid is not None:
            argv = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--", *argv]
        with open(self.out_path, "w") as out, open(self.err_path, "w") as err:
            self.proc = subprocess.Popen(argv, env=w.env, stdout=out, stderr=err)

    def out(self):
        with open(self.out_path) as f:
            return f.read()

    def err(self):
        with open(self.err_path) as f:
            return f.read()

    def wait_out(self, pattern, what):
        return wait_for(what, lambda: re.search(pattern, self.out()) or self.failed(what))

    def failed(self, what):
        if self.proc.poll() is not None:
            raise Failure(f"{what}: iommuctl exited {self.proc.returncode}:\n{self.out()}{self.err()}")
        return None

    def wait_exit(self, timeout=20):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise Failure(f"iommuctl still running after {timeout}s, its calls succeeded:\n{self.out()}{self.err()}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=10)


def stop_all(sessions):
    for s in sessions:
        s.stop()


# Finding 3: quotas were per connection, so opening more connections
# multiplied them, and each region holds a memfd in the daemon.
@with_world(policy_text=rules(nobody(allow=["share-memory", "spaces"],
                                     quota={"regions": 4, "connections": 6})))
def test_L10_connections_of_one_uid_share_its_quotas_and_the_fds_stay_bounded(w):
    base = w.daemon_fds()
    sessions = []
    try:
        for i in range(4):
            s = Session(w, "share", "4K", "+", "hold", uid=NOBODY)
            sessions.append(s)
            s.wait_out(r"shared 4096 bytes", f"share {i}")
        # A fifth connection may not add a fifth region: the uid holds 4.
        s = Session(w, "share", "4K", "+", "hold", uid=NOBODY)
        check(s.wait_exit() != 0, "a fifth region over five connections was refused")
        check('Quota "regions" of uid 65534' in s.err(), "the error names the quota: " + s.err())
        # Connections that hold state are limited per uid as well.
        for i in range(2):
            s = Session(w, "space", "+", "hold", uid=NOBODY)
            sessions.append(s)
            s.wait_out(r"created space", f"space {i}")
        for i in range(10):
            s = Session(w, "space", "+", "hold", uid=NOBODY)
            check(s.wait_exit() != 0, f"connection {7 + i} of the uid was refused")
            check('Quota "connections" of uid 65534' in s.err(), "the error names the quota: " + s.err())
        check(w.prop("Clients") == 6, f"6 clients held, not {w.prop('Clients')}")
        # 4 memfds and 6 pidfds at most, whatever the number of connections tried.
        check(w.daemon_fds() <= base + 4 + 6, f"daemon fds {w.daemon_fds()}, started with {base}")
    finally:
        stop_all(sessions)
    wait_for("every fd back", lambda: w.daemon_fds() == base)


def map_verbs(n, size="4K"):
    verbs = []
    for i in range(n):
        verbs += ["+", "map", "@space", "@region", "0", hex(0x1000000 + i * 0x2000), size]
    return verbs


# Finding 4: one region mapped at thousands of IOVAs grew the daemon's
# memory without bound. Default quotas for everybody but root.
@with_world(policy_text=rules(nobody(allow=["share-memory", "spaces"])))
def test_L10_one_region_at_thousands_of_iovas_hits_the_mappings_quota(w):
    r = w.ctl("share", "4K", "+", "space", *map_verbs(1100), uid=NOBODY, check_rc=None)
    check(r.rc != 0, "1100 mappings of one region were all made")
    check(r.out.count("mapped ") == 1024, f"{r.out.count('mapped ')} mappings made, the default quota is 1024")
    check('Quota "mappings" of uid 65534' in r.err, "the error names the quota: " + r.err)
    check(w.daemon.poll() is None, "the daemon goes on")


@with_world(policy_text=rules(nobody(allow=["share-memory", "spaces"], quota={"bytes": "64K"})))
def test_L10_mapped_lengths_count_against_the_bytes_quota(w):
    # 4K shared, then each mapping of it costs another 4K: 15 fit in 64K.
    r = w.ctl("share", "4K", "+", "space", *map_verbs(40), uid=NOBODY, check_rc=None)
    check(r.rc != 0 and r.out.count("mapped ") == 15, f"rc {r.rc}, {r.out.count('mapped ')} mappings made")
    check('Quota "bytes" of uid 65534' in r.err, "the error names the quota: " + r.err)


# Finding 6: PASIDs were handed out lowest first, so idle connections of a
# user allowed sva on a wide device took 1..3, all that the small device of
# group 4 (max_pasids 4) takes, and nobody could bind it.
@with_world(policy_text=rules(nobody(devices={"group": 1}, allow=["claim", "sva"]),
                              nobody(quota={"pasids": 3})))
def test_L7_idle_connections_do_not_squat_the_small_devices_pasids(w):
    sessions = []
    try:
        for i in range(3):
            s = Session(w, "pasid", "+", "hold", uid=NOBODY)
            sessions.append(s)
            m = s.wait_out(r"PASID (\d+)", f"PASID {i}")
            check(int(m.group(1)) >= 1 << 16, f"nobody's PASID {m.group(1)} is above what narrower devices need")
        r = w.ctl("claim", "4", "+", "bind", DEV_SMALL, check_rc=None)
        check(r.rc == 0 and re.search(r"bound 0000:00:05\.0: PASID [123],", r.out),
              f"root binds the max_pasids=4 device:\n{r.out}{r.err}")
        s = Session(w, "pasid", "+", "hold", uid=NOBODY)
        check(s.wait_exit() != 0 and 'Quota "pasids" of uid 65534' in s.err(), "per-uid PASID quota: " + s.err())
    finally:
        stop_all(sessions)


# AllocPasid() is authorized like BindSva(): some device the caller may bind.
@with_world(policy_text=rules(nobody(devices={"address": "0000:09:*"}, allow=["claim", "sva"]),
                              nobody(devices={"group": 2}, allow=["claim", "sva"])))
def test_AllocPasid_refused_without_sva_on_any_pasid_capable_device(w):
    r = w.ctl("pasid", uid=NOBODY, check_rc=None)
    check(r.rc != 0 and "may not sva on any device" in r.err, f"AllocPasid refused:\n{r.out}{r.err}")
    check(w.prop("PasidsInUse") == 0, "no PASID taken")
    r = w.ctl("pasid")
    check("PASID 1" in r.out, "root may bind everything: " + r.out)


GRANTS = rules(nobody(devices={"group": 1}, allow=["claim", "sva"]),
               nobody(allow=["share-memory", "spaces"]))


# Finding 10: a stricter policy took back claims only.
@with_world(policy_text=GRANTS)
def test_reload_takes_back_bonds_regions_spaces_and_the_pasid_and_tells_the_owner(w):
    base = w.daemon_fds()
    mon = Session(w, "monitor")
    s = Session(w, "claim", "1", "+", "bind", DEV_PRI, "+", "share", "64K", "+", "space", "+",
                "map", "@space", "@region", "0", "0x100000", "0x1000", "+", "hold", uid=NOBODY)
    try:
        s.wait_out(r"mapped ", "the session's mapping")
        w.write("policy.json", rules(nobody(devices={"group": 1}, allow=["claim"])))
        w.call("Reload")
        wait_for("the bond stale", lambda: "stale" in w.call("ListBonds").out)
        check(w.groups()[1] == "user", "the claim is still allowed and stays")
        wait_for("the region removed", lambda: "/org/iommud1/region/" not in w.busctl("tree", "org.iommud1").out)
        space = re.search(r"/org/iommud1/space/\d+", w.busctl("tree", "org.iommud1").out)
        check(space, "the space stays, emptied, until its owner destroys it")
        mappings = w.busctl("get-property", "org.iommud1", space.group(0), "org.iommud1.Space", "Mappings").out
        check(mappings.strip() == "a(ttotu) 0", "no mapping left: " + mappings)
        check(w.prop("PasidsInUse") == 0, "the PASID freed")
        for what in (r"/org/iommud1/bond/\d+.*no longer allows \\?\"sva\\?\"",
                     r"/org/iommud1/region/\d+.*no longer allows \\?\"share-memory\\?\"",
                     r"/org/iommud1/space/\d+.*no longer allows \\?\"spaces\\?\"",
                     r"pasid/\d+.*no longer allows \\?\"sva\\?\" on any device"):
            try:
                wait_for(f"a Revoked signal matching {what}", lambda: re.search(r"Revoked .*" + what, mon.out()))
            except Failure as e:
                raise Failure(f"{e}; the monitor saw:\n{mon.out()}")
        # The region's memfd and mapping in the daemon are gone too.
        check(w.daemon_fds() == base + 1, f"fds: {w.daemon_fds()} (start {base}): the client's pidfd, no memfd")
    finally:
        s.stop()
        mon.stop()
    wait_for("released", lambda: w.groups()[1] == "none")


# Finding 12: Space.Map had no policy check of its own.
@with_world(policy_text=GRANTS)
def test_space_map_after_a_reload_that_took_spaces_away_is_access_denied(w):
    s = Session(w, "share", "64K", "+", "space", "+", "map", "@space", "@region", "0", "0x100000", "0x1000",
                "+", "sleep", "3", "+", "map", "@space", "@region", "0", "0x200000", "0x1000", uid=NOBODY)
    try:
        s.wait_out(r"mapped ", "the first mapping")
        w.write("policy.json", rules(nobody(allow=["share-memory"])))
        w.call("Reload")
        rc = s.wait_exit()
        check(rc != 0 and "uid 65534 may not spaces" in s.err(), f"the second Map refused (rc {rc}):\n{s.out()}{s.err()}")
        check(s.out().count("mapped ") == 1, "only the first mapping was made:\n" + s.out())
    finally:
        s.stop()


TESTS = [(name, fn) for name, fn in sorted(globals().items()) if name.startswith("test_")]

if __name__ == "__main__":
    main(TESTS, "quotas")
