/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kernel.c - the kernel backend: real IOMMU groups through sysfs, VFIO cdevs and iommufd */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "common/path.h"
#include "daemon/core/device.h"
#include "daemon/core/group.h"
#include "kernel-internal.h"
#include "kernel-sysfs.h"
#include "kernel-uapi.h"
#include "worker.h"

/*
 * Claiming a group binds the VFIO cdev of each of its functions that has no
 * DMA-API driver left (the core detached those first) to our iommufd: a
 * function on no driver is moved to vfio-pci for it, one on vfio-pci
 * already is only opened (kernel-vfio.c); the sysfs writes, which run
 * drivers' remove() and probe(), are done on worker threads (kernel-jobs.c).
 * Bridges stay as they are:
 * vfio-pci does not take them and they do no DMA. A failure half-way undoes
 * what was done, so the core's rollback finds every function as it left it
 * (L5). Release closes the cdevs and gives the functions it moved back to no
 * driver, for the core to rebind the recorded one. Every driver a claim
 * takes away is recorded on disk before (kernel-state.h), so that a daemon
 * started after a crash gives it back.
 *
 * Domains, spaces, PASIDs and page requests are in kernel-domain.c. An
 * add-on on top (the selftest's mock devices) brings devices of its own
 * kind (KernelDeviceOps) and hears of detaches and answers (KernelHooks).
 */


int kernel_unsupported(KernelBackend *k, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(k->why, sizeof(k->why), fmt, ap);
        va_end(ap);
        return -ENOSYS;
}

const char *kernel_backend_why(const KernelBackend *k) {
        return k->why[0] ? k->why : "this kernel lacks an iommufd feature that operation needs";
}

int kernel_backend_new(KernelBackend **ret, const char *sysfs, const char *devdir, const char *state_dir) {
        _cleanup_(kernel_backend_freep) KernelBackend *k = calloc(1, sizeof(*k));
        char path[PATH_MAX];
        int r;

        if (!k)
                return -ENOMEM;
        k->iommufd = k->fault_fd = k->request_fd = -1;
        k->sysfs = strdup(sysfs);
        k->devdir = strdup(devdir);
        if (!k->sysfs || !k->devdir || kernel_state_init(&k->state, state_dir) < 0)
                return -ENOMEM;
        r = worker_new(&k->worker);
        if (r < 0)
                return r;
        k->request_fd = epoll_create1(EPOLL_CLOEXEC);
        if (k->request_fd < 0)
                return -errno;
        if (path_printf(path, sizeof(path), "%s/iommu", devdir) < 0)
                return -ENAMETOOLONG;
        k->iommufd = open(path, O_RDWR | O_CLOEXEC);
        if (k->iommufd < 0)
                return -errno;
        r = kernel_probe_features(k);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(k);
        return 0;
}

KernelBackend *kernel_backend_free(KernelBackend *k) {
        if (!k)
                return NULL;
        /* First: no job reports to anyone after this (kernel-jobs.c). */
        k->worker = worker_free(k->worker);
        if (k->fault_fd >= 0)
                close(k->fault_fd);
        if (k->request_fd >= 0)
                close(k->request_fd);
        /* Closing iommufd destroys every object left in it (an add-on's devices too). */
        if (k->iommufd >= 0)
                close(k->iommufd);
        kernel_state_done(&k->state);
        hashmap_clear(&k->devices_by_id);
        free(k->sysfs);
        free(k->devdir);
        free(k);
        return NULL;
}

FaultQueue *kernel_fault_queue(KernelBackend *k) {
        return k->fault_fd >= 0 ? &k->queue : NULL;
}

Device *kernel_device_by_id(KernelBackend *k, uint32_t dev_id) {
        KernelDevice *kd = hashmap_find_entry(KernelDevice, x, &k->devices_by_id, id_node, hash_u64(dev_id),
                                              x->dev_id == dev_id);

        return kd ? kd->device : NULL;
}

void kernel_device_file(KernelBackend *k, Device *d, KernelDevice *kd) {
        kd->device = d;
        d->backend_data = kd;
        hashmap_put(&k->devices_by_id, &kd->id_node, hash_u64(kd->dev_id));
}

void kernel_device_unfile(KernelBackend *k, Device *d) {
        KernelDevice *kd = d->backend_data;

        if (!kd)
                return;
        hashmap_remove(&k->devices_by_id, &kd->id_node);
        kd->device = NULL;
        d->backend_data = NULL;
}

