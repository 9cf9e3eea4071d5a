/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-handout.c - devices handed to a client's own driver: who may, what it blocks, taking them back */
#include "daemon/core/handout.h"
#include "fixture.h"

/*
 * The recorder stands for the backend: device_open answers an fd number,
 * take_back answers at once, or later (async_ops) as a holder that keeps
 * its fd makes the kernel's vfio-pci unbind wait.
 */
TestSuite(handout, .init = fixture_setup, .fini = fixture_teardown);

static int hand_out(const char *name, Client *cl) {
        int fd = -1;
        int r = device_hand_out(dev(name), cl, cl->name, &fd);

        if (r == 0)
                cr_assert_geq(fd, 1000, "the backend's fd is passed on");
        else
                cr_assert_eq(fd, -1, "no fd on failure");
        return r;
}

static void answer(int r) {
        cr_assert_eq(recorder_answer(&fx.rec, fx.core, r), 0);
}

Test(handout, only_the_owner_of_the_group_gets_a_device) {
        Client *a = new_client(1000), *b = new_client(1001);

        cr_assert_eq(hand_out(DEV_PRI, a), -EPERM, "not claimed by anybody");
        claim_ok(a, DEV_PRI);
        cr_assert_eq(hand_out(DEV_PRI, b), -EPERM, "claimed by another client");
        cr_assert_eq(hand_out(DEV_PRI, a), 0);
        cr_assert_eq(dev(DEV_PRI)->handout, HANDOUT_OPEN);
        cr_assert_eq(dev(DEV_PRI)->handed_to, a);
        cr_assert_str_eq(dev(DEV_PRI)->handed_to_name, ":1.test");
        cr_assert_eq(a->used[RES_OPEN_DEVICES], 1);
        cr_assert_eq(recorder_count(&fx.rec, "device_open 0000:00:02.0"), 1);
}

Test(handout, a_device_is_handed_out_once) {
        Client *a = new_client(1000);

        claim_ok(a, DEV_PRI);
        cr_assert_eq(hand_out(DEV_PRI, a), 0);
        cr_assert_eq(hand_out(DEV_PRI, a), -EALREADY, "a cdev binds to one iommufd at a time");
        cr_assert_eq(a->used[RES_OPEN_DEVICES], 1);
        cr_assert_eq(recorder_count(&fx.rec, "device_open"), 1);
}

Test(handout, L6_no_bond_or_space_on_a_group_with_a_device_handed_out) {
        Client *a = new_client(1000);
        Space *s = NULL;
        Bond *b = NULL;

        claim_ok(a, DEV_NIC);
        cr_assert_eq(hand_out(DEV_NIC1, a), 0);
        cr_assert_eq(space_new(a, &s), 0);
        cr_assert_eq(space_attach(s, dev(DEV_NIC), 0), -EBUSY, "the holder's iommufd owns the group's DMA");
        cr_assert_eq(space_attach(s, dev(DEV_NIC1), 0), -EBUSY);
        claim_ok(a, DEV_PRI);
        cr_assert_eq(hand_out(DEV_PRI, a), 0);
        cr_assert_eq(bond_bind(a, dev(DEV_PRI), &b), -EBUSY);
        cr_assert_eq(recorder_count(&fx.rec, "attach"), 0, "nothing reached the backend");
}

Test(handout, not_while_the_daemon_uses_a_device_of_the_group) {
        Client *a = new_client(1000);

        claim_ok(a, DEV_PRI);
        Bond *b = bind_ok(a, DEV_PRI);
        cr_assert_eq(hand_out(DEV_PRI, a), -EBUSY, "its slot would keep the daemon's binding");
        cr_assert_eq(a->used[RES_OPEN_DEVICES], 0);
        cr_assert_eq(bond_unbind(a, b->id), 0);
        cr_assert_eq(hand_out(DEV_PRI, a), 0, "free once the bond went");
}

