#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# test-hostile.py - unprivileged users try to stop, starve, crash or fool iommud
#
# test_hostile_users is the summary test: root holds a claim, a bond and
# shared memory; every function in SCENARIOS then runs its hostile clients
# against the daemon, and after each the daemon must be alive and root's
# holdings exactly as they were, its bond and memory still serving DMA. The
# scenarios run twice: the first pass warms the daemon up (the allocator's
# caches, the user database), the second must leave its fd count and RSS
# within 10% of where the first left them, once its clients have gone.
#
# To add a scenario: write scenario_NAME(w), which starts its clients as
# other users (harness.spawn, w.run(..., uid=...)), checks what must hold
# while they run, and returns once they have gone; append it to SCENARIOS.
# The other tests here are the regression tests of single findings.
import grp
import json
import os
import pwd
import re
import shutil
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (NOBODY, Failure, check, daemon_bus_stats, daemon_rss_kb, main, spawn,  # noqa: E402
                     wait_for, with_world)

DEV_PRI = "0000:00:02.0"
# The system bus lets each user have this many connections (harness.BUS_CONF).
PER_USER = 256
# A second unprivileged user: uid 1 is "daemon" on Debian.
OTHER_UID = 1
# The sanitizers' quarantine keeps freed memory unusable on purpose, so under
# it RSS grows with every byte ever freed (up to 256 MiB) whatever the daemon
# keeps; a small one still catches use-after-free of recent frees.
SMALL_QUARANTINE = ":quarantine_size_mb=4"


def hostile_client(w):
    return os.path.join(w.build, "tests/integration/hostile-client")


def flood(w, uid, n, member):
    """n connections of uid, one call member each, all kept open: (process, outcome line)."""
    p = spawn(w, [hostile_client(w), "flood", str(n), member], uid=uid)
    line = p.stdout.readline().strip()
    if not line.startswith("flood:"):
        p.kill()
        out, err = p.communicate(timeout=10)
        raise Failure(f"hostile-client as uid {uid} did not report: {line}{out}{err}")
    return p, line


def let_go(procs):
    for p in procs:
        p.stdin.close()
    for p in procs:
        p.wait(timeout=60)


# --- the scenarios ------------------------------------------------------------

# Who floods with what, and how each call must end: nobody may claim group 1,
# but root holds it (Busy); nothing else is granted (HOSTILE_POLICY).
FLOODS = [
    (NOBODY, "AllocPasid", "AccessDenied"),
    (NOBODY, "ClaimGroup", "Busy"),
    (OTHER_UID, "AllocPasid", "AccessDenied"),
    (OTHER_UID, "ClaimGroup", "AccessDenied"),
]


def scenario_two_users_flood_with_refused_calls(w):
    """Finding 1: as many connections as the bus allows two users, each making
    one call that fails (refused by the policy, or granted and then Busy), all
    open at once. They must cost the daemon nothing: no client, no match rule
    on the bus, no fd."""
    before = (w.prop("Clients"), daemon_bus_stats(w)["MatchRules"], w.daemon_fds())
    per_flood = PER_USER // 2
    procs = []
    try:
        for uid, member, outcome in FLOODS:
            p, line = flood(w, uid, per_flood, member)
            procs.append(p)
            check(line == f"flood: {outcome}={per_flood}",
                  f"uid {uid}, {per_flood} x {member}: expected {outcome} for all, got '{line}'")
        check(w.daemon.poll() is None, f"iommud exited with {w.daemon.returncode} during the flood")
        during = (w.prop("Clients"), daemon_bus_stats(w)["MatchRules"], w.daemon_fds())
        check(during == before, f"with {2 * PER_USER} failed callers connected, (clients, bus match rules, "
              f"fds) went from {before} to {during}")
    finally:
        let_go(procs)


def scenario_long_multibyte_names(w):
    """Finding 7: device names of 10 to 600 two-byte characters from uid
    65534; each call gets its error reply at once (a reply cut in the middle
    of a character could not be sent, and the caller waited for its
    timeout), and the daemon goes on."""
    for n in (10, 100, 300, 511, 512, 513, 600):
        start = time.monotonic()
        r = w.run(["busctl", "--system", "--timeout=10", "call", "org.iommud1", "/org/iommud1",
                   "org.iommud1.Manager", "BindSva", "s", "\u00e9" * n], uid=NOBODY, check_rc=None)
        took = time.monotonic() - start
        check(r.rc != 0 and "imed out" not in r.err and took < 5,
              f"BindSva with {n} x U+00E9 as uid {NOBODY}: rc={r.rc} after {took:.1f} s: {r.err.strip()}")


