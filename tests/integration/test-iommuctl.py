#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# test-iommuctl.py - iommuctl as systemd's tools behave: listing, show, JSON, pager, errors, on the sim
import json
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import NOBODY, check, main, wait_for, with_world  # noqa: E402

DEV_PRI, DEV_NIC, DEV_NIC_FN1, DEV_SMALL = "0000:00:02.0", "0000:00:03.0", "0000:00:03.1", "0000:00:04.0"
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


# --- overrides: groups held for the machine (detach-group, reattach-group, list-overrides) ---

# The sim's group 2 is 0000:00:03.0 (e1000e) and 0000:00:03.1 (no driver).
OVERRIDES_LEGEND = ["DEVICE", "DRIVER", "GROUP", "SAVED", "STATE"]

# nobody may hold group 2 for the machine, and claim it, but not detach drivers.
NOBODY_ADMIN_CLAIMS = json.dumps({"rules": [
    {"principals": {"users": ["nobody"]}, "devices": {"group": 2}, "allow": ["admin-claim", "claim"]},
]})


def overrides(w):
    """{device: (driver, group, saved, state)} of list-overrides, read as a person reads its table."""
    lines = w.ctl("list-overrides").out.splitlines()
    check(lines and lines[0].split() == OVERRIDES_LEGEND, "list-overrides legend:\n" + "\n".join(lines))
    rows = [line.split() for line in lines[1:]]
    check(all(len(r) == 5 for r in rows), "list-overrides rows of five cells:\n" + "\n".join(lines))
    return {r[0]: tuple(r[1:]) for r in rows}


def restart(w):
    """iommud stops (exit 0) and starts again, with the world's own --lib-dir and --state-dir (harness.py)."""
    w.daemon.send_signal(signal.SIGTERM)
    check(w.daemon.wait(timeout=15) == 0, "iommud stopped for the restart:\n" + w.log())
    w.start_daemon([f"--policy={w.policy}"] if w.policy else [])


def show_value(w, obj, prop):
    return w.ctl("show", obj, "-p", prop, "--value").out


def test_list_overrides_without_any_says_no_overrides(w):
    check(w.ctl("list-overrides").out == "No overrides.\n", w.ctl("list-overrides").out)
    check(w.ctl("--no-legend", "list-overrides").out == "", "nothing at all with --no-legend")
    check(json.loads(w.ctl("--json", "list-overrides").out) == [], "an empty JSON array")
    check(show_value(w, "2", "Override") == "\n", "no override: Override is empty")
    check(w.ctl("show", "2").out.find("Override=") < 0, "an empty Override is left out without -a")


def test_detach_group_holds_it_for_the_machine_and_list_overrides_shows_its_devices(w):
    r = w.ctl("detach-group", "2")
    check(r.out == "detached group 2 for the machine: its devices stay on vfio-pci until "
                   "'iommuctl reattach-group 2', across reboots\n", repr(r.out))
    check(overrides(w) == {DEV_NIC: ("e1000e", "2", "yes", "held"), DEV_NIC_FN1: ("-", "2", "yes", "held")},
          w.ctl("list-overrides").out)
    check(w.groups()[2] == "machine", f"ListGroups: {w.groups()}")
    g = w.ctl("groups").out
    check(re.search(r"^2\s+machine\s+-\s+0000:00:03\.0,0000:00:03\.1$", g, re.M), "groups:\n" + g)
    check(show_value(w, "2", "Override") == "persistent\n", "Override of a saved override")
    check("Ownership=machine\n" in w.ctl("show", "2").out, w.ctl("show", "2").out)
    check(show_value(w, "00:03.0", "Driver") == "vfio-pci\n", "the device is on vfio-pci")
    check(json.loads(w.ctl("--json", "status").out)["groups"]["machine"] == 1, w.ctl("--json", "status").out)
    check(re.search(r"^Groups:\s+4 \(0 user, 1 machine, 0 dma-api, 3 none\)$", w.ctl("status").out, re.M),
          w.ctl("status").out)
    r = w.ctl("list-overrides", "-o", "group,device")
    check([line.split() for line in r.out.splitlines()] == [["GROUP", "DEVICE"], ["2", DEV_NIC], ["2", DEV_NIC_FN1]],
          "-o chooses the columns:\n" + r.out)
    # it is the machine's, not the connection's: another iommuctl, another run, still held
    check(w.groups()[2] == "machine", "held after iommuctl exited")


