/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* properties.c - reading D-Bus properties into C variables, and any value as JSON */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "iommuctl.h"

/* Storage for sd_bus_message_read_basic() of any basic type. */
typedef union BasicValue {
        uint8_t y;
        int b;
        int16_t n;
        uint16_t q;
        int32_t i;
        uint32_t u;
        int64_t x;
        uint64_t t;
        double d;
        const char *s;
        int h;
} BasicValue;

/* Reads the value inside the entered variant into the property's variable. */
static int read_property(sd_bus_message *m, const Property *p) {
        const PropertyParser *parser;
        int r, b;

        switch (p->signature[0]) {
        case 's':
        case 'o':
                return sd_bus_message_read_basic(m, p->signature[0], p->ret);
        case 'u':
                return sd_bus_message_read_basic(m, 'u', p->ret);
        case 'q':
                return sd_bus_message_read_basic(m, 'q', p->ret);
        case 't':
                return sd_bus_message_read_basic(m, 't', p->ret);
        case 'b':
                r = sd_bus_message_read_basic(m, 'b', &b);
                if (r >= 0)
                        *(bool *)p->ret = b;
                return r;
        case 'a':
                if (strcmp(p->signature, "as") != 0)
                        break;
                *(char ***)p->ret = strv_free(*(char ***)p->ret);
                return sd_bus_message_read_strv(m, p->ret);
        default:
                break;
        }
        parser = p->ret;
        return parser->parse(m, parser->userdata);
}

/*
 * Inside an entered array of dict entries (contents such as "{sv}"): calls
 * fn in each entry, which reads or skips all of it. Returns the first error,
 * else >= 0 after the last entry.
 */
