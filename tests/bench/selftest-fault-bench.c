/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* selftest-fault-bench.c - in the VM lane's guest: the daemon's fault service against a bare loop on the kernel's fault fd */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "daemon/backend/backend.h"
#include "daemon/backend/fault-serve.h"
#include "daemon/backend/kernel-internal.h"
#include "daemon/backend/selftest-uapi.h"
#include "daemon/backend/selftest.h"
#include "daemon/core/bond.h"
#include "daemon/core/client.h"
#include "daemon/core/device.h"
#include "daemon/core/domain.h"
#include "daemon/core/fault.h"
#include "daemon/core/group.h"
#include "daemon/core/region.h"

/*
 * tests/bench/fault-bench's ratio, on the real iommufd fault queue of the
 * lane's kernel instead of the sim's: the selftest backend, as iommud
 * --backend=selftest runs it, with mock0 claimed, 64 MiB of a memfd shared
 * and SVA bound. Page requests are raised by the kernel's mock device
 * (IOMMU_TEST_OP_TRIGGER_IOPF, one-page groups on pages never mapped), in
 * batches of 1 and 16, and taken back in two ways from the same fault fd:
 *   (a) daemon: fault_queue_serve(), what the daemon's fault fd handler
 *       calls (daemon/fault-service.c): read, look the device up, push into
 *       the core, find the client's region, map the page into the SVA
 *       domain's IOAS (IOMMU_IOAS_MAP_FILE), answer in one write; then what
 *       the daemon does after every dispatch (core_dispatch(), the fault
 *       timeouts). Only the event loop around it is left out.
 *   (b) bare: read(2) the struct iommu_hwpt_pgfault records and write(2)
 *       one SUCCESS struct iommu_hwpt_page_response per cookie.
 *   (c) bare + map: (b), and for each record one IOMMU_IOAS_MAP_FILE of
 *       the memfd's page at the faulting IOVA into the same IOAS, as the
 *       daemon maps it, at IOVAs of a second 64 MiB above the region's: the
 *       kernel's part of (a), without the daemon's.
 * Rounds take (a), (b) and (c) in turn; the figures are the medians over
 * rounds of the rate of (a) over the rate of (b), and of (a) over (c): the
 * second says how much of the first is the daemon's own work and how much
 * the kernel's map. Each is timed from raising the batch to the kernel
 * taking its last answer (as fault-bench), and also for the service alone
 * (from the batch queued to its answers taken). Under TCG absolute times
 * mean nothing; the ratio does.
 *
 * It is a figure, not a timed test: it fails only if a page request was
 * not answered, or not taken by the kernel, or a page the daemon mapped is
 * not in the kernel's mock page table (IOMMU_TEST_OP_MD_CHECK_MAP).
 * usage: selftest-fault-bench [FAULTS_PER_ROUND] (default 512)
 */

#define REGION_PAGES 16384u                     /* 64 MiB shared: one page per fault until a reset */
#define REGION_ADDR UINT64_C(0x40000000)        /* inside the mock IOMMU's aperture (16 MiB..2 GiB) */
#define MAPPED_ADDR (REGION_ADDR + (uint64_t)REGION_PAGES * PAGE_SIZE_4K)  /* (c)'s 64 MiB, above it */
#define ROUNDS 7
#define READ_ROOM FAULT_QUEUE_BATCH             /* the bare loop reads with the daemon's room */

typedef struct Bench {
        Backend *backend;       /* owned: the selftest backend, with its own iommufd */
        Core *core;             /* owned */
        Client *client;         /* borrowed from core */
        Device *device;         /* borrowed from core: mock0 */
        Region *region;         /* borrowed from client */
        int memfd;              /* owned */
        void *memory;           /* owned: our mapping of the memfd, the region's backing */
        FaultQueue *queue;      /* borrowed from backend: its fd is the kernel's fault fd */
        int iommufd;            /* borrowed from backend: the mock device's context */
        uint32_t dev_id, pasid;
        uint32_t ioas_id;       /* the SVA domain's IOAS, where (a) maps: (c) maps there too */
        uint32_t next_grpid;
        uint64_t next_page;     /* (a): the next page of the region never mapped */
        uint64_t bare_page;     /* (b): pages to name, never mapped */
        uint64_t mapped_page;   /* (c): the next page above MAPPED_ADDR not mapped */
        uint64_t checked_to;    /* (a): pages of the region below it were found in the kernel */
        uint64_t checked_pages; /* found in the kernel's mock page table, in all */
        char mismatch[256];     /* the first page it did not have, or "" */
        uint64_t daemon_faults, bare_faults, mapped_faults;     /* answered and taken, in all */
        unsigned passed, failed;
} Bench;

