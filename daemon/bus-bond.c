/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bus-bond.c - org.iommud1.Bond objects at /org/iommud1/bond/N */
#include <inttypes.h>

#include "daemon/core/bond.h"
#include "daemon/core/client.h"
#include "daemon.h"

/* The vtable's userdata is the Bond (owned by its client, core/bond.h). */
static const ClientObjects bonds = CLIENT_OBJECTS(IOMMUD_BOND_PREFIX, Bond, bonds, bonds_by_id);

static int bond_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                     void **found, sd_bus_error *error) {
        return bus_find_client_object(userdata, &bonds, path, found);
}

static int bond_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes,
                          sd_bus_error *error) {
        return bus_enumerate_client_objects(userdata, &bonds, nodes);
}

static int property_state(sd_bus *bus, const char *path, const char *interface, const char *property,
                          sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", bond_state_to_string(userdata));
}

static int method_unbind(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Bond *b = userdata;
        int r;

        r = bus_check_owner(m, b->client, "Bond", b->id, "unbind", NULL, error);
        if (r < 0)
                return r;
        r = bond_unbind(b->client, b->id);
        if (r < 0)
                return bus_error_set(error, r, "Bond %" PRIu64 " has no binds left to undo.", b->id);
        return sd_bus_reply_method_return(m, NULL);
}

_Static_assert(sizeof(((Bond *)NULL)->users) == sizeof(uint32_t), "Users is a \"u\"");

const sd_bus_vtable bond_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Device", "s", NULL, offsetof(Bond, device_name), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Pasid", "u", NULL, offsetof(Bond, pasid), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("State", "s", property_state, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Users", "u", NULL, offsetof(Bond, users), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Owner", "s", bus_property_get_owner, offsetof(Bond, client),
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_METHOD("Unbind", "", "", method_unbind, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

int bus_bond_register(Daemon *d) {
        return bus_add_objects(d, IOMMUD_BOND_PREFIX, IOMMUD_BOND_INTERFACE, bond_vtable, bond_find,
                               bond_enumerate);
}
