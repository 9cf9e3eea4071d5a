/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fault-queue.h - reading page requests from a fault fd and answering them, in batches */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "daemon/core/types.h"
#include "fault-abi.h"

#define FAULT_QUEUE_BATCH 256   /* records per read(), responses per write() */

/*
 * The daemon's end of one fault queue: the kernel's iommufd fault fd, or
 * the sim backend's socket that speaks the same ABI. The fd is borrowed from
 * the backend that made it. Responses are buffered and written together, so
 * a batch of N page requests costs one read() and one write().
 */
typedef struct FaultQueue {
        int fd;                         /* borrowed */
        uint64_t source;                /* the core's key for this queue */
        IommuHwptPgfault in[FAULT_QUEUE_BATCH];
        size_t in_len;                  /* bytes of a partial record carried over */
        size_t in_done;                 /* records handed out by the last read */
        IommuHwptPageResponse out[FAULT_QUEUE_BATCH];
        size_t n_out;
        uint64_t reads, writes, records, responses;
} FaultQueue;

void fault_queue_init(FaultQueue *q, int fd, uint64_t source);

/*
 * One read() of up to FAULT_QUEUE_BATCH records. Returns the number of
 * records, 0 when none is waiting (EAGAIN), or a negative errno (-EPIPE at
 * end of file); *ret points at them in the queue's buffer (aligned, valid
 * until the next read).
 */
int fault_queue_read(FaultQueue *q, const IommuHwptPgfault **ret);

/* Buffers one response; writes the buffer out first when it is full. */
int fault_queue_respond(FaultQueue *q, uint32_t cookie, FaultCode code);
/* Writes every buffered response (one write()). */
int fault_queue_flush(FaultQueue *q);
