/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-sva.c - SVA bonds, SVA domains and the PASID lifetime (L3, L7) */
#include "fixture.h"

TestSuite(sva, .init = fixture_setup, .fini = fixture_teardown);

Test(sva, bind_needs_the_group_claimed_by_the_caller) {
        Client *a = new_client(1000), *b = new_client(1001);
        Bond *bond = NULL;

        cr_assert_eq(bond_bind(a, dev(DEV_PRI), &bond), -EPERM);
        claim_ok(b, DEV_PRI);
        cr_assert_eq(bond_bind(a, dev(DEV_PRI), &bond), -EPERM);
        cr_assert_null(bond);
        cr_assert_eq(recorder_count(&fx.rec, "attach"), 0);
}

Test(sva, bind_on_device_without_pasid_is_not_supported) {
        Client *cl = new_client(1000);
        Bond *b = NULL;

        claim_ok(cl, DEV_NIC);
        cr_assert_eq(bond_bind(cl, dev(DEV_NIC), &b), -EOPNOTSUPP);
}

Test(sva, binding_twice_returns_the_same_bond_with_two_users) {
        Client *cl = new_client(1000);
        Bond *b1, *b2;
        uint64_t id;

        claim_ok(cl, DEV_PRI);
        b1 = bind_ok(cl, DEV_PRI);
        b2 = bind_ok(cl, DEV_PRI);
        cr_assert_eq(b1, b2);
        cr_assert_eq(b1->users, 2);
        cr_assert_eq(recorder_count(&fx.rec, "attach"), 1);

        cr_assert_eq(bond_unbind(cl, b1->id), 0);
        cr_assert_not_null(client_find_bond(cl, b1->id), "one user left");
        cr_assert_eq(recorder_count(&fx.rec, "detach"), 0);
        id = b1->id;
        cr_assert_eq(bond_unbind(cl, id), 0);
        cr_assert_null(client_find_bond(cl, id));
        cr_assert_eq(recorder_count(&fx.rec, "detach"), 1);
        cr_assert_eq(bond_unbind(cl, id), -ENOENT, "each bind needs one unbind, no more");
}

Test(sva, one_sva_domain_per_client_and_iommu) {
        Client *cl = new_client(1000);
        Bond *b1, *b2, *b3;

        claim_ok(cl, DEV_PRI);
        claim_ok(cl, DEV_SMALL);
        claim_ok(cl, DEV_NOPRI);
        b1 = bind_ok(cl, DEV_PRI);         /* dmar0 */
        b2 = bind_ok(cl, DEV_SMALL);       /* dmar1 */
        b3 = bind_ok(cl, DEV_NOPRI);       /* dmar1: shares b2's domain */
        cr_assert_neq(b1->domain, b2->domain);
        cr_assert_eq(b2->domain, b3->domain);
        cr_assert_eq(b2->domain->users, 2);
        cr_assert_eq(recorder_count(&fx.rec, "domain_alloc"), 2);

        cr_assert_eq(bond_unbind(cl, b2->id), 0);
        cr_assert_eq(recorder_count(&fx.rec, "domain_free"), 0, "b3 still uses it");
        cr_assert_eq(bond_unbind(cl, b3->id), 0);
        cr_assert_eq(recorder_count(&fx.rec, "domain_free"), 1);
}

Test(sva, L7_one_pasid_per_client_the_same_on_every_device) {
        Client *a = new_client(1000), *b = new_client(1001);
        Bond *ba, *ba2, *bb;
        uint32_t pa;

        claim_ok(a, DEV_PRI);
        claim_ok(a, DEV_NOPRI);
        claim_ok(b, DEV_SMALL);
        ba = bind_ok(a, DEV_PRI);
        ba2 = bind_ok(a, DEV_NOPRI);
        bb = bind_ok(b, DEV_SMALL);
        cr_assert_eq(ba->pasid, ba2->pasid);
        cr_assert_neq(ba->pasid, bb->pasid);
        cr_assert_eq(client_get_pasid(a, &pa), 0);
        cr_assert_eq(pa, ba->pasid, "AllocPasid returns the bond's PASID");
        cr_assert_eq(log_at("attach 0000:00:02.0 pasid=1"), log_at("attach 0000:00:02.0"));
}

