/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bus-manager.c - org.iommud1.Manager: listing, claims, PASIDs, SVA bonds, reload */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/core/bond.h"
#include "daemon/core/client.h"
#include "daemon/core/device.h"
#include "daemon/core/domain.h"
#include "daemon/core/group.h"
#include "daemon/core/pasid.h"
#include "daemon/core/region.h"
#include "daemon.h"

static int property_version(sd_bus *bus, const char *path, const char *interface, const char *property,
                            sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", PROJECT_VERSION);
}

static int property_backend(sd_bus *bus, const char *path, const char *interface, const char *property,
                            sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;

        return sd_bus_message_append(reply, "s", d->backend->class->name);
}

static int property_clients(sd_bus *bus, const char *path, const char *interface, const char *property,
                            sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;

        return sd_bus_message_append(reply, "u", list_count(&d->core->clients));
}

static int property_pasids_in_use(sd_bus *bus, const char *path, const char *interface,
                                  const char *property, sd_bus_message *reply, void *userdata,
                                  sd_bus_error *error) {
        Daemon *d = userdata;

        return sd_bus_message_append(reply, "u", pasid_pool_count(d->core->pasids));
}

/* Replies to m with one array of contents, which append fills. */
static int reply_array(sd_bus_message *m, const char *contents,
                       int (*append)(sd_bus_message *reply, Daemon *d)) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', contents);
        if (r >= 0)
                r = append(reply, bus_daemon(m));
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
}

