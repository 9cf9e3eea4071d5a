/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bond.h - SVA bonds: refcounted device <-> client links, stale when revoked (L3) */
#pragma once

#include "common/list.h"
#include "core.h"
#include "slot.h"
#include "types.h"

/*
 * Owned by client->bonds from bond_bind() until its last unbind or the
 * client's release. Active: holds slot (the client's PASID on the device)
 * and one user of domain. Stale: the device disappeared or the group was
 * released; slot and domain are let go, device is NULL, and the bond stays
 * visible until its owner unbinds it or ends (L3).
 */
struct Bond {
        Client *client;         /* borrowed: the owner */
        uint64_t id;
        char *device_name;      /* owned, kept when stale */
        Device *device;         /* borrowed; NULL when stale */
        uint32_t pasid;
        unsigned users;         /* binds not yet unbound */
        bool stale;
        SvaDomain *domain;      /* one user of it; NULL when stale */
        Slot slot;
        ListNode client_link;   /* in client->bonds */
        HashNode id_node;       /* in core->bonds_by_id while on client->bonds */
        unsigned deferred_unbinds;
        DeferNode unbind;
        unsigned revoke;        /* revoke.c's mark while client_revoke() runs, else 0 */
};

/*
 * Binds client to d at the client's PASID. The device's group must be user-
 * owned by client (-EPERM), the device PASID-capable (-EOPNOTSUPP), the
 * PASID < max_pasids (-EOVERFLOW, the PASID is kept: L7), the slot not
 * held by a space (-EBUSY: L6). Binding an active bond again adds a user.
 */
int bond_bind(Client *client, Device *d, Bond **ret);

/* One unbind: the bond goes when its last user does. -ENOENT if unknown. */
int bond_unbind(Client *client, uint64_t bond_id);

/* The device went or access was revoked: stop DMA, keep the bond (L3). */
void bond_make_stale(Bond *b);
Bond *bond_free(Bond *b);
Bond *client_find_bond(Client *client, uint64_t bond_id);
const char *bond_state_to_string(const Bond *b);
