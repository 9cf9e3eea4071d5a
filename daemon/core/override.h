/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* override.h - groups held for the machine: drivers detached until an administrator reattaches them */
#pragma once

#include "types.h"

/*
 * An override is what driverctl and `virsh nodedev-detach` do, owned by the
 * daemon: a group's DMA-API drivers are detached and every device is put
 * on the backend's hold driver (vfio-pci), on behalf of the machine rather
 * than of a client. No client owns the group then (Ownership "machine"):
 * clients claim it as any group, and need not detach anything, since no
 * DMA-API driver is left; when their claim ends the group is the machine's
 * again and its devices stay where they are. Only group_unoverride() lets
 * go of the devices and binds the drivers the override took away.
 *
 * The drivers to give back live in Device.override_driver, owned by the
 * device, from the override until it ends or the device goes. Storing them
 * across restarts and reboots is the daemon's (daemon/overrides.c): before
 * re-applying a stored override it tells each device its driver with
 * device_set_override_driver(), since the device is on the hold driver
 * already then and nothing is left to detach.
 */

/*
 * Holds g for the machine. 0: done (or g was held already: overrides don't
 * nest); -EINPROGRESS: the backend is at work, CORE_EVENT_OVERRIDE_SET
 * (group, result, reason) says how it ended. -EBUSY while a client owns g
 * or g is in transit, -ENODEV for a group without devices, -EOPNOTSUPP for
 * a backend without driver_hold. A failure puts every driver back (L5).
 */
int group_override(Group *g);

/*
 * Ends g's override: every held device leaves the hold driver and the
 * drivers the override took away are bound again. 0, or -EINPROGRESS and
 * then CORE_EVENT_OVERRIDE_REMOVED. -ENOENT when g has no override, -EBUSY
 * while a client owns it or it is in transit. A driver that refuses to come
 * back leaves its device without one; the result says so.
 */
int group_unoverride(Group *g);

/* The driver to bind again when d's override ends (copied; NULL: none),
 * for an override re-applied from storage. -EBUSY once d is held. */
int device_set_override_driver(Device *d, const char *driver);

/* group.c's machine: OVERRIDING and UNOVERRIDING, and the backend's
 * answers r to driver_hold() and driver_unhold() of d (why: its words for
 * a failure, or NULL). */
void override_step(Group *g);
void override_held(Group *g, Device *d, int r, const char *why);
void override_unheld(Group *g, Device *d, int r, const char *why);
