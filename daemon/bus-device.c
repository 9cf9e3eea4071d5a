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

int bus_error_handed_out(sd_bus_error *error, const Device *dev) {
        return bus_error_set(error, -EBUSY, "Group %u of device %s has a device handed out to a driver of your "
                             "own (OpenDevice), whose iommufd owns the group's DMA now: iommud attaches "
                             "nothing in it. Use your own iommufd, or release the group and claim it again.",
                             dev->group->id, dev->name);
}

/* The vtable's userdata is the Device (owned by the core, core/device.h). */
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

static int property_group(sd_bus *bus, const char *path, const char *interface, const char *property,
                          sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Device *dev = userdata;

        return sd_bus_message_append(reply, "u", dev->group->id);
}

static int property_iommu(sd_bus *bus, const char *path, const char *interface, const char *property,
                          sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Device *dev = userdata;

        return sd_bus_message_append(reply, "s", dev->iommu->name);
}

const sd_bus_vtable device_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Name", "s", NULL, offsetof(Device, name), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Group", "u", property_group, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Iommu", "s", property_iommu, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("VendorId", "q", NULL, offsetof(Device, vendor_id), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("DeviceId", "q", NULL, offsetof(Device, device_id), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ClassCode", "u", NULL, offsetof(Device, class_code), SD_BUS_VTABLE_PROPERTY_CONST),
        /* NULL when no driver is bound: sd-bus sends "" for it. */
        SD_BUS_PROPERTY("Driver", "s", NULL, offsetof(Device, driver), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("PasidCapable", "b", bus_property_get_bool, offsetof(Device, pasid_capable),
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("PriCapable", "b", bus_property_get_bool, offsetof(Device, pri_capable),
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("AtsCapable", "b", bus_property_get_bool, offsetof(Device, ats_capable),
                        SD_BUS_VTABLE_PROPERTY_CONST),
        /* The PASIDs usable: the device's own, and once its group was claimed
         * the smaller of that and what its IOMMU gives it (IOMMU_GET_HW_INFO). */
        SD_BUS_PROPERTY("MaxPasids", "u", NULL, offsetof(Device, max_pasids), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("IommuInfoKnown", "b", bus_property_get_bool, offsetof(Device, iommu_info_known),
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("IommuPasidWidth", "y", NULL, offsetof(Device, iommu_info.max_pasid_log2),
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("IommuCapabilities", "t", NULL, offsetof(Device, iommu_info.capabilities),
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        /* The bus name the device is handed to (OpenDevice), "" when none. */
        SD_BUS_PROPERTY("HandedTo", "s", NULL, offsetof(Device, handed_to_name), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        /* Counted per page request group; read them, they are not signalled. */
        SD_BUS_PROPERTY("FaultsReceived", "t", NULL, offsetof(Device, faults.received), 0),
        SD_BUS_PROPERTY("FaultsResolved", "t", NULL, offsetof(Device, faults.resolved), 0),
        SD_BUS_PROPERTY("FaultsRefused", "t", NULL, offsetof(Device, faults.refused), 0),
        SD_BUS_PROPERTY("FaultsTimedOut", "t", NULL, offsetof(Device, faults.timed_out), 0),
        SD_BUS_PROPERTY("FaultsAborted", "t", NULL, offsetof(Device, faults.aborted), 0),
        SD_BUS_VTABLE_END,
};

int bus_device_register(Daemon *d) {
        return bus_add_objects(d, IOMMUD_DEVICE_PREFIX, IOMMUD_DEVICE_INTERFACE, device_vtable, device_find,
                               device_enumerate);
}
