/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* utf8.c - keeping text that goes on the bus valid UTF-8 when it is cut or echoed */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "common/utf8.h"

static inline bool is_continuation(unsigned char c) {
        return (c & 0xc0) == 0x80;
}

size_t utf8_char_len(const char *s, size_t n) {
        const unsigned char *u = (const unsigned char *)s;
        uint32_t cp, min;
        size_t len;

        if (n == 0)
                return 0;
        if (u[0] < 0x80)
                return 1;
        if ((u[0] & 0xe0) == 0xc0) {
                len = 2, cp = u[0] & 0x1f, min = 0x80;
        } else if ((u[0] & 0xf0) == 0xe0) {
                len = 3, cp = u[0] & 0x0f, min = 0x800;
        } else if ((u[0] & 0xf8) == 0xf0) {
                len = 4, cp = u[0] & 0x07, min = 0x10000;
        } else
                return 0;               /* a continuation byte, or 0xf8..0xff */
        if (len > n)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if (!is_continuation(u[i]))
                        return 0;
                cp = cp << 6 | (u[i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return len;
}

size_t utf8_valid_prefix(const char *s, size_t n) {
        size_t i = 0, len;

        while (i < n && (len = utf8_char_len(s + i, n - i)) > 0)
                i += len;
        return i;
}

size_t utf8_cut(char *buf, size_t size, bool truncated) {
        size_t n = strlen(buf), valid = utf8_valid_prefix(buf, n);

        if (valid == n && !truncated)
                return n;
        /* Room for "..." and the NUL; a shorter cut is again on a boundary. */
        if (valid > size - 4)
                valid = utf8_valid_prefix(buf, size - 4);
        memcpy(buf + valid, "...", 4);
        return valid + 3;
}
