/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fault.c - page request groups: assembly, the cookie table, one answer each (L8) */
#include <errno.h>
#include <string.h>

#include "common/alloc.h"
#include "client.h"
#include "core.h"
#include "device.h"
#include "fault.h"
#include "group.h"
#include "pasid.h"
#include "slot.h"

#define INITIAL_BUCKETS 64u

/*
 * Pending groups are found by (source, cookie) through a chained hash table
 * that doubles when it holds more groups than buckets, and are kept on a
 * list sorted by deadline. Timeouts are nearly always the same per client,
 * so a new group is inserted by walking back from the tail: O(1) in practice.
 */
/* Answered groups kept for reuse: a fault costs no malloc()/free() pair. */
#define SPARE_GROUPS_MAX 256u

struct FaultTable {
        FaultGroup **buckets;   /* owned array; the groups are owned too */
        unsigned n_buckets;     /* a power of two */
        unsigned n_groups;
        ListNode by_deadline;   /* FaultGroup.deadline_link */
        FaultGroup *spare;      /* owned, chained through hash_next */
        unsigned n_spare;
        FaultGroup oneshot;     /* the group fault_serve_record() decides on the spot */
};

static unsigned bucket_of(const FaultTable *t, uint64_t source, uint32_t cookie) {
        uint64_t h = (source * UINT64_C(0x9E3779B97F4A7C15)) ^ cookie;

        h ^= h >> 29;
        h *= UINT64_C(0xBF58476D1CE4E5B9);
        h ^= h >> 32;
        return (unsigned)h & (t->n_buckets - 1);
}

int fault_table_new(FaultTable **ret) {
        FaultTable *t = xzalloc(sizeof(*t));

        if (!t)
                return -ENOMEM;
        t->buckets = xcalloc(INITIAL_BUCKETS, sizeof(*t->buckets));
        if (!t->buckets) {
                free(t);
                return -ENOMEM;
        }
        t->n_buckets = INITIAL_BUCKETS;
        list_init(&t->by_deadline);
        list_init(&t->oneshot.deadline_link);
        list_init(&t->oneshot.slot_link);
        *ret = t;
        return 0;
}

/* Only for tracked groups: a one-shot group lives on its caller's stack. */
static void fault_group_destroy(FaultGroup *fg) {
        FaultTable *t = fg->core ? fg->core->faults : NULL;

        if (fg->records != &fg->inline_record)
                free(fg->records);
        if (t && t->n_spare < SPARE_GROUPS_MAX) {
                fg->hash_next = t->spare;
                t->spare = fg;
                t->n_spare++;
                return;
        }
        free(fg);
}

static FaultGroup *fault_group_alloc(FaultTable *t) {
        FaultGroup *fg = t->spare;

        if (!fg)
                return xzalloc(sizeof(*fg));
        t->spare = fg->hash_next;
        t->n_spare--;
        memset(fg, 0, sizeof(*fg));
        return fg;
}

FaultTable *fault_table_free(FaultTable *t) {
        if (!t)
                return NULL;
        while (!list_empty(&t->by_deadline)) {
                FaultGroup *fg = list_entry(t->by_deadline.next, FaultGroup, deadline_link);

                list_del_init(&fg->deadline_link);
                list_del_init(&fg->slot_link);
                fg->core = NULL;        /* not to the spare list: it goes */
                fault_group_destroy(fg);
        }
        while (t->spare) {
                FaultGroup *fg = t->spare;

                t->spare = fg->hash_next;
                free(fg);
        }
        free(t->buckets);
        free(t);
        return NULL;
}

unsigned fault_table_pending(const FaultTable *t) {
        return t->n_groups;
}

FaultGroup *fault_table_find(const FaultTable *t, uint64_t source, uint32_t cookie) {
        FaultGroup *fg;

        for (fg = t->buckets[bucket_of(t, source, cookie)]; fg; fg = fg->hash_next)
                if (fg->source == source && fg->cookie == cookie)
                        return fg;
        return NULL;
}

