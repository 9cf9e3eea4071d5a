/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sim-internal.h - the sim backend's state, shared by sim.c and sim-dma.c */
#pragma once

#include <stdarg.h>

#include "fault-queue.h"
#include "sim-fault.h"
#include "common/list.h"
#include "common/pagemap.h"
#include "sim-topology.h"
#include "sim.h"

struct SimBackend {
        Core *core;                     /* borrowed, set by sim_load_topology() */
        SimTopology *topology;          /* owned: the file's (its IOMMUs); NULL: the built-in one */
        char why[256];                  /* why the last -EADDRINUSE */
        char **refuse_unbind;           /* owned device names */
        size_t n_refuse_unbind;
        struct Worker *worker;          /* owned: drivers that take time (unbind_ms, probe_ms) */

        SimFaultQueue *faults;          /* owned: the kernel's side of the fault queue */
        FaultQueue queue;               /* the daemon's end, reading and writing faults */

        uint64_t next_tag;              /* names the page request groups the DMAs raise */
        uint32_t next_dev_id;
        Device **devices_by_id;         /* owned array of borrowed devices, [dev_id - 1]; NULL: gone */
        ListNode pending;               /* SimDma.link: DMAs waiting for an answer */
        ListNode handouts;              /* SimHandout.link, owned: devices handed out (sim-handout.c) */
        /* BackendOptions' log, borrowed: what happens outside a call. */
        void (*log)(void *userdata, const char *fmt, va_list ap);
        void *log_userdata;
};

/* sim-handout.c: BackendOps.device_open, device_take_back, device_release,
 * and BackendClass.open_iommufd on the sim; sim_handouts_free() closes the
 * daemon's ends of every device still handed out. */
typedef struct SimHandout SimHandout;
int sim_device_open(void *ud, Device *d, int *ret_fd);
int sim_device_take_back(void *ud, Device *d, uint32_t *ret_holder);
void sim_handout_release(void *ud, Device *d);      /* its handed-out fd, if any, goes */
int sim_open_iommufd(void *data, int *ret_fd);
void sim_handouts_free(SimBackend *s);

/* A domain's I/O page table; owned by its IoDomain (backend_data). */
typedef struct SimDomain {
        PageMap ptes;                   /* IOVA page -> host page | ACCESS_* */
        /* The smallest aperture of the IOMMUs a device was attached through
         * (0: none yet, every IOVA): the kernel narrows an IOAS to each
         * IOMMU's aperture when it makes a HWPT there, and keeps it. */
        uint8_t address_bits;
} SimDomain;

/* What the simulated IOMMU instance iommu does (sim_iommu_default unless
 * the topology file lists it). */
const SimIommu *sim_iommu(const SimBackend *s, const Iommu *iommu);

/* Fails every pending DMA of (d, pasid), or all of them when d is NULL. */
void sim_dma_fail_all(SimBackend *s, const Device *d, uint32_t pasid, const char *why);
