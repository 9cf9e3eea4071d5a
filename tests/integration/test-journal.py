#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# test-journal.py - the daemon's structured records, read back from the journal's native protocol
#
# The daemon runs with --log-target=journal and IOMMUD_JOURNAL_SOCKET set to
# a datagram socket of this test's own, which stands in for journald's
# /run/systemd/journal/socket: the test receives exactly the datagrams
# journald would, and parses them by the native protocol's rules
# (docs/journal.md says why). One test sends to a real systemd-journald of
# its own instead, and reads the records back with journalctl.
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import NOBODY, Failure, check, main, spawn, wait_for, with_world  # noqa: E402

DEV_PRI, DEV_NIC = "0000:00:02.0", "0000:00:03.0"

# docs/journal.md and daemon/audit.h: these never change.
CLAIM = "22d2444411cf4a779bed9e9642812e94"
CLAIM_FAILED = "70d585b44c2543a4ab0f15370559a4f0"
RELEASE = "d741fa227d414caa8da4ed76ede2f335"
CLIENT_END = "76239fa31b83448cae5f620aa474af35"
BIND = "be13bf6e46c7456f8e8aaa2fa150dcb2"
SHARE = "e2b3451d712a4b149ad55611780bc2b9"
DENIED = "b53a186faf7345da8dc35e764ae24c14"
FAULT_REFUSED = "191c4f90069c4d75abc2743dc281f4a9"
FAULT_SUPPRESSED = "5f58c940e5774db98d0335dc1f4dc6c4"
DEVICE_OPEN = "fd7002efe84d429e8c95bdbf6568cba8"
OVERRIDE_SET = "c5b10797f05a4826a70bc307a659587a"
OVERRIDE_REMOVED = "388c376ee8ca4ae8aa6c6e0120bf1aaa"

# nobody may claim group 3 only.
NOBODY_POLICY = json.dumps({"rules": [
    {"principals": {"users": ["nobody"]}, "devices": {"group": 3}, "allow": ["claim"]}]})


def parse_native(data):
    """{field: [values]} of one native-protocol datagram: "KEY=value\\n", or
    "KEY\\n" + little-endian 64-bit length + value + "\\n"."""
    fields, i = {}, 0
    while i < len(data):
        nl = data.index(b"\n", i)
        line = data[i:nl]
        if b"=" in line:
            key, _, value = line.partition(b"=")
            i = nl + 1
        else:
            key = line
            (n,) = struct.unpack_from("<Q", data, nl + 1)
            value = data[nl + 9:nl + 9 + n]
            if data[nl + 9 + n:nl + 10 + n] != b"\n":
                raise ValueError(f"field {key!r}: no newline after its {n} bytes")
            i = nl + 10 + n
        if not re.fullmatch(rb"[A-Z0-9_]+", key):
            raise ValueError(f"bad field name {key!r} in {data!r}")
        fields.setdefault(key.decode(), []).append(value.decode())
    return fields


class Journal:
    """A datagram socket where the daemon's journal records arrive."""

    def __init__(self, w):
        # One per daemon start: a restarted daemon logs to a socket of its own.
        n = len([f for f in os.listdir(w.dir) if f.startswith("journal")])
        self.path = os.path.join(w.dir, f"journal{n or ''}.socket")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind(self.path)
        self.sock.setblocking(False)
        self.entries = []

    def read(self):
        while True:
            try:
                self.entries.append(parse_native(self.sock.recv(1 << 20)))
            except BlockingIOError:
                return self.entries

    def find(self, message_id=None, **fields):
        """Entries with that MESSAGE_ID whose fields have those values (IOMMUD_ prefix implied)."""
        out = []
        for e in self.read():
            if message_id and e.get("MESSAGE_ID") != [message_id]:
                continue
            if all(str(v) in e.get(f"IOMMUD_{k.upper()}", []) for k, v in fields.items()):
                out.append(e)
        return out

    def one(self, what, message_id, **fields):
        found = wait_for(what, lambda: self.find(message_id, **fields))
        check(len(found) == 1, f"one {what}: {found}")
        return found[0]


