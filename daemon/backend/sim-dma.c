/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sim-dma.c - simulated devices: DMA through the I/O page table, page requests on a miss */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/core/device.h"
#include "daemon/core/domain.h"
#include "daemon/core/fault.h"
#include "daemon/core/slot.h"
#include "sim-internal.h"

#define MAX_GROUP_RECORDS (SIM_DMA_MAX / PAGE_SIZE_4K + 1)

/* A DMA in flight; owned by s->pending while it waits for a page response. */
typedef struct SimDma {
        SimBackend *sim;
        Device *device;                 /* borrowed; failed before its slot goes */
        uint32_t pasid;
        uint64_t addr;
        uint32_t len;
        bool write;
        bool retried;                   /* a page request was answered already */
        uint32_t cookie;
        uint8_t *buf;                   /* owned: what to write, or what was read */
        SimDmaDone done;
        void *userdata;
        ListNode link;
} SimDma;

static void sim_dma_finish(SimDma *dma, int error, const char *why) {
        list_del_init(&dma->link);
        if (error)
                dma->done(dma->userdata, error, why, NULL, 0);
        else
                dma->done(dma->userdata, 0, NULL, dma->write ? NULL : dma->buf,
                          dma->write ? 0 : dma->len);
        free(dma->buf);
        free(dma);
}

void sim_dma_fail_all(SimBackend *s, const Device *d, uint32_t pasid, const char *why) {
        SimDma *dma, *tmp;

        list_for_each_entry_safe(dma, tmp, &s->pending, link)
                if (!d || (dma->device == d && dma->pasid == pasid))
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

static SimDomain *dma_domain(SimDma *dma) {
        Slot *slot = device_find_slot(dma->device, dma->pasid);

        return slot && slot->attached ? slot->domain->backend_data : NULL;
}

/* Copies page by page if every page translates; returns how many do not. */
static unsigned dma_try(SimDma *dma, SimDomain *sd, uint64_t *missing, unsigned max) {
        uint64_t end = dma->addr + dma->len, a = dma->addr;
        unsigned n = 0;

        for (uint64_t p = a & ~(uint64_t)(PAGE_SIZE_4K - 1); p < end; p += PAGE_SIZE_4K)
                if (!translate(sd, p < a ? a : p, dma->write) && n < max)
                        missing[n++] = p < a ? a : p;
        if (n)
                return n;
        while (a < end) {
                uint64_t chunk = PAGE_SIZE_4K - a % PAGE_SIZE_4K;
                uint8_t *host = translate(sd, a, dma->write);

                if (chunk > end - a)
                        chunk = end - a;
                if (dma->write)
                        memcpy(host, dma->buf + (a - dma->addr), chunk);
                else
                        memcpy(dma->buf + (a - dma->addr), host, chunk);
                a += chunk;
        }
        return 0;
}

/* One page request group for the missing pages, written in one go. */
static int raise_page_requests(SimDma *dma, const uint64_t *missing, unsigned n) {
        static IommuHwptPgfault recs[MAX_GROUP_RECORDS];
        SimBackend *s = dma->sim;
        uint64_t end = dma->addr + dma->len;
        ssize_t k;

        dma->cookie = ++s->next_cookie;
        for (unsigned i = 0; i < n; i++)
                recs[i] = (IommuHwptPgfault) {
                        .flags = (dma->pasid ? FAULT_FLAG_PASID_VALID : 0) |
                                 (i + 1 == n ? FAULT_FLAG_LAST_PAGE : 0),
                        .dev_id = (uint32_t)(uintptr_t)dma->device->backend_data,
                        .pasid = dma->pasid,
                        .grpid = dma->cookie & 0x1ff,
                        .perm = dma->write ? FAULT_PERM_WRITE : FAULT_PERM_READ,
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
        SimDomain *sd = dma_domain(dma);
        const char *why = NULL;
        unsigned n = 0;

        if (!sd)
                why = "nothing is attached at that PASID of the device";
        else if ((n = dma_try(dma, sd, missing, MAX_GROUP_RECORDS)) == 0) {
                sim_dma_finish(dma, 0, NULL);
                return;
        }
        else if (!dma->device->pri_capable)
                why = "the address is not mapped and the device has no PRI to ask for it";
        else if (dma->retried)
                why = "the page request was answered but the page is still not mapped with that access";
        else if (raise_page_requests(dma, missing, n) < 0)
                why = "the fault queue is full";
        if (why)
                sim_dma_finish(dma, -EFAULT, why);
}

int sim_dma(SimBackend *s, Device *d, uint32_t pasid, uint64_t addr, uint32_t len, bool write,
            const uint8_t *data, SimDmaDone done, void *userdata) {
        uint8_t *buf;
        SimDma *dma;
        int r;

        r = sim_dma_buffer(addr, len, write, data, &buf);
        if (r < 0)
                return r;
        dma = calloc(1, sizeof(*dma));
        if (!dma) {
                free(buf);
                return -ENOMEM;
        }
        *dma = (SimDma) { .sim = s, .device = d, .pasid = pasid, .addr = addr, .len = len, .write = write,
                          .buf = buf, .done = done, .userdata = userdata };
        list_add_tail(&s->pending, &dma->link);
        dma_step(dma);
        return 0;
}

static SimDma *find_waiting(SimBackend *s, uint32_t cookie) {
        SimDma *dma;

        list_for_each_entry(dma, &s->pending, link)
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
