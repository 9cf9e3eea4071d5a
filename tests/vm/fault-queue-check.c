/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fault-queue-check.c - inside the guest: what iommufd's fault queue does, which the daemon and the sim follow */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "daemon/backend/fault-abi.h"
#include "daemon/backend/kernel-uapi.h"
#include "daemon/backend/selftest-uapi.h"
#include "daemon/core/fault.h"

/*
 * On one of the kernel's mock devices (CONFIG_IOMMUFD_TEST), with our own
 * declarations of the ABI, the claims docs/faults.md makes of the kernel
 * (drivers/iommu/iommufd/eventq.c and device.c) and daemon/backend/sim-fault.c
 * copies: cookies given per group at read time, the lowest free from 1;
 * whole groups per read; a detach or replace answers the attachment's
 * groups, read or still queued, and forgets their cookies; a write stops at
 * the first cookie it does not know.
 */

static unsigned passed, failed;
static int iommufd, fault_fd;
static uint32_t stdev, idev;

#define CHECK(cond, ...) do {                                                   \
                if (cond) { printf("ok   "); passed++; } else { printf("FAIL "); failed++; } \
                printf(__VA_ARGS__);                                            \
                putchar('\n');                                                  \
        } while (0)

static int xioctl(unsigned long req, void *arg) {
        return ioctl(iommufd, req, arg) < 0 ? -errno : 0;
}

static int test_cmd(IommuTestCmd *cmd) {
        cmd->size = sizeof(*cmd);
        return xioctl(KIOMMU_TEST_CMD, cmd);
}

static ssize_t rd(IommuHwptPgfault *buf, size_t n) {
        ssize_t k = read(fault_fd, buf, n * sizeof(*buf));

        return k < 0 ? -errno : k / (ssize_t)sizeof(*buf);
}

/* Writes n responses; returns how many the kernel took, or -errno. */
static ssize_t wr(const uint32_t *cookies, size_t n) {
        IommuHwptPageResponse resp[8];
        ssize_t k;

        for (size_t i = 0; i < n; i++)
                resp[i] = (IommuHwptPageResponse) { .cookie = cookies[i], .code = FAULT_SUCCESS };
        k = write(fault_fd, resp, n * sizeof(resp[0]));
        return k < 0 ? -errno : k / (ssize_t)sizeof(resp[0]);
}

static int trigger(uint32_t pasid, uint32_t grpid) {
        IommuTestCmd cmd = { .op = KTEST_OP_TRIGGER_IOPF };

        cmd.trigger_iopf.dev_id = idev;
        cmd.trigger_iopf.pasid = pasid;
        cmd.trigger_iopf.grpid = grpid;
        cmd.trigger_iopf.perm = FAULT_PERM_READ;
        cmd.trigger_iopf.addr = KMOCK_APERTURE_START + grpid * 4096;
        return test_cmd(&cmd);
}

static int rid_replace(uint32_t hwpt) {
        IommuTestCmd cmd = { .op = KTEST_OP_MOCK_DOMAIN_REPLACE, .id = stdev };

        cmd.mock_domain_replace.pt_id = hwpt;
        return test_cmd(&cmd);
}

static int pasid_attach(uint32_t pasid, uint32_t hwpt) {
        IommuTestCmd cmd = { .op = KTEST_OP_PASID_ATTACH, .id = stdev };

        cmd.pasid_attach.pasid = pasid;
        cmd.pasid_attach.pt_id = hwpt;
        return test_cmd(&cmd);
}

static int pasid_detach(uint32_t pasid) {
        IommuTestCmd cmd = { .op = KTEST_OP_PASID_DETACH, .id = stdev };

        cmd.pasid_detach.pasid = pasid;
        return test_cmd(&cmd);
}

static int hwpt_alloc(uint32_t ioas, uint32_t flags, uint32_t fault_id, uint32_t *ret) {
        IommuHwptAlloc cmd = { .size = sizeof(cmd), .flags = flags, .dev_id = idev, .pt_id = ioas,
                               .fault_id = fault_id };
        int r = xioctl(KIOMMU_HWPT_ALLOC, &cmd);

        *ret = cmd.out_hwpt_id;
        return r;
}

/* A mock device on an IOAS, a fault queue, a HWPT reporting to it (the
 * daemon's kind: PASID-capable, FAULT_ID_VALID) and a park HWPT without. */
static int setup(uint32_t *ret_fault_hwpt, uint32_t *ret_park) {
        IommuIoasAlloc ioas = { .size = sizeof(ioas) };
        IommuTestCmd mock = { .op = KTEST_OP_MOCK_DOMAIN_FLAGS };
        IommuFaultAlloc fa = { .size = sizeof(fa) };
        int r;

        iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
        if (iommufd < 0)
                return -errno;
        if ((r = xioctl(KIOMMU_IOAS_ALLOC, &ioas)) < 0)
                return r;
        mock.id = ioas.out_ioas_id;
        mock.mock_domain_flags.dev_flags = KMOCK_FLAGS_DEVICE_PASID;
        if ((r = test_cmd(&mock)) < 0)
                return r;
        stdev = mock.mock_domain_flags.out_stdev_id;
        idev = mock.mock_domain_flags.out_idev_id;
        if ((r = xioctl(KIOMMU_FAULT_QUEUE_ALLOC, &fa)) < 0)
                return r;
        fault_fd = (int)fa.out_fault_fd;
        if ((r = hwpt_alloc(ioas.out_ioas_id, KIOMMU_HWPT_ALLOC_PASID | KIOMMU_HWPT_FAULT_ID_VALID,
                            fa.out_fault_id, ret_fault_hwpt)) < 0 ||
            (r = hwpt_alloc(ioas.out_ioas_id, KIOMMU_HWPT_ALLOC_PASID, 0, ret_park)) < 0)
                return r;
        return rid_replace(*ret_fault_hwpt);
}

