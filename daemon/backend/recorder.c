/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* recorder.c - an in-memory backend that logs every operation the core drives */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "daemon/core/device.h"
#include "daemon/core/domain.h"
#include "daemon/core/fault.h"
#include "daemon/core/group.h"
#include "daemon/core/slot.h"
#include "recorder.h"

void recorder_init(Recorder *rec) {
        memset(rec, 0, sizeof(*rec));
}

void recorder_clear(Recorder *rec) {
        for (size_t i = 0; i < rec->n_log; i++)
                free(rec->log[i]);
        rec->n_log = 0;
}

void recorder_done(Recorder *rec) {
        recorder_clear(rec);
        free(rec->log);
        rec->log = NULL;
        rec->n_alloc = 0;
}

void recorder_fail(Recorder *rec, RecorderOp op, int err, const char *match) {
        rec->fail_errno[op] = err;
        snprintf(rec->fail_match[op], sizeof(rec->fail_match[op]), "%s", match ? match : "");
}

/* Logs one line (plain malloc: the recorder is test machinery, and must not
 * consume the core's injected allocation failures). Returns the errno to
 * fail with, or 0. */
_attribute_printf_(3, 4)
static int record(Recorder *rec, RecorderOp op, const char *fmt, ...) {
        char buf[256];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);

        rec->calls[op]++;
        if (rec->fail_errno[op] && strstr(buf, rec->fail_match[op]))
                return rec->fail_errno[op];

        if (rec->n_log == rec->n_alloc) {
                size_t n = rec->n_alloc ? rec->n_alloc * 2 : 64;
                char **l = realloc(rec->log, n * sizeof(*l));
                if (!l)
                        abort();
                rec->log = l;
                rec->n_alloc = n;
        }
        rec->log[rec->n_log] = strdup(buf);
        if (!rec->log[rec->n_log])
                abort();
        rec->n_log++;
        if (rec->hook)
                rec->hook(rec->hook_data, op, buf);
        return 0;
}

static unsigned domain_no(const IoDomain *dom) {
        return (unsigned)(uintptr_t)dom->backend_data;
}

/* An op of async_ops answers later: it is in flight for g now. */
static int in_flight(Recorder *rec, RecorderOp op, const Group *g, int r) {
        if (r != 0 || !(rec->async_ops & (1u << op)))
                return -r;
        if (rec->in_flight)
                abort();        /* the core runs one operation per group; the tests one group */
        rec->in_flight = true;
        rec->in_flight_op = op;
        rec->in_flight_group = g->id;
        rec->in_flight_seq = g->wait_seq;
        return -EINPROGRESS;
}

int recorder_answer(Recorder *rec, Core *c, int r) {
        if (!rec->in_flight)
                return -ENOENT;
        rec->in_flight = false;
        if (r >= 0 && rec->in_flight_op == REC_GROUP_CLAIM)
                rec->live_groups++;
        return group_backend_done(c, rec->in_flight_group, rec->in_flight_seq, r, r < 0 ? "recorded failure" : NULL);
}

static int rec_driver_detach(void *ud, Device *d) {
        int r = record(ud, REC_DRIVER_DETACH, "driver_detach %s %s", d->name, d->driver);

        return in_flight(ud, REC_DRIVER_DETACH, d->group, r);
}

static int rec_driver_attach(void *ud, Device *d, const char *driver) {
        int r = record(ud, REC_DRIVER_ATTACH, "driver_attach %s %s", d->name, driver);

        return in_flight(ud, REC_DRIVER_ATTACH, d->group, r);
}

static int rec_group_claim(void *ud, Group *g) {
        Recorder *rec = ud;
        int r = record(rec, REC_GROUP_CLAIM, "group_claim %" PRIu32, g->id);

        r = in_flight(rec, REC_GROUP_CLAIM, g, r);
        if (r == 0)
                rec->live_groups++;
        return r;
}

static int rec_device_open(void *ud, Device *d, int *ret_fd) {
        Recorder *rec = ud;
        int r = record(rec, REC_DEVICE_OPEN, "device_open %s", d->name);

        if (r != 0)
                return -r;
        *ret_fd = 1000 + (int)rec->calls[REC_DEVICE_OPEN];
        return 0;
}

static int rec_device_take_back(void *ud, Device *d, uint32_t *ret_holder) {
        Recorder *rec = ud;
        int r = record(rec, REC_TAKE_BACK, "take_back %s", d->name);

        *ret_holder = rec->holder_pid;
        return in_flight(rec, REC_TAKE_BACK, d->group, r);
}

static int rec_driver_hold(void *ud, Device *d) {
        int r = in_flight(ud, REC_DRIVER_HOLD, d->group, record(ud, REC_DRIVER_HOLD, "driver_hold %s", d->name));

        return r == 0 ? 1 : r;
}

static int rec_driver_unhold(void *ud, Device *d) {
        return in_flight(ud, REC_DRIVER_UNHOLD, d->group, record(ud, REC_DRIVER_UNHOLD, "driver_unhold %s", d->name));
}

static void rec_group_release(void *ud, Group *g) {
        Recorder *rec = ud;

        record(rec, REC_GROUP_RELEASE, "group_release %" PRIu32, g->id);
        rec->live_groups--;
}

static void rec_device_release(void *ud, Device *d) {
        record(ud, REC_DEVICE_RELEASE, "device_release %s", d->name);
}

