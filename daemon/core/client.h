/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* client.h - a program using the daemon (the kernel's mm): identity, quotas, teardown */
#pragma once

#include <sys/types.h>

#include "common/list.h"
#include "core.h"
#include "device.h"
#include "types.h"

typedef struct ClientIdentity {
        uid_t uid;
        gid_t gid;
        pid_t pid;
        const char *name;       /* e.g. the bus unique name; copied */
} ClientIdentity;

/*
 * Owned by Core.clients from client_new() until client_release() has torn
 * it down. Everything a client holds (bonds, SVA domains, regions, spaces,
 * claimed groups) is owned by it and freed by its release, in the order of
 * L2. Its PASID is freed last, after its last domain (L7).
 */
struct Client {
        Core *core;             /* borrowed */
        uint64_t id;
        uid_t uid;
        gid_t gid;
        pid_t pid;
        char *name;             /* owned */
        ListNode core_link;     /* in core->clients */
        HashNode id_node;       /* in core->clients_by_id */

        Quota quota;            /* limits of the uid's totals, as policy gives them to this client */
        uint64_t used[_RES_MAX];/* what this client holds; user->used sums all of the uid's */
        User *user;             /* one reference, taken by client_new() */
        Resource refused;       /* what the last -EDQUOT of client_charge() was for */
        uint64_t fault_timeout_usec;

        uint32_t pasid;         /* PASID_NONE until first needed */
        /* Set by the daemon from policy: the smallest max_pasids among the
         * devices the client may bind, so that its PASID fits them all
         * (client_get_pasid()). 0: not known, fit every present device. */
        uint32_t pasid_width;
        ListNode groups;        /* Group.owner_link, borrowed */
        ListNode claims;        /* Group.owner_link, borrowed: claims in progress */
        ListNode bonds;         /* Bond.client_link, owned */
        ListNode sva_domains;   /* SvaDomain.client_link, owned */
        ListNode regions;       /* Region.client_link, owned */
        ListNode spaces;        /* Space.client_link, owned */

        FaultStats faults;
        bool may_fault;         /* policy lets the daemon serve its faults */
        bool ended;             /* release has started; no new objects */
        DeferNode release;
};

/* A quota with every limit at its maximum (for root and for tests). */
Quota quota_unlimited(void);

/* A new client of uid id->uid: -EDQUOT when the uid already has as many
 * clients as quota's RES_CONNECTIONS allows (counted on its User). */
int client_new(Core *c, const ClientIdentity *id, const Quota *quota, Client **ret);

/*
 * Ends the client with this id: stops DMA on all its slots, answers its faults
 * INVALID, unmaps and frees its domains and spaces, releases its groups,
 * frees its regions and bonds, then its PASID, then the client (L2, L7).
 * Idempotent: an unknown or already released id returns 0 and changes nothing
 * (L1). During a callback the teardown is deferred (L9).
 */
int client_release(Core *c, uint64_t client_id);

/*
 * The client's PASID, allocated on first call (L7) to fit the devices it may
 * bind: below width, the smaller of cl->pasid_width (0: the smallest
 * max_pasids of the present devices) and cap (the max_pasids of the device
 * being bound; PASID_MAX + 1 for AllocPasid). The PASIDs below the
 * max_pasids of narrower devices are kept for the clients that need them: a
 * client gets the lowest free PASID in [floor, width), floor being the
 * largest max_pasids below width of a present device (1 if none), else the
 * lowest free one at or above width (which fails Overflow on its narrowest
 * devices, L7). -ENOSPC if none is left, -EDQUOT over the "pasids" quota.
 */
int client_get_pasid(Client *cl, uint32_t *ret);
int client_get_pasid_for(Client *cl, uint32_t cap, uint32_t *ret);

/*
 * Quota accounting (L10): charges n of r to the client and to its User;
 * -EDQUOT (and cl->refused = r) when the uid's total would exceed the
 * client's limit, and then nothing is charged.
 */
int client_charge(Client *cl, Resource r, uint64_t n);
void client_uncharge(Client *cl, Resource r, uint64_t n);
/* One object of kind r that holds bytes: charges both, or neither. */
int client_charge_object(Client *cl, Resource r, uint64_t bytes);
void client_uncharge_object(Client *cl, Resource r, uint64_t bytes);

/* Frees the PASID once the client has ended and its last domain is gone. */
void client_maybe_put_pasid(Client *cl);
/* Frees a live client's PASID (policy revoked it): nothing may use it any
 * more, no SVA domain and no slot at it. */
void client_put_pasid(Client *cl);
