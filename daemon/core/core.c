/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* core.c - the model's root: object registry, event queue and deferred teardown */
#include <errno.h>
#include <string.h>

#include "common/alloc.h"
#include "bond.h"
#include "client.h"
#include "core.h"
#include "domain.h"
#include "device.h"
#include "fault.h"
#include "group.h"
#include "pasid.h"
#include "space.h"

#define DEFAULT_FAULT_TIMEOUT_USEC (2ull * 1000 * 1000)

const char *ownership_to_string(Ownership o) {
        static const char *const names[] = {
                [OWNERSHIP_NONE] = "none",
                [OWNERSHIP_DMA_API] = "dma-api",
                [OWNERSHIP_USER] = "user",
                [OWNERSHIP_MACHINE] = "machine",
        };
        return (unsigned)o < ELEMENTSOF(names) ? names[o] : "unknown";
}

const char *resource_to_string(Resource r) {
        static const char *const names[] = {
                [RES_PASIDS] = "pasids",
                [RES_BONDS] = "bonds",
                [RES_REGIONS] = "regions",
                [RES_SPACES] = "spaces",
                [RES_PENDING_FAULTS] = "pending-faults",
                [RES_GROUPS] = "groups",
                [RES_BYTES] = "bytes",
                [RES_MAPPINGS] = "mappings",
                [RES_CONNECTIONS] = "connections",
                [RES_OPEN_DEVICES] = "open-devices",
        };
        return (unsigned)r < ELEMENTSOF(names) ? names[r] : "unknown";
}

