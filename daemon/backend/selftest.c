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
 * An add-on on top of the kernel backend, which never names it: the mock
 * devices are KernelDevices of their own kind (mock_device_ops), and the
 * kernel backend tells us of detaches and answers through KernelHooks.
 *
 * A mock device is born bound to our iommufd with its RID on an IOAS. Its
 * RID is moved at once to an empty HWPT allocated with
 * IOMMU_HWPT_ALLOC_PASID ("park"), because the kernel attaches a PASID only
 * while the RID's HWPT is PASID-compatible; a RID detach goes back there.
 */

typedef struct SelftestBackend {
        KernelBackend *kernel;  /* owned: the backend underneath */
        bool available;         /* the kernel answers IOMMU_TEST_CMD (CONFIG_IOMMUFD_TEST) */
        uint32_t park_ioas;     /* an empty IOAS for mock RIDs to sit on */
        struct SelftestMock *mocks;     /* owned array; Device.backend_data borrows &mocks[i].kd */
        ListNode dmas;          /* SelftestDma.dma.link */
        uint32_t next_grpid;    /* of the page requests the DMAs raise */
} SelftestBackend;

/* A mock device; owned by SelftestBackend.mocks for the device's life. */
typedef struct SelftestMock {
        KernelDevice kd;        /* what the kernel backend sees */
        uint32_t stdev_id;      /* the selftest object; destroying it unplugs */
        uint32_t park_hwpt;     /* a PASID-capable, empty HWPT for the RID */
} SelftestMock;

/* A DMA waiting for a page request; owned by SelftestBackend.dmas. */
typedef struct SelftestDma {
        DmaTransfer dma;        /* first: dma_transfer_finish() frees the SelftestDma */
        SelftestBackend *st;    /* borrowed */
        uint64_t pos;           /* the next byte to translate */
        uint32_t grpid;         /* the page request it waits for; 0: none */
        uint64_t asked;         /* the page it asked for (asked once only) */
        bool answering;         /* the daemon's answer is on its way to the kernel ... */
        uint32_t cookie;        /* ... under this cookie */
} SelftestDma;
_Static_assert(offsetof(SelftestDma, dma) == 0, "dma_transfer_finish() frees the SelftestDma");

static const KernelDeviceOps mock_device_ops;

static SelftestMock *mock_of(const Device *d) {
        KernelDevice *kd = d->backend_data;

        return kd && kd->ops == &mock_device_ops ? container_of(kd, SelftestMock, kd) : NULL;
}

static int test_cmd(KernelBackend *k, IommuTestCmd *cmd) {
        cmd->size = sizeof(*cmd);
        return kernel_ioctl(k->iommufd, KIOMMU_TEST_CMD, cmd);
}

