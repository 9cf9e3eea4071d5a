/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* group.c - IOMMU groups and their DMA ownership: claim and release (L4, L5) */
#include <errno.h>

#include "common/alloc.h"
#include "client.h"
#include "device.h"
#include "group.h"
#include "handout.h"
#include "override.h"

Ownership group_ownership(const Group *g) {
        if (g->owner)
                return OWNERSHIP_USER;
        if (g->dma_api_count > 0)
                return OWNERSHIP_DMA_API;
        return g->overridden ? OWNERSHIP_MACHINE : OWNERSHIP_NONE;
}

int group_get(Core *c, uint32_t id, Group **ret) {
        Group *g = core_find_group(c, id);

        if (!g) {
                g = xzalloc(sizeof(*g));
                if (!g)
                        return -ENOMEM;
                g->core = c;
                g->id = id;
                list_init(&g->devices);
                list_init(&g->owner_link);
                list_init(&g->release.link);
                g->release.kind = DEFER_GROUP_RELEASE;
                list_add_tail(&c->groups, &g->core_link);
                hashmap_put(&c->groups_by_id, &g->id_node, hash_u64(id));
                core_emit(c, CORE_EVENT_GROUP_ADDED, id, 0, 0, NULL);
        }
        *ret = g;
        return 0;
}

Group *group_free(Group *g) {
        if (!g)
                return NULL;
        free(g->claim_why);
        list_del_init(&g->release.link);
        list_del_init(&g->owner_link);
        list_del_init(&g->core_link);
        hashmap_remove(&g->core->groups_by_id, &g->id_node);
        free(g);
        return NULL;
}

bool group_free_if_unused(Group *g) {
        if (g->n_devices > 0 || g->owner || g->transit != GROUP_STEADY)
                return false;
        core_emit(g->core, CORE_EVENT_GROUP_REMOVED, g->id, 0, 0, NULL);
        group_free(g);
        return true;
}

/*
 * Claims and releases are small state machines (GroupTransit): each step
 * asks the backend for one operation, and an operation the backend answers
 * with -EINPROGRESS suspends the machine until group_backend_done() brings
 * its result. A backend that answers at once (the sim) runs the whole
 * machine inside group_claim() or the release, as before.
 */
static void group_step(Group *g);

/* Suspends g on the operation in flight: true if r says it is in flight. */
bool group_wait(Group *g, GroupWait what, Device *d, int r) {
        if (r != -EINPROGRESS)
                return false;
        g->wait = what;
        g->wait_device = d;
        if (!g->suspended)      /* Transit reads "claiming" or "releasing" from now */
                core_emit(g->core, CORE_EVENT_GROUP_CHANGED, g->id, 0, 0, NULL);
        g->suspended = true;
        return true;
}

/* The claim (or override) fails of r (the first failure counts):
 * everything goes back. */
void group_fail_claim(Group *g, int r, const char *why) {
        if (g->transit == GROUP_OVERRIDING)
                g->transit = GROUP_UNOVERRIDING;
        else if (g->transit == GROUP_CLAIMING)
                g->transit = GROUP_UNCLAIMING;
        else
                return;
        g->claim_error = r;
        free(g->claim_why);
        g->claim_why = why && why[0] ? xstrdup(why) : NULL;
}

/* driver_detach(d) answered r. A driver that went meanwhile (removed by
 * hand while the unbind ran) leaves nothing to remember or count down. */
void group_detached(Group *g, Device *d, int r, const char *why) {
        if (r < 0) {
                group_fail_claim(g, r, why);
                return;
        }
        if (!d->driver_dma_api)
                return;
        d->restore_driver = TAKE_PTR(d->driver);
        d->driver_dma_api = false;
        g->dma_api_count--;
        core_emit(g->core, CORE_EVENT_DEVICE_CHANGED, g->id, 0, 0, d->name);
}

/* driver_attach(d) answered r: bound again, or refused, and then d has no
 * driver, which the model says. A driver that probed while the bind ran
 * has the device (the kernel binds one), as in group_restore_step(). */
