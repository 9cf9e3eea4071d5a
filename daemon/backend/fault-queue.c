/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fault-queue.c - reading page requests from a fault fd and answering them, in batches */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/macro.h"
#include "fault-queue.h"

void fault_queue_init(FaultQueue *q, int fd, uint64_t source) {
        memset(q, 0, sizeof(*q));
        q->fd = fd;
        q->source = source;
        q->in_cap = FAULT_QUEUE_BATCH;
}

void fault_queue_set_io(FaultQueue *q, const FaultQueueIo *io, void *userdata) {
        q->io = io;
        q->io_userdata = userdata;
}

void fault_queue_set_sent(FaultQueue *q, FaultQueueSent sent, void *userdata) {
        q->sent = sent;
        q->sent_userdata = userdata;
}

void fault_queue_set_log(FaultQueue *q, FaultQueueLog log, void *userdata) {
        q->log = log;
        q->log_userdata = userdata;
}

_attribute_printf_(2, 3)
static void queue_log(FaultQueue *q, const char *fmt, ...) {
        char line[320];
        va_list ap;

        if (!q->log)
                return;
        va_start(ap, fmt);
        vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        q->log(q->log_userdata, line);
}

static ssize_t io_read(FaultQueue *q, void *buf, size_t count) {
        ssize_t k;

        if (q->io)
                return q->io->read(q->io_userdata, buf, count);
        k = read(q->fd, buf, count);
        return k < 0 ? -errno : k;
}

static ssize_t io_write(FaultQueue *q, const void *buf, size_t count) {
        ssize_t k;

        if (q->io)
                return q->io->write(q->io_userdata, buf, count);
        k = write(q->fd, buf, count);
        return k < 0 ? -errno : k;
}

/* -EINVAL from a read: the group at the head does not fit. The read grows
 * for it, up to FAULT_QUEUE_MAX_GROUP records; beyond, nothing can be read
 * (the kernel never skips a group), which is said once. */
static int grow_for_group(FaultQueue *q) {
        if (q->in_cap < FAULT_QUEUE_MAX_GROUP) {
                q->in_cap = q->in_cap * 2 > FAULT_QUEUE_MAX_GROUP ? FAULT_QUEUE_MAX_GROUP : q->in_cap * 2;
                return 0;
        }
        if (!q->stuck)
                queue_log(q, "fault queue: the page request group at its head has more than %u records, more "
                          "than iommud reads; no page request is served until it goes (detaching or "
                          "unplugging the device that raised it answers it)", FAULT_QUEUE_MAX_GROUP);
        q->stuck = true;
        return -EMSGSIZE;
}

int fault_queue_read(FaultQueue *q, const IommuHwptPgfault **ret) {
        const size_t sz = sizeof(q->in[0]);
        ssize_t k;
        size_t n;
        int r;

        for (;;) {
                k = io_read(q, q->in, q->in_cap * sz);
                if (k >= 0)
                        break;
                if (k == -EINTR)
                        continue;
                if (k == -EAGAIN)
                        return 0;
                if (k != -EINVAL)
                        return (int)k;
                r = grow_for_group(q);
                if (r < 0)
                        return r;
        }
        /* iommufd_fault_fops_read() returns 0 when nothing is queued. */
        if (k == 0)
                return 0;
        q->stuck = false;
        q->in_cap = FAULT_QUEUE_BATCH;  /* grown for one group only: batches stay fair */
        q->reads++;
        n = (size_t)k / sz;             /* whole records: the kernel never splits one */
        q->records += n;
        *ret = q->in;
        return (int)n;
}

static void sent(FaultQueue *q, const IommuHwptPageResponse *resp, int error) {
        if (q->sent)
                q->sent(q->sent_userdata, resp->cookie, (FaultCode)resp->code, error);
}

/* The response at out[i] was refused: dropped, said, and the rest goes on. */
static void reject(FaultQueue *q, size_t i) {
        const IommuHwptPageResponse *resp = &q->out[i];

        q->rejected++;
        queue_log(q, "fault queue: the kernel refused the answer %s to page request %u (EINVAL: it no longer "
                  "knows that cookie, e.g. it answered the request itself when its device or PASID was "
                  "detached); that answer is dropped and the others go out",
                  resp->code == FAULT_SUCCESS ? "SUCCESS" : "INVALID", resp->cookie);
        sent(q, resp, -EINVAL);
}

/* A write failed in a way iommufd's never does: what is left is lost. */
static void lose_rest(FaultQueue *q, size_t from, int error) {
        queue_log(q, "fault queue: writing %zu page responses failed (%s); they are dropped, and the devices "
                  "that wait for them are answered when their attachment goes", q->n_out - from,
                  strerror(-error));
        for (size_t i = from; i < q->n_out; i++) {
                q->lost++;
                sent(q, &q->out[i], error);
        }
}

int fault_queue_flush(FaultQueue *q) {
        const size_t sz = sizeof(q->out[0]);
        size_t done = 0;
        int r = 0;

        while (done < q->n_out) {
                ssize_t k = io_write(q, q->out + done, (q->n_out - done) * sz);

                if (k == -EINTR)
                        continue;
                if (k == -EINVAL) {
                        /* iommufd_fault_fops_write(): the first response was refused. */
                        reject(q, done++);
                        r = -EINVAL;
                        continue;
                }
                if (k < (ssize_t)sz) {
                        lose_rest(q, done, k < 0 ? (int)k : -EIO);
                        r = k < 0 ? (int)k : -EIO;
                        break;
                }
                /* Taken in order; a short count stops at a refused one. */
                q->writes++;
                for (size_t i = 0; i < (size_t)k / sz; i++) {
                        q->responses++;
                        sent(q, &q->out[done + i], 0);
                }
                done += (size_t)k / sz;
        }
        q->n_out = 0;
        return r;
}

void fault_queue_respond(FaultQueue *q, uint32_t cookie, FaultCode code) {
        if (q->n_out == FAULT_QUEUE_BATCH)
                (void)fault_queue_flush(q);
        q->out[q->n_out++] = (IommuHwptPageResponse) { .cookie = cookie, .code = (uint32_t)code };
}
