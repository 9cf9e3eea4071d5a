/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-memory.c - shared regions, spaces and their mappings as model objects */
#include <inttypes.h>

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

/* What the kernel's IOMMU_IOAS_IOVA_RANGES says of an IOAS with a device
 * attached at its RID behind intel-iommu: the MSI window is reserved
 * (IOAPIC_RANGE_START..END), and nothing above the 48-bit aperture. */
static void reserve_msi_window(void) {
        fx.rec.ranges[0] = (IovaRange) { 0, 0xfedfffff };
        fx.rec.ranges[1] = (IovaRange) { 0xfef00000, (UINT64_C(1) << 48) - 1 };
        fx.rec.n_ranges = 2;
}

Test(memory, iova_ranges_a_space_mapping_outside_them_is_refused_before_anything_is_mapped) {
        Client *cl = new_client(1000);
        IovaRange gap;
        Region *r;
        Space *s;

        reserve_msi_window();
        cr_assert_eq(region_new(cl, 0x10000, 0, 0x20000, ACCESS_ALL, NULL, -1, &r), 0);
        cr_assert_eq(space_new(cl, &s), 0);
        cr_assert_eq(s->io.n_ranges, 2, "asked at allocation");
        cr_assert_eq(space_map(s, r, 0, 0xfee00000, 0x10000, ACCESS_ALL), -EINVAL, "in the MSI window");
        cr_assert_eq(space_map(s, r, 0, 0xfedff000, 0x2000, ACCESS_ALL), -EINVAL, "running into it");
        cr_assert_eq(space_map(s, r, 0, UINT64_C(1) << 48, 0x1000, ACCESS_ALL), -EINVAL, "past the aperture");
        cr_assert_eq(recorder_count(&fx.rec, "map"), 0, "nothing was mapped");
        cr_assert(list_empty(&s->io.mappings));
        cr_assert_eq(iodomain_check_iovas(&s->io, 0xfedff000, 0x2000, &gap), -EINVAL);
        cr_assert(gap.start == 0xfee00000 && gap.last == 0xfeefffff, "the range is named: %" PRIx64 "-%" PRIx64,
                  gap.start, gap.last);
        cr_assert_eq(iodomain_check_iovas(&s->io, UINT64_C(1) << 48, 0x1000, &gap), -EINVAL);
        cr_assert(gap.start == UINT64_C(1) << 48 && gap.last == UINT64_MAX);
        cr_assert_eq(space_map(s, r, 0, 0xfef00000, 0x10000, ACCESS_ALL), 0, "right after it is fine");
        cr_assert_eq(space_map(s, r, 0x10000, 0xfed00000, 0x10000, ACCESS_ALL), 0, "and right before");
}

Test(memory, iova_ranges_are_asked_again_after_every_attach_and_detach) {
        Client *cl = new_client(1000);
        Space *s;
        long at, det;

        reserve_msi_window();
        claim_ok(cl, DEV_PRI);
        cr_assert_eq(space_new(cl, &s), 0);
        cr_assert_eq(space_attach(s, dev(DEV_PRI), PASID_NONE), 0);
        at = log_at("attach 0000:00:02.0");
        cr_assert_eq(recorder_find(&fx.rec, "iova_ranges", (size_t)at), at + 1, "right after the attach");
        cr_assert_eq(space_detach(s, dev(DEV_PRI), PASID_NONE), 0);
        det = log_at("detach 0000:00:02.0");
        cr_assert_eq(recorder_find(&fx.rec, "iova_ranges", (size_t)det), det + 1, "and the detach");
}

/* SVA maps regions at the client's own addresses: one there is refused
 * with the range named, whether shared after a pinned bind or faulted in. */
Test(memory, iova_ranges_a_region_in_a_reserved_range_is_not_shared_into_a_pinned_domain) {
        Client *cl = new_client(1000);
        Region *r = NULL;
        IovaRange gap;
        Bond *b;

        reserve_msi_window();
        claim_ok(cl, DEV_NOPRI);
        b = bind_ok(cl, DEV_NOPRI);
        cr_assert_eq(region_new(cl, 0xfee00000, 0, 0x1000, ACCESS_ALL, NULL, -1, &r), -EINVAL);
        cr_assert_null(r);
        cr_assert(list_empty(&cl->regions));
        cr_assert_eq(cl->used[RES_BYTES], 0);
        cr_assert_eq(recorder_count(&fx.rec, "map"), 0);
        cr_assert_eq(iodomain_check_iovas(&b->domain->io, 0xfee00000, 0x1000, &gap), -EINVAL);
        cr_assert_eq(gap.start, 0xfee00000);
}

Test(memory, iova_ranges_a_page_request_in_a_reserved_range_is_refused_and_hints_stop_before_it) {
        Client *cl = new_client(1000);
        FaultRecord rec = fault_rec(0, 0xfedff000, 5);
        FaultGroup *fg = NULL;
        Region *r;
        Bond *b;

        reserve_msi_window();
        claim_ok(cl, DEV_PRI);
        b = bind_ok(cl, DEV_PRI);
        cr_assert_eq(region_new(cl, 0xfed00000, 0, 0x200000, ACCESS_ALL, NULL, -1, &r), 0);
        rec.pasid = b->pasid;
        rec.flags |= FAULT_FLAG_PASID_VALID;
        rec.length = 0x10000;           /* a hint into the window */
        cr_assert_eq(fault_push(fx.core, 1, dev(DEV_PRI), &rec, 0, &fg), 0);
        cr_assert_eq(fault_group_resolve(fg), FAULT_SUCCESS);
        cr_assert_eq(recorder_count(&fx.rec, "map d1 iova=0xfedff000 len=0x1000"), 1, "stopped at the window");
        rec.addr = 0xfee00000;
        rec.cookie = 6;
        fg = NULL;
        cr_assert_eq(fault_push(fx.core, 1, dev(DEV_PRI), &rec, 0, &fg), 0);
        cr_assert_eq(fault_group_resolve(fg), FAULT_INVALID, "in the window");
        cr_assert_eq(recorder_count(&fx.rec, "map"), 1);
}
