/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kernel-probe.c - what the kernel can do and what the IOMMU does for a device, asked of the kernel */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "daemon/core/device.h"
#include "daemon/core/domain.h"
#include "kernel-internal.h"
#include "kernel-uapi.h"

/*
 * Every feature is found by asking the kernel, never from its version
 * string (uname() gives the version only for the messages that say which
 * Linux has what is missing). What each question is and why its answer
 * cannot be mistaken, in Linux 7.2's drivers/iommu/iommufd/main.c and
 * drivers/vfio/device_cdev.c:
 *
 * - An iommufd command: iommufd_fops_ioctl() answers a command it does not
 *   have with -ENOIOCTLCMD (ENOTTY to us), and a known one whose size is
 *   below its minimum with EINVAL before it runs. A size of 0 is below
 *   every command's minimum, so it changes nothing and tells the two apart.
 *   So for IOMMU_IOAS_MAP_FILE, IOMMU_GET_HW_INFO, IOMMU_IOAS_IOVA_RANGES.
 * - Page requests: IOMMU_FAULT_QUEUE_ALLOC is asked for real; the queue it
 *   makes is the daemon's one fault queue.
 * - PASID attach is a flag of VFIO_DEVICE_ATTACH_IOMMUFD_PT on a device's
 *   cdev, not a command, so it needs a bound device: the first one a claim
 *   binds is asked with the flag and an object id of 0, which iommufd never
 *   gives (its ids start at 1). vfio_df_ioctl_attach_pt() of a kernel that
 *   has the flag (6.15) reaches iommufd_device_attach(), which finds no
 *   object 0 and answers ENOENT with nothing attached (the PASID it took
 *   for the attempt is given back); a driver without PASID attach answers
 *   EOPNOTSUPP; a kernel before 6.15 refuses any flag with EINVAL. Until a
 *   device is bound the feature is not known, and nothing needs it: a
 *   PASID attachment needs a claimed device. IOMMU_HWPT_ALLOC_PASID came
 *   with the same change; it has no probe of its own (its flags are checked
 *   only after the device and the IOAS were found, and then it allocates),
 *   and is asked for only where PASID attach answered.
 */

int kernel_ioctl(int fd, unsigned long request, void *arg) {
        return ioctl(fd, request, arg) < 0 ? -errno : 0;
}

const char *kernel_errno_name(int r) {
        const char *n = strerrorname_np(r < 0 ? -r : r);

        return r == 0 ? "success" : n ? n : "an unknown error";
}

void kernel_log(KernelBackend *k, const char *fmt, ...) {
        va_list ap;

        if (!k->log)
                return;
        va_start(ap, fmt);
        k->log(k->log_userdata, fmt, ap);
        va_end(ap);
}

/* Whether the kernel has iommufd command cmd: asked with a size of 0. */
static bool probe_command(KernelBackend *k, unsigned long cmd, const char *name, char *how, size_t size) {
        uint32_t zero = 0;
        int r = kernel_ioctl(k->iommufd, cmd, &zero);

        snprintf(how, size, "%s with a size of 0 answered %s", name, kernel_errno_name(r));
        return r != -ENOTTY;
}

static int probe_fault_queue(KernelBackend *k) {
        KernelFeatures *f = &k->features;
        IommuFaultAlloc fa = { .size = sizeof(fa) };
        int r;

        r = kernel_ioctl(k->iommufd, KIOMMU_FAULT_QUEUE_ALLOC, &fa);
        snprintf(f->fault_how, sizeof(f->fault_how), "IOMMU_FAULT_QUEUE_ALLOC %s",
                 r == 0 ? "made the daemon's queue" : r == -ENOTTY ? "answered ENOTTY" : "failed");
        if (r == -ENOTTY)
                return 0;
        if (r < 0)
                return r;
        k->fault_fd = (int)fa.out_fault_fd;
        k->fault_id = fa.out_fault_id;
        /* Non-blocking, as the event loop expects of a fault queue. */
        if (fcntl(k->fault_fd, F_SETFL, fcntl(k->fault_fd, F_GETFL) | O_NONBLOCK) < 0)
                return -errno;
        fault_queue_init(&k->queue, k->fault_fd, KERNEL_FAULT_SOURCE);
        fault_queue_set_sent(&k->queue, kernel_fault_sent, k);
        return 0;
}

int kernel_probe_features(KernelBackend *k) {
        KernelFeatures *f = &k->features;
        struct utsname u;

        if (uname(&u) == 0)
                (void)sscanf(u.release, "%u.%u", &f->major, &f->minor);
        f->map_file = probe_command(k, KIOMMU_IOAS_MAP_FILE, "IOMMU_IOAS_MAP_FILE", f->map_file_how,
                                    sizeof(f->map_file_how));
        f->hw_info = probe_command(k, KIOMMU_GET_HW_INFO, "IOMMU_GET_HW_INFO", f->hw_info_how,
                                   sizeof(f->hw_info_how));
        f->iova_ranges = probe_command(k, KIOMMU_IOAS_IOVA_RANGES, "IOMMU_IOAS_IOVA_RANGES",
                                       f->iova_ranges_how, sizeof(f->iova_ranges_how));
        f->pasid = KERNEL_HAS_UNKNOWN;
        snprintf(f->pasid_how, sizeof(f->pasid_how), "asked on the first claimed device's VFIO cdev");
        return probe_fault_queue(k);
}

