/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* monitor.c - the verbs that wait: monitor (signals), hold (keep claims), sleep */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <systemd/sd-event.h>

#include "iommuctl.h"

#define MATCH_MANAGER \
        "type='signal',sender='" IOMMUD_BUS_NAME "',path='" IOMMUD_PATH "'," \
        "interface='" IOMMUD_MANAGER_INTERFACE "'"
#define MATCH_PROPERTIES \
        "type='signal',sender='" IOMMUD_BUS_NAME "',path_namespace='" IOMMUD_PATH "'," \
        "interface='org.freedesktop.DBus.Properties',member='PropertiesChanged'"
#define MATCH_OBJECTS \
        "type='signal',sender='" IOMMUD_BUS_NAME "',path_namespace='" IOMMUD_PATH "'," \
        "interface='org.freedesktop.DBus.ObjectManager'"
#define MATCH_OWNER \
        "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus'," \
        "interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='" IOMMUD_BUS_NAME "'"

#define LOOP_MAX_MATCHES 4

typedef struct Loop {
        Ctx *ctx;
        sd_event *event;
        sd_bus_slot *matches[LOOP_MAX_MATCHES];
        unsigned n_matches;
} Loop;

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        return sd_event_exit(sd_event_source_get_event(s), 0);
}

/* sd-bus hands a synthetic org.freedesktop.DBus.Local.Disconnected to filters. */
static int on_filter(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Loop *l = userdata;

        if (!sd_bus_message_is_signal(m, "org.freedesktop.DBus.Local", "Disconnected"))
                return 0;
        fprintf(stderr, "iommuctl: %s: the connection to the bus was closed%s\n",
                l->ctx->verb, strcmp(l->ctx->verb, "hold") == 0 ?
                "; what it held is released." : ".");
        return sd_event_exit(l->event, EXIT_UNREACHABLE);
}

static int loop_write_error(Loop *l) {
        fprintf(stderr, "iommuctl: %s: cannot write the output: %s\n", l->ctx->verb,
                strerror(errno));
        return sd_event_exit(l->event, EXIT_REFUSED);
}

/*
 * Runs the event loop with the bus attached until SIGINT or SIGTERM (exit 0)
 * or the bus goes away (exit 3). setup adds the matches the verb needs;
 * the banner goes to stderr once they are in place.
 */
static int loop_run(Ctx *ctx, int (*setup)(Loop *l), const char *banner) {
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *filter = NULL;
        Loop l = { .ctx = ctx };
        int r;

        r = sd_event_new(&event);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGINT | SD_EVENT_SIGNAL_PROCMASK,
                                        on_signal, NULL);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGTERM | SD_EVENT_SIGNAL_PROCMASK,
                                        on_signal, NULL);
        if (r < 0) {
                fprintf(stderr, "iommuctl: %s: cannot set up the event loop: %s\n",
                        ctx->verb, strerror(-r));
                return EXIT_REFUSED;
        }
        l.event = event;

        r = sd_bus_attach_event(ctx->bus, event, SD_EVENT_PRIORITY_NORMAL);
        if (r >= 0)
                r = sd_bus_add_filter(ctx->bus, &filter, on_filter, &l);
        if (r < 0) {
                fprintf(stderr, "iommuctl: %s: cannot watch the bus: %s\n",
                        ctx->verb, strerror(-r));
                sd_bus_detach_event(ctx->bus);
                return EXIT_REFUSED;
        }
        r = setup ? setup(&l) : 0;
        if (r == 0) {
                fprintf(stderr, "%s\n", banner);
                r = sd_event_loop(event);
                if (r < 0) {
                        fprintf(stderr, "iommuctl: %s: event loop failed: %s\n",
                                ctx->verb, strerror(-r));
                        r = EXIT_REFUSED;
                }
        }
        for (unsigned i = 0; i < l.n_matches; i++)
                sd_bus_slot_unref(l.matches[i]);
        filter = sd_bus_slot_unref(filter);
        sd_bus_detach_event(ctx->bus);
        return r;
}

static int add_match(Loop *l, const char *rule, sd_bus_message_handler_t handler) {
        int r;

        assert(l->n_matches < LOOP_MAX_MATCHES);
        /* Synchronous: the bus has the rule when this returns. */
        r = sd_bus_add_match(l->ctx->bus, &l->matches[l->n_matches], rule, handler, l);
        if (r < 0)
                return ctl_fail(l->ctx, r, NULL);
        l->n_matches++;
        return 0;
}

