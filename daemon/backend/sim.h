/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sim.h - the simulation backend: an in-process IOMMU model for machines without one */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/core/backend.h"
#include "daemon/core/core.h"
#include "fault-queue.h"

typedef struct SimBackend SimBackend;

extern const BackendOps sim_ops;

/* The sim's one fault queue; the core knows it by this key. */
#define SIM_FAULT_SOURCE 1

int sim_backend_new(SimBackend **ret);
SimBackend *sim_backend_free(SimBackend *s);
DEFINE_POINTER_CLEANUP(SimBackend, sim_backend_free)

/*
 * Adds a topology to the core: the built-in one when path is NULL, otherwise
 * the JSON file at path (format in docs/topology.md). On a bad file returns
 * -EINVAL and a malloc'ed message naming the file, the JSON location and what
 * was expected in *ret_error; nothing is added then. Remembers c (borrowed).
 */
int sim_load_topology(SimBackend *s, Core *c, const char *path, char **ret_error);

/* Whether a topology device was marked "refuse_unbind" (for L5 tests). */
bool sim_refuses_unbind(const SimBackend *s, const char *device);

/*
 * The fault queue, as a kernel iommufd fault fd looks to the daemon: it reads
 * struct iommu_hwpt_pgfault records from fault_queue()->fd and writes
 * responses. The other end is the simulated devices': when it is readable,
 * the daemon calls sim_process_responses().
 */
FaultQueue *sim_fault_queue(SimBackend *s);
int sim_device_fd(const SimBackend *s);
int sim_process_responses(SimBackend *s);
Device *sim_device_by_id(SimBackend *s, uint32_t dev_id);

/*
 * Called once per DMA with its outcome: error 0 and, for a read, the bytes;
 * or a negative errno and why. It must not call into the core: it may run
 * from inside a core teardown (a slot detached under a pending DMA).
 */
typedef void (*SimDmaDone)(void *userdata, int error, const char *why, const uint8_t *data, size_t len);

#define SIM_DMA_MAX (1024u * 1024)

/*
 * The buffer of a DMA of len bytes at addr, for the sim and the selftest
 * backends: -EINVAL for an empty, too long or wrapping one; a write's data
 * copied in. *ret is malloc'ed.
 */
static inline int sim_dma_buffer(uint64_t addr, uint32_t len, bool write, const uint8_t *data, uint8_t **ret) {
        uint8_t *buf;

        if (len == 0 || len > SIM_DMA_MAX || addr + len < addr)
                return -EINVAL;
        buf = malloc(len);
        if (!buf)
                return -ENOMEM;
        if (write)
                memcpy(buf, data, len);
        *ret = buf;
        return 0;
}

/*
 * The device does a DMA of len bytes at addr through its slot at pasid
 * (0: the RID): translated page by page through the slot's I/O page table.
 * A page that is missing, or lacks the access, raises one page request group
 * (a record per page, the last flagged LAST_PAGE) on a PRI-capable device,
 * and the DMA waits for its answer; without PRI it fails at once. Returns a
 * negative errno if the DMA could not even start (then done is not called).
 */
int sim_dma(SimBackend *s, Device *d, uint32_t pasid, uint64_t addr, uint32_t len, bool write,
            const uint8_t *data, SimDmaDone done, void *userdata);
