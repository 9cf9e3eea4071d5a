/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* handout.h - devices of a claimed group handed to the client's own driver (OpenDevice) */
#pragma once

#include "types.h"

/*
 * A client that owns a group may take one of its devices for a driver of
 * its own (a VMM, a DPDK process): the backend opens the device afresh for
 * it (on the kernel, the VFIO cdev, unbound) and the daemon passes the fd
 * on. The kernel lets only one file bind a cdev (vfio_df_open()) and one
 * iommufd own a group's DMA (iommu_device_claim_dma_owner()), so while any
 * device of a group is handed out, the daemon uses none of the group's
 * devices itself: no bond, no space attachment (-EBUSY), and a hand-out
 * needs every slot of the group free first (-EBUSY).
 *
 * A handed-out device belongs to the claim. When the claim ends (release,
 * the client's end, a revoke), the group is RELEASING and the backend takes
 * each such device back (BackendOps.device_take_back), which may take as
 * long as the holder keeps its fd (-EINPROGRESS, then group_backend_done());
 * only then are the group's kernel drivers given back.
 */

/*
 * Hands d to cl, the owner of d's group: *ret_fd gets the backend's new fd
 * for it, which the caller owns. to is the bus name to record on the
 * device (copied). -EPERM: cl does not own the group; -EALREADY: d is
 * handed out already; -EBUSY: a slot of the group is in use by the daemon,
 * or the group is in transit; -EDQUOT: over "open-devices";
 * -EOPNOTSUPP: the backend cannot; -ESHUTDOWN: cl is ending.
 */
int device_hand_out(Device *d, Client *cl, const char *to, int *ret_fd);

/* Whether the daemon may attach anything to a device of g (L6's slots
 * take it): not while one of its devices is handed out or coming back. */
bool group_handout_blocks_slots(const Group *g);

/*
 * The claim on d's group ends while d is handed out: the owner's quota is
 * given back now and d waits to be taken back (Device.handout ==
 * HANDOUT_RETURNING). group.c calls it from the release.
 */
void device_handout_end(Device *d);

/*
 * RELEASING: asks the backend to take back each returning device of g.
 * True: suspended on the backend (GROUP_WAIT_TAKE_BACK); false: all are back.
 */
bool group_take_back_step(Group *g);

/* The backend's answer to device_take_back(d): d is back (whatever r says:
 * the backend has let go of the holder's fd either way). */
void device_taken_back(Device *d, int r);

/* d goes (unplug) while handed out: its hand-out ends with it. */
void device_handout_forget(Device *d);
