/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* policy-load.c - reading policy files and directories; the problems found in them */
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/fd.h"
#include "common/file-io.h"
#include "policy-parse.h"

#define POLICY_FILE_MAX (1024 * 1024)   /* a policy is a few KiB; refuse anything absurd */

/* Frees what l owns: the rules not handed to a Policy, and the problems. */
static void loader_done(Loader *l) {
        for (size_t i = 0; i < l->n_rules; i++)
                policy_rule_done(&l->rules[i]);
        l->rules = mfree(l->rules);
        l->errors = mfree(l->errors);
        l->n_rules = l->n_rules_alloc = 0;
}

static void errors_append(Loader *l, const char *line) {
        size_t n = strlen(line), sep = l->errors_len > 0;
        char *e;

        e = xrealloc(l->errors, l->errors_len + sep + n + 1);
        if (!e) {
                l->oom = true;
                return;
        }
        if (sep)
                e[l->errors_len++] = '\n';
        memcpy(e + l->errors_len, line, n + 1);
        l->errors_len += n;
        l->errors = e;
}

/* Records one problem of l->file (policy-parse.h). */
void loader_problem(Loader *l, const char *where, const char *fmt, ...) {
        _cleanup_(freep) char *msg = NULL, *line = NULL;
        va_list ap;
        int n;

        l->n_errors++;
        va_start(ap, fmt);
        n = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (n < 0) {
                msg = NULL;     /* undefined after a failure */
                l->oom = true;
                return;
        }
        n = asprintf(&line, "%s: %s%s%s", l->file, where ? where : "", where ? ": " : "", msg);
        if (n < 0) {
                line = NULL;
                l->oom = true;
                return;
        }
        errors_append(l, line);
}

/*
 * Whoever may change the policy may give themselves any device, so only
 * root may: a file or directory of the policy must be owned by root, and
 * writable by nobody else, neither by its group (unless that is root's),
 * nor by everybody, nor through an access ACL (issue 10, finding 9).
 */
#define ACL_XATTR       "system.posix_acl_access"
#define ACL_USER_OBJ    0x01            /* the tags and layout of linux/posix_acl_xattr.h */
#define ACL_USER        0x02
#define ACL_GROUP_OBJ   0x04
#define ACL_GROUP       0x08
#define ACL_MASK        0x10
#define ACL_WRITE       0x02
#define ACL_ENTRIES_MAX 128

typedef struct AclEntry {
        uint16_t tag, perm;
        uint32_t id;
} AclEntry;

/* Who other than root fd's access ACL lets write it, as "uid N" or
 * "group N" in buf; NULL if nobody (or there is no ACL). */
static const char *acl_writer(int fd, gid_t gid, char *buf, size_t size) {
        uint8_t x[4 + ACL_ENTRIES_MAX * sizeof(AclEntry)];
        unsigned mask = 7;
        ssize_t n;

        n = fgetxattr(fd, ACL_XATTR, x, sizeof(x));
        if (n < 0)
                return errno == ERANGE ? "an ACL too long to check (setfacl -b)" : NULL;
        for (int pass = 0; pass < 2; pass++)
                for (size_t o = 4; o + sizeof(AclEntry) <= (size_t)n; o += sizeof(AclEntry)) {
                        AclEntry e;
                        bool named;

                        memcpy(&e, x + o, sizeof(e));
                        e.tag = le16toh(e.tag), e.perm = le16toh(e.perm), e.id = le32toh(e.id);
                        if (pass == 0) {
                                if (e.tag == ACL_MASK)
                                        mask = e.perm;
                                continue;
                        }
                        if (!(e.perm & mask & ACL_WRITE))
                                continue;
                        named = e.tag == ACL_USER || e.tag == ACL_GROUP;
                        if (e.tag == ACL_GROUP_OBJ)
                                e.id = gid;
                        if ((named || e.tag == ACL_GROUP_OBJ) && e.id != 0) {
                                snprintf(buf, size, "an ACL lets %s %u write it (setfacl -b)",
                                         e.tag == ACL_USER ? "uid" : "group", (unsigned)e.id);
                                return buf;
                        }
                }
        return NULL;
}

