/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-override.c - groups held for the machine: detached, claimed by clients, reattached */
#include "daemon/core/override.h"
#include "fixture.h"

TestSuite(override, .init = fixture_setup, .fini = fixture_teardown);

static void answer(int r) {
        cr_assert_eq(recorder_answer(&fx.rec, fx.core, r), 0);
}

/* The one event of kind delivered so far, or NULL. */
static const SeenEvent *one_event(CoreEventKind kind) {
        const SeenEvent *found = NULL;

        core_dispatch(fx.core);
        for (unsigned i = 0; i < fx.n_events; i++)
                if (fx.events[i].kind == kind) {
                        cr_assert_null(found, "one answer per override change");
                        found = &fx.events[i];
                }
        return found;
}

Test(override, detaches_the_dma_api_driver_and_holds_every_device) {
        cr_assert_eq(group_override(grp(2)), 0);
        cr_assert(grp(2)->overridden);
        cr_assert_eq(group_ownership(grp(2)), OWNERSHIP_MACHINE);
        cr_assert_null(grp(2)->owner, "held for the machine, not for a client");
        cr_assert_str_eq(dev(DEV_NIC)->driver, "vfio-pci");
        cr_assert_str_eq(dev(DEV_NIC1)->driver, "vfio-pci");
        cr_assert_eq(dev(DEV_NIC)->hold, HOLD_ON);
        cr_assert_str_eq(dev(DEV_NIC)->override_driver, "e1000e");
        cr_assert_null(dev(DEV_NIC1)->override_driver, "it had no driver to give back");
        cr_assert_null(dev(DEV_NIC)->restore_driver, "a claim's release would bind it");
        cr_assert_eq(grp(2)->dma_api_count, 0);
        cr_assert_lt(log_at("driver_detach " DEV_NIC " e1000e"), log_at("driver_hold " DEV_NIC));
        cr_assert_eq(group_override(grp(2)), 0, "overrides don't nest");
        cr_assert_eq(recorder_count(&fx.rec, "driver_hold"), 2);
}

Test(override, a_client_claims_it_without_detaching_and_its_release_keeps_it_held) {
        Client *cl = new_client(1000);

        cr_assert_eq(group_override(grp(2)), 0);
        recorder_clear(&fx.rec);
        cr_assert_eq(group_claim(grp(2), cl, 0), 0, "no DMA-API driver is left to detach");
        cr_assert_eq(grp(2)->owner, cl);
        cr_assert_eq(group_ownership(grp(2)), OWNERSHIP_USER);
        cr_assert_eq(group_unoverride(grp(2)), -EBUSY, "a client holds it");
        cr_assert_eq(group_release(grp(2), cl), 0);
        cr_assert_eq(group_ownership(grp(2)), OWNERSHIP_MACHINE);
        cr_assert_str_eq(dev(DEV_NIC)->driver, "vfio-pci");
        cr_assert_eq(recorder_count(&fx.rec, "driver_attach"), 0, "no driver comes back with a claim's end");
        cr_assert_eq(recorder_count(&fx.rec, "driver_detach"), 0);
        cr_assert_str_eq(dev(DEV_NIC)->override_driver, "e1000e");
}

Test(override, survives_the_end_of_every_client) {
        Client *cl = new_client(1000);

        cr_assert_eq(group_override(grp(2)), 0);
        cr_assert_eq(group_claim(grp(2), cl, 0), 0);
        cr_assert_eq(client_release(fx.core, cl->id), 0);
        core_dispatch(fx.core);
        cr_assert(grp(2)->overridden);
        cr_assert_eq(group_ownership(grp(2)), OWNERSHIP_MACHINE);
        cr_assert_str_eq(dev(DEV_NIC)->driver, "vfio-pci");
}

Test(override, reattach_lets_go_and_binds_the_driver_it_took) {
        cr_assert_eq(group_override(grp(2)), 0);
        recorder_clear(&fx.rec);
        cr_assert_eq(group_unoverride(grp(2)), 0);
        cr_assert_not(grp(2)->overridden);
        cr_assert_str_eq(dev(DEV_NIC)->driver, "e1000e");
        cr_assert(dev(DEV_NIC)->driver_dma_api);
        cr_assert_null(dev(DEV_NIC1)->driver, "it had none");
        cr_assert_eq(group_ownership(grp(2)), OWNERSHIP_DMA_API);
        cr_assert_lt(log_at("driver_unhold " DEV_NIC), log_at("driver_attach " DEV_NIC " e1000e"));
        cr_assert_eq(recorder_count(&fx.rec, "driver_attach"), 1);
        cr_assert_null(dev(DEV_NIC)->override_driver);
        cr_assert_eq(dev(DEV_NIC)->hold, HOLD_NONE);
        cr_assert_eq(group_unoverride(grp(2)), -ENOENT, "nothing to reattach");
}

Test(override, L4_no_other_driver_binds_to_a_held_device) {
        cr_assert_eq(group_override(grp(2)), 0);
        cr_assert_eq(device_remove_driver(dev(DEV_NIC1)), 0, "vfio-pci unbound by hand");
        cr_assert_eq(device_probe_driver(dev(DEV_NIC1), "igb", false), -EBUSY,
                     "driver_override matches vfio-pci only");
        cr_assert_eq(device_probe_driver(dev(DEV_NIC1), "pci-stub", true), -EBUSY);
        cr_assert_eq(device_probe_driver(dev(DEV_NIC1), "vfio-pci", true), 0);
        cr_assert_eq(group_ownership(grp(2)), OWNERSHIP_MACHINE);
}

