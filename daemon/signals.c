/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* signals.c - the model's events as D-Bus signals */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/core/bond.h"
#include "daemon/core/client.h"
#include "daemon/core/device.h"
#include "daemon/core/group.h"
#include "daemon/core/region.h"
#include "daemon/core/space.h"
#include "daemon.h"

/*
 * Called by core_dispatch() from the event loop's post source, after the
 * change: the object an event names may be gone by now, so each handler
 * looks it up again and says what is true at this moment. Every object's
 * InterfacesAdded and InterfacesRemoved goes out from here, and only here.
 */

/* The object an event names: *ret_path (owned by the caller) and
 * *ret_interface; > 0 if it still exists, 0 if not. */
static int event_object(Daemon *d, const CoreEvent *ev, char **ret_path, const char **ret_interface) {
        Client *cl = core_find_client(d->core, ev->client);
        bool exists;
        int r;

        switch (ev->kind) {
        case CORE_EVENT_GROUP_ADDED:
        case CORE_EVENT_GROUP_REMOVED:
                *ret_interface = IOMMUD_GROUP_INTERFACE;
                exists = core_find_group(d->core, ev->group);
                r = object_path_for_id(IOMMUD_GROUP_PREFIX, ev->group, ret_path);
                break;
        case CORE_EVENT_DEVICE_ADDED:
        case CORE_EVENT_DEVICE_REMOVED:
                *ret_interface = IOMMUD_DEVICE_INTERFACE;
                exists = core_find_device(d->core, ev->name);
                r = device_object_path(ev->name, ret_path);
                break;
        case CORE_EVENT_BOND_ADDED:
        case CORE_EVENT_BOND_CHANGED:
        case CORE_EVENT_BOND_REMOVED:
                *ret_interface = IOMMUD_BOND_INTERFACE;
                exists = cl && client_find_bond(cl, ev->id);
                r = object_path_for_id(IOMMUD_BOND_PREFIX, ev->id, ret_path);
                break;
        case CORE_EVENT_REGION_ADDED:
        case CORE_EVENT_REGION_REMOVED:
                *ret_interface = IOMMUD_REGION_INTERFACE;
                exists = cl && client_find_region(cl, ev->id);
                r = object_path_for_id(IOMMUD_REGION_PREFIX, ev->id, ret_path);
                break;
        case CORE_EVENT_SPACE_ADDED:
        case CORE_EVENT_SPACE_REMOVED:
                *ret_interface = IOMMUD_SPACE_INTERFACE;
                exists = cl && client_find_space(cl, ev->id);
                r = object_path_for_id(IOMMUD_SPACE_PREFIX, ev->id, ret_path);
                break;
        default:
                return -EINVAL;
        }
        return r < 0 ? r : exists;
}

/* InterfacesAdded, if the object is still there. */
static void on_added(Daemon *d, const CoreEvent *ev) {
        _cleanup_(freep) char *path = NULL;
        const char *interface;

        if (event_object(d, ev, &path, &interface) > 0)
                sd_bus_emit_object_added(d->bus, path);
}

static void on_removed(Daemon *d, const CoreEvent *ev) {
        _cleanup_(freep) char *path = NULL;
        const char *interface;

        /* The object no longer exists, so sd_bus_emit_object_removed() could
         * not find its interfaces; say which one went ourselves. */
        if (event_object(d, ev, &path, &interface) >= 0)
                sd_bus_emit_signal(d->bus, IOMMUD_PATH, "org.freedesktop.DBus.ObjectManager",
                                   "InterfacesRemoved", "oas", path, 1, interface);
}

static void on_group_changed(Daemon *d, const CoreEvent *ev) {
        _cleanup_(freep) char *path = NULL;
        Group *g = core_find_group(d->core, ev->group);

        sd_bus_emit_signal(d->bus, IOMMUD_PATH, IOMMUD_MANAGER_INTERFACE, "GroupChanged", "uss", ev->group,
                           g ? ownership_to_string(group_ownership(g)) : "none",
                           g ? client_bus_name(g->owner) : "");
        if (g && object_path_for_id(IOMMUD_GROUP_PREFIX, g->id, &path) >= 0)
                sd_bus_emit_properties_changed(d->bus, path, IOMMUD_GROUP_INTERFACE, "Ownership", "Owner",
                                               "OwnerUid", "Devices", "Transit", "Holders", "Override", NULL);
}

static void on_device_added(Daemon *d, const CoreEvent *ev) {
        sd_bus_emit_signal(d->bus, IOMMUD_PATH, IOMMUD_MANAGER_INTERFACE, "DeviceAdded", "s", ev->name);
        on_added(d, ev);
}

static void on_device_removed(Daemon *d, const CoreEvent *ev) {
        _cleanup_(freep) char *gpath = NULL;

        sd_bus_emit_signal(d->bus, IOMMUD_PATH, IOMMUD_MANAGER_INTERFACE, "DeviceRemoved", "s", ev->name);
        on_removed(d, ev);
        if (core_find_group(d->core, ev->group) &&
            object_path_for_id(IOMMUD_GROUP_PREFIX, ev->group, &gpath) >= 0)
                sd_bus_emit_properties_changed(d->bus, gpath, IOMMUD_GROUP_INTERFACE, "Devices", NULL);
}