/* A replace of the RID (how the selftest backend detaches a mock's RID). */
static void check_replace_answers(uint32_t park, uint32_t fhwpt) {
        IommuHwptPgfault buf[4];
        uint32_t c;

        CHECK(rd(buf, 4) == 0, "nothing queued: a read returns 0");
        CHECK(trigger(0, 1) == 0 && trigger(0, 2) == 0, "two page requests raised at the RID");
        CHECK(read(fault_fd, buf, 0) < 0 && errno == EINVAL, "a read with no room for the first group: EINVAL");
        CHECK(rd(buf, 1) == 1 && buf[0].grpid == 1 && (buf[0].flags & FAULT_FLAG_LAST_PAGE),
              "a read returns whole groups, as many as fit: the first");
        c = buf[0].cookie;
        CHECK(c == 1, "its cookie, given at read, is the lowest free from 1 (%u)", c);
        CHECK(rid_replace(park) == 0, "the RID replaced by a HWPT without the fault queue");
        CHECK(rd(buf, 4) == 0, "the replace answered the group still queued: nothing left to read");
        CHECK(wr(&c, 1) == -EINVAL, "an answer to the group it answered after we read it: EINVAL");
        CHECK(rid_replace(fhwpt) == 0, "the RID back on the fault HWPT");
}

/* Responses are taken in order up to the first unknown cookie. */
static void check_write_stops_at_the_first_refused(void) {
        IommuHwptPgfault buf[4];
        uint32_t first[3], rest[2];

        CHECK(trigger(0, 3) == 0 && trigger(0, 4) == 0 && trigger(0, 5) == 0, "three page requests raised");
        CHECK(rd(buf, 4) == 3, "all three read");
        CHECK(buf[0].cookie == 1 && buf[1].cookie == 2 && buf[2].cookie == 3,
              "cookies reused as soon as answered, lowest first (%u %u %u)", buf[0].cookie, buf[1].cookie,
              buf[2].cookie);
        first[0] = buf[0].cookie, first[1] = 99, first[2] = buf[1].cookie;
        CHECK(wr(first, 3) == 1, "a write stops at the first cookie it does not know, after taking one");
        rest[0] = 99, rest[1] = buf[1].cookie;
        CHECK(wr(rest, 2) == -EINVAL, "a write that starts with it takes nothing: EINVAL");
        rest[0] = buf[1].cookie, rest[1] = buf[2].cookie;
        CHECK(wr(rest, 2) == 2, "the rest, written again without it, is taken");
        CHECK(wr(rest, 1) == -EINVAL, "a second answer to a group: EINVAL");
}

/* A PASID detach answers that attachment's groups, and only its. */
static void check_pasid_detach_answers(uint32_t fhwpt) {
        IommuHwptPgfault buf[4];
        uint32_t rid = 0, pasid = 0;
        ssize_t n;

        CHECK(pasid_attach(7, fhwpt) == 0, "the fault HWPT attached at PASID 7 too");
        CHECK(trigger(7, 6) == 0 && trigger(0, 8) == 0, "a page request at PASID 7 and one at the RID");
        n = rd(buf, 4);
        CHECK(n == 2, "both read (%zd)", n);
        for (ssize_t i = 0; i < n; i++) {
                if (buf[i].flags & FAULT_FLAG_PASID_VALID)
                        pasid = buf[i].cookie;
                else
                        rid = buf[i].cookie;
        }
        CHECK(pasid && rid, "one has PASID_VALID (PASID %u), one not", n == 2 ? buf[0].pasid | buf[1].pasid : 0);
        CHECK(pasid_detach(7) == 0, "PASID 7 detached");
        CHECK(wr(&pasid, 1) == -EINVAL, "an answer to the detached PASID's request: EINVAL");
        CHECK(wr(&rid, 1) == 1, "the RID's request, another attachment's, still takes its answer");
}

int main(void) {
        uint32_t fhwpt = 0, park = 0;
        int r = setup(&fhwpt, &park);

        CHECK(r == 0, "a mock device, a fault queue and a HWPT reporting to it (%s)", r ? strerror(-r) : "ok");
        if (r == 0) {
                check_replace_answers(park, fhwpt);
                check_write_stops_at_the_first_refused();
                check_pasid_detach_answers(fhwpt);
        }
        printf("fault-queue: %u passed, %u failed\n", passed, failed);
        return failed ? 1 : 0;
}
