/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* verbs-exec.c - iommuctl as a launcher: open devices and an iommufd, then run a command that inherits them */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fd.h"
#include "iommuctl.h"

const VerbOption exec_options[] = {
        VERB_FLAG("--ignore-memlock", OPT_IGNORE_MEMLOCK,
                  "start CMD even if RLIMIT_MEMLOCK is too low for the guest RAM of qemu-system-*'s -m"),
        { NULL },
};

/*
 * "iommuctl claim G + open DEV + iommufd + exec -- CMD ARGS..." runs CMD
 * with the fds of the devices opened (OpenDevice) and of the iommufd
 * context (OpenIommufd) inherited, each at the number that "@fd:DEV" and
 * "@iommufd" stand for anywhere in ARGS ("fd=@iommufd"). The fds are
 * iommuctl's until CMD starts: only they lose FD_CLOEXEC, and iommuctl
 * closes its copies once CMD runs, so that CMD is their one holder (a
 * revoke waits for CMD alone). iommuctl keeps its bus connection, and so
 * the claim, until CMD exits, forwards SIGINT and SIGTERM to it and exits
 * with its status. While there is a CMD, what the verbs before it print
 * goes to stderr: CMD's stdout is its own (QEMU's -qmp stdio).
 */

#define MEMLOCK_SLACK (UINT64_C(64) << 20)    /* beyond guest RAM: rings, ROMs, what QEMU maps besides */

void exec_prepare(Ctx *ctx, int *argc, char **argv) {
        for (int i = 1; i + 1 < *argc; i++)
                if (strcmp(argv[i], "exec") == 0 && (i == 1 || strcmp(argv[i - 1], "+") == 0)) {
                        for (int k = i + 1; k < *argc; k++)
                                if (strcmp(argv[k], "--") == 0) {
                                        ctx->exec_argv = &argv[k + 1];
                                        ctx->exec_argc = *argc - k - 1;
                                        *argc = k;      /* "--" and CMD are not verbs */
                                        break;
                                }
                        break;
                }
        ctx->exec_stdout = -1;
        ctx->iommufd = -1;
        if (ctx->exec_argv && ctx->exec_argc > 0) {
                ctx->exec_stdout = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
                fflush(stdout);
                if (ctx->exec_stdout >= 0)
                        (void)dup2(STDERR_FILENO, STDOUT_FILENO);
        }
}

void handouts_free(Ctx *ctx) {
        for (size_t i = 0; i < ctx->n_opened; i++) {
                free(ctx->opened[i].device);
                safe_close(ctx->opened[i].fd);
        }
        ctx->opened = mfree(ctx->opened);
        ctx->n_opened = 0;
        ctx->iommufd = safe_close(ctx->iommufd);
        ctx->exec_stdout = safe_close(ctx->exec_stdout);
}

/* The fd of reply's "h", as our own (the message's goes with it). */
static int read_fd(Ctx *ctx, sd_bus_message *reply, int *ret) {
        int fd, r = sd_bus_message_read(reply, "h", &fd);

        if (r < 0)
                return ctl_bad_reply(ctx, r);
        *ret = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (*ret < 0) {
                fprintf(stderr, "iommuctl: %s: cannot keep the fd iommud sent: %s\n", ctx->verb, strerror(errno));
                return EXIT_REFUSED;
        }
        return 0;
}

