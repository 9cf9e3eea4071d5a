/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* map-client.c - a client process: a space on one device, mapped and attached in a chosen order */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

/*
 * usage: map-client GROUP DEVICE IOVA STEPS
 *
 * On one bus connection (a claim lasts as long as it): claims GROUP with
 * DETACH_KERNEL_DRIVERS, shares a 64 KiB memfd, creates a space, then does
 * STEPS in order, each letter one call: `a` attaches the space at DEVICE's
 * RID, `m` maps the region at IOVA. Prints one line per call, "NAME ok" or
 * "NAME ERROR-NAME: MESSAGE" (the D-Bus error as iommud sent it: iommuctl
 * prints only the message), then "mappings N" and "ranges FIRST-LAST ..."
 * (the space's IovaRanges after the last call). Exits 0 when it could run
 * the calls, whatever they answered; 1 when the set-up failed.
 * The VM lane and the integration tests both use it.
 */

#define DEST "org.iommud1"
#define PATH "/org/iommud1"
#define SIZE (64u * 1024u)

static sd_bus *bus;

static void report(const char *name, int r, const sd_bus_error *e) {
        if (r >= 0)
                printf("%s ok\n", name);
        else
                printf("%s %s: %s\n", name, e->name ? e->name : strerror(-r), e->message ? e->message : "");
}

static int setup(uint32_t group, char **ret_space, char **ret_region) {
        sd_bus_message *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        const char *path;
        void *mem;
        int fd, r;

        fd = memfd_create("map-client", MFD_ALLOW_SEALING);
        if (fd < 0 || ftruncate(fd, SIZE) < 0)
                return -errno;
        mem = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (mem == MAP_FAILED)
                return -errno;
        r = sd_bus_call_method(bus, DEST, PATH, "org.iommud1.Manager", "ClaimGroup", &e, NULL, "ut", group,
                               (uint64_t)1);
        report("claim", r, &e);
        sd_bus_error_free(&e);
        if (r >= 0)
                r = sd_bus_call_method(bus, DEST, PATH, "org.iommud1.Manager", "ShareMemory", &e, &reply,
                                       "htttu", fd, (uint64_t)(uintptr_t)mem, (uint64_t)0, (uint64_t)SIZE, 3u);
        if (r >= 0 && sd_bus_message_read(reply, "o", &path) >= 0)
                *ret_region = strdup(path);
        reply = sd_bus_message_unref(reply);
        if (r >= 0)
                r = sd_bus_call_method(bus, DEST, PATH, "org.iommud1.Manager", "CreateSpace", &e, &reply, "");
        if (r >= 0 && sd_bus_message_read(reply, "o", &path) >= 0)
                *ret_space = strdup(path);
        sd_bus_message_unref(reply);
        if (r < 0)
                report("setup", r, &e);
        sd_bus_error_free(&e);
        return r < 0 ? r : *ret_space && *ret_region ? 0 : -ENOMEM;
}

static void print_state(const char *space) {
        sd_bus_message *reply = NULL;
        uint64_t a, b, c;
        unsigned n = 0;
        const char *o;
        unsigned u;

        if (sd_bus_get_property(bus, DEST, space, "org.iommud1.Space", "Mappings", NULL, &reply, "a(ttotu)") >= 0 &&
            sd_bus_message_enter_container(reply, 'a', "(ttotu)") >= 0)
                while (sd_bus_message_read(reply, "(ttotu)", &a, &b, &o, &c, &u) > 0)
                        n++;
        reply = sd_bus_message_unref(reply);
        printf("mappings %u\nranges", n);
        if (sd_bus_get_property(bus, DEST, space, "org.iommud1.Space", "IovaRanges", NULL, &reply, "a(tt)") >= 0 &&
            sd_bus_message_enter_container(reply, 'a', "(tt)") >= 0)
                while (sd_bus_message_read(reply, "(tt)", &a, &b) > 0)
                        printf(" 0x%" PRIx64 "-0x%" PRIx64, a, b);
        printf("\n");
        sd_bus_message_unref(reply);
}

int main(int argc, char **argv) {
        char *space = NULL, *region = NULL;
        uint64_t iova;

        if (argc != 5) {
                fprintf(stderr, "usage: map-client GROUP DEVICE IOVA STEPS (a: attach at the RID, m: map)\n");
                return 2;
        }
        iova = strtoull(argv[3], NULL, 0);
        if (sd_bus_open_system(&bus) < 0 || setup((uint32_t)strtoul(argv[1], NULL, 0), &space, &region) < 0)
                return 1;
        for (const char *s = argv[4]; *s; s++) {
                sd_bus_error e = SD_BUS_ERROR_NULL;
                int r;

                if (*s == 'a') {
                        r = sd_bus_call_method(bus, DEST, space, "org.iommud1.Space", "Attach", &e, NULL, "su",
                                               argv[2], 0u);
                        report("attach", r, &e);
                } else {
                        r = sd_bus_call_method(bus, DEST, space, "org.iommud1.Space", "Map", &e, NULL, "otttu",
                                               region, (uint64_t)0, iova, (uint64_t)SIZE, 3u);
                        report("map", r, &e);
                }
                sd_bus_error_free(&e);
        }
        print_state(space);
        fflush(stdout);
        sd_bus_flush_close_unref(bus);
        free(space);
        free(region);
        return 0;
}
