/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* verbs-query.c - the read-only verbs: list, groups, status, bonds */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>

#include "iommuctl.h"

#define NO_UID UINT32_MAX

const VerbOption columns_options[] = {
        { "--output", OPT_COLUMNS, "show these columns, comma-separated (see below)", "COLUMNS",
          ARG_COLUMNS, 'o', false },
        { NULL },
};

const char *const list_columns[] = {
        "DEVICE", "GROUP", "DRIVER", "PASID", "PRI", "IOMMU", "MAX-PASIDS",
        "VENDOR", "DEVICE-ID", "CLASS", "OWNER", "NAME", "HANDED-TO",
        "VENDOR-NAME", "DEVICE-NAME", HOLDER_COLUMNS, NULL,
};

const char *const groups_columns[] = {
        "GROUP", "OWNERSHIP", "OWNER", "DEVICES", HOLDER_COLUMNS, NULL,
};

const char *const bonds_columns[] = {
        "BOND", "DEVICE", "PASID", "USERS", "STATE", "OWNER", HOLDER_COLUMNS, NULL,
};

const char *const faults_columns[] = {
        "DEVICE", "RECEIVED", "RESOLVED", "REFUSED", "TIMED-OUT", "ABORTED", NULL,
};

/* "00:02.0" (as lspci prints a device of domain 0000) -> "0000:00:02.0"; 1 if it did. */
int device_full_name(const char *s, char *buf, size_t size) {
        unsigned bus, slot, function;
        int end = 0;

        if (strlen(s) != 7 ||
            sscanf(s, "%2x:%2x.%1x%n", &bus, &slot, &function, &end) != 3 || end != 7 ||
            !isxdigit((unsigned char)s[0]) || !isxdigit((unsigned char)s[3]) || slot > 0x1f ||
            function > 7)
                return 0;
        snprintf(buf, size, "0000:%s", s);
        for (char *p = buf; *p; p++)
                *p = (char)tolower((unsigned char)*p);
        return 1;
}

typedef struct DeviceRow {
        const char *name, *driver, *path, *iommu;
        const char *handed_to;  /* the bus name it is handed to (OpenDevice), "" or NULL: none */
        uint32_t group, max_pasids, class_code;
        uint16_t vendor_id, device_id;
        int pasid, pri;
        const char *owner;      /* of its group; points into Owners */
} DeviceRow;

typedef struct GroupRow {
        const char *ownership, *path, *owner;
        uint32_t id, owner_uid;
        char **devices;
} GroupRow;

/* Each group's owner, for the devices' OWNER column; read once per list. */
typedef struct Owners {
        uint32_t *groups;
        char **names;
        size_t n;
} Owners;

static void owners_done(Owners *o) {
        for (size_t i = 0; i < o->n; i++)
                free(o->names[i]);
        free(o->names);
        free(o->groups);
}

static const char *owner_of(const Owners *o, uint32_t group) {
        for (size_t i = 0; i < o->n; i++)
                if (o->groups[i] == group)
                        return o->names[i];
        return NULL;
}

/*
 * Reads the extra properties of one object. An object that went away since
 * the list was taken (or a daemon without the interface) leaves the defaults.
 */
static int get_extras(Ctx *ctx, const char *path, const char *iface,
                      const Property *props, size_t n, sd_bus_message **keep) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = bus_get_properties(ctx->bus, path, iface, props, n, keep, &error);
        if (r >= 0 || ctl_error_is_missing_object(&error))
                return 0;
        if (sd_bus_error_is_set(&error))
                return ctl_fail(ctx, r, &error);
        return ctl_bad_reply(ctx, r);
}

/* Calls the Manager's List* method and enters the array of its reply. 0 or an exit code. */
static int call_list(Ctx *ctx, const char *method, const char *signature,
                     sd_bus_message **ret_reply) {
        int r;

        r = ctl_call(ctx, IOMMUD_PATH, IOMMUD_MANAGER_INTERFACE, method, ret_reply, NULL);
        if (r != 0)
                return r;
        r = sd_bus_message_enter_container(*ret_reply, 'a', signature);
        return r < 0 ? ctl_bad_reply(ctx, r) : 0;
}