def test_detach_group_nosave_lasts_until_reboot_and_again_without_it_saves(w):
    r = w.ctl("detach-group", "2", "--nosave")
    check(r.out.endswith("or until reboot (--nosave)\n"), repr(r.out))
    check({d: row[2] for d, row in overrides(w).items()} == {DEV_NIC: "no", DEV_NIC_FN1: "no"},
          w.ctl("list-overrides").out)
    check(show_value(w, "2", "Override") == "until-reboot\n", "Override of a NOSAVE override")
    r = w.ctl("detach-group", "2")      # held already: answered at once, and now saved
    check(r.out.endswith("across reboots\n"), repr(r.out))
    check({d: row[2] for d, row in overrides(w).items()} == {DEV_NIC: "yes", DEV_NIC_FN1: "yes"},
          w.ctl("list-overrides").out)
    check(show_value(w, "2", "Override") == "persistent\n", "saved now")


def test_list_overrides_and_the_override_verbs_in_json(w):
    check(json.loads(w.ctl("--json", "detach-group", "2", "--nosave").out) == {"group": 2, "saved": False},
          "detach-group --nosave in JSON")
    check(json.loads(w.ctl("--json", "detach-group", "2").out) == {"group": 2, "saved": True},
          "detach-group in JSON")
    doc = json.loads(w.ctl("--json", "list-overrides").out)
    keys_are_snake_case(doc, "list-overrides")
    check(sorted(doc, key=lambda d: d["device"]) == [
        {"device": DEV_NIC, "driver": "e1000e", "group": 2, "saved": True, "state": "held"},
        {"device": DEV_NIC_FN1, "driver": None, "group": 2, "saved": True, "state": "held"}],
        f"no driver is null, the group a number, saved a boolean: {doc}")
    pretty = w.ctl("--json=pretty", "list-overrides").out
    check(pretty.count("\n") > 4 and json.loads(pretty) == doc, pretty)
    check(json.loads(w.ctl("--json", "show", "2").out)["override"] == "persistent", "show in JSON")
    check(json.loads(w.ctl("--json", "reattach-group", "2").out) == {"group": 2}, "reattach-group in JSON")
    check(json.loads(w.ctl("--json", "show", "2").out)["override"] is None, "no override is null")


def test_reattach_group_gives_the_drivers_back(w):
    w.ctl("detach-group", "2")
    r = w.ctl("reattach-group", "2")
    check(r.out == "reattached group 2: its devices are back on the drivers they had\n", repr(r.out))
    check(w.ctl("list-overrides").out == "No overrides.\n", w.ctl("list-overrides").out)
    check(w.groups()[2] == "dma-api", f"ListGroups: {w.groups()}")
    check(show_value(w, "00:03.0", "Driver") == "e1000e\n", "e1000e is back")
    check(show_value(w, "00:03.1", "Driver") == "\n", "a device that had no driver has none again")
    check(show_value(w, "2", "Override") == "\n", "Override is empty again")


def test_a_machine_group_is_claimed_without_detach_drivers_and_goes_back_to_the_machine(w):
    w.ctl("detach-group", "2")
    p = w.spawn_ctl("claim", "2", "+", "hold")
    wait_for("the claim of the machine's group", lambda: w.groups()[2] == "user")
    try:
        r = w.ctl("reattach-group", "2", check_rc=1)
        check(r.err.startswith("iommuctl: reattach-group: ") and re.search(r"claimed by client :1\.\d+", r.err) and
              "release it" in r.err and "'iommuctl revoke 2'" in r.err,
              "Busy passes iommud's message, who holds it and what to do: " + r.err)
        check("ReattachGroup" not in r.err and "'iommuctl bonds'" not in r.err,
              "in iommuctl's words, without the general advice: " + r.err)
    finally:
        p.kill()
    wait_for("the group back with the machine", lambda: w.groups()[2] == "machine")
    check(show_value(w, "00:03.0", "Driver") == "vfio-pci\n", "still on vfio-pci after the claim")
    check(overrides(w)[DEV_NIC] == ("e1000e", "2", "yes", "held"), w.ctl("list-overrides").out)


