/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* worker.c - blocking jobs run off the event loop, one thread each, one key at a time */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "common/fd.h"
#include "worker.h"

/*
 * One lock for every worker: a thread whose job was given up must still be
 * able to take it after its Worker was freed, to learn that it owns the job
 * alone now. It guards the lists, WorkerJob.refs and .abandoned; the rest
 * of a job is the thread's while it runs and the loop's before and after.
 */
static pthread_mutex_t worker_lock = PTHREAD_MUTEX_INITIALIZER;

struct Worker {
        ListNode queued;        /* WorkerJob.link, owned: waiting for their key */
        ListNode running;       /* WorkerJob.link, owned with their threads */
        ListNode finished;      /* WorkerJob.link, owned: done() not called yet */
        int wake;               /* owned eventfd: a job finished */
        int timer;              /* owned timerfd: the earliest deadline */
        int epoll;              /* owned: both */
};

static uint64_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int worker_new(Worker **ret) {
        struct epoll_event ev = { .events = EPOLLIN };
        Worker *w = calloc(1, sizeof(*w));

        if (!w)
                return -ENOMEM;
        list_init(&w->queued);
        list_init(&w->running);
        list_init(&w->finished);
        w->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        w->timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        w->epoll = epoll_create1(EPOLL_CLOEXEC);
        if (w->wake < 0 || w->timer < 0 || w->epoll < 0 ||
            epoll_ctl(w->epoll, EPOLL_CTL_ADD, w->wake, &ev) < 0 ||
            epoll_ctl(w->epoll, EPOLL_CTL_ADD, w->timer, &ev) < 0) {
                int r = -errno;

                worker_free(w);
                return r;
        }
        *ret = w;
        return 0;
}

static void job_free(WorkerJob *job) {
        job->free(job);
}

/* Drops one of the job's two references, under worker_lock: true if it
 * was the last, and the caller frees it (after unlocking). */
static bool job_unref_locked(WorkerJob *job) {
        return --job->refs == 0;
}

/* The loop lets go of a job it called done() for. */
static void job_unref(WorkerJob *job) {
        bool last;

        pthread_mutex_lock(&worker_lock);
        last = job_unref_locked(job);
        pthread_mutex_unlock(&worker_lock);
        if (last)
                job_free(job);
}

Worker *worker_free(Worker *w) {
        WorkerJob *job, *tmp;

        if (!w)
                return NULL;
        pthread_mutex_lock(&worker_lock);
        list_for_each_entry_safe(job, tmp, &w->running, link) {
                list_del_init(&job->link);
                job->abandoned = true;  /* its thread frees it */
                (void)job_unref_locked(job);
        }
        pthread_mutex_unlock(&worker_lock);
        list_for_each_entry_safe(job, tmp, &w->queued, link) {
                list_del_init(&job->link);
                job_free(job);
        }
        list_for_each_entry_safe(job, tmp, &w->finished, link) {
                list_del_init(&job->link);
                job_free(job);
        }
        safe_close(w->epoll);
        safe_close(w->timer);
        safe_close(w->wake);
        free(w);
        return NULL;
}

int worker_fd(const Worker *w) {
        return w->epoll;
}

static void *job_thread(void *arg) {
        WorkerJob *job = arg;
        int r = job->run(job);
        uint64_t one = 1;

        pthread_mutex_lock(&worker_lock);
        if (job->abandoned) {
                bool last = job_unref_locked(job);

                pthread_mutex_unlock(&worker_lock);
                /* Given up, so the loop may be using the job still (done()
                 * runs until it lets go): only what the job owns is used. */
                if (job->late)
                        job->late(job, r);
                if (last)
                        job_free(job);
                return NULL;
        }
        (void)job_unref_locked(job);    /* the loop's is left */
        job->result = r;
        list_del_init(&job->link);
        list_add_tail(&job->worker->finished, &job->link);
        (void)!write(job->worker->wake, &one, sizeof(one));
        pthread_mutex_unlock(&worker_lock);
        return NULL;
}

/* Under worker_lock. */
static bool key_running(Worker *w, uint64_t key) {
        WorkerJob *job;

        list_for_each_entry(job, &w->running, link)
                if (job->key == key)
                        return true;
        return false;
}