/* Why someone other than root may change what fd is; NULL if nobody can. */
static const char *unsafe_reason(int fd, const struct stat *st, char *buf, size_t size) {
        const char *acl;

        if (st->st_uid != 0) {
                snprintf(buf, size, "uid %u owns it (chown root)", (unsigned)st->st_uid);
                return buf;
        }
        if (st->st_mode & S_IWOTH)
                return "everybody may write it (chmod o-w)";
        acl = acl_writer(fd, st->st_gid, buf, size);
        if (acl)
                return acl;
        /* With an ACL, the group bits are its mask, and acl_writer() looked. */
        if ((st->st_mode & S_IWGRP) && st->st_gid != 0 && fgetxattr(fd, ACL_XATTR, NULL, 0) < 0) {
                snprintf(buf, size, "group %u may write it (chmod g-w, or chgrp root)", (unsigned)st->st_gid);
                return buf;
        }
        return NULL;
}

/* Reports dir if anyone but root may add, remove or rename its files. */
static void check_dir(Loader *l, const char *dir) {
        _cleanup_(closep) int fd = -EBADF;
        const char *why;
        struct stat st;
        char buf[96];

        l->file = dir;
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0)
                loader_problem(l, NULL, "cannot read directory: %s", strerror(errno));
        else if ((why = unsafe_reason(fd, &st, buf, sizeof(buf))))
                loader_problem(l, NULL, "expected a directory only root can change, but %s", why);
        l->file = NULL;
}

/* Opens, checks and reads one file; reports its problems. */
static int read_policy_file(Loader *l, char **ret, size_t *ret_size) {
        _cleanup_(closep) int fd = -EBADF;
        const char *why;
        struct stat st;
        char buf[96];
        int r;

        /* O_NONBLOCK: a FIFO named *.json must not hang the daemon. */
        fd = open(l->file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0 || fstat(fd, &st) < 0) {
                r = -errno;
                loader_problem(l, NULL, "cannot read: %s", strerror(-r));
                return r;
        }
        if (!S_ISREG(st.st_mode)) {
                loader_problem(l, NULL, "expected a regular file");
                return -EINVAL;
        }
        why = unsafe_reason(fd, &st, buf, sizeof(buf));
        if (why) {
                loader_problem(l, NULL, "expected a file only root can change, but %s", why);
                return -EPERM;
        }
        r = fd_read_all(fd, POLICY_FILE_MAX, ret, ret_size);
        if (r == -ENOMEM)
                l->oom = true;
        else if (r == -EFBIG)
                loader_problem(l, NULL, "expected a policy of at most %u bytes, got a bigger file",
                               POLICY_FILE_MAX);
        else if (r < 0)
                loader_problem(l, NULL, "cannot read: %s", strerror(-r));
        return r;
}

static void load_file(Loader *l, const char *path) {
        _cleanup_(freep) char *text = NULL;
        size_t size = 0;

        l->file = path;
        if (read_policy_file(l, &text, &size) < 0)
                return;
        l->n_files++;
        policy_parse_text(l, text, size);
}

static char *path_join(const char *a, const char *b) {
        size_t na = strlen(a), nb = strlen(b);
        char *p;

        while (na > 1 && a[na - 1] == '/')
                na--;
        p = xmalloc(na + 1 + nb + 1);
        if (!p)
                return NULL;
        memcpy(p, a, na);
        p[na] = '/';
        memcpy(p + na + 1, b, nb + 1);
        return p;
}

/* "*.json", without hidden files (editors' lock files look like ".#x.json"). */
static int json_name_filter(const struct dirent *de) {
        size_t n = strlen(de->d_name);

        return de->d_name[0] != '.' && n > 5 && strcmp(de->d_name + n - 5, ".json") == 0;
}

/* strcmp(), not alphasort(): the order must not depend on the locale. */
static int name_cmp(const struct dirent **a, const struct dirent **b) {
        return strcmp((*a)->d_name, (*b)->d_name);
}