static int append_groups(sd_bus_message *reply, Daemon *d) {
        Group *g;
        int r;

        list_for_each_entry(g, &d->core->groups, core_link) {
                _cleanup_(freep) char *path = NULL;

                r = object_path_for_id(IOMMUD_GROUP_PREFIX, g->id, &path);
                if (r >= 0)
                        r = sd_bus_message_append(reply, "(uso)", g->id, ownership_to_string(group_ownership(g)),
                                                  path);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int append_devices(sd_bus_message *reply, Daemon *d) {
        Device *dev;
        int r;

        list_for_each_entry(dev, &d->core->devices, core_link) {
                _cleanup_(freep) char *path = NULL;

                r = device_object_path(dev->name, &path);
                if (r >= 0)
                        r = sd_bus_message_append(reply, "(susbbo)", dev->name, dev->group->id,
                                                  dev->driver ? dev->driver : "",
                                                  (int)dev->pasid_capable, (int)dev->pri_capable, path);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int append_bonds(sd_bus_message *reply, Daemon *d) {
        Client *cl;
        Bond *b;
        int r;

        list_for_each_entry(cl, &d->core->clients, core_link)
                list_for_each_entry(b, &cl->bonds, client_link) {
                        _cleanup_(freep) char *path = NULL;

                        r = object_path_for_id(IOMMUD_BOND_PREFIX, b->id, &path);
                        if (r >= 0)
                                r = sd_bus_message_append(reply, "(osuuss)", path, b->device_name, b->pasid,
                                                          b->users, bond_state_to_string(b), cl->name);
                        if (r < 0)
                                return r;
                }
        return 0;
}

static int method_list_groups(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return reply_array(m, "(uso)", append_groups);
}

static int method_list_devices(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return reply_array(m, "(susbbo)", append_devices);
}

static int method_list_bonds(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return reply_array(m, "(osuuss)", append_bonds);
}

static int method_alloc_pasid(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(bus_caller_done) BusCaller caller = BUS_CALLER_NULL;
        Daemon *d = bus_daemon(m);
        BusClient *bc;
        uint32_t pasid, width;
        int r;

        r = bus_caller_get(d, m, &caller, error);
        if (r < 0)
                return r;
        /* Like BindSva(): only for a caller that may bind some device, and
         * the PASID is to fit all those it may bind (L7). */
        r = bus_authorize_sva_somewhere(d, bus_caller_identity(&caller), &width, error);
        if (r >= 0)
                r = bus_caller_client(d, &caller, &bc, error);
        if (r >= 0)
                bc->client->pasid_width = width;
        if (r < 0)
                return r;
        r = client_get_pasid(bc->client, &pasid);
        if (r == -EDQUOT)
                return bus_error_quota(error, bc->client);
        if (r == -ENOSPC)
                return bus_error_set(error, r, "All PASIDs (1..1048575) are in use; try again when a client "
                                     "has exited.");
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(m, "u", pasid);
}

/* A region of the client the IOMMU does not let its SVA domain for dev map:
 * it was mapped up front (a device without PRI) into a domain already
 * attached elsewhere, whose IOVA ranges refused it. */
static int bind_error_iovas(BusClient *bc, Device *dev, sd_bus_error *error) {
        SvaDomain *sd;
        Region *reg;

        list_for_each_entry(sd, &bc->client->sva_domains, client_link) {
                if (sd->io.iommu != dev->iommu)
                        continue;
                list_for_each_entry(reg, &bc->client->regions, client_link)
                        if (bus_error_iovas(error, &sd->io, reg->address, reg->length, "SVA maps shared memory "
                                            "at your own addresses: remove that region, or share it at another "
                                            "address") < 0)
                                return -EINVAL;
        }
        return bus_error_set(error, -EINVAL, "Binding %s failed: %s.", dev->name, strerror(EINVAL));
}

static int bind_error(Daemon *d, BusClient *bc, Device *dev, int r, sd_bus_error *error) {
        switch (r) {
        case -EPERM:
                return bus_error_not_claimed(error, dev);
        case -EOPNOTSUPP:
                if (dev->pasid_capable)
                        return bus_error_set(error, r, "Device %s has a PASID capability but its IOMMU gives it "
                                             "no PASIDs (IommuPasidWidth 0), so it cannot be bound for SVA; "
                                             "it can only do DMA through its RID.", dev->name);
                return bus_error_set(error, r, "Device %s has no PASID capability, so it cannot be bound for "
                                     "SVA; it can only do DMA through its RID.", dev->name);
        case -EOVERFLOW:
                return bus_error_set(error, r, "Your PASID %u does not fit device %s, which takes PASIDs "
                                     "below %u. A client keeps its PASID for life; use a device with more "
                                     "PASIDs, or a new client.", bc->client->pasid, dev->name, dev->max_pasids);
        case -EBUSY:
                if (dev->group->n_handed_out > 0)
                        return bus_error_handed_out(error, dev);
                return bus_error_set(error, r, "PASID %u of device %s is held by a space attachment; detach "
                                     "it before binding.", bc->client->pasid, dev->name);
        case -EDQUOT:
                return bus_error_quota(error, bc->client);
        case -ENOSPC:
                return bus_error_set(error, r, "All PASIDs are in use; try again when a client has exited.");
        case -ENOSYS:
                return bus_error_set(error, r, "Binding %s is not possible on this kernel: %s.", dev->name,
                                     daemon_backend_error(d, r));
        case -EINVAL:
                return bind_error_iovas(bc, dev, error);
        case -EADDRINUSE:
                return bus_error_set(error, r, "Binding %s was refused: %s. SVA maps shared memory at your own "
                                     "addresses: share memory you mapped at another address.", dev->name,
                                     daemon_backend_error(d, r));
        default:
                return bus_error_set(error, r, "Binding %s failed: %s.", dev->name, daemon_backend_error(d, r));
        }
}

static int method_bind_sva(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(bus_caller_done) BusCaller caller = BUS_CALLER_NULL;
        _cleanup_(freep) char *path = NULL;
        Daemon *d = bus_daemon(m);
        const char *name;
        BusClient *bc;
        Device *dev;
        Bond *b;
        int r;

        r = sd_bus_message_read(m, "s", &name);
        if (r < 0)
                return r;
        r = bus_find_device(d, name, &dev, error);
        if (r < 0)
                return r;
        r = bus_client_authorized(d, m, &caller, POLICY_SVA, dev, &bc, error);
        if (r < 0)
                return r;
        bc->client->pasid_width = bus_sva_width(d, &bc->id);
        r = bond_bind(bc->client, dev, &b);
        if (r < 0)
                return bind_error(d, bc, dev, r, error);
        audit_bind(&bc->id, dev, b->id, b->pasid, b->users);
        r = object_path_for_id(IOMMUD_BOND_PREFIX, b->id, &path);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(m, "ou", path, b->pasid);
}

/* LogLevel, like systemd's Manager.LogLevel: "emerg".."debug". */
static int property_get_log_level(sd_bus *bus, const char *path, const char *interface, const char *property,
                                  sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", log_level_to_string(log_get_level()));
}

/* Root only: the bus policy lets only root send Properties.Set, and the
 * daemon checks again, as for Reload(). value is the Set call. */
static int property_set_log_level(sd_bus *bus, const char *path, const char *interface, const char *property,
                                  sd_bus_message *value, void *userdata, sd_bus_error *error) {
        const char *s;
        int r, level;

        r = bus_authorize_root(value, "Setting LogLevel", error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(value, "s", &s);
        if (r < 0)
                return r;
        level = log_level_from_string(s);
        if (level < 0)
                return bus_error_set(error, -EINVAL, "\"%s\" is not a log level; use emerg, alert, crit, err, "
                                     "warning, notice, info, debug, or 0..7.", s);
        log_set_level(level);
        log_info("log level %s (set over the bus by %s)", log_level_to_string(level),
                 sd_bus_message_get_sender(value));
        return 0;
}

void bus_manager_log_level_changed(Daemon *d) {
        sd_bus_emit_properties_changed(d->bus, IOMMUD_PATH, IOMMUD_MANAGER_INTERFACE, "LogLevel", NULL);
}

static int method_reload(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(freep) char *errors = NULL;
        Daemon *d = bus_daemon(m);
        int r;

        r = bus_authorize_root(m, "Reload()", error);
        if (r < 0)
                return r;
        r = daemon_reload(d, &errors);
        if (r < 0)
                return bus_error_set(error, -EINVAL, "The policy was not reloaded; the old one stays in force. "
                                     "Fix these and reload again:\n%s", errors ? errors : strerror(-r));
        return sd_bus_reply_method_return(m, NULL);
}

const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "s", property_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Backend", "s", property_backend, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Clients", "u", property_clients, 0, 0),
        SD_BUS_PROPERTY("PasidsInUse", "u", property_pasids_in_use, 0, 0),
        SD_BUS_WRITABLE_PROPERTY("LogLevel", "s", property_get_log_level, property_set_log_level, 0,
                                 SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_NAMES("ListGroups", "", , "a(uso)", SD_BUS_PARAM(groups),
                                 method_list_groups, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("ListDevices", "", , "a(susbbo)", SD_BUS_PARAM(devices),
                                 method_list_devices, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("ListBonds", "", , "a(osuuss)", SD_BUS_PARAM(bonds),
                                 method_list_bonds, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("ClaimGroup", "ut", SD_BUS_PARAM(group) SD_BUS_PARAM(flags),
                                 "o", SD_BUS_PARAM(path), bus_method_claim_group, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("ClaimGroupForProcess", "uth",
                                 SD_BUS_PARAM(group) SD_BUS_PARAM(flags) SD_BUS_PARAM(pidfd),
                                 "o", SD_BUS_PARAM(path), bus_method_claim_group_for_process,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("ReleaseGroup", "u", SD_BUS_PARAM(group), "", ,
                                 bus_method_release_group, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("AllocPasid", "", , "u", SD_BUS_PARAM(pasid),
                                 method_alloc_pasid, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("BindSva", "s", SD_BUS_PARAM(device), "ou",
                                 SD_BUS_PARAM(bond) SD_BUS_PARAM(pasid), method_bind_sva,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("ShareMemory", "htttu",
                                 SD_BUS_PARAM(memfd) SD_BUS_PARAM(address) SD_BUS_PARAM(offset)
                                 SD_BUS_PARAM(length) SD_BUS_PARAM(access),
                                 "o", SD_BUS_PARAM(region), method_share_memory, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("CreateSpace", "", , "o", SD_BUS_PARAM(space),
                                 method_create_space, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("OpenIommufd", "", , "h", SD_BUS_PARAM(iommufd),
                                 bus_method_open_iommufd, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("OpenDevice", "s", SD_BUS_PARAM(device), "h", SD_BUS_PARAM(fd),
                                 bus_method_open_device, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("DetachGroup", "ut", SD_BUS_PARAM(group) SD_BUS_PARAM(flags), "", ,
                                 bus_method_detach_group, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("ReattachGroup", "u", SD_BUS_PARAM(group), "", ,
                                 bus_method_reattach_group, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("ListOverrides", "", , "a(ssubs)", SD_BUS_PARAM(overrides),
                                 bus_method_list_overrides, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Reload", "", "", method_reload, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_NAMES("GroupChanged", "uss",
                                 SD_BUS_PARAM(group) SD_BUS_PARAM(ownership) SD_BUS_PARAM(owner), 0),
        SD_BUS_SIGNAL_WITH_NAMES("DeviceAdded", "s", SD_BUS_PARAM(device), 0),
        SD_BUS_SIGNAL_WITH_NAMES("DeviceRemoved", "s", SD_BUS_PARAM(device), 0),
        SD_BUS_SIGNAL_WITH_NAMES("FaultRefused", "stsu",
                                 SD_BUS_PARAM(device) SD_BUS_PARAM(address) SD_BUS_PARAM(client)
                                 SD_BUS_PARAM(suppressed), 0),
        SD_BUS_SIGNAL_WITH_NAMES("Revoked", "sss",
                                 SD_BUS_PARAM(client) SD_BUS_PARAM(object) SD_BUS_PARAM(reason), 0),
        SD_BUS_VTABLE_END,
};

int bus_manager_register(Daemon *d) {
        return sd_bus_add_object_vtable(d->bus, NULL, IOMMUD_PATH, IOMMUD_MANAGER_INTERFACE, manager_vtable, d);
}