def journal_world(w, *args, topology=None):
    """Restarts w's daemon logging to a journal socket of the test's own."""
    j = Journal(w)
    w.daemon.send_signal(signal.SIGTERM)
    w.daemon.wait(timeout=10)
    extra = [f"--topology={topology}"] if topology else []
    if w.policy:
        extra.append(f"--policy={w.policy}")
    w.start_daemon(["--log-target=journal", *extra, *args], extra_env={"IOMMUD_JOURNAL_SOCKET": j.path})
    return j


def first(e, key):
    return e.get(key, [None])[0]


def check_caller(e, uid, comm="iommuctl"):
    check(re.fullmatch(r":1\.\d+", first(e, "IOMMUD_CLIENT") or ""), f"the bus name: {e}")
    check(first(e, "IOMMUD_UID") == str(uid), f"uid {uid}: {e}")
    check(int(first(e, "IOMMUD_PID") or 0) > 0, f"a pid: {e}")
    check(first(e, "IOMMUD_COMM") == comm, f"comm {comm}: {e}")
    check(first(e, "SYSLOG_IDENTIFIER") == "iommud", f"identifier: {e}")


def test_claim_with_detached_drivers_then_release_are_recorded(w):
    j = journal_world(w)
    r = w.ctl("claim", "2", "--detach-drivers", "+", "release", "2")
    claim = j.one("the claim record", CLAIM, group=2)
    check_caller(claim, 0)
    check(first(claim, "PRIORITY") == "6", f"claims are info: {claim}")
    check(DEV_NIC in claim["IOMMUD_DEVICE"], f"every device of the group: {claim}")
    drivers = first(claim, "IOMMUD_DRIVERS")
    check(re.search(re.escape(DEV_NIC) + r"=\S+", drivers or ""), f"the detached driver: {claim}")
    release = j.one("the release record", RELEASE, group=2)
    check(first(release, "IOMMUD_OPERATION") == "release", f"an explicit release: {release}")
    check(first(release, "IOMMUD_DRIVERS") == drivers, f"the same drivers go back: {release}")
    check(first(release, "IOMMUD_CLIENT") == first(claim, "IOMMUD_CLIENT"), "the same client")
    wait_for("group 2 back", lambda: w.groups().get(2) == "dma-api")
    # It held nothing when it exited: nothing "released what it held".
    w.call("ListGroups")
    check(not j.find(CLIENT_END), f"no client-end record: {j.find(CLIENT_END)}\n{r}")


def test_a_client_that_exits_holding_a_claim_is_released_on_the_record(w):
    j = journal_world(w)
    w.ctl("claim", "2", "--detach-drivers", "+", "share", "16K")
    end = j.one("the client-end record", CLIENT_END)
    check_caller(end, 0)
    release = j.one("the release record", RELEASE, group=2, operation="client-exit")
    check(first(release, "IOMMUD_CLIENT") == first(end, "IOMMUD_CLIENT"), f"{release}\n{end}")
    check(re.search(re.escape(DEV_NIC) + r"=\S+", first(release, "IOMMUD_DRIVERS") or ""), f"{release}")
    share = j.one("the share record", SHARE)
    check(first(share, "IOMMUD_LENGTH") == str(16 * 1024), f"{share}")


def test_groups_given_back_at_shutdown_are_released_on_the_record(w):
    j = journal_world(w)
    w.spawn_ctl("claim", "2", "--detach-drivers", "+", "hold")      # stopped with the world
    claim = j.one("the claim", CLAIM, group=2)
    w.daemon.send_signal(signal.SIGTERM)
    check(w.daemon.wait(timeout=20) == 0, "iommud exits 0 on SIGTERM")
    release = j.one("the release at shutdown", RELEASE, group=2, operation="shutdown")
    check(first(release, "IOMMUD_CLIENT") == first(claim, "IOMMUD_CLIENT"), f"{release}")
    check(first(release, "IOMMUD_DRIVERS") == first(claim, "IOMMUD_DRIVERS"), f"{release}")


def test_a_device_handed_out_is_recorded_with_who_took_it(w):
    j = journal_world(w)
    w.ctl("claim", "1", "+", "open", DEV_PRI)
    opened = j.one("the device-open record", DEVICE_OPEN, group=1, device=DEV_PRI)
    check_caller(opened, 0)


