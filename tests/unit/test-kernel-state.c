/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-kernel-state.c - the drivers to give back: the state file, its restore, and claims that record first */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/backend/kernel-internal.h"
#include "daemon/backend/kernel-state.h"
#include "daemon/backend/kernel.h"
#include "daemon/core/client.h"
#include "daemon/core/device.h"
#include "daemon/core/group.h"
#include "fake-sysfs.h"

TestSuite(kernel_state, .init = fake_sysfs_setup, .fini = fake_sysfs_teardown);

static char logged[4096];

/* BackendOptions.log for the tests: everything said, one line each. */
static void collect(void *userdata, const char *fmt, va_list ap) {
        size_t n = strlen(logged);

        vsnprintf(logged + n, sizeof(logged) - n, fmt, ap);
        n = strlen(logged);
        snprintf(logged + n, sizeof(logged) - n, "\n");
}

static const char *in_root(const char *rel) {
        static char path[2][256];
        static unsigned i;

        i = (i + 1) % 2;
        snprintf(path[i], sizeof(path[i]), "%s/%s", fake_root, rel);
        return path[i];
}

Test(kernel_state, format_and_parse_round_trip) {
        KernelStateEntry in[2] = { { "0000:01:00.0", "e1000e" }, { "0000:02:01.0", "" } }, *out = NULL;
        char *text = kernel_state_format(in, 2), why[160];
        unsigned bad;
        size_t n;

        cr_assert_not_null(text);
        cr_assert(strstr(text, "\n0000:01:00.0 e1000e\n0000:02:01.0 -\n"), "%s", text);
        cr_assert_eq(kernel_state_parse(text, &out, &n, &bad, why, sizeof(why)), 0);
        cr_assert_eq(n, 2);
        cr_assert_eq(bad, 0);
        cr_assert_str_eq(out[0].name, "0000:01:00.0");
        cr_assert_str_eq(out[0].driver, "e1000e");
        cr_assert_str_eq(out[1].driver, "", "\"-\" is no driver");
        free(out);
        free(text);
}

Test(kernel_state, parse_leaves_out_bad_lines_and_says_which) {
        const char *text = "# comment\n0000:01:00.0 e1000e\nnonsense\n../x e1000e\n0000:03:00.0 ../../evil\n"
                           "0000:04:00.0 igb";
        KernelStateEntry *v = NULL;
        char why[160];
        unsigned bad;
        size_t n;

        cr_assert_eq(kernel_state_parse(text, &v, &n, &bad, why, sizeof(why)), 0);
        cr_assert_eq(n, 2, "the good lines, the last one without a newline too");
        cr_assert_str_eq(v[1].name, "0000:04:00.0");
        cr_assert_eq(bad, 3, "no blank, a path, a driver with slashes");
        cr_assert(strstr(why, "line 3") && strstr(why, "nonsense"), "%s", why);
        free(v);
}

/* Each change is on disk when record() returns; the last forget removes
 * the file; no temporary file stays behind. */
Test(kernel_state, record_writes_the_file_and_forget_removes_it) {
        KernelState s;

        cr_assert_eq(kernel_state_init(&s, in_root("run")), 0);
        cr_assert_eq(kernel_state_record(&s, "0000:01:00.0", "e1000e"), 0);
        cr_assert(strstr(fake_read("run/drivers"), "\n0000:01:00.0 e1000e\n"), "%s", fake_read("run/drivers"));
        cr_assert_eq(kernel_state_record(&s, "0000:02:01.0", NULL), 0);
        cr_assert(strstr(fake_read("run/drivers"), "\n0000:02:01.0 -\n"));
        cr_assert_eq(kernel_state_record(&s, "0000:01:00.0", "igb"), 0, "one entry a function");
        cr_assert_eq(s.n, 2);
        cr_assert_eq(kernel_state_forget(&s, "0000:01:00.0"), 0);
        cr_assert_null(strstr(fake_read("run/drivers"), "0000:01:00.0"));
        cr_assert_eq(kernel_state_forget(&s, "0000:01:00.0"), 0, "nothing to forget");
        cr_assert_eq(kernel_state_forget(&s, "0000:02:01.0"), 0);
        cr_assert_eq(access(in_root("run/drivers"), F_OK), -1, "no entry, no file");
        cr_assert_eq(access(in_root("run/.drivers.tmp"), F_OK), -1);
        cr_assert_eq(kernel_state_record(&s, "bad name", "e1000e"), -EINVAL);
        kernel_state_done(&s);
}

