/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* policy-parse.c - a policy file's JSON into rules: types, keys, names, ids and limits */
#include <errno.h>
#include <grp.h>
#include <json-c/json.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/string-util.h"
#include "common/utf8.h"
#include "policy-parse.h"

#define JSON_DEPTH_MAX  16              /* the format nests 4 deep */
#define WHERE_MAX       128             /* "rules[12].principals.users[3]" */
#define DESCRIBE_MAX    64              /* a quoted value in a message */
#define KEY_LIST_MAX    256             /* "comment, principals, ..." */

/* Writes s (len bytes) as a double-quoted, escaped, possibly shortened string
 * into buf, so that user input can neither break a message line nor flood it.
 * The result is valid UTF-8 (it ends up in Reload()'s error reply, which
 * sd-bus would refuse to send otherwise): characters are copied whole or
 * not at all, and bytes that are not UTF-8 are escaped like controls. */
static const char *quote(const char *s, size_t len, char *buf, size_t size) {
        size_t o = 0, n;

        buf[o++] = '"';
        for (size_t i = 0; i < len; i += n) {
                unsigned char c = (unsigned char)s[i];

                n = c < 0x80 ? 1 : utf8_char_len(s + i, len - i);
                if (o + 9 > size) {     /* room for \xNN or 4 bytes, ...", NUL */
                        memcpy(buf + o, "...", 3);
                        o += 3;
                        break;
                }
                if (c == '"' || c == '\\') {
                        buf[o++] = '\\';
                        buf[o++] = (char)c;
                } else if (c < 0x20 || c == 0x7f || n == 0) {
                        o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
                        n = 1;
                } else {
                        memcpy(buf + o, s + i, n);
                        o += n;
                }
        }
        buf[o++] = '"';
        buf[o] = '\0';
        return buf;
}

/* How a value is named after "got" in a message. Returns buf or a constant. */
static const char *describe(json_object *v, char *buf, size_t size) {
        switch (json_object_get_type(v)) {
        case json_type_null:
                return "null";
        case json_type_boolean:
                return json_object_get_boolean(v) ? "true" : "false";
        case json_type_array:
                return "an array";
        case json_type_object:
                return "an object";
        case json_type_string:
                return quote(json_object_get_string(v), (size_t)json_object_get_string_len(v),
                             buf, size);
        default:
                if (snprintf(buf, size, "%s",
                             json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN)) < 0)
                        return "a number";
                return buf;
        }
}

static bool key_is_simple(const char *key) {
        if (!*key)
                return false;
        for (const char *c = key; *c; c++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-", *c))
                        return false;
        return true;
}

/* The location of member key of the object at where (NULL: the top level):
 * "where.key", or "where[\"odd key\"]" for keys that would be ambiguous. */
static const char *where_key(char *buf, const char *where, const char *key) {
        char q[DESCRIBE_MAX];
        int n;

        if (key_is_simple(key))
                n = snprintf(buf, WHERE_MAX, "%s%s%s", where ? where : "", where ? "." : "", key);
        else
                n = snprintf(buf, WHERE_MAX, "%s[%s]", where ? where : "",
                             quote(key, strlen(key), q, sizeof(q)));
        if (n < 0)
                return "?";
        /* A truncated location still points the reader the right way; it
         * is cut between characters, as quote() cuts. */
        utf8_cut(buf, WHERE_MAX, n >= WHERE_MAX);
        return buf;
}

static const char *where_index(char *buf, const char *where, size_t i) {
        return snprintf(buf, WHERE_MAX, "%s[%zu]", where, i) < 0 ? "?" : buf;
}

static bool expect_type(Loader *l, const char *where, json_object *v, json_type t,
                        const char *expected) {
        char d[DESCRIBE_MAX];

        if (json_object_is_type(v, t))
                return true;
        loader_problem(l, where, "expected %s, got %s", expected, describe(v, d, sizeof(d)));
        return false;
}

/* Rejects strings with an embedded NUL, which C would silently cut short. */
static bool get_string(Loader *l, const char *where, json_object *v, const char *expected,
                       const char **ret) {
        const char *s;

        if (!expect_type(l, where, v, json_type_string, expected))
                return false;
        s = json_object_get_string(v);
        if (strlen(s) != (size_t)json_object_get_string_len(v)) {
                loader_problem(l, where, "expected %s, got a string with a NUL character",
                               expected);
                return false;
        }
        *ret = s;
        return true;
}

/* An integer from 0 to max. json-c clamps larger literals to UINT64_MAX. */
static bool get_uint(Loader *l, const char *where, json_object *v, uint64_t max,
                     const char *expected, uint64_t *ret) {
        char d[DESCRIBE_MAX];

        if (json_object_is_type(v, json_type_int) && json_object_get_int64(v) >= 0 &&
            json_object_get_uint64(v) <= max) {
                *ret = json_object_get_uint64(v);
                return true;
        }
        loader_problem(l, where, "expected %s, got %s", expected, describe(v, d, sizeof(d)));
        return false;
}

static bool get_member(json_object *obj, const char *key, json_object **ret) {
        return json_object_object_get_ex(obj, key, ret);
}

/* Reports every key of obj that is not in the NULL-terminated list known. */
static void check_keys(Loader *l, const char *where, json_object *obj,
                       const char *const *known) {
        struct json_object_iterator it = json_object_iter_begin(obj);
        struct json_object_iterator end = json_object_iter_end(obj);
        char list[KEY_LIST_MAX] = "", w[WHERE_MAX];
        size_t o = 0;

        for (size_t i = 0; known[i] && o < sizeof(list); i++)
                o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", i ? ", " : "",
                                      known[i]);

        for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
                const char *key = json_object_iter_peek_name(&it);
                bool found = false;

                for (size_t i = 0; known[i] && !found; i++)
                        found = strcmp(key, known[i]) == 0;
                if (!found)
                        loader_problem(l, where_key(w, where, key),
                                       "unknown key, expected one of: %s", list);
        }
}

