/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* revoke.h - taking back what a new policy no longer allows or its quotas no longer cover */
#pragma once

#include <stdbool.h>

#include "core.h"
#include "types.h"

/* What the policy grants, as revocation asks it: the core knows no policy. */
typedef enum Grant {
        GRANT_CLAIM,            /* claim the group of d (asked for each of its devices) */
        GRANT_SVA,              /* bind d; the PASID stays while one PASID-capable d allows it */
        GRANT_SHARE_MEMORY,     /* d is NULL */
        GRANT_SPACES,           /* d NULL: hold spaces and map in them; d: be attached there */
        _GRANT_MAX,
} Grant;

/* The policy now in force; called only while nothing has changed yet, and
 * must not change the model. */
typedef bool (*GrantFn)(void *userdata, const Client *cl, Grant grant, const Device *d);

/*
 * After a policy reload: takes back from cl what allows() no longer grants,
 * and what is over cl->quota, whose limits apply to the totals of cl's uid
 * (for those, cl's newest objects go first; the daemon calls this for the
 * newest client first). Everything is decided before anything changes, and
 * then released in the order of L2: the slots (bonds go stale, L3;
 * attachments go), then SVA domains, spaces and mappings, then groups (their
 * kernel drivers rebound), then regions, then the PASID. A space whose
 * "spaces" grant went is emptied, not freed: it stays, without mappings or
 * attachments, until its owner destroys it (as a stale bond, L3); one over
 * the "spaces" quota is freed. Pending faults are not revoked: they are
 * answered within their timeout (L8).
 *
 * Each thing taken is announced by a CORE_EVENT_REVOKED that says why.
 * Returns how many there were; -EDEADLK from inside a listener callback,
 * where teardown would be deferred (L9) and could not keep that order.
 * Idempotent: a second call finds nothing left to take (L1).
 */
int client_revoke(Client *cl, GrantFn allows, void *userdata);

/* The whole client goes, over the uid's "connections" quota: announced by a
 * CORE_EVENT_REVOKED (REVOKED_CLIENT) with reason, then client_release(). */
void client_revoke_connection(Client *cl, const char *reason);
