/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bond.c - SVA bonds: refcounted device <-> client links, stale when revoked (L3) */
#include <errno.h>
#include <limits.h>

#include "common/alloc.h"
#include "bond.h"
#include "client.h"
#include "device.h"
#include "domain.h"
#include "group.h"

const char *bond_state_to_string(const Bond *b) {
        return b->stale ? "stale" : "active";
}

Bond *client_find_bond(Client *client, uint64_t bond_id) {
        return hashmap_find_entry(Bond, b, &client->core->bonds_by_id, id_node, hash_u64(bond_id),
                                  b->id == bond_id && b->client == client);
}

static Bond *client_find_active_bond(Client *client, Device *d) {
        return list_find_entry(Bond, b, &client->bonds, client_link, b->device == d && !b->stale);
}

static void bond_emit(Bond *b, CoreEventKind kind) {
        Client *cl = b->client;
        uint32_t group = b->device ? b->device->group->id : 0;

        core_emit(cl->core, kind, group, b->id, cl->id, b->device_name);
}

/* Checks that don't change anything; returns the client's PASID for d. */
static int bond_check(Client *client, Device *d, uint32_t *ret_pasid) {
        uint32_t pasid;
        int r;

        if (client->ended)
                return -ESHUTDOWN;
        if (d->group->owner != client)
                return -EPERM;
        if (!device_has_pasids(d))
                return -EOPNOTSUPP;     /* no capability, or its IOMMU gives it no PASIDs */
        /* Allocated now and kept even if the bind fails: it is the
         * client's for life (L7). It is to fit d and the narrowest device
         * the client may bind. */
        r = client_get_pasid_for(client, d->max_pasids, &pasid);
        if (r < 0)
                return r;
        if (pasid >= d->max_pasids)
                return -EOVERFLOW;
        if (device_find_slot(d, pasid))
                return -EBUSY;
        *ret_pasid = pasid;
        return 0;
}

/* The steps that can fail, in order; undone in reverse by bond_free(). */
static int bond_setup(Bond *b, Device *d) {
        int r;

        r = sva_domain_get(b->client, d->iommu, &b->domain);
        if (r < 0)
                return r;
        /* A device without PRI cannot fault pages in: pin the regions. */
        if (!d->pri_capable) {
                r = sva_domain_pin(b->domain);
                if (r < 0)
                        return r;
        }
        return slot_take(&b->slot, SLOT_SVA, d, b->pasid, &b->domain->io);
}

int bond_bind(Client *client, Device *d, Bond **ret) {
        Bond *b;
        uint32_t pasid;
        int r;

        b = client_find_active_bond(client, d);
        if (b) {
                if (b->users == UINT_MAX)
                        return -EOVERFLOW;
                b->users++;
                bond_emit(b, CORE_EVENT_BOND_CHANGED);
                *ret = b;
                return 0;
        }

        r = bond_check(client, d, &pasid);
        if (r < 0)
                return r;
        r = client_charge(client, RES_BONDS, 1);
        if (r < 0)
                return r;

        b = xzalloc(sizeof(*b));
        if (!b) {
                client_uncharge(client, RES_BONDS, 1);
                return -ENOMEM;
        }
        b->client = client;
        b->pasid = pasid;
        b->users = 1;
        slot_init(&b->slot);
        list_init(&b->client_link);
        list_init(&b->unbind.link);
        b->unbind.kind = DEFER_BOND_UNBIND;
        b->device_name = xstrdup(d->name);
        r = b->device_name ? bond_setup(b, d) : -ENOMEM;
        if (r < 0) {
                bond_free(b);
                return r;
        }

        b->device = d;
        b->id = core_next_id(client->core);
        list_add_tail(&client->bonds, &b->client_link);
        hashmap_put(&client->core->bonds_by_id, &b->id_node, hash_u64(b->id));
        bond_emit(b, CORE_EVENT_BOND_ADDED);
        bond_emit(b, CORE_EVENT_BOND_CHANGED);
        *ret = b;
        return 0;
}

/* Stops DMA through the bond and drops its domain: L2 order. */
static void bond_detach(Bond *b) {
        slot_release(&b->slot);
        if (b->domain)
                sva_domain_put(TAKE_PTR(b->domain));
        b->device = NULL;
}

void bond_make_stale(Bond *b) {
        if (b->stale)
                return;                 /* L1 */
        bond_detach(b);
        b->stale = true;
        bond_emit(b, CORE_EVENT_BOND_CHANGED);
}

/* Frees b whatever its state, including half-built by bond_bind(). */
Bond *bond_free(Bond *b) {
        bool announced;

        if (!b)
                return NULL;
        /* Only a bond that bond_bind() handed out is on the client's list. */
        announced = list_linked(&b->client_link);
        bond_detach(b);
        list_del_init(&b->unbind.link);
        if (announced) {
                list_del_init(&b->client_link);
                hashmap_remove(&b->client->core->bonds_by_id, &b->id_node);
                bond_emit(b, CORE_EVENT_BOND_REMOVED);
        }
        client_uncharge(b->client, RES_BONDS, 1);
        free(b->device_name);
        free(b);
        return NULL;
}

int bond_unbind(Client *client, uint64_t bond_id) {
        Bond *b = client_find_bond(client, bond_id);

        if (!b || b->deferred_unbinds >= b->users)
                return -ENOENT;
        if (core_in_callback(client->core)) {
                b->deferred_unbinds++;
                core_defer(client->core, &b->unbind);
                return 0;
        }
        if (--b->users > 0) {
                bond_emit(b, CORE_EVENT_BOND_CHANGED);
                return 0;
        }
        bond_free(b);
        return 0;
}
