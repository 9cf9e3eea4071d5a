/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bus-client.c - bus peers as model clients: identity from the bus, release on exit */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "daemon/core/client.h"
#include "daemon/core/device.h"
#include "daemon/core/user.h"
#include "daemon.h"

/*
 * A BusClient is created on a peer's first call that needs one, keyed by the
 * peer's unique bus name, and lives until that name leaves the bus or the
 * peer's process exits, whichever comes first. Then the core releases all it
 * held. The release runs from a defer source of the event loop, never from
 * inside the bus callback that noticed the exit (L9).
 */

BusClient *bus_client_find(Daemon *d, const char *name) {
        BusClient *bc;

        list_for_each_entry(bc, &d->clients, link)
                if (strcmp(bc->name, name) == 0)
                        return bc;
        return NULL;
}

const char *client_bus_name(const Client *cl) {
        return cl ? cl->name : "";
}

BusClient *bus_client_free(BusClient *bc) {
        if (!bc)
                return NULL;
        if (bc->client)
                client_release(bc->daemon->core, bc->client->id);
        /* The core has unmapped every region: now the memory may go. */
        while (!list_empty(&bc->shared))
                shared_memory_free(list_entry(bc->shared.next, SharedMemory, link));
        list_del_init(&bc->link);
        sd_bus_track_unref(bc->track);
        sd_event_source_disable_unref(bc->pidfd_source);
        sd_event_source_disable_unref(bc->release_source);
        if (bc->pidfd >= 0)
                close(bc->pidfd);
        free(bc->groups);
        free(bc->name);
        free(bc);
        return NULL;
}

DEFINE_POINTER_CLEANUP(BusClient, bus_client_free)

static int on_release(sd_event_source *s, void *userdata) {
        BusClient *bc = userdata;

        fprintf(stderr, "iommud: client %s (uid %u, pid %d) %s; releasing what it held\n",
                bc->name, (unsigned)bc->uid, (int)bc->pid, bc->gone_why);
        bus_client_free(bc);
        return 0;
}

/*
 * The peer is gone. The handler that noticed it (bus track or pidfd) does not
 * tear anything down itself: the release runs from a defer source, at a safe
 * point of the event loop (L9). Both watchers may fire; the second finds the
 * release already scheduled (L1).
 */
static void bus_client_gone(BusClient *bc, const char *why) {
        if (bc->release_source)
                return;
        bc->gone_why = why;
        if (sd_event_add_defer(bc->daemon->event, &bc->release_source, on_release, bc) < 0)
                on_release(NULL, bc);   /* no memory for a source: release now */
}

static int on_track_gone(sd_bus_track *track, void *userdata) {
        bus_client_gone(userdata, "left the bus");
        return 0;
}

static int on_pidfd(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        bus_client_gone(userdata, "exited");
        return 0;
}

/* A pidfd makes a client's exit visible even if its connection lingers
 * (passed to another process); kernels before 5.3 have none. */
static void bus_client_watch_pid(BusClient *bc) {
        int fd = (int)syscall(SYS_pidfd_open, bc->pid, 0);

        if (fd < 0)
                return;
        if (sd_event_add_io(bc->daemon->event, &bc->pidfd_source, fd, EPOLLIN, on_pidfd, bc) < 0) {
                close(fd);
                return;
        }
        bc->pidfd = fd;
}

static int bus_client_creds(BusClient *bc, sd_bus_message *m, sd_bus_error *error) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        const gid_t *gids = NULL;
        int r, n;

        r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID | SD_BUS_CREDS_EGID | SD_BUS_CREDS_PID |
                                      SD_BUS_CREDS_SUPPLEMENTARY_GIDS | SD_BUS_CREDS_AUGMENT, &creds);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Cannot read the caller's credentials from the bus: %s",
                                               strerror(-r));
        if (sd_bus_creds_get_euid(creds, &bc->uid) < 0 || sd_bus_creds_get_egid(creds, &bc->gid) < 0 ||
            sd_bus_creds_get_pid(creds, &bc->pid) < 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED,
                                        "The bus did not tell who is calling (uid, gid, pid); refusing.");
        n = sd_bus_creds_get_supplementary_gids(creds, &gids);
        if (n > 0) {
                bc->groups = malloc((size_t)n * sizeof(gid_t));
                if (!bc->groups)
                        return -ENOMEM;
                memcpy(bc->groups, gids, (size_t)n * sizeof(gid_t));
                bc->n_groups = (size_t)n;
        }
        return 0;
}

void bus_client_subject(const BusClient *bc, PolicySubject *ret) {
        *ret = (PolicySubject) {
                .uid = bc->uid, .gid = bc->gid, .groups = bc->groups, .n_groups = bc->n_groups,
        };
}

static int bus_client_new(Daemon *d, sd_bus_message *m, BusClient **ret, sd_bus_error *error) {
        _cleanup_(bus_client_freep) BusClient *bc = NULL;
        ClientIdentity id;
        PolicySubject subject;
        Quota quota;
        uint64_t timeout;
        int r;

        bc = calloc(1, sizeof(*bc));
        if (!bc)
                return -ENOMEM;
        bc->daemon = d;
        bc->pidfd = -1;
        list_init(&bc->link);
        list_init(&bc->shared);
        bc->name = strdup(sd_bus_message_get_sender(m));
        if (!bc->name)
                return -ENOMEM;
        r = bus_client_creds(bc, m, error);
        if (r < 0)
                return r;

        r = sd_bus_track_new(d->bus, &bc->track, on_track_gone, bc);
        if (r < 0)
                return r;
        r = sd_bus_track_add_sender(bc->track, m);
        if (r < 0)
                return r;

        bus_client_subject(bc, &subject);
        policy_limits(d->policy, &subject, &quota, &timeout);
        id = (ClientIdentity) { .uid = bc->uid, .gid = bc->gid, .pid = bc->pid, .name = bc->name };
        r = client_new(d->core, &id, &quota, &bc->client);
        if (r == -EDQUOT) {
                User *u = core_find_user(d->core, bc->uid);

                return bus_error_set(error, r, "Quota \"connections\" of uid %u is full: %" PRIu64 " of its "
                                     "connections already hold state in iommud, the most your policy allows. "
                                     "Close one (what it holds is released with it), or ask an administrator "
                                     "to raise the quota in the policy.", (unsigned)bc->uid,
                                     u ? u->used[RES_CONNECTIONS] : 0);
        }
        if (r < 0)
                return r;
        bc->client->fault_timeout_usec = timeout;
        bc->client->may_fault = policy_allows(d->policy, &subject, NULL, POLICY_FAULT_SERVICE);
        bus_client_watch_pid(bc);

        list_add_tail(&d->clients, &bc->link);
        *ret = TAKE_PTR(bc);
        return 0;
}

int bus_client_get(Daemon *d, sd_bus_message *m, BusClient **ret, sd_bus_error *error) {
        BusClient *bc = bus_client_find(d, sd_bus_message_get_sender(m));

        if (bc) {
                *ret = bc;
                return 0;
        }
        return bus_client_new(d, m, ret, error);
}

int bus_error_quota(sd_bus_error *error, const Client *cl) {
        Resource r = cl->refused;

        return bus_error_set(error, -EDQUOT, "Quota \"%s\" of uid %u would be exceeded: its connections hold %"
                             PRIu64 " together, and %" PRIu64 " is the most your policy allows. Release some "
                             "(what a connection holds is released when it closes), or ask an administrator "
                             "to raise the quota in the policy.", resource_to_string(r), (unsigned)cl->uid,
                             cl->user->used[r], cl->quota.limit[r]);
}
