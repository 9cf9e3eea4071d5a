/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kernel-vfio.c - the kernel backend's PCI functions on vfio-pci: cdevs, device requests, holders */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/fd.h"
#include "common/path.h"
#include "daemon/core/device.h"
#include "daemon/core/group.h"
#include "kernel-internal.h"
#include "kernel-sysfs.h"
#include "proc-holder.h"
#include "kernel-uapi.h"

/*
 * A claimed function is bound to our iommufd through its VFIO cdev
 * (VFIO_DEVICE_BIND_IOMMUFD). A function on no driver is moved to vfio-pci
 * first (driver_override, then a probe), recorded before in the state file
 * (kernel-state.h); a function an administrator bound to vfio-pci (or a
 * vfio-pci variant driver: anything that made a VFIO cdev) is only opened,
 * and stays on its driver after the claim.
 *
 * Every bound cdev gets a device request eventfd (VFIO_DEVICE_SET_IRQS at
 * VFIO_PCI_REQ_IRQ_INDEX). Removing the function, or unbinding vfio-pci
 * from it, blocks in vfio_unregister_group_dev() (drivers/vfio/vfio_main.c)
 * until every fd of the device is closed, asking through
 * vfio_pci_core_request() (drivers/vfio/pci/vfio_pci_core.c) every 10 s,
 * which signals that eventfd. The eventfds are in one epoll fd the daemon
 * watches (BackendClass.request_fd); on a request the device goes from the
 * model like an unplug (its slots detached first, L2, its bonds stale, L3),
 * and device_release closes the cdev, which lets the kernel go on.
 */

#define CDEV_WAIT_USEC (5 * 1000 * 1000)

VfioDevice *kernel_vfio_of(const Device *d) {
        KernelDevice *kd = d->backend_data;

        return kd && kd->ops == &kernel_vfio_device_ops ? container_of(kd, VfioDevice, kd) : NULL;
}

/* The name of function name's VFIO cdev ("vfio0") if sysfs shows one: it
 * has a VFIO driver. Touches nothing but its arguments: worker threads
 * call it. */
int kernel_find_cdev(const char *sysfs, const char *name, char *buf, size_t size) {
        char path[PATH_MAX];
        struct dirent *de;
        DIR *dir;
        int r = -ENOENT;

        if (path_printf(path, sizeof(path), "%s/bus/pci/devices/%s/vfio-dev", sysfs, name) < 0)
                return -ENAMETOOLONG;
        dir = opendir(path);
        while (dir && (de = readdir(dir)))
                if (strncmp(de->d_name, "vfio", 4) == 0) {
                        r = path_printf(buf, size, "%s", de->d_name);
                        break;
                }
        if (dir)
                closedir(dir);
        return r;
}

static int find_cdev(KernelBackend *k, const Device *d, char *name, size_t size) {
        return kernel_find_cdev(k->sysfs, d->name, name, size);
}

/* The cdev appears once vfio-pci's probe has registered the device
 * (vfio_pci_core_register_device()); a probe the driver core defers comes
 * later, so sysfs is asked again until it shows one or the wait is over. */
static int wait_cdev(const char *sysfs, const char *name, char *buf, size_t size) {
        struct timespec ts = { 0, 20 * 1000 * 1000 };

        for (unsigned waited = 0; waited < CDEV_WAIT_USEC; waited += 20000) {
                int r = kernel_find_cdev(sysfs, name, buf, size);

                if (r != -ENOENT)
                        return r;
                nanosleep(&ts, NULL);
        }
        return -ETIMEDOUT;
}

/* One of the character devices a holder search looks for. */
typedef struct CdevSet {
        const dev_t *rdev;
        size_t n;
} CdevSet;

static bool is_one_of(const struct stat *st, void *data) {
        const CdevSet *set = data;

        if (!S_ISCHR(st->st_mode))
                return false;
        for (size_t i = 0; i < set->n; i++)
                if (st->st_rdev == set->rdev[i])
                        return true;
        return false;
}

/* The pid of a process other than us with an fd on one of the character
 * devices rdev[] (0: none seen), and its name. */
static pid_t find_holder(const dev_t *rdev, size_t n, char *comm, size_t comm_size) {
        CdevSet set = { rdev, n };

        return proc_fd_holder(is_one_of, &set, comm, comm_size);
}

