/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bus-claim.c - Manager.ClaimGroup and ReleaseGroup, and the answers to claims that take a while */
#include <errno.h>
#include <stdlib.h>

#include "daemon/core/client.h"
#include "daemon/core/device.h"
#include "daemon/core/group.h"
#include "daemon.h"

/*
 * A claim on the kernel backend unbinds drivers and probes vfio-pci off
 * the event loop (kernel-jobs.c), so ClaimGroup may not be answered inside
 * its handler: the core says -EINPROGRESS, the call waits here, referenced,
 * and CORE_EVENT_GROUP_CLAIMED answers it. Meanwhile the daemon serves
 * everyone else. A caller that goes away is answered anyway (the bus drops
 * it), and its claim undoes itself (L5).
 */
typedef struct ClaimCall {
        ListNode link;          /* in Daemon.claim_calls */
        sd_bus_message *call;   /* owned reference */
        uint32_t group;
        uint64_t client;        /* the core's client id */
        uint64_t flags;
} ClaimCall;

static ClaimCall *claim_call_free(ClaimCall *c) {
        if (!c)
                return NULL;
        list_del_init(&c->link);
        sd_bus_message_unref(c->call);
        free(c);
        return NULL;
}

void bus_claim_calls_free(Daemon *d) {
        while (!list_empty(&d->claim_calls))
                claim_call_free(list_entry(d->claim_calls.next, ClaimCall, link));
}

static int claim_call_wait(Daemon *d, sd_bus_message *m, uint32_t group, uint64_t client, uint64_t flags) {
        ClaimCall *c = calloc(1, sizeof(*c));

        if (!c)
                return -ENOMEM;
        c->call = sd_bus_message_ref(m);
        c->group = group;
        c->client = client;
        c->flags = flags;
        list_add_tail(&d->claim_calls, &c->link);
        return 1;               /* answered later */
}

static int claim_reply(sd_bus_message *m, uint32_t id) {
        _cleanup_(freep) char *path = NULL;
        int r = object_path_for_id(IOMMUD_GROUP_PREFIX, id, &path);

        return r < 0 ? r : sd_bus_reply_method_return(m, "o", path);
}

/* Every device of the group must be claimable by the caller, and every
 * DMA-API driver detachable if it asked for that. */
