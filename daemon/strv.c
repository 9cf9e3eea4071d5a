/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* strv.c - NULL-terminated vectors of owned strings, as sd-bus enumerators want them */
#include <errno.h>
#include <stdlib.h>

#include "daemon.h"

char **strv_free(char **v) {
        if (!v)
                return NULL;
        for (char **i = v; *i; i++)
                free(*i);
        free(v);
        return NULL;
}

int strv_consume(char ***v, char *s) {
        size_t n = 0;
        char **nv;

        while (*v && (*v)[n])
                n++;
        nv = realloc(*v, (n + 2) * sizeof(char *));
        if (!nv) {
                free(s);
                return -ENOMEM;
        }
        nv[n] = s;
        nv[n + 1] = NULL;
        *v = nv;
        return 0;
}