def test_an_override_set_and_removed_is_recorded_and_held_again_at_start_without_a_caller(w):
    j = journal_world(w)
    w.call("DetachGroup", "ut", 2, 0)
    held = j.one("the override-set record", OVERRIDE_SET, group=2, operation="detach-group")
    check_caller(held, 0, comm="busctl")
    check(first(held, "IOMMUD_DRIVERS") == f"{DEV_NIC}=e1000e", f"the driver it took: {held}")
    check(first(held, "IOMMUD_SAVED") == "1", f"saved: {held}")
    j2 = journal_world(w)
    again = j2.one("the re-applied override", OVERRIDE_SET, group=2, operation="override-restore")
    check(first(again, "IOMMUD_CLIENT") is None, f"no caller at start: {again}")
    check(first(again, "IOMMUD_DRIVERS") == f"{DEV_NIC}=e1000e", f"still the driver to give back: {again}")
    w.call("ReattachGroup", "u", 2)
    gone = j2.one("the override-removed record", OVERRIDE_REMOVED, group=2)
    check_caller(gone, 0, comm="busctl")
    check(first(gone, "IOMMUD_DRIVERS") == f"{DEV_NIC}=e1000e", f"the driver going back: {gone}")


@with_world(policy_text=NOBODY_POLICY)
def test_a_policy_denial_as_nobody_is_recorded_and_holds_nothing(w):
    j = journal_world(w)
    r = w.ctl("claim", "1", uid=NOBODY, check_rc=1)
    check("may not claim" in r.err, r.err)
    denied = j.one("the denial", DENIED, uid=NOBODY)
    check_caller(denied, NOBODY)
    check(first(denied, "IOMMUD_OPERATION") == "claim" and first(denied, "IOMMUD_GROUP") == "1", f"{denied}")
    check(DEV_PRI in denied["IOMMUD_DEVICE"], f"the device: {denied}")
    check(first(denied, "PRIORITY") == "5", f"a denial is a notice, not an error: {denied}")
    # Allowed, claimed and released by nobody: recorded with its uid; it
    # held nothing at its exit, so no "releasing what it held".
    w.ctl("claim", "3", "+", "release", "3", uid=NOBODY)
    j.one("nobody's claim", CLAIM, uid=NOBODY, group=3)
    j.one("nobody's release", RELEASE, uid=NOBODY, group=3)
    w.call("ListGroups")
    check(not j.find(CLIENT_END), f"clients that held nothing: {j.find(CLIENT_END)}")


def test_only_errors_at_err_priority(w):
    topo = w.write("t.json", json.dumps({"devices": [
        {"name": "0000:01:00.0", "group": 7, "iommu": "dmar0", "driver": "nvme", "refuse_unbind": True},
        {"name": "0000:02:00.0", "group": 8, "iommu": "dmar0", "driver": "e1000e"},
    ]}))
    j = journal_world(w, topology=topo)
    w.ctl("claim", "8", "--detach-drivers", "+", "release", "8")
    r = w.ctl("claim", "7", "--detach-drivers", check_rc=1)
    check("refused to unbind" in r.err, r.err)
    w.ctl("claim", "1", uid=NOBODY, check_rc=1)        # a denial: a notice
    failed = j.one("the failed claim", CLAIM_FAILED, group=7)
    check_caller(failed, 0)
    j.one("the good claim", CLAIM, group=8)
    errors = [e for e in j.read() if int(first(e, "PRIORITY")) <= 3]
    check(errors == [failed], "journalctl -p err shows the failed claim alone:\n" +
          "\n".join(str(e) for e in errors))
    check(all(int(first(e, "PRIORITY")) <= 7 for e in j.read()), "priorities are syslog's")


def bonds(w):
    """[(pasid, owner)] from ListBonds."""
    out = w.call("ListBonds").out
    return [(int(p), o) for p, o in re.findall(r'"/org/iommud1/bond/\d+" "[^"]+" (\d+) \d+ "\w+" "([^"]+)"', out)]


