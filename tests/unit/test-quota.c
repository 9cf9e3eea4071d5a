/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-quota.c - every resource a client can make the daemon hold has a limit (L10) */
#include "fixture.h"

TestSuite(quota, .init = fixture_setup, .fini = fixture_teardown);

static Client *limited(Resource r, uint64_t n) {
        Quota q = quota_unlimited();

        q.limit[r] = n;
        return new_client_quota(1000, &q);
}

Test(quota, L10_claimed_groups) {
        Client *cl = limited(RES_GROUPS, 1);

        claim_ok(cl, DEV_PRI);
        cr_assert_eq(group_claim(grp(3), cl, 0), -EDQUOT);
        cr_assert_null(grp(3)->owner);
        cr_assert_eq(recorder_count(&fx.rec, "group_claim"), 1);
        cr_assert_eq(group_release(grp(1), cl), 0);
        cr_assert_eq(group_claim(grp(3), cl, 0), 0, "released quota is usable again");
}

Test(quota, L10_claim_quota_checked_before_drivers_move) {
        Client *cl = limited(RES_GROUPS, 0);

        cr_assert_eq(group_claim(grp(2), cl, CLAIM_DETACH_KERNEL_DRIVERS), -EDQUOT);
        cr_assert_str_eq(dev(DEV_NIC)->driver, "e1000e");
        cr_assert_eq(recorder_count(&fx.rec, "driver_detach"), 0);
}

Test(quota, L10_pasids) {
        Client *cl = limited(RES_PASIDS, 0);
        Bond *b = NULL;
        uint32_t p;

        cr_assert_eq(client_get_pasid(cl, &p), -EDQUOT);
        claim_ok(cl, DEV_PRI);
        cr_assert_eq(bond_bind(cl, dev(DEV_PRI), &b), -EDQUOT);
        cr_assert_eq(pasid_pool_count(fx.core->pasids), 0);
}

Test(quota, L10_bonds) {
        Client *cl = limited(RES_BONDS, 1);
        Bond *b = NULL;

        claim_ok(cl, DEV_PRI);
        claim_ok(cl, DEV_NOPRI);
        bind_ok(cl, DEV_PRI);
        bind_ok(cl, DEV_PRI);      /* same bond, one more user: no new bond */
        cr_assert_eq(bond_bind(cl, dev(DEV_NOPRI), &b), -EDQUOT);
        cr_assert_eq(fx.rec.live_domains, 1, "no domain left for the refused bond");
        cr_assert_eq(list_count(&cl->bonds), 1);
}

Test(quota, L10_regions_and_bytes) {
        Client *a = limited(RES_REGIONS, 1), *b = limited(RES_BYTES, 0x3000);
        Region *r = NULL;

        cr_assert_eq(region_new(a, 0x10000, 0, 0x1000, ACCESS_ALL, NULL, -1, &r), 0);
        cr_assert_eq(region_new(a, 0x20000, 0, 0x1000, ACCESS_ALL, NULL, -1, &r), -EDQUOT);
        cr_assert_eq(region_new(b, 0x10000, 0, 0x2000, ACCESS_ALL, NULL, -1, &r), 0);
        cr_assert_eq(region_new(b, 0x20000, 0, 0x2000, ACCESS_ALL, NULL, -1, &r), -EDQUOT);
        cr_assert_eq(b->used[RES_BYTES], 0x2000);
        cr_assert_eq(b->used[RES_REGIONS], 1, "refused region not counted");
        cr_assert_eq(region_new(b, 0x20000, 0, 0x1000, ACCESS_ALL, NULL, -1, &r), 0, "exactly at the limit");
        cr_assert_eq(region_remove(r), 0);
        cr_assert_eq(b->used[RES_BYTES], 0x2000);
}

Test(quota, L10_spaces) {
        Client *cl = limited(RES_SPACES, 2);
        Space *s;

        cr_assert_eq(space_new(cl, &s), 0);
        cr_assert_eq(space_new(cl, &s), 0);
        cr_assert_eq(space_new(cl, &s), -EDQUOT);
        cr_assert_eq(fx.rec.live_domains, 2);
}

Test(quota, L10_pending_faults_over_quota_are_answered_invalid) {
        Client *cl = limited(RES_PENDING_FAULTS, 2);
        FaultGroup *fg;
        FaultRecord r;
        Bond *b;

        claim_ok(cl, DEV_PRI);
        b = bind_ok(cl, DEV_PRI);
        for (uint32_t i = 0; i < 3; i++) {
                r = fault_rec(b->pasid, 0x1000, i);
                cr_assert_eq(fault_push(fx.core, 1, dev(DEV_PRI), &r, 0, &fg), 0);
                cr_assert((i < 2) == (fg != NULL), "fault %u", i);
        }
        cr_assert_eq(fault_table_pending(fx.core->faults), 2);
        cr_assert_eq(recorder_count(&fx.rec, "respond 0000:00:02.0 cookie=2 INVALID"), 1);
        cr_assert_eq(cl->used[RES_PENDING_FAULTS], 2);
        cr_assert_eq(fault_respond_cookie(fx.core, 1, 0, FAULT_SUCCESS), 0);
        cr_assert_eq(cl->used[RES_PENDING_FAULTS], 1);
}

Test(quota, L10_everything_is_uncharged_when_released) {
        Client *cl = new_client(1000);
        Region *r;
        Space *s;
        Bond *b;

        claim_ok(cl, DEV_PRI);
        cr_assert_eq(region_new(cl, 0x10000, 0, 0x1000, ACCESS_ALL, NULL, -1, &r), 0);
        cr_assert_eq(space_new(cl, &s), 0);
        b = bind_ok(cl, DEV_PRI);
        cr_assert_eq(bond_unbind(cl, b->id), 0);
        cr_assert_eq(space_free(s), 0);
        cr_assert_eq(region_remove(r), 0);
        cr_assert_eq(group_release(grp(1), cl), 0);
        for (unsigned i = 0; i < _RES_MAX; i++)
                if (i != RES_PASIDS)
                        cr_assert_eq(cl->used[i], 0, "%s still charged", resource_to_string(i));
        cr_assert_eq(cl->used[RES_PASIDS], 1, "the PASID stays until the client ends");
}
