/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-claim-async.c - claims and releases whose driver unbinds and probes the backend does off the event loop */
#include "fixture.h"

/*
 * The recorder answers driver_detach, driver_attach and group_claim later
 * (-EINPROGRESS), as the kernel backend does from its worker threads: the
 * core must keep the group in transit between the steps, let the rest of
 * the model go on, and come out of every answer, or of no answer at all, as
 * the synchronous claim would (L4, L5).
 */
static void async_setup(void) {
        fixture_setup();
        fx.rec.async_ops = 1u << REC_DRIVER_DETACH | 1u << REC_DRIVER_ATTACH | 1u << REC_GROUP_CLAIM;
}

TestSuite(claim_async, .init = async_setup, .fini = fixture_teardown);

/* The one CORE_EVENT_GROUP_CLAIMED delivered so far, or NULL. */
static const SeenEvent *claimed_event(void) {
        const SeenEvent *found = NULL;

        core_dispatch(fx.core);
        for (unsigned i = 0; i < fx.n_events; i++)
                if (fx.events[i].kind == CORE_EVENT_GROUP_CLAIMED) {
                        cr_assert_null(found, "one answer per claim");
                        found = &fx.events[i];
                }
        return found;
}

static void answer(int r) {
        cr_assert_eq(recorder_answer(&fx.rec, fx.core, r), 0);
}

Test(claim_async, claim_waits_for_each_step_and_ends_owned) {
        Client *cl = new_client(1000);

        cr_assert_eq(group_claim(grp(2), cl, CLAIM_DETACH_KERNEL_DRIVERS), -EINPROGRESS);
        cr_assert_str_eq(group_transit_to_string(grp(2)), "claiming");
        cr_assert_null(grp(2)->owner);
        cr_assert_eq(cl->used[RES_GROUPS], 1, "charged while in progress (L10)");
        cr_assert_eq(recorder_count(&fx.rec, "group_claim"), 0, "the backend waits for the unbind");

        answer(0);                              /* e1000e unbound */
        cr_assert_null(dev(DEV_NIC)->driver);
        cr_assert_str_eq(dev(DEV_NIC)->restore_driver, "e1000e");
        cr_assert_eq(recorder_count(&fx.rec, "group_claim 2"), 1);
        cr_assert_null(claimed_event());

        answer(0);                              /* the backend took the group */
        cr_assert_eq(grp(2)->owner, cl);
        cr_assert_eq(group_ownership(grp(2)), OWNERSHIP_USER);
        cr_assert_str_eq(group_transit_to_string(grp(2)), "");
        const SeenEvent *ev = claimed_event();
        cr_assert_not_null(ev);
        cr_assert_eq(ev->result, 0);
        cr_assert_eq(ev->client, cl->id);
        cr_assert_eq(ev->group, 2);
}

Test(claim_async, L4_no_second_claim_and_no_dma_api_probe_while_claiming) {
        Client *a = new_client(1000), *b = new_client(1001);

        cr_assert_eq(group_claim(grp(2), a, CLAIM_DETACH_KERNEL_DRIVERS), -EINPROGRESS);
        cr_assert_eq(group_claim(grp(2), a, CLAIM_DETACH_KERNEL_DRIVERS), -EALREADY);
        cr_assert_eq(group_claim(grp(2), b, CLAIM_DETACH_KERNEL_DRIVERS), -EBUSY);
        cr_assert_eq(b->used[RES_GROUPS], 0);
        cr_assert_eq(device_probe_driver(dev(DEV_NIC1), "igb", false), -EBUSY);
        /* Elsewhere the model goes on: group 1 has no driver to unbind. */
        fx.rec.async_ops = 1u << REC_DRIVER_DETACH;
        cr_assert_eq(group_claim(grp(1), b, 0), 0);
        cr_assert_eq(grp(1)->owner, b);
}