static int mock_attach(KernelBackend *k, KernelDevice *kd, uint32_t pasid, uint32_t hwpt) {
        IommuTestCmd cmd = { .id = container_of(kd, SelftestMock, kd)->stdev_id };

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

static void mock_detach(KernelBackend *k, KernelDevice *kd, uint32_t pasid) {
        const SelftestMock *mock = container_of(kd, SelftestMock, kd);
        IommuTestCmd cmd = { .id = mock->stdev_id };

        if (!pasid) {
                (void)mock_attach(k, kd, 0, mock->park_hwpt);
                return;
        }
        cmd.op = KTEST_OP_PASID_DETACH;
        cmd.pasid_detach.pasid = pasid;
        (void)test_cmd(k, &cmd);
}

static const KernelDeviceOps mock_device_ops = {
        .rid_attach_cmd = "IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE",
        .pasid_attach_cmd = "IOMMU_TEST_OP_PASID_ATTACH",
        .attach = mock_attach,
        .detach = mock_detach,
};

static int mock_create(SelftestBackend *st, SelftestMock *mock) {
        KernelBackend *k = st->kernel;
        IommuTestCmd cmd = { .op = KTEST_OP_MOCK_DOMAIN_FLAGS, .id = st->park_ioas };
        IommuHwptAlloc park = { .size = sizeof(park), .flags = KIOMMU_HWPT_ALLOC_PASID, .pt_id = st->park_ioas };
        int r;

        cmd.mock_domain_flags.dev_flags = KMOCK_FLAGS_DEVICE_PASID;
        r = test_cmd(k, &cmd);
        if (r < 0)
                return r;
        *mock = (SelftestMock) { .kd = { .ops = &mock_device_ops, .dev_id = cmd.mock_domain_flags.out_idev_id },
                                 .stdev_id = cmd.mock_domain_flags.out_stdev_id };
        park.dev_id = mock->kd.dev_id;
        r = kernel_ioctl(k->iommufd, KIOMMU_HWPT_ALLOC, &park);
        if (r >= 0) {
                mock->park_hwpt = park.out_hwpt_id;
                r = mock_attach(k, &mock->kd, 0, mock->park_hwpt);
        }
        if (r < 0) {
                kernel_destroy_object(k, mock->stdev_id);
                kernel_destroy_object(k, mock->park_hwpt);
        }
        return r;
}

/* Adds n mock devices to c (after the kernel backend loaded its own).
 * -ENOSYS when the kernel lacks what they need (kernel_backend_why()). */
static int selftest_add_mocks(SelftestBackend *st, Core *c, unsigned n) {
        KernelBackend *k = st->kernel;
        int r;

        if (!st->available)
                return kernel_unsupported(k, "Mock devices need a kernel built with CONFIG_IOMMUFD_TEST");
        if (k->fault_fd < 0)
                return kernel_unsupported(k, "Mock devices with page requests need Linux 6.11 or later "
                                          "(IOMMU_FAULT_QUEUE_ALLOC: %s); this is %u.%u",
                                          k->features.fault_how, k->features.major, k->features.minor);
        st->mocks = calloc(n, sizeof(*st->mocks));
        if (!st->mocks)
                return -ENOMEM;
        r = kernel_ioas_alloc(k, &st->park_ioas);
        for (unsigned i = 0; r >= 0 && i < n; i++) {
                SelftestMock *mock = &st->mocks[i];
                char name[32];
                DeviceInfo info = {
                        .name = name, .group = SELFTEST_GROUP_BASE + i, .iommu = "iommufd-mock",
                        .pasid = true, .pri = true, .max_pasids = 1u << KMOCK_PASID_WIDTH,
                };
                Device *d;

                snprintf(name, sizeof(name), "mock%u", i);
                r = mock_create(st, mock);
                if (r == -EOPNOTSUPP || r == -EINVAL)
                        return kernel_unsupported(k, "Mock devices with PASIDs need Linux 6.15 or later (a "
                                                  "PASID mock with a PASID-compatible HWPT answered %s); "
                                                  "this is %u.%u", kernel_errno_name(r), k->features.major,
                                                  k->features.minor);
                if (r < 0)
                        break;
                /* The kernel made a PASID-compatible HWPT and attached it:
                 * it has PASID attach, whatever VFIO devices will say. */
                k->features.pasid = KERNEL_HAS_YES;
                snprintf(k->features.pasid_how, sizeof(k->features.pasid_how),
                         "IOMMU_HWPT_ALLOC_PASID made %s's park HWPT", name);
                r = device_add(c, &info, &d);
                if (r >= 0)
                        kernel_device_file(k, d, &mock->kd);
        }
        return r;
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

        dma->grpid = (dma->st->next_grpid++ % 511) + 1; /* 9 bits in PCIe, 0 means none here */
        dma->asked = page;
        cmd.trigger_iopf.dev_id = kd->dev_id;
        cmd.trigger_iopf.pasid = dma->dma.pasid;
        cmd.trigger_iopf.grpid = dma->grpid;
        cmd.trigger_iopf.perm = dma->dma.write ? FAULT_PERM_WRITE : FAULT_PERM_READ;
        cmd.trigger_iopf.addr = page;
        return test_cmd(dma->st->kernel, &cmd);
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
                host = translate(dma->st->kernel, slot, page, access, &mismatch, why, sizeof(why));
                if (!host && (mismatch || dma->asked == page || !t->device->pri_capable)) {
                        dma_finish(dma, -EFAULT, why);
                        return;
                }
                if (!host) {
                        if (trigger_iopf(dma, page) < 0)
                                dma_finish(dma, -EFAULT, "the kernel refused to raise the page request");
                        return; /* else on_fault_respond() goes on */
                }
                if (t->write)
                        memcpy(host + (dma->pos - page), t->buf + (dma->pos - t->addr), n);
                else
                        memcpy(t->buf + (dma->pos - t->addr), host + (dma->pos - page), n);
                dma->pos += n;
        }
        dma_finish(dma, 0, NULL);
}

/*
 * The DMA req asks of a mock device, as sim_dma() does it on the sim: the
 * pages the model does not map raise page requests one at a time, and each
 * page's translation is checked in the kernel before the copy.
 */
static int selftest_dma(void *data, const DmaRequest *req) {
        SelftestBackend *st = data;
        SelftestDma *dma;
        DmaTransfer *t;
        int r;

        if (!mock_of(req->device))
                return -EOPNOTSUPP;     /* a real device's DMA is not ours to start */
        r = dma_transfer_new(req, sizeof(SelftestDma), &t);
        if (r < 0)
                return r;
        dma = container_of(t, SelftestDma, dma);
        dma->st = st;
        dma->pos = req->addr;
        dma->asked = UINT64_MAX;
        list_add_tail(&st->dmas, &t->link);
        dma_step(dma);
        return 0;
}

