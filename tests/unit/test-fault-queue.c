/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-fault-queue.c - the fault queue end to end on the sim, whose queue behaves like iommufd's */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/backend/fault-serve.h"
#include "daemon/backend/sim.h"
#include "daemon/core/bond.h"
#include "daemon/core/client.h"
#include "daemon/core/core.h"
#include "daemon/core/device.h"
#include "daemon/core/fault.h"
#include "daemon/core/group.h"
#include "daemon/core/region.h"

#define DEV_A "0000:00:02.0"            /* PASID + PRI */
#define DEV_B "0000:00:05.0"            /* PASID + PRI, another group */
#define ADDR UINT64_C(0x7f0000000000)
#define LEN (2u * 1024 * 1024)

/* A DMA's outcome, as the Simulator's Dma() reply would carry it. */
typedef struct Outcome {
        bool done;
        int error;
        char why[160];
} Outcome;

/* A client with one PRI device bound and LEN bytes shared at ADDR. */
typedef struct Party {
        Client *client;
        Device *device;
        Bond *bond;
        uint8_t *memory;
} Party;

static SimBackend *sim;
static Core *core;
static Party pa, pb;            /* their memory outlives the core */
static FaultQueue *queue;
static char logged[8][320];
static unsigned n_logged;

static void on_log(void *userdata, const char *line) {
        if (n_logged < 8)
                snprintf(logged[n_logged], sizeof(logged[0]), "%s", line);
        n_logged++;
}

static void setup(void) {
        cr_assert_eq(sim_backend_new(&sim), 0);
        cr_assert_eq(core_new(&core, &sim_ops, sim), 0);
        cr_assert_eq(sim_load_topology(sim, core, NULL, NULL), 0);
        queue = sim_fault_queue(sim);
        fault_queue_set_log(queue, on_log, NULL);
        n_logged = 0;
}

static void teardown(void) {
        core = core_free(core);
        sim = sim_backend_free(sim);
        free(pa.memory);
        free(pb.memory);
        memset(&pa, 0, sizeof(pa));
        memset(&pb, 0, sizeof(pb));
}

static Device *lookup(void *userdata, uint32_t dev_id) {
        return sim_device_by_id(userdata, dev_id);
}

TestSuite(fault_queue, .init = setup, .fini = teardown);

static void party(Party *p, uid_t uid, const char *device) {
        ClientIdentity id = { .uid = uid, .gid = uid, .pid = (pid_t)uid, .name = ":test" };
        Region *r;

        memset(p, 0, sizeof(*p));
        p->device = core_find_device(core, device);
        cr_assert_not_null(p->device);
        p->memory = aligned_alloc(4096, LEN);
        cr_assert_not_null(p->memory);
        memset(p->memory, 0, LEN);
        cr_assert_eq(client_new(core, &id, NULL, &p->client), 0);
        p->client->fault_timeout_usec = UINT64_C(3600) * 1000 * 1000;
        cr_assert_eq(group_claim(p->device->group, p->client, 0), 0);
        cr_assert_eq(bond_bind(p->client, p->device, &p->bond), 0);
        cr_assert_eq(region_new(p->client, ADDR, 0, LEN, ACCESS_ALL, p->memory, -1, &r), 0);
}

static void on_done(void *userdata, int error, const char *why, const uint8_t *data, size_t len) {
        Outcome *o = userdata;

        o->done = true;
        o->error = error;
        snprintf(o->why, sizeof(o->why), "%s", why ? why : "");
}

/* The device of p writes len bytes of `fill` at ADDR + offset. */
static void dma_write(Party *p, uint64_t offset, uint32_t len, uint8_t fill, Outcome *o) {
        uint8_t *data = malloc(len);
        DmaRequest req = {
                .device = p->device, .pasid = p->bond->pasid, .addr = ADDR + offset, .len = len,
                .write = true, .data = data, .done = on_done, .userdata = o,
        };

        cr_assert_not_null(data);
        memset(data, fill, len);
        memset(o, 0, sizeof(*o));
        cr_assert_eq(sim_dma(sim, &req), 0);
        free(data);
}

/* One turn of the daemon's event loop: the fault fd, the answers written
 * (fault_service_post()), then the devices take their answers. */
static int serve(void) {
        int n = fault_queue_serve(queue, core, lookup, sim, 0);

        (void)fault_queue_flush(queue);
        while (sim_process_responses(sim) > 0)
                ;
        return n;
}

static bool all_bytes(const uint8_t *p, size_t len, uint8_t v) {
        for (size_t i = 0; i < len; i++)
                if (p[i] != v)
                        return false;
        return true;
}

