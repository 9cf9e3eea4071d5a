/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kernel-jobs.c - the kernel backend's slow steps of claims and releases, on worker threads */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/path.h"
#include "daemon/core/device.h"
#include "daemon/core/group.h"
#include "kernel-internal.h"
#include "kernel-sysfs.h"
#include "worker.h"

/*
 * A write to a driver's sysfs "unbind" runs the driver's remove() inside
 * the write (device_release_driver() in drivers/base/dd.c), and a write to
 * "bind" or "drivers_probe" its probe(): a NIC's reset and PHY setup take
 * seconds, and a remove() that waits for something can take forever. So
 * each runs on a worker thread (worker.h), one group's after the other's
 * in order, and the core hears of the result through group_backend_done()
 * when the event loop reads the worker's fd; the operation answers
 * -EINPROGRESS meanwhile. A step that does not end in time is reported as
 * -ETIMEDOUT, and when its write does end after all, the thread undoes it
 * (a late unbind binds the driver back, a late move to vfio-pci is moved
 * back), so that what the model concluded stays true.
 *
 * Quick steps stay on the loop: recording the driver before it is
 * unbound, opening and binding a cdev (ioctls that do not wait).
 */

#define DRIVER_TIMEOUT_USEC (30ull * 1000 * 1000)       /* one driver's remove() or probe() */

typedef enum SysfsJobKind {
        JOB_UNBIND,     /* names[0] from its driver */
        JOB_BIND,       /* names[0] to driver */
        JOB_MOVE,       /* names[] to vfio-pci, waiting for each one's cdev */
        JOB_UNMOVE,     /* names[] off vfio-pci, nobody waits for it */
        JOB_TAKE_BACK,  /* names[0] off vfio-pci from its holder, waiting for it; back on it unless moved */
        JOB_HOLD,       /* names[0] to vfio-pci for an override, waiting for its cdev */
        JOB_UNHOLD,     /* names[0] off vfio-pci, and its override cleared */
} SysfsJobKind;

typedef struct SysfsJob {
        WorkerJob job;          /* first */
        KernelBackend *k;       /* borrowed: only done() uses it, on the loop, while the worker lives */
        SysfsJobKind kind;
        uint32_t group, seq;    /* whose operation it is, for group_backend_done() */
        char *sysfs;            /* owned copy */
        char driver[64];
        size_t n, n_moved;      /* names; how many of them the thread moved */
        char (*names)[32];      /* owned */
        char (*cdevs)[64];      /* owned, JOB_MOVE: each one's cdev */
        char why[320];          /* the thread's words for a failure */
        bool moved;             /* JOB_TAKE_BACK: the claim had moved it to vfio-pci */
} SysfsJob;

static void job_free(WorkerJob *job) {
        SysfsJob *j = (SysfsJob *)job;

        free(j->sysfs);
        free(j->names);
        free(j->cdevs);
        free(j);
}

/*
 * vfio-pci's unbind runs vfio_unregister_group_dev() (drivers/vfio/
 * vfio_main.c), which asks the holder through its request eventfd every
 * 10 s and returns only once every fd of the device is closed: the one
 * write the take-back waits in. A function an administrator had on
 * vfio-pci goes back on it; one the claim moved loses the override.
 */
static int take_back_run(SysfsJob *j) {
        char cdev[64];
        int r;

        if (j->moved) {
                kernel_vfio_unmove(j->sysfs, j->names[0]);
                return 0;
        }
        r = sysfs_write(j->sysfs, j->names[0], "bus/pci/drivers/vfio-pci/unbind");
        if (r >= 0)
                r = sysfs_write(j->sysfs, j->names[0], "bus/pci/drivers/vfio-pci/bind");
        if (r >= 0)
                r = kernel_find_cdev(j->sysfs, j->names[0], cdev, sizeof(cdev));
        if (r < 0)
                snprintf(j->why, sizeof(j->why), "%s did not go back on vfio-pci after it was taken back (%s)",
                         j->names[0], strerror(-r));
        return r;
}

/* An override ends: vfio-pci lets go (-ENODEV: it had, by hand), and the
 * override goes so that the device's own driver may bind again. */
