/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-scale.c - a core of 16,384 devices: lookups go through the indexes, never a walk of the lists */
#include <stdio.h>

#include "daemon/policy-device.h"
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

/*
 * A client's first PASID (AllocPasid, or its first BindSva) needs the
 * smallest max_pasids of the devices and the largest one below its width:
 * the core keeps them (Core.pasid_widths), so finding them looks at a few
 * distinct values, whatever the number of devices. A walk of the devices
 * would not go through the index, which the lower bound catches.
 */
Test(scale, a_first_pasid_among_16384_devices_looks_at_the_distinct_widths_only) {
        enum { N_CLIENTS = 1000 };
        PasidWidths *w = &fx.core->pasid_widths;
        uint32_t pasid;

        add_devices();
        /* 1 << 20 (16,385 devices), 1 << 16 and 4 (one each). */
        cr_assert_eq(w->n, 3);
        w->probes = 0;
        for (unsigned i = 0; i < N_CLIENTS; i++) {
                Client *cl = new_client(0);

                cl->pasid_width = 1u << 20;     /* what the daemon's policy_sva_width() gives */
                cr_assert_eq(client_get_pasid(cl, &pasid), 0);
                cr_assert_geq(pasid, 1u << 16, "PASIDs below the narrower devices' max_pasids are kept: %u",
                              pasid);
        }
        cr_assert_geq(w->probes, N_CLIENTS, "each first PASID went through the index");
        cr_assert_leq(w->probes, 8 * N_CLIENTS, "%llu probes for %d clients, a walk would take %d each",
                      (unsigned long long)w->probes, N_CLIENTS, N_DEVICES);
        core_dispatch(fx.core);
}

static Policy *policy_of(const char *text) {
        Policy *p = NULL;
        char *errors = NULL;

        cr_assert_eq(policy_load_text("scale.json", text, strlen(text), &p, &errors), 0, "%s", errors);
        return p;
}

/* The daemon's answer to "which width must this caller's PASID fit"
 * (AllocPasid, BindSva): with rules that filter no device it is the
 * core's smallest width, and no device is looked at. */
Test(scale, the_sva_width_of_a_caller_among_16384_devices_does_not_walk_them) {
        enum { N_CALLS = 1000 };
        _cleanup_(policy_freep) Policy *uniform = policy_of(
                "{ \"rules\": [ { \"principals\": { \"users\": [1000] }, \"allow\": [\"sva\"] } ] }");
        _cleanup_(policy_freep) Policy *filtered = policy_of(
                "{ \"rules\": [ { \"principals\": { \"users\": [1000] }, \"allow\": [\"sva\"],"
                "  \"devices\": { \"address\": \"0001:*\" } } ] }");
        PolicySubject user = { .uid = 1000, .gid = 1000 }, other = { .uid = 1001, .gid = 1001 };
        PasidWidths *w = &fx.core->pasid_widths;

        add_devices();
        w->probes = fx.core->device_walks = 0;
        for (unsigned i = 0; i < N_CALLS; i++) {
                cr_assert_eq(policy_sva_width(fx.core, uniform, &user), 4, "the smallest of all");
                cr_assert_eq(policy_sva_width(fx.core, uniform, &other), 0, "no rule grants uid 1001");
        }
        cr_assert_eq(fx.core->device_walks, 0, "%llu devices looked at",
                     (unsigned long long)fx.core->device_walks);
        cr_assert_geq(w->probes, N_CALLS, "each width came from the index");
        cr_assert_leq(w->probes, 8 * N_CALLS, "%llu", (unsigned long long)w->probes);

        /* A rule that filters devices decides device by device: that walk
         * is the one case left, and it is counted. */
        cr_assert_eq(policy_sva_width(fx.core, filtered, &user), 1u << 20, "only the 0001:* devices");
        cr_assert_eq(fx.core->device_walks, N_DEVICES + sim_default_topology_size);
}

/* The kept widths follow the devices: one going or its IOMMU narrowing it
 * moves the smallest. */