/* Asks the bus whether iommud owns its name. Returns 0 or an exit code. */
static int daemon_present(Ctx *ctx, bool *ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r, has;

        r = sd_bus_call_method(ctx->bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                               "org.freedesktop.DBus", "NameHasOwner", &error, &reply,
                               "s", IOMMUD_BUS_NAME);
        if (r < 0)
                return ctl_fail(ctx, r, &error);
        r = sd_bus_message_read(reply, "b", &has);
        if (r < 0)
                return ctl_bad_reply(ctx, r);
        *ret = has;
        return 0;
}

static void print_time(Json *j, FILE *f) {
        struct timespec ts;
        char buf[64], iso[96];
        struct tm tm;

        clock_gettime(CLOCK_REALTIME, &ts);
        if (j) {
                gmtime_r(&ts.tv_sec, &tm);
                strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
                snprintf(iso, sizeof(iso), "%s.%06ldZ", buf, ts.tv_nsec / 1000);
                json_pair_string(j, "time", iso);
                json_pair_uint(j, "timestamp_usec",
                               (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000);
                return;
        }
        localtime_r(&ts.tv_sec, &tm);
        strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
        fprintf(f, "%s.%03ld ", buf, ts.tv_nsec / 1000000);
}

/* Human output: a string field, "-" when empty. */
static const char *text(const char *s) {
        return s && *s ? s : "-";
}

static int event_group_changed(sd_bus_message *m, FILE *f, Json *j) {
        const char *ownership, *owner;
        uint32_t group;
        int r;

        r = sd_bus_message_read(m, "uss", &group, &ownership, &owner);
        if (r < 0)
                return r;
        if (j) {
                json_pair_uint(j, "group", group);
                json_pair_string(j, "ownership", ownership);
                json_pair_string(j, "owner", owner);
        } else
                fprintf(f, " group=%u ownership=%s owner=%s", group, ownership, text(owner));
        return 0;
}

static int event_device(sd_bus_message *m, FILE *f, Json *j) {
        const char *device;
        int r;

        r = sd_bus_message_read(m, "s", &device);
        if (r < 0)
                return r;
        if (j)
                json_pair_string(j, "device", device);
        else
                fprintf(f, " device=%s", device);
        return 0;
}

/* A page request answered INVALID: the device touched what the client had not shared. */
static int event_fault_refused(sd_bus_message *m, FILE *f, Json *j) {
        const char *device, *client;
        uint32_t suppressed;
        uint64_t address;
        int r;

        r = sd_bus_message_read(m, "stsu", &device, &address, &client, &suppressed);
        if (r < 0)
                return r;
        if (j) {
                json_pair_string(j, "device", device);
                json_pair_uint(j, "address", address);
                json_pair_string(j, "client", client);
                json_pair_uint(j, "suppressed", suppressed);
        } else
                fprintf(f, " device=%s address=0x%" PRIx64 " client=%s suppressed=%" PRIu32,
                        device, address, text(client), suppressed);
        return 0;
}

static int event_owner_changed(sd_bus_message *m, FILE *f, Json *j) {
        const char *name, *old_owner, *new_owner;
        int r;

        r = sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner);
        if (r < 0)
                return r;
        if (j) {
                json_pair_string(j, "name", name);
                json_pair_string(j, "old_owner", old_owner);
                json_pair_string(j, "new_owner", new_owner);
        } else
                fprintf(f, " name=%s old=%s new=%s%s", name, text(old_owner), text(new_owner),
                        *new_owner ? "" : " (iommud left the bus)");
        return 0;
}

/* One value as JSON text, for the human form too: strings come out quoted. */
static int text_value(sd_bus_message *m, FILE *f) {
        Json v;

        json_init(&v, f);
        return emit_value(m, &v);
}

/* One "sv" entry: " Name=value". */
static int text_property(sd_bus_message *m, void *userdata) {
        FILE *f = userdata;
        const char *name;
        int r;

        r = sd_bus_message_read(m, "s", &name);
        if (r < 0)
                return r;
        fprintf(f, " %s=", name);
        return text_value(m, f);
}

/* Human form of an a{sv}: " Name=value" each, values as JSON. */
static int text_properties(sd_bus_message *m, FILE *f) {
        return bus_read_dict(m, "{sv}", text_property, f);
}