int bus_for_each_entry(sd_bus_message *m, const char *contents, BusEntryFn fn, void *userdata) {
        char entry[256];
        size_t len = strlen(contents);
        int r;

        if (len < 2 || len - 2 >= sizeof(entry))
                return -EINVAL;
        memcpy(entry, contents + 1, len - 2);           /* "{sv}" -> "sv" */
        entry[len - 2] = 0;

        while ((r = sd_bus_message_enter_container(m, 'e', entry)) > 0) {
                r = fn(m, userdata);
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        return r;
}

/* The array of dict entries at m's position, as bus_for_each_entry(); then leaves it. */
int bus_read_dict(sd_bus_message *m, const char *contents, BusEntryFn fn, void *userdata) {
        int r;

        r = sd_bus_message_enter_container(m, 'a', contents);
        if (r < 0)
                return r;
        r = bus_for_each_entry(m, contents, fn, userdata);
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

/* What bus_read_properties() stores: the properties asked for, of one object. */
typedef struct PropertyTable {
        const char *path;       /* for warnings */
        const Property *props;
        size_t n_props;
} PropertyTable;

/* One "sv" entry of an a{sv}: stored if it is asked for, else skipped. */
static int read_entry(sd_bus_message *m, void *userdata) {
        const PropertyTable *t = userdata;
        const char *name, *contents;
        int r;

        r = sd_bus_message_read_basic(m, 's', &name);
        if (r < 0)
                return r;
        r = sd_bus_message_peek_type(m, NULL, &contents);
        if (r < 0)
                return r;

        for (size_t i = 0; i < t->n_props; i++) {
                const Property *p = &t->props[i];

                if (strcmp(p->name, name) != 0)
                        continue;
                if (strcmp(p->signature, contents) != 0) {
                        fprintf(stderr, "iommuctl: warning: %s property %s has type '%s', "
                                "expected '%s'; ignoring it\n",
                                t->path, name, contents, p->signature);
                        break;
                }
                r = sd_bus_message_enter_container(m, 'v', contents);
                if (r < 0)
                        return r;
                r = read_property(m, p);
                if (r < 0)
                        return r;
                return sd_bus_message_exit_container(m);
        }
        return sd_bus_message_skip(m, "v");
}

/*
 * Reads an a{sv} of properties at the current position of m, storing those
 * named in props; others are skipped, and missing ones keep what the caller
 * put in. Strings point into m; "as" is allocated.
 */
int bus_read_properties(sd_bus_message *m, const char *path,
                        const Property *props, size_t n_props) {
        PropertyTable t = { .path = path, .props = props, .n_props = n_props };

        return bus_read_dict(m, "{sv}", read_entry, &t);
}

/*
 * Calls GetAll and stores the properties named in props, as
 * bus_read_properties() does; the caller keeps *ret_reply while it uses
 * the strings. On a bus error returns < 0 with error set; reply parse
 * errors set no error.
 */
int bus_get_properties(sd_bus *bus, const char *path, const char *iface,
                       const Property *props, size_t n_props,
                       sd_bus_message **ret_reply, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_call_method(bus, IOMMUD_BUS_NAME, path, "org.freedesktop.DBus.Properties",
                               "GetAll", error, &reply, "s", iface);
        if (r < 0)
                return r;
        r = bus_read_properties(reply, path, props, n_props);
        if (r < 0)
                return r;
        *ret_reply = TAKE_PTR(reply);
        return 0;
}

static int emit_basic(sd_bus_message *m, char type, Json *j) {
        BasicValue v;
        int r;

        r = sd_bus_message_read_basic(m, type, &v);
        if (r < 0)
                return r;
        switch (type) {
        case 'y': json_uint(j, v.y); break;
        case 'b': json_boolean(j, v.b); break;
        case 'n': json_int(j, v.n); break;
        case 'q': json_uint(j, v.q); break;
        case 'i': json_int(j, v.i); break;
        case 'u': json_uint(j, v.u); break;
        case 'x': json_int(j, v.x); break;
        case 't': json_uint(j, v.t); break;
        case 'd': json_double(j, v.d); break;
        case 'h': json_int(j, v.h); break;
        default: json_string(j, v.s); break;    /* s, o, g */
        }
        return 0;
}

/* Reads a dict key (any basic type) as text: JSON object keys are strings. */
static int read_key(sd_bus_message *m, char type, char *buf, size_t size, const char **ret) {
        BasicValue v;
        int r;

        r = sd_bus_message_read_basic(m, type, &v);
        if (r < 0)
                return r;
        switch (type) {
        case 's': case 'o': case 'g': *ret = v.s; return 0;
        case 'y': snprintf(buf, size, "%u", v.y); break;
        case 'b': snprintf(buf, size, "%s", v.b ? "true" : "false"); break;
        case 'n': snprintf(buf, size, "%d", v.n); break;
        case 'q': snprintf(buf, size, "%u", v.q); break;
        case 'i': case 'h': snprintf(buf, size, "%d", v.i); break;
        case 'u': snprintf(buf, size, "%u", v.u); break;
        case 'x': snprintf(buf, size, "%lld", (long long)v.x); break;
        case 't': snprintf(buf, size, "%llu", (unsigned long long)v.t); break;
        default: snprintf(buf, size, "%g", v.d); break;
        }
        *ret = buf;
        return 0;
}

/* "OwnerUid": a D-Bus member name, not an interface name or data. */
static bool is_property_name(const char *key) {
        if (!isupper((unsigned char)key[0]))
                return false;
        for (const char *p = key; *p; p++)
                if (!isalnum((unsigned char)*p))
                        return false;
        return true;
}

/* One dict entry as a JSON member: its key as text, its value as JSON. */
static int emit_entry(sd_bus_message *m, void *userdata) {
        Json *j = userdata;
        const char *key;
        char type, buf[64];
        int r;

        r = sd_bus_message_peek_type(m, &type, NULL);
        if (r <= 0)
                return r < 0 ? r : -EBADMSG;
        r = read_key(m, type, buf, sizeof(buf), &key);
        if (r < 0)
                return r;
        if (is_property_name(key)) {
                /* "OwnerUid" -> "owner_uid": JSON keys are snake_case, D-Bus names are not */
                _cleanup_(freep) char *snake = json_key_from_camel(key);

                if (!snake)
                        return -ENOMEM;
                json_key(j, snake);
        } else
                json_key(j, key);       /* an interface name, or data */
        return emit_value(m, j);
}

/* An array of dict entries becomes an object. */
static int emit_dict(sd_bus_message *m, const char *contents, Json *j) {
        int r;

        json_begin_object(j);
        r = bus_for_each_entry(m, contents, emit_entry, j);
        if (r < 0)
                return r;
        json_end_object(j);
        return 0;
}

static int emit_container(sd_bus_message *m, char type, const char *contents, Json *j) {
        int r;

        r = sd_bus_message_enter_container(m, type, contents);
        if (r < 0)
                return r;
        if (type == 'a' && contents[0] == '{')
                r = emit_dict(m, contents, j);
        else if (type == 'v')
                r = emit_value(m, j);
        else {
                json_begin_array(j);    /* arrays and structs alike */
                while ((r = emit_value(m, j)) > 0)
                        ;
                json_end_array(j);
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

/* Writes the next complete value of m as JSON. Returns 0 at the end of a container. */
int emit_value(sd_bus_message *m, Json *j) {
        const char *contents;
        char type;
        int r;

        r = sd_bus_message_peek_type(m, &type, &contents);
        if (r <= 0)
                return r;
        if (contents)
                r = emit_container(m, type, contents, j);
        else
                r = emit_basic(m, type, j);
        return r < 0 ? r : 1;
}
