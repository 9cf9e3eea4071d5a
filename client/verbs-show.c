/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* verbs-show.c - show GROUP|DEVICE: an object's properties as Name=value, like loginctl show-session */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "iommuctl.h"

const VerbOption show_options[] = {
        { "--property", OPT_PROPERTY, "show only these properties (repeatable, or comma-separated)",
          "NAME", ARG_PROPERTY, 'p', true },
        { "--value", OPT_VALUE, "print the values alone, without NAME=", NULL, 0, 0, false },
        { "--all", OPT_ALL, "show empty properties too", NULL, 0, 'a', false },
        { NULL },
};

/* Properties whose numbers the policy takes in hex ("vendor": "0x8086"), so shown so. */
static const struct {
        const char *name;
        int digits;
} hex_properties[] = {
        { "VendorId", 4 }, { "DeviceId", 4 }, { "ClassCode", 6 }, { "IommuCapabilities", 1 },
};

static int hex_digits(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(hex_properties); i++)
                if (strcmp(hex_properties[i].name, name) == 0)
                        return hex_properties[i].digits;
        return 0;
}

/* Whether name was asked for with -p (any case; "owner_uid" matches OwnerUid too). */
static bool property_wanted(const Command *cmd, const char *name) {
        _cleanup_(freep) char *snake = json_key_from_camel(name);
        bool any = false;

        for (unsigned k = 0; k < cmd->n_values; k++) {
                const char *p = cmd->values[k].value;

                if (cmd->values[k].flag != OPT_PROPERTY)
                        continue;
                any = true;
                for (;;) {
                        size_t len = strcspn(p, ",");

                        if ((strlen(name) == len && strncasecmp(p, name, len) == 0) ||
                            (snake && strlen(snake) == len && strncasecmp(p, snake, len) == 0))
                                return true;
                        if (!p[len])
                                break;
                        p += len + 1;
                }
        }
        return !any;
}

/* hex: 0 for decimal, else the least number of hex digits ("0x8086") */
static void print_unsigned(FILE *f, uint64_t v, int hex) {
        if (hex)
                fprintf(f, "0x%0*" PRIx64, hex, v);
        else
                fprintf(f, "%" PRIu64, v);
}

/* A basic value as text: yes/no for booleans, hex where the policy takes hex. */
static int basic_text(sd_bus_message *m, char type, int hex, FILE *f) {
        union {
                uint8_t y;
                int b;
                uint16_t q;
                int16_t n;
                uint32_t u;
                int32_t i;
                uint64_t t;
                int64_t x;
                double d;
                const char *s;
        } v;
        int r;

        r = sd_bus_message_read_basic(m, type, &v);
        if (r <= 0)
                return r;
        switch (type) {
        case 'b': fputs(v.b ? "yes" : "no", f); break;
        case 'y': print_unsigned(f, v.y, hex); break;
        case 'q': print_unsigned(f, v.q, hex); break;
        case 'u': print_unsigned(f, v.u, hex); break;
        case 't': print_unsigned(f, v.t, hex); break;
        case 'n': fprintf(f, "%d", v.n); break;
        case 'i': fprintf(f, "%" PRIi32, v.i); break;
        case 'x': fprintf(f, "%" PRIi64, v.x); break;
        case 'd': fprintf(f, "%g", v.d); break;
        case 'h': fprintf(f, "%d", v.i); break;
        default: fputs(v.s, f); break;          /* s, o, g */
        }
        return 1;
}

/*
 * The value inside the entered variant as text: a basic value as it is, an
 * array of them separated by blanks (as loginctl does), anything else as JSON.
 */
static int value_text(sd_bus_message *m, const char *contents, int hex, FILE *f) {
        Json j;
        int r, n = 0;

        if (!contents[1])
                return basic_text(m, contents[0], hex, f);
        if (contents[0] == 'a' && !contents[2] && strchr("sobyqunixtdg", contents[1])) {
                r = sd_bus_message_enter_container(m, 'a', contents + 1);
                while (r >= 0 && (r = sd_bus_message_at_end(m, false)) == 0) {
                        if (n++)
                                fputc(' ', f);
                        r = basic_text(m, contents[1], hex, f);
                        if (r < 0)
                                break;
                }
                return r < 0 ? r : sd_bus_message_exit_container(m);
        }
        json_init(&j, f);
        r = emit_value(m, &j);
        json_done(&j);
        return r;
}

/* UINT32_MAX in a uid property (OwnerUid) means nobody, as "" does in a string. */
static bool is_uid_property(const char *name) {
        size_t n = strlen(name);

        return n >= 3 && strcmp(name + n - 3, "Uid") == 0;
}

/*
 * The value of the entered variant as JSON: "" and a uid of nobody are
 * null, as everywhere in iommuctl's JSON; anything else as D-Bus has it.
 */
static int value_json(sd_bus_message *m, const char *name, const char *contents, Json *j) {
        const char *s;
        uint32_t u;
        int r;

        if (strcmp(contents, "s") == 0 || strcmp(contents, "o") == 0) {
                r = sd_bus_message_read_basic(m, contents[0], &s);
                if (r < 0)
                        return r;
                *s ? json_string(j, s) : json_null(j);
                return 0;
        }
        if (strcmp(contents, "u") == 0 && is_uid_property(name)) {
                r = sd_bus_message_read_basic(m, 'u', &u);
                if (r < 0)
                        return r;
                u == UINT32_MAX ? json_null(j) : json_uint(j, u);
                return 0;
        }
        return emit_value(m, j);
}

