/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sim-dma.c - simulated devices: DMA through the I/O page table, page requests on a miss */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "daemon/core/device.h"
#include "daemon/core/domain.h"
#include "daemon/core/fault.h"
#include "daemon/core/slot.h"
#include "sim-internal.h"

#define MAX_GROUP_RECORDS (DMA_MAX / PAGE_SIZE_4K + 1)

/* A DMA in flight; owned by s->pending while it waits for a page response. */
typedef struct SimDma {
        DmaTransfer dma;                /* first: dma_transfer_finish() frees the SimDma */
        SimBackend *sim;                /* borrowed */
        bool retried;                   /* a page request was answered already */
        uint64_t tag;                   /* the group it waits for; 0: none */
} SimDma;
_Static_assert(offsetof(SimDma, dma) == 0, "dma_transfer_finish() frees the SimDma");

static void sim_dma_finish(SimDma *dma, int error, const char *why) {
        dma_transfer_finish(&dma->dma, error, why);
}

void sim_dma_fail_all(SimBackend *s, const Device *d, uint32_t pasid, const char *why) {
        SimDma *dma, *tmp;

        list_for_each_entry_safe(dma, tmp, &s->pending, dma.link)
                if (!d || (dma->dma.device == d && dma->dma.pasid == pasid))
                        sim_dma_finish(dma, -EFAULT, why);
}

/* The host address of one byte of the DMA, or NULL when untranslated. */
static uint8_t *translate(SimDomain *sd, uint64_t iova, bool write) {
        uintptr_t pte = (uintptr_t)pagemap_get(&sd->ptes, iova / PAGE_SIZE_4K);
        unsigned need = write ? ACCESS_WRITE : ACCESS_READ;

        if (!pte || (pte & need) != need)
                return NULL;
        return (uint8_t *)(pte & ~(uintptr_t)(PAGE_SIZE_4K - 1)) + iova % PAGE_SIZE_4K;
}

static SimDomain *dma_domain(const DmaTransfer *t) {
        Slot *slot = device_find_slot(t->device, t->pasid);

        return slot && slot->attached ? slot->domain->backend_data : NULL;
}

/* Copies page by page if every page translates; returns how many do not. */
static unsigned dma_try(DmaTransfer *t, SimDomain *sd, uint64_t *missing, unsigned max) {
        uint64_t end = t->addr + t->len, a = t->addr;
        unsigned n = 0;

        for (uint64_t p = a & ~(uint64_t)(PAGE_SIZE_4K - 1); p < end; p += PAGE_SIZE_4K)
                if (!translate(sd, p < a ? a : p, t->write) && n < max)
                        missing[n++] = p < a ? a : p;
        if (n)
                return n;
        while (a < end) {
                uint64_t chunk = PAGE_SIZE_4K - a % PAGE_SIZE_4K;
                uint8_t *host = translate(sd, a, t->write);

                if (chunk > end - a)
                        chunk = end - a;
                if (t->write)
                        memcpy(host, t->buf + (a - t->addr), chunk);
                else
                        memcpy(t->buf + (a - t->addr), host, chunk);
                a += chunk;
        }
        return 0;
}

/* One page request group for the missing pages, raised at the DMA's
 * attachment; the queue gives it its cookie when the daemon reads it. */
static int raise_page_requests(SimDma *dma, const uint64_t *missing, unsigned n) {
        static IommuHwptPgfault recs[MAX_GROUP_RECORDS];
        const DmaTransfer *t = &dma->dma;
        SimBackend *s = dma->sim;
        uint64_t end = t->addr + t->len;

        dma->tag = ++s->next_tag;
        for (unsigned i = 0; i < n; i++)
                recs[i] = (IommuHwptPgfault) {
                        .flags = (t->pasid ? FAULT_FLAG_PASID_VALID : 0) |
                                 (i + 1 == n ? FAULT_FLAG_LAST_PAGE : 0),
                        .dev_id = (uint32_t)(uintptr_t)t->device->backend_data,
                        .pasid = t->pasid,
                        .grpid = (uint32_t)(dma->tag & 0x1ff),
                        .perm = t->write ? FAULT_PERM_WRITE : FAULT_PERM_READ,
                        .addr = missing[i],
                        .length = (uint32_t)(end - missing[i]),
                };
        return sim_fault_raise(s->faults, t->device, t->pasid, recs, n, dma->tag);
}

/* Runs the DMA as far as it goes now: done, failed, or waiting. */
static void dma_step(SimDma *dma) {
        static uint64_t missing[MAX_GROUP_RECORDS];
        SimDomain *sd = dma_domain(&dma->dma);
        const char *why = NULL;
        unsigned n = 0;

        if (!sd)
                why = "nothing is attached at that PASID of the device";
        else if ((n = dma_try(&dma->dma, sd, missing, MAX_GROUP_RECORDS)) == 0) {
                sim_dma_finish(dma, 0, NULL);
                return;
        }
        else if (!dma->dma.device->pri_capable)
                why = "the address is not mapped and the device has no PRI to ask for it";
        else if (dma->retried)
                why = "the page request was answered but the page is still not mapped with that access";
        else if (raise_page_requests(dma, missing, n) < 0)
                why = "out of memory for its page request";
        if (why)
                sim_dma_finish(dma, -EFAULT, why);
}

int sim_dma(SimBackend *s, const DmaRequest *req) {
        DmaTransfer *t;
        SimDma *dma;
        int r;

        r = dma_transfer_new(req, sizeof(SimDma), &t);
        if (r < 0)
                return r;
        dma = container_of(t, SimDma, dma);
        dma->sim = s;
        list_add_tail(&s->pending, &t->link);
        dma_step(dma);
        return 0;
}

static SimDma *find_waiting(SimBackend *s, uint64_t tag) {
        SimDma *dma;

        list_for_each_entry(dma, &s->pending, dma.link)
                if (dma->tag == tag)
                        return dma;
        return NULL;
}

int sim_process_responses(SimBackend *s) {
        uint64_t tag;
        FaultCode code;
        int n = 0;

        while (n < FAULT_QUEUE_BATCH && sim_fault_next_answer(s->faults, &tag, &code) > 0) {
                SimDma *dma = find_waiting(s, tag);

                n++;
                if (!dma)
                        continue;       /* its DMA already failed (slot detached) */
                dma->tag = 0;
                if (code != FAULT_SUCCESS) {
                        sim_dma_finish(dma, -EFAULT, "the page request was refused (INVALID)");
                        continue;
                }
                dma->retried = true;
                dma_step(dma);
        }
        return n;
}
