/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-fault-service.c - serving page requests from a client's shared regions */
#include "fixture.h"

static Client *cl;
static Bond *bond;
static Region *rw, *ro;

/* A PRI device bound; regions: RW 0x10000-0x14000, RO 0x20000-0x21000. */
static void setup(void) {
        fixture_setup();
        cl = new_client(1000);
        claim_ok(cl, DEV_PRI);
        bond = bind_ok(cl, DEV_PRI);
        cr_assert_eq(region_new(cl, 0x10000, 0, 0x4000, ACCESS_ALL, NULL, -1, &rw), 0);
        cr_assert_eq(region_new(cl, 0x20000, 0, 0x1000, ACCESS_READ, NULL, -1, &ro), 0);
        recorder_clear(&fx.rec);
}

TestSuite(fault_service, .init = setup, .fini = fixture_teardown);

static FaultCode serve(FaultRecord *recs, unsigned n) {
        FaultGroup *fg = NULL;

        for (unsigned i = 0; i < n; i++) {
                recs[i].pasid = bond->pasid;
                recs[i].flags = FAULT_FLAG_PASID_VALID | (i + 1 == n ? FAULT_FLAG_LAST_PAGE : 0);
                cr_assert_eq(fault_push(fx.core, 1, dev(DEV_PRI), &recs[i], 0, &fg), 0);
        }
        cr_assert_not_null(fg, "the group is complete");
        return fault_group_resolve(fg);
}

static FaultCode serve_one(uint64_t addr, uint32_t length, uint32_t perm) {
        FaultRecord r = { .addr = addr, .length = length, .perm = perm, .cookie = 77 };

        return serve(&r, 1);
}

Test(fault_service, missing_page_in_region_is_mapped_with_the_length_hint) {
        cr_assert_eq(serve_one(0x11010, 0x1ff0, FAULT_PERM_WRITE), FAULT_SUCCESS);
        cr_assert_eq(recorder_count(&fx.rec, "map d1 iova=0x11000 len=0x2000 access=3"), 1,
                     "the faulting page and the hinted one after it");
        cr_assert_eq(recorder_count(&fx.rec, "respond 0000:00:02.0 cookie=77 SUCCESS"), 1);
        cr_assert_eq(serve_one(0x12000, 0x100, FAULT_PERM_READ), FAULT_SUCCESS, "a retry");
        cr_assert_eq(recorder_count(&fx.rec, "map"), 1, "nothing mapped twice");
        cr_assert_eq(cl->faults.resolved, 2);
}

Test(fault_service, prefault_fills_only_the_gaps_and_stops_at_the_region_end) {
        cr_assert_eq(serve_one(0x12000, 0x1000, FAULT_PERM_READ), FAULT_SUCCESS);
        cr_assert_eq(serve_one(0x10000, 0x100000, FAULT_PERM_READ), FAULT_SUCCESS);
        cr_assert_eq(recorder_count(&fx.rec, "map d1 iova=0x10000 len=0x2000"), 1);
        cr_assert_eq(recorder_count(&fx.rec, "map d1 iova=0x13000 len=0x1000"), 1,
                     "the hint ran past the region: stop at its end");
}

Test(fault_service, prefault_is_capped) {
        Region *big;

        cr_assert_eq(region_new(cl, 0x1000000, 0, 0x1000000, ACCESS_ALL, NULL, -1, &big), 0);
        cr_assert_eq(serve_one(0x1000000, UINT32_MAX, FAULT_PERM_READ), FAULT_SUCCESS);
        cr_assert_eq(recorder_count(&fx.rec, "map d1 iova=0x1000000 len=0x40000"), 1,
                     "at most FAULT_PREFAULT_MAX");
}

Test(fault_service, outside_every_region_is_refused_and_nothing_mapped) {
        cr_assert_eq(serve_one(0x30000, 0x1000, FAULT_PERM_WRITE), FAULT_INVALID);
        cr_assert_eq(recorder_count(&fx.rec, "map"), 0);
        cr_assert_eq(recorder_count(&fx.rec, "respond 0000:00:02.0 cookie=77 INVALID"), 1);
        cr_assert_eq(cl->faults.refused, 1);
        cr_assert_eq(dispatch_count(CORE_EVENT_FAULT_REFUSED), 1);
}

