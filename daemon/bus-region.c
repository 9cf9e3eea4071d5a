/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bus-region.c - ShareMemory() and org.iommud1.Region objects at /org/iommud1/region/N */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "daemon/core/client.h"
#include "daemon/core/domain.h"
#include "daemon/core/region.h"
#include "daemon.h"

SharedMemory *shared_memory_free(SharedMemory *sm) {
        if (!sm)
                return NULL;
        list_del_init(&sm->link);
        if (sm->map && sm->map != MAP_FAILED)
                munmap(sm->map, sm->map_len);
        if (sm->fd >= 0)
                close(sm->fd);
        free(sm);
        return NULL;
}

DEFINE_POINTER_CLEANUP(SharedMemory, shared_memory_free)

/*
 * Only memory the daemon can touch without a SIGBUS is accepted. A page of
 * the mapping that the kernel cannot supply when the daemon reads or writes
 * it (the sim's DMA, the selftest's checks) is a SIGBUS, which kills the
 * daemon and every client with it. So:
 *  - the fd must be shmem, i.e. a regular memfd: hugetlbfs (MFD_HUGETLB)
 *    hands out pages from a fixed pool, and a client that punches a hole
 *    (which drops the daemon's reservation) and takes the page elsewhere
 *    leaves the daemon's next touch with none; files of other file systems
 *    can be truncated or fail I/O;
 *  - the memfd must stay at least as long as the range we map: a shrink
 *    would do the same. So it is sealed against shrinking (by us, if the
 *    client has not), and refused if it cannot be.
 * What remains is what no client can cause: a swap-in that fails with an
 * I/O error, or memory the hardware reports broken (docs/dbus-api.md).
 * Memfds live on the kernel's internal shm mount, which has no size limit,
 * so a fault there never fails for lack of room (it can only wait for
 * memory, or end in the OOM killer, as any allocation can).
 */
static int check_memfd(int fd, uint64_t offset, uint64_t length, unsigned access, sd_bus_error *error) {
        struct statfs sfs;
        struct stat st;
        int seals;

        if (fstatfs(fd, &sfs) < 0)
                return -errno;
        if (sfs.f_type == HUGETLBFS_MAGIC)
                return bus_error_set(error, -EINVAL, "The memfd holds huge pages (MFD_HUGETLB), which the "
                                     "kernel may fail to supply when iommud touches them; create it with "
                                     "memfd_create(name, MFD_ALLOW_SEALING), without MFD_HUGETLB.");
        if (sfs.f_type != TMPFS_MAGIC)
                return bus_error_set(error, -EINVAL, "The fd is not a memfd; create the memory with "
                                     "memfd_create(name, MFD_ALLOW_SEALING).");
        seals = fcntl(fd, F_GET_SEALS);
        if (seals < 0)
                return bus_error_set(error, -EINVAL, "The fd is not a memfd; create the memory with "
                                     "memfd_create(name, MFD_ALLOW_SEALING).");
        if (!(seals & F_SEAL_SHRINK) && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) < 0)
                return bus_error_set(error, -EINVAL, "The memfd cannot be sealed against shrinking (it was "
                                     "made without MFD_ALLOW_SEALING, or sealed with F_SEAL_SEAL); create it "
                                     "with MFD_ALLOW_SEALING, or add F_SEAL_SHRINK yourself.");
        if ((access & IOMMUD_ACCESS_WRITE) && (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)))
                return bus_error_set(error, -EINVAL, "The memfd is sealed against writes, so a device "
                                     "cannot be given write access; share it read-only (access 1).");
        if (fstat(fd, &st) < 0)
                return -errno;
        if (offset > (uint64_t)st.st_size || length > (uint64_t)st.st_size - offset)
                return bus_error_set(error, -EINVAL, "The memfd holds %jd bytes; offset 0x%" PRIx64
                                     " + length 0x%" PRIx64 " runs past its end.", (intmax_t)st.st_size,
                                     offset, length);
        return 0;
}

static int check_args(uint64_t address, uint64_t offset, uint64_t length, unsigned access,
                      sd_bus_error *error) {
        if (!page_aligned(address) || !page_aligned(offset) || !page_aligned(length) || length == 0)
                return bus_error_set(error, -EINVAL, "address 0x%" PRIx64 ", offset 0x%" PRIx64 " and "
                                     "length 0x%" PRIx64 " must be non-zero multiples of 4096.",
                                     address, offset, length);
        if (access == 0 || (access & ~IOMMUD_ACCESS_ALL))
                return bus_error_set(error, -EINVAL, "access %u: use 1 (read), 2 (write) or 3 (both).",
                                     access);
        if (address + length < address)
                return bus_error_set(error, -EINVAL, "address + length wraps around.");
        return 0;
}