static void load_dir_files(Loader *l, const char *dir) {
        struct dirent **names = NULL;
        int n;

        n = scandir(dir, &names, json_name_filter, name_cmp);
        if (n < 0) {
                int r = -errno;

                if (r == -ENOMEM) {
                        l->oom = true;
                        return;
                }
                l->file = dir;
                loader_problem(l, NULL, "cannot read directory: %s", strerror(-r));
                return;
        }
        for (int i = 0; i < n; i++) {
                _cleanup_(freep) char *path = path_join(dir, names[i]->d_name);

                if (path)
                        load_file(l, path);
                else
                        l->oom = true;
                l->file = NULL;         /* path is gone */
                free(names[i]);
        }
        free(names);
}

/* dir/\*.json, then dir/policy.d/\*.json if policy.d exists. */
static void load_dir(Loader *l, const char *dir) {
        _cleanup_(freep) char *sub = NULL;
        struct stat st;

        load_dir_files(l, dir);
        sub = path_join(dir, "policy.d");
        if (!sub) {
                l->oom = true;
                return;
        }
        if (stat(sub, &st) < 0) {
                if (errno != ENOENT) {
                        l->file = sub;
                        loader_problem(l, NULL, "cannot read: %s", strerror(errno));
                }
                return;
        }
        if (!S_ISDIR(st.st_mode)) {
                l->file = sub;
                loader_problem(l, NULL, "expected a directory of *.json files");
                return;
        }
        check_dir(l, sub);
        load_dir_files(l, sub);
        l->file = NULL;
}

static int load_fail(Loader *l, int r, char **ret_errors) {
        if (ret_errors)
                *ret_errors = TAKE_PTR(l->errors);
        return r;
}

/* The end of every load: a Policy of l's rules, or l's problems. */
static int loader_finish(Loader *l, Policy **ret, char **ret_errors) {
        Policy *p;

        if (l->oom)
                return load_fail(l, -ENOMEM, ret_errors);
        if (l->n_errors > 0)
                return load_fail(l, -EINVAL, ret_errors);

        p = xzalloc(sizeof(*p));
        if (!p)
                return load_fail(l, -ENOMEM, ret_errors);
        p->rules = TAKE_PTR(l->rules);
        p->n_rules = l->n_rules;
        p->n_files = l->n_files;
        l->n_rules = 0;
        *ret = p;
        if (ret_errors)
                *ret_errors = NULL;
        return 0;
}

int policy_load(const char *path, Policy **ret, char **ret_errors) {
        _cleanup_(loader_done) Loader l = { 0 };
        struct stat st;

        if (stat(path, &st) < 0) {
                int r = -errno;

                l.file = path;
                loader_problem(&l, NULL, "cannot read: %s", strerror(-r));
                return load_fail(&l, l.oom ? -ENOMEM : r, ret_errors);
        }
        if (S_ISDIR(st.st_mode)) {
                check_dir(&l, path);
                load_dir(&l, path);
        } else
                load_file(&l, path);
        return loader_finish(&l, ret, ret_errors);
}

int policy_load_text(const char *name, const char *text, size_t size, Policy **ret, char **ret_errors) {
        _cleanup_(loader_done) Loader l = { .file = name, .n_files = 1 };

        policy_parse_text(&l, text, size);
        return loader_finish(&l, ret, ret_errors);
}

int policy_check(const char *path, FILE *out, FILE *err) {
        _cleanup_(policy_freep) Policy *p = NULL;
        _cleanup_(freep) char *errors = NULL;
        unsigned n, f;
        int r;

        r = policy_load(path, &p, &errors);
        if (r < 0) {
                if (errors)
                        fprintf(err, "%s\n", errors);
                else
                        fprintf(err, "%s: %s\n", path, strerror(-r));
                return 1;
        }
        n = policy_rule_count(p);
        f = policy_file_count(p);
        fprintf(out, "OK: %u rule%s from %u file%s\n", n, n == 1 ? "" : "s", f, f == 1 ? "" : "s");
        return 0;
}
