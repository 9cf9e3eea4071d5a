/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* log.h - iommud's log: the journal's native protocol with priorities, or stderr with <N> prefixes */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <syslog.h>

#include "common/macro.h"

/*
 * One process-wide log, as systemd's daemons have. Where it goes is chosen
 * once at start (log_setup()); the level can change at any time (SIGRTMIN+22
 * and +23, Manager.LogLevel). Logging never fails its caller: a journal that
 * cannot take a record gets it written to stderr instead.
 */
typedef enum LogTarget {
        LOG_TARGET_AUTO,        /* the journal if stderr is connected to it ($JOURNAL_STREAM), else console */
        LOG_TARGET_CONSOLE,     /* stderr, "<N>iommud: " before each line when stderr is not a terminal */
        LOG_TARGET_JOURNAL,     /* native protocol datagrams to the journal's socket */
        _LOG_TARGET_MAX,
} LogTarget;

/* The journal's socket; IOMMUD_JOURNAL_SOCKET in the environment overrides it (docs/journal.md). */
#define LOG_JOURNAL_SOCKET "/run/systemd/journal/socket"
#define LOG_LEVEL_DEFAULT LOG_INFO

/* "emerg".."debug" or "0".."7", as systemd's --log-level takes them; -EINVAL otherwise. */
int log_level_from_string(const char *s);
/* "emerg".."debug"; NULL for a number out of range. */
const char *log_level_to_string(int level);
int log_target_from_string(const char *s);
const char *log_target_to_string(LogTarget t);

/* Decides where records go (AUTO: looks at $JOURNAL_STREAM and stderr) and
 * sets the configured level, which log_reset_level() comes back to. */
void log_setup(LogTarget target, int level);
/* The target log_setup() chose: CONSOLE or JOURNAL. */
LogTarget log_get_target(void);
void log_set_level(int level);
int log_get_level(void);
void log_reset_level(void);
/* Closes the journal socket (at exit; logging after it reopens it). */
void log_close(void);

/* A record at priority (LOG_ERR..LOG_DEBUG) dropped when above the level. */
_attribute_printf_(2, 3)
void log_full(int priority, const char *fmt, ...);
void log_fullv(int priority, const char *fmt, va_list ap);

/*
 * A structured record: MESSAGE from fmt, MESSAGE_ID=message_id (NULL:
 * none), and fields, each "KEY=value" (KEY in upper case letters, digits
 * and '_'; a value may hold any byte but NUL, newlines included). On the
 * console only the message is written.
 */
_attribute_printf_(5, 6)
void log_struct(int priority, const char *message_id, char *const *fields, size_t n_fields, const char *fmt, ...);

#define log_error(...)   log_full(LOG_ERR, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_notice(...)  log_full(LOG_NOTICE, __VA_ARGS__)
#define log_info(...)    log_full(LOG_INFO, __VA_ARGS__)
#define log_debug(...)   log_full(LOG_DEBUG, __VA_ARGS__)
