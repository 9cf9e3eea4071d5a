/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-alloc-failure.c - every allocation of every operation fails once, and nothing changes */
#include "fixture.h"

TestSuite(alloc_failure, .init = fixture_setup, .fini = fixture_teardown);

/* What must be the same after a failed operation as before it. */
typedef struct Snapshot {
        size_t n_log;
        long live_domains, live_mappings, live_slots, live_groups;
        uint64_t used[_RES_MAX];
        unsigned bonds, regions, spaces, groups, pending, devices;
} Snapshot;

static Snapshot snap(Client *cl) {
        Snapshot s = {
                .live_domains = fx.rec.live_domains,
                .live_mappings = fx.rec.live_mappings,
                .live_slots = fx.rec.live_slots,
                .live_groups = fx.rec.live_groups,
                .bonds = list_count(&cl->bonds),
                .regions = list_count(&cl->regions),
                .spaces = list_count(&cl->spaces),
                .groups = list_count(&cl->groups),
                .pending = fault_table_pending(fx.core->faults),
                .devices = list_count(&fx.core->devices),
        };

        memcpy(s.used, cl->used, sizeof(s.used));
        return s;
}

static void assert_same(const Snapshot *a, const Snapshot *b, const char *what, long n) {
        cr_assert_eq(a->live_domains, b->live_domains, "%s, alloc %ld: domains", what, n);
        cr_assert_eq(a->live_mappings, b->live_mappings, "%s, alloc %ld: mappings", what, n);
        cr_assert_eq(a->live_slots, b->live_slots, "%s, alloc %ld: slots", what, n);
        cr_assert_eq(a->live_groups, b->live_groups, "%s, alloc %ld: groups", what, n);
        cr_assert_eq(a->bonds, b->bonds, "%s, alloc %ld: bonds", what, n);
        cr_assert_eq(a->regions, b->regions, "%s, alloc %ld: regions", what, n);
        cr_assert_eq(a->spaces, b->spaces, "%s, alloc %ld: spaces", what, n);
        cr_assert_eq(a->groups, b->groups, "%s, alloc %ld: claimed groups", what, n);
        cr_assert_eq(a->devices, b->devices, "%s, alloc %ld: devices", what, n);
        for (unsigned r = 0; r < _RES_MAX; r++)
                if (r != RES_PASIDS)    /* a PASID, once had, is kept (L7) */
                        cr_assert_eq(a->used[r], b->used[r], "%s, alloc %ld: %s charged",
                                     what, n, resource_to_string(r));
}

typedef int (*Op)(Client *cl, void *arg);

/*
 * Runs op with allocation n failing, for n = 0, 1, ... until it succeeds.
 * Every failing run must return -ENOMEM and leave the model unchanged. The
 * one allocation an operation may lose without failing is its change event
 * (a notification, counted in events_lost); the operation then succeeded.
 */
static void each_allocation_fails(Client *cl, const char *what, Op op, void *arg) {
        for (long n = 0; n < 100; n++) {
                Snapshot before = snap(cl), after;
                unsigned long injected = alloc_failures_injected();
                unsigned long lost = fx.core->events_lost;
                int r;

                alloc_fail_after(n);
                r = op(cl, arg);
                alloc_fail_after(-1);
                if (alloc_failures_injected() == injected || (r == 0 && fx.core->events_lost > lost)) {
                        cr_assert_eq(r, 0, "%s failed with %d without an injected failure", what, r);
                        return;         /* op made fewer than n+1 allocations */
                }
                cr_assert_eq(r, -ENOMEM, "%s, alloc %ld failed: got %d", what, n, r);
                after = snap(cl);
                assert_same(&before, &after, what, n);
        }
        cr_assert_fail("%s never succeeded", what);
}

static int op_claim(Client *cl, void *arg) {
        return group_claim(dev(arg)->group, cl, CLAIM_DETACH_KERNEL_DRIVERS);
}

static int op_bind(Client *cl, void *arg) {
        Bond *b;
        return bond_bind(cl, dev(arg), &b);
}

static int op_region(Client *cl, void *arg) {
        Region *r;
        return region_new(cl, (uint64_t)(uintptr_t)arg, 0, 0x1000, ACCESS_ALL, NULL, -1, &r);
}

static int op_space(Client *cl, void *arg) {
        Space *s;
        int r = space_new(cl, &s);
        if (r < 0)
                return r;
        r = space_map(s, list_first_entry(&cl->regions, Region, client_link), 0, 0, 0x1000, ACCESS_READ);
        if (r >= 0)
                r = space_attach(s, dev(arg), 0);
        if (r < 0)
                space_free(s);  /* the op as a whole fails, leaving nothing */
        return r;
}

/* Map and attach on a space made beforehand: space_new()'s last allocation
 * is its event, so op_space stops there and never fails these two. */
