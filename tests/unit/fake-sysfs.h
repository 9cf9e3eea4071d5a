/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fake-sysfs.h - a sysfs tree built for a test, for the kernel backend's unit tests */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* The tree's root ("/tmp/iommud-sysfs-XXXXXX"), made by fake_sysfs_setup(). */
extern char fake_root[64];

void fake_sysfs_setup(void);
void fake_sysfs_teardown(void);

/* Writes rel (under the root) with len bytes of data, making its directories. */
void fake_put(const char *rel, const void *data, size_t len);
/* Makes rel a symlink to target. */
void fake_link(const char *rel, const char *target);
/* The contents of rel ("" if absent), in a static buffer. */
const char *fake_read(const char *rel);
/* A PCI function in IOMMU group group: vendor:device ids "0x8086:0x10d3",
 * driver (NULL: none) and IOMMU instance (NULL: none named). */
void fake_device(const char *name, unsigned group, const char *ids, const char *driver, const char *iommu);