Test(fault_service, write_to_read_only_is_refused_read_is_served) {
        cr_assert_eq(serve_one(0x20000, 0x1000, FAULT_PERM_WRITE), FAULT_INVALID);
        cr_assert_eq(recorder_count(&fx.rec, "map"), 0);
        cr_assert_eq(serve_one(0x20000, 0x1000, FAULT_PERM_READ), FAULT_SUCCESS);
        cr_assert_eq(serve_one(0x20000, 0x1000, FAULT_PERM_WRITE), FAULT_INVALID,
                     "write on the mapped read-only page");
        cr_assert_eq(recorder_count(&fx.rec, "map d1 iova=0x20000 len=0x1000 access=1"), 1);
}

Test(fault_service, exec_and_privileged_requests_are_refused) {
        cr_assert_eq(serve_one(0x10000, 0x1000, FAULT_PERM_READ | FAULT_PERM_EXEC), FAULT_INVALID);
        cr_assert_eq(serve_one(0x10000, 0x1000, FAULT_PERM_READ | FAULT_PERM_PRIV), FAULT_INVALID);
        cr_assert_eq(recorder_count(&fx.rec, "map"), 0);
}

Test(fault_service, multi_page_group_is_all_or_invalid) {
        FaultRecord ok[2] = { { .addr = 0x10000, .perm = FAULT_PERM_WRITE, .cookie = 5 },
                              { .addr = 0x13000, .perm = FAULT_PERM_WRITE, .cookie = 5 } };
        FaultRecord bad[2] = { { .addr = 0x11000, .perm = FAULT_PERM_WRITE, .cookie = 6 },
                               { .addr = 0x20000, .perm = FAULT_PERM_WRITE, .cookie = 6 } };

        cr_assert_eq(serve(ok, 2), FAULT_SUCCESS);
        cr_assert_eq(recorder_count(&fx.rec, "map"), 2);
        cr_assert_eq(serve(bad, 2), FAULT_INVALID);
        cr_assert_eq(recorder_count(&fx.rec, "respond 0000:00:02.0 cookie=6 INVALID"), 1);
        cr_assert_eq(recorder_count(&fx.rec, "respond"), 2, "one answer per group");
}

Test(fault_service, client_without_fault_service_is_refused) {
        cl->may_fault = false;
        cr_assert_eq(serve_one(0x10000, 0x1000, FAULT_PERM_READ), FAULT_INVALID);
        cr_assert_eq(recorder_count(&fx.rec, "map"), 0);
}

Test(fault_service, space_faults_succeed_only_where_map_put_pages) {
        Space *s;
        FaultGroup *fg = NULL;
        FaultRecord r = { .flags = FAULT_FLAG_LAST_PAGE, .perm = FAULT_PERM_READ, .cookie = 9 };

        claim_ok(cl, DEV_NIC);
        cr_assert_eq(space_new(cl, &s), 0);
        cr_assert_eq(space_map(s, rw, 0, 0x100000, 0x1000, ACCESS_READ), 0);
        cr_assert_eq(space_attach(s, dev(DEV_NIC), 0), 0);
        r.addr = 0x100000;
        cr_assert_eq(fault_push(fx.core, 1, dev(DEV_NIC), &r, 0, &fg), 0);
        cr_assert_eq(fault_group_resolve(fg), FAULT_SUCCESS);
        r.addr = 0x101000;
        r.cookie = 10;
        cr_assert_eq(fault_push(fx.core, 1, dev(DEV_NIC), &r, 0, &fg), 0);
        cr_assert_eq(fault_group_resolve(fg), FAULT_INVALID, "a space never maps on fault");
        cr_assert_eq(recorder_count(&fx.rec, "map"), 1);
}

Test(fault_service, unmapped_by_region_removal_faults_again) {
        cr_assert_eq(serve_one(0x10000, 0x1000, FAULT_PERM_READ), FAULT_SUCCESS);
        cr_assert_eq(region_remove(rw), 0);
        cr_assert_eq(recorder_count(&fx.rec, "unmap d1 iova=0x10000"), 1);
        cr_assert_eq(serve_one(0x10000, 0x1000, FAULT_PERM_READ), FAULT_INVALID);
}

static int serve_record(uint64_t addr, uint32_t cookie, uint32_t flags) {
        FaultRecord r = { .flags = flags, .pasid = bond->pasid, .addr = addr, .length = PAGE_SIZE_4K,
                          .perm = FAULT_PERM_WRITE, .cookie = cookie };

        return fault_serve_record(fx.core, 1, dev(DEV_PRI), &r, 0);
}

