/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fault-queue.h - reading page requests from a fault fd and answering them, in batches */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "daemon/core/types.h"
#include "fault-abi.h"

#define FAULT_QUEUE_BATCH 256   /* records per read(), responses per write() */
/* The largest page request group the daemon reads: a read grows up to this
 * many records for a group that does not fit a batch. Bigger than the page
 * request queue of any IOMMU driver (VT-d's holds 2048 descriptors). */
#define FAULT_QUEUE_MAX_GROUP 4096

/*
 * How the queue does its read() and write(): a byte count or a negative
 * errno, with the semantics of iommufd's fault fd. NULL in FaultQueue.io
 * means read(2) and write(2) on the fd; the sim gives its own, which behave
 * like the kernel's (sim-fault.c).
 */
typedef struct FaultQueueIo {
        ssize_t (*read)(void *userdata, void *buf, size_t count);
        ssize_t (*write)(void *userdata, const void *buf, size_t count);
} FaultQueueIo;

/* Each response, once its write is done: error 0 when the kernel took it,
 * -EINVAL when it refused the cookie, else why the write failed. It runs
 * inside fault_queue_flush(), which may run inside a core operation: it must
 * neither call into the core nor respond on the queue. */
typedef void (*FaultQueueSent)(void *userdata, uint32_t cookie, FaultCode code, int error);
/* One line for the daemon's log. */
typedef void (*FaultQueueLog)(void *userdata, const char *line);

/*
 * The daemon's end of one fault queue: the kernel's iommufd fault fd, or
 * the sim backend's, which speaks the same ABI. The fd is borrowed from the
 * backend that made it; readable means a group waits to be read. Responses
 * are buffered and written together, so a batch of N page requests costs one
 * read() and one write().
 *
 * What the kernel does (iommufd_fault_fops_read() and _write() in
 * drivers/iommu/iommufd/eventq.c): a read returns whole groups only, and
 * -EINVAL when the first one does not fit; a write takes responses in order
 * and stops at the first one it refuses (a cookie it does not know, e.g.
 * one iommufd_auto_response_faults() answered when its attachment was
 * detached), returning the bytes done before it, or -EINVAL if none were.
 * So a refused response is dropped and the rest written again: nothing
 * stays in the buffer after a flush, and nothing is written twice.
 */
typedef struct FaultQueue {
        int fd;                         /* borrowed */
        uint64_t source;                /* the core's key for this queue */
        const FaultQueueIo *io;         /* static, or NULL: read(2)/write(2) */
        void *io_userdata;              /* borrowed */
        FaultQueueSent sent;            /* NULL: nobody asks */
        void *sent_userdata;            /* borrowed */
        FaultQueueLog log;              /* NULL: silent (counters only) */
        void *log_userdata;             /* borrowed */

        IommuHwptPgfault in[FAULT_QUEUE_MAX_GROUP];
        size_t in_cap;                  /* records the next read asks for */
        bool stuck;                     /* a group beyond FAULT_QUEUE_MAX_GROUP heads the queue (said) */
        IommuHwptPageResponse out[FAULT_QUEUE_BATCH];
        size_t n_out;
        uint64_t reads, writes, records, responses;
        uint64_t rejected;              /* responses the kernel refused (-EINVAL), dropped */
        uint64_t lost;                  /* responses dropped because a write failed otherwise */
} FaultQueue;

void fault_queue_init(FaultQueue *q, int fd, uint64_t source);
void fault_queue_set_io(FaultQueue *q, const FaultQueueIo *io, void *userdata);
void fault_queue_set_sent(FaultQueue *q, FaultQueueSent sent, void *userdata);
void fault_queue_set_log(FaultQueue *q, FaultQueueLog log, void *userdata);

/*
 * One read() of up to FAULT_QUEUE_BATCH records, more when the group at the
 * head of the queue is bigger (up to FAULT_QUEUE_MAX_GROUP). Returns the
 * number of records, 0 when none is waiting, -EMSGSIZE (said once in the
 * log) when the head group is bigger than any read the daemon makes, or
 * another negative errno; *ret points at them in the queue's buffer (valid
 * until the next read). Records come in whole groups.
 */
int fault_queue_read(FaultQueue *q, const IommuHwptPgfault **ret);

/* Buffers one response; writes the buffer out first when it is full. */
void fault_queue_respond(FaultQueue *q, uint32_t cookie, FaultCode code);
/*
 * Writes every buffered response; the buffer is empty afterwards, whatever
 * happened. A response the kernel refuses is logged, counted in rejected
 * and dropped, and the ones after it are written. Returns 0, -EINVAL if one
 * was refused, or the errno of a write that failed otherwise (the rest of
 * the buffer is then lost, logged and counted).
 */
int fault_queue_flush(FaultQueue *q);
