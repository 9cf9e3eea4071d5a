/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* main.c - iommud's command line */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"

static void help(void) {
        printf("Usage: iommud [OPTIONS]\n"
               "Owns IOMMU groups through iommufd and hands them to programs over D-Bus (%s).\n\n"
               "  --backend=sim|kernel|selftest  which IOMMU to drive (default: kernel if /dev/iommu\n"
               "                                 exists; otherwise iommud says how to simulate one)\n"
               "  --sim                          short for --backend=sim\n"
               "  --topology=FILE                the sim backend's topology (default: built in)\n"
               "  --policy=PATH                  policy file or directory (default: %s)\n"
               "  --state-dir=DIR                where the kernel backend records the drivers it must\n"
               "                                 give back, even after a crash, and the overrides kept\n"
               "                                 until the next reboot (default: %s)\n"
               "  --lib-dir=DIR                  where the overrides kept across reboots are stored\n"
               "                                 (default: %s)\n"
               "  --check-policy=PATH            validate a policy file or directory and exit 0 or 1\n"
               "  --log-target=auto|console|journal  where the log goes (default: auto, the journal when\n"
               "                                 stderr is connected to it, as under systemd)\n"
               "  --log-level=LEVEL              emerg..debug or 0..7 (default: info); SIGRTMIN+22 sets\n"
               "                                 debug, SIGRTMIN+23 this level again\n"
               "  -h --help                      show this help\n"
               "  --version                      show the version\n\n"
               "The bus is the system bus, or DBUS_SYSTEM_BUS_ADDRESS where it is set.\n",
               IOMMUD_BUS_NAME, IOMMUD_DEFAULT_POLICY, IOMMUD_DEFAULT_STATE_DIR, IOMMUD_DEFAULT_LIB_DIR);
}

/* The class --backend=name chose; -EINVAL: no such backend, -EOPNOTSUPP:
 * this iommud was built without it. Says which. */
static int parse_backend(const char *name, const BackendClass **ret) {
        const BackendClass *c = backend_class_find(name);

        if (!c) {
                log_error("unknown backend \"%s\"; use sim, kernel or selftest.", name);
                return -EINVAL;
        }
        if (!c->new) {
                log_error("this iommud was built without the %s backend; build it with meson setup -D%s=true.",
                          name, name);
                return -EOPNOTSUPP;
        }
        *ret = c;
        return 0;
}

/* --log-level=, --log-target=: -1 (and says why) if s is not one. */
static int parse_log_option(bool level, const char *s, int *ret) {
        int r = level ? log_level_from_string(s) : log_target_from_string(s);

        if (r < 0) {
                if (level)
                        fprintf(stderr, "iommud: unknown log level \"%s\"; use emerg, alert, crit, err, warning, "
                                "notice, info, debug or 0..7.\n", s);
                else
                        fprintf(stderr, "iommud: unknown log target \"%s\"; use auto, console or journal.\n", s);
                return -1;
        }
        *ret = r;
        return 0;
}

/* The backend the options chose, or the default. */
static int check_backend(const char *backend, DaemonConfig *cfg) {
        if (backend)
                return parse_backend(backend, &cfg->backend);
        if (access("/dev/iommu", F_OK) < 0) {
                log_error("/dev/iommu does not exist: this kernel has no iommufd (CONFIG_IOMMUFD, Linux 6.2 "
                          "or later).\nTo try iommud without an IOMMU, run the simulation: iommud --sim");
                return -ENODEV;
        }
        return parse_backend("kernel", &cfg->backend);
}

/* What the options say once the log is set up, so that it goes where the
 * log goes (the journal, under systemd). -1 to go on, or an exit status. */
static int check_config(const char *backend, const char *state_dir, const char *lib_dir, DaemonConfig *cfg) {
        if (state_dir && state_dir[0] != '/') {
                log_error("--state-dir needs an absolute path, not \"%s\".", state_dir);
                return EXIT_FAILURE;
        }
        if (lib_dir && lib_dir[0] != '/') {
                log_error("--lib-dir needs an absolute path, not \"%s\".", lib_dir);
                return EXIT_FAILURE;
        }
        cfg->state_dir = state_dir;
        cfg->lib_dir = lib_dir;
        if (check_backend(backend, cfg) < 0)
                return EXIT_FAILURE;
        if (cfg->topology && !cfg->backend->takes_topology) {
                log_error("--topology is for the sim backend only.");
                return EXIT_FAILURE;
        }
        return -1;
}

