/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* claim-latency.c - the lane's watch on the event loop: Ping and page requests answered while a claim runs */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>

/*
 * usage: claim-latency GROUP DEVICE PASID ADDRESS PAGES
 *
 * On one connection, sends ClaimGroup(GROUP, DETACH_KERNEL_DRIVERS) without
 * waiting for it; on a second, meanwhile, calls Peer.Ping and has DEVICE
 * read 16 bytes at the next of PAGES pages from ADDRESS at PASID
 * (Simulator.Dma: a page request each, served by the daemon), over and
 * over, until the claim is answered. A call counts only if the claim was
 * still unanswered after its reply came: a daemon that claims inside its
 * handler answers the claim first, then the Ping queued behind it, so it
 * counts none. Prints how long the claim took, how many of each call were
 * answered while it ran and the worst latency of each; then releases the
 * group and exits 0 if the claim succeeded.
 */

static uint64_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

typedef struct Stats {
        unsigned n, failed;
        uint64_t worst;
} Stats;

static void stats_add(Stats *s, uint64_t usec, int r) {
        s->n++;
        if (r < 0)
                s->failed++;
        if (usec > s->worst)
                s->worst = usec;
}

static int claimed_reply(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        (void)error;
        int *done = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);

        if (e)
                fprintf(stderr, "claim: %s: %s\n", e->name, e->message);
        *done = e ? -1 : 1;
        return 0;
}

static int call_dma(sd_bus *bus, const char *device, uint32_t pasid, uint64_t addr) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL, *m = NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, "org.iommud1", "/org/iommud1", "org.iommud1.Simulator", "Dma");
        if (r >= 0)
                r = sd_bus_message_append(m, "sutub", device, pasid, addr, (uint32_t)16, 0);
        if (r >= 0)
                r = sd_bus_message_append_array(m, 'y', NULL, 0);
        if (r >= 0)
                r = sd_bus_call(bus, m, 30 * 1000000, &error, &reply);
        if (r < 0)
                fprintf(stderr, "dma at 0x%" PRIx64 ": %s\n", addr, error.message ? error.message : strerror(-r));
        sd_bus_error_free(&error);
        sd_bus_message_unref(reply);
        sd_bus_message_unref(m);
        return r;
}

int main(int argc, char *argv[]) {
        sd_bus *claimer = NULL, *other = NULL;
        Stats ping = { 0 }, dma = { 0 };
        uint64_t addr, start, took;
        unsigned pages, page = 0;
        uint32_t group, pasid;
        int done = 0, r;

        if (argc != 6) {
                fprintf(stderr, "usage: claim-latency GROUP DEVICE PASID ADDRESS PAGES\n");
                return 2;
        }
        group = (uint32_t)strtoul(argv[1], NULL, 0);
        pasid = (uint32_t)strtoul(argv[3], NULL, 0);
        addr = strtoull(argv[4], NULL, 0);
        pages = (unsigned)strtoul(argv[5], NULL, 0);
        if (sd_bus_open_system(&claimer) < 0 || sd_bus_open_system(&other) < 0) {
                fprintf(stderr, "claim-latency: cannot connect to the system bus\n");
                return 1;
        }
        start = now_usec();
        r = sd_bus_call_method_async(claimer, NULL, "org.iommud1", "/org/iommud1", "org.iommud1.Manager",
                                     "ClaimGroup", claimed_reply, &done, "ut", group, (uint64_t)1);
        if (r < 0) {
                fprintf(stderr, "claim-latency: cannot send ClaimGroup: %s\n", strerror(-r));
                return 1;
        }
        (void)sd_bus_flush(claimer);
        while (!done && now_usec() - start < 120 * 1000000ull) {
                uint64_t t = now_usec(), lat;

                r = sd_bus_call_method(other, "org.iommud1", "/org/iommud1", "org.freedesktop.DBus.Peer", "Ping",
                                       NULL, NULL, "");
                lat = now_usec() - t;
                while (!done && sd_bus_process(claimer, NULL) > 0)
                        ;
                if (!done)
                        stats_add(&ping, lat, r);
                if (done || page >= pages)
                        continue;
                t = now_usec();
                r = call_dma(other, argv[2], pasid, addr + 4096ull * page++);
                lat = now_usec() - t;
                while (!done && sd_bus_process(claimer, NULL) > 0)
                        ;
                if (!done)
                        stats_add(&dma, lat, r);
        }
        took = now_usec() - start;
        printf("claim of group %" PRIu32 " took %" PRIu64 " ms; while it ran: %u Peer.Ping answered (worst %" PRIu64
               " ms, %u failed), %u page-request DMAs on %s served (worst %" PRIu64 " ms, %u failed)\n",
               group, took / 1000, ping.n, ping.worst / 1000, ping.failed, dma.n, argv[2], dma.worst / 1000,
               dma.failed);
        if (done > 0)
                (void)sd_bus_call_method(claimer, "org.iommud1", "/org/iommud1", "org.iommud1.Manager",
                                         "ReleaseGroup", NULL, NULL, "u", group);
        sd_bus_flush_close_unref(claimer);
        sd_bus_flush_close_unref(other);
        return done > 0 ? 0 : 1;
}
