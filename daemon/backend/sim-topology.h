/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sim-topology.h - reading a simulated topology from a JSON file */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "daemon/core/device.h"

/* A parsed topology; owns the strings its DeviceInfos point to. */
typedef struct SimTopology {
        DeviceInfo *devices;
        bool *refuse_unbind;    /* per device */
        size_t n_devices;
        char **strings;         /* owned copies, freed with the topology */
        size_t n_strings;
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
