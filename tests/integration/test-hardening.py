#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# test-hardening.py - issue 10: memfds iommud cannot serve, long UTF-8 names, policy ownership,
# a driver probed into a claimed group, and the harness stopping what it started
import contextlib
import io
import json
import os
import re
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import NOBODY, Failure, World, check, main, run_tests, wait_for, with_world  # noqa: E402

DEV_NIC = "0000:00:03.0"
HUGE_PAGE = 2 * 1024 * 1024

# nobody may share memory and claim group 1 (the policy tests look for the claim).
NOBODY_POLICY = json.dumps({"rules": [
    {"principals": {"users": ["nobody"]}, "allow": ["share-memory"]},
    {"principals": {"users": ["nobody"]}, "devices": {"group": 1}, "allow": ["claim"]},
]})


def client(w, *args, uid=NOBODY, timeout=60):
    return w.run([os.path.join(w.build, "tests/integration/hardening-client"), *args], uid=uid,
                 check_rc=None, timeout=timeout)


def alive(w):
    check(w.daemon.poll() is None, f"iommud died (exit {w.daemon.poll()}):\n{w.log()}")
    w.busctl("call", "org.iommud1", "/org/iommud1", "org.freedesktop.DBus.Peer", "Ping")


# --- finding 5: a hugetlb memfd made iommud die of SIGBUS ---

@contextlib.contextmanager
def huge_pages(n):
    """At least n free 2 MiB huge pages for the duration; the old pool size comes back."""
    knob = "/proc/sys/vm/nr_hugepages"
    with open("/proc/filesystems") as f:
        has_fs = "hugetlbfs" in f.read()
    if not has_fs or not os.path.exists(knob):
        raise Failure("THIS KERNEL HAS NO HUGETLB SUPPORT (no hugetlbfs in /proc/filesystems or no "
                      f"{knob}): the test of MFD_HUGETLB memfds cannot run, and that is a failure, "
                      "not a pass")
    with open(knob) as f:
        old = int(f.read())
    try:
        with open(knob, "w") as f:
            f.write(str(old + n))
        with open("/proc/meminfo") as f:
            free = int(re.search(r"^HugePages_Free:\s+(\d+)", f.read(), re.M).group(1))
        check(free >= n, f"asked the kernel for {n} more huge pages, it has {free} free (memory too "
              "fragmented?): the test of MFD_HUGETLB memfds cannot run")
        yield
    finally:
        with open(knob, "w") as f:
            f.write(str(old))


@with_world(policy_text=NOBODY_POLICY)
def test_hugetlb_memfd_is_refused_and_the_daemon_survives(w):
    with huge_pages(2):
        r = client(w, "share", "hugetlb", str(HUGE_PAGE))
        check(r.rc == 0, f"the client could not make a hugetlb memfd: {r}")
        check(r.out.startswith("error org.iommud1.Error.InvalidArgument: ") and "MFD_HUGETLB" in r.out,
              f"a hugetlb memfd is refused with a clear InvalidArgument: {r}")
        alive(w)
    # A regular memfd still works, for the same unprivileged client.
    r = client(w, "share", "memfd", "65536")
    check(r.out.startswith("reply /org/iommud1/region/"), f"a regular memfd: {r}")
    alive(w)


# --- finding 7: a long multi-byte name left the caller without a reply ---

def test_long_multibyte_device_names_get_a_prompt_error(w):
    r = client(w, "names", "10", "600", timeout=600)
    lines = r.out.splitlines()
    check(r.rc == 0, "every call is answered: " + "\n".join(lines[-3:]) + r.err)
    calls = [ln.split() for ln in lines if re.match(r"\d+ ", ln)]
    check(len(calls) == 591, f"591 calls, got {len(calls)}")
    for n, name, ms in calls:
        check(name == "org.iommud1.Error.NoSuchDevice", f"{n} characters: {name}")
        check(int(ms) < 2000, f"{n} characters: answered after {ms} ms")
    last = lines[-1]
    check(last.startswith('last message: There is no device "' + "\u00e9" * 10) and last.endswith("..."),
          "the echoed name is cut between characters and marked: " + last[:80] + " ... " + last[-20:])
    alive(w)


# --- finding 8: a leak when the release rebinds a driver ---

def test_release_keeps_a_driver_probed_while_claimed(w):
    """The claim detaches e1000e; vfio-pci is probed while the group is owned; the release must
    keep vfio-pci (and lose nothing: stop() fails on a LeakSanitizer report)."""
    w.ctl("claim", "2", "--detach-drivers", "+", "probe", DEV_NIC, "vfio-pci", "--managed-dma",
          "+", "release", "2")
    out = w.call("ListDevices").out
    check(re.search(r'"0000:00:03\.0" 2 "vfio-pci"', out), "03.0 keeps vfio-pci: " + out)
    check(w.groups()[2] == "none", f"group 2 has no DMA-API driver now: {w.groups()}")


# --- finding 9: a policy anyone but root can change is refused ---

def policy_tree(w):
    """w.dir/pol/policy.json (nobody may claim group 1) and an empty w.dir/pol/policy.d."""
    root = os.path.join(w.dir, "pol")
    os.makedirs(os.path.join(root, "policy.d"), mode=0o755)
    os.chmod(root, 0o755)
    os.chmod(os.path.join(root, "policy.d"), 0o755)
    path = os.path.join(root, "policy.json")
    with open(path, "w") as f:
        f.write(NOBODY_POLICY)
    os.chmod(path, 0o644)
    return root, path


