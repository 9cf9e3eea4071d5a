/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* scale-bench.c - D-Bus call latencies of a running iommud as ratios to Peer.Ping, with or without 1,000 loaded clients */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#include "api/iommud.h"

/*
 * The topology is the one tests/bench/scale generates: device i is
 * 0000:BB:DD.F with BB = i >> 8, DD = (i >> 3) & 31, F = i & 7, in group
 * i / 16 + 1, every one PASID+PRI. The load clients take the first groups,
 * one each, and bind all 16 devices of theirs; the measuring connection
 * uses the last two groups, which no load client holds.
 *
 * Each figure is the p50 and p99 of SAMPLES calls, each as a ratio to the
 * p50 of Peer.Ping on the same connection in the same phase, so the
 * machine's speed and load cancel out.
 */
#define GROUP_SIZE 16
#define SAMPLES 400

typedef struct Bench {
        unsigned n_devices, n_clients;
        sd_bus *bus;            /* owned: the measuring connection */
        sd_bus **load;          /* owned: the load clients' connections */
        double ping_p50;
} Bench;

static uint64_t now_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void device_name(char *buf, size_t size, unsigned i) {
        snprintf(buf, size, "0000:%02x:%02x.%x", i >> 8, (i >> 3) & 31, i & 7);
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

        return x < y ? -1 : x > y;
}

static int die(const char *what, int r, const sd_bus_error *e) {
        fprintf(stderr, "scale-bench: %s: %s\n", what, e && e->message ? e->message : strerror(-r));
        exit(1);
}

/* One call, its reply dropped; exits on an error (a benchmark has no
 * use for a figure of calls that failed). */
static uint64_t call(sd_bus *bus, const char *path, const char *iface, const char *method,
                     sd_bus_message **ret, const char *types, ...) {
        __attribute__((cleanup(sd_bus_message_unrefp))) sd_bus_message *m = NULL, *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        uint64_t t0;
        va_list ap;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, IOMMUD_BUS_NAME, path, iface, method);
        if (r >= 0 && types) {
                va_start(ap, types);
                r = sd_bus_message_appendv(m, types, ap);
                va_end(ap);
        }
        if (r < 0)
                die(method, r, NULL);
        t0 = now_ns();
        r = sd_bus_call(bus, m, 0, &e, &reply);
        t0 = now_ns() - t0;
        if (r < 0)
                die(method, r, &e);
        if (ret)
                *ret = sd_bus_message_ref(reply);
        return t0;
}

static void print_figure(const Bench *b, const char *what, uint64_t *v, size_t n) {
        qsort(v, n, sizeof(*v), cmp_u64);
        printf("%-28s p50 %8.1f us  p99 %8.1f us   p50/ping %6.2f  p99/ping %6.2f\n", what,
               v[n / 2] / 1e3, v[n * 99 / 100] / 1e3, v[n / 2] / b->ping_p50, v[n * 99 / 100] / b->ping_p50);
        fflush(stdout);
}

static void measure_ping(Bench *b) {
        uint64_t v[SAMPLES];

        for (size_t i = 0; i < SAMPLES; i++)
                v[i] = call(b->bus, IOMMUD_PATH, "org.freedesktop.DBus.Peer", "Ping", NULL, NULL);
        qsort(v, SAMPLES, sizeof(*v), cmp_u64);
        b->ping_p50 = (double)v[SAMPLES / 2];
        print_figure(b, "Peer.Ping", v, SAMPLES);
}

static void measure_reads(Bench *b) {
        uint64_t v[SAMPLES];

        for (size_t i = 0; i < SAMPLES; i++)
                v[i] = call(b->bus, IOMMUD_PATH, "org.freedesktop.DBus.Properties", "Get", NULL, "ss",
                            IOMMUD_MANAGER_INTERFACE, "Version");
        print_figure(b, "Get Version", v, SAMPLES);
        for (size_t i = 0; i < SAMPLES; i++)
                v[i] = call(b->bus, IOMMUD_PATH, IOMMUD_MANAGER_INTERFACE, "ListGroups", NULL, NULL);
        print_figure(b, "ListGroups (linear: its reply)", v, SAMPLES);
}