static int unhold_run(SysfsJob *j) {
        int r = sysfs_write(j->sysfs, j->names[0], "bus/pci/drivers/vfio-pci/unbind");

        if (r < 0 && r != -ENODEV) {
                snprintf(j->why, sizeof(j->why), "vfio-pci did not let go of %s (%s); it stays on vfio-pci",
                         j->names[0], strerror(-r));
                return r;
        }
        r = sysfs_write(j->sysfs, "\n", "bus/pci/devices/%s/driver_override", j->names[0]);
        if (r < 0)
                snprintf(j->why, sizeof(j->why), "clearing the driver_override of %s failed (%s)", j->names[0],
                         strerror(-r));
        return r;
}

static int job_run(WorkerJob *job) {
        SysfsJob *j = (SysfsJob *)job;
        int r = 0;

        switch (j->kind) {
        case JOB_UNBIND:
                r = sysfs_write(j->sysfs, j->names[0], "bus/pci/devices/%s/driver/unbind", j->names[0]);
                if (r < 0)
                        snprintf(j->why, sizeof(j->why), "kernel driver %s refused to unbind from %s (%s)",
                                 j->driver, j->names[0], strerror(-r));
                return r;
        case JOB_BIND:
                return sysfs_write(j->sysfs, j->names[0], "bus/pci/drivers/%s/bind", j->driver);
        case JOB_MOVE:
                for (j->n_moved = 0; r >= 0 && j->n_moved < j->n; j->n_moved++) {
                        r = kernel_vfio_move(j->sysfs, j->names[j->n_moved], j->cdevs[j->n_moved],
                                             sizeof(j->cdevs[0]));
                        if (r < 0)
                                snprintf(j->why, sizeof(j->why), "%s did not %s vfio-pci (%s)",
                                         j->names[j->n_moved], r == -ETIMEDOUT ? "show a VFIO cdev within "
                                         "5 s of its move to" : "move to", strerror(-r));
                }
                if (r < 0)      /* the one that failed too: its override goes */
                        for (size_t i = 0; i < j->n_moved; i++)
                                kernel_vfio_unmove(j->sysfs, j->names[i]);
                return r;
        case JOB_UNMOVE:
                for (size_t i = 0; i < j->n; i++)
                        kernel_vfio_unmove(j->sysfs, j->names[i]);
                return 0;
        case JOB_TAKE_BACK:
                return take_back_run(j);
        case JOB_HOLD:
                r = kernel_vfio_move(j->sysfs, j->names[0], j->cdevs[0], sizeof(j->cdevs[0]));
                if (r < 0)
                        snprintf(j->why, sizeof(j->why), "%s did not %s vfio-pci (%s)", j->names[0],
                                 r == -ETIMEDOUT ? "show a VFIO cdev within 5 s of its move to" : "move to",
                                 strerror(-r));
                return r;
        case JOB_UNHOLD:
                return unhold_run(j);
        }
        return -EINVAL;
}

/* On the job's thread, when a job given up (-ETIMEDOUT) ends after all:
 * what it did is undone, as the core concluded it was not done. */
static void job_late(WorkerJob *job, int r) {
        SysfsJob *j = (SysfsJob *)job;

        if (r < 0)
                return;
        if (j->kind == JOB_UNBIND)
                (void)sysfs_write(j->sysfs, j->names[0], "bus/pci/drivers/%s/bind", j->driver);
        else if (j->kind == JOB_MOVE || j->kind == JOB_HOLD)
                for (size_t i = 0; i < j->n; i++)
                        kernel_vfio_unmove(j->sysfs, j->names[i]);
}

static void job_done(WorkerJob *job, int r);

static SysfsJob *job_new(KernelBackend *k, SysfsJobKind kind, const Group *g, size_t n) {
        SysfsJob *j = calloc(1, sizeof(*j));

        if (!j)
                return NULL;
        j->k = k;
        j->kind = kind;
        j->group = g->id;
        j->seq = g->wait_seq;
        j->sysfs = strdup(k->sysfs);
        j->names = calloc(n ? n : 1, sizeof(*j->names));
        j->cdevs = kind == JOB_MOVE || kind == JOB_HOLD ? calloc(n ? n : 1, sizeof(*j->cdevs)) : NULL;
        j->job = (WorkerJob) { .key = g->id, .run = job_run, .late = job_late, .done = job_done,
                               .free = job_free, .timeout_usec = DRIVER_TIMEOUT_USEC * (n ? n : 1) };
        if (!j->sysfs || !j->names || ((kind == JOB_MOVE || kind == JOB_HOLD) && !j->cdevs)) {
                job_free(&j->job);
                return NULL;
        }
        return j;
}

