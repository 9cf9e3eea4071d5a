/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sim.c - the simulation backend: an in-process IOMMU model for machines without one */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/core/device.h"
#include "daemon/core/domain.h"
#include "daemon/core/fault.h"
#include "daemon/core/group.h"
#include "daemon/core/region.h"
#include "daemon/core/slot.h"
#include "common/pagemap.h"
#include "sim-internal.h"
#include "worker.h"
#include "sim-iommu.h"
#include "sim-topology.h"
#include "topology.h"

/*
 * The simulated IOMMU keeps one I/O page table per domain: IOVA page ->
 * the daemon's mapping of the client's memfd page, with the access bits in
 * the pointer's low bits (pages are 4 KiB aligned). Device DMA copies through
 * it (sim-dma.c), so device writes land in the client's own pages.
 */

int sim_backend_new(SimBackend **ret) {
        _cleanup_(sim_backend_freep) SimBackend *s = calloc(1, sizeof(*s));
        int r;

        if (!s)
                return -ENOMEM;
        list_init(&s->pending);
        list_init(&s->handouts);
        r = worker_new(&s->worker);
        if (r < 0)
                return r;
        r = sim_fault_queue_new(&s->faults);
        if (r < 0)
                return r;
        fault_queue_init(&s->queue, sim_fault_queue_fd(s->faults), SIM_FAULT_SOURCE);
        fault_queue_set_io(&s->queue, &sim_fault_io, s->faults);
        *ret = TAKE_PTR(s);
        return 0;
}

SimBackend *sim_backend_free(SimBackend *s) {
        if (!s)
                return NULL;
        s->worker = worker_free(s->worker);    /* first: no job reports after this */
        sim_dma_fail_all(s, NULL, 0, "the simulator is shutting down");
        sim_handouts_free(s);
        for (size_t i = 0; i < s->n_refuse_unbind; i++)
                free(s->refuse_unbind[i]);
        free(s->refuse_unbind);
        sim_fault_queue_free(s->faults);
        sim_topology_free(s->topology);
        free(s->devices_by_id);
        free(s);
        return NULL;
}

FaultQueue *sim_fault_queue(SimBackend *s) {
        return &s->queue;
}

SimFaultQueue *sim_fault_backend(SimBackend *s) {
        return s->faults;
}

int sim_device_fd(const SimBackend *s) {
        return sim_fault_device_fd(s->faults);
}

bool sim_refuses_unbind(const SimBackend *s, const char *device) {
        for (size_t i = 0; i < s->n_refuse_unbind; i++)
                if (strcmp(s->refuse_unbind[i], device) == 0)
                        return true;
        return false;
}

static int sim_add_refuse_unbind(SimBackend *s, const char *device) {
        char **a = realloc(s->refuse_unbind, (s->n_refuse_unbind + 1) * sizeof(*a));

        if (!a)
                return -ENOMEM;
        s->refuse_unbind = a;
        a[s->n_refuse_unbind] = strdup(device);
        if (!a[s->n_refuse_unbind])
                return -ENOMEM;
        s->n_refuse_unbind++;
        return 0;
}

/* Gives every device an id, as iommufd does at VFIO_DEVICE_BIND_IOMMUFD,
 * and indexes them by it: the ids are 1..n, so an array is the index. */
static int sim_number_devices(SimBackend *s) {
        Device **v, *d;
        size_t n = s->next_dev_id;

        list_for_each_entry(d, &s->core->devices, core_link)
                if (!d->backend_data)
                        n++;
        v = realloc(s->devices_by_id, (n ? n : 1) * sizeof(*v));
        if (!v)
                return -ENOMEM;
        s->devices_by_id = v;
        list_for_each_entry(d, &s->core->devices, core_link)
                if (!d->backend_data) {
                        v[s->next_dev_id] = d;
                        d->backend_data = (void *)(uintptr_t)++s->next_dev_id;
                }
        return 0;
}

Device *sim_device_by_id(SimBackend *s, uint32_t dev_id) {
        return dev_id >= 1 && dev_id <= s->next_dev_id ? s->devices_by_id[dev_id - 1] : NULL;
}

