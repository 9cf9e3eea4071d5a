/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* string-util.h - small checks of strings that more than one parser makes */
#pragma once

#include <stdbool.h>

/* True if s is one or more ASCII decimal digits and nothing else (no sign, no blanks). */
bool all_digits(const char *s);
