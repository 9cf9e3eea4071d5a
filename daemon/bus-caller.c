/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bus-caller.c - who is calling: the uid the bus vouches for, the user's groups from the user database */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/core/client.h"
#include "daemon/core/pasid.h"
#include "daemon.h"

/*
 * Security decisions take the caller's uid from the bus, which read it from
 * the kernel (SO_PEERCRED) when the caller connected, and the groups of that
 * user from the user database, as getgrouplist(3) gives them (what a login
 * would give the user, and what dbus-daemon itself uses for its policy where
 * the kernel does not tell it the groups). They never come from the
 * caller's /proc/PID: the process that connected may since have changed its
 * groups (a setgid program it exec'd after handing its connection to a
 * child), and its pid may have been reused. docs/policy.md says so.
 */

/* getpwuid_r() into a buffer that grows as needed; *ret_buf is the caller's to free. */
static int user_entry(uid_t uid, struct passwd *pw, char **ret_buf) {
        long max = sysconf(_SC_GETPW_R_SIZE_MAX);
        size_t size = max > 0 ? (size_t)max : 4096;
        struct passwd *found = NULL;

        for (;;) {
                char *buf = malloc(size);
                int r;

                if (!buf)
                        return -ENOMEM;
                r = getpwuid_r(uid, pw, buf, size, &found);
                if (r == 0 && found) {
                        *ret_buf = buf;
                        return 0;
                }
                free(buf);
                /* getpwuid_r(3): 0, ENOENT and ESRCH all may mean "no such uid". */
                if (r == 0 || r == ENOENT || r == ESRCH)
                        return -ENOENT;
                if (r != ERANGE || size >= 1024 * 1024)
                        return -r;
                size *= 2;
        }
}

/* Every group of the user name with primary group gid (which it includes). */
static int user_groups(const char *name, gid_t gid, gid_t **ret, size_t *ret_n) {
        int n = 32;

        for (;;) {
                gid_t *groups = calloc((size_t)n, sizeof(gid_t));
                int got = n;

                if (!groups)
                        return -ENOMEM;
                if (getgrouplist(name, gid, groups, &got) >= 0) {
                        *ret = groups;
                        *ret_n = (size_t)got;
                        return 0;
                }
                free(groups);
                /* Too small: got is how many there are (glibc), or unchanged. */
                if (got <= n)
                        n *= 2;
                else
                        n = got;
                if (n > 65536 + 1)
                        return -E2BIG;
        }
}

/*
 * The user database's view of uid. A uid without an entry has no groups
 * (only rules naming the uid can match it); a lookup that fails otherwise
 * fails the call rather than deciding without the groups.
 */
static int identity_groups(BusIdentity *id, sd_bus_error *error) {
        _cleanup_(freep) char *buf = NULL;
        struct passwd pw;
        int r;

        id->gid = (gid_t)-1;
        r = user_entry(id->uid, &pw, &buf);
        if (r == -ENOENT)
                return 0;
        if (r == 0) {
                id->gid = pw.pw_gid;
                r = user_groups(pw.pw_name, pw.pw_gid, &id->groups, &id->n_groups);
        }
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "Cannot look up the groups of uid %u in the "
                                         "user database: %s. Check the system's NSS configuration, then retry.",
                                         (unsigned)id->uid, strerror(-r));
        return 0;
}

/* The sender's identity: the bus's word, no /proc augmentation. */
static int bus_identity_read(sd_bus_message *m, BusIdentity *ret, sd_bus_error *error) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        BusIdentity id = { .gid = (gid_t)-1 };
        int r;

        /* No SD_BUS_CREDS_AUGMENT: only what the bus itself says. */
        r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID | SD_BUS_CREDS_PID, &creds);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Cannot read the caller's credentials from the bus: %s. "
                                               "Retry; if the caller has left the bus there is nobody to answer.",
                                               strerror(-r));
        if (sd_bus_creds_get_euid(creds, &id.uid) < 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED,
                                        "The bus did not tell who is calling (its uid); refusing.");
        /* For watching the process's exit only; 0 where the bus has none. */
        if (sd_bus_creds_get_pid(creds, &id.pid) < 0)
                id.pid = 0;
        id.name = sd_bus_message_get_sender(m);
        r = identity_groups(&id, error);
        if (r < 0)
                return r;
        *ret = id;
        return 0;
}

void bus_identity_done(BusIdentity *id) {
        id->groups = mfree(id->groups);
        id->n_groups = 0;
        id->unit = mfree(id->unit);
        id->unit_read = false;
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

bool bus_client_holds_something(const BusClient *bc) {
        const Client *cl = bc->client;

        return cl->pasid != PASID_NONE || !list_empty(&cl->groups) || !list_empty(&cl->claims) ||
               !list_empty(&cl->bonds) ||
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