Test(fault_service, L8_one_record_group_is_answered_once_on_the_spot) {
        cr_assert_eq(serve_record(0x10000, 1, FAULT_FLAG_PASID_VALID | FAULT_FLAG_LAST_PAGE), 0);
        cr_assert_eq(recorder_count(&fx.rec, "respond 0000:00:02.0 cookie=1 SUCCESS"), 1);
        cr_assert_eq(fault_table_pending(fx.core->faults), 0, "it never waited in the table");
        cr_assert_eq(cl->used[RES_PENDING_FAULTS], 0);
        cr_assert_eq(fault_respond_cookie(fx.core, 1, 1, FAULT_SUCCESS), -ENOENT, "no second answer");
        cr_assert_eq(dev(DEV_PRI)->faults.received, 1);
        cr_assert_eq(cl->faults.resolved, 1);
}

Test(fault_service, L8_multi_record_groups_still_wait_for_their_last_page) {
        cr_assert_eq(serve_record(0x10000, 2, FAULT_FLAG_PASID_VALID), 0);
        cr_assert_eq(fault_table_pending(fx.core->faults), 1);
        cr_assert_eq(recorder_count(&fx.rec, "respond"), 0);
        /* The last record of that cookie joins the waiting group. */
        cr_assert_eq(serve_record(0x11000, 2, FAULT_FLAG_PASID_VALID | FAULT_FLAG_LAST_PAGE), 0);
        cr_assert_eq(recorder_count(&fx.rec, "respond 0000:00:02.0 cookie=2 SUCCESS"), 1);
        cr_assert_eq(fault_table_pending(fx.core->faults), 0);
}

Test(fault_service, one_record_group_without_a_slot_is_refused) {
        FaultRecord r = { .flags = FAULT_FLAG_PASID_VALID | FAULT_FLAG_LAST_PAGE, .pasid = 77,
                          .addr = 0x10000, .perm = FAULT_PERM_READ, .cookie = 3 };

        cr_assert_eq(fault_serve_record(fx.core, 1, dev(DEV_PRI), &r, 0), 0);
        cr_assert_eq(recorder_count(&fx.rec, "respond 0000:00:02.0 cookie=3 INVALID"), 1);
        r.pasid = 0;
        cr_assert_eq(fault_serve_record(fx.core, 1, dev(DEV_PRI), &r, 0), -EINVAL, "PASID 0 flagged valid");
}

Test(fault_service, consecutive_faults_extend_one_mapping) {
        for (uint32_t i = 0; i < 4; i++)
                cr_assert_eq(serve_record(0x10000 + i * PAGE_SIZE_4K, 10 + i,
                                          FAULT_FLAG_PASID_VALID | FAULT_FLAG_LAST_PAGE), 0);
        cr_assert_eq(recorder_count(&fx.rec, "map d1 iova=0x10000 len=0x1000"), 1);
        cr_assert_eq(recorder_count(&fx.rec, "map d1 iova=0x11000 len=0x1000"), 1, "the delta only");
        cr_assert_eq(list_count(&bond->domain->io.mappings), 1, "one mapping grew");
        cr_assert_eq(iodomain_mapping_at(&bond->domain->io, 0x13000)->length, 0x4000);
        cr_assert_eq(region_remove(rw), 0);
        cr_assert_eq(recorder_count(&fx.rec, "unmap d1 iova=0x10000 len=0x4000"), 1, "unmapped whole");
        cr_assert_null(iodomain_mapping_at(&bond->domain->io, 0x12000));
}

Test(fault_service, extension_stops_at_another_region) {
        Region *next;

        /* rw ends at 0x14000; a region right after it must not be merged. */
        cr_assert_eq(region_new(cl, 0x14000, 0, 0x1000, ACCESS_ALL, NULL, -1, &next), 0);
        cr_assert_eq(serve_record(0x13000, 20, FAULT_FLAG_PASID_VALID | FAULT_FLAG_LAST_PAGE), 0);
        cr_assert_eq(serve_record(0x14000, 21, FAULT_FLAG_PASID_VALID | FAULT_FLAG_LAST_PAGE), 0);
        cr_assert_eq(list_count(&bond->domain->io.mappings), 2);
        cr_assert_eq(iodomain_mapping_at(&bond->domain->io, 0x14000)->region, next);
}