Test(scale, the_smallest_width_follows_devices_coming_and_going) {
        DeviceIommuInfo narrow = { .max_pasid_log2 = 3 };

        cr_assert_eq(core_min_pasid_width(fx.core), 4);
        cr_assert_eq(device_unplug(fx.core, DEV_SMALL), 0);
        cr_assert_eq(core_min_pasid_width(fx.core), 1u << 16);
        device_set_iommu_info(dev(DEV_PRI), &narrow);
        cr_assert_eq(dev(DEV_PRI)->max_pasids, 8);
        cr_assert_eq(core_min_pasid_width(fx.core), 8);
        cr_assert_eq(device_unplug(fx.core, DEV_PRI), 0);
        cr_assert_eq(device_unplug(fx.core, DEV_NOPRI), 0);
        cr_assert_eq(core_min_pasid_width(fx.core), 0, "no PASID-capable device is left");
        cr_assert_eq(fx.core->pasid_widths.n, 0);
        core_dispatch(fx.core);
}

/*
 * What an operation tells the daemon is what it changed, and no more: the
 * daemon makes one signal per event, for the object the event names
 * (daemon/signals.c), so an event for another group, device or bond would
 * be a signal and a property change on an object the operation did not
 * touch, and one per object of the topology would make every call linear.
 * Checks the events of an operation since the last look: n of them (one
 * per object changed: the group's ownership; a bond added and its state),
 * each naming `group`, one of its devices, or `bond` of `cl`.
 */
static void assert_events_only_of(uint32_t group, const Client *cl, uint64_t bond, unsigned n,
                                  const char *what) {
        core_dispatch(fx.core);
        cr_assert_eq(fx.n_events, n, "%s: %u events, %u expected", what, fx.n_events, n);
        for (unsigned i = 0; i < fx.n_events; i++) {
                const SeenEvent *e = &fx.events[i];
                Device *d;

                switch (e->kind) {
                case CORE_EVENT_GROUP_CHANGED:
                case CORE_EVENT_GROUP_CLAIMED:
                        cr_assert_eq(e->group, group, "%s: an event of kind %d for group %u", what, e->kind,
                                     e->group);
                        break;
                case CORE_EVENT_DEVICE_CHANGED:
                        d = core_find_device(fx.core, e->name);
                        cr_assert(d && d->group->id == group, "%s: an event for device %s", what, e->name);
                        break;
                case CORE_EVENT_BOND_ADDED:
                case CORE_EVENT_BOND_CHANGED:
                case CORE_EVENT_BOND_REMOVED:
                        cr_assert(e->id == bond && e->client == cl->id, "%s: an event for bond %llu",
                                  what, (unsigned long long)e->id);
                        break;
                default:
                        cr_assert_fail("%s: an event of kind %d (group %u, id %llu)", what, e->kind, e->group,
                                       (unsigned long long)e->id);
                }
        }
        fx.n_events = 0;
}

Test(scale, one_operation_among_16384_devices_and_1000_clients_tells_only_what_it_changed) {
        enum { N_CLIENTS = 1000 };
        Client *other, *cl;
        Bond *b;
        uint64_t id;
        char name[32];
        Group *g;

        add_devices();
        for (unsigned i = 0; i < N_CLIENTS; i++) {
                other = new_client(0);
                scale_name(name, sizeof(name), i * GROUP_SIZE);
                claim_ok(other, name);
                (void)bind_ok(other, name);
        }
        core_dispatch(fx.core);
        fx.n_events = 0;

        cl = new_client(0);
        scale_name(name, sizeof(name), N_DEVICES - 1);
        g = dev(name)->group;
        claim_ok(cl, name);
        assert_events_only_of(g->id, cl, 0, 1, "ClaimGroup");
        b = bind_ok(cl, name);
        id = b->id;
        assert_events_only_of(g->id, cl, id, 2, "BindSva");
        cr_assert_eq(bond_unbind(cl, id), 0);
        assert_events_only_of(g->id, cl, id, 1, "Unbind");
        cr_assert_eq(group_release(g, cl), 0);
        assert_events_only_of(g->id, cl, 0, 1, "ReleaseGroup");
        client_release(fx.core, cl->id);
        core_dispatch(fx.core);
        cr_assert_eq(fx.n_events, 0, "a client holding nothing goes without an event");
}
