/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dma.c - the DMA records the sim and the selftest share: checked, buffered, finished once */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dma.h"

int dma_transfer_new(const DmaRequest *req, size_t size, DmaTransfer **ret) {
        _cleanup_(freep) uint8_t *buf = NULL;
        DmaTransfer *t;

        if (req->len == 0 || req->len > DMA_MAX || req->addr + req->len < req->addr)
                return -EINVAL;
        buf = malloc(req->len);
        if (!buf)
                return -ENOMEM;
        if (req->write)
                memcpy(buf, req->data, req->len);
        t = calloc(1, size);
        if (!t)
                return -ENOMEM;
        *t = (DmaTransfer) { .device = req->device, .pasid = req->pasid, .addr = req->addr, .len = req->len,
                             .write = req->write, .buf = TAKE_PTR(buf), .done = req->done,
                             .userdata = req->userdata };
        list_init(&t->link);
        *ret = t;
        return 0;
}

void dma_transfer_finish(DmaTransfer *t, int error, const char *why) {
        list_del_init(&t->link);
        if (error < 0 || t->write)
                t->done(t->userdata, error, why, NULL, 0);
        else
                t->done(t->userdata, 0, NULL, t->buf, t->len);
        free(t->buf);
        free(t);        /* the backend's record: t is its first member */
}
