/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pasid-widths.h - the max_pasids values of the present PASID-capable devices, kept sorted with their counts */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * What client_get_pasid() needs of the topology (the smallest max_pasids,
 * and the largest one below a width) without walking the devices: each
 * distinct value with how many present devices have it, sorted. Real
 * devices have few distinct values (a PASID capability's width is a power
 * of two: at most PASID_BITS of them); a simulated topology may have more.
 *
 * Room is reserved for one value per device that may hold one
 * (pasid_widths_reserve(), which device_add() calls before linking a
 * device), so that pasid_widths_add() and pasid_widths_change() never fail
 * once a device is in: a device's max_pasids changes when its IOMMU's
 * limits become known (device_set_iommu_info()), which cannot fail.
 *
 * Cost: a query is a binary search of the distinct values; an insert or a
 * removal of a distinct value moves the values above it. probes counts the
 * values the searches looked at, so tests can check that nothing walks the
 * devices (a count, not a time).
 */
typedef struct PasidWidthCount {
        uint32_t max_pasids;
        uint32_t devices;       /* > 0 while it is in the array */
} PasidWidthCount;

typedef struct PasidWidths {
        PasidWidthCount *values;        /* owned, sorted by max_pasids, n of room used */
        size_t n, room;
        size_t holders;                 /* devices counted: the room needed */
        uint64_t probes;
} PasidWidths;

/* Makes room for one more device's value; -ENOMEM (nothing changed) if it can't. */
int pasid_widths_reserve(PasidWidths *w);
/* Counts a device with this value; its room was reserved. */
void pasid_widths_add(PasidWidths *w, uint32_t max_pasids);
/* Uncounts one; the room stays reserved until pasid_widths_release(). */
void pasid_widths_remove(PasidWidths *w, uint32_t max_pasids);
/* A counted device's value changed. */
void pasid_widths_change(PasidWidths *w, uint32_t from, uint32_t to);
/* Gives back the room of a device that is gone (or never came). */
void pasid_widths_release(PasidWidths *w);
void pasid_widths_clear(PasidWidths *w);

/* The smallest value at or above at_least, or 0 when there is none. A
 * device whose IOMMU gives it no PASIDs is counted with value 0. */
uint32_t pasid_widths_min(PasidWidths *w, uint32_t at_least);
/* The largest value below limit, or 0 when there is none. */
uint32_t pasid_widths_below(PasidWidths *w, uint32_t limit);
