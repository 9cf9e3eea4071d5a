/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bus-handout.c - Manager.OpenIommufd and OpenDevice, Group.Revoke: fds for the client's own driver */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/fd.h"
#include "daemon/core/client.h"
#include "daemon/core/device.h"
#include "daemon/core/group.h"
#include "daemon/core/handout.h"
#include "daemon/core/slot.h"
#include "audit.h"
#include "daemon.h"
#include "log.h"

/*
 * The fds made here are the caller's: the daemon sends them in the reply
 * and closes its copy when the reply goes (sd-bus dups what it appends).
 * Neither is the daemon's own: OpenIommufd is a new open of /dev/iommu
 * (docs/architecture.md, "Devices handed to a client's driver"), and
 * OpenDevice a new open of the device's VFIO cdev that nobody bound yet.
 */

static int reply_fd(sd_bus_message *m, int fd) {
        int r = sd_bus_reply_method_return(m, "h", fd);

        safe_close(fd);
        return r;
}

/* OpenIommufd is decided like AllocPasid: an empty context is good only
 * for binding a device, so the caller must be allowed open-device on one. */
static int authorize_open_somewhere(Daemon *d, const BusIdentity *who, sd_bus_error *error) {
        PolicySubject subject;
        Device *dev;
        bool allows;

        /* A refusal alike on every device is known without asking each. */
        bus_identity_subject(who, &subject);
        if (policy_decides_every_device(d->policy, &subject, POLICY_OPEN_DEVICE, &allows)) {
                if (allows && !list_empty(&d->core->devices))
                        return 0;
        } else
                list_for_each_entry(dev, &d->core->devices, core_link)
                        if (bus_allows(d, who, POLICY_OPEN_DEVICE, dev))
                                return 0;
        return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                 "uid %u may not open-device on any device, and an iommufd context is only "
                                 "for binding one. An administrator can grant \"open-device\" with a rule in "
                                 "%s (see 'man iommud.policy') and 'iommuctl reload'.", (unsigned)who->uid,
                                 d->policy_path ? d->policy_path : IOMMUD_DEFAULT_POLICY "/policy.d/");
}

int bus_method_open_iommufd(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(bus_caller_done) BusCaller caller = BUS_CALLER_NULL;
        Daemon *d = bus_daemon(m);
        int fd = -1, r;

        r = bus_caller_get(d, m, &caller, error);
        if (r < 0)
                return r;
        r = authorize_open_somewhere(d, bus_caller_identity(&caller), error);
        if (r < 0)
                return r;
        if (!d->backend->class->open_iommufd)
                return bus_error_set(error, -EOPNOTSUPP, "The %s backend has no iommufd contexts to give.",
                                     d->backend->class->name);
        r = d->backend->class->open_iommufd(d->backend->data, &fd);
        if (r < 0)
                return bus_error_set(error, -EBUSY, "Opening a new iommufd context failed: %s. Retry later.",
                                     daemon_backend_error(d, r));
        return reply_fd(m, fd);
}

/* The first slot of the daemon's in g, to name it. */
static const Slot *group_first_slot(const Group *g) {
        const Device *dev;

        list_for_each_entry(dev, &g->devices, group_link)
                if (!list_empty(&dev->slots))
                        return list_entry(dev->slots.next, Slot, device_link);
        return NULL;
}

static int open_device_error(Daemon *d, BusClient *bc, Device *dev, int r, sd_bus_error *error) {
        const Slot *slot = group_first_slot(dev->group);

        switch (r) {
        case -EPERM:
                return bus_error_not_claimed(error, dev);
        case -EALREADY:
                return bus_error_set(error, -EBUSY, "Device %s is handed out to %s already; the kernel lets one "
                                     "file bind a VFIO device, so pass that fd on (or close it and release the "
                                     "group) instead of opening it again.", dev->name,
                                     dev->handed_to_name ? dev->handed_to_name : "you");
        case -EBUSY:
                if (slot)
                        return bus_error_set(error, r, "Device %s cannot be handed out: iommud uses group %u for "
                                             "you (%s at %s PASID %u); the kernel lets one iommufd own a group. "
                                             "Unbind or detach it first.", dev->name, dev->group->id,
                                             slot->type == SLOT_SVA ? "a bond" : "a space attachment",
                                             slot->device->name, slot->pasid);
                return bus_error_set(error, r, "Device %s cannot be handed out while group %u is %s; try again "
                                     "when it is done.", dev->name, dev->group->id,
                                     group_transit_to_string(dev->group));
        case -EDQUOT:
                return bus_error_quota(error, bc->client);
        case -EOPNOTSUPP:
                return bus_error_set(error, r, "The %s backend cannot hand devices out.",
                                     d->backend->class->name);
        default:
                return bus_error_set(error, -EBUSY, "Opening %s failed in the %s backend: %s. The group stays "
                                     "yours; retry, or release it.", dev->name, d->backend->class->name,
                                     daemon_backend_error(d, r));
        }
}

int bus_method_open_device(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(bus_caller_done) BusCaller caller = BUS_CALLER_NULL;
        Daemon *d = bus_daemon(m);
        const char *name;
        BusClient *bc, *owner;
        Device *dev;
        int fd = -1, r;

        r = sd_bus_message_read(m, "s", &name);
        if (r < 0)
                return r;
        r = bus_find_device(d, name, &dev, error);
        if (r < 0)
                return r;
        r = bus_client_authorized(d, m, &caller, POLICY_OPEN_DEVICE, dev, &bc, error);
        if (r < 0)
                return r;
        /* A claim made for a process (ClaimGroupForProcess) is its caller's to use. */
        owner = bus_claim_holder(d, bc, dev->group);
        r = device_hand_out(dev, owner->client, bc->name, &fd);
        if (r < 0)
                return open_device_error(d, owner, dev, r, error);
        audit_device_open(&bc->id, dev, "VFIO cdev, not bound, for the caller's own driver");
        return reply_fd(m, fd);
}

/* Root, or "revoke" on every device of the group. */
static int authorize_revoke(Daemon *d, sd_bus_message *m, Group *g, sd_bus_error *error) {
        _cleanup_(bus_caller_done) BusCaller caller = BUS_CALLER_NULL;
        Device *dev;
        int r;

        r = bus_caller_get(d, m, &caller, error);
        if (r < 0)
                return r;
        list_for_each_entry(dev, &g->devices, group_link) {
                r = bus_authorize(d, bus_caller_identity(&caller), POLICY_REVOKE, dev, error);
                if (r < 0)
                        return r;
        }
        return 0;
}

int bus_method_group_revoke(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = bus_daemon(m);
        Group *g = userdata;
        int r;

        r = authorize_revoke(d, m, g, error);
        if (r < 0)
                return r;
        if (!g->owner)
                return bus_error_set(error, -EPERM, "Group %u is not claimed%s; there is nothing to revoke.", g->id,
                                     g->transit != GROUP_STEADY ? " (it is in transit)" : "");
        log_notice("group %u revoked from %s (uid %u) by %s", g->id, g->owner->name,
                (unsigned)g->owner->uid, sd_bus_message_get_sender(m));
        r = group_revoke(g);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(m, NULL);
}

int bus_property_group_holders(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Group *g = userdata;
        Device *dev;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "(su)");
        list_for_each_entry(dev, &g->devices, group_link)
                if (r >= 0 && dev->handout == HANDOUT_RETURNING && dev->holder_pid)
                        r = sd_bus_message_append(reply, "(su)", dev->name, dev->holder_pid);
        return r < 0 ? r : sd_bus_message_close_container(reply);
}