Test(handout, L10_open_devices_quota_refuses_with_nothing_held) {
        Quota q = quota_unlimited();
        Client *a;

        q.limit[RES_OPEN_DEVICES] = 1;
        a = new_client_quota(1000, &q);
        claim_ok(a, DEV_NIC);
        cr_assert_eq(hand_out(DEV_NIC, a), 0);
        cr_assert_eq(hand_out(DEV_NIC1, a), -EDQUOT);
        cr_assert_eq(a->refused, RES_OPEN_DEVICES);
        cr_assert_eq(dev(DEV_NIC1)->handout, HANDOUT_NONE);
        cr_assert_eq(recorder_count(&fx.rec, "device_open"), 1, "the backend opened nothing more");
        cr_assert_eq(a->user->used[RES_OPEN_DEVICES], 1);
}

Test(handout, L10_quota_is_the_uids_over_its_connections) {
        Quota q = quota_unlimited();
        Client *a, *b;

        q.limit[RES_OPEN_DEVICES] = 1;
        a = new_client_quota(1000, &q);
        b = new_client_quota(1000, &q);
        claim_ok(a, DEV_PRI);
        claim_ok(b, DEV_NOPRI);
        cr_assert_eq(hand_out(DEV_PRI, a), 0);
        cr_assert_eq(hand_out(DEV_NOPRI, b), -EDQUOT);
}

Test(handout, a_failed_open_leaves_nothing_charged) {
        Client *a = new_client(1000);

        claim_ok(a, DEV_PRI);
        fx.rec.fail_errno[REC_DEVICE_OPEN] = EIO;
        cr_assert_eq(hand_out(DEV_PRI, a), -EIO);
        cr_assert_eq(a->used[RES_OPEN_DEVICES], 0);
        cr_assert_eq(dev(DEV_PRI)->handout, HANDOUT_NONE);
        cr_assert_eq(grp(1)->n_handed_out, 0);
}

/* A holder that keeps its fd: the release waits for it, off the event
 * loop, and the kernel drivers come back only after it let go. */
Test(handout, release_waits_for_the_holder_then_gives_the_drivers_back) {
        Client *a = new_client(1000), *b = new_client(1001);

        fx.rec.async_ops = 1u << REC_TAKE_BACK;
        fx.rec.holder_pid = 4242;
        claim_ok(a, DEV_NIC);
        cr_assert_eq(hand_out(DEV_NIC, a), 0);
        cr_assert_eq(group_release(grp(2), a), 0);
        cr_assert_null(grp(2)->owner, "the group is no longer the client's");
        cr_assert_eq(a->used[RES_OPEN_DEVICES], 0, "its quota is given back at once");
        cr_assert_str_eq(group_transit_to_string(grp(2)), "releasing");
        cr_assert_eq(dev(DEV_NIC)->handout, HANDOUT_RETURNING);
        cr_assert_eq(recorder_count(&fx.rec, "take_back 0000:00:03.0"), 1);
        cr_assert_eq(recorder_count(&fx.rec, "driver_attach"), 0, "e1000e waits for the holder");
        cr_assert_eq(group_claim(grp(2), b, CLAIM_DETACH_KERNEL_DRIVERS), -EBUSY, "no claim meanwhile (L4)");
        cr_assert_eq(dev(DEV_NIC)->holder_pid, 4242, "the holder the backend saw is recorded");

        answer(0);                              /* the holder closed its fd */
        cr_assert_eq(dev(DEV_NIC)->handout, HANDOUT_NONE);
        cr_assert_eq(dev(DEV_NIC)->holder_pid, 0);
        cr_assert_null(dev(DEV_NIC)->handed_to_name);
        cr_assert_gt(log_at("driver_attach 0000:00:03.0 e1000e"), log_at("take_back 0000:00:03.0"));
        cr_assert_str_eq(dev(DEV_NIC)->driver, "e1000e");
        cr_assert_str_eq(group_transit_to_string(grp(2)), "");
        cr_assert_eq(grp(2)->n_handed_out, 0);
}

