/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* backend.c - the Backend every class makes, and what a missing operation means */
#include <errno.h>
#include <stdlib.h>

#include "backend.h"

int backend_new(Backend **ret, const BackendClass *class, void *data, const BackendOps *core_ops,
                void *core_data) {
        Backend *b = calloc(1, sizeof(*b));

        if (!b)
                return -ENOMEM;
        *b = (Backend) { .class = class, .data = data, .core_ops = core_ops, .core_data = core_data };
        *ret = b;
        return 0;
}

Backend *backend_free(Backend *b) {
        if (!b)
                return NULL;
        b->class->free(b->data);
        free(b);
        return NULL;
}

void backend_log(const BackendOptions *opts, const char *fmt, ...) {
        va_list ap;

        if (!opts->log)
                return;
        va_start(ap, fmt);
        opts->log(opts->log_userdata, fmt, ap);
        va_end(ap);
}

const char *backend_why(const Backend *b, int r) {
        return b->class->why ? b->class->why(b->data, r) : NULL;
}

FaultQueue *backend_fault_queue(const Backend *b) {
        return b->class->fault_queue ? b->class->fault_queue(b->data) : NULL;
}

bool backend_has_simulator(const Backend *b) {
        const BackendClass *c = b->class;

        return c->probe_driver || c->remove_driver || c->unplug || c->dma || c->check_map || c->check_attachment;
}
