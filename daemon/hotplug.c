/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hotplug.c - PCI uevents (through udev, with sd-device) and the kernel's device requests into the model */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <systemd/sd-device.h>

#include "daemon.h"

/*
 * A function that appears or goes, or whose driver changes, changes the
 * model as the backend's device_event() reads it back (the kernel backend:
 * from sysfs); only a backend with that operation has a monitor. The monitor listens
 * to udev's events (after its rules ran), as every systemd machine has them;
 * without udevd no event arrives, and the model keeps what it read at start.
 */

static const char *action_name(sd_device_action_t a) {
        switch (a) {
        case SD_DEVICE_ADD: return "add";
        case SD_DEVICE_REMOVE: return "remove";
        case SD_DEVICE_BIND: return "bind";
        case SD_DEVICE_UNBIND: return "unbind";
        default: return "change";
        }
}

static int on_device_event(sd_device_monitor *m, sd_device *dev, void *userdata) {
        const Backend *b = ((Daemon *)userdata)->backend;
        sd_device_action_t action;
        const char *name;
        int r;

        if (sd_device_get_action(dev, &action) < 0 || sd_device_get_sysname(dev, &name) < 0)
                return 0;
        r = b->class->device_event(b->data, action_name(action), name);
        if (r < 0)
                log_error("%s of %s: the model could not follow: %s", action_name(action), name, strerror(-r));
        else if (r > 0)
                log_info("%s %s", name, action_name(action));
        return 0;
}

/* The kernel asks for devices back (a VFIO device request): each goes
 * from the model now, from the event loop (L9), and its fds are closed, so
 * that the removal or unbind waiting in the kernel goes on. */
static int on_request(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        const Backend *b = ((Daemon *)userdata)->backend;
        int r = b->class->request_read(b->data);

        if (r < 0)
                log_error("cannot read the kernel's device requests: %s", strerror(-r));
        return 0;
}

/* Work the backend did off the loop (a driver unbound, vfio-pci probed)
 * ended: the claim or release it was for goes on, in the core. */
static int on_worker(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        const Backend *b = ((Daemon *)userdata)->backend;
        int r = b->class->worker_read(b->data);

        if (r < 0)
                log_error("cannot read what the backend's worker did: %s", strerror(-r));
        return 0;
}

int hotplug_setup(Daemon *d) {
        const BackendClass *c = d->backend->class;
        int r;

        if (c->worker_fd) {
                r = sd_event_add_io(d->event, &d->worker_source, c->worker_fd(d->backend->data), EPOLLIN,
                                    on_worker, d);
                if (r < 0)
                        return r;       /* without it no claim would end */
        }
        if (c->request_fd) {
                r = sd_event_add_io(d->event, &d->request_source, c->request_fd(d->backend->data), EPOLLIN,
                                    on_request, d);
                if (r < 0)
                        return r;       /* without it a removal would hang in the kernel: do not serve */
        }
        if (!d->backend->class->device_event)
                return 0;       /* the backend follows no uevents: its devices are its own */
        r = sd_device_monitor_new(&d->device_monitor);
        if (r >= 0)
                r = sd_device_monitor_filter_add_match_subsystem_devtype(d->device_monitor, "pci", NULL);
        if (r >= 0)
                r = sd_device_monitor_attach_event(d->device_monitor, d->event);
        if (r >= 0)
                r = sd_device_monitor_start(d->device_monitor, on_device_event, d);
        if (r < 0)
                log_warning("cannot watch PCI hotplug (sd-device): %s; devices added or removed later will "
                            "not be seen.", strerror(-r));
        return 0;       /* not fatal: the groups read at start are served */
}