/* KernelHooks: the daemon answered fg; its DMA waits for the kernel to take
 * the answer, which it knows by fg's cookie from now on. */
static void on_fault_respond(void *userdata, const FaultGroup *fg, FaultCode code) {
        SelftestBackend *st = userdata;
        SelftestDma *dma;

        list_for_each_entry(dma, &st->dmas, dma.link) {
                if (dma->dma.device != fg->device || dma->dma.pasid != fg->pasid || !dma->grpid ||
                    fg->n_records == 0 || fg->records[0].grpid != dma->grpid)
                        continue;
                dma->grpid = 0;
                dma->answering = true;
                dma->cookie = fg->cookie;
                return;
        }
}

/*
 * KernelHooks: the kernel took the answer to cookie, or refused it. A mock
 * device goes on only with what the kernel has: as a real device would on
 * the page response the IOMMU sends it. An answer the daemon meant but the
 * kernel never took leaves the DMA failed, not served.
 */
static void on_fault_sent(void *userdata, uint32_t cookie, FaultCode code, int error) {
        SelftestBackend *st = userdata;
        SelftestDma *dma, *next;

        list_for_each_entry_safe(dma, next, &st->dmas, dma.link) {
                if (!dma->answering || dma->cookie != cookie)
                        continue;
                dma->answering = false;
                if (error < 0)
                        dma_finish(dma, -EFAULT, "the kernel did not take iommud's answer to its page request");
                else if (code != FAULT_SUCCESS)
                        dma_finish(dma, -EFAULT, "the page request was refused (INVALID)");
                else
                        dma_step(dma);
                return;
        }
}

/* Fails every DMA of (d, pasid) that waits, or all of them when d is NULL. */
static void dma_fail(SelftestBackend *st, const Device *d, uint32_t pasid, const char *why) {
        SelftestDma *dma, *next;

        list_for_each_entry_safe(dma, next, &st->dmas, dma.link)
                if (!d || (dma->dma.device == d && dma->dma.pasid == pasid))
                        dma_finish(dma, -EFAULT, why);
}

/* KernelHooks: DMA through slot stops before the kernel detaches it. */
static void on_slot_detach(void *userdata, const Slot *slot) {
        dma_fail(userdata, slot->device, slot->pasid, "its PASID was detached while the DMA waited");
}

static const KernelHooks selftest_hooks = {
        .slot_detach = on_slot_detach,
        .fault_respond = on_fault_respond,
        .fault_sent = on_fault_sent,
};

/*
 * Checks [addr, addr + len) at (d, pasid) in the kernel: every page must be
 * mapped in the model and the kernel's mock page table must map it to the
 * same memfd page. Returns the number of pages checked, or -EFAULT with the
 * first page that differs in why.
 */
static int selftest_check_map(void *data, Device *d, uint32_t pasid, uint64_t addr, uint64_t len,
                              char *why, size_t why_size) {
        SelftestBackend *st = data;
        Slot *slot = device_find_slot(d, pasid);
        int n = 0;

        if (!slot) {
                snprintf(why, why_size, "nothing is attached at PASID %u of %s", pasid, d->name);
                return -EFAULT;
        }
        for (uint64_t page = addr & ~(uint64_t)(PAGE_SIZE_4K - 1); page < addr + len; page += PAGE_SIZE_4K, n++) {
                bool mismatch;

                if (!translate(st->kernel, slot, page, ACCESS_READ, &mismatch, why, why_size))
                        return -EFAULT;
        }
        return n;
}

/* Asks the kernel what is attached at (d, pasid) and compares it with the
 * model. Returns 1 (attached), 0 (nothing), or -EIO with what differs in why. */
static int selftest_check_attachment(void *data, Device *d, uint32_t pasid, char *why, size_t why_size) {
        SelftestBackend *st = data;
        const SelftestMock *mock = mock_of(d);
        Slot *slot = device_find_slot(d, pasid);
        IommuTestCmd cmd = { .op = KTEST_OP_PASID_CHECK_HWPT };
        uint32_t hwpt = slot ? kernel_domain_find_hwpt(st->kernel, slot->domain, d) : 0;

        if (!mock)
                return -EOPNOTSUPP;
        cmd.id = mock->stdev_id;
        cmd.pasid_check.pasid = pasid;
        /* At the RID, "nothing" is the park HWPT. */
        cmd.pasid_check.hwpt_id = hwpt ? hwpt : pasid ? 0 : mock->park_hwpt;
        if (test_cmd(st->kernel, &cmd) < 0) {
                snprintf(why, why_size, "the model has %s at PASID %u of %s, the kernel has something else",
                         hwpt ? "a domain" : "nothing", pasid, d->name);
                return -EIO;
        }
        return hwpt ? 1 : 0;
}

