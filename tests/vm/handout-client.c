/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* handout-client.c - the lane's user-space driver: drives a device iommud handed out, with the fds it got */
/*
 * usage: handout-client IOMMUFD_FD DEVICE_FD
 *
 * Run by `iommuctl ... + open DEV + iommufd + exec -- handout-client @iommufd
 * @fd:DEV` as an unprivileged uid: it does with the two inherited fds what a
 * DPDK-style driver does, against the kernel's own uapi headers (the build
 * kernel's usr/include), not iommud's declarations, so that nothing of ours
 * stands between the check and the kernel:
 *
 *   bind the cdev to the iommufd, allocate an IOAS, map a buffer, attach
 *   the device to the IOAS, read the vendor and device ids from config space
 *   and the STATUS register (offset 0x8 on e1000e) through BAR0, then try to
 *   attach to every object id it did not create and expect ENOENT for each:
 *   the context is its own, so the daemon's IOAS and other clients' objects
 *   do not exist in it.
 *
 * Prints one "ok ..." or "FAIL ..." line per step and ends with
 * "handout-client: N passed, N failed"; exits 0 only when nothing failed.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include <linux/vfio.h>

#define BUFFER_SIZE (64u * 1024u)
#define BUFFER_IOVA 0x100000ull
#define E1000_STATUS 0x8u
#define IDS_TRIED 64u

static unsigned passed, failed;

static bool check(bool ok, const char *what, const char *detail) {
        printf("%s %s%s%s\n", ok ? "ok  " : "FAIL", what, detail ? ": " : "", detail ? detail : "");
        if (ok)
                passed++;
        else
                failed++;
        return ok;
}

/* One ioctl as one check; the error, if any, is read before anything else runs. */
static bool step(int fd, unsigned long request, void *arg, const char *what) {
        int r = ioctl(fd, request, arg);

        return check(r == 0, what, r == 0 ? NULL : strerror(errno));
}

static int parse_fd(const char *s) {
        char *end;
        long v;

        errno = 0;
        v = strtol(s, &end, 10);
        if (errno || *end || v < 0 || v > 65535)
                return -1;
        return (int) v;
}

static bool read_at(int device, unsigned index, uint64_t at, void *buf, size_t n, char *err, size_t len) {
        struct vfio_region_info info = { .argsz = sizeof(info), .index = index };
        ssize_t r;

        if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &info) < 0) {
                snprintf(err, len, "VFIO_DEVICE_GET_REGION_INFO(%u): %s", index, strerror(errno));
                return false;
        }
        if (!(info.flags & VFIO_REGION_INFO_FLAG_READ) || info.size < at + n) {
                snprintf(err, len, "region %u is not readable at 0x%llx (flags 0x%x, size 0x%llx)", index,
                         (unsigned long long) at, info.flags, (unsigned long long) info.size);
                return false;
        }
        r = pread(device, buf, n, (off_t) (info.offset + at));
        if (r != (ssize_t) n) {
                snprintf(err, len, "pread of region %u at 0x%llx: %s", index, (unsigned long long) at,
                         r < 0 ? strerror(errno) : "short read");
                return false;
        }
        return true;
}

/* Every id below IDS_TRIED that is not one of ours must be unknown in this context. */
static void attach_to_foreign_ids(int device, const uint32_t *own, size_t n_own) {
        unsigned tried = 0, refused = 0;
        char detail[160] = "";

        for (uint32_t id = 0; id < IDS_TRIED; id++) {
                struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at), .pt_id = id };
                bool mine = false;

                for (size_t i = 0; i < n_own; i++)
                        mine |= own[i] == id;
                if (mine)
                        continue;
                tried++;
                int r = ioctl(device, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at) < 0 ? errno : 0;

                if (r == ENOENT)
                        refused++;
                else if (!detail[0])
                        snprintf(detail, sizeof(detail), "id %u answered %s", id, r ? strerror(r) : "success");
        }
        if (!detail[0])
                snprintf(detail, sizeof(detail), "%u of %u ids answered ENOENT", refused, tried);
        check(refused == tried, "attaching to an object id this context did not create fails with ENOENT", detail);
}

int main(int argc, char *argv[]) {
        struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
        struct iommu_ioas_alloc ioas = { .size = sizeof(ioas) };
        struct vfio_device_attach_iommufd_pt attach = { .argsz = sizeof(attach) };
        uint16_t ids[2];
        uint32_t status, own[3];
        char detail[256];
        void *buf;
        int ictx, device;

        if (argc != 3 || (ictx = parse_fd(argv[1])) < 0 || (device = parse_fd(argv[2])) < 0) {
                fprintf(stderr, "usage: handout-client IOMMUFD_FD DEVICE_FD (fd numbers, as iommuctl exec gives them)\n");
                return 2;
        }
        bind.iommufd = ictx;
        if (!step(device, VFIO_DEVICE_BIND_IOMMUFD, &bind, "VFIO_DEVICE_BIND_IOMMUFD binds the cdev to our iommufd") ||
            !step(ictx, IOMMU_IOAS_ALLOC, &ioas, "IOMMU_IOAS_ALLOC in our context"))
                goto out;
        buf = mmap(NULL, BUFFER_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (buf == MAP_FAILED) {
                check(false, "a buffer to map", strerror(errno));
                goto out;
        }
        memset(buf, 0x5a, BUFFER_SIZE);
        struct iommu_ioas_map map = {
                .size = sizeof(map),
                .flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE,
                .ioas_id = ioas.out_ioas_id,
                .user_va = (uintptr_t) buf,
                .length = BUFFER_SIZE,
                .iova = BUFFER_IOVA,
        };
        step(ictx, IOMMU_IOAS_MAP, &map, "IOMMU_IOAS_MAP of 64 KiB at IOVA 0x100000");
        attach.pt_id = ioas.out_ioas_id;
        if (!step(device, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach, "VFIO_DEVICE_ATTACH_IOMMUFD_PT to our IOAS"))
                goto out;
        /* The attach to an IOAS made a HWPT; the kernel wrote its id back. */
        own[0] = bind.out_devid, own[1] = ioas.out_ioas_id, own[2] = attach.pt_id;
        printf("  our objects: device %u, IOAS %u, HWPT %u\n", own[0], own[1], own[2]);

        if (read_at(device, VFIO_PCI_CONFIG_REGION_INDEX, 0, ids, sizeof(ids), detail, sizeof(detail)))
                snprintf(detail, sizeof(detail), "%04x:%04x", ids[0], ids[1]);
        check(ids[0] == 0x8086 && ids[1] == 0x10d3, "config space through the cdev says 8086:10d3 (e1000e)", detail);
        if (read_at(device, VFIO_PCI_BAR0_REGION_INDEX, E1000_STATUS, &status, sizeof(status), detail, sizeof(detail)))
                snprintf(detail, sizeof(detail), "STATUS 0x%08x", status);
        /* All ones is what a read of a device that does not answer gives;
         * zero would mean no link-speed, no duplex and no reset bits at all. */
        check(status != 0xffffffffu && status != 0, "BAR0 STATUS reads a plausible value", detail);

        attach_to_foreign_ids(device, own, 3);
out:
        printf("handout-client: %u passed, %u failed\n", passed, failed);
        return failed == 0 && passed > 0 ? 0 : 1;
}
