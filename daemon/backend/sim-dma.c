/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sim-dma.c - simulated devices: DMA through the I/O page table, page requests on a miss */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

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
        uint32_t cookie;
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

/* One page request group for the missing pages, written in one go. */
static int raise_page_requests(SimDma *dma, const uint64_t *missing, unsigned n) {
        static IommuHwptPgfault recs[MAX_GROUP_RECORDS];
        const DmaTransfer *t = &dma->dma;
        SimBackend *s = dma->sim;
        uint64_t end = t->addr + t->len;
        ssize_t k;

        dma->cookie = ++s->next_cookie;
        for (unsigned i = 0; i < n; i++)
                recs[i] = (IommuHwptPgfault) {
                        .flags = (t->pasid ? FAULT_FLAG_PASID_VALID : 0) |
                                 (i + 1 == n ? FAULT_FLAG_LAST_PAGE : 0),
                        .dev_id = (uint32_t)(uintptr_t)t->device->backend_data,
                        .pasid = t->pasid,
                        .grpid = dma->cookie & 0x1ff,
                        .perm = t->write ? FAULT_PERM_WRITE : FAULT_PERM_READ,
                        .addr = missing[i],
                        .length = (uint32_t)(end - missing[i]),
                        .cookie = dma->cookie,
                };
        k = write(s->fds[0], recs, n * sizeof(recs[0]));
        if (k != (ssize_t)(n * sizeof(recs[0])))
                return k < 0 ? -errno : -EIO;
        return 0;
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
                why = "the fault queue is full";
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

static SimDma *find_waiting(SimBackend *s, uint32_t cookie) {
        SimDma *dma;

        list_for_each_entry(dma, &s->pending, dma.link)
                if (dma->cookie == cookie)
                        return dma;
        return NULL;
}

int sim_process_responses(SimBackend *s) {
        const size_t sz = sizeof(IommuHwptPageResponse);
        ssize_t k;
        size_t n;

        k = read(s->fds[0], s->resp + s->resp_len, sizeof(s->resp) - s->resp_len);
        if (k < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : -errno;
        s->resp_len += (size_t)k;
        n = s->resp_len / sz;
        for (size_t i = 0; i < n; i++) {
                IommuHwptPageResponse resp;
                SimDma *dma;

                memcpy(&resp, s->resp + i * sz, sz);
                dma = find_waiting(s, resp.cookie);
                if (!dma)
                        continue;       /* its DMA already failed (slot detached) */
                dma->cookie = 0;
                if (resp.code != FAULT_SUCCESS) {
                        sim_dma_finish(dma, -EFAULT, "the page request was refused (INVALID)");
                        continue;
                }
                dma->retried = true;
                dma_step(dma);
        }
        s->resp_len -= n * sz;
        memmove(s->resp, s->resp + n * sz, s->resp_len);
        return (int)n;
}
