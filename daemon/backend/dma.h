/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dma.h - a device DMA the Simulator interface asks for, as the sim and the selftest run it */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/list.h"
#include "daemon/core/types.h"

/* The most one DMA moves. */
#define DMA_MAX (1024u * 1024)

/*
 * Called once per DMA with its outcome: error 0 and, for a read, the bytes;
 * or a negative errno and why. It must not call into the core: it may run
 * from inside a core teardown (a slot detached under a pending DMA).
 */
typedef void (*DmaDone)(void *userdata, int error, const char *why, const uint8_t *data, size_t len);

/*
 * A DMA of len bytes at addr by device through its slot at pasid (0: the
 * RID). Everything is borrowed for the call that starts it; a backend copies
 * what it keeps (dma_transfer_new()).
 */
typedef struct DmaRequest {
        Device *device;
        uint32_t pasid;
        uint64_t addr;
        uint32_t len;
        bool write;
        const uint8_t *data;    /* a write's len bytes; NULL for a read */
        DmaDone done;           /* called once, unless the DMA could not start */
        void *userdata;         /* passed to done */
} DmaRequest;

/*
 * A DMA in flight: the first member of a backend's own record of it, owned
 * by the backend's list of DMAs from dma_transfer_new() until
 * dma_transfer_finish().
 */
typedef struct DmaTransfer {
        Device *device;         /* borrowed; the DMA fails before its slot goes */
        uint32_t pasid;
        uint64_t addr;
        uint32_t len;
        bool write;
        uint8_t *buf;           /* owned: what to write, or what was read */
        DmaDone done;
        void *userdata;
        ListNode link;          /* in the backend's list of DMAs in flight */
} DmaTransfer;

/*
 * A zeroed record of size bytes (a struct whose first member is a
 * DmaTransfer) for req, with its buffer: a write's data copied in. -EINVAL
 * for an empty, too long or wrapping DMA; *ret is untouched on failure.
 */
int dma_transfer_new(const DmaRequest *req, size_t size, DmaTransfer **ret);

/* Takes t off its list, tells done the outcome (the bytes of a read that
 * succeeded) and frees the record. */
void dma_transfer_finish(DmaTransfer *t, int error, const char *why);