static int job_add_name(SysfsJob *j, const char *name) {
        int r = path_printf(j->names[j->n], sizeof(j->names[0]), "%s", name);

        if (r >= 0)
                j->n++;
        return r;
}

/* Off the loop; on a failure to start a thread, here and now. */
static void job_submit(KernelBackend *k, SysfsJob *j) {
        if (worker_submit(k->worker, &j->job) >= 0)
                return;
        j->job.result = job_run(&j->job);
        job_done(&j->job, j->job.result);
        job_free(&j->job);
}

/* The devices of g a claim binds to our iommufd, and whether each is moved. */
static bool claim_wants(KernelBackend *k, const Device *d, bool *move) {
        if ((d->class_code >> 8) == 0x0604 || d->backend_data || d->driver_dma_api)
                return false;   /* a bridge (no DMA of its own), an add-on's device, (never here) a DMA-API one */
        return kernel_vfio_needs_cdev(k, d, move) > 0;
}

static bool job_has(const SysfsJob *j, const char *name, size_t *ret) {
        for (size_t i = 0; i < j->n; i++)
                if (strcmp(j->names[i], name) == 0) {
                        *ret = i;
                        return true;
                }
        return false;
}

/* Binds every cdev of g (the moved ones' found by the job), or none. */
static int claim_bind(KernelBackend *k, Group *g, const SysfsJob *moved) {
        Device *d;
        int r = 0;

        list_for_each_entry(d, &g->devices, group_link) {
                bool move;
                size_t i;

                if (moved && job_has(moved, d->name, &i))
                        r = kernel_vfio_bind(k, d, moved->cdevs[i], true);
                else if (claim_wants(k, d, &move) && !move)
                        r = kernel_vfio_bind(k, d, NULL, false);        /* on a VFIO driver already */
                if (r < 0)
                        break;
        }
        if (r < 0)
                list_for_each_entry(d, &g->devices, group_link)
                        (void)kernel_vfio_release(k, d);
        return r;
}

/* The moved devices of j back off vfio-pci, after whatever else the group
 * has queued; their records go once they are (JOB_UNMOVE's done). */
static void unmove_names(KernelBackend *k, const Group *g, const SysfsJob *j) {
        SysfsJob *u = job_new(k, JOB_UNMOVE, g, j->n);

        if (!u) {               /* no memory: here and now */
                for (size_t i = 0; i < j->n; i++) {
                        kernel_vfio_unmove(k->sysfs, j->names[i]);
                        kernel_vfio_forget_move(k, j->names[i]);
                }
                return;
        }
        for (size_t i = 0; i < j->n; i++)
                (void)job_add_name(u, j->names[i]);
        job_submit(k, u);
}

static void move_done(SysfsJob *j, int r) {
        KernelBackend *k = j->k;
        Group *g = core_find_group(k->core, j->group);

        if (r >= 0 && g && g->wait == GROUP_WAIT_CLAIM && g->wait_seq == j->seq) {
                k->why[0] = 0;
                r = claim_bind(k, g, j);
                if (r < 0)
                        unmove_names(k, g, j);
                (void)group_backend_done(k->core, j->group, j->seq, r, k->why);
                return;
        }
        if (r >= 0 && g)
                unmove_names(k, g, j);  /* nobody waits for it any more */
        else    /* moved back already: by the thread, or (late) by job_late() */
                for (size_t i = 0; i < j->n; i++)
                        kernel_vfio_forget_move(k, j->names[i]);
        if (r == -ETIMEDOUT)
                snprintf(j->why, sizeof(j->why), "moving %s%s to vfio-pci did not end within %llu s",
                         j->names[0], j->n > 1 ? " and the rest of its group" : "",
                         (unsigned long long)(j->job.timeout_usec / 1000000));
        (void)group_backend_done(k->core, j->group, j->seq, r, j->why);
}

/* The holder let go: what we kept of the device goes, as after a release. */
static void take_back_done(SysfsJob *j, int r) {
        KernelBackend *k = j->k;
        Device *d = core_find_device(k->core, j->names[0]);

        if (r < 0)
                kernel_log(k, "%s: %s", j->names[0], j->why);
        if (d && kernel_vfio_of(d)) {
                free(kernel_vfio_of(d));
                d->backend_data = NULL;
        }
        if (j->moved)
                kernel_vfio_forget_move(k, j->names[0]);
}

