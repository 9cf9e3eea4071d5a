/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* iommuctl.h - the command-line client's verbs, command line and bus helpers */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "api/iommud.h"
#include "common/strv.h"

#include "json.h"
#include "table.h"

#define PAGE_SIZE_4K            UINT64_C(4096)

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
        OPT_READ_ONLY = 1 << 2,
        OPT_FILL = 1 << 3,
        OPT_WRITE = 1 << 4,
        OPT_AT = 1 << 5,
        OPT_COLUMNS = 1 << 6,   /* -o COLUMNS of the list verbs */
        OPT_PROPERTY = 1 << 7,  /* show -p NAME */
        OPT_VALUE = 1 << 8,     /* show --value */
        OPT_ALL = 1 << 9,       /* show -a */
        OPT_IGNORE_MEMLOCK = 1 << 10,   /* exec --ignore-memlock */
        OPT_FOR_PID = 1 << 11,  /* claim --for-pid PID */
        OPT_NOSAVE = 1 << 12,   /* detach-group --nosave */
};

/* Results of earlier verbs that later arguments may name ("@pasid"); bits. */
typedef enum Ref {
        REF_PASID = 1 << 0,     /* the PASID of the last pasid or bind */
        REF_SHARE = 1 << 1,     /* the address of the last share */
        REF_REGION = 1 << 2,    /* the region path of the last share */
        REF_SPACE = 1 << 3,     /* the path of the last space */
} Ref;

typedef enum ArgKind {
        ARG_GROUP,              /* a group id: decimal, 32 bits */
        ARG_DEVICE,             /* a device name as the daemon lists it */
        ARG_DRIVER,             /* a kernel driver name */
        ARG_BOND,               /* /org/iommud1/bond/N or N */
        ARG_SECONDS,            /* a non-negative decimal number of seconds */
        ARG_PASID,              /* 32 bits, or @pasid */
        ARG_ADDRESS,            /* 64 bits (addresses, IOVAs, offsets), or @share[+N] */
        ARG_LENGTH,             /* 64 bits, not zero */
        ARG_DMA_LENGTH,         /* 32 bits, not zero */
        ARG_SIZE,               /* a non-zero multiple of 4096 that fits a size_t */
        ARG_REGION,             /* /org/iommud1/region/N, N or @region */
        ARG_SPACE,              /* /org/iommud1/space/N, N or @space */
        ARG_BYTE,               /* 0 to 255 */
        ARG_HEX,                /* hex bytes: "abcd", "ab:cd" or "0xabcd" */
        ARG_COLUMNS,            /* column names, comma-separated: checked against the verb's */
        ARG_PROPERTY,           /* property names, comma-separated */
        ARG_OBJECT,             /* a group id or a device name, for show */
        ARG_PID,                /* a process id: decimal, above 0 */
} ArgKind;

#define VERB_MAX_ARGS 5
#define VERB_MAX_OPTIONS 4
#define VERB_MAX_VALUES 8       /* option values kept per command: -p NAME may repeat */
#define DEVICE_NAME_MAX 64      /* "0000:00:02.0", or a mock device's name */

typedef struct Ctx Ctx;
typedef struct Command Command;

/*
 * One option of a verb, parsed with getopt_long. Each verb's options are a
 * NULL-terminated array next to the verb's code, named <verb>_options.
 */
typedef struct VerbOption {
        const char *name;       /* "--detach-drivers" */
        unsigned flag;
        const char *help;
        const char *value_name; /* "BYTE" when it takes a value, else NULL */
        ArgKind value_kind;
        char short_name;        /* 'o' for -o, or 0 */
        bool repeats;           /* may be given more than once (-p A -p B) */
} VerbOption;

/* A verb option without a value, and one that takes VALUE of kind KIND. */
#define VERB_FLAG(name, flag, help)                     { name, flag, help, NULL, 0, 0, false }
#define VERB_VALUE(name, flag, help, value, kind)       { name, flag, help, value, kind, 0, false }