/* Doubles the table; on ENOMEM keeps the old one, which still works. */
static void table_grow(FaultTable *t) {
        unsigned old_n = t->n_buckets;
        FaultGroup **old = t->buckets, **nb;

        nb = xcalloc(old_n * 2, sizeof(*nb));
        if (!nb)
                return;
        t->buckets = nb;
        t->n_buckets = old_n * 2;
        for (unsigned i = 0; i < old_n; i++)
                while (old[i]) {
                        FaultGroup *fg = old[i];
                        unsigned b = bucket_of(t, fg->source, fg->cookie);

                        old[i] = fg->hash_next;
                        fg->hash_next = nb[b];
                        nb[b] = fg;
                }
        free(old);
}

static void table_unhash(FaultTable *t, FaultGroup *fg) {
        FaultGroup **p = &t->buckets[bucket_of(t, fg->source, fg->cookie)];

        while (*p && *p != fg)
                p = &(*p)->hash_next;
        if (*p)
                *p = fg->hash_next;
        fg->hash_next = NULL;
}

static void table_insert(FaultTable *t, FaultGroup *fg) {
        unsigned b = bucket_of(t, fg->source, fg->cookie);
        ListNode *pos = t->by_deadline.prev;

        fg->hash_next = t->buckets[b];
        t->buckets[b] = fg;
        t->n_groups++;
        while (pos != &t->by_deadline &&
               list_entry(pos, FaultGroup, deadline_link)->deadline_usec > fg->deadline_usec)
                pos = pos->prev;
        list_add_after(pos, &fg->deadline_link);
        if (t->n_groups > t->n_buckets)
                table_grow(t);
}

typedef enum AnswerReason {
        ANSWER_SERVICE,         /* the daemon resolved or refused it */
        ANSWER_REFUSED,         /* nothing attached there, or over quota */
        ANSWER_TIMEOUT,
        ANSWER_ABORT,           /* its device went away */
        ANSWER_DETACHED,        /* its slot was detached: the kernel answered it */
} AnswerReason;

static void fault_count(FaultStats *st, FaultCode code, AnswerReason why) {
        switch (why) {
        case ANSWER_SERVICE:
                if (code == FAULT_SUCCESS)
                        st->resolved++;
                else
                        st->refused++;
                break;
        case ANSWER_REFUSED:
                st->refused++;
                break;
        case ANSWER_TIMEOUT:
                st->timed_out++;
                break;
        case ANSWER_ABORT:
        case ANSWER_DETACHED:
                st->aborted++;
                break;
        }
}

/*
 * The one place a group is answered: unlinked, answered once, counted,
 * freed. The answer is written to the backend unless the kernel gave it
 * already (ANSWER_DETACHED): then a write would be refused, and the cookie
 * may be another group's by now.
 */
static void fault_answer(FaultGroup *fg, FaultCode code, AnswerReason why) {
        Core *c = fg->core;
        FaultTable *t = c->faults;

        if (fg->tracked) {
                table_unhash(t, fg);
                t->n_groups--;
                list_del_init(&fg->deadline_link);
                list_del_init(&fg->slot_link);
        }

        if (why != ANSWER_DETACHED)
                c->ops->fault_respond(c->backend_data, fg, code);

        fault_count(&fg->device->faults, code, why);
        if (fg->client) {
                fault_count(&fg->client->faults, code, why);
                if (fg->tracked)
                        client_uncharge(fg->client, RES_PENDING_FAULTS, 1);
        }
        if (code == FAULT_INVALID && (why == ANSWER_SERVICE || why == ANSWER_REFUSED))
                core_emit(c, CORE_EVENT_FAULT_REFUSED, fg->device->group->id,
                          fg->records[0].addr, fg->client ? fg->client->id : 0,
                          fg->device->name);
        if (fg->tracked)
                fault_group_destroy(fg);
}

static int group_append(FaultGroup *fg, const FaultRecord *rec) {
        if (fg->n_records == fg->n_alloc) {
                unsigned n = fg->n_alloc * 2;
                FaultRecord *a;

                if (fg->records == &fg->inline_record) {
                        a = xcalloc(n, sizeof(*a));
                        if (a)
                                a[0] = fg->inline_record;
                } else
                        a = xrealloc(fg->records, n * sizeof(*a));
                if (!a)
                        return -ENOMEM;
                fg->records = a;
                fg->n_alloc = n;
        }
        fg->records[fg->n_records++] = *rec;
        return 0;
}