SCENARIOS = [
    scenario_two_users_flood_with_refused_calls,
    scenario_long_multibyte_names,
]


# --- root's holdings ----------------------------------------------------------

def root_session(w):
    sess = w.spawn_ctl("claim", "1", "+", "bind", DEV_PRI, "+", "share", "64K", "+", "hold")
    wait_for("root's bond", lambda: "active" in w.call("ListBonds").out)
    wait_for("root's region", lambda: "/org/iommud1/region/" in w.ctl("regions").out)
    return sess


def holdings(w):
    """What root holds, as listed to anyone."""
    return {"groups": w.groups(), "bonds": w.call("ListBonds").out, "regions": w.ctl("regions").out}


def dma_roundtrip(w, n):
    """The device writes through root's bond into root's shared memory and reads it back."""
    pasid = int(re.search(r'"%s" (\d+)' % re.escape(DEV_PRI), w.call("ListBonds").out).group(1))
    address = int(re.search(r"region/\d+\s+0x([0-9a-f]+)", w.ctl("regions").out).group(1), 16)
    address += 0x1000 * (n % 16)
    data = [(n * 7 + i) % 256 for i in range(16)]
    w.call("Dma", "sutubay", DEV_PRI, pasid, address, 16, "true", 16, *data, iface="org.iommud1.Simulator")
    out = w.call("Dma", "sutubay", DEV_PRI, pasid, address, 16, "false", 0,
                 iface="org.iommud1.Simulator").out
    check(out.split() == ["ay", "16", *map(str, data)], f"DMA read back {out.strip()}, wrote {data}")


def check_root(w, start, n, after):
    check(w.daemon.poll() is None, f"iommud exited with {w.daemon.returncode} after {after}:\n{w.log()[-3000:]}")
    now = holdings(w)
    for key in start:
        check(now[key] == start[key], f"root's {key} after {after}: {now[key]!r}, before: {start[key]!r}")
    dma_roundtrip(w, n)


def resources(w):
    return w.daemon_fds(), daemon_rss_kb(w)


def settled(w, clients, fds):
    """The daemon has let every hostile client go."""
    return w.prop("Clients") == clients and w.daemon_fds() <= fds


def restart_with_small_quarantine(w):
    w.daemon.send_signal(signal.SIGTERM)
    check(w.daemon.wait(timeout=15) == 0, "iommud stopped for the restart")
    w.start_daemon([f"--policy={w.policy}"],
                   extra_env={"ASAN_OPTIONS": w.env.get("ASAN_OPTIONS", "") + SMALL_QUARANTINE})


HOSTILE_POLICY = json.dumps({"rules": [
    {"principals": {"users": [NOBODY]}, "devices": {"group": 1}, "allow": ["claim"]}]})


@with_world(policy_text=HOSTILE_POLICY)
def test_hostile_users(w):
    restart_with_small_quarantine(w)
    sess = root_session(w)
    try:
        start = holdings(w)
        clients, fds = w.prop("Clients"), w.daemon_fds()
        n = 0
        for rnd in ("warm-up", "measured"):
            if rnd == "measured":
                base = resources(w)
            for scenario in SCENARIOS:
                scenario(w)
                n += 1
                check_root(w, start, n, f"{scenario.__name__} ({rnd} pass)")
                wait_for(f"the daemon to let go of {scenario.__name__}'s clients", lambda: settled(w, clients, fds))
        fd_now, rss_now = resources(w)
        check(fd_now <= base[0] * 1.1, f"fds: {base[0]} before the measured pass, {fd_now} after it")
        check(rss_now <= base[1] * 1.1, f"VmRSS: {base[1]} kB before the measured pass, {rss_now} kB after it")
        print(f"     hostile users: fds {base[0]} -> {fd_now}, VmRSS {base[1]} -> {rss_now} kB", flush=True)
    finally:
        sess.terminate()
        sess.wait(timeout=10)


# --- regression tests of single findings ----------------------------------------

def test_daemon_exits_with_failure_when_it_loses_the_bus(w):
    """Finding 1, last part: without its bus iommud must fail (so that
    Restart=on-failure restarts it) and say why."""
    w.bus.kill()
    w.bus.wait(timeout=10)
    try:
        rc = w.daemon.wait(timeout=15)
    except Exception:
        raise Failure("iommud kept running without its bus")
    check(rc != 0, f"iommud exited {rc} when its bus went away; it must fail so that systemd restarts it")
    check("lost the connection to the system bus" in w.log(), "the log says why:\n" + w.log())