typedef struct Verb {
        const char *name;
        const char *help;       /* one line for --help */
        unsigned n_args;        /* the last n_optional of them may be left out */
        ArgKind arg_kind[VERB_MAX_ARGS];
        const char *arg_name[VERB_MAX_ARGS];
        const VerbOption *options;      /* at most VERB_MAX_OPTIONS, or NULL */
        bool needs_bus;
        bool runs_until_signal; /* must be the last verb of the command line */
        bool connection_scoped; /* what it makes ends with the connection */
        bool pages;             /* prints for reading: may go through the pager */
        int (*run)(Ctx *ctx, const Command *cmd);
        unsigned n_optional;
        unsigned sets_refs;     /* Ref bits a successful run sets */
        const char *(*validate)(const Command *cmd);    /* whole-command checks, or NULL */
        const char *const *columns;     /* a list verb's columns for -o, NULL-terminated */
        unsigned n_default_columns;     /* the first ones, shown without -o */
        const char *empty;              /* a list verb's line for no rows: "No groups." */
} Verb;

/* An option value given on the command line. */
typedef struct OptionValue {
        unsigned flag;          /* the option's */
        ArgKind kind;
        const char *value;
} OptionValue;

struct Command {
        const Verb *verb;
        const char *args[VERB_MAX_ARGS];        /* NULL: an optional one left out */
        OptionValue values[VERB_MAX_VALUES];    /* of the options that take one, in order */
        unsigned n_values;
        unsigned flags;
        /* "0000:00:02.0" for a short "00:02.0" argument, which args[] then points at */
        char full_device[VERB_MAX_ARGS][DEVICE_NAME_MAX];
};

/* The last value given for the option with this flag, or NULL. */
const char *command_value(const Command *cmd, unsigned flag);

/* Memory this iommuctl shared: mapped until it exits, or until unshare. */
typedef struct Share {
        void *address;
        size_t size;
        char *region;           /* its region's object path */
} Share;

/* A device this iommuctl opened for a command it runs (verbs-exec.c). */
typedef struct OpenedDevice {
        char *device;           /* owned */
        int fd;                 /* owned, the unbound VFIO cdev (or the sim's stand-in) */
} OpenedDevice;

struct Ctx {
        sd_bus *bus;            /* one connection for every verb of the command line */
        const char *verb;       /* the verb running, for messages */
        const Command *cmd;     /* the command running */
        bool json;
        bool json_pretty;       /* --json=pretty, or -j on a terminal */
        bool legend;
        bool pager;             /* page list output on a terminal, as systemd's tools do */
        struct Holders *holders;        /* who is behind each bus name, looked up once */

        unsigned refs;          /* Ref bits of the values below that are set */
        uint32_t pasid;
        uint64_t share_address;
        char *region, *space;

        Share *shares;
        size_t n_shares;

        /* verbs-exec.c: what "open", "iommufd" and "exec -- CMD" use. */
        OpenedDevice *opened;   /* owned */
        size_t n_opened;
        int iommufd;            /* owned, -1: none */
        char **exec_argv;       /* borrowed from main's argv: CMD and its arguments, or NULL */
        int exec_argc;
        int exec_stdout;        /* owned: iommuctl's stdout, kept for CMD (ours goes to stderr); -1: none */
};

/* iommuctl.c */
int ctl_usage_error(const Verb *v, const char *fmt, ...) _attribute_printf_(2, 3);

/* argument.c: the parsers the command line validates with, reused by verbs */
int parse_group(const char *s, uint32_t *ret);
int parse_seconds(const char *s, uint64_t *ret_usec);
int parse_bond(const char *s, char **ret_path);
int parse_number(const char *s, uint64_t *ret);
int parse_hex_bytes(const char *s, uint8_t **ret, size_t *ret_len);
int check_argument(ArgKind kind, const char *s, unsigned refs, const char **ret_why);
int arg_number(Ctx *ctx, const char *s, ArgKind kind, uint64_t *ret);
int arg_u32(Ctx *ctx, const char *s, ArgKind kind, uint32_t *ret);
int arg_path(Ctx *ctx, const char *s, ArgKind kind, char **ret);
const char *object_name(const char *path);

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
int ctl_call_message(Ctx *ctx, sd_bus_message *m, sd_bus_message **ret_reply);
int ctl_call_object(Ctx *ctx, const char *path, const char *iface, const char *member,
                    const char *what, const char *list_verb, sd_bus_message **ret_reply,
                    const char *types, ...);
