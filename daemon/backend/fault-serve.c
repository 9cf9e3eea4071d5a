/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fault-serve.c - one batch of a fault queue: read, decide in the core, answer */
#include "daemon/core/fault.h"
#include "fault-serve.h"

static FaultRecord record_from_abi(const IommuHwptPgfault *p) {
        return (FaultRecord) {
                .flags = p->flags, .pasid = p->pasid, .grpid = p->grpid, .perm = p->perm,
                .addr = p->addr, .length = p->length, .cookie = p->cookie,
        };
}

int fault_queue_serve(FaultQueue *q, Core *c, FaultDeviceLookup lookup, void *userdata, uint64_t now_usec) {
        const IommuHwptPgfault *recs;
        Device *dev = NULL;
        uint32_t dev_id = 0;
        int n;

        n = fault_queue_read(q, &recs);
        if (n <= 0)
                return n;
        for (int i = 0; i < n; i++) {
                FaultRecord rec = record_from_abi(&recs[i]);

                /* Serving a batch unplugs nothing: a device found for one
                 * record is still there for the next. */
                if (!dev || recs[i].dev_id != dev_id) {
                        dev_id = recs[i].dev_id;
                        dev = lookup(userdata, dev_id);
                }

                if (!dev) {
                        /* A device the model doesn't know: nobody else will
                         * answer. Once per group (reads are whole groups, the
                         * last record flagged): a second answer by the same
                         * cookie would be refused. */
                        if (rec.flags & FAULT_FLAG_LAST_PAGE)
                                fault_queue_respond(q, rec.cookie, FAULT_INVALID);
                        continue;
                }
                /* A malformed record is dropped; its group is still answered
                 * once, when it completes or times out. */
                (void)fault_serve_record(c, q->source, dev, &rec, now_usec);
        }
        /* A refused or failed write is the queue's to log; the answers
         * after it went out, and the next batch is read all the same. */
        (void)fault_queue_flush(q);
        return n;
}