static const char *op_list(char *buf, size_t size) {
        size_t o = 0;

        buf[0] = '\0';
        for (unsigned op = 0; op < _POLICY_OP_MAX && o < size; op++)
                o += (size_t)snprintf(buf + o, size - o, "%s%s", op ? ", " : "",
                                      policy_op_to_string(op));
        return buf;
}

/* "allow" or "deny": a list of operation names, as a set of POLICY_OP_BIT()s. */
static unsigned parse_ops(Loader *l, const char *where, json_object *v) {
        char w[WHERE_MAX], d[DESCRIBE_MAX], list[KEY_LIST_MAX];
        unsigned set = 0;

        if (!expect_type(l, where, v, json_type_array, "a list of operation names"))
                return 0;
        for (size_t i = 0; i < json_object_array_length(v); i++) {
                json_object *x = json_object_array_get_idx(v, i);
                const char *s = NULL;
                int op = -EINVAL;

                if (json_object_is_type(x, json_type_string) &&
                    strlen(json_object_get_string(x)) == (size_t)json_object_get_string_len(x)) {
                        s = json_object_get_string(x);
                        op = policy_op_from_string(s);
                }
                if (op < 0) {
                        loader_problem(l, where_index(w, where, i), "expected one of %s, got %s",
                                       op_list(list, sizeof(list)), describe(x, d, sizeof(d)));
                        continue;
                }
                set |= POLICY_OP_BIT(op);
        }
        return set;
}

/* getpwnam()/getgrnam() return NULL with one of these errno values (or 0)
 * when the name simply does not exist; anything else is a lookup failure. */
static bool errno_is_not_found(int e) {
        return e == 0 || e == ENOENT || e == ESRCH || e == EBADF || e == EPERM;
}

static int lookup_user(const char *name, uint32_t *ret) {
        struct passwd *pw;

        errno = 0;
        pw = getpwnam(name);
        if (!pw)
                return errno_is_not_found(errno) ? -ENOENT : -errno;
        *ret = pw->pw_uid;
        return 0;
}

static int lookup_group(const char *name, uint32_t *ret) {
        struct group *gr;

        errno = 0;
        gr = getgrnam(name);
        if (!gr)
                return errno_is_not_found(errno) ? -ENOENT : -errno;
        *ret = gr->gr_gid;
        return 0;
}

/* "users" and "groups" differ only in these. */
typedef struct IdKind {
        const char *noun;               /* "user" */
        const char *expected;           /* for messages */
        int (*lookup)(const char *name, uint32_t *ret);
} IdKind;

