/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-override-store.c - the stored overrides, found by device name through their index */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/overrides.h"

/*
 * Counted, not timed (HashMap.probes): a store holds up to a record per
 * device of the machine, and every DetachGroup, ReattachGroup and start-up
 * re-application looks records up by name. A walk of the list would look
 * at half the records a lookup; the index looks at about one.
 */
#define N_RECORDS 4096

static char dir[PATH_MAX];
static char state_dir[PATH_MAX + 8], lib_dir[PATH_MAX + 8];

static void store_dirs(void) {
        snprintf(dir, sizeof(dir), "/tmp/test-override-store.XXXXXX");
        cr_assert_not_null(mkdtemp(dir));
        snprintf(state_dir, sizeof(state_dir), "%s/run", dir);
        snprintf(lib_dir, sizeof(lib_dir), "%s/lib", dir);
        cr_assert_eq(mkdir(state_dir, 0700), 0);
        cr_assert_eq(mkdir(lib_dir, 0700), 0);
}

static void store_dirs_remove(void) {
        char cmd[PATH_MAX + 16];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        cr_assert_eq(system(cmd), 0);
}

TestSuite(override_store, .init = store_dirs, .fini = store_dirs_remove);

static void record_name(char *buf, size_t size, unsigned i) {
        snprintf(buf, size, "0000:%02x:%02x.%u", i >> 8, (i >> 3) & 0x1f, i & 7);
}

/* Filled without writing the files: what a load of a large stored file does. */
static void fill(OverrideStore *s, unsigned n) {
        char path[PATH_MAX + 32], name[32];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", lib_dir, OVERRIDES_FILE);
        f = fopen(path, "w");
        cr_assert_not_null(f);
        fprintf(f, "{\"overrides\": [");
        for (unsigned i = 0; i < n; i++) {
                record_name(name, sizeof(name), i);
                fprintf(f, "%s{\"device\": \"%s\", \"driver\": \"e1000e\"}", i ? ", " : "", name);
        }
        fprintf(f, "]}\n");
        cr_assert_eq(fclose(f), 0);
        cr_assert_eq(override_store_load(s), 0);
}

Test(override_store, lookup_by_device_does_not_walk_the_records) {
        OverrideStore s;
        char name[32];

        cr_assert_eq(override_store_init(&s, state_dir, lib_dir), 0);
        fill(&s, N_RECORDS);
        s.by_device.probes = 0;
        for (unsigned i = 0; i < N_RECORDS; i++) {
                OverrideRecord *rec;

                record_name(name, sizeof(name), i);
                rec = override_store_find(&s, name);
                cr_assert_not_null(rec, "record %s not found", name);
                cr_assert_str_eq(rec->device, name);
                cr_assert(rec->saved);
        }
        cr_assert_null(override_store_find(&s, "0000:ff:1f.7"));
        /* At least one node a hit; a walk would be ~N/2 a lookup. */
        cr_assert_geq(s.by_device.probes, N_RECORDS, "the lookups bypassed the index");
        cr_assert_leq(s.by_device.probes, 3 * (N_RECORDS + 1), "%llu nodes looked at for %u lookups",
                      (unsigned long long)s.by_device.probes, N_RECORDS + 1);
        override_store_done(&s);
}

Test(override_store, removed_record_is_neither_found_nor_read_back) {
        OverrideStore s, again;

        cr_assert_eq(override_store_init(&s, state_dir, lib_dir), 0);
        cr_assert_eq(override_store_set(&s, "0000:00:03.0", "e1000e", "8086:10d3", true), 0);
        cr_assert_eq(override_store_set(&s, "0000:00:04.0", NULL, NULL, false), 0);
        cr_assert_eq(override_store_remove(&s, "0000:00:03.0"), 0);
        cr_assert_null(override_store_find(&s, "0000:00:03.0"));
        cr_assert_not_null(override_store_find(&s, "0000:00:04.0"));
        override_store_done(&s);

        cr_assert_eq(override_store_init(&again, state_dir, lib_dir), 0);
        cr_assert_eq(override_store_load(&again), 0);
        cr_assert_null(override_store_find(&again, "0000:00:03.0"));
        cr_assert_not_null(override_store_find(&again, "0000:00:04.0"));
        cr_assert_null(override_store_find(&again, "0000:00:04.0")->driver);
        override_store_done(&again);
}

/* The kind of device held goes with its record and comes back with it;
 * records of older files, without one, load with none (re-applied as
 * they are), and a malformed one is skipped. */
Test(override_store, the_pci_id_is_stored_and_older_records_have_none) {
        OverrideStore s, again;
        char path[PATH_MAX + 32];
        FILE *f;

        cr_assert_eq(override_store_init(&s, state_dir, lib_dir), 0);
        cr_assert_eq(override_store_set(&s, "0000:00:03.0", "e1000e", "8086:10d3", true), 0);
        override_store_done(&s);
        cr_assert_eq(override_store_init(&again, state_dir, lib_dir), 0);
        cr_assert_eq(override_store_load(&again), 0);
        cr_assert_str_eq(override_store_find(&again, "0000:00:03.0")->pci_id, "8086:10d3");
        override_store_done(&again);

        snprintf(path, sizeof(path), "%s/overrides", lib_dir);
        f = fopen(path, "we");
        cr_assert_not_null(f);
        fputs("{ \"overrides\": [ { \"device\": \"0000:00:03.0\", \"driver\": \"e1000e\" },\n"
              "  { \"device\": \"0000:00:04.0\", \"driver\": null, \"pci_id\": \"8086\" } ] }\n", f);
        cr_assert_eq(fclose(f), 0);
        cr_assert_eq(override_store_init(&again, state_dir, lib_dir), 0);
        cr_assert_eq(override_store_load(&again), 0);
        cr_assert_str_eq(override_store_find(&again, "0000:00:03.0")->pci_id, "", "an older record has none");
        cr_assert_null(override_store_find(&again, "0000:00:04.0"), "a malformed pci_id is skipped");
        override_store_done(&again);
}
