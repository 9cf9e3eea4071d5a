/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-lifecycle.c - teardown order, idempotence, slot types and deferral (L1, L2, L6, L9) */
#include <stdio.h>

#include "fixture.h"

TestSuite(lifecycle, .init = fixture_setup, .fini = fixture_teardown);

/* A client with a bond (faulting), a pinned bond, a space and regions. */
static Client *busy_client(Bond **ret_bond) {
        Client *cl = new_client(1000);
        Region *r = NULL;
        Space *s = NULL;
        FaultGroup *fg = NULL;
        FaultRecord rec;
        Bond *b;

        claim_ok(cl, DEV_PRI);
        claim_ok(cl, DEV_NIC);
        claim_ok(cl, DEV_NOPRI);
        cr_assert_eq(region_new(cl, 0x10000, 0, 0x4000, ACCESS_ALL, NULL, -1, &r), 0);
        b = bind_ok(cl, DEV_PRI);
        bind_ok(cl, DEV_NOPRI);
        cr_assert_eq(space_new(cl, &s), 0);
        cr_assert_eq(space_map(s, r, 0, 0x100000, 0x1000, ACCESS_READ), 0);
        cr_assert_eq(space_attach(s, dev(DEV_NIC), 0), 0);
        rec = fault_rec(b->pasid, 0x10000, 7);
        cr_assert_eq(fault_push(fx.core, 1, dev(DEV_PRI), &rec, 0, &fg), 0);
        cr_assert_not_null(fg);
        if (ret_bond)
                *ret_bond = b;
        return cl;
}

/* Asserts that each domain's unmaps all come before its own free. */
static void assert_unmapped_before_free(void) {
        for (unsigned d = 1; d <= fx.rec.next_domain; d++) {
                char unmap[32], dfree[32];
                long f, u = -1;

                snprintf(unmap, sizeof(unmap), "unmap d%u ", d);
                snprintf(dfree, sizeof(dfree), "domain_free d%u", d);
                f = log_at(dfree);
                while ((u = recorder_find(&fx.rec, unmap, (size_t)(u + 1))) >= 0)
                        cr_assert_lt(u, f, "d%u unmapped after it was freed", d);
        }
}

Test(lifecycle, L2_client_exit_stops_dma_before_memory_domains_and_pasid) {
        Client *cl = busy_client(NULL);
        long last_detach, first_respond, first_unmap, first_free, group_rel;

        recorder_clear(&fx.rec);
        cr_assert_eq(client_release(fx.core, cl->id), 0);

        /* Every detach comes before any unmap, any domain free, any release. */
        last_detach = -1;
        for (long i = 0; (i = recorder_find(&fx.rec, "detach", (size_t)i)) >= 0; i++)
                last_detach = i;
        /* The detach itself answers the pending group (the kernel's
         * iommufd_auto_response_faults()); the core writes nothing for it. */
        first_respond = log_at("auto-respond 0000:00:02.0 cookie=7 INVALID");
        cr_assert_eq(recorder_count(&fx.rec, "respond"), 0);
        first_unmap = log_at("unmap");
        first_free = log_at("domain_free");
        group_rel = log_at("group_release");
        cr_assert_eq(recorder_count(&fx.rec, "detach"), 3);
        cr_assert_lt(last_detach, first_unmap);
        cr_assert_lt(first_respond, first_unmap, "faults answered before memory goes");
        cr_assert_lt(last_detach, first_free);
        assert_unmapped_before_free();
        cr_assert_lt(first_free, group_rel);
        cr_assert_lt(group_rel, log_at("driver_attach 0000:00:03.0 e1000e"));
        cr_assert_eq(pasid_pool_count(fx.core->pasids), 0);
        cr_assert_eq(group_ownership(grp(2)), OWNERSHIP_DMA_API);
        cr_assert_eq(fault_table_pending(fx.core->faults), 0);
}

