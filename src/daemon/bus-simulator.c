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
        r = bus_find_device(d, name, &dev, error);
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
        r = bus_find_device(d, name, &dev, error);
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

/* The reply to Dma() waits for the page requests it raised to be served. */
static void on_dma_done(void *userdata, int error, const char *why, const uint8_t *data, size_t len) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = userdata;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;

        if (error < 0) {
                bus_error_set(&e, -EFAULT, "DMA fault: %s.", why);
                (void)sd_bus_reply_method_error(m, &e);
                return;
        }
        if (sd_bus_message_new_method_return(m, &reply) >= 0 &&
            sd_bus_message_append_array(reply, 'y', data ? data : (const uint8_t *)"", len) >= 0)
                (void)sd_bus_send(NULL, reply, NULL);
}

static int method_dma(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        const char *name;
        uint32_t pasid, length;
        uint64_t address;
        const void *data;
        size_t size;
        int write, r;
        Device *dev;

        r = sd_bus_message_read(m, "sutub", &name, &pasid, &address, &length, &write);
        if (r >= 0)
                r = sd_bus_message_read_array(m, 'y', &data, &size);
        if (r < 0)
                return r;
        r = bus_authorize_root(m, "Simulator.Dma()", error);
        if (r < 0)
                return r;
        r = bus_find_device(d, name, &dev, error);
        if (r < 0)
                return r;
        if (length == 0 || length > SIM_DMA_MAX)
                return bus_error_set(error, -EINVAL, "length %u: a DMA moves 1 to %u bytes.", length,
                                     SIM_DMA_MAX);
        if (write ? size != length : size != 0)
                return bus_error_set(error, -EINVAL, "A write takes exactly length (%u) bytes of data, a "
                                     "read none; %zu were given.", length, size);
        r = sim_dma(d->sim, dev, pasid, address, length, write, data, on_dma_done, sd_bus_message_ref(m));
        if (r < 0) {
                sd_bus_message_unref(m);
                return bus_error_set(error, r, "The DMA could not start: %s.", strerror(-r));
        }
        return 1;       /* answered by on_dma_done() */
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
        SD_BUS_METHOD_WITH_NAMES("Dma", "sutubay",
                                 SD_BUS_PARAM(device) SD_BUS_PARAM(pasid) SD_BUS_PARAM(address)
                                 SD_BUS_PARAM(length) SD_BUS_PARAM(write) SD_BUS_PARAM(data),
                                 "ay", SD_BUS_PARAM(data), method_dma, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

int bus_simulator_register(Daemon *d) {
        return sd_bus_add_object_vtable(d->bus, NULL, IOMMUD_PATH, "org.iommud1.Simulator",
                                        simulator_vtable, d);
}
