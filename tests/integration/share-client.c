/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* share-client.c - a client process: shares a memfd, binds, and checks device DMA in its own pages */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#define DEST "org.iommud1"
#define PATH "/org/iommud1"
#define PRI "0000:00:02.0"
#define NOPRI "0000:00:04.0"
#define PAGE 4096u

static sd_bus *bus;
static unsigned passed, failed;

#define CHECK(cond, ...) do {                                   \
                if (cond) {                                     \
                        passed++;                               \
                } else {                                        \
                        failed++;                               \
                        fprintf(stderr, "FAIL %s:%d: ", __func__, __LINE__); \
                        fprintf(stderr, __VA_ARGS__);           \
                        fputc('\n', stderr);                    \
                }                                               \
        } while (0)

/* A Simulator.Dma(); on error returns its name, else NULL and fills out. */
static const char *dma(const char *dev, uint32_t pasid, uint64_t addr, uint32_t len, int write,
                       const void *data, void *out) {
        static char name[256];
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *m = NULL, *reply = NULL;
        const void *got;
        size_t n;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, DEST, PATH, "org.iommud1.Simulator", "Dma");
        if (r >= 0)
                r = sd_bus_message_append(m, "sutub", dev, pasid, addr, len, write);
        if (r >= 0)
                r = sd_bus_message_append_array(m, 'y', write ? data : "", write ? len : 0);
        if (r >= 0)
                r = sd_bus_call(bus, m, 0, &e, &reply);
        sd_bus_message_unref(m);
        if (r < 0) {
                snprintf(name, sizeof(name), "%s", e.name ? e.name : strerror(-r));
                sd_bus_error_free(&e);
                return name;
        }
        if (out && sd_bus_message_read_array(reply, 'y', &got, &n) >= 0 && n == len)
                memcpy(out, got, n);
        sd_bus_message_unref(reply);
        return NULL;
}

static uint64_t device_counter(const char *dev, const char *prop) {
        char *path = NULL;
        uint64_t v = UINT64_MAX;

        if (sd_bus_path_encode(PATH "/device", dev, &path) >= 0)
                sd_bus_get_property_trivial(bus, DEST, path, "org.iommud1.Device", prop, NULL, 't', &v);
        free(path);
        return v;
}

static void *share(size_t size, unsigned access, int seal_shrink_off, int *ret_fd) {
        int fd = memfd_create("share-client", seal_shrink_off ? 0 : MFD_ALLOW_SEALING);
        void *p;

        if (fd < 0 || ftruncate(fd, (off_t)size) < 0)
                return NULL;
        p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED)
                return NULL;
        memset(p, 0, size);
        *ret_fd = fd;
        return p;
}

static int share_call(int fd, void *addr, uint64_t len, unsigned access, const char **err) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        int r = sd_bus_call_method(bus, DEST, PATH, "org.iommud1.Manager", "ShareMemory", &e, NULL,
                                   "htttu", fd, (uint64_t)(uintptr_t)addr, (uint64_t)0, len, access);
        static char msg[512];

        snprintf(msg, sizeof(msg), "%s: %s", e.name ? e.name : "", e.message ? e.message : "");
        *err = msg;
        sd_bus_error_free(&e);
        return r;
}

static uint32_t claim_and_bind(uint32_t group, const char *dev) {
        sd_bus_message *reply = NULL;
        uint32_t pasid = 0;
        const char *path;

        sd_bus_call_method(bus, DEST, PATH, "org.iommud1.Manager", "ClaimGroup", NULL, NULL, "ut", group,
                           (uint64_t)0);
        if (sd_bus_call_method(bus, DEST, PATH, "org.iommud1.Manager", "BindSva", NULL, &reply, "s", dev) >= 0)
                sd_bus_message_read(reply, "ou", &path, &pasid);
        sd_bus_message_unref(reply);
        return pasid;
}

/* The proof: a device write at an unmapped address inside the region
 * lands in this process's own pages; outside the region it faults. */
static void test_pri_write_lands_in_client_pages(void) {
        uint8_t pattern[64], back[64];
        const char *err;
        uint32_t pasid;
        uint8_t *mem;
        int fd;

        for (unsigned i = 0; i < sizeof(pattern); i++)
                pattern[i] = (uint8_t)(0xa5 ^ i);
        mem = share(16 * PAGE, 3, 0, &fd);
        CHECK(mem, "memfd");
        pasid = claim_and_bind(1, PRI);
        CHECK(pasid > 0, "bound with a PASID");
        CHECK(share_call(fd, mem, 16 * PAGE, 3, &err) >= 0, "ShareMemory: %s", err);

        CHECK(!dma(PRI, pasid, (uintptr_t)mem + 3 * PAGE + 16, 64, 1, pattern, NULL), "DMA write in region");
        CHECK(memcmp(mem + 3 * PAGE + 16, pattern, 64) == 0, "the pattern is in the client's own mapping");
        CHECK(device_counter(PRI, "FaultsResolved") == 1, "one page request served: %" PRIu64,
              device_counter(PRI, "FaultsResolved"));
        CHECK(!dma(PRI, pasid, (uintptr_t)mem + 3 * PAGE + 16, 64, 0, NULL, back), "DMA read back");
        CHECK(memcmp(back, pattern, 64) == 0, "read back what was written");
        CHECK(device_counter(PRI, "FaultsResolved") == 1, "no second fault for a mapped page");

        /* The page after the region: this client has shared nothing else yet. */
        err = dma(PRI, pasid, (uintptr_t)mem + 16 * PAGE + 16, 64, 1, pattern, NULL);
        CHECK(err && strcmp(err, "org.iommud1.Error.DmaFault") == 0, "write outside: %s", err ? err : "ok");
        CHECK(device_counter(PRI, "FaultsRefused") == 1, "refused once");
        err = dma(PRI, pasid, (uintptr_t)mem + 16 * PAGE + 16, 64, 0, NULL, back);
        CHECK(err && device_counter(PRI, "FaultsRefused") == 2, "still not mapped: faults again");

        /* Three unmapped pages in one DMA: one multi-page group. */
        memset(mem, 0, 16 * PAGE);
        uint8_t *big = malloc(3 * PAGE);
        memset(big, 0x5a, 3 * PAGE);
        CHECK(!dma(PRI, pasid, (uintptr_t)mem + 8 * PAGE, 3 * PAGE, 1, big, NULL), "multi-page DMA");
        CHECK(mem[8 * PAGE] == 0x5a && mem[11 * PAGE - 1] == 0x5a, "all three pages written");
        free(big);
}