/* The device nodes through which another process may hold d: the cdevs of
 * its group's functions and the legacy group node /dev/vfio/N. */
static size_t group_nodes(KernelBackend *k, const Device *d, dev_t *rdev, size_t max) {
        char name[64], path[PATH_MAX];
        const Device *o;
        struct stat st;
        size_t n = 0;

        if (path_printf(path, sizeof(path), "%s/vfio/%u", k->devdir, d->group->id) == 0 && stat(path, &st) == 0)
                rdev[n++] = st.st_rdev;
        list_for_each_entry(o, &d->group->devices, group_link)
                if (n < max && find_cdev(k, o, name, sizeof(name)) == 0 &&
                    path_printf(path, sizeof(path), "%s/vfio/devices/%s", k->devdir, name) == 0 &&
                    stat(path, &st) == 0)
                        rdev[n++] = st.st_rdev;
        return n;
}

/*
 * VFIO_DEVICE_BIND_IOMMUFD refused: with a well-formed call the kernel says
 * EINVAL when the device is open already (vfio_df_open(): a cdev opens a
 * device once), EBUSY when its group is open through the legacy group node
 * (vfio_device_block_group()), EPERM when another iommufd owns the group's
 * DMA through another function (iommu_device_claim_dma_owner()). Each means
 * another process has it: -EBUSY, naming the device and, where /proc shows
 * it, that process.
 */
static int cdev_busy(KernelBackend *k, const Device *d, const char *path, int r) {
        char comm[32], holder[80] = "";
        dev_t rdev[16];
        pid_t pid = find_holder(rdev, group_nodes(k, d, rdev, ELEMENTSOF(rdev)), comm, sizeof(comm));

        if (pid > 0)
                snprintf(holder, sizeof(holder), " (pid %d, %s)", (int)pid, comm);
        snprintf(k->why, sizeof(k->why), "%s is in use by another process%s: the kernel refused to bind its VFIO "
                 "cdev %.64s to iommud (%s); stop that process or have it close the device, then claim again",
                 d->name, holder, path, strerror(-r));
        k->why_busy = true;
        return -EBUSY;
}

/* The device request eventfd, in the kernel and in our epoll fd. */
static int watch_request(KernelBackend *k, const Device *d, VfioDevice *vd) {
        VfioIrqSetEventfd set = {
                .argsz = sizeof(set), .flags = KVFIO_IRQ_SET_DATA_EVENTFD | KVFIO_IRQ_SET_ACTION_TRIGGER,
                .index = KVFIO_PCI_REQ_IRQ_INDEX, .start = 0, .count = 1,
        };
        struct epoll_event ev = { .events = EPOLLIN, .data.u32 = vd->kd.dev_id };
        int r;

        vd->request = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (vd->request < 0)
                return -errno;
        set.fd = vd->request;
        r = kernel_ioctl(vd->cdev, KVFIO_DEVICE_SET_IRQS, &set);
        if (r < 0) {
                snprintf(k->why, sizeof(k->why), "the kernel refused VFIO_DEVICE_SET_IRQS for the device request "
                         "of %s (%s); without it, removing %s would wait for iommud to exit, so it is not "
                         "claimed", d->name, strerror(-r), d->name);
                return -EIO;
        }
        return epoll_ctl(k->request_fd, EPOLL_CTL_ADD, vd->request, &ev) < 0 ? -errno : 0;
}

static void vfio_close(KernelBackend *k, VfioDevice *vd) {
        if (vd->request >= 0) {
                (void)epoll_ctl(k->request_fd, EPOLL_CTL_DEL, vd->request, NULL);
                vd->request = safe_close(vd->request);
        }
        /* The last fd of the device: iommufd unbinds it, vfio-pci may go. */
        vd->cdev = safe_close(vd->cdev);
}