typedef struct Times {
        uint64_t total_ns;      /* raise to the last answer taken */
        uint64_t serve_ns;      /* queued to the last answer taken */
} Times;

static void check(Bench *b, bool ok, const char *fmt, ...) {
        va_list ap;

        printf(ok ? "ok   " : "FAIL ");
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        putchar('\n');
        fflush(stdout);
        if (ok)
                b->passed++;
        else
                b->failed++;
}

static void finish(Bench *b) {
        printf("fault-ratio: %u passed, %u failed\n", b->passed, b->failed);
        exit(b->failed ? 1 : 0);
}

/* A check that the rest depends on: on failure, says so and ends. */
static void require(Bench *b, bool ok, const char *what, int r) {
        if (ok)
                return;
        check(b, false, "%s: %s", what, r < 0 ? strerror(-r) : "no");
        finish(b);
}

static uint64_t now_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

/* BackendOptions.log: one message, its "<N>" priority left out. */
static void log_backend(void *userdata, const char *fmt, va_list ap) {
        char line[1024];

        vsnprintf(line, sizeof(line), fmt, ap);
        printf("backend: %s\n", line[0] == '<' && line[1] && line[2] == '>' ? line + 3 : line);
}

static void log_queue(void *userdata, const char *line) {
        printf("fault queue: %s\n", line);
}

/* The daemon's lookup (daemon/fault-service.c): the backend's index. */
static Device *lookup(void *userdata, uint32_t dev_id) {
        const Backend *backend = userdata;

        return backend->class->device_by_fault_id(backend->data, dev_id);
}

/* The pages the daemon mapped into the region since the last look, asked
 * of the kernel (untimed). */
static void check_mapped(Bench *b) {
        uint64_t n = b->next_page - b->checked_to;
        char why[256] = "";
        int k;

        if (n == 0)
                return;
        k = b->backend->class->check_map(b->backend->data, b->device, b->pasid,
                                         REGION_ADDR + b->checked_to * PAGE_SIZE_4K, n * PAGE_SIZE_4K, why,
                                         sizeof(why));
        if (k != (int)n && !b->mismatch[0])
                snprintf(b->mismatch, sizeof(b->mismatch), "%s", why[0] ? why : "a page count differs");
        b->checked_pages += k > 0 ? (uint64_t)k : 0;
        b->checked_to = b->next_page;
}

/* Shares the region again, all its pages unmapped (untimed); first checks
 * that the kernel has every page the daemon mapped in the last one. */
static void reset_region(Bench *b) {
        int r;

        check_mapped(b);
        if (b->region)
                (void)region_remove(b->region);
        r = region_new(b->client, REGION_ADDR, 0, (uint64_t)REGION_PAGES * PAGE_SIZE_4K, ACCESS_ALL,
                       b->memory, b->memfd, &b->region);
        require(b, r >= 0, "sharing the memfd", r);
        b->next_page = b->checked_to = 0;
}

/* The selftest backend on this kernel, as the daemon makes it, and a
 * client that claimed mock0, shared a memfd and bound SVA. */