/* A client's first AllocPasid allocates; later ones only answer. Each
 * sample is the first call of a new connection (made and closed untimed). */
static void measure_alloc_pasid(Bench *b) {
        uint64_t v[SAMPLES / 4];

        for (size_t i = 0; i < (sizeof(v) / sizeof(v[0])); i++) {
                sd_bus *c = NULL;
                int r = sd_bus_open_system(&c);

                if (r < 0)
                        die("connect", r, NULL);
                v[i] = call(c, IOMMUD_PATH, IOMMUD_MANAGER_INTERFACE, "AllocPasid", NULL, NULL);
                sd_bus_flush_close_unref(c);
        }
        print_figure(b, "AllocPasid (first, new peer)", v, (sizeof(v) / sizeof(v[0])));
}

static void measure_claims(Bench *b) {
        unsigned n_groups = b->n_devices / GROUP_SIZE;
        uint32_t claim_group = n_groups, bind_group = n_groups > 1 ? n_groups - 1 : n_groups;
        char dev[32], path[64];
        uint64_t v[SAMPLES];

        for (size_t i = 0; i < SAMPLES; i++)
                v[i] = call(b->bus, IOMMUD_PATH, IOMMUD_MANAGER_INTERFACE, "ClaimGroup", NULL, "ut",
                            claim_group, (uint64_t)1) +
                       call(b->bus, IOMMUD_PATH, IOMMUD_MANAGER_INTERFACE, "ReleaseGroup", NULL, "u", claim_group);
        print_figure(b, "ClaimGroup+ReleaseGroup", v, SAMPLES);

        /* With one group only, the bonds go in the group the claims used. */
        call(b->bus, IOMMUD_PATH, IOMMUD_MANAGER_INTERFACE, "ClaimGroup", NULL, "ut", bind_group, (uint64_t)1);
        device_name(dev, sizeof(dev), (bind_group - 1) * GROUP_SIZE);
        for (size_t i = 0; i < SAMPLES; i++) {
                __attribute__((cleanup(sd_bus_message_unrefp))) sd_bus_message *reply = NULL;
                const char *bond;
                uint32_t pasid;
                int r;

                v[i] = call(b->bus, IOMMUD_PATH, IOMMUD_MANAGER_INTERFACE, "BindSva", &reply, "s", dev);
                r = sd_bus_message_read(reply, "ou", &bond, &pasid);
                if (r < 0)
                        die("BindSva reply", r, NULL);
                snprintf(path, sizeof(path), "%s", bond);
                v[i] += call(b->bus, path, IOMMUD_BOND_INTERFACE, "Unbind", NULL, NULL);
        }
        print_figure(b, "BindSva+Unbind", v, SAMPLES);
        call(b->bus, IOMMUD_PATH, IOMMUD_MANAGER_INTERFACE, "ReleaseGroup", NULL, "u", bind_group);
}

static void measure_all(Bench *b, const char *phase) {
        printf("-- %s: %u devices, %u other clients\n", phase, b->n_devices, b->n_clients);
        measure_ping(b);
        measure_reads(b);
        measure_alloc_pasid(b);
        measure_claims(b);
}

static uint32_t clients_property(Bench *b) {
        __attribute__((cleanup(sd_bus_message_unrefp))) sd_bus_message *reply = NULL;
        uint32_t n;

        call(b->bus, IOMMUD_PATH, "org.freedesktop.DBus.Properties", "Get", &reply, "ss",
             IOMMUD_MANAGER_INTERFACE, "Clients");
        if (sd_bus_message_read(reply, "v", "u", &n) < 0)
                die("Clients", -EBADMSG, NULL);
        return n;
}

/* Each load client: its own connection, a claim of its own group, and a
 * bond on each of the group's 16 devices. */
static void connect_load(Bench *b) {
        for (unsigned c = 0; c < b->n_clients; c++) {
                int r = sd_bus_open_system(&b->load[c]);

                if (r < 0)
                        die("connect a load client", r, NULL);
                call(b->load[c], IOMMUD_PATH, IOMMUD_MANAGER_INTERFACE, "ClaimGroup", NULL, "ut",
                     (uint32_t)(c + 1), (uint64_t)1);
                for (unsigned k = 0; k < GROUP_SIZE; k++) {
                        char dev[32];

                        device_name(dev, sizeof(dev), c * GROUP_SIZE + k);
                        call(b->load[c], IOMMUD_PATH, IOMMUD_MANAGER_INTERFACE, "BindSva", NULL, "s", dev);
                }
        }
}

