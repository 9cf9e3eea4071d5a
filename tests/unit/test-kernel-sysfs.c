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
#include "daemon/core/client.h"
#include "daemon/core/group.h"

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
                snprintf(target, sizeof(target), "../../drivers/%s", driver);      /* bus/pci/drivers/X */
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

/* The one table of driver_managed_dma drivers (driver-dma.c): vfio-pci, its
 * variants (whose names need not start with "vfio"), pci-stub, the port driver. */
Test(kernel_sysfs, driver_managed_dma_table_has_every_vfio_variant_the_stub_and_the_port_driver) {
        static const char *const managing[] = {
                "vfio-pci", "mlx5_vfio_pci", "hisi_acc_vfio_pci", "nvgrace_gpu_vfio_pci", "pds_vfio_pci",
                "virtio_vfio_pci", "qat_vfio_pci", "ism_vfio_pci", "xe-vfio-pci", "pci-stub", "pcieport",
        };

        for (size_t i = 0; i < sizeof(managing) / sizeof(managing[0]); i++)
                cr_assert(driver_manages_dma(managing[i]), "%s sets driver_managed_dma", managing[i]);
        cr_assert_not(driver_manages_dma("e1000"));
        cr_assert_not(driver_manages_dma("nvme"));
        cr_assert_not(driver_manages_dma("vfio"), "a name, not a prefix");
        cr_assert_not(driver_manages_dma(NULL));
}

/* sysfs: a variant driver from the table, or any driver with a VFIO device
 * (an out-of-tree VFIO variant), manages DMA; others use the DMA API. */
Test(kernel_sysfs, variant_drivers_and_drivers_with_a_vfio_device_manage_dma) {
        SysfsDevice *v = NULL;
        size_t n = 0;

        device("0000:03:00.0", 4, "0x15b3:0x101e", "mlx5_vfio_pci", "dmar0");
        device("0000:03:00.1", 4, "0x15b3:0x101e", "acme_vfio_pci", "dmar0");
        put("bus/pci/devices/0000:03:00.1/vfio-dev/vfio3/dev", "", 0);
        device("0000:03:00.2", 4, "0x15b3:0x101e", "acme_vfio_pci", "dmar0");
        cr_assert_eq(sysfs_enumerate(root, &v, &n, NULL), 0);
        cr_assert(find(v, n, "0000:03:00.0")->info.driver_managed_dma, "mlx5_vfio_pci is in the table");
        cr_assert(find(v, n, "0000:03:00.1")->info.driver_managed_dma, "a driver with a VFIO device");
        cr_assert_not(find(v, n, "0000:03:00.2")->info.driver_managed_dma, "unknown, no VFIO device: DMA API");
        cr_assert(sysfs_driver_manages_dma(root, "0000:03:00.1", "acme_vfio_pci"));
        cr_assert_not(sysfs_driver_manages_dma(root, "0000:03:00.2", "acme_vfio_pci"));
        free(v);
}

static void read_file(const char *rel, char *buf, size_t size) {
        char path[512];
        ssize_t k;
        int fd;

        snprintf(path, sizeof(path), "%s/%s", root, rel);
        fd = open(path, O_RDONLY);
        cr_assert_geq(fd, 0, "%s", path);
        k = read(fd, buf, size - 1);
        close(fd);
        cr_assert_geq(k, 0);
        buf[k] = 0;
}

/*
 * A group of an e1000e and a function another VMM holds with a VFIO variant
 * driver (mlx5_vfio_pci): a claim with DETACH_KERNEL_DRIVERS unbinds the
 * e1000e only. (Here the claim then fails, the fake tree has no vfio-pci,
 * and the e1000e is bound again: L5.)
 */
