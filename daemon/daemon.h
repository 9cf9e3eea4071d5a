/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* daemon.h - iommud's process: event loop, bus, the model, policy and bus clients */
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "api/iommud.h"
#include "daemon/audit.h"
#include "daemon/log.h"
#include "daemon/overrides.h"
#include "daemon/backend/backend.h"
#include "daemon/core/core.h"
#include "policy/policy.h"
#include "common/list.h"
#include "common/strv.h"

#define IOMMUD_DEFAULT_POLICY "/etc/iommud"
#define IOMMUD_DEFAULT_STATE_DIR "/run/iommud"

/* The core's flag and access bits are the API's (api/iommud.h), so that the
 * glue passes them through unchanged. */
_Static_assert(CLAIM_DETACH_KERNEL_DRIVERS == IOMMUD_CLAIM_DETACH_KERNEL_DRIVERS, "claim flags");
_Static_assert(CLAIM_FLAGS_ALL == IOMMUD_CLAIM_FLAGS_ALL, "claim flags");
_Static_assert(ACCESS_READ == IOMMUD_ACCESS_READ && ACCESS_WRITE == IOMMUD_ACCESS_WRITE, "access bits");

typedef struct BusClient BusClient;

typedef struct Daemon {
        sd_event *event;                /* owned */
        sd_bus *bus;                    /* owned */
        sd_event_source *post;          /* runs core_dispatch() after each event */
        sd_event_source *sigterm, *sigint, *sighup;
        sd_event_source *fault_source;  /* the fault queue: page requests */
        sd_event_source *device_source; /* the backend's simulated devices: page responses */
        sd_event_source *fault_timer;   /* the earliest fault deadline */
        sd_event_source *request_source; /* the backend's device requests (request_fd) */
        struct sd_device_monitor *device_monitor; /* owned; PCI uevents (backends with device_event) */
        uint64_t refused_window_usec;   /* FaultRefused rate limit: window start */
        unsigned refused_in_window;
        unsigned refused_suppressed;
        AuditRate orphan_fault_audit;   /* refused page requests of no client, in the journal */
        sd_event_source *sig_debug, *sig_level; /* SIGRTMIN+22: log level debug; +23: back to configured */

        Backend *backend;               /* owned; outlives the core */
        Core *core;                     /* owned */

        Policy *policy;                 /* owned; replaced whole on reload */
        char *policy_path;              /* owned; NULL: the default directory */

        ListNode clients;               /* BusClient.link, owned */
        HashMap clients_by_name;        /* BusClient.name_node: every call's lookup of its caller */
        ListNode claim_calls;           /* ClaimCall.link, owned: ClaimGroup calls not answered yet */
        OverrideStore overrides;        /* the overrides kept across restarts (overrides.h) */
        ListNode override_calls;        /* OverrideCall.link, owned: Detach/ReattachGroup not answered yet */
        sd_event_source *worker_source; /* the backend's work off the loop (worker_fd) */
} Daemon;

typedef struct DaemonConfig {
        const BackendClass *backend;    /* static: which backend (its new() is not NULL) */
        const char *topology;           /* a JSON file for a backend that takes_topology; NULL: built in */
        const char *policy;             /* file or directory, NULL: default */
        const char *state_dir;          /* the kernel backend's state (kernel-state.h), NULL: default */
        const char *lib_dir;            /* the overrides kept across reboots (overrides.h), NULL: default */
} DaemonConfig;

int daemon_new(Daemon **ret, const DaemonConfig *cfg);
Daemon *daemon_free(Daemon *d);
DEFINE_POINTER_CLEANUP(Daemon, daemon_free)
int daemon_run(Daemon *d);

/* Re-reads policy; on error keeps the old one and returns the reasons. */
int daemon_reload(Daemon *d, char **ret_error);
/* reload.c: the policy now in force applied to every client (its limits, and
 * what it no longer allows released, L2), with Manager.Revoked signals. */
void daemon_apply_policy(Daemon *d);

/*
 * bus-caller.c: who is calling, as far as security decisions go
 * (docs/policy.md): the uid the bus vouches for (the kernel's SO_PEERCRED
 * at connect) and that user's groups from the user database. Never the
 * caller's /proc: a process can change its groups after it connected (a
 * setgid exec), and a pid can be reused.
 */
