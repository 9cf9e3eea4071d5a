# SPDX-License-Identifier: LGPL-2.1-or-later
# harness.py - a private system bus, the daemon under test, and client processes
#
# Each test gets a fresh dbus-daemon whose configuration is that of a system
# bus (method calls denied unless a service's policy allows them) plus the
# project's own units/org.iommud1.conf, and a fresh `iommud --sim` built with
# the sanitizers. Clients are separate processes: busctl, iommuctl, as root or
# as an unprivileged uid through setpriv.
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

NOBODY = 65534

BUS_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={sock}</listen>
  <auth>EXTERNAL</auth>
  <!-- A system bus's limits: dbus-daemon's built-in defaults, which Debian 12's
       system.conf keeps (spelt out so that hostile-user tests meet them). -->
  <limit name="max_connections_per_user">256</limit>
  <limit name="max_completed_connections">2048</limit>
  <limit name="max_match_rules_per_connection">512</limit>
  <limit name="max_replies_per_connection">128</limit>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
  </policy>
  <!-- As in system.conf: root may read the bus's statistics. -->
  <policy user="root">
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Debug.Stats"/>
  </policy>
  <include>{policy}</include>
</busconfig>
"""


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def wait_for(what, fn, timeout=10.0):
    """Polls fn() until it returns a true value; fails naming what."""
    end = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > end:
            raise Failure(f"timed out waiting for {what}")
        time.sleep(0.05)


class Result:
    def __init__(self, argv, rc, out, err):
        self.argv, self.rc, self.out, self.err = argv, rc, out, err

    def __repr__(self):
        return f"{' '.join(self.argv)} -> rc={self.rc}\nstdout: {self.out}\nstderr: {self.err}"


class World:
    """One private bus with one daemon on it."""

    def __init__(self, build, source, daemon_args=(), policy_text=None):
        self.build, self.source = build, source
        self.dir = tempfile.mkdtemp(prefix="iommud-it-")
        os.chmod(self.dir, 0o755)
        self.sock = os.path.join(self.dir, "bus")
        self.env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=f"unix:path={self.sock}")
        self.env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
        self.env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        self.iommud = os.path.join(build, "daemon/iommud")
        self.iommuctl = os.path.join(build, "client/iommuctl")
        self.bus = None
        self.daemon = None
        self.policy = None
        self.children = []      # spawn_ctl()'s processes, killed at the end
        self.stopped = False
        # Whatever fails from here on, nothing started is left running: the
        # caller never gets the world to stop (issue 10, finding 13).
        try:
            if policy_text is not None:
                self.policy = self.write("policy.json", policy_text)
            self.start_bus()
            args = list(daemon_args)
            if self.policy and not any(a.startswith("--policy") for a in args):
                args.append(f"--policy={self.policy}")
            self.start_daemon(args)
        except BaseException as e:
            log = self.log() if self.daemon else ""
            self.close()
            if isinstance(e, Failure) and log and log not in str(e):
                raise Failure(f"{e}\n--- daemon log ---\n{log}") from e
            raise

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o644)
        return path

    def start_bus(self):
        conf = self.write("bus.conf", BUS_CONF.format(
            sock=self.sock, policy=os.path.join(self.source, "units/org.iommud1.conf")))
        self.bus_log = open(os.path.join(self.dir, "bus.log"), "w")
        self.bus = subprocess.Popen(["dbus-daemon", f"--config-file={conf}", "--nofork", "--nopidfile"],
                                    stdout=self.bus_log, stderr=self.bus_log)
        try:
            wait_for("the bus socket", lambda: self.bus.poll() is not None or os.path.exists(self.sock))
            check(self.bus.poll() is None, f"dbus-daemon exited at start (rc {self.bus.poll()})")
        except Failure as e:
            with open(os.path.join(self.dir, "bus.log")) as f:
                raise Failure(f"{e}; its log:\n{f.read()}") from e

    def start_daemon(self, args, extra_env=None):
        # The machine's /run/iommud and /var/lib/iommud are not the test's:
        # a stored override there would be re-applied at start (and one a
        # test makes would outlive it). Kept across restarts of one world.
        args = list(args)
        for opt, sub in (("--state-dir", "run"), ("--lib-dir", "lib")):
            if not any(a.startswith(opt) for a in args):
                args.append(f"{opt}={os.path.join(self.dir, sub)}")
        self.daemon_log_path = os.path.join(self.dir, "iommud.log")
        if getattr(self, "daemon_log", None):
            self.daemon_log.close()     # a restart: the last daemon has exited
        self.daemon_log = open(self.daemon_log_path, "w")
        self.daemon = subprocess.Popen([self.iommud, "--sim", *args], env=dict(self.env, **(extra_env or {})),
                                       stdout=self.daemon_log, stderr=self.daemon_log)
        # Ready when it answers a ping: 'busctl status' also reads the peer's
        # cgroup and fails where there is none (containers, chroots).
        wait_for("iommud on the bus", lambda: self.daemon.poll() is not None or
                 self.busctl("call", "org.iommud1", "/org/iommud1", "org.freedesktop.DBus.Peer", "Ping",
                             check_rc=None).rc == 0)
        check(self.daemon.poll() is None, f"iommud exited at start:\n{self.log()}")

    def log(self):
        try:
            self.daemon_log.flush()
            with open(self.daemon_log_path) as f:
                return f.read()
        except (OSError, ValueError) as e:
            return f"(the daemon's log is gone: {e})"

    def run(self, argv, uid=None, check_rc=0, timeout=20, stdin=None):
        if uid is not None:
            argv = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--", *argv]
        p = subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=timeout,
                           input=stdin)
        res = Result(argv, p.returncode, p.stdout, p.stderr)
        if check_rc is not None and p.returncode != check_rc:
            raise Failure(f"expected rc {check_rc}: {res}")
        return res

    def busctl(self, *args, uid=None, check_rc=0):
        return self.run(["busctl", "--system", *args], uid=uid, check_rc=check_rc)

    def call(self, member, sig="", *args, uid=None, check_rc=0, path="/org/iommud1",
             iface="org.iommud1.Manager"):
        return self.busctl("call", "org.iommud1", path, iface, member, *([sig, *map(str, args)] if sig else []),
                           uid=uid, check_rc=check_rc)

    def ctl(self, *args, uid=None, check_rc=0):
        return self.run([self.iommuctl, *args], uid=uid, check_rc=check_rc)

    def spawn_ctl(self, *args, uid=None):
        argv = [self.iommuctl, *args]
        if uid is not None:
            argv = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--", *argv]
        p = subprocess.Popen(argv, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.children.append(p)
        return p

    def prop(self, name, path="/org/iommud1", iface="org.iommud1.Manager"):
        out = self.busctl("get-property", "org.iommud1", path, iface, name).out.strip()
        kind, _, value = out.partition(" ")
        return int(value) if kind in "uqyt" else value.strip('"') if kind == "s" else value

    def groups(self):
        """{group id: ownership} from ListGroups."""
        out = self.call("ListGroups").out
        return {int(g): o for g, o in re.findall(r'(\d+) "([a-z-]+)" "/org', out)}

    def daemon_fds(self):
        return len(os.listdir(f"/proc/{self.daemon.pid}/fd"))

    def stop(self):
        """SIGTERM; the daemon must exit 0 without a sanitizer report.
        Everything is stopped and removed whatever happens; a second call
        does nothing."""
        if self.stopped:
            return
        problems = []
        try:
            if self.daemon and self.daemon.poll() is None:
                self.daemon.send_signal(signal.SIGTERM)
                try:
                    rc = self.daemon.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    rc = "hung"
                if rc != 0:
                    problems.append(f"iommud exited {rc} on SIGTERM")
            log = self.log() if self.daemon else ""
            if re.search(r"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:", log):
                problems.append("sanitizer report in the daemon's log")
        finally:
            self.close()
        if problems:
            raise Failure("; ".join(problems) + "\n" + log)

    def close(self):
        """Kills and reaps whatever of the world still runs (clients, the
        daemon, the bus), closes its logs and removes its directory. Never
        raises: it runs on the way out of failures."""
        self.stopped = True
        for p in [*self.children, self.daemon, self.bus]:
            if p is None:
                continue
            try:
                if p.poll() is None:
                    p.terminate()
                    try:
                        p.wait(timeout=5)
                    except subprocess.TimeoutExpired:
                        p.kill()
                        p.wait(timeout=5)
                for f in (p.stdout, p.stderr):
                    if f:
                        f.close()
            except Exception as e:
                print(f"     (could not stop pid {p.pid}: {e})", flush=True)
        for f in (getattr(self, "daemon_log", None), getattr(self, "bus_log", None)):
            if f:
                f.close()
        shutil.rmtree(self.dir, ignore_errors=True)

def run_tests(tests, build, source, suite="integration"):
    passed = failed = 0
    for name, fn in tests:
        world = None
        try:
            kwargs = getattr(fn, "world", {})
            world = World(build, source, **kwargs)
            fn(world)
            done, world = world, None
            done.stop()         # its Failure carries the log
            print(f"PASS {name}", flush=True)
            passed += 1
        except Exception as e:
            failed += 1
            detail = str(e) if isinstance(e, Failure) else traceback.format_exc()
            print(f"FAIL {name}: {detail}", flush=True)
            if world:
                try:
                    print("--- daemon log ---\n" + world.log(), flush=True)
                    world.stop()
                except Exception as e2:
                    print(f"     (and at stop: {e2})", flush=True)
    print(f"{suite}: {passed} passed, {failed} failed", flush=True)
    return 1 if failed or not passed else 0


def with_world(**kwargs):
    """Decorator: the World a test runs in (daemon args, policy)."""
    def deco(fn):
        fn.world = kwargs
        return fn
    return deco


def main(tests, suite="integration"):
    build = sys.argv[sys.argv.index("--build") + 1]
    source = sys.argv[sys.argv.index("--source") + 1]
    if os.geteuid() != 0:
        print("INTEGRATION TESTS NEED ROOT (to own org.iommud1 and to run clients as uid 65534); "
              "run tools/run-tests as root")
        print(f"{suite}: 0 passed, 1 failed")
        sys.exit(1)
    sys.exit(run_tests(tests, build, source, suite))


# --- helpers for tests that watch the daemon's resources (test-hostile.py) ---

def daemon_rss_kb(w):
    """The daemon's resident memory (VmRSS), in KiB."""
    with open(f"/proc/{w.daemon.pid}/status") as f:
        return int(re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M).group(1))


def daemon_bus_stats(w):
    """{key: value} of the bus's Debug.Stats.GetConnectionStats for the daemon (MatchRules, ...)."""
    owner = w.busctl("call", "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                     "GetNameOwner", "s", "org.iommud1").out.split('"')[1]
    out = w.busctl("call", "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus.Debug.Stats",
                   "GetConnectionStats", "s", owner).out
    return {k: int(v) for k, v in re.findall(r'"(\w+)" u (\d+)', out)}


def spawn(w, argv, uid=None, gid=None, stdin=subprocess.PIPE):
    """A client process (as uid, with primary gid, default uid, and no other groups) with pipes."""
    if uid is not None:
        argv = ["setpriv", f"--reuid={uid}", f"--regid={uid if gid is None else gid}", "--clear-groups", "--",
                *argv]
    p = subprocess.Popen(argv, env=w.env, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    w.children.append(p)        # stopped with the world, pass or fail
    return p
