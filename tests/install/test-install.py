#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# test-install.py - `meson install` into a DESTDIR: man pages that render and document every option, the rest
#
# Installs the build once into a temporary DESTDIR, then checks what a
# machine would get: each man page renders with man(1) and groff without a
# warning; every option and verb the installed binaries' --help prints is in
# the matching page (read from --help, so that a new option must document
# itself); the bash completion loads, offers every verb, and completes group
# ids and device names from a running iommud (a private bus, harness.py);
# the introspection XML, the unit and the activation file are installed and
# agree with each other. Needs root, as the integration suites do.
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../integration"))
from harness import Failure, check, main  # noqa: E402

MAN_PAGES = {"iommud": "8", "iommuctl": "1", "iommud.policy": "5", "org.iommud1": "5"}
DESTDIR = None


def install(build):
    """meson install of the (already built) tree into a new DESTDIR; its path."""
    dest = tempfile.mkdtemp(prefix="iommud-install-")
    p = subprocess.run(["meson", "install", "-C", build, "--no-rebuild", "--quiet", "--destdir", dest],
                       capture_output=True, text=True)
    if p.returncode != 0:
        shutil.rmtree(dest, ignore_errors=True)
        raise Failure(f"meson install --destdir failed (rc {p.returncode}):\n{p.stdout}{p.stderr}")
    return dest


def installed(pattern, what):
    """The one installed file matching the glob pattern (below DESTDIR); fails saying what is missing."""
    found = glob.glob(os.path.join(DESTDIR, "**", pattern), recursive=True)
    check(len(found) == 1, f"{what}: expected one installed {pattern}, found {found or 'none'} in {DESTDIR}")
    return found[0]


def man_page(name):
    section = MAN_PAGES[name]
    return installed(f"man{section}/{name}.{section}",
                     f"the man page {name}({section}) (is the build configured with -Dman=enabled? "
                     "it needs scdoc: tools/install-deps)")


def run(argv, env=None, **kwargs):
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60, **kwargs)


def plain_text(page):
    """The page as plain ASCII text in long lines, without hyphenation, so
    that no option or verb is cut at a line end; stderr must be empty."""
    p = run(["groff", "-man", "-Tascii", "-rHY=0", "-rLL=250n", "-P-cbou", page])
    check(p.returncode == 0 and not p.stderr, f"groff on {page}: rc {p.returncode}, stderr:\n{p.stderr}")
    return p.stdout


def section(text, heading):
    """The lines of a top-level section of a rendered page (heading to the next heading)."""
    m = re.search(rf"^{re.escape(heading)}\n(.*?)(?=^\S|\Z)", text, re.M | re.S)
    check(m, f"no section {heading} in the page:\n{text[:2000]}")
    return m.group(1)


def items(text):
    """{first word of an item's tag: the item's text} of a rendered section:
    tags at the first indent (7 columns), their bodies further in."""
    out = {}
    for m in re.finditer(r"^ {7}(\S[^\n]*)\n((?:(?: {8,}[^\n]*)?\n)*)", text, re.M):
        for tag in re.split(r",\s+", m.group(1)):
            word = tag.split()[0] if tag.split() else ""
            out[word.split("=")[0]] = m.group(0)
    return out


