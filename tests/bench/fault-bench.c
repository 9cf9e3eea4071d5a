/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fault-bench.c - page request service against a bare read-and-answer loop, same fd, same run */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/backend/fault-serve.h"
#include "daemon/backend/sim.h"
#include "daemon/core/bond.h"
#include "daemon/core/client.h"
#include "daemon/core/device.h"
#include "daemon/core/fault.h"
#include "daemon/core/group.h"
#include "daemon/core/region.h"

/*
 * Both loops feed the sim backend's fault queue, which speaks the kernel's
 * iommufd fault ABI with its semantics (sim-fault.h), with batches of
 * one-record page request groups, and take every answer back:
 *   (a) full: fault_queue_serve(), the daemon's own path: read, push into
 *       the core, find the client's region, map the page (core mapping + the
 *       sim's I/O page table), answer;
 *   (b) bare: read the same records and answer each SUCCESS, no work.
 * a/b is the share of the bare loop's rate the real service keeps.
 */

#define REGION_PAGES 16384u             /* 64 MiB of shared memory */
#define REGION_ADDR UINT64_C(0x7f0000000000)
#define DEV "0000:00:02.0"

typedef struct Bench {
        SimBackend *sim;
        Core *core;
        Client *client;
        Device *device;
        Region *region;
        uint8_t *memory;
        uint32_t pasid, dev_id;
        uint64_t tag;
        uint64_t next_page;             /* next unmapped page to fault on */
        double *lat_us;                 /* per fault, request to response */
        size_t n_lat;
} Bench;

static uint64_t now_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

static Device *lookup(void *userdata, uint32_t dev_id) {
        return sim_device_by_id(userdata, dev_id);
}

static void die(const char *what, int r) {
        fprintf(stderr, "fault-bench: %s: %s\n", what, strerror(r < 0 ? -r : r));
        exit(1);
}

/* Shares the region again: all its pages unmapped, ready to fault. */
static void reset_region(Bench *b) {
        int r;

        if (b->region)
                region_remove(b->region);
        r = region_new(b->client, REGION_ADDR, 0, (uint64_t)REGION_PAGES * 4096, ACCESS_ALL, b->memory, -1,
                       &b->region);
        if (r < 0)
                die("region", r);
        b->next_page = 0;
}

static void setup(Bench *b) {
        ClientIdentity id = { .uid = 1000, .gid = 1000, .pid = 1, .name = ":bench" };
        Device *d;
        Bond *bond;
        int r;

        if ((r = sim_backend_new(&b->sim)) < 0 || (r = core_new(&b->core, &sim_ops, b->sim)) < 0 ||
            (r = sim_load_topology(b->sim, b->core, NULL, NULL)) < 0)
                die("setup", r);
        d = core_find_device(b->core, DEV);
        if ((r = client_new(b->core, &id, NULL, &b->client)) < 0 ||
            (r = group_claim(d->group, b->client, 0)) < 0 || (r = bond_bind(b->client, d, &bond)) < 0)
                die("bind", r);
        b->device = d;
        b->pasid = bond->pasid;
        b->dev_id = (uint32_t)(uintptr_t)d->backend_data;
        b->memory = aligned_alloc(4096, (size_t)REGION_PAGES * 4096);
        if (!b->memory)
                die("memory", -ENOMEM);
        reset_region(b);
}

/* The device side: a batch of one-page groups on unmapped pages. */
static void send_batch(Bench *b, unsigned n) {
        if (b->next_page + n > REGION_PAGES)
                reset_region(b);
        for (unsigned i = 0; i < n; i++) {
                IommuHwptPgfault rec = {
                        .flags = FAULT_FLAG_PASID_VALID | FAULT_FLAG_LAST_PAGE, .dev_id = b->dev_id,
                        .pasid = b->pasid, .grpid = (uint32_t)(++b->tag & 0x1ff), .perm = FAULT_PERM_WRITE,
                        .addr = REGION_ADDR + (b->next_page++) * 4096, .length = 4096,
                };
                int r = sim_fault_raise(sim_fault_backend(b->sim), b->device, b->pasid, &rec, 1, b->tag);

                if (r < 0)
                        die("raise", r);
        }
}

/* Takes n answers back; returns how many said SUCCESS. */
static unsigned recv_responses(Bench *b, unsigned n) {
        unsigned ok = 0;

        for (unsigned i = 0; i < n; i++) {
                uint64_t tag;
                FaultCode code;

                if (sim_fault_next_answer(sim_fault_backend(b->sim), &tag, &code) <= 0)
                        die("answers", -EIO);
                ok += code == FAULT_SUCCESS;
        }
        return ok;
}