/* The owner of every user-owned group, from ListGroups and each Group's Owner. */
static int read_owners(Ctx *ctx, Owners *o) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *ownership, *path;
        uint32_t id;
        int r;

        r = call_list(ctx, "ListGroups", "(uso)", &reply);
        while (r == 0 && (r = sd_bus_message_read(reply, "(uso)", &id, &ownership, &path)) > 0) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *props = NULL;
                const char *owner = NULL;
                const Property extras[] = { { "Owner", "s", &owner } };
                void *g, *n;

                if (strcmp(ownership, "user") != 0)
                        continue;
                r = get_extras(ctx, path, IOMMUD_GROUP_INTERFACE, extras, 1, &props);
                if (r != 0)
                        return r;
                if (!owner || !*owner)
                        continue;
                g = realloc(o->groups, (o->n + 1) * sizeof(uint32_t));
                if (g)
                        o->groups = g;
                n = realloc(o->names, (o->n + 1) * sizeof(char *));
                if (n)
                        o->names = n;
                if (!g || !n || !(o->names[o->n] = strdup(owner)))
                        return ctl_bad_reply(ctx, -ENOMEM);
                o->groups[o->n++] = id;
        }
        return r < 0 ? ctl_bad_reply(ctx, r) : 0;
}

/* The vendor's and device's names, or their ids in hex where pci.ids lacks them. */
static void device_names(const DeviceRow *d, char *vendor, char *device, size_t size) {
        if (!pci_vendor_name(d->vendor_id, vendor, size))
                snprintf(vendor, size, "0x%04x", d->vendor_id);
        if (!pci_device_name(d->vendor_id, d->device_id, device, size))
                snprintf(device, size, "0x%04x", d->device_id);
}

static void device_json(Ctx *ctx, Json *j, const DeviceRow *d) {
        char vendor[128], device[128];
        bool ids = d->vendor_id || d->device_id;

        json_begin_object(j);
        json_pair_string(j, "device", d->name);
        json_pair_uint(j, "group", d->group);
        json_pair_string_or_null(j, "driver", d->driver);
        json_pair_bool(j, "pasid", d->pasid);
        json_pair_bool(j, "pri", d->pri);
        json_pair_string_or_null(j, "iommu", d->iommu);
        json_key(j, "max_pasids");
        d->max_pasids ? json_uint(j, d->max_pasids) : json_null(j);
        json_pair_uint(j, "vendor_id", d->vendor_id);
        json_pair_uint(j, "device_id", d->device_id);
        json_pair_uint(j, "class_code", d->class_code);
        json_pair_string_or_null(j, "vendor_name",
                                 ids ? pci_vendor_name(d->vendor_id, vendor, sizeof(vendor)) : NULL);
        json_pair_string_or_null(j, "device_name",
                                 ids ? pci_device_name(d->vendor_id, d->device_id, device,
                                                       sizeof(device)) : NULL);
        holder_json(ctx, j, "owner", d->owner);
        json_pair_string_or_null(j, "handed_to", d->handed_to && *d->handed_to ? d->handed_to : NULL);
        json_pair_string(j, "path", d->path);
        json_end_object(j);
}

static int device_add_row(Ctx *ctx, Table *t, Json *j, const DeviceRow *d) {
        char vendor[128], device[128];
        bool ids = d->vendor_id || d->device_id;        /* a mock device has none */

        if (j) {
                device_json(ctx, j, d);
                return 0;
        }
        device_names(d, vendor, device, sizeof(vendor));
        if (table_add(t, d->name) < 0 ||
            table_addf(t, "%u", d->group) < 0 ||
            table_add(t, d->driver) < 0 ||
            table_add(t, d->pasid ? "yes" : "no") < 0 ||
            table_add(t, d->pri ? "yes" : "no") < 0 ||
            table_add(t, d->iommu) < 0 ||
            (d->max_pasids ? table_addf(t, "%u", d->max_pasids) : table_add(t, NULL)) < 0 ||
            table_addf(t, "0x%04x", d->vendor_id) < 0 ||
            table_addf(t, "0x%04x", d->device_id) < 0 ||
            table_addf(t, "0x%06x", d->class_code) < 0 ||
            holder_add_owner(ctx, t, d->owner) < 0 ||
            (ids ? table_addf(t, "%s %s", vendor, device) : table_add(t, NULL)) < 0 ||
            table_add(t, d->handed_to && *d->handed_to ? d->handed_to : NULL) < 0 ||
            table_add(t, ids ? vendor : NULL) < 0 ||
            table_add(t, ids ? device : NULL) < 0 ||
            holder_add_columns(ctx, t, d->owner) < 0)
                return ctl_bad_reply(ctx, -ENOMEM);
        return 0;
}

