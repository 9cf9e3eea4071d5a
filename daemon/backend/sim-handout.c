/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sim-handout.c - the sim's devices handed to a client's own driver: a socket end for each, taken back on hang-up */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fd.h"
#include "common/path.h"
#include "daemon/core/device.h"
#include "daemon/core/group.h"
#include "proc-holder.h"
#include "sim-internal.h"
#include "worker.h"

/*
 * The sim has no VFIO device to hand out, so it hands out what behaves like
 * one as far as lifetime goes: one end of a SOCK_SEQPACKET socketpair per
 * device, the daemon keeping the other. It answers no ioctl. A take-back
 * writes one "request" record to the client's end, as the kernel's vfio-pci
 * unbind signals the holder's request eventfd, and is done when the
 * daemon's end sees POLLHUP: every copy of the client's end is closed, as
 * the kernel's vfio_unregister_group_dev() waits for every fd of the device.
 * That wait runs on the sim's worker (a thread per group), never on the
 * event loop, with no deadline that would end it: a take-back that gave up
 * would leave the device with its holder (handout.h).
 */

#define SIM_REQUEST_RECORD "request"
/* The take-back job's deadline: none that matters (it must not undo anything). */
#define TAKE_BACK_TIMEOUT_USEC (UINT64_C(1) << 62)

_attribute_printf_(2, 3)
static void sim_log(SimBackend *s, const char *fmt, ...) {
        va_list ap;

        if (!s->log)
                return;
        va_start(ap, fmt);
        s->log(s->log_userdata, fmt, ap);
        va_end(ap);
}

struct SimHandout {
        ListNode link;          /* in SimBackend.handouts */
        const Device *device;   /* borrowed: the record goes with the device or its take-back */
        int daemon_end;         /* owned */
        ino_t client_inode;     /* the client end's socket, to find who holds it */
};

static SimHandout *sim_handout_free(SimHandout *h) {
        if (!h)
                return NULL;
        list_del_init(&h->link);
        safe_close(h->daemon_end);
        free(h);
        return NULL;
}

void sim_handouts_free(SimBackend *s) {
        while (!list_empty(&s->handouts))
                sim_handout_free(list_entry(s->handouts.next, SimHandout, link));
}

static SimHandout *sim_handout_find(SimBackend *s, const Device *d) {
        SimHandout *h;

        list_for_each_entry(h, &s->handouts, link)
                if (h->device == d)
                        return h;
        return NULL;
}

int sim_device_open(void *ud, Device *d, int *ret_fd) {
        SimBackend *s = ud;
        SimHandout *h;
        struct stat st;
        int sv[2];

        if (sim_handout_find(s, d))
                return -EALREADY;
        h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
                free(h);
                return -errno;
        }
        h->device = d;
        h->daemon_end = sv[0];
        h->client_inode = fstat(sv[1], &st) == 0 ? st.st_ino : 0;
        list_add_tail(&s->handouts, &h->link);
        *ret_fd = sv[1];
        return 0;
}

void sim_handout_release(void *ud, Device *d) {
        sim_handout_free(sim_handout_find(ud, d));
}

/* Whether fd's peer has hung up: every copy of the other end is closed. */
static bool peer_gone(int fd, int timeout_ms) {
        struct pollfd p = { .fd = fd, .events = POLLIN };

        for (;;) {
                int n = poll(&p, 1, timeout_ms);

                if (n < 0 && errno == EINTR)
                        continue;
                return n > 0 && (p.revents & (POLLHUP | POLLERR | POLLNVAL));
        }
}

/* The first process but us that has the socket of inode ino open (0: none
 * seen); best effort, as the kernel backend's search for a cdev's holder. */
static bool is_socket(const struct stat *st, void *data) {
        return S_ISSOCK(st->st_mode) && st->st_ino == *(const ino_t *)data;
}

static pid_t socket_holder(ino_t ino) {
        return ino ? proc_fd_holder(is_socket, &ino, NULL, 0) : 0;
}

typedef struct SimTakeBackJob {
        WorkerJob job;          /* first */
        SimBackend *s;          /* borrowed: only done() uses it, while the worker lives */
        uint32_t group, seq;
        int fd;                 /* owned: a copy of the daemon's end, for the thread */
} SimTakeBackJob;

static int take_back_run(WorkerJob *job) {
        SimTakeBackJob *j = (SimTakeBackJob *)job;

        return peer_gone(j->fd, -1) ? 0 : -EIO;
}

static void take_back_done(WorkerJob *job, int r) {
        SimTakeBackJob *j = (SimTakeBackJob *)job;

        (void)group_backend_done(j->s->core, j->group, j->seq, r, NULL);
}

static void take_back_free(WorkerJob *job) {
        SimTakeBackJob *j = (SimTakeBackJob *)job;

        safe_close(j->fd);
        free(j);
}

/* Waits for the holder off the loop; -EINPROGRESS, or -errno. */
static int take_back_later(SimBackend *s, const Device *d, const SimHandout *h) {
        SimTakeBackJob *j = calloc(1, sizeof(*j));

        if (!j)
                return -ENOMEM;
        j->fd = fcntl(h->daemon_end, F_DUPFD_CLOEXEC, 3);
        if (j->fd < 0) {
                free(j);
                return -errno;
        }
        j->s = s;
        j->group = d->group->id;
        j->seq = d->group->wait_seq;
        j->job = (WorkerJob) { .key = d->group->id, .timeout_usec = TAKE_BACK_TIMEOUT_USEC,
                               .run = take_back_run, .done = take_back_done, .free = take_back_free };
        if (worker_submit(s->worker, &j->job) < 0) {
                take_back_free(&j->job);
                return -EAGAIN;
        }
        return -EINPROGRESS;
}

int sim_device_take_back(void *ud, Device *d, uint32_t *ret_holder) {
        SimBackend *s = ud;
        SimHandout *h = sim_handout_find(s, d);
        pid_t holder;
        int r;

        if (!h || peer_gone(h->daemon_end, 0)) {
                sim_handout_free(h);
                return 0;
        }
        /* The holder's driver hears it is asked to let go (QEMU unplugs the
         * device from its guest on the kernel's request); a full buffer
         * means it has been asked already. */
        (void)!send(h->daemon_end, SIM_REQUEST_RECORD, strlen(SIM_REQUEST_RECORD), MSG_DONTWAIT | MSG_NOSIGNAL);
        holder = socket_holder(h->client_inode);
        *ret_holder = (uint32_t)holder;
        r = take_back_later(s, d, h);
        if (r == -EINPROGRESS && holder > 0)
                sim_log(s, "%s: its claim ended; waiting for pid %d to close it (asked with a request record), "
                        "group %u reads \"releasing\" until then", d->name, (int)holder, d->group->id);
        else if (r == -EINPROGRESS)
                sim_log(s, "%s: its claim ended; waiting for its holder (not found in /proc) to close it, "
                        "group %u reads \"releasing\" until then", d->name, d->group->id);
        return r;
}

int sim_open_iommufd(void *data, int *ret_fd) {
        int fd = memfd_create("iommud-sim-iommufd", MFD_CLOEXEC);

        if (fd < 0)
                return -errno;
        *ret_fd = fd;
        return 0;
}