int verb_open(Ctx *ctx, const Command *cmd) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *device = cmd->args[0];
        OpenedDevice *a;
        int fd = -1, r;

        for (size_t i = 0; i < ctx->n_opened; i++)
                if (strcmp(ctx->opened[i].device, device) == 0)
                        return ctl_usage_error(cmd->verb, "%s is opened already on this command line", device);
        r = ctl_call(ctx, IOMMUD_PATH, IOMMUD_MANAGER_INTERFACE, "OpenDevice", &reply, "s", device);
        if (r == 0)
                r = read_fd(ctx, reply, &fd);
        if (r != 0)
                return r;
        a = realloc(ctx->opened, (ctx->n_opened + 1) * sizeof(*a));
        if (!a) {
                safe_close(fd);
                return ctl_bad_reply(ctx, -ENOMEM);
        }
        ctx->opened = a;
        a[ctx->n_opened] = (OpenedDevice) { .device = strdup(device), .fd = fd };
        if (!a[ctx->n_opened].device) {
                safe_close(fd);
                return ctl_bad_reply(ctx, -ENOMEM);
        }
        ctx->n_opened++;
        printf("opened %s (fd %d, not bound: bind it to your iommufd)\n", device, fd);
        return 0;
}

int verb_iommufd(Ctx *ctx, const Command *cmd) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int fd = -1, r;

        if (ctx->iommufd >= 0)
                return ctl_usage_error(cmd->verb, "%s", "an iommufd context is opened already");
        r = ctl_call(ctx, IOMMUD_PATH, IOMMUD_MANAGER_INTERFACE, "OpenIommufd", &reply, "");
        if (r == 0)
                r = read_fd(ctx, reply, &fd);
        if (r != 0)
                return r;
        ctx->iommufd = fd;
        printf("opened an iommufd context of your own (fd %d)\n", fd);
        return 0;
}

int verb_revoke(Ctx *ctx, const Command *cmd) {
        _cleanup_(freep) char *path = NULL;
        uint32_t group;
        int r;

        if (parse_group(cmd->args[0], &group) < 0)
                return EXIT_USAGE;
        if (asprintf(&path, "%s/%" PRIu32, IOMMUD_GROUP_PREFIX, group) < 0)
                return ctl_bad_reply(ctx, -ENOMEM);
        r = ctl_call_object(ctx, path, IOMMUD_GROUP_INTERFACE, "Revoke", "group", "groups", NULL, "");
        if (r != 0)
                return r;
        printf("revoked group %" PRIu32 "; it reads \"releasing\" until its devices are back\n", group);
        return 0;
}

/* The opened device whose name s starts with (the longest, so that
 * "0000:01:00.1" is not taken for "0000:01:00.1x"), or NULL. */
static const OpenedDevice *opened_prefix(const Ctx *ctx, const char *s) {
        const OpenedDevice *best = NULL;

        for (size_t i = 0; i < ctx->n_opened; i++) {
                size_t len = strlen(ctx->opened[i].device);

                if (strncmp(s, ctx->opened[i].device, len) == 0 &&
                    (!best || len > strlen(best->device)))
                        best = &ctx->opened[i];
        }
        return best;
}

/* arg with each "@iommufd" and "@fd:DEV" replaced by its fd number. */
static int substitute(Ctx *ctx, const char *arg, char **ret) {
        char *out = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&out, &size);

        if (!f)
                return ctl_bad_reply(ctx, -ENOMEM);
        for (const char *p = arg; *p;) {
                const OpenedDevice *o;

                if (strncmp(p, "@iommufd", 8) == 0) {
                        if (ctx->iommufd < 0) {
                                fclose(f);
                                free(out);
                                return ctl_usage_error(ctx->cmd->verb, "'%s' names @iommufd, but no 'iommufd' "
                                                       "verb came before exec", arg);
                        }
                        fprintf(f, "%d", ctx->iommufd);
                        p += 8;
                } else if (strncmp(p, "@fd:", 4) == 0) {
                        o = opened_prefix(ctx, p + 4);
                        if (!o) {
                                fclose(f);
                                free(out);
                                return ctl_usage_error(ctx->cmd->verb, "'%s' names a device that no 'open' verb "
                                                       "opened; add '+ open DEVICE' before exec", arg);
                        }
                        fprintf(f, "%d", o->fd);
                        p += 4 + strlen(o->device);
                } else
                        fputc(*p++, f);
        }
        if (fclose(f) != 0) {
                free(out);
                return ctl_bad_reply(ctx, -ENOMEM);
        }
        *ret = out;
        return 0;
}

