/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* handout.c - devices of a claimed group handed to the client's own driver (OpenDevice) */
#include <errno.h>

#include "common/alloc.h"
#include "client.h"
#include "device.h"
#include "group.h"
#include "handout.h"

bool group_handout_blocks_slots(const Group *g) {
        return g->n_handed_out > 0;
}

/* Whether anything of the daemon is attached to a device of g: the kernel
 * lets one iommufd own a group's DMA, and ours would hold it. */
static bool group_has_slots(const Group *g) {
        const Device *d;

        list_for_each_entry(d, &g->devices, group_link)
                if (!list_empty(&d->slots))
                        return true;
        return false;
}

int device_hand_out(Device *d, Client *cl, const char *to, int *ret_fd) {
        Core *c = d->core;
        Group *g = d->group;
        char *name;
        int fd = -1, r;

        if (cl->ended)
                return -ESHUTDOWN;
        if (g->owner != cl)
                return -EPERM;
        if (d->handout != HANDOUT_NONE)
                return -EALREADY;
        if (g->transit != GROUP_STEADY || group_has_slots(g))
                return -EBUSY;
        if (!c->ops->device_open)
                return -EOPNOTSUPP;
        name = xstrdup(to ? to : "");
        if (!name)
                return -ENOMEM;
        r = client_charge(cl, RES_OPEN_DEVICES, 1);
        if (r >= 0) {
                r = c->ops->device_open(c->backend_data, d, &fd);
                if (r < 0)
                        client_uncharge(cl, RES_OPEN_DEVICES, 1);
        }
        if (r < 0) {
                free(name);
                return r;
        }
        d->handout = HANDOUT_OPEN;
        d->handed_to = cl;
        d->handed_to_name = name;
        g->n_handed_out++;
        core_emit(c, CORE_EVENT_DEVICE_CHANGED, g->id, 0, 0, d->name);
        *ret_fd = fd;
        return 0;
}

/* The owner may be about to go (its release runs this): its charge goes
 * now, the device stays the group's until the backend has it back. */
void device_handout_end(Device *d) {
        if (d->handout != HANDOUT_OPEN)
                return;
        client_uncharge(d->handed_to, RES_OPEN_DEVICES, 1);
        d->handed_to = NULL;
        d->handout = HANDOUT_RETURNING;
}

static void device_handout_clear(Device *d) {
        if (d->handout == HANDOUT_NONE)
                return;
        device_handout_end(d);
        d->handout = HANDOUT_NONE;
        d->handed_to_name = mfree(d->handed_to_name);
        d->holder_pid = 0;
        d->group->n_handed_out--;
        core_emit(d->core, CORE_EVENT_DEVICE_CHANGED, d->group->id, 0, 0, d->name);
        core_emit(d->core, CORE_EVENT_GROUP_CHANGED, d->group->id, 0, 0, NULL);
}

void device_taken_back(Device *d, int r) {
        (void)r;                /* the backend logged a failure; the fd is not ours to wait for */
        device_handout_clear(d);
}

void device_handout_forget(Device *d) {
        device_handout_clear(d);
}

/* Who holds d while it is taken back (0: nobody seen), as the backend's
 * device_take_back() said: recorded for Group.Holders. */
static void device_set_holder(Device *d, uint32_t pid) {
        if (d->holder_pid == pid)
                return;
        d->holder_pid = pid;
        core_emit(d->core, CORE_EVENT_GROUP_CHANGED, d->group->id, 0, 0, NULL);
}

/*
 * One device at a time, in the group's order: each take-back may wait for
 * its holder, and the group's kernel drivers come back only after the last
 * (group.c's restore step runs after this one).
 */
bool group_take_back_step(Group *g) {
        Core *c = g->core;
        Device *d;
        int r;

        list_for_each_entry(d, &g->devices, group_link) {
                if (d->handout != HANDOUT_RETURNING)
                        continue;
                uint32_t holder = 0;

                r = c->ops->device_take_back ? c->ops->device_take_back(c->backend_data, d, &holder) : 0;
                if (r == -EINPROGRESS) {
                        device_set_holder(d, holder);
                        g->wait = GROUP_WAIT_TAKE_BACK;
                        g->wait_device = d;
                        if (!g->suspended)
                                core_emit(c, CORE_EVENT_GROUP_CHANGED, g->id, 0, 0, NULL);
                        g->suspended = true;
                        return true;
                }
                device_taken_back(d, r);
        }
        return false;
}
