/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* json.c - a minimal streaming JSON writer: string escaping and comma bookkeeping */
#include <assert.h>
#include <inttypes.h>
#include <math.h>

#include "json.h"

void json_init(Json *j, FILE *f) {
        *j = (Json) { .f = f };
}

/*
 * Escapes per RFC 8259: quote, backslash and control characters. Strings
 * from D-Bus are valid UTF-8 already, so other bytes pass through as they are.
 */
void json_escape(FILE *f, const char *s) {
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
                switch (*p) {
                case '"':
                        fputs("\\\"", f);
                        break;
                case '\\':
                        fputs("\\\\", f);
                        break;
                case '\n':
                        fputs("\\n", f);
                        break;
                case '\r':
                        fputs("\\r", f);
                        break;
                case '\t':
                        fputs("\\t", f);
                        break;
                case '\b':
                        fputs("\\b", f);
                        break;
                case '\f':
                        fputs("\\f", f);
                        break;
                default:
                        if (*p < 0x20 || *p == 0x7f)
                                fprintf(f, "\\u%04x", *p);
                        else
                                fputc(*p, f);
                }
        }
        fputc('"', f);
}

/* Called before every value and key: writes the comma a sibling needs. */
static void json_separate(Json *j) {
        if (j->after_key) {
                j->after_key = false;
                return;
        }
        if (j->need_comma[j->depth])
                fputc(',', j->f);
        j->need_comma[j->depth] = true;
}

static void json_open(Json *j, char c) {
        json_separate(j);
        assert(j->depth < JSON_MAX_DEPTH);
        fputc(c, j->f);
        j->depth++;
        j->need_comma[j->depth] = false;
}

static void json_close(Json *j, char c) {
        assert(j->depth > 0);
        j->depth--;
        fputc(c, j->f);
}

void json_begin_object(Json *j) {
        json_open(j, '{');
}

void json_end_object(Json *j) {
        json_close(j, '}');
}

void json_begin_array(Json *j) {
        json_open(j, '[');
}

void json_end_array(Json *j) {
        json_close(j, ']');
}

void json_key(Json *j, const char *key) {
        json_separate(j);
        json_escape(j->f, key);
        fputc(':', j->f);
        j->after_key = true;
}

void json_string(Json *j, const char *s) {
        json_separate(j);
        json_escape(j->f, s ? s : "");
}

void json_uint(Json *j, uint64_t v) {
        json_separate(j);
        fprintf(j->f, "%" PRIu64, v);
}

void json_int(Json *j, int64_t v) {
        json_separate(j);
        fprintf(j->f, "%" PRIi64, v);
}

void json_double(Json *j, double v) {
        json_separate(j);
        if (isfinite(v))
                fprintf(j->f, "%.17g", v);
        else
                fputs("null", j->f);    /* JSON has no NaN or infinity */
}

void json_bool(Json *j, bool v) {
        json_separate(j);
        fputs(v ? "true" : "false", j->f);
}

void json_null(Json *j) {
        json_separate(j);
        fputs("null", j->f);
}

int json_finish(Json *j) {
        assert(j->depth == 0);
        fputc('\n', j->f);
        return fflush(j->f) == 0 ? 0 : -1;
}

void json_pair_string(Json *j, const char *key, const char *s) {
        json_key(j, key);
        json_string(j, s);
}

void json_pair_uint(Json *j, const char *key, uint64_t v) {
        json_key(j, key);
        json_uint(j, v);
}

void json_pair_bool(Json *j, const char *key, bool v) {
        json_key(j, key);
        json_bool(j, v);
}
