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
 * p50 of as many Peer.Ping calls on the same connection, one paired with
 * each call (see figure()), so the machine's speed cancels out.
 *
 * With --pair, two daemons (each on its own bus) are measured at once, a
 * call to one, then the same call to the other, sample by sample: the
 * machine's load, which drifts over a run of seconds, falls on both
 * alike, and the ratio of their figures is that of the daemons, not of
 * the moments each was measured at. Which daemon goes first swaps every
 * sample, so that neither always follows the other's call. The loaded
 * phase is measured in ROUNDS rounds (IOMMUD_BENCH_ROUNDS), each printed
 * under "== round R of N": how far a ratio moves between rounds is how
 * noisy it is on this machine.
 */
#define GROUP_SIZE 16
#define SAMPLES_MAX 1000
#define BENCHES_MAX 2
#define ROUNDS 5

/*
 * For the instruction counts (tests/bench/scale under callgrind): when
 * IOMMUD_BENCH_MARK is set, each figure's calls are bracketed by two runs
 * of "$IOMMUD_BENCH_MARK LABEL", which dump the daemon's counts so far: the
 * part that ends with "skip" is the untimed work before a figure, the part
 * that ends with the figure's name is its calls. IOMMUD_BENCH_SAMPLES
 * lowers the number of calls per figure (a count does not need 1,000).
 * Marks are for one daemon only (not with --pair).
 */
static const char *mark_cmd;
static const char *mark_phase = "";    /* "alone" or "loaded": the labels' prefix */
static size_t samples = SAMPLES_MAX;
static unsigned rounds = 1;

