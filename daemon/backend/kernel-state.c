/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kernel-state.c - the drivers to give back, kept in a file so that a crash strands no device */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fd.h"
#include "common/file-io.h"
#include "common/path.h"
#include "kernel-sysfs.h"
#include "kernel-state.h"

#define HEADER "# iommud: drivers to give back to functions it moved to vfio-pci (man iommud)\n"

/* A name or driver as sysfs spells them: no blanks, no slashes, no dots
 * alone (it becomes part of a sysfs path). */
static bool valid_token(const char *s, size_t len) {
        if (len == 0 || len >= sizeof(((KernelStateEntry *)NULL)->name))
                return false;
        if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
                return false;
        for (size_t i = 0; i < len; i++)
                if (s[i] <= ' ' || s[i] == '/' || s[i] > '~')
                        return false;
        return true;
}

/* One "NAME DRIVER" line (without its newline) into *e; false if it is not one. */
static bool parse_line(const char *line, size_t len, KernelStateEntry *e) {
        const char *sp = memchr(line, ' ', len);
        size_t nlen, dlen;

        if (!sp)
                return false;
        nlen = (size_t)(sp - line);
        dlen = len - nlen - 1;
        if (!valid_token(line, nlen) || !valid_token(sp + 1, dlen))
                return false;
        memset(e, 0, sizeof(*e));
        memcpy(e->name, line, nlen);
        if (!(dlen == 1 && sp[1] == '-'))
                memcpy(e->driver, sp + 1, dlen);
        return true;
}

int kernel_state_parse(const char *text, KernelStateEntry **ret, size_t *ret_n, unsigned *ret_bad, char *why,
                       size_t why_size) {
        KernelStateEntry *v = NULL;
        size_t n = 0;
        unsigned bad = 0, lineno = 0;

        if (why_size)
                why[0] = 0;
        for (const char *p = text; *p; ) {
                const char *nl = strchr(p, '\n');
                size_t len = nl ? (size_t)(nl - p) : strlen(p);
                KernelStateEntry e;

                lineno++;
                if (len > 0 && p[0] != '#') {
                        if (parse_line(p, len, &e)) {
                                KernelStateEntry *nv = realloc(v, (n + 1) * sizeof(*v));

                                if (!nv) {
                                        free(v);
                                        return -ENOMEM;
                                }
                                v = nv;
                                v[n++] = e;
                        } else if (bad++ == 0 && why_size)
                                snprintf(why, why_size, "line %u is not \"NAME DRIVER\": \"%.*s\"", lineno,
                                         (int)(len > 80 ? 80 : len), p);
                }
                p += len + (nl ? 1 : 0);
        }
        *ret = v;
        *ret_n = n;
        *ret_bad = bad;
        return 0;
}

char *kernel_state_format(const KernelStateEntry *v, size_t n) {
        size_t size = sizeof(HEADER) + n * (2 * sizeof(v->name) + 2), off;
        char *s = malloc(size);

        if (!s)
                return NULL;
        off = (size_t)snprintf(s, size, "%s", HEADER);
        for (size_t i = 0; i < n; i++)
                off += (size_t)snprintf(s + off, size - off, "%s %s\n", v[i].name,
                                        v[i].driver[0] ? v[i].driver : "-");
        return s;
}

int kernel_state_init(KernelState *s, const char *dir) {
        *s = (KernelState) { 0 };
        if (!dir)
                return 0;
        s->dir = strdup(dir);
        return s->dir ? 0 : -ENOMEM;
}

void kernel_state_done(KernelState *s) {
        free(s->dir);
        free(s->v);
        *s = (KernelState) { 0 };
}

const KernelStateEntry *kernel_state_find(const KernelState *s, const char *name) {
        for (size_t i = 0; i < s->n; i++)
                if (strcmp(s->v[i].name, name) == 0)
                        return &s->v[i];
        return NULL;
}

/* The file as v says, replaced whole (file-io.h); no file for no entry.
 * Durable when it returns 0. */
static int state_write(const char *dir, const KernelStateEntry *v, size_t n) {
        _cleanup_(freep) char *text = NULL;

        if (!dir)
                return 0;       /* kept in memory only */
        if (n > 0) {
                text = kernel_state_format(v, n);
                if (!text)
                        return -ENOMEM;
        }
        return file_replace(dir, KERNEL_STATE_FILE, text);
}

int kernel_state_record(KernelState *s, const char *name, const char *driver) {
        KernelStateEntry e = { 0 }, *nv, old;
        KernelStateEntry *found = (KernelStateEntry *)kernel_state_find(s, name);
        int r;

        if (!valid_token(name, strlen(name)) || (driver && !valid_token(driver, strlen(driver))))
                return -EINVAL;
        snprintf(e.name, sizeof(e.name), "%s", name);
        snprintf(e.driver, sizeof(e.driver), "%s", driver ? driver : "");
        if (found) {
                old = *found;
                *found = e;
                r = state_write(s->dir, s->v, s->n);
                if (r < 0)
                        *found = old;
                return r;
        }
        nv = realloc(s->v, (s->n + 1) * sizeof(*nv));
        if (!nv)
                return -ENOMEM;
        s->v = nv;
        s->v[s->n] = e;
        r = state_write(s->dir, s->v, s->n + 1);
        if (r >= 0)
                s->n++;
        return r;
}

int kernel_state_forget(KernelState *s, const char *name) {
        const KernelStateEntry *e = kernel_state_find(s, name);
        size_t i;

        if (!e)
                return 0;
        i = (size_t)(e - s->v);
        memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof(*s->v));
        s->n--;
        /* Written with the entry gone even if that fails: the function is
         * given back already, and a restore finds it on its driver and
         * leaves it (kernel_restore_action()). */
        return state_write(s->dir, s->v, s->n);
}

