/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hotplug.c - PCI uevents (through udev, with sd-device) into the kernel backend's model */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <systemd/sd-device.h>

#include "daemon/backend/kernel.h"
#include "daemon.h"

/*
 * A function that appears or goes, or whose driver changes, changes the
 * model as the kernel backend reads it back from sysfs. The monitor listens
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
        Daemon *d = userdata;
        sd_device_action_t action;
        const char *name;
        int r;

        if (sd_device_get_action(dev, &action) < 0 || sd_device_get_sysname(dev, &name) < 0)
                return 0;
        r = kernel_device_event(d->kernel, action_name(action), name);
        if (r < 0)
                fprintf(stderr, "iommud: %s of %s: the model could not follow: %s\n", action_name(action),
                        name, strerror(-r));
        else if (r > 0)
                fprintf(stderr, "iommud: %s %s\n", name, action_name(action));
        return 0;
}

int hotplug_setup(Daemon *d) {
        int r;

        r = sd_device_monitor_new(&d->device_monitor);
        if (r >= 0)
                r = sd_device_monitor_filter_add_match_subsystem_devtype(d->device_monitor, "pci", NULL);
        if (r >= 0)
                r = sd_device_monitor_attach_event(d->device_monitor, d->event);
        if (r >= 0)
                r = sd_device_monitor_start(d->device_monitor, on_device_event, d);
        if (r < 0)
                fprintf(stderr, "iommud: cannot watch PCI hotplug (sd-device): %s; devices added or "
                        "removed later will not be seen.\n", strerror(-r));
        return 0;       /* not fatal: the groups read at start are served */
}
