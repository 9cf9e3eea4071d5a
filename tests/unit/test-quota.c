/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-quota.c - every resource a client can make the daemon hold has a limit (L10) */
#include "fixture.h"

TestSuite(quota, .init = fixture_setup, .fini = fixture_teardown);

static Client *limited_uid(uid_t uid, Resource r, uint64_t n) {
        Quota q = quota_unlimited();

        q.limit[r] = n;
        return new_client_quota(uid, &q);
}

static Client *limited(Resource r, uint64_t n) {
        return limited_uid(1000, r, n);
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
        Client *a = limited_uid(1000, RES_REGIONS, 1), *b = limited_uid(1001, RES_BYTES, 0x3000);
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
                if (i != RES_PASIDS && i != RES_CONNECTIONS)
                        cr_assert_eq(cl->used[i], 0, "%s still charged", resource_to_string(i));
        cr_assert_eq(cl->used[RES_PASIDS], 1, "the PASID stays until the client ends");
        cr_assert_eq(cl->used[RES_CONNECTIONS], 1, "the client itself, until it ends");
        cr_assert_eq(client_release(fx.core, cl->id), 0);
        cr_assert_null(core_find_user(fx.core, 1000), "the uid's record goes with its last client");
}

/* Finding: quotas were per connection, so more connections multiplied them. */
Test(quota, L10_quotas_count_all_connections_of_a_uid) {
        Client *a = limited_uid(1000, RES_REGIONS, 2), *b = limited_uid(1000, RES_REGIONS, 2);
        Client *other = limited_uid(1001, RES_REGIONS, 2);
        Region *r = NULL, *ra;

        cr_assert_eq(region_new(a, 0x10000, 0, 0x1000, ACCESS_ALL, NULL, -1, &ra), 0);
        cr_assert_eq(region_new(b, 0x10000, 0, 0x1000, ACCESS_ALL, NULL, -1, &r), 0);
        cr_assert_eq(region_new(b, 0x20000, 0, 0x1000, ACCESS_ALL, NULL, -1, &r), -EDQUOT,
                     "the uid holds 2 regions over its two connections");
        cr_assert_eq(b->refused, RES_REGIONS, "the refusal names the quota");
        cr_assert_eq(b->user, a->user);
        cr_assert_eq(a->user->used[RES_REGIONS], 2);
        cr_assert_eq(b->used[RES_REGIONS], 1, "each connection's own count is kept for its release");
        cr_assert_eq(region_new(other, 0x10000, 0, 0x1000, ACCESS_ALL, NULL, -1, &r), 0, "another uid is apart");
        cr_assert_eq(region_new(other, 0x20000, 0, 0x1000, ACCESS_ALL, NULL, -1, &r), 0);
        cr_assert_eq(client_release(fx.core, a->id), 0);
        cr_assert_eq(b->user->used[RES_REGIONS], 1, "a's release gave its share back");
        cr_assert_eq(region_new(b, 0x20000, 0, 0x1000, ACCESS_ALL, NULL, -1, &r), 0);
}

Test(quota, L10_connections_holding_state_per_uid) {
        Quota q = quota_unlimited();
        ClientIdentity id = { .uid = 1000, .gid = 1000, .pid = 77, .name = ":1.third" };
        Client *a, *b, *c = NULL;

        q.limit[RES_CONNECTIONS] = 2;
        a = new_client_quota(1000, &q);
        b = new_client_quota(1000, &q);
        cr_assert_eq(client_new(fx.core, &id, &q, &c), -EDQUOT);
        cr_assert_null(c, "ret untouched on failure");
        cr_assert_eq(list_count(&fx.core->clients), 2, "nothing made for the refused one");
        cr_assert_eq(a->user->used[RES_CONNECTIONS], 2);
        new_client_quota(1001, &q);     /* another uid has its own */
        cr_assert_eq(client_release(fx.core, b->id), 0);
        cr_assert_eq(client_new(fx.core, &id, &q, &c), 0, "room again once one went");
}

Test(quota, L10_pasids_per_uid) {
        Client *a = limited_uid(1000, RES_PASIDS, 1), *b = limited_uid(1000, RES_PASIDS, 1);
        uint32_t p;

        cr_assert_eq(client_get_pasid(a, &p), 0);
        cr_assert_eq(client_get_pasid(b, &p), -EDQUOT, "one PASID for the whole uid");
        cr_assert_eq(b->refused, RES_PASIDS);
        cr_assert_eq(pasid_pool_count(fx.core->pasids), 1);
}

/* Finding: Space.Map grew memory without bound: one region at thousands of
 * IOVAs. Each mapping costs one of "mappings" and its length in "bytes". */
