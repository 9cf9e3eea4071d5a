/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* iommuctl.c - iommuctl's command line: verbs joined by '+' run in order on one connection */
#include <assert.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "iommuctl.h"

#define PARSE_DONE (-1)         /* help or version printed: exit 0 without running */

#define GROUP_ARG       { ARG_GROUP }, { "GROUP" }
#define DEVICE_ARG      { ARG_DEVICE }, { "DEVICE" }
#define REGION_ARG      { ARG_REGION }, { "REGION" }
#define SPACE_ARG       { ARG_SPACE }, { "SPACE" }
#define SLOT_ARGS       { ARG_SPACE, ARG_DEVICE, ARG_PASID }, { "SPACE", "DEVICE", "PASID" }
/* A list verb: -o COLUMNS, the columns shown without it, and what an empty list says. */
#define LIST_OF(cols, n_default, none) \
        .options = columns_options, .pages = true, .columns = cols, .n_default_columns = n_default, .empty = none

/*
 * One entry per verb; a verb's options and columns live beside its code
 * (<verb>_options, <verb>_columns), so a new verb is one entry here.
 */
static const Verb verbs[] = {
        { "list", "List devices: group, driver, PCI ids and names, and who holds them",
          .needs_bus = true, .run = verb_list, LIST_OF(list_columns, 13, "No devices.") },
        { "show", "Show the properties of a group (by id) or a device (by name)",
          1, { ARG_OBJECT }, { "GROUP|DEVICE" }, .options = show_options,
          .needs_bus = true, .pages = true, .run = verb_show },
        { "groups", "List IOMMU groups: ownership, owner and devices",
          .needs_bus = true, .run = verb_groups, LIST_OF(groups_columns, 4, "No groups.") },
        { "status", "Show iommud's version and backend, and count groups, devices and bonds",
          .needs_bus = true, .pages = true, .run = verb_status },
        { "faults", "Count each device's page requests, by how they ended",
          .needs_bus = true, .run = verb_faults, LIST_OF(faults_columns, 6, "No devices.") },
        { "claim", "Take a group for user-managed DMA while this connection lasts",
          1, GROUP_ARG, .options = claim_options, .needs_bus = true, .connection_scoped = true,
          .run = verb_claim },
        { "release", "Give a claimed group back; its kernel drivers are rebound",
          1, GROUP_ARG, .needs_bus = true, .run = verb_release },
        { "revoke", "End whoever's claim of GROUP (root, or policy \"revoke\"); handed-out devices are taken back",
          1, GROUP_ARG, .needs_bus = true, .run = verb_revoke },
        { "detach-group", "Hold GROUP for the machine on vfio-pci (root, or policy \"admin-claim\"), even after a reboot",
          1, GROUP_ARG, .options = detach_group_options, .needs_bus = true, .run = verb_detach_group },
        { "reattach-group", "End GROUP's override: its devices go back to the drivers they had",
          1, GROUP_ARG, .needs_bus = true, .run = verb_reattach_group },
        { "list-overrides", "List the devices of the groups held for the machine, and the drivers to give back",
          .needs_bus = true, .run = verb_list_overrides,
          LIST_OF(overrides_columns, 5, "No overrides.") },
        { "open", "Open DEVICE of a claimed group for your own driver (unbound VFIO cdev); for exec's @fd:DEVICE",
          1, DEVICE_ARG, .needs_bus = true, .connection_scoped = true, .run = verb_open },
        { "iommufd", "Open an iommufd context of your own, for exec's @iommufd",
          .needs_bus = true, .run = verb_iommufd },
        { "exec", "Run '-- CMD ARGS...' with the opened fds, @iommufd and @fd:DEVICE replaced, until it exits",
          .options = exec_options,
          .needs_bus = true, .runs_until_signal = true, .run = verb_exec },
        { "pasid", "Allocate this connection's PASID (the same one every time); sets @pasid",
          .needs_bus = true, .connection_scoped = true,
          .run = verb_pasid, .sets_refs = REF_PASID },
        { "bind", "Bind this connection to DEVICE with SVA (claim its group first); sets @pasid",
          1, DEVICE_ARG, .needs_bus = true, .connection_scoped = true,
          .run = verb_bind, .sets_refs = REF_PASID },
        { "unbind", "Drop one user of a bond (BOND: /org/iommud1/bond/N or N)",
          1, { ARG_BOND }, { "BOND" }, .needs_bus = true, .run = verb_unbind },
        { "bonds", "List every client's SVA bonds",
          .needs_bus = true, .run = verb_bonds, LIST_OF(bonds_columns, 6, "No bonds.") },
        { "share", "Share SIZE bytes of new zeroed memory for DMA; sets @share and @region",
          1, { ARG_SIZE }, { "SIZE" }, .options = share_options,
          .needs_bus = true, .connection_scoped = true,
          .run = verb_share, .sets_refs = REF_SHARE | REF_REGION },
        { "unshare", "Remove a shared region (REGION: /org/iommud1/region/N, N or @region)",
          1, REGION_ARG, .needs_bus = true, .run = verb_unshare },
        { "regions", "List every client's shared memory regions",
          .needs_bus = true, .run = verb_regions, LIST_OF(regions_columns, 5, "No regions.") },
        { "space", "Create an I/O address space whose IOVAs you choose; sets @space",
          .needs_bus = true, .connection_scoped = true,
          .run = verb_space, .sets_refs = REF_SPACE },
        { "map", "Map LENGTH bytes of REGION, from REGION_OFFSET, at IOVA in SPACE",
          5, { ARG_SPACE, ARG_REGION, ARG_ADDRESS, ARG_ADDRESS, ARG_LENGTH },
          { "SPACE", "REGION", "REGION_OFFSET", "IOVA", "LENGTH" }, .options = map_options,
          .needs_bus = true, .connection_scoped = true, .run = verb_map },
        { "unmap", "Unmap the range that map mapped at IOVA in SPACE",
          3, { ARG_SPACE, ARG_ADDRESS, ARG_LENGTH }, { "SPACE", "IOVA", "LENGTH" },
          .needs_bus = true, .run = verb_unmap },
        { "attach", "Attach SPACE at DEVICE's PASID (default 0: the RID); claim its group first",
          3, SLOT_ARGS, .needs_bus = true, .connection_scoped = true,
          .run = verb_attach, .n_optional = 1 },
        { "detach", "Detach SPACE from DEVICE's PASID (default 0: the RID)",
          3, SLOT_ARGS, .needs_bus = true, .run = verb_detach, .n_optional = 1 },
        { "destroy", "Destroy SPACE: detach it everywhere, unmap it and free it",
          1, SPACE_ARG, .needs_bus = true, .run = verb_destroy },
        { "spaces", "List every client's I/O address spaces: mappings and attachments",
          .needs_bus = true, .run = verb_spaces, LIST_OF(spaces_columns, 4, "No spaces.") },
        { "reload", "Re-read the policy (root only); a bad policy is refused and the old one kept",
          .needs_bus = true, .run = verb_reload },
        { "probe", "Simulator: bind kernel driver DRIVER to DEVICE",
          2, { ARG_DEVICE, ARG_DRIVER }, { "DEVICE", "DRIVER" }, .options = probe_options,
          .needs_bus = true, .run = verb_probe },
        { "remove-driver", "Simulator: unbind DEVICE's kernel driver",
          1, DEVICE_ARG, .needs_bus = true, .run = verb_remove_driver },
        { "unplug", "Simulator: hot-unplug DEVICE; its bonds go stale",
          1, DEVICE_ARG, .needs_bus = true, .run = verb_unplug },
        { "dma", "Simulator: DEVICE reads, or writes, LENGTH bytes at ADDRESS through PASID",
          4, { ARG_DEVICE, ARG_PASID, ARG_ADDRESS, ARG_DMA_LENGTH },
          { "DEVICE", "PASID", "ADDRESS", "LENGTH" }, .options = dma_options,
          .needs_bus = true, .run = verb_dma, .validate = validate_dma },
        { "peek", "Show LENGTH bytes of iommuctl's own memory at ADDRESS (inside a share)",
          2, { ARG_ADDRESS, ARG_LENGTH }, { "ADDRESS", "LENGTH" }, .run = verb_peek },
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

static unsigned n_options(const Verb *v) {
        unsigned n = 0;

        while (v->options && v->options[n].name)
                n++;
        return n;
}

/* "--fill BYTE", "-o COLUMNS" */
static void print_option_name(FILE *f, const VerbOption *o) {
        if (o->short_name)
                fprintf(f, "-%c%s%s", o->short_name, o->value_name ? " " : "",
                        o->value_name ? o->value_name : "");
        else
                fprintf(f, "%s%s%s", o->name, o->value_name ? " " : "",
                        o->value_name ? o->value_name : "");
}

/* "claim GROUP [--detach-drivers]", "attach SPACE DEVICE [PASID]", "[--fill BYTE]" */
static void print_verb_synopsis(FILE *f, const Verb *v) {
        fputs(v->name, f);
        for (unsigned i = 0; i < v->n_args; i++)
                fprintf(f, i < v->n_args - v->n_optional ? " %s" : " [%s]", v->arg_name[i]);
        for (unsigned i = 0; i < n_options(v); i++) {
                fputs(" [", f);
                print_option_name(f, &v->options[i]);
                fputc(']', f);
        }
}

static void print_verb_usage(FILE *f, const Verb *v) {
        fputs("Usage: iommuctl [OPTIONS] ", f);
        print_verb_synopsis(f, v);
        fputc('\n', f);
}

static void print_columns(const Verb *v) {
        printf("\nColumns (-o): ");
        for (unsigned i = 0; v->columns[i]; i++)
                printf("%s%s", i ? "," : "", v->columns[i]);
        printf("\nShown without -o: ");
        for (unsigned i = 0; i < v->n_default_columns && v->columns[i]; i++)
                printf("%s%s", i ? "," : "", v->columns[i]);
        printf("\n");
}

static void print_verb_help(const Verb *v) {
        print_verb_usage(stdout, v);
        printf("\n%s.\n", v->help);
        if (n_options(v) > 0) {
                printf("\nOptions:\n");
                for (unsigned i = 0; i < n_options(v); i++) {
                        const VerbOption *o = &v->options[i];
                        char name[64] = "";
                        FILE *f = fmemopen(name, sizeof(name) - 1, "w");

                        if (f) {
                                if (o->short_name)
                                        fprintf(f, "-%c, ", o->short_name);
                                fprintf(f, "%s%s%s", o->name, o->value_name ? "=" : "",
                                        o->value_name ? o->value_name : "");
                                fclose(f);
                        }
                        printf("  %-22s %s\n", name, o->help);
                }
        }
        if (v->columns)
                print_columns(v);
        if (v->runs_until_signal)
                printf("\nIt runs until SIGINT or SIGTERM, so it must be the last verb.\n");
}

static void print_help(void) {
        printf("Usage: iommuctl [OPTIONS] [VERB [ARGS...] [+ VERB [ARGS...]]...]\n\n"
               "Query and use iommud, the IOMMU group daemon, over the system bus.\n"
               "With no verb, iommuctl lists the devices ('list').\n"
               "Verbs joined by a lone '+' run in order on one bus connection. What a\n"
               "connection claims or binds is released when it closes, so end with 'hold'\n"
               "to keep it: iommuctl claim 1 + bind 00:02.0 + hold\n"
               "Arguments may name results of earlier verbs: @pasid, @share (or @share+N),\n"
               "@region, @space. A DEVICE may be given as lspci prints it (00:02.0) when\n"
               "its PCI domain is 0000.\n\nVerbs:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                char synopsis[128] = "";
                FILE *f = fmemopen(synopsis, sizeof(synopsis) - 1, "w");

                if (f) {
                        print_verb_synopsis(f, &verbs[i]);
                        fclose(f);
                } else
                        snprintf(synopsis, sizeof(synopsis), "%s", verbs[i].name);
                if (strlen(synopsis) > 36)      /* the long ones get a line of their own */
                        printf("  %s\n  %-36s %s\n", synopsis, "", verbs[i].help);
                else
                        printf("  %-36s %s\n", synopsis, verbs[i].help);
        }
        printf("\nOptions:\n"
               "  --json=MODE     print JSON instead of tables: 'short' (one document per verb\n"
               "                  and line; also plain --json), 'pretty' (indented) or 'off'\n"
               "  -j              --json=pretty on a terminal, --json=short otherwise\n"
               "  --no-legend     print tables without their header line and without\n"
               "                  the line that says a list is empty\n"
               "  --no-pager      do not send lists through a pager ($IOMMUCTL_PAGER,\n"
               "                  $SYSTEMD_PAGER or $PAGER, else less) on a terminal\n"
               "  -h, --help      show this help; 'iommuctl VERB --help' shows a verb's usage\n"
               "  --version       show iommuctl's version\n\n"
               "Exit status: 0 success, 1 iommud refused (its message says why), 2 usage\n"
               "error, 3 iommud or the bus cannot be reached.\n"
               "The bus is the system bus, or $DBUS_SYSTEM_BUS_ADDRESS when set.\n");
}

int ctl_usage_error(const Verb *v, const char *fmt, ...) {
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

const char *command_value(const Command *cmd, unsigned flag) {
        for (unsigned k = cmd->n_values; k > 0; k--)
                if (cmd->values[k - 1].flag == flag)
                        return cmd->values[k - 1].value;
        return NULL;
}

/* getopt_long values of the options iommuctl takes anywhere; a verb's k-th is VERB_OPTION + k. */
enum {
        OPTION_JSON = 0x100,
        OPTION_NO_LEGEND,
        OPTION_NO_PAGER,
        OPTION_VERSION,
        VERB_OPTION = 0x200,
};

#define GLOBAL_LONG_OPTIONS \
        { "json", optional_argument, NULL, OPTION_JSON }, \
        { "no-legend", no_argument, NULL, OPTION_NO_LEGEND }, \
        { "no-pager", no_argument, NULL, OPTION_NO_PAGER }, \
        { "help", no_argument, NULL, 'h' }

/* Options allowed anywhere: returns 1 if c was one, or an exit code for a bad value. */
static int global_option(Ctx *ctx, int c, const char *value) {
        switch (c) {
        case OPTION_JSON:
                if (!value || strcmp(value, "short") == 0)
                        ctx->json = true, ctx->json_pretty = false;
                else if (strcmp(value, "pretty") == 0)
                        ctx->json = true, ctx->json_pretty = true;
                else if (strcmp(value, "off") == 0)
                        ctx->json = false;
                else
                        return ctl_usage_error(NULL, "invalid --json mode '%s': expected short, "
                                               "pretty or off, as in --json=pretty", value);
                return 1;
        case 'j':
                ctx->json = true;
                ctx->json_pretty = isatty(STDOUT_FILENO);
                return 1;
        case OPTION_NO_LEGEND:
                ctx->legend = false;
                return 1;
        case OPTION_NO_PAGER:
                ctx->pager = false;
                return 1;
        default:
                return 0;
        }
}

/* What getopt_long found wrong, said in a usage error. */
static int option_error(const Verb *v, int c, char **argv) {
        const char *arg = argv[optind - 1];

        if (c == ':')
                return ctl_usage_error(v, "option '%s' needs a value", arg);
        if (optopt && optopt < 0x100)
                return ctl_usage_error(v, "unknown option '-%c'", optopt);
        return ctl_usage_error(v, "unknown option '%s'", arg);
}

/* The getopt_long tables of one verb: its own options and the global ones. */
typedef struct VerbGetopt {
        struct option longopts[VERB_MAX_OPTIONS + 5];
        char shortopts[4 + 2 * VERB_MAX_OPTIONS];
} VerbGetopt;

static void verb_getopt(const Verb *v, VerbGetopt *g) {
        const struct option global[] = { GLOBAL_LONG_OPTIONS, { NULL, 0, NULL, 0 } };
        unsigned n = n_options(v), k;
        char *p = g->shortopts;

        assert(n <= VERB_MAX_OPTIONS);
        *p++ = ':';     /* a missing value returns ':' */
        *p++ = 'h';
        *p++ = 'j';
        for (k = 0; k < n; k++) {
                const VerbOption *o = &v->options[k];

                g->longopts[k] = (struct option) { o->name + 2,
                        o->value_name ? required_argument : no_argument, NULL, VERB_OPTION + (int)k };
                if (o->short_name) {
                        *p++ = o->short_name;
                        if (o->value_name)
                                *p++ = ':';
                }
        }
        *p = 0;
        memcpy(&g->longopts[k], global, sizeof(global));
}

/* The index among v's options of the one getopt_long returned as c, or -1. */
static int verb_option_index(const Verb *v, int c) {
        for (unsigned k = 0; k < n_options(v); k++)
                if (c == VERB_OPTION + (int)k || (v->options[k].short_name && c == v->options[k].short_name))
                        return (int)k;
        return -1;
}

static int add_option_value(Command *cmd, const VerbOption *o, const char *value) {
        if (!o->repeats)
                for (unsigned k = 0; k < cmd->n_values; k++)
                        if (cmd->values[k].flag == o->flag) {
                                cmd->values[k].value = value;   /* the last one counts */
                                return 0;
                        }
        if (cmd->n_values >= VERB_MAX_VALUES)
                return ctl_usage_error(cmd->verb, "too many %s options (at most %d)", o->name,
                                       VERB_MAX_VALUES);
        cmd->values[cmd->n_values++] = (OptionValue) { o->flag, o->value_kind, value };
        return 0;
}

/* Normalizes a short PCI address argument ("00:02.0") to the daemon's name in cmd. */
static void full_device_argument(Command *cmd, unsigned i) {
        if (device_full_name(cmd->args[i], cmd->full_device[i], sizeof(cmd->full_device[i])) > 0)
                cmd->args[i] = cmd->full_device[i];
}

/*
 * Checks the arguments and option values of one command against its verb.
 * refs: what the verbs before it will have set by the time it runs.
 */
static int check_arguments(Command *cmd, unsigned n_args, unsigned refs) {
        const Verb *v = cmd->verb;
        const char *why, *bad;
        size_t len;

        if (n_args < v->n_args - v->n_optional)
                return ctl_usage_error(v, "missing argument %s", v->arg_name[n_args]);
        for (unsigned i = 0; i < n_args; i++) {
                if (check_argument(v->arg_kind[i], cmd->args[i], refs, &why) < 0)
                        return ctl_usage_error(v, "invalid %s '%s': %s", v->arg_name[i],
                                               cmd->args[i], why);
                if (v->arg_kind[i] == ARG_DEVICE || v->arg_kind[i] == ARG_OBJECT)
                        full_device_argument(cmd, i);
        }
        for (unsigned k = 0; k < cmd->n_values; k++) {
                const OptionValue *o = &cmd->values[k];

                if (o->kind == ARG_COLUMNS) {
                        len = columns_check(v->columns, o->value, &bad);
                        if (len > 0)
                                return ctl_usage_error(v, "unknown column '%.*s' in -o %s; "
                                                       "'iommuctl %s --help' lists them",
                                                       (int)len, bad, o->value, v->name);
                } else if (check_argument(o->kind, o->value, refs, &why) < 0)
                        return ctl_usage_error(v, "invalid value '%s': %s", o->value, why);
        }
        why = v->validate ? v->validate(cmd) : NULL;
        if (why)
                return ctl_usage_error(v, "%s", why);
        return 0;
}

/*
 * Parses one "VERB [ARGS...]" with getopt_long, up to the next lone '+' or
 * the end, starting at argv[*i]; leaves *i there. getopt_long reorders that
 * stretch of argv (options may come after arguments), nothing beyond it.
 */
static int parse_command(Ctx *ctx, int argc, char **argv, int *i, Command *cmd, unsigned refs) {
        int end, c, k, r, sub_argc;
        unsigned n_args = 0;
        char **sub_argv;
        VerbGetopt g;

        if (*i >= argc || strcmp(argv[*i], "+") == 0)
                return ctl_usage_error(NULL, "%s", "'+' must be followed by a verb");
        cmd->verb = find_verb(argv[*i]);
        if (!cmd->verb)
                return ctl_usage_error(NULL, "unknown verb '%s'", argv[*i]);
        for (end = *i + 1; end < argc && strcmp(argv[end], "+") != 0; end++)
                ;
        sub_argv = argv + *i;
        sub_argc = end - *i;
        *i = end;

        verb_getopt(cmd->verb, &g);
        opterr = 0;
        optind = 0;     /* glibc: start afresh for this stretch */
        while ((c = getopt_long(sub_argc, sub_argv, g.shortopts, g.longopts, NULL)) != -1) {
                if (c == 'h') {
                        print_verb_help(cmd->verb);
                        return PARSE_DONE;
                }
                r = global_option(ctx, c, optarg);
                if (r > 1)
                        return r;
                if (r == 1)
                        continue;
                k = verb_option_index(cmd->verb, c);
                if (k < 0)
                        return option_error(cmd->verb, c, sub_argv);
                cmd->flags |= cmd->verb->options[k].flag;
                if (cmd->verb->options[k].value_name &&
                    (r = add_option_value(cmd, &cmd->verb->options[k], optarg)) != 0)
                        return r;
        }
        for (; optind < sub_argc; optind++) {
                if (n_args >= cmd->verb->n_args)
                        return ctl_usage_error(cmd->verb, "unexpected argument '%s'",
                                               sub_argv[optind]);
                cmd->args[n_args++] = sub_argv[optind];
        }
        return check_arguments(cmd, n_args, refs);
}

/* Options before the first verb. Leaves *i at the first verb, or at argc for none. */
static int parse_global_options(Ctx *ctx, int argc, char **argv, int *i) {
        const struct option longopts[] = {
                GLOBAL_LONG_OPTIONS,
                { "version", no_argument, NULL, OPTION_VERSION },
                { NULL, 0, NULL, 0 }
        };
        int c, r;

        opterr = 0;
        optind = 0;
        /* '+': stop at the verb, whose options are its own */
        while ((c = getopt_long(argc, argv, "+:hj", longopts, NULL)) != -1) {
                if (c == 'h') {
                        print_help();
                        return PARSE_DONE;
                }
                if (c == OPTION_VERSION) {
                        printf("iommuctl %s\n", PROJECT_VERSION);
                        return PARSE_DONE;
                }
                r = global_option(ctx, c, optarg);
                if (r > 1)
                        return r;
                if (r == 0)
                        return option_error(NULL, c, argv);
        }
        *i = optind;
        return 0;
}

/*
 * The whole command line is checked before anything runs, so that a typo in
 * the third verb does not leave the first one done. No verb at all is 'list'.
 */
static int parse_command_line(Ctx *ctx, int argc, char **argv, Command *cmds, size_t *ret_n) {
        static char list_name[] = "list";
        char *default_argv[] = { list_name, NULL };
        unsigned refs = 0;
        size_t n = 0;
        int i, r;

        r = parse_global_options(ctx, argc, argv, &i);
        if (r != 0)
                return r;
        if (i >= argc) {
                i = 0;
                r = parse_command(ctx, 1, default_argv, &i, &cmds[0], 0);
                *ret_n = 1;
                return r;
        }
        for (;;) {
                r = parse_command(ctx, argc, argv, &i, &cmds[n], refs);
                if (r != 0)
                        return r;
                refs |= cmds[n].verb->sets_refs;
                n++;
                if (i >= argc)
                        break;
                if (cmds[n - 1].verb->runs_until_signal)
                        return ctl_usage_error(cmds[n - 1].verb, "%s",
                                           "runs until interrupted, so it must be the last verb");
                i++;    /* the '+' */
        }
        *ret_n = n;
        return 0;
}

/* Only a command line of verbs that print for reading is paged: never a claim or a monitor. */
static bool paged(const Command *cmds, size_t n) {
        for (size_t k = 0; k < n; k++)
                if (!cmds[k].verb->pages)
                        return false;
        return true;
}

static int run_commands(Ctx *ctx, const Command *cmds, size_t n) {
        int r;

        for (size_t k = 0; k < n; k++) {
                ctx->verb = cmds[k].verb->name;
                ctx->cmd = &cmds[k];
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
        shares_free(ctx);       /* after the connection: iommud has let go of them */
        handouts_free(ctx);
        ctx->region = mfree(ctx->region);
        ctx->space = mfree(ctx->space);
        holders_free(ctx);
        pci_names_free();
        pager_close();          /* waits for the pager, so the shell prompt comes after it */
}

int main(int argc, char **argv) {
        _cleanup_(ctx_done) Ctx ctx = { .legend = true, .pager = true };
        _cleanup_(freep) Command *cmds = NULL;
        size_t n = 0;
        int r;

        exec_prepare(&ctx, &argc, argv);
        cmds = calloc(argc > 0 ? (size_t)argc : 1, sizeof(Command));
        if (!cmds) {
                fprintf(stderr, "iommuctl: out of memory\n");
                return EXIT_REFUSED;
        }
        r = parse_command_line(&ctx, argc, argv, cmds, &n);
        if (r != 0)
                return r == PARSE_DONE ? 0 : r;
        if (ctx.pager && paged(cmds, n))
                pager_open(&ctx);
        return run_commands(&ctx, cmds, n);
}
