/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* client.c - a program using the daemon (the kernel's mm): identity, quotas, teardown */
#include <assert.h>
#include <errno.h>

#include "common/alloc.h"
#include "bond.h"
#include "client.h"
#include "device.h"
#include "domain.h"
#include "group.h"
#include "pasid.h"
#include "region.h"
#include "space.h"
#include "user.h"

Quota quota_unlimited(void) {
        Quota q;

        for (unsigned r = 0; r < _RES_MAX; r++)
                q.limit[r] = UINT64_MAX;
        return q;
}

static Client *client_free(Client *cl) {
        if (!cl)
                return NULL;
        if (cl->user) {
                client_uncharge(cl, RES_CONNECTIONS, cl->used[RES_CONNECTIONS]);
                user_unref(cl->user);
        }
        free(cl->name);
        free(cl);
        return NULL;
}

int client_new(Core *c, const ClientIdentity *id, const Quota *quota, Client **ret) {
        Client *cl;
        int r;

        cl = xzalloc(sizeof(*cl));
        if (!cl)
                return -ENOMEM;
        cl->quota = quota ? *quota : quota_unlimited();
        cl->name = xstrdup(id->name ? id->name : "");
        r = cl->name ? user_ref(c, id->uid, &cl->user) : -ENOMEM;
        /* One more connection of this uid that the daemon holds state for. */
        if (r >= 0)
                r = client_charge(cl, RES_CONNECTIONS, 1);
        if (r < 0) {
                client_free(cl);
                return r;
        }
        cl->core = c;
        cl->id = core_next_id(c);
        cl->uid = id->uid;
        cl->gid = id->gid;
        cl->pid = id->pid;
        cl->fault_timeout_usec = c->default_fault_timeout_usec;
        cl->may_fault = true;
        list_init(&cl->groups);
        list_init(&cl->claims);
        list_init(&cl->bonds);
        list_init(&cl->sva_domains);
        list_init(&cl->regions);
        list_init(&cl->spaces);
        list_init(&cl->release.link);
        cl->release.kind = DEFER_CLIENT_RELEASE;
        list_add_tail(&c->clients, &cl->core_link);
        hashmap_put(&c->clients_by_id, &cl->id_node, hash_u64(cl->id));
        *ret = cl;
        return 0;
}

static bool over(uint64_t used, uint64_t n, uint64_t limit) {
        return n > limit || used > limit - n;
}

/*
 * The limit is checked on the uid's total, which includes this client's:
 * that is what stops one uid from multiplying its quota by opening more
 * connections (L10). The client's own count is what its release gives back.
 */
int client_charge(Client *cl, Resource r, uint64_t n) {
        if (over(cl->user->used[r], n, cl->quota.limit[r]) || over(cl->used[r], n, cl->quota.limit[r])) {
                cl->refused = r;
                return -EDQUOT;
        }
        cl->used[r] += n;
        cl->user->used[r] += n;
        return 0;
}

void client_uncharge(Client *cl, Resource r, uint64_t n) {
        if (n > cl->used[r])
                n = cl->used[r];
        cl->used[r] -= n;
        cl->user->used[r] -= n;
}

int client_charge_object(Client *cl, Resource r, uint64_t bytes) {
        int k = client_charge(cl, r, 1);

        if (k < 0)
                return k;
        k = client_charge(cl, RES_BYTES, bytes);
        if (k < 0)
                client_uncharge(cl, r, 1);
        return k;
}

void client_uncharge_object(Client *cl, Resource r, uint64_t bytes) {
        client_uncharge(cl, RES_BYTES, bytes);
        client_uncharge(cl, r, 1);
}

/* The largest max_pasids below width among the present devices, or 1: the
 * PASIDs under it are what the narrower devices can use. */
static uint32_t pasid_floor(Core *c, uint32_t width) {
        uint32_t floor = pasid_widths_below(&c->pasid_widths, width);

        return floor > 1 ? floor : 1;
}

/* The smallest max_pasids of the present devices: a PASID below it fits
 * all. A device its IOMMU gives no PASIDs (0) makes it 0, which the caller
 * takes as no limit. */
static uint32_t pasid_width_all(Core *c) {
        return c->pasid_widths.n ? pasid_widths_min(&c->pasid_widths, 0) : PASID_MAX + 1;
}

static int client_alloc_pasid(Client *cl, uint32_t cap, uint32_t *ret) {
        PasidPool *pool = cl->core->pasids;
        uint32_t width = cl->pasid_width ? cl->pasid_width : pasid_width_all(cl->core);
        int r;

        if (cap < width)
                width = cap;
        if (width < 2 || width > PASID_MAX + 1)
                width = PASID_MAX + 1;
        r = pasid_pool_alloc_range(pool, pasid_floor(cl->core, width), width, ret);
        if (r == -ENOSPC && width <= PASID_MAX)
                r = pasid_pool_alloc_range(pool, width, PASID_MAX + 1, ret);
        return r;
}

int client_get_pasid_for(Client *cl, uint32_t cap, uint32_t *ret) {
        uint32_t pasid;
        int r;

        if (cl->pasid == PASID_NONE) {
                if (cl->ended)
                        return -ESHUTDOWN;
                r = client_charge(cl, RES_PASIDS, 1);
                if (r < 0)
                        return r;
                r = client_alloc_pasid(cl, cap, &pasid);
                if (r < 0) {
                        client_uncharge(cl, RES_PASIDS, 1);
                        return r;
                }
                cl->pasid = pasid;
        }
        *ret = cl->pasid;
        return 0;
}

int client_get_pasid(Client *cl, uint32_t *ret) {
        return client_get_pasid_for(cl, PASID_MAX + 1, ret);
}

/* L7: the PASID outlives every domain that uses it, and the client's life. */
void client_maybe_put_pasid(Client *cl) {
        if (!cl->ended || cl->pasid == PASID_NONE)
                return;
        if (!list_empty(&cl->sva_domains) || !list_empty(&cl->spaces))
                return;
        client_put_pasid(cl);
}

void client_put_pasid(Client *cl) {
        Space *s;
        SpaceAttachment *a;

        if (cl->pasid == PASID_NONE)
                return;
        assert(list_empty(&cl->sva_domains));
        list_for_each_entry(s, &cl->spaces, client_link)
                list_for_each_entry(a, &s->attachments, space_link)
                        assert(a->slot.pasid != cl->pasid);
        pasid_pool_release(cl->core->pasids, cl->pasid);
        client_uncharge(cl, RES_PASIDS, 1);
        cl->pasid = PASID_NONE;
}

/* Step 1 of L2: no device may reach the client's memory after this. */
static void client_stop_dma(Client *cl) {
        Bond *b;
        Space *s;
        SpaceAttachment *a;

        list_for_each_entry(b, &cl->bonds, client_link)
                slot_release(&b->slot);
        list_for_each_entry(s, &cl->spaces, client_link)
                list_for_each_entry(a, &s->attachments, space_link)
                        slot_release(&a->slot);
}

static void client_teardown(Client *cl) {
        Bond *b, *b_tmp;
        Space *s, *s_tmp;
        Region *r, *r_tmp;
        Group *g, *g_tmp;

        cl->ended = true;
        list_del_init(&cl->release.link);

        client_stop_dma(cl);
        /* Step 2: mappings and domains (bonds drop their SVA domains). */
        list_for_each_entry_safe(b, b_tmp, &cl->bonds, client_link)
                bond_free(b);
        list_for_each_entry_safe(s, s_tmp, &cl->spaces, client_link)
                space_free(s);
        /* Step 3: the groups, and with them the kernel drivers, go back. */
        list_for_each_entry_safe(g, g_tmp, &cl->groups, owner_link)
                group_revoke(g);
        group_abandon_claims(cl);
        list_for_each_entry_safe(r, r_tmp, &cl->regions, client_link)
                region_free(r);
        /* Step 4: the PASID, now that no domain uses it (L7). */
        client_maybe_put_pasid(cl);

        list_del_init(&cl->core_link);
        hashmap_remove(&cl->core->clients_by_id, &cl->id_node);
        client_free(cl);
}

int client_release(Core *c, uint64_t client_id) {
        Client *cl = core_find_client(c, client_id);

        if (!cl)
                return 0;               /* L1: already gone, nothing changes */
        if (core_in_callback(c)) {
                core_defer(c, &cl->release);
                return 0;
        }
        client_teardown(cl);
        return 0;
}
