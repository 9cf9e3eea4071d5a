/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* iommuctl.h - the command-line client's verbs, command line and bus helpers */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "json.h"
#include "table.h"

#define IOMMUD_SERVICE          "org.iommud1"
#define IOMMUD_PATH             "/org/iommud1"
#define IOMMUD_BOND_PREFIX      "/org/iommud1/bond"
#define IOMMUD_MANAGER          "org.iommud1.Manager"
#define IOMMUD_GROUP            "org.iommud1.Group"
#define IOMMUD_DEVICE           "org.iommud1.Device"
#define IOMMUD_BOND             "org.iommud1.Bond"
#define IOMMUD_SIMULATOR        "org.iommud1.Simulator"
#define IOMMUD_ERROR_PREFIX     "org.iommud1.Error."

#define CLAIM_DETACH_KERNEL_DRIVERS (UINT64_C(1) << 0)

/* Exit codes; docs/iommuctl.md lists them. */
enum {
        EXIT_REFUSED = 1,       /* the daemon refused, or failed in an unexpected way */
        EXIT_USAGE = 2,         /* the command line is wrong; nothing was run */
        EXIT_UNREACHABLE = 3,   /* no bus, or iommud is not on it */
};

/* Verb options, as bits of Command.flags. */
enum {
        OPT_DETACH_DRIVERS = 1 << 0,
        OPT_MANAGED_DMA = 1 << 1,
};

typedef enum ArgKind {
        ARG_GROUP,              /* a group id: decimal, 32 bits */
        ARG_DEVICE,             /* a device name as the daemon lists it */
        ARG_DRIVER,             /* a kernel driver name */
        ARG_BOND,               /* /org/iommud1/bond/N or N */
        ARG_SECONDS,            /* a non-negative decimal number of seconds */
} ArgKind;

#define VERB_MAX_ARGS 2
#define VERB_MAX_OPTIONS 2

typedef struct Ctx Ctx;
typedef struct Command Command;

typedef struct VerbOption {
        const char *name;       /* "--detach-drivers" */
        unsigned flag;
        const char *help;
} VerbOption;

typedef struct Verb {
        const char *name;
        const char *help;       /* one line for --help */
        unsigned n_args;        /* every argument is required */
        ArgKind arg_kind[VERB_MAX_ARGS];
        const char *arg_name[VERB_MAX_ARGS];
        VerbOption options[VERB_MAX_OPTIONS];
        bool needs_bus;
        bool runs_until_signal; /* must be the last verb of the command line */
        bool connection_scoped; /* what it makes ends with the connection */
        int (*run)(Ctx *ctx, const Command *cmd);
} Verb;

struct Command {
        const Verb *verb;
        const char *args[VERB_MAX_ARGS];
        unsigned flags;
};

struct Ctx {
        sd_bus *bus;            /* one connection for every verb of the command line */
        const char *verb;       /* the verb running, for messages */
        bool json;
        bool legend;
};

/* argument.c: the parsers the command line validates with, reused by verbs */
int parse_group(const char *s, uint32_t *ret);
int parse_seconds(const char *s, uint64_t *ret_usec);
int parse_bond(const char *s, char **ret_path);
int check_argument(ArgKind kind, const char *s, const char **ret_why);

/* bus.c: one connection, calls, and errors a person can act on */
int ctl_connect(Ctx *ctx);
int ctl_fail(Ctx *ctx, int r, const sd_bus_error *error);
int ctl_bad_reply(Ctx *ctx, int r);
int ctl_call(Ctx *ctx, const char *path, const char *iface, const char *member,
             sd_bus_message **ret_reply, const char *types, ...);
bool ctl_error_is_unreachable(int r, const sd_bus_error *error);
bool ctl_error_is_missing_object(const sd_bus_error *error);
int ctl_print_table(Ctx *ctx, Table *t);
int ctl_finish_json(Ctx *ctx, Json *j);
int ctl_write(Ctx *ctx, const char *text);

/* properties.c: GetAll into C variables */
typedef struct Property {
        const char *name;
        const char *signature;  /* "s", "o", "u", "q", "b" or "as" */
        void *ret;              /* const char **, uint32_t *, uint16_t *, bool *, char *** */
} Property;

int bus_get_properties(sd_bus *bus, const char *path, const char *iface,
                       const Property *props, size_t n_props,
                       sd_bus_message **ret_reply, sd_bus_error *error);
char **strv_free(char **l);
DEFINE_POINTER_CLEANUP(char *, strv_free)
char *strv_join(char **l, const char *sep);
int emit_value(sd_bus_message *m, Json *j);

/* verbs-query.c */
int verb_list(Ctx *ctx, const Command *cmd);
int verb_groups(Ctx *ctx, const Command *cmd);
int verb_status(Ctx *ctx, const Command *cmd);
int verb_bonds(Ctx *ctx, const Command *cmd);

/* verbs-action.c */
int verb_claim(Ctx *ctx, const Command *cmd);
int verb_release(Ctx *ctx, const Command *cmd);
int verb_pasid(Ctx *ctx, const Command *cmd);
int verb_bind(Ctx *ctx, const Command *cmd);
int verb_unbind(Ctx *ctx, const Command *cmd);
int verb_reload(Ctx *ctx, const Command *cmd);
int verb_probe(Ctx *ctx, const Command *cmd);
int verb_remove_driver(Ctx *ctx, const Command *cmd);
int verb_unplug(Ctx *ctx, const Command *cmd);

/* monitor.c */
int verb_monitor(Ctx *ctx, const Command *cmd);
int verb_hold(Ctx *ctx, const Command *cmd);
int verb_sleep(Ctx *ctx, const Command *cmd);