static void group_attached(Group *g, Device *d, int r) {
        if (d->driver) {
                d->restore_driver = mfree(d->restore_driver);
                return;
        }
        if (r >= 0) {
                d->driver = TAKE_PTR(d->restore_driver);
                d->driver_dma_api = true;
                g->dma_api_count++;
        } else
                d->restore_driver = mfree(d->restore_driver);
        core_emit(g->core, CORE_EVENT_DEVICE_CHANGED, g->id, 0, 0, d->name);
}

/* group_claim(g) answered r. A claim given up meanwhile (its client ended)
 * is undone by the step that follows. */
static void group_backend_claimed(Group *g, int r, const char *why) {
        if (r < 0)
                group_fail_claim(g, r, why);
        else
                g->backend_claimed = true;
}

/* Detaches every DMA-API driver of g, remembering each for restore, while
 * g stays in transit in. True: suspended on the backend. */
bool group_detach_step(Group *g, GroupTransit in) {
        Core *c = g->core;
        Device *d;
        int r;

        list_for_each_entry(d, &g->devices, group_link) {
                if (g->transit != in)
                        return false;
                if (!d->driver_dma_api)
                        continue;
                r = c->ops->driver_detach(c->backend_data, d);
                if (group_wait(g, GROUP_WAIT_DETACH, d, r))
                        return true;
                group_detached(g, d, r, NULL);
        }
        return false;
}

/*
 * CLAIMING: detaches every DMA-API driver of g, remembering each for
 * restore, then has the backend take g. True: suspended on the backend;
 * false: done, or failed (then g is UNCLAIMING).
 */
static bool group_claim_step(Group *g) {
        Core *c = g->core;
        int r;

        if (!g->claimant)
                group_fail_claim(g, -ESHUTDOWN, NULL);  /* it ended meanwhile */
        if (g->n_devices == 0)
                group_fail_claim(g, -ENODEV, NULL);     /* they went meanwhile */
        if (group_detach_step(g, GROUP_CLAIMING))
                return true;
        if (g->transit != GROUP_CLAIMING || g->backend_claimed)
                return false;
        r = c->ops->group_claim(c->backend_data, g);
        if (group_wait(g, GROUP_WAIT_CLAIM, NULL, r))
                return true;
        group_backend_claimed(g, r, NULL);
        return false;
}

/*
 * UNCLAIMING and RELEASING: rebinds the drivers a claim detached. A driver
 * that refuses stays unbound: the model says what is true. A device that
 * got a driver of its own while the group was owned (one that manages DMA
 * itself, like vfio-pci: L4 lets only those in) keeps it; the kernel would
 * refuse to bind a second one, so the remembered driver is dropped rather
 * than bound over it (which lost the probed one's name). True: suspended.
 */
bool group_restore_step(Group *g) {
        Core *c = g->core;
        Device *d;
        int r;

        list_for_each_entry(d, &g->devices, group_link) {
                if (!d->restore_driver)
                        continue;
                if (d->driver) {
                        d->restore_driver = mfree(d->restore_driver);
                        continue;
                }
                r = c->ops->driver_attach(c->backend_data, d, d->restore_driver);
                if (group_wait(g, GROUP_WAIT_ATTACH, d, r))
                        return true;
                group_attached(g, d, r);
        }
        return false;
}

/*
 * What the IOMMU does for each device the claim gave the backend (the
 * kernel answers only for a bound device): the effective PASID width, the
 * IOMMU's capabilities. Kept after the release: the IOMMU does not change.
 */
static void group_learn_iommu_info(Group *g) {
        Core *c = g->core;
        Device *d;

        if (!c->ops->device_iommu_info)
                return;
        list_for_each_entry(d, &g->devices, group_link) {
                DeviceIommuInfo info;

                if (c->ops->device_iommu_info(c->backend_data, d, &info) >= 0)
                        device_set_iommu_info(d, &info);
        }
}

/* The end of a claim, either way: the owner, or nothing changed (L5); the
 * caller hears of it through CORE_EVENT_GROUP_CLAIMED. */