static int build_argv(Ctx *ctx, char ***ret) {
        char **v = calloc((size_t)ctx->exec_argc + 1, sizeof(char *));
        int r;

        if (!v)
                return ctl_bad_reply(ctx, -ENOMEM);
        for (int i = 0; i < ctx->exec_argc; i++) {
                r = substitute(ctx, ctx->exec_argv[i], &v[i]);
                if (r != 0) {
                        strv_free(v);
                        return r;
                }
        }
        *ret = v;
        return 0;
}

/* QEMU's "-m 4G", "-m 512", "-m size=2G,maxmem=..." (MiB without a suffix). */
static bool parse_qemu_memory(const char *s, uint64_t *ret) {
        char *end;
        uint64_t v;

        if (strncmp(s, "size=", 5) == 0)
                s += 5;
        if (!isdigit((unsigned char)*s))
                return false;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno)
                return false;
        switch (toupper((unsigned char)*end)) {
        case 'T': v <<= 40; break;
        case 'G': v <<= 30; break;
        case 'K': v <<= 10; break;
        case 'B': break;
        default: v <<= 20; break;       /* 'M', or none */
        }
        *ret = v;
        return true;
}

/* The guest RAM of a qemu-system-* command line, or 0 if it is none. */
static uint64_t qemu_guest_memory(char **argv) {
        const char *base = strrchr(argv[0], '/');
        uint64_t mem = UINT64_C(128) << 20;     /* QEMU's default for x86 */

        base = base ? base + 1 : argv[0];
        if (strncmp(base, "qemu-system-", 12) != 0)
                return 0;
        for (size_t i = 1; argv[i]; i++)
                if ((strcmp(argv[i], "-m") == 0 || strcmp(argv[i], "--m") == 0) && argv[i + 1])
                        (void)parse_qemu_memory(argv[++i], &mem);
        return mem;
}

static void format_size(uint64_t v, char *buf, size_t size) {
        if (v == RLIM_INFINITY)
                snprintf(buf, size, "unlimited");
        else if (v >= (UINT64_C(1) << 30) && v % (UINT64_C(1) << 30) == 0)
                snprintf(buf, size, "%" PRIu64 " GiB", v >> 30);
        else
                snprintf(buf, size, "%" PRIu64 " KiB", v >> 10);
}

/*
 * iommufd charges the pages a context pins to the RLIMIT_MEMLOCK of the
 * user who maps them (IOMMU_IOAS_MAP: iopt_alloc_pages() records the
 * mapper's user, and no charge is made for a mapper with CAP_IPC_LOCK), so
 * a VMM needs its guest's RAM and a little more under its limit.
 */
static int check_memlock(Ctx *ctx, char **argv) {
        uint64_t guest = qemu_guest_memory(argv), need;
        char have_s[32], need_s[32];
        struct rlimit rl;

        if (getrlimit(RLIMIT_MEMLOCK, &rl) < 0)
                return 0;
        format_size(rl.rlim_cur, have_s, sizeof(have_s));
        if (guest == 0) {
                fprintf(stderr, "iommuctl: exec: notice: RLIMIT_MEMLOCK is %s; memory %s maps for DMA through "
                        "its iommufd counts against it.\n", have_s, argv[0]);
                return 0;
        }
        need = guest + MEMLOCK_SLACK;
        if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need || geteuid() == 0)
                return 0;
        format_size(need, need_s, sizeof(need_s));
        if (ctx->cmd->flags & OPT_IGNORE_MEMLOCK) {
                fprintf(stderr, "iommuctl: exec: warning: RLIMIT_MEMLOCK is %s, below the %s a guest of %" PRIu64
                        " MiB pins; going on as asked.\n", have_s, need_s, guest >> 20);
                return 0;
        }
        fprintf(stderr, "iommuctl: exec: RLIMIT_MEMLOCK is %s, but %s pins its guest's %" PRIu64 " MiB of RAM "
                "through iommufd, charged to your uid: raise the limit to at least %s (ulimit -l %" PRIu64
                ", LimitMEMLOCK= in a systemd unit, or a memlock line in /etc/security/limits.conf), or pass "
                "--ignore-memlock.\n", have_s, argv[0], guest >> 20, need_s, need >> 10);
        return EXIT_REFUSED;
}