static int event_properties(sd_bus_message *m, FILE *f, Json *j) {
        const char *iface, *name;
        int r;

        r = sd_bus_message_read(m, "s", &iface);
        if (r < 0)
                return r;
        if (j) {
                json_pair_string(j, "interface", iface);
                json_key(j, "changed");
                r = emit_value(m, j);
                if (r >= 0) {
                        json_key(j, "invalidated");
                        r = emit_value(m, j);
                }
                return r < 0 ? r : 0;
        }

        fprintf(f, " %s", iface);
        r = text_properties(m, f);
        if (r >= 0)
                r = sd_bus_message_enter_container(m, 'a', "s");
        while (r >= 0 && (r = sd_bus_message_read(m, "s", &name)) > 0)
                fprintf(f, " %s=(invalidated)", name);
        return r < 0 ? r : 0;
}

/* Peer, Introspectable, Properties: every object has them; not news. */
static bool standard_interface(const char *iface) {
        return strncmp(iface, "org.freedesktop.DBus.", 21) == 0;
}

/* Where one signal is written: f for people, or j (not NULL) for programs. */
typedef struct EventOut {
        FILE *f;
        Json *j;
} EventOut;

/* One "sa{sv}" entry of InterfacesAdded: an interface and its properties. */
static int interface_added(sd_bus_message *m, void *userdata) {
        const EventOut *o = userdata;
        const char *iface;
        int r;

        r = sd_bus_message_read(m, "s", &iface);
        if (r < 0)
                return r;
        if (standard_interface(iface))
                return sd_bus_message_skip(m, "a{sv}");
        if (o->j) {
                json_key(o->j, iface);
                return emit_value(m, o->j);
        }
        fprintf(o->f, " %s", iface);
        return text_properties(m, o->f);
}

/* The "as" of InterfacesRemoved: the interface names. */
static int interfaces_removed(sd_bus_message *m, const EventOut *o) {
        const char *iface;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "s");
        while (r >= 0 && (r = sd_bus_message_read(m, "s", &iface)) > 0) {
                if (standard_interface(iface))
                        continue;
                if (o->j)
                        json_string(o->j, iface);
                else
                        fprintf(o->f, " %s", iface);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        return r;
}

/*
 * InterfacesAdded(o, a{sa{sv}}): a bond, device or group object appeared;
 * InterfacesRemoved(o, as): it went away. "interfaces" is an object of
 * their properties, or an array of their names.
 */
static int event_interfaces(sd_bus_message *m, FILE *f, Json *j, bool added) {
        EventOut o = { .f = f, .j = j };
        const char *object;
        int r;

        r = sd_bus_message_read(m, "o", &object);
        if (r < 0)
                return r;
        if (j) {
                json_pair_string(j, "object", object);
                json_key(j, "interfaces");
                added ? json_begin_object(j) : json_begin_array(j);
        } else
                fprintf(f, " %s", object);

        if (added)
                r = bus_read_dict(m, "{sa{sv}}", interface_added, &o);
        else
                r = interfaces_removed(m, &o);
        if (j)
                added ? json_end_object(j) : json_end_array(j);
        return r < 0 ? r : 0;
}

/* Signals without their own format: every argument as a JSON value. */
static int event_generic(sd_bus_message *m, FILE *f, Json *j) {
        int r;

        if (j) {
                json_pair_string(j, "interface", sd_bus_message_get_interface(m));
                json_key(j, "args");
                json_begin_array(j);
                while ((r = emit_value(m, j)) > 0)
                        ;
                json_end_array(j);
                return r;
        }
        fprintf(f, " %s", sd_bus_message_get_interface(m));
        while ((r = sd_bus_message_peek_type(m, NULL, NULL)) > 0) {
                fputc(' ', f);
                r = text_value(m, f);
                if (r < 0)
                        break;
        }
        return r < 0 ? r : 0;
}

