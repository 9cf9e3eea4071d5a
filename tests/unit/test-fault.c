/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-fault.c - page request groups: assembly, cookies, timeouts, auto-INVALID (L8) */
#include <stdio.h>

#include "fixture.h"

TestSuite(fault, .init = fixture_setup, .fini = fixture_teardown);

static Client *cl;
static Bond *bond;

/* Runs after the suite's fixture_setup(): Criterion calls both. */
static void bound_setup(void) {
        cl = new_client(1000);
        claim_ok(cl, DEV_PRI);
        bond = bind_ok(cl, DEV_PRI);
}

static FaultGroup *push(uint64_t source, const char *device, FaultRecord rec, uint64_t now) {
        FaultGroup *fg = (FaultGroup *)1;

        cr_assert_eq(fault_push(fx.core, source, dev(device), &rec, now, &fg), 0);
        return fg;
}

Test(fault, L8_multi_page_group_is_served_once_when_last_page_arrives,
     .init = bound_setup) {
        FaultRecord r = fault_rec(bond->pasid, 0x1000, 42);
        FaultGroup *fg;

        r.flags &= ~FAULT_FLAG_LAST_PAGE;
        cr_assert_null(push(1, DEV_PRI, r, 0), "partial group is not ready");
        r.addr = 0x2000;
        cr_assert_null(push(1, DEV_PRI, r, 0));
        r.addr = 0x3000;
        r.flags |= FAULT_FLAG_LAST_PAGE;
        fg = push(1, DEV_PRI, r, 0);
        cr_assert_not_null(fg);
        cr_assert_eq(fg->n_records, 3);
        cr_assert_eq(fg->records[0].addr, 0x1000);
        cr_assert_eq(fg->records[2].addr, 0x3000);
        cr_assert_eq(fg->slot, &bond->slot);

        fault_group_respond(fg, FAULT_SUCCESS);
        cr_assert_eq(recorder_count(&fx.rec, "respond 0000:00:02.0 cookie=42 SUCCESS"), 1);
        cr_assert_eq(fault_respond_cookie(fx.core, 1, 42, FAULT_SUCCESS), -ENOENT,
                     "a second answer to the same group is refused");
        cr_assert_eq(recorder_count(&fx.rec, "respond"), 1);
        cr_assert_eq(dev(DEV_PRI)->faults.resolved, 1);
        cr_assert_eq(cl->faults.received, 1);
        cr_assert_eq(cl->used[RES_PENDING_FAULTS], 0);
}

Test(fault, L8_records_after_completion_and_mismatched_records_are_rejected,
     .init = bound_setup) {
        FaultRecord r = fault_rec(bond->pasid, 0x1000, 5);
        FaultGroup *fg = push(1, DEV_PRI, r, 0), *again = NULL;

        cr_assert_not_null(fg);
        cr_assert_eq(fault_push(fx.core, 1, dev(DEV_PRI), &r, 0, &again), -EEXIST);
        cr_assert_null(again);
        /* The same cookie from another queue is another group. */
        cr_assert_not_null(push(2, DEV_PRI, r, 0));
        r.cookie = 6;
        r.flags &= ~FAULT_FLAG_LAST_PAGE;
        cr_assert_null(push(1, DEV_PRI, r, 0));
        r.pasid = bond->pasid + 1;
        cr_assert_eq(fault_push(fx.core, 1, dev(DEV_PRI), &r, 0, &again), -EINVAL);
        r = fault_rec(0, 0, 8);
        r.flags |= FAULT_FLAG_PASID_VALID;      /* PASID 0 flagged valid */
        cr_assert_eq(fault_push(fx.core, 1, dev(DEV_PRI), &r, 0, &again), -EINVAL);
}

Test(fault, L8_no_slot_at_that_pasid_is_answered_invalid_at_once) {
        FaultRecord r = fault_rec(9, 0x1000, 1);

        cr_assert_null(push(1, DEV_PRI, r, 0));
        cr_assert_eq(recorder_count(&fx.rec, "respond 0000:00:02.0 cookie=1 INVALID"), 1);
        cr_assert_eq(fault_table_pending(fx.core->faults), 0);
        cr_assert_eq(dev(DEV_PRI)->faults.refused, 1);
        cr_assert_eq(dispatch_count(CORE_EVENT_FAULT_REFUSED), 1);
}