void kernel_destroy_object(KernelBackend *k, uint32_t id) {
        IommuDestroy cmd = { .size = sizeof(cmd), .id = id };

        if (id)
                (void)kernel_ioctl(k->iommufd, KIOMMU_DESTROY, &cmd);
}

int kernel_ioas_alloc(KernelBackend *k, uint32_t *ret) {
        IommuIoasAlloc cmd = { .size = sizeof(cmd) };
        int r = kernel_ioctl(k->iommufd, KIOMMU_IOAS_ALLOC, &cmd);

        if (r >= 0)
                *ret = cmd.out_ioas_id;
        return r;
}

int kernel_load_topology(KernelBackend *k, Core *c, char **ret_skipped) {
        SysfsDevice *v = NULL;
        size_t n = 0;
        int r;

        k->core = c;
        r = sysfs_enumerate(k->sysfs, &v, &n, ret_skipped);
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = device_add(c, &v[i].info, NULL);
        free(v);
        return r;
}

void kernel_set_hooks(KernelBackend *k, const KernelHooks *hooks, void *userdata) {
        k->hooks = hooks;
        k->hooks_userdata = userdata;
}

/*
 * The model follows what sysfs says of one function after a uevent. The
 * event itself is only a hint: by the time it is read, the daemon may have
 * changed the function again (a claim unbinds, a release rebinds), so the
 * driver is read back from sysfs and the model changed only where the two
 * differ. Groups owned by a client are left alone: their functions are the
 * daemon's, and the kernel keeps DMA-API drivers out of them itself.
 */
static int kernel_reconcile_driver(KernelBackend *k, Device *d) {
        char driver[64];
        int r = 0;

        if (d->group->owner || d->group->transit != GROUP_STEADY || (d->backend_data && !kernel_vfio_of(d)))
                return 0;       /* the daemon's, or being changed by the daemon (kernel-jobs.c) */
        sysfs_read_driver(k->sysfs, d->name, driver, sizeof(driver));
        if (strcmp(driver, d->driver ? d->driver : "") == 0)
                return 0;
        if (d->driver)
                r = device_remove_driver(d);
        if (r >= 0 && driver[0])
                r = device_probe_driver(d, driver, sysfs_driver_manages_dma(k->sysfs, d->name, driver));
        return r < 0 ? r : 1;
}

/*
 * Idempotent (L1): a function the model no longer has is not removed twice
 * (after a device request, kernel_vfio_requests() removed it before its
 * "unbind" and "remove" arrive), and one sysfs shows but the model lacks is
 * read in on any event of it, not only "add": a function whose vfio-pci was
 * unbound by hand went from the model on the request and stays in sysfs.
 */
int kernel_device_event(KernelBackend *k, const char *action, const char *name) {
        Device *d = core_find_device(k->core, name);
        SysfsDevice sd;
        int r;

        if (strcmp(action, "remove") == 0) {
                r = d ? device_unplug(k->core, name) : 0;
                return r < 0 ? r : !!d;
        }
        if (!d) {
                r = sysfs_read_device(k->sysfs, name, &sd);
                if (r == -ENOENT)
                        return 0;       /* not behind an IOMMU */
                if (r >= 0)
                        r = device_add(k->core, &sd.info, NULL);
                return r < 0 ? r : 1;
        }
        return d ? kernel_reconcile_driver(k, d) : 0;
}

/* The kernel took d back, or d goes with the model. */
static void kernel_device_release(void *ud, Device *d) {
        kernel_vfio_forget(ud, d);
        kernel_device_unfile(ud, d);    /* an add-on's device (a mock) */
}

const BackendOps kernel_ops = {
        .driver_detach = kernel_driver_detach,
        .driver_attach = kernel_driver_attach,
        .group_claim = kernel_group_claim,
        .group_release = kernel_group_release,
        .device_release = kernel_device_release,
        .domain_alloc = kernel_domain_alloc,
        .domain_free = kernel_domain_free,
        .domain_map = kernel_domain_map,
        .domain_unmap = kernel_domain_unmap,
        .slot_attach = kernel_slot_attach,
        .slot_detach = kernel_slot_detach,
        .fault_respond = kernel_fault_respond,
        .device_iommu_info = kernel_device_iommu_info,
        .domain_iova_ranges = kernel_domain_iova_ranges,
        .device_open = kernel_device_open,
        .device_take_back = kernel_device_take_back,
        .driver_hold = kernel_driver_hold,
        .driver_unhold = kernel_driver_unhold,
        .hold_driver = "vfio-pci",
};

