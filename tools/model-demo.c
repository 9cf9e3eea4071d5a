/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* model-demo.c - walks the core model through the built-in topology and narrates it */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "daemon/backend/recorder.h"
#include "daemon/backend/topology.h"
#include "daemon/core/bond.h"
#include "daemon/core/client.h"
#include "daemon/core/device.h"
#include "daemon/core/fault.h"
#include "daemon/core/group.h"
#include "daemon/core/pasid.h"
#include "daemon/core/region.h"

/*
 * This is the model alone, driven in-process with the recorder backend: it
 * shows what the daemon will decide. Every backend operation the model asks
 * for is printed as it happens, indented.
 */

static void print_op(void *ud, RecorderOp op, const char *line) {
        printf("      backend: %s\n", line);
}

static void list_groups(Core *c) {
        Device *d;

        printf("  %-14s %-6s %-10s %-8s %-6s %s\n", "DEVICE", "GROUP", "OWNERSHIP", "DRIVER", "PASID", "PRI");
        list_for_each_entry(d, &c->devices, core_link)
                printf("  %-14s %-6" PRIu32 " %-10s %-8s %-6s %s\n", d->name, d->group->id,
                       ownership_to_string(group_ownership(d->group)),
                       d->driver ? d->driver : "-",
                       d->pasid_capable ? "yes" : "no", d->pri_capable ? "yes" : "no");
}

static int step(const char *what, int r) {
        printf("  -> %s: %s\n", what, r < 0 ? strerror(-r) : "ok");
        return r;
}

int main(void) {
        ClientIdentity alice = { .uid = 1000, .gid = 1000, .pid = 4242, .name = ":1.7" };
        Recorder rec;
        Core *c = NULL;
        Client *cl;
        Bond *b = NULL;
        Region *r;
        FaultGroup *fg;
        FaultRecord fr;
        uint32_t pasid;
        uint64_t id;

        recorder_init(&rec);
        rec.hook = print_op;
        if (core_new(&c, &recorder_ops, &rec) < 0 ||
            topology_load(c, sim_default_topology, sim_default_topology_size) < 0) {
                fprintf(stderr, "model-demo: cannot build the topology\n");
                return 1;
        }

        printf("== iommud model demo: the core on the built-in topology ==\n\n");
        printf("1. The devices and their groups:\n");
        list_groups(c);

        printf("\n2. Client uid 1000 (%s) claims group 2, where e1000e is bound:\n", alice.name);
        if (client_new(c, &alice, NULL, &cl) < 0)
                return 1;
        step("claim without DETACH_KERNEL_DRIVERS", group_claim(core_find_group(c, 2), cl, 0));
        step("claim with DETACH_KERNEL_DRIVERS",
             group_claim(core_find_group(c, 2), cl, CLAIM_DETACH_KERNEL_DRIVERS));

        printf("\n3. A kernel driver tries to probe into the user-owned group:\n");
        step("probe e1000e on 0000:00:03.1 (DMA API)",
             device_probe_driver(core_find_device(c, "0000:00:03.1"), "e1000e", false));

        printf("\n4. It claims group 1 and binds the PASID+PRI device (SVA):\n");
        step("claim group 1", group_claim(core_find_group(c, 1), cl, 0));
        step("AllocPasid", client_get_pasid(cl, &pasid));
        printf("     PASID %" PRIu32 "\n", pasid);
        step("share 16 KiB at 0x7f0000000000",
             region_new(cl, UINT64_C(0x7f0000000000), 0, 0x4000, ACCESS_ALL, NULL, -1, &r));
        step("BindSva 0000:00:02.0", bond_bind(cl, core_find_device(c, "0000:00:02.0"), &b));

        printf("\n5. The device faults on an address of the client; the group is pending:\n");
        fr = (FaultRecord) { .flags = FAULT_FLAG_PASID_VALID | FAULT_FLAG_LAST_PAGE,
                             .pasid = pasid, .perm = FAULT_PERM_WRITE,
                             .addr = UINT64_C(0x7f0000001000), .length = 4096, .cookie = 1 };
        step("page request cookie 1", fault_push(c, 1, b->device, &fr, 0, &fg));
        printf("     pending groups: %u\n", fault_table_pending(c->faults));

        printf("\n6. The client exits without cleaning up: everything is released,\n"
               "   DMA stopped first, the drivers put back, the PASID freed last:\n");
        id = cl->id;
        step("client exit", client_release(c, id));
        printf("     PASIDs in use: %" PRIu32 ", pending faults: %u\n",
               pasid_pool_count(c->pasids), fault_table_pending(c->faults));

        printf("\n7. The devices and their groups again:\n");
        list_groups(c);

        core_free(c);
        recorder_done(&rec);
        printf("\n(The D-Bus daemon, iommud, drives this same model; see README.)\n");
        return 0;
}