typedef struct BusIdentity {
        uid_t uid;
        gid_t gid;                      /* the user's primary group; (gid_t)-1: not in the user database */
        gid_t *groups;                  /* owned: all of the user's groups, the primary one included */
        size_t n_groups;
        pid_t pid;                      /* the connecting process, as the bus recorded it; 0: unknown.
                                         * Only for watching its exit and the log, never for decisions. */
        const char *name;               /* borrowed: the unique bus name, from the call's message or the
                                         * BusClient.name of the client that owns this identity */
        char comm[17];                  /* the process's command name when its BusClient was made, for
                                         * the records of its exit; "" until then or if unknown */
        /* Owned: the systemd unit of the process's cgroup, read once when
         * its BusClient was made (unit_read; NULL: in none), so that each
         * audit record of the client does not read /proc again. */
        char *unit;
        bool unit_read;
} BusIdentity;

/* bus-client.c: a bus peer that holds something, and the core Client it is. */
struct BusClient {
        Daemon *daemon;                 /* borrowed */
        char *name;                     /* owned: the unique bus name */
        Client *client;                 /* owned by the core; released with us */
        BusIdentity id;                 /* owned; read once, when the client was made */
        int pidfd;                      /* -1 where the kernel has none */
        sd_event_source *pidfd_source;  /* owned: fires when the process exits */
        sd_event_source *release_source;/* owned: the scheduled release, once gone */
        ListNode shared;                /* SharedMemory.link, owned */
        const char *gone_why;           /* static string, for the log */
        AuditRate fault_audit;          /* its refused page requests in the journal (audit.h) */
        char *creator;                  /* owned: for a process's client ("pid:N"), the bus name that
                                         * made it (bus-process.c); NULL for a bus peer */
        ListNode link;                  /* in daemon->clients */
        HashNode name_node;             /* in daemon->clients_by_name, by name */
};

/*
 * The daemon's side of a shared region: the memfd the client passed and the
 * daemon's own mapping of it, which Region.backing points into. Owned by the
 * BusClient; unmapped only after the core has freed the region, so no
 * device can still reach the pages (L2).
 */
typedef struct SharedMemory {
        uint64_t region_id;
        int fd;                         /* owned */
        void *map;                      /* owned mapping */
        size_t map_len;
        ListNode link;                  /* in BusClient.shared */
} SharedMemory;

