/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* daemon.c - iommud's process: event loop, bus, the model, policy and bus clients */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-device.h>

#include "daemon/core/client.h"
#include "daemon/core/device.h"
#include "daemon/core/group.h"
#include "daemon.h"

/* The event loop's safe point (L9): after every dispatched event, the core
 * runs deferred teardown and its queued events become signals. */
static int on_post(sd_event_source *s, void *userdata) {
        Daemon *d = userdata;

        core_dispatch(d->core);
        fault_service_post(d);
        return 0;
}

static int on_exit_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Daemon *d = userdata;

        log_info("%s, shutting down: releasing every client", strsignal((int)si->ssi_signo));
        sd_notify(0, "STOPPING=1");
        return sd_event_exit(d->event, 0);
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        _cleanup_(freep) char *errors = NULL;
        Daemon *d = userdata;

        sd_notify(0, "RELOADING=1");
        if (daemon_reload(d, &errors) < 0)
                log_error("SIGHUP: policy NOT reloaded, the old one stays:\n%s", errors ? errors : "");
        sd_notify(0, "READY=1");
        return 0;
}

/* SIGRTMIN+22 and +23, as systemd's daemons take them: debug, and back to
 * the level the command line configured. Manager.LogLevel tells the bus. */
static int on_log_level_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Daemon *d = userdata;

        if ((int)si->ssi_signo == SIGRTMIN + 22)
                log_set_level(LOG_DEBUG);
        else
                log_reset_level();
        log_info("log level %s (signal %s)", log_level_to_string(log_get_level()),
                 (int)si->ssi_signo == SIGRTMIN + 22 ? "SIGRTMIN+22" : "SIGRTMIN+23");
        bus_manager_log_level_changed(d);
        return 0;
}

/* Loads the policy; a missing default directory means the empty policy. */
static int load_policy(const char *path, Policy **ret, char **ret_errors) {
        int r = policy_load(path ? path : IOMMUD_DEFAULT_POLICY, ret, ret_errors);

        if (r == -ENOENT && !path) {
                log_warning("no policy in %s: only root may claim or bind.", IOMMUD_DEFAULT_POLICY);
                if (ret_errors)
                        *ret_errors = mfree(*ret_errors);
                return policy_new_empty(ret);
        }
        return r;
}

int daemon_reload(Daemon *d, char **ret_error) {
        Policy *p = NULL;
        int r;

        r = load_policy(d->policy_path, &p, ret_error);
        if (r < 0)
                return r;
        policy_free(d->policy);
        d->policy = p;
        daemon_apply_policy(d);
        log_info("policy reloaded: %u rules", policy_rule_count(p));
        return 0;
}

/* The backend's notes, at the priority they start with (BACKEND_LOG_*),
 * a warning otherwise. */
_attribute_printf_(2, 0)
static void log_backend(void *userdata, const char *fmt, va_list ap) {
        _cleanup_(freep) char *msg = NULL;
        int priority = LOG_WARNING;
        const char *text;
        size_t n;

        if (vasprintf(&msg, fmt, ap) < 0)
                return;
        text = msg;
        if (text[0] == '<' && text[1] >= '0' && text[1] <= '7' && text[2] == '>') {
                priority = text[1] - '0';
                text += 3;
        }
        n = strlen(text);
        if (n > 0 && text[n - 1] == '\n')
                msg[text - msg + (ptrdiff_t)n - 1] = 0;
        log_full(priority, "%s", text);
}

/* The backend the command line chose, then the core it drives, then its
 * devices in the core; and what it can do, for the log. */