static int format_event(sd_bus_message *m, FILE *f, Json *j) {
        const char *member = sd_bus_message_get_member(m);
        const char *iface = sd_bus_message_get_interface(m);
        bool objects = strcmp(iface, "org.freedesktop.DBus.ObjectManager") == 0;
        bool bus = strcmp(iface, "org.freedesktop.DBus") == 0;

        if (j) {
                json_init(j, f);
                json_begin_object(j);
        }
        print_time(j, f);
        if (j) {
                json_pair_string(j, "signal", member);
                json_pair_string(j, "path", sd_bus_message_get_path(m));
        } else if (objects || bus)
                fputs(member, f);       /* the path that matters is in the arguments */
        else
                fprintf(f, "%s %s", member, sd_bus_message_get_path(m));

        if (strcmp(iface, IOMMUD_MANAGER_INTERFACE) == 0 && strcmp(member, "GroupChanged") == 0)
                return event_group_changed(m, f, j);
        if (strcmp(iface, IOMMUD_MANAGER_INTERFACE) == 0 &&
            (strcmp(member, "DeviceAdded") == 0 || strcmp(member, "DeviceRemoved") == 0))
                return event_device(m, f, j);
        if (strcmp(iface, IOMMUD_MANAGER_INTERFACE) == 0 && strcmp(member, "FaultRefused") == 0)
                return event_fault_refused(m, f, j);
        if (strcmp(iface, "org.freedesktop.DBus.Properties") == 0)
                return event_properties(m, f, j);
        if (objects && strcmp(member, "InterfacesAdded") == 0)
                return event_interfaces(m, f, j, true);
        if (objects && strcmp(member, "InterfacesRemoved") == 0)
                return event_interfaces(m, f, j, false);
        if (bus)
                return event_owner_changed(m, f, j);
        return event_generic(m, f, j);
}

/*
 * Formats one signal into memory first, so that a malformed signal prints a
 * warning instead of half a line (or half a JSON object).
 */
static int on_event(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Loop *l = userdata;
        _cleanup_(freep) char *buf = NULL;
        size_t size = 0;
        Json json;
        FILE *f;
        int r;

        f = open_memstream(&buf, &size);
        if (!f)
                return loop_write_error(l);
        r = format_event(m, f, l->ctx->json ? &json : NULL);
        if (r >= 0 && l->ctx->json)
                json_end_object(&json);
        fputc('\n', f);
        if (fclose(f) != 0)
                return loop_write_error(l);
        if (r < 0) {
                fprintf(stderr, "iommuctl: %s: cannot read a %s signal: %s\n",
                        l->ctx->verb, sd_bus_message_get_member(m), strerror(-r));
                return 0;
        }
        if (fputs(buf, stdout) < 0 || fflush(stdout) != 0)
                return loop_write_error(l);
        return 0;
}

static int monitor_setup(Loop *l) {
        bool present;
        int r;

        r = add_match(l, MATCH_MANAGER, on_event);
        if (r == 0)
                r = add_match(l, MATCH_PROPERTIES, on_event);
        if (r == 0)
                r = add_match(l, MATCH_OBJECTS, on_event);
        if (r == 0)
                r = add_match(l, MATCH_OWNER, on_event);
        if (r == 0)
                r = daemon_present(l->ctx, &present);
        if (r == 0 && !present)
                fprintf(stderr, "iommuctl: %s: iommud is not running; waiting for it.\n",
                        l->ctx->verb);
        return r;
}

int verb_monitor(Ctx *ctx, const Command *cmd) {
        return loop_run(ctx, monitor_setup,
                        "Monitoring iommud; press Ctrl-C to stop.");
}

/* While holding, iommud leaving the bus means everything held is gone. */
static int on_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Loop *l = userdata;
        const char *name, *old_owner, *new_owner;

        if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0 || *new_owner)
                return 0;
        fprintf(stderr, "iommuctl: %s: iommud left the bus; what this connection "
                "held is gone.\n", l->ctx->verb);
        return sd_event_exit(l->event, EXIT_UNREACHABLE);
}

static int hold_setup(Loop *l) {
        bool present;
        int r;

        r = add_match(l, MATCH_OWNER, on_owner_changed);
        if (r == 0)
                r = daemon_present(l->ctx, &present);
        if (r == 0 && !present) {
                fprintf(stderr, "iommuctl: %s: iommud is not on the bus, so there is "
                        "nothing to hold.\n", l->ctx->verb);
                r = EXIT_UNREACHABLE;
        }
        return r;
}

int verb_hold(Ctx *ctx, const Command *cmd) {
        return loop_run(ctx, hold_setup, "holding; press Ctrl-C to release");
}

int verb_sleep(Ctx *ctx, const Command *cmd) {
        struct timespec ts;
        uint64_t usec;

        if (parse_seconds(cmd->args[0], &usec) < 0)
                return EXIT_USAGE;
        ts.tv_sec = (time_t)(usec / 1000000);
        ts.tv_nsec = (long)(usec % 1000000) * 1000;
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
        return 0;
}
