/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* policy-parse.h - one policy_load() in progress: shared by the file reader and the JSON parser */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "common/macro.h"
#include "policy-internal.h"

/*
 * The state of one policy_load(). Problems are collected, not returned, so
 * that one load reports all of them; the rules are built even when a
 * problem was found (and then thrown away), which keeps every parser simple.
 */
typedef struct Loader {
        const char *file;               /* borrowed: the file being read, for messages */
        PolicyRule *rules;              /* owned until handed to the Policy */
        size_t n_rules, n_rules_alloc;
        unsigned n_files;
        char *errors;                   /* owned: the problems, '\n' between them */
        size_t errors_len;
        unsigned n_errors;
        bool oom;
} Loader;

/*
 * policy-load.c: records "FILE: WHERE: message" (or "FILE: message" when
 * where is NULL) for l->file, and counts it; out of memory sets l->oom.
 */
_attribute_printf_(3, 4)
void loader_problem(Loader *l, const char *where, const char *fmt, ...);

/*
 * policy-parse.c: the text of l->file (size bytes, then a NUL) as a policy
 * document; appends its rules to l, and reports its problems to l.
 */
void policy_parse_text(Loader *l, const char *text, size_t size);