Test(fault_queue, L8_detach_with_a_pending_group_writes_nothing_and_the_next_answer_goes_out) {
        const SimFaultStats *st = sim_fault_stats(sim_fault_backend(sim));
        Party *a = &pa, *b = &pb;
        static Outcome oa, ob;  /* a DMA left pending is failed at teardown */

        party(a, 1000, DEV_A);
        party(b, 1001, DEV_B);

        /* A's page request is read and waits unanswered (a slow service). */
        a->device->hold_faults = true;
        dma_write(a, 0x3000, 16, 0xaa, &oa);
        cr_assert_eq(serve(), 1);
        cr_assert_not(oa.done, "A's DMA waits for its page request");
        cr_assert_eq(fault_table_pending(core->faults), 1);
        cr_assert_eq(sim_fault_pending(sim_fault_backend(sim)), 1, "the kernel holds it, read");

        /* A goes away: its slot is detached, which answers that request. */
        cr_assert_eq(client_release(core, a->client->id), 0);
        cr_assert(oa.done && oa.error == -EFAULT, "A's DMA fails when its PASID goes");
        cr_assert_eq(st->answered_by_detach, 1, "the detach answered A's request INVALID");
        cr_assert_eq(sim_fault_pending(sim_fault_backend(sim)), 0);
        cr_assert_eq(fault_table_pending(core->faults), 0);
        cr_assert_eq(a->device->faults.aborted, 1);
        (void)fault_queue_flush(queue);         /* what the event loop does next */

        /* B's page request on the other device is served and answered. */
        dma_write(b, 0x5000, 64, 0xbb, &ob);
        cr_assert_eq(serve(), 1);
        cr_assert(ob.done, "B's DMA got its answer");
        cr_assert_eq(ob.error, 0, "B's DMA: %s", ob.why);
        cr_assert(all_bytes(b->memory + 0x5000, 64, 0xbb), "B's bytes landed in its memory");
        cr_assert_eq(st->answered, 1);
        cr_assert_eq(st->refused, 0, "no answer written for the request the detach answered");
        cr_assert_eq(n_logged, 0, "nothing was refused: %s", n_logged ? logged[0] : "");
}

/* The kernel reuses a cookie as soon as its group is answered (xa_alloc()
 * of the lowest free one): the next group gets the cookie the detach freed,
 * and an answer meant for the old group would land on the new one. */
Test(fault_queue, L8_a_cookie_the_detach_freed_is_the_next_groups_and_answered_once) {
        const SimFaultStats *st = sim_fault_stats(sim_fault_backend(sim));
        Party *a = &pa, *b = &pb;
        static Outcome oa, ob;  /* a DMA left pending is failed at teardown */

        party(a, 1000, DEV_A);
        party(b, 1001, DEV_B);
        a->device->hold_faults = true;
        dma_write(a, 0, 16, 0xaa, &oa);
        cr_assert_eq(serve(), 1);
        cr_assert_eq(queue->in[0].cookie, 1, "cookies are numbered from 1");
        cr_assert_eq(client_release(core, a->client->id), 0);

        dma_write(b, 0, 16, 0xbb, &ob);
        cr_assert_eq(serve(), 1);
        cr_assert_eq(queue->in[0].cookie, 1, "B's group has the cookie A's had");
        cr_assert(ob.done, "B's DMA got its answer");
        cr_assert_eq(ob.error, 0, "B's DMA got B's answer, not A's: %s", ob.why);
        cr_assert(all_bytes(b->memory, 16, 0xbb));
        cr_assert_eq(st->answered, 1);
        cr_assert_eq(st->refused, 0);
        cr_assert_eq(b->device->faults.resolved, 1);
        cr_assert_eq(a->device->faults.aborted, 1);
}

