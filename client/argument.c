/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* argument.c - parsing and checking of verb arguments, and @references to earlier results */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/string-util.h"
#include "iommuctl.h"

#define MAX_SLEEP_SECONDS (7.0 * 24 * 3600)

/* "@name" or, for numbers, "@name+N": the result of an earlier verb. */
typedef struct RefInfo {
        const char *name;
        Ref ref;
        bool numeric;
        const char *set_by;     /* for messages: the verbs that set it */
} RefInfo;

static const RefInfo ref_infos[] = {
        { "pasid", REF_PASID, true, "'pasid' or 'bind'" },
        { "share", REF_SHARE, true, "'share'" },
        { "region", REF_REGION, false, "'share'" },
        { "space", REF_SPACE, false, "'space'" },
};

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

/* Accepts PREFIX/N or N and returns the object path. */
static int parse_object(const char *prefix, const char *s, char **ret_path) {
        const char *n = s;
        uint32_t id;

        if (s[0] == '/') {
                size_t len = strlen(prefix);

                if (strncmp(s, prefix, len) != 0 || s[len] != '/')
                        return -EINVAL;
                n = s + len + 1;
        }
        if (parse_group(n, &id) < 0)    /* the same shape: a 32-bit decimal */
                return -EINVAL;
        if (asprintf(ret_path, "%s/%s", prefix, n) < 0)
                return -ENOMEM;
        return 0;
}

int parse_bond(const char *s, char **ret_path) {
        return parse_object(IOMMUD_BOND_PREFIX, s, ret_path);
}

/*
 * Decimal, or hex after "0x"; an optional suffix K, M or G multiplies by
 * 1024, 1024^2 or 1024^3. No sign, no blanks.
 */
int parse_number(const char *s, uint64_t *ret) {
        unsigned long long v;
        unsigned shift = 0;
        int base = 10;
        char *end;

        if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
                base = 16;
                s += 2;
                if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
                        return -EINVAL;
        }
        if (!(base == 16 ? isxdigit((unsigned char)*s) : isdigit((unsigned char)*s)))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, base);
        if (errno != 0)
                return -ERANGE;
        if (*end && !end[1] && strchr("kKmMgG", *end))
                shift = *end == 'k' || *end == 'K' ? 10 : *end == 'm' || *end == 'M' ? 20 : 30;
        else if (*end)
                return -EINVAL;
        if (v > UINT64_MAX >> shift)
                return -ERANGE;
        *ret = (uint64_t)v << shift;
        return 0;
}

