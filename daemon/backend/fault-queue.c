/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fault-queue.c - reading page requests from a fault fd and answering them, in batches */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "fault-queue.h"

void fault_queue_init(FaultQueue *q, int fd, uint64_t source) {
        memset(q, 0, sizeof(*q));
        q->fd = fd;
        q->source = source;
}

int fault_queue_read(FaultQueue *q, const IommuHwptPgfault **ret) {
        uint8_t *buf = (uint8_t *)q->in;
        const size_t sz = sizeof(q->in[0]);
        ssize_t k;
        size_t n;

        /* A stream may split a record (the kernel never does): keep its
         * start at the front of the buffer for the next read. */
        if (q->in_done) {
                memmove(buf, buf + q->in_done * sz, q->in_len);
                q->in_done = 0;
        }
        k = read(q->fd, buf + q->in_len, sizeof(q->in) - q->in_len);
        if (k < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : -errno;
        if (k == 0)
                return -EPIPE;
        q->reads++;
        q->in_len += (size_t)k;
        n = q->in_len / sz;
        q->in_len -= n * sz;
        q->in_done = n;
        q->records += n;
        *ret = q->in;
        return (int)n;
}

int fault_queue_flush(FaultQueue *q) {
        size_t len = q->n_out * sizeof(q->out[0]), done = 0;

        while (done < len) {
                ssize_t k = write(q->fd, (uint8_t *)q->out + done, len - done);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                done += (size_t)k;
        }
        if (len)
                q->writes++;
        q->responses += q->n_out;
        q->n_out = 0;
        return 0;
}

int fault_queue_respond(FaultQueue *q, uint32_t cookie, FaultCode code) {
        if (q->n_out == FAULT_QUEUE_BATCH) {
                int r = fault_queue_flush(q);
                if (r < 0)
                        return r;
        }
        q->out[q->n_out++] = (IommuHwptPageResponse) { .cookie = cookie, .code = (uint32_t)code };
        return 0;
}
