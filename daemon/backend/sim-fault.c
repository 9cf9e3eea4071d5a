/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sim-fault.c - the sim's fault queue: iommufd's fault fd (delivery, cookies, responses), in process */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/list.h"
#include "common/macro.h"
#include "sim-fault.h"

/* A group, owned by the queue: on q->deliver until read, then in q->table
 * under its cookie until answered, then on q->answers until a device takes
 * the answer. */
typedef struct SimFaultGroup {
        ListNode link;                  /* q->deliver or q->answers */
        const Device *device;           /* the attachment: compared only */
        uint32_t pasid;
        uint64_t tag;
        uint32_t cookie;                /* 0 until read */
        FaultCode code;                 /* once answered */
        unsigned n;
        IommuHwptPgfault recs[];
} SimFaultGroup;

struct SimFaultQueue {
        int fault_fd;                   /* owned eventfd: readable while q->deliver is not empty */
        int device_fd;                  /* owned eventfd: readable while q->answers is not empty */
        bool fault_ready, device_ready; /* what the eventfds say now */
        ListNode deliver;               /* in the order raised */
        ListNode answers;               /* in the order answered */
        SimFaultGroup **table;          /* owned: cookie c at [c - 1], NULL when free */
        uint32_t n_table;
        uint32_t low;                   /* every slot below it is taken */
        unsigned n_pending;
        SimFaultStats stats;
};

int sim_fault_queue_new(SimFaultQueue **ret) {
        SimFaultQueue *q = calloc(1, sizeof(*q));

        if (!q)
                return -ENOMEM;
        list_init(&q->deliver);
        list_init(&q->answers);
        q->fault_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        q->device_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (q->fault_fd < 0 || q->device_fd < 0) {
                int r = -errno;

                sim_fault_queue_free(q);
                return r;
        }
        *ret = q;
        return 0;
}

static void free_list(ListNode *head) {
        while (!list_empty(head)) {
                SimFaultGroup *g = list_entry(head->next, SimFaultGroup, link);

                list_del_init(&g->link);
                free(g);
        }
}

SimFaultQueue *sim_fault_queue_free(SimFaultQueue *q) {
        if (!q)
                return NULL;
        free_list(&q->deliver);
        free_list(&q->answers);
        for (uint32_t i = 0; i < q->n_table; i++)
                free(q->table[i]);
        free(q->table);
        if (q->fault_fd >= 0)
                close(q->fault_fd);
        if (q->device_fd >= 0)
                close(q->device_fd);
        free(q);
        return NULL;
}

int sim_fault_queue_fd(const SimFaultQueue *q) {
        return q->fault_fd;
}

int sim_fault_device_fd(const SimFaultQueue *q) {
        return q->device_fd;
}

unsigned sim_fault_pending(const SimFaultQueue *q) {
        return q->n_pending;
}

const SimFaultStats *sim_fault_stats(const SimFaultQueue *q) {
        return &q->stats;
}

/* An eventfd is readable while its counter is not 0: set it when its list
 * fills, drain it when the list empties; epoll is level-triggered. */
static void doorbell(int fd, bool *ready, bool want) {
        uint64_t v = 1;

        if (*ready == want)
                return;
        if (want)
                (void)!write(fd, &v, sizeof(v));
        else
                (void)!read(fd, &v, sizeof(v));
        *ready = want;
}

static void doorbells(SimFaultQueue *q) {
        doorbell(q->fault_fd, &q->fault_ready, !list_empty(&q->deliver));
        doorbell(q->device_fd, &q->device_ready, !list_empty(&q->answers));
}

/* iopf_group_response(): the answer goes to the device. */
static void answer(SimFaultQueue *q, SimFaultGroup *g, FaultCode code) {
        g->code = code;
        list_add_tail(&q->answers, &g->link);
}

int sim_fault_raise(SimFaultQueue *q, const Device *d, uint32_t pasid, const IommuHwptPgfault *recs,
                    unsigned n, uint64_t tag) {
        SimFaultGroup *g;

        if (n == 0 || n > SIM_FAULT_MAX_RECORDS)
                return -EINVAL;
        g = malloc(sizeof(*g) + n * sizeof(g->recs[0]));
        if (!g)
                return -ENOMEM;
        *g = (SimFaultGroup) { .device = d, .pasid = pasid, .tag = tag, .n = n };
        memcpy(g->recs, recs, n * sizeof(recs[0]));
        list_add_tail(&q->deliver, &g->link);
        q->stats.raised++;
        doorbells(q);
        return 0;
}

