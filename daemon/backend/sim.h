/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sim.h - the simulation backend: an in-process IOMMU model for machines without one */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "daemon/core/backend.h"
#include "daemon/core/core.h"
#include "dma.h"
#include "fault-queue.h"
#include "sim-fault.h"

typedef struct SimBackend SimBackend;

/* The sim as the daemon's Backend: a SimBackend with the topology of
 * BackendOptions.topology, the Simulator interface's kernel events and DMA. */
extern const BackendClass sim_backend_class;

/* The core's operations on a SimBackend. */
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
 * struct iommu_hwpt_pgfault records and writes responses, with the kernel's
 * semantics (sim-fault.h); its fd is readable while a group waits. The other
 * end is the simulated devices' (sim_fault_backend()): when the device fd is
 * readable, answers wait for them, and the daemon calls
 * sim_process_responses(), which takes up to FAULT_QUEUE_BATCH of them and
 * returns how many.
 */
FaultQueue *sim_fault_queue(SimBackend *s);
SimFaultQueue *sim_fault_backend(SimBackend *s);
int sim_device_fd(const SimBackend *s);
int sim_process_responses(SimBackend *s);
Device *sim_device_by_id(SimBackend *s, uint32_t dev_id);

/*
 * The device does the DMA req asks for (dma.h): translated page by page
 * through the I/O page table of its slot at req->pasid.
 * A page that is missing, or lacks the access, raises one page request group
 * (a record per page, the last flagged LAST_PAGE) on a PRI-capable device,
 * and the DMA waits for its answer; without PRI it fails at once. Returns a
 * negative errno if the DMA could not even start (then req->done is not
 * called).
 */
int sim_dma(SimBackend *s, const DmaRequest *req);