Test(sva, L7_small_max_pasids_fails_overflow_and_keeps_the_pasid) {
        Client *c[5];
        Bond *b = NULL;
        uint32_t p;

        /* Clients 0..3 take PASIDs 1..4; max_pasids 4 allows only 1..3. */
        for (int i = 0; i < 5; i++) {
                c[i] = new_client(1000 + i);
                cr_assert_eq(client_get_pasid(c[i], &p), 0);
                cr_assert_eq(p, (uint32_t)i + 1);
        }
        claim_ok(c[3], DEV_SMALL);
        cr_assert_eq(bond_bind(c[3], dev(DEV_SMALL), &b), -EOVERFLOW);
        cr_assert_eq(c[3]->pasid, 4, "the PASID is not freed by the failure");
        cr_assert(pasid_pool_is_allocated(fx.core->pasids, 4));
        cr_assert_eq(recorder_count(&fx.rec, "domain_alloc"), 0, "nothing set up");
        cr_assert_eq(c[3]->used[RES_BONDS], 0);

        cr_assert_eq(group_release(grp(4), c[3]), 0);
        claim_ok(c[2], DEV_SMALL);
        b = bind_ok(c[2], DEV_SMALL);
        cr_assert_eq(b->pasid, 3);
}

/*
 * Finding: PASIDs were handed out lowest first to every client, so idle
 * clients that may bind only wide devices took 1..3 and nobody could bind
 * the device whose max_pasids is 4. A client's PASID now comes from the
 * range its narrowest device needs, above the max_pasids of narrower ones.
 */
Test(sva, L7_low_pasids_are_kept_for_the_devices_that_need_them) {
        Client *squat[3], *root = new_client(0), *mid = new_client(1001);
        Bond *b;
        uint32_t p;

        for (int i = 0; i < 3; i++) {
                squat[i] = new_client(1000);
                squat[i]->pasid_width = 1u << 20;       /* may bind 0000:00:02.0 only */
                cr_assert_eq(client_get_pasid(squat[i], &p), 0);
                cr_assert_geq(p, 1u << 16, "above what 0000:00:04.0 (2^16) and 0000:00:05.0 (4) need: %u", p);
        }
        mid->pasid_width = 1u << 16;                    /* may bind 0000:00:04.0 and wider */
        cr_assert_eq(client_get_pasid(mid, &p), 0);
        cr_assert(p >= 4 && p < (1u << 16), "between the small device's range and its own width: %u", p);

        claim_ok(root, DEV_SMALL);                      /* root may bind everything: width 0 */
        b = bind_ok(root, DEV_SMALL);
        cr_assert_eq(b->pasid, 1, "the small device's PASIDs were left for it");
}

Test(sva, L7_full_range_falls_back_above_it_and_overflow_keeps_the_pasid) {
        Client *c[4];
        Bond *b = NULL;
        uint32_t p;

        for (int i = 0; i < 4; i++) {
                c[i] = new_client(1000 + i);
                c[i]->pasid_width = 4;
                cr_assert_eq(client_get_pasid(c[i], &p), 0);
        }
        cr_assert_eq(c[2]->pasid, 3);
        cr_assert_eq(c[3]->pasid, 4, "1..3 full: the lowest above the width");
        claim_ok(c[3], DEV_SMALL);
        cr_assert_eq(bond_bind(c[3], dev(DEV_SMALL), &b), -EOVERFLOW);
        cr_assert_eq(c[3]->pasid, 4, "kept (L7)");
}

static uint32_t watched_pasid;
static unsigned domain_frees, pasid_alive_at_domain_free;

static void check_pasid_on_domain_free(void *ud, RecorderOp op, const char *line) {
        if (op != REC_DOMAIN_FREE)
                return;
        domain_frees++;
        if (pasid_pool_is_allocated(fx.core->pasids, watched_pasid))
                pasid_alive_at_domain_free++;
}