# PASIDs are a per-uid quota (finding 3): four connections of one uid need four.
@with_world(policy_text=json.dumps({"rules": [{"principals": {"users": [NOBODY]}, "allow": ["sva"],
                                               "quota": {"pasids": 4}}]}))
def test_a_client_that_leaves_the_bus_is_released_while_its_process_lives(w):
    """The one name watch sees a connection close whose process stays: the
    pidfd would not fire, the client must be released all the same."""
    p, line = flood(w, NOBODY, 4, "AllocPasid")
    try:
        check(line == "flood: ok=4", f"four PASIDs: {line}")
        check(w.prop("Clients") == 4 and w.prop("PasidsInUse") == 4, "four clients with a PASID each")
        p.stdin.write("close\n")
        p.stdin.flush()
        check(p.stdout.readline().strip() == "closed", "the connections closed")
        wait_for("the four released", lambda: w.prop("Clients") == 0 and w.prop("PasidsInUse") == 0)
        check(p.poll() is None, "their process still runs")
        check(w.log().count("left the bus; releasing") == 4, "released for leaving the bus:\n" + w.log())
    finally:
        let_go([p])


def a_group_nobody_is_not_in():
    """(gid, name) of a group uid 65534 is not a member of: shadow where there is one."""
    user = pwd.getpwuid(NOBODY)
    theirs = set(os.getgrouplist(user.pw_name, user.pw_gid))
    for gid in [g.gr_gid for g in grp.getgrall() if g.gr_name == "shadow"] + list(range(4242, 4300)):
        if gid not in theirs:
            return gid
    raise Failure("no group found that uid 65534 is not in")


SETGID_GROUP = a_group_nobody_is_not_in()


@with_world(policy_text=json.dumps({"rules": [
    {"principals": {"groups": [SETGID_GROUP]}, "devices": {"group": 1}, "allow": ["claim"]}]}))
def test_setgid_exec_after_connect_grants_no_group(w):
    """Finding 2: uid 65534 connects, forks, and the connecting process execs
    a setgid program of a group it is not in; the child then calls over the
    connection. A rule for that group must not grant the call."""
    prog = os.path.join(w.dir, "setgid-sleep")
    shutil.copy(shutil.which("sleep"), prog)
    os.chown(prog, 0, SETGID_GROUP)
    os.chmod(prog, 0o2755)
    r = w.run([hostile_client(w), "setgid-fork", prog, str(SETGID_GROUP)], uid=NOBODY, check_rc=None)
    check(f"parent-egid: {SETGID_GROUP}" in r.out,
          f"the connecting process did not run as group {SETGID_GROUP} (a nosuid /tmp?): {r}")
    check("claim: org.freedesktop.DBus.Error.AccessDenied" in r.out, f"the claim must be refused: {r}")
    check(w.groups()[1] == "none", f"group 1 is {w.groups()[1]}")


@with_world(policy_text=json.dumps({"rules": [
    {"principals": {"groups": [NOBODY]}, "devices": {"group": 1}, "allow": ["claim"]},
    {"principals": {"groups": [OTHER_UID]}, "devices": {"group": 3}, "allow": ["claim"]}]}))
def test_group_rules_match_the_user_databases_groups(w):
    """Group rules match the groups the user database gives the caller's uid
    (65534: group 65534), not the gid the calling process runs with (1)."""
    check(pwd.getpwuid(NOBODY).pw_gid == NOBODY and NOBODY in os.getgrouplist(pwd.getpwuid(NOBODY).pw_name, NOBODY),
          "uid 65534's primary group is 65534 in the user database")
    argv = ["setpriv", f"--reuid={NOBODY}", f"--regid={OTHER_UID}", "--clear-groups", "--", w.iommuctl]
    r = w.run([*argv, "claim", "1"], check_rc=None)
    check(r.rc == 0 and "claimed group 1" in r.out, f"its user's group 65534 grants group 1: {r}")
    r = w.run([*argv, "claim", "3"], check_rc=None)
    check(r.rc != 0 and "may not claim" in r.err, f"the process's gid 1 grants nothing: {r}")


TESTS = [(name[5:], fn) for name, fn in list(globals().items()) if name.startswith("test_")]

if __name__ == "__main__":
    main(TESTS, "hostile")
