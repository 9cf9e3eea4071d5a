/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* strv.h - NULL-terminated vectors of owned strings (sd-bus enumerators, "as" properties) */
#pragma once

#include "common/macro.h"

/*
 * A strv owns its array and every string in it; NULL is the empty vector.
 * sd_bus_message_read_strv() and sd-bus enumerators use the same shape, so
 * their vectors are freed with strv_free() too.
 */
char **strv_free(char **l);
DEFINE_POINTER_CLEANUP(char *, strv_free)

/* Appends s, taking ownership of it (freed on failure too). 0 or -ENOMEM. */
int strv_consume(char ***l, char *s);

/* The strings with sep between them, newly allocated ("" for none); NULL on OOM. */
char *strv_join(char **l, const char *sep);