Test(handout, L1_client_end_takes_each_device_back_once) {
        Client *a = new_client(1000);
        uint64_t id = a->id;

        fx.rec.async_ops = 1u << REC_TAKE_BACK;
        claim_ok(a, DEV_PRI);
        cr_assert_eq(hand_out(DEV_PRI, a), 0);
        cr_assert_eq(client_release(fx.core, id), 0);
        cr_assert_eq(client_release(fx.core, id), 0);
        cr_assert_eq(recorder_count(&fx.rec, "take_back"), 1);
        answer(0);
        cr_assert_eq(group_revoke(grp(1)), 0, "nothing left to revoke");
        cr_assert_eq(recorder_count(&fx.rec, "take_back"), 1);
        cr_assert_eq(grp(1)->n_handed_out, 0);
}

Test(handout, revoke_of_another_clients_claim_takes_the_device_back) {
        Client *a = new_client(1000);

        claim_ok(a, DEV_PRI);
        cr_assert_eq(hand_out(DEV_PRI, a), 0);
        cr_assert_eq(group_revoke(grp(1)), 0);
        cr_assert_eq(recorder_count(&fx.rec, "take_back 0000:00:02.0"), 1);
        cr_assert_eq(dev(DEV_PRI)->handout, HANDOUT_NONE, "the recorder answers at once");
        cr_assert_null(grp(1)->owner);
        cr_assert_eq(a->used[RES_OPEN_DEVICES], 0);
}

Test(handout, L1_unplug_of_a_device_handed_out_ends_its_hand_out) {
        Client *a = new_client(1000);

        claim_ok(a, DEV_NIC);
        cr_assert_eq(hand_out(DEV_NIC1, a), 0);
        cr_assert_eq(device_unplug(fx.core, DEV_NIC1), 0);
        cr_assert_eq(a->used[RES_OPEN_DEVICES], 0);
        cr_assert_eq(grp(2)->n_handed_out, 0);
        cr_assert_eq(recorder_count(&fx.rec, "take_back"), 0, "gone with the device");
        cr_assert_eq(device_unplug(fx.core, DEV_NIC1), -ENODEV);
        Space *s = NULL;
        cr_assert_eq(space_new(a, &s), 0);
        cr_assert_eq(space_attach(s, dev(DEV_NIC), 0), 0, "the group is the daemon's again");
}

Test(handout, L1_the_device_going_while_it_is_taken_back_ends_the_wait) {
        Client *a = new_client(1000);

        fx.rec.async_ops = 1u << REC_TAKE_BACK;
        claim_ok(a, DEV_NIC);
        cr_assert_eq(hand_out(DEV_NIC1, a), 0);
        cr_assert_eq(group_release(grp(2), a), 0);
        cr_assert_eq(device_unplug(fx.core, DEV_NIC1), 0);
        answer(0);                              /* its answer only moves the group on */
        cr_assert_eq(grp(2)->n_handed_out, 0);
        cr_assert_str_eq(dev(DEV_NIC)->driver, "e1000e");
        cr_assert_str_eq(group_transit_to_string(grp(2)), "");
}

/* A claim held for a process (ClaimGroupForProcess) is a client of its
 * own: the launcher's end leaves it, and its devices, alone. */
Test(handout, a_claim_held_for_a_process_outlives_its_launcher) {
        Client *launcher = new_client(1000), *process = new_client(1000);

        claim_ok(process, DEV_PRI);
        cr_assert_eq(device_hand_out(dev(DEV_PRI), process, ":1.launcher", &(int){ -1 }), 0);
        cr_assert_eq(client_release(fx.core, launcher->id), 0);
        cr_assert_eq(grp(1)->owner, process);
        cr_assert_eq(dev(DEV_PRI)->handout, HANDOUT_OPEN);
        cr_assert_str_eq(dev(DEV_PRI)->handed_to_name, ":1.launcher");
        cr_assert_eq(recorder_count(&fx.rec, "take_back"), 0);
        cr_assert_eq(client_release(fx.core, process->id), 0, "the process exits");
        cr_assert_eq(recorder_count(&fx.rec, "take_back 0000:00:02.0"), 1);
        cr_assert_null(grp(1)->owner);
}