/* Takes k on success only; *ret is untouched on failure. */
static int selftest_backend_new(SelftestBackend **ret, KernelBackend *k) {
        IommuTestCmd probe = { .op = 0 };
        SelftestBackend *st = calloc(1, sizeof(*st));

        if (!st)
                return -ENOMEM;
        st->kernel = k;
        /* A kernel without the command answers ENOTTY whatever the arguments. */
        st->available = test_cmd(k, &probe) != -ENOTTY;
        list_init(&st->dmas);
        kernel_set_hooks(k, &selftest_hooks, st);
        *ret = st;
        return 0;
}

static SelftestBackend *selftest_backend_free(SelftestBackend *st) {
        if (!st)
                return NULL;
        dma_fail(st, NULL, 0, "iommud is shutting down");
        /* Its iommufd going destroys the mock devices. */
        kernel_backend_free(st->kernel);
        free(st->mocks);
        free(st);
        return NULL;
}
DEFINE_POINTER_CLEANUP(SelftestBackend, selftest_backend_free)

static int selftest_class_new(Backend **ret, const BackendOptions *opts) {
        _cleanup_(kernel_backend_freep) KernelBackend *k = NULL;
        _cleanup_(selftest_backend_freep) SelftestBackend *st = NULL;
        int r;

        r = kernel_backend_open(&k, opts);
        if (r >= 0)
                r = selftest_backend_new(&st, k);
        if (r < 0)
                return r;
        TAKE_PTR(k);    /* st's now */
        r = backend_new(ret, &selftest_backend_class, st, &kernel_ops, st->kernel);
        if (r < 0)
                return r;
        TAKE_PTR(st);
        return 0;
}

static void selftest_class_free(void *data) {
        selftest_backend_free(data);
}

static int selftest_class_load(void *data, Core *c, const BackendOptions *opts) {
        SelftestBackend *st = data;
        int r;

        r = kernel_backend_class.load(st->kernel, c, opts);
        if (r < 0)
                return r;
        r = selftest_add_mocks(st, c, SELFTEST_MOCKS);
        if (r < 0)
                backend_log(opts, BACKEND_LOG_ERR "cannot make the selftest's mock devices: %s",
                            r == -ENOSYS ? kernel_backend_why(st->kernel) : strerror(-r));
        return r;
}

static void selftest_class_describe(void *data, char *buf, size_t size) {
        SelftestBackend *st = data;
        size_t n;

        kernel_backend_class.describe(st->kernel, buf, size);
        n = strlen(buf);
        snprintf(buf + n, size - n, ", selftest %s", st->available ? "yes" : "no (CONFIG_IOMMUFD_TEST)");
}

/* What the kernel backend does, on the kernel backend underneath. */
static const char *selftest_class_why(void *data, int r) {
        return kernel_backend_class.why(((SelftestBackend *)data)->kernel, r);
}

static FaultQueue *selftest_class_fault_queue(void *data) {
        return kernel_backend_class.fault_queue(((SelftestBackend *)data)->kernel);
}

static Device *selftest_class_device_by_fault_id(void *data, uint32_t dev_id) {
        return kernel_backend_class.device_by_fault_id(((SelftestBackend *)data)->kernel, dev_id);
}

static int selftest_class_device_event(void *data, const char *action, const char *name) {
        return kernel_backend_class.device_event(((SelftestBackend *)data)->kernel, action, name);
}

static int selftest_class_request_fd(void *data) {
        return kernel_backend_class.request_fd(((SelftestBackend *)data)->kernel);
}

static int selftest_class_request_read(void *data) {
        return kernel_backend_class.request_read(((SelftestBackend *)data)->kernel);
}

static int selftest_class_worker_fd(void *data) {
        return kernel_backend_class.worker_fd(((SelftestBackend *)data)->kernel);
}

static int selftest_class_worker_read(void *data) {
        return kernel_backend_class.worker_read(((SelftestBackend *)data)->kernel);
}

static int selftest_class_open_iommufd(void *data, int *ret_fd) {
        return kernel_open_iommufd(((SelftestBackend *)data)->kernel, ret_fd);
}

static void selftest_class_drain(void *data, uint64_t timeout_usec) {
        kernel_backend_class.drain(((SelftestBackend *)data)->kernel, timeout_usec);
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
        .request_fd = selftest_class_request_fd,
        .request_read = selftest_class_request_read,
        .worker_fd = selftest_class_worker_fd,
        .worker_read = selftest_class_worker_read,
        .drain = selftest_class_drain,
        .open_iommufd = selftest_class_open_iommufd,
        .dma = selftest_dma,
        .check_map = selftest_check_map,
        .check_attachment = selftest_check_attachment,
};
