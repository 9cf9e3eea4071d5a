/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* table.h - tables for people: cells as strings, laid out by libsmartcols */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "common/macro.h"

typedef struct Table Table;

/*
 * columns: a NULL-terminated list of column names (copied); the first
 * n_default of them are shown unless table_select() picks others.
 * Returns NULL when out of memory.
 */
Table *table_new(const char *const *columns, unsigned n_default);
Table *table_free(Table *t);
DEFINE_POINTER_CLEANUP(Table, table_free)

/* Appends one cell; rows wrap after as many cells as there are columns. NULL or "" prints "-". */
int table_add(Table *t, const char *s);
int table_addf(Table *t, const char *fmt, ...) _attribute_printf_(2, 3);

/* The number of complete rows added. */
size_t table_rows(const Table *t);

/*
 * Shows these columns, in this order: "DEVICE,GROUP" (names as in columns,
 * any case). -EINVAL with *ret_bad at the unknown name (in spec) if one is.
 */
int table_select(Table *t, const char *spec, const char **ret_bad);

/* Checks spec against columns without a table; returns the length of the bad name, or 0. */
size_t columns_check(const char *const *columns, const char *spec, const char **ret_bad);

/* Prints the header line (when legend is true) and every complete row. */
int table_print(const Table *t, FILE *f, bool legend);
