/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bus-space.c - CreateSpace() and org.iommud1.Space objects at /org/iommud1/space/N */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "daemon/core/client.h"
#include "daemon/core/device.h"
#include "daemon/core/group.h"
#include "daemon/core/region.h"
#include "daemon/core/space.h"
#include "daemon.h"

int method_create_space(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(bus_caller_done) BusCaller caller = BUS_CALLER_NULL;
        _cleanup_(freep) char *path = NULL;
        Daemon *d = bus_daemon(m);
        BusClient *bc;
        Space *s;
        int r;

        r = bus_client_authorized(d, m, &caller, POLICY_SPACES, NULL, &bc, error);
        if (r < 0)
                return r;
        r = space_new(bc->client, &s);
        if (r == -EDQUOT)
                return bus_error_quota(error, bc->client);
        if (r < 0)
                return bus_error_set(error, r, "Creating a space failed: %s.", daemon_backend_error(d, r));
        r = object_path_for_id(IOMMUD_SPACE_PREFIX, s->id, &path);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(m, "o", path);
}

/* The vtable's userdata is the Space (owned by its client, core/space.h). */
static const ClientObjects spaces = CLIENT_OBJECTS(IOMMUD_SPACE_PREFIX, Space, spaces, spaces_by_id);

static int space_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                      void **found, sd_bus_error *error) {
        return bus_find_client_object(userdata, &spaces, path, found);
}

static int space_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes,
                           sd_bus_error *error) {
        return bus_enumerate_client_objects(userdata, &spaces, nodes);
}

/* Only the space's owner may change or destroy it. */
static int space_owner_check(sd_bus_message *m, Space *s, const char *verb, BusClient **ret,
                             sd_bus_error *error) {
        return bus_check_owner(m, s->io.client, "Space", s->id, verb, ret, error);
}

static int method_map(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        uint64_t region_offset, iova, length, rid;
        Space *s = userdata;
        const char *rpath;
        unsigned access;
        BusClient *bc;
        Region *reg;
        int r;

        r = sd_bus_message_read(m, "otttu", &rpath, &region_offset, &iova, &length, &access);
        if (r < 0)
                return r;
        r = space_owner_check(m, s, "change", &bc, error);
        /* The policy of now, as CreateSpace() asks it: a reload may have
         * taken "spaces" away from a space that stays until destroyed. */
        if (r >= 0)
                r = bus_authorize(bus_daemon(m), &bc->id, POLICY_SPACES, NULL, error);
        if (r < 0)
                return r;
        reg = object_path_id(rpath, IOMMUD_REGION_PREFIX, &rid) ? client_find_region(s->io.client, rid) : NULL;
        if (!reg)
                return bus_error_set(error, -EINVAL, "%s is not one of your regions; share memory with "
                                     "ShareMemory() first.", rpath);
        r = space_map(s, reg, region_offset, iova, length, access);
        if (r == -EEXIST)
                return bus_error_set(error, r, "IOVA 0x%" PRIx64 "+0x%" PRIx64 " overlaps a mapping of this "
                                     "space; unmap it first.", iova, length);
        if (r == -EINVAL && bus_error_iovas(error, &s->io, iova, length, "map it at other IOVAs") < 0)
                return -EINVAL;
        if (r == -EINVAL)
                return bus_error_set(error, r, "Map needs page-aligned, non-empty ranges inside the region "
                                     "(0x%" PRIx64 " bytes) and access within the region's (%u).",
                                     reg->length, reg->access);
        if (r == -EDQUOT)
                return bus_error_quota(error, s->io.client);
        if (r < 0)
                return bus_error_set(error, r, "Mapping failed: %s.", daemon_backend_error(bus_daemon(m), r));
        (void)sd_bus_emit_properties_changed(sd_bus_message_get_bus(m), sd_bus_message_get_path(m),
                                             IOMMUD_SPACE_INTERFACE, "Mappings", NULL);
        return sd_bus_reply_method_return(m, NULL);
}