static void test_read_only_region_refuses_writes(void) {
        const char *err;
        uint8_t b[8] = { 1 }, back[8];
        uint8_t *ro;
        int fd;
        uint32_t pasid = claim_and_bind(1, PRI);

        ro = share(PAGE, 1, 0, &fd);
        ro[0] = 42;
        CHECK(share_call(fd, ro, PAGE, 1, &err) >= 0, "share read-only: %s", err);
        err = dma(PRI, pasid, (uintptr_t)ro, 8, 1, b, NULL);
        CHECK(err && strstr(err, "DmaFault"), "write to read-only: %s", err ? err : "ok");
        CHECK(!dma(PRI, pasid, (uintptr_t)ro, 8, 0, NULL, back) && back[0] == 42, "read it");
}

static void test_memfd_checks(void) {
        const char *err;
        uint8_t *m;
        int fd;

        m = share(PAGE, 3, 1, &fd);     /* without MFD_ALLOW_SEALING */
        CHECK(share_call(fd, m, PAGE, 3, &err) < 0 && strstr(err, "MFD_ALLOW_SEALING"), "unsealable: %s", err);
        m = share(PAGE, 3, 0, &fd);
        CHECK(share_call(fd, m, 2 * PAGE, 3, &err) < 0 && strstr(err, "runs past its end"), "too long: %s", err);
        CHECK(share_call(fd, m + 1, PAGE, 3, &err) < 0 && strstr(err, "multiples of 4096"), "unaligned: %s",
              err);
        CHECK(share_call(fd, m, PAGE, 3, &err) >= 0, "share: %s", err);
        CHECK(ftruncate(fd, 0) < 0 && errno == EPERM, "the daemon sealed it against shrinking");
        CHECK(share_call(fd, m, PAGE, 3, &err) < 0 && strstr(err, "overlaps"), "overlap: %s", err);
        CHECK(share_call(0, m + 8 * PAGE, PAGE, 3, &err) < 0 && strstr(err, "not a memfd"), "stdin: %s", err);
}

static void test_no_pri_device_is_pinned(void) {
        uint8_t b[16] = { 7 }, back[16];
        const char *err;
        uint8_t *m;
        int fd;
        uint32_t pasid = claim_and_bind(3, NOPRI);

        m = share(4 * PAGE, 3, 0, &fd);
        CHECK(share_call(fd, m, 4 * PAGE, 3, &err) >= 0, "share: %s", err);
        CHECK(!dma(NOPRI, pasid, (uintptr_t)m + PAGE, 16, 1, b, NULL), "pinned: no fault needed");
        CHECK(m[PAGE] == 7, "landed");
        CHECK(device_counter(NOPRI, "FaultsReceived") == 0, "no page request from a device without PRI");
        /* Below mmap_min_addr: no region of ours can be there. */
        err = dma(NOPRI, pasid, PAGE, 16, 0, NULL, back);
        CHECK(err && strstr(err, "DmaFault"), "outside: fails at once");
        CHECK(device_counter(NOPRI, "FaultsReceived") == 0, "still no page request");
}

static void test_after_unbind_dma_fails(void) {
        sd_bus_message *reply = NULL;
        const char *path, *err;
        uint32_t pasid = 0;
        uint8_t back[8];
        uint8_t *m;
        int fd;

        m = share(PAGE, 3, 0, &fd);
        CHECK(share_call(fd, m, PAGE, 3, &err) >= 0, "share: %s", err);
        sd_bus_call_method(bus, DEST, PATH, "org.iommud1.Manager", "ClaimGroup", NULL, NULL, "ut", 4, (uint64_t)0);
        CHECK(sd_bus_call_method(bus, DEST, PATH, "org.iommud1.Manager", "BindSva", NULL, &reply, "s",
                                 "0000:00:05.0") >= 0, "bind small");
        sd_bus_message_read(reply, "ou", &path, &pasid);
        CHECK(!dma("0000:00:05.0", pasid, (uintptr_t)m, 8, 0, NULL, back), "works while bound");
        CHECK(sd_bus_call_method(bus, DEST, path, "org.iommud1.Bond", "Unbind", NULL, NULL, "") >= 0, "unbind");
        sd_bus_message_unref(reply);
        err = dma("0000:00:05.0", pasid, (uintptr_t)m, 8, 0, NULL, back);
        CHECK(err && strstr(err, "DmaFault"), "after the last unbind: %s", err ? err : "ok");
}

int main(void) {
        if (sd_bus_open_system(&bus) < 0) {
                fprintf(stderr, "share-client: no bus\n");
                return 1;
        }
        test_pri_write_lands_in_client_pages();        /* first: nothing else shared */
        test_memfd_checks();
        test_read_only_region_refuses_writes();
        test_no_pri_device_is_pinned();
        test_after_unbind_dma_fails();
        printf("share-client: %u passed, %u failed\n", passed, failed);
        sd_bus_flush_close_unref(bus);
        return failed ? 1 : 0;
}