static int device_read_row(Ctx *ctx, sd_bus_message *reply, Table *t, Json *j, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *props = NULL;
        DeviceRow d = { .name = NULL };
        int r;

        r = sd_bus_message_read(reply, "(susbbo)", &d.name, &d.group, &d.driver,
                                &d.pasid, &d.pri, &d.path);
        if (r <= 0)
                return r < 0 ? ctl_bad_reply(ctx, r) : ROW_END;

        const Property extras[] = {
                { "Iommu", "s", &d.iommu },
                { "MaxPasids", "u", &d.max_pasids },
                { "VendorId", "q", &d.vendor_id },
                { "DeviceId", "q", &d.device_id },
                { "ClassCode", "u", &d.class_code },
                { "HandedTo", "s", &d.handed_to },
        };
        r = get_extras(ctx, d.path, IOMMUD_DEVICE_INTERFACE, extras, ELEMENTSOF(extras), &props);
        if (r != 0)
                return r;
        d.owner = owner_of(userdata, d.group);
        return device_add_row(ctx, t, j, &d);
}

/*
 * Shared by the List* verbs: a table or a JSON array, filled by read_row.
 * Both are built in memory, so that a failure half-way prints no half list.
 */
int list_verb(Ctx *ctx, const char *method, const char *signature, ReadRow read_row,
                     void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        ListOutput o;
        int r;

        r = call_list(ctx, method, signature, &reply);
        if (r != 0)
                return r;
        r = list_output_begin(ctx, &o);
        if (r != 0)
                return r;
        /* read_row returns 0 per row, ROW_END, or an exit code it reported */
        while ((r = read_row(ctx, reply, o.table, o.j, userdata)) == 0)
                ;
        return list_output_end(ctx, &o, r == ROW_END ? 0 : r);
}

int verb_list(Ctx *ctx, const Command *cmd) {
        _cleanup_(owners_done) Owners owners = { .n = 0 };
        int r;

        r = read_owners(ctx, &owners);
        if (r != 0)
                return r;
        return list_verb(ctx, "ListDevices", "(susbbo)", device_read_row, &owners);
}

static int group_add_row(Ctx *ctx, Table *t, Json *j, const GroupRow *g) {
        _cleanup_(freep) char *devices = NULL;

        if (j) {
                json_begin_object(j);
                json_pair_uint(j, "group", g->id);
                json_pair_string(j, "ownership", g->ownership);
                holder_json(ctx, j, "owner", g->owner);
                json_key(j, "devices");
                json_begin_array(j);
                for (char **d = g->devices; d && *d; d++)
                        json_string(j, *d);
                json_end_array(j);
                json_pair_string(j, "path", g->path);
                json_end_object(j);
                return 0;
        }
        devices = strv_join(g->devices, ",");
        if (!devices ||
            table_addf(t, "%u", g->id) < 0 ||
            table_add(t, g->ownership) < 0 ||
            holder_add_owner(ctx, t, g->owner) < 0 ||
            table_add(t, devices) < 0 ||
            holder_add_columns(ctx, t, g->owner) < 0)
                return ctl_bad_reply(ctx, -ENOMEM);
        return 0;
}

static int group_read_row(Ctx *ctx, sd_bus_message *reply, Table *t, Json *j, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *props = NULL;
        GroupRow g = { .owner = "", .owner_uid = NO_UID };
        int r;

        r = sd_bus_message_read(reply, "(uso)", &g.id, &g.ownership, &g.path);
        if (r <= 0)
                return r < 0 ? ctl_bad_reply(ctx, r) : ROW_END;

        const Property extras[] = {
                { "Owner", "s", &g.owner },
                { "OwnerUid", "u", &g.owner_uid },
                { "Devices", "as", &g.devices },
        };
        r = get_extras(ctx, g.path, IOMMUD_GROUP_INTERFACE, extras, ELEMENTSOF(extras), &props);
        if (r == 0)
                r = group_add_row(ctx, t, j, &g);
        strv_free(g.devices);
        return r;
}

int verb_groups(Ctx *ctx, const Command *cmd) {
        return list_verb(ctx, "ListGroups", "(uso)", group_read_row, NULL);
}