/* The device goes from the model: its id names nothing any more, and a
 * handed-out fd of it is let go. */
static void sim_device_release(void *ud, Device *d) {
        SimBackend *s = ud;
        uintptr_t id = (uintptr_t)d->backend_data;

        sim_handout_release(ud, d);

        if (id >= 1 && id <= s->next_dev_id)
                s->devices_by_id[id - 1] = NULL;
        d->backend_data = NULL;
}

int sim_load_topology(SimBackend *s, Core *c, const char *path, char **ret_error) {
        SimTopology *t = NULL;
        int r;

        s->core = c;
        if (!path)
                r = topology_load(c, sim_default_topology, sim_default_topology_size);
        else {
                r = sim_topology_parse_file(path, &t, ret_error);
                for (size_t i = 0; r >= 0 && i < t->n_devices; i++)
                        if (t->refuse_unbind[i])
                                r = sim_add_refuse_unbind(s, t->devices[i].name);
                if (r >= 0)
                        r = topology_load(c, t->devices, t->n_devices);
        }
        if (r >= 0)
                r = sim_number_devices(s);
        /* Its IOMMUs answer for the devices from now on (sim-iommu.c). */
        sim_topology_free(s->topology);
        s->topology = t;
        return r;
}

/*
 * A driver whose remove() or probe() the topology says takes time
 * (unbind_ms, probe_ms) has it done off the event loop, as the kernel
 * backend does (kernel-jobs.c): the operation answers -EINPROGRESS, a
 * thread sleeps that long, and the core hears of the result through
 * group_backend_done() when the loop reads the worker's fd.
 */
typedef struct SimDriverJob {
        WorkerJob job;                  /* first */
        SimBackend *s;                  /* borrowed: only done() uses it, while the worker lives */
        uint32_t group, seq;
        unsigned ms;
        int result;
} SimDriverJob;

static int sim_driver_job_run(WorkerJob *job) {
        SimDriverJob *j = (SimDriverJob *)job;
        struct timespec ts = { j->ms / 1000, (long)(j->ms % 1000) * 1000000 };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
        return j->result;
}

static void sim_driver_job_done(WorkerJob *job, int r) {
        SimDriverJob *j = (SimDriverJob *)job;

        (void)group_backend_done(j->s->core, j->group, j->seq, r,
                                 r == -ETIMEDOUT ? "the simulated driver did not finish within 30 s" : NULL);
}

static void sim_driver_job_free(WorkerJob *job) {
        free(job);
}

/* How long d's driver takes to unbind (probe: to probe), in ms; 0: no time. */
static unsigned sim_driver_ms(const SimBackend *s, const Device *d, bool probe) {
        for (size_t i = 0; s->topology && i < s->topology->n_devices; i++)
                if (strcmp(s->topology->devices[i].name, d->name) == 0)
                        return probe ? s->topology->probe_ms[i] : s->topology->unbind_ms[i];
        return 0;
}

static int sim_driver_later(SimBackend *s, const Device *d, unsigned ms, int result) {
        SimDriverJob *j;

        if (ms == 0)
                return result;
        j = calloc(1, sizeof(*j));
        if (!j)
                return -ENOMEM;
        *j = (SimDriverJob) { .s = s, .group = d->group->id, .seq = d->group->wait_seq, .ms = ms,
                              .result = result };
        j->job = (WorkerJob) { .key = d->group->id, .timeout_usec = 30ull * 1000 * 1000, .run = sim_driver_job_run,
                               .done = sim_driver_job_done, .free = sim_driver_job_free };
        if (worker_submit(s->worker, &j->job) < 0) {
                free(j);
                return result;  /* no thread: it takes no time, then */
        }
        return -EINPROGRESS;
}

static int sim_driver_detach(void *ud, Device *d) {
        SimBackend *s = ud;

        return sim_driver_later(s, d, sim_driver_ms(s, d, false), sim_refuses_unbind(s, d->name) ? -EIO : 0);
}