def test_refused_faults_are_rate_limited_per_client(w):
    j = journal_world(w)
    holder = w.spawn_ctl("claim", "1", "+", "bind", DEV_PRI, "+", "hold")
    (pasid, owner), = wait_for("the holder's bond", lambda: bonds(w))
    tries = 12
    for _ in range(tries):
        r = w.busctl("call", "org.iommud1", "/org/iommud1", "org.iommud1.Simulator", "Dma", "sutubay",
                     DEV_PRI, str(pasid), "4096", "8", "true", "8", *["1"] * 8, check_rc=1)
        check("DmaFault" in r.err or "fault" in r.err.lower(), r.err)
    refused = wait_for("refusals", lambda: j.find(FAULT_REFUSED, client=owner))
    check(j.one("the bind", BIND, client=owner, device=DEV_PRI), "bind recorded")
    check(not j.find(FAULT_SUPPRESSED), "nothing suppressed said before the client ends")
    check(len(refused) == 5, f"at most 5 refusals a client each 10 s: {len(refused)}")
    check(first(refused[0], "IOMMUD_ADDRESS") == "0x1000" and first(refused[0], "IOMMUD_GROUP") == "1",
          f"{refused[0]}")
    holder.send_signal(signal.SIGINT)
    holder.wait(timeout=10)
    sup = j.one("the suppressed count", FAULT_SUPPRESSED, client=owner)
    check(first(sup, "IOMMUD_SUPPRESSED") == str(tries - 5), f"{sup}")
    check(len(j.find(FAULT_REFUSED, client=owner)) == 5, "no more refusals recorded")


def test_log_level_property_and_signals(w):
    j = journal_world(w)
    check(w.prop("LogLevel") == "info", w.prop("LogLevel"))
    r = w.busctl("set-property", "org.iommud1", "/org/iommud1", "org.iommud1.Manager", "LogLevel", "s", "debug",
                 uid=NOBODY, check_rc=1)
    check("ccess denied" in r.err or "AccessDenied" in r.err, r.err)
    r = w.busctl("set-property", "org.iommud1", "/org/iommud1", "org.iommud1.Manager", "LogLevel", "s", "loud",
                 check_rc=1)
    check("not a log level" in r.err, r.err)
    w.busctl("set-property", "org.iommud1", "/org/iommud1", "org.iommud1.Manager", "LogLevel", "s", "err")
    check(w.prop("LogLevel") == "err", w.prop("LogLevel"))
    w.ctl("claim", "1", "+", "release", "1")
    w.daemon.send_signal(signal.SIGRTMIN + 22)
    wait_for("debug after SIGRTMIN+22", lambda: w.prop("LogLevel") == "debug")
    w.ctl("claim", "3", "+", "release", "3")
    check(not j.find(CLAIM, group=1), "an info record under level err is dropped")
    j.one("a claim at level debug", CLAIM, group=3)
    w.daemon.send_signal(signal.SIGRTMIN + 23)
    wait_for("the configured level after SIGRTMIN+23", lambda: w.prop("LogLevel") == "info")


JOURNALD = "/lib/systemd/systemd-journald"


def start_private_journald(w):
    """A real systemd-journald, in a journal namespace of its own and a
    mount namespace whose /run/systemd, /run/log and /var/log/journal are
    empty tmpfs: nothing reaches the machine's journal. It binds its socket
    in there; the daemon reaches it through /proc/PID/root. Returns (the
    socket's path, the namespace's journal directory)."""
    check(os.path.exists(JOURNALD), f"{JOURNALD} is missing: apt-get install systemd")
    ns = f"iommudtest{os.getpid()}"
    script = ("set -e; for d in /run/systemd /run/log /var/log/journal; do mkdir -p $d; "
              "mount -t tmpfs tmpfs $d; done; exec " + JOURNALD + " " + ns)
    p = spawn(w, ["unshare", "--mount", "--propagation", "private", "sh", "-c", script], stdin=None)
    root = f"/proc/{p.pid}/root"
    sock = f"{root}/run/systemd/journal.{ns}/socket"
    wait_for("journald's socket", lambda: p.poll() is not None or os.path.exists(sock))
    if p.poll() is not None:
        raise Failure(f"journald exited {p.returncode}: {p.communicate()}")
    # A namespace's journald exits after 30 s without a stream or varlink
    # client (seen on Debian 12's systemd 252): one stdout stream, its header
    # sent (identifier, unit, priority and four flags), keeps it for the test.
    w.journald_stream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    w.journald_stream.connect(os.path.join(os.path.dirname(sock), "stdout"))
    w.journald_stream.sendall(b"test-journal\n\n6\n0\n0\n0\n0\n")
    with open("/etc/machine-id") as f:
        machine = f.read().strip()
    return sock, f"{root}/var/log/journal/{machine}.{ns}"