static void setup(Bench *b) {
        const BackendOptions opts = { .sysfs = "/sys", .devdir = "/dev", .log = log_backend };
        ClientIdentity id = { .uid = 0, .gid = 0, .pid = getpid(), .name = ":selftest-fault-bench" };
        Bond *bond = NULL;
        int r;

        r = selftest_backend_class.new(&b->backend, &opts);
        require(b, r >= 0, "the selftest backend", r);
        r = core_new(&b->core, b->backend->core_ops, b->backend->core_data);
        require(b, r >= 0, "the core", r);
        r = b->backend->class->load(b->backend->data, b->core, &opts);
        require(b, r >= 0, "the kernel's groups and the mock devices", r);
        core_dispatch(b->core);
        b->device = core_find_device(b->core, "mock0");
        require(b, b->device, "mock0", 0);
        r = client_new(b->core, &id, NULL, &b->client);
        if (r >= 0)
                r = group_claim(b->device->group, b->client, 0);
        require(b, r == 0, "claiming mock0's group", r);
        b->memfd = memfd_create("selftest-fault-bench", MFD_CLOEXEC);
        require(b, b->memfd >= 0, "memfd_create", -errno);
        r = ftruncate(b->memfd, (off_t)REGION_PAGES * PAGE_SIZE_4K) < 0 ? -errno : 0;
        require(b, r == 0, "sizing the memfd", r);
        /* Its pages made before any is pinned: the first pin of a page
         * would allocate and zero it, and (a), which runs first in every
         * round, would pay that for the pages (c) then found made. */
        r = fallocate(b->memfd, 0, 0, (off_t)REGION_PAGES * PAGE_SIZE_4K) < 0 ? -errno : 0;
        require(b, r == 0, "allocating the memfd's pages", r);
        b->memory = mmap(NULL, (size_t)REGION_PAGES * PAGE_SIZE_4K, PROT_READ | PROT_WRITE, MAP_SHARED, b->memfd, 0);
        require(b, b->memory != MAP_FAILED, "mapping the memfd", -errno);
        reset_region(b);
        r = bond_bind(b->client, b->device, &bond);
        require(b, r >= 0, "binding SVA on mock0", r);
        core_dispatch(b->core);
        b->queue = backend_fault_queue(b->backend);
        require(b, b->queue, "the kernel's fault queue", -ENOSYS);
        fault_queue_set_log(b->queue, log_queue, b);
        b->iommufd = ((KernelBackend *)b->backend->core_data)->iommufd;
        b->dev_id = ((const KernelDevice *)b->device->backend_data)->dev_id;
        b->pasid = bond->pasid;
        b->ioas_id = ((const KernelDomain *)bond->domain->io.backend_data)->ioas_id;
        check(b, true, "mock0 claimed, 64 MiB of a memfd shared at 0x%llx, SVA bound at PASID %u (fault fd %d)",
              (unsigned long long)REGION_ADDR, b->pasid, b->queue->fd);
}

/* The device side: one write page request, a group of one (the mock always
 * sets LAST_PAGE), queued on the fault fd when the ioctl returns. */
static void raise_fault(Bench *b, uint64_t page) {
        IommuTestCmd cmd = { .size = sizeof(cmd), .op = KTEST_OP_TRIGGER_IOPF };
        int r;

        b->next_grpid = b->next_grpid % 511 + 1;        /* 9 bits in PCIe; 0 means none */
        cmd.trigger_iopf.dev_id = b->dev_id;
        cmd.trigger_iopf.pasid = b->pasid;
        cmd.trigger_iopf.grpid = b->next_grpid;
        cmd.trigger_iopf.perm = FAULT_PERM_WRITE;
        cmd.trigger_iopf.addr = REGION_ADDR + page * PAGE_SIZE_4K;
        r = kernel_ioctl(b->iommufd, KIOMMU_TEST_CMD, &cmd);
        require(b, r >= 0, "IOMMU_TEST_OP_TRIGGER_IOPF", r);
}

/* (a) The daemon's service until the batch is answered: each answer
 * written, taken by the kernel (none refused or lost) and SUCCESS. */
static void serve_daemon(Bench *b, unsigned batch, uint64_t now) {
        FaultQueue *q = b->queue;
        uint64_t responses = q->responses, rejected = q->rejected, lost = q->lost;
        uint64_t resolved = b->device->faults.resolved;
        unsigned done = 0;

        while (done < batch) {
                int n = fault_queue_serve(q, b->core, lookup, b->backend, now / 1000);

                require(b, n > 0, "the daemon reads the batch raised", n);
                done += (unsigned)n;
                /* What the daemon runs after every dispatch (daemon.c's
                 * on_post(), fault_service_post()). */
                core_dispatch(b->core);
                (void)fault_table_expire(b->core, now / 1000);
                (void)fault_queue_flush(q);
        }
        require(b, done == batch && q->responses - responses == batch && q->rejected == rejected &&
                           q->lost == lost && b->device->faults.resolved - resolved == batch,
                "the daemon answered SUCCESS to each page request of the batch, taken by the kernel", 0);
        b->daemon_faults += batch;
}

