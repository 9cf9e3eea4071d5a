/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* space.h - spaces: a client's I/O address space (IOAS) with chosen IOVAs */
#pragma once

#include "common/list.h"
#include "core.h"
#include "domain.h"
#include "slot.h"
#include "types.h"

/* Owned by client->spaces from space_new() until space_free() or release. */
struct Space {
        IoDomain io;
        uint64_t id;
        ListNode client_link;   /* in client->spaces */
        HashNode id_node;       /* in core->spaces_by_id while on client->spaces */
        ListNode attachments;   /* SpaceAttachment.space_link, owned */
        DeferNode free_node;
        unsigned revoke;        /* revoke.c's mark while client_revoke() runs, else 0 */
};

/* A space at one (device, PASID) slot; owned by space->attachments. */
struct SpaceAttachment {
        Space *space;           /* borrowed: the owner */
        Slot slot;
        ListNode space_link;
        unsigned revoke;        /* revoke.c's mark while client_revoke() runs, else 0 */
};

int space_new(Client *cl, Space **ret);
/* Detaches every slot, unmaps, frees (L2). Deferred during a callback (L9). */
int space_free(Space *s);

/* Maps [iova, iova+length) to region r at region_offset: page-aligned, in
 * the region, access within the region's (-EINVAL), no overlap (-EEXIST). */
int space_map(Space *s, Region *r, uint64_t region_offset, uint64_t iova,
              uint64_t length, unsigned access);
/* Unmaps exactly a range that space_map() mapped (-ENOENT otherwise). */
int space_unmap(Space *s, uint64_t iova, uint64_t length);

/*
 * Attaches at (d, pasid): pasid is 0 (the RID) or the client's own PASID.
 * The group must be the client's (-EPERM); an SVA bond there is -EBUSY (L6).
 */
int space_attach(Space *s, Device *d, uint32_t pasid);
int space_detach(Space *s, Device *d, uint32_t pasid);

Space *client_find_space(Client *cl, uint64_t id);
void space_attachment_free(SpaceAttachment *a);
