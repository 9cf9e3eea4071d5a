/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* core.h - the model's root: object registry, event queue and deferred teardown */
#pragma once

#include <stddef.h>

#include "common/hashmap.h"
#include "common/list.h"
#include "backend.h"
#include "pasid-widths.h"
#include "types.h"

/*
 * Events tell the daemon what changed, so that it can emit D-Bus signals.
 * They are queued by the operation that made the change and delivered later
 * by core_dispatch(), never from inside an operation: by then the object may
 * be gone, so an event carries copies (ids and names), not pointers.
 */
typedef enum CoreEventKind {
        CORE_EVENT_GROUP_ADDED,         /* group: created with its first device */
        CORE_EVENT_GROUP_CHANGED,       /* group: ownership, owner or transit changed */
        CORE_EVENT_GROUP_CLAIMED,       /* group, client, result (reason: the backend's words):
                                         * a claim that group_claim() left in progress ended */
        CORE_EVENT_GROUP_REMOVED,       /* group: its last device went, no owner */
        CORE_EVENT_DEVICE_ADDED,        /* name */
        CORE_EVENT_DEVICE_REMOVED,      /* name, group */
        CORE_EVENT_DEVICE_CHANGED,      /* name: bound driver changed */
        CORE_EVENT_BOND_ADDED,          /* id, client: bound; BOND_CHANGED follows */
        CORE_EVENT_BOND_CHANGED,        /* id, client: state or users changed */
        CORE_EVENT_BOND_REMOVED,        /* id, client */
        CORE_EVENT_FAULT_REFUSED,       /* name (device), client, id = address */
        CORE_EVENT_REGION_ADDED,        /* id, client */
        CORE_EVENT_REGION_REMOVED,      /* id, client */
        CORE_EVENT_SPACE_ADDED,         /* id, client */
        CORE_EVENT_SPACE_REMOVED,       /* id, client */
        CORE_EVENT_REVOKED,             /* revoked, group, id, client; name: its bus name; reason */
        CORE_EVENT_OVERRIDE_SET,        /* group, result (reason: the backend's words): an override
                                         * that group_override() left in progress ended */
        CORE_EVENT_OVERRIDE_REMOVED,    /* group, result, reason: likewise for group_unoverride() */
        _CORE_EVENT_MAX,
} CoreEventKind;

/* What a CORE_EVENT_REVOKED says was taken back from a client (revoke.h). */
typedef enum RevokedKind {
        REVOKED_GROUP,          /* group: released */
        REVOKED_BOND,           /* id: made stale, or removed */
        REVOKED_SPACE,          /* id: emptied, removed, detached or unmapped in part */
        REVOKED_REGION,         /* id: removed */
        REVOKED_PASID,          /* id: the PASID, freed */
        REVOKED_CLIENT,         /* everything the client held: released */
} RevokedKind;

typedef struct CoreEvent {
        CoreEventKind kind;
        uint32_t group;
        uint64_t id;
        uint64_t client;
        RevokedKind revoked;    /* CORE_EVENT_REVOKED only */
        int result;             /* CORE_EVENT_GROUP_CLAIMED and _OVERRIDE_* only: 0 or -errno */
        const char *reason;     /* "" but for CORE_EVENT_REVOKED; in this allocation */
        ListNode link;          /* in Core.events while queued */
        char name[];            /* device name, "" when none */
} CoreEvent;

typedef void (*CoreEventFn)(void *userdata, const CoreEvent *ev);

/* What a deferred teardown will do; embedded in the object it tears down. */
typedef enum DeferKind {
        DEFER_CLIENT_RELEASE,
        DEFER_BOND_UNBIND,
        DEFER_GROUP_RELEASE,
        DEFER_DEVICE_UNPLUG,
        DEFER_SPACE_FREE,
} DeferKind;

typedef struct DeferNode {
        DeferKind kind;
        ListNode link;          /* in Core.deferred while pending */
} DeferNode;

struct Core {
        const BackendOps *ops;          /* borrowed, outlives the core */
        void *backend_data;             /* borrowed, passed to ops */
        CoreEventFn listener;           /* may be NULL */
        void *listener_data;