/* Returns -1 to go on, or an exit status. The log is set up (log_setup())
 * before anything but a malformed option is reported. */
static int parse_argv(int argc, char *argv[], DaemonConfig *cfg) {
        enum { ARG_BACKEND = 0x100, ARG_SIM, ARG_TOPOLOGY, ARG_POLICY, ARG_STATE_DIR, ARG_LIB_DIR, ARG_CHECK_POLICY,
               ARG_VERSION, ARG_LOG_LEVEL, ARG_LOG_TARGET };
        static const struct option options[] = {
                { "backend",      required_argument, NULL, ARG_BACKEND },
                { "sim",          no_argument,       NULL, ARG_SIM },
                { "topology",     required_argument, NULL, ARG_TOPOLOGY },
                { "policy",       required_argument, NULL, ARG_POLICY },
                { "state-dir",    required_argument, NULL, ARG_STATE_DIR },
                { "lib-dir",      required_argument, NULL, ARG_LIB_DIR },
                { "check-policy", required_argument, NULL, ARG_CHECK_POLICY },
                { "log-level",    required_argument, NULL, ARG_LOG_LEVEL },
                { "log-target",   required_argument, NULL, ARG_LOG_TARGET },
                { "help",         no_argument,       NULL, 'h' },
                { "version",      no_argument,       NULL, ARG_VERSION },
                { NULL, 0, NULL, 0 }
        };
        int level = LOG_LEVEL_DEFAULT, target = LOG_TARGET_AUTO;
        const char *backend = NULL, *state_dir = NULL, *lib_dir = NULL;
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case ARG_BACKEND:
                        backend = optarg;
                        break;
                case ARG_SIM:
                        backend = "sim";
                        break;
                case ARG_LOG_LEVEL:
                        if (parse_log_option(true, optarg, &level) < 0)
                                return EXIT_FAILURE;
                        break;
                case ARG_LOG_TARGET:
                        if (parse_log_option(false, optarg, &target) < 0)
                                return EXIT_FAILURE;
                        break;
                case ARG_TOPOLOGY:
                        cfg->topology = optarg;
                        break;
                case ARG_POLICY:
                        cfg->policy = optarg;
                        break;
                case ARG_STATE_DIR:
                        state_dir = optarg;
                        break;
                case ARG_LIB_DIR:
                        lib_dir = optarg;
                        break;
                case ARG_CHECK_POLICY:
                        return policy_check(optarg, stdout, stderr) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
                case 'h':
                        help();
                        return EXIT_SUCCESS;
                case ARG_VERSION:
                        printf("iommud %s\n", PROJECT_VERSION);
                        return EXIT_SUCCESS;
                default:
                        fprintf(stderr, "Try 'iommud --help'.\n");
                        return EXIT_FAILURE;
                }
        log_setup((LogTarget)target, level);
        if (optind < argc) {
                log_error("unexpected argument \"%s\"; try 'iommud --help'.", argv[optind]);
                return EXIT_FAILURE;
        }
        return check_config(backend, state_dir, lib_dir, cfg);
}

int main(int argc, char *argv[]) {
        _cleanup_(daemon_freep) Daemon *d = NULL;
        DaemonConfig cfg = { .backend = NULL };
        int r;

        r = parse_argv(argc, argv, &cfg);
        if (r >= 0)
                return r;
        r = daemon_new(&d, &cfg);
        if (r < 0) {
                /* The step that failed said why where it could; this is the rest. */
                log_error("cannot start: %s", strerror(-r));
                return EXIT_FAILURE;
        }
        /* 0 after SIGTERM or SIGINT; anything else is a failure (the bus gone, the loop broken). */
        r = daemon_run(d);
        d = daemon_free(d);     /* its last records before the log closes */
        if (r != 0)
                log_error("exiting with a failure: %s", strerror(r < 0 ? -r : EIO));
        log_close();
        return r != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