static int op_map_attach(Client *cl, void *arg) {
        Space *s = list_first_entry(&cl->spaces, Space, client_link);
        int r;

        r = space_map(s, list_first_entry(&cl->regions, Region, client_link), 0, 0, 0x1000, ACCESS_READ);
        if (r < 0)
                return r;
        r = space_attach(s, dev(arg), 0);
        if (r < 0)
                (void)space_unmap(s, 0, 0x1000);       /* the op as a whole fails, leaving nothing */
        return r;
}

static int op_device_add(Client *cl, void *arg) {
        DeviceInfo info = { .name = "0000:01:00.0", .group = 77, .iommu = "dmar7", .driver = "nvme" };
        return device_add(fx.core, &info, NULL);
}

Test(alloc_failure, every_operation_fails_cleanly_and_then_succeeds) {
        Client *cl = new_client(1000);

        each_allocation_fails(cl, "claim", op_claim, DEV_PRI);
        each_allocation_fails(cl, "claim with detach", op_claim, DEV_NIC);
        each_allocation_fails(cl, "region", op_region, (void *)(uintptr_t)0x10000);
        each_allocation_fails(cl, "claim no-PRI", op_claim, DEV_NOPRI);
        each_allocation_fails(cl, "bind PRI", op_bind, DEV_PRI);
        each_allocation_fails(cl, "bind pinned", op_bind, DEV_NOPRI);
        each_allocation_fails(cl, "region into pinned domain", op_region, (void *)(uintptr_t)0x20000);
        each_allocation_fails(cl, "space map attach", op_space, DEV_NIC);
        each_allocation_fails(cl, "device add", op_device_add, NULL);
        cr_assert_gt(alloc_failures_injected(), 10);
}

Test(alloc_failure, space_map_and_attach_fail_cleanly) {
        Client *cl = new_client(1000);
        unsigned long injected;
        Region *reg;
        Space *s;

        claim_ok(cl, DEV_NIC);
        cr_assert_eq(region_new(cl, 0x10000, 0, 0x1000, ACCESS_ALL, NULL, -1, &reg), 0);
        cr_assert_eq(space_new(cl, &s), 0);
        injected = alloc_failures_injected();
        each_allocation_fails(cl, "map attach", op_map_attach, DEV_NIC);
        cr_assert_gt(alloc_failures_injected(), injected, "map and attach allocate");
}

Test(alloc_failure, fault_push_without_memory_still_answers_once) {
        Client *cl = new_client(1000);
        FaultGroup *fg = NULL;
        FaultRecord r;
        Bond *b;

        claim_ok(cl, DEV_PRI);
        b = bind_ok(cl, DEV_PRI);
        r = fault_rec(b->pasid, 0x1000, 9);
        alloc_fail_after(0);
        cr_assert_eq(fault_push(fx.core, 1, dev(DEV_PRI), &r, 0, &fg), -ENOMEM);
        alloc_fail_after(-1);
        cr_assert_null(fg);
        cr_assert_eq(recorder_count(&fx.rec, "respond 0000:00:02.0 cookie=9 INVALID"), 1);
        cr_assert_eq(fault_table_pending(fx.core->faults), 0);

        /* A multi-record group whose 2nd record finds no memory: answered
         * INVALID once, at its last record. */
        r = fault_rec(b->pasid, 0x1000, 10);
        r.flags &= ~FAULT_FLAG_LAST_PAGE;
        cr_assert_eq(fault_push(fx.core, 1, dev(DEV_PRI), &r, 0, &fg), 0);
        alloc_fail_after(0);
        cr_assert_eq(fault_push(fx.core, 1, dev(DEV_PRI), &r, 0, &fg), 0);
        alloc_fail_after(-1);
        r.flags |= FAULT_FLAG_LAST_PAGE;
        cr_assert_eq(fault_push(fx.core, 1, dev(DEV_PRI), &r, 0, &fg), 0);
        cr_assert_null(fg);
        cr_assert_eq(recorder_count(&fx.rec, "respond 0000:00:02.0 cookie=10 INVALID"), 1);
}

Test(alloc_failure, core_new_fails_cleanly_at_every_allocation) {
        Recorder rec;
        Core *c;
        long n;

        recorder_init(&rec);
        for (n = 0; n < 20; n++) {
                unsigned long injected = alloc_failures_injected();
                int r;

                c = NULL;
                alloc_fail_after(n);
                r = core_new(&c, &recorder_ops, &rec);
                alloc_fail_after(-1);
                if (alloc_failures_injected() == injected) {
                        cr_assert_eq(r, 0);
                        break;
                }
                cr_assert_eq(r, -ENOMEM);
                cr_assert_null(c, "ret untouched on failure");
        }
        cr_assert_not_null(c);
        core_free(c);
        recorder_done(&rec);
}