/* Before anything is served: what a previous daemon, killed, left on
 * vfio-pci goes back to its driver, so that the groups read next are as
 * they were before its claims. */
int kernel_backend_open(KernelBackend **ret, const BackendOptions *opts) {
        KernelBackend *k = NULL;
        int r = kernel_backend_new(&k, opts->sysfs, opts->devdir, opts->state_dir);

        if (r == -ENOENT)
                backend_log(opts, BACKEND_LOG_ERR "%s/iommu does not exist: this kernel has no iommufd "
                            "(CONFIG_IOMMUFD, Linux 6.2 or later; see 'man iommud').", opts->devdir);
        else if (r < 0)
                backend_log(opts, BACKEND_LOG_ERR "cannot open %s/iommu: %s", opts->devdir, strerror(-r));
        if (r < 0)
                return r;
        k->log = opts->log;
        k->log_userdata = opts->log_userdata;
        (void)kernel_state_restore(opts);       /* it says what it did, and what it could not */
        *ret = k;
        return 0;
}

static int kernel_class_new(Backend **ret, const BackendOptions *opts) {
        _cleanup_(kernel_backend_freep) KernelBackend *k = NULL;
        int r;

        r = kernel_backend_open(&k, opts);
        if (r >= 0)
                r = backend_new(ret, &kernel_backend_class, k, &kernel_ops, k);
        if (r < 0)
                return r;
        TAKE_PTR(k);
        return 0;
}

static void kernel_class_free(void *data) {
        kernel_backend_free(data);
}

static int kernel_class_load(void *data, Core *c, const BackendOptions *opts) {
        _cleanup_(freep) char *skipped = NULL;
        int r;

        r = kernel_load_topology(data, c, &skipped);
        if (r < 0)
                backend_log(opts, BACKEND_LOG_ERR "cannot read the IOMMU groups from sysfs: %s", strerror(-r));
        if (skipped)
                backend_log(opts, "left out, sysfs could not describe them:\n%s", skipped);
        return r;
}

static void kernel_class_describe(void *data, char *buf, size_t size) {
        kernel_features_describe(data, buf, size);
}

/* The kernel backend says which command the kernel refused (-EIO), which
 * kernel version has what is missing (-ENOSYS), or which mapping an attach
 * could not reserve IOVAs over (-EADDRINUSE). */
static const char *kernel_class_why(void *data, int r) {
        const KernelBackend *k = data;

        if (r == -EBUSY)
                return k->why_busy ? k->why : NULL;
        return r == -ENOSYS || r == -EIO || r == -EADDRINUSE ? kernel_backend_why(k) : NULL;
}

static FaultQueue *kernel_class_fault_queue(void *data) {
        return kernel_fault_queue(data);
}

static Device *kernel_class_device_by_fault_id(void *data, uint32_t dev_id) {
        return kernel_device_by_id(data, dev_id);
}

static int kernel_class_device_event(void *data, const char *action, const char *name) {
        return kernel_device_event(data, action, name);
}

static int kernel_class_request_fd(void *data) {
        return ((KernelBackend *)data)->request_fd;
}

static int kernel_class_request_read(void *data) {
        return kernel_vfio_requests(data);
}

static int kernel_class_worker_fd(void *data) {
        return worker_fd(((KernelBackend *)data)->worker);
}

static int kernel_class_worker_read(void *data) {
        return kernel_jobs_read(data);
}

static void kernel_class_drain(void *data, uint64_t timeout_usec) {
        kernel_jobs_drain(data, timeout_usec);
}

const BackendClass kernel_backend_class = {
        .name = "kernel",
        .new = kernel_class_new,
        .free = kernel_class_free,
        .load = kernel_class_load,
        .describe = kernel_class_describe,
        .why = kernel_class_why,
        .fault_queue = kernel_class_fault_queue,
        .device_by_fault_id = kernel_class_device_by_fault_id,
        .device_event = kernel_class_device_event,
        .request_fd = kernel_class_request_fd,
        .request_read = kernel_class_request_read,
        .worker_fd = kernel_class_worker_fd,
        .worker_read = kernel_class_worker_read,
        .drain = kernel_class_drain,
        .open_iommufd = kernel_open_iommufd,
};
