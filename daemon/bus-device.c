/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bus-device.c - org.iommud1.Device objects at /org/iommud1/device/NAME */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/core/device.h"
#include "daemon/core/group.h"
#include "daemon.h"

int device_object_path(const char *name, char **ret) {
        return sd_bus_path_encode(IOMMUD_DEVICE_PREFIX, name, ret);
}

int bus_find_device(Daemon *d, const char *name, Device **ret, sd_bus_error *error) {
        *ret = core_find_device(d->core, name);
        if (!*ret)
                return bus_error_set(error, -ENODEV, "There is no device \"%s\"; 'iommuctl list' shows them.",
                                     name);
        return 0;
}

int bus_error_not_claimed(sd_bus_error *error, const Device *dev) {
        return bus_error_set(error, -EPERM, "Device %s is in group %u, which you have not claimed; call "
                             "ClaimGroup(%u, 0) first.", dev->name, dev->group->id, dev->group->id);
}

static int device_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                       void **found, sd_bus_error *error) {
        _cleanup_(freep) char *name = NULL;
        Daemon *d = userdata;
        Device *dev;

        if (sd_bus_path_decode(path, IOMMUD_DEVICE_PREFIX, &name) <= 0)
                return 0;
        dev = core_find_device(d->core, name);
        if (!dev)
                return 0;
        *found = dev;
        return 1;
}

static int device_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes,
                            sd_bus_error *error) {
        _cleanup_(strv_freep) char **v = NULL;
        Daemon *d = userdata;
        Device *dev;
        int r;

        list_for_each_entry(dev, &d->core->devices, core_link) {
                char *p;

                r = device_object_path(dev->name, &p);
                if (r >= 0)
                        r = strv_consume(&v, p);
                if (r < 0)
                        return r;
        }
        *nodes = TAKE_PTR(v);
        return 0;
}

#define DEVICE_GETTER(fn, sig, expr)                                                            \
        static int fn(sd_bus *bus, const char *path, const char *interface, const char *property, \
                      sd_bus_message *reply, void *userdata, sd_bus_error *error) {              \
                Device *dev = userdata;                                                         \
                return sd_bus_message_append(reply, sig, expr);                                 \
        }

DEVICE_GETTER(property_name, "s", dev->name)
DEVICE_GETTER(property_group, "u", dev->group->id)
DEVICE_GETTER(property_iommu, "s", dev->iommu->name)
DEVICE_GETTER(property_vendor, "q", dev->vendor_id)
DEVICE_GETTER(property_device, "q", dev->device_id)
DEVICE_GETTER(property_class, "u", dev->class_code)
DEVICE_GETTER(property_driver, "s", dev->driver ? dev->driver : "")
DEVICE_GETTER(property_pasid, "b", (int)dev->pasid_capable)
DEVICE_GETTER(property_pri, "b", (int)dev->pri_capable)
DEVICE_GETTER(property_ats, "b", (int)dev->ats_capable)
DEVICE_GETTER(property_max_pasids, "u", dev->max_pasids)
DEVICE_GETTER(property_faults_received, "t", dev->faults.received)
DEVICE_GETTER(property_faults_resolved, "t", dev->faults.resolved)
DEVICE_GETTER(property_faults_refused, "t", dev->faults.refused)
DEVICE_GETTER(property_faults_timed_out, "t", dev->faults.timed_out)
DEVICE_GETTER(property_faults_aborted, "t", dev->faults.aborted)

static const sd_bus_vtable device_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Name", "s", property_name, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Group", "u", property_group, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Iommu", "s", property_iommu, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("VendorId", "q", property_vendor, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("DeviceId", "q", property_device, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ClassCode", "u", property_class, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Driver", "s", property_driver, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("PasidCapable", "b", property_pasid, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("PriCapable", "b", property_pri, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("AtsCapable", "b", property_ats, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("MaxPasids", "u", property_max_pasids, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        /* Counted per page request group; read them, they are not signalled. */
        SD_BUS_PROPERTY("FaultsReceived", "t", property_faults_received, 0, 0),
        SD_BUS_PROPERTY("FaultsResolved", "t", property_faults_resolved, 0, 0),
        SD_BUS_PROPERTY("FaultsRefused", "t", property_faults_refused, 0, 0),
        SD_BUS_PROPERTY("FaultsTimedOut", "t", property_faults_timed_out, 0, 0),
        SD_BUS_PROPERTY("FaultsAborted", "t", property_faults_aborted, 0, 0),
        SD_BUS_VTABLE_END,
};

int bus_device_register(Daemon *d) {
        return bus_add_objects(d, IOMMUD_DEVICE_PREFIX, IOMMUD_DEVICE_INTERFACE, device_vtable, device_find,
                               device_enumerate);
}
