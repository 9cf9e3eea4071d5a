/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fault-service.c - page requests in the event loop: read in batches, serve, answer in batches */
#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "daemon/backend/fault-serve.h"
#include "daemon/core/fault.h"
#include "daemon.h"

/*
 * One dispatch reads at most FAULT_BUDGET batches, then returns to the
 * event loop: sd-event serves sources of equal priority oldest-pending
 * first, so a flood of page requests cannot starve D-Bus calls, and a flood
 * of calls cannot starve page requests.
 */
#define FAULT_BUDGET 4

static uint64_t now_usec(Daemon *d) {
        uint64_t now = 0;

        if (sd_event_now(d->event, CLOCK_MONOTONIC, &now) < 0) {
                struct timespec ts;

                clock_gettime(CLOCK_MONOTONIC, &ts);
                now = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
        }
        return now;
}

static Device *lookup_device(void *userdata, uint32_t dev_id) {
        const Backend *b = ((Daemon *)userdata)->backend;

        return b->class->device_by_fault_id ? b->class->device_by_fault_id(b->data, dev_id) : NULL;
}

/* The backend's fault queue: the sim's socket or the kernel's fault fd;
 * NULL when it has none (a kernel before 6.11). */
static FaultQueue *fault_queue(Daemon *d) {
        return backend_fault_queue(d->backend);
}

#define STUCK_RETRY_USEC (1000 * 1000)

static int on_fault_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        Daemon *d = userdata;

        if (d->fault_source)
                (void)sd_event_source_set_enabled(d->fault_source, SD_EVENT_ON);
        return 0;
}

static int on_fault_fd(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Daemon *d = userdata;
        uint64_t now = now_usec(d);

        for (int round = 0; round < FAULT_BUDGET; round++) {
                int r = fault_queue_serve(fault_queue(d), d->core, lookup_device, d, now);

                /* A group bigger than any read heads the queue (logged): the
                 * fd stays readable, so look again in a second instead of
                 * spinning; a detach may have answered it by then. */
                if (r == -EMSGSIZE) {
                        (void)sd_event_source_set_enabled(s, SD_EVENT_OFF);
                        (void)sd_event_add_time_relative(d->event, NULL, CLOCK_MONOTONIC, STUCK_RETRY_USEC, 0,
                                                         on_fault_retry, d);
                }
                if (r <= 0)
                        break;
        }
        return 0;
}

static void log_fault_queue(void *userdata, const char *line) {
        log_warning("%s", line);
}

static int on_device_fd(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        const Backend *b = ((Daemon *)userdata)->backend;

        for (int round = 0; round < FAULT_BUDGET; round++)
                if (b->class->device_side_read(b->data) <= 0)
                        break;
        return 0;
}

static int on_fault_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        /* The post source that runs after this re-arms the timer. */
        fault_table_expire(((Daemon *)userdata)->core, now_usec(userdata));
        return 0;
}

/* After every dispatch: answers queued by teardown go out, and the timer
 * follows the earliest pending deadline. */
void fault_service_post(Daemon *d) {
        uint64_t next;

        if (!fault_queue(d))
                return;
        (void)fault_queue_flush(fault_queue(d));
        next = fault_table_expire(d->core, now_usec(d));
        (void)fault_queue_flush(fault_queue(d));
        if (next == UINT64_MAX) {
                sd_event_source_set_enabled(d->fault_timer, SD_EVENT_OFF);
                return;
        }
        sd_event_source_set_time(d->fault_timer, next);
        sd_event_source_set_enabled(d->fault_timer, SD_EVENT_ONESHOT);
}

int fault_service_setup(Daemon *d) {
        const Backend *b = d->backend;
        int r;

        if (!fault_queue(d))
                return 0;
        fault_queue_set_log(fault_queue(d), log_fault_queue, d);
        r = sd_event_add_io(d->event, &d->fault_source, fault_queue(d)->fd, EPOLLIN, on_fault_fd, d);
        /* A backend that simulates the devices too reads their answers. */
        if (r >= 0 && b->class->device_side_fd)
                r = sd_event_add_io(d->event, &d->device_source, b->class->device_side_fd(b->data), EPOLLIN,
                                    on_device_fd, d);
        if (r >= 0)
                r = sd_event_add_time(d->event, &d->fault_timer, CLOCK_MONOTONIC, 0, 1000,
                                      on_fault_timer, d);
        if (r >= 0)
                r = sd_event_source_set_enabled(d->fault_timer, SD_EVENT_OFF);
        return r;
}
