/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* selftest.c - the selftest backend: the kernel's iommufd mock devices, their DMA and checks */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/core/device.h"
#include "daemon/core/domain.h"
#include "daemon/core/fault.h"
#include "daemon/core/region.h"
#include "daemon/core/slot.h"
#include "kernel-internal.h"
#include "selftest-uapi.h"
#include "selftest.h"

/*
 * A mock device is born bound to our iommufd with its RID on an IOAS. Its
 * RID is moved at once to an empty HWPT allocated with
 * IOMMU_HWPT_ALLOC_PASID ("park"), because the kernel attaches a PASID only
 * while the RID's HWPT is PASID-compatible; a RID detach goes back there.
 * The KernelDevices of mocks are owned by KernelBackend.mocks; the model's
 * Device.backend_data borrows them.
 */

/* A DMA waiting for a page request; owned by KernelBackend.dmas. */
struct SelftestDma {
        DmaTransfer dma;        /* first: dma_transfer_finish() frees the SelftestDma */
        KernelBackend *k;       /* borrowed */
        uint64_t pos;           /* the next byte to translate */
        uint32_t grpid;         /* the page request it waits for; 0: none */
        uint64_t asked;         /* the page it asked for (asked once only) */
};
_Static_assert(offsetof(SelftestDma, dma) == 0, "dma_transfer_finish() frees the SelftestDma");

static int test_cmd(KernelBackend *k, IommuTestCmd *cmd) {
        cmd->size = sizeof(*cmd);
        return kernel_ioctl(k->iommufd, KIOMMU_TEST_CMD, cmd);
}

static int mock_create(KernelBackend *k, KernelDevice *kd) {
        IommuTestCmd cmd = { .op = KTEST_OP_MOCK_DOMAIN_FLAGS, .id = k->park_ioas };
        IommuHwptAlloc park = { .size = sizeof(park), .flags = KIOMMU_HWPT_ALLOC_PASID, .pt_id = k->park_ioas };
        int r;

        cmd.mock_domain_flags.dev_flags = KMOCK_FLAGS_DEVICE_PASID;
        r = test_cmd(k, &cmd);
        if (r < 0)
                return r;
        *kd = (KernelDevice) { .kind = KDEV_MOCK, .cdev = -1, .dev_id = cmd.mock_domain_flags.out_idev_id,
                               .stdev_id = cmd.mock_domain_flags.out_stdev_id };
        park.dev_id = kd->dev_id;
        r = kernel_ioctl(k->iommufd, KIOMMU_HWPT_ALLOC, &park);
        if (r >= 0) {
                kd->park_hwpt = park.out_hwpt_id;
                r = selftest_mock_attach(k, kd, 0, kd->park_hwpt);
        }
        if (r < 0) {
                kernel_destroy_object(k, kd->stdev_id);
                kernel_destroy_object(k, kd->park_hwpt);
        }
        return r;
}

int selftest_add_mocks(KernelBackend *k, Core *c, unsigned n) {
        int r;

        if (!k->features.selftest)
                return kernel_unsupported(k, "Mock devices need a kernel built with CONFIG_IOMMUFD_TEST");
        if (!k->features.pasid || k->fault_fd < 0)
                return kernel_unsupported(k, "Mock devices with PASIDs and page requests need Linux 6.15 or "
                                          "later; this is %u.%u", k->features.major, k->features.minor);
        k->core = c;
        k->mocks = calloc(n, sizeof(*k->mocks));
        if (!k->mocks)
                return -ENOMEM;
        r = kernel_ioas_alloc(k, &k->park_ioas);
        for (unsigned i = 0; r >= 0 && i < n; i++) {
                KernelDevice *kd = &k->mocks[i];
                char name[32];
                DeviceInfo info = {
                        .name = name, .group = SELFTEST_GROUP_BASE + i, .iommu = "iommufd-mock",
                        .pasid = true, .pri = true, .max_pasids = 1u << KMOCK_PASID_WIDTH,
                };
                Device *d;

                snprintf(name, sizeof(name), "mock%u", i);
                r = mock_create(k, kd);
                if (r < 0)
                        break;
                r = device_add(c, &info, &d);
                if (r >= 0)
                        d->backend_data = kd;
        }
        return r;
}

