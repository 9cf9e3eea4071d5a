/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* path.h - building file names into fixed buffers without silently cutting them */
#pragma once

#include <stddef.h>

#include "common/macro.h"

/*
 * Formats into buf like snprintf(), but a result that does not fit is an
 * error (-ENAMETOOLONG, buf then holds ""), never a shorter name that opens
 * some other file. Returns 0 on success.
 */
_attribute_printf_(3, 4) _warn_unused_result_
int path_printf(char *buf, size_t size, const char *fmt, ...);
