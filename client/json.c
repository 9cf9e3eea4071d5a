/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* json.c - iommuctl's JSON writer on json-c: a stack of open containers and a pending key */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "json.h"

void json_init(Json *j, FILE *f) {
        *j = (Json) { .f = f };
}

void json_set_pretty(Json *j, bool pretty) {
        j->pretty = pretty;
}

void json_done(Json *j) {
        /* each open container below the root holds one extra reference, see json_open() */
        while (j->depth > 1)
                json_object_put(j->stack[--j->depth]);
        if (j->depth > 0)
                json_object_put(j->stack[0]);   /* the root owns everything under it */
        j->depth = 0;
        j->key = mfree(j->key);
}

/* Prints a completed outermost value, and frees it. */
static void json_print(Json *j, json_object *o) {
        int flags = JSON_C_TO_STRING_NOSLASHESCAPE |
                (j->pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED : JSON_C_TO_STRING_PLAIN);
        const char *s = json_object_to_json_string_ext(o, flags);

        if (s)
                fputs(s, j->f);
        else
                j->error = -ENOMEM;
        json_object_put(o);
}

/*
 * Puts a new value where it belongs: into the open object under the pending
 * key, at the end of the open array, or, at the top, printed. Takes o.
 * A NULL o is JSON null, which json-c represents that way.
 */
static void json_place(Json *j, json_object *o, bool ok) {
        json_object *parent;

        if (!ok) {
                j->error = -ENOMEM;
                return;
        }
        if (j->depth == 0) {
                if (o)
                        json_print(j, o);
                else
                        fputs("null", j->f);
                return;
        }
        parent = j->stack[j->depth - 1];
        if (json_object_is_type(parent, json_type_object)) {
                assert(j->key);         /* a value in an object needs its key first */
                if (json_object_object_add(parent, j->key, o) < 0) {
                        j->error = -ENOMEM;
                        json_object_put(o);
                }
                j->key = mfree(j->key);
        } else if (json_object_array_add(parent, o) < 0) {
                j->error = -ENOMEM;
                json_object_put(o);
        }
}

static void json_open(Json *j, json_object *o) {
        assert(j->depth < JSON_MAX_DEPTH);
        if (!o) {
                j->error = -ENOMEM;
                o = json_object_new_array();    /* keeps the nesting right; freed with the rest */
                assert(o);
        }
        /* placed at once (its parent owns it), printed when closed if it is the root */
        if (j->depth > 0)
                json_place(j, json_object_get(o), true);
        j->stack[j->depth++] = o;
}

static void json_close(Json *j) {
        json_object *o;

        assert(j->depth > 0);
        o = j->stack[--j->depth];
        if (j->depth == 0)
                json_print(j, o);
        else
                json_object_put(o);     /* the reference json_open() kept; the parent has one */
}

void json_begin_object(Json *j) {
        json_open(j, json_object_new_object());
}

void json_end_object(Json *j) {
        json_close(j);
}

void json_begin_array(Json *j) {
        json_open(j, json_object_new_array());
}

void json_end_array(Json *j) {
        json_close(j);
}

void json_key(Json *j, const char *key) {
        free(j->key);
        j->key = strdup(key);
        if (!j->key) {
                j->error = -ENOMEM;
                j->key = strdup("");
                assert(j->key);
        }
}

void json_string(Json *j, const char *s) {
        json_object *o = json_object_new_string(s ? s : "");

        json_place(j, o, o);
}

void json_uint(Json *j, uint64_t v) {
        json_object *o = json_object_new_uint64(v);

        json_place(j, o, o);
}

void json_int(Json *j, int64_t v) {
        json_object *o = json_object_new_int64(v);

        json_place(j, o, o);
}

void json_double(Json *j, double v) {
        json_object *o;

        if (!isfinite(v)) {     /* JSON has no NaN or infinity */
                json_null(j);
                return;
        }
        o = json_object_new_double(v);
        json_place(j, o, o);
}

void json_boolean(Json *j, bool v) {
        json_object *o = json_object_new_boolean(v);

        json_place(j, o, o);
}

void json_null(Json *j) {
        json_place(j, NULL, true);
}

int json_finish(Json *j) {
        assert(j->depth == 0);
        fputc('\n', j->f);
        if (fflush(j->f) != 0)
                return -errno;
        return j->error;
}

void json_pair_string(Json *j, const char *key, const char *s) {
        json_key(j, key);
        json_string(j, s);
}

void json_pair_string_or_null(Json *j, const char *key, const char *s) {
        json_key(j, key);
        if (s && *s)
                json_string(j, s);
        else
                json_null(j);
}

void json_pair_uint(Json *j, const char *key, uint64_t v) {
        json_key(j, key);
        json_uint(j, v);
}

void json_pair_bool(Json *j, const char *key, bool v) {
        json_key(j, key);
        json_boolean(j, v);
}

char *json_key_from_camel(const char *name) {
        size_t n = strlen(name);
        char *key = malloc(2 * n + 1), *p = key;

        if (!key)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)name[i];

                /* a capital starts a word, except inside a run of capitals ("PASID") */
                if (isupper(c) && i > 0 &&
                    (islower((unsigned char)name[i - 1]) ||
                     (i + 1 < n && islower((unsigned char)name[i + 1]) &&
                      isupper((unsigned char)name[i - 1]))))
                        *p++ = '_';
                *p++ = (char)tolower(c);
        }
        *p = 0;
        return key;
}
