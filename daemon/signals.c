/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* signals.c - the model's events as D-Bus signals */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "daemon/core/bond.h"
#include "daemon/core/client.h"
#include "daemon/core/device.h"
#include "daemon/core/group.h"
#include "daemon.h"

/*
 * Called by core_dispatch() from the event loop's post source, after the
 * change: the object an event names may be gone by now, so each handler
 * looks it up again and says what is true at this moment.
 */

static void emit_removed(Daemon *d, const char *path, const char *interface) {
        /* The object no longer exists, so sd_bus_emit_object_removed() could
         * not find its interfaces; say which one went ourselves. */
        sd_bus_emit_signal(d->bus, IOMMUD_PATH, "org.freedesktop.DBus.ObjectManager", "InterfacesRemoved",
                           "oas", path, 1, interface);
}

static void on_group_changed(Daemon *d, const CoreEvent *ev) {
        _cleanup_(freep) char *path = NULL;
        Group *g = core_find_group(d->core, ev->group);

        sd_bus_emit_signal(d->bus, IOMMUD_PATH, IOMMUD_MANAGER_INTERFACE, "GroupChanged", "uss", ev->group,
                           g ? ownership_to_string(group_ownership(g)) : "none",
                           g ? client_bus_name(g->owner) : "");
        if (g && object_path_for_id(IOMMUD_GROUP_PREFIX, g->id, &path) >= 0)
                sd_bus_emit_properties_changed(d->bus, path, IOMMUD_GROUP_INTERFACE, "Ownership", "Owner",
                                               "OwnerUid", "Devices", NULL);
}

static void on_device(Daemon *d, const CoreEvent *ev) {
        _cleanup_(freep) char *path = NULL;
        Device *dev = core_find_device(d->core, ev->name);

        if (device_object_path(ev->name, &path) < 0)
                return;
        switch (ev->kind) {
        case CORE_EVENT_DEVICE_ADDED:
                sd_bus_emit_signal(d->bus, IOMMUD_PATH, IOMMUD_MANAGER_INTERFACE, "DeviceAdded", "s", ev->name);
                if (dev)
                        sd_bus_emit_object_added(d->bus, path);
                break;
        case CORE_EVENT_DEVICE_REMOVED:
                sd_bus_emit_signal(d->bus, IOMMUD_PATH, IOMMUD_MANAGER_INTERFACE, "DeviceRemoved", "s",
                                   ev->name);
                emit_removed(d, path, IOMMUD_DEVICE_INTERFACE);
                if (core_find_group(d->core, ev->group)) {
                        _cleanup_(freep) char *gpath = NULL;

                        if (object_path_for_id(IOMMUD_GROUP_PREFIX, ev->group, &gpath) >= 0)
                                sd_bus_emit_properties_changed(d->bus, gpath, IOMMUD_GROUP_INTERFACE,
                                                               "Devices", NULL);
                }
                break;
        default:
                if (dev)
                        sd_bus_emit_properties_changed(d->bus, path, IOMMUD_DEVICE_INTERFACE, "Driver", NULL);
                break;
        }
}

static void on_bond(Daemon *d, const CoreEvent *ev) {
        _cleanup_(freep) char *path = NULL;
        Client *cl = core_find_client(d->core, ev->client);

        if (object_path_for_id(IOMMUD_BOND_PREFIX, ev->id, &path) < 0)
                return;
        if (ev->kind == CORE_EVENT_BOND_REMOVED)
                emit_removed(d, path, IOMMUD_BOND_INTERFACE);
        else if (cl && client_find_bond(cl, ev->id))
                sd_bus_emit_properties_changed(d->bus, path, IOMMUD_BOND_INTERFACE, "State", "Users", NULL);
}

static void on_group_lifetime(Daemon *d, const CoreEvent *ev) {
        _cleanup_(freep) char *path = NULL;

        if (object_path_for_id(IOMMUD_GROUP_PREFIX, ev->group, &path) < 0)
                return;
        if (ev->kind == CORE_EVENT_GROUP_REMOVED)
                emit_removed(d, path, IOMMUD_GROUP_INTERFACE);
        else if (core_find_group(d->core, ev->group))
                sd_bus_emit_object_added(d->bus, path);
}

/*
 * At most FAULT_SIGNALS_PER_SEC FaultRefused signals a second: a device
 * hammering a bad address must not flood the bus. The next signal that goes
 * out says how many were held back.
 */
#define FAULT_SIGNALS_PER_SEC 10

static void on_fault_refused(Daemon *d, const CoreEvent *ev) {
        uint64_t now = 0;

        (void)sd_event_now(d->event, CLOCK_MONOTONIC, &now);
        if (now - d->refused_window_usec >= 1000000) {
                d->refused_window_usec = now;
                d->refused_in_window = 0;
        }
        if (d->refused_in_window >= FAULT_SIGNALS_PER_SEC) {
                d->refused_suppressed++;
                return;
        }
        d->refused_in_window++;
        sd_bus_emit_signal(d->bus, IOMMUD_PATH, IOMMUD_MANAGER_INTERFACE, "FaultRefused", "stsu", ev->name,
                           ev->id, client_bus_name(core_find_client(d->core, ev->client)),
                           d->refused_suppressed);
        d->refused_suppressed = 0;
}

static void on_memory_removed(Daemon *d, const CoreEvent *ev) {
        _cleanup_(freep) char *path = NULL;
        bool region = ev->kind == CORE_EVENT_REGION_REMOVED;

        if (object_path_for_id(region ? IOMMUD_REGION_PREFIX : IOMMUD_SPACE_PREFIX, ev->id, &path) >= 0)
                emit_removed(d, path, region ? IOMMUD_REGION_INTERFACE : IOMMUD_SPACE_INTERFACE);
}

void daemon_on_core_event(void *userdata, const CoreEvent *ev) {
        Daemon *d = userdata;

        switch (ev->kind) {
        case CORE_EVENT_REGION_REMOVED:
        case CORE_EVENT_SPACE_REMOVED:
                on_memory_removed(d, ev);
                break;
        case CORE_EVENT_GROUP_ADDED:
        case CORE_EVENT_GROUP_REMOVED:
                on_group_lifetime(d, ev);
                break;
        case CORE_EVENT_GROUP_CHANGED:
                on_group_changed(d, ev);
                break;
        case CORE_EVENT_DEVICE_ADDED:
        case CORE_EVENT_DEVICE_REMOVED:
        case CORE_EVENT_DEVICE_CHANGED:
                on_device(d, ev);
                break;
        case CORE_EVENT_BOND_CHANGED:
        case CORE_EVENT_BOND_REMOVED:
                on_bond(d, ev);
                break;
        case CORE_EVENT_FAULT_REFUSED:
                on_fault_refused(d, ev);
                break;
        case _CORE_EVENT_MAX:
                break;
        }
}