Test(kernel_state, record_that_cannot_be_written_changes_nothing) {
        KernelState s;

        fake_put("run", "a file, not a directory", 23);
        cr_assert_eq(kernel_state_init(&s, in_root("run")), 0);
        cr_assert_lt(kernel_state_record(&s, "0000:01:00.0", "e1000e"), 0);
        cr_assert_eq(s.n, 0);
        cr_assert_null(kernel_state_find(&s, "0000:01:00.0"));
        kernel_state_done(&s);
}

Test(kernel_state, restore_decides_by_where_the_function_is_now) {
        cr_assert_eq(kernel_restore_action(false, ""), KERNEL_RESTORE_GONE);
        cr_assert_eq(kernel_restore_action(true, "vfio-pci"), KERNEL_RESTORE_GIVE_BACK);
        cr_assert_eq(kernel_restore_action(true, ""), KERNEL_RESTORE_GIVE_BACK, "killed between unbind and bind");
        cr_assert_eq(kernel_restore_action(true, "igb"), KERNEL_RESTORE_LEAVE, "someone bound it since");
}

/* A daemon killed with functions on vfio-pci: the next one gives each back
 * before it serves, says so, and removes the file. */
Test(kernel_state, restore_gives_back_what_a_killed_daemon_left_on_vfio_pci) {
        const char *state = "# iommud\n0000:01:00.0 e1000e\n0000:02:01.0 -\n0000:03:00.0 e1000e\n"
                            "0000:04:00.0 e1000e\n";
        BackendOptions opts = { .sysfs = fake_root, .state_dir = in_root("run"), .log = collect };

        logged[0] = 0;
        fake_device("0000:01:00.0", 3, "0x8086:0x10d3", "vfio-pci", "dmar0");
        fake_device("0000:02:01.0", 7, "0x8086:0x100e", NULL, "dmar0");       /* killed before the probe */
        fake_device("0000:03:00.0", 9, "0x8086:0x10d3", "igb", "dmar0");
        fake_put("bus/pci/drivers/vfio-pci/unbind", "", 0);
        fake_put("bus/pci/drivers/e1000e/bind", "", 0);
        fake_put("bus/pci/devices/0000:01:00.0/driver_override", "vfio-pci", 8);
        fake_put("bus/pci/devices/0000:02:01.0/driver_override", "vfio-pci", 8);
        fake_put("bus/pci/devices/0000:03:00.0/driver_override", "untouched", 9);
        fake_put("run/drivers", state, strlen(state));

        cr_assert_eq(kernel_state_restore(&opts), 2);
        cr_assert_str_eq(fake_read("bus/pci/drivers/vfio-pci/unbind"), "0000:01:00.0", "unbound from vfio-pci");
        cr_assert_eq(fake_read("bus/pci/devices/0000:01:00.0/driver_override")[0], '\n', "override cleared");
        cr_assert_eq(fake_read("bus/pci/devices/0000:02:01.0/driver_override")[0], '\n');
        cr_assert_str_eq(fake_read("bus/pci/drivers/e1000e/bind"), "0000:01:00.0", "only the one that had it");
        cr_assert_str_eq(fake_read("bus/pci/devices/0000:03:00.0/driver_override"), "untouched");
        cr_assert(strstr(logged, "0000:01:00.0: a previous iommud left it on vfio-pci; restored to e1000e"),
                  "%s", logged);
        cr_assert(strstr(logged, "0000:02:01.0: a previous iommud left it on vfio-pci; given back to no driver"),
                  "%s", logged);
        cr_assert(strstr(logged, "0000:03:00.0: a previous iommud recorded it for e1000e, but it is on igb now"));
        cr_assert(strstr(logged, "0000:04:00.0: a previous iommud recorded it for e1000e, but it is gone"));
        cr_assert_eq(access(in_root("run/drivers"), F_OK), -1, "the file is gone after the restore");

        logged[0] = 0;
        cr_assert_eq(kernel_state_restore(&opts), 0, "no file: nothing to do");
        cr_assert_str_eq(logged, "");
}

static const ClientIdentity who = { .uid = 0, .gid = 0, .pid = 1, .name = ":1.test" };

/* A kernel backend on the fake tree: a plain file as /dev/iommu (every
 * iommufd probe says no), the state under root/run. */
static KernelBackend *fake_backend(Core **ret_core, const char *state_dir) {
        char dev[128];
        KernelBackend *k = NULL;

        fake_put("dev/iommu", "", 0);
        snprintf(dev, sizeof(dev), "%s/dev", fake_root);
        cr_assert_eq(kernel_backend_new(&k, fake_root, dev, state_dir), 0);
        cr_assert_eq(core_new(ret_core, &kernel_ops, k), 0);
        cr_assert_eq(kernel_load_topology(k, *ret_core, NULL), 0);
        return k;
}