static const IdKind user_kind = {
        "user", "a user name or a uid from 0 to 4294967294", lookup_user,
};
static const IdKind group_kind = {
        "group", "a group name or a gid from 0 to 4294967294", lookup_group,
};

/* One entry of "users" or "groups": a number is taken as it is, a name is
 * resolved now, at load time (a renamed user needs a Reload). */
static bool parse_id(Loader *l, const char *where, json_object *v, const IdKind *k,
                     uint32_t *ret) {
        const char *name;
        uint64_t id;
        char q[DESCRIBE_MAX];
        int r;

        if (!json_object_is_type(v, json_type_string)) {
                if (!get_uint(l, where, v, UINT32_MAX - 1, k->expected, &id))
                        return false;
                *ret = (uint32_t)id;
                return true;
        }
        if (!get_string(l, where, v, k->expected, &name))
                return false;
        r = k->lookup(name, ret);
        if (r == -ENOENT)
                loader_problem(l, where, "unknown %s %s, expected %s%s", k->noun,
                               quote(name, strlen(name), q, sizeof(q)), k->expected,
                               all_digits(name) ?
                               " (write an id as a number, without quotes)" : "");
        else if (r < 0)
                loader_problem(l, where, "cannot look up %s %s: %s", k->noun,
                               quote(name, strlen(name), q, sizeof(q)), strerror(-r));
        return r >= 0;
}

static void parse_id_list(Loader *l, const char *where, json_object *v, const IdKind *k,
                          uint32_t **ret_ids, size_t *ret_n) {
        char w[WHERE_MAX];
        size_t n = 0, len;
        uint32_t *ids;

        if (!expect_type(l, where, v, json_type_array, "a list"))
                return;
        len = json_object_array_length(v);
        ids = xcalloc(len, sizeof(*ids));
        if (!ids) {
                l->oom = true;
                return;
        }
        for (size_t i = 0; i < len; i++)
                if (parse_id(l, where_index(w, where, i), json_object_array_get_idx(v, i),
                             k, &ids[n]))
                        n++;
        *ret_ids = ids;
        *ret_n = n;
}

static void parse_principals(Loader *l, const char *where, json_object *v, PolicyRule *r) {
        static const char *const keys[] = { "users", "groups", NULL };
        char w[WHERE_MAX], d[DESCRIBE_MAX];
        json_object *x;
        bool any = false;

        if (json_object_is_type(v, json_type_string) &&
            strcmp(json_object_get_string(v), "*") == 0 && json_object_get_string_len(v) == 1) {
                r->any_principal = true;
                return;
        }
        if (!json_object_is_type(v, json_type_object)) {
                loader_problem(l, where, "expected \"*\" or an object with \"users\" and/or "
                               "\"groups\", got %s", describe(v, d, sizeof(d)));
                return;
        }
        check_keys(l, where, v, keys);
        if (get_member(v, "users", &x)) {
                parse_id_list(l, where_key(w, where, "users"), x, &user_kind,
                              &r->uids, &r->n_uids);
                any = true;
        }
        if (get_member(v, "groups", &x)) {
                parse_id_list(l, where_key(w, where, "groups"), x, &group_kind,
                              &r->gids, &r->n_gids);
                any = true;
        }
        if (!any)
                loader_problem(l, where, "expected \"*\" or at least one of \"users\", \"groups\", "
                               "got an object with neither");
}

/* fnmatch() has no error for a malformed pattern: it treats an unclosed "["
 * or a trailing "\" literally, which is never what the author meant. */
static bool glob_valid(const char *g) {
        if (!*g)
                return false;
        for (const char *c = g; *c; c++) {
                if (*c == '\\') {
                        if (!*++c)
                                return false;
                } else if (*c == '[') {
                        const char *e = c + 1;

                        if (*e == '!' || *e == '^')
                                e++;
                        if (*e == ']')          /* a "]" first is a member */
                                e++;
                        e = strchr(e, ']');
                        if (!e)
                                return false;
                        c = e;
                }
        }
        return true;
}

static bool hex_digits(const char *s, size_t max_digits) {
        size_t n = strspn(s, "0123456789abcdefABCDEF");

        return n > 0 && n <= max_digits && s[n] == '\0';
}

