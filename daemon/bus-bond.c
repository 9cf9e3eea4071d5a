/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bus-bond.c - org.iommud1.Bond objects at /org/iommud1/bond/N */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "daemon/core/bond.h"
#include "daemon/core/client.h"
#include "daemon.h"

int bond_object_path(uint64_t id, char **ret) {
        return asprintf(ret, IOMMUD_BOND_PREFIX "/%" PRIu64, id) < 0 ? -ENOMEM : 0;
}

Bond *daemon_find_bond(Daemon *d, uint64_t id) {
        Client *cl;
        Bond *b;

        list_for_each_entry(cl, &d->core->clients, core_link) {
                b = client_find_bond(cl, id);
                if (b)
                        return b;
        }
        return NULL;
}

static int bond_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                     void **found, sd_bus_error *error) {
        Daemon *d = userdata;
        uint64_t id;
        Bond *b;

        if (!object_path_id(path, IOMMUD_BOND_PREFIX, &id))
                return 0;
        b = daemon_find_bond(d, id);
        if (!b)
                return 0;
        *found = b;
        return 1;
}

static int bond_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes,
                          sd_bus_error *error) {
        _cleanup_(strv_freep) char **v = NULL;
        Daemon *d = userdata;
        Client *cl;
        Bond *b;
        int r;

        list_for_each_entry(cl, &d->core->clients, core_link)
                list_for_each_entry(b, &cl->bonds, client_link) {
                        char *p;

                        r = bond_object_path(b->id, &p);
                        if (r >= 0)
                                r = strv_consume(&v, p);
                        if (r < 0)
                                return r;
                }
        *nodes = TAKE_PTR(v);
        return 0;
}

#define BOND_GETTER(fn, sig, expr)                                                              \
        static int fn(sd_bus *bus, const char *path, const char *interface, const char *property, \
                      sd_bus_message *reply, void *userdata, sd_bus_error *error) {              \
                Bond *b = userdata;                                                             \
                return sd_bus_message_append(reply, sig, expr);                                 \
        }

BOND_GETTER(property_device, "s", b->device_name)
BOND_GETTER(property_pasid, "u", b->pasid)
BOND_GETTER(property_state, "s", bond_state_to_string(b))
BOND_GETTER(property_users, "u", b->users)
BOND_GETTER(property_owner, "s", b->client->name)

static int method_unbind(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Bond *b = userdata;
        Daemon *d = sd_bus_slot_get_userdata(sd_bus_get_current_slot(sd_bus_message_get_bus(m)));
        BusClient *bc = bus_client_find(d, sd_bus_message_get_sender(m));
        int r;

        if (!bc || bc->client != b->client)
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "Bond %" PRIu64 " on %s belongs to client %s; only it can unbind.",
                                         b->id, b->device_name, b->client->name);
        r = bond_unbind(b->client, b->id);
        if (r < 0)
                return bus_error_set(error, r, "Bond %" PRIu64 " has no binds left to undo.", b->id);
        return sd_bus_reply_method_return(m, NULL);
}

static const sd_bus_vtable bond_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Device", "s", property_device, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Pasid", "u", property_pasid, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("State", "s", property_state, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Users", "u", property_users, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Owner", "s", property_owner, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_METHOD("Unbind", "", "", method_unbind, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

int bus_bond_register(Daemon *d) {
        int r;

        r = sd_bus_add_fallback_vtable(d->bus, NULL, IOMMUD_BOND_PREFIX, IOMMUD_BOND_INTERFACE,
                                       bond_vtable, bond_find, d);
        if (r < 0)
                return r;
        return sd_bus_add_node_enumerator(d->bus, NULL, IOMMUD_BOND_PREFIX, bond_enumerate, d);
}
