/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bus-client.c - bus peers that hold something, as model clients: release when they leave or exit */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "daemon/core/client.h"
#include "daemon/core/device.h"
#include "daemon/core/group.h"
#include "daemon/core/user.h"
#include "audit.h"
#include "daemon.h"

/*
 * A BusClient is made only for a caller that a call has authorized and that
 * is about to hold something (bus-caller.c), keyed by the peer's unique bus
 * name, and lives until that name leaves the bus or the peer's process
 * exits, whichever comes first. Then the core releases all it held. The
 * release runs from a defer source of the event loop, never from inside the
 * bus callback that noticed the exit (L9).
 *
 * A peer costs no bus resources of its own: one match on NameOwnerChanged,
 * installed before the daemon takes its name, watches every peer (a match
 * per peer, as sd_bus_track adds, would let hostile peers exhaust the bus's
 * match limit for our connection, and sd-bus drops the connection when a
 * match it added fails).
 */

BusClient *bus_client_find(Daemon *d, const char *name) {
        return hashmap_find_entry(BusClient, bc, &d->clients_by_name, name_node, hash_string(name),
                                  strcmp(bc->name, name) == 0);
}

const char *client_bus_name(const Client *cl) {
        return cl ? cl->name : "";
}

BusClient *bus_client_free(BusClient *bc) {
        if (!bc)
                return NULL;
        audit_fault_flush(&bc->id, &bc->fault_audit);
        if (bc->client)
                client_release(bc->daemon->core, bc->client->id);
        /* The core has unmapped every region: now the memory may go. */
        while (!list_empty(&bc->shared))
                shared_memory_free(list_entry(bc->shared.next, SharedMemory, link));
        list_del_init(&bc->link);
        hashmap_remove(&bc->daemon->clients_by_name, &bc->name_node);
        sd_event_source_disable_unref(bc->pidfd_source);
        sd_event_source_disable_unref(bc->release_source);
        if (bc->pidfd >= 0)
                close(bc->pidfd);
        bus_identity_done(&bc->id);
        free(bc->creator);
        free(bc->name);
        free(bc);
        return NULL;
}

DEFINE_POINTER_CLEANUP(BusClient, bus_client_free)

void bus_client_audit_release(BusClient *bc, const char *operation) {
        Group *g;

        if (!bc->client)
                return;
        list_for_each_entry(g, &bc->client->groups, owner_link)
                audit_release(&bc->id, g, operation);
}

static int on_release(sd_event_source *s, void *userdata) {
        BusClient *bc = userdata;

        /* A client that holds nothing (its last object released) has
         * nothing to release, and the journal is not told otherwise. */
        if (bus_client_holds_something(bc)) {
                audit_client_end(&bc->id, bc->gone_why);
                bus_client_audit_release(bc, "client-exit");
        }
        bus_client_free(bc);
        return 0;
}

/*
 * The peer is gone. The handler that noticed it (the name watch or the
 * pidfd) does not tear anything down itself: the release runs from a defer
 * source, at a safe point of the event loop (L9). Both watchers may fire;
 * the second finds the release already scheduled (L1).
 */
static void bus_client_gone(BusClient *bc, const char *why) {
        if (bc->release_source)
                return;
        bc->gone_why = why;
        if (sd_event_add_defer(bc->daemon->event, &bc->release_source, on_release, bc) < 0)
                on_release(NULL, bc);   /* no memory for a source: release now */
}

/*
 * NameOwnerChanged(name, old, "") for every name that leaves the bus. The
 * bus sends it to us after every message the peer sent, and we handle
 * messages in order, so the signal for a peer that leaves while its first
 * call is being handled comes after that call has made its BusClient: it
 * cannot be missed.
 */
static int on_name_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *name, *old_owner, *new_owner;
        Daemon *d = userdata;
        BusClient *bc;

        if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0)
                return 0;
        if (name[0] != ':' || new_owner[0] != 0)
                return 0;
        bc = bus_client_find(d, name);
        if (bc)
                bus_client_gone(bc, "left the bus");
        return 0;
}

int bus_clients_watch(Daemon *d) {
        int r;

        r = sd_bus_add_match(d->bus, NULL,
                             "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
                             "interface='org.freedesktop.DBus',member='NameOwnerChanged',arg2=''",
                             on_name_owner_changed, d);
        if (r < 0)
                log_error("cannot watch bus peers leaving (AddMatch on NameOwnerChanged): %s", strerror(-r));
        return r;
}

static int on_pidfd(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        bus_client_gone(userdata, "exited");
        return 0;
}

/* A pidfd makes a client's exit visible even if its connection lingers
 * (passed to another process); kernels before 5.3 have none, and the bus
 * may not know the pid: then the name watch alone sees it go. */
static void bus_client_watch_pid(BusClient *bc) {
        int fd;

        if (bc->id.pid <= 0)
                return;
        fd = (int)syscall(SYS_pidfd_open, bc->id.pid, 0);
        if (fd < 0)
                return;
        if (sd_event_add_io(bc->daemon->event, &bc->pidfd_source, fd, EPOLLIN, on_pidfd, bc) < 0) {
                close(fd);
                return;
        }
        bc->pidfd = fd;
}

int bus_client_new(Daemon *d, const char *name, BusIdentity *id, BusClient **ret, sd_bus_error *error) {
        _cleanup_(bus_client_freep) BusClient *bc = NULL;
        ClientIdentity cid;
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
        bc->name = strdup(name);
        if (!bc->name)
                return -ENOMEM;

        bus_identity_subject(id, &subject);
        policy_limits(d->policy, &subject, &quota, &timeout);
        cid = (ClientIdentity) { .uid = id->uid, .gid = id->gid, .pid = id->pid, .name = bc->name };
        r = client_new(d->core, &cid, &quota, &bc->client);
        if (r == -EDQUOT) {
                User *u = core_find_user(d->core, id->uid);

                return bus_error_set(error, r, "Quota \"connections\" of uid %u is full: %" PRIu64 " of its "
                                     "connections already hold state in iommud, the most your policy allows. "
                                     "Close one (what it holds is released with it), or ask an administrator "
                                     "to raise the quota in the policy.", (unsigned)id->uid,
                                     u ? u->used[RES_CONNECTIONS] : 0);
        }
        if (r < 0)
                return bus_error_set(error, r, "Cannot take on another client: %s. Retry later.", strerror(-r));
        bc->client->fault_timeout_usec = timeout;
        bc->client->may_fault = policy_allows(d->policy, &subject, NULL, POLICY_FAULT_SERVICE);

        /* Nothing fails from here: the identity is the client's now. */
        bc->id = *id;
        bc->id.name = bc->name;
        audit_read_comm(bc->id.pid, bc->id.comm, sizeof(bc->id.comm));
        audit_read_unit(&bc->id);
        *id = (BusIdentity) { .gid = (gid_t)-1 };
        bus_client_watch_pid(bc);
        list_add_tail(&d->clients, &bc->link);
        hashmap_put(&d->clients_by_name, &bc->name_node, hash_string(bc->name));
        *ret = TAKE_PTR(bc);
        return 0;
}

int bus_error_quota(sd_bus_error *error, const Client *cl) {
        Resource r = cl->refused;

        return bus_error_set(error, -EDQUOT, "Quota \"%s\" of uid %u would be exceeded: its connections hold %"
                             PRIu64 " together, and %" PRIu64 " is the most your policy allows. Release some "
                             "(what a connection holds is released when it closes), or ask an administrator "
                             "to raise the quota in the policy.", resource_to_string(r), (unsigned)cl->uid,
                             cl->user->used[r], cl->quota.limit[r]);
}