Test(quota, L10_space_mappings_count_against_mappings) {
        Client *cl = limited(RES_MAPPINGS, 3);
        Region *r;
        Space *s;

        cr_assert_eq(region_new(cl, 0x10000, 0, 0x1000, ACCESS_ALL, NULL, -1, &r), 0);
        cr_assert_eq(space_new(cl, &s), 0);
        for (uint64_t i = 0; i < 3; i++)
                cr_assert_eq(space_map(s, r, 0, 0x100000 + i * 0x1000, 0x1000, ACCESS_ALL), 0);
        cr_assert_eq(space_map(s, r, 0, 0x200000, 0x1000, ACCESS_ALL), -EDQUOT);
        cr_assert_eq(cl->refused, RES_MAPPINGS);
        cr_assert_eq(list_count(&s->io.mappings), 3);
        cr_assert_eq(cl->used[RES_BYTES], 4 * 0x1000, "the region once and each mapping");
        cr_assert_eq(space_unmap(s, 0x101000, 0x1000), 0);
        cr_assert_eq(cl->used[RES_MAPPINGS], 2);
        cr_assert_eq(space_map(s, r, 0, 0x200000, 0x1000, ACCESS_ALL), 0, "an unmap gives one back");
        cr_assert_eq(space_free(s), 0);
        cr_assert_eq(cl->used[RES_MAPPINGS], 0);
        cr_assert_eq(cl->used[RES_BYTES], 0x1000, "only the region is left");
}

Test(quota, L10_bytes_are_the_sum_of_mapped_lengths) {
        Client *cl = limited(RES_BYTES, 0x5000);
        Region *r;
        Space *s;

        cr_assert_eq(region_new(cl, 0x10000, 0, 0x2000, ACCESS_ALL, NULL, -1, &r), 0);
        cr_assert_eq(space_new(cl, &s), 0);
        cr_assert_eq(space_map(s, r, 0, 0x100000, 0x2000, ACCESS_ALL), 0);
        cr_assert_eq(space_map(s, r, 0, 0x200000, 0x2000, ACCESS_ALL), -EDQUOT,
                     "the same region again costs its length again");
        cr_assert_eq(cl->refused, RES_BYTES);
        cr_assert_eq(cl->used[RES_MAPPINGS], 1, "the refused one is not counted");
        cr_assert_eq(space_map(s, r, 0x1000, 0x200000, 0x1000, ACCESS_ALL), 0, "exactly at the limit");
        cr_assert_eq(cl->used[RES_BYTES], 0x5000);
        cr_assert_eq(space_map(s, r, 0, 0x300000, 0x1000, ACCESS_ALL), -EDQUOT);
        cr_assert_eq(region_free(r), NULL);
        cr_assert_eq(cl->used[RES_BYTES], 0, "a region's release unmaps and uncharges its mappings");
        cr_assert_eq(cl->used[RES_MAPPINGS], 0);
}

/* Finding: Map's overlap check and Unmap's search walked every mapping,
 * quadratic in their number. Counted in index probes, not time. */
Test(quota, L10_map_and_unmap_lookups_do_not_walk_the_mappings) {
        enum { N = 2000 };
        Client *cl = new_client(1000);
        uint64_t before;
        Region *r;
        Space *s;

        cr_assert_eq(region_new(cl, 0x10000, 0, 0x1000, ACCESS_ALL, NULL, -1, &r), 0);
        cr_assert_eq(space_new(cl, &s), 0);
        before = fx.core->mapping_lookups;
        for (uint64_t i = 0; i < N; i++)
                cr_assert_eq(space_map(s, r, 0, 0x100000 + i * 0x2000, 0x1000, ACCESS_READ), 0);
        cr_assert_eq(space_map(s, r, 0, 0x100000 + 7 * 0x2000, 0x1000, ACCESS_READ), -EEXIST);
        cr_assert_eq(space_unmap(s, 0x100000 + 7 * 0x2000, 0x2000), -ENOENT, "not exactly a mapped range");
        for (uint64_t i = 0; i < N; i++)
                cr_assert_eq(space_unmap(s, 0x100000 + i * 0x2000, 0x1000), 0);
        /* A walk would look at N * N / 2 mappings; the index one page each. */
        cr_assert_leq(fx.core->mapping_lookups - before, 2 * N + 2,
                      "%llu lookups for %d maps and unmaps",
                      (unsigned long long)(fx.core->mapping_lookups - before), N);
        cr_assert(list_empty(&s->io.mappings));
        cr_assert_eq(space_map(s, r, 0, 0x100000, 0x1000, ACCESS_READ), 0, "freed IOVAs are free again");
}