static int authorize_claim(Daemon *d, const BusIdentity *who, Group *g, uint64_t flags, sd_bus_error *error) {
        Device *dev;
        int r;

        list_for_each_entry(dev, &g->devices, group_link) {
                r = bus_authorize(d, who, POLICY_CLAIM, dev, error);
                if (r < 0)
                        return r;
                if ((flags & IOMMUD_CLAIM_DETACH_KERNEL_DRIVERS) && dev->driver_dma_api) {
                        r = bus_authorize(d, who, POLICY_DETACH_KERNEL_DRIVERS, dev, error);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static const Device *group_dma_api_device(const Group *g) {
        const Device *dev;

        list_for_each_entry(dev, &g->devices, group_link)
                if (dev->driver_dma_api)
                        return dev;
        return NULL;
}

/*
 * A step of the claim that the backend does failed: unbinding a kernel
 * driver, or taking the group (on the kernel backend: binding vfio-pci and
 * its device). The core has put every driver back (L5). The sim's
 * refuse_unbind devices, like the recorder in the unit tests, answer the
 * unbind with EIO, so an EIO of a claim that unbinds drivers is taken for
 * a refusal. The D-Bus error stays Busy: the claim may succeed later.
 */
static int claim_backend_error(Daemon *d, const BusIdentity *who, Group *g, uint64_t flags, int r,
                               const char *why, sd_bus_error *error) {
        bool unbinding = (flags & IOMMUD_CLAIM_DETACH_KERNEL_DRIVERS) && group_dma_api_device(g);

        if (!why || !why[0])
                why = daemon_backend_error(d, r);
        /* The caller is told; the administrator is too, as an error: the
         * backend failed (the other refusals are the caller's business). */
        if (who)
                audit_claim_failed(who, g->id, r, r == -EIO && unbinding ? "a kernel driver refused to unbind" :
                                   r == -ETIMEDOUT ? "timed out" : "the backend failed", why);
        if (r == -EIO && unbinding)
                return bus_error_set(error, -EBUSY, "A kernel driver in group %u refused to unbind (%s); every "
                                     "device and driver was left as it was. Retry, or unbind it by hand.",
                                     g->id, why);
        if (r == -ETIMEDOUT)
                return bus_error_set(error, -EBUSY, "Claiming group %u timed out (%s); every device and driver "
                                     "was left as it was. Retry; if it keeps timing out, the kernel log says "
                                     "why.", g->id, why);
        if (r == -ENOMEM)
                return bus_error_set(error, -EBUSY, "Claiming group %u ran out of memory; every device and "
                                     "driver was left as it was. Retry later.", g->id);
        if (r == -ESHUTDOWN)
                return bus_error_set(error, -EBUSY, "Claiming group %u was given up: the client ended while it "
                                     "was in progress; every device and driver was left as it was.", g->id);
        return bus_error_set(error, -EBUSY, "Claiming group %u failed in the %s backend: %s. Every device "
                             "and driver was left as it was.", g->id, d->backend->class->name, why);
}

/* who: the claimant's identity for the journal (NULL: it has ended). */
static int claim_error(Daemon *d, const BusIdentity *who, Group *g, const Client *cl, uint64_t flags, int r,
                       const char *why, sd_bus_error *error) {
        const Device *dev = group_dma_api_device(g);

        switch (r) {
        case -EALREADY:
                return bus_error_set(error, -EBUSY, "Your claim of group %u is still in progress (its kernel "
                                     "drivers are being unbound); its first ClaimGroup call answers when it "
                                     "is done.", g->id);
        case -EBUSY:
                if (g->transit == GROUP_CLAIMING)
                        return bus_error_set(error, r, "Group %u is being claimed by another client; try again "
                                             "when it has released it.", g->id);
                if (g->transit != GROUP_STEADY)
                        return bus_error_set(error, r, "Group %u is being released: its kernel drivers are "
                                             "being bound again. Try again in a moment.", g->id);
                if (g->owner)
                        return bus_error_set(error, r, "Group %u is claimed by client %s (uid %u); it has to "
                                             "release it (or exit) first.", g->id, g->owner->name,
                                             (unsigned)g->owner->uid);
                if (dev && !(flags & IOMMUD_CLAIM_DETACH_KERNEL_DRIVERS))
                        return bus_error_set(error, r, "Group %u is in use by kernel driver %s on %s; pass "
                                             "flag DETACH_KERNEL_DRIVERS (1) to unbind it for the duration of "
                                             "the claim.", g->id, dev->driver, dev->name);
                return claim_backend_error(d, who, g, flags, r, why, error);
        case -ENODEV:
                return bus_error_set(error, r, "Group %u has no devices left.", g->id);
        case -EDQUOT:
                return bus_error_quota(error, cl);
        default:
                return claim_backend_error(d, who, g, flags, r, why, error);
        }
}

/* The claim for bc, once authorized: answered now, or when the backend
 * is done (claim_call_wait()). */
static int claim_for(Daemon *d, sd_bus_message *m, Group *g, BusClient *bc, uint64_t flags, sd_bus_error *error) {
        bool had = g->owner == bc->client;
        int r = group_claim(g, bc->client, flags);

        if (r == -EINPROGRESS)
                return claim_call_wait(d, m, g->id, bc->client->id, flags);
        if (r < 0)
                return claim_error(d, &bc->id, g, bc->client, flags, r, NULL, error);
        if (!had)       /* claims don't nest (L4): only the first one is a decision */
                audit_claim(&bc->id, g);
        return claim_reply(m, g->id);
}

/* ClaimGroup(group, flags), and with a pidfd ClaimGroupForProcess(group,
 * flags, pidfd), whose claim is held by the process's client. */
static int claim_group(sd_bus_message *m, bool for_process, sd_bus_error *error) {
        _cleanup_(bus_caller_done) BusCaller caller = BUS_CALLER_NULL;
        Daemon *d = bus_daemon(m);
        BusClient *bc;
        uint64_t flags;
        uint32_t id;
        int pidfd = -1;
        Group *g;
        int r;

        r = for_process ? sd_bus_message_read(m, "uth", &id, &flags, &pidfd) : sd_bus_message_read(m, "ut", &id, &flags);
        if (r < 0)
                return r;
        if (flags & ~IOMMUD_CLAIM_FLAGS_ALL)
                return bus_error_set(error, -EINVAL, "Unknown claim flags 0x%llx; the only flag is "
                                     "DETACH_KERNEL_DRIVERS (1).",
                                     (unsigned long long)(flags & ~IOMMUD_CLAIM_FLAGS_ALL));
        r = bus_find_group(d, id, &g, error);
        if (r < 0)
                return r;
        r = bus_caller_get(d, m, &caller, error);
        if (r >= 0)
                r = authorize_claim(d, bus_caller_identity(&caller), g, flags, error);
        if (r >= 0)
                r = for_process ? bus_process_client(d, &caller, pidfd, &bc, error)
                                : bus_caller_client(d, &caller, &bc, error);
        if (r < 0)
                return r;
        r = claim_for(d, m, g, bc, flags, error);
        if (for_process && r < 0)
                bus_process_client_done(bc);
        return r;
}

int bus_method_claim_group(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return claim_group(m, false, error);
}

int bus_method_claim_group_for_process(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return claim_group(m, true, error);
}

/* A claim that group_claim() left in progress ended: its call is answered. */
void bus_claim_answered(Daemon *d, const CoreEvent *ev) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        const Client *cl = core_find_client(d->core, ev->client);
        const BusClient *bc = cl ? bus_client_find(d, cl->name) : NULL;
        const BusIdentity *who = bc ? &bc->id : NULL;
        Group *g = core_find_group(d->core, ev->group);
        ClaimCall *c, *tmp;

        list_for_each_entry_safe(c, tmp, &d->claim_calls, link) {
                if (c->group != ev->group || c->client != ev->client)
                        continue;
                if (ev->result >= 0) {
                        if (g && who)
                                audit_claim(who, g);
                        (void)claim_reply(c->call, ev->group);
                } else {
                        if (g)
                                (void)claim_error(d, who, g, cl, c->flags, ev->result, ev->reason, &error);
                        else
                                (void)bus_error_set(&error, -ENXIO, "Group %u went away while it was being "
                                                    "claimed (its devices were removed).", ev->group);
                        (void)sd_bus_reply_method_error(c->call, &error);
                        sd_bus_error_free(&error);
                }
                claim_call_free(c);
        }
}

int bus_method_release_group(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = bus_daemon(m);
        BusClient *bc;
        uint32_t id;
        Group *g;
        int r;

        r = sd_bus_message_read(m, "u", &id);
        if (r < 0)
                return r;
        r = bus_find_group(d, id, &g, error);
        if (r < 0)
                return r;
        if (!g->owner)
                return bus_error_set(error, -EPERM, "Group %u is not claimed%s; there is nothing to release.", id,
                                     g->transit == GROUP_CLAIMING ? " yet (a claim is in progress)" : "");
        /* A process's claim is its launcher's to release too. */
        bc = bus_claim_holder_of(d, sd_bus_message_get_sender(m), g);
        r = bc ? 0 : bus_check_owner(m, g->owner, "Group", id, "release", &bc, error);
        if (r < 0)
                return r;
        /* The group is the caller's no more when this returns; its drivers
         * may still be on their way back (Group.Transit "releasing"). The
         * journal names them first, while the devices still say which. */
        audit_release(&bc->id, g, "release");
        r = group_release(g, bc->client);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(m, NULL);
}