static void group_claim_finish(Group *g) {
        Core *c = g->core;
        Client *client = g->claimant;
        bool suspended = g->suspended;

        if (g->transit == GROUP_CLAIMING)
                g->claim_error = 0;
        g->transit = GROUP_STEADY;
        g->suspended = false;
        g->claimant = NULL;
        g->backend_claimed = false;
        list_del_init(&g->owner_link);
        if (g->claim_error >= 0) {
                group_learn_iommu_info(g);
                g->owner = client;
                list_add_tail(&client->groups, &g->owner_link);
        } else if (client)
                client_uncharge(client, RES_GROUPS, 1);
        if (g->claim_error >= 0 || suspended)
                core_emit(c, CORE_EVENT_GROUP_CHANGED, g->id, 0, client ? client->id : 0, NULL);
        /* A claim answered inside group_claim() returns its result instead. */
        if (suspended)
                core_emit_result(c, CORE_EVENT_GROUP_CLAIMED, g->id, g->claimant_id, g->claim_error,
                                 g->claim_why);
        g->claim_why = mfree(g->claim_why);
}

/* Runs g's machine until it waits for the backend or is done. */
static void group_step(Group *g) {
        switch (g->transit) {
        case GROUP_STEADY:
                return;
        case GROUP_CLAIMING:
                if (group_claim_step(g))
                        return;
                if (g->transit == GROUP_CLAIMING)
                        group_claim_finish(g);
                else
                        group_step(g);  /* failed: UNCLAIMING */
                return;
        case GROUP_UNCLAIMING:
                if (g->backend_claimed) {
                        g->core->ops->group_release(g->core->backend_data, g);
                        g->backend_claimed = false;
                }
                if (group_restore_step(g))
                        return;
                group_claim_finish(g);
                group_free_if_unused(g);
                return;
        case GROUP_OVERRIDING:
        case GROUP_UNOVERRIDING:
                override_step(g);       /* may free g */
                return;
        case GROUP_RELEASING:
                /* Devices handed out come back first: their drivers' turn
                 * is after (handout.h). */
                if (group_take_back_step(g) || group_restore_step(g))
                        return;
                g->transit = GROUP_STEADY;
                if (g->suspended)
                        core_emit(g->core, CORE_EVENT_GROUP_CHANGED, g->id, 0, 0, NULL);
                g->suspended = false;
                group_free_if_unused(g);
                return;
        }
}

int group_claim(Group *g, Client *client, uint64_t flags) {
        int r;

        if (flags & ~CLAIM_FLAGS_ALL)
                return -EINVAL;
        if (client->ended)
                return -ESHUTDOWN;
        if (g->owner == client)
                return 0;               /* claims don't nest (L4) */
        if (g->transit != GROUP_STEADY)
                return g->claimant == client ? -EALREADY : -EBUSY;
        if (g->owner)
                return -EBUSY;
        if (g->n_devices == 0)
                return -ENODEV;
        if (g->dma_api_count > 0 && !(flags & CLAIM_DETACH_KERNEL_DRIVERS))
                return -EBUSY;

        r = client_charge(client, RES_GROUPS, 1);
        if (r < 0)
                return r;

        /* L5: from here on, any failure puts every driver back. */
        g->transit = GROUP_CLAIMING;
        g->claimant = client;
        g->claimant_id = client->id;
        g->claim_error = 0;
        list_add_tail(&client->claims, &g->owner_link);
        group_step(g);
        /* Answered at once (never freed then: it has devices), or later by
         * CORE_EVENT_GROUP_CLAIMED. */
        return g->transit != GROUP_STEADY ? -EINPROGRESS : g->claim_error;
}

