/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* daemon.h - iommud's process: event loop, bus, the model, policy and bus clients */
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "api/iommud.h"
#include "daemon/backend/sim.h"
#include "daemon/core/core.h"
#include "policy/policy.h"
#include "common/list.h"
#include "common/strv.h"

#define IOMMUD_DEFAULT_POLICY "/etc/iommud"

/* The core's flag and access bits are the API's (api/iommud.h), so that the
 * glue passes them through unchanged. */
_Static_assert(CLAIM_DETACH_KERNEL_DRIVERS == IOMMUD_CLAIM_DETACH_KERNEL_DRIVERS, "claim flags");
_Static_assert(CLAIM_FLAGS_ALL == IOMMUD_CLAIM_FLAGS_ALL, "claim flags");
_Static_assert(ACCESS_READ == IOMMUD_ACCESS_READ && ACCESS_WRITE == IOMMUD_ACCESS_WRITE, "access bits");

typedef enum BackendKind {
        BACKEND_SIM,
        BACKEND_KERNEL,
        BACKEND_SELFTEST,
} BackendKind;

typedef struct BusClient BusClient;

typedef struct Daemon {
        sd_event *event;                /* owned */
        sd_bus *bus;                    /* owned */
        sd_event_source *post;          /* runs core_dispatch() after each event */
        sd_event_source *sigterm, *sigint, *sighup;
        sd_event_source *fault_source;  /* the fault queue: page requests */
        sd_event_source *device_source; /* the sim devices: page responses */
        sd_event_source *fault_timer;   /* the earliest fault deadline */
        struct sd_device_monitor *device_monitor; /* owned; PCI uevents (kernel backends) */
        uint64_t refused_window_usec;   /* FaultRefused rate limit: window start */
        unsigned refused_in_window;
        unsigned refused_suppressed;

        BackendKind backend_kind;
        SimBackend *sim;                /* owned; the sim backend's state, or NULL */
        struct KernelBackend *kernel;   /* owned; the kernel backend's state, or NULL */
        Core *core;                     /* owned */

        Policy *policy;                 /* owned; replaced whole on reload */
        char *policy_path;              /* owned; NULL: the default directory */

        ListNode clients;               /* BusClient.link, owned */
} Daemon;

typedef struct DaemonConfig {
        BackendKind backend;
        const char *topology;           /* sim: a JSON file, NULL: built in */
        const char *policy;             /* file or directory, NULL: default */
} DaemonConfig;

int daemon_new(Daemon **ret, const DaemonConfig *cfg);
Daemon *daemon_free(Daemon *d);
DEFINE_POINTER_CLEANUP(Daemon, daemon_free)
int daemon_run(Daemon *d);

/* Re-reads policy; on error keeps the old one and returns the reasons. */
int daemon_reload(Daemon *d, char **ret_error);

const char *backend_kind_to_string(BackendKind k);

/* bus-client.c: a bus peer and the core Client it is. */
struct BusClient {
        Daemon *daemon;                 /* borrowed */
        char *name;                     /* owned: the unique bus name */
        Client *client;                 /* owned by the core; released with us */
        uid_t uid;
        gid_t gid;
        gid_t *groups;                  /* owned supplementary groups */
        size_t n_groups;
        pid_t pid;
        int pidfd;                      /* -1 where the kernel has none */
        sd_bus_track *track;            /* owned: watches the bus name */
        sd_event_source *pidfd_source;  /* owned: fires when the process exits */
        sd_event_source *release_source;/* owned: the scheduled release, once gone */
        ListNode shared;                /* SharedMemory.link, owned */
        const char *gone_why;           /* static string, for the log */
        ListNode link;                  /* in daemon->clients */
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

/* The BusClient of the message's sender, created on its first call. */
int bus_client_get(Daemon *d, sd_bus_message *m, BusClient **ret, sd_bus_error *error);
BusClient *bus_client_find(Daemon *d, const char *name);
BusClient *bus_client_free(BusClient *bc);
void bus_client_subject(const BusClient *bc, PolicySubject *ret);

/*
 * Authorizes bc for op on dev (NULL: no device), from its bus credentials
 * and the policy. On refusal sets AccessDenied with a message that names
 * the uid, the operation, the device and how to grant it.
 */
int bus_authorize(Daemon *d, const BusClient *bc, PolicyOp op, const Device *dev, sd_bus_error *error);
/* Root only (Reload, Simulator). */
int bus_authorize_root(sd_bus_message *m, const char *what, sd_bus_error *error);

/* bus-error.c: the one table from core errno to D-Bus error names. */
_attribute_printf_(3, 4)
int bus_error_set(sd_bus_error *error, int r, const char *fmt, ...);
const char *bus_error_name(int r);
/* What went wrong in the backend: the kernel's own words where it has them. */
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
int bus_check_owner(sd_bus_message *m, const Client *owner, const char *kind, uint64_t id, const char *verb,
                    BusClient **ret, sd_bus_error *error);

/* prefix/N <-> N, for objects named by a number (groups, bonds, regions, spaces). */
int object_path_for_id(const char *prefix, uint64_t id, char **ret);
bool object_path_id(const char *path, const char *prefix, uint64_t *ret);
int device_object_path(const char *name, char **ret);

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
} ClientObjects;

#define CLIENT_OBJECTS(prefix, type, list_head) \
        { prefix, offsetof(Client, list_head), offsetof(type, client_link), offsetof(type, id) }

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
int bus_manager_register(Daemon *d);
int bus_group_register(Daemon *d);
int bus_device_register(Daemon *d);
int bus_bond_register(Daemon *d);
int bus_region_register(Daemon *d);
int bus_space_register(Daemon *d);
int bus_simulator_register(Daemon *d);

/* fault-service.c: page requests in the event loop. */
int fault_service_setup(Daemon *d);
void fault_service_post(Daemon *d);

/* hotplug.c: PCI uevents into the kernel backend's model. */
int hotplug_setup(Daemon *d);

/* signals.c: core events to D-Bus signals. */
void daemon_on_core_event(void *userdata, const CoreEvent *ev);

/* Helpers shared by the interfaces (bus-device.c, bus-client.c). */
int bus_find_device(Daemon *d, const char *name, Device **ret, sd_bus_error *error);
int bus_error_not_claimed(sd_bus_error *error, const Device *dev);
const char *client_bus_name(const Client *cl);

