/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* reload.c - a reloaded policy applied to the clients there are: new limits, and what it no longer allows goes */
#include <inttypes.h>
#include <stdio.h>

#include "daemon/core/client.h"
#include "daemon/core/region.h"
#include "daemon/core/revoke.h"
#include "daemon/core/user.h"
#include "daemon.h"

typedef struct GrantContext {
        Daemon *daemon;
        const BusClient *bc;
} GrantContext;

/* The core's questions (revoke.h), answered by the policy now in force. */
static bool grant_allows(void *userdata, const Client *cl, Grant grant, const Device *dev) {
        static const PolicyOp ops[_GRANT_MAX] = {
                [GRANT_CLAIM] = POLICY_CLAIM,
                [GRANT_SVA] = POLICY_SVA,
                [GRANT_SHARE_MEMORY] = POLICY_SHARE_MEMORY,
                [GRANT_SPACES] = POLICY_SPACES,
        };
        const GrantContext *g = userdata;

        return (unsigned)grant < _GRANT_MAX && bus_allows(g->daemon, &g->bc->id, ops[grant], dev);
}

static void apply_limits(Daemon *d, BusClient *bc) {
        PolicySubject subject;
        uint64_t timeout;

        bus_identity_subject(&bc->id, &subject);
        policy_limits(d->policy, &subject, &bc->client->quota, &timeout);
        bc->client->fault_timeout_usec = timeout;
        bc->client->may_fault = bus_allows(d, &bc->id, POLICY_FAULT_SERVICE, NULL);
}

/* Over the uid's "connections" quota: everything the connection held goes,
 * as if it had closed; a later call of it starts afresh (if there is room). */
static void drop_connection(Daemon *d, BusClient *bc) {
        Client *cl = TAKE_PTR(bc->client);
        char reason[256];

        snprintf(reason, sizeof(reason), "over the new quota \"connections\" (%" PRIu64 ") of uid %u: "
                 "everything this connection held was released, the newest connections first",
                 cl->quota.limit[RES_CONNECTIONS], (unsigned)bc->id.uid);
        client_revoke_connection(cl, reason);
        /* The core has unmapped the regions: now their memory may go. */
        bus_client_free(bc);
}

/* The memfds and mappings of regions the core no longer has. */
static void forget_regions(BusClient *bc) {
        SharedMemory *sm, *tmp;

        list_for_each_entry_safe(sm, tmp, &bc->shared, link)
                if (!client_find_region(bc->client, sm->region_id))
                        shared_memory_free(sm);
}

/*
 * Every client gets its new limits first, because a uid's totals are
 * checked against them. Then, newest client first, so that a uid over a
 * quota loses its newest connections and objects: connections over
 * "connections" go whole, and each remaining client loses what the policy
 * no longer allows or its quotas no longer cover, in the order of L2
 * (client_revoke()). Each thing taken is signalled, Manager.Revoked, with
 * the reason. Never runs inside a core callback: it is called from a
 * method call or the SIGHUP handler.
 */
void daemon_apply_policy(Daemon *d) {
        BusClient *bc, *tmp;

        list_for_each_entry(bc, &d->clients, link)
                apply_limits(d, bc);
        list_for_each_entry_safe_reverse(bc, tmp, &d->clients, link)
                if (bc->client->user->used[RES_CONNECTIONS] > bc->client->quota.limit[RES_CONNECTIONS])
                        drop_connection(d, bc);
        list_for_each_entry_reverse(bc, &d->clients, link) {
                GrantContext ctx = { .daemon = d, .bc = bc };
                int r = client_revoke(bc->client, grant_allows, &ctx);

                if (r < 0)
                        log_error("cannot apply the new policy to %s: %s", bc->name, strerror(-r));
                forget_regions(bc);
        }
}
