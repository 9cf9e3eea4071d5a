/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* table.c - aligned text tables for people: cells are strings, columns padded */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "table.h"

struct Table {
        unsigned n_columns;
        char **cells;           /* headers first, then rows, row-major */
        size_t n_cells;
        size_t allocated;
};

Table *table_new(unsigned n_columns, const char *const *headers) {
        Table *t;

        t = calloc(1, sizeof(*t));
        if (!t)
                return NULL;
        t->n_columns = n_columns;
        for (unsigned i = 0; i < n_columns; i++)
                if (table_add(t, headers[i]) < 0)
                        return table_free(t);
        return t;
}

Table *table_free(Table *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n_cells; i++)
                free(t->cells[i]);
        free(t->cells);
        return mfree(t);
}

static int table_push(Table *t, char *s) {
        if (t->n_cells == t->allocated) {
                size_t n = t->allocated ? t->allocated * 2 : 32;
                char **c;

                if (n > SIZE_MAX / sizeof(char *))
                        return -ENOMEM;
                c = realloc(t->cells, n * sizeof(char *));
                if (!c)
                        return -ENOMEM;
                t->cells = c;
                t->allocated = n;
        }
        t->cells[t->n_cells++] = s;
        return 0;
}

int table_add(Table *t, const char *s) {
        char *copy;

        copy = strdup(s && *s ? s : "-");
        if (!copy)
                return -ENOMEM;
        if (table_push(t, copy) < 0) {
                free(copy);
                return -ENOMEM;
        }
        return 0;
}

int table_addf(Table *t, const char *fmt, ...) {
        char *s = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        r = table_add(t, s);
        free(s);
        return r;
}

/* Display width: counts UTF-8 code points, not bytes. */
static size_t text_width(const char *s) {
        size_t w = 0;

        for (; *s; s++)
                if (((unsigned char)*s & 0xc0) != 0x80)
                        w++;
        return w;
}

static void print_row(const Table *t, FILE *f, size_t row, const size_t *width) {
        for (unsigned c = 0; c < t->n_columns; c++) {
                const char *s = t->cells[row * t->n_columns + c];

                fputs(s, f);
                if (c + 1 == t->n_columns)
                        break;  /* no trailing blanks */
                for (size_t w = text_width(s); w < width[c] + 2; w++)
                        fputc(' ', f);
        }
        fputc('\n', f);
}

int table_print(const Table *t, FILE *f, bool legend) {
        size_t rows = t->n_cells / t->n_columns;
        _cleanup_(freep) size_t *width = NULL;

        width = calloc(t->n_columns, sizeof(size_t));
        if (!width)
                return -ENOMEM;
        for (size_t r = legend ? 0 : 1; r < rows; r++)
                for (unsigned c = 0; c < t->n_columns; c++) {
                        size_t w = text_width(t->cells[r * t->n_columns + c]);

                        if (w > width[c])
                                width[c] = w;
                }

        for (size_t r = legend ? 0 : 1; r < rows; r++)
                print_row(t, f, r, width);
        return fflush(f) == 0 ? 0 : -errno;
}
