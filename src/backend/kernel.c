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
#include <time.h>
#include <unistd.h>

#include "core/device.h"
#include "core/group.h"
#include "kernel-sysfs.h"
#include "kernel-uapi.h"
#include "kernel.h"

/*
 * Claiming a group moves each of its functions that has no DMA-API driver
 * left (the core detached those first) to vfio-pci: driver_override, then a
 * probe; waits for its VFIO cdev, opens it and binds it to our iommufd.
 * Bridges stay as they are: vfio-pci does not take them and they do no DMA.
 * A failure half-way undoes what was done, so the core's rollback finds
 * every function as it left it (L5). Release closes the cdevs and gives the
 * functions back to no driver, for the core to rebind the recorded one.
 *
 * Domains, slots, mappings and faults are the next steps of the kernel
 * backend; until they exist their operations say -ENOSYS.
 */

#define CDEV_WAIT_USEC (5 * 1000 * 1000)

struct KernelBackend {
        char *sysfs;            /* owned: "/sys" outside tests */
        char *devdir;           /* owned: "/dev" outside tests */
        int iommufd;            /* owned */
};

/* Per function while its group is claimed; owned by Device.backend_data. */
typedef struct KernelDevice {
        int cdev;               /* owned VFIO device cdev fd, bound to iommufd */
        uint32_t dev_id;        /* iommufd's id for it */
} KernelDevice;

int kernel_backend_new(KernelBackend **ret, const char *sysfs, const char *devdir) {
        _cleanup_(kernel_backend_freep) KernelBackend *k = calloc(1, sizeof(*k));
        char path[PATH_MAX];

        if (!k)
                return -ENOMEM;
        k->iommufd = -1;
        k->sysfs = strdup(sysfs);
        k->devdir = strdup(devdir);
        if (!k->sysfs || !k->devdir)
                return -ENOMEM;
        snprintf(path, sizeof(path), "%s/iommu", devdir);
        k->iommufd = open(path, O_RDWR | O_CLOEXEC);
        if (k->iommufd < 0)
                return -errno;
        *ret = TAKE_PTR(k);
        return 0;
}

KernelBackend *kernel_backend_free(KernelBackend *k) {
        if (!k)
                return NULL;
        if (k->iommufd >= 0)
                close(k->iommufd);
        free(k->sysfs);
        free(k->devdir);
        free(k);
        return NULL;
}

int kernel_load_topology(KernelBackend *k, Core *c, char **ret_skipped) {
        SysfsDevice *v = NULL;
        size_t n = 0;
        int r;

        r = sysfs_enumerate(k->sysfs, &v, &n, ret_skipped);
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = device_add(c, &v[i].info, NULL);
        free(v);
        return r;
}

/* Writes s to the sysfs attribute at sysfs/fmt... */
_attribute_printf_(3, 4)
static int sysfs_write(KernelBackend *k, const char *s, const char *fmt, ...) {
        char rel[PATH_MAX / 2], path[PATH_MAX];
        va_list ap;
        ssize_t w;
        int fd;

        va_start(ap, fmt);
        vsnprintf(rel, sizeof(rel), fmt, ap);
        va_end(ap);
        if (strlen(k->sysfs) + 1 + strlen(rel) >= sizeof(path))
                return -ENAMETOOLONG;
        snprintf(path, sizeof(path), "%s/%s", k->sysfs, rel);
        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        w = write(fd, s, strlen(s));
        close(fd);
        return w < 0 ? -errno : 0;
}

static bool is_bridge(const Device *d) {
        return (d->class_code >> 8) == 0x0604;
}

/* The name of the VFIO cdev sysfs made for d ("vfio0"), once it exists. */
static int wait_cdev(KernelBackend *k, const Device *d, char *name, size_t size) {
        char path[PATH_MAX];
        struct timespec ts = { 0, 20 * 1000 * 1000 };

        snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/vfio-dev", k->sysfs, d->name);
        for (unsigned waited = 0; waited < CDEV_WAIT_USEC; waited += 20000) {
                DIR *dir = opendir(path);
                struct dirent *de;

                while (dir && (de = readdir(dir)))
                        if (strncmp(de->d_name, "vfio", 4) == 0) {
                                snprintf(name, size, "%s", de->d_name);
                                closedir(dir);
                                return 0;
                        }
                if (dir)
                        closedir(dir);
                nanosleep(&ts, NULL);
        }
        return -ETIMEDOUT;
}

