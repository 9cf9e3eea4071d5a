/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* iommuctl.c - iommuctl's command line: verbs joined by '+' run in order on one connection */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "iommuctl.h"

#define PARSE_DONE (-1)         /* help or version printed: exit 0 without running */

#define GROUP_ARG       { ARG_GROUP }, { "GROUP" }
#define DEVICE_ARG      { ARG_DEVICE }, { "DEVICE" }

static const Verb verbs[] = {
        { "list", "List devices: group, kernel driver, PASID and PRI support",
          .needs_bus = true, .run = verb_list },
        { "groups", "List IOMMU groups: ownership, owner and devices",
          .needs_bus = true, .run = verb_groups },
        { "status", "Show iommud's version and backend, and count groups, devices and bonds",
          .needs_bus = true, .run = verb_status },
        { "claim", "Take a group for user-managed DMA while this connection lasts",
          1, GROUP_ARG,
          { { "--detach-drivers", OPT_DETACH_DRIVERS,
              "unbind the group's DMA-API kernel drivers first; they are rebound on release" } },
          .needs_bus = true, .connection_scoped = true,
          .run = verb_claim },
        { "release", "Give a claimed group back; its kernel drivers are rebound",
          1, GROUP_ARG, .needs_bus = true, .run = verb_release },
        { "pasid", "Allocate this connection's PASID (the same one every time)",
          .needs_bus = true, .connection_scoped = true,
          .run = verb_pasid },
        { "bind", "Bind this connection to a device with SVA; its group must be claimed",
          1, DEVICE_ARG, .needs_bus = true, .connection_scoped = true,
          .run = verb_bind },
        { "unbind", "Drop one user of a bond (BOND: /org/iommud1/bond/N or N)",
          1, { ARG_BOND }, { "BOND" }, .needs_bus = true, .run = verb_unbind },
        { "bonds", "List every client's SVA bonds",
          .needs_bus = true, .run = verb_bonds },
        { "reload", "Re-read the policy (root only); a bad policy is refused and the old one kept",
          .needs_bus = true, .run = verb_reload },
        { "probe", "Simulator: bind kernel driver DRIVER to DEVICE",
          2, { ARG_DEVICE, ARG_DRIVER }, { "DEVICE", "DRIVER" },
          { { "--managed-dma", OPT_MANAGED_DMA,
              "the driver manages DMA itself (like vfio-pci) and does not count as a DMA-API user" } },
          .needs_bus = true, .run = verb_probe },
        { "remove-driver", "Simulator: unbind DEVICE's kernel driver",
          1, DEVICE_ARG, .needs_bus = true, .run = verb_remove_driver },
        { "unplug", "Simulator: hot-unplug DEVICE; its bonds go stale",
          1, DEVICE_ARG, .needs_bus = true, .run = verb_unplug },
        { "monitor", "Print iommud's signals as they happen, until Ctrl-C",
          .needs_bus = true, .runs_until_signal = true, .run = verb_monitor },
        { "hold", "Keep this connection, and all it claimed or bound, until Ctrl-C",
          .needs_bus = true, .runs_until_signal = true, .run = verb_hold },
        { "sleep", "Wait SECONDS (may be fractional), then go on with the next verb",
          1, { ARG_SECONDS }, { "SECONDS" }, .run = verb_sleep },
};

static const Verb *find_verb(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (strcmp(verbs[i].name, name) == 0)
                        return &verbs[i];
        return NULL;
}

/* "claim GROUP [--detach-drivers]" */
static void print_verb_synopsis(FILE *f, const Verb *v) {
        fputs(v->name, f);
        for (unsigned i = 0; i < v->n_args; i++)
                fprintf(f, " %s", v->arg_name[i]);
        for (unsigned i = 0; i < VERB_MAX_OPTIONS && v->options[i].name; i++)
                fprintf(f, " [%s]", v->options[i].name);
}

static void print_verb_usage(FILE *f, const Verb *v) {
        fputs("Usage: iommuctl [--json] [--no-legend] ", f);
        print_verb_synopsis(f, v);
        fputc('\n', f);
}