static int share_error(BusClient *bc, int r, uint64_t address, uint64_t length, sd_bus_error *error) {
        SvaDomain *sd;

        if (r == -EEXIST)
                return bus_error_set(error, r, "That range overlaps memory you already shared; remove it "
                                     "first or share a range beside it.");
        if (r == -EDQUOT)
                return bus_error_quota(error, bc->client);
        if (r == -EINVAL)
                list_for_each_entry(sd, &bc->client->sva_domains, client_link)
                        if (sd->pinned && bus_error_iovas(error, &sd->io, address, length, "SVA maps shared "
                                                          "memory at your own addresses: share memory you "
                                                          "mapped at another address") < 0)
                                return -EINVAL;
        return bus_error_set(error, r, "Sharing failed: %s.", daemon_backend_error(bc->daemon, r));
}

int method_share_memory(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        /* Declared first, cleaned up last: after sm, which may not be the client's. */
        _cleanup_(bus_caller_done) BusCaller caller = BUS_CALLER_NULL;
        _cleanup_(shared_memory_freep) SharedMemory *sm = NULL;
        _cleanup_(freep) char *path = NULL;
        uint64_t address, offset, length;
        Daemon *d = bus_daemon(m);
        unsigned access;
        BusClient *bc;
        Region *reg;
        int fd, r;

        r = sd_bus_message_read(m, "htttu", &fd, &address, &offset, &length, &access);
        if (r < 0)
                return r;
        r = check_args(address, offset, length, access, error);
        if (r < 0)
                return r;
        r = bus_client_authorized(d, m, &caller, POLICY_SHARE_MEMORY, NULL, &bc, error);
        if (r < 0)
                return r;

        sm = calloc(1, sizeof(*sm));
        if (!sm)
                return -ENOMEM;
        list_init(&sm->link);
        sm->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (sm->fd < 0)
                return -errno;
        r = check_memfd(sm->fd, offset, length, access, error);
        if (r < 0)
                return r;
        sm->map_len = length;
        sm->map = mmap(NULL, length, PROT_READ | (access & IOMMUD_ACCESS_WRITE ? PROT_WRITE : 0), MAP_SHARED,
                       sm->fd, (off_t)offset);
        if (sm->map == MAP_FAILED)
                return bus_error_set(error, -EINVAL, "Cannot map the memfd: %s.", strerror(errno));

        r = region_new(bc->client, address, offset, length, access, sm->map, sm->fd, &reg);
        if (r < 0)
                return share_error(bc, r, address, length, error);
        /* The region points into sm's mapping: sm is the client's from now on. */
        sm->region_id = reg->id;
        list_add_tail(&bc->shared, &TAKE_PTR(sm)->link);
        audit_share(&bc->id, reg->id, address, length, access);
        r = object_path_for_id(IOMMUD_REGION_PREFIX, reg->id, &path);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(m, "o", path);
}

/* The vtable's userdata is the Region (owned by its client, core/region.h). */
static const ClientObjects regions = CLIENT_OBJECTS(IOMMUD_REGION_PREFIX, Region, regions, regions_by_id);

static int region_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                       void **found, sd_bus_error *error) {
        return bus_find_client_object(userdata, &regions, path, found);
}

static int region_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes,
                            sd_bus_error *error) {
        return bus_enumerate_client_objects(userdata, &regions, nodes);
}

static int method_remove(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Region *reg = userdata;
        uint64_t id = reg->id;
        SharedMemory *sm;
        BusClient *bc;
        int r;

        r = bus_check_owner(m, reg->client, "Region", id, "remove", &bc, error);
        if (r < 0)
                return r;
        r = region_remove(reg);
        if (r == -EBUSY)
                return bus_error_set(error, r, "Region %" PRIu64 " is mapped in a space; unmap it there "
                                     "first.", id);
        if (r < 0)
                return r;
        list_for_each_entry(sm, &bc->shared, link)
                if (sm->region_id == id) {
                        shared_memory_free(sm);
                        break;
                }
        return sd_bus_reply_method_return(m, NULL);
}

_Static_assert(sizeof(((Region *)NULL)->access) == sizeof(uint32_t), "Access is a \"u\"");

const sd_bus_vtable region_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Address", "t", NULL, offsetof(Region, address), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Offset", "t", NULL, offsetof(Region, offset), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Length", "t", NULL, offsetof(Region, length), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Access", "u", NULL, offsetof(Region, access), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Owner", "s", bus_property_get_owner, offsetof(Region, client),
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_METHOD("Remove", "", "", method_remove, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

int bus_region_register(Daemon *d) {
        return bus_add_objects(d, IOMMUD_REGION_PREFIX, IOMMUD_REGION_INTERFACE, region_vtable, region_find,
                               region_enumerate);
}