/* Under worker_lock: job to running, on a thread of its own. */
static int job_start(Worker *w, WorkerJob *job) {
        pthread_attr_t attr;
        pthread_t thread;
        int r;

        job->deadline_usec = now_usec() + job->timeout_usec;
        job->refs = 2;
        list_add_tail(&w->running, &job->link);
        r = -pthread_attr_init(&attr);
        if (r == 0)
                r = -pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (r == 0)
                r = -pthread_create(&thread, &attr, job_thread, job);
        pthread_attr_destroy(&attr);
        if (r < 0) {
                list_del_init(&job->link);
                job->refs = 1;
        }
        return r;
}

/* The earliest deadline of the running jobs, on the timer (0: disarmed). */
static void worker_arm(Worker *w) {
        struct itimerspec its = { { 0, 0 }, { 0, 0 } };
        uint64_t first = 0;
        WorkerJob *job;

        pthread_mutex_lock(&worker_lock);
        list_for_each_entry(job, &w->running, link)
                if (!first || job->deadline_usec < first)
                        first = job->deadline_usec;
        pthread_mutex_unlock(&worker_lock);
        its.it_value.tv_sec = (time_t)(first / 1000000);
        its.it_value.tv_nsec = (long)(first % 1000000) * 1000;
        if (first && !its.it_value.tv_sec && !its.it_value.tv_nsec)
                its.it_value.tv_nsec = 1;
        (void)timerfd_settime(w->timer, TFD_TIMER_ABSTIME, &its, NULL);
}

int worker_submit(Worker *w, WorkerJob *job) {
        int r = 0;

        job->worker = w;
        job->abandoned = false;
        list_init(&job->link);
        pthread_mutex_lock(&worker_lock);
        if (key_running(w, job->key))
                list_add_tail(&w->queued, &job->link);
        else
                r = job_start(w, job);
        pthread_mutex_unlock(&worker_lock);
        worker_arm(w);
        return r;
}

/* The next job of key, now that none of it runs; one that cannot start
 * ends at once, with its error. */
static void start_next(Worker *w, uint64_t key) {
        WorkerJob *job;

        list_for_each_entry(job, &w->queued, link) {
                if (job->key != key)
                        continue;
                list_del_init(&job->link);
                pthread_mutex_lock(&worker_lock);
                job->result = job_start(w, job);
                if (job->result < 0) {
                        uint64_t one = 1;

                        list_add_tail(&w->finished, &job->link);
                        (void)!write(w->wake, &one, sizeof(one));
                }
                pthread_mutex_unlock(&worker_lock);
                return;
        }
}

static void job_done(WorkerJob *job, int r) {
        if (job->done)
                job->done(job, r);
}

/* The first job on list (finished) or, with late, the first running past
 * its deadline, unlinked; NULL: none. */
static WorkerJob *take_job(Worker *w, ListNode *list, uint64_t late) {
        WorkerJob *job, *found = NULL;

        pthread_mutex_lock(&worker_lock);
        list_for_each_entry(job, list, link)
                if (!late || job->deadline_usec <= late) {
                        found = job;
                        break;
                }
        if (found) {
                list_del_init(&found->link);
                found->abandoned = late != 0;
        }
        pthread_mutex_unlock(&worker_lock);
        return found;
}

int worker_dispatch(Worker *w) {
        uint64_t buf, now = now_usec();
        WorkerJob *job;
        int n = 0;

        (void)!read(w->wake, &buf, sizeof(buf));
        (void)!read(w->timer, &buf, sizeof(buf));
        while ((job = take_job(w, &w->finished, 0))) {
                start_next(w, job->key);
                job_done(job, job->result);
                job_unref(job);
                n++;
        }
        /* Given up: the next of its key starts, the thread keeps the job. */
        while ((job = take_job(w, &w->running, now))) {
                start_next(w, job->key);
                job_done(job, -ETIMEDOUT);
                job_unref(job);
                n++;
        }
        worker_arm(w);
        return n;
}

unsigned worker_pending(const Worker *w) {
        const WorkerJob *job;
        unsigned n = 0;

        pthread_mutex_lock(&worker_lock);
        list_for_each_entry(job, &w->queued, link)
                n++;
        list_for_each_entry(job, &w->running, link)
                n++;
        list_for_each_entry(job, &w->finished, link)
                n++;
        pthread_mutex_unlock(&worker_lock);
        return n;
}

void worker_drain(Worker *w, uint64_t timeout_usec) {
        uint64_t end = now_usec() + timeout_usec;

        while (worker_pending(w) > 0) {
                struct pollfd p = { .fd = w->epoll, .events = POLLIN };
                uint64_t now = now_usec();

                if (now >= end)
                        return;
                (void)poll(&p, 1, (int)((end - now) / 1000) + 1);
                (void)worker_dispatch(w);
        }
}