static int vfio_open(KernelBackend *k, const Device *d, VfioDevice *vd, const char *cdev) {
        VfioDeviceBindIommufd bind = { .argsz = sizeof(bind), .iommufd = k->iommufd };
        char path[PATH_MAX];
        int r;

        if (path_printf(path, sizeof(path), "%s/vfio/devices/%s", k->devdir, cdev) < 0)
                return -ENAMETOOLONG;
        vd->cdev = open(path, O_RDWR | O_CLOEXEC);
        if (vd->cdev < 0)
                return -errno;
        r = kernel_ioctl(vd->cdev, KVFIO_DEVICE_BIND_IOMMUFD, &bind);
        if (r < 0) {
                vd->cdev = safe_close(vd->cdev);
                return r == -EINVAL || r == -EBUSY || r == -EPERM ? cdev_busy(k, d, path, r) : r;
        }
        vd->kd.dev_id = bind.out_devid;
        kernel_probe_pasid_attach(k, vd, d);
        r = watch_request(k, d, vd);
        if (r < 0)
                vfio_close(k, vd);
        return r;
}

int kernel_vfio_record_move(KernelBackend *k, const Device *d) {
        int r = 0;

        /* A driver the claim detached is recorded already (kernel_driver_detach()). */
        if (!kernel_state_find(&k->state, d->name))
                r = kernel_state_record(&k->state, d->name, NULL);
        if (r < 0) {
                snprintf(k->why, sizeof(k->why), "cannot record %s in %s/" KERNEL_STATE_FILE " before moving it "
                         "to vfio-pci (%s): after a crash nobody would give it back; make that directory "
                         "writable", d->name, k->state.dir, strerror(-r));
                k->why_busy = true;
                return -EBUSY;
        }
        return 0;
}

int kernel_vfio_move(const char *sysfs, const char *name, char *cdev, size_t size) {
        int r = sysfs_write(sysfs, "vfio-pci", "bus/pci/devices/%s/driver_override", name);

        if (r >= 0)
                r = sysfs_write(sysfs, name, "bus/pci/drivers_probe");
        return r < 0 ? r : wait_cdev(sysfs, name, cdev, size);
}

void kernel_vfio_unmove(const char *sysfs, const char *name) {
        (void)sysfs_write(sysfs, name, "bus/pci/drivers/vfio-pci/unbind");
        (void)sysfs_write(sysfs, "\n", "bus/pci/devices/%s/driver_override", name);
}

void kernel_vfio_forget_move(KernelBackend *k, const char *name) {
        const KernelStateEntry *e = kernel_state_find(&k->state, name);

        /* A driver to give back stays recorded until the core has bound it
         * (kernel_driver_attach()). */
        if (e && !e->driver[0])
                (void)kernel_state_forget(&k->state, name);
}

int kernel_vfio_needs_cdev(KernelBackend *k, const Device *d, bool *ret_move) {
        char cdev[64];

        *ret_move = !d->driver;
        if (*ret_move)
                return 1;
        /* A DMA-managing driver without a VFIO cdev (pci-stub, pcieport) stays as it is. */
        return find_cdev(k, d, cdev, sizeof(cdev)) >= 0;
}

int kernel_vfio_bind(KernelBackend *k, Device *d, const char *cdev, bool moved) {
        _cleanup_(freep) VfioDevice *vd = calloc(1, sizeof(*vd));
        char found[64];
        int r;

        if (!vd)
                return -ENOMEM;
        *vd = (VfioDevice) { .kd.ops = &kernel_vfio_device_ops, .cdev = -1, .request = -1, .moved = moved };
        if (!cdev) {
                r = find_cdev(k, d, found, sizeof(found));
                if (r < 0)
                        return r;
                cdev = found;
        }
        r = vfio_open(k, d, vd, cdev);
        if (r < 0)
                return r;
        kernel_device_file(k, d, &TAKE_PTR(vd)->kd);
        return 0;
}

bool kernel_vfio_release(KernelBackend *k, Device *d) {
        VfioDevice *vd = kernel_vfio_of(d);
        bool moved;

        if (!vd)
                return false;
        moved = vd->moved;
        /* The cdev first: with no fd left, unbinding vfio-pci does not wait
         * (vfio_unregister_group_dev()). */
        vfio_close(k, vd);
        kernel_device_unfile(k, d);
        free(vd);
        return moved;
}