Test(claim_async, L5_refused_unbind_answer_leaves_everything_as_it_was) {
        Client *cl = new_client(1000);

        cr_assert_eq(group_claim(grp(2), cl, CLAIM_DETACH_KERNEL_DRIVERS), -EINPROGRESS);
        answer(-EIO);
        const SeenEvent *ev = claimed_event();
        cr_assert_not_null(ev);
        cr_assert_eq(ev->result, -EIO);
        cr_assert_str_eq(ev->reason, "recorded failure");
        cr_assert_str_eq(dev(DEV_NIC)->driver, "e1000e");
        cr_assert_eq(group_ownership(grp(2)), OWNERSHIP_DMA_API);
        cr_assert_eq(cl->used[RES_GROUPS], 0);
        cr_assert_eq(recorder_count(&fx.rec, "group_claim"), 0);
        cr_assert_eq(recorder_count(&fx.rec, "driver_attach"), 0, "nothing was unbound");
}

Test(claim_async, L5_failed_backend_claim_rebinds_the_unbound_driver_before_answering) {
        Client *cl = new_client(1000);

        cr_assert_eq(group_claim(grp(2), cl, CLAIM_DETACH_KERNEL_DRIVERS), -EINPROGRESS);
        answer(0);                              /* unbound */
        answer(-ETIMEDOUT);                     /* the cdev never came */
        cr_assert_str_eq(group_transit_to_string(grp(2)), "releasing");
        cr_assert_null(claimed_event(), "answered only once the driver is back");
        cr_assert_eq(recorder_count(&fx.rec, "driver_attach 0000:00:03.0 e1000e"), 1);
        answer(0);                              /* e1000e probed again */
        const SeenEvent *ev = claimed_event();
        cr_assert_not_null(ev);
        cr_assert_eq(ev->result, -ETIMEDOUT);
        cr_assert_str_eq(dev(DEV_NIC)->driver, "e1000e");
        cr_assert_eq(grp(2)->dma_api_count, 1);
        cr_assert_null(grp(2)->owner);
        cr_assert_eq(cl->used[RES_GROUPS], 0);
        cr_assert_eq(fx.rec.live_groups, 0);
}

Test(claim_async, L5_client_that_ends_mid_claim_gets_nothing_and_drivers_come_back) {
        Client *cl = new_client(1000);
        uint64_t id = cl->id;

        cr_assert_eq(group_claim(grp(2), cl, CLAIM_DETACH_KERNEL_DRIVERS), -EINPROGRESS);
        answer(0);                              /* unbound */
        cr_assert_eq(client_release(fx.core, id), 0);
        cr_assert_null(core_find_client(fx.core, id));
        answer(0);                              /* the backend took it: too late */
        cr_assert_eq(recorder_count(&fx.rec, "group_release 2"), 1, "undone at once");
        cr_assert_eq(fx.rec.live_groups, 0);
        answer(0);                              /* e1000e back */
        cr_assert_null(grp(2)->owner);
        cr_assert_str_eq(dev(DEV_NIC)->driver, "e1000e");
        cr_assert_str_eq(group_transit_to_string(grp(2)), "");
        const SeenEvent *ev = claimed_event();
        cr_assert_not_null(ev);
        cr_assert_eq(ev->result, -ESHUTDOWN);
}

Test(claim_async, release_reads_releasing_until_the_driver_is_back) {
        Client *a = new_client(1000), *b = new_client(1001);

        cr_assert_eq(group_claim(grp(2), a, CLAIM_DETACH_KERNEL_DRIVERS), -EINPROGRESS);
        answer(0);
        answer(0);
        cr_assert_eq(group_release(grp(2), a), 0);
        cr_assert_null(grp(2)->owner);
        cr_assert_eq(a->used[RES_GROUPS], 0);
        cr_assert_str_eq(group_transit_to_string(grp(2)), "releasing");
        cr_assert_eq(group_claim(grp(2), b, CLAIM_DETACH_KERNEL_DRIVERS), -EBUSY);
        answer(0);
        cr_assert_str_eq(dev(DEV_NIC)->driver, "e1000e");
        cr_assert_str_eq(group_transit_to_string(grp(2)), "");
        cr_assert_eq(group_claim(grp(2), b, CLAIM_DETACH_KERNEL_DRIVERS), -EINPROGRESS);
}