/* (c)'s map of the page of one record: the memfd's page at its IOVA. */
static void map_record(Bench *b, const IommuHwptPgfault *rec) {
        IommuIoasMapFile cmd = {
                .size = sizeof(cmd), .ioas_id = b->ioas_id, .fd = b->memfd,
                .flags = KIOMMU_IOAS_MAP_FIXED_IOVA | KIOMMU_IOAS_MAP_READABLE | KIOMMU_IOAS_MAP_WRITEABLE,
                .start = rec->addr - MAPPED_ADDR, .length = PAGE_SIZE_4K, .iova = rec->addr,
        };
        int r = kernel_ioctl(b->iommufd, KIOMMU_IOAS_MAP_FILE, &cmd);

        require(b, r >= 0, "(c) IOMMU_IOAS_MAP_FILE of the faulting page", r);
}

/* (c)'s pages all unmapped again (untimed, as (a)'s reset_region()). */
static void unmap_mapped(Bench *b) {
        IommuIoasUnmap cmd = {
                .size = sizeof(cmd), .ioas_id = b->ioas_id, .iova = MAPPED_ADDR,
                .length = (uint64_t)REGION_PAGES * PAGE_SIZE_4K,
        };
        int r = kernel_ioctl(b->iommufd, KIOMMU_IOAS_UNMAP, &cmd);

        require(b, r >= 0 && cmd.length == b->mapped_page * PAGE_SIZE_4K,
                "(c) IOMMU_IOAS_UNMAP of every page it mapped", r);
        b->mapped_page = 0;
}

/* (b) Read the records, answer each SUCCESS, in one write; (c) with map,
 * each record's page mapped first. */
static void serve_bare(Bench *b, unsigned batch, bool map) {
        static IommuHwptPgfault in[READ_ROOM];
        static IommuHwptPageResponse out[READ_ROOM];
        unsigned done = 0;

        while (done < batch) {
                ssize_t k = read(b->queue->fd, in, sizeof(in));
                size_t n = k > 0 ? (size_t)k / sizeof(in[0]) : 0;

                require(b, n > 0, "the bare loop reads the batch raised", k < 0 ? -errno : 0);
                for (size_t i = 0; i < n; i++) {
                        if (map)
                                map_record(b, &in[i]);
                        out[i] = (IommuHwptPageResponse) { .cookie = in[i].cookie, .code = FAULT_SUCCESS };
                }
                k = write(b->queue->fd, out, n * sizeof(out[0]));
                require(b, k == (ssize_t)(n * sizeof(out[0])), "the kernel takes every bare answer",
                        k < 0 ? -errno : 0);
                done += (unsigned)n;
        }
        require(b, done == batch, "the bare loop read exactly the batch", 0);
        if (map)
                b->mapped_faults += batch;
        else
                b->bare_faults += batch;
}

typedef enum Path {
        PATH_DAEMON,    /* (a) */
        PATH_BARE,      /* (b) */
        PATH_MAPPED,    /* (c) */
        N_PATHS,
} Path;

/* The first of the batch pages a path's next faults name, taken: (a) and
 * (c) pages never mapped since their last reset (untimed: not fault
 * service), (b) any. */
static uint64_t take_fault_pages(Bench *b, Path path, unsigned batch) {
        uint64_t first;

        switch (path) {
        case PATH_DAEMON:
                if (b->next_page + batch > REGION_PAGES)
                        reset_region(b);
                first = b->next_page;
                b->next_page += batch;
                return first;
        case PATH_MAPPED:
                if (b->mapped_page + batch > REGION_PAGES)
                        unmap_mapped(b);
                first = REGION_PAGES + b->mapped_page;
                b->mapped_page += batch;
                return first;
        default:
                first = b->bare_page % REGION_PAGES;
                b->bare_page += batch;
                return first;
        }
}

/* n faults (a multiple of batch) in batches through one path; the times
 * spent on them. */
static Times run_path(Bench *b, unsigned batch, unsigned n, Path path) {
        Times t = { 0 };

        for (unsigned done = 0; done < n; done += batch) {
                uint64_t t0, t1, t2, page = take_fault_pages(b, path, batch);

                t0 = now_ns();
                for (unsigned i = 0; i < batch; i++)
                        raise_fault(b, page + i);
                t1 = now_ns();
                if (path == PATH_DAEMON)
                        serve_daemon(b, batch, t1);
                else
                        serve_bare(b, batch, path == PATH_MAPPED);
                t2 = now_ns();
                t.total_ns += t2 - t0;
                t.serve_ns += t2 - t1;
        }
        return t;
}