/* xa_alloc() with XA_FLAGS_ALLOC1: the lowest free cookie from 1. */
static int table_insert(SimFaultQueue *q, SimFaultGroup *g) {
        uint32_t i = q->low;

        while (i < q->n_table && q->table[i])
                i++;
        if (i == q->n_table) {
                uint32_t n = q->n_table ? q->n_table * 2 : 64;
                SimFaultGroup **t = realloc(q->table, n * sizeof(*t));

                if (!t)
                        return -ENOMEM;
                memset(t + q->n_table, 0, (n - q->n_table) * sizeof(*t));
                q->table = t;
                q->n_table = n;
        }
        q->table[i] = g;
        q->low = i + 1;
        g->cookie = i + 1;
        q->n_pending++;
        return 0;
}

static SimFaultGroup *table_erase(SimFaultQueue *q, uint32_t cookie) {
        SimFaultGroup *g;

        if (cookie == 0 || cookie > q->n_table || !q->table[cookie - 1])
                return NULL;
        g = q->table[cookie - 1];
        q->table[cookie - 1] = NULL;
        if (cookie - 1 < q->low)
                q->low = cookie - 1;
        q->n_pending--;
        return g;
}

/* iommufd_fault_fops_read(): whole groups, each given its cookie now. */
static ssize_t sim_fault_read(void *userdata, void *buf, size_t count) {
        const size_t sz = sizeof(IommuHwptPgfault);
        SimFaultQueue *q = userdata;
        size_t done = 0;
        int rc = 0;

        if (count % sz)
                return -ESPIPE;
        while (!list_empty(&q->deliver)) {
                SimFaultGroup *g = list_entry(q->deliver.next, SimFaultGroup, link);

                if (done >= count || g->n * sz > count - done) {
                        if (done == 0)
                                rc = -EINVAL;   /* the first group does not fit */
                        break;
                }
                rc = table_insert(q, g);
                if (rc < 0)
                        break;
                list_del_init(&g->link);
                for (unsigned i = 0; i < g->n; i++) {
                        IommuHwptPgfault rec = g->recs[i];

                        rec.cookie = g->cookie;
                        memcpy((uint8_t *)buf + done, &rec, sz);
                        done += sz;
                }
                q->stats.delivered++;
        }
        doorbells(q);
        return done ? (ssize_t)done : rc;
}

/* iommufd_fault_fops_write(): in order, up to the first one refused. */
static ssize_t sim_fault_write(void *userdata, const void *buf, size_t count) {
        const size_t sz = sizeof(IommuHwptPageResponse);
        SimFaultQueue *q = userdata;
        size_t done = 0;
        int rc = 0;

        if (count % sz)
                return -ESPIPE;
        while (done < count) {
                IommuHwptPageResponse resp;
                SimFaultGroup *g = NULL;

                memcpy(&resp, (const uint8_t *)buf + done, sz);
                if (resp.code == FAULT_SUCCESS || resp.code == FAULT_INVALID)
                        g = table_erase(q, resp.cookie);
                if (!g) {
                        rc = -EINVAL;
                        break;
                }
                answer(q, g, (FaultCode)resp.code);
                q->stats.answered++;
                done += sz;
        }
        doorbells(q);
        if (done)
                return (ssize_t)done;   /* the refused one is not processed: not refused yet */
        if (rc < 0)
                q->stats.refused++;
        return rc;
}

const FaultQueueIo sim_fault_io = {
        .read = sim_fault_read,
        .write = sim_fault_write,
};

/* iommufd_auto_response_faults(): queued and read groups of the attachment. */
unsigned sim_fault_detach(SimFaultQueue *q, const Device *d, uint32_t pasid) {
        SimFaultGroup *g, *tmp;
        unsigned n = 0;

        list_for_each_entry_safe(g, tmp, &q->deliver, link)
                if (g->device == d && g->pasid == pasid) {
                        list_del_init(&g->link);
                        answer(q, g, FAULT_INVALID);
                        n++;
                }
        for (uint32_t i = 0; i < q->n_table; i++) {
                g = q->table[i];
                if (g && g->device == d && g->pasid == pasid) {
                        answer(q, table_erase(q, i + 1), FAULT_INVALID);
                        n++;
                }
        }
        q->stats.answered_by_detach += n;
        doorbells(q);
        return n;
}

int sim_fault_next_answer(SimFaultQueue *q, uint64_t *ret_tag, FaultCode *ret_code) {
        SimFaultGroup *g;

        if (list_empty(&q->answers))
                return 0;
        g = list_entry(q->answers.next, SimFaultGroup, link);
        list_del_init(&g->link);
        *ret_tag = g->tag;
        *ret_code = g->code;
        free(g);
        doorbells(q);
        return 1;
}
