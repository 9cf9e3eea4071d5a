/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* region.h - client memory shared for DMA (a memfd range mapped at a client address) */
#pragma once

#include "common/list.h"
#include "types.h"

/*
 * Owned by client->regions from region_new() until region_remove() or the
 * client's release. Mappings of it (in SVA domains and spaces) are owned by
 * those domains; a region is unmapped everywhere before it is freed.
 */
struct Region {
        Client *client;         /* borrowed: the owner */
        uint64_t id;
        uint64_t address;       /* where the client has it mapped (its VA) */
        uint64_t offset;        /* offset into the memfd */
        uint64_t length;
        unsigned access;        /* ACCESS_READ | ACCESS_WRITE */
        void *backing;          /* borrowed: the daemon's mapping of these bytes
                                 * (memfd at offset), for backends that copy
                                 * (sim); NULL in tests. Unmapped by the
                                 * daemon only after region_free(). */
        int memfd;              /* borrowed: the memfd behind it, for backends
                                 * that map files (kernel); -1 in tests.
                                 * Closed by the daemon after region_free(). */
        ListNode client_link;   /* in client->regions */
        HashNode id_node;       /* in core->regions_by_id while on client->regions */
        ListNode mappings;      /* Mapping.region_link, borrowed */
        unsigned revoke;        /* revoke.c's mark while client_revoke() runs, else 0 */
};

/*
 * Validates and records a shared region: page-aligned address, offset and
 * length (-EINVAL), length > 0 without wrap (-EINVAL), access a non-empty
 * subset of ACCESS_ALL (-EINVAL), no overlap with the client's other regions
 * (-EEXIST), within quota (-EDQUOT). Maps it into the client's pinned SVA
 * domains.
 */
int region_new(Client *cl, uint64_t address, uint64_t offset, uint64_t length,
               unsigned access, void *backing, int memfd, Region **ret);

/* Unmaps it from SVA domains; -EBUSY while a space maps it. */
int region_remove(Region *r);
Region *region_free(Region *r);

Region *client_find_region(Client *cl, uint64_t id);
/* The region covering [address, address + length), or NULL. */
Region *client_region_at(Client *cl, uint64_t address, uint64_t length);
