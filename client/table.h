/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* table.h - aligned text tables for people */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "common/macro.h"

typedef struct Table Table;

/* headers: n_columns strings, copied. Returns NULL when out of memory. */
Table *table_new(unsigned n_columns, const char *const *headers);
Table *table_free(Table *t);
DEFINE_POINTER_CLEANUP(Table, table_free)

/* Appends one cell; rows wrap after n_columns cells. NULL or "" prints "-". */
int table_add(Table *t, const char *s);
int table_addf(Table *t, const char *fmt, ...) _attribute_printf_(2, 3);

/* Prints the header line (when legend is true) and every complete row. */
int table_print(const Table *t, FILE *f, bool legend);