static int daemon_setup_backend(Daemon *d, const DaemonConfig *cfg) {
        const BackendOptions opts = {
                .topology = cfg->topology, .sysfs = "/sys", .devdir = "/dev",
                .state_dir = cfg->state_dir ? cfg->state_dir : IOMMUD_DEFAULT_STATE_DIR,
                .log = log_backend, .log_userdata = d,
        };
        char features[1024];    /* the kernel backend says how it found each feature */
        int r;

        r = cfg->backend->new(&d->backend, &opts);
        if (r < 0)
                return r;
        r = core_new(&d->core, d->backend->core_ops, d->backend->core_data);
        if (r < 0)
                return r;
        r = d->backend->class->load(d->backend->data, d->core, &opts);
        /* The objects the daemon starts with are not announced one by one:
         * nobody can watch for them before the name is ours (taken after
         * this), and GetManagedObjects lists them. On a host of 16,384
         * functions that is 17,000 signals the first calls would wait for. */
        core_dispatch(d->core);
        if (d->backend->class->describe) {
                d->backend->class->describe(d->backend->data, features, sizeof(features));
                log_info("%s", features);
        }
        return r;
}

/* Without its bus nobody can reach or release anything: exit with a failure,
 * which makes systemd restart us (Restart=on-failure). */
static int on_bus_disconnected(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;

        log_error("lost the connection to the system bus; releasing every client and exiting with a failure, "
                  "so that systemd restarts iommud");
        return sd_event_exit(d->event, -ENOTCONN);
}

static int daemon_setup_bus(Daemon *d) {
        int r;

        r = sd_bus_open_system(&d->bus);
        if (r < 0) {
                log_error("cannot connect to the system bus: %s", strerror(-r));
                return r;
        }
        r = sd_bus_attach_event(d->bus, d->event, SD_EVENT_PRIORITY_NORMAL);
        if (r >= 0)
                r = sd_bus_match_signal(d->bus, NULL, "org.freedesktop.DBus.Local", "/org/freedesktop/DBus/Local",
                                        "org.freedesktop.DBus.Local", "Disconnected", on_bus_disconnected, d);
        if (r >= 0)
                r = bus_clients_watch(d);
        if (r >= 0)
                r = bus_manager_register(d);
        if (r >= 0)
                r = bus_group_register(d);
        if (r >= 0)
                r = bus_device_register(d);
        if (r >= 0)
                r = bus_bond_register(d);
        if (r >= 0)
                r = bus_region_register(d);
        if (r >= 0)
                r = bus_space_register(d);
        if (r >= 0)
                r = bus_simulator_register(d);
        if (r >= 0)
                r = sd_bus_add_object_manager(d->bus, NULL, IOMMUD_PATH);
        if (r < 0)
                return r;
        r = sd_bus_request_name(d->bus, IOMMUD_BUS_NAME, 0);
        if (r < 0)
                log_error("cannot own %s on the bus: %s. Is another iommud running, or is "
                          "units/org.iommud1.conf not installed in the bus configuration?",
                          IOMMUD_BUS_NAME, strerror(-r));
        return r;
}

/* The stored overrides, held again before anybody can call (the start's
 * events are not announced, as the objects' are not: see above); then
 * the model's events become signals. */
static int daemon_setup_overrides(Daemon *d, const DaemonConfig *cfg) {
        int r = override_store_init(&d->overrides, cfg->state_dir ? cfg->state_dir : IOMMUD_DEFAULT_STATE_DIR,
                                    cfg->lib_dir ? cfg->lib_dir : IOMMUD_DEFAULT_LIB_DIR);

        if (r >= 0)
                r = override_store_load(&d->overrides);
        if (r >= 0)
                r = bus_overrides_reapply(d);
        core_set_listener(d->core, daemon_on_core_event, d);
        return r;
}

static int daemon_setup_signals(Daemon *d) {
        sigset_t mask;
        int r;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGRTMIN + 22);
        sigaddset(&mask, SIGRTMIN + 23);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -errno;
        r = sd_event_add_signal(d->event, &d->sigterm, SIGTERM, on_exit_signal, d);
        if (r >= 0)
                r = sd_event_add_signal(d->event, &d->sigint, SIGINT, on_exit_signal, d);
        if (r >= 0)
                r = sd_event_add_signal(d->event, &d->sighup, SIGHUP, on_sighup, d);
        if (r >= 0)
                r = sd_event_add_signal(d->event, &d->sig_debug, SIGRTMIN + 22, on_log_level_signal, d);
        if (r >= 0)
                r = sd_event_add_signal(d->event, &d->sig_level, SIGRTMIN + 23, on_log_level_signal, d);
        if (r >= 0)
                r = sd_event_add_post(d->event, &d->post, on_post, d);
        return r;
}