int group_backend_done(Core *c, uint32_t id, uint32_t seq, int r, const char *why) {
        Group *g = core_find_group(c, id);
        Device *d;

        if (!g || g->wait == GROUP_WAIT_NONE || g->wait_seq != seq)
                return -ESTALE;
        g->wait_seq++;          /* a second answer to the same operation is stale */
        d = g->wait_device;
        switch (g->wait) {
        case GROUP_WAIT_DETACH:
                g->wait = GROUP_WAIT_NONE;
                if (d)
                        group_detached(g, d, r, why);
                break;
        case GROUP_WAIT_ATTACH:
                g->wait = GROUP_WAIT_NONE;
                if (d)
                        group_attached(g, d, r);
                break;
        case GROUP_WAIT_CLAIM:
                g->wait = GROUP_WAIT_NONE;
                group_backend_claimed(g, r, why);
                break;
        case GROUP_WAIT_TAKE_BACK:
                g->wait = GROUP_WAIT_NONE;
                if (d)
                        device_taken_back(d, r);
                break;
        case GROUP_WAIT_HOLD:
                g->wait = GROUP_WAIT_NONE;
                if (d)
                        override_held(g, d, r, why);
                break;
        case GROUP_WAIT_UNHOLD:
                g->wait = GROUP_WAIT_NONE;
                if (d)
                        override_unheld(g, d, r, why);
                break;
        case GROUP_WAIT_NONE:
                break;
        }
        g->wait_device = NULL;
        group_step(g);
        return 0;
}

void group_abandon_claims(Client *cl) {
        Group *g, *tmp;

        list_for_each_entry_safe(g, tmp, &cl->claims, owner_link) {
                list_del_init(&g->owner_link);
                g->claimant = NULL;
                client_uncharge(cl, RES_GROUPS, 1);
                /* The step after the backend's answer undoes it (L5). */
                group_fail_claim(g, -ESHUTDOWN, NULL);
        }
}

const char *group_transit_to_string(const Group *g) {
        switch (g->transit) {
        case GROUP_CLAIMING:
                return "claiming";
        case GROUP_UNCLAIMING:
        case GROUP_RELEASING:
                return "releasing";
        case GROUP_OVERRIDING:
                return "detaching";
        case GROUP_UNOVERRIDING:
                return "reattaching";
        case GROUP_STEADY:
                break;
        }
        return "";
}

/* Stops all DMA of the owner through g's devices: bonds go stale (L3).
 * Devices handed out are the backend's to take back from now on. */
static void group_release_slots(Group *g) {
        Device *d;

        list_for_each_entry(d, &g->devices, group_link) {
                device_release_slots(d);
                device_handout_end(d);
        }
}

/* The release itself, at a safe point: L2 order, then drivers come back,
 * maybe after the event loop went on (RELEASING). */
static void group_do_release(Group *g) {
        Core *c = g->core;
        Client *owner = g->owner;

        list_del_init(&g->release.link);
        group_release_slots(g);
        c->ops->group_release(c->backend_data, g);
        list_del_init(&g->owner_link);
        g->owner = NULL;
        client_uncharge(owner, RES_GROUPS, 1);
        g->transit = GROUP_RELEASING;
        core_emit(c, CORE_EVENT_GROUP_CHANGED, g->id, 0, owner->id, NULL);
        group_step(g);          /* may free g */
}

/*
 * The kernel frees an IOMMU group with its last device (iommu_group_release()
 * in drivers/iommu/iommu.c, once __iommu_group_remove_device() has dropped
 * the last reference), and the DMA ownership of a claim goes before it:
 * iommufd takes that ownership per bound device (iommufd_device_bind() ->
 * iommu_device_claim_dma_owner()), and the last device's VFIO cdev had to be
 * closed for the device to go at all. A device that comes back (a rescan)
 * is probed into a new group, owned by nobody, so its DMA-API driver binds.
 * The model follows: with its last device the claim ends (slots are gone
 * already, the owner's bonds on it stale, L3) and the group goes. While
 * devices remain, their cdevs keep the ownership, and so does the claim.
 * A group in transit waits for its backend's answer, then goes.
 */
void group_device_gone(Group *g) {
        if (g->n_devices == 0 && g->owner)
                group_do_release(g);    /* frees g too */
        else if (g->transit == GROUP_STEADY)
                group_free_if_unused(g);
}

int group_release(Group *g, Client *client) {
        if (!g->owner)
                return -EPERM;
        if (g->owner != client)
                return -EACCES;
        return group_revoke(g);
}

int group_revoke(Group *g) {
        if (!g->owner)
                return 0;
        if (core_in_callback(g->core)) {
                core_defer(g->core, &g->release);
                return 0;
        }
        group_do_release(g);
        return 0;
}