static void print_verb_help(const Verb *v) {
        print_verb_usage(stdout, v);
        printf("\n%s.\n", v->help);
        if (v->options[0].name) {
                printf("\nOptions:\n");
                for (unsigned i = 0; i < VERB_MAX_OPTIONS && v->options[i].name; i++)
                        printf("  %-18s %s\n", v->options[i].name, v->options[i].help);
        }
        if (v->runs_until_signal)
                printf("\nIt runs until SIGINT or SIGTERM, so it must be the last verb.\n");
}

static void print_help(void) {
        printf("Usage: iommuctl [OPTIONS] VERB [ARGS...] [+ VERB [ARGS...]]...\n\n"
               "Query and use iommud, the IOMMU group daemon, over the system bus.\n"
               "Verbs joined by a lone '+' run in order on one bus connection. What a\n"
               "connection claims or binds is released when it closes, so end with 'hold'\n"
               "to keep it: iommuctl claim 1 + bind 0000:00:02.0 + hold\n\nVerbs:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                char synopsis[128];
                FILE *f = fmemopen(synopsis, sizeof(synopsis), "w");

                if (f) {
                        print_verb_synopsis(f, &verbs[i]);
                        fclose(f);
                } else
                        snprintf(synopsis, sizeof(synopsis), "%s", verbs[i].name);
                printf("  %-36s %s\n", synopsis, verbs[i].help);
        }
        printf("\nOptions:\n"
               "  --json          print JSON, one document per verb and line, instead of tables\n"
               "  --no-legend     print tables without their header line\n"
               "  -h, --help      show this help; 'iommuctl VERB --help' shows a verb's usage\n"
               "  --version       show iommuctl's version\n\n"
               "Exit status: 0 success, 1 iommud refused (its message says why), 2 usage\n"
               "error (nothing was run), 3 iommud or the bus cannot be reached.\n"
               "The bus is the system bus, or $DBUS_SYSTEM_BUS_ADDRESS when set.\n");
}

static int usage_error(const Verb *v, const char *fmt, ...) _attribute_printf_(2, 3);
static int usage_error(const Verb *v, const char *fmt, ...) {
        va_list ap;

        fprintf(stderr, "iommuctl: %s%s", v ? v->name : "", v ? ": " : "");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        if (v)
                print_verb_usage(stderr, v);
        else
                fprintf(stderr, "Try 'iommuctl --help'.\n");
        return EXIT_USAGE;
}

/* Options allowed anywhere: returns 1 if arg was one. */
static int global_option(Ctx *ctx, const char *arg) {
        if (strcmp(arg, "--json") == 0)
                ctx->json = true;
        else if (strcmp(arg, "--no-legend") == 0)
                ctx->legend = false;
        else
                return 0;
        return 1;
}

static int verb_option(const Verb *v, const char *arg, unsigned *flags) {
        for (unsigned i = 0; i < VERB_MAX_OPTIONS && v->options[i].name; i++)
                if (strcmp(v->options[i].name, arg) == 0) {
                        *flags |= v->options[i].flag;
                        return 1;
                }
        return 0;
}

/* Checks the positional arguments of one command against its verb. */
static int check_arguments(const Command *cmd, unsigned n_args) {
        const Verb *v = cmd->verb;
        const char *why;

        if (n_args < v->n_args)
                return usage_error(v, "missing argument %s", v->arg_name[n_args]);
        for (unsigned i = 0; i < v->n_args; i++)
                if (check_argument(v->arg_kind[i], cmd->args[i], &why) < 0)
                        return usage_error(v, "invalid %s '%s': %s", v->arg_name[i],
                                           cmd->args[i], why);
        return 0;
}

/*
 * Parses one "VERB [ARGS...]" up to the next lone '+' or the end, starting
 * at argv[*i]; leaves *i after it.
 */