Test(sva, L7_pasid_freed_only_after_client_ended_and_last_domain_gone) {
        Client *cl = new_client(1000);
        uint64_t id = cl->id;
        Space *s;
        Bond *b;

        claim_ok(cl, DEV_PRI);
        claim_ok(cl, DEV_SMALL);
        b = bind_ok(cl, DEV_PRI);
        bind_ok(cl, DEV_SMALL);         /* a second SVA domain, on dmar1 */
        cr_assert_eq(space_new(cl, &s), 0);
        watched_pasid = b->pasid;

        /* Unbinding everything keeps the PASID: it is the client's for life. */
        cr_assert_eq(bond_unbind(cl, b->id), 0);
        cr_assert(pasid_pool_is_allocated(fx.core->pasids, watched_pasid));
        b = bind_ok(cl, DEV_PRI);
        cr_assert_eq(b->pasid, watched_pasid);

        fx.rec.hook = check_pasid_on_domain_free;
        cr_assert_eq(client_release(fx.core, id), 0);
        cr_assert_eq(domain_frees, 3);
        cr_assert_eq(pasid_alive_at_domain_free, 3, "PASID was freed before its last domain");
        cr_assert_not(pasid_pool_is_allocated(fx.core->pasids, watched_pasid));
}

Test(sva, L7_forked_child_is_a_new_client_with_its_own_pasid) {
        Client *parent = new_client(1000), *child;
        uint32_t pp, pc;

        cr_assert_eq(client_get_pasid(parent, &pp), 0);
        child = new_client(1000);       /* same uid, new process */
        cr_assert_eq(client_get_pasid(child, &pc), 0);
        cr_assert_neq(pp, pc);
        cr_assert(list_empty(&child->bonds));
        cr_assert(list_empty(&child->groups), "a child inherits nothing");
}

Test(sva, L3_unplug_leaves_the_bond_stale_and_unbind_succeeds) {
        Client *cl = new_client(1000);
        Bond *b;
        uint64_t id;

        claim_ok(cl, DEV_PRI);
        b = bind_ok(cl, DEV_PRI);
        id = b->id;
        core_dispatch(fx.core);
        cr_assert_eq(device_unplug(fx.core, DEV_PRI), 0);

        b = client_find_bond(cl, id);
        cr_assert_not_null(b, "the bond stays visible");
        cr_assert(b->stale);
        cr_assert_str_eq(bond_state_to_string(b), "stale");
        cr_assert_str_eq(b->device_name, DEV_PRI);
        cr_assert_null(b->device, "no dangling device pointer");
        cr_assert_eq(recorder_count(&fx.rec, "detach 0000:00:02.0"), 1);
        cr_assert_eq(recorder_count(&fx.rec, "domain_free"), 1);
        cr_assert_eq(dispatch_count(CORE_EVENT_BOND_CHANGED), 1);

        cr_assert_eq(bond_unbind(cl, id), 0);
        cr_assert_null(client_find_bond(cl, id));
        cr_assert_eq(dispatch_count(CORE_EVENT_BOND_REMOVED), 1);
}

Test(sva, L3_group_release_revokes_access_and_bond_goes_stale) {
        Client *cl = new_client(1000);
        Bond *b;

        claim_ok(cl, DEV_PRI);
        b = bind_ok(cl, DEV_PRI);
        cr_assert_eq(group_release(grp(1), cl), 0);
        cr_assert(b->stale);
        cr_assert_lt(log_at("detach 0000:00:02.0"), log_at("group_release 1"));

        /* Claim again and bind: a new active bond beside the stale one. */
        claim_ok(cl, DEV_PRI);
        cr_assert_neq(bind_ok(cl, DEV_PRI), b);
        cr_assert_eq(bond_unbind(cl, b->id), 0);
}

Test(sva, L3_L1_revoke_by_policy_makes_bonds_stale_once) {
        Client *cl = new_client(1000);
        Bond *b;

        claim_ok(cl, DEV_PRI);
        b = bind_ok(cl, DEV_PRI);
        cr_assert_eq(group_revoke(grp(1)), 0);
        cr_assert(b->stale);
        cr_assert_null(grp(1)->owner);
        cr_assert_eq(group_revoke(grp(1)), 0, "L1: revoking again changes nothing");
        cr_assert_eq(recorder_count(&fx.rec, "group_release 1"), 1);
}

