/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* group.h - IOMMU groups and their DMA ownership: claim and release (L4, L5) */
#pragma once

#include "common/list.h"
#include "core.h"
#include "types.h"

/*
 * A claim or a release that waits for the backend: a backend may answer a
 * slow operation (a driver's unbind or probe, a cdev to appear) with
 * -EINPROGRESS and report its result later through group_backend_done()
 * from the event loop (BackendOps, backend.h). Meanwhile the group is in
 * transit: no other claim starts, no DMA-API driver gets in (L4), and the
 * rest of the daemon goes on.
 */
typedef enum GroupTransit {
        GROUP_STEADY,
        GROUP_CLAIMING,         /* drivers detached one by one, then the backend takes it */
        GROUP_UNCLAIMING,       /* the claim failed, or its client ended: drivers go back (L5) */
        GROUP_RELEASING,        /* released: the detached drivers go back */
        GROUP_OVERRIDING,       /* an override: drivers detached, then devices held (override.h) */
        GROUP_UNOVERRIDING,     /* the override ends, or failed: devices let go, drivers go back */
} GroupTransit;

/* The backend operation a group in transit waits for. */
typedef enum GroupWait {
        GROUP_WAIT_NONE,
        GROUP_WAIT_DETACH,      /* driver_detach(wait_device) */
        GROUP_WAIT_ATTACH,      /* driver_attach(wait_device) */
        GROUP_WAIT_CLAIM,       /* group_claim(g) */
        GROUP_WAIT_TAKE_BACK,   /* device_take_back(wait_device): its holder lets go */
        GROUP_WAIT_HOLD,        /* driver_hold(wait_device) */
        GROUP_WAIT_UNHOLD,      /* driver_unhold(wait_device) */
} GroupWait;

/*
 * Owned by Core.groups. A group is created with its first device and freed
 * with its last one; a claim on it ends then (group_device_gone()).
 */
struct Group {
        Core *core;             /* borrowed */
        uint32_t id;
        ListNode core_link;     /* in core->groups */
        HashNode id_node;       /* in core->groups_by_id */
        ListNode devices;       /* Device.group_link, borrowed */
        unsigned n_devices;
        unsigned dma_api_count; /* devices bound to DMA-API drivers */
        Client *owner;          /* borrowed; non-NULL while user-owned */
        ListNode owner_link;    /* in owner->groups, or in claimant->claims */

        GroupTransit transit;
        Client *claimant;       /* borrowed, while CLAIMING or UNCLAIMING; NULL once it ended */
        uint64_t claimant_id;   /* who asked, for the CORE_EVENT_GROUP_CLAIMED that answers it */
        int claim_error;        /* why UNCLAIMING undoes the claim */
        char *claim_why;        /* owned: the backend's words for claim_error, or NULL */
        bool backend_claimed;   /* group_claim() succeeded: group_release() undoes it */
        GroupWait wait;         /* the operation in flight */
        Device *wait_device;    /* borrowed; NULL once it went (device_free()) */
        uint32_t wait_seq;      /* the answer to the operation in flight carries it */
        bool suspended;         /* this transit waited for the backend (and said so) */

        unsigned n_handed_out;  /* devices HANDOUT_OPEN or HANDOUT_RETURNING (handout.h) */
        bool overridden;        /* held for the machine (override.h): no DMA-API driver gets in */
        bool override_removing; /* UNOVERRIDING ends an override (else: undoes a failed one) */
        DeferNode release;      /* a release asked for during a callback */
        unsigned revoke;        /* revoke.c's mark while client_revoke() runs, else 0 */
        void *backend_data;     /* owned by the backend */
};

Ownership group_ownership(const Group *g);

/* The steps override.c shares with claims (group.c). */
bool group_wait(Group *g, GroupWait what, Device *d, int r);
void group_fail_claim(Group *g, int r, const char *why);
bool group_detach_step(Group *g, GroupTransit in);
void group_detached(Group *g, Device *d, int r, const char *why);
bool group_restore_step(Group *g);

/*
 * Takes g for user-managed DMA by client. Claims don't nest: claiming a group
 * the client already owns returns 0 and changes nothing. With
 * CLAIM_DETACH_KERNEL_DRIVERS, DMA-API drivers are detached first and
 * remembered for release; without it a group in DMA-API use is -EBUSY. A
 * failure at any step puts every driver back as it was (L5).
 *
 * -EINPROGRESS: the backend is at work; CORE_EVENT_GROUP_CLAIMED (group,
 * client, result) says how it ended, with the backend's words for a failure
 * as its reason. -EALREADY: client's own claim of g is in progress; -EBUSY
 * also while another's claim, or a release, is in progress.
 */
int group_claim(Group *g, Client *client, uint64_t flags);

/*
 * The backend's answer r to the operation group id waits for (seq is the
 * wait_seq it started with): the claim or release goes on. -ESTALE for an
 * answer nobody waits for any more (the group went, or a newer operation
 * runs). why: the backend's words for a failure (copied), or NULL.
 */
int group_backend_done(Core *c, uint32_t id, uint32_t seq, int r, const char *why);

/* Client teardown: cl's claims in progress go on without it, and undo
 * themselves when the backend answers (L5). */
void group_abandon_claims(Client *cl);

/* "claiming", "releasing", or "" while steady: the D-Bus Group.Transit. */
const char *group_transit_to_string(const Group *g);

/*
 * Ends client's ownership: slots on the group's devices are detached (bonds
 * go stale), the backend lets go of the group, and detached drivers are
 * rebound. -EPERM if the group is not user-owned, -EACCES if another client
 * owns it. Called during a callback, it is deferred (L9).
 */
int group_release(Group *g, Client *client);

/* Release whatever client owns g, e.g. when policy revokes access. */
int group_revoke(Group *g);

/* After one of g's devices went: with the last one, the claim on g ends
 * (as the kernel's DMA ownership does) and g is freed. Not from a callback
 * (device_unplug() defers, L9). */
void group_device_gone(Group *g);

/* Frees g if it has no device and no owner; returns true if it did. */
bool group_free_if_unused(Group *g);
Group *group_free(Group *g);
int group_get(Core *c, uint32_t id, Group **ret);
