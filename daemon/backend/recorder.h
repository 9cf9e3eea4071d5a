/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* recorder.h - an in-memory backend that logs every operation the core drives */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "daemon/core/backend.h"

/*
 * The recorder does nothing to hardware: it writes one line per operation
 * into a log ("detach 0000:00:02.0 pasid=1 d1", ...), so that tests can see
 * the order of teardown (L2), count setups against teardowns (L1), and make
 * chosen operations fail (L5, rollbacks). Like the kernel, a detach answers
 * the slot's pending page requests itself: one "auto-respond DEVICE
 * cookie=N INVALID" line for each, after the "detach" line.
 */
typedef enum RecorderOp {
        REC_DRIVER_DETACH,
        REC_DRIVER_ATTACH,
        REC_GROUP_CLAIM,
        REC_GROUP_RELEASE,
        REC_DEVICE_RELEASE,
        REC_DOMAIN_ALLOC,
        REC_DOMAIN_FREE,
        REC_MAP,
        REC_UNMAP,
        REC_ATTACH,
        REC_DETACH,
        REC_RESPOND,
        REC_AUTO_RESPOND,               /* the answers a detach gives (the kernel's, not the core's) */
        REC_IOMMU_INFO,
        REC_IOVA_RANGES,
        REC_DEVICE_OPEN,                /* a device handed out: answers fd 1000 + the count so far */
        REC_TAKE_BACK,                  /* a handed-out device taken back */
        REC_DRIVER_HOLD,                /* an override holds a device: answers 1, on vfio-pci */
        REC_DRIVER_UNHOLD,
        _REC_OP_MAX,
} RecorderOp;

typedef struct Recorder Recorder;
typedef void (*RecorderHook)(void *userdata, RecorderOp op, const char *line);

struct Recorder {
        char **log;                     /* owned lines */
        size_t n_log, n_alloc;
        unsigned calls[_REC_OP_MAX];
        long live_domains, live_slots, live_groups;
        long live_mappings;             /* pages mapped and not unmapped */
        unsigned next_domain;

        /* Failure injection: calls of op whose line contains match fail. */
        int fail_errno[_REC_OP_MAX];
        char fail_match[_REC_OP_MAX][64];

        /* What device_iommu_info() answers for devices behind the IOMMU named
         * info_iommu (NULL: for none; they keep their own values). */
        const char *info_iommu;
        DeviceIommuInfo info;

        /* What domain_iova_ranges() answers for every domain, when
         * n_ranges > 0 (else it answers -ENODATA: all IOVAs allowed). */
        IovaRange ranges[4];
        size_t n_ranges;

        /* Ops (1u << RecorderOp) that answer later, as a backend doing them
         * off the event loop does: logged, then -EINPROGRESS (driver_detach,
         * driver_attach, group_claim and take_back only). recorder_answer() gives the
         * answer for the one in flight. */
        unsigned async_ops;
        uint32_t holder_pid;            /* whom take_back says holds the device */
        bool in_flight;
        uint32_t in_flight_group, in_flight_seq;
        RecorderOp in_flight_op;

        RecorderHook hook;              /* called after each op is logged */
        void *hook_data;
};

extern const BackendOps recorder_ops;

void recorder_init(Recorder *rec);
void recorder_done(Recorder *rec);
void recorder_clear(Recorder *rec);

/* Make operation op fail with -err when its log line contains match
 * ("" matches all); err == 0 clears it. */
void recorder_fail(Recorder *rec, RecorderOp op, int err, const char *match);

/* Answers the operation in flight with r (through group_backend_done()). */
int recorder_answer(Recorder *rec, Core *c, int r);

/* Index of the first line starting with prefix at or after from, or -1. */
long recorder_find(const Recorder *rec, const char *prefix, size_t from);
/* Number of lines starting with prefix. */
unsigned recorder_count(const Recorder *rec, const char *prefix);
void recorder_dump(const Recorder *rec);