typedef struct Bench {
        unsigned n_devices, n_clients;
        long pid;               /* the daemon's */
        long bus_pid;           /* the bus's; 0 where it does not say */
        long rss_start;         /* the daemon's RSS in KiB, before any call */
        uint64_t cpu_daemon, cpu_bus;   /* on-CPU ns of a figure's calls so far */
        const char *address;    /* borrowed (argv or environment): its bus */
        sd_bus *bus;            /* owned: the measuring connection */
        sd_bus **load;          /* owned: the load clients' connections */
        double ping_p50;        /* ns: this phase's Peer.Ping figure (the unpaced figures' base) */
        FILE *out;              /* owned: this phase's figures, printed at its end */
        char *out_buf;          /* owned: out's text */
        size_t out_size;
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

/* A bus client connection to address, its Hello answered. */
static sd_bus *bus_connect(const char *address) {
        sd_bus *bus = NULL;
        const char *unique;
        int r;

        r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_address(bus, address);
        if (r >= 0)
                r = sd_bus_set_bus_client(bus, 1);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r >= 0)
                r = sd_bus_get_unique_name(bus, &unique);       /* waits for Hello's answer */
        if (r < 0)
                die("connect", r, NULL);
        return bus;
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

/* The time pid has run on a CPU, in ns (the scheduler's own account,
 * /proc/PID/schedstat, where /proc/PID/stat counts in clock ticks); 0
 * where there is none. */
static uint64_t on_cpu_ns(long pid) {
        char path[64];
        unsigned long long ns = 0;
        FILE *f;

        if (pid <= 0)
                return 0;
        snprintf(path, sizeof(path), "/proc/%ld/schedstat", pid);
        f = fopen(path, "re");
        if (!f)
                return 0;
        if (fscanf(f, "%llu", &ns) != 1)
                ns = 0;
        fclose(f);
        return ns;
}

/* A figure's line: the latencies, their ratios to ping_p50 (the p50 of
 * the pings that paced its samples, or of the phase's Peer.Ping figure),
 * and the CPU time the daemon and its bus spent per call (which says
 * whose work a wall-time difference is: the daemon's or the bus's). */
static void print_figure(const Bench *b, const char *what, uint64_t *v, size_t n, double ping_p50,
                         double daemon_us, double bus_us) {
        qsort(v, n, sizeof(*v), cmp_u64);
        fprintf(b->out, "%-28s p50 %8.1f us  p99 %8.1f us   p50/ping %6.2f  p99/ping %6.2f   CPU/call daemon "
                "%6.1f us  bus %6.1f us\n", what, v[n / 2] / 1e3, v[n * 99 / 100] / 1e3, v[n / 2] / ping_p50,
                v[n * 99 / 100] / ping_p50, daemon_us, bus_us);
}

typedef uint64_t (*SampleFn)(Bench *b, size_t i);

static uint64_t sample_ping(Bench *b, size_t i);

/*
 * The samples of one figure: v[k][i] is the i-th of daemon k; one(b, i)
 * makes a sample, the daemons taking turns (the first of a turn swapped
 * every sample). Outside callgrind each sample is paired with a
 * Peer.Ping on the same connection, p[k][i], and the figure's ratios are
 * to the p50 of its own pings: the machine's speed drifts over seconds
 * (by a third between two figures here, idle), and a ratio to the pings
 * of an earlier figure carried that drift into every goal. The ping goes
 * before the call in every other pair of samples and after it in the
 * rest: the first message after the other daemon's turn finds a colder
 * bus, and a ping always first would take that on itself and flatter the
 * call. The CPU columns are the daemon's and the bus's during the
 * sample's call only (work a daemon does after its reply is sent falls to
 * what comes next). Under callgrind (mark_cmd) counts do not drift and
 * the pings would be counted in: none then.
 */
static void figure(Bench *bs, size_t n, const char *what, SampleFn one) {
        static uint64_t v[BENCHES_MAX][SAMPLES_MAX], p[BENCHES_MAX][SAMPLES_MAX];
        bool paced = one != sample_ping && !mark_cmd;

        mark("skip");
        for (size_t k = 0; k < n; k++)
                bs[k].cpu_daemon = bs[k].cpu_bus = 0;
        for (size_t i = 0; i < samples; i++)
                for (size_t j = 0; j < n; j++) {
                        Bench *b = &bs[i & 1 ? n - 1 - j : j];
                        bool ping_first = (i >> 1) & 1;
                        uint64_t daemon0, bus0;

                        if (paced && ping_first)
                                p[b - bs][i] = sample_ping(b, i);
                        daemon0 = on_cpu_ns(b->pid);
                        bus0 = on_cpu_ns(b->bus_pid);
                        v[b - bs][i] = one(b, i);
                        b->cpu_daemon += on_cpu_ns(b->pid) - daemon0;
                        b->cpu_bus += on_cpu_ns(b->bus_pid) - bus0;
                        if (paced && !ping_first)
                                p[b - bs][i] = sample_ping(b, i);
                }
        mark_figure(what, samples);
        for (size_t k = 0; k < n; k++) {
                Bench *b = &bs[k];

                qsort(v[k], samples, sizeof(v[k][0]), cmp_u64);
                if (one == sample_ping)
                        b->ping_p50 = (double)v[k][samples / 2];
                if (paced)
                        qsort(p[k], samples, sizeof(p[k][0]), cmp_u64);
                print_figure(b, what, v[k], samples, paced ? (double)p[k][samples / 2] : b->ping_p50,
                             b->cpu_daemon / 1e3 / samples, b->cpu_bus / 1e3 / samples);
        }
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

static uint64_t sample_ping(Bench *b, size_t i) {
        return call(b->bus, IOMMUD_PATH, "org.freedesktop.DBus.Peer", "Ping", NULL, NULL);
}

static uint64_t sample_version(Bench *b, size_t i) {
        return call(b->bus, IOMMUD_PATH, "org.freedesktop.DBus.Properties", "Get", NULL, "ss",
                    IOMMUD_MANAGER_INTERFACE, "Version");
}

static uint64_t sample_list_groups(Bench *b, size_t i) {
        return call(b->bus, IOMMUD_PATH, IOMMUD_MANAGER_INTERFACE, "ListGroups", NULL, NULL);
}

/*
 * A client's first AllocPasid allocates; later ones only answer. Each
 * sample is the first call of a new connection to the daemon, made and its
 * Hello answered untimed: the figure is the daemon's (a new peer's first
 * call: its credentials asked of the bus, its client state made, a PASID
 * allocated), not the bus's accepting a connection. The connections stay
 * open (in load[n_clients + i]) until all samples are taken, so that no
 * earlier one's release runs during a later one's call; then they all hang
 * up, and the figure is over once the daemon holds none of them.
 */
static uint64_t sample_alloc_pasid(Bench *b, size_t i) {
        sd_bus **peer = &b->load[b->n_clients + i];

        *peer = bus_connect(b->address);
        return call(*peer, IOMMUD_PATH, IOMMUD_MANAGER_INTERFACE, "AllocPasid", NULL, NULL);
}

static void measure_alloc_pasid(Bench *bs, size_t n) {
        uint32_t before[BENCHES_MAX];

        for (size_t k = 0; k < n; k++)
                before[k] = clients_property(&bs[k]);
        figure(bs, n, "AllocPasid (first, new peer)", sample_alloc_pasid);
        for (size_t k = 0; k < n; k++) {
                for (size_t i = 0; i < samples; i++)
                        bs[k].load[bs[k].n_clients + i] = sd_bus_flush_close_unref(bs[k].load[bs[k].n_clients + i]);
                while (clients_property(&bs[k]) > before[k])
                        ;
        }
}

/* The groups the measuring connection uses: the last (claims) and the one
 * before it (bonds); with one group only, the bonds go in the claims'. */
static uint32_t claim_group(const Bench *b) {
        return b->n_devices / GROUP_SIZE;
}

static uint32_t bind_group(const Bench *b) {
        return claim_group(b) > 1 ? claim_group(b) - 1 : claim_group(b);
}

static uint64_t sample_claim(Bench *b, size_t i) {
        return call(b->bus, IOMMUD_PATH, IOMMUD_MANAGER_INTERFACE, "ClaimGroup", NULL, "ut", claim_group(b),
                    (uint64_t)1) +
               call(b->bus, IOMMUD_PATH, IOMMUD_MANAGER_INTERFACE, "ReleaseGroup", NULL, "u", claim_group(b));
}

static uint64_t sample_bind(Bench *b, size_t i) {
        __attribute__((cleanup(sd_bus_message_unrefp))) sd_bus_message *reply = NULL;
        char dev[32], path[64];
        const char *bond;
        uint32_t pasid;
        uint64_t t;
        int r;

        device_name(dev, sizeof(dev), (bind_group(b) - 1) * GROUP_SIZE);
        t = call(b->bus, IOMMUD_PATH, IOMMUD_MANAGER_INTERFACE, "BindSva", &reply, "s", dev);
        r = sd_bus_message_read(reply, "ou", &bond, &pasid);
        if (r < 0)
                die("BindSva reply", r, NULL);
        snprintf(path, sizeof(path), "%s", bond);
        return t + call(b->bus, path, IOMMUD_BOND_INTERFACE, "Unbind", NULL, NULL);
}

static void measure_claims(Bench *bs, size_t n) {
        figure(bs, n, "ClaimGroup+ReleaseGroup", sample_claim);
        for (size_t k = 0; k < n; k++)
                call(bs[k].bus, IOMMUD_PATH, IOMMUD_MANAGER_INTERFACE, "ClaimGroup", NULL, "ut", bind_group(&bs[k]),
                     (uint64_t)1);
        figure(bs, n, "BindSva+Unbind", sample_bind);
        for (size_t k = 0; k < n; k++)
                call(bs[k].bus, IOMMUD_PATH, IOMMUD_MANAGER_INTERFACE, "ReleaseGroup", NULL, "u", bind_group(&bs[k]));
}

/* Each load client (the first n): its own connection, a claim of its own
 * group, and a bond on each of the group's 16 devices. */
static void connect_load(Bench *b, unsigned n) {
        /* IOMMUD_BENCH_LOAD (a diagnosis, not the load) holds less:
         * bus, the connections only, nothing in the daemon (the bus's share
         * of a loaded figure); pasid, one AllocPasid each; claim, the group
         * without the bonds. */
        const char *load = getenv("IOMMUD_BENCH_LOAD");
        bool bus_only = load && strcmp(load, "bus") == 0;

        for (unsigned c = 0; c < n; c++) {
                b->load[c] = bus_connect(b->address);
                if (bus_only)
                        continue;
                if (load && strcmp(load, "pasid") == 0) {
                        call(b->load[c], IOMMUD_PATH, IOMMUD_MANAGER_INTERFACE, "AllocPasid", NULL, NULL);
                        continue;
                }
                call(b->load[c], IOMMUD_PATH, IOMMUD_MANAGER_INTERFACE, "ClaimGroup", NULL, "ut",
                     (uint32_t)(c + 1), (uint64_t)1);
                for (unsigned k = 0; k < GROUP_SIZE && !(load && strcmp(load, "claim") == 0); k++) {
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
        fprintf(b->out, "release of %u client%s: %.1f ms (%" PRIu64 " polls of Clients), daemon CPU %.0f ms\n",
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

/* Every figure of one phase, the daemons taking turns call by call; each
 * daemon's figures are printed together at the end, under a heading
 * "-- HEADING: N devices, M other clients" (heading[k] for daemon k). */
static void measure_phase(Bench *bs, size_t n, const char *phase, const char *const *heading) {
        mark_phase = phase;
        for (size_t k = 0; k < n; k++) {
                bs[k].out = open_memstream(&bs[k].out_buf, &bs[k].out_size);
                if (!bs[k].out)
                        die("open_memstream", -errno, NULL);
        }
        figure(bs, n, "Peer.Ping", sample_ping);
        figure(bs, n, "Get Version", sample_version);
        figure(bs, n, "ListGroups (linear: its reply)", sample_list_groups);
        measure_alloc_pasid(bs, n);
        measure_claims(bs, n);
        for (size_t k = 0; k < n; k++)
                if (strcmp(phase, "alone") == 0)
                        measure_release_one(&bs[k]);
        for (size_t k = 0; k < n; k++) {
                fclose(bs[k].out);
                printf("-- %s: %u devices, %u other clients\n%s", heading[k], bs[k].n_devices, bs[k].n_clients,
                       bs[k].out_buf);
                bs[k].out = NULL;
                free(bs[k].out_buf);
                bs[k].out_buf = NULL;
        }
        fflush(stdout);
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

/* The bus's own pid, as it tells it; 0 if it does not. */
static long bus_pid(sd_bus *bus) {
        __attribute__((cleanup(sd_bus_message_unrefp))) sd_bus_message *reply = NULL;
        uint32_t pid;

        if (sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                               "GetConnectionUnixProcessID", NULL, &reply, "s", "org.freedesktop.DBus") < 0 ||
            sd_bus_message_read(reply, "u", &pid) < 0)
                return 0;
        return pid;
}

/* A daemon to measure: its bus, its pid, its size and how many load
 * clients it gets; its connection made and its RSS printed. */
static void bench_init(Bench *b, const char *address, const char *pid, const char *n_devices, unsigned n_clients) {
        *b = (Bench) {
                .n_devices = (unsigned)strtoul(n_devices, NULL, 10), .pid = strtol(pid, NULL, 10),
                .address = address,
        };
        if (n_clients && n_clients + 2 > b->n_devices / GROUP_SIZE) {
                fprintf(stderr, "scale-bench: %u clients need %u groups\n", n_clients, n_clients + 2);
                exit(2);
        }
        b->bus = bus_connect(address);
        b->bus_pid = bus_pid(b->bus);
        b->rss_start = rss_kib(b->pid);
        /* The load clients, then the AllocPasid figure's new peers. */
        b->load = calloc(n_clients + SAMPLES_MAX, sizeof(*b->load));
        if (!b->load)
                die("memory", -ENOMEM, NULL);
        printf("daemon RSS: %ld KiB with %u devices\n", b->rss_start, b->n_devices);
}

/* The last daemon of bs gets n_clients load clients, measured in phase
 * "loaded" with the others (alone, heading[k]) taking turns with it. */
static void measure_loaded(Bench *bs, size_t n, unsigned n_clients, const char *const *heading) {
        Bench *big = &bs[n - 1];
        long rss_before = big->rss_start, rss_loaded;
        uint32_t clients_before = clients_property(big);

        connect_load(big, n_clients);
        big->n_clients = n_clients;
        rss_loaded = rss_kib(big->pid);
        printf("daemon RSS: %ld KiB with %u clients holding a group and %u bonds each: %.2f KiB per client, "
               "%.3f KiB per bond\n", rss_loaded, n_clients, GROUP_SIZE,
               (double)(rss_loaded - rss_before) / n_clients,
               (double)(rss_loaded - rss_before) / (n_clients * GROUP_SIZE));
        for (unsigned r = 1; r <= rounds; r++) {
                printf("== round %u of %u\n", r, rounds);
                measure_phase(bs, n, "loaded", heading);
        }
        big->out = stdout;
        disconnect_load(big, n_clients, clients_before);
        big->out = NULL;
}

static void usage(void) {
        fprintf(stderr, "usage: scale-bench N_DEVICES N_CLIENTS DAEMON_PID (with DBUS_SYSTEM_BUS_ADDRESS)\n"
                        "       scale-bench --pair ADDRESS PID N_DEVICES ADDRESS PID N_DEVICES N_CLIENTS\n"
                        "       scale-bench --wait-for-name (with DBUS_SYSTEM_BUS_ADDRESS)\n");
        exit(2);
}

int main(int argc, char **argv) {
        static const char *const alone[] = { "alone", "alone" }, *const loaded[] = { "loaded" },
                                 *const paired[] = { "baseline", "loaded" };
        Bench bs[BENCHES_MAX];
        struct rlimit nofile = { 8192, 8192 };
        bool pair = argc == 9 && strcmp(argv[1], "--pair") == 0;
        size_t n = pair ? 2 : 1;
        unsigned n_clients;

        if (argc == 2 && strcmp(argv[1], "--wait-for-name") == 0)
                return wait_for_name();
        if (!pair && argc != 4)
                usage();
        mark_cmd = pair ? NULL : getenv("IOMMUD_BENCH_MARK");
        /* Rounds are for the wall-time pair; a count does not vary. */
        rounds = pair ? ROUNDS : 1;
        if (pair && getenv("IOMMUD_BENCH_ROUNDS"))
                rounds = (unsigned)strtoul(getenv("IOMMUD_BENCH_ROUNDS"), NULL, 10);
        if (rounds < 1 || rounds > 100) {
                fprintf(stderr, "scale-bench: IOMMUD_BENCH_ROUNDS must be 1..100\n");
                return 2;
        }
        if (getenv("IOMMUD_BENCH_SAMPLES"))
                samples = strtoul(getenv("IOMMUD_BENCH_SAMPLES"), NULL, 10);
        if (samples < 4 || samples > SAMPLES_MAX) {
                fprintf(stderr, "scale-bench: IOMMUD_BENCH_SAMPLES must be 4..%d\n", SAMPLES_MAX);
                return 2;
        }
        (void)setrlimit(RLIMIT_NOFILE, &nofile);
        n_clients = (unsigned)strtoul(argv[pair ? 8 : 2], NULL, 10);
        if (pair) {
                bench_init(&bs[0], argv[2], argv[3], argv[4], 0);
                bench_init(&bs[1], argv[5], argv[6], argv[7], n_clients);
        } else {
                if (!getenv("DBUS_SYSTEM_BUS_ADDRESS"))
                        usage();
                bench_init(&bs[0], getenv("DBUS_SYSTEM_BUS_ADDRESS"), argv[3], argv[1], n_clients);
        }
        measure_phase(bs, n, "alone", alone);
        if (n_clients)
                measure_loaded(bs, n, n_clients, pair ? paired : loaded);
        for (size_t k = 0; k < n; k++) {
                free(bs[k].load);
                sd_bus_flush_close_unref(bs[k].bus);
        }
        return 0;
}
