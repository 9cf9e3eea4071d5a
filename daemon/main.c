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
               "                                 give back, even after a crash (default: %s)\n"
               "  --check-policy=PATH            validate a policy file or directory and exit 0 or 1\n"
               "  -h --help                      show this help\n"
               "  --version                      show the version\n\n"
               "The bus is the system bus, or DBUS_SYSTEM_BUS_ADDRESS where it is set.\n",
               IOMMUD_BUS_NAME, IOMMUD_DEFAULT_POLICY, IOMMUD_DEFAULT_STATE_DIR);
}

/* The class --backend=name chose; -EINVAL: no such backend, -EOPNOTSUPP:
 * this iommud was built without it. Says which. */
static int parse_backend(const char *name, const BackendClass **ret) {
        const BackendClass *c = backend_class_find(name);

        if (!c) {
                fprintf(stderr, "iommud: unknown backend \"%s\"; use sim, kernel or selftest.\n", name);
                return -EINVAL;
        }
        if (!c->new) {
                fprintf(stderr, "iommud: this iommud was built without the %s backend; "
                        "build it with meson setup -D%s=true.\n", name, name);
                return -EOPNOTSUPP;
        }
        *ret = c;
        return 0;
}

/* Returns -1 to go on, or an exit status. */
static int parse_argv(int argc, char *argv[], DaemonConfig *cfg) {
        enum { ARG_BACKEND = 0x100, ARG_SIM, ARG_TOPOLOGY, ARG_POLICY, ARG_STATE_DIR, ARG_CHECK_POLICY,
               ARG_VERSION };
        static const struct option options[] = {
                { "backend",      required_argument, NULL, ARG_BACKEND },
                { "sim",          no_argument,       NULL, ARG_SIM },
                { "topology",     required_argument, NULL, ARG_TOPOLOGY },
                { "policy",       required_argument, NULL, ARG_POLICY },
                { "state-dir",    required_argument, NULL, ARG_STATE_DIR },
                { "check-policy", required_argument, NULL, ARG_CHECK_POLICY },
                { "help",         no_argument,       NULL, 'h' },
                { "version",      no_argument,       NULL, ARG_VERSION },
                { NULL, 0, NULL, 0 }
        };
        bool have_backend = false;
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case ARG_BACKEND:
                        if (parse_backend(optarg, &cfg->backend) < 0)
                                return EXIT_FAILURE;
                        have_backend = true;
                        break;
                case ARG_SIM:
                        if (parse_backend("sim", &cfg->backend) < 0)
                                return EXIT_FAILURE;
                        have_backend = true;
                        break;
                case ARG_TOPOLOGY:
                        cfg->topology = optarg;
                        break;
                case ARG_POLICY:
                        cfg->policy = optarg;
                        break;
                case ARG_STATE_DIR:
                        if (optarg[0] != '/') {
                                fprintf(stderr, "iommud: --state-dir needs an absolute path, not \"%s\".\n", optarg);
                                return EXIT_FAILURE;
                        }
                        cfg->state_dir = optarg;
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
        if (optind < argc) {
                fprintf(stderr, "iommud: unexpected argument \"%s\"; try 'iommud --help'.\n", argv[optind]);
                return EXIT_FAILURE;
        }
        if (!have_backend) {
                if (access("/dev/iommu", F_OK) < 0) {
                        fprintf(stderr, "iommud: /dev/iommu does not exist: this kernel has no iommufd "
                                "(CONFIG_IOMMUFD, Linux 6.2 or later).\nTo try iommud without an IOMMU, run "
                                "the simulation: iommud --sim\n");
                        return EXIT_FAILURE;
                }
                if (parse_backend("kernel", &cfg->backend) < 0)
                        return EXIT_FAILURE;
        }
        if (cfg->topology && !cfg->backend->takes_topology) {
                fprintf(stderr, "iommud: --topology is for the sim backend only.\n");
                return EXIT_FAILURE;
        }
        return -1;
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
                fprintf(stderr, "iommud: cannot start: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }
        /* 0 after SIGTERM or SIGINT; anything else is a failure (the bus gone, the loop broken). */
        r = daemon_run(d);
        if (r != 0) {
                fprintf(stderr, "iommud: exiting with a failure: %s\n", strerror(r < 0 ? -r : EIO));
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}
