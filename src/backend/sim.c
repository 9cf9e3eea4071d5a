/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sim.c - the simulation backend: an in-process IOMMU model for machines without one */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/device.h"
#include "sim-topology.h"
#include "sim.h"
#include "topology.h"

/*
 * For issue 3 the simulated IOMMU keeps no page tables yet: claims, driver
 * moves, domains and attachments always succeed, except that a device the
 * topology marks "refuse_unbind" refuses to let its driver go, so that a
 * half-done claim can be seen rolling back (L5).
 */
struct SimBackend {
        char **refuse_unbind;   /* owned device names */
        size_t n_refuse_unbind;
};

int sim_backend_new(SimBackend **ret) {
        SimBackend *s = calloc(1, sizeof(*s));

        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

SimBackend *sim_backend_free(SimBackend *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_refuse_unbind; i++)
                free(s->refuse_unbind[i]);
        free(s->refuse_unbind);
        free(s);
        return NULL;
}

bool sim_refuses_unbind(const SimBackend *s, const char *device) {
        for (size_t i = 0; i < s->n_refuse_unbind; i++)
                if (strcmp(s->refuse_unbind[i], device) == 0)
                        return true;
        return false;
}

static int sim_add_refuse_unbind(SimBackend *s, const char *device) {
        char **a = realloc(s->refuse_unbind, (s->n_refuse_unbind + 1) * sizeof(*a));

        if (!a)
                return -ENOMEM;
        s->refuse_unbind = a;
        a[s->n_refuse_unbind] = strdup(device);
        if (!a[s->n_refuse_unbind])
                return -ENOMEM;
        s->n_refuse_unbind++;
        return 0;
}

int sim_load_topology(SimBackend *s, Core *c, const char *path, char **ret_error) {
        _cleanup_(sim_topology_freep) SimTopology *t = NULL;
        int r;

        if (!path)
                return topology_load(c, sim_default_topology, sim_default_topology_size);

        r = sim_topology_parse_file(path, &t, ret_error);
        if (r < 0)
                return r;
        for (size_t i = 0; i < t->n_devices; i++)
                if (t->refuse_unbind[i]) {
                        r = sim_add_refuse_unbind(s, t->devices[i].name);
                        if (r < 0)
                                return r;
                }
        return topology_load(c, t->devices, t->n_devices);
}

static int sim_driver_detach(void *ud, Device *d) {
        return sim_refuses_unbind(ud, d->name) ? -EIO : 0;
}

static int sim_driver_attach(void *ud, Device *d, const char *driver) {
        return 0;
}

static int sim_group_claim(void *ud, Group *g) {
        return 0;
}

static void sim_group_release(void *ud, Group *g) {
}

static int sim_domain_alloc(void *ud, IoDomain *dom) {
        return 0;
}

static void sim_domain_free(void *ud, IoDomain *dom) {
}

static int sim_domain_map(void *ud, IoDomain *dom, const Mapping *m) {
        return 0;
}

static void sim_domain_unmap(void *ud, IoDomain *dom, const Mapping *m) {
}

static int sim_slot_attach(void *ud, Slot *slot) {
        return 0;
}

static void sim_slot_detach(void *ud, Slot *slot) {
}

static void sim_fault_respond(void *ud, const FaultGroup *fg, FaultCode code) {
}

const BackendOps sim_ops = {
        .driver_detach = sim_driver_detach,
        .driver_attach = sim_driver_attach,
        .group_claim = sim_group_claim,
        .group_release = sim_group_release,
        .domain_alloc = sim_domain_alloc,
        .domain_free = sim_domain_free,
        .domain_map = sim_domain_map,
        .domain_unmap = sim_domain_unmap,
        .slot_attach = sim_slot_attach,
        .slot_detach = sim_slot_detach,
        .fault_respond = sim_fault_respond,
};