Test(kernel_sysfs, detach_kernel_drivers_never_unbinds_a_driver_that_manages_dma) {
        _cleanup_(kernel_backend_freep) KernelBackend *k = NULL;
        ClientIdentity id = { .uid = 0, .name = ":1.1" };
        char dev[128], buf[64];
        Client *cl = NULL;
        Core *c = NULL;

        device("0000:07:00.0", 9, "0x8086:0x10d3", "e1000e", "dmar0");
        device("0000:07:00.1", 9, "0x15b3:0x101e", "mlx5_vfio_pci", "dmar0");
        put("bus/pci/drivers/e1000e/unbind", "", 0);
        put("bus/pci/drivers/e1000e/bind", "", 0);
        put("bus/pci/drivers/mlx5_vfio_pci/unbind", "", 0);
        put("dev/iommu", "", 0);
        snprintf(dev, sizeof(dev), "%s/dev", root);
        cr_assert_eq(kernel_backend_new(&k, root, dev), 0);
        cr_assert_eq(core_new(&c, &kernel_ops, k), 0);
        cr_assert_eq(kernel_load_topology(k, c, NULL), 0);
        cr_assert_eq(client_new(c, &id, NULL, &cl), 0);

        cr_assert_lt(group_claim(core_find_group(c, 9), cl, CLAIM_DETACH_KERNEL_DRIVERS), 0);
        read_file("bus/pci/drivers/mlx5_vfio_pci/unbind", buf, sizeof(buf));
        cr_assert_str_empty(buf, "the VFIO variant driver was not unbound");
        read_file("bus/pci/drivers/e1000e/unbind", buf, sizeof(buf));
        cr_assert_str_eq(buf, "0000:07:00.0", "the DMA-API driver was");
        cr_assert_str_eq(core_find_device(c, "0000:07:00.1")->driver, "mlx5_vfio_pci");
        core_free(c);
}

/* A VF has its PF's PASID capability, and no PRI the daemon could use:
 * the kernel refuses a fault queue to a VF whose PRI is its PF's. */
Test(kernel_sysfs, a_vf_has_its_pfs_pasids_and_never_counts_as_pri_capable) {
        SysfsDevice *v = NULL;
        size_t n = 0;
        const SysfsDevice *vf;

        device("0000:04:00.0", 5, "0x15b3:0x101d", NULL, "dmar0");
        config("0000:04:00.0", 8, true, true);
        device("0000:04:00.1", 6, "0x15b3:0x101e", NULL, "dmar0");
        config("0000:04:00.1", 0, true, true);  /* a VF with a PRI capability of its own, against the spec */
        link_to("bus/pci/devices/0000:04:00.1/physfn", "../0000:04:00.0");
        cr_assert_eq(sysfs_enumerate(root, &v, &n, NULL), 0);
        vf = find(v, n, "0000:04:00.1");
        cr_assert(vf->info.pasid, "the PF's PASID capability");
        cr_assert_eq(vf->info.max_pasids, 1u << 8);
        cr_assert_not(vf->info.pri, "no fault queue for a VF: no PRI in the model");
        cr_assert(vf->info.ats, "its own ATS");
        cr_assert(find(v, n, "0000:04:00.0")->info.pri, "the PF keeps its PRI");
        free(v);
}

/* reserved_regions as the kernel prints them; direct-relaxable ones are
 * not reserved by iommufd. */
Test(kernel_sysfs, reserved_regions_of_a_group_are_read_without_relaxable_ones) {
        static const char text[] = "0x00000000000a0000 0x00000000000bffff direct-relaxable\n"
                                   "0x00000000fee00000 0x00000000feefffff msi\n";
        IovaRange r[2];

        put("kernel/iommu_groups/3/reserved_regions", text, sizeof(text) - 1);
        cr_assert_eq(sysfs_read_reserved_regions(root, 3, r, 2), 1);
        cr_assert(r[0].start == 0xfee00000 && r[0].last == 0xfeefffff);
        cr_assert_eq(sysfs_read_reserved_regions(root, 4, r, 2), -ENOENT);
}

/*
 * Features come from asking the kernel, never from its version: on a file
 * that is not iommufd every command answers ENOTTY, so nothing is there,
 * whatever uname() says, and PASID attach is not known until a device's
 * cdev is asked. The log line says how each was found.
 */
Test(kernel_sysfs, features_are_what_the_kernel_answers_not_its_version) {
        _cleanup_(kernel_backend_freep) KernelBackend *k = NULL;
        char dev[128], line[1024];

        put("dev/iommu", "", 0);
        snprintf(dev, sizeof(dev), "%s/dev", root);
        cr_assert_eq(kernel_backend_new(&k, root, dev), 0);
        kernel_features_describe(k, line, sizeof(line));
        cr_assert(strstr(line, "IOMMU_IOAS_MAP_FILE no (needs 6.13; memfds are mapped by address) "
                               "(IOMMU_IOAS_MAP_FILE with a size of 0 answered ENOTTY)"), "%s", line);
        cr_assert(strstr(line, "IOMMU_GET_HW_INFO no"), "%s", line);
        cr_assert(strstr(line, "IOMMU_IOAS_IOVA_RANGES no"), "%s", line);
        cr_assert(strstr(line, "page requests no (needs 6.11) (IOMMU_FAULT_QUEUE_ALLOC answered ENOTTY)"),
                  "%s", line);
        cr_assert(strstr(line, "PASID attach not known yet (asked on the first claimed device's VFIO cdev)"),
                  "not from the version: %s", line);
}
