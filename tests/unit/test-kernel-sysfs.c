/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-kernel-sysfs.c - enumeration of groups and functions from a sysfs tree built for the test */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/backend/kernel-sysfs.h"
#include "daemon/backend/kernel.h"
#include "daemon/core/device.h"
#include "daemon/core/group.h"
#include "leak-check.h"

static char root[64];

static void put(const char *rel, const void *data, size_t len) {
        char path[512], *slash;
        int fd;

        snprintf(path, sizeof(path), "%s/%s", root, rel);
        for (slash = strchr(path + strlen(root) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
                *slash = 0;
                mkdir(path, 0755);
                *slash = '/';
        }
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        cr_assert_geq(fd, 0, "%s", path);
        cr_assert_eq(write(fd, data, len), (ssize_t)len);
        close(fd);
}

static void link_to(const char *rel, const char *target) {
        char path[512];

        snprintf(path, sizeof(path), "%s/%s", root, rel);
        cr_assert_eq(symlink(target, path), 0, "%s", path);
}

/* A config space with the given extended capabilities chained from 0x100. */
static void config(const char *dev, unsigned pasid_width, bool pri, bool ats) {
        uint8_t cfg[4096] = { 0 };
        unsigned off = 0x100, ids[3], n = 0;
        char rel[256];

        if (ats)
                ids[n++] = PCI_EXT_CAP_ATS;
        if (pri)
                ids[n++] = PCI_EXT_CAP_PRI;
        if (pasid_width)
                ids[n++] = PCI_EXT_CAP_PASID;
        for (unsigned i = 0; i < n; i++, off += 0x10) {
                uint32_t next = i + 1 < n ? off + 0x10 : 0, hdr = ids[i] | 1u << 16 | next << 20;

                memcpy(cfg + off, &hdr, 4);
                if (ids[i] == PCI_EXT_CAP_PASID)
                        cfg[off + 5] = (uint8_t)pasid_width;
        }
        snprintf(rel, sizeof(rel), "bus/pci/devices/%s/config", dev);
        put(rel, cfg, sizeof(cfg));
}

static void device(const char *name, unsigned group, const char *ids, const char *driver, const char *iommu) {
        char rel[256], target[256], vendor[8], devid[8];

        snprintf(rel, sizeof(rel), "bus/pci/devices/%s/vendor", name);
        sscanf(ids, "%6[^:]:%6s", vendor, devid);
        put(rel, vendor, strlen(vendor));
        snprintf(rel, sizeof(rel), "bus/pci/devices/%s/device", name);
        put(rel, devid, strlen(devid));
        snprintf(rel, sizeof(rel), "bus/pci/devices/%s/class", name);
        put(rel, "0x020000\n", 9);
        if (driver) {
                snprintf(rel, sizeof(rel), "bus/pci/devices/%s/driver", name);
                snprintf(target, sizeof(target), "../../../bus/pci/drivers/%s", driver);
                link_to(rel, target);
        }
        if (iommu) {
                snprintf(rel, sizeof(rel), "bus/pci/devices/%s/iommu", name);
                snprintf(target, sizeof(target), "../../../devices/virtual/iommu/%s", iommu);
                link_to(rel, target);
        }
        snprintf(rel, sizeof(rel), "bus/pci/devices/%s/iommu_group", name);
        snprintf(target, sizeof(target), "../../../../kernel/iommu_groups/%u", group);
        link_to(rel, target);
        snprintf(rel, sizeof(rel), "kernel/iommu_groups/%u/devices/.keep", group);
        put(rel, "", 0);
        snprintf(rel, sizeof(rel), "kernel/iommu_groups/%u/devices/%s", group, name);
        snprintf(target, sizeof(target), "../../../../bus/pci/devices/%s", name);
        link_to(rel, target);
}

static void setup(void) {
        snprintf(root, sizeof(root), "/tmp/iommud-sysfs-XXXXXX");
        cr_assert_not_null(mkdtemp(root));
}

static void teardown(void) {
        char cmd[128];

        snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
        cr_assert_eq(system(cmd), 0);
        check_leaks();
}

TestSuite(kernel_sysfs, .init = setup, .fini = teardown);

static const SysfsDevice *find(const SysfsDevice *v, size_t n, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (strcmp(v[i].name, name) == 0)
                        return &v[i];
        cr_assert_fail("no %s", name);
        return NULL;
}

Test(kernel_sysfs, groups_ids_drivers_iommus_and_capabilities) {
        SysfsDevice *v = NULL;
        char *skipped = NULL;
        size_t n = 0;
        const SysfsDevice *e, *b1, *b2, *acc;

        device("0000:00:02.0", 3, "0x8086:0x10d3", "e1000e", "dmar0");
        config("0000:00:02.0", 0, false, false);
        device("0000:01:01.0", 7, "0x8086:0x100e", "e1000", "dmar0");
        device("0000:01:02.0", 7, "0x8086:0x100e", "vfio-pci", "dmar0");
        device("0000:02:00.0", 9, "0x8086:0x0b25", NULL, "dmar1");
        config("0000:02:00.0", 20, true, true);
        put("kernel/iommu_groups/11/devices/0000:09:00.0", "", 0);      /* no PCI attributes */

        cr_assert_eq(sysfs_enumerate(root, &v, &n, &skipped), 0);
        cr_assert_eq(n, 4);
        e = find(v, n, "0000:00:02.0");
        cr_assert_eq(e->info.group, 3);
        cr_assert_eq(e->info.vendor_id, 0x8086);
        cr_assert_eq(e->info.device_id, 0x10d3);
        cr_assert_eq(e->info.class_code, 0x020000);
        cr_assert_str_eq(e->info.driver, "e1000e");
        cr_assert_not(e->info.driver_managed_dma);
        cr_assert_str_eq(e->info.iommu, "dmar0");
        cr_assert_not(e->info.pasid);
        b1 = find(v, n, "0000:01:01.0");
        b2 = find(v, n, "0000:01:02.0");
        cr_assert_eq(b1->info.group, b2->info.group, "two functions, one group");
        cr_assert(b2->info.driver_managed_dma, "vfio-pci manages DMA itself");
        cr_assert(driver_manages_dma("pcieport"), "so does the PCIe port driver");
        cr_assert_not(driver_manages_dma("e1000"));
        acc = find(v, n, "0000:02:00.0");
        cr_assert_null(acc->info.driver);
        cr_assert(acc->info.pasid && acc->info.pri && acc->info.ats);
        cr_assert_eq(acc->info.max_pasids, 1u << 20);
        cr_assert_str_eq(acc->info.iommu, "dmar1");
        cr_assert_not_null(skipped);
        cr_assert(strstr(skipped, "0000:09:00.0"), "the function it could not read is named: %s", skipped);
        free(v);
        free(skipped);
}

Test(kernel_sysfs, capability_walk_survives_loops_and_bad_pointers) {
        uint8_t cfg[4096] = { 0 };
        uint32_t loop = PCI_EXT_CAP_PRI | 0x100u << 20;        /* points at itself */
        DeviceInfo info = { 0 };

        memcpy(cfg + 0x100, &loop, 4);
        pci_read_ext_caps(cfg, sizeof(cfg), &info);
        cr_assert(info.pri);
        memset(&info, 0, sizeof(info));
        pci_read_ext_caps(cfg, 64, &info);      /* non-root reads 64 bytes: nothing */
        cr_assert_not(info.pri);
}

Test(kernel_sysfs, missing_sysfs_is_an_error) {
        SysfsDevice *v = NULL;
        size_t n = 0;

        cr_assert_eq(sysfs_enumerate("/nonexistent", &v, &n, NULL), -ENOENT);
}

/*
 * uevents are hints: the model follows what sysfs says when one arrives.
 * The backend runs on the fake tree with a plain file as /dev/iommu (every
 * iommufd feature probe then says "no", which is all this needs).
 */
Test(kernel_sysfs, uevents_make_the_model_follow_sysfs) {
        _cleanup_(kernel_backend_freep) KernelBackend *k = NULL;
        char dev[128], rel[256];
        Core *c = NULL;
        Device *d;

        device("0000:01:01.0", 7, "0x8086:0x100e", "e1000", "dmar0");
        device("0000:01:02.0", 7, "0x8086:0x100e", "e1000", "dmar0");
        put("dev/iommu", "", 0);
        snprintf(dev, sizeof(dev), "%s/dev", root);
        cr_assert_eq(kernel_backend_new(&k, root, dev), 0);
        cr_assert_eq(core_new(&c, &kernel_ops, k), 0);
        cr_assert_eq(kernel_load_topology(k, c, NULL), 0);
        d = core_find_device(c, "0000:01:02.0");
        cr_assert_str_eq(d->driver, "e1000");

        snprintf(rel, sizeof(rel), "%s/bus/pci/devices/0000:01:02.0/driver", root);
        cr_assert_eq(unlink(rel), 0);
        cr_assert_eq(kernel_device_event(k, "unbind", "0000:01:02.0"), 1, "the driver went");
        cr_assert_null(d->driver);
        cr_assert_eq(kernel_device_event(k, "unbind", "0000:01:02.0"), 0, "an event repeated changes nothing");
        link_to("bus/pci/devices/0000:01:02.0/driver", "../../../bus/pci/drivers/vfio-pci");
        cr_assert_eq(kernel_device_event(k, "bind", "0000:01:02.0"), 1);
        cr_assert_str_eq(d->driver, "vfio-pci");
        cr_assert(d->driver_dma_api == false, "vfio-pci manages DMA itself");

        device("0000:01:03.0", 7, "0x8086:0x100e", NULL, "dmar0");
        cr_assert_eq(kernel_device_event(k, "add", "0000:01:03.0"), 1, "a hot-added function joins");
        cr_assert_not_null(d = core_find_device(c, "0000:01:03.0"));
        cr_assert_eq(d->group->id, 7);
        put("bus/pci/devices/0000:05:00.0/vendor", "0x1af4", 6);
        cr_assert_eq(kernel_device_event(k, "add", "0000:05:00.0"), 0, "one behind no IOMMU is not ours");
        cr_assert_null(core_find_device(c, "0000:05:00.0"));
        cr_assert_eq(kernel_device_event(k, "remove", "0000:01:03.0"), 1);
        cr_assert_null(core_find_device(c, "0000:01:03.0"), "a removed function leaves the model");
        cr_assert_eq(kernel_device_event(k, "remove", "0000:01:03.0"), 0, "and only once");
        core_free(c);
}