Test(lifecycle, L2_unbind_detaches_before_unmapping_pinned_regions) {
        Client *cl = new_client(1000);
        Region *r;
        Bond *b;

        claim_ok(cl, DEV_NOPRI);
        cr_assert_eq(region_new(cl, 0x10000, 0, 0x2000, ACCESS_ALL, NULL, -1, &r), 0);
        b = bind_ok(cl, DEV_NOPRI);
        cr_assert_eq(recorder_count(&fx.rec, "map"), 1, "no PRI: regions pinned up front");
        cr_assert_eq(bond_unbind(cl, b->id), 0);
        cr_assert_lt(log_at("detach"), log_at("unmap"));
        cr_assert_lt(log_at("unmap"), log_at("domain_free"));
}

Test(lifecycle, L1_releasing_a_client_twice_changes_nothing) {
        Client *cl = busy_client(NULL);
        uint64_t id = cl->id;
        size_t n;

        cr_assert_eq(client_release(fx.core, id), 0);
        n = fx.rec.n_log;
        cr_assert_eq(client_release(fx.core, id), 0);
        cr_assert_eq(fx.rec.n_log, n, "second release must not touch the backend");
        cr_assert_null(core_find_client(fx.core, id));
}

Test(lifecycle, L1_unplug_then_client_exit_tears_down_once) {
        Bond *b;
        Client *cl = busy_client(&b);

        cr_assert_eq(device_unplug(fx.core, DEV_PRI), 0);
        cr_assert_eq(device_unplug(fx.core, DEV_PRI), -ENODEV, "second unplug: nothing left");
        cr_assert(b->stale);
        cr_assert_eq(client_release(fx.core, cl->id), 0);
        cr_assert_eq(recorder_count(&fx.rec, "detach 0000:00:02.0"), 1);
        cr_assert_eq(recorder_count(&fx.rec, "auto-respond 0000:00:02.0 cookie=7"), 1,
                     "the detach answered the pending group");
        cr_assert_eq(recorder_count(&fx.rec, "respond"), 0, "and the core wrote no second answer");
        cr_assert_eq(recorder_count(&fx.rec, "attach"), recorder_count(&fx.rec, "detach"));
        cr_assert_eq(recorder_count(&fx.rec, "domain_alloc"), recorder_count(&fx.rec, "domain_free"));
        cr_assert_eq(recorder_count(&fx.rec, "map"), recorder_count(&fx.rec, "unmap"));
}

Test(lifecycle, L1_group_release_then_client_exit_and_stale_unbind) {
        Bond *b;
        Client *cl = busy_client(&b);
        uint64_t id = b->id;

        cr_assert_eq(group_release(grp(1), cl), 0);
        cr_assert_eq(group_release(grp(1), cl), -EPERM);
        cr_assert_eq(bond_unbind(cl, id), 0);
        cr_assert_eq(bond_unbind(cl, id), -ENOENT);
        cr_assert_eq(client_release(fx.core, cl->id), 0);
        cr_assert_eq(recorder_count(&fx.rec, "group_release 1"), 1);
        cr_assert_eq(recorder_count(&fx.rec, "detach 0000:00:02.0"), 1);
}

Test(lifecycle, L1_slot_release_is_idempotent) {
        Client *cl = new_client(1000);
        Bond *b;

        claim_ok(cl, DEV_PRI);
        b = bind_ok(cl, DEV_PRI);
        slot_release(&b->slot);
        slot_release(&b->slot);
        cr_assert_eq(recorder_count(&fx.rec, "detach"), 1);
        bond_make_stale(b);
        bond_make_stale(b);
        cr_assert_eq(recorder_count(&fx.rec, "domain_free"), 1);
}

Test(lifecycle, L6_bind_on_a_slot_held_by_a_space_fails_busy) {
        Client *cl = new_client(1000);
        Space *s;
        Bond *b = NULL;
        uint32_t pasid;

        claim_ok(cl, DEV_PRI);
        cr_assert_eq(client_get_pasid(cl, &pasid), 0);
        cr_assert_eq(space_new(cl, &s), 0);
        cr_assert_eq(space_attach(s, dev(DEV_PRI), pasid), 0);
        cr_assert_eq(bond_bind(cl, dev(DEV_PRI), &b), -EBUSY);
        cr_assert_null(b);
        cr_assert_eq(recorder_count(&fx.rec, "attach"), 1);
        cr_assert_eq(device_find_slot(dev(DEV_PRI), pasid)->type, SLOT_SPACE);
        cr_assert_eq(cl->used[RES_BONDS], 0);

        cr_assert_eq(space_detach(s, dev(DEV_PRI), pasid), 0);
        b = bind_ok(cl, DEV_PRI);
        cr_assert_eq(device_find_slot(dev(DEV_PRI), pasid)->type, SLOT_SVA);
}

