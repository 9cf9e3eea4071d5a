/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bus-simulator.c - org.iommud1.Simulator: device DMA, kernel events and checks, as the backend has them */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "daemon/core/device.h"
#include "daemon/core/group.h"
#include "daemon.h"

/*
 * These calls play the part of the kernel: a driver binding or unbinding, a
 * device going away, a device's DMA; and look below the model. They are
 * root-only, and each is the backend's operation of that name (backend.h):
 * the sim plays driver events through the same core entry points as the
 * kernel backend's uevents, and DMA through its page tables; the selftest
 * backend's devices are the kernel's mock devices, whose DMA raises real
 * page requests and whose page tables the Check methods look into. A method
 * whose operation the backend lacks answers NotSupported. The interface is
 * there only when the backend has one of them.
 */

static int need_event_op(Daemon *d, bool have_op, const char *what, sd_bus_error *error) {
        if (have_op)
                return 0;
        return bus_error_set(error, -EOPNOTSUPP, "%s plays a kernel event, which only the sim backend can; "
                             "on the %s backend the kernel has its own (bind drivers through sysfs).", what,
                             d->backend->class->name);
}

static int need_check_op(bool have_op, const char *what, sd_bus_error *error) {
        if (have_op)
                return 0;
        return bus_error_set(error, -EOPNOTSUPP, "%s looks into the kernel's mock page tables, which only "
                             "the selftest backend has (iommud --backend=selftest on a kernel with "
                             "CONFIG_IOMMUFD_TEST).", what);
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
        if (r >= 0)
                r = need_event_op(d, d->backend->class->probe_driver, "ProbeDriver()", error);
        if (r < 0)
                return r;
        r = bus_find_device(d, name, &dev, error);
        if (r < 0)
                return r;
        r = d->backend->class->probe_driver(d->backend->data, dev, driver, managed);
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
        if (r >= 0)
                r = need_event_op(d, d->backend->class->remove_driver, "RemoveDriver()", error);
        if (r < 0)
                return r;
        r = bus_find_device(d, name, &dev, error);
        if (r < 0)
                return r;
        r = d->backend->class->remove_driver(d->backend->data, dev);
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
        if (r >= 0)
                r = need_event_op(d, d->backend->class->unplug, "Unplug()", error);
        if (r < 0)
                return r;
        r = d->backend->class->unplug(d->backend->data, name);
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
        DmaRequest req;
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
        if (!d->backend->class->dma)
                return bus_error_set(error, -EOPNOTSUPP, "Dma() needs devices iommud can make do DMA; the %s "
                                     "backend has none.", d->backend->class->name);
        r = bus_find_device(d, name, &dev, error);
        if (r < 0)
                return r;
        if (length == 0 || length > DMA_MAX)
                return bus_error_set(error, -EINVAL, "length %u: a DMA moves 1 to %u bytes.", length, DMA_MAX);
        if (write ? size != length : size != 0)
                return bus_error_set(error, -EINVAL, "A write takes exactly length (%u) bytes of data, a "
                                     "read none; %zu were given.", length, size);
        req = (DmaRequest) { .device = dev, .pasid = pasid, .addr = address, .len = length, .write = write,
                             .data = write ? data : NULL, .done = on_dma_done, .userdata = sd_bus_message_ref(m) };
        r = d->backend->class->dma(d->backend->data, &req);
        if (r < 0) {
                sd_bus_message_unref(m);
                if (r == -EOPNOTSUPP)
                        return bus_error_set(error, r, "%s is a real device: iommud cannot make it do DMA. "
                                             "Use a mock device (mock0, ...).", name);
                return bus_error_set(error, r, "The DMA could not start: %s.", strerror(-r));
        }
        return 1;       /* answered by on_dma_done() */
}

static int method_check_mapping(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        const char *name;
        uint64_t address, length;
        uint32_t pasid;
        char why[256];
        Device *dev;
        int r;

        r = sd_bus_message_read(m, "sutt", &name, &pasid, &address, &length);
        if (r < 0)
                return r;
        r = bus_authorize_root(m, "Simulator.CheckMapping()", error);
        if (r >= 0)
                r = need_check_op(d->backend->class->check_map, "CheckMapping()", error);
        if (r >= 0)
                r = bus_find_device(d, name, &dev, error);
        if (r < 0)
                return r;
        if (length == 0 || address + length < address)
                return bus_error_set(error, -EINVAL, "length %" PRIu64 " at 0x%" PRIx64 ": give a non-empty "
                                     "range that does not wrap.", length, address);
        r = d->backend->class->check_map(d->backend->data, dev, pasid, address, length, why, sizeof(why));
        if (r < 0)
                return bus_error_set(error, -EFAULT, "%s.", why);
        return sd_bus_reply_method_return(m, "u", (uint32_t)r);
}

static int method_check_attachment(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        const char *name;
        uint32_t pasid;
        char why[256];
        Device *dev;
        int r;

        r = sd_bus_message_read(m, "su", &name, &pasid);
        if (r < 0)
                return r;
        r = bus_authorize_root(m, "Simulator.CheckAttachment()", error);
        if (r >= 0)
                r = need_check_op(d->backend->class->check_attachment, "CheckAttachment()", error);
        if (r >= 0)
                r = bus_find_device(d, name, &dev, error);
        if (r < 0)
                return r;
        r = d->backend->class->check_attachment(d->backend->data, dev, pasid, why, sizeof(why));
        if (r == -EOPNOTSUPP)
                return bus_error_set(error, r, "%s is a real device; the kernel's checks exist for mock "
                                     "devices only.", name);
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "The model and the kernel disagree: %s.",
                                         why);
        return sd_bus_reply_method_return(m, "b", r > 0);
}

/*
 * A test hook for a slow fault service: while held, the device's page
 * requests are read and wait in the daemon unanswered, until their timeout
 * (policy fault-timeout-ms) or until their slot goes, which is when the
 * kernel answers them itself (docs/faults.md).
 */
static int method_hold_page_requests(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        const char *name;
        Device *dev;
        int hold, r;

        r = sd_bus_message_read(m, "sb", &name, &hold);
        if (r < 0)
                return r;
        r = bus_authorize_root(m, "Simulator.HoldPageRequests()", error);
        if (r >= 0)
                r = bus_find_device(d, name, &dev, error);
        if (r < 0)
                return r;
        dev->hold_faults = hold;
        return sd_bus_reply_method_return(m, NULL);
}

const sd_bus_vtable simulator_vtable[] = {
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
        SD_BUS_METHOD_WITH_NAMES("CheckMapping", "sutt",
                                 SD_BUS_PARAM(device) SD_BUS_PARAM(pasid) SD_BUS_PARAM(address)
                                 SD_BUS_PARAM(length),
                                 "u", SD_BUS_PARAM(pages), method_check_mapping, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("CheckAttachment", "su", SD_BUS_PARAM(device) SD_BUS_PARAM(pasid),
                                 "b", SD_BUS_PARAM(attached), method_check_attachment,
                                 SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("HoldPageRequests", "sb", SD_BUS_PARAM(device) SD_BUS_PARAM(hold), "", ,
                                 method_hold_page_requests, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

int bus_simulator_register(Daemon *d) {
        if (!backend_has_simulator(d->backend))
                return 0;
        return sd_bus_add_object_vtable(d->bus, NULL, IOMMUD_PATH, IOMMUD_SIMULATOR_INTERFACE,
                                        simulator_vtable, d);
}