int selftest_mock_attach(KernelBackend *k, KernelDevice *kd, uint32_t pasid, uint32_t hwpt) {
        IommuTestCmd cmd = { .id = kd->stdev_id };

        if (pasid) {
                cmd.op = KTEST_OP_PASID_ATTACH;
                cmd.pasid_attach.pasid = pasid;
                cmd.pasid_attach.pt_id = hwpt;
        } else {
                cmd.op = KTEST_OP_MOCK_DOMAIN_REPLACE;
                cmd.mock_domain_replace.pt_id = hwpt;
        }
        return test_cmd(k, &cmd);
}

void selftest_mock_detach(KernelBackend *k, KernelDevice *kd, uint32_t pasid) {
        IommuTestCmd cmd = { .id = kd->stdev_id };

        if (!pasid) {
                (void)selftest_mock_attach(k, kd, 0, kd->park_hwpt);
                return;
        }
        cmd.op = KTEST_OP_PASID_DETACH;
        cmd.pasid_detach.pasid = pasid;
        (void)test_cmd(k, &cmd);
}

/* Whether the kernel's mock page table of hwpt maps iova to the page the
 * daemon sees at host. */
static bool kernel_maps(KernelBackend *k, uint32_t hwpt, uint64_t iova, const void *host) {
        IommuTestCmd cmd = { .op = KTEST_OP_MD_CHECK_MAP, .id = hwpt };

        cmd.check_map.iova = iova;
        cmd.check_map.length = PAGE_SIZE_4K;
        cmd.check_map.uptr = (uint64_t)(uintptr_t)host;
        return test_cmd(k, &cmd) == 0;
}

/*
 * Translates the page at iova through the slot as the model has it, and has
 * the kernel confirm it. Returns the daemon's address of the page, NULL with
 * *why when the model has no mapping with that access, or -EFAULT-worthy
 * disagreement in *why with *mismatch set.
 */
static uint8_t *translate(KernelBackend *k, Slot *slot, uint64_t iova, unsigned access, bool *mismatch,
                          char *why, size_t why_size) {
        const Mapping *m = iodomain_mapping_at(slot->domain, iova);
        uint8_t *host;

        *mismatch = false;
        if (!m || (m->access & access) != access || !m->region->backing) {
                snprintf(why, why_size, "0x%llx is not mapped %s at PASID %u", (unsigned long long)iova,
                         access & ACCESS_WRITE ? "writable" : "readable", slot->pasid);
                return NULL;
        }
        host = (uint8_t *)m->region->backing + m->region_offset + (iova - m->iova);
        if (!kernel_maps(k, kernel_domain_find_hwpt(k, slot->domain, slot->device), iova, host)) {
                snprintf(why, why_size, "the kernel's mock page table does not map 0x%llx to the memfd page "
                         "the model has there", (unsigned long long)iova);
                *mismatch = true;
                return NULL;
        }
        return host;
}

static void dma_finish(SelftestDma *dma, int error, const char *why) {
        dma_transfer_finish(&dma->dma, error, why);
}

static int trigger_iopf(SelftestDma *dma, uint64_t page) {
        const KernelDevice *kd = dma->dma.device->backend_data;
        IommuTestCmd cmd = { .op = KTEST_OP_TRIGGER_IOPF };

        dma->grpid = (dma->k->next_grpid++ % 511) + 1;  /* 9 bits in PCIe, 0 means none here */
        dma->asked = page;
        cmd.trigger_iopf.dev_id = kd->dev_id;
        cmd.trigger_iopf.pasid = dma->dma.pasid;
        cmd.trigger_iopf.grpid = dma->grpid;
        cmd.trigger_iopf.perm = dma->dma.write ? FAULT_PERM_WRITE : FAULT_PERM_READ;
        cmd.trigger_iopf.addr = page;
        return test_cmd(dma->k, &cmd);
}

