/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* backend.h - one IOMMU backend as the daemon drives it: a class of operations and its state */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"
#include "daemon/core/backend.h"
#include "daemon/core/core.h"
#include "dma.h"
#include "fault-queue.h"

/*
 * The daemon holds one Backend, made by its class's new(). The core drives
 * it through core_ops (daemon/core/backend.h, the core's contract); the
 * daemon drives the rest through the class: the fault queue, hotplug, the
 * Simulator interface, the text of a refusal. An operation a backend does
 * not have is NULL, and the daemon asks for the operation, never for the
 * kind of backend: a Simulator method whose operation is NULL answers
 * NotSupported, hotplug is watched only with device_event(), ...
 *
 * Classes: sim_backend_class (sim.h), kernel_backend_class (kernel.h) and
 * selftest_backend_class (selftest.h), which is the kernel's plus the
 * kernel's iommufd mock devices.
 */

/* What a backend is set up with; each class reads what its kind needs.
 * Borrowed for the call. */
typedef struct BackendOptions {
        const char *topology;   /* sim: a JSON topology file; NULL: the built-in one */
        const char *sysfs;      /* kernel: where sysfs is ("/sys") */
        const char *devdir;     /* kernel: where the device nodes are ("/dev") */
        const char *state_dir;  /* kernel: where the drivers to give back are kept ("/run/iommud",
                                 * kernel-state.h); NULL: nowhere */
        /* Where the backend says what it could not do or left out, one
         * message a call (NULL: nowhere). */
        void (*log)(void *userdata, const char *fmt, va_list ap);
        void *log_userdata;
} BackendOptions;

typedef struct Backend Backend;
typedef struct BackendClass BackendClass;

struct Backend {
        const BackendClass *class;      /* static */
        void *data;                     /* owned: the kind's state, freed by class->free() */
        const BackendOps *core_ops;     /* static: what the core drives (core_new()) */
        void *core_data;                /* borrowed from data: what core_ops get */
};

/* Every operation gets Backend.data; every pointer it is passed is borrowed
 * for the call. */
struct BackendClass {
        const char *name;               /* --backend=NAME and the Manager.Backend property */
        bool takes_topology;            /* reads BackendOptions.topology */

        /* Makes the state and the Backend; on failure has said why through
         * opts->log. NULL: this iommud was built without the kind. */
        int (*new)(Backend **ret, const BackendOptions *opts);
        void (*free)(void *data);
        /* Adds the backend's devices to c, which it remembers (borrowed); on
         * failure has said why through opts->log. */
        int (*load)(void *data, Core *c, const BackendOptions *opts);
        /* What the backend can do, one line for the log. */
        void (*describe)(void *data, char *buf, size_t size);
        /* Why the last operation failed with r, in the backend's words
         * (which command the kernel refused, which Linux has what is
         * missing); NULL: strerror() says it. Valid until the next one. */
        const char *(*why)(void *data, int r);

        /* The queue page requests come in on (NULL: none, or none now). */
        FaultQueue *(*fault_queue)(void *data);
        /* The device a fault record's dev_id names (NULL: unknown). */
        Device *(*device_by_fault_id)(void *data, uint32_t dev_id);
        /* The simulated devices' end of the fault queue, readable when the
         * daemon's answers wait; device_side_read() hands one batch of them
         * to the DMAs that wait, returning how many (0: none) or -errno. */
        int (*device_side_fd)(void *data);
        int (*device_side_read)(void *data);

        /* A uevent of device name ("add", "remove", "bind", "unbind", ...):
         * the model follows. 1: it changed, 0: it did not, or -errno. */
        int (*device_event)(void *data, const char *action, const char *name);
        /* Readable when the kernel asks for devices back (a VFIO device
         * request: a device being removed, or its driver unbound, waits until
         * its fds are closed); request_read() unplugs each device asked for
         * from the model, returning how many (0: none) or -errno. */
        int (*request_fd)(void *data);
        int (*request_read)(void *data);
        /* Readable when work the backend does off the event loop (driver
         * unbinds and probes of a claim or a release) ended or overran;
         * worker_read() reports each to the core (group_backend_done()),
         * returning how many or -errno. drain() waits for all of it, up to
         * timeout_usec, reporting as it goes: for the daemon's exit, when the
         * released groups' drivers go back. */
        int (*worker_fd)(void *data);
        int (*worker_read)(void *data);
        void (*drain)(void *data, uint64_t timeout_usec);
        /* A new context for a client's own driver, never the daemon's own
         * (Manager.OpenIommufd): *ret_fd is the caller's. NULL: none. */
        int (*open_iommufd)(void *data, int *ret_fd);

        /*
         * The Simulator interface, registered when the backend has any of
         * these. probe_driver, remove_driver and unplug play a kernel event
         * on the model (a backend on a real kernel has its own). dma (dma.h)
         * returns -errno if the DMA could not start, -EOPNOTSUPP for a
         * device that cannot be made to do one. check_map returns the pages
         * of [addr, addr + len) at (d, pasid) it found mapped alike in the
         * model and below it, or -EFAULT with the first that differs in why;
         * check_attachment 1 (attached) or 0 (nothing), -EIO with what
         * differs in why, or -EOPNOTSUPP for a device it cannot look into.
         */
        int (*probe_driver)(void *data, Device *d, const char *driver, bool driver_managed_dma);
        int (*remove_driver)(void *data, Device *d);
        int (*unplug)(void *data, const char *name);
        int (*dma)(void *data, const DmaRequest *req);
        int (*check_map)(void *data, Device *d, uint32_t pasid, uint64_t addr, uint64_t len, char *why,
                         size_t why_size);
        int (*check_attachment)(void *data, Device *d, uint32_t pasid, char *why, size_t why_size);
};

/*
 * For a class's new(): the Backend of class holding data, which it takes
 * on success only (*ret is untouched on failure).
 */
int backend_new(Backend **ret, const BackendClass *class, void *data, const BackendOps *core_ops,
                void *core_data);
Backend *backend_free(Backend *b);
DEFINE_POINTER_CLEANUP(Backend, backend_free)

/*
 * A message may start with its syslog priority, as the kernel's printk
 * levels do: BACKEND_LOG_ERR "cannot ...". Without one it is a warning
 * (what the backend could not do or left out). The daemon's log reads it.
 */
#define BACKEND_LOG_ERR "<3>"
#define BACKEND_LOG_WARNING "<4>"
#define BACKEND_LOG_NOTICE "<5>"
#define BACKEND_LOG_INFO "<6>"

/* Says one message through opts->log. */
_attribute_printf_(2, 3)
void backend_log(const BackendOptions *opts, const char *fmt, ...);

/* The class's operation, or what its absence means. */
const char *backend_why(const Backend *b, int r);
FaultQueue *backend_fault_queue(const Backend *b);
bool backend_has_simulator(const Backend *b);

/* backends.c: the class --backend=name names, or NULL (see its new()). */
const BackendClass *backend_class_find(const char *name);