Test(fault_queue, a_refused_cookie_in_the_middle_of_a_batch_does_not_block_the_others) {
        const SimFaultStats *st = sim_fault_stats(sim_fault_backend(sim));
        SimFaultQueue *kq = sim_fault_backend(sim);
        IommuHwptPgfault rec = { .flags = FAULT_FLAG_LAST_PAGE, .perm = FAULT_PERM_READ };
        const IommuHwptPgfault *recs;
        Device *d = core_find_device(core, DEV_A);
        uint64_t tag;
        FaultCode code;

        for (uint64_t t = 1; t <= 3; t++)
                cr_assert_eq(sim_fault_raise(kq, d, 0, &rec, 1, t), 0);
        cr_assert_eq(fault_queue_read(queue, &recs), 3);
        cr_assert(recs[0].cookie == 1 && recs[1].cookie == 2 && recs[2].cookie == 3);

        fault_queue_respond(queue, 1, FAULT_SUCCESS);
        fault_queue_respond(queue, 99, FAULT_INVALID);  /* a cookie the kernel does not know */
        fault_queue_respond(queue, 2, FAULT_SUCCESS);
        fault_queue_respond(queue, 3, FAULT_INVALID);
        cr_assert_eq(fault_queue_flush(queue), -EINVAL, "the flush says one was refused");
        cr_assert_eq(st->refused, 1);
        cr_assert_eq(st->answered, 3, "the answers after the refused one went out");
        cr_assert_eq(queue->n_out, 0, "nothing stays in the buffer");
        cr_assert_eq(queue->rejected, 1);
        cr_assert_eq(queue->responses, 3);
        cr_assert_eq(n_logged, 1, "the refused cookie is said once");
        cr_assert_not_null(strstr(logged[0], "page request 99"), "%s", logged[0]);

        for (uint64_t t = 1; t <= 3; t++) {
                cr_assert_eq(sim_fault_next_answer(kq, &tag, &code), 1);
                cr_assert_eq(tag, t);
                cr_assert_eq(code, t == 3 ? FAULT_INVALID : FAULT_SUCCESS);
        }
        cr_assert_eq(sim_fault_next_answer(kq, &tag, &code), 0);

        /* The next flush writes what is new, not the refused one again. */
        cr_assert_eq(sim_fault_raise(kq, d, 0, &rec, 1, 4), 0);
        cr_assert_eq(fault_queue_read(queue, &recs), 1);
        fault_queue_respond(queue, recs[0].cookie, FAULT_SUCCESS);
        cr_assert_eq(fault_queue_flush(queue), 0);
        cr_assert_eq(st->refused, 1);
        cr_assert_eq(st->answered, 4);
        cr_assert_eq(n_logged, 1);
}

/* iommufd_fault_fops_write() stops at the first refused response; a
 * partial count is not a failure, the rest is written again. */
Test(fault_queue, a_refused_cookie_first_in_the_buffer_is_dropped_and_the_rest_written) {
        const SimFaultStats *st = sim_fault_stats(sim_fault_backend(sim));
        SimFaultQueue *kq = sim_fault_backend(sim);
        IommuHwptPgfault rec = { .flags = FAULT_FLAG_LAST_PAGE, .perm = FAULT_PERM_READ };
        const IommuHwptPgfault *recs;
        Device *d = core_find_device(core, DEV_A);

        cr_assert_eq(sim_fault_raise(kq, d, 0, &rec, 1, 1), 0);
        cr_assert_eq(fault_queue_read(queue, &recs), 1);
        fault_queue_respond(queue, 7, FAULT_SUCCESS);
        fault_queue_respond(queue, 8, FAULT_SUCCESS);
        fault_queue_respond(queue, recs[0].cookie, FAULT_SUCCESS);
        (void)fault_queue_flush(queue);
        cr_assert_eq(st->refused, 2);
        cr_assert_eq(st->answered, 1);
        cr_assert_eq(n_logged, 2, "each refused cookie said once");
}

/* iommufd delivers whole groups and refuses (-EINVAL) a read that cannot
 * hold the first: a 1 MiB DMA at an unaligned address misses 257 pages,
 * one group bigger than a batch of FAULT_QUEUE_BATCH records. */
Test(fault_queue, a_group_larger_than_the_read_batch_is_read_whole) {
        Party *a = &pa;
        static Outcome o;       /* a DMA left pending is failed at teardown */
        int n;

        party(a, 1000, DEV_A);
        dma_write(a, 0x800, DMA_MAX, 0xcd, &o);
        cr_assert_eq(sim_fault_stats(sim_fault_backend(sim))->raised, 1);
        n = serve();
        cr_assert_eq(n, DMA_MAX / 4096 + 1, "the whole group in one read: %d", n);
        cr_assert_gt(n, FAULT_QUEUE_BATCH);
        cr_assert_eq(queue->reads, 1);
        cr_assert(o.done, "the DMA got its answer");
        cr_assert_eq(o.error, 0, "the DMA: %s", o.why);
        cr_assert(all_bytes(a->memory + 0x800, DMA_MAX, 0xcd));
        cr_assert_eq(a->device->faults.resolved, 1);

        /* Batches are back to their size: the next small group reads fine. */
        dma_write(a, LEN - 0x1000, 16, 0xef, &o);
        cr_assert_eq(serve(), 1);
        cr_assert(o.done && o.error == 0 && all_bytes(a->memory + LEN - 0x1000, 16, 0xef));
}

