/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hostile-client.c - client processes that try to stop or fool iommud (tests/integration/test-hostile.py) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

#define DEST "org.iommud1"
#define PATH "/org/iommud1"
#define MANAGER "org.iommud1.Manager"

/*
 * flood N MEMBER
 *   Opens N connections to the system bus at once, makes one call MEMBER on
 *   each (AllocPasid, CreateSpace: no arguments; ClaimGroup: group 1, flags
 *   0), keeps every connection open, prints one line with how each call
 *   ended, then waits until stdin closes. The test reads the line while the
 *   connections are still open, checks the daemon, and then closes stdin.
 *   A line "close" on stdin closes every connection but keeps the process
 *   running, and prints "closed".
 */

static int call(sd_bus *bus, const char *member, char *ret_error, size_t size) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        int r;

        if (strcmp(member, "ClaimGroup") == 0)
                r = sd_bus_call_method(bus, DEST, PATH, MANAGER, member, &e, &reply, "ut", 1u, (uint64_t)0);
        else
                r = sd_bus_call_method(bus, DEST, PATH, MANAGER, member, &e, &reply, "");
        if (r < 0)
                snprintf(ret_error, size, "%s", e.name ? e.name : strerror(-r));
        sd_bus_error_free(&e);
        sd_bus_message_unref(reply);
        return r;
}

/* Counts the outcomes by error name: "AccessDenied=256" or "ok=1 NoReply=3". */
typedef struct Outcome {
        char name[128];
        unsigned count;
} Outcome;

static void count(Outcome *o, size_t *n, const char *name) {
        const char *dot = strrchr(name, '.');

        name = dot ? dot + 1 : name;
        for (size_t i = 0; i < *n; i++)
                if (strcmp(o[i].name, name) == 0) {
                        o[i].count++;
                        return;
                }
        if (*n == 16)
                return;
        snprintf(o[*n].name, sizeof(o[*n].name), "%s", name);
        o[(*n)++].count = 1;
}

static int flood(unsigned n, const char *member) {
        sd_bus **buses = calloc(n, sizeof(*buses));
        Outcome outcomes[16];
        size_t n_outcomes = 0;
        char line[64];

        if (!buses)
                return EXIT_FAILURE;
        for (unsigned i = 0; i < n; i++) {
                char error[256] = "ok";
                int r = sd_bus_open_system(&buses[i]);

                if (r < 0) {
                        snprintf(error, sizeof(error), "connect-%s", strerror(-r));
                        buses[i] = NULL;
                } else
                        call(buses[i], member, error, sizeof(error));
                count(outcomes, &n_outcomes, error);
        }
        printf("flood:");
        for (size_t i = 0; i < n_outcomes; i++)
                printf(" %s=%u", outcomes[i].name, outcomes[i].count);
        printf("\n");
        fflush(stdout);
        /* Keep every connection open until the test lets go. */
        while (fgets(line, sizeof(line), stdin))
                if (strcmp(line, "close\n") == 0) {
                        for (unsigned i = 0; i < n; i++)
                                buses[i] = sd_bus_flush_close_unref(buses[i]);
                        printf("closed\n");
                        fflush(stdout);
                }
        for (unsigned i = 0; i < n; i++)
                sd_bus_flush_close_unref(buses[i]);
        free(buses);
        return EXIT_SUCCESS;
}

int main(int argc, char *argv[]) {
        if (argc == 4 && strcmp(argv[1], "flood") == 0)
                return flood((unsigned)strtoul(argv[2], NULL, 10), argv[3]);
        fprintf(stderr, "usage: hostile-client flood N MEMBER\n");
        return EXIT_FAILURE;
}