def test_reload_refuses_a_policy_others_can_change_and_keeps_the_old_one(w):
    root, path = policy_tree(w)
    pold = os.path.join(root, "policy.d")
    w.daemon.send_signal(signal.SIGTERM)
    w.daemon.wait(timeout=10)
    w.start_daemon([f"--policy={root}"])
    w.ctl("claim", "1", uid=NOBODY)
    # Each way a non-root user could change it, then put right again.
    cases = [
        (lambda: os.chown(path, NOBODY, 0), lambda: os.chown(path, 0, 0),
         f"{path}: expected a file only root can change, but uid {NOBODY} owns it"),
        (lambda: (os.chown(path, 0, NOBODY), os.chmod(path, 0o664)),
         lambda: (os.chown(path, 0, 0), os.chmod(path, 0o644)),
         f"{path}: expected a file only root can change, but group {NOBODY} may write it"),
        (lambda: os.chown(pold, NOBODY, 0), lambda: os.chown(pold, 0, 0),
         f"{pold}: expected a directory only root can change, but uid {NOBODY} owns it"),
        (lambda: (os.chown(root, 0, NOBODY), os.chmod(root, 0o775)),
         lambda: (os.chown(root, 0, 0), os.chmod(root, 0o755)),
         f"{root}: expected a directory only root can change, but group {NOBODY} may write it"),
    ]
    for spoil, mend, want in cases:
        spoil()
        # What is refused grants nothing: an empty policy here would be obeyed if it were read.
        r = w.call("Reload", check_rc=1)
        check(want in r.err, f"Reload() says\n  {want}\ngot\n  {r.err}")
        w.ctl("claim", "1", uid=NOBODY)     # the old policy is still in force
        r = w.run([w.iommud, f"--check-policy={root}"], check_rc=1)
        check(want in r.err, f"--check-policy says\n  {want}\ngot\n  {r.err}")
        mend()
    w.call("Reload")
    alive(w)


def test_daemon_refuses_to_start_on_a_policy_others_can_change(w):
    root, path = policy_tree(w)
    os.chown(path, NOBODY, NOBODY)
    w.daemon.send_signal(signal.SIGTERM)        # else the bus name is taken, and that fails it
    w.daemon.wait(timeout=10)
    r = w.run([w.iommud, "--sim", f"--policy={root}", f"--state-dir={w.dir}/run", f"--lib-dir={w.dir}/lib"],
              check_rc=None, timeout=30)
    check(r.rc != 0 and f"uid {NOBODY} owns it" in r.err, f"start refused, saying why: {r}")


# --- finding 13: a failing test left its bus and daemon running ---

def processes_mentioning(text):
    """Live processes whose command line or environment contains text (a world's clients have
    its bus socket in DBUS_SYSTEM_BUS_ADDRESS), as "PID: COMMAND LINE"."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        if int(pid) == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{pid}/environ", "rb") as f:
                env = f.read().decode(errors="replace")
            with open(f"/proc/{pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if (text in cmd or text in env) and state != "Z":
            found.append(f"{pid}: {cmd}")
    return found


class RecordingWorld(World):
    """A World that tells its directory before it starts anything."""
    dirs = []

    def start_bus(self):
        RecordingWorld.dirs.append(self.dir)
        super().start_bus()


def failed_world(w, **kwargs):
    """Makes a World that must fail at start; returns (its directory, the failure)."""
    RecordingWorld.dirs = []
    try:
        RecordingWorld(w.build, w.source, **kwargs)
    except Failure as e:
        check(RecordingWorld.dirs, "the world failed before it started its bus: " + str(e))
        return RecordingWorld.dirs[0], str(e)
    raise Failure(f"a World with {kwargs} started")


def check_nothing_left(d):
    left = processes_mentioning(d)
    check(not left, "left running:\n" + "\n".join(left))
    check(not os.path.exists(d), f"{d} is left behind")


def test_harness_world_whose_daemon_exits_at_start_leaves_nothing(w):
    d, err = failed_world(w, daemon_args=["--no-such-option"], policy_text=NOBODY_POLICY)
    check("iommud exited at start" in err and "no-such-option" in err,
          "the failure shows the daemon's own words: " + err)
    check_nothing_left(d)


def test_harness_world_whose_daemon_never_gets_ready_leaves_nothing(w):
    # A FIFO for a topology: the daemon blocks opening it, alive, never on the bus.
    fifo = os.path.join(w.dir, "topology-fifo")
    os.mkfifo(fifo)
    d, err = failed_world(w, daemon_args=[f"--topology={fifo}"], policy_text=NOBODY_POLICY)
    check("timed out waiting for iommud on the bus" in err, err)
    check_nothing_left(d)
    check(not processes_mentioning(fifo), "the daemon blocked on the FIFO is gone")


def test_harness_failing_test_stops_its_clients_daemon_and_bus(w):
    seen = {}

    def failing(inner):
        seen["dir"] = inner.dir
        inner.spawn_ctl("claim", "1", "+", "hold")
        wait_for("the held claim", lambda: inner.groups()[1] == "user")
        raise Failure("failing on purpose")

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = run_tests([("inner", failing)], w.build, w.source, suite="inner-suite")
    text = out.getvalue()
    check(rc == 1 and "FAIL inner: failing on purpose" in text and "inner-suite: 0 passed, 1 failed" in text,
          "the inner test failed and was reported:\n" + text)
    check_nothing_left(seen["dir"])


TESTS = [(name, fn) for name, fn in sorted(globals().items()) if name.startswith("test_")]

if __name__ == "__main__":
    main(TESTS, "hardening")