/* Goes as far as the page tables allow; waits on a page request, or ends. */
static void dma_step(SelftestDma *dma) {
        DmaTransfer *t = &dma->dma;
        unsigned access = t->write ? ACCESS_WRITE : ACCESS_READ;
        Slot *slot = device_find_slot(t->device, t->pasid);
        uint64_t end = t->addr + t->len;
        char why[192];

        if (!slot) {
                snprintf(why, sizeof(why), "nothing is attached at PASID %u of %s", t->pasid, t->device->name);
                dma_finish(dma, -EFAULT, why);
                return;
        }
        while (dma->pos < end) {
                uint64_t page = dma->pos & ~(uint64_t)(PAGE_SIZE_4K - 1);
                uint64_t n = page + PAGE_SIZE_4K - dma->pos;
                bool mismatch;
                uint8_t *host;

                if (n > end - dma->pos)
                        n = end - dma->pos;
                host = translate(dma->k, slot, page, access, &mismatch, why, sizeof(why));
                if (!host && (mismatch || dma->asked == page || !t->device->pri_capable)) {
                        dma_finish(dma, -EFAULT, why);
                        return;
                }
                if (!host) {
                        if (trigger_iopf(dma, page) < 0)
                                dma_finish(dma, -EFAULT, "the kernel refused to raise the page request");
                        return; /* else selftest_dma_answered() goes on */
                }
                if (t->write)
                        memcpy(host + (dma->pos - page), t->buf + (dma->pos - t->addr), n);
                else
                        memcpy(t->buf + (dma->pos - t->addr), host + (dma->pos - page), n);
                dma->pos += n;
        }
        dma_finish(dma, 0, NULL);
}

int selftest_dma(KernelBackend *k, const DmaRequest *req) {
        const KernelDevice *kd = req->device->backend_data;
        SelftestDma *dma;
        DmaTransfer *t;
        int r;

        if (!kd || kd->kind != KDEV_MOCK)
                return -EOPNOTSUPP;     /* a real device's DMA is not ours to start */
        r = dma_transfer_new(req, sizeof(SelftestDma), &t);
        if (r < 0)
                return r;
        dma = container_of(t, SelftestDma, dma);
        dma->k = k;
        dma->pos = req->addr;
        dma->asked = UINT64_MAX;
        list_add_tail(&k->dmas, &t->link);
        dma_step(dma);
        return 0;
}

void selftest_dma_answered(KernelBackend *k, const FaultGroup *fg, FaultCode code) {
        SelftestDma *dma, *next;

        list_for_each_entry_safe(dma, next, &k->dmas, dma.link) {
                if (dma->dma.device != fg->device || dma->dma.pasid != fg->pasid || !dma->grpid ||
                    fg->n_records == 0 || fg->records[0].grpid != dma->grpid)
                        continue;
                dma->grpid = 0;
                if (code != FAULT_SUCCESS)
                        dma_finish(dma, -EFAULT, "the page request was refused (INVALID)");
                else
                        dma_step(dma);
                return;
        }
}

void selftest_dma_fail(KernelBackend *k, const Device *d, uint32_t pasid, const char *why) {
        SelftestDma *dma, *next;

        list_for_each_entry_safe(dma, next, &k->dmas, dma.link)
                if (!d || (dma->dma.device == d && dma->dma.pasid == pasid))
                        dma_finish(dma, -EFAULT, why);
}

int selftest_check_map(KernelBackend *k, Device *d, uint32_t pasid, uint64_t addr, uint64_t len,
                       char *why, size_t why_size) {
        Slot *slot = device_find_slot(d, pasid);
        int n = 0;

        if (!slot) {
                snprintf(why, why_size, "nothing is attached at PASID %u of %s", pasid, d->name);
                return -EFAULT;
        }
        for (uint64_t page = addr & ~(uint64_t)(PAGE_SIZE_4K - 1); page < addr + len; page += PAGE_SIZE_4K, n++) {
                bool mismatch;

                if (!translate(k, slot, page, ACCESS_READ, &mismatch, why, why_size))
                        return -EFAULT;
        }
        return n;
}