Test(override, L5_a_hold_refused_half_way_puts_every_driver_back) {
        recorder_fail(&fx.rec, REC_DRIVER_HOLD, EIO, DEV_NIC1);
        cr_assert_eq(group_override(grp(2)), -EIO);
        cr_assert_not(grp(2)->overridden);
        cr_assert_str_eq(dev(DEV_NIC)->driver, "e1000e");
        cr_assert(dev(DEV_NIC)->driver_dma_api);
        cr_assert_null(dev(DEV_NIC1)->driver);
        cr_assert_eq(dev(DEV_NIC)->hold, HOLD_NONE);
        cr_assert_null(dev(DEV_NIC)->override_driver);
        cr_assert_lt(log_at("driver_unhold " DEV_NIC), log_at("driver_attach " DEV_NIC " e1000e"));
        cr_assert_eq(group_ownership(grp(2)), OWNERSHIP_DMA_API);
}

Test(override, a_stored_override_is_reapplied_with_its_driver) {
        /* After a restart the device is on vfio-pci already: the daemon
         * says which driver to give back, as nothing is left to detach. */
        cr_assert_eq(device_remove_driver(dev(DEV_NIC)), 0);
        cr_assert_eq(device_probe_driver(dev(DEV_NIC), "vfio-pci", true), 0);
        cr_assert_eq(device_set_override_driver(dev(DEV_NIC), "e1000e"), 0);
        cr_assert_eq(group_override(grp(2)), 0);
        cr_assert_eq(recorder_count(&fx.rec, "driver_detach"), 0);
        cr_assert_str_eq(dev(DEV_NIC)->override_driver, "e1000e");
        cr_assert_eq(device_set_override_driver(dev(DEV_NIC), "igb"), -EBUSY, "held now");
        cr_assert_eq(group_unoverride(grp(2)), 0);
        cr_assert_str_eq(dev(DEV_NIC)->driver, "e1000e");
}

Test(override, waits_for_the_backend_and_says_when_it_is_done) {
        Client *cl = new_client(1000);

        fx.rec.async_ops = 1u << REC_DRIVER_DETACH | 1u << REC_DRIVER_HOLD | 1u << REC_DRIVER_UNHOLD |
                           1u << REC_DRIVER_ATTACH;
        cr_assert_eq(group_override(grp(2)), -EINPROGRESS);
        cr_assert_str_eq(group_transit_to_string(grp(2)), "detaching");
        cr_assert_eq(group_claim(grp(2), cl, CLAIM_DETACH_KERNEL_DRIVERS), -EBUSY);
        cr_assert_eq(device_probe_driver(dev(DEV_NIC1), "igb", false), -EBUSY, "L4 while detaching");
        answer(0);                      /* e1000e unbound */
        answer(1);                      /* 00:03.0 on vfio-pci */
        cr_assert_null(one_event(CORE_EVENT_OVERRIDE_SET));
        answer(1);                      /* 00:03.1 on vfio-pci */
        const SeenEvent *ev = one_event(CORE_EVENT_OVERRIDE_SET);
        cr_assert_not_null(ev);
        cr_assert_eq(ev->result, 0);
        cr_assert_eq(ev->group, 2);
        cr_assert_str_eq(group_transit_to_string(grp(2)), "");

        cr_assert_eq(group_unoverride(grp(2)), -EINPROGRESS);
        cr_assert_str_eq(group_transit_to_string(grp(2)), "reattaching");
        answer(0);
        answer(0);                      /* both off vfio-pci */
        answer(0);                      /* e1000e bound */
        ev = one_event(CORE_EVENT_OVERRIDE_REMOVED);
        cr_assert_not_null(ev);
        cr_assert_eq(ev->result, 0);
        cr_assert_str_eq(dev(DEV_NIC)->driver, "e1000e");
}

Test(override, a_device_that_vfio_pci_will_not_let_go_stays_on_it_and_is_reported) {
        fx.rec.async_ops = 1u << REC_DRIVER_UNHOLD;
        cr_assert_eq(group_override(grp(2)), 0);
        cr_assert_eq(group_unoverride(grp(2)), -EINPROGRESS);
        answer(-EBUSY);                 /* 00:03.0: vfio-pci has a holder */
        answer(0);
        const SeenEvent *ev = one_event(CORE_EVENT_OVERRIDE_REMOVED);
        cr_assert_not_null(ev);
        cr_assert_eq(ev->result, -EBUSY);
        cr_assert_str_eq(dev(DEV_NIC)->driver, "vfio-pci", "the model says what is true");
        cr_assert_null(dev(DEV_NIC1)->driver);
        cr_assert_not(grp(2)->overridden);
}

Test(override, refused_while_a_client_holds_the_group) {
        Client *cl = new_client(1000);

        claim_ok(cl, DEV_NIC);
        cr_assert_eq(group_override(grp(2)), -EBUSY);
        cr_assert_not(grp(2)->overridden);
}
