/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bus-group.c - org.iommud1.Group objects at /org/iommud1/group/N */
#include <stdint.h>

#include "daemon/core/client.h"
#include "daemon/core/device.h"
#include "daemon/core/group.h"
#include "daemon.h"

/* The vtable's userdata is the Group (owned by the core, core/group.h). */
static int group_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                      void **found, sd_bus_error *error) {
        Daemon *d = userdata;
        uint64_t id;
        Group *g;

        if (!object_path_id(path, IOMMUD_GROUP_PREFIX, &id) || id > UINT32_MAX)
                return 0;
        g = core_find_group(d->core, (uint32_t)id);
        if (!g)
                return 0;
        *found = g;
        return 1;
}

static int group_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes,
                           sd_bus_error *error) {
        _cleanup_(strv_freep) char **v = NULL;
        Daemon *d = userdata;
        Group *g;
        int r;

        list_for_each_entry(g, &d->core->groups, core_link) {
                char *p;

                r = object_path_for_id(IOMMUD_GROUP_PREFIX, g->id, &p);
                if (r >= 0)
                        r = strv_consume(&v, p);
                if (r < 0)
                        return r;
        }
        *nodes = TAKE_PTR(v);
        return 0;
}

static int property_ownership(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Group *g = userdata;

        return sd_bus_message_append(reply, "s", ownership_to_string(group_ownership(g)));
}

static int property_owner_uid(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Group *g = userdata;

        return sd_bus_message_append(reply, "u", g->owner ? (uint32_t)g->owner->uid : UINT32_MAX);
}

static int property_transit(sd_bus *bus, const char *path, const char *interface, const char *property,
                            sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Group *g = userdata;

        return sd_bus_message_append(reply, "s", group_transit_to_string(g));
}

static int property_override(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Daemon *d = sd_bus_slot_get_userdata(sd_bus_get_current_slot(bus));

        return sd_bus_message_append(reply, "s", bus_override_of_group(d, userdata));
}

static int property_devices(sd_bus *bus, const char *path, const char *interface, const char *property,
                            sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Group *g = userdata;
        Device *dev;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "s");
        list_for_each_entry(dev, &g->devices, group_link)
                if (r >= 0)
                        r = sd_bus_message_append(reply, "s", dev->name);
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

const sd_bus_vtable group_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Id", "u", NULL, offsetof(Group, id), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Ownership", "s", property_ownership, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Owner", "s", bus_property_get_owner, offsetof(Group, owner),
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("OwnerUid", "u", property_owner_uid, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Devices", "as", property_devices, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Transit", "s", property_transit, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Holders", "a(su)", bus_property_group_holders, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Override", "s", property_override, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD("Revoke", "", "", bus_method_group_revoke, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

int bus_group_register(Daemon *d) {
        return bus_add_objects(d, IOMMUD_GROUP_PREFIX, IOMMUD_GROUP_INTERFACE, group_vtable, group_find,
                               group_enumerate);
}