/* vendor, device, class: a number, or a string "0x" followed by hex digits. */
static bool parse_hex_id(Loader *l, const char *where, json_object *v, uint32_t max,
                         const char *example, uint32_t *ret) {
        char expected[96], d[DESCRIBE_MAX];
        size_t max_digits = max > 0xffff ? 6 : 4;
        const char *s;
        uint64_t n;

        if (snprintf(expected, sizeof(expected),
                     "a number from 0 to 0x%x or a hex string like \"%s\"", max, example) < 0)
                return false;
        if (!json_object_is_type(v, json_type_string)) {
                if (!get_uint(l, where, v, max, expected, &n))
                        return false;
                *ret = (uint32_t)n;
                return true;
        }
        if (!get_string(l, where, v, expected, &s))
                return false;
        if ((s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) || !hex_digits(s + 2, max_digits) ||
            strtoul(s + 2, NULL, 16) > max) {
                loader_problem(l, where, "expected %s, got %s", expected,
                               describe(v, d, sizeof(d)));
                return false;
        }
        *ret = (uint32_t)strtoul(s + 2, NULL, 16);
        return true;
}

static bool parse_owned_string(Loader *l, const char *where, json_object *v, char **ret) {
        const char *s;

        if (!get_string(l, where, v, "a string", &s))
                return false;
        *ret = xstrdup(s);
        if (!*ret)
                l->oom = true;
        return *ret != NULL;
}

static void parse_address(Loader *l, const char *where, json_object *v, PolicyRule *r) {
        char d[DESCRIBE_MAX];
        const char *s;

        if (!get_string(l, where, v, "a shell glob like \"0000:00:0[23].*\"", &s))
                return;
        if (!glob_valid(s)) {
                loader_problem(l, where, "expected a shell glob like \"0000:00:0[23].*\" "
                               "(non-empty, every \"[\" closed, no \"\\\" at the end), got %s",
                               describe(v, d, sizeof(d)));
                return;
        }
        if (parse_owned_string(l, where, v, &r->address))
                r->device_match |= DEVICE_MATCH_ADDRESS;
}

static void parse_devices(Loader *l, const char *where, json_object *v, PolicyRule *r) {
        static const char *const keys[] = {
                "address", "vendor", "device", "class", "group", "driver", NULL,
        };
        char w[WHERE_MAX];
        json_object *x;
        uint32_t id;
        uint64_t n;

        if (!expect_type(l, where, v, json_type_object, "an object"))
                return;
        check_keys(l, where, v, keys);
        if (get_member(v, "address", &x))
                parse_address(l, where_key(w, where, "address"), x, r);
        if (get_member(v, "vendor", &x) &&
            parse_hex_id(l, where_key(w, where, "vendor"), x, 0xffff, "0x1b36", &id)) {
                r->vendor_id = (uint16_t)id;
                r->device_match |= DEVICE_MATCH_VENDOR;
        }
        if (get_member(v, "device", &x) &&
            parse_hex_id(l, where_key(w, where, "device"), x, 0xffff, "0x00f0", &id)) {
                r->device_id = (uint16_t)id;
                r->device_match |= DEVICE_MATCH_DEVICE;
        }
        if (get_member(v, "class", &x) &&
            parse_hex_id(l, where_key(w, where, "class"), x, 0xffffff, "0x120000", &id)) {
                r->class_code = id;
                r->device_match |= DEVICE_MATCH_CLASS;
        }
        if (get_member(v, "group", &x) &&
            get_uint(l, where_key(w, where, "group"), x, UINT32_MAX,
                     "a group number from 0 to 4294967295", &n)) {
                r->group = (uint32_t)n;
                r->device_match |= DEVICE_MATCH_GROUP;
        }
        if (get_member(v, "driver", &x) &&
            parse_owned_string(l, where_key(w, where, "driver"), x, &r->driver))
                r->device_match |= DEVICE_MATCH_DRIVER;
}

/* "512", "64K", "1G": powers of 1024. False on anything else or overflow. */
static bool parse_size(const char *s, uint64_t *ret) {
        static const char suffixes[] = "KMGT";
        uint64_t v = 0;
        unsigned shift = 0;
        const char *p;

        if (*s < '0' || *s > '9')
                return false;
        for (; *s >= '0' && *s <= '9'; s++) {
                if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
                        return false;
                v = v * 10 + (uint64_t)(*s - '0');
        }
        if (*s) {
                p = strchr(suffixes, *s >= 'a' ? *s - 'a' + 'A' : *s);
                if (!p || !*p || s[1])
                        return false;
                shift = 10 * (unsigned)(p - suffixes + 1);
        }
        if (v > (UINT64_MAX >> shift))
                return false;
        *ret = v << shift;
        return true;
}

