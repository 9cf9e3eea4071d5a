/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* scale-bench.c - D-Bus call latencies of a running iommud as ratios to Peer.Ping, with or without 1,000 loaded clients */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
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
#define SAMPLES_MAX 400

/*
 * For the instruction counts (tests/bench/scale under callgrind): when
 * IOMMUD_BENCH_MARK is set, each figure's calls are bracketed by two runs
 * of "$IOMMUD_BENCH_MARK LABEL", which dump the daemon's counts so far: the
 * part that ends with "skip" is the untimed work before a figure, the part
 * that ends with the figure's name is its calls. IOMMUD_BENCH_SAMPLES
 * lowers the number of calls per figure (a count does not need 400).
 */
static const char *mark_cmd;
static const char *mark_phase = "";    /* "alone" or "loaded": the labels' prefix */
static size_t samples = SAMPLES_MAX;

typedef struct Bench {
        unsigned n_devices, n_clients;
        long pid;               /* the daemon's */
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

static void mark(const char *label) {
        char cmd[512];

        if (!mark_cmd)
                return;
        snprintf(cmd, sizeof(cmd), "%s '%s:%s'", mark_cmd, mark_phase, label);
        fflush(stdout);
        if (system(cmd) != 0) {
                fprintf(stderr, "scale-bench: %s failed\n", cmd);
                exit(1);
        }
}

/* Ends a figure's part of the counts: the first word of its name, and how
 * many calls (or pairs of calls) it made. */
static void mark_figure(const char *what, size_t n) {
        char label[128];

        snprintf(label, sizeof(label), "%.*s/%zu", (int)strcspn(what, " "), what, n);
        mark(label);
}

static void print_figure(const Bench *b, const char *what, uint64_t *v, size_t n) {
        mark_figure(what, n);
        qsort(v, n, sizeof(*v), cmp_u64);
        printf("%-28s p50 %8.1f us  p99 %8.1f us   p50/ping %6.2f  p99/ping %6.2f\n", what,
               v[n / 2] / 1e3, v[n * 99 / 100] / 1e3, v[n / 2] / b->ping_p50, v[n * 99 / 100] / b->ping_p50);
        fflush(stdout);
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

static void measure_ping(Bench *b) {
        uint64_t v[SAMPLES_MAX];

        mark("skip");
        for (size_t i = 0; i < samples; i++)
                v[i] = call(b->bus, IOMMUD_PATH, "org.freedesktop.DBus.Peer", "Ping", NULL, NULL);
        qsort(v, samples, sizeof(*v), cmp_u64);
        b->ping_p50 = (double)v[samples / 2];
        print_figure(b, "Peer.Ping", v, samples);
}

static void measure_reads(Bench *b) {
        uint64_t v[SAMPLES_MAX];

        mark("skip");
        for (size_t i = 0; i < samples; i++)
                v[i] = call(b->bus, IOMMUD_PATH, "org.freedesktop.DBus.Properties", "Get", NULL, "ss",
                            IOMMUD_MANAGER_INTERFACE, "Version");
        print_figure(b, "Get Version", v, samples);
        mark("skip");
        for (size_t i = 0; i < samples; i++)
                v[i] = call(b->bus, IOMMUD_PATH, IOMMUD_MANAGER_INTERFACE, "ListGroups", NULL, NULL);
        print_figure(b, "ListGroups (linear: its reply)", v, samples);
}

/* A client's first AllocPasid allocates; later ones only answer. Each
 * sample is the first call of a new connection (made and closed untimed);
 * its count includes the connection's coming and going, over once the
 * daemon holds none of them. */
static void measure_alloc_pasid(Bench *b) {
        uint32_t before = clients_property(b);
        uint64_t v[SAMPLES_MAX / 4];

        mark("skip");
        for (size_t i = 0; i < (samples / 4); i++) {
                sd_bus *c = NULL;
                int r = sd_bus_open_system(&c);

                if (r < 0)
                        die("connect", r, NULL);
                v[i] = call(c, IOMMUD_PATH, IOMMUD_MANAGER_INTERFACE, "AllocPasid", NULL, NULL);
                sd_bus_flush_close_unref(c);
        }
        while (clients_property(b) > before)
                ;
        print_figure(b, "AllocPasid (first, new peer)", v, (samples / 4));
}

static void measure_claims(Bench *b) {
        unsigned n_groups = b->n_devices / GROUP_SIZE;
        uint32_t claim_group = n_groups, bind_group = n_groups > 1 ? n_groups - 1 : n_groups;
        char dev[32], path[64];
        uint64_t v[SAMPLES_MAX];

        mark("skip");
        for (size_t i = 0; i < samples; i++)
                v[i] = call(b->bus, IOMMUD_PATH, IOMMUD_MANAGER_INTERFACE, "ClaimGroup", NULL, "ut",
                            claim_group, (uint64_t)1) +
                       call(b->bus, IOMMUD_PATH, IOMMUD_MANAGER_INTERFACE, "ReleaseGroup", NULL, "u", claim_group);
        print_figure(b, "ClaimGroup+ReleaseGroup", v, samples);

        /* With one group only, the bonds go in the group the claims used. */
        call(b->bus, IOMMUD_PATH, IOMMUD_MANAGER_INTERFACE, "ClaimGroup", NULL, "ut", bind_group, (uint64_t)1);
        device_name(dev, sizeof(dev), (bind_group - 1) * GROUP_SIZE);
        mark("skip");
        for (size_t i = 0; i < samples; i++) {
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
        print_figure(b, "BindSva+Unbind", v, samples);
        call(b->bus, IOMMUD_PATH, IOMMUD_MANAGER_INTERFACE, "ReleaseGroup", NULL, "u", bind_group);
}

static void measure_release_one(Bench *b);

static void measure_all(Bench *b, const char *phase) {
        printf("-- %s: %u devices, %u other clients\n", phase, b->n_devices, b->n_clients);
        mark_phase = phase;
        measure_ping(b);
        measure_reads(b);
        measure_alloc_pasid(b);
        measure_claims(b);
        if (b->n_clients == 0)
                measure_release_one(b);
}

/* Each load client (the first n): its own connection, a claim of its own
 * group, and a bond on each of the group's 16 devices. */
static void connect_load(Bench *b, unsigned n) {
        for (unsigned c = 0; c < n; c++) {
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

/* The first n load clients hang up at once; the time until the daemon
 * holds state for none of them (its Clients property counts what it still
 * holds, before them: before). */
static void disconnect_load(Bench *b, unsigned n, uint32_t before) {
        uint64_t t0, polls = 0;
        double cpu0;
        char label[64];

        mark("skip");
        t0 = now_ns();
        cpu0 = cpu_ms(b->pid);
        for (unsigned c = 0; c < n; c++)
                b->load[c] = sd_bus_flush_close_unref(b->load[c]);
        while (clients_property(b) > before)
                polls++;
        t0 = now_ns() - t0;
        snprintf(label, sizeof(label), "release/%u", n);
        mark(label);
        printf("release of %u client%s: %.1f ms (%" PRIu64 " polls of Clients), daemon CPU %.0f ms\n",
               n, n == 1 ? " (alone)" : "s", t0 / 1e6, polls, cpu_ms(b->pid) - cpu0);
}

/* The baseline of the release figure: one client holding a group and 16
 * bonds, alone. */
static void measure_release_one(Bench *b) {
        uint32_t before = clients_property(b);

        connect_load(b, 1);
        disconnect_load(b, 1, before);
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

static int on_name_owner(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *name, *old_owner, *new_owner;

        if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) >= 0 && new_owner[0])
                *(bool *)userdata = true;
        return 0;
}

/*
 * --wait-for-name: returns once the daemon owns its name. One process
 * watching NameOwnerChanged, where polling with busctl started a process
 * every few ms that took CPU from the start-up it timed.
 */
static int wait_for_name(void) {
        __attribute__((cleanup(sd_bus_flush_close_unrefp))) sd_bus *bus = NULL;
        __attribute__((cleanup(sd_bus_message_unrefp))) sd_bus_message *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        bool owned = false;
        int r, has = 0;

        r = sd_bus_open_system(&bus);
        if (r < 0)
                die("connect", r, NULL);
        /* The match first: a name taken between the two is not missed. */
        r = sd_bus_add_match(bus, NULL, "type='signal',sender='org.freedesktop.DBus',member='NameOwnerChanged',"
                             "arg0='" IOMMUD_BUS_NAME "'", on_name_owner, &owned);
        if (r < 0)
                die("AddMatch", r, NULL);
        r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                               "NameHasOwner", &e, &reply, "s", IOMMUD_BUS_NAME);
        if (r < 0 || (r = sd_bus_message_read(reply, "b", &has)) < 0)
                die("NameHasOwner", r, &e);
        owned = owned || has;
        while (!owned) {
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        die("process", r, NULL);
                if (r == 0 && (r = sd_bus_wait(bus, UINT64_MAX)) < 0)
                        die("wait", r, NULL);
        }
        return 0;
}

int main(int argc, char **argv) {
        Bench b = { 0 };
        long pid, rss_before, rss_loaded;
        struct rlimit nofile = { 4096, 4096 };
        uint32_t clients_before;
        int r;

        if (argc == 2 && strcmp(argv[1], "--wait-for-name") == 0)
                return wait_for_name();
        if (argc != 4) {
                fprintf(stderr, "usage: scale-bench N_DEVICES N_CLIENTS DAEMON_PID (with DBUS_SYSTEM_BUS_ADDRESS)\n");
                return 2;
        }
        b.n_devices = (unsigned)strtoul(argv[1], NULL, 10);
        b.n_clients = (unsigned)strtoul(argv[2], NULL, 10);
        b.pid = pid = strtol(argv[3], NULL, 10);
        mark_cmd = getenv("IOMMUD_BENCH_MARK");
        if (getenv("IOMMUD_BENCH_SAMPLES"))
                samples = strtoul(getenv("IOMMUD_BENCH_SAMPLES"), NULL, 10);
        if (samples < 4 || samples > SAMPLES_MAX) {
                fprintf(stderr, "scale-bench: IOMMUD_BENCH_SAMPLES must be 4..%d\n", SAMPLES_MAX);
                return 2;
        }
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
        connect_load(&b, b.n_clients);
        rss_loaded = rss_kib(pid);
        printf("daemon RSS: %ld KiB with %u clients holding a group and %u bonds each: %.2f KiB per client, "
               "%.3f KiB per bond\n", rss_loaded, b.n_clients, GROUP_SIZE,
               (double)(rss_loaded - rss_before) / b.n_clients,
               (double)(rss_loaded - rss_before) / (b.n_clients * GROUP_SIZE));
        measure_all(&b, "loaded");
        disconnect_load(&b, b.n_clients, clients_before);
        free(b.load);
        sd_bus_flush_close_unref(b.bus);
        return 0;
}
