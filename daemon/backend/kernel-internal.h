/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kernel-internal.h - the kernel backend's state, shared by kernel*.c and the add-ons on top (selftest.c) */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "daemon/core/types.h"
#include "fault-queue.h"
#include "kernel-state.h"
#include "kernel.h"

/* The kernel backend's one fault queue; the core knows it by this key. */
#define KERNEL_FAULT_SOURCE 2

/* What a probe found: not asked yet, or the kernel's answer. */
typedef enum KernelHas {
        KERNEL_HAS_UNKNOWN,
        KERNEL_HAS_NO,
        KERNEL_HAS_YES,
} KernelHas;

/*
 * What the running kernel can do, found by asking it (never from its
 * version): at start-up, and for PASID attach at the first bound device
 * (kernel_probe_pasid_attach()). Each `how` says what was asked and what
 * the kernel answered, for the log.
 */
typedef struct KernelFeatures {
        unsigned major, minor;  /* from uname(): only for messages */
        bool map_file;          /* IOMMU_IOAS_MAP_FILE (6.13) */
        bool hw_info;           /* IOMMU_GET_HW_INFO (6.6) */
        bool iova_ranges;       /* IOMMU_IOAS_IOVA_RANGES (6.2) */
        KernelHas pasid;        /* IOMMU_HWPT_ALLOC_PASID, VFIO_DEVICE_ATTACH_PASID (6.15) */
        char fault_how[96], map_file_how[96], hw_info_how[96], iova_ranges_how[96], pasid_how[160];
} KernelFeatures;

/*
 * What an add-on on top of the kernel backend (selftest.c) hears of, so
 * that the kernel backend never names it. Each may be NULL; each gets the
 * userdata given to kernel_set_hooks(), and must not call into the core.
 */
typedef struct KernelHooks {
        /* Before slot is detached: DMAs through it stop. */
        void (*slot_detach)(void *userdata, const Slot *slot);
        /* The answer code to fg is queued for the kernel, under fg's cookie. */
        void (*fault_respond)(void *userdata, const FaultGroup *fg, FaultCode code);
        /* The answer to cookie was written: error 0 when the kernel took it
         * (what the device then sees), else why not. Runs inside
         * fault_queue_flush() (FaultQueueSent's rules). */
        void (*fault_sent)(void *userdata, uint32_t cookie, FaultCode code, int error);
} KernelHooks;

struct KernelBackend {
        Core *core;             /* borrowed, set by kernel_load_topology() */
        HashMap devices_by_id;  /* KernelDevice.id_node: the devices bound to iommufd */
        char *sysfs;            /* owned: "/sys" outside tests */
        char *devdir;           /* owned: "/dev" outside tests */
        int iommufd;            /* owned */
        KernelFeatures features;

        int fault_fd;           /* owned; -1: no IOMMU_FAULT_QUEUE_ALLOC (before 6.11) */
        uint32_t fault_id;      /* iommufd's id of that queue */
        FaultQueue queue;       /* reads fault_fd */

        const KernelHooks *hooks;       /* static, or NULL: no add-on */
        void *hooks_userdata;           /* borrowed: the add-on's state, which owns us */

        KernelState state;      /* the drivers to give back, on disk (kernel-state.h) */
        struct Worker *worker;  /* owned: driver unbinds and probes, off the loop (kernel-jobs.c) */
        int request_fd;         /* owned epoll fd: the request eventfd of every bound cdev */
        /* Where the backend says what happened outside a call (a device the
         * kernel took back); BackendOptions' log, borrowed. */
        void (*log)(void *userdata, const char *fmt, va_list ap);
        void *log_userdata;

        char why[320];          /* why the last -ENOSYS, -EIO (or -EBUSY with why_busy) */
        bool why_busy;          /* why says which device the last claim found busy */
};

/* Says one message through k->log. */
_attribute_printf_(2, 3)
void kernel_log(KernelBackend *k, const char *fmt, ...);

/* Installs the hooks of the add-on whose state is userdata. */
void kernel_set_hooks(KernelBackend *k, const KernelHooks *hooks, void *userdata);

typedef struct KernelDevice KernelDevice;

/*
 * How one kind of device is attached on iommufd: a VFIO cdev
 * (kernel_vfio_device_ops, kernel-domain.c) or an add-on's own (the
 * selftest's mock devices). The command names are for the message when
 * the kernel refuses.
 */