static void serve_full(Bench *b) {
        int r = fault_queue_serve(sim_fault_queue(b->sim), b->core, lookup, b->sim, 0);
        if (r <= 0)
                die("serve", r ? r : -EIO);
}

static void serve_bare(Bench *b) {
        const IommuHwptPgfault *recs;
        FaultQueue *q = sim_fault_queue(b->sim);
        int n = fault_queue_read(q, &recs);

        if (n <= 0)
                die("bare read", n ? n : -EIO);
        for (int i = 0; i < n; i++)
                fault_queue_respond(q, recs[i].cookie, FAULT_SUCCESS);
        fault_queue_flush(q);
}

/* Faults per second over total faults, in batches; records latencies. */
static double run(Bench *b, unsigned batch, unsigned total, bool full) {
        uint64_t busy = 0;

        for (unsigned done = 0; done < total; done += batch) {
                uint64_t t0, t1;

                if (b->next_page + batch > REGION_PAGES)
                        reset_region(b);        /* untimed: not fault service */
                t0 = now_ns();
                send_batch(b, batch);
                if (full)
                        serve_full(b);
                else
                        serve_bare(b);
                if (recv_responses(b, batch) != batch)
                        die("a fault was refused", -EFAULT);
                t1 = now_ns();
                busy += t1 - t0;
                for (unsigned i = 0; i < batch && b->n_lat < total; i++)
                        b->lat_us[b->n_lat++] = (double)(t1 - t0) / 1000.0;
        }
        return (double)total / ((double)busy / 1e9);
}

static int cmp_double(const void *x, const void *y) {
        double a = *(const double *)x, c = *(const double *)y;
        return a < c ? -1 : a > c;
}

static double percentile(double *v, size_t n, double p) {
        qsort(v, n, sizeof(*v), cmp_double);
        return v[(size_t)((double)(n - 1) * p)];
}

static double median(double *v, size_t n) {
        return percentile(v, n, 0.5);
}

/*
 * Rounds alternate full and bare, so that both see the same machine; the
 * ratio reported is the median of the rounds' ratios, beside the lowest
 * and the highest round's, which say how noisy it is here. Returns the
 * median.
 */
#define ROUNDS 7

static double bench_batch(Bench *b, unsigned batch, unsigned total) {
        unsigned n = (total / ROUNDS) - (total / ROUNDS) % batch;
        double full[ROUNDS], bare[ROUNDS], ratio[ROUNDS], *lat, mid;
        size_t n_lat = 0;

        lat = calloc((size_t)n * ROUNDS, sizeof(double));
        if (!lat)
                die("memory", -ENOMEM);
        run(b, batch, n / 4, true);     /* warm up allocator and page maps */
        for (unsigned r = 0; r < ROUNDS; r++) {
                b->n_lat = 0;
                full[r] = run(b, batch, n, true);
                memcpy(lat + n_lat, b->lat_us, b->n_lat * sizeof(double));
                n_lat += b->n_lat;
                bare[r] = run(b, batch, n, false);
                ratio[r] = full[r] / bare[r];
        }
        mid = median(ratio, ROUNDS);
        printf("%-6u %14.0f %14.0f %9.2f  %4.2f..%4.2f %11.2f %9.2f\n", batch, median(full, ROUNDS),
               median(bare, ROUNDS), mid, ratio[0], ratio[ROUNDS - 1], percentile(lat, n_lat, 0.5),
               percentile(lat, n_lat, 0.99));
        free(lat);
        return mid;
}

int main(int argc, char *argv[]) {
        static const unsigned batches[] = { 1, 16, 256 };
        unsigned total = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 262144;
        Bench b = { 0 };
        double goal = 0;

        setup(&b);
        b.lat_us = calloc(total, sizeof(double));
        if (!b.lat_us)
                die("memory", -ENOMEM);
        printf("fault service: %u one-page groups per batch size in %u alternating rounds,\n"
               "sim fault queue (iommufd record ABI); (a) full = the daemon's fault_queue_serve(),\n"
               "(b) bare = read and answer SUCCESS; latency is request to response, (a) only\n",
               total, ROUNDS);
        printf("%-6s %14s %14s %9s  %10s %11s %9s\n", "batch", "full faults/s", "bare faults/s", "ratio a/b",
               "rounds", "median us", "p99 us");
        for (size_t i = 0; i < sizeof(batches) / sizeof(batches[0]); i++) {
                double r = bench_batch(&b, batches[i], total);

                if (batches[i] == 16)
                        goal = r;
        }
        printf("goal: ratio a/b at batch 16 >= 0.80: %.2f %s\n", goal, goal >= 0.8 ? "met" : "MISSED");
        free(b.lat_us);
        core_free(b.core);
        sim_backend_free(b.sim);
        free(b.memory);
        return 0;
}