static int bond_read_row(Ctx *ctx, sd_bus_message *reply, Table *t, Json *j, void *userdata) {
        const char *path, *device, *state, *owner;
        uint32_t pasid, users;
        int r;

        r = sd_bus_message_read(reply, "(osuuss)", &path, &device, &pasid, &users,
                                &state, &owner);
        if (r <= 0)
                return r < 0 ? ctl_bad_reply(ctx, r) : ROW_END;
        if (j) {
                json_begin_object(j);
                json_pair_string(j, "bond", path);
                json_pair_string(j, "device", device);
                json_pair_uint(j, "pasid", pasid);
                json_pair_uint(j, "users", users);
                json_pair_string(j, "state", state);
                holder_json(ctx, j, "owner", owner);
                json_end_object(j);
                return 0;
        }
        if (table_add(t, path) < 0 || table_add(t, device) < 0 ||
            table_addf(t, "%u", pasid) < 0 || table_addf(t, "%u", users) < 0 ||
            table_add(t, state) < 0 || holder_add_owner(ctx, t, owner) < 0 ||
            holder_add_columns(ctx, t, owner) < 0)
                return ctl_bad_reply(ctx, -ENOMEM);
        return 0;
}

int verb_bonds(Ctx *ctx, const Command *cmd) {
        return list_verb(ctx, "ListBonds", "(osuuss)", bond_read_row, NULL);
}

/* Page request counters of one device; NO_COUNT where the daemon has none. */
#define NO_COUNT UINT64_MAX
#define N_FAULT_COUNTERS 5

static const char *const fault_properties[N_FAULT_COUNTERS] = {
        "FaultsReceived", "FaultsResolved", "FaultsRefused", "FaultsTimedOut", "FaultsAborted",
};

static int faults_add_row(Ctx *ctx, Table *t, Json *j, const char *device, const uint64_t *c) {
        static const char *const keys[N_FAULT_COUNTERS] = {
                "received", "resolved", "refused", "timed_out", "aborted",
        };

        if (j) {
                json_begin_object(j);
                json_pair_string(j, "device", device);
                for (unsigned i = 0; i < N_FAULT_COUNTERS; i++) {
                        json_key(j, keys[i]);
                        c[i] == NO_COUNT ? json_null(j) : json_uint(j, c[i]);
                }
                json_end_object(j);
                return 0;
        }
        if (table_add(t, device) < 0)
                return ctl_bad_reply(ctx, -ENOMEM);
        for (unsigned i = 0; i < N_FAULT_COUNTERS; i++)
                if ((c[i] == NO_COUNT ? table_add(t, NULL) : table_addf(t, "%" PRIu64, c[i])) < 0)
                        return ctl_bad_reply(ctx, -ENOMEM);
        return 0;
}

static int faults_read_row(Ctx *ctx, sd_bus_message *reply, Table *t, Json *j, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *props = NULL;
        uint64_t counts[N_FAULT_COUNTERS];
        Property extras[N_FAULT_COUNTERS];
        const char *name, *path;
        int r;

        r = sd_bus_message_read(reply, "(susbbo)", &name, NULL, NULL, NULL, NULL, &path);
        if (r <= 0)
                return r < 0 ? ctl_bad_reply(ctx, r) : ROW_END;
        for (unsigned i = 0; i < N_FAULT_COUNTERS; i++) {
                counts[i] = NO_COUNT;
                extras[i] = (Property) { fault_properties[i], "t", &counts[i] };
        }
        r = get_extras(ctx, path, IOMMUD_DEVICE_INTERFACE, extras, N_FAULT_COUNTERS, &props);
        if (r != 0)
                return r;
        return faults_add_row(ctx, t, j, name, counts);
}

int verb_faults(Ctx *ctx, const Command *cmd) {
        return list_verb(ctx, "ListDevices", "(susbbo)", faults_read_row, NULL);
}

#define N_COUNTED 4      /* values counted by name; the rest are "other" */

typedef struct Counts {
        unsigned total, n[N_COUNTED + 1];       /* per name in the table below, then "other" */
} Counts;

static void count(Counts *c, const char *const names[N_COUNTED], const char *value) {
        unsigned i;

        for (i = 0; i < N_COUNTED && names[i]; i++)
                if (strcmp(names[i], value) == 0)
                        break;
        c->n[i < N_COUNTED && names[i] ? i : N_COUNTED]++;
        c->total++;
}

static int skip(sd_bus_message *m, const char *types) {
        return *types ? sd_bus_message_skip(m, types) : 0;
}

/*
 * Counts the entries of a List* reply of basic-typed structs, by the string
 * at position field of each (field < 0: only the total).
 */