void kernel_probe_pasid_attach(KernelBackend *k, VfioDevice *vd, const Device *d) {
        KernelFeatures *f = &k->features;
        VfioDeviceAttachIommufdPt cmd = {
                .argsz = sizeof(cmd), .flags = KVFIO_DEVICE_ATTACH_PASID, .pt_id = 0, .pasid = 1,
        };
        int r;

        if (f->pasid != KERNEL_HAS_UNKNOWN && f->pasid != KERNEL_HAS_YES)
                return;
        r = kernel_ioctl(vd->cdev, KVFIO_DEVICE_ATTACH_IOMMUFD_PT, &cmd);
        vd->no_pasid_attach = r == -EOPNOTSUPP;
        if (f->pasid == KERNEL_HAS_YES)
                return;         /* known: only this device's driver was in question */
        if (r == -ENOENT || r == -EOPNOTSUPP)
                f->pasid = KERNEL_HAS_YES;
        else if (r == -EINVAL)
                f->pasid = KERNEL_HAS_NO;
        else
                return;         /* no answer to go by: ask on the next device */
        snprintf(f->pasid_how, sizeof(f->pasid_how), "VFIO_DEVICE_ATTACH_IOMMUFD_PT with the PASID flag and "
                 "no object on %s's cdev answered %s", d->name, kernel_errno_name(r));
        kernel_log(k, BACKEND_LOG_INFO "PASID attach %s (%s)", f->pasid == KERNEL_HAS_YES ? "yes" : "no (needs 6.15)",
                   f->pasid_how);
}

void kernel_features_describe(const KernelBackend *k, char *buf, size_t size) {
        const KernelFeatures *f = &k->features;

        snprintf(buf, size, "Linux %u.%u: page requests %s (%s), IOMMU_IOAS_MAP_FILE %s (%s), "
                 "IOMMU_GET_HW_INFO %s (%s), IOMMU_IOAS_IOVA_RANGES %s (%s), PASID attach %s (%s)",
                 f->major, f->minor, k->fault_fd >= 0 ? "yes" : "no (needs 6.11)", f->fault_how,
                 f->map_file ? "yes" : "no (needs 6.13; memfds are mapped by address)", f->map_file_how,
                 f->hw_info ? "yes" : "no (needs 6.6; devices keep their own PASID width)", f->hw_info_how,
                 f->iova_ranges ? "yes" : "no (the kernel alone checks IOVAs)", f->iova_ranges_how,
                 f->pasid == KERNEL_HAS_YES ? "yes" : f->pasid == KERNEL_HAS_NO ? "no (needs 6.15)" : "not known yet",
                 f->pasid_how);
}

/* BackendOps.device_iommu_info: IOMMU_GET_HW_INFO for a device bound to
 * our iommufd (a claimed VFIO device, an add-on's mock). */
int kernel_device_iommu_info(void *ud, const Device *d, DeviceIommuInfo *ret) {
        KernelBackend *k = ud;
        const KernelDevice *kd = d->backend_data;
        IommuHwInfo cmd = { .size = sizeof(cmd) };
        int r;

        if (!kd || !k->features.hw_info)
                return -ENODATA;
        cmd.dev_id = kd->dev_id;
        r = kernel_ioctl(k->iommufd, KIOMMU_GET_HW_INFO, &cmd);
        if (r < 0)
                return r;
        *ret = (DeviceIommuInfo) { .max_pasid_log2 = cmd.out_max_pasid_log2,
                                   .capabilities = cmd.out_capabilities };
        return 0;
}

/* BackendOps.domain_iova_ranges: IOMMU_IOAS_IOVA_RANGES of the domain's
 * IOAS, which the kernel keeps sorted and apart (the holes between its
 * reserved IOVAs, iommufd_ioas_iova_ranges()). */
int kernel_domain_iova_ranges(void *ud, const IoDomain *dom, IovaRange *buf, size_t n) {
        KernelBackend *k = ud;
        const KernelDomain *kd = dom->backend_data;
        IommuIoasIovaRanges cmd = { .size = sizeof(cmd) };
        int r;

        _Static_assert(sizeof(IovaRange) == sizeof(IommuIovaRange), "the model's ranges are the kernel's");
        if (!kd || !k->features.iova_ranges)
                return -ENODATA;
        cmd.ioas_id = kd->ioas_id;
        cmd.num_iovas = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
        cmd.allowed_iovas = (uint64_t)(uintptr_t)buf;
        r = kernel_ioctl(k->iommufd, KIOMMU_IOAS_IOVA_RANGES, &cmd);
        if (r < 0 && r != -EMSGSIZE)
                return r;
        return (int)cmd.num_iovas;      /* EMSGSIZE: more than n, the core asks again */
}