void kernel_vfio_forget(KernelBackend *k, Device *d) {
        VfioDevice *vd = kernel_vfio_of(d);
        bool moved;

        /* Gone: nothing to give back to it any more, cdev or not. */
        (void)kernel_state_forget(&k->state, d->name);
        if (!vd)
                return;
        moved = vd->moved;
        vfio_close(k, vd);      /* the kernel's wait ends here */
        kernel_device_unfile(k, d);
        free(vd);
        /* The kernel unbinds vfio-pci itself; an override of ours would keep
         * a function that stays (an unbind, not a removal) off its drivers. */
        if (moved)
                (void)sysfs_write(k->sysfs, "\n", "bus/pci/devices/%s/driver_override", d->name);
}

pid_t kernel_vfio_holder(KernelBackend *k, const Device *d, char *comm, size_t comm_size) {
        dev_t rdev[16];

        return find_holder(rdev, group_nodes(k, d, rdev, ELEMENTSOF(rdev)), comm, comm_size);
}

/* Binds again the devices of g whose binding kernel_device_open() closed. */
static void rebind_group(KernelBackend *k, Group *g) {
        Device *o;

        list_for_each_entry(o, &g->devices, group_link) {
                VfioDevice *vo = kernel_vfio_of(o);
                char cdev[64];

                if (vo && !vo->handed_out && vo->cdev < 0 && find_cdev(k, o, cdev, sizeof(cdev)) == 0)
                        (void)vfio_open(k, o, vo, cdev);
        }
}

int kernel_device_open(void *ud, Device *d, int *ret_fd) {
        KernelBackend *k = ud;
        VfioDevice *vd = kernel_vfio_of(d);
        char cdev[64], path[PATH_MAX];
        Device *o;
        int fd;

        k->why[0] = 0;
        if (!vd || find_cdev(k, d, cdev, sizeof(cdev)) < 0) {
                snprintf(k->why, sizeof(k->why), "%s has no VFIO cdev of the claim (a bridge, or a driver that "
                         "manages DMA without VFIO)", d->name);
                return -ENODEV;
        }
        if (path_printf(path, sizeof(path), "%s/vfio/devices/%s", k->devdir, cdev) < 0)
                return -ENAMETOOLONG;
        list_for_each_entry(o, &d->group->devices, group_link) {
                VfioDevice *vo = kernel_vfio_of(o);

                if (vo && vo->cdev >= 0)
                        vfio_close(k, vo);      /* unbinds it from our iommufd */
        }
        fd = open(path, O_RDWR | O_CLOEXEC);
        if (fd < 0) {
                int r = -errno;

                snprintf(k->why, sizeof(k->why), "cannot open %.200s for the client (%s)", path, strerror(-r));
                rebind_group(k, d->group);
                return r;
        }
        vd->handed_out = true;
        *ret_fd = fd;
        return 0;
}

int kernel_open_iommufd(void *data, int *ret_fd) {
        KernelBackend *k = data;
        char path[PATH_MAX];
        int fd;

        if (path_printf(path, sizeof(path), "%s/iommu", k->devdir) < 0)
                return -ENAMETOOLONG;
        fd = open(path, O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        *ret_fd = fd;
        return 0;
}

int kernel_vfio_requests(KernelBackend *k) {
        struct epoll_event ev[8];
        int n, done = 0;

        n = epoll_wait(k->request_fd, ev, ELEMENTSOF(ev), 0);
        if (n < 0)
                return errno == EINTR ? 0 : -errno;
        for (int i = 0; i < n; i++) {
                /* By dev_id: an earlier one of this batch may have taken it along. */
                Device *d = kernel_device_by_id(k, ev[i].data.u32);
                VfioDevice *vd = d ? kernel_vfio_of(d) : NULL;
                char name[64];
                uint64_t count;

                if (!vd || path_printf(name, sizeof(name), "%s", d->name) < 0)
                        continue;
                (void)!read(vd->request, &count, sizeof(count));
                if (d->restore_driver)
                        kernel_log(k, BACKEND_LOG_NOTICE "%s: the kernel asks for it back (removed, or vfio-pci "
                                   "unbound): detached and closed; it had %s before its claim (if it stays, 'echo %s > "
                                   "/sys/bus/pci/drivers/%s/bind' gives it back)", name, d->restore_driver, name,
                                   d->restore_driver);
                else
                        kernel_log(k, BACKEND_LOG_NOTICE "%s: the kernel asks for it back (removed, or vfio-pci "
                                   "unbound): detached and closed", name);
                if (device_unplug(k->core, name) >= 0)
                        done++;
        }
        return done;
}