static int hex_digit(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* "deadbeef", "de:ad:be:ef" (or '-', '_', ',', ' ' between bytes) or "0xdeadbeef". */
int parse_hex_bytes(const char *s, uint8_t **ret, size_t *ret_len) {
        _cleanup_(freep) uint8_t *buf = NULL;
        size_t n = 0, digits = 0;
        int d;

        if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
                s += 2;
        buf = malloc(strlen(s) / 2 + 1);
        if (!buf)
                return -ENOMEM;
        for (const char *p = s; *p; p++) {
                d = hex_digit(*p);
                if (d >= 0) {
                        buf[n] = (uint8_t)(digits % 2 ? buf[n] << 4 | d : d);
                        n += digits++ % 2;
                } else if (!strchr(":-_, ", *p) || digits % 2 || p == s || !p[1])
                        return -EINVAL;
        }
        if (digits == 0 || digits % 2)
                return -EINVAL;
        *ret = TAKE_PTR(buf);
        *ret_len = n;
        return 0;
}

static const RefInfo *find_ref(const char *s, uint64_t *ret_offset) {
        const char *plus = strchr(s, '+');
        size_t len = plus ? (size_t)(plus - s) : strlen(s);

        *ret_offset = 0;
        for (size_t i = 0; i < ELEMENTSOF(ref_infos); i++) {
                const RefInfo *ri = &ref_infos[i];

                if (strlen(ri->name) != len || strncmp(ri->name, s, len) != 0)
                        continue;
                if (plus && (!ri->numeric || parse_number(plus + 1, ret_offset) < 0))
                        return NULL;
                return ri;
        }
        return NULL;
}

static bool is_numeric(ArgKind kind) {
        return kind == ARG_PASID || kind == ARG_ADDRESS || kind == ARG_LENGTH ||
               kind == ARG_DMA_LENGTH || kind == ARG_SIZE;
}

/* Which references an argument of this kind may be. */
static bool ref_fits(ArgKind kind, const RefInfo *ri) {
        if (ri->numeric)
                return is_numeric(kind);
        return (kind == ARG_REGION && ri->ref == REF_REGION) ||
               (kind == ARG_SPACE && ri->ref == REF_SPACE);
}

/* Whether a number suits an argument of this kind. */
static bool number_fits(ArgKind kind, uint64_t v) {
        switch (kind) {
        case ARG_PASID:
                return v <= UINT32_MAX;
        case ARG_LENGTH:
                return v > 0;
        case ARG_DMA_LENGTH:
                return v > 0 && v <= UINT32_MAX;
        case ARG_SIZE:
                return v > 0 && v % PAGE_SIZE_4K == 0 && v <= (uint64_t)INT64_MAX && v <= SIZE_MAX;
        case ARG_BYTE:
                return v <= UINT8_MAX;
        default:
                return true;
        }
}

static const char *kind_why(ArgKind kind) {
        switch (kind) {
        case ARG_GROUP:
                return "expected a group id, a decimal number such as 2 (see 'iommuctl groups')";
        case ARG_PID:
                return "expected a process id, a decimal number above 0";
        case ARG_DEVICE:
                return "expected a device name such as 0000:00:02.0 or 00:02.0 (see 'iommuctl list')";
        case ARG_OBJECT:
                return "expected a group id such as 2 (see 'iommuctl groups') or a device name "
                       "such as 0000:00:02.0 or 00:02.0 (see 'iommuctl list')";
        case ARG_COLUMNS:
                return "expected column names, comma-separated, such as DEVICE,GROUP";
        case ARG_PROPERTY:
                return "expected property names, comma-separated, such as Ownership,Owner "
                       "('iommuctl show GROUP|DEVICE' lists them)";
        case ARG_DRIVER:
                return "expected a driver name such as vfio-pci";
        case ARG_BOND:
                return "expected a bond path " IOMMUD_BOND_PREFIX "/N or its number N "
                       "(see 'iommuctl bonds')";
        case ARG_SECONDS:
                return "expected a number of seconds between 0 and 604800, such as 1.5";
        case ARG_PASID:
                return "expected a PASID below 2^32, such as 1, or @pasid";
        case ARG_ADDRESS:
                return "expected a number such as 0x7f0000001000, 4096 or 1M, "
                       "or @share, @share+0x1000";
        case ARG_LENGTH:
                return "expected a non-zero number of bytes, such as 16, 0x1000 or 64K";
        case ARG_DMA_LENGTH:
                return "expected a non-zero number of bytes below 2^32, such as 16, 0x1000 or 64K";
        case ARG_SIZE:
                return "expected a non-zero multiple of 4096 bytes, "
                       "such as 4096, 0x10000, 64K or 2M";
        case ARG_REGION:
                return "expected a region path " IOMMUD_REGION_PREFIX "/N, its number N, "
                       "or @region (see 'iommuctl regions')";
        case ARG_SPACE:
                return "expected a space path " IOMMUD_SPACE_PREFIX "/N, its number N, or @space "
                       "(see 'iommuctl spaces')";
        case ARG_BYTE:
                return "expected a byte value, 0 to 255, such as 0xab or 171";
        case ARG_HEX:
                return "expected bytes in hex, such as deadbeef, de:ad:be:ef or 0xdeadbeef";
        }
        return "invalid";
}

static const char *check_reference(ArgKind kind, const char *s, unsigned refs) {
        static char why[256];
        const RefInfo *ri;
        uint64_t offset;

        ri = find_ref(s + 1, &offset);
        if (!ri || !ref_fits(kind, ri))
                return kind_why(kind);
        if (refs & ri->ref)
                return NULL;
        snprintf(why, sizeof(why), "@%s is the result of an earlier %s verb joined with '+', "
                 "and there is none before this one", ri->name, ri->set_by);
        return why;
}

/* "Owner,OwnerUid": names of letters and digits, comma-separated, none empty. */
static bool property_names_fit(const char *s) {
        bool empty = true;

        for (; *s; s++) {
                if (*s == ',') {
                        if (empty)
                                return false;
                        empty = true;
                } else if (isalnum((unsigned char)*s))
                        empty = false;
                else
                        return false;
        }
        return !empty;
}

static bool literal_fits(ArgKind kind, const char *s) {
        _cleanup_(freep) char *path = NULL;
        _cleanup_(freep) uint8_t *bytes = NULL;
        uint64_t v;
        size_t n;

        switch (kind) {
        case ARG_GROUP:
                return parse_group(s, &(uint32_t){ 0 }) >= 0;
        case ARG_PID: {
                uint32_t pid = 0;

                return parse_group(s, &pid) >= 0 && pid > 0 && pid <= INT32_MAX;
        }
        case ARG_DEVICE:
        case ARG_OBJECT:
                return *s && strlen(s) < DEVICE_NAME_MAX && !strchr(s, '/');
        case ARG_DRIVER:
                return *s && strlen(s) < 256 && !strchr(s, '/');
        case ARG_COLUMNS:
                return true;    /* checked against the verb's columns */
        case ARG_PROPERTY:
                return property_names_fit(s);
        case ARG_BOND:
                return parse_bond(s, &path) >= 0;
        case ARG_REGION:
                return parse_object(IOMMUD_REGION_PREFIX, s, &path) >= 0;
        case ARG_SPACE:
                return parse_object(IOMMUD_SPACE_PREFIX, s, &path) >= 0;
        case ARG_SECONDS:
                return parse_seconds(s, &v) >= 0;
        case ARG_HEX:
                return parse_hex_bytes(s, &bytes, &n) >= 0;
        default:
                return parse_number(s, &v) >= 0 && number_fits(kind, v);
        }
}

/*
 * Returns 0, or -EINVAL with *ret_why saying what is expected. refs: the
 * references that earlier verbs of the command line will have set.
 */
int check_argument(ArgKind kind, const char *s, unsigned refs, const char **ret_why) {
        if (s[0] == '@' && kind != ARG_DEVICE && kind != ARG_DRIVER && kind != ARG_OBJECT &&
            kind != ARG_COLUMNS && kind != ARG_PROPERTY)
                *ret_why = check_reference(kind, s, refs);
        else
                *ret_why = literal_fits(kind, s) ? NULL : kind_why(kind);
        return *ret_why ? -EINVAL : 0;
}

/* A reference when it is used: set by now, or a usage error. */
static int resolve_ref(Ctx *ctx, const char *s, const RefInfo **ret, uint64_t *ret_offset) {
        const RefInfo *ri = find_ref(s + 1, ret_offset);

        if (!ri)
                return ctl_usage_error(ctx->cmd->verb, "invalid reference '%s'", s);
        if (!(ctx->refs & ri->ref))
                return ctl_usage_error(ctx->cmd->verb, "'%s' is used before any %s verb set @%s",
                                       s, ri->set_by, ri->name);
        *ret = ri;
        return 0;
}

/* A numeric argument, or a reference to one: 0 or an exit code (printed). */
int arg_number(Ctx *ctx, const char *s, ArgKind kind, uint64_t *ret) {
        const RefInfo *ri = NULL;       /* set when resolve_ref() returns 0 */
        uint64_t v, offset;
        int r;

        if (s[0] != '@') {
                if (parse_number(s, &v) < 0 || !number_fits(kind, v))
                        return ctl_usage_error(ctx->cmd->verb, "invalid argument '%s': %s",
                                               s, kind_why(kind));
                *ret = v;
                return 0;
        }
        r = resolve_ref(ctx, s, &ri, &offset);
        if (r != 0)
                return r;
        v = ri->ref == REF_PASID ? ctx->pasid : ctx->share_address;
        if (v + offset < v || !number_fits(kind, v + offset))
                return ctl_usage_error(ctx->cmd->verb,
                                       "'%s' is 0x%jx%s here, which does not fit: %s",
                                       s, (uintmax_t)v, offset ? " plus the offset" : "",
                                       kind_why(kind));
        *ret = v + offset;
        return 0;
}

int arg_u32(Ctx *ctx, const char *s, ArgKind kind, uint32_t *ret) {
        uint64_t v = 0;                 /* set when arg_number() returns 0 */
        int r;

        r = arg_number(ctx, s, kind, &v);
        if (r == 0 && v > UINT32_MAX)
                r = ctl_usage_error(ctx->cmd->verb, "'%s' is too large: %s", s, kind_why(kind));
        if (r == 0)
                *ret = (uint32_t)v;
        return r;
}

/* A REGION or SPACE argument as an object path (allocated). */
int arg_path(Ctx *ctx, const char *s, ArgKind kind, char **ret) {
        const char *prefix = kind == ARG_REGION ? IOMMUD_REGION_PREFIX : IOMMUD_SPACE_PREFIX;
        const RefInfo *ri = NULL;       /* set when resolve_ref() returns 0 */
        uint64_t offset;
        int r;

        if (s[0] == '@') {
                r = resolve_ref(ctx, s, &ri, &offset);
                if (r != 0)
                        return r;
                *ret = strdup(ri->ref == REF_REGION ? ctx->region : ctx->space);
        } else if (parse_object(prefix, s, ret) < 0)
                return ctl_usage_error(ctx->cmd->verb, "invalid argument '%s': %s",
                                       s, kind_why(kind));
        if (!*ret)
                return ctl_bad_reply(ctx, -ENOMEM);
        return 0;
}

/* "/org/iommud1/space/3" -> "3", for short table cells. */
const char *object_name(const char *path) {
        const char *slash = strrchr(path, '/');

        return slash ? slash + 1 : path;
}