static int count_list(Ctx *ctx, const char *method, const char *signature, int field,
                      const char *const names[N_COUNTED], Counts *ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        char inner[16], before[16];
        const char *value;
        int r;

        snprintf(inner, sizeof(inner), "%.*s", (int)strlen(signature) - 2, signature + 1);
        snprintf(before, sizeof(before), "%.*s", field < 0 ? 0 : field, inner);

        r = call_list(ctx, method, signature, &reply);
        if (r != 0)
                return r;
        *ret = (Counts) { .total = 0 };
        while ((r = sd_bus_message_enter_container(reply, 'r', inner)) > 0) {
                value = "";
                r = skip(reply, field < 0 ? inner : before);
                if (r >= 0 && field >= 0) {
                        r = sd_bus_message_read_basic(reply, 's', &value);
                        if (r >= 0)
                                r = skip(reply, inner + field + 1);
                }
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
                if (r < 0)
                        return ctl_bad_reply(ctx, r);
                count(ret, names, value);
        }
        return r < 0 ? ctl_bad_reply(ctx, r) : 0;
}

static void print_counts(Json *j, const char *key, const char *label, const Counts *c,
                         const char *const names[N_COUNTED]) {
        if (j) {
                json_key(j, key);
                json_begin_object(j);
                json_pair_uint(j, "total", c->total);
                for (unsigned i = 0; i < N_COUNTED && names[i]; i++) {
                        char snake[16];

                        /* "dma-api" -> "dma_api": JSON keys are snake_case */
                        snprintf(snake, sizeof(snake), "%s", names[i]);
                        for (char *p = snake; *p; p++)
                                if (*p == '-')
                                        *p = '_';
                        json_pair_uint(j, snake, c->n[i]);
                }
                if (c->n[N_COUNTED])
                        json_pair_uint(j, "other", c->n[N_COUNTED]);
                json_end_object(j);
                return;
        }
        printf("%-9s %u", label, c->total);
        for (unsigned i = 0; i < N_COUNTED && names[i]; i++)
                printf("%s%u %s", i ? ", " : " (", c->n[i], names[i]);
        if (c->n[N_COUNTED])
                printf(", %u other", c->n[N_COUNTED]);
        printf(")\n");
}

/* Properties beyond the contract's Version and Backend, shown when present. */
static void print_optional(Json *j, const char *key, const char *label, uint32_t v,
                           const char *suffix) {
        if (v == UINT32_MAX)
                return;
        if (j)
                json_pair_uint(j, key, v);
        else
                printf("%-9s %u%s\n", label, v, suffix);
}

int verb_status(Ctx *ctx, const Command *cmd) {
        static const char *const ownerships[N_COUNTED] = { "user", "machine", "dma-api", "none" };
        static const char *const states[N_COUNTED] = { "active", "stale", NULL };
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *props = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        const char *version = NULL, *backend = NULL;
        uint32_t clients = UINT32_MAX, pasids = UINT32_MAX;     /* optional */
        Counts groups, devices, bonds;
        Json json, *j = NULL;
        int r;

        const Property manager[] = {
                { "Version", "s", &version },
                { "Backend", "s", &backend },
                { "Clients", "u", &clients },
                { "PasidsInUse", "u", &pasids },
        };
        r = bus_get_properties(ctx->bus, IOMMUD_PATH, IOMMUD_MANAGER_INTERFACE, manager,
                               ELEMENTSOF(manager), &props, &error);
        if (r < 0)
                return sd_bus_error_is_set(&error) ? ctl_fail(ctx, r, &error) :
                                                     ctl_bad_reply(ctx, r);
        r = count_list(ctx, "ListGroups", "(uso)", 1, ownerships, &groups);
        if (r == 0)
                r = count_list(ctx, "ListDevices", "(susbbo)", -1, ownerships, &devices);
        if (r == 0)
                r = count_list(ctx, "ListBonds", "(osuuss)", 4, states, &bonds);
        if (r != 0)
                return r;

        if (ctx->json) {
                j = &json;
                json_init(j, stdout);
                json_set_pretty(j, ctx->json_pretty);
                json_begin_object(j);
                json_pair_string(j, "version", version);
                json_pair_string(j, "backend", backend);
                json_pair_uint(j, "devices", devices.total);
        } else
                printf("Version:  %s\nBackend:  %s\nDevices:  %u\n",
                       version ? version : "-", backend ? backend : "-", devices.total);
        print_counts(j, "groups", "Groups:", &groups, ownerships);
        print_counts(j, "bonds", "Bonds:", &bonds, states);
        print_optional(j, "clients", "Clients:", clients, "");
        print_optional(j, "pasids_in_use", "PASIDs:", pasids, " in use");
        if (j) {
                json_end_object(j);
                return ctl_finish_json(ctx, j);
        }
        return fflush(stdout) == 0 ? 0 : ctl_bad_reply(ctx, -EIO);
}