void ctl_begin_json(Ctx *ctx, Json *j);
int ctl_done(Ctx *ctx, Json *j);

/* A table, or a JSON array built in memory, so that a failure prints no half list. */
typedef struct ListOutput {
        Table *table;           /* for people */
        Json json, *j;          /* for programs: j is &json, else NULL */
        FILE *mem;
        char *buf;
        size_t size;
} ListOutput;

/* The table's columns and its line for no rows come from ctx->cmd's verb. */
int list_output_begin(Ctx *ctx, ListOutput *o);
int list_output_end(Ctx *ctx, ListOutput *o, int r);

/* properties.c: GetAll into C variables */
typedef struct Property {
        const char *name;
        const char *signature;  /* "s", "o", "u", "q", "t", "b", "as", or any other with a parser */
        void *ret;              /* const char **, uint32_t *, uint16_t *, uint64_t *, bool *,
                                 * char ***, or for other signatures a const PropertyParser * */
} Property;

/* Reads a value of another signature, such as "a(su)", itself. */
typedef struct PropertyParser {
        int (*parse)(sd_bus_message *m, void *userdata);
        void *userdata;
} PropertyParser;

int bus_get_properties(sd_bus *bus, const char *path, const char *iface,
                       const Property *props, size_t n_props,
                       sd_bus_message **ret_reply, sd_bus_error *error);
int bus_read_properties(sd_bus_message *m, const char *path, const Property *props, size_t n_props);

/* Reads (or skips) all of one dict entry, which m has entered. */
typedef int (*BusEntryFn)(sd_bus_message *m, void *userdata);
int bus_for_each_entry(sd_bus_message *m, const char *contents, BusEntryFn fn, void *userdata);
int bus_read_dict(sd_bus_message *m, const char *contents, BusEntryFn fn, void *userdata);
int emit_value(sd_bus_message *m, Json *j);

/* holder.c: who is behind a bus name (uid, pid, command), for the OWNER columns */
typedef struct Holder {
        const char *bus_name;
        uint32_t uid;           /* UINT32_MAX: unknown */
        uint32_t pid;           /* 0: unknown */
        char comm[32];          /* "" when unknown */
        char user[64];          /* "" when the uid has no name */
} Holder;

#define HOLDER_COLUMNS "BUS-NAME", "UID", "USER", "PID", "COMM"
#define N_HOLDER_COLUMNS 5

const Holder *holder_lookup(Ctx *ctx, const char *bus_name);
void holders_free(Ctx *ctx);
/* The OWNER cell (":1.42 (uid 0 root, pid 42 iommuctl)"), and the HOLDER_COLUMNS cells. */
int holder_add_owner(Ctx *ctx, Table *t, const char *bus_name);
int holder_add_columns(Ctx *ctx, Table *t, const char *bus_name);
void holder_json(Ctx *ctx, Json *j, const char *key, const char *bus_name);

/* pci-names.c: vendor and device names from the PCI ID database */
const char *pci_vendor_name(uint16_t vendor, char *buf, size_t size);
const char *pci_device_name(uint16_t vendor, uint16_t device, char *buf, size_t size);
void pci_names_free(void);

/* pager.c: list output through less on a terminal, as systemd's tools do */
void pager_open(Ctx *ctx);
void pager_close(void);

/* errors.c: iommud's and the bus's errors as sentences for people */
void error_explain(Ctx *ctx, const sd_bus_error *error);
int error_print_message(Ctx *ctx, const sd_bus_error *error);      /* error->message is set */

/* verbs-show.c */
extern const VerbOption show_options[];
int verb_show(Ctx *ctx, const Command *cmd);

/* verbs-query.c */
#define ROW_END (-1)    /* a ReadRow's answer: the array has no more entries */