static void job_done(WorkerJob *job, int r) {
        SysfsJob *j = (SysfsJob *)job;
        KernelBackend *k = j->k;

        switch (j->kind) {
        case JOB_UNBIND:
                if (r < 0)
                        (void)kernel_state_forget(&k->state, j->names[0]);
                if (r == -ETIMEDOUT)
                        snprintf(j->why, sizeof(j->why), "kernel driver %s did not finish unbinding from %s "
                                 "within %llu s (its remove() hangs; it is bound back if it ever ends)",
                                 j->driver, j->names[0], (unsigned long long)(DRIVER_TIMEOUT_USEC / 1000000));
                break;
        case JOB_BIND:
                /* Given back, or refused (then it has no driver, and the
                 * model says so): either way not ours to give back any more. */
                (void)kernel_state_forget(&k->state, j->names[0]);
                if (r < 0)
                        kernel_log(k, BACKEND_LOG_ERR "%s: binding it back to %s failed (%s); 'echo %s > "
                                   "/sys/bus/pci/drivers/%s/bind' retries", j->names[0], j->driver,
                                   strerror(-r), j->names[0], j->driver);
                break;
        case JOB_MOVE:
                move_done(j, r);
                return;
        case JOB_UNMOVE:
                for (size_t i = 0; i < j->n; i++)
                        kernel_vfio_forget_move(k, j->names[i]);
                return;
        case JOB_TAKE_BACK:
                take_back_done(j, r);
                break;
        case JOB_HOLD:
                /* Held: the override's own record (daemon/overrides.c, written
                 * before it began) says what to give back from now on, across
                 * restarts, so the crash record goes. */
                if (r >= 0)
                        (void)kernel_state_forget(&k->state, j->names[0]);
                if (r == -ETIMEDOUT && !j->why[0])
                        snprintf(j->why, sizeof(j->why), "moving %s to vfio-pci did not end within %llu s",
                                 j->names[0], (unsigned long long)(j->job.timeout_usec / 1000000));
                r = r < 0 ? r : 1;
                break;
        case JOB_UNHOLD:
                break;
        }
        (void)group_backend_done(k->core, j->group, j->seq, r, j->why[0] ? j->why : NULL);
}

/* Unbinds d from driver, or binds it (kind), off the loop. Without memory
 * for the job, d's record goes: nothing will be done to give back. */
static int driver_job(KernelBackend *k, SysfsJobKind kind, Device *d, const char *driver) {
        SysfsJob *j = job_new(k, kind, d->group, 1);

        if (!j || job_add_name(j, d->name) < 0 || path_printf(j->driver, sizeof(j->driver), "%s", driver) < 0) {
                if (j)
                        job_free(&j->job);
                (void)kernel_state_forget(&k->state, d->name);
                return -ENOMEM;
        }
        job_submit(k, j);
        return -EINPROGRESS;
}

/* The driver is recorded before it is unbound: a crash after the unbind
 * must not leave d with nobody to give it back (kernel-state.h). */
int kernel_driver_detach(void *ud, Device *d) {
        KernelBackend *k = ud;
        int r;

        k->why_busy = false;
        r = kernel_state_record(&k->state, d->name, d->driver);
        if (r < 0) {
                snprintf(k->why, sizeof(k->why), "cannot record %s's driver %s in %s/" KERNEL_STATE_FILE " before "
                         "unbinding it (%s): after a crash nobody would give it back; make that directory "
                         "writable", d->name, d->driver, k->state.dir ? k->state.dir : "", strerror(-r));
                k->why_busy = true;
                return -EBUSY;
        }
        return driver_job(k, JOB_UNBIND, d, d->driver);
}

int kernel_driver_attach(void *ud, Device *d, const char *driver) {
        return driver_job(ud, JOB_BIND, d, driver);
}

/*
 * Claiming a group binds the VFIO cdev of each of its functions that has no
 * DMA-API driver left (the core detached those first) to our iommufd: a
 * function on no driver is moved to vfio-pci for it (on a worker thread),
 * one on vfio-pci already is only opened. Bridges stay as they are:
 * vfio-pci does not take them and they do no DMA. A failure half-way
 * undoes what was done, so the core's rollback finds every function as it
 * left it (L5).
 */
