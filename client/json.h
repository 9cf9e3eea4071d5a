/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* json.h - iommuctl's JSON writer: values built as json-c objects, printed when complete */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 8

struct json_object;

/*
 * Builds one JSON document with json-c as calls arrive and prints it to f
 * when its outermost value is complete (a scalar at once, a container when
 * it is closed). json-c does the escaping and the number formatting.
 * Nesting deeper than JSON_MAX_DEPTH is a programming error and is caught by
 * an assertion; iommuctl needs four levels at most. The Json owns the
 * document being built until it is printed; json_done() frees what is left
 * of one given up half-way.
 */
typedef struct Json {
        FILE *f;
        bool pretty;            /* indented over several lines, else one line */
        unsigned depth;
        struct json_object *stack[JSON_MAX_DEPTH];      /* the open containers */
        char *key;              /* the member name for the next value, in an object */
        int error;              /* 0, or -ENOMEM once a value could not be made */
} Json;

void json_init(Json *j, FILE *f);
void json_set_pretty(Json *j, bool pretty);
void json_done(Json *j);

void json_begin_object(Json *j);
void json_end_object(Json *j);
void json_begin_array(Json *j);
void json_end_array(Json *j);
void json_key(Json *j, const char *key);

void json_string(Json *j, const char *s);
void json_uint(Json *j, uint64_t v);
void json_int(Json *j, int64_t v);
void json_double(Json *j, double v);
void json_boolean(Json *j, bool v);
void json_null(Json *j);

/* Ends the document with a newline (one document per line) and flushes. */
int json_finish(Json *j);

/* Shorthands for "key": value pairs. */
void json_pair_string(Json *j, const char *key, const char *s);
void json_pair_string_or_null(Json *j, const char *key, const char *s);  /* "" or NULL: null */
void json_pair_uint(Json *j, const char *key, uint64_t v);
void json_pair_bool(Json *j, const char *key, bool v);

/* "FaultsTimedOut" -> "faults_timed_out": D-Bus names as JSON keys. Returns NULL on ENOMEM. */
char *json_key_from_camel(const char *name);