/* Reads one entry of a List* reply into t or j: 0, ROW_END, or an exit code it reported. */
typedef int (*ReadRow)(Ctx *ctx, sd_bus_message *reply, Table *t, Json *j, void *userdata);

extern const VerbOption columns_options[];
extern const char *const list_columns[], *const groups_columns[], *const bonds_columns[],
        *const faults_columns[];
int device_full_name(const char *s, char *buf, size_t size);
int list_verb(Ctx *ctx, const char *method, const char *signature, ReadRow read_row,
              void *userdata);
int verb_list(Ctx *ctx, const Command *cmd);
int verb_groups(Ctx *ctx, const Command *cmd);
int verb_status(Ctx *ctx, const Command *cmd);
int verb_bonds(Ctx *ctx, const Command *cmd);
int verb_faults(Ctx *ctx, const Command *cmd);

/* verbs-memory.c */
extern const VerbOption share_options[], dma_options[];
int verb_share(Ctx *ctx, const Command *cmd);
int verb_unshare(Ctx *ctx, const Command *cmd);
int verb_dma(Ctx *ctx, const Command *cmd);
int verb_peek(Ctx *ctx, const Command *cmd);
const char *validate_dma(const Command *cmd);
void shares_free(Ctx *ctx);

/* verbs-space.c */
extern const VerbOption map_options[];
int verb_space(Ctx *ctx, const Command *cmd);
int verb_map(Ctx *ctx, const Command *cmd);
int verb_unmap(Ctx *ctx, const Command *cmd);
int verb_attach(Ctx *ctx, const Command *cmd);
int verb_detach(Ctx *ctx, const Command *cmd);
int verb_destroy(Ctx *ctx, const Command *cmd);

/* verbs-objects.c */
extern const char *const regions_columns[], *const spaces_columns[];
int verb_spaces(Ctx *ctx, const Command *cmd);
int verb_regions(Ctx *ctx, const Command *cmd);

/* verbs-action.c */
extern const VerbOption claim_options[], probe_options[];
int verb_claim(Ctx *ctx, const Command *cmd);
int verb_release(Ctx *ctx, const Command *cmd);
/* Calls Manager method with the group id of the verb's first argument and
 * says "DONE group N TAIL", or JSON {"group": N}. */
int ctl_group_method(Ctx *ctx, const Command *cmd, const char *method, const char *done, const char *tail);
int verb_pasid(Ctx *ctx, const Command *cmd);
int verb_bind(Ctx *ctx, const Command *cmd);
int verb_unbind(Ctx *ctx, const Command *cmd);
int verb_reload(Ctx *ctx, const Command *cmd);
int verb_probe(Ctx *ctx, const Command *cmd);
int verb_remove_driver(Ctx *ctx, const Command *cmd);
int verb_unplug(Ctx *ctx, const Command *cmd);

/* verbs-override.c: groups held for the machine (DetachGroup, ReattachGroup, ListOverrides) */
extern const VerbOption detach_group_options[];
extern const char *const overrides_columns[];
int verb_detach_group(Ctx *ctx, const Command *cmd);
int verb_reattach_group(Ctx *ctx, const Command *cmd);
int verb_list_overrides(Ctx *ctx, const Command *cmd);

/* verbs-exec.c: iommuctl as a launcher. exec_prepare() takes "exec -- CMD
 * ARGS..." off the command line before it is parsed (and sets what
 * handouts_free() needs); handouts_free() closes what the verbs opened. */
void exec_prepare(Ctx *ctx, int *argc, char **argv);
void handouts_free(Ctx *ctx);
extern const VerbOption exec_options[];
int verb_open(Ctx *ctx, const Command *cmd);
int verb_iommufd(Ctx *ctx, const Command *cmd);
int verb_exec(Ctx *ctx, const Command *cmd);
int verb_revoke(Ctx *ctx, const Command *cmd);

/* monitor.c */
int verb_monitor(Ctx *ctx, const Command *cmd);
int verb_hold(Ctx *ctx, const Command *cmd);
int verb_sleep(Ctx *ctx, const Command *cmd);