def test_override_errors_say_what_to_do_in_iommuctl_words(w):
    r = w.ctl("reattach-group", "2", check_rc=1)
    check("group 2 has no override" in r.err.lower() and "'iommuctl list-overrides'" in r.err, r.err)
    check("ReattachGroup" not in r.err and "lasts as long as the connection" not in r.err,
          "no D-Bus names, no advice about connections: " + r.err)
    r = w.ctl("detach-group", "99", check_rc=1)
    check("no group 99" in r.err and r.err.count("'iommuctl groups' lists") == 1 and "DetachGroup" not in r.err,
          "unknown group, said once: " + r.err)
    p = hold(w, "claim", "1")
    try:
        r = w.ctl("detach-group", "1", check_rc=1)
    finally:
        p.kill()
    check(r.err.startswith("iommuctl: detach-group: ") and re.search(r"claimed by client :1\.\d+", r.err) and
          "DetachGroup" not in r.err, "Busy says who holds the group: " + r.err)
    check("'iommuctl bonds'" not in r.err, "Busy passes iommud's message, not the general advice: " + r.err)
    check(w.ctl("list-overrides").out == "No overrides.\n", "a refused detach-group leaves nothing")
    for argv, why in ((["detach-group"], "missing argument GROUP"), (["detach-group", "two"], "invalid GROUP"),
                      (["reattach-group", "2", "3"], "unexpected argument '3'"),
                      (["reattach-group", "2", "--nosave"], "unknown option '--nosave'"),
                      (["list-overrides", "-o", "DRIVERS"], "unknown column 'DRIVERS'")):
        r = w.ctl(*argv, check_rc=2)
        check(why in r.err, f"{argv}: {r.err}")


@with_world(policy_text=NOBODY_CLAIMS)
def test_detach_group_needs_root_or_admin_claim(w):
    r = w.ctl("detach-group", "1", uid=NOBODY, check_rc=1)
    check("only root, or a user whom iommud's policy grants \"admin-claim\"" in r.err and
          "man iommud.policy" in r.err, "AccessDenied in the user's words: " + r.err)
    check("Rejected send message" not in r.err, "iommud's policy decided, not the bus's: " + r.err)
    check(w.ctl("list-overrides", uid=NOBODY).out == "No overrides.\n", "reading is everybody's")
    w.ctl("detach-group", "1")
    r = w.ctl("reattach-group", "1", uid=NOBODY, check_rc=1)
    check("may reattach a group for the machine" in r.err, r.err)
    check(overrides(w) == {DEV_PRI: ("-", "1", "yes", "held")}, "root's override stays")


@with_world(policy_text=NOBODY_ADMIN_CLAIMS)
def test_a_user_granted_admin_claim_detaches_and_claims_without_detach_drivers(w):
    w.ctl("claim", "2", uid=NOBODY, check_rc=1)       # e1000e is bound and nobody may not detach it
    w.ctl("detach-group", "2", uid=NOBODY)
    check(w.groups()[2] == "machine", f"ListGroups: {w.groups()}")
    r = w.ctl("claim", "2", uid=NOBODY)
    check("claimed group 2" in r.out, "no --detach-drivers, no detach-kernel-drivers: " + r.out + r.err)
    check(w.groups()[2] == "machine", "back with the machine when the claim ended")
    w.ctl("reattach-group", "2", uid=NOBODY)
    check(show_value(w, "00:03.0", "Driver") == "e1000e\n", "e1000e is back")


def test_overrides_survive_a_restart_and_nosave_ones_not_a_reboot(w):
    w.ctl("detach-group", "2")
    w.ctl("detach-group", "3", "--nosave")
    restart(w)
    held = overrides(w)
    check(held == {DEV_NIC: ("e1000e", "2", "yes", "held"), DEV_NIC_FN1: ("-", "2", "yes", "held"),
                   DEV_SMALL: ("-", "3", "no", "held")}, f"after a restart: {held}")
    check(w.groups()[2] == "machine" and w.groups()[3] == "machine", f"ListGroups: {w.groups()}")
    # A reboot: /run is empty again (the world's --state-dir), /var/lib (its --lib-dir) is not.
    w.daemon.send_signal(signal.SIGTERM)
    check(w.daemon.wait(timeout=15) == 0, "iommud stopped for the reboot")
    shutil.rmtree(os.path.join(w.dir, "run"))
    w.start_daemon([])
    check(set(overrides(w)) == {DEV_NIC, DEV_NIC_FN1}, "after a reboot, only the saved override:\n" +
          w.ctl("list-overrides").out)
    check(w.groups()[3] == "none" and w.groups()[2] == "machine", f"ListGroups: {w.groups()}")
    check(show_value(w, "00:03.0", "Driver") == "vfio-pci\n", "applied again at start")


TESTS = [(name, fn) for name, fn in sorted(globals().items()) if name.startswith("test_")]

if __name__ == "__main__":
    main(TESTS, suite="iommuctl")