static int cmp_double(const void *x, const void *y) {
        double a = *(const double *)x, c = *(const double *)y;

        return a < c ? -1 : a > c;
}

static double median(double *v, size_t n) {
        qsort(v, n, sizeof(*v), cmp_double);
        return v[n / 2];
}

/* Nothing left queued: a read of the fault fd returns 0 (it never blocks). */
static bool queue_empty(Bench *b) {
        IommuHwptPgfault rec;

        return read(b->queue->fd, &rec, sizeof(rec)) == 0;
}

static void bench_batch(Bench *b, unsigned batch, unsigned per_round) {
        unsigned n = per_round - per_round % batch, warm = n / 4 - (n / 4) % batch;
        double total[ROUNDS], serve[ROUNDS], mapped[ROUNDS], rate[N_PATHS][ROUNDS];
        uint64_t daemon_before = b->daemon_faults, bare_before = b->bare_faults, mapped_before = b->mapped_faults;

        for (Path p = 0; p < N_PATHS; p++)
                (void)run_path(b, batch, warm, p);      /* warm-up: allocator, page maps, caches */
        for (unsigned r = 0; r < ROUNDS; r++) {
                Times t[N_PATHS];

                for (Path p = 0; p < N_PATHS; p++) {
                        t[p] = run_path(b, batch, n, p);
                        rate[p][r] = n / ((double)t[p].total_ns / 1e9);
                }
                /* rate a / rate b, the same n */
                total[r] = (double)t[PATH_BARE].total_ns / (double)t[PATH_DAEMON].total_ns;
                serve[r] = (double)t[PATH_BARE].serve_ns / (double)t[PATH_DAEMON].serve_ns;
                mapped[r] = (double)t[PATH_MAPPED].total_ns / (double)t[PATH_DAEMON].total_ns;
        }
        check_mapped(b);
        check(b, b->daemon_faults - daemon_before == warm + (uint64_t)n * ROUNDS &&
                         b->bare_faults - bare_before == warm + (uint64_t)n * ROUNDS &&
                         b->mapped_faults - mapped_before == warm + (uint64_t)n * ROUNDS && queue_empty(b),
              "batch %u: every page request answered and taken by the kernel, %llu by the daemon (SUCCESS, "
              "the page mapped), %llu by the bare loop and %llu by the bare loop with map; none left queued",
              batch, (unsigned long long)(b->daemon_faults - daemon_before),
              (unsigned long long)(b->bare_faults - bare_before),
              (unsigned long long)(b->mapped_faults - mapped_before));
        printf("fault ratio batch %u: daemon/bare = %.2f (%u faults each in %u rounds; the service alone, "
               "without raising them: %.2f; %.0f vs %.0f faults/s under TCG)\n",
               batch, median(total, ROUNDS), n * ROUNDS, ROUNDS, median(serve, ROUNDS),
               median(rate[PATH_DAEMON], ROUNDS), median(rate[PATH_BARE], ROUNDS));
        printf("fault ratio batch %u: daemon/(bare + map) = %.2f (the bare loop also mapping each page as the "
               "daemon does, IOMMU_IOAS_MAP_FILE: %.0f faults/s)\n",
               batch, median(mapped, ROUNDS), median(rate[PATH_MAPPED], ROUNDS));
        fflush(stdout);
}

int main(int argc, char *argv[]) {
        static const unsigned batches[] = { 1, 16 };
        unsigned per_round = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 512;
        Bench b = { .memfd = -1 };

        if (per_round < 16) {
                fprintf(stderr, "usage: selftest-fault-bench [FAULTS_PER_ROUND >= 16]\n");
                return 2;
        }
        setup(&b);
        for (size_t i = 0; i < sizeof(batches) / sizeof(batches[0]); i++)
                bench_batch(&b, batches[i], per_round);
        check(&b, b.checked_pages == b.daemon_faults && !b.mismatch[0],
              "each of the %llu pages the daemon mapped is in the kernel's mock page table at its IOVA, the "
              "memfd's page (IOMMU_TEST_OP_MD_CHECK_MAP)%s%s", (unsigned long long)b.checked_pages,
              b.mismatch[0] ? ": " : "", b.mismatch);
        b.core = core_free(b.core);
        b.backend = backend_free(b.backend);
        munmap(b.memory, (size_t)REGION_PAGES * PAGE_SIZE_4K);
        close(b.memfd);
        finish(&b);
}
