/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sim-iommu.c - what a simulated IOMMU instance does: PASID width, capabilities, allowed IOVAs */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/core/device.h"
#include "daemon/core/domain.h"
#include "daemon/core/slot.h"
#include "sim-iommu.h"

/*
 * The sim answers what the kernel answers of a real IOMMU, from the same
 * rules (drivers/iommu/iommufd in Linux 7.2):
 *
 * - IOMMU_GET_HW_INFO (iommufd_get_hw_info()): the PASID width is the
 *   device's capped by the IOMMU's (the kernel's dev->iommu->max_pasids),
 *   0 for a device without PASIDs; ATS_NOT_SUPPORTED when the device or the
 *   IOMMU cannot do ATS; PASID exec/priv only with a PASID width.
 * - IOMMU_IOAS_IOVA_RANGES (iommufd_ioas_iova_ranges()): an IOAS allows
 *   everything until a HWPT is made for it, which reserves what lies
 *   outside that IOMMU's aperture (iopt_table_add_domain()) for as long as
 *   the HWPT lives; a device attached at its RID reserves its IOMMU's
 *   reserved regions (iopt_table_enforce_dev_resv_regions(), called for
 *   IOMMU_NO_PASID attachments only: a PASID attachment reserves nothing)
 *   until it is detached.
 * - An attach that would reserve IOVAs already mapped is refused with
 *   EADDRINUSE (iopt_reserve_iova()), and nothing changes.
 */

const SimIommu *sim_iommu(const SimBackend *s, const Iommu *iommu) {
        for (size_t i = 0; s->topology && i < s->topology->n_iommus; i++)
                if (strcmp(s->topology->iommus[i].name, iommu->name) == 0)
                        return &s->topology->iommus[i];
        return &sim_iommu_default;
}

/* The width of a PASID capability of n PASIDs (rounded up: a topology may
 * give any count, real capabilities give powers of two). */
static unsigned pasid_width(uint32_t n) {
        unsigned w = 0;

        while (w < 32 && (UINT64_C(1) << w) < n)
                w++;
        return w;
}

int sim_device_iommu_info(void *ud, const Device *d, DeviceIommuInfo *ret) {
        const SimIommu *i = sim_iommu(ud, d->iommu);
        unsigned w = d->pasid_capable ? pasid_width(d->device_max_pasids) : 0;
        uint64_t caps = i->capabilities & DEVICE_IOMMU_CAP_DIRTY_TRACKING;

        if (w > i->max_pasid_log2)
                w = i->max_pasid_log2;
        if (w)
                caps |= i->capabilities & (DEVICE_IOMMU_CAP_PASID_EXEC | DEVICE_IOMMU_CAP_PASID_PRIV);
        if (!d->ats_capable || (i->capabilities & DEVICE_IOMMU_CAP_ATS_NOT_SUPPORTED))
                caps |= DEVICE_IOMMU_CAP_ATS_NOT_SUPPORTED;
        *ret = (DeviceIommuInfo) { .max_pasid_log2 = (uint8_t)w, .capabilities = caps };
        return 0;
}

static uint64_t aperture_last(uint8_t bits) {
        return bits == 0 || bits >= 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
}

static int range_cmp(const void *a, const void *b) {
        const IovaRange *x = a, *y = b;

        return x->start < y->start ? -1 : x->start > y->start;
}

/* The reserved ranges of every device attached to dom at its RID, sorted;
 * *ret malloc'ed. */
static int collect_reserved(SimBackend *s, const IoDomain *dom, IovaRange **ret, size_t *ret_n) {
        IovaRange *v = NULL;
        size_t n = 0;
        const Slot *slot;

        /* The domain's own slots, not every device of the topology. */
        list_for_each_entry(slot, &dom->slots, domain_link) {
                const SimIommu *i;
                IovaRange *nv;

                if (slot->pasid != 0 || !slot->attached)
                        continue;
                i = sim_iommu(s, slot->device->iommu);
                nv = realloc(v, (n + i->n_reserved + 1) * sizeof(*v));
                if (!nv) {
                        free(v);
                        return -ENOMEM;
                }
                v = nv;
                memcpy(v + n, i->reserved, i->n_reserved * sizeof(*v));
                n += i->n_reserved;
        }
        if (n)
                qsort(v, n, sizeof(*v), range_cmp);
        *ret = v;
        *ret_n = n;
        return 0;
}

int sim_domain_iova_ranges(void *ud, const IoDomain *dom, IovaRange *buf, size_t room) {
        const SimDomain *sd = dom->backend_data;
        uint64_t last = aperture_last(sd->address_bits), next = 0;  /* next: the first IOVA not yet covered */
        bool more = true;               /* next has not run past UINT64_MAX */
        IovaRange *resv;
        size_t n_resv, n = 0;
        int r;

        r = collect_reserved(ud, dom, &resv, &n_resv);
        if (r < 0)
                return r;
        /* The holes between the reserved ranges (which may overlap), inside the aperture. */
        for (size_t i = 0; i < n_resv && more; i++) {
                if (resv[i].start > next && next <= last) {
                        if (n < room)
                                buf[n] = (IovaRange) { next, resv[i].start - 1 < last ? resv[i].start - 1 : last };
                        n++;
                }
                if (resv[i].last >= next) {
                        more = resv[i].last != UINT64_MAX;
                        next = resv[i].last + 1;
                }
        }
        if (more && next <= last) {
                if (n < room)
                        buf[n] = (IovaRange) { next, last };
                n++;
        }
        free(resv);
        return (int)n;
}

/* The first mapping of dom in [start, last], or NULL. */
static const Mapping *mapped_in(const IoDomain *dom, uint64_t start, uint64_t last) {
        const Mapping *m;

        list_for_each_entry(m, &dom->mappings, domain_link)
                if (m->iova <= last && m->iova + m->length - 1 >= start)
                        return m;
        return NULL;
}

int sim_attach_check(SimBackend *s, const Slot *slot) {
        const SimIommu *i = sim_iommu(s, slot->device->iommu);
        const IoDomain *dom = slot->domain;
        SimDomain *sd = dom->backend_data;
        const Mapping *m;

        /* The HWPT for that IOMMU: the aperture first, as the kernel makes
         * it before it attaches, and keeps it if the attach fails. */
        if (i->address_bits < 64 && (m = mapped_in(dom, aperture_last(i->address_bits) + 1, UINT64_MAX))) {
                snprintf(s->why, sizeof(s->why), "a mapping at IOVA 0x%" PRIx64 "+0x%" PRIx64 " lies beyond "
                         "the aperture of IOMMU %s (0x0-0x%" PRIx64 ")", m->iova, m->length,
                         slot->device->iommu->name, aperture_last(i->address_bits));
                return -EADDRINUSE;
        }
        if (sd->address_bits == 0 || i->address_bits < sd->address_bits)
                sd->address_bits = i->address_bits;
        for (size_t k = 0; slot->pasid == 0 && k < i->n_reserved; k++) {
                m = mapped_in(dom, i->reserved[k].start, i->reserved[k].last);
                if (m) {
                        snprintf(s->why, sizeof(s->why), "a mapping at IOVA 0x%" PRIx64 "+0x%" PRIx64 " lies in "
                                 "0x%" PRIx64 "-0x%" PRIx64 ", which IOMMU %s reserves for %s", m->iova,
                                 m->length, i->reserved[k].start, i->reserved[k].last,
                                 slot->device->iommu->name, slot->device->name);
                        return -EADDRINUSE;
                }
        }
        return 0;
}