/* A new group for the first record of a cookie; doomed when nothing is
 * attached at its (device, PASID) or its client has too many pending. */
static int group_new(Core *c, uint64_t source, Device *d, uint32_t pasid,
                     const FaultRecord *rec, uint64_t now_usec, FaultGroup **ret) {
        FaultGroup *fg;
        Slot *slot;

        fg = fault_group_alloc(c->faults);
        if (!fg)
                return -ENOMEM;
        fg->core = c;
        fg->source = source;
        fg->cookie = rec->cookie;
        fg->device = d;
        fg->pasid = pasid;
        fg->records = &fg->inline_record;
        fg->inline_record = *rec;
        fg->n_records = fg->n_alloc = 1;
        list_init(&fg->deadline_link);
        list_init(&fg->slot_link);

        slot = device_find_slot(d, pasid);
        if (slot && client_charge(slot_client(slot), RES_PENDING_FAULTS, 1) >= 0) {
                fg->slot = slot;
                fg->client = slot_client(slot);
                list_add_tail(&slot->faults, &fg->slot_link);
        } else
                fg->doomed = true;
        fg->deadline_usec = now_usec + (fg->client ? fg->client->fault_timeout_usec
                                                   : c->default_fault_timeout_usec);
        fg->tracked = true;
        table_insert(c->faults, fg);
        *ret = fg;
        return 0;
}

/* Out of memory for a whole new group: answer a one-record group at once. */
static void fault_answer_untracked(Core *c, uint64_t source, Device *d,
                                   const FaultRecord *rec) {
        FaultGroup fg = {
                .core = c, .source = source, .cookie = rec->cookie, .device = d,
                .pasid = rec->pasid, .records = (FaultRecord *)rec, .n_records = 1,
        };

        c->ops->fault_respond(c->backend_data, &fg, FAULT_INVALID);
        d->faults.received++;
        d->faults.refused++;
}

int fault_push(Core *c, uint64_t source, Device *d, const FaultRecord *rec,
               uint64_t now_usec, FaultGroup **ret_ready) {
        bool pasid_valid = rec->flags & FAULT_FLAG_PASID_VALID;
        uint32_t pasid = pasid_valid ? rec->pasid : PASID_NONE;
        FaultGroup *fg;
        int r;

        *ret_ready = NULL;
        if (pasid_valid && (pasid == PASID_NONE || pasid > PASID_MAX))
                return -EINVAL;

        fg = fault_table_find(c->faults, source, rec->cookie);
        if (fg) {
                if (fg->complete)
                        return -EEXIST;
                if (fg->device != d || fg->pasid != pasid)
                        return -EINVAL;
                /* Without memory for the record, the group can't be served
                 * right; it is still answered, once, when it completes. */
                if (group_append(fg, rec) < 0)
                        fg->doomed = true;
        } else {
                r = group_new(c, source, d, pasid, rec, now_usec, &fg);
                if (r < 0) {
                        if (rec->flags & FAULT_FLAG_LAST_PAGE)
                                fault_answer_untracked(c, source, d, rec);
                        return r;
                }
        }

        if (!(rec->flags & FAULT_FLAG_LAST_PAGE))
                return 0;
        fg->complete = true;
        d->faults.received++;
        if (fg->client)
                fg->client->faults.received++;
        if (fg->doomed)
                fault_answer(fg, FAULT_INVALID, ANSWER_REFUSED);
        else
                *ret_ready = fg;
        return 0;
}

