/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kernel-sysfs.c - what sysfs says of IOMMU groups and PCI functions */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/path.h"

#include "kernel-sysfs.h"

static uint32_t le32(const uint8_t *p) {
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void pci_read_ext_caps(const uint8_t *config, size_t len, DeviceInfo *info) {
        unsigned off = 0x100;

        /* At most 1024 capabilities fit; stop on a loop or a bad pointer. */
        for (unsigned n = 0; n < 1024 && off >= 0x100 && off + 8 <= len; n++) {
                uint32_t hdr = le32(config + off);
                unsigned id = hdr & 0xffff;

                if (hdr == 0 || hdr == UINT32_MAX)
                        break;
                if (id == PCI_EXT_CAP_ATS)
                        info->ats = true;
                else if (id == PCI_EXT_CAP_PRI)
                        info->pri = true;
                else if (id == PCI_EXT_CAP_PASID) {
                        unsigned width = (config[off + 5] & 0x1f);     /* bits 12:8 of the cap register */

                        if (width > 0) {
                                info->pasid = true;
                                info->max_pasids = 1u << (width > 20 ? 20 : width);
                        }
                }
                off = hdr >> 20;
        }
}

/* Reads a small sysfs attribute, without its newline. */
static int read_attr(const char *dir, const char *attr, char *buf, size_t size) {
        char path[PATH_MAX];
        ssize_t k;
        int fd;

        if (path_printf(path, sizeof(path), "%s/%s", dir, attr) < 0)
                return -ENAMETOOLONG;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        k = read(fd, buf, size - 1);
        close(fd);
        if (k < 0)
                return -errno;
        buf[k] = 0;
        buf[strcspn(buf, "\n")] = 0;
        return 0;
}

static int read_hex(const char *dir, const char *attr, unsigned long max, unsigned long *ret) {
        char buf[32], *end;
        int r = read_attr(dir, attr, buf, sizeof(buf));

        if (r < 0)
                return r;
        errno = 0;
        *ret = strtoul(buf, &end, 16);
        return errno || *end || end == buf || *ret > max ? -EINVAL : 0;
}

/* The last path element a symlink points to ("" when it is absent, or
 * longer than buf: a driver or group name cut short would name another). */
static void link_name(const char *dir, const char *link, char *buf, size_t size) {
        char path[PATH_MAX], target[PATH_MAX];
        ssize_t k;

        buf[0] = 0;
        if (path_printf(path, sizeof(path), "%s/%s", dir, link) < 0)
                return;
        k = readlink(path, target, sizeof(target) - 1);
        if (k <= 0)
                return;
        target[k] = 0;
        if (path_printf(buf, size, "%s", strrchr(target, '/') ? strrchr(target, '/') + 1 : target) < 0)
                return;         /* buf is "" */
}

/*
 * Whether the driver bound to the function at dir manages DMA itself: one
 * of the table's (driver-dma.c), or one that registered a VFIO device for
 * it (dir/vfio-dev exists: VFIO takes DMA ownership of the group, which only
 * a driver_managed_dma driver allows), so that an out-of-tree VFIO variant
 * driver is never taken for a DMA-API one and unbound by a claim.
 */
static bool manages_dma(const char *dir, const char *driver) {
        char path[PATH_MAX];

        if (!driver || !driver[0])
                return false;
        if (driver_manages_dma(driver))
                return true;
        return path_printf(path, sizeof(path), "%s/vfio-dev", dir) == 0 && access(path, F_OK) == 0;
}

bool sysfs_driver_manages_dma(const char *root, const char *name, const char *driver) {
        char dir[PATH_MAX];

        if (path_printf(dir, sizeof(dir), "%s/bus/pci/devices/%s", root, name) < 0)
                return driver_manages_dma(driver);
        return manages_dma(dir, driver);
}

static void read_config_caps(const char *dir, DeviceInfo *info) {
        uint8_t config[4096];
        char path[PATH_MAX];
        ssize_t len;
        int fd;

        if (path_printf(path, sizeof(path), "%s/config", dir) < 0)
                return;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return;         /* no capabilities known: no PASID, PRI, ATS */
        len = read(fd, config, sizeof(config));
        close(fd);
        if (len > 0)
                pci_read_ext_caps(config, (size_t)len, info);
}

/*
 * A VF (dir/physfn links to its PF) has its PF's PASID capability and PRI:
 * the kernel reads the PF's (pci_max_pasids(), pci_pri_supported() in
 * drivers/pci/ats.c). PRI is then of no use to us: the kernel refuses a
 * fault queue to a VF whose PRI is its PF's, a resource they share
 * (iommufd_hwpt_compatible_device()), so the model has it without PRI and
 * SVA on it maps its memory up front. Its ATS is its own.
 */
static void read_vf_caps(const char *dir, DeviceInfo *info) {
        DeviceInfo pf = { 0 };
        char path[PATH_MAX];

        if (path_printf(path, sizeof(path), "%s/physfn", dir) < 0 || access(path, F_OK) != 0)
                return;         /* not a VF */
        read_config_caps(path, &pf);
        info->pasid = pf.pasid;
        info->max_pasids = pf.max_pasids;
        info->pri = false;
}

/* info's strings point into d: set them once d is where it stays. */
static void sysfs_device_point(SysfsDevice *d) {
        d->info.name = d->name;
        d->info.iommu = d->iommu;
        d->info.driver = d->driver[0] ? d->driver : NULL;
}

static int read_device(const char *root, const char *name, uint32_t group, SysfsDevice *d) {
        char dir[PATH_MAX];
        unsigned long v;
        int r;

        memset(d, 0, sizeof(*d));
        if (path_printf(dir, sizeof(dir), "%s/bus/pci/devices/%s", root, name) < 0 ||
            path_printf(d->name, sizeof(d->name), "%s", name) < 0)
                return -ENAMETOOLONG;
        if ((r = read_hex(dir, "vendor", 0xffff, &v)) < 0)
                return r;
        d->info.vendor_id = (uint16_t)v;
        if ((r = read_hex(dir, "device", 0xffff, &v)) < 0)
                return r;
        d->info.device_id = (uint16_t)v;
        if ((r = read_hex(dir, "class", 0xffffff, &v)) < 0)
                return r;
        d->info.class_code = (uint32_t)v;

        read_config_caps(dir, &d->info);
        read_vf_caps(dir, &d->info);
        link_name(dir, "driver", d->driver, sizeof(d->driver));
        link_name(dir, "iommu", d->iommu, sizeof(d->iommu));
        if (!d->iommu[0])
                snprintf(d->iommu, sizeof(d->iommu), "iommu");  /* one unnamed instance */
        d->info.group = group;
        d->info.driver_managed_dma = manages_dma(dir, d->driver);
        return 0;
}

static int append(SysfsDevice **v, size_t *n, const SysfsDevice *d) {
        SysfsDevice *nv = realloc(*v, (*n + 1) * sizeof(**v));

        if (!nv)
                return -ENOMEM;
        nv[(*n)++] = *d;
        *v = nv;
        return 0;
}

static void note_skip(char **skipped, const char *name, int r) {
        size_t old = *skipped ? strlen(*skipped) : 0;
        int n = snprintf(NULL, 0, "%s: %s\n", name, strerror(-r));
        char *s = realloc(*skipped, old + (size_t)n + 1);

        if (!s)
                return;
        snprintf(s + old, (size_t)n + 1, "%s: %s\n", name, strerror(-r));
        *skipped = s;
}

/* An IOMMU group's number, as its directory in kernel/iommu_groups names it. */
static int parse_group(const char *s, uint32_t *ret) {
        unsigned long g;
        char *end;

        errno = 0;
        g = strtoul(s, &end, 10);
        if (errno || end == s || *end || g > UINT32_MAX)
                return -EINVAL;
        *ret = (uint32_t)g;
        return 0;
}

static int enumerate_group(const char *root, const char *gname, SysfsDevice **v, size_t *n, char **skipped) {
        char dir[PATH_MAX];
        struct dirent *de;
        uint32_t group;
        DIR *d;
        int r = 0;

        if (parse_group(gname, &group) < 0)
                return 0;       /* not a group's directory */
        if (path_printf(dir, sizeof(dir), "%s/kernel/iommu_groups/%s/devices", root, gname) < 0)
                return -ENAMETOOLONG;
        d = opendir(dir);
        if (!d)
                return -errno;
        while (r >= 0 && (de = readdir(d))) {
                SysfsDevice dev;
                int k;

                if (de->d_name[0] == '.')
                        continue;
                k = read_device(root, de->d_name, group, &dev);
                if (k < 0) {
                        note_skip(skipped, de->d_name, k);
                        continue;
                }
                r = append(v, n, &dev);
        }
        closedir(d);
        return r;
}

int sysfs_enumerate(const char *root, SysfsDevice **ret, size_t *ret_n, char **ret_skipped) {
        char dir[PATH_MAX], *skipped = NULL;
        SysfsDevice *v = NULL;
        struct dirent *de;
        size_t n = 0;
        DIR *d;
        int r = 0;

        if (path_printf(dir, sizeof(dir), "%s/kernel/iommu_groups", root) < 0)
                return -ENAMETOOLONG;
        d = opendir(dir);
        if (!d)
                return -errno;
        while (r >= 0 && (de = readdir(d)))
                if (de->d_name[0] != '.')
                        r = enumerate_group(root, de->d_name, &v, &n, &skipped);
        closedir(d);
        if (r < 0) {
                free(v);
                free(skipped);
                return r;
        }
        for (size_t i = 0; i < n; i++)
                sysfs_device_point(&v[i]);
        *ret = v;
        *ret_n = n;
        if (ret_skipped)
                *ret_skipped = skipped;
        else
                free(skipped);
        return 0;
}

int sysfs_read_device(const char *root, const char *name, SysfsDevice *ret) {
        char dir[PATH_MAX], gname[32];
        uint32_t group;
        int r;

        if (path_printf(dir, sizeof(dir), "%s/bus/pci/devices/%s", root, name) < 0)
                return -ENAMETOOLONG;
        link_name(dir, "iommu_group", gname, sizeof(gname));
        if (!gname[0])
                return -ENOENT;         /* not behind an IOMMU: not ours */
        r = parse_group(gname, &group);
        if (r >= 0)
                r = read_device(root, name, group, ret);
        if (r >= 0)
                sysfs_device_point(ret);
        return r;
}

int sysfs_read_reserved_regions(const char *root, uint32_t group, IovaRange *buf, size_t n) {
        char path[PATH_MAX], line[128], type[32];
        size_t count = 0;
        FILE *f;

        if (path_printf(path, sizeof(path), "%s/kernel/iommu_groups/%u/reserved_regions", root, group) < 0)
                return -ENAMETOOLONG;
        f = fopen(path, "re");
        if (!f)
                return -errno;
        while (fgets(line, sizeof(line), f)) {
                unsigned long long start, last;

                if (sscanf(line, "%llx %llx %31s", &start, &last, type) != 3 || start > last ||
                    strcmp(type, "direct-relaxable") == 0)
                        continue;
                if (count < n)
                        buf[count] = (IovaRange) { start, last };
                count++;
        }
        fclose(f);
        return count > INT32_MAX ? INT32_MAX : (int)count;
}

void sysfs_read_driver(const char *root, const char *name, char *buf, size_t size) {
        char dir[PATH_MAX];

        buf[0] = 0;
        if (path_printf(dir, sizeof(dir), "%s/bus/pci/devices/%s", root, name) == 0)
                link_name(dir, "driver", buf, size);
}

int sysfs_write(const char *root, const char *value, const char *fmt, ...) {
        char rel[PATH_MAX / 2], path[PATH_MAX];
        va_list ap;
        ssize_t w;
        int fd, n;

        va_start(ap, fmt);
        n = vsnprintf(rel, sizeof(rel), fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t)n >= sizeof(rel) || path_printf(path, sizeof(path), "%s/%s", root, rel) < 0)
                return -ENAMETOOLONG;
        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        w = write(fd, value, strlen(value));
        if (w < 0)
                w = -errno;
        close(fd);
        return w < 0 ? (int)w : 0;
}