int kernel_group_claim(void *ud, Group *g) {
        KernelBackend *k = ud;
        SysfsJob *j = job_new(k, JOB_MOVE, g, g->n_devices);
        Device *d;
        int r = j ? 0 : -ENOMEM;

        k->why_busy = false;
        k->why[0] = 0;
        list_for_each_entry(d, &g->devices, group_link) {
                bool move;

                if (r < 0 || !claim_wants(k, d, &move) || !move)
                        continue;
                r = kernel_vfio_record_move(k, d);
                if (r >= 0)
                        r = job_add_name(j, d->name);
        }
        if (r < 0 || j->n == 0) {
                if (r >= 0)
                        r = claim_bind(k, g, NULL);     /* nothing to move: quick */
                for (size_t i = 0; j && i < j->n; i++)
                        kernel_vfio_forget_move(k, j->names[i]);
                if (j)
                        job_free(&j->job);
                return r;
        }
        job_submit(k, j);
        return -EINPROGRESS;
}

/* Release closes the cdevs at once (with no fd left, unbinding vfio-pci
 * does not wait: vfio_unregister_group_dev()), and gives the functions it
 * moved back to no driver off the loop, before the core's driver_attach()
 * of the same group runs (the worker keeps a group's jobs in order). */
void kernel_group_release(void *ud, Group *g) {
        KernelBackend *k = ud;
        SysfsJob *j = job_new(k, JOB_UNMOVE, g, g->n_devices);
        Device *d;

        list_for_each_entry(d, &g->devices, group_link) {
                VfioDevice *vd = kernel_vfio_of(d);
                char name[32];

                if (vd && vd->handed_out)
                        continue;       /* kernel_device_take_back() gives it back */
                if (path_printf(name, sizeof(name), "%s", d->name) < 0 || !kernel_vfio_release(k, d))
                        continue;
                if (j) {
                        (void)job_add_name(j, name);
                        continue;
                }
                kernel_vfio_unmove(k->sysfs, name);     /* no memory: here and now */
                kernel_vfio_forget_move(k, name);
        }
        if (j && j->n == 0)
                job_free(&j->job);
        else if (j)
                job_submit(k, j);
}

/*
 * An override holds a function for the machine (daemon/core/override.h):
 * one on no driver (its DMA-API one detached already) or on vfio-pci
 * already gets vfio-pci through driver_override, which also keeps every
 * other driver off it (pci_match_device() matches the override only), the
 * same move a claim makes. Bridges, and functions on another driver that
 * manages DMA itself (pci-stub), are left as they are, as claims leave them.
 */
int kernel_driver_hold(void *ud, Device *d) {
        KernelBackend *k = ud;
        char driver[64];

        sysfs_read_driver(k->sysfs, d->name, driver, sizeof(driver));
        if ((d->class_code >> 8) == 0x0604 || (driver[0] && strcmp(driver, "vfio-pci") != 0))
                return 0;
        return driver_job(k, JOB_HOLD, d, "vfio-pci");
}

int kernel_driver_unhold(void *ud, Device *d) {
        return driver_job(ud, JOB_UNHOLD, d, "vfio-pci");
}

/* No deadline that would end the wait: a take-back given up would leave
 * the device with its holder and the group unsafe to give back (the
 * worker's -ETIMEDOUT is never heard before the holder lets go). */
#define TAKE_BACK_TIMEOUT_USEC (UINT64_C(1) << 62)

int kernel_device_take_back(void *ud, Device *d, uint32_t *ret_holder) {
        KernelBackend *k = ud;
        VfioDevice *vd = kernel_vfio_of(d);
        SysfsJob *j;
        char comm[32];
        pid_t pid;

        if (!vd || !vd->handed_out)
                return 0;
        j = job_new(k, JOB_TAKE_BACK, d->group, 1);
        if (!j || job_add_name(j, d->name) < 0) {
                if (j)
                        job_free(&j->job);
                return -ENOMEM;
        }
        j->moved = vd->moved;
        j->job.timeout_usec = TAKE_BACK_TIMEOUT_USEC;
        j->job.late = NULL;
        pid = kernel_vfio_holder(k, d, comm, sizeof(comm));
        *ret_holder = (uint32_t)(pid > 0 ? pid : 0);
        if (pid > 0)
                kernel_log(k, "%s: its claim ended while pid %d (%s) has it open; vfio-pci's unbind asks it to let "
                           "go and waits, group %u reads \"releasing\" until then", d->name, (int)pid, comm,
                           d->group->id);
        job_submit(k, j);
        return -EINPROGRESS;
}

int kernel_jobs_read(KernelBackend *k) {
        return worker_dispatch(k->worker);
}

void kernel_jobs_drain(KernelBackend *k, uint64_t timeout_usec) {
        worker_drain(k->worker, timeout_usec);
}