/* The value of the entered variant as text; "" for none ("", [], a uid of nobody). */
static int value_to_text(sd_bus_message *m, const char *name, const char *contents, char **ret) {
        size_t size = 0;
        uint32_t u;
        FILE *f;
        int r;

        f = open_memstream(ret, &size);
        if (!f)
                return -ENOMEM;
        if (strcmp(contents, "u") == 0 && is_uid_property(name)) {
                r = sd_bus_message_read_basic(m, 'u', &u);
                if (r >= 0 && u != UINT32_MAX)
                        fprintf(f, "%" PRIu32, u);
        } else
                r = value_text(m, contents, hex_digits(name), f);
        if (fclose(f) != 0 && r >= 0)
                r = -ENOMEM;
        if (r < 0)
                *ret = mfree(*ret);
        return r;
}

/* One "sv" entry of the GetAll reply, which m has entered: printed if wanted. */
static int show_entry(Ctx *ctx, sd_bus_message *m, Json *j, unsigned *n_shown) {
        const Command *cmd = ctx->cmd;
        const char *name, *contents;
        _cleanup_(freep) char *snake = NULL, *text = NULL;
        int r;

        r = sd_bus_message_read(m, "s", &name);
        if (r < 0)
                return r;
        if (!property_wanted(cmd, name))
                return sd_bus_message_skip(m, "v");
        r = sd_bus_message_peek_type(m, NULL, &contents);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(m, 'v', contents);
        if (r < 0)
                return r;
        if (j) {
                snake = json_key_from_camel(name);
                if (!snake)
                        return -ENOMEM;
                json_key(j, snake);
                r = value_json(m, name, contents, j);
                (*n_shown)++;
        } else {
                r = value_to_text(m, name, contents, &text);
                /* as loginctl: empty ones only with -a, or when asked for by name */
                if (r >= 0 && (*text || (cmd->flags & OPT_ALL) || command_value(cmd, OPT_PROPERTY))) {
                        if (!(cmd->flags & OPT_VALUE))
                                printf("%s=", name);
                        printf("%s\n", text);
                        (*n_shown)++;
                }
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

/* The object path of group id or device name, from the Manager's list; NULL if none. */
static int find_object(Ctx *ctx, const char *arg, bool group, char **ret_path) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *name, *path;
        uint32_t id, want = 0;
        int r;

        if (group && parse_group(arg, &want) < 0)
                return EXIT_USAGE;
        r = ctl_call(ctx, IOMMUD_PATH, IOMMUD_MANAGER_INTERFACE, group ? "ListGroups" : "ListDevices",
                     &reply, NULL);
        if (r != 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', group ? "(uso)" : "(susbbo)");
        while (r >= 0) {
                r = group ? sd_bus_message_read(reply, "(uso)", &id, NULL, &path)
                          : sd_bus_message_read(reply, "(susbbo)", &name, NULL, NULL, NULL, NULL, &path);
                if (r <= 0)
                        break;
                if (group ? id == want : strcmp(name, arg) == 0) {
                        *ret_path = strdup(path);
                        return *ret_path ? 0 : ctl_bad_reply(ctx, -ENOMEM);
                }
        }
        if (r < 0)
                return ctl_bad_reply(ctx, r);
        fprintf(stderr, "iommuctl: show: there is no %s %s; 'iommuctl %s' lists them.\n",
                group ? "group" : "device", arg, group ? "groups" : "list");
        return EXIT_REFUSED;
}

static int show_properties(Ctx *ctx, sd_bus_message *reply, const char *what) {
        unsigned n_shown = 0;
        Json json, *j = NULL;
        int r;

        if (ctx->json) {
                j = &json;
                json_init(j, stdout);
                json_set_pretty(j, ctx->json_pretty);
                json_begin_object(j);
        }
        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                r = show_entry(ctx, reply, j, &n_shown);
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
        }
        if (r < 0) {
                if (j)
                        json_done(j);
                return ctl_bad_reply(ctx, r);
        }
        if (n_shown == 0 && command_value(ctx->cmd, OPT_PROPERTY)) {
                if (j)
                        json_done(j);
                return ctl_usage_error(ctx->cmd->verb, "%s has no property %s; 'iommuctl show %s' "
                                       "lists its properties", what,
                                       command_value(ctx->cmd, OPT_PROPERTY), ctx->cmd->args[0]);
        }
        if (j) {
                json_end_object(j);
                return ctl_finish_json(ctx, j);
        }
        return fflush(stdout) == 0 ? 0 : ctl_bad_reply(ctx, -EIO);
}

int verb_show(Ctx *ctx, const Command *cmd) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(freep) char *path = NULL;
        bool group = parse_group(cmd->args[0], &(uint32_t){ 0 }) >= 0;
        const char *iface = group ? IOMMUD_GROUP_INTERFACE : IOMMUD_DEVICE_INTERFACE;
        char what[DEVICE_NAME_MAX + 16];
        int r;

        r = find_object(ctx, cmd->args[0], group, &path);
        if (r != 0)
                return r;
        r = sd_bus_call_method(ctx->bus, IOMMUD_BUS_NAME, path, "org.freedesktop.DBus.Properties",
                               "GetAll", &error, &reply, "s", iface);
        if (r < 0)
                return ctl_fail(ctx, r, &error);
        snprintf(what, sizeof(what), "%s %s", group ? "group" : "device", cmd->args[0]);
        return show_properties(ctx, reply, what);
}
