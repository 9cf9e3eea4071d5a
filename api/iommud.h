/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* iommud.h - the D-Bus contract in C: bus name, object paths, interfaces, flags and errors */
#pragma once

/*
 * The one header that iommud and iommuctl (and any C client) share. The
 * introspection XML beside it is the source of truth for signatures; this
 * file holds the names and numbers that the XML cannot: what a path looks
 * like, which bits a flags argument has, what each error is called. It has
 * no dependencies, so that every part may include it.
 */

#define IOMMUD_BUS_NAME                 "org.iommud1"
#define IOMMUD_PATH                     "/org/iommud1"

/* Objects: PREFIX "/" + id (group, bond, region, space: a decimal number;
 * device: the PCI address with every byte outside [A-Za-z0-9] escaped as
 * sd_bus_path_encode() does). */
#define IOMMUD_GROUP_PREFIX             "/org/iommud1/group"
#define IOMMUD_DEVICE_PREFIX            "/org/iommud1/device"
#define IOMMUD_BOND_PREFIX              "/org/iommud1/bond"
#define IOMMUD_REGION_PREFIX            "/org/iommud1/region"
#define IOMMUD_SPACE_PREFIX             "/org/iommud1/space"

#define IOMMUD_MANAGER_INTERFACE        "org.iommud1.Manager"
#define IOMMUD_GROUP_INTERFACE          "org.iommud1.Group"
#define IOMMUD_DEVICE_INTERFACE         "org.iommud1.Device"
#define IOMMUD_BOND_INTERFACE           "org.iommud1.Bond"
#define IOMMUD_REGION_INTERFACE         "org.iommud1.Region"
#define IOMMUD_SPACE_INTERFACE          "org.iommud1.Space"
#define IOMMUD_SIMULATOR_INTERFACE      "org.iommud1.Simulator"

/* ClaimGroup(u group, t flags) */
#define IOMMUD_CLAIM_DETACH_KERNEL_DRIVERS      (1ull << 0)
#define IOMMUD_CLAIM_FLAGS_ALL                  IOMMUD_CLAIM_DETACH_KERNEL_DRIVERS

/* DetachGroup's flags: NOSAVE keeps the override until the next reboot only. */
#define IOMMUD_OVERRIDE_NOSAVE                  (1ull << 0)
#define IOMMUD_OVERRIDE_FLAGS_ALL               IOMMUD_OVERRIDE_NOSAVE

/* ShareMemory(..., u access) and Space.Map(..., u access) */
#define IOMMUD_ACCESS_READ              (1u << 0)
#define IOMMUD_ACCESS_WRITE             (1u << 1)
#define IOMMUD_ACCESS_ALL               (IOMMUD_ACCESS_READ | IOMMUD_ACCESS_WRITE)

/* Errors: IOMMUD_ERROR_PREFIX + name. Denials are the bus's own
 * org.freedesktop.DBus.Error.AccessDenied. */
#define IOMMUD_ERROR_PREFIX             "org.iommud1.Error."
#define IOMMUD_ERROR_BUSY               IOMMUD_ERROR_PREFIX "Busy"
#define IOMMUD_ERROR_NO_SUCH_DEVICE     IOMMUD_ERROR_PREFIX "NoSuchDevice"
#define IOMMUD_ERROR_NO_SUCH_GROUP      IOMMUD_ERROR_PREFIX "NoSuchGroup"
#define IOMMUD_ERROR_NOT_CLAIMED        IOMMUD_ERROR_PREFIX "NotClaimed"
#define IOMMUD_ERROR_OVERFLOW           IOMMUD_ERROR_PREFIX "Overflow"
#define IOMMUD_ERROR_QUOTA_EXCEEDED     IOMMUD_ERROR_PREFIX "QuotaExceeded"
#define IOMMUD_ERROR_NOT_SUPPORTED      IOMMUD_ERROR_PREFIX "NotSupported"
#define IOMMUD_ERROR_INVALID_ARGUMENT   IOMMUD_ERROR_PREFIX "InvalidArgument"
#define IOMMUD_ERROR_DMA_FAULT          IOMMUD_ERROR_PREFIX "DmaFault"
