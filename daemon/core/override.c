/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* override.c - groups held for the machine: drivers detached until an administrator reattaches them */
#include <errno.h>
#include <string.h>

#include "common/alloc.h"
#include "device.h"
#include "group.h"
#include "override.h"

int device_set_override_driver(Device *d, const char *driver) {
        char *copy = NULL;

        if (d->hold != HOLD_NONE || d->group->transit != GROUP_STEADY)
                return -EBUSY;
        if (driver && !driver[0])
                return -EINVAL;
        if (driver) {
                copy = xstrdup(driver);
                if (!copy)
                        return -ENOMEM;
        }
        free(d->override_driver);
        d->override_driver = copy;
        return 0;
}

/* The backend put d on its hold driver (r > 0), left it as it was (0), or
 * failed (then everything goes back). */
void override_held(Group *g, Device *d, int r, const char *why) {
        const char *hold = g->core->ops->hold_driver;
        char *copy;

        if (r < 0) {
                group_fail_claim(g, r, why);
                return;
        }
        if (r == 0) {
                d->hold = HOLD_LEFT;
                return;
        }
        d->hold = HOLD_ON;
        if (d->driver && strcmp(d->driver, hold) == 0)
                return;
        /* Its driver, if any, manages DMA (a DMA-API one was detached
         * first); without memory the model keeps that name. */
        copy = xstrdup(hold);
        if (!copy)
                return;
        free(d->driver);
        d->driver = copy;
        d->driver_dma_api = false;
        core_emit(g->core, CORE_EVENT_DEVICE_CHANGED, g->id, 0, 0, d->name);
}

/* The backend took d off its hold driver, or could not: then d stays on
 * it (the model says so, and the restore leaves it there), and the end of
 * the override reports the first such failure. */
void override_unheld(Group *g, Device *d, int r, const char *why) {
        d->hold = HOLD_NONE;
        if (r < 0) {
                if (g->claim_error >= 0) {
                        g->claim_error = r;
                        free(g->claim_why);
                        g->claim_why = why && why[0] ? xstrdup(why) : NULL;
                }
                return;
        }
        if (!d->driver || strcmp(d->driver, g->core->ops->hold_driver) != 0)
                return;
        d->driver = mfree(d->driver);
        core_emit(g->core, CORE_EVENT_DEVICE_CHANGED, g->id, 0, 0, d->name);
}

/* OVERRIDING: the DMA-API drivers go (remembered in restore_driver), then
 * each device is held. True: suspended on the backend. */
static bool override_hold_step(Group *g) {
        Core *c = g->core;
        Device *d;
        int r;

        if (g->n_devices == 0)
                group_fail_claim(g, -ENODEV, NULL);     /* they went meanwhile */
        if (group_detach_step(g, GROUP_OVERRIDING))
                return true;
        list_for_each_entry(d, &g->devices, group_link) {
                if (g->transit != GROUP_OVERRIDING)
                        return false;
                if (d->hold != HOLD_NONE)
                        continue;
                r = c->ops->driver_hold(c->backend_data, d);
                if (group_wait(g, GROUP_WAIT_HOLD, d, r))
                        return true;
                override_held(g, d, r, NULL);
        }
        return false;
}

/* UNOVERRIDING: each held device is let go, then the drivers come back:
 * those this override detached just now (a failed one) and those it kept. */
static bool override_unhold_step(Group *g) {
        Core *c = g->core;
        Device *d;
        int r;

        list_for_each_entry(d, &g->devices, group_link) {
                if (d->hold == HOLD_LEFT)
                        d->hold = HOLD_NONE;
                if (d->hold != HOLD_ON)
                        continue;
                r = c->ops->driver_unhold(c->backend_data, d);
                if (group_wait(g, GROUP_WAIT_UNHOLD, d, r))
                        return true;
                override_unheld(g, d, r, NULL);
        }
        list_for_each_entry(d, &g->devices, group_link) {
                if (!d->override_driver)
                        continue;
                if (!d->restore_driver)
                        d->restore_driver = TAKE_PTR(d->override_driver);
                else
                        d->override_driver = mfree(d->override_driver);
        }
        return group_restore_step(g);
}

/* The end of an override change, either way; the caller hears of it through
 * the CORE_EVENT_OVERRIDE_* if it had to wait. */
static void override_finish(Group *g) {
        Core *c = g->core;
        bool set = g->transit == GROUP_OVERRIDING;
        bool removing = g->override_removing;
        bool suspended = g->suspended;
        Device *d;

        if (set) {
                g->claim_error = 0;
                list_for_each_entry(d, &g->devices, group_link)
                        if (d->restore_driver) {
                                free(d->override_driver);
                                d->override_driver = TAKE_PTR(d->restore_driver);
                        }
        }
        g->overridden = set;
        g->transit = GROUP_STEADY;
        g->suspended = false;
        g->override_removing = false;
        core_emit(c, CORE_EVENT_GROUP_CHANGED, g->id, 0, 0, NULL);
        if (suspended)
                core_emit_result(c, removing ? CORE_EVENT_OVERRIDE_REMOVED : CORE_EVENT_OVERRIDE_SET, g->id, 0,
                                 g->claim_error, g->claim_why);
        g->claim_why = mfree(g->claim_why);
}

void override_step(Group *g) {
        if (g->transit == GROUP_OVERRIDING) {
                if (override_hold_step(g))
                        return;
                if (g->transit == GROUP_OVERRIDING) {
                        override_finish(g);
                        return;
                }
        }
        /* UNOVERRIDING: the override ends, or failed on its way. */
        if (override_unhold_step(g))
                return;
        override_finish(g);
        group_free_if_unused(g);
}

int group_override(Group *g) {
        const BackendOps *ops = g->core->ops;

        if (!ops->driver_hold || !ops->driver_unhold || !ops->hold_driver)
                return -EOPNOTSUPP;
        if (g->transit != GROUP_STEADY || g->owner)
                return -EBUSY;
        if (g->overridden)
                return 0;               /* overrides don't nest */
        if (g->n_devices == 0)
                return -ENODEV;
        /* L5: from here on, any failure puts every driver back. */
        g->transit = GROUP_OVERRIDING;
        g->override_removing = false;
        g->claim_error = 0;
        override_step(g);
        /* Answered at once (never freed then: it has devices), or later. */
        return g->transit != GROUP_STEADY ? -EINPROGRESS : g->claim_error;
}

int group_unoverride(Group *g) {
        if (!g->overridden)
                return g->transit == GROUP_OVERRIDING ? -EBUSY : -ENOENT;
        if (g->transit != GROUP_STEADY || g->owner)
                return -EBUSY;
        g->transit = GROUP_UNOVERRIDING;
        g->override_removing = true;
        g->claim_error = 0;
        override_step(g);
        return g->transit != GROUP_STEADY ? -EINPROGRESS : g->claim_error;
}