static int parse_command(Ctx *ctx, int argc, char **argv, int *i, Command *cmd) {
        unsigned n_args = 0;
        const char *arg;

        while (*i < argc && global_option(ctx, argv[*i]))
                (*i)++;
        if (*i >= argc || strcmp(argv[*i], "+") == 0)
                return usage_error(NULL, "%s", "'+' must be followed by a verb");
        cmd->verb = find_verb(argv[*i]);
        if (!cmd->verb)
                return usage_error(NULL, "unknown verb '%s'", argv[*i]);

        for ((*i)++; *i < argc && strcmp(argv[*i], "+") != 0; (*i)++) {
                arg = argv[*i];
                if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
                        print_verb_help(cmd->verb);
                        return PARSE_DONE;
                }
                if (global_option(ctx, arg) || verb_option(cmd->verb, arg, &cmd->flags))
                        continue;
                if (arg[0] == '-' && arg[1] != 0)
                        return usage_error(cmd->verb, "unknown option '%s'", arg);
                if (n_args >= cmd->verb->n_args)
                        return usage_error(cmd->verb, "unexpected argument '%s'", arg);
                cmd->args[n_args++] = arg;
        }
        return check_arguments(cmd, n_args);
}

/* Options before the first verb. Leaves *i at the first verb. */
static int parse_global_options(Ctx *ctx, int argc, char **argv, int *i) {
        for (*i = 1; *i < argc && argv[*i][0] == '-' && strcmp(argv[*i], "+") != 0; (*i)++) {
                const char *arg = argv[*i];

                if (global_option(ctx, arg))
                        continue;
                if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
                        print_help();
                        return PARSE_DONE;
                }
                if (strcmp(arg, "--version") == 0) {
                        printf("iommuctl %s\n", PROJECT_VERSION);
                        return PARSE_DONE;
                }
                return usage_error(NULL, "unknown option '%s'", arg);
        }
        if (*i >= argc)
                return usage_error(NULL, "%s", "missing verb");
        return 0;
}

/*
 * The whole command line is checked before anything runs, so that a typo in
 * the third verb does not leave the first one done.
 */
static int parse_command_line(Ctx *ctx, int argc, char **argv, Command *cmds, size_t *ret_n) {
        size_t n = 0;
        int i, r;

        r = parse_global_options(ctx, argc, argv, &i);
        if (r != 0)
                return r;
        for (;;) {
                r = parse_command(ctx, argc, argv, &i, &cmds[n]);
                if (r != 0)
                        return r;
                n++;
                if (i >= argc)
                        break;
                if (cmds[n - 1].verb->runs_until_signal)
                        return usage_error(cmds[n - 1].verb, "%s",
                                           "runs until interrupted, so it must be the last verb");
                i++;    /* the '+' */
        }
        *ret_n = n;
        return 0;
}

static int run_commands(Ctx *ctx, const Command *cmds, size_t n) {
        int r;

        for (size_t k = 0; k < n; k++) {
                ctx->verb = cmds[k].verb->name;
                if (cmds[k].verb->needs_bus) {
                        r = ctl_connect(ctx);
                        if (r != 0)
                                return r;
                }
                r = cmds[k].verb->run(ctx, &cmds[k]);
                if (r != 0)
                        return r;
        }
        if (cmds[n - 1].verb->connection_scoped && isatty(STDERR_FILENO))
                fprintf(stderr, "iommuctl: note: this connection ends as iommuctl exits, and iommud "
                        "releases what it claimed or bound; add '+ hold' to keep it.\n");
        return 0;
}

static void ctx_done(Ctx *ctx) {
        ctx->bus = sd_bus_flush_close_unref(ctx->bus);
}

int main(int argc, char **argv) {
        _cleanup_(ctx_done) Ctx ctx = { .legend = true };
        _cleanup_(freep) Command *cmds = NULL;
        size_t n = 0;
        int r;

        cmds = calloc(argc > 0 ? (size_t)argc : 1, sizeof(Command));
        if (!cmds) {
                fprintf(stderr, "iommuctl: out of memory\n");
                return EXIT_REFUSED;
        }
        r = parse_command_line(&ctx, argc, argv, cmds, &n);
        if (r != 0)
                return r == PARSE_DONE ? 0 : r;
        return run_commands(&ctx, cmds, n);
}
