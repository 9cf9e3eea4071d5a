/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-revoke.c - a reloaded policy takes back what it no longer allows, in L2 order (L1, L2, L3, L10) */
#include "fixture.h"

TestSuite(revoke, .init = fixture_setup, .fini = fixture_teardown);

/* The test's policy: every grant, except those denied here (device NULL:
 * on every device, and the device-less question too). */
static struct {
        bool deny[_GRANT_MAX];
        const char *only_on[_GRANT_MAX];        /* deny only on this device */
} policy;

static bool allows(void *userdata, const Client *cl, Grant g, const Device *d) {
        if (!policy.deny[g])
                return true;
        return policy.only_on[g] && (!d || strcmp(d->name, policy.only_on[g]) != 0);
}

static void deny(Grant g, const char *device) {
        policy.deny[g] = true;
        policy.only_on[g] = device;
}

static void reset_policy(void) {
        memset(&policy, 0, sizeof(policy));
}

/* Revokes and returns how many CORE_EVENT_REVOKED of kind `what` came. */
static unsigned revoke_count(Client *cl, RevokedKind what, int *ret) {
        unsigned from = fx.n_events, n = 0;

        *ret = client_revoke(cl, allows, NULL);
        core_dispatch(fx.core);
        for (unsigned i = from; i < fx.n_events; i++)
                if (fx.events[i].kind == CORE_EVENT_REVOKED && fx.events[i].revoked == what)
                        n++;
        return n;
}

static const SeenEvent *revoked_event(RevokedKind what) {
        for (unsigned i = fx.n_events; i > 0; i--)
                if (fx.events[i - 1].kind == CORE_EVENT_REVOKED && fx.events[i - 1].revoked == what)
                        return &fx.events[i - 1];
        cr_assert_fail("no CORE_EVENT_REVOKED of kind %d", what);
        return NULL;
}

/* A client with two bonds (one pinned), a space attached and mapping a
 * region, and three claimed groups. */
static Client *busy_client(Space **ret_space, Region **ret_region) {
        Client *cl = new_client(1000);
        Region *r = NULL;
        Space *s = NULL;

        reset_policy();
        claim_ok(cl, DEV_PRI);
        claim_ok(cl, DEV_NIC);
        claim_ok(cl, DEV_NOPRI);
        cr_assert_eq(region_new(cl, 0x10000, 0, 0x4000, ACCESS_ALL, NULL, -1, &r), 0);
        bind_ok(cl, DEV_PRI);
        bind_ok(cl, DEV_NOPRI);
        cr_assert_eq(space_new(cl, &s), 0);
        cr_assert_eq(space_map(s, r, 0, 0x100000, 0x1000, ACCESS_READ), 0);
        cr_assert_eq(space_attach(s, dev(DEV_NIC), 0), 0);
        if (ret_space)
                *ret_space = s;
        if (ret_region)
                *ret_region = r;
        return cl;
}

static long last_line(const char *prefix) {
        long last = -1;

        for (long i = 0; (i = recorder_find(&fx.rec, prefix, (size_t)i)) >= 0; i++)
                last = i;
        return last;
}

