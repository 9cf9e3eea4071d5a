/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* string-util.c - small checks of strings that more than one parser makes */
#include "common/string-util.h"

bool all_digits(const char *s) {
        if (!*s)
                return false;
        for (; *s; s++)
                if (*s < '0' || *s > '9')
                        return false;
        return true;
}