int daemon_new(Daemon **ret, const DaemonConfig *cfg) {
        _cleanup_(daemon_freep) Daemon *d = NULL;
        _cleanup_(freep) char *errors = NULL;
        int r;

        d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        list_init(&d->clients);
        list_init(&d->claim_calls);
        list_init(&d->override_calls);
        list_init(&d->overrides.records);
        if (cfg->policy) {
                d->policy_path = strdup(cfg->policy);
                if (!d->policy_path)
                        return -ENOMEM;
        }
        r = load_policy(d->policy_path, &d->policy, &errors);
        if (r < 0) {
                log_error("cannot load the policy:\n%s", errors ? errors : strerror(-r));
                return r;
        }
        r = sd_event_default(&d->event);
        if (r >= 0)
                r = daemon_setup_signals(d);
        if (r >= 0)
                r = daemon_setup_backend(d, cfg);
        if (r >= 0)
                r = fault_service_setup(d);
        if (r >= 0)
                r = hotplug_setup(d);
        if (r >= 0)
                r = daemon_setup_overrides(d, cfg);
        if (r >= 0)
                r = daemon_setup_bus(d);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(d);
        return 0;
}

/* How long the exit waits for drivers to be bound again: under systemd's
 * default TimeoutStopSec= (90 s), so that the unit stops cleanly. */
#define DAEMON_EXIT_DRAIN_USEC (60ull * 1000 * 1000)

Daemon *daemon_free(Daemon *d) {
        if (!d)
                return NULL;
        while (!list_empty(&d->clients)) {
                BusClient *bc = list_entry(d->clients.next, BusClient, link);

                bus_client_audit_release(bc, "shutdown");
                bus_client_free(bc);
        }
        hashmap_clear(&d->clients_by_name);
        if (d->core)
                core_dispatch(d->core);
        /* The released groups' drivers go back before we exit (their
         * probes run off the loop, which runs no more). */
        if (d->core && d->backend && d->backend->class->drain) {
                d->backend->class->drain(d->backend->data, DAEMON_EXIT_DRAIN_USEC);
                core_dispatch(d->core);
        }
        bus_claim_calls_free(d);
        bus_override_calls_free(d);
        d->core = core_free(d->core);
        override_store_done(&d->overrides);
        /* Before the backend closes the fds they watch. */
        d->fault_source = sd_event_source_disable_unref(d->fault_source);
        d->device_source = sd_event_source_disable_unref(d->device_source);
        d->request_source = sd_event_source_disable_unref(d->request_source);
        d->worker_source = sd_event_source_disable_unref(d->worker_source);
        d->fault_timer = sd_event_source_disable_unref(d->fault_timer);
        d->device_monitor = sd_device_monitor_unref(d->device_monitor);
        d->backend = backend_free(d->backend);
        policy_free(d->policy);
        free(d->policy_path);
        sd_event_source_disable_unref(d->post);
        sd_event_source_disable_unref(d->sigterm);
        sd_event_source_disable_unref(d->sigint);
        sd_event_source_disable_unref(d->sighup);
        sd_event_source_disable_unref(d->sig_debug);
        sd_event_source_disable_unref(d->sig_level);
        sd_bus_flush_close_unref(d->bus);
        sd_event_unref(d->event);
        free(d);
        return NULL;
}

int daemon_run(Daemon *d) {
        core_dispatch(d->core);
        sd_notifyf(0, "READY=1\nSTATUS=Serving %u groups (%s backend)", list_count(&d->core->groups),
                   d->backend->class->name);
        log_info("%s: ready on the bus as %s, %s backend, %u devices in %u groups, log level %s",
                 PROJECT_VERSION, IOMMUD_BUS_NAME, d->backend->class->name, list_count(&d->core->devices),
                 list_count(&d->core->groups), log_level_to_string(log_get_level()));
        return sd_event_loop(d->event);
}
