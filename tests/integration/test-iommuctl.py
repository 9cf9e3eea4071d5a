#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# test-iommuctl.py - iommuctl as systemd's tools behave: listing, show, JSON, pager, errors, on the sim
import json
import os
import pty
import re
import select
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import NOBODY, check, main, wait_for, with_world  # noqa: E402

DEV_PRI, DEV_NIC = "0000:00:02.0", "0000:00:03.0"
SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")

# nobody may claim group 1, so that a group can have an unprivileged owner.
NOBODY_CLAIMS = json.dumps({"rules": [
    {"principals": {"users": ["nobody"]}, "devices": {"group": 1}, "allow": ["claim"]},
]})


def on_tty(w, *args, env=None):
    """Runs iommuctl with stdout on a pseudo-terminal; (exit code, all it and its pager printed)."""
    master, slave = pty.openpty()
    p = subprocess.Popen([w.iommuctl, *args], env=dict(w.env, **(env or {})), stdin=subprocess.DEVNULL,
                         stdout=slave, stderr=subprocess.PIPE)
    os.close(slave)
    out = b""
    while True:
        ready, _, _ = select.select([master], [], [], 20)
        if not ready:
            p.kill()
            break
        try:
            chunk = os.read(master, 4096)
        except OSError:         # EIO: every writer to the terminal is gone
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    rc = p.wait(timeout=20)
    return rc, out.decode().replace("\r\n", "\n")


def keys_are_snake_case(value, where):
    """Every object key in a JSON value is snake_case."""
    if isinstance(value, dict):
        for k, v in value.items():
            check(SNAKE.match(k), f"{where}: key {k!r} is not snake_case")
            keys_are_snake_case(v, where)
    elif isinstance(value, list):
        for v in value:
            keys_are_snake_case(v, where)


def hold(w, *verbs, uid=None):
    """An iommuctl that runs verbs and holds them until killed; returns it once group 1 is user-owned."""
    p = w.spawn_ctl(*verbs, "+", "hold", uid=uid)
    wait_for("the claim", lambda: w.groups()[1] == "user")
    return p


def test_no_verb_lists_the_devices(w):
    plain, listed = w.ctl(), w.ctl("list")
    check(plain.out == listed.out, f"no verb is list:\n{plain.out}\nvs\n{listed.out}")
    check(re.search(r"^DEVICE\s+GROUP\s+DRIVER\b", plain.out), plain.out)
    check(DEV_PRI in plain.out, plain.out)


def test_an_empty_table_says_so_and_no_legend_hides_it(w):
    r = w.ctl("bonds")
    check(r.out == "No bonds.\n", repr(r.out))
    check(w.ctl("spaces").out == "No spaces.\n", "spaces")
    check(w.ctl("regions").out == "No regions.\n", "regions")
    check(w.ctl("--no-legend", "bonds").out == "", "nothing at all with --no-legend")
    r = w.ctl("--no-legend", "groups")
    check(not r.out.startswith("GROUP") and re.search(r"^1\s+none\b", r.out, re.M), r.out)


def test_json_modes_short_pretty_off_and_j(w):
    short = w.ctl("--json=short", "groups").out
    check(short.count("\n") == 1 and json.loads(short)[0]["group"] == 1, short)
    check(w.ctl("--json", "groups").out == short, "plain --json is short")
    check(w.ctl("-j", "groups").out == short, "-j off a terminal is short")
    pretty = w.ctl("--json=pretty", "groups").out
    check(pretty.count("\n") > 4 and json.loads(pretty) == json.loads(short), pretty)
    check(w.ctl("--json", "groups", "--json=off").out.startswith("GROUP"), "--json=off: a table again")
    r = w.ctl("--json=yaml", "groups", check_rc=2)
    check("short, pretty or off" in r.err, r.err)
    rc, out = on_tty(w, "-j", "--no-pager", "groups")
    check(rc == 0 and out.count("\n") > 4 and json.loads(out)[0]["group"] == 1, "-j on a terminal is pretty:\n" + out)


