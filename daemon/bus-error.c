/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bus-error.c - the one table from core results to org.iommud1.Error.* names */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/utf8.h"
#include "daemon.h"

static const struct {
        int errnum;
        const char *name;
} error_table[] = {
        { EBUSY,      IOMMUD_ERROR_BUSY },
        { ENODEV,     IOMMUD_ERROR_NO_SUCH_DEVICE },
        { ENXIO,      IOMMUD_ERROR_NO_SUCH_GROUP },
        { EPERM,      IOMMUD_ERROR_NOT_CLAIMED },
        { EACCES,     SD_BUS_ERROR_ACCESS_DENIED },
        { EOVERFLOW,  IOMMUD_ERROR_OVERFLOW },
        { ENOSPC,     IOMMUD_ERROR_OVERFLOW },
        { EDQUOT,     IOMMUD_ERROR_QUOTA_EXCEEDED },
        { EOPNOTSUPP, IOMMUD_ERROR_NOT_SUPPORTED },
        { EINVAL,     IOMMUD_ERROR_INVALID_ARGUMENT },
        { EEXIST,     IOMMUD_ERROR_INVALID_ARGUMENT },
        { ENOENT,     IOMMUD_ERROR_INVALID_ARGUMENT },
        /* A mapping in IOVAs the IOMMU reserves for a device being attached. */
        { EADDRINUSE, IOMMUD_ERROR_INVALID_ARGUMENT },
        { EFAULT,     IOMMUD_ERROR_DMA_FAULT },
        /* The backend lacks the operation, or the kernel the feature (why() says which). */
        { ENOSYS,     IOMMUD_ERROR_NOT_SUPPORTED },
};

const char *daemon_backend_error(Daemon *d, int r) {
        const char *why = backend_why(d->backend, r);

        return why ? why : strerror(r < 0 ? -r : r);
}

const char *bus_error_name(int r) {
        int errnum = r < 0 ? -r : r;

        for (size_t i = 0; i < ELEMENTSOF(error_table); i++)
                if (error_table[i].errnum == errnum)
                        return error_table[i].name;
        return NULL;
}

/* Sets error from a core result with a message saying what to do next;
 * results outside the table (ENOMEM, I/O) become system errors. Messages
 * echo what clients sent (device names): a cut must not split a character,
 * or sd-bus refuses to send the reply and the caller waits for its timeout. */
int bus_error_set(sd_bus_error *error, int r, const char *fmt, ...) {
        const char *name = bus_error_name(r);
        char msg[1024];
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (n < 0)
                msg[0] = '\0';
        utf8_cut(msg, sizeof(msg), n >= (int)sizeof(msg));
        if (!name)
                return sd_bus_error_set_errnof(error, r < 0 ? -r : r, "%s", msg);
        return sd_bus_error_set(error, name, msg);
}