/* A group no read of the daemon's can hold blocks the kernel's queue (it
 * never skips one): said once, not spun on, and gone when its attachment
 * is detached, which answers it. */
Test(fault_queue, a_group_beyond_any_read_is_said_once_until_a_detach_answers_it) {
        SimFaultQueue *kq = sim_fault_backend(sim);
        const unsigned n = FAULT_QUEUE_MAX_GROUP + 1;
        IommuHwptPgfault *big = calloc(n, sizeof(*big));
        const IommuHwptPgfault *recs;
        Device *d = core_find_device(core, DEV_A);

        cr_assert_not_null(big);
        big[n - 1].flags = FAULT_FLAG_LAST_PAGE;
        cr_assert_eq(sim_fault_raise(kq, d, 0, big, n, 1), 0);
        cr_assert_eq(fault_queue_read(queue, &recs), -EMSGSIZE);
        cr_assert_eq(fault_queue_read(queue, &recs), -EMSGSIZE);
        cr_assert_eq(n_logged, 1, "said once");
        cr_assert_not_null(strstr(logged[0], "more than 4096 records"), "%s", logged[0]);
        cr_assert_eq(sim_fault_detach(kq, d, 0), 1);
        cr_assert_eq(fault_queue_read(queue, &recs), 0, "nothing queued any more");
        free(big);
}

/* What the sim's queue does is what iommufd's does (eventq.c). */
Test(fault_queue, sim_queue_follows_the_kernel_abi) {
        SimFaultQueue *kq = sim_fault_backend(sim);
        IommuHwptPgfault two[2] = { { .perm = FAULT_PERM_READ }, { .flags = FAULT_FLAG_LAST_PAGE } };
        IommuHwptPgfault buf[4];
        IommuHwptPageResponse resp[2] = { { .cookie = 1, .code = 7 }, { .cookie = 1 } };
        Device *d = core_find_device(core, DEV_A);
        uint64_t tag;
        FaultCode code;

        cr_assert_eq(sim_fault_io.read(kq, buf, sizeof(buf)), 0, "nothing queued: 0");
        cr_assert_eq(sim_fault_io.read(kq, buf, 1), -ESPIPE, "not a multiple of a record");
        cr_assert_eq(sim_fault_raise(kq, d, 3, two, 2, 42), 0);
        cr_assert_eq(sim_fault_io.read(kq, buf, sizeof(buf[0])), -EINVAL, "the first group does not fit");
        cr_assert_eq(sim_fault_io.read(kq, buf, sizeof(buf)), 2 * (ssize_t)sizeof(buf[0]));
        cr_assert(buf[0].cookie == 1 && buf[1].cookie == 1, "one cookie per group, given at read");
        cr_assert_eq(sim_fault_io.write(kq, resp, sizeof(resp)), -EINVAL, "a bad code first: nothing done");
        cr_assert_eq(sim_fault_io.write(kq, &resp[1], sizeof(resp[1])), (ssize_t)sizeof(resp[1]));
        cr_assert_eq(sim_fault_io.write(kq, &resp[1], sizeof(resp[1])), -EINVAL, "answered already");
        cr_assert_eq(sim_fault_next_answer(kq, &tag, &code), 1);
        cr_assert(tag == 42 && code == FAULT_SUCCESS);

        /* Detach answers the attachment's groups, read or not, and only its. */
        cr_assert_eq(sim_fault_raise(kq, d, 3, &two[1], 1, 1), 0);
        cr_assert_eq(sim_fault_raise(kq, d, 4, &two[1], 1, 2), 0);
        cr_assert_eq(sim_fault_io.read(kq, buf, sizeof(buf[0])), (ssize_t)sizeof(buf[0]));
        cr_assert_eq(buf[0].cookie, 1, "the answered group's cookie is free again");
        cr_assert_eq(sim_fault_raise(kq, d, 3, &two[1], 1, 3), 0);
        cr_assert_eq(sim_fault_detach(kq, d, 3), 2, "the one read and the one queued");
        cr_assert_eq(sim_fault_next_answer(kq, &tag, &code), 1);
        cr_assert(tag == 3 && code == FAULT_INVALID);
        cr_assert_eq(sim_fault_next_answer(kq, &tag, &code), 1);
        cr_assert(tag == 1 && code == FAULT_INVALID);
        cr_assert_eq(sim_fault_io.write(kq, &resp[1], sizeof(resp[1])), -EINVAL, "cookie 1 is forgotten");
        cr_assert_eq(sim_fault_io.read(kq, buf, sizeof(buf)), (ssize_t)sizeof(buf[0]), "PASID 4's is left");
        cr_assert_eq(buf[0].cookie, 1, "the lowest free cookie again");
}
