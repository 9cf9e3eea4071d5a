/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fault-serve.h - one batch of a fault queue: read, decide in the core, answer */
#pragma once

#include "daemon/core/core.h"
#include "fault-queue.h"

/* Maps a record's iommufd device id to the model's device (NULL: unknown). */
typedef Device *(*FaultDeviceLookup)(void *userdata, uint32_t dev_id);

/*
 * What the daemon does when a fault fd is readable, and what the fault
 * benchmark measures: one read() of up to FAULT_QUEUE_BATCH records, each
 * pushed into the core; every group that completes is decided by
 * fault_group_resolve() (mapping pages from the client's regions) and
 * answered; then one write() of all the responses (a refused one is
 * dropped, fault_queue_flush()). Returns the number of records read (0 when
 * none was waiting) or fault_queue_read()'s negative errno.
 */
int fault_queue_serve(FaultQueue *q, Core *c, FaultDeviceLookup lookup, void *userdata, uint64_t now_usec);
