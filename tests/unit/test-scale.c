/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-scale.c - a core of 16,384 devices: lookups go through the indexes, never a walk of the lists */
#include <stdio.h>

#include "fixture.h"
#include "leak-check.h"

/*
 * Counted, not timed: each index counts the nodes its lookups looked at
 * (HashMap.probes). A lookup that walked Core.devices would look at half of
 * the 16,384 devices on average; through the index it looks at about one.
 * A lookup that bypassed the index would count nothing, which the lower
 * bounds catch.
 */
#define N_DEVICES 16384
#define GROUP_SIZE 16
#define FIRST_GROUP 1000

TestSuite(scale, .init = fixture_setup, .fini = fixture_teardown);

static void scale_name(char *buf, size_t size, unsigned i) {
        snprintf(buf, size, "0001:%02x:%02x.%u", i >> 8, (i >> 3) & 0x1f, i & 7);
}

/* Groups of 16 PASID+PRI devices behind four IOMMUs, as on a large SR-IOV host. */
static void add_devices(void) {
        for (unsigned i = 0; i < N_DEVICES; i++) {
                char name[32], iommu[16];
                DeviceInfo info = { .name = name, .group = FIRST_GROUP + i / GROUP_SIZE, .iommu = iommu,
                                    .pasid = true, .pri = true, .max_pasids = 1u << 20 };

                scale_name(name, sizeof(name), i);
                snprintf(iommu, sizeof(iommu), "dmar-scale%u", i % 4);
                cr_assert_eq(device_add(fx.core, &info, NULL), 0, "%s", name);
        }
        core_dispatch(fx.core);
}

Test(scale, a_device_lookup_among_16384_devices_looks_at_about_one) {
        HashMap *m = &fx.core->devices_by_name;
        char name[32];

        add_devices();
        cr_assert_eq(m->count, N_DEVICES + sim_default_topology_size);
        m->probes = 0;
        for (unsigned i = 0; i < N_DEVICES; i++) {
                scale_name(name, sizeof(name), i);
                cr_assert_not_null(core_find_device(fx.core, name), "%s", name);
        }
        cr_assert_geq(m->probes, N_DEVICES, "each lookup went through the index");
        cr_assert_leq(m->probes, 2 * N_DEVICES, "%llu probes for %d lookups, a walk would take ~%d each",
                      (unsigned long long)m->probes, N_DEVICES, N_DEVICES / 2);

        m->probes = 0;
        cr_assert_null(core_find_device(fx.core, "0002:00:00.0"));
        cr_assert_leq(m->probes, 16, "a miss looks at one chain only: %llu", (unsigned long long)m->probes);
}

Test(scale, group_iommu_and_client_lookups_look_at_about_one) {
        enum { N_CLIENTS = 1000 };
        HashMap *groups = &fx.core->groups_by_id, *iommus = &fx.core->iommus_by_name;
        HashMap *clients = &fx.core->clients_by_id;
        uint64_t ids[N_CLIENTS];

        add_devices();
        for (unsigned i = 0; i < N_CLIENTS; i++)
                ids[i] = new_client(1000 + i % 7)->id;
        groups->probes = iommus->probes = clients->probes = 0;
        for (unsigned g = 0; g < N_DEVICES / GROUP_SIZE; g++)
                cr_assert_eq(core_find_group(fx.core, FIRST_GROUP + g)->n_devices, GROUP_SIZE);
        cr_assert_not_null(core_find_iommu(fx.core, "dmar-scale3"));
        for (unsigned i = 0; i < N_CLIENTS; i++)
                cr_assert_eq(core_find_client(fx.core, ids[i])->id, ids[i]);
        cr_assert_geq(groups->probes, N_DEVICES / GROUP_SIZE);
        cr_assert_leq(groups->probes, 2 * N_DEVICES / GROUP_SIZE);
        cr_assert_leq(iommus->probes, 4);
        cr_assert_geq(clients->probes, N_CLIENTS);
        cr_assert_leq(clients->probes, 2 * N_CLIENTS);
        for (unsigned i = 0; i < N_CLIENTS; i++)
                client_release(fx.core, ids[i]);
        cr_assert_eq(clients->count, 0, "every released client left the index");
        core_dispatch(fx.core);
}

/* The fault path finds the slot at (device, PASID) without walking the
 * device's slots or the other clients' bonds. */
Test(scale, a_slot_and_bond_lookup_with_1000_bound_clients_looks_at_about_one) {
        enum { N_CLIENTS = 1000 };
        Client *cl[N_CLIENTS];
        Bond *b[N_CLIENTS];
        HashMap *slots = &fx.core->slots_by_key, *bonds = &fx.core->bonds_by_id;
        Device *d;

        add_devices();
        for (unsigned i = 0; i < N_CLIENTS; i++) {
                char name[32];

                cl[i] = new_client(0);
                scale_name(name, sizeof(name), i * GROUP_SIZE);
                claim_ok(cl[i], name);
                b[i] = bind_ok(cl[i], name);
        }
        slots->probes = bonds->probes = 0;
        for (unsigned i = 0; i < N_CLIENTS; i++) {
                d = b[i]->device;
                cr_assert_eq(device_find_slot(d, b[i]->pasid), &b[i]->slot);
                cr_assert_eq(client_find_bond(cl[i], b[i]->id), b[i]);
                cr_assert_null(client_find_bond(cl[(i + 1) % N_CLIENTS], b[i]->id),
                               "another client's bond is not found");
        }
        cr_assert_geq(slots->probes, N_CLIENTS);
        cr_assert_leq(slots->probes, 2 * N_CLIENTS, "%llu", (unsigned long long)slots->probes);
        cr_assert_geq(bonds->probes, 2 * N_CLIENTS);
        cr_assert_leq(bonds->probes, 4 * N_CLIENTS, "%llu", (unsigned long long)bonds->probes);
        for (unsigned i = 0; i < N_CLIENTS; i++)
                client_release(fx.core, cl[i]->id);
        cr_assert_eq(slots->count, 0, "every released slot left the index");
        cr_assert_eq(bonds->count, 0);
        core_dispatch(fx.core);
}