static int vfio_bind(KernelBackend *k, Device *d, KernelDevice *kd) {
        VfioDeviceBindIommufd bind = { .argsz = sizeof(bind), .iommufd = k->iommufd };
        char cdev[64], path[PATH_MAX];
        int r;

        r = sysfs_write(k, "vfio-pci", "bus/pci/devices/%s/driver_override", d->name);
        if (r >= 0)
                r = sysfs_write(k, d->name, "bus/pci/drivers_probe");
        if (r >= 0)
                r = wait_cdev(k, d, cdev, sizeof(cdev));
        if (r < 0)
                return r;
        snprintf(path, sizeof(path), "%s/vfio/devices/%s", k->devdir, cdev);
        kd->cdev = open(path, O_RDWR | O_CLOEXEC);
        if (kd->cdev < 0)
                return -errno;
        if (ioctl(kd->cdev, KVFIO_DEVICE_BIND_IOMMUFD, &bind) < 0) {
                r = -errno;
                close(kd->cdev);
                kd->cdev = -1;
                return r;
        }
        kd->dev_id = bind.out_devid;
        return 0;
}

/* Gives d back to no driver: cdev closed, vfio-pci unbound, override cleared. */
static void vfio_unbind(KernelBackend *k, Device *d) {
        KernelDevice *kd = d->backend_data;

        if (kd && kd->cdev >= 0)
                close(kd->cdev);
        free(kd);
        d->backend_data = NULL;
        (void)sysfs_write(k, d->name, "bus/pci/drivers/vfio-pci/unbind");
        (void)sysfs_write(k, "\n", "bus/pci/devices/%s/driver_override", d->name);
}

static int kernel_group_claim(void *ud, Group *g) {
        KernelBackend *k = ud;
        Device *d;
        int r = 0;

        list_for_each_entry(d, &g->devices, group_link) {
                KernelDevice *kd;

                if (is_bridge(d) || d->driver)
                        continue;       /* no DMA of its own, or a DMA-managing driver already */
                kd = calloc(1, sizeof(*kd));
                if (!kd) {
                        r = -ENOMEM;
                        break;
                }
                kd->cdev = -1;
                d->backend_data = kd;
                r = vfio_bind(k, d, kd);
                if (r < 0)
                        break;
        }
        if (r < 0)
                list_for_each_entry(d, &g->devices, group_link)
                        if (d->backend_data)
                                vfio_unbind(k, d);
        return r;
}

static void kernel_group_release(void *ud, Group *g) {
        Device *d;

        list_for_each_entry(d, &g->devices, group_link)
                if (d->backend_data)
                        vfio_unbind(ud, d);
}

static int kernel_driver_detach(void *ud, Device *d) {
        return sysfs_write(ud, d->name, "bus/pci/devices/%s/driver/unbind", d->name);
}

static int kernel_driver_attach(void *ud, Device *d, const char *driver) {
        return sysfs_write(ud, d->name, "bus/pci/drivers/%s/bind", driver);
}

static int kernel_not_yet(void *ud, IoDomain *dom) {
        return -ENOSYS;
}

static void kernel_domain_free(void *ud, IoDomain *dom) {
}

static int kernel_map(void *ud, IoDomain *dom, const Mapping *m) {
        return -ENOSYS;
}

static void kernel_unmap(void *ud, IoDomain *dom, const Mapping *m) {
}

static int kernel_slot_attach(void *ud, Slot *slot) {
        return -ENOSYS;
}

static void kernel_slot_detach(void *ud, Slot *slot) {
}

static void kernel_fault_respond(void *ud, const FaultGroup *fg, FaultCode code) {
}

const BackendOps kernel_ops = {
        .driver_detach = kernel_driver_detach,
        .driver_attach = kernel_driver_attach,
        .group_claim = kernel_group_claim,
        .group_release = kernel_group_release,
        .domain_alloc = kernel_not_yet,
        .domain_free = kernel_domain_free,
        .domain_map = kernel_map,
        .domain_unmap = kernel_unmap,
        .slot_attach = kernel_slot_attach,
        .slot_detach = kernel_slot_detach,
        .fault_respond = kernel_fault_respond,
};