KernelRestoreAction kernel_restore_action(bool exists, const char *current) {
        if (!exists)
                return KERNEL_RESTORE_GONE;
        /* Only vfio-pci: that is where the daemon moves functions. A
         * function on any other driver was bound there by someone since. */
        if (current[0] && strcmp(current, "vfio-pci") != 0)
                return KERNEL_RESTORE_LEAVE;
        return KERNEL_RESTORE_GIVE_BACK;
}

/* The file's text (malloc'ed), or -ENOENT when there is none. */
static int read_file(const char *path, char **ret) {
        _cleanup_(closep) int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        _cleanup_(freep) char *text = NULL;
        size_t len = 0, size = 0;

        if (fd < 0)
                return -errno;
        for (;;) {
                ssize_t k;

                if (len + 1 >= size) {
                        char *n = realloc(text, size = size ? 2 * size : 4096);

                        if (!n)
                                return -ENOMEM;
                        text = n;
                }
                k = read(fd, text + len, size - len - 1);
                if (k < 0)
                        return -errno;
                if (k == 0)
                        break;
                len += (size_t)k;
        }
        text[len] = 0;
        *ret = TAKE_PTR(text);
        return 0;
}

static bool function_exists(const char *sysfs, const char *name) {
        char path[PATH_MAX];

        return path_printf(path, sizeof(path), "%s/bus/pci/devices/%s", sysfs, name) == 0 &&
               access(path, F_OK) == 0;
}

/* Gives e's function its driver back; true if it is where it was. */
static bool give_back(const BackendOptions *opts, const KernelStateEntry *e, const char *current) {
        int r = 0;

        if (current[0])
                r = sysfs_write(opts->sysfs, e->name, "bus/pci/drivers/%s/unbind", current);
        if (r < 0) {
                backend_log(opts, BACKEND_LOG_ERR "%s: a previous iommud left it on %s, and unbinding that failed (%s); "
                            "it stays there: unbind it by hand", e->name, current, strerror(-r));
                return false;
        }
        (void)sysfs_write(opts->sysfs, "\n", "bus/pci/devices/%s/driver_override", e->name);
        if (!e->driver[0]) {
                backend_log(opts, BACKEND_LOG_NOTICE "%s: a previous iommud left it on vfio-pci; given back to no driver, as "
                            "before its claim", e->name);
                return true;
        }
        r = sysfs_write(opts->sysfs, e->name, "bus/pci/drivers/%s/bind", e->driver);
        if (r < 0) {
                backend_log(opts, BACKEND_LOG_ERR "%s: a previous iommud left it on vfio-pci; binding %s again failed (%s): "
                            "it has no driver now (see the kernel log; bind it with 'echo %s > "
                            "/sys/bus/pci/drivers/%s/bind')", e->name, e->driver, strerror(-r), e->name,
                            e->driver);
                return false;
        }
        backend_log(opts, BACKEND_LOG_NOTICE "%s: a previous iommud left it on vfio-pci; restored to %s", e->name, e->driver);
        return true;
}

static unsigned restore_entries(const BackendOptions *opts, const KernelStateEntry *v, size_t n) {
        unsigned restored = 0;

        for (size_t i = 0; i < n; i++) {
                char current[64];
                bool exists = function_exists(opts->sysfs, v[i].name);

                sysfs_read_driver(opts->sysfs, v[i].name, current, sizeof(current));
                switch (kernel_restore_action(exists, current)) {
                case KERNEL_RESTORE_GONE:
                        backend_log(opts, "%s: a previous iommud recorded it for %s, but it is gone; nothing "
                                    "to give back", v[i].name, v[i].driver[0] ? v[i].driver : "no driver");
                        break;
                case KERNEL_RESTORE_LEAVE:
                        backend_log(opts, "%s: a previous iommud recorded it for %s, but it is on %s now; "
                                    "left there", v[i].name, v[i].driver[0] ? v[i].driver : "no driver",
                                    current);
                        break;
                case KERNEL_RESTORE_GIVE_BACK:
                        restored += give_back(opts, &v[i], current);
                        break;
                }
        }
        return restored;
}

int kernel_state_restore(const BackendOptions *opts) {
        _cleanup_(freep) KernelStateEntry *v = NULL;
        _cleanup_(freep) char *text = NULL;
        char path[PATH_MAX], why[160];
        unsigned bad, restored;
        size_t n;
        int r;

        if (!opts->state_dir)
                return 0;
        if (path_printf(path, sizeof(path), "%s/" KERNEL_STATE_FILE, opts->state_dir) < 0)
                return -ENAMETOOLONG;
        r = read_file(path, &text);
        if (r == -ENOENT)
                return 0;       /* the last daemon gave everything back, or none ran since boot */
        if (r < 0) {
                backend_log(opts, BACKEND_LOG_ERR "cannot read %s: %s; functions a previous iommud moved to vfio-pci are not "
                            "given back: check them, then remove the file", path, strerror(-r));
                return r;
        }
        r = kernel_state_parse(text, &v, &n, &bad, why, sizeof(why));
        if (r < 0)
                return r;
        if (bad)
                backend_log(opts, "%s: %u line(s) left out, %s; a function named there, if any, is not given "
                            "back", path, bad, why);
        restored = restore_entries(opts, v, n);
        if (unlink(path) < 0 && errno != ENOENT)
                backend_log(opts, BACKEND_LOG_ERR "cannot remove %s: %s; remove it by hand", path, strerror(errno));
        return (int)restored;
}