typedef struct KernelDeviceOps {
        const char *rid_attach_cmd;     /* what attach() issues at the RID */
        const char *pasid_attach_cmd;   /* and at a PASID */
        int (*attach)(KernelBackend *k, KernelDevice *kd, uint32_t pasid, uint32_t hwpt);
        void (*detach)(KernelBackend *k, KernelDevice *kd, uint32_t pasid);
} KernelDeviceOps;

/*
 * What the kernel backend knows of a device bound to its iommufd, in
 * Device.backend_data: the first member of a VfioDevice, or of an add-on's
 * record of its own device (which the add-on owns).
 */
struct KernelDevice {
        const KernelDeviceOps *ops;     /* static */
        uint32_t dev_id;        /* iommufd's device id (fault records carry it) */
        Device *device;         /* borrowed: whose backend_data this is, while filed */
        HashNode id_node;       /* in KernelBackend.devices_by_id while filed */
};

/* Makes kd d's backend_data and files it under its dev_id, for the fault
 * path's lookup; unfiling clears backend_data (a no-op without one). */
void kernel_device_file(KernelBackend *k, Device *d, KernelDevice *kd);
void kernel_device_unfile(KernelBackend *k, Device *d);

/* A PCI function on vfio-pci, through its cdev; owned by
 * Device.backend_data from its claim until its release, or until the
 * kernel asks for it back. */
typedef struct VfioDevice {
        KernelDevice kd;        /* first */
        int cdev;               /* owned VFIO device cdev fd */
        int request;            /* owned eventfd: the kernel's VFIO_PCI_REQ_IRQ_INDEX trigger */
        bool moved;             /* the claim moved it to vfio-pci (release unbinds it);
                                 * false: it was on a VFIO driver already, and stays */
        bool no_pasid_attach;   /* its driver has no PASID attach (the probe answered EOPNOTSUPP) */
        /* Handed to a client's own driver (OpenDevice): our cdev is closed,
         * the client has a new open of it, and taking it back unbinds
         * vfio-pci (kernel-jobs.c). */
        bool handed_out;
} VfioDevice;

extern const KernelDeviceOps kernel_vfio_device_ops;

/* kernel-vfio.c: functions moved to vfio-pci, their cdevs and requests. */

/* d's VfioDevice, or NULL for a device of another kind or none. */
VfioDevice *kernel_vfio_of(const Device *d);
/*
 * A claim in steps, so that the slow ones (sysfs writes that run a driver's
 * probe, the wait for a cdev) can run on a worker thread (kernel-jobs.c):
 *
 * kernel_vfio_needs_cdev(): 1 if d is to be bound to our iommufd, with
 * *ret_move set if it has to be moved to vfio-pci first (it is on no
 * driver), clear if it is on a VFIO driver already; 0 if it stays as it is
 * (a DMA-managing driver without a cdev: pci-stub, pcieport).
 * kernel_vfio_record_move() records d in k->state before it is moved
 * (-EBUSY with why if it cannot). kernel_find_cdev(), kernel_vfio_move() and
 * kernel_vfio_unmove() only touch sysfs and their arguments: any thread may
 * call them. kernel_vfio_bind() opens the cdev (cdev NULL: found in sysfs),
 * binds it to our iommufd and watches its device request: -EBUSY (why
 * names the holder) when another process has the device; on failure d is
 * as it was. kernel_vfio_forget_move() drops d's record after an unmove
 * when no driver waits to be given back.
 */
int kernel_vfio_needs_cdev(KernelBackend *k, const Device *d, bool *ret_move);
int kernel_vfio_record_move(KernelBackend *k, const Device *d);
int kernel_find_cdev(const char *sysfs, const char *name, char *buf, size_t size);
int kernel_vfio_move(const char *sysfs, const char *name, char *cdev, size_t size);
void kernel_vfio_unmove(const char *sysfs, const char *name);
void kernel_vfio_forget_move(KernelBackend *k, const char *name);
int kernel_vfio_bind(KernelBackend *k, Device *d, const char *cdev, bool moved);
/* Closes d's cdev; true if the claim had moved it to vfio-pci (to unmove). */
bool kernel_vfio_release(KernelBackend *k, Device *d);
/*
 * BackendOps.device_open: closes our binding of every device of d's group
 * (the kernel lets one file bind a cdev, vfio_df_open(), and one iommufd
 * own a group, iommu_device_claim_dma_owner()), then opens d's cdev afresh
 * for the client, unbound. On failure our bindings are made again.
 */