static void on_device_changed(Daemon *d, const CoreEvent *ev) {
        _cleanup_(freep) char *path = NULL;

        if (core_find_device(d->core, ev->name) && device_object_path(ev->name, &path) >= 0)
                sd_bus_emit_properties_changed(d->bus, path, IOMMUD_DEVICE_INTERFACE, "Driver", "MaxPasids",
                                               "IommuInfoKnown", "IommuPasidWidth", "IommuCapabilities", "HandedTo",
                                               NULL);
}

static void on_bond_changed(Daemon *d, const CoreEvent *ev) {
        _cleanup_(freep) char *path = NULL;
        const char *interface;

        if (event_object(d, ev, &path, &interface) > 0)
                sd_bus_emit_properties_changed(d->bus, path, interface, "State", "Users", NULL);
}

/*
 * At most FAULT_SIGNALS_PER_SEC FaultRefused signals a second: a device
 * hammering a bad address must not flood the bus. The next signal that goes
 * out says how many were held back.
 */
#define FAULT_SIGNALS_PER_SEC 10

/* The journal's record of a refused page request, rate-limited per client
 * (audit.h), whatever the signal's limit let through. */
static void audit_refused(Daemon *d, const CoreEvent *ev, uint64_t now) {
        Client *cl = core_find_client(d->core, ev->client);
        BusClient *bc = cl ? bus_client_find(d, cl->name) : NULL;

        if (bc)
                audit_fault_refused(&bc->id, &bc->fault_audit, now, ev->name, ev->group, ev->id);
        else
                audit_fault_refused(NULL, &d->orphan_fault_audit, now, ev->name, ev->group, ev->id);
}

static void on_fault_refused(Daemon *d, const CoreEvent *ev) {
        uint64_t now = 0;

        (void)sd_event_now(d->event, CLOCK_MONOTONIC, &now);
        audit_refused(d, ev, now);
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

/* The object a Revoked signal names: a path, "pasid/N" for the PASID
 * (which has no object), "" for a whole connection. */
static int revoked_object(const CoreEvent *ev, char **ret) {
        switch (ev->revoked) {
        case REVOKED_GROUP:
                return object_path_for_id(IOMMUD_GROUP_PREFIX, ev->group, ret);
        case REVOKED_BOND:
                return object_path_for_id(IOMMUD_BOND_PREFIX, ev->id, ret);
        case REVOKED_SPACE:
                return object_path_for_id(IOMMUD_SPACE_PREFIX, ev->id, ret);
        case REVOKED_REGION:
                return object_path_for_id(IOMMUD_REGION_PREFIX, ev->id, ret);
        case REVOKED_PASID:
                return asprintf(ret, "pasid/%" PRIu64, ev->id) < 0 ? -ENOMEM : 0;
        case REVOKED_CLIENT:
                *ret = strdup("");
                return *ret ? 0 : -ENOMEM;
        }
        return -EINVAL;
}

/* Tells the owner (and the log) what a policy reload took from it, and why. */
static void on_revoked(Daemon *d, const CoreEvent *ev) {
        _cleanup_(freep) char *object = NULL;
        Client *cl = core_find_client(d->core, ev->client);
        BusClient *bc;

        if (revoked_object(ev, &object) < 0)
                return;
        bc = bus_client_find(d, ev->name);
        if (bc)
                audit_revoke(&bc->id, object, ev->revoked == REVOKED_GROUP ? ev->group : 0, ev->reason);
        else
                log_notice("revoked from %s%s%s: %s", ev->name, *object ? ", " : "", object, ev->reason);
        sd_bus_emit_signal(d->bus, IOMMUD_PATH, IOMMUD_MANAGER_INTERFACE, "Revoked", "sss", ev->name, object,
                           ev->reason);
        /* An emptied space stays: say that its contents changed. */
        if (ev->revoked == REVOKED_SPACE && cl && client_find_space(cl, ev->id))
                sd_bus_emit_properties_changed(d->bus, object, IOMMUD_SPACE_INTERFACE, "Mappings",
                                               "Attachments", NULL);
}

static void (*const event_handlers[_CORE_EVENT_MAX])(Daemon *d, const CoreEvent *ev) = {
        [CORE_EVENT_GROUP_ADDED] = on_added,
        [CORE_EVENT_GROUP_CHANGED] = on_group_changed,
        [CORE_EVENT_GROUP_CLAIMED] = bus_claim_answered,
        [CORE_EVENT_GROUP_REMOVED] = on_removed,
        [CORE_EVENT_DEVICE_ADDED] = on_device_added,
        [CORE_EVENT_DEVICE_REMOVED] = on_device_removed,
        [CORE_EVENT_DEVICE_CHANGED] = on_device_changed,
        [CORE_EVENT_BOND_ADDED] = on_added,
        [CORE_EVENT_BOND_CHANGED] = on_bond_changed,
        [CORE_EVENT_BOND_REMOVED] = on_removed,
        [CORE_EVENT_FAULT_REFUSED] = on_fault_refused,
        [CORE_EVENT_REGION_ADDED] = on_added,
        [CORE_EVENT_REGION_REMOVED] = on_removed,
        [CORE_EVENT_SPACE_ADDED] = on_added,
        [CORE_EVENT_SPACE_REMOVED] = on_removed,
        [CORE_EVENT_REVOKED] = on_revoked,
        [CORE_EVENT_OVERRIDE_SET] = bus_override_answered,
        [CORE_EVENT_OVERRIDE_REMOVED] = bus_override_answered,
};

void daemon_on_core_event(void *userdata, const CoreEvent *ev) {
        if ((unsigned)ev->kind < ELEMENTSOF(event_handlers) && event_handlers[ev->kind])
                event_handlers[ev->kind](userdata, ev);
}