Test(lifecycle, L6_space_attach_on_a_slot_held_by_a_bond_fails_busy) {
        Client *cl = new_client(1000);
        Space *s;
        Bond *b;

        claim_ok(cl, DEV_PRI);
        b = bind_ok(cl, DEV_PRI);
        cr_assert_eq(space_new(cl, &s), 0);
        cr_assert_eq(space_attach(s, dev(DEV_PRI), b->pasid), -EBUSY);
        cr_assert_eq(device_find_slot(dev(DEV_PRI), b->pasid), &b->slot);
        cr_assert_eq(space_attach(s, dev(DEV_PRI), 0), 0, "the RID slot is free");
}

Test(lifecycle, L6_slot_take_checks_and_takes_in_one_step) {
        Client *cl = new_client(1000);
        Space *s1, *s2;
        Slot a, b;

        claim_ok(cl, DEV_PRI);
        cr_assert_eq(space_new(cl, &s1), 0);
        cr_assert_eq(space_new(cl, &s2), 0);
        slot_init(&a);
        slot_init(&b);
        cr_assert_eq(slot_take(&a, SLOT_SPACE, dev(DEV_PRI), 0, &s1->io), 0);
        /* Held from the moment slot_take returned: a 2nd taker loses. */
        cr_assert_eq(slot_take(&b, SLOT_SVA, dev(DEV_PRI), 0, &s2->io), -EBUSY);
        cr_assert_null(b.device);
        cr_assert_eq(s2->io.n_attached, 0);
        slot_release(&a);
}

static uint64_t victim_client;
static bool victim_alive_after_release_call;

static void release_from_callback(const CoreEvent *ev) {
        if (ev->kind != CORE_EVENT_BOND_CHANGED || ev->client != victim_client)
                return;
        /* We are inside the core's callback: the client must not vanish now. */
        cr_assert_eq(client_release(fx.core, victim_client), 0);
        victim_alive_after_release_call = core_find_client(fx.core, victim_client) != NULL;
        cr_assert_eq(group_revoke(grp(1)), 0);
        cr_assert_eq(device_unplug(fx.core, DEV_SMALL), 0);
        cr_assert_not_null(core_find_device(fx.core, DEV_SMALL), "unplug deferred too");
}

Test(lifecycle, L9_teardown_requested_from_a_callback_is_deferred) {
        Client *cl = new_client(1000);

        victim_client = cl->id;
        claim_ok(cl, DEV_PRI);
        bind_ok(cl, DEV_PRI);
        fx.on_event = release_from_callback;

        core_dispatch(fx.core);
        cr_assert(victim_alive_after_release_call, "client freed inside the callback");
        cr_assert_null(core_find_client(fx.core, victim_client), "deferred release never ran");
        cr_assert_null(core_find_device(fx.core, DEV_SMALL));
        cr_assert_eq(recorder_count(&fx.rec, "group_release 1"), 1);
        cr_assert_not(core_pending(fx.core));
}

static Bond *unbind_target;

static void unbind_from_callback(const CoreEvent *ev) {
        if (ev->kind != CORE_EVENT_BOND_CHANGED || !unbind_target)
                return;
        cr_assert_eq(bond_unbind(unbind_target->client, unbind_target->id), 0);
        cr_assert_eq(unbind_target->users, 2, "unbind applied inside the callback");
        unbind_target = NULL;
}

Test(lifecycle, L9_unbind_from_a_callback_runs_at_the_safe_point) {
        Client *cl = new_client(1000);
        Bond *b;
        uint64_t id;

        claim_ok(cl, DEV_PRI);
        bind_ok(cl, DEV_PRI);
        b = bind_ok(cl, DEV_PRI);
        id = b->id;
        unbind_target = b;
        fx.on_event = unbind_from_callback;
        core_dispatch(fx.core);
        cr_assert_eq(client_find_bond(cl, id)->users, 1);
}