int kernel_device_open(void *ud, Device *d, int *ret_fd);
/* The pid of a process that holds d's cdev (or its group's), 0: none
 * seen; its name in comm. */
pid_t kernel_vfio_holder(KernelBackend *k, const Device *d, char *comm, size_t comm_size);
/* BackendClass.open_iommufd: a new open of /dev/iommu, never ours. */
int kernel_open_iommufd(void *data, int *ret_fd);

/* kernel-jobs.c: the BackendOps whose sysfs writes run on k->worker (they
 * answer -EINPROGRESS), and the loop's end of it. */
int kernel_driver_detach(void *ud, Device *d);
int kernel_driver_attach(void *ud, Device *d, const char *driver);
int kernel_group_claim(void *ud, Group *g);
void kernel_group_release(void *ud, Group *g);
/* BackendOps.device_take_back: unbinds vfio-pci from d off the loop,
 * which asks its holder and waits until every fd of d is closed; then the
 * function goes back to how the claim found it. */
int kernel_device_take_back(void *ud, Device *d, uint32_t *ret_holder);
int kernel_driver_hold(void *ud, Device *d);
int kernel_driver_unhold(void *ud, Device *d);
/* Reports to the core what ended; how many, or -errno. */
int kernel_jobs_read(KernelBackend *k);
/* Waits until every job ended (or timeout_usec passed), reporting each. */
void kernel_jobs_drain(KernelBackend *k, uint64_t timeout_usec);
/* The kernel took d back (a request, or d went): closes its cdev, the
 * kernel unbinds vfio-pci itself. */
void kernel_vfio_forget(KernelBackend *k, Device *d);
/* Each device whose request fired goes from the model; how many, or -errno. */
int kernel_vfio_requests(KernelBackend *k);

/* One HWPT of a domain, for the devices behind one IOMMU with the same needs. */
typedef struct KernelHwpt {
        const Iommu *iommu;     /* borrowed */
        uint32_t flags;         /* KIOMMU_HWPT_* it was allocated with */
        uint32_t id;
} KernelHwpt;

/* Owned by IoDomain.backend_data: an IOAS and the HWPTs over it. */
typedef struct KernelDomain {
        uint32_t ioas_id;
        KernelHwpt *hwpts;      /* owned array */
        size_t n_hwpts;
} KernelDomain;

/* Sets k->why and returns -ENOSYS: feature needs Linux `version`. */
_attribute_printf_(2, 3)
int kernel_unsupported(KernelBackend *k, const char *fmt, ...);

int kernel_ioctl(int fd, unsigned long request, void *arg);
/* The errno's name ("ENOTTY"), for messages that say what the kernel answered. */
const char *kernel_errno_name(int r);
void kernel_destroy_object(KernelBackend *k, uint32_t id);
int kernel_ioas_alloc(KernelBackend *k, uint32_t *ret);
/* The HWPT of dom for device d, allocated on first use. */
int kernel_domain_hwpt(KernelBackend *k, IoDomain *dom, const Device *d, uint32_t *ret);
/* The HWPT of dom already used for d, or 0. */
uint32_t kernel_domain_find_hwpt(KernelBackend *k, const IoDomain *dom, const Device *d);

/* kernel-probe.c: what the kernel can do, asked at start-up; PASID attach
 * on the first VFIO device bound (it needs a cdev); what the IOMMU does for
 * a bound device (IOMMU_GET_HW_INFO) and which IOVAs an IOAS allows
 * (IOMMU_IOAS_IOVA_RANGES). */
int kernel_probe_features(KernelBackend *k);
void kernel_probe_pasid_attach(KernelBackend *k, VfioDevice *vd, const Device *d);
int kernel_device_iommu_info(void *ud, const Device *d, DeviceIommuInfo *ret);
int kernel_domain_iova_ranges(void *ud, const IoDomain *dom, IovaRange *buf, size_t n);

/* kernel-domain.c: the ops on domains, slots and faults. */
int kernel_domain_alloc(void *ud, IoDomain *dom);
void kernel_domain_free(void *ud, IoDomain *dom);
int kernel_domain_map(void *ud, IoDomain *dom, const Mapping *m);
void kernel_domain_unmap(void *ud, IoDomain *dom, const Mapping *m);
int kernel_slot_attach(void *ud, Slot *slot);
void kernel_slot_detach(void *ud, Slot *slot);
void kernel_fault_respond(void *ud, const FaultGroup *fg, FaultCode code);
void kernel_fault_sent(void *ud, uint32_t cookie, FaultCode code, int error);

