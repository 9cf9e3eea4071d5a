/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* worker.h - blocking jobs (sysfs writes, waits for a device) run off the event loop, with a deadline */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/list.h"
#include "common/macro.h"

/*
 * Unbinding a driver or probing one through sysfs runs the driver's
 * remove() or probe() inside the write(): it can take seconds (a NIC's
 * reset), or forever (a remove that waits for something). The daemon's
 * event loop must not wait for it. A WorkerJob is one such piece of work:
 * run() does it on a thread of its own and may touch only the job (which
 * holds copies of everything it needs), done() then hears of its result
 * on the event loop's thread, from worker_dispatch().
 *
 * Jobs of one key (a group) run one after the other, in the order they
 * were submitted: a release's unbind of vfio-pci comes before the probe of
 * the driver it gives back. Jobs of different keys run side by side, so a
 * group whose driver hangs does not hold up the others.
 *
 * A job still running at its deadline is given up: done() hears -ETIMEDOUT
 * at once, the next job of its key may start, and whichever of the loop
 * and the thread lets go of the job last frees it (its result goes
 * nowhere).
 */
typedef struct Worker Worker;
typedef struct WorkerJob WorkerJob;

struct WorkerJob {
        /* Filled by the submitter. */
        uint64_t key;
        uint64_t timeout_usec;          /* from the start of run() */
        int (*run)(WorkerJob *job);     /* on the job's thread: 0 or -errno */
        /* On the loop's thread, once: run()'s result or -ETIMEDOUT. NULL:
         * nobody waits for it. The job is freed after it returns. */
        void (*done)(WorkerJob *job, int r);
        void (*free)(WorkerJob *job);   /* frees the job (its container) */
        /* On the job's thread, when a job given up ends after all, with
         * run()'s result: undoes what the loop was told did not happen.
         * NULL: nothing to undo. */
        void (*late)(WorkerJob *job, int r);

        /* The worker's. */
        Worker *worker;                 /* borrowed */
        ListNode link;                  /* in queued, running or finished */
        uint64_t deadline_usec;         /* CLOCK_MONOTONIC */
        int result;
        unsigned refs;                  /* its thread's and the loop's, under the worker's lock */
        bool abandoned;                 /* given up: its result goes nowhere */
};

int worker_new(Worker **ret);
/* Gives up every job still running (their threads free them) and frees
 * the ones that did not start. */
Worker *worker_free(Worker *w);
DEFINE_POINTER_CLEANUP(Worker, worker_free)

/* Readable when a job finished or a deadline passed: call worker_dispatch(). */
int worker_fd(const Worker *w);
/* Takes job; on failure (no thread) done() has not been called and the
 * caller still owns it. */
int worker_submit(Worker *w, WorkerJob *job);
/* Calls done() for every job that finished or is late; how many. */
int worker_dispatch(Worker *w);
/* Jobs submitted and not yet done. */
unsigned worker_pending(const Worker *w);
/* Waits (blocking) until no job is pending or timeout_usec passed, calling
 * done() as they end: for the daemon's exit, when drivers go back. */
void worker_drain(Worker *w, uint64_t timeout_usec);
