/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fake-sysfs.c - a sysfs tree built for a test, for the kernel backend's unit tests */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fake-sysfs.h"
#include "leak-check.h"

char fake_root[64];

void fake_sysfs_setup(void) {
        snprintf(fake_root, sizeof(fake_root), "/tmp/iommud-sysfs-XXXXXX");
        cr_assert_not_null(mkdtemp(fake_root));
}

void fake_sysfs_teardown(void) {
        char cmd[128];

        snprintf(cmd, sizeof(cmd), "rm -rf %s", fake_root);
        cr_assert_eq(system(cmd), 0);
        check_leaks();
}

void fake_put(const char *rel, const void *data, size_t len) {
        char path[512], *slash;
        int fd;

        snprintf(path, sizeof(path), "%s/%s", fake_root, rel);
        for (slash = strchr(path + strlen(fake_root) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
                *slash = 0;
                mkdir(path, 0755);
                *slash = '/';
        }
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        cr_assert_geq(fd, 0, "%s", path);
        cr_assert_eq(write(fd, data, len), (ssize_t)len);
        close(fd);
}

void fake_link(const char *rel, const char *target) {
        char path[512];

        snprintf(path, sizeof(path), "%s/%s", fake_root, rel);
        cr_assert_eq(symlink(target, path), 0, "%s", path);
}

const char *fake_read(const char *rel) {
        static char buf[4096];
        char path[512];
        ssize_t k;
        int fd;

        buf[0] = 0;
        snprintf(path, sizeof(path), "%s/%s", fake_root, rel);
        fd = open(path, O_RDONLY);
        if (fd < 0)
                return buf;
        k = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        buf[k > 0 ? k : 0] = 0;
        return buf;
}

void fake_device(const char *name, unsigned group, const char *ids, const char *driver, const char *iommu) {
        char rel[256], target[256], vendor[8], devid[8];

        snprintf(rel, sizeof(rel), "bus/pci/devices/%s/vendor", name);
        sscanf(ids, "%6[^:]:%6s", vendor, devid);
        fake_put(rel, vendor, strlen(vendor));
        snprintf(rel, sizeof(rel), "bus/pci/devices/%s/device", name);
        fake_put(rel, devid, strlen(devid));
        snprintf(rel, sizeof(rel), "bus/pci/devices/%s/class", name);
        fake_put(rel, "0x020000\n", 9);
        if (driver) {
                snprintf(rel, sizeof(rel), "bus/pci/devices/%s/driver", name);
                snprintf(target, sizeof(target), "../../../bus/pci/drivers/%s", driver);
                fake_link(rel, target);
        }
        if (iommu) {
                snprintf(rel, sizeof(rel), "bus/pci/devices/%s/iommu", name);
                snprintf(target, sizeof(target), "../../../devices/virtual/iommu/%s", iommu);
                fake_link(rel, target);
        }
        snprintf(rel, sizeof(rel), "bus/pci/devices/%s/iommu_group", name);
        snprintf(target, sizeof(target), "../../../../kernel/iommu_groups/%u", group);
        fake_link(rel, target);
        snprintf(rel, sizeof(rel), "kernel/iommu_groups/%u/devices/.keep", group);
        fake_put(rel, "", 0);
        snprintf(rel, sizeof(rel), "kernel/iommu_groups/%u/devices/%s", group, name);
        snprintf(target, sizeof(target), "../../../../bus/pci/devices/%s", name);
        fake_link(rel, target);
}