        ListNode iommus;                /* Iommu.core_link, owned */
        ListNode groups;                /* Group.core_link, owned */
        ListNode devices;               /* Device.core_link, owned */
        ListNode clients;               /* Client.core_link, owned */
        ListNode users;                 /* User.core_link, owned (refcounted by clients) */
        /*
         * The indexes of every lookup by key (common/hashmap.h): each files
         * the objects of the list above it, or of every client's list, for
         * as long as they are on it, and owns only its buckets.
         */
        HashMap iommus_by_name;         /* Iommu.name_node */
        HashMap groups_by_id;           /* Group.id_node */
        HashMap devices_by_name;        /* Device.name_node */
        HashMap clients_by_id;          /* Client.id_node */
        HashMap users_by_uid;           /* User.uid_node */
        HashMap bonds_by_id;            /* Bond.id_node, of every client */
        HashMap regions_by_id;          /* Region.id_node, of every client */
        HashMap spaces_by_id;           /* Space.id_node, of every client */
        HashMap slots_by_key;           /* Slot.key_node, by (device, PASID): the fault path's lookup */
        /* The max_pasids of the PASID-capable devices on Core.devices, so
         * that a client's PASID range is found without walking them. */
        PasidWidths pasid_widths;
        struct PasidPool *pasids;       /* owned */
        FaultTable *faults;             /* owned */

        ListNode events;                /* CoreEvent.link, owned, FIFO */
        unsigned long events_lost;      /* events dropped for lack of memory */

        /*
         * L9: while dispatch_depth > 0 a callback of ours is running, and any
         * teardown it asks for is queued on deferred and run by the next
         * core_dispatch() at depth 0, the event loop's safe point.
         */
        unsigned dispatch_depth;
        ListNode deferred;              /* DeferNode.link */

        uint64_t next_id;               /* ids of bonds, regions, spaces, clients */
        struct Mapping *spare_mappings; /* owned, for reuse (domain.c) */
        unsigned n_spare_mappings;
        uint64_t mapping_lookups;       /* index probes of mapping lookups, for tests (L10) */
        uint64_t device_walks;          /* devices looked at by core_min_pasid_width_where(), for tests */
        uint64_t default_fault_timeout_usec;
};

int core_new(Core **ret, const BackendOps *ops, void *backend_data);
Core *core_free(Core *c);
DEFINE_POINTER_CLEANUP(Core, core_free)

void core_set_listener(Core *c, CoreEventFn fn, void *userdata);

/*
 * The event loop's safe point: runs deferred teardowns and delivers queued
 * events to the listener, until neither is left. Returns how many events were
 * delivered. The listener may call any core function; teardown it asks for is
 * deferred to the next round of this same loop.
 */
unsigned core_dispatch(Core *c);
bool core_pending(const Core *c);

/* True while a listener callback runs (teardown is deferred then). */
static inline bool core_in_callback(const Core *c) {
        return c->dispatch_depth > 0;
}

/* For the model's files: queue an event (dropped and counted on ENOMEM). */
void core_emit(Core *c, CoreEventKind kind, uint32_t group, uint64_t id,
               uint64_t client, const char *name);
/* CORE_EVENT_REVOKED for cl: copies its bus name and the reason. */
void core_emit_revoked(Core *c, RevokedKind what, uint32_t group, uint64_t id, const Client *cl,
                       const char *reason);
/* An event with a result and the reason for it (copied). */
void core_emit_result(Core *c, CoreEventKind kind, uint32_t group, uint64_t client, int result,
                      const char *reason);
void core_defer(Core *c, DeferNode *node);
uint64_t core_next_id(Core *c);

Iommu *core_find_iommu(Core *c, const char *name);
Group *core_find_group(Core *c, uint32_t id);
Device *core_find_device(Core *c, const char *name);
Client *core_find_client(Core *c, uint64_t id);

/* The smallest max_pasids of the present PASID-capable devices (those the
 * IOMMU gives no PASIDs left out), 0 if there is none; O(log) in the
 * distinct values (pasid-widths.h), never a walk of the devices. */
uint32_t core_min_pasid_width(Core *c);
/* The same among the devices for which allowed() holds: a walk of them
 * all, each counted in Core.device_walks. */
uint32_t core_min_pasid_width_where(Core *c, bool (*allowed)(const Device *d, void *userdata), void *userdata);