Test(fault, L8_timeout_answers_invalid_from_the_injected_clock,
     .init = bound_setup) {
        FaultRecord r = fault_rec(bond->pasid, 0x1000, 11);

        cl->fault_timeout_usec = 1000;
        cr_assert_not_null(push(1, DEV_PRI, r, 5000));
        r.cookie = 12;
        cr_assert_not_null(push(1, DEV_PRI, r, 5500));
        cr_assert_eq(fault_table_expire(fx.core, 5999), 6000, "next deadline");
        cr_assert_eq(recorder_count(&fx.rec, "respond"), 0);
        cr_assert_eq(fault_table_expire(fx.core, 6000), 6500);
        cr_assert_eq(recorder_count(&fx.rec, "respond 0000:00:02.0 cookie=11 INVALID"), 1);
        cr_assert_eq(fault_table_expire(fx.core, 10000), UINT64_MAX);
        cr_assert_eq(recorder_count(&fx.rec, "respond"), 2);
        cr_assert_eq(cl->faults.timed_out, 2);
        cr_assert_eq(fault_respond_cookie(fx.core, 1, 11, FAULT_SUCCESS), -ENOENT,
                     "late answer after the timeout is refused");
}

Test(fault, L8_deadlines_out_of_order_expire_in_order) {
        Client *a = new_client(1), *b = new_client(2);
        Bond *ba, *bb;
        FaultRecord r;

        claim_ok(a, DEV_PRI);
        claim_ok(b, DEV_SMALL);
        ba = bind_ok(a, DEV_PRI);
        bb = bind_ok(b, DEV_SMALL);
        a->fault_timeout_usec = 100;
        b->fault_timeout_usec = 10;
        r = fault_rec(ba->pasid, 0, 1);
        push(1, DEV_PRI, r, 0);                 /* deadline 100 */
        r = fault_rec(bb->pasid, 0, 2);
        push(2, DEV_SMALL, r, 0);               /* deadline 10 */
        cr_assert_eq(fault_table_expire(fx.core, 0), 10);
        cr_assert_eq(fault_table_expire(fx.core, 10), 100);
        cr_assert_eq(recorder_count(&fx.rec, "respond 0000:00:05.0 cookie=2"), 1);
}

/*
 * A detach answers the slot's pending groups in the kernel
 * (iommufd_auto_response_faults()), which the recorder plays with an
 * "auto-respond" line: that is the one answer, and the core writes none
 * (the kernel would refuse it, and the cookie may be another group's).
 */
static void assert_answered_by_the_detach(const char *device, uint32_t cookie) {
        char line[96];

        snprintf(line, sizeof(line), "auto-respond %s cookie=%u INVALID", device, cookie);
        cr_assert_eq(recorder_count(&fx.rec, line), 1, "%s: the detach answers it once", line);
        cr_assert_lt(log_at("detach"), log_at(line));
        cr_assert_eq(recorder_count(&fx.rec, "respond"), 0, "no answer written after the detach's own");
        cr_assert_eq(fault_table_pending(fx.core->faults), 0);
}

Test(fault, L8_unbind_answers_pending_groups_invalid,
     .init = bound_setup) {
        FaultRecord r = fault_rec(bond->pasid, 0x1000, 3);
        FaultGroup *fg = push(1, DEV_PRI, r, 0);

        cr_assert_not_null(fg);
        cr_assert_eq(bond_unbind(cl, bond->id), 0);
        assert_answered_by_the_detach(DEV_PRI, 3);
        cr_assert_eq(fault_respond_cookie(fx.core, 1, 3, FAULT_SUCCESS), -ENOENT);
        cr_assert_eq(recorder_count(&fx.rec, "respond"), 0, "a late answer by cookie is refused too");
        cr_assert_eq(cl->faults.aborted, 1);
        cr_assert_eq(cl->used[RES_PENDING_FAULTS], 0);
}

Test(fault, L8_space_detach_answers_pending_groups_invalid) {
        Client *c = new_client(1000);
        Space *s;

        claim_ok(c, DEV_PRI);
        cr_assert_eq(space_new(c, &s), 0);
        cr_assert_eq(space_attach(s, dev(DEV_PRI), 0), 0);
        cr_assert_not_null(push(1, DEV_PRI, fault_rec(0, 0x1000, 4), 0));
        cr_assert_eq(space_detach(s, dev(DEV_PRI), 0), 0);
        assert_answered_by_the_detach(DEV_PRI, 4);
        cr_assert_eq(c->faults.aborted, 1);
}

