/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-memory.c - shared regions, spaces and their mappings as model objects */
#include "fixture.h"

TestSuite(memory, .init = fixture_setup, .fini = fixture_teardown);

Test(memory, region_validation_names_each_mistake) {
        Client *cl = new_client(1000);
        Region *r = NULL;

        cr_assert_eq(region_new(cl, 0x10001, 0, 0x1000, ACCESS_ALL, NULL, -1, &r), -EINVAL, "address");
        cr_assert_eq(region_new(cl, 0x10000, 0x10, 0x1000, ACCESS_ALL, NULL, -1, &r), -EINVAL, "offset");
        cr_assert_eq(region_new(cl, 0x10000, 0, 0x1001, ACCESS_ALL, NULL, -1, &r), -EINVAL, "length");
        cr_assert_eq(region_new(cl, 0x10000, 0, 0, ACCESS_ALL, NULL, -1, &r), -EINVAL, "empty");
        cr_assert_eq(region_new(cl, UINT64_MAX - 0xfff, 0, 0x2000, ACCESS_ALL, NULL, -1, &r), -EINVAL, "wraps");
        cr_assert_eq(region_new(cl, 0x10000, 0, 0x1000, 0, NULL, -1, &r), -EINVAL, "no access");
        cr_assert_eq(region_new(cl, 0x10000, 0, 0x1000, 4, NULL, -1, &r), -EINVAL, "unknown access bit");
        cr_assert_null(r);
        cr_assert(list_empty(&cl->regions));
        cr_assert_eq(cl->used[RES_BYTES], 0);
}

Test(memory, overlapping_regions_are_refused) {
        Client *a = new_client(1000), *b = new_client(1001);
        Region *r;

        cr_assert_eq(region_new(a, 0x10000, 0, 0x4000, ACCESS_ALL, NULL, -1, &r), 0);
        cr_assert_eq(region_new(a, 0x13000, 0, 0x2000, ACCESS_ALL, NULL, -1, &r), -EEXIST);
        cr_assert_eq(region_new(a, 0xf000, 0, 0x2000, ACCESS_ALL, NULL, -1, &r), -EEXIST);
        cr_assert_eq(region_new(a, 0x14000, 0, 0x1000, ACCESS_ALL, NULL, -1, &r), 0, "adjacent is fine");
        cr_assert_eq(region_new(b, 0x10000, 0, 0x4000, ACCESS_ALL, NULL, -1, &r), 0,
                     "another client's address space is its own");
        cr_assert_eq(client_region_at(a, 0x11000, 0x1000)->address, 0x10000);
        cr_assert_null(client_region_at(a, 0x13000, 0x2000), "spans two regions");
}

Test(memory, regions_shared_after_a_pinned_bind_are_mapped_too) {
        Client *cl = new_client(1000);
        Region *r1, *r2;

        claim_ok(cl, DEV_NOPRI);
        cr_assert_eq(region_new(cl, 0x10000, 0, 0x1000, ACCESS_READ, NULL, -1, &r1), 0);
        bind_ok(cl, DEV_NOPRI);
        cr_assert_eq(region_new(cl, 0x20000, 0, 0x1000, ACCESS_ALL, NULL, -1, &r2), 0);
        cr_assert_eq(recorder_count(&fx.rec, "map d1 iova=0x10000 len=0x1000 access=1"), 1);
        cr_assert_eq(recorder_count(&fx.rec, "map d1 iova=0x20000 len=0x1000 access=3"), 1);
        cr_assert_eq(region_remove(r1), 0);
        cr_assert_eq(recorder_count(&fx.rec, "unmap d1 iova=0x10000"), 1);
}

Test(memory, pri_devices_map_nothing_up_front) {
        Client *cl = new_client(1000);
        Region *r;

        claim_ok(cl, DEV_PRI);
        cr_assert_eq(region_new(cl, 0x10000, 0, 0x1000, ACCESS_ALL, NULL, -1, &r), 0);
        bind_ok(cl, DEV_PRI);
        cr_assert_eq(recorder_count(&fx.rec, "map"), 0, "a PRI device faults pages in");
}

Test(memory, space_map_checks_and_unmap_exact) {
        Client *cl = new_client(1000), *other = new_client(1001);
        Region *r, *ro;
        Space *s;

        cr_assert_eq(region_new(cl, 0x10000, 0, 0x4000, ACCESS_READ, NULL, -1, &r), 0);
        cr_assert_eq(region_new(other, 0x10000, 0, 0x4000, ACCESS_ALL, NULL, -1, &ro), 0);
        cr_assert_eq(space_new(cl, &s), 0);
        cr_assert_eq(space_map(s, ro, 0, 0, 0x1000, ACCESS_READ), -EACCES, "other's region");
        cr_assert_eq(space_map(s, r, 0, 0, 0x1000, ACCESS_ALL), -EINVAL, "write on read-only");
        cr_assert_eq(space_map(s, r, 0x3000, 0, 0x2000, ACCESS_READ), -EINVAL, "past the end");
        cr_assert_eq(space_map(s, r, 0, 0x123, 0x1000, ACCESS_READ), -EINVAL, "unaligned IOVA");
        cr_assert_eq(space_map(s, r, 0, 0x100000, 0x2000, ACCESS_READ), 0);
        cr_assert_eq(space_map(s, r, 0x2000, 0x101000, 0x1000, ACCESS_READ), -EEXIST);
        cr_assert_eq(space_map(s, r, 0x2000, 0x102000, 0x1000, ACCESS_READ), 0);
        cr_assert_eq(region_remove(r), -EBUSY, "still mapped in a space");
        cr_assert_eq(space_unmap(s, 0x100000, 0x1000), -ENOENT, "only whole mappings");
        cr_assert_eq(space_unmap(s, 0x100000, 0x2000), 0);
        cr_assert_eq(space_unmap(s, 0x102000, 0x1000), 0);
        cr_assert_eq(region_remove(r), 0);
}

Test(memory, space_attach_rules) {
        Client *cl = new_client(1000), *other = new_client(1001);
        Space *s;
        uint32_t pasid;

        cr_assert_eq(space_new(cl, &s), 0);
        cr_assert_eq(space_attach(s, dev(DEV_PRI), 0), -EPERM, "group not claimed");
        claim_ok(other, DEV_NOPRI);
        cr_assert_eq(space_attach(s, dev(DEV_NOPRI), 0), -EPERM, "someone else's group");
        claim_ok(cl, DEV_PRI);
        claim_ok(cl, DEV_NIC);
        cr_assert_eq(client_get_pasid(cl, &pasid), 0);
        cr_assert_eq(space_attach(s, dev(DEV_PRI), pasid + 1), -EINVAL, "not the client's PASID");
        cr_assert_eq(space_attach(s, dev(DEV_NIC), pasid), -EOPNOTSUPP, "no PASID support");
        cr_assert_eq(space_attach(s, dev(DEV_PRI), pasid), 0);
        cr_assert_eq(space_attach(s, dev(DEV_NIC), 0), 0);
        cr_assert_eq(space_detach(s, dev(DEV_NIC), 5), -ENOENT);
        cr_assert_eq(s->io.n_attached, 2);
}
