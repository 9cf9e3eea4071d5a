/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sim-topology.h - reading a simulated topology from a JSON file */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "daemon/core/device.h"

#define SIM_IOMMU_RESERVED_MAX 8

/*
 * What a simulated IOMMU instance does (the topology's "iommus"), as the
 * kernel's IOMMU_GET_HW_INFO and IOMMU_IOAS_IOVA_RANGES show it of a real
 * one. An instance the topology does not list gets sim_iommu_default.
 */
typedef struct SimIommu {
        const char *name;
        uint8_t max_pasid_log2;         /* the PASID width it supports; 0: none */
        uint64_t capabilities;          /* DEVICE_IOMMU_CAP_*: dirty tracking, PASID exec/priv, no ATS */
        uint8_t address_bits;           /* its aperture: IOVAs below 2^address_bits (64: all) */
        IovaRange reserved[SIM_IOMMU_RESERVED_MAX];     /* reserved for a device attached at its RID */
        size_t n_reserved;
} SimIommu;

/* 20 PASID bits, no capabilities, a 48-bit aperture and the x86 MSI window
 * reserved, as intel-iommu reserves it (IOAPIC_RANGE_START..END). */
extern const SimIommu sim_iommu_default;

/* Where a topology's strings are kept: one allocation for many, as a large
 * file has two for each device. */
typedef struct SimStringChunk {
        struct SimStringChunk *next;    /* owned: the one filled before */
        size_t used, size;
        char data[];
} SimStringChunk;

/* A parsed topology; owns the strings its DeviceInfos point to. */
typedef struct SimTopology {
        DeviceInfo *devices;
        bool *refuse_unbind;    /* per device */
        /* Per device: how long its driver's remove() and probe() take, in
         * ms (0: no time): the sim does them off the event loop then, as
         * the kernel backend does its sysfs writes (kernel-jobs.c). */
        unsigned *unbind_ms, *probe_ms;
        size_t n_devices;
        SimIommu *iommus;
        size_t n_iommus;
        SimStringChunk *strings;        /* owned copies, freed with the topology */
} SimTopology;

/*
 * Parses a topology file (docs/topology.md). Collects every problem, each
 * as "FILE: JSON-PATH: what was expected", into *ret_error (malloc'ed) and
 * returns -EINVAL; *ret is then untouched.
 */
int sim_topology_parse_file(const char *path, SimTopology **ret, char **ret_error);
/* The same for a file's text already in memory (size bytes; name stands for
 * the file in messages): what tests/fuzz/fuzz-topology feeds. */
int sim_topology_parse_text(const char *name, const char *text, size_t size, SimTopology **ret,
                            char **ret_error);
SimTopology *sim_topology_free(SimTopology *t);
DEFINE_POINTER_CLEANUP(SimTopology, sim_topology_free)