Test(fault, L8_unplug_answers_pending_groups_invalid,
     .init = bound_setup) {
        cr_assert_not_null(push(1, DEV_PRI, fault_rec(bond->pasid, 0x1000, 3), 0));
        cr_assert_eq(device_unplug(fx.core, DEV_PRI), 0);
        assert_answered_by_the_detach(DEV_PRI, 3);
}

Test(fault, L8_client_exit_answers_pending_groups_invalid,
     .init = bound_setup) {
        cr_assert_not_null(push(1, DEV_PRI, fault_rec(bond->pasid, 0x1000, 3), 0));
        cr_assert_eq(client_release(fx.core, cl->id), 0);
        assert_answered_by_the_detach(DEV_PRI, 3);
}

/* The kernel delivers whole groups, so it holds all of one we have only
 * part of: the detach answered it too. Records under that cookie later are
 * another group (the kernel reuses cookies), answered on their own. */
Test(fault, L8_partial_group_cut_by_detach_is_answered_once_by_the_detach,
     .init = bound_setup) {
        FaultRecord r = fault_rec(bond->pasid, 0x1000, 21);
        Device *d = dev(DEV_PRI);
        uint64_t cid = cl->id;

        r.flags &= ~FAULT_FLAG_LAST_PAGE;
        cr_assert_null(push(1, DEV_PRI, r, 0));
        cr_assert_eq(client_release(fx.core, cid), 0);
        assert_answered_by_the_detach(DEV_PRI, 21);
        cr_assert_eq(d->faults.received, 1);
        cr_assert_eq(d->faults.aborted, 1);
        r.flags |= FAULT_FLAG_LAST_PAGE;
        cr_assert_null(push(1, DEV_PRI, r, 0), "a new group, with nothing attached: refused");
        cr_assert_eq(recorder_count(&fx.rec, "respond 0000:00:02.0 cookie=21 INVALID"), 1);
        cr_assert_eq(fault_table_pending(fx.core->faults), 0);
}

Test(fault, cookie_table_holds_many_groups_and_finds_each,
     .init = bound_setup) {
        const uint32_t n = 5000;

        for (uint32_t i = 0; i < n; i++)
                cr_assert_not_null(push(i % 3, DEV_PRI, fault_rec(bond->pasid, 0x1000, i), i));
        cr_assert_eq(fault_table_pending(fx.core->faults), n);
        for (uint32_t i = 0; i < n; i += 7)
                cr_assert_eq(fault_respond_cookie(fx.core, i % 3, i, FAULT_SUCCESS), 0, "cookie %u", i);
        cr_assert_eq(fault_respond_cookie(fx.core, 1, 0, FAULT_SUCCESS), -ENOENT, "wrong source");
        fault_table_expire(fx.core, UINT64_MAX - 1);
        cr_assert_eq(recorder_count(&fx.rec, "respond"), n, "each group answered exactly once");
}

/* A group that is still missing records at a PASID where nothing is
 * attached has no slot to go with; the device that raised it going must
 * answer it, once, and forget it (else it waits for a timeout that would
 * answer for a device that is gone). */
Test(fault, L8_unplug_answers_a_partial_group_that_has_no_slot) {
        FaultRecord rec = fault_rec(2, 0x1000, 9);

        rec.flags &= ~FAULT_FLAG_LAST_PAGE;
        push(1, DEV_NOPRI, rec, 0);
        cr_assert_eq(recorder_count(&fx.rec, "respond " DEV_NOPRI " cookie=9"), 0, "it waits for its last page");
        cr_assert_eq(device_unplug(fx.core, DEV_NOPRI), 0);
        cr_assert_eq(recorder_count(&fx.rec, "respond " DEV_NOPRI " cookie=9"), 1, "answered when its device went");
        cr_assert_eq(fault_table_expire(fx.core, UINT64_MAX / 2), UINT64_MAX, "and nothing is left to time out");
        cr_assert_eq(recorder_count(&fx.rec, "respond " DEV_NOPRI " cookie=9"), 1);
}
