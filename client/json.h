/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* json.h - a minimal streaming JSON writer for iommuctl --json */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 8

/*
 * Writes one JSON document to a FILE as calls arrive, inserting the commas
 * itself. Nesting deeper than JSON_MAX_DEPTH is a programming error and is
 * caught by an assertion; iommuctl needs three levels at most.
 */
typedef struct Json {
        FILE *f;
        unsigned depth;
        bool after_key;
        bool need_comma[JSON_MAX_DEPTH + 1];
} Json;

void json_init(Json *j, FILE *f);
void json_escape(FILE *f, const char *s);

void json_begin_object(Json *j);
void json_end_object(Json *j);
void json_begin_array(Json *j);
void json_end_array(Json *j);
void json_key(Json *j, const char *key);

void json_string(Json *j, const char *s);
void json_uint(Json *j, uint64_t v);
void json_int(Json *j, int64_t v);
void json_double(Json *j, double v);
void json_bool(Json *j, bool v);
void json_null(Json *j);

/* Ends the document with a newline (one document per line) and flushes. */
int json_finish(Json *j);

/* Shorthands for "key": value pairs. */
void json_pair_string(Json *j, const char *key, const char *s);
void json_pair_uint(Json *j, const char *key, uint64_t v);
void json_pair_bool(Json *j, const char *key, bool v);
