/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* iommuctl.c - iommuctl's command line: verbs joined by '+' run in order on one connection */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "iommuctl.h"

#define PARSE_DONE (-1)         /* help or version printed: exit 0 without running */

/* A verb option without a value, and one that takes VALUE of kind KIND. */
#define FLAG(name, flag, help)                  { name, flag, help, NULL, 0 }
#define VALUE(name, flag, help, value, kind)    { name, flag, help, value, kind }

#define GROUP_ARG       { ARG_GROUP }, { "GROUP" }
#define DEVICE_ARG      { ARG_DEVICE }, { "DEVICE" }
#define REGION_ARG      { ARG_REGION }, { "REGION" }
#define SPACE_ARG       { ARG_SPACE }, { "SPACE" }
#define SLOT_ARGS       { ARG_SPACE, ARG_DEVICE, ARG_PASID }, { "SPACE", "DEVICE", "PASID" }

static const Verb verbs[] = {
        { "list", "List devices: group, kernel driver, PASID and PRI support",
          .needs_bus = true, .run = verb_list },
        { "groups", "List IOMMU groups: ownership, owner and devices",
          .needs_bus = true, .run = verb_groups },
        { "status", "Show iommud's version and backend, and count groups, devices and bonds",
          .needs_bus = true, .run = verb_status },
        { "faults", "Count each device's page requests, by how they ended",
          .needs_bus = true, .run = verb_faults },
        { "claim", "Take a group for user-managed DMA while this connection lasts",
          1, GROUP_ARG,
          { FLAG("--detach-drivers", OPT_DETACH_DRIVERS,
                 "unbind the group's DMA-API kernel drivers first; they are rebound on release"),
            VALUE("--for-pid", OPT_FOR_PID, "hold the claim for process PID until it exits, even after "
                  "this connection closes (ClaimGroupForProcess)", "PID", ARG_PID) },
          .needs_bus = true, .connection_scoped = true,
          .run = verb_claim },
        { "release", "Give a claimed group back; its kernel drivers are rebound",
          1, GROUP_ARG, .needs_bus = true, .run = verb_release },
        { "revoke", "End whoever's claim of GROUP (root, or policy \"revoke\"); handed-out devices are taken back",
          1, GROUP_ARG, .needs_bus = true, .run = verb_revoke },
        { "open", "Open DEVICE of a claimed group for your own driver (unbound VFIO cdev); for exec's @fd:DEVICE",
          1, DEVICE_ARG, .needs_bus = true, .connection_scoped = true, .run = verb_open },
        { "iommufd", "Open an iommufd context of your own, for exec's @iommufd",
          .needs_bus = true, .run = verb_iommufd },
        { "exec", "Run '-- CMD ARGS...' with the opened fds, @iommufd and @fd:DEVICE replaced, until it exits",
          .options = { FLAG("--ignore-memlock", OPT_IGNORE_MEMLOCK, "start CMD even if RLIMIT_MEMLOCK is too "
                            "low for the guest RAM of qemu-system-*'s -m") },
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
          .needs_bus = true, .run = verb_bonds },
        { "share", "Share SIZE bytes of new zeroed memory for DMA; sets @share and @region",
          1, { ARG_SIZE }, { "SIZE" },
          { FLAG("--read-only", OPT_READ_ONLY, "devices may read the memory but not write it"),
            VALUE("--at", OPT_AT, "map it at this address of iommuctl (page-aligned), for a device "
                  "that only reaches some addresses", "ADDRESS", ARG_ADDRESS) },
          .needs_bus = true, .connection_scoped = true,
          .run = verb_share, .sets_refs = REF_SHARE | REF_REGION },
        { "unshare", "Remove a shared region (REGION: /org/iommud1/region/N, N or @region)",
          1, REGION_ARG, .needs_bus = true, .run = verb_unshare },
        { "regions", "List every client's shared memory regions",
          .needs_bus = true, .run = verb_regions },
        { "space", "Create an I/O address space whose IOVAs you choose; sets @space",
          .needs_bus = true, .connection_scoped = true,
          .run = verb_space, .sets_refs = REF_SPACE },
        { "map", "Map LENGTH bytes of REGION, from REGION_OFFSET, at IOVA in SPACE",
          5, { ARG_SPACE, ARG_REGION, ARG_ADDRESS, ARG_ADDRESS, ARG_LENGTH },
          { "SPACE", "REGION", "REGION_OFFSET", "IOVA", "LENGTH" },
          { FLAG("--read-only", OPT_READ_ONLY, "devices may read the mapping but not write it") },
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
          .needs_bus = true, .run = verb_spaces },
        { "reload", "Re-read the policy (root only); a bad policy is refused and the old one kept",
          .needs_bus = true, .run = verb_reload },
        { "probe", "Simulator: bind kernel driver DRIVER to DEVICE",
          2, { ARG_DEVICE, ARG_DRIVER }, { "DEVICE", "DRIVER" },
          { FLAG("--managed-dma", OPT_MANAGED_DMA,
                 "the driver manages DMA itself (like vfio-pci) and does not count "
                 "as a DMA-API user") },
          .needs_bus = true, .run = verb_probe },
        { "remove-driver", "Simulator: unbind DEVICE's kernel driver",
          1, DEVICE_ARG, .needs_bus = true, .run = verb_remove_driver },
        { "unplug", "Simulator: hot-unplug DEVICE; its bonds go stale",
          1, DEVICE_ARG, .needs_bus = true, .run = verb_unplug },
        { "dma", "Simulator: DEVICE reads, or writes, LENGTH bytes at ADDRESS through PASID",
          4, { ARG_DEVICE, ARG_PASID, ARG_ADDRESS, ARG_DMA_LENGTH },
          { "DEVICE", "PASID", "ADDRESS", "LENGTH" },
          { VALUE("--fill", OPT_FILL, "write LENGTH copies of BYTE", "BYTE", ARG_BYTE),
            VALUE("--write", OPT_WRITE, "write these bytes; LENGTH must be their number",
                  "HEXBYTES", ARG_HEX) },
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

/* "claim GROUP [--detach-drivers]", "attach SPACE DEVICE [PASID]", "[--fill BYTE]" */
static void print_verb_synopsis(FILE *f, const Verb *v) {
        const VerbOption *o;

        fputs(v->name, f);
        for (unsigned i = 0; i < v->n_args; i++)
                fprintf(f, i < v->n_args - v->n_optional ? " %s" : " [%s]", v->arg_name[i]);
        for (unsigned i = 0; i < VERB_MAX_OPTIONS && v->options[i].name; i++) {
                o = &v->options[i];
                fprintf(f, " [%s%s%s]", o->name, o->value_name ? " " : "",
                        o->value_name ? o->value_name : "");
        }
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
                for (unsigned i = 0; i < VERB_MAX_OPTIONS && v->options[i].name; i++) {
                        const VerbOption *o = &v->options[i];
                        char name[64];

                        snprintf(name, sizeof(name), "%s%s%s", o->name, o->value_name ? " " : "",
                                 o->value_name ? o->value_name : "");
                        printf("  %-18s %s\n", name, o->help);
                }
        }
        if (v->runs_until_signal)
                printf("\nIt runs until SIGINT or SIGTERM, so it must be the last verb.\n");
}

static void print_help(void) {
        printf("Usage: iommuctl [OPTIONS] VERB [ARGS...] [+ VERB [ARGS...]]...\n\n"
               "Query and use iommud, the IOMMU group daemon, over the system bus.\n"
               "Verbs joined by a lone '+' run in order on one bus connection. What a\n"
               "connection claims or binds is released when it closes, so end with 'hold'\n"
               "to keep it: iommuctl claim 1 + bind 0000:00:02.0 + hold\n"
               "Arguments may name results of earlier verbs: @pasid, @share (or @share+N),\n"
               "@region, @space.\n\nVerbs:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                char synopsis[128];
                FILE *f = fmemopen(synopsis, sizeof(synopsis), "w");

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
               "  --json          print JSON, one document per verb and line, instead of tables\n"
               "  --no-legend     print tables without their header line\n"
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

/*
 * Returns 1 when argv[*i] is one of the verb's options (leaving *i on its
 * value, if it takes one: "--fill 0xab" or "--fill=0xab"), 0 when it is not,
 * or -1 when its value is missing (reported).
 */
static int verb_option(Command *cmd, int argc, char **argv, int *i) {
        const Verb *v = cmd->verb;
        const char *arg = argv[*i];

        for (unsigned k = 0; k < VERB_MAX_OPTIONS && v->options[k].name; k++) {
                const VerbOption *o = &v->options[k];
                size_t len = strlen(o->name);

                if (strncmp(arg, o->name, len) != 0 ||
                    (arg[len] && !(o->value_name && arg[len] == '=')))
                        continue;
                cmd->flags |= o->flag;
                if (!o->value_name)
                        return 1;
                if (arg[len] == '=')
                        cmd->values[k] = arg + len + 1;
                else if (*i + 1 < argc && strcmp(argv[*i + 1], "+") != 0)
                        cmd->values[k] = argv[++*i];
                else {
                        ctl_usage_error(v, "option %s needs a value %s", o->name, o->value_name);
                        return -1;
                }
                return 1;
        }
        return 0;
}

/*
 * Checks the arguments and option values of one command against its verb.
 * refs: what the verbs before it will have set by the time it runs.
 */
static int check_arguments(const Command *cmd, unsigned n_args, unsigned refs) {
        const Verb *v = cmd->verb;
        const char *why;

        if (n_args < v->n_args - v->n_optional)
                return ctl_usage_error(v, "missing argument %s", v->arg_name[n_args]);
        for (unsigned i = 0; i < n_args; i++)
                if (check_argument(v->arg_kind[i], cmd->args[i], refs, &why) < 0)
                        return ctl_usage_error(v, "invalid %s '%s': %s", v->arg_name[i],
                                               cmd->args[i], why);
        for (unsigned k = 0; k < VERB_MAX_OPTIONS; k++)
                if (cmd->values[k] &&
                    check_argument(v->options[k].value_kind, cmd->values[k], refs, &why) < 0)
                        return ctl_usage_error(v, "invalid %s '%s': %s", v->options[k].value_name,
                                               cmd->values[k], why);
        why = v->validate ? v->validate(cmd) : NULL;
        if (why)
                return ctl_usage_error(v, "%s", why);
        return 0;
}

/*
 * Parses one "VERB [ARGS...]" up to the next lone '+' or the end, starting
 * at argv[*i]; leaves *i after it.
 */
static int parse_command(Ctx *ctx, int argc, char **argv, int *i, Command *cmd, unsigned refs) {
        unsigned n_args = 0;
        const char *arg;
        int r;

        while (*i < argc && global_option(ctx, argv[*i]))
                (*i)++;
        if (*i >= argc || strcmp(argv[*i], "+") == 0)
                return ctl_usage_error(NULL, "%s", "'+' must be followed by a verb");
        cmd->verb = find_verb(argv[*i]);
        if (!cmd->verb)
                return ctl_usage_error(NULL, "unknown verb '%s'", argv[*i]);

        for ((*i)++; *i < argc && strcmp(argv[*i], "+") != 0; (*i)++) {
                arg = argv[*i];
                if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
                        print_verb_help(cmd->verb);
                        return PARSE_DONE;
                }
                if (global_option(ctx, arg))
                        continue;
                r = verb_option(cmd, argc, argv, i);
                if (r < 0)
                        return EXIT_USAGE;
                if (r > 0)
                        continue;
                if (arg[0] == '-' && arg[1] != 0)
                        return ctl_usage_error(cmd->verb, "unknown option '%s'", arg);
                if (n_args >= cmd->verb->n_args)
                        return ctl_usage_error(cmd->verb, "unexpected argument '%s'", arg);
                cmd->args[n_args++] = arg;
        }
        return check_arguments(cmd, n_args, refs);
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
                return ctl_usage_error(NULL, "unknown option '%s'", arg);
        }
        if (*i >= argc)
                return ctl_usage_error(NULL, "%s", "missing verb");
        return 0;
}

/*
 * The whole command line is checked before anything runs, so that a typo in
 * the third verb does not leave the first one done.
 */
static int parse_command_line(Ctx *ctx, int argc, char **argv, Command *cmds, size_t *ret_n) {
        unsigned refs = 0;
        size_t n = 0;
        int i, r;

        r = parse_global_options(ctx, argc, argv, &i);
        if (r != 0)
                return r;
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
}

int main(int argc, char **argv) {
        _cleanup_(ctx_done) Ctx ctx = { .legend = true };
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
        return run_commands(&ctx, cmds, n);
}