/* The CPU time the daemon has used (user + system), in ms: on a loaded
 * machine the wall time of a phase is mostly other processes'. */
static double cpu_ms(long pid) {
        char path[64], buf[1024], *p;
        unsigned long utime, stime;
        FILE *f;
        size_t n;

        snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
        f = fopen(path, "re");
        if (!f)
                return -1;
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = 0;
        p = strrchr(buf, ')');  /* the command name may hold spaces */
        if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
                return -1;
        return (utime + stime) * 1000.0 / sysconf(_SC_CLK_TCK);
}

/* All load clients hang up at once; the time until the daemon holds state
 * for none of them (its Clients property counts what it still holds). */
static void disconnect_load(Bench *b, uint32_t before, long pid) {
        uint64_t t0 = now_ns(), polls = 0;
        double cpu0 = cpu_ms(pid);

        for (unsigned c = 0; c < b->n_clients; c++)
                b->load[c] = sd_bus_flush_close_unref(b->load[c]);
        while (clients_property(b) > before)
                polls++;
        printf("release of %u clients: %.1f ms (%" PRIu64 " polls of Clients), daemon CPU %.0f ms\n",
               b->n_clients, (now_ns() - t0) / 1e6, polls, cpu_ms(pid) - cpu0);
}

static long rss_kib(long pid) {
        char path[64], line[256];
        long kib = -1;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%ld/status", pid);
        f = fopen(path, "re");
        if (!f)
                return -1;
        while (fgets(line, sizeof(line), f))
                if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
                        break;
        fclose(f);
        return kib;
}

int main(int argc, char **argv) {
        Bench b = { 0 };
        long pid, rss_before, rss_loaded;
        struct rlimit nofile = { 4096, 4096 };
        uint32_t clients_before;
        int r;

        if (argc != 4) {
                fprintf(stderr, "usage: scale-bench N_DEVICES N_CLIENTS DAEMON_PID (with DBUS_SYSTEM_BUS_ADDRESS)\n");
                return 2;
        }
        b.n_devices = (unsigned)strtoul(argv[1], NULL, 10);
        b.n_clients = (unsigned)strtoul(argv[2], NULL, 10);
        pid = strtol(argv[3], NULL, 10);
        if (b.n_clients && b.n_clients + 2 > b.n_devices / GROUP_SIZE) {
                fprintf(stderr, "scale-bench: %u clients need %u groups\n", b.n_clients, b.n_clients + 2);
                return 2;
        }
        (void)setrlimit(RLIMIT_NOFILE, &nofile);
        r = sd_bus_open_system(&b.bus);
        if (r < 0)
                die("connect", r, NULL);
        b.load = calloc(b.n_clients ? b.n_clients : 1, sizeof(*b.load));
        if (!b.load)
                die("memory", -ENOMEM, NULL);

        rss_before = rss_kib(pid);
        printf("daemon RSS: %ld KiB with %u devices\n", rss_before, b.n_devices);
        { unsigned n = b.n_clients; b.n_clients = 0; measure_all(&b, "alone"); b.n_clients = n; }
        if (b.n_clients == 0)
                return 0;

        clients_before = clients_property(&b);
        connect_load(&b);
        rss_loaded = rss_kib(pid);
        printf("daemon RSS: %ld KiB with %u clients holding a group and %u bonds each: %.2f KiB per client, "
               "%.3f KiB per bond\n", rss_loaded, b.n_clients, GROUP_SIZE,
               (double)(rss_loaded - rss_before) / b.n_clients,
               (double)(rss_loaded - rss_before) / (b.n_clients * GROUP_SIZE));
        measure_all(&b, "loaded");
        disconnect_load(&b, clients_before, pid);
        free(b.load);
        sd_bus_flush_close_unref(b.bus);
        return 0;
}
