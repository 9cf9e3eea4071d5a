/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sim.h - the simulation backend: an in-process IOMMU model for machines without one */
#pragma once

#include <stdio.h>

#include "core/backend.h"
#include "core/core.h"

typedef struct SimBackend SimBackend;

extern const BackendOps sim_ops;

int sim_backend_new(SimBackend **ret);
SimBackend *sim_backend_free(SimBackend *s);
DEFINE_POINTER_CLEANUP(SimBackend, sim_backend_free)

/*
 * Adds a topology to the core: the built-in one when path is NULL, otherwise
 * the JSON file at path (format in docs/topology.md). On a bad file returns
 * -EINVAL and a malloc'ed message naming the file, the JSON location and what
 * was expected in *ret_error; nothing is added then.
 */
int sim_load_topology(SimBackend *s, Core *c, const char *path, char **ret_error);

/* Whether a topology device was marked "refuse_unbind" (for L5 tests). */
bool sim_refuses_unbind(const SimBackend *s, const char *device);
