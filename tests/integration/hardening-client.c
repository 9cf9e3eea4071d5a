/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hardening-client.c - a client process for test-hardening.py: odd memfds and long names */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#define DEST "org.iommud1"
#define PATH "/org/iommud1"
#define MANAGER "org.iommud1.Manager"

static sd_bus *bus;

/* A memfd of `kind` and `length` bytes, mapped here (as a client would). */
static int make_memory(const char *kind, uint64_t length, void **ret_addr) {
        unsigned flags = MFD_CLOEXEC | MFD_ALLOW_SEALING;
        void *p;
        int fd, r;

        if (strcmp(kind, "hugetlb") == 0)
                flags |= MFD_HUGETLB;
        else if (strcmp(kind, "memfd") != 0) {
                fprintf(stderr, "setup: unknown kind %s (memfd, hugetlb)\n", kind);
                return -EINVAL;
        }
        fd = memfd_create("hardening-client", flags);
        if (fd < 0 || ftruncate(fd, (off_t)length) < 0) {
                r = -errno;
                fprintf(stderr, "setup: a %s of %" PRIu64 " bytes: %s\n", kind, length, strerror(-r));
                return r;
        }
        p = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED) {
                r = -errno;
                fprintf(stderr, "setup: mmap of the %s: %s\n", kind, strerror(-r));
                return r;
        }
        *ret_addr = p;
        return fd;
}

/* share KIND LENGTH: prints "reply PATH" or "error NAME: MESSAGE". */
static int verb_share(const char *kind, uint64_t length) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        const char *path = NULL;
        void *addr = NULL;
        int fd, r;

        fd = make_memory(kind, length, &addr);
        if (fd < 0)
                return 2;
        r = sd_bus_call_method(bus, DEST, PATH, MANAGER, "ShareMemory", &e, &reply, "htttu", fd,
                               (uint64_t)(uintptr_t)addr, (uint64_t)0, length, 3u);
        if (r < 0)
                printf("error %s: %s\n", e.name ? e.name : strerror(-r), e.message ? e.message : "");
        else if (sd_bus_message_read(reply, "o", &path) >= 0)
                printf("reply %s\n", path);
        sd_bus_error_free(&e);
        sd_bus_message_unref(reply);
        return 0;
}

static uint64_t now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * names FROM TO: BindSva() of a device named with N two-byte characters
 * ("\xc3\xa9", e acute) for each N from FROM to TO, each with a 3 s timeout.
 * Prints "N NAME MS" per call and the last message; stops at the first
 * call that gets no reply ("N TIMEOUT") and exits 1.
 */
static int verb_names(unsigned from, unsigned to) {
        char *name = malloc(2 * (size_t)to + 1), *last = NULL;
        int ret = 0;

        if (!name)
                return 2;
        for (unsigned n = from; n <= to; n++) {
                sd_bus_error e = SD_BUS_ERROR_NULL;
                sd_bus_message *m = NULL;
                uint64_t t0 = now_ms();
                int r;

                for (unsigned i = 0; i < n; i++)
                        memcpy(name + 2 * i, "\xc3\xa9", 2);
                name[2 * n] = '\0';
                r = sd_bus_message_new_method_call(bus, &m, DEST, PATH, MANAGER, "BindSva");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", name);
                if (r >= 0)
                        r = sd_bus_call(bus, m, 3 * 1000 * 1000, &e, NULL);
                sd_bus_message_unref(m);
                if (r >= 0 || !e.name || r == -ETIMEDOUT) {
                        /* No error reply: the call timed out (or, oddly, succeeded). */
                        printf("%u %s (%s)\n", n, r >= 0 ? "REPLY" : "TIMEOUT", strerror(r < 0 ? -r : 0));
                        sd_bus_error_free(&e);
                        ret = 1;
                        break;
                }
                printf("%u %s %" PRIu64 "\n", n, e.name, now_ms() - t0);
                free(last);
                last = strdup(e.message ? e.message : "");
                sd_bus_error_free(&e);
        }
        printf("last message: %s\n", last ? last : "");
        free(last);
        free(name);
        return ret;
}

int main(int argc, char **argv) {
        int r;

        if (argc < 2) {
                fprintf(stderr, "usage: hardening-client share KIND LENGTH | names FROM TO\n");
                return 2;
        }
        r = sd_bus_open_system(&bus);
        if (r < 0) {
                fprintf(stderr, "setup: cannot connect to the bus: %s\n", strerror(-r));
                return 2;
        }
        if (strcmp(argv[1], "share") == 0 && argc == 4)
                r = verb_share(argv[2], strtoull(argv[3], NULL, 0));
        else if (strcmp(argv[1], "names") == 0 && argc == 4)
                r = verb_names((unsigned)strtoul(argv[2], NULL, 0), (unsigned)strtoul(argv[3], NULL, 0));
        else {
                fprintf(stderr, "usage: hardening-client share KIND LENGTH | names FROM TO\n");
                r = 2;
        }
        fflush(stdout);
        sd_bus_flush_close_unref(bus);
        return r;
}