static int method_unmap(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        uint64_t iova, length;
        Space *s = userdata;
        int r;

        r = sd_bus_message_read(m, "tt", &iova, &length);
        if (r >= 0)
                r = space_owner_check(m, s, "change", NULL, error);
        if (r < 0)
                return r;
        r = space_unmap(s, iova, length);
        if (r == -ENOENT)
                return bus_error_set(error, r, "No mapping at exactly IOVA 0x%" PRIx64 " length 0x%" PRIx64
                                     "; Unmap takes a whole range that Map mapped.", iova, length);
        if (r < 0)
                return r;
        (void)sd_bus_emit_properties_changed(sd_bus_message_get_bus(m), sd_bus_message_get_path(m),
                                             IOMMUD_SPACE_INTERFACE, "Mappings", NULL);
        return sd_bus_reply_method_return(m, NULL);
}

static int attach_error(Daemon *d, Space *s, Device *dev, uint32_t pasid, int r, sd_bus_error *error) {
        switch (r) {
        case -EPERM:
                return bus_error_not_claimed(error, dev);
        case -EBUSY:
                if (dev->group->n_handed_out > 0)
                        return bus_error_handed_out(error, dev);
                return bus_error_set(error, r, "PASID %u of device %s is taken (by an SVA bond or a space); "
                                     "detach or unbind it first.", pasid, dev->name);
        case -EINVAL:
                return bus_error_set(error, r, "A space attaches at PASID 0 (the RID) or at your own PASID "
                                     "(%u; AllocPasid() gives it), not at %u.", s->io.client->pasid, pasid);
        case -EOPNOTSUPP:
                return bus_error_set(error, r, "Device %s has %s; attach at PASID 0.", dev->name,
                                     dev->pasid_capable ? "a PASID capability but its IOMMU gives it no PASIDs "
                                     "(IommuPasidWidth 0)" : "no PASID capability");
        case -EOVERFLOW:
                return bus_error_set(error, r, "PASID %u does not fit device %s (max_pasids %u).", pasid,
                                     dev->name, dev->max_pasids);
        case -EADDRINUSE:
                return bus_error_set(error, r, "Attaching at %s PASID %u was refused: %s. Unmap that range "
                                     "from this space, attach, and map it at other IOVAs.", dev->name, pasid,
                                     daemon_backend_error(d, r));
        default:
                return bus_error_set(error, r, "Attaching at %s PASID %u failed: %s.", dev->name, pasid,
                                     daemon_backend_error(d, r));
        }
}

/* Attach(s device, u pasid) and Detach(s, u): the caller owns s, the device exists. */
static int read_slot_args(sd_bus_message *m, Space *s, BusClient **ret_bc, Device **ret_dev,
                          uint32_t *ret_pasid, sd_bus_error *error) {
        const char *name;
        int r;

        r = sd_bus_message_read(m, "su", &name, ret_pasid);
        if (r >= 0)
                r = space_owner_check(m, s, "change", ret_bc, error);
        if (r >= 0)
                r = bus_find_device(bus_daemon(m), name, ret_dev, error);
        return r;
}

static int method_attach(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = bus_daemon(m);
        Space *s = userdata;
        uint32_t pasid;
        BusClient *bc;
        Device *dev;
        int r;

        r = read_slot_args(m, s, &bc, &dev, &pasid, error);
        if (r < 0)
                return r;
        r = bus_authorize(d, &bc->id, POLICY_SPACES, dev, error);
        if (r < 0)
                return r;
        r = space_attach(s, dev, pasid);
        if (r < 0)
                return attach_error(d, s, dev, pasid, r, error);
        (void)sd_bus_emit_properties_changed(d->bus, sd_bus_message_get_path(m), IOMMUD_SPACE_INTERFACE,
                                             "Attachments", "IovaRanges", NULL);
        return sd_bus_reply_method_return(m, NULL);
}