def test_json_keys_are_snake_case_with_null_for_none_and_numbers(w):
    p = hold(w, "claim", "1", "+", "bind", "00:02.0", "+", "share", "64K", "+", "space")
    try:
        docs = {verb: json.loads(w.ctl("--json", verb).out)
                for verb in ("list", "groups", "bonds", "regions", "spaces", "faults", "status")}
        docs["show group"] = json.loads(w.ctl("--json", "show", "1").out)
        docs["show device"] = json.loads(w.ctl("--json", "show", DEV_PRI).out)
    finally:
        p.kill()
    for where, doc in docs.items():
        keys_are_snake_case(doc, where)
    devices = {d["device"]: d for d in docs["list"]}
    check(devices[DEV_PRI]["driver"] is None, "no driver is null")
    check(devices[DEV_NIC]["owner"] is None and devices[DEV_NIC]["owner_pid"] is None, "no owner is null")
    check(devices[DEV_NIC]["vendor_id"] == 0x8086 and devices[DEV_NIC]["class_code"] == 0x020000,
          "ids are numbers")
    check(devices[DEV_PRI]["owner_pid"] == p.pid, f"the holder's pid: {devices[DEV_PRI]}")
    groups = {g["group"]: g for g in docs["groups"]}
    check(groups[3]["owner"] is None and groups[3]["owner_uid"] is None, groups[3])
    check(groups[1]["owner_uid"] == 0 and groups[1]["owner_comm"] == "iommuctl", groups[1])
    check(docs["status"]["groups"]["dma_api"] == 1, docs["status"])
    check(docs["show group"]["owner_uid"] == 0 and docs["show group"]["transit"] is None, docs["show group"])
    check(docs["show device"]["vendor_id"] == 0x1b36, docs["show device"])


def test_list_shows_ids_in_hex_and_names_from_pci_ids(w):
    r = w.ctl("list", "-o", "DEVICE,VENDOR,DEVICE-ID,CLASS,NAME,VENDOR-NAME,DEVICE-NAME")
    check(re.search(r"^0000:00:03\.0\s+0x8086\s+0x10d3\s+0x020000\s+Intel Corporation 82574L Gigabit "
                    r"Network Connection\s+Intel Corporation\s+82574L Gigabit Network Connection$", r.out, re.M),
          "the names pci.ids has:\n" + r.out)
    # pci.ids knows the vendor 1b36 but not the sim's device 00f0: its id stands in, in hex
    check(re.search(r"^0000:00:02\.0\s+0x1b36\s+0x00f0\s+0x120000\s+Red Hat, Inc\. 0x00f0\s", r.out, re.M),
          "an unknown device name falls back to its id:\n" + r.out)


def test_list_and_groups_show_who_holds_with_uid_pid_and_command(w):
    p = hold(w, "claim", "1")
    try:
        r = w.ctl("list", "-o", "DEVICE,OWNER,UID,USER,PID,COMM")
        g = w.ctl("groups")
    finally:
        p.kill()
    check(re.search(rf"^0000:00:02\.0\s+:1\.\d+ \(uid 0 root, pid {p.pid} iommuctl\)\s+0\s+root\s+{p.pid}\s+iommuctl$",
                    r.out, re.M), "list:\n" + r.out)
    check(re.search(rf"^1\s+user\s+:1\.\d+ \(uid 0 root, pid {p.pid} iommuctl\)\s+0000:00:02\.0$", g.out, re.M),
          "groups:\n" + g.out)


@with_world(policy_text=NOBODY_CLAIMS)
def test_an_unprivileged_holder_is_shown_by_its_uid(w):
    p = hold(w, "claim", "1", uid=NOBODY)
    try:
        r = w.ctl("groups", "-o", "GROUP,UID,PID", uid=NOBODY)
    finally:
        p.kill()
    # setpriv execs iommuctl, so the pid the bus knows is the one spawned
    check(re.search(rf"^1\s+{NOBODY}\s+{p.pid}$", r.out, re.M), r.out)


def test_columns_are_chosen_with_o_and_unknown_ones_refused(w):
    r = w.ctl("groups", "-o", "devices,group")
    check(r.out.splitlines()[0].split() == ["DEVICES", "GROUP"], r.out)
    check(re.search(r"^0000:00:02\.0\s+1$", r.out, re.M), r.out)
    r = w.ctl("list", "--output=DEVICE", "+", "groups", "-o", "BOGUS", check_rc=2)
    check("unknown column 'BOGUS'" in r.err and r.out == "", "checked before anything runs: " + r.err)


def test_show_group_and_device_with_p_value_and_a(w):
    r = w.ctl("show", "1")
    check("Id=1\n" in r.out and "Ownership=none\n" in r.out and "Devices=0000:00:02.0\n" in r.out, r.out)
    check("Owner=" not in r.out, "empty properties are left out without -a:\n" + r.out)
    r = w.ctl("show", "1", "-a")
    check("Owner=\n" in r.out and "OwnerUid=\n" in r.out, r.out)
    r = w.ctl("show", "00:02.0", "-p", "VendorId", "-p", "Group,ClassCode")
    check(r.out == "Group=1\nVendorId=0x1b36\nClassCode=0x120000\n", "in the daemon's order, ids in hex:\n" + r.out)
    r = w.ctl("show", DEV_PRI, "-p", "Name", "--value")
    check(r.out == DEV_PRI + "\n", r.out)
    r = w.ctl("show", "1", "-p", "Nope", check_rc=2)
    check("no property Nope" in r.err, r.err)
    r = w.ctl("show", "9", check_rc=1)
    check("no group 9" in r.err and "iommuctl groups" in r.err, r.err)