def long_options(help_text):
    return sorted(set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", help_text)))


def binary(name):
    """An installed program, in bin or sbin."""
    return installed(f"*bin/{name}", f"the {name} binary")


def help_of(*argv):
    p = run(list(argv))
    check(p.returncode == 0 and p.stdout, f"{' '.join(argv)}: rc {p.returncode}\n{p.stdout}{p.stderr}")
    return p.stdout


def verbs_of_help(help_text):
    """The verbs listed under "Verbs:" (or "Commands:") of iommuctl --help."""
    m = re.search(r"^(?:Verbs|Commands):\n(.*?)(?:\n\n|\Z)", help_text, re.M | re.S)
    check(m, f"iommuctl --help has no Verbs: section:\n{help_text}")
    verbs = re.findall(r"^  ([a-z][a-z-]*)(?=\s|$)", m.group(1), re.M)
    check(len(verbs) >= 10, f"only {verbs} read as verbs from iommuctl --help:\n{help_text}")
    return verbs


# --- the man pages ---------------------------------------------------------

def test_every_man_page_renders_without_warnings(w):
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8")
    env.pop("MAN_KEEP_FORMATTING", None)
    for name, section_ in MAN_PAGES.items():
        page = man_page(name)
        p = run(["man", "--warnings", "-l", page], env=env)
        check(p.returncode == 0 and not p.stderr.strip(),
              f"man --warnings -l {page}: rc {p.returncode}, stderr:\n{p.stderr}")
        check(re.search(rf"^NAME\n\s+{re.escape(name)} \S \S", p.stdout, re.M),
              f"{name}({section_}) has no NAME line naming it:\n{p.stdout[:800]}")
        too_wide = [line for line in p.stdout.splitlines() if len(line) > 80]
        check(not too_wide, f"{name}({section_}) is wider than MANWIDTH=80:\n" + "\n".join(too_wide))
        p = run(["groff", "-ww", "-z", "-man", page])
        check(p.returncode == 0 and not p.stderr, f"groff -ww -z -man {page}: stderr:\n{p.stderr}")


def test_iommud_page_documents_every_option_of_its_help(w):
    options = long_options(help_of(binary("iommud"), "--help"))
    check("--backend" in options and "--help" in options, f"options read from iommud --help: {options}")
    documented = items(section(plain_text(man_page("iommud")), "OPTIONS"))
    missing = [o for o in options if o not in documented]
    check(not missing, f"iommud --help prints {missing}, which iommud(8)'s OPTIONS do not describe "
                       f"(man/iommud.8.scd); documented: {sorted(documented)}")


def test_iommuctl_page_documents_every_verb_and_option_of_its_help(w):
    ctl = binary("iommuctl")
    top = help_of(ctl, "--help")
    text = plain_text(man_page("iommuctl"))
    global_options = items(section(text, "OPTIONS"))
    verb_entries = items(section(text, "VERBS"))
    problems = []
    for verb in verbs_of_help(top):
        entry = verb_entries.get(verb)
        if entry is None:
            problems.append(f"verb {verb} has no entry in VERBS")
            continue
        for o in long_options(help_of(ctl, verb, "--help")):
            if o not in global_options and not re.search(rf"(?<![\w-]){re.escape(o)}(?![\w-])", entry):
                problems.append(f"option {o} of verb {verb} is neither in its entry nor in OPTIONS")
    everywhere = "".join(verb_entries.values())
    for o in long_options(top):
        if o not in global_options and not re.search(rf"(?<![\w-]){re.escape(o)}(?![\w-])", everywhere):
            problems.append(f"option {o} of iommuctl --help is neither in OPTIONS nor in a verb's entry")
    check(not problems, "iommuctl(1) (man/iommuctl.1.scd) lags behind iommuctl --help:\n  " +
          "\n  ".join(problems))


def test_dbus_page_documents_every_member_of_the_introspection(w):
    text = plain_text(man_page("org.iommud1"))
    xmls = glob.glob(os.path.join(w.source, "api/org.iommud1.*.xml"))
    check(len(xmls) >= 5, f"api/*.xml not found: {xmls}")
    missing = []
    for xml in xmls:
        with open(xml) as f:
            src = f.read()
        iface = re.search(r'<interface name="([^"]+)"', src).group(1)
        check(re.search(rf"^{re.escape(iface)} AT /", text, re.M), f"org.iommud1(5) has no section for {iface}")
        for kind, member in re.findall(r'<(method|property|signal) name="([^"]+)"', src):
            if not re.search(rf"(?<!\w){member}(?!\w)", text):
                missing.append(f"{iface}.{member} ({kind})")
    check(not missing, "org.iommud1(5) (man/org.iommud1.5.scd) does not describe: " + ", ".join(missing))


# --- the rest of the installation ------------------------------------------

def test_introspection_xml_is_installed_in_dbus_interfaces(w):
    for xml in glob.glob(os.path.join(w.source, "api/org.iommud1.*.xml")):
        name = os.path.basename(xml)
        dest = installed(f"dbus-1/interfaces/{name}", "the introspection XML")
        with open(xml) as a, open(dest) as b:
            check(a.read() == b.read(), f"{dest} differs from api/{name}")


def test_unit_documentation_names_installed_pages_and_activation_names_the_unit(w):
    unit = installed("systemd/system/iommud.service", "the unit")
    activation = installed("dbus-1/system-services/org.iommud1.service", "the D-Bus activation file")
    with open(unit) as f:
        unit_text = f.read()
    docs = re.findall(r"man:([\w.-]+)\((\d)\)", " ".join(re.findall(r"^Documentation=(.*)$", unit_text, re.M)))
    check(docs, f"the unit's Documentation= names no man page:\n{unit_text}")
    for name, sec in docs:
        installed(f"man{sec}/{name}.{sec}", f"the man page {name}({sec}) that Documentation= names")
    # systemd's own check of Documentation= (it runs man), against the installed pages.
    mandir = os.path.dirname(os.path.dirname(man_page("iommud")))
    tmp = tempfile.mkdtemp(prefix="iommud-unit-")
    try:
        local = os.path.join(tmp, "iommud.service")
        with open(local, "w") as f:
            # The installed path, not the prefix's: this machine need not have iommud installed.
            f.write(re.sub(r"^ExecStart=\S+", f"ExecStart={binary('iommud')}", unit_text, flags=re.M))
        p = run(["systemd-analyze", "verify", "--man=yes", local], env=dict(os.environ, MANPATH=mandir))
        check(p.returncode == 0, f"systemd-analyze verify --man=yes with MANPATH={mandir}: rc {p.returncode}\n"
                                 f"{p.stdout}{p.stderr}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    with open(activation) as f:
        act = f.read()
    service = re.search(r"^SystemdService=(\S+)$", act, re.M)
    check(service and service.group(1) == "iommud.service",
          f"the activation file must name the unit itself (no `systemctl enable` needed):\n{act}")


def completion_file():
    return installed("bash-completion/completions/iommuctl", "iommuctl's bash completion")


def test_bash_completion_loads(w):
    p = run(["bash", "-c", f"source {completion_file()} && complete -p iommuctl"])
    check(p.returncode == 0 and "-F _iommuctl iommuctl" in p.stdout and not p.stderr,
          f"the completion does not load: rc {p.returncode}\n{p.stdout}{p.stderr}")


def test_bash_completion_offers_every_verb_and_verb_option(w):
    ctl = binary("iommuctl")
    offered = complete(w, ["iommuctl", ""])
    missing = [v for v in verbs_of_help(help_of(ctl, "--help")) if v not in offered]
    for verb in verbs_of_help(help_of(ctl, "--help")):
        options = complete(w, ["iommuctl", verb, "--"])
        missing += [f"{verb} {o}" for o in long_options(help_of(ctl, verb, "--help")) if o not in options]
    check(not missing, f"shell-completion/bash/iommuctl does not offer: {missing}")


def complete(w, words, env=None):
    """What the completion offers for words (the last is being completed), as
    bash-completion runs it: bash splits device names at ':'."""
    line = " ".join(words)
    split = []
    for word in words:
        split += re.split(r"(:)", word) if ":" in word else [word]
    script = ("source /usr/share/bash-completion/bash_completion; source \"$1\"; shift; "
              "COMP_LINE=\"$1\"; COMP_POINT=${#COMP_LINE}; shift; COMP_WORDS=(\"$@\"); "
              "COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _iommuctl; printf '%s\\n' \"${COMPREPLY[@]}\"")
    path = os.path.dirname(binary("iommuctl")) + ":" + os.environ.get("PATH", "/usr/bin:/bin")
    p = run(["bash", "-c", script, "bash", completion_file(), line, *split],
            env=dict(env if env is not None else w.env, PATH=path))
    check(p.returncode == 0 and not p.stderr, f"completing {words!r}: rc {p.returncode}\n{p.stdout}{p.stderr}")
    return p.stdout.split()


def test_bash_completion_names_groups_and_devices_of_the_running_daemon(w):
    groups = complete(w, ["iommuctl", "claim", ""])
    check(sorted(groups) == sorted(map(str, w.groups())), f"claim completes {groups}, the daemon has {w.groups()}")
    devices = complete(w, ["iommuctl", "claim", "1", "+", "bind", "0000:00:03"])
    # bash inserts what follows the word's last ':'.
    check(sorted(devices) == ["03.0", "03.1"], f"bind 0000:00:03 completes {devices}")
    w.ctl("unplug", "0000:00:03.1")
    check(complete(w, ["iommuctl", "attach", "@space", "0000:00:03"]) == ["03.0"],
          "an unplugged device is still offered")


def test_bash_completion_names_groups_to_detach_and_groups_held_to_reattach(w):
    groups = sorted(map(str, w.groups()))
    check(sorted(complete(w, ["iommuctl", "detach-group", ""])) == groups, "detach-group completes every group")
    check(complete(w, ["iommuctl", "reattach-group", ""]) == [], "reattach-group with no override offers nothing")
    w.ctl("detach-group", "2")
    w.ctl("detach-group", "3", "--nosave")
    check(complete(w, ["iommuctl", "reattach-group", ""]) == ["2", "3"],
          "reattach-group completes the groups held for the machine, once each")


def test_bash_completion_is_quiet_without_a_daemon(w):
    env = dict(w.env)
    w.stop()            # the bus and the daemon go; completing must still say nothing
    check(complete(w, ["iommuctl", "claim", ""], env=env) == [], "group ids offered with no daemon")
    check(complete(w, ["iommuctl", "rel"], env=env) == ["release", "reload"], "verbs are offered without a daemon")


TESTS = [(n, f) for n, f in sorted(globals().items()) if n.startswith("test_")]

if __name__ == "__main__":
    build = sys.argv[sys.argv.index("--build") + 1]
    if os.geteuid() == 0:
        try:
            DESTDIR = install(build)
        except Failure as e:
            print(f"FAIL install: {e}")
            print("install: 0 passed, 1 failed")
            sys.exit(1)
    try:
        main(TESTS, suite="install")
    finally:
        if DESTDIR:
            shutil.rmtree(DESTDIR, ignore_errors=True)
