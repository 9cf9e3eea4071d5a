/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bus-process.c - claims held for a process given as a pidfd, past its launcher's connection */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/core/client.h"
#include "daemon/core/group.h"
#include "daemon.h"
#include "log.h"

/*
 * ClaimGroupForProcess(group, flags, pidfd): a launcher (iommuctl, a
 * libvirt-like manager) claims a group for a process it started, such as
 * QEMU, and may then exit: the claim is held by a client of its own, named
 * "pid:N", that no bus name stands for. It has the launcher's uid and
 * groups (policy and quotas are the launcher's, and it counts as one of
 * the uid's connections) and ends when process N exits, as every client
 * does when its pidfd polls readable (bus-client.c). Its creator, the
 * launcher's connection, may use the claim while it is connected: open its
 * devices (OpenDevice) and release it.
 */

/* The pid a pidfd refers to, from the kernel's fdinfo: -ESRCH once it has
 * exited, -EBADF for anything but a pidfd. */
static int pidfd_get_pid(int pidfd, pid_t *ret) {
        char path[64], line[128];
        int pid = 0, found = 0;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
        f = fopen(path, "re");
        if (!f)
                return -errno;
        while (!found && fgets(line, sizeof(line), f))
                found = sscanf(line, "Pid: %d", &pid) == 1;
        fclose(f);
        if (!found)
                return -EBADF;
        if (pid <= 0)
                return -ESRCH;
        *ret = pid;
        return 0;
}

static int identity_copy(const BusIdentity *from, pid_t pid, BusIdentity *ret) {
        *ret = *from;
        ret->pid = pid;
        ret->groups = NULL;
        if (from->n_groups > 0) {
                ret->groups = malloc(from->n_groups * sizeof(*ret->groups));
                if (!ret->groups)
                        return -ENOMEM;
                memcpy(ret->groups, from->groups, from->n_groups * sizeof(*ret->groups));
        }
        return 0;
}

int bus_process_client(Daemon *d, BusCaller *caller, int pidfd, BusClient **ret, sd_bus_error *error) {
        const BusIdentity *who = bus_caller_identity(caller);
        BusIdentity id;
        char name[32];
        BusClient *bc;
        pid_t pid, again;
        int r;

        r = pidfd_get_pid(pidfd, &pid);
        if (r < 0)
                return bus_error_set(error, -EINVAL, r == -ESRCH ? "The process of the pidfd has exited; claim "
                                     "for a running process." : "The fd is not a pidfd; pass one made by "
                                     "pidfd_open(2) (or clone3 with CLONE_PIDFD).");
        snprintf(name, sizeof(name), "pid:%d", (int)pid);
        bc = bus_client_find(d, name);
        if (bc) {
                if (!bc->creator || strcmp(bc->creator, caller->name) != 0)
                        return bus_error_set(error, -EACCES, "Process %d holds claims made by %s; only that "
                                             "connection may claim more for it.", (int)pid,
                                             bc->creator ? bc->creator : "nobody");
                *ret = bc;
                return 0;
        }
        r = identity_copy(who, pid, &id);
        if (r < 0)
                return r;
        r = bus_client_new(d, name, &id, &bc, error);
        bus_identity_done(&id);
        if (r < 0)
                return r;
        bc->creator = strdup(caller->name);
        /* Our own pidfd was opened by pid after theirs: the same process
         * only if theirs still names it (a reused pid would read -1). */
        if (!bc->creator || bc->pidfd < 0 || pidfd_get_pid(pidfd, &again) < 0 || again != pid) {
                bus_client_free(bc);
                return bus_error_set(error, -EINVAL, "Process %d cannot be watched (it exited, or this kernel "
                                     "has no pidfd_open); its claim would outlive it.", (int)pid);
        }
        log_info("%s (uid %u) holds claims for process %d from now on", caller->name,
                (unsigned)who->uid, (int)pid);
        *ret = bc;
        return 0;
}

/* A process client made by this call that holds nothing goes again. */
void bus_process_client_done(BusClient *bc) {
        if (bc && bc->creator && list_empty(&bc->client->groups) && list_empty(&bc->client->claims))
                bus_client_free(bc);
}

BusClient *bus_claim_holder_of(Daemon *d, const char *sender, const Group *g) {
        BusClient *owner;

        if (!g->owner)
                return NULL;
        owner = bus_client_find(d, g->owner->name);
        if (!owner)
                return NULL;
        if (strcmp(owner->name, sender) == 0 || (owner->creator && strcmp(owner->creator, sender) == 0))
                return owner;
        return NULL;
}

BusClient *bus_claim_holder(Daemon *d, BusClient *bc, const Group *g) {
        BusClient *owner = bus_claim_holder_of(d, bc->name, g);

        return owner ? owner : bc;
}
