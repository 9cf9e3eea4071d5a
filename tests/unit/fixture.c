/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fixture.c - a core on the built-in topology with the recorder backend, for unit tests */
#include <stdio.h>

#include "fixture.h"
#include "leak-check.h"

Fixture fx;

static void fixture_listener(void *userdata, const CoreEvent *ev) {
        if (fx.n_events < ELEMENTSOF(fx.events)) {
                SeenEvent *e = &fx.events[fx.n_events++];

                e->kind = ev->kind;
                e->group = ev->group;
                e->id = ev->id;
                e->client = ev->client;
                snprintf(e->name, sizeof(e->name), "%s", ev->name);
                e->revoked = ev->revoked;
                e->result = ev->result;
                snprintf(e->reason, sizeof(e->reason), "%s", ev->reason);
        }
        if (fx.on_event)
                fx.on_event(ev);
}

unsigned dispatch_count(CoreEventKind kind) {
        unsigned from = fx.n_events, n = 0;

        core_dispatch(fx.core);
        for (unsigned i = from; i < fx.n_events; i++)
                if (fx.events[i].kind == kind)
                        n++;
        return n;
}

void fixture_setup(void) {
        alloc_fail_after(-1);
        recorder_init(&fx.rec);
        cr_assert_eq(core_new(&fx.core, &recorder_ops, &fx.rec), 0);
        core_set_listener(fx.core, fixture_listener, NULL);
        fx.n_events = 0;
        fx.on_event = NULL;
        cr_assert_eq(topology_load(fx.core, sim_default_topology, sim_default_topology_size), 0);
        cr_assert_eq(dispatch_count(CORE_EVENT_DEVICE_ADDED), sim_default_topology_size);
}

/*
 * Whatever was set up was torn down, exactly once. Criterion ignores the
 * verdict of assertions in a .fini, so a leak here aborts instead: Criterion
 * warns that the test crashed in its teardown and the executable exits 1,
 * which tests/test-summary.py counts as a failure of that suite.
 */
void fixture_teardown(void) {
        alloc_fail_after(-1);
        fx.core = core_free(fx.core);
        if (fx.rec.live_slots || fx.rec.live_domains || fx.rec.live_groups || fx.rec.live_mappings) {
                fprintf(stderr, "teardown: left behind %ld slots, %ld domains, %ld claimed groups, "
                        "%ld mapped pages\n", fx.rec.live_slots, fx.rec.live_domains, fx.rec.live_groups,
                        fx.rec.live_mappings);
                recorder_dump(&fx.rec);
                abort();
        }
        recorder_done(&fx.rec);
        check_leaks();
}

Device *dev(const char *name) {
        Device *d = core_find_device(fx.core, name);

        cr_assert_not_null(d, "no device %s", name);
        return d;
}

Group *grp(uint32_t id) {
        Group *g = core_find_group(fx.core, id);

        cr_assert_not_null(g, "no group %u", id);
        return g;
}

Client *new_client_quota(uid_t uid, const Quota *q) {
        ClientIdentity id = { .uid = uid, .gid = uid, .pid = 1000 + uid, .name = ":1.test" };
        Client *cl = NULL;

        cr_assert_eq(client_new(fx.core, &id, q, &cl), 0);
        return cl;
}

Client *new_client(uid_t uid) {
        return new_client_quota(uid, NULL);
}

void claim_ok(Client *cl, const char *name) {
        cr_assert_eq(group_claim(dev(name)->group, cl, CLAIM_DETACH_KERNEL_DRIVERS), 0,
                     "claim of %s failed", name);
}

Bond *bind_ok(Client *cl, const char *name) {
        Bond *b = NULL;
        int r = bond_bind(cl, dev(name), &b);

        cr_assert_eq(r, 0, "bind %s: %s", name, strerror(-r));
        return b;
}

long log_at(const char *prefix) {
        long i = recorder_find(&fx.rec, prefix, 0);

        if (i < 0)
                recorder_dump(&fx.rec);
        cr_assert_geq(i, 0, "no log line starting with '%s'", prefix);
        return i;
}

FaultRecord fault_rec(uint32_t pasid, uint64_t addr, uint32_t cookie) {
        return (FaultRecord) {
                .flags = FAULT_FLAG_LAST_PAGE | (pasid ? FAULT_FLAG_PASID_VALID : 0),
                .pasid = pasid,
                .perm = FAULT_PERM_READ | FAULT_PERM_WRITE,
                .addr = addr,
                .length = PAGE_SIZE_4K,
                .cookie = cookie,
        };
}