/* One quota: a count, "unlimited", or for bytes also a size string. */
static bool parse_limit(Loader *l, const char *where, json_object *v, bool bytes,
                        uint64_t *ret) {
        const char *expected = bytes ? "a number or a size like \"512M\"" :
                                       "a number or \"unlimited\"";
        char d[DESCRIBE_MAX];
        const char *s;

        if (!json_object_is_type(v, json_type_string))
                return get_uint(l, where, v, UINT64_MAX, expected, ret);
        if (!get_string(l, where, v, expected, &s))
                return false;
        if (strcmp(s, "unlimited") == 0) {
                *ret = UINT64_MAX;
                return true;
        }
        if (bytes && parse_size(s, ret))
                return true;
        loader_problem(l, where, "expected %s, got %s%s", expected, describe(v, d, sizeof(d)),
                       bytes && all_digits(s) ? " (too large)" : "");
        return false;
}

static void parse_quota(Loader *l, const char *where, json_object *v, PolicyRule *r) {
        const char *keys[_RES_MAX + 1];
        char w[WHERE_MAX];
        json_object *x;

        if (!expect_type(l, where, v, json_type_object, "an object"))
                return;
        for (unsigned res = 0; res < _RES_MAX; res++)
                keys[res] = resource_to_string(res);
        keys[_RES_MAX] = NULL;
        check_keys(l, where, v, keys);

        for (unsigned res = 0; res < _RES_MAX; res++)
                if (get_member(v, keys[res], &x) &&
                    parse_limit(l, where_key(w, where, keys[res]), x, res == RES_BYTES,
                                &r->quota[res]))
                        r->quota_set[res] = true;
}

static void parse_fault_timeout(Loader *l, const char *where, json_object *v, PolicyRule *r) {
        char expected[64], d[DESCRIBE_MAX];
        uint64_t ms;

        if (snprintf(expected, sizeof(expected), "a number of milliseconds from 1 to %u",
                     POLICY_MAX_FAULT_TIMEOUT_MS) < 0)
                return;
        if (!get_uint(l, where, v, POLICY_MAX_FAULT_TIMEOUT_MS, expected, &ms))
                return;
        if (ms == 0) {
                loader_problem(l, where, "expected %s, got %s", expected,
                               describe(v, d, sizeof(d)));
                return;
        }
        r->fault_timeout_usec = ms * 1000;
        r->fault_timeout_set = true;
}

static void parse_rule(Loader *l, const char *where, json_object *v, PolicyRule *r) {
        static const char *const keys[] = {
                "comment", "principals", "devices", "allow", "deny", "quota",
                "fault-timeout-ms", NULL,
        };
        char w[WHERE_MAX];
        const char *s;
        json_object *x;

        if (!expect_type(l, where, v, json_type_object, "a rule (an object)"))
                return;
        check_keys(l, where, v, keys);
        if (get_member(v, "comment", &x))
                (void)get_string(l, where_key(w, where, "comment"), x, "a string", &s);
        if (get_member(v, "principals", &x))
                parse_principals(l, where_key(w, where, "principals"), x, r);
        else
                loader_problem(l, where, "missing \"principals\", expected \"*\" or an object with "
                               "\"users\" and/or \"groups\" saying whom the rule is for");
        if (get_member(v, "devices", &x))
                parse_devices(l, where_key(w, where, "devices"), x, r);
        if (get_member(v, "allow", &x))
                r->allow = parse_ops(l, where_key(w, where, "allow"), x);
        if (get_member(v, "deny", &x))
                r->deny = parse_ops(l, where_key(w, where, "deny"), x);
        if (get_member(v, "quota", &x))
                parse_quota(l, where_key(w, where, "quota"), x, r);
        if (get_member(v, "fault-timeout-ms", &x))
                parse_fault_timeout(l, where_key(w, where, "fault-timeout-ms"), x, r);
        if (!get_member(v, "allow", NULL) && !get_member(v, "deny", NULL) &&
            !get_member(v, "quota", NULL) && !get_member(v, "fault-timeout-ms", NULL))
                loader_problem(l, where, "expected at least one of \"allow\", \"deny\", \"quota\", "
                               "\"fault-timeout-ms\"; this rule does nothing");
}