int fault_serve_record(Core *c, uint64_t source, Device *d, const FaultRecord *rec, uint64_t now_usec) {
        FaultGroup *fg = NULL, *one = &c->faults->oneshot;
        Slot *slot;
        int r;

        /* Held (a test hook): complete groups wait in the table unserved. */
        if (d->hold_faults)
                return fault_push(c, source, d, rec, now_usec, &fg);
        /* With no group waiting, a record can't belong to one. */
        if (!(rec->flags & FAULT_FLAG_LAST_PAGE) ||
            (c->faults->n_groups > 0 && fault_table_find(c->faults, source, rec->cookie))) {
                r = fault_push(c, source, d, rec, now_usec, &fg);
                if (r >= 0 && fg)
                        fault_group_resolve(fg);
                return r;
        }
        if ((rec->flags & FAULT_FLAG_PASID_VALID) && (rec->pasid == PASID_NONE || rec->pasid > PASID_MAX))
                return -EINVAL;

        /* Field by field: this runs once per page request, and the group
         * never enters the table, so most fields stay as they were. */
        slot = device_find_slot(d, rec->flags & FAULT_FLAG_PASID_VALID ? rec->pasid : PASID_NONE);
        one->core = c;
        one->source = source;
        one->cookie = rec->cookie;
        one->device = d;
        one->pasid = rec->flags & FAULT_FLAG_PASID_VALID ? rec->pasid : PASID_NONE;
        one->slot = slot;
        one->client = slot ? slot_client(slot) : NULL;
        one->records = (FaultRecord *)rec;
        one->n_records = one->n_alloc = 1;
        one->complete = true;
        one->doomed = one->tracked = false;
        d->faults.received++;
        if (!slot) {
                fault_answer(one, FAULT_INVALID, ANSWER_REFUSED);
                return 0;
        }
        one->client->faults.received++;
        fault_group_resolve(one);
        return 0;
}

void fault_group_respond(FaultGroup *fg, FaultCode code) {
        fault_answer(fg, code, ANSWER_SERVICE);
}

int fault_respond_cookie(Core *c, uint64_t source, uint32_t cookie, FaultCode code) {
        FaultGroup *fg = fault_table_find(c->faults, source, cookie);

        if (!fg)
                return -ENOENT;
        if (!fg->complete)
                return -EINVAL;
        fault_answer(fg, code, ANSWER_SERVICE);
        return 0;
}

uint64_t fault_table_expire(Core *c, uint64_t now_usec) {
        ListNode *head = &c->faults->by_deadline;

        while (!list_empty(head)) {
                FaultGroup *fg = list_entry(head->next, FaultGroup, deadline_link);

                if (fg->deadline_usec > now_usec)
                        return fg->deadline_usec;
                fault_answer(fg, FAULT_INVALID, ANSWER_TIMEOUT);
        }
        return UINT64_MAX;
}

/*
 * Detaching an attachment answers its page requests in the kernel:
 * iommufd_hwpt_detach_device() and iommufd_hwpt_replace_device() call
 * iommufd_auto_response_faults() (drivers/iommu/iommufd/eventq.c), which
 * answers INVALID every group of that attachment, queued or read and not
 * answered, and forgets their cookies. So after a detach the slot's groups
 * are recorded answered (aborted) and nothing is written for them (L8: one
 * answer, the kernel's). The kernel delivers whole groups, so it answered a
 * group we hold only part of too: it goes the same way.
 *
 * Without a detach (the slot never got attached) the kernel holds them
 * still: complete groups are answered INVALID now; a group still missing
 * records stays, doomed and without its slot, and is answered when its last
 * record arrives or it times out, so that it is still answered once.
 */
void fault_abort_slot(Slot *slot, bool detached) {
        FaultGroup *fg, *tmp;

        list_for_each_entry_safe(fg, tmp, &slot->faults, slot_link) {
                if (detached && !fg->complete) {
                        fg->device->faults.received++;
                        fg->client->faults.received++;
                }
                if (detached || fg->complete) {
                        fault_answer(fg, FAULT_INVALID, detached ? ANSWER_DETACHED : ANSWER_ABORT);
                        continue;
                }
                /* The client may be gone before the group completes. */
                client_uncharge(fg->client, RES_PENDING_FAULTS, 1);
                list_del_init(&fg->slot_link);
                fg->slot = NULL;
                fg->client = NULL;
                fg->doomed = true;
        }
}

void fault_abort_device(Core *c, Device *d) {
        FaultGroup *fg, *tmp;

        list_for_each_entry_safe(fg, tmp, &c->faults->by_deadline, deadline_link)
                if (fg->device == d)
                        fault_answer(fg, FAULT_INVALID, ANSWER_ABORT);
}
