/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* strv.c - NULL-terminated vectors of owned strings (sd-bus enumerators, "as" properties) */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/strv.h"

char **strv_free(char **l) {
        for (char **i = l; i && *i; i++)
                free(*i);
        return mfree(l);
}

int strv_consume(char ***l, char *s) {
        size_t n = 0;
        char **nl;

        while (*l && (*l)[n])
                n++;
        nl = xrealloc(*l, (n + 2) * sizeof(char *));
        if (!nl) {
                free(s);
                return -ENOMEM;
        }
        nl[n] = s;
        nl[n + 1] = NULL;
        *l = nl;
        return 0;
}

char *strv_join(char **l, const char *sep) {
        size_t len = 1, n_sep = strlen(sep), o = 0;
        char *s;

        for (char **i = l; i && *i; i++)
                len += strlen(*i) + n_sep;
        s = xmalloc(len);
        if (!s)
                return NULL;
        for (char **i = l; i && *i; i++) {
                size_t n = strlen(*i);

                if (i != l) {
                        memcpy(s + o, sep, n_sep);
                        o += n_sep;
                }
                memcpy(s + o, *i, n);
                o += n;
        }
        s[o] = '\0';
        return s;
}