static int rec_domain_alloc(void *ud, IoDomain *dom) {
        Recorder *rec = ud;
        unsigned n = rec->next_domain + 1;
        int r;

        if (dom->kind == DOMAIN_SVA)
                r = record(rec, REC_DOMAIN_ALLOC, "domain_alloc d%u sva %s", n, dom->iommu->name);
        else
                r = record(rec, REC_DOMAIN_ALLOC, "domain_alloc d%u space", n);
        if (r)
                return -r;
        rec->next_domain = n;
        rec->live_domains++;
        dom->backend_data = (void *)(uintptr_t)n;
        return 0;
}

static void rec_domain_free(void *ud, IoDomain *dom) {
        Recorder *rec = ud;

        record(rec, REC_DOMAIN_FREE, "domain_free d%u", domain_no(dom));
        rec->live_domains--;
}

static int rec_domain_map(void *ud, IoDomain *dom, const Mapping *m) {
        Recorder *rec = ud;
        int r;

        r = record(rec, REC_MAP, "map d%u iova=0x%" PRIx64 " len=0x%" PRIx64 " access=%u",
                   domain_no(dom), m->iova, m->length, m->access);
        if (r == 0)
                rec->live_mappings += (long)(m->length / PAGE_SIZE_4K);
        return -r;
}

static void rec_domain_unmap(void *ud, IoDomain *dom, const Mapping *m) {
        Recorder *rec = ud;

        record(rec, REC_UNMAP, "unmap d%u iova=0x%" PRIx64 " len=0x%" PRIx64,
               domain_no(dom), m->iova, m->length);
        rec->live_mappings -= (long)(m->length / PAGE_SIZE_4K);
}

static int rec_slot_attach(void *ud, Slot *s) {
        Recorder *rec = ud;
        int r;

        r = record(rec, REC_ATTACH, "attach %s pasid=%" PRIu32 " d%u %s", s->device->name,
                   s->pasid, domain_no(s->domain), s->type == SLOT_SVA ? "sva" : "space");
        if (r == 0)
                rec->live_slots++;
        return -r;
}

/* As the kernel does after a detach (iommufd_auto_response_faults()), the
 * recorder answers the page requests it holds for the slot: the groups the
 * core has read and not answered. */
static void rec_slot_detach(void *ud, Slot *s) {
        Recorder *rec = ud;
        FaultGroup *fg;

        record(rec, REC_DETACH, "detach %s pasid=%" PRIu32 " d%u", s->device->name, s->pasid,
               domain_no(s->domain));
        rec->live_slots--;
        list_for_each_entry(fg, &s->faults, slot_link)
                record(rec, REC_AUTO_RESPOND, "auto-respond %s cookie=%" PRIu32 " INVALID", s->device->name,
                       fg->cookie);
}

static void rec_fault_respond(void *ud, const FaultGroup *fg, FaultCode code) {
        record(ud, REC_RESPOND, "respond %s cookie=%" PRIu32 " %s", fg->device->name,
               fg->cookie, code == FAULT_SUCCESS ? "SUCCESS" : "INVALID");
}

static int rec_device_iommu_info(void *ud, const Device *d, DeviceIommuInfo *ret) {
        Recorder *rec = ud;
        int r;

        if (!rec->info_iommu || strcmp(rec->info_iommu, d->iommu->name) != 0)
                return -ENODATA;
        r = record(rec, REC_IOMMU_INFO, "iommu_info %s pasid_log2=%u caps=0x%" PRIx64, d->name,
                   rec->info.max_pasid_log2, rec->info.capabilities);
        if (r == 0)
                *ret = rec->info;
        return -r;
}

static int rec_domain_iova_ranges(void *ud, const IoDomain *dom, IovaRange *buf, size_t n) {
        Recorder *rec = ud;
        int r;

        if (rec->n_ranges == 0)
                return -ENODATA;
        r = record(rec, REC_IOVA_RANGES, "iova_ranges d%u", domain_no(dom));
        if (r)
                return -r;
        for (size_t i = 0; i < rec->n_ranges && i < n; i++)
                buf[i] = rec->ranges[i];
        return (int)rec->n_ranges;
}

const BackendOps recorder_ops = {
        .driver_detach = rec_driver_detach,
        .driver_attach = rec_driver_attach,
        .group_claim = rec_group_claim,
        .group_release = rec_group_release,
        .device_release = rec_device_release,
        .domain_alloc = rec_domain_alloc,
        .domain_free = rec_domain_free,
        .domain_map = rec_domain_map,
        .domain_unmap = rec_domain_unmap,
        .slot_attach = rec_slot_attach,
        .slot_detach = rec_slot_detach,
        .fault_respond = rec_fault_respond,
        .device_iommu_info = rec_device_iommu_info,
        .domain_iova_ranges = rec_domain_iova_ranges,
        .device_open = rec_device_open,
        .device_take_back = rec_device_take_back,
        .driver_hold = rec_driver_hold,
        .driver_unhold = rec_driver_unhold,
        .hold_driver = "vfio-pci",
};

long recorder_find(const Recorder *rec, const char *prefix, size_t from) {
        for (size_t i = from; i < rec->n_log; i++)
                if (strncmp(rec->log[i], prefix, strlen(prefix)) == 0)
                        return (long)i;
        return -1;
}

unsigned recorder_count(const Recorder *rec, const char *prefix) {
        unsigned n = 0;

        for (size_t i = 0; i < rec->n_log; i++)
                if (strncmp(rec->log[i], prefix, strlen(prefix)) == 0)
                        n++;
        return n;
}

void recorder_dump(const Recorder *rec) {
        for (size_t i = 0; i < rec->n_log; i++)
                fprintf(stderr, "  [%zu] %s\n", i, rec->log[i]);
}