Test(sva, backend_attach_failure_leaves_nothing_behind) {
        Client *cl = new_client(1000);
        Bond *b = NULL;

        claim_ok(cl, DEV_PRI);
        recorder_fail(&fx.rec, REC_ATTACH, EIO, "");
        cr_assert_eq(bond_bind(cl, dev(DEV_PRI), &b), -EIO);
        cr_assert(list_empty(&cl->bonds));
        cr_assert(list_empty(&cl->sva_domains));
        cr_assert_eq(fx.rec.live_domains, 0);
        cr_assert_eq(cl->used[RES_BONDS], 0);
        cr_assert(list_empty(&dev(DEV_PRI)->slots));
        recorder_fail(&fx.rec, REC_ATTACH, 0, "");
        bind_ok(cl, DEV_PRI);
}

/*
 * The PASIDs a device can use are the smaller of its own and what its IOMMU
 * gives it (the kernel's IOMMU_GET_HW_INFO out_max_pasid_log2), learned
 * when its group is claimed: here dmar1 gives 2 bits (PASIDs 0..3) to
 * DEV_NOPRI, whose capability has 16.
 */
Test(sva, L7_max_pasids_is_the_smaller_of_the_device_and_its_iommu) {
        Client *c[4];
        Bond *b = NULL;
        uint32_t p;

        fx.rec.info_iommu = "dmar1";
        fx.rec.info = (DeviceIommuInfo) { .max_pasid_log2 = 2, .capabilities = DEVICE_IOMMU_CAP_DIRTY_TRACKING };
        for (int i = 0; i < 4; i++)
                cr_assert_eq(client_get_pasid(c[i] = new_client(1000 + i), &p), 0);
        cr_assert_eq(dev(DEV_NOPRI)->max_pasids, 1u << 16, "before the claim: the device's own");
        cr_assert_not(dev(DEV_NOPRI)->iommu_info_known);
        claim_ok(c[3], DEV_NOPRI);
        cr_assert(dev(DEV_NOPRI)->iommu_info_known);
        cr_assert_eq(dev(DEV_NOPRI)->max_pasids, 4, "min(2^16, 2^2)");
        cr_assert_eq(dev(DEV_NOPRI)->device_max_pasids, 1u << 16);
        cr_assert_eq(dev(DEV_NOPRI)->iommu_info.capabilities, DEVICE_IOMMU_CAP_DIRTY_TRACKING);
        cr_assert_eq(dispatch_count(CORE_EVENT_DEVICE_CHANGED), 1, "the Device object changed");
        cr_assert_eq(bond_bind(c[3], dev(DEV_NOPRI), &b), -EOVERFLOW, "PASID 4 does not fit");
        cr_assert_eq(recorder_count(&fx.rec, "domain_alloc"), 0);
        cr_assert_eq(group_release(grp(3), c[3]), 0);
        claim_ok(c[2], DEV_NOPRI);
        b = bind_ok(c[2], DEV_NOPRI);
        cr_assert_eq(b->pasid, 3);

        /* dmar0 gives 2^20: the device's own 2^20 stays. */
        claim_ok(c[0], DEV_PRI);
        cr_assert_eq(dev(DEV_PRI)->max_pasids, 1u << 20);
        cr_assert_not(dev(DEV_PRI)->iommu_info_known, "the recorder answers for dmar1 only");
}

/* A PASID-capable device behind an IOMMU without PASID support can still
 * take a space at its RID; a bond or a PASID attachment is NotSupported. */
Test(sva, a_pasid_device_on_an_iommu_without_pasids_takes_a_space_at_its_rid_only) {
        Client *cl = new_client(1000);
        Bond *b = NULL;
        Space *s;
        uint32_t p;

        fx.rec.info_iommu = "dmar1";
        fx.rec.info = (DeviceIommuInfo) { .max_pasid_log2 = 0 };
        cr_assert_eq(client_get_pasid(cl, &p), 0);
        claim_ok(cl, DEV_NOPRI);
        cr_assert(dev(DEV_NOPRI)->pasid_capable, "its own capability stays");
        cr_assert_eq(dev(DEV_NOPRI)->max_pasids, 0);
        cr_assert_eq(bond_bind(cl, dev(DEV_NOPRI), &b), -EOPNOTSUPP);
        cr_assert_eq(space_new(cl, &s), 0);
        cr_assert_eq(space_attach(s, dev(DEV_NOPRI), p), -EOPNOTSUPP);
        cr_assert_eq(space_attach(s, dev(DEV_NOPRI), PASID_NONE), 0);
        cr_assert_geq(log_at("attach 0000:00:04.0 pasid=0"), 0);
}
