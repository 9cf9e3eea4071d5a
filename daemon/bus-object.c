/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bus-object.c - what the object interfaces share: the daemon, owner checks, paths, finders */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/core/client.h"
#include "daemon/core/domain.h"
#include "daemon.h"

/* Every vtable of ours is registered with the Daemon as its slot's userdata
 * (bus_add_objects() and the Manager's and Simulator's registration). */
Daemon *bus_daemon(sd_bus_message *m) {
        return sd_bus_slot_get_userdata(sd_bus_get_current_slot(sd_bus_message_get_bus(m)));
}

int bus_find_group(Daemon *d, uint32_t id, Group **ret, sd_bus_error *error) {
        Group *g = core_find_group(d->core, id);

        if (!g)
                return bus_error_set(error, -ENXIO, "There is no group %u; 'iommuctl groups' lists them.", id);
        *ret = g;
        return 0;
}

int bus_check_owner(sd_bus_message *m, const Client *owner, const char *kind, uint64_t id, const char *verb,
                    BusClient **ret, sd_bus_error *error) {
        BusClient *bc = bus_client_find(bus_daemon(m), sd_bus_message_get_sender(m));

        if (!bc || bc->client != owner)
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "%s %" PRIu64 " belongs to client %s (uid %u); only that client may "
                                         "%s it. Ask it to, or wait until it exits: what a client holds is "
                                         "released with it.", kind, id, owner->name, (unsigned)owner->uid, verb);
        if (ret)
                *ret = bc;
        return 0;
}

int object_path_for_id(const char *prefix, uint64_t id, char **ret) {
        return asprintf(ret, "%s/%" PRIu64, prefix, id) < 0 ? -ENOMEM : 0;
}

/* Parses the trailing number of prefix/N; false if path is not one. */
bool object_path_id(const char *path, const char *prefix, uint64_t *ret) {
        size_t n = strlen(prefix);
        char *end;

        if (strncmp(path, prefix, n) != 0 || path[n] != '/' || path[n + 1] < '0' || path[n + 1] > '9')
                return false;
        errno = 0;
        *ret = strtoull(path + n + 1, &end, 10);
        return errno == 0 && *end == 0;
}

/* What the IOVAs in gap are, as far as the ranges tell. */
static const char *gap_kind(const IovaRange *gap) {
        if (gap->last == UINT64_MAX)
                return "beyond the IOMMU's aperture";
        if (gap->start == 0)
                return "below the IOMMU's aperture";
        if (gap->start == 0xfee00000 && gap->last == 0xfeefffff)
                return "the MSI window, which the IOMMU reserves for interrupts";
        return "a range the IOMMU reserves for a device attached there";
}

int bus_error_iovas(sd_bus_error *error, const IoDomain *dom, uint64_t iova, uint64_t length, const char *next) {
        IovaRange gap;

        if (!dom || iodomain_check_iovas(dom, iova, length, &gap) >= 0)
                return 0;
        return bus_error_set(error, -EINVAL, "IOVA 0x%" PRIx64 "+0x%" PRIx64 " is outside the IOVAs the IOMMU "
                             "allows there: 0x%" PRIx64 "-0x%" PRIx64 " is %s; %s.",
                             iova, length, gap.start, gap.last, gap_kind(&gap), next);
}

int bus_property_get_bool(sd_bus *bus, const char *path, const char *interface, const char *property,
                          sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        int b = *(const bool *)userdata;

        return sd_bus_message_append_basic(reply, 'b', &b);
}

int bus_property_get_owner(sd_bus *bus, const char *path, const char *interface, const char *property,
                           sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", client_bus_name(*(Client **)userdata));
}

static ListNode *client_list(const ClientObjects *k, Client *cl) {
        return (ListNode *)((char *)cl + k->list);
}

static uint64_t client_object_id(const ClientObjects *k, const ListNode *link) {
        return *(const uint64_t *)((const char *)link - k->link + k->id);
}

/* The object with this id, whichever client owns it, or NULL: one look in
 * the core's index of that kind, not a walk over every client's objects. */
static void *client_object(Daemon *d, const ClientObjects *k, uint64_t id) {
        HashMap *m = (HashMap *)((char *)d->core + k->index);
        uint64_t hash = hash_u64(id);

        for (HashNode *n = *hashmap_bucket(m, hash); n; n = n->next) {
                char *o = (char *)n - k->node;

                m->probes++;
                if (n->hash == hash && *(const uint64_t *)(o + k->id) == id)
                        return o;
        }
        return NULL;
}

int bus_find_client_object(Daemon *d, const ClientObjects *k, const char *path, void **found) {
        uint64_t id;
        void *o;

        if (!object_path_id(path, k->prefix, &id))
                return 0;
        o = client_object(d, k, id);
        if (!o)
                return 0;
        *found = o;
        return 1;
}

int bus_enumerate_client_objects(Daemon *d, const ClientObjects *k, char ***nodes) {
        _cleanup_(strv_freep) char **v = NULL;
        Client *cl;
        int r;

        list_for_each_entry(cl, &d->core->clients, core_link) {
                ListNode *head = client_list(k, cl);

                for (ListNode *i = head->next; i != head; i = i->next) {
                        char *p;

                        r = object_path_for_id(k->prefix, client_object_id(k, i), &p);
                        if (r >= 0)
                                r = strv_consume(&v, p);
                        if (r < 0)
                                return r;
                }
        }
        *nodes = TAKE_PTR(v);
        return 0;
}

int bus_add_objects(Daemon *d, const char *prefix, const char *interface, const sd_bus_vtable *vtable,
                    sd_bus_object_find_t find, sd_bus_node_enumerator_t enumerate) {
        int r;

        r = sd_bus_add_fallback_vtable(d->bus, NULL, prefix, interface, vtable, find, d);
        if (r < 0)
                return r;
        return sd_bus_add_node_enumerator(d->bus, NULL, prefix, enumerate, d);
}