/* Driver binding is the core's bookkeeping; the sim has no driver model
 * beyond the time a probe takes. */
static int sim_driver_attach(void *ud, Device *d, const char *driver) {
        SimBackend *s = ud;

        return sim_driver_later(s, d, sim_driver_ms(s, d, true), 0);
}

/* As the kernel backend: vfio-pci takes a function on no driver (or on
 * vfio-pci already), and one whose driver manages DMA itself is left. */
static int sim_driver_hold(void *ud, Device *d) {
        SimBackend *s = ud;

        if (d->driver && strcmp(d->driver, sim_ops.hold_driver) != 0)
                return 0;
        return sim_driver_later(s, d, sim_driver_ms(s, d, true), 1);
}

static int sim_driver_unhold(void *ud, Device *d) {
        SimBackend *s = ud;

        return sim_driver_later(s, d, sim_driver_ms(s, d, false), sim_refuses_unbind(s, d->name) ? -EIO : 0);
}

static int sim_group_claim(void *ud, Group *g) {
        return 0;
}

static void sim_group_release(void *ud, Group *g) {
}

static int sim_domain_alloc(void *ud, IoDomain *dom) {
        SimDomain *sd = calloc(1, sizeof(*sd));

        if (!sd)
                return -ENOMEM;
        dom->backend_data = sd;
        return 0;
}

static void sim_domain_free(void *ud, IoDomain *dom) {
        SimDomain *sd = dom->backend_data;

        pagemap_clear(&sd->ptes);
        free(sd);
        dom->backend_data = NULL;
}

static void sim_unmap_pages(SimDomain *sd, uint64_t iova, uint64_t n) {
        for (uint64_t i = 0; i < n; i++)
                pagemap_remove(&sd->ptes, iova / PAGE_SIZE_4K + i);
}

static int sim_domain_map(void *ud, IoDomain *dom, const Mapping *m) {
        SimDomain *sd = dom->backend_data;
        uint8_t *host = m->region->backing;
        uint64_t n = m->length / PAGE_SIZE_4K;

        if (!host)
                return -EINVAL;         /* no memory behind the region */
        host += m->region_offset;
        for (uint64_t i = 0; i < n; i++) {
                uintptr_t pte = (uintptr_t)(host + i * PAGE_SIZE_4K) | m->access;

                if (pagemap_put(&sd->ptes, m->iova / PAGE_SIZE_4K + i, (void *)pte) < 0) {
                        sim_unmap_pages(sd, m->iova, i);
                        return -ENOMEM;
                }
        }
        return 0;
}

static void sim_domain_unmap(void *ud, IoDomain *dom, const Mapping *m) {
        sim_unmap_pages(dom->backend_data, m->iova, m->length / PAGE_SIZE_4K);
}

/* Attaching is the core's slot bookkeeping (DMA looks the slot up), once the
 * IOVAs it would reserve are free, as the kernel checks. */
static int sim_slot_attach(void *ud, Slot *slot) {
        return sim_attach_check(ud, slot);
}

/*
 * DMA through the slot stops now: a DMA waiting on a page request fails.
 * Then, as iommufd_hwpt_detach_device() does, the queue answers INVALID
 * every group of that attachment it still holds, read or not, and forgets
 * their cookies (iommufd_auto_response_faults()).
 */
static void sim_slot_detach(void *ud, Slot *slot) {
        SimBackend *s = ud;

        sim_dma_fail_all(s, slot->device, slot->pasid, "its PASID was detached while the DMA waited");
        (void)sim_fault_detach(s->faults, slot->device, slot->pasid);
}

static void sim_fault_respond(void *ud, const FaultGroup *fg, FaultCode code) {
        SimBackend *s = ud;

        fault_queue_respond(&s->queue, fg->cookie, code);
}

