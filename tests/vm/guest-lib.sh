# SPDX-License-Identifier: LGPL-2.1-or-later
# guest-lib.sh - what the lane's guest tests share: checks, waits, a bus and
# the daemon. Sourced with top (the source tree) and build (the build tree)
# set; sets T (scratch), ctl (iommuctl) and, after start_iommud, daemon.
T=${TMPDIR:?guest-init sets TMPDIR}     # the guest's scratch: its /tmp is the host's, read-only
ctl="$build/client/iommuctl"
passed=0 failed=0

check() {        # check DESCRIPTION SHELL-CONDITION
        if eval "$2"; then echo "ok   $1"; passed=$((passed + 1)); else echo "FAIL $1"; failed=$((failed + 1)); fi
}

wait_until() {   # up to 60 s of wall time: every exec crosses 9p under TCG
        end=$(($(date +%s) + 60))
        while [ "$(date +%s)" -lt $end ]; do
                eval "$1" && return 0
                [ -z "${daemon:-}" ] || kill -0 "$daemon" 2>/dev/null || return 1     # it died: no use waiting
                sleep 0.2
        done
        return 1
}

# The guest's root is the host's: its /var/lib/iommud holds the host's
# stored overrides, which a daemon here would re-apply to whatever PCI
# function has that address in the guest (once the 9p root's own
# virtio function, which hung the lane at power-off). Every daemon of the
# lane keeps them under $T/lib unless the test says where (--lib-dir).
lib_dir_opt() {
        case " $* " in
        *" --lib-dir="*) ;;
        *) echo "--lib-dir=$T/lib" ;;
        esac
}

# A private bus with iommud's own bus policy, then iommud on backend $1 with
# the options after it; exits the test (with its log on the console) if the
# daemon never answers.
start_iommud() {
        backend=$1; shift
        set -- "$@" $(lib_dir_opt "$@")
        sed -e "s|@SOCKET@|$T/bus|" -e "s|@POLICY@|$top/units/org.iommud1.conf|" \
                "$top/tools/private-bus.conf.in" > "$T/bus.conf"
        dbus-daemon --config-file="$T/bus.conf" --nofork --nopidfile 2>"$T/bus.log" &
        export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$T/bus"
        wait_until '[ -S "$T/bus" ]'
        ASAN_OPTIONS=detect_leaks=0 "$build/daemon/iommud" --backend="$backend" "$@" 2>"$T/iommud.log" &
        daemon=$!
        check "iommud starts on the $backend backend" \
                'wait_until "busctl --system call org.iommud1 /org/iommud1 org.freedesktop.DBus.Peer Ping >/dev/null 2>&1"'
        [ $failed -eq 0 ] && return 0
        echo "--- the bus's log"; cat "$T/bus.log"
        echo "--- iommud's log"; cat "$T/iommud.log"
        finish
}

# Stops the daemon (it must exit 0), prints the summary line, exits.
finish() {
        if kill -TERM "$daemon" 2>/dev/null; then
                wait "$daemon"
                rc=$?
                check "iommud exits cleanly" '[ $rc -eq 0 ]'
        fi
        echo "--- iommud's log"; cat "$T/iommud.log"
        echo "$name: $passed passed, $failed failed"
        [ $failed -eq 0 ]
        exit
}

# Stops the daemon (it must exit 0), for a test of what survives a restart.
stop_iommud() {
        kill -TERM "$daemon" && wait "$daemon"
        rc=$?
        check "iommud exits cleanly for the restart" '[ $rc -eq 0 ]'
}

# Starts the daemon again on the same bus, on backend $1 with the options
# after it (the caller passes again those start_iommud had).
start_iommud_again() {
        backend=$1; shift
        set -- "$@" $(lib_dir_opt "$@")
        ASAN_OPTIONS=detect_leaks=0 "$build/daemon/iommud" --backend="$backend" "$@" 2>>"$T/iommud.log" &
        daemon=$!
        check "iommud starts again on the $backend backend" \
                'wait_until "busctl --system call org.iommud1 /org/iommud1 org.freedesktop.DBus.Peer Ping >/dev/null 2>&1"'
}

restart_iommud() {
        stop_iommud
        start_iommud_again "$@"
}