static bool rules_reserve(Loader *l, size_t more) {
        PolicyRule *n;
        size_t want;

        if (l->n_rules + more <= l->n_rules_alloc)
                return true;
        want = l->n_rules + more;
        n = xrealloc(l->rules, want * sizeof(*n));
        if (!n) {
                l->oom = true;
                return false;
        }
        l->rules = n;
        l->n_rules_alloc = want;
        return true;
}

static void parse_rules(Loader *l, json_object *v) {
        char w[WHERE_MAX];
        size_t len;

        if (!expect_type(l, "rules", v, json_type_array, "a list of rules"))
                return;
        len = json_object_array_length(v);
        if (!rules_reserve(l, len))
                return;
        for (size_t i = 0; i < len; i++) {
                PolicyRule *r = &l->rules[l->n_rules++];

                memset(r, 0, sizeof(*r));
                if (asprintf(&r->origin, "%s: rules[%zu]", l->file, i) < 0) {
                        r->origin = NULL;
                        l->oom = true;
                        return;
                }
                parse_rule(l, where_index(w, "rules", i), json_object_array_get_idx(v, i), r);
        }
}

static void parse_document(Loader *l, json_object *doc) {
        static const char *const keys[] = { "comment", "rules", NULL };
        char w[WHERE_MAX];
        const char *s;
        json_object *x;

        if (!expect_type(l, NULL, doc, json_type_object,
                         "a JSON object with a list of \"rules\""))
                return;
        check_keys(l, NULL, doc, keys);
        if (get_member(doc, "comment", &x))
                (void)get_string(l, where_key(w, NULL, "comment"), x, "a string", &s);
        if (get_member(doc, "rules", &x))
                parse_rules(l, x);
        else
                loader_problem(l, NULL, "missing \"rules\", "
                               "expected a JSON object with a list of \"rules\"");
}

/* Parses text (size bytes followed by a NUL) as strict JSON. Returns false
 * after reporting a syntax error; *ret may be NULL for the literal null. */
static bool parse_json(Loader *l, const char *text, size_t size, json_object **ret) {
        enum json_tokener_error e;
        json_tokener *tok;
        json_object *doc;
        unsigned line = 1, col = 1;
        char w[WHERE_MAX];
        size_t end;

        tok = json_tokener_new_ex(JSON_DEPTH_MAX);
        if (!tok) {
                l->oom = true;
                return false;
        }
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
        /* Passing the NUL too lets a bare number at the top end cleanly. */
        doc = json_tokener_parse_ex(tok, text, (int)size + 1);
        e = json_tokener_get_error(tok);
        end = json_tokener_get_parse_end(tok);
        json_tokener_free(tok);
        if (e == json_tokener_success) {
                *ret = doc;
                return true;
        }
        for (size_t i = 0; i < end && i < size; i++, col++)
                if (text[i] == '\n') {
                        line++;
                        col = 0;
                }
        if (snprintf(w, sizeof(w), "line %u, column %u", line, col) < 0)
                w[0] = '\0';
        if (e == json_tokener_continue || end >= size)
                loader_problem(l, w, "expected more JSON, got the end of the file");
        else
                loader_problem(l, w, "expected valid JSON, got a syntax error (%s)",
                               json_tokener_error_desc(e));
        return false;
}

/* One file's text: strict JSON, then the document's rules. */
void policy_parse_text(Loader *l, const char *text, size_t size) {
        json_object *doc = NULL;
        const char *nul;

        nul = memchr(text, '\0', size);
        if (nul)
                loader_problem(l, NULL, "expected JSON text, got a NUL byte at offset %zu",
                               (size_t)(nul - text));
        else if (strspn(text, " \t\r\n") == size)
                loader_problem(l, NULL, "expected a JSON object with a list of \"rules\", "
                               "got an empty file");
        else if (parse_json(l, text, size, &doc)) {
                parse_document(l, doc);
                json_object_put(doc);
        }
}