const BackendOps sim_ops = {
        .driver_detach = sim_driver_detach,
        .driver_attach = sim_driver_attach,
        .group_claim = sim_group_claim,
        .group_release = sim_group_release,
        .domain_alloc = sim_domain_alloc,
        .domain_free = sim_domain_free,
        .domain_map = sim_domain_map,
        .domain_unmap = sim_domain_unmap,
        .slot_attach = sim_slot_attach,
        .slot_detach = sim_slot_detach,
        .fault_respond = sim_fault_respond,
        .device_iommu_info = sim_device_iommu_info,
        .domain_iova_ranges = sim_domain_iova_ranges,
        .device_release = sim_device_release,
        .device_open = sim_device_open,
        .device_take_back = sim_device_take_back,
        .driver_hold = sim_driver_hold,
        .driver_unhold = sim_driver_unhold,
        .hold_driver = "vfio-pci",
};

static int sim_class_new(Backend **ret, const BackendOptions *opts) {
        _cleanup_(sim_backend_freep) SimBackend *s = NULL;
        int r;

        r = sim_backend_new(&s);
        if (r < 0)
                return r;
        s->log = opts->log;
        s->log_userdata = opts->log_userdata;
        r = backend_new(ret, &sim_backend_class, s, &sim_ops, s);
        if (r < 0)
                return r;
        TAKE_PTR(s);
        return 0;
}

static void sim_class_free(void *data) {
        sim_backend_free(data);
}

static int sim_class_load(void *data, Core *c, const BackendOptions *opts) {
        _cleanup_(freep) char *error = NULL;
        int r;

        r = sim_load_topology(data, c, opts->topology, &error);
        if (r < 0)
                backend_log(opts, BACKEND_LOG_ERR "cannot load the topology %s:\n%s", opts->topology ? opts->topology : "",
                            error ? error : strerror(-r));
        return r;
}

/* An attach refused because of a mapping (sim_attach_check()) says which. */
static const char *sim_class_why(void *data, int r) {
        SimBackend *s = data;

        return r == -EADDRINUSE && s->why[0] ? s->why : NULL;
}

static FaultQueue *sim_class_fault_queue(void *data) {
        return sim_fault_queue(data);
}

static Device *sim_class_device_by_fault_id(void *data, uint32_t dev_id) {
        return sim_device_by_id(data, dev_id);
}

static int sim_class_device_side_fd(void *data) {
        return sim_device_fd(data);
}

static int sim_class_device_side_read(void *data) {
        return sim_process_responses(data);
}

/* The Simulator's kernel events are the core's own entry points: the sim
 * has no kernel underneath to tell. */
static int sim_class_probe_driver(void *data, Device *d, const char *driver, bool driver_managed_dma) {
        return device_probe_driver(d, driver, driver_managed_dma);
}

static int sim_class_remove_driver(void *data, Device *d) {
        return device_remove_driver(d);
}

static int sim_class_unplug(void *data, const char *name) {
        SimBackend *s = data;

        return device_unplug(s->core, name);
}

static int sim_class_dma(void *data, const DmaRequest *req) {
        return sim_dma(data, req);
}

static int sim_class_worker_fd(void *data) {
        return worker_fd(((SimBackend *)data)->worker);
}

static int sim_class_worker_read(void *data) {
        return worker_dispatch(((SimBackend *)data)->worker);
}

static void sim_class_drain(void *data, uint64_t timeout_usec) {
        worker_drain(((SimBackend *)data)->worker, timeout_usec);
}

const BackendClass sim_backend_class = {
        .name = "sim",
        .takes_topology = true,
        .new = sim_class_new,
        .free = sim_class_free,
        .load = sim_class_load,
        .why = sim_class_why,
        .fault_queue = sim_class_fault_queue,
        .device_by_fault_id = sim_class_device_by_fault_id,
        .device_side_fd = sim_class_device_side_fd,
        .device_side_read = sim_class_device_side_read,
        .probe_driver = sim_class_probe_driver,
        .remove_driver = sim_class_remove_driver,
        .unplug = sim_class_unplug,
        .dma = sim_class_dma,
        .worker_fd = sim_class_worker_fd,
        .worker_read = sim_class_worker_read,
        .drain = sim_class_drain,
        .open_iommufd = sim_open_iommufd,
};