def journalctl(directory, *args):
    r = subprocess.run(["journalctl", "-D", directory, "--no-pager", "-o", "json", "SYSLOG_IDENTIFIER=iommud",
                        *args], capture_output=True, text=True, timeout=20)
    return [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]


def test_a_real_journald_takes_the_records_and_p_err_shows_the_error_alone(w):
    topo = w.write("t.json", json.dumps({"devices": [
        {"name": "0000:01:00.0", "group": 7, "iommu": "dmar0", "driver": "nvme", "refuse_unbind": True},
        {"name": "0000:02:00.0", "group": 8, "iommu": "dmar0", "driver": "e1000e"},
    ]}))
    sock, directory = start_private_journald(w)
    w.daemon.send_signal(signal.SIGTERM)
    w.daemon.wait(timeout=10)
    w.start_daemon(["--log-target=journal", f"--topology={topo}"], extra_env={"IOMMUD_JOURNAL_SOCKET": sock})
    w.ctl("claim", "8", "--detach-drivers", "+", "release", "8")
    w.ctl("claim", "7", "--detach-drivers", check_rc=1)
    w.ctl("claim", "8", uid=NOBODY, check_rc=1)
    claims = wait_for("the claim in the journal", lambda: journalctl(directory, f"MESSAGE_ID={CLAIM}",
                                                                     "IOMMUD_GROUP=8"))
    check(len(claims) == 1 and claims[0]["IOMMUD_DRIVERS"] == "0000:02:00.0=e1000e", f"{claims}")
    check(claims[0]["IOMMUD_COMM"] == "iommuctl" and claims[0]["IOMMUD_UID"] == "0", f"{claims}")
    check(claims[0]["_PID"] == str(w.daemon.pid), "journald saw the daemon send it")
    wait_for("the release", lambda: journalctl(directory, f"MESSAGE_ID={RELEASE}", "IOMMUD_GROUP=8"))
    denied = wait_for("the denial", lambda: journalctl(directory, f"MESSAGE_ID={DENIED}"))
    check(denied[0]["IOMMUD_UID"] == str(NOBODY) and denied[0]["PRIORITY"] == "5", f"{denied}")
    errors = wait_for("the error", lambda: journalctl(directory, "-p", "err"))
    check([e["MESSAGE_ID"] for e in errors] == [CLAIM_FAILED], "journalctl -p err: the failed claim alone:\n" +
          "\n".join(e["MESSAGE"] for e in errors))
    check("refused to unbind" in errors[0]["IOMMUD_REASON"], f"{errors[0]}")


def test_console_lines_carry_their_priority(w):
    # The default world: --log-target=auto, stderr a file, no $JOURNAL_STREAM.
    w.ctl("claim", "2", "--detach-drivers", "+", "release", "2")
    log = w.log()
    check(re.search(r"^<6>iommud: group 2 claimed by :1\.\d+ \(uid 0", log, re.M), log)
    check(re.search(r"^<6>iommud: .*ready on the bus", log, re.M), log)
    check(not re.search(r"^<[0-3]>", log, re.M), "no errors:\n" + log)
    check(all(re.match(r"<[0-7]>", line) for line in log.splitlines() if line.startswith("<") or
              line.startswith("iommud")), "every line has its priority:\n" + log)


TESTS = [(name, fn) for name, fn in sorted(globals().items()) if name.startswith("test_")]

if __name__ == "__main__":
    main(TESTS, suite="integration-journal")