SharedMemory *shared_memory_free(SharedMemory *sm);
int method_share_memory(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_create_space(sd_bus_message *m, void *userdata, sd_bus_error *error);

/*
 * The sender of one method call, on the handler's stack: its BusClient if it
 * has one (whose identity was read when it was made), else its identity read
 * from the bus for this call alone. A refused or read-only call so costs the
 * daemon nothing that outlives it. Use:
 *
 *         _cleanup_(bus_caller_done) BusCaller caller = BUS_CALLER_NULL;
 *         r = bus_caller_get(d, m, &caller, error);
 *         ... bus_authorize(d, bus_caller_identity(&caller), ...) ...
 *         r = bus_caller_client(d, &caller, &bc, error);
 *
 * or bus_client_authorized() for the three steps with one operation.
 */
typedef struct BusCaller {
        const char *name;               /* borrowed from the message: the unique bus name */
        BusClient *client;              /* borrowed, or NULL */
        BusIdentity fresh;              /* owned while client is NULL */
        bool made;                      /* client was made by this call */
} BusCaller;

#define BUS_CALLER_NULL { .client = NULL }

int bus_caller_get(Daemon *d, sd_bus_message *m, BusCaller *ret, sd_bus_error *error);
const BusIdentity *bus_caller_identity(const BusCaller *c);
/* The caller's BusClient, made now if it has none: only once authorized. */
int bus_caller_client(Daemon *d, BusCaller *c, BusClient **ret, sd_bus_error *error);
/* Frees what c owns; a BusClient made by this call that holds nothing (the
 * call failed after making it) is freed too. */
void bus_caller_done(BusCaller *c);
/* A client holds something when the core or we keep anything of it. */
bool bus_client_holds_something(const BusClient *bc);
/* bus_caller_get(), bus_authorize() for op on dev, bus_caller_client(). */
int bus_client_authorized(Daemon *d, sd_bus_message *m, BusCaller *c, PolicyOp op, const Device *dev,
                          BusClient **ret, sd_bus_error *error);

void bus_identity_done(BusIdentity *id);
void bus_identity_subject(const BusIdentity *id, PolicySubject *ret);

/* Makes the BusClient of bus name with identity *id, which it takes. */
int bus_client_new(Daemon *d, const char *name, BusIdentity *id, BusClient **ret, sd_bus_error *error);
BusClient *bus_client_find(Daemon *d, const char *name);
BusClient *bus_client_free(BusClient *bc);
/* A release record (audit.h) for each group bc owns, before they are released. */
void bus_client_audit_release(BusClient *bc, const char *operation);
/* The one match that sees every peer leave the bus; before taking our name. */
int bus_clients_watch(Daemon *d);
/* QuotaExceeded for the quota cl's last charge found full (cl->refused):
 * names it, what the uid holds and what it may. */
int bus_error_quota(sd_bus_error *error, const Client *cl);

/*
 * Authorizes who for op on dev (NULL: no device) against the policy. On
 * refusal sets AccessDenied with a message that names the uid, the
 * operation, the device and how to grant it.
 */
int bus_authorize(Daemon *d, const BusIdentity *who, PolicyOp op, const Device *dev, sd_bus_error *error);
/* The policy's answer alone, without an error. */
bool bus_allows(Daemon *d, const BusIdentity *who, PolicyOp op, const Device *dev);
/* The smallest max_pasids of the PASID-capable devices who may bind ("sva"),
 * or 0 when there is none: what the client's PASID is to fit (L7). */
uint32_t bus_sva_width(Daemon *d, const BusIdentity *who);
/* AllocPasid() is authorized like BindSva(): who may bind some PASID-capable
 * device. Sets *ret_width to bus_sva_width(); AccessDenied otherwise. */
int bus_authorize_sva_somewhere(Daemon *d, const BusIdentity *who, uint32_t *ret_width, sd_bus_error *error);
/* Root only (Reload, Simulator). */
int bus_authorize_root(sd_bus_message *m, const char *what, sd_bus_error *error);

/* bus-override.c: overrides for the machine (daemon/core/override.h). */
int bus_method_detach_group(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_method_reattach_group(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_method_list_overrides(sd_bus_message *m, void *userdata, sd_bus_error *error);
void bus_override_answered(Daemon *d, const CoreEvent *ev);
void bus_override_calls_free(Daemon *d);
/* The stored records made to say what the model says of g; saved: where. */
void bus_override_store_group(Daemon *d, const Group *g, bool saved);
/* Group.Override: "", "until-reboot" or "persistent". */
const char *bus_override_of_group(Daemon *d, const Group *g);
/* The stored overrides held again, at start, before the name is taken. */
int bus_overrides_reapply(Daemon *d);

/* bus-error.c: the one table from core errno to D-Bus error names. */
_attribute_printf_(3, 4)
int bus_error_set(sd_bus_error *error, int r, const char *fmt, ...);
const char *bus_error_name(int r);
/* What went wrong in the backend: its why() where it has words for r
 * (the kernel's own), strerror() otherwise. */
const char *daemon_backend_error(Daemon *d, int r);

/* bus-object.c: what the object interfaces share. */

/* The Daemon a method call is for (from any of our vtables). */
Daemon *bus_daemon(sd_bus_message *m);

/*
 * Only the owner of an object may change it: 0 if the sender of m is the
 * bus client of owner (then *ret, if given, is that BusClient, borrowed),
 * else AccessDenied naming the object ("<kind> <id>"), its owner, and what
 * to do. verb is what the caller tried ("unbind").
 */
/* Group id, or NoSuchGroup naming the verb that lists them. */
int bus_find_group(Daemon *d, uint32_t id, Group **ret, sd_bus_error *error);
int bus_check_owner(sd_bus_message *m, const Client *owner, const char *kind, uint64_t id, const char *verb,
                    BusClient **ret, sd_bus_error *error);

/* prefix/N <-> N, for objects named by a number (groups, bonds, regions, spaces). */
int object_path_for_id(const char *prefix, uint64_t id, char **ret);
bool object_path_id(const char *path, const char *prefix, uint64_t *ret);
int device_object_path(const char *name, char **ret);

/*
 * When [iova, iova + length) is not inside the IOVAs the IOMMU lets dom map
 * (iodomain_check_iovas()): sets error to InvalidArgument naming the range
 * it hit and what it is, then what to do next, and returns -EINVAL.
 * Otherwise 0, and error is untouched.
 */
int bus_error_iovas(sd_bus_error *error, const IoDomain *dom, uint64_t iova, uint64_t length, const char *next);

/* Getters for offset properties: "b" over a C bool (sd-bus's own reads an
 * int), and "s" the bus name of a Client * ("" when NULL). */
int bus_property_get_bool(sd_bus *bus, const char *path, const char *interface, const char *property,
                          sd_bus_message *reply, void *userdata, sd_bus_error *error);
int bus_property_get_owner(sd_bus *bus, const char *path, const char *interface, const char *property,
                           sd_bus_message *reply, void *userdata, sd_bus_error *error);

/*
 * Objects a client owns (bonds, regions, spaces): each on a list in its
 * Client, linked by client_link, named prefix/<its uint64_t id>.
 */
typedef struct ClientObjects {
        const char *prefix;
        size_t list;                    /* offsetof(Client, the list head) */
        size_t link;                    /* offsetof(the object, client_link) */
        size_t id;                      /* offsetof(the object, id) */
        size_t index;                   /* offsetof(Core, the index of every client's objects) */
        size_t node;                    /* offsetof(the object, its HashNode in that index) */
} ClientObjects;

#define CLIENT_OBJECTS(prefix, type, list_head, core_index) \
        { prefix, offsetof(Client, list_head), offsetof(type, client_link), offsetof(type, id), \
          offsetof(Core, core_index), offsetof(type, id_node) }

/* For a fallback vtable's find and node enumerator callbacks: the object of
 * a path, whichever client owns it, and the paths of all. */
int bus_find_client_object(Daemon *d, const ClientObjects *k, const char *path, void **found);
int bus_enumerate_client_objects(Daemon *d, const ClientObjects *k, char ***nodes);

/* Objects under prefix: one fallback vtable, whose find returns the object
 * the vtable's offsets refer to, and a node enumerator; d is their userdata. */
int bus_add_objects(Daemon *d, const char *prefix, const char *interface, const sd_bus_vtable *vtable,
                    sd_bus_object_find_t find, sd_bus_node_enumerator_t enumerate);

/* The interfaces, one file each. The vtables are exported for
 * tests/fuzz/fuzz-bus, which calls every method they list. */
extern const sd_bus_vtable manager_vtable[], simulator_vtable[], group_vtable[], device_vtable[],
        bond_vtable[], region_vtable[], space_vtable[];
/* bus-handout.c: fds for the client's own driver, and the revoke that takes them back. */
int bus_method_open_iommufd(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_method_open_device(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_method_group_revoke(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_property_group_holders(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error);

/* bus-process.c: claims held for a process (ClaimGroupForProcess). The
 * client "pid:N" for the process of pidfd, made for caller if it has none
 * (it ends when the process exits); bus_process_client_done() frees one
 * that holds nothing. bus_claim_holder_of(): the owner of g's claim if
 * sender may use it (it is sender's, or a process's that sender made it
 * for), else NULL; bus_claim_holder(): that, or bc itself. */
int bus_process_client(Daemon *d, BusCaller *caller, int pidfd, BusClient **ret, sd_bus_error *error);
void bus_process_client_done(BusClient *bc);
BusClient *bus_claim_holder_of(Daemon *d, const char *sender, const Group *g);
BusClient *bus_claim_holder(Daemon *d, BusClient *bc, const Group *g);

/* bus-claim.c */
int bus_method_claim_group(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_method_release_group(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_method_claim_group_for_process(sd_bus_message *m, void *userdata, sd_bus_error *error);
void bus_claim_answered(Daemon *d, const CoreEvent *ev);
void bus_claim_calls_free(Daemon *d);

int bus_manager_register(Daemon *d);
/* PropertiesChanged for Manager.LogLevel, after a signal changed it. */
void bus_manager_log_level_changed(Daemon *d);
int bus_group_register(Daemon *d);
int bus_device_register(Daemon *d);
int bus_bond_register(Daemon *d);
int bus_region_register(Daemon *d);
int bus_space_register(Daemon *d);
int bus_simulator_register(Daemon *d);

/* fault-service.c: page requests in the event loop. */
int fault_service_setup(Daemon *d);
void fault_service_post(Daemon *d);

/* hotplug.c: PCI uevents into the backend's device_event(). */
int hotplug_setup(Daemon *d);

/* signals.c: core events to D-Bus signals. */
void daemon_on_core_event(void *userdata, const CoreEvent *ev);

/* Helpers shared by the interfaces (bus-device.c, bus-client.c). */
int bus_find_device(Daemon *d, const char *name, Device **ret, sd_bus_error *error);
int bus_error_not_claimed(sd_bus_error *error, const Device *dev);
/* Busy: dev's group has a device handed out, so iommud attaches nothing there. */
int bus_error_handed_out(sd_bus_error *error, const Device *dev);
const char *client_bus_name(const Client *cl);