int selftest_check_attachment(KernelBackend *k, Device *d, uint32_t pasid, char *why, size_t why_size) {
        const KernelDevice *kd = d->backend_data;
        Slot *slot = device_find_slot(d, pasid);
        IommuTestCmd cmd = { .op = KTEST_OP_PASID_CHECK_HWPT };
        uint32_t hwpt = slot ? kernel_domain_find_hwpt(k, slot->domain, d) : 0;

        if (!kd || kd->kind != KDEV_MOCK)
                return -EOPNOTSUPP;
        cmd.id = kd->stdev_id;
        cmd.pasid_check.pasid = pasid;
        /* At the RID, "nothing" is the park HWPT. */
        cmd.pasid_check.hwpt_id = hwpt ? hwpt : pasid ? 0 : kd->park_hwpt;
        if (test_cmd(k, &cmd) < 0) {
                snprintf(why, why_size, "the model has %s at PASID %u of %s, the kernel has something else",
                         hwpt ? "a domain" : "nothing", pasid, d->name);
                return -EIO;
        }
        return hwpt ? 1 : 0;
}

static int selftest_class_new(Backend **ret, const BackendOptions *opts) {
        _cleanup_(backend_freep) Backend *kernel = NULL;
        int r;

        r = kernel_backend_class.new(&kernel, opts);
        if (r < 0)
                return r;
        kernel->class = &selftest_backend_class;
        *ret = TAKE_PTR(kernel);
        return 0;
}

static int selftest_class_load(void *data, Core *c, const BackendOptions *opts) {
        int r;

        r = kernel_backend_class.load(data, c, opts);
        if (r < 0)
                return r;
        r = selftest_add_mocks(data, c, SELFTEST_MOCKS);
        if (r < 0)
                backend_log(opts, "cannot make the selftest's mock devices: %s",
                            r == -ENOSYS ? kernel_backend_why(data) : strerror(-r));
        return r;
}

static void selftest_class_free(void *data) {
        kernel_backend_class.free(data);
}

static void selftest_class_describe(void *data, char *buf, size_t size) {
        kernel_backend_class.describe(data, buf, size);
}

static const char *selftest_class_why(void *data, int r) {
        return kernel_backend_class.why(data, r);
}

static FaultQueue *selftest_class_fault_queue(void *data) {
        return kernel_backend_class.fault_queue(data);
}

static Device *selftest_class_device_by_fault_id(void *data, uint32_t dev_id) {
        return kernel_backend_class.device_by_fault_id(data, dev_id);
}

static int selftest_class_device_event(void *data, const char *action, const char *name) {
        return kernel_backend_class.device_event(data, action, name);
}

static int selftest_class_dma(void *data, const DmaRequest *req) {
        return selftest_dma(data, req);
}

static int selftest_class_check_map(void *data, Device *d, uint32_t pasid, uint64_t addr, uint64_t len,
                                    char *why, size_t why_size) {
        return selftest_check_map(data, d, pasid, addr, len, why, why_size);
}

static int selftest_class_check_attachment(void *data, Device *d, uint32_t pasid, char *why, size_t why_size) {
        return selftest_check_attachment(data, d, pasid, why, why_size);
}

/* The kernel backend's class, with the mock devices' DMA and checks. */
const BackendClass selftest_backend_class = {
        .name = "selftest",
        .new = selftest_class_new,
        .free = selftest_class_free,
        .load = selftest_class_load,
        .describe = selftest_class_describe,
        .why = selftest_class_why,
        .fault_queue = selftest_class_fault_queue,
        .device_by_fault_id = selftest_class_device_by_fault_id,
        .device_event = selftest_class_device_event,
        .dma = selftest_class_dma,
        .check_map = selftest_class_check_map,
        .check_attachment = selftest_class_check_attachment,
};