Test(lifecycle, L9_space_free_from_a_callback_is_deferred) {
        Client *cl = new_client(1000);
        Space *s;
        uint64_t id;

        cr_assert_eq(space_new(cl, &s), 0);
        id = s->id;
        fx.core->dispatch_depth++;      /* as if inside a listener */
        cr_assert_eq(space_free(s), 0);
        cr_assert_not_null(client_find_space(cl, id));
        fx.core->dispatch_depth--;
        core_dispatch(fx.core);
        cr_assert_null(client_find_space(cl, id));
        cr_assert_eq(recorder_count(&fx.rec, "domain_free"), 1);
}

static uint32_t revoke_group;
static bool revoke_owned_inside, revoke_released_inside;

static void revoke_from_callback(const CoreEvent *ev) {
        if (ev->kind != CORE_EVENT_BOND_CHANGED || !revoke_group)
                return;
        cr_assert_eq(group_revoke(grp(revoke_group)), 0);
        /* Inside the listener nothing may go: the group is still owned and
         * the backend has not been asked to release it. */
        revoke_owned_inside = grp(revoke_group)->owner != NULL;
        revoke_released_inside = recorder_count(&fx.rec, "group_release") > 0;
        revoke_group = 0;
}

Test(lifecycle, L9_group_revoke_from_a_callback_runs_at_the_safe_point) {
        Client *cl = new_client(1000);
        Bond *b;

        claim_ok(cl, DEV_PRI);
        b = bind_ok(cl, DEV_PRI);
        revoke_group = 1;
        fx.on_event = revoke_from_callback;
        core_dispatch(fx.core);
        cr_assert(revoke_owned_inside, "the group was released inside the callback");
        cr_assert_not(revoke_released_inside, "group_release ran inside the callback");
        cr_assert_null(grp(1)->owner, "the deferred revoke never ran");
        cr_assert_eq(recorder_count(&fx.rec, "group_release 1"), 1);
        cr_assert(b->stale, "the bond went stale with the revoke (L3)");
}

static Bond *double_unbind;
static int double_unbind_second;

static void unbind_twice_from_callback(const CoreEvent *ev) {
        if (ev->kind != CORE_EVENT_BOND_CHANGED || !double_unbind)
                return;
        cr_assert_eq(bond_unbind(double_unbind->client, double_unbind->id), 0);
        double_unbind_second = bond_unbind(double_unbind->client, double_unbind->id);
        double_unbind = NULL;
}

/* One bind, one unbind: a second unbind asked for before the first ran (from
 * a callback, so both are deferred) is refused like any unbind of a bond
 * that is gone, and the bond is freed once. */
Test(lifecycle, L1_unbinding_more_often_than_bound_from_a_callback_is_refused) {
        Client *cl = new_client(1000);

        claim_ok(cl, DEV_PRI);
        double_unbind = bind_ok(cl, DEV_PRI);
        fx.on_event = unbind_twice_from_callback;
        core_dispatch(fx.core);
        cr_assert_eq(double_unbind_second, -ENOENT, "a second unbind of a one-user bond was taken");
        cr_assert(list_empty(&cl->bonds));
        cr_assert_eq(recorder_count(&fx.rec, "detach 0000:00:02.0"), 1);
}

/* A device that goes (an unplug, or the kernel asking for a VFIO device
 * back) has every slot detached before the backend lets go of it: the
 * kernel backend closes its cdev there, and DMA must have stopped by then. */
Test(lifecycle, L2_unplug_detaches_every_slot_before_the_backend_lets_the_device_go) {
        busy_client(NULL);
        recorder_clear(&fx.rec);
        cr_assert_eq(device_unplug(fx.core, DEV_NIC), 0);
        cr_assert_lt(log_at("detach " DEV_NIC " pasid=0"), log_at("device_release " DEV_NIC));
        cr_assert_eq(recorder_count(&fx.rec, "device_release"), 1);
        cr_assert_eq(device_unplug(fx.core, DEV_NIC), -ENODEV);
        cr_assert_eq(recorder_count(&fx.rec, "device_release"), 1, "L1: once");
}