Test(revoke, L2_revoked_grants_stop_dma_before_memory_groups_regions_and_pasid) {
        Client *cl = busy_client(NULL, NULL);
        uint32_t pasid = cl->pasid;
        Bond *b;
        int n;

        deny(GRANT_CLAIM, NULL);
        deny(GRANT_SVA, NULL);
        deny(GRANT_SHARE_MEMORY, NULL);
        deny(GRANT_SPACES, NULL);
        recorder_clear(&fx.rec);
        cr_assert_eq(revoke_count(cl, REVOKED_GROUP, &n), 3);
        cr_assert_eq(recorder_count(&fx.rec, "detach"), 3);
        cr_assert_lt(last_line("detach"), log_at("unmap"), "every slot detached before any unmap");
        cr_assert_lt(last_line("detach"), log_at("domain_free"));
        cr_assert_lt(last_line("domain_free"), log_at("group_release"));
        cr_assert_lt(log_at("group_release"), log_at("driver_attach 0000:00:03.0 e1000e"));
        cr_assert_eq(fx.rec.live_slots, 0);
        cr_assert_eq(fx.rec.live_groups, 0);
        cr_assert_eq(fx.rec.live_mappings, 0, "pinned and space mappings, all unmapped");
        cr_assert_eq(fx.rec.live_domains, 1, "the emptied space keeps its (empty) page tables");

        /* What stays: stale bonds (L3) and the space, empty, until destroyed. */
        cr_assert_eq(list_count(&cl->bonds), 2);
        list_for_each_entry(b, &cl->bonds, client_link)
                cr_assert(b->stale);
        cr_assert_eq(list_count(&cl->spaces), 1);
        cr_assert(list_empty(&list_first_entry(&cl->spaces, Space, client_link)->io.mappings));
        cr_assert(list_empty(&cl->regions));
        cr_assert(list_empty(&cl->groups));
        cr_assert_eq(cl->pasid, PASID_NONE);
        cr_assert_not(pasid_pool_is_allocated(fx.core->pasids, pasid));
        cr_assert_eq(cl->used[RES_PASIDS], 0);
        cr_assert_eq(cl->used[RES_REGIONS], 0);
        cr_assert_eq(n, 3 + 1 + 2 + 1 + 1, "groups, PASID, bonds, space, region, each announced");
        cr_assert(strstr(revoked_event(REVOKED_PASID)->reason, "no longer allows \"sva\" on any device"));
        cr_assert(strstr(revoked_event(REVOKED_SPACE)->reason, "Destroy() it"));
        cr_assert_str_eq(revoked_event(REVOKED_REGION)->name, ":1.test", "the owner's bus name");
}

Test(revoke, L1_revoking_again_changes_nothing) {
        Client *cl = busy_client(NULL, NULL);
        int n;

        deny(GRANT_SVA, NULL);
        deny(GRANT_SPACES, NULL);
        cr_assert_gt(client_revoke(cl, allows, NULL), 0);
        core_dispatch(fx.core);
        recorder_clear(&fx.rec);
        cr_assert_eq(revoke_count(cl, REVOKED_BOND, &n), 0);
        cr_assert_eq(n, 0, "nothing left to take, nothing announced");
        cr_assert_eq(fx.rec.n_log, 0, "no backend operation the second time");
}

Test(revoke, L3_sva_revoked_on_one_device_makes_only_its_bond_stale) {
        Client *cl = busy_client(NULL, NULL);
        uint32_t pasid = cl->pasid;
        Bond *b;
        int n;

        deny(GRANT_SVA, DEV_NOPRI);
        cr_assert_eq(revoke_count(cl, REVOKED_BOND, &n), 1);
        list_for_each_entry(b, &cl->bonds, client_link)
                cr_assert_eq(b->stale, strcmp(b->device_name, DEV_NOPRI) == 0, "%s", b->device_name);
        cr_assert_eq(cl->pasid, pasid, "sva is still allowed on a device: the PASID stays");
        cr_assert(strstr(revoked_event(REVOKED_BOND)->reason, "no longer allows \"sva\" on it"));
        cr_assert_eq(list_count(&cl->regions), 1);
        cr_assert_eq(list_count(&cl->groups), 3);
}

Test(revoke, spaces_revoked_on_a_device_detach_only_there) {
        Space *s;
        Client *cl = busy_client(&s, NULL);
        int n;

        deny(GRANT_SPACES, DEV_NIC);
        cr_assert_eq(revoke_count(cl, REVOKED_SPACE, &n), 1);
        cr_assert(list_empty(&s->attachments));
        cr_assert_eq(list_count(&s->io.mappings), 1, "still allowed to have the space and its mappings");
        cr_assert(strstr(revoked_event(REVOKED_SPACE)->reason, "detached from 0000:00:03.0 PASID 0"));
}