/* The driver is on disk before its unbind, and off it after its rebind. */
Test(kernel_state, driver_detach_records_before_the_unbind_and_attach_forgets) {
        Core *c = NULL;
        KernelBackend *k;
        Device *d;

        fake_device("0000:01:00.0", 3, "0x8086:0x10d3", NULL, "dmar0");
        /* Absolute, so that driver/unbind leads where the test looks. */
        fake_link("bus/pci/devices/0000:01:00.0/driver", in_root("bus/pci/drivers/e1000e"));
        fake_put("bus/pci/drivers/e1000e/unbind", "", 0);
        fake_put("bus/pci/drivers/e1000e/bind", "", 0);
        k = fake_backend(&c, in_root("run"));
        d = core_find_device(c, "0000:01:00.0");

        /* The unbind runs on a worker thread (kernel-jobs.c); the record is
         * on disk when the operation returns, before it can have run. */
        cr_assert_eq(kernel_ops.driver_detach(k, d), -EINPROGRESS);
        cr_assert(strstr(fake_read("run/drivers"), "\n0000:01:00.0 e1000e\n"), "recorded: %s",
                  fake_read("run/drivers"));
        kernel_jobs_drain(k, 5000000);
        cr_assert_str_eq(fake_read("bus/pci/drivers/e1000e/unbind"), "0000:01:00.0");
        cr_assert_eq(kernel_ops.driver_attach(k, d, "e1000e"), -EINPROGRESS);
        kernel_jobs_drain(k, 5000000);
        cr_assert_str_eq(fake_read("bus/pci/drivers/e1000e/bind"), "0000:01:00.0");
        cr_assert_eq(access(in_root("run/drivers"), F_OK), -1, "given back: forgotten");
        core_free(c);
        kernel_backend_free(k);
}

/* Without a place to record it, no driver is taken away: the claim fails
 * Busy saying why, and e1000e is never unbound. */
Test(kernel_state, claim_that_cannot_record_unbinds_nothing) {
        Core *c = NULL;
        Client *cl;
        KernelBackend *k;

        fake_device("0000:01:00.0", 3, "0x8086:0x10d3", NULL, "dmar0");
        fake_link("bus/pci/devices/0000:01:00.0/driver", in_root("bus/pci/drivers/e1000e"));
        fake_put("bus/pci/drivers/e1000e/unbind", "", 0);
        fake_put("run", "a file, not a directory", 23);
        k = fake_backend(&c, in_root("run"));
        cr_assert_eq(client_new(c, &who, NULL, &cl), 0);

        cr_assert_eq(group_claim(core_find_group(c, 3), cl, CLAIM_DETACH_KERNEL_DRIVERS), -EBUSY);
        cr_assert_str_eq(fake_read("bus/pci/drivers/e1000e/unbind"), "", "not unbound");
        cr_assert_str_eq(core_find_device(c, "0000:01:00.0")->driver, "e1000e");
        cr_assert(strstr(kernel_backend_class.why(k, -EBUSY), "cannot record 0000:01:00.0's driver e1000e"),
                  "%s", kernel_backend_class.why(k, -EBUSY));
        core_free(c);
        kernel_backend_free(k);
}

/*
 * A function an administrator bound to vfio-pci is claimed through its
 * cdev, not moved: nothing is written to its driver_override, and the cdev
 * is opened and bound (here a plain file, so the kernel's "no" is ENOTTY).
 * Before, the claim skipped it and "succeeded" with nothing bound.
 */
Test(kernel_state, function_on_vfio_pci_already_is_opened_not_moved) {
        Core *c = NULL;
        Client *cl;
        KernelBackend *k;

        fake_device("0000:01:00.0", 3, "0x8086:0x10d3", "vfio-pci", "dmar0");
        fake_put("bus/pci/devices/0000:01:00.0/vfio-dev/vfio0/dev", "245:0", 5);
        fake_put("bus/pci/devices/0000:01:00.0/driver_override", "", 0);
        fake_put("bus/pci/drivers_probe", "", 0);
        fake_put("dev/vfio/devices/vfio0", "", 0);
        k = fake_backend(&c, in_root("run"));
        cr_assert_eq(client_new(c, &who, NULL, &cl), 0);

        cr_assert_eq(group_claim(core_find_group(c, 3), cl, 0), -ENOTTY, "its cdev was bound");
        cr_assert_str_eq(fake_read("bus/pci/devices/0000:01:00.0/driver_override"), "");
        cr_assert_str_eq(fake_read("bus/pci/drivers_probe"), "");
        cr_assert_eq(access(in_root("run/drivers"), F_OK), -1, "nothing to give back: not recorded");
        cr_assert_null(core_find_device(c, "0000:01:00.0")->backend_data);
        core_free(c);
        kernel_backend_free(k);
}
