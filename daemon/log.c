/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* log.c - iommud's log: the journal's native protocol with priorities, or stderr with <N> prefixes */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

/*
 * The journal is spoken to directly: one datagram per record on its native
 * socket, in the format of systemd's "Native Journal Protocol" (each field
 * "KEY=value\n", or, for a value with a newline, "KEY\n", its length as a
 * little-endian 64-bit number, the value and "\n"). That is what
 * sd_journal_sendv() does; iommud does it itself so that the socket can be
 * another one (IOMMUD_JOURNAL_SOCKET), which is how the integration tests
 * read the records back (docs/journal.md).
 *
 * The state is process-wide and only touched from the event loop's thread
 * (the backend's worker threads report to the loop; they do not log).
 */
static struct {
        LogTarget target;               /* CONSOLE or JOURNAL once log_setup() ran */
        int level, configured_level;
        int journal_fd;                 /* owned; -1: not open */
        bool stderr_is_tty;
        bool journal_failed;            /* said so once */
} log_state = { .target = LOG_TARGET_CONSOLE, .level = LOG_LEVEL_DEFAULT,
                .configured_level = LOG_LEVEL_DEFAULT, .journal_fd = -1 };

static const char *const level_names[] = {
        [LOG_EMERG] = "emerg", [LOG_ALERT] = "alert", [LOG_CRIT] = "crit", [LOG_ERR] = "err",
        [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice", [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

static const char *const target_names[_LOG_TARGET_MAX] = {
        [LOG_TARGET_AUTO] = "auto", [LOG_TARGET_CONSOLE] = "console", [LOG_TARGET_JOURNAL] = "journal",
};

int log_level_from_string(const char *s) {
        char *end;
        long n;

        for (size_t i = 0; i < ELEMENTSOF(level_names); i++)
                if (strcmp(s, level_names[i]) == 0)
                        return (int)i;
        errno = 0;
        n = strtol(s, &end, 10);
        if (errno != 0 || end == s || *end || n < LOG_EMERG || n > LOG_DEBUG)
                return -EINVAL;
        return (int)n;
}

const char *log_level_to_string(int level) {
        return level >= LOG_EMERG && level <= LOG_DEBUG ? level_names[level] : NULL;
}

int log_target_from_string(const char *s) {
        for (size_t i = 0; i < ELEMENTSOF(target_names); i++)
                if (strcmp(s, target_names[i]) == 0)
                        return (int)i;
        return -EINVAL;
}

const char *log_target_to_string(LogTarget t) {
        return (unsigned)t < ELEMENTSOF(target_names) ? target_names[t] : NULL;
}

/* systemd sets $JOURNAL_STREAM to "DEV:INODE" of the stream it connected
 * to stdout/stderr; stderr is the journal when its fstat() matches. */
static bool stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
                return false;
        return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_setup(LogTarget target, int level) {
        log_state.stderr_is_tty = isatty(STDERR_FILENO) == 1;
        if (target == LOG_TARGET_AUTO)
                target = stderr_is_journal() ? LOG_TARGET_JOURNAL : LOG_TARGET_CONSOLE;
        log_state.target = target;
        log_state.configured_level = log_state.level = level;
}

LogTarget log_get_target(void) {
        return log_state.target;
}

void log_set_level(int level) {
        log_state.level = level;
}

int log_get_level(void) {
        return log_state.level;
}

void log_reset_level(void) {
        log_state.level = log_state.configured_level;
}

void log_close(void) {
        if (log_state.journal_fd >= 0)
                close(log_state.journal_fd);
        log_state.journal_fd = -1;
}

/* Each line of message, the first after "iommud: "; "<N>" before each line
 * where a journal stream or a log collector reads stderr (not a terminal). */
static void console_write(int priority, const char *message) {
        const char *line = message;
        bool first = true;

        do {
                const char *nl = strchr(line, '\n');
                int len = nl ? (int)(nl - line) : (int)strlen(line);

                if (!log_state.stderr_is_tty)
                        fprintf(stderr, "<%d>", priority);
                fprintf(stderr, "%s%.*s\n", first ? "iommud: " : "", len, line);
                first = false;
                line = nl ? nl + 1 : NULL;
        } while (line && *line);
        fflush(stderr);
}

/* One field in the native protocol's format. */
static void journal_field(FILE *f, const char *field) {
        const char *eq = strchr(field, '=');
        const char *value;
        uint64_t len;

        if (!eq)
                return;
        value = eq + 1;
        if (!strchr(value, '\n')) {
                fprintf(f, "%s\n", field);
                return;
        }
        len = strlen(value);
        fwrite(field, 1, (size_t)(eq - field), f);
        fputc('\n', f);
        for (int i = 0; i < 8; i++)
                fputc((int)((len >> (8 * i)) & 0xff), f);
        fwrite(value, 1, (size_t)len, f);
        fputc('\n', f);
}

static int journal_send(const char *datagram, size_t size) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        const char *path = getenv("IOMMUD_JOURNAL_SOCKET");

        if (!path || !*path)
                path = LOG_JOURNAL_SOCKET;
        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        if (log_state.journal_fd < 0) {
                log_state.journal_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                if (log_state.journal_fd < 0)
                        return -errno;
        }
        if (sendto(log_state.journal_fd, datagram, size, MSG_NOSIGNAL, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return -errno;
        return 0;
}

/* The record as one datagram; false if the journal did not take it. */
static bool journal_write(int priority, const char *message_id, char *const *fields, size_t n_fields,
                          const char *message) {
        _cleanup_(freep) char *buf = NULL;
        _cleanup_(freep) char *msg = NULL;
        size_t size = 0;
        FILE *f;
        char prio[16];
        int r;

        f = open_memstream(&buf, &size);
        if (!f)
                return false;
        snprintf(prio, sizeof(prio), "PRIORITY=%d", priority);
        journal_field(f, prio);
        journal_field(f, "SYSLOG_IDENTIFIER=iommud");
        if (message_id)
                fprintf(f, "MESSAGE_ID=%s\n", message_id);
        for (size_t i = 0; i < n_fields; i++)
                journal_field(f, fields[i]);
        if (asprintf(&msg, "MESSAGE=%s", message) >= 0)
                journal_field(f, msg);
        if (fclose(f) != 0)
                return false;
        r = journal_send(buf, size);
        if (r < 0 && !log_state.journal_failed) {
                /* Said once: every record that follows goes to stderr too. */
                log_state.journal_failed = true;
                fprintf(stderr, "iommud: cannot write to the journal (%s); writing to stderr instead\n",
                        strerror(-r));
        }
        return r >= 0;
}

static void log_emit(int priority, const char *message_id, char *const *fields, size_t n_fields,
                     const char *message) {
        if (priority > log_state.level)
                return;
        if (log_state.target == LOG_TARGET_JOURNAL &&
            journal_write(priority, message_id, fields, n_fields, message))
                return;
        console_write(priority, message);
}

void log_fullv(int priority, const char *fmt, va_list ap) {
        _cleanup_(freep) char *message = NULL;

        if (priority > log_state.level)
                return;
        if (vasprintf(&message, fmt, ap) < 0)
                return;
        log_emit(priority, NULL, NULL, 0, message);
}

void log_full(int priority, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        log_fullv(priority, fmt, ap);
        va_end(ap);
}

void log_struct(int priority, const char *message_id, char *const *fields, size_t n_fields, const char *fmt, ...) {
        _cleanup_(freep) char *message = NULL;
        va_list ap;
        int r;

        if (priority > log_state.level)
                return;
        va_start(ap, fmt);
        r = vasprintf(&message, fmt, ap);
        va_end(ap);
        if (r >= 0)
                log_emit(priority, message_id, fields, n_fields, message);
}