Test(revoke, L10_over_the_new_quotas_the_newest_go) {
        Space *s;
        Region *first;
        Client *cl = busy_client(&s, &first);
        Region *r;
        int n;

        cr_assert_eq(region_new(cl, 0x20000, 0, 0x1000, ACCESS_ALL, NULL, -1, &r), 0);
        cr_assert_eq(space_map(s, first, 0x1000, 0x200000, 0x1000, ACCESS_READ), 0);
        cr_assert_eq(space_map(s, first, 0x2000, 0x300000, 0x1000, ACCESS_READ), 0);
        cl->quota.limit[RES_GROUPS] = 2;
        cl->quota.limit[RES_REGIONS] = 1;
        cl->quota.limit[RES_MAPPINGS] = 1;
        cl->quota.limit[RES_BONDS] = 1;
        cr_assert_eq(revoke_count(cl, REVOKED_GROUP, &n), 1);
        cr_assert_null(grp(3)->owner, "the newest claim went");
        cr_assert_eq(grp(1)->owner, cl);
        cr_assert_eq(list_count(&cl->regions), 1);
        cr_assert_eq(list_first_entry(&cl->regions, Region, client_link), first, "the newest region went");
        cr_assert_eq(list_count(&s->io.mappings), 1);
        cr_assert_eq(list_first_entry(&s->io.mappings, Mapping, domain_link)->iova, 0x100000,
                     "the newest mappings went");
        cr_assert_eq(list_count(&cl->bonds), 1, "the newest bond was removed");
        for (unsigned i = 0; i < _RES_MAX; i++)
                cr_assert_leq(cl->user->used[i], cl->quota.limit[i], "%s", resource_to_string(i));
        cr_assert(strstr(revoked_event(REVOKED_REGION)->reason, "over the new quota \"regions\" (1)"));
}

Test(revoke, L10_a_uid_over_quota_loses_from_its_newest_client) {
        Client *old = new_client(1000), *young = new_client(1000);
        Region *r;
        int n;

        reset_policy();
        cr_assert_eq(region_new(old, 0x10000, 0, 0x1000, ACCESS_ALL, NULL, -1, &r), 0);
        cr_assert_eq(region_new(young, 0x10000, 0, 0x1000, ACCESS_ALL, NULL, -1, &r), 0);
        cr_assert_eq(region_new(young, 0x20000, 0, 0x1000, ACCESS_ALL, NULL, -1, &r), 0);
        old->quota.limit[RES_BYTES] = young->quota.limit[RES_BYTES] = 0x1000;
        cr_assert_eq(revoke_count(young, REVOKED_REGION, &n), 2, "the newest client first, all it has");
        cr_assert_eq(revoke_count(old, REVOKED_REGION, &n), 0, "then the uid is within its quota");
        cr_assert_eq(list_count(&old->regions), 1);
        cr_assert_eq(old->user->used[RES_BYTES], 0x1000);
}

Test(revoke, a_revoked_pasid_is_freed_and_a_new_one_can_come_later) {
        Client *cl = busy_client(NULL, NULL);
        uint32_t p;
        int n;

        deny(GRANT_SVA, NULL);
        cr_assert_eq(revoke_count(cl, REVOKED_PASID, &n), 1);
        cr_assert_eq(pasid_pool_count(fx.core->pasids), 0);
        reset_policy();
        cr_assert_eq(client_get_pasid(cl, &p), 0, "granted again: the client may have one again");
        cr_assert_eq(cl->used[RES_PASIDS], 1);
}

static Client *callback_client;
static int callback_result;

static void revoke_from_callback(const CoreEvent *ev) {
        if (ev->kind == CORE_EVENT_REGION_ADDED)
                callback_result = client_revoke(callback_client, allows, NULL);
}

Test(revoke, L9_not_from_a_callback) {
        Region *r;

        reset_policy();
        deny(GRANT_SHARE_MEMORY, NULL);
        callback_client = new_client(1000);
        fx.on_event = revoke_from_callback;
        cr_assert_eq(region_new(callback_client, 0x10000, 0, 0x1000, ACCESS_ALL, NULL, -1, &r), 0);
        core_dispatch(fx.core);
        cr_assert_eq(callback_result, -EDEADLK);
        cr_assert_eq(list_count(&callback_client->regions), 1, "nothing half done");
}

Test(revoke, a_connection_over_quota_is_released_whole) {
        Client *cl = busy_client(NULL, NULL);
        uint64_t id = cl->id;

        client_revoke_connection(cl, "over the new quota \"connections\"");
        cr_assert_null(core_find_client(fx.core, id));
        core_dispatch(fx.core);
        cr_assert_eq(revoked_event(REVOKED_CLIENT)->client, id);
        cr_assert_eq(fx.rec.live_slots + fx.rec.live_groups + fx.rec.live_domains, 0);
}
