/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fixture.h - a core on the built-in topology with the recorder backend, for unit tests */
#pragma once

#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "daemon/backend/recorder.h"
#include "daemon/backend/topology.h"
#include "daemon/core/bond.h"
#include "daemon/core/client.h"
#include "daemon/core/core.h"
#include "daemon/core/device.h"
#include "daemon/core/domain.h"
#include "daemon/core/fault.h"
#include "daemon/core/group.h"
#include "daemon/core/pasid.h"
#include "daemon/core/region.h"
#include "daemon/core/revoke.h"
#include "daemon/core/space.h"
#include "daemon/core/user.h"
#include "common/alloc.h"

/* Names of the built-in topology (daemon/backend/topology.c). */
#define DEV_PRI   "0000:00:02.0"        /* group 1, dmar0, PASID + PRI */
#define DEV_NIC   "0000:00:03.0"        /* group 2, dmar0, e1000e bound */
#define DEV_NIC1  "0000:00:03.1"        /* group 2, no driver */
#define DEV_NOPRI "0000:00:04.0"        /* group 3, dmar1, PASID, no PRI */
#define DEV_SMALL "0000:00:05.0"        /* group 4, dmar1, max_pasids 4 */

typedef struct SeenEvent {
        CoreEventKind kind;
        uint32_t group;
        uint64_t id, client;
        char name[32];
        RevokedKind revoked;    /* CORE_EVENT_REVOKED */
        int result;             /* CORE_EVENT_GROUP_CLAIMED */
        char reason[320];
} SeenEvent;

typedef struct Fixture {
        Recorder rec;
        Core *core;
        SeenEvent events[256];  /* what the listener received, in order */
        unsigned n_events;
        /* Optional extra listener a test installs (runs inside dispatch). */
        void (*on_event)(const CoreEvent *ev);
} Fixture;

extern Fixture fx;

void fixture_setup(void);
void fixture_teardown(void);

Device *dev(const char *name);
Group *grp(uint32_t id);
Client *new_client(uid_t uid);
Client *new_client_quota(uid_t uid, const Quota *q);
/* Claims the group of device `name` for cl (with DETACH) and asserts success. */
void claim_ok(Client *cl, const char *name);
Bond *bind_ok(Client *cl, const char *name);

/* Delivers queued events; returns how many of `kind` arrived. */
unsigned dispatch_count(CoreEventKind kind);

/* Position of the first log line starting with prefix, asserting it exists. */
long log_at(const char *prefix);

/* A one-record fault group, LAST_PAGE set. */
FaultRecord fault_rec(uint32_t pasid, uint64_t addr, uint32_t cookie);
