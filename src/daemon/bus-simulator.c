/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bus-simulator.c - org.iommud1.Simulator: kernel driver events and unplug, for the sim backend */
#include <errno.h>
#include <string.h>

#include "core/device.h"
#include "core/group.h"
#include "daemon.h"

/*
 * These calls play the part of the kernel: a driver binding or unbinding, a
 * device going away. They are root-only, and go through the same core entry
 * points as the kernel backend's sysfs/uevent events will.
 */

static int find_device(Daemon *d, const char *name, Device **ret, sd_bus_error *error) {
        *ret = core_find_device(d->core, name);
        if (!*ret)
                return bus_error_set(error, -ENODEV, "There is no device \"%s\"; 'iommuctl list' shows them.",
                                     name);
        return 0;
}

static int method_probe_driver(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        const char *name, *driver;
        int managed, r;
        Device *dev;

        r = sd_bus_message_read(m, "ssb", &name, &driver, &managed);
        if (r < 0)
                return r;
        r = bus_authorize_root(m, "Simulator.ProbeDriver()", error);
        if (r < 0)
                return r;
        r = find_device(d, name, &dev, error);
        if (r < 0)
                return r;
        r = device_probe_driver(dev, driver, managed);
        if (r == -EBUSY && dev->driver)
                return bus_error_set(error, r, "Device %s already has driver %s bound; remove it first.",
                                     name, dev->driver);
        if (r == -EBUSY)
                return bus_error_set(error, r, "Group %u is owned by client %s for user-managed DMA; a driver "
                                     "that uses the kernel DMA API cannot bind to %s until it is released.",
                                     dev->group->id, client_bus_name(dev->group->owner), name);
        if (r == -EINVAL)
                return bus_error_set(error, r, "The driver name must not be empty.");
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(m, NULL);
}

static int method_remove_driver(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        const char *name;
        Device *dev;
        int r;

        r = sd_bus_message_read(m, "s", &name);
        if (r < 0)
                return r;
        r = bus_authorize_root(m, "Simulator.RemoveDriver()", error);
        if (r < 0)
                return r;
        r = find_device(d, name, &dev, error);
        if (r < 0)
                return r;
        r = device_remove_driver(dev);
        if (r == -ENOENT)
                return bus_error_set(error, -EINVAL, "Device %s has no driver bound.", name);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(m, NULL);
}

static int method_unplug(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        const char *name;
        int r;

        r = sd_bus_message_read(m, "s", &name);
        if (r < 0)
                return r;
        r = bus_authorize_root(m, "Simulator.Unplug()", error);
        if (r < 0)
                return r;
        r = device_unplug(d->core, name);
        if (r == -ENODEV)
                return bus_error_set(error, r, "There is no device \"%s\" (already unplugged?).", name);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(m, NULL);
}

static const sd_bus_vtable simulator_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_NAMES("ProbeDriver", "ssb",
                                 SD_BUS_PARAM(device) SD_BUS_PARAM(driver) SD_BUS_PARAM(driver_managed_dma),
                                 "", , method_probe_driver, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("RemoveDriver", "s", SD_BUS_PARAM(device), "", ,
                                 method_remove_driver, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("Unplug", "s", SD_BUS_PARAM(device), "", ,
                                 method_unplug, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

int bus_simulator_register(Daemon *d) {
        return sd_bus_add_object_vtable(d->bus, NULL, IOMMUD_PATH, "org.iommud1.Simulator",
                                        simulator_vtable, d);
}
