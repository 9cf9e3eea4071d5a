/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fault.h - page request groups: assembly, the cookie table, one answer each (L8) */
#pragma once

#include "common/list.h"
#include "types.h"

/* Record flags and permissions, numerically equal to the kernel's
 * IOMMU_PGFAULT_FLAGS_* and IOMMU_PGFAULT_PERM_*. */
#define FAULT_FLAG_PASID_VALID (1u << 0)
#define FAULT_FLAG_LAST_PAGE   (1u << 1)
#define FAULT_PERM_READ  (1u << 0)
#define FAULT_PERM_WRITE (1u << 1)
#define FAULT_PERM_EXEC  (1u << 2)
#define FAULT_PERM_PRIV  (1u << 3)

/* One page request, as read from a fault queue (the device resolved by the
 * caller from the record's dev_id). */
typedef struct FaultRecord {
        uint32_t flags;
        uint32_t pasid;
        uint32_t grpid;
        uint32_t perm;
        uint64_t addr;
        uint32_t length;        /* hint: bytes the device will touch from addr */
        uint32_t cookie;        /* the same for every record of a group */
} FaultRecord;

/*
 * A page request group, owned by the core's FaultTable from its first record
 * until it is answered: by the service (fault_group_respond()), by timeout
 * (fault_table_expire()), or INVALID when its slot goes away: by the kernel
 * itself when the slot is detached (fault_abort_slot()). It is freed right
 * after its one answer, so a second answer can only be attempted by cookie,
 * and that finds nothing.
 */
struct FaultGroup {
        Core *core;             /* borrowed; the owner is core->faults */
        uint64_t source;        /* which fault queue it came from */
        uint32_t cookie;
        Device *device;         /* borrowed; the group goes before the device */
        uint32_t pasid;         /* PASID_NONE if the records had none */
        Slot *slot;             /* borrowed; NULL: nothing attached there */
        Client *client;         /* borrowed: the slot's client, charged */
        FaultRecord *records;   /* inline_record or owned array */
        unsigned n_records, n_alloc;
        FaultRecord inline_record;
        uint64_t deadline_usec;
        bool complete;          /* LAST_PAGE seen */
        bool tracked;           /* in the cookie table (not a one-shot group) */
        bool doomed;            /* answer INVALID once complete (no slot, quota) */
        ListNode deadline_link; /* in table->by_deadline, ascending */
        ListNode slot_link;     /* in slot->faults while it has a slot */
        FaultGroup *hash_next;  /* cookie table chain */
};

int fault_table_new(FaultTable **ret);
/* Frees groups without answering: only for core_free() after teardown. */
FaultTable *fault_table_free(FaultTable *t);

/*
 * Adds one record from queue `source` for device d. When it completes a
 * group that needs service, *ret_ready is set to it and the caller must
 * answer it (fault_group_respond()); otherwise *ret_ready is NULL: the group
 * is still partial, or it was answered INVALID at once (no slot at that
 * (device, PASID), or the client's pending-fault quota is full).
 * Errors: -EINVAL for a record that contradicts its group, -EEXIST for a
 * record of a group that is already complete; the record is then ignored.
 */
int fault_push(Core *c, uint64_t source, Device *d, const FaultRecord *rec,
               uint64_t now_usec, FaultGroup **ret_ready);

/*
 * push + resolve for one record, as the daemon's fault loop does: a group of
 * one record (LAST_PAGE on its first) is decided and answered on the spot,
 * without entering the cookie table, which is for groups that wait; any
 * other record goes through fault_push() and, once complete, is resolved.
 * On a device with hold_faults set (a test hook) every record goes through
 * fault_push() and complete groups are left waiting. Returns fault_push()'s
 * errors.
 */
int fault_serve_record(Core *c, uint64_t source, Device *d, const FaultRecord *rec, uint64_t now_usec);

/* Answers fg and frees it. */
void fault_group_respond(FaultGroup *fg, FaultCode code);
/* Answers by cookie; -ENOENT if no such group is pending (L8: no 2nd answer). */
int fault_respond_cookie(Core *c, uint64_t source, uint32_t cookie, FaultCode code);

/* Answers INVALID every group whose deadline is <= now. Returns the next
 * deadline, or UINT64_MAX when nothing is pending. */
uint64_t fault_table_expire(Core *c, uint64_t now_usec);

/*
 * The slot is going (L2, L8). detached: the backend detached it, and with
 * that the kernel answered its groups INVALID (iommufd_auto_response_faults());
 * they are recorded answered and nothing is written. Otherwise they are
 * answered INVALID here.
 */
void fault_abort_slot(Slot *slot, bool detached);
/* The device is going: answer every group of it INVALID. */
void fault_abort_device(Core *c, Device *d);

unsigned fault_table_pending(const FaultTable *t);
FaultGroup *fault_table_find(const FaultTable *t, uint64_t source, uint32_t cookie);

/*
 * Serves a complete group the way the daemon does for every backend, and
 * answers it: SUCCESS when every record asks for an address the slot's
 * client may reach with the access asked, after mapping what was missing;
 * INVALID otherwise (no region there, write to read-only, exec or
 * privileged access, a space without that IOVA, the client may not have its
 * faults served). For an SVA slot a missing page is mapped from the client's
 * region at IOVA == its address, with the record's length hint mapped ahead
 * (at most FAULT_PREFAULT_MAX bytes, never past the region). fg is freed.
 */
#define FAULT_PREFAULT_MAX (256u * 1024)
FaultCode fault_group_resolve(FaultGroup *fg);