Test(claim_async, L1_a_stale_or_second_answer_changes_nothing) {
        Client *cl = new_client(1000);
        uint32_t seq;

        cr_assert_eq(group_claim(grp(2), cl, CLAIM_DETACH_KERNEL_DRIVERS), -EINPROGRESS);
        seq = fx.rec.in_flight_seq;
        cr_assert_eq(group_backend_done(fx.core, 2, seq + 1, 0, NULL), -ESTALE);
        cr_assert_eq(group_backend_done(fx.core, 99, seq, 0, NULL), -ESTALE);
        cr_assert_str_eq(dev(DEV_NIC)->driver, "e1000e", "no answer applied yet");
        answer(0);
        cr_assert_eq(group_backend_done(fx.core, 2, seq, 0, NULL), -ESTALE, "answered already");
        cr_assert_eq(recorder_count(&fx.rec, "group_claim 2"), 1);
}

Test(claim_async, L1_device_unplugged_while_its_unbind_runs) {
        Client *cl = new_client(1000);

        cr_assert_eq(group_claim(grp(2), cl, CLAIM_DETACH_KERNEL_DRIVERS), -EINPROGRESS);
        cr_assert_eq(device_unplug(fx.core, DEV_NIC), 0);
        cr_assert_null(grp(2)->wait_device);
        answer(0);                              /* its unbind ended; it is gone */
        answer(0);                              /* the rest of the group is taken */
        cr_assert_eq(grp(2)->owner, cl);
        cr_assert_eq(grp(2)->n_devices, 1);
}

Test(claim_async, L1_last_device_gone_mid_claim_frees_the_group_after_the_answer) {
        Client *cl = new_client(1000);

        cr_assert_eq(group_claim(grp(2), cl, CLAIM_DETACH_KERNEL_DRIVERS), -EINPROGRESS);
        cr_assert_eq(device_unplug(fx.core, DEV_NIC), 0);
        cr_assert_eq(device_unplug(fx.core, DEV_NIC1), 0);
        cr_assert_not_null(core_find_group(fx.core, 2), "waits for its answer");
        answer(0);                              /* unbound; nothing is left to claim */
        cr_assert_eq(recorder_count(&fx.rec, "group_claim"), 0);
        cr_assert_null(core_find_group(fx.core, 2));
        cr_assert_eq(cl->used[RES_GROUPS], 0);
        const SeenEvent *ev = claimed_event();
        cr_assert_not_null(ev);
        cr_assert_eq(ev->result, -ENODEV);
}

Test(claim_async, L1_driver_gone_while_its_unbind_runs_is_not_counted_twice) {
        Client *cl = new_client(1000);

        cr_assert_eq(group_claim(grp(2), cl, CLAIM_DETACH_KERNEL_DRIVERS), -EINPROGRESS);
        cr_assert_eq(device_remove_driver(dev(DEV_NIC)), 0);   /* removed by hand meanwhile */
        cr_assert_eq(grp(2)->dma_api_count, 0);
        answer(0);                                              /* the unbind ends: nothing was left */
        cr_assert_eq(grp(2)->dma_api_count, 0, "not counted down twice");
        cr_assert_null(dev(DEV_NIC)->restore_driver, "no driver to give back");
        answer(0);
        cr_assert_eq(grp(2)->owner, cl);
        cr_assert_eq(group_release(grp(2), cl), 0);
        cr_assert_eq(recorder_count(&fx.rec, "driver_attach"), 0);
        cr_assert_str_eq(group_transit_to_string(grp(2)), "");
}

Test(claim_async, L4_driver_probed_while_the_old_one_is_rebound_keeps_the_device) {
        Client *cl = new_client(1000);

        cr_assert_eq(group_claim(grp(2), cl, CLAIM_DETACH_KERNEL_DRIVERS), -EINPROGRESS);
        answer(0);
        answer(0);
        cr_assert_eq(group_release(grp(2), cl), 0);
        cr_assert_eq(device_probe_driver(dev(DEV_NIC), "igb", false), 0);     /* released: allowed */
        answer(0);                                              /* e1000e's bind ends after igb's */
        cr_assert_str_eq(dev(DEV_NIC)->driver, "igb", "the kernel binds one driver: the first");
        cr_assert_null(dev(DEV_NIC)->restore_driver);
        cr_assert_eq(grp(2)->dma_api_count, 1, "counted once");
        cr_assert_str_eq(group_transit_to_string(grp(2)), "");
}
