/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sim-fault.h - the sim's fault queue: iommufd's fault fd (delivery, cookies, responses), in process */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "daemon/core/types.h"
#include "fault-queue.h"

/*
 * What the kernel's fault queue does, so that the daemon meets on the sim
 * what it meets on iommufd (drivers/iommu/iommufd/eventq.c, Linux 7.2):
 *
 *  - a device raises a whole page request group at one attachment (device,
 *    PASID); it waits in delivery order until read;
 *  - a read returns whole groups only, as many as fit; when the first does
 *    not fit, -EINVAL; with nothing queued, 0 (iommufd_fault_fops_read());
 *  - each group gets its cookie when it is read: the lowest free number from
 *    1 up (xa_alloc() on an XA_FLAGS_ALLOC1 array), so cookies are reused as
 *    soon as their group is answered;
 *  - a write takes responses in order and stops at the first with an unknown
 *    cookie or a bad code, returning the bytes done before it, or -EINVAL if
 *    there were none (iommufd_fault_fops_write());
 *  - detaching an attachment answers INVALID all of its groups, queued or
 *    read and unanswered, and forgets their cookies
 *    (iommufd_auto_response_faults(), from iommufd_hwpt_detach_device() and
 *    iommufd_hwpt_replace_device()).
 *
 * The daemon reads and writes through sim_fault_io with its FaultQueue;
 * the queue's fd is readable while a group waits to be read, as the
 * kernel's poll says. Answers reach the devices through the device fd,
 * readable while one waits (sim_fault_next_answer()).
 */
typedef struct SimFaultQueue SimFaultQueue;

typedef struct SimFaultStats {
        uint64_t raised;                /* groups the devices raised */
        uint64_t delivered;             /* groups read */
        uint64_t answered;              /* by a response written */
        uint64_t answered_by_detach;    /* INVALID when their attachment went */
        uint64_t refused;               /* writes refused with -EINVAL (nothing done) */
} SimFaultStats;

extern const FaultQueueIo sim_fault_io;        /* userdata: the SimFaultQueue */

int sim_fault_queue_new(SimFaultQueue **ret);
/* Frees the groups left without answering them: the devices are gone too. */
SimFaultQueue *sim_fault_queue_free(SimFaultQueue *q);

int sim_fault_queue_fd(const SimFaultQueue *q);
int sim_fault_device_fd(const SimFaultQueue *q);

/*
 * A device raises a group of n records (1..SIM_FAULT_MAX_RECORDS; the last
 * should carry LAST_PAGE) at its attachment (d, pasid), which the caller
 * found attached; d is compared, never dereferenced. The records' cookies
 * are set when the group is read. tag is the device's own name for the
 * group, given back with its answer. -EINVAL for a bad n, -ENOMEM.
 */
#define SIM_FAULT_MAX_RECORDS 65536u
int sim_fault_raise(SimFaultQueue *q, const Device *d, uint32_t pasid, const IommuHwptPgfault *recs,
                    unsigned n, uint64_t tag);

/* The attachment (d, pasid) is detached: its groups are answered INVALID.
 * Returns how many. */
unsigned sim_fault_detach(SimFaultQueue *q, const Device *d, uint32_t pasid);

/* The oldest answer not yet taken by the devices: 1 and its tag and code,
 * or 0 when there is none. */
int sim_fault_next_answer(SimFaultQueue *q, uint64_t *ret_tag, FaultCode *ret_code);

/* Groups read and not answered (the kernel's response table). */
unsigned sim_fault_pending(const SimFaultQueue *q);
const SimFaultStats *sim_fault_stats(const SimFaultQueue *q);