static int method_detach(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = bus_daemon(m);
        Space *s = userdata;
        uint32_t pasid;
        Device *dev;
        int r;

        r = read_slot_args(m, s, NULL, &dev, &pasid, error);
        if (r < 0)
                return r;
        r = space_detach(s, dev, pasid);
        if (r == -ENOENT)
                return bus_error_set(error, r, "This space is not attached at %s PASID %u.", dev->name, pasid);
        if (r < 0)
                return r;
        (void)sd_bus_emit_properties_changed(d->bus, sd_bus_message_get_path(m), IOMMUD_SPACE_INTERFACE,
                                             "Attachments", "IovaRanges", NULL);
        return sd_bus_reply_method_return(m, NULL);
}

static int method_destroy(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Space *s = userdata;
        int r;

        r = space_owner_check(m, s, "destroy", NULL, error);
        if (r < 0)
                return r;
        space_free(s);  /* announced by CORE_EVENT_SPACE_REMOVED */
        return sd_bus_reply_method_return(m, NULL);
}

static int property_mappings(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Space *s = userdata;
        Mapping *mp;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "(ttotu)");
        list_for_each_entry(mp, &s->io.mappings, domain_link) {
                _cleanup_(freep) char *rpath = NULL;

                if (r >= 0)
                        r = object_path_for_id(IOMMUD_REGION_PREFIX, mp->region->id, &rpath);
                if (r >= 0)
                        r = sd_bus_message_append(reply, "(ttotu)", mp->iova, mp->length, rpath,
                                                  mp->region_offset, mp->access);
        }
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int property_attachments(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Space *s = userdata;
        SpaceAttachment *a;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "(su)");
        list_for_each_entry(a, &s->attachments, space_link)
                if (r >= 0)
                        r = sd_bus_message_append(reply, "(su)", a->slot.device->name, a->slot.pasid);
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

/* The IOVAs the space may map now (the kernel's IOMMU_IOAS_IOVA_RANGES,
 * asked after every attach and detach); all of them while not known. */
static int property_iova_ranges(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Space *s = userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "(tt)");
        if (r >= 0 && !s->io.ranges)
                r = sd_bus_message_append(reply, "(tt)", (uint64_t)0, UINT64_MAX);
        for (size_t i = 0; r >= 0 && s->io.ranges && i < s->io.n_ranges; i++)
                r = sd_bus_message_append(reply, "(tt)", s->io.ranges[i].start, s->io.ranges[i].last);
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

const sd_bus_vtable space_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Owner", "s", bus_property_get_owner, offsetof(Space, io.client),
                        SD_BUS_VTABLE_PROPERTY_CONST),
        /* Invalidation only: a change signal carrying every mapping on each
         * Map() would cost the bus quadratic bytes in the number of them. */
        SD_BUS_PROPERTY("Mappings", "a(ttotu)", property_mappings, 0, SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
        SD_BUS_PROPERTY("Attachments", "a(su)", property_attachments, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("IovaRanges", "a(tt)", property_iova_ranges, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_NAMES("Map", "otttu",
                                 SD_BUS_PARAM(region) SD_BUS_PARAM(region_offset) SD_BUS_PARAM(iova)
                                 SD_BUS_PARAM(length) SD_BUS_PARAM(access),
                                 "", , method_map, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("Unmap", "tt", SD_BUS_PARAM(iova) SD_BUS_PARAM(length), "", ,
                                 method_unmap, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("Attach", "su", SD_BUS_PARAM(device) SD_BUS_PARAM(pasid), "", ,
                                 method_attach, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("Detach", "su", SD_BUS_PARAM(device) SD_BUS_PARAM(pasid), "", ,
                                 method_detach, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Destroy", "", "", method_destroy, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

int bus_space_register(Daemon *d) {
        return bus_add_objects(d, IOMMUD_SPACE_PREFIX, IOMMUD_SPACE_INTERFACE, space_vtable, space_find,
                               space_enumerate);
}