int core_new(Core **ret, const BackendOps *ops, void *backend_data) {
        _cleanup_(core_freep) Core *c = NULL;
        int r;

        c = xzalloc(sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->ops = ops;
        c->backend_data = backend_data;
        list_init(&c->iommus);
        list_init(&c->groups);
        list_init(&c->devices);
        list_init(&c->clients);
        list_init(&c->users);
        list_init(&c->events);
        list_init(&c->deferred);
        c->next_id = 1;
        c->default_fault_timeout_usec = DEFAULT_FAULT_TIMEOUT_USEC;

        r = pasid_pool_new(&c->pasids);
        if (r < 0)
                return r;
        r = fault_table_new(&c->faults);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(c);
        return 0;
}

/*
 * Tears everything down in the same order the daemon would at shutdown:
 * clients first (which stops their DMA and releases their groups), then the
 * topology. Accepts a half-built core from core_new().
 */
/* Every object has left its index by now; only the bucket arrays are left. */
static void core_clear_indexes(Core *c) {
        HashMap *maps[] = { &c->iommus_by_name, &c->groups_by_id, &c->devices_by_name, &c->clients_by_id,
                            &c->users_by_uid, &c->bonds_by_id, &c->regions_by_id, &c->spaces_by_id,
                            &c->slots_by_key };

        for (size_t i = 0; i < ELEMENTSOF(maps); i++)
                hashmap_clear(maps[i]);
}

Core *core_free(Core *c) {
        Client *cl, *cl_tmp;
        Device *d, *d_tmp;
        Group *g, *g_tmp;
        Iommu *i, *i_tmp;
        CoreEvent *ev, *ev_tmp;

        if (!c)
                return NULL;

        /* No callback can be running now: teardown must not be deferred. */
        c->dispatch_depth = 0;
        list_for_each_entry_safe(cl, cl_tmp, &c->clients, core_link)
                client_release(c, cl->id);
        list_for_each_entry_safe(d, d_tmp, &c->devices, core_link)
                device_free(d);
        list_for_each_entry_safe(g, g_tmp, &c->groups, core_link)
                group_free(g);
        list_for_each_entry_safe(i, i_tmp, &c->iommus, core_link)
                iommu_free(i);
        list_for_each_entry_safe(ev, ev_tmp, &c->events, link)
                free(ev);
        core_clear_indexes(c);
        pasid_widths_clear(&c->pasid_widths);

        fault_table_free(c->faults);
        pasid_pool_free(c->pasids);
        mapping_spares_free(c);
        free(c);
        return NULL;
}

void core_set_listener(Core *c, CoreEventFn fn, void *userdata) {
        c->listener = fn;
        c->listener_data = userdata;
}

uint64_t core_next_id(Core *c) {
        return c->next_id++;
}

/* One allocation holds the event, its name and its reason. */
static CoreEvent *event_new(Core *c, CoreEventKind kind, uint32_t group, uint64_t id, uint64_t client,
                            const char *name, const char *reason) {
        size_t len = name ? strlen(name) : 0, rlen = reason ? strlen(reason) : 0;
        CoreEvent *ev;

        ev = xmalloc(sizeof(*ev) + len + 1 + rlen + 1);
        if (!ev) {
                c->events_lost++;
                return NULL;
        }
        *ev = (CoreEvent) { .kind = kind, .group = group, .id = id, .client = client };
        memcpy(ev->name, name ? name : "", len + 1);
        memcpy(ev->name + len + 1, reason ? reason : "", rlen + 1);
        ev->reason = ev->name + len + 1;
        list_add_tail(&c->events, &ev->link);
        return ev;
}

void core_emit(Core *c, CoreEventKind kind, uint32_t group, uint64_t id,
               uint64_t client, const char *name) {
        event_new(c, kind, group, id, client, name, NULL);
}

void core_emit_revoked(Core *c, RevokedKind what, uint32_t group, uint64_t id, const Client *cl,
                       const char *reason) {
        CoreEvent *ev = event_new(c, CORE_EVENT_REVOKED, group, id, cl->id, cl->name, reason);

        if (ev)
                ev->revoked = what;
}

void core_emit_result(Core *c, CoreEventKind kind, uint32_t group, uint64_t client, int result,
                      const char *reason) {
        CoreEvent *ev = event_new(c, kind, group, 0, client, NULL, reason);

        if (ev)
                ev->result = result;
}

void core_defer(Core *c, DeferNode *node) {
        if (!list_linked(&node->link))
                list_add_tail(&c->deferred, &node->link);
}

/* Runs one deferred teardown; the node is unlinked first, as the teardown
 * may free the object that embeds it. */
static void run_deferred_one(Core *c, DeferNode *node) {
        list_del_init(&node->link);

        switch (node->kind) {
        case DEFER_CLIENT_RELEASE: {
                Client *cl = container_of(node, Client, release);
                client_release(c, cl->id);
                break;
        }
        case DEFER_BOND_UNBIND: {
                Bond *b = container_of(node, Bond, unbind);
                Client *cl = b->client;
                uint64_t id = b->id;
                unsigned n = b->deferred_unbinds;

                b->deferred_unbinds = 0;
                /* Each unbind may free b; look it up again every time. */
                while (n-- > 0)
                        bond_unbind(cl, id);
                break;
        }
        case DEFER_GROUP_RELEASE: {
                Group *g = container_of(node, Group, release);
                group_revoke(g);
                break;
        }
        case DEFER_DEVICE_UNPLUG: {
                Device *d = container_of(node, Device, unplug);
                device_unplug(c, d->name);
                break;
        }
        case DEFER_SPACE_FREE: {
                Space *s = container_of(node, Space, free_node);
                space_free(s);
                break;
        }
        }
}

bool core_pending(const Core *c) {
        return !list_empty(&c->events) || !list_empty(&c->deferred);
}

unsigned core_dispatch(Core *c) {
        unsigned delivered = 0;

        /* Re-entered from a listener: the outer loop will get to it. */
        if (core_in_callback(c))
                return 0;

        while (core_pending(c)) {
                while (!list_empty(&c->deferred))
                        run_deferred_one(c, list_entry(c->deferred.next, DeferNode, link));

                while (!list_empty(&c->events)) {
                        CoreEvent *ev = list_entry(c->events.next, CoreEvent, link);

                        list_del_init(&ev->link);
                        if (c->listener) {
                                c->dispatch_depth++;
                                c->listener(c->listener_data, ev);
                                c->dispatch_depth--;
                        }
                        free(ev);
                        delivered++;
                }
        }
        return delivered;
}

Iommu *core_find_iommu(Core *c, const char *name) {
        return hashmap_find_entry(Iommu, i, &c->iommus_by_name, name_node, hash_string(name),
                                  strcmp(i->name, name) == 0);
}

Group *core_find_group(Core *c, uint32_t id) {
        return hashmap_find_entry(Group, g, &c->groups_by_id, id_node, hash_u64(id), g->id == id);
}

Device *core_find_device(Core *c, const char *name) {
        return hashmap_find_entry(Device, d, &c->devices_by_name, name_node, hash_string(name),
                                  strcmp(d->name, name) == 0);
}

Client *core_find_client(Core *c, uint64_t id) {
        return hashmap_find_entry(Client, cl, &c->clients_by_id, id_node, hash_u64(id), cl->id == id);
}

uint32_t core_min_pasid_width(Core *c) {
        return pasid_widths_min(&c->pasid_widths, 1);
}

uint32_t core_min_pasid_width_where(Core *c, bool (*allowed)(const Device *d, void *userdata), void *userdata) {
        uint32_t width = 0;
        Device *d;

        list_for_each_entry(d, &c->devices, core_link) {
                c->device_walks++;
                /* 0: its IOMMU gives it no PASIDs; it has none to fit. */
                if (d->pasid_capable && d->max_pasids > 0 && (width == 0 || d->max_pasids < width) &&
                    allowed(d, userdata))
                        width = d->max_pasids;
        }
        return width;
}
