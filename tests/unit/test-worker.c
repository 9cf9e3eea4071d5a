/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-worker.c - blocking jobs off the event loop: order per key, side by side across keys, deadlines */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "daemon/backend/worker.h"

/* A job that sleeps, then answers result; what the loop heard of it. */
typedef struct SleepJob {
        WorkerJob job;
        unsigned sleep_ms;
        int result;
        int *heard;             /* borrowed: where done() writes, or NULL */
        unsigned *order;        /* borrowed: done() appends id here */
        unsigned *n_order;
        unsigned id;
} SleepJob;

static atomic_uint freed;
static atomic_uint running_now, running_max;

static void sleep_ms(unsigned ms) {
        struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

        nanosleep(&ts, NULL);
}

static int sleep_run(WorkerJob *job) {
        SleepJob *s = (SleepJob *)job;
        unsigned now = atomic_fetch_add(&running_now, 1) + 1;

        if (now > atomic_load(&running_max))
                atomic_store(&running_max, now);
        sleep_ms(s->sleep_ms);
        atomic_fetch_sub(&running_now, 1);
        return s->result;
}

static void sleep_done(WorkerJob *job, int r) {
        SleepJob *s = (SleepJob *)job;

        if (s->heard)
                *s->heard = r;
        if (s->order)
                s->order[(*s->n_order)++] = s->id;
}

static void sleep_free(WorkerJob *job) {
        free(job);
        atomic_fetch_add(&freed, 1);
}

static SleepJob *sleep_job(uint64_t key, unsigned ms, int result, uint64_t timeout_usec) {
        SleepJob *s = calloc(1, sizeof(*s));

        cr_assert_not_null(s);
        s->job = (WorkerJob) { .key = key, .timeout_usec = timeout_usec, .run = sleep_run, .done = sleep_done,
                               .free = sleep_free };
        s->sleep_ms = ms;
        s->result = result;
        return s;
}

static void init(void) {
        atomic_store(&freed, 0);
        atomic_store(&running_now, 0);
        atomic_store(&running_max, 0);
}

TestSuite(worker, .init = init);

Test(worker, jobs_of_one_key_run_in_order_one_at_a_time) {
        Worker *w = NULL;
        unsigned order[3], n = 0;

        cr_assert_eq(worker_new(&w), 0);
        for (unsigned i = 0; i < 3; i++) {
                SleepJob *s = sleep_job(7, 30 - 10 * i, 0, 5000000);

                s->order = order;
                s->n_order = &n;
                s->id = i;
                cr_assert_eq(worker_submit(w, &s->job), 0);
        }
        worker_drain(w, 5000000);
        cr_assert_eq(n, 3);
        cr_assert(order[0] == 0 && order[1] == 1 && order[2] == 2, "submitted order, not the shortest first");
        cr_assert_eq(atomic_load(&running_max), 1);
        cr_assert_eq(atomic_load(&freed), 3);
        worker_free(w);
}

Test(worker, jobs_of_different_keys_run_side_by_side) {
        Worker *w = NULL;
        int heard[2] = { 1, 1 };

        cr_assert_eq(worker_new(&w), 0);
        for (unsigned i = 0; i < 2; i++) {
                SleepJob *s = sleep_job(i, 200, -EIO, 5000000);

                s->heard = &heard[i];
                cr_assert_eq(worker_submit(w, &s->job), 0);
        }
        worker_drain(w, 5000000);
        cr_assert_eq(heard[0], -EIO);
        cr_assert_eq(heard[1], -EIO);
        cr_assert_eq(atomic_load(&running_max), 2, "a slow group does not hold up another");
        worker_free(w);
}

Test(worker, a_job_past_its_deadline_is_given_up_and_the_next_of_its_key_runs) {
        Worker *w = NULL;
        int late = 1, next = 1;
        SleepJob *a = sleep_job(1, 600, 0, 50000), *b = sleep_job(1, 0, 0, 5000000);

        a->heard = &late;
        b->heard = &next;
        cr_assert_eq(worker_new(&w), 0);
        cr_assert_eq(worker_submit(w, &a->job), 0);
        cr_assert_eq(worker_submit(w, &b->job), 0);
        worker_drain(w, 5000000);
        cr_assert_eq(late, -ETIMEDOUT);
        cr_assert_eq(next, 0);
        cr_assert_eq(atomic_load(&freed), 1, "the late job still belongs to its thread");
        sleep_ms(800);
        cr_assert_eq(atomic_load(&freed), 2, "and its thread freed it when it ended");
        worker_free(w);
}

Test(worker, freeing_the_worker_leaves_running_jobs_to_their_threads) {
        Worker *w = NULL;
        int heard = 1;
        SleepJob *a = sleep_job(1, 200, 0, 5000000), *b = sleep_job(1, 0, 0, 5000000);

        a->heard = &heard;
        cr_assert_eq(worker_new(&w), 0);
        cr_assert_eq(worker_submit(w, &a->job), 0);
        cr_assert_eq(worker_submit(w, &b->job), 0);
        cr_assert_eq(worker_pending(w), 2);
        worker_free(w);
        cr_assert_eq(atomic_load(&freed), 1, "the queued one, never started");
        sleep_ms(400);
        cr_assert_eq(atomic_load(&freed), 2);
        cr_assert_eq(heard, 1, "nobody hears of it any more");
}
