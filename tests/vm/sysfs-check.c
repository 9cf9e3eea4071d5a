/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sysfs-check.c - inside the guest: the kernel backend's sysfs enumeration against a real kernel */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/backend/kernel-sysfs.h"

static unsigned failed;

#define CHECK(cond, ...) do {                                                   \
                if (cond) { printf("ok   "); } else { printf("FAIL "); failed++; } \
                printf(__VA_ARGS__);                                            \
                putchar('\n');                                                  \
        } while (0)

static unsigned group_size(const SysfsDevice *v, size_t n, uint32_t group) {
        unsigned k = 0;

        for (size_t i = 0; i < n; i++)
                k += v[i].info.group == group;
        return k;
}

int main(void) {
        const SysfsDevice *e1000e = NULL, *e1000[2] = { NULL, NULL };
        SysfsDevice *v = NULL;
        char *skipped = NULL;
        size_t n = 0;
        unsigned n_e1000 = 0;

        CHECK(sysfs_enumerate("/sys", &v, &n, &skipped) == 0 && n > 0, "enumerated %zu functions", n);
        for (size_t i = 0; i < n; i++) {
                const DeviceInfo *d = &v[i].info;

                printf("     %-13s group %-3u %04x:%04x class %06x driver %-8s iommu %s%s%s\n", d->name,
                       d->group, d->vendor_id, d->device_id, d->class_code, d->driver ? d->driver : "-",
                       d->iommu, d->pasid ? " PASID" : "", d->pri ? " PRI" : "");
                if (d->vendor_id == 0x8086 && d->device_id == 0x10d3)
                        e1000e = &v[i];
                if (d->vendor_id == 0x8086 && d->device_id == 0x100e && n_e1000 < 2)
                        e1000[n_e1000++] = &v[i];
        }
        CHECK(e1000e && group_size(v, n, e1000e->info.group) == 1, "the e1000e is alone in its group");
        CHECK(e1000e && e1000e->info.driver && strcmp(e1000e->info.driver, "e1000e") == 0,
              "the e1000e's driver is e1000e");
        CHECK(e1000e && strncmp(e1000e->info.iommu, "dmar", 4) == 0, "behind an Intel IOMMU (%s)",
              e1000e ? e1000e->info.iommu : "-");
        CHECK(n_e1000 == 2 && e1000[0]->info.group == e1000[1]->info.group,
              "the two e1000 behind the bridge share a group");
        CHECK(n_e1000 == 2 && group_size(v, n, e1000[0]->info.group) == 3,
              "that group has three functions (the bridge too)");
        CHECK(n_e1000 == 2 && e1000[0]->info.driver && strcmp(e1000[0]->info.driver, "e1000") == 0,
              "they are bound to e1000");
        if (skipped)
                printf("     skipped: %s", skipped);
        free(v);
        free(skipped);
        return failed ? 1 : 0;
}
