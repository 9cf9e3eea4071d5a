/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* table.c - tables for people: cells collected here, laid out and printed by libsmartcols */
#include <errno.h>
#include <libsmartcols.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "table.h"

struct Table {
        char **names;           /* the columns, NULL-terminated */
        unsigned n_columns;
        unsigned *shown;        /* indexes into names, in the order printed */
        unsigned n_shown;
        char **cells;           /* row-major; owned */
        size_t n_cells;
        size_t allocated;
};

Table *table_new(const char *const *columns, unsigned n_default) {
        Table *t;

        t = calloc(1, sizeof(*t));
        if (!t)
                return NULL;
        while (columns[t->n_columns])
                t->n_columns++;
        t->names = calloc(t->n_columns + 1, sizeof(char *));
        t->shown = calloc(t->n_columns, sizeof(unsigned));
        if (!t->names || !t->shown)
                return table_free(t);
        for (unsigned i = 0; i < t->n_columns; i++)
                if (!(t->names[i] = strdup(columns[i])))
                        return table_free(t);
        t->n_shown = n_default < t->n_columns ? n_default : t->n_columns;
        for (unsigned i = 0; i < t->n_shown; i++)
                t->shown[i] = i;
        return t;
}

Table *table_free(Table *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n_cells; i++)
                free(t->cells[i]);
        free(t->cells);
        for (unsigned i = 0; t->names && i < t->n_columns; i++)
                free(t->names[i]);
        free(t->names);
        free(t->shown);
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

size_t table_rows(const Table *t) {
        return t->n_columns ? t->n_cells / t->n_columns : 0;
}

/* The index of the column named by the len bytes at name, or -1. */
static int column_index(const char *const *columns, const char *name, size_t len) {
        for (int i = 0; columns[i]; i++)
                if (strlen(columns[i]) == len && strncasecmp(columns[i], name, len) == 0)
                        return i;
        return -1;
}

size_t columns_check(const char *const *columns, const char *spec, const char **ret_bad) {
        for (const char *p = spec;; p++) {
                size_t len = strcspn(p, ",");

                if (column_index(columns, p, len) < 0) {
                        *ret_bad = p;
                        return len ? len : 1;   /* an empty name is bad too */
                }
                p += len;
                if (!*p)
                        return 0;
        }
}

int table_select(Table *t, const char *spec, const char **ret_bad) {
        unsigned n = 0;

        if (columns_check((const char *const *)t->names, spec, ret_bad) > 0)
                return -EINVAL;
        for (const char *p = spec; n < t->n_columns; p++) {
                size_t len = strcspn(p, ",");

                t->shown[n++] = (unsigned)column_index((const char *const *)t->names, p, len);
                p += len;
                if (!*p)
                        break;
        }
        t->n_shown = n;
        return 0;
}

/* A libsmartcols table of the shown columns, filled with the cells. */
static struct libscols_table *build_scols(const Table *t, bool legend) {
        struct libscols_table *tb = scols_new_table();
        size_t rows = table_rows(t);

        if (!tb)
                return NULL;
        /* two blanks between columns, as iommuctl always printed, and no header when asked */
        if (scols_table_set_column_separator(tb, "  ") < 0 ||
            scols_table_enable_noheadings(tb, !legend) < 0)
                goto fail;
        for (unsigned c = 0; c < t->n_shown; c++)
                if (!scols_table_new_column(tb, t->names[t->shown[c]], 0, 0))
                        goto fail;
        for (size_t r = 0; r < rows; r++) {
                struct libscols_line *line = scols_table_new_line(tb, NULL);

                if (!line)
                        goto fail;
                for (unsigned c = 0; c < t->n_shown; c++)
                        if (scols_line_set_data(line, c,
                                                t->cells[r * t->n_columns + t->shown[c]]) < 0)
                                goto fail;
        }
        return tb;
fail:
        scols_unref_table(tb);
        return NULL;
}

int table_print(const Table *t, FILE *f, bool legend) {
        struct libscols_table *tb = build_scols(t, legend);
        int r;

        if (!tb)
                return -ENOMEM;
        r = scols_table_set_stream(tb, f);
        if (r >= 0)
                r = scols_print_table(tb);
        scols_unref_table(tb);
        if (r < 0)
                return r;
        return fflush(f) == 0 ? 0 : -errno;
}
