/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* utf8.h - keeping text that goes on the bus valid UTF-8 when it is cut or echoed */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * The length (1 to 4) of the valid UTF-8 character at the start of s, of
 * which n bytes are available; 0 if s does not start with one: a stray
 * continuation byte, an overlong form, a surrogate, a code point beyond
 * U+10FFFF, a character cut short by n, or n == 0. The rules are those
 * D-Bus (and so sd-bus) applies to every string it sends.
 */
size_t utf8_char_len(const char *s, size_t n);

/* The length of the longest prefix of s (n bytes) that is valid UTF-8:
 * where a buffer may be cut without splitting or keeping a bad character. */
size_t utf8_valid_prefix(const char *s, size_t n);

/*
 * Makes the NUL-terminated text in buf (size bytes, size >= 4) fit to send:
 * it is cut before its first byte that is not part of a complete, valid
 * character, and when it was cut there or the caller says it was already
 * cut short (`truncated`: vsnprintf() returned size or more), it ends in
 * "..." so the reader sees that something is missing. Returns its length.
 */
size_t utf8_cut(char *buf, size_t size, bool truncated);
