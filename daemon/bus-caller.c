/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bus-caller.c - who is calling: the sender of one method call, and its BusClient once it holds something */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/core/client.h"
#include "daemon/core/pasid.h"
#include "daemon.h"

/* The sender's identity: uid and pid from the bus, groups as sd-bus reads them. */
static int bus_identity_read(sd_bus_message *m, BusIdentity *ret, sd_bus_error *error) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        BusIdentity id = { .gid = (gid_t)-1 };
        const gid_t *gids = NULL;
        int r, n;

        r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID | SD_BUS_CREDS_EGID | SD_BUS_CREDS_PID |
                                      SD_BUS_CREDS_SUPPLEMENTARY_GIDS | SD_BUS_CREDS_AUGMENT, &creds);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Cannot read the caller's credentials from the bus: %s. "
                                               "Retry; if the caller has left the bus there is nobody to answer.",
                                               strerror(-r));
        if (sd_bus_creds_get_euid(creds, &id.uid) < 0 || sd_bus_creds_get_egid(creds, &id.gid) < 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED,
                                        "The bus did not tell who is calling (uid, gid); refusing.");
        /* For watching the process's exit only; 0 where the bus has none. */
        if (sd_bus_creds_get_pid(creds, &id.pid) < 0)
                id.pid = 0;
        n = sd_bus_creds_get_supplementary_gids(creds, &gids);
        if (n > 0) {
                id.groups = malloc((size_t)n * sizeof(gid_t));
                if (!id.groups)
                        return -ENOMEM;
                memcpy(id.groups, gids, (size_t)n * sizeof(gid_t));
                id.n_groups = (size_t)n;
        }
        *ret = id;
        return 0;
}

void bus_identity_done(BusIdentity *id) {
        id->groups = mfree(id->groups);
        id->n_groups = 0;
}

void bus_identity_subject(const BusIdentity *id, PolicySubject *ret) {
        *ret = (PolicySubject) {
                .uid = id->uid, .gid = id->gid, .groups = id->groups, .n_groups = id->n_groups,
        };
}

int bus_caller_get(Daemon *d, sd_bus_message *m, BusCaller *ret, sd_bus_error *error) {
        *ret = (BusCaller) { .name = sd_bus_message_get_sender(m) };
        if (!ret->name)
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED,
                                        "The call has no sender; only bus peers may use iommud.");
        ret->client = bus_client_find(d, ret->name);
        if (ret->client)
                return 0;
        return bus_identity_read(m, &ret->fresh, error);
}

const BusIdentity *bus_caller_identity(const BusCaller *c) {
        return c->client ? &c->client->id : &c->fresh;
}

int bus_caller_client(Daemon *d, BusCaller *c, BusClient **ret, sd_bus_error *error) {
        int r;

        if (!c->client) {
                r = bus_client_new(d, c->name, &c->fresh, &c->client, error);
                if (r < 0)
                        return r;
                c->made = true;
        }
        *ret = c->client;
        return 0;
}

/* A client holds something when the core or we keep anything of it. */
static bool bus_client_holds_something(const BusClient *bc) {
        const Client *cl = bc->client;

        return cl->pasid != PASID_NONE || !list_empty(&cl->groups) || !list_empty(&cl->bonds) ||
               !list_empty(&cl->sva_domains) || !list_empty(&cl->regions) || !list_empty(&cl->spaces) ||
               !list_empty(&bc->shared);
}

void bus_caller_done(BusCaller *c) {
        /* Made by this call, which then failed: forget it, it holds nothing. */
        if (c->made && c->client && !c->client->release_source && !bus_client_holds_something(c->client))
                bus_client_free(c->client);
        c->client = NULL;
        bus_identity_done(&c->fresh);
}

int bus_client_authorized(Daemon *d, sd_bus_message *m, BusCaller *c, PolicyOp op, const Device *dev,
                          BusClient **ret, sd_bus_error *error) {
        int r;

        r = bus_caller_get(d, m, c, error);
        if (r < 0)
                return r;
        r = bus_authorize(d, bus_caller_identity(c), op, dev, error);
        if (r < 0)
                return r;
        return bus_caller_client(d, c, ret, error);
}