/* In the child: the handed fds survive exec, stdout is CMD's own again. */
__attribute__((noreturn))
static void exec_child(Ctx *ctx, char **argv, const sigset_t *old_mask) {
        for (size_t i = 0; i < ctx->n_opened; i++)
                (void)fcntl(ctx->opened[i].fd, F_SETFD, 0);
        if (ctx->iommufd >= 0)
                (void)fcntl(ctx->iommufd, F_SETFD, 0);
        if (ctx->exec_stdout >= 0)
                (void)dup2(ctx->exec_stdout, STDOUT_FILENO);
        (void)sigprocmask(SIG_SETMASK, old_mask, NULL);
        execvp(argv[0], argv);
        fprintf(stderr, "iommuctl: exec: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
}

/* CMD's exit status as a shell gives it. */
static int child_status(int status) {
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/*
 * Waits for the child, forwarding SIGINT and SIGTERM, and keeps reading
 * the bus meanwhile so that the connection (and the claim) stays sound.
 */
static int wait_child(Ctx *ctx, pid_t child, int sfd) {
        struct pollfd p[2] = { { .fd = sfd, .events = POLLIN },
                               { .fd = sd_bus_get_fd(ctx->bus), .events = POLLIN } };
        int status;

        for (;;) {
                struct signalfd_siginfo si;

                while (sd_bus_process(ctx->bus, NULL) > 0)
                        ;
                if (waitpid(child, &status, WNOHANG) == child)
                        return child_status(status);
                if (poll(p, 2, -1) < 0 && errno != EINTR)
                        return EXIT_REFUSED;
                if ((p[0].revents & POLLIN) && read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si) &&
                    (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM))
                        (void)kill(child, (int)si.ssi_signo);
        }
}

int verb_exec(Ctx *ctx, const Command *cmd) {
        _cleanup_(strv_freep) char **argv = NULL;
        sigset_t mask, old;
        pid_t child;
        int sfd, r;

        if (!ctx->exec_argv || ctx->exec_argc == 0)
                return ctl_usage_error(cmd->verb, "%s", "expected '-- CMD [ARGS...]' after exec");
        r = build_argv(ctx, &argv);
        if (r == 0)
                r = check_memlock(ctx, argv);
        if (r != 0)
                return r;
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGCHLD);
        (void)sigprocmask(SIG_BLOCK, &mask, &old);
        sfd = signalfd(-1, &mask, SFD_CLOEXEC);
        if (sfd < 0) {
                fprintf(stderr, "iommuctl: exec: cannot watch signals: %s\n", strerror(errno));
                return EXIT_REFUSED;
        }
        fflush(NULL);
        child = fork();
        if (child < 0) {
                fprintf(stderr, "iommuctl: exec: cannot fork: %s\n", strerror(errno));
                safe_close(sfd);
                return EXIT_REFUSED;
        }
        if (child == 0)
                exec_child(ctx, argv, &old);
        /* CMD is the one holder of the devices and the context now. */
        for (size_t i = 0; i < ctx->n_opened; i++)
                ctx->opened[i].fd = safe_close(ctx->opened[i].fd);
        ctx->iommufd = safe_close(ctx->iommufd);
        r = wait_child(ctx, child, sfd);
        safe_close(sfd);
        (void)sigprocmask(SIG_SETMASK, &old, NULL);
        return r;
}
