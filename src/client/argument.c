/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* argument.c - parsing and checking of verb arguments (group ids, bonds, seconds) */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "iommuctl.h"

#define MAX_SLEEP_SECONDS (7.0 * 24 * 3600)

static bool all_digits(const char *s) {
        if (!*s)
                return false;
        for (; *s; s++)
                if (*s < '0' || *s > '9')
                        return false;
        return true;
}

int parse_group(const char *s, uint32_t *ret) {
        unsigned long long v;
        char *end;

        if (!all_digits(s))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || *end || v > UINT32_MAX)
                return -ERANGE;
        *ret = (uint32_t)v;
        return 0;
}

int parse_seconds(const char *s, uint64_t *ret_usec) {
        double v;
        char *end;

        /* Plain decimal only: no sign, exponent, hex, "inf" or "nan". */
        if (!*s || strspn(s, "0123456789.") != strlen(s))
                return -EINVAL;
        errno = 0;
        v = strtod(s, &end);
        if (errno != 0 || *end || !isfinite(v))
                return -EINVAL;
        if (v < 0 || v > MAX_SLEEP_SECONDS)
                return -ERANGE;
        *ret_usec = (uint64_t)(v * 1e6 + 0.5);
        return 0;
}

/* Accepts /org/iommud1/bond/N or N and returns the object path. */
int parse_bond(const char *s, char **ret_path) {
        const char *n = s;
        uint32_t id;

        if (s[0] == '/') {
                size_t len = strlen(IOMMUD_BOND_PREFIX);

                if (strncmp(s, IOMMUD_BOND_PREFIX, len) != 0 || s[len] != '/')
                        return -EINVAL;
                n = s + len + 1;
        }
        if (parse_group(n, &id) < 0)    /* the same shape: a 32-bit decimal */
                return -EINVAL;
        if (asprintf(ret_path, IOMMUD_BOND_PREFIX "/%s", n) < 0)
                return -ENOMEM;
        return 0;
}

/* Returns 0, or -EINVAL with *ret_why saying what is expected. */
int check_argument(ArgKind kind, const char *s, const char **ret_why) {
        _cleanup_(freep) char *path = NULL;
        uint64_t usec;
        uint32_t id;

        switch (kind) {
        case ARG_GROUP:
                if (parse_group(s, &id) >= 0)
                        return 0;
                *ret_why = "expected a group id, a decimal number such as 2 (see 'iommuctl groups')";
                break;
        case ARG_DEVICE:
        case ARG_DRIVER:
                if (*s && strlen(s) < 256 && !strchr(s, '/'))
                        return 0;
                *ret_why = kind == ARG_DEVICE ?
                        "expected a device name such as 0000:00:02.0 (see 'iommuctl list')" :
                        "expected a driver name such as vfio-pci";
                break;
        case ARG_BOND:
                if (parse_bond(s, &path) >= 0)
                        return 0;
                *ret_why = "expected a bond path " IOMMUD_BOND_PREFIX "/N or its number N (see 'iommuctl bonds')";
                break;
        case ARG_SECONDS:
                if (parse_seconds(s, &usec) >= 0)
                        return 0;
                *ret_why = "expected a number of seconds between 0 and 604800, such as 1.5";
                break;
        }
        return -EINVAL;
}