def test_short_pci_addresses_are_taken_where_a_device_is(w):
    r = w.ctl("claim", "1", "+", "bind", "00:02.0", "+", "bonds")
    check(f"bound {DEV_PRI}" in r.out and re.search(rf"^/org/iommud1/bond/\d+\s+{DEV_PRI}\s", r.out, re.M), r.out)
    r = w.ctl("show", "00:03.0", "-p", "Name", "--value")
    check(r.out == DEV_NIC + "\n", r.out)


def test_verbs_joined_by_plus_share_one_connection(w):
    r = w.ctl("claim", "1", "+", "bind", DEV_PRI, "+", "bind", DEV_PRI, "+", "bonds", "+", "groups")
    check(re.search(rf"{DEV_PRI}\s+1\s+2\s+active", r.out), "one bond, two users:\n" + r.out)
    owners = set(re.findall(r"(:1\.\d+) \(uid", r.out))
    check(len(owners) == 1, f"one connection for every verb: {owners}\n{r.out}")


def test_pager_on_a_terminal_as_systemd_chooses_it(w):
    env = {"IOMMUCTL_PAGER": "sed s/^/PAGED:/", "PAGER": "sed s/^/WRONG:/"}
    rc, out = on_tty(w, "groups", env=env)
    check(rc == 0 and re.search(r"^PAGED:GROUP\s", out, re.M) and "WRONG" not in out, "IOMMUCTL_PAGER first:\n" + out)
    rc, out = on_tty(w, "groups", env={"SYSTEMD_PAGER": "sed s/^/SD:/", "PAGER": "sed s/^/WRONG:/"})
    check(re.search(r"^SD:GROUP", out, re.M), "then SYSTEMD_PAGER:\n" + out)
    rc, out = on_tty(w, "--no-pager", "groups", env=env)
    check(rc == 0 and re.search(r"^GROUP\s", out, re.M) and "PAGED" not in out, "--no-pager:\n" + out)
    r = w.run([w.iommuctl, "groups"], check_rc=0)
    check(r.out.startswith("GROUP"), "not a terminal: no pager")
    rc, out = on_tty(w, "claim", "1", "+", "groups", env=env)
    check("PAGED" not in out and "claimed group 1" in out, "a claim is never paged:\n" + out)


def test_errors_say_what_to_do_in_iommuctl_words(w):
    r = w.ctl("claim", "1", "+", "bind", "00:03.0", check_rc=1)
    check("is in group 2" in r.err and "claim group 2" in r.err and "iommuctl claim 2 + bind 0000:00:03.0" in r.err,
          "the group to claim: " + r.err)
    check("ClaimGroup" not in r.err, "no D-Bus method names: " + r.err)
    r = w.ctl("claim", "2", check_rc=1)
    check("--detach-drivers" in r.err and "DETACH_KERNEL_DRIVERS" not in r.err, r.err)
    r = w.ctl("claim", "99", check_rc=1)
    check("'iommuctl groups' lists the groups" in r.err, "NoSuchGroup: " + r.err)
    r = w.ctl("claim", "1", "+", "bind", "00:1f.7", check_rc=1)
    check("'iommuctl list' lists the devices" in r.err, "NoSuchDevice: " + r.err)
    p = hold(w, "claim", "1")
    try:
        r = w.ctl("claim", "1", check_rc=1)
        check("'iommuctl groups' and 'iommuctl bonds' show who holds what" in r.err, "Busy: " + r.err)
    finally:
        p.kill()


def test_a_bus_policy_denial_says_only_root_may(w):
    for verb in (["reload"], ["probe", "00:03.1", "vfio-pci"], ["unplug", "00:02.0"]):
        r = w.ctl(*verb, uid=NOBODY, check_rc=1)
        check("only root may do this" in r.err and f"'{verb[0]}'" in r.err, f"{verb}: {r.err}")
        check("Rejected send message" not in r.err, "not the bus's own words: " + r.err)
    # iommud's own policy denial is not the bus's: it says which rule is missing
    r = w.ctl("claim", "1", uid=NOBODY, check_rc=1)
    check("only root" not in r.err and "uid 65534 may not claim" in r.err and "policy" in r.err, r.err)


TESTS = [(name, fn) for name, fn in sorted(globals().items()) if name.startswith("test_")]

if __name__ == "__main__":
    main(TESTS, suite="iommuctl")
