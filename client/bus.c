/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bus.c - iommuctl's one bus connection, method calls, and errors a person can act on */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "iommuctl.h"

#define HINT_START_DAEMON \
        "is iommud running? Start it with 'systemctl start iommud', " \
        "or 'iommud --sim' for the simulation."

static void hint(const char *text) {
        fprintf(stderr, "iommuctl: %s\n", text);
}

int ctl_connect(Ctx *ctx) {
        const char *address;
        int r;

        if (ctx->bus)
                return 0;
        r = sd_bus_open_system_with_description(&ctx->bus, "iommuctl");
        if (r >= 0)
                return 0;

        address = getenv("DBUS_SYSTEM_BUS_ADDRESS");
        if (address)
                fprintf(stderr, "iommuctl: %s: cannot connect to the bus at %s "
                        "(from $DBUS_SYSTEM_BUS_ADDRESS): %s\n",
                        ctx->verb, address, strerror(-r));
        else
                fprintf(stderr, "iommuctl: %s: cannot connect to the system bus: %s\n",
                        ctx->verb, strerror(-r));
        hint(HINT_START_DAEMON);
        return EXIT_UNREACHABLE;
}

/* Errors that mean "nobody answered": the name, the bus or the connection is gone. */
bool ctl_error_is_unreachable(int r, const sd_bus_error *error) {
        if (sd_bus_error_is_set(error)) {
                if (sd_bus_error_has_names(error,
                                           SD_BUS_ERROR_SERVICE_UNKNOWN,
                                           SD_BUS_ERROR_NAME_HAS_NO_OWNER,
                                           SD_BUS_ERROR_NO_REPLY,
                                           SD_BUS_ERROR_TIMEOUT,
                                           SD_BUS_ERROR_NO_SERVER,
                                           SD_BUS_ERROR_DISCONNECTED))
                        return true;
                /* Anything else named by a peer was an answer. */
                if (strncmp(error->name, "System.Error.", 13) != 0)
                        return false;
        }
        switch (-r) {
        case ECONNREFUSED:
        case ECONNRESET:
        case ECONNABORTED:
        case ENOTCONN:
        case ETIMEDOUT:
        case EHOSTDOWN:
        case EHOSTUNREACH:
        case EPIPE:
        case ESHUTDOWN:
        case ENOENT:
                return true;
        default:
                return false;
        }
}

bool ctl_error_is_missing_object(const sd_bus_error *error) {
        return sd_bus_error_has_names(error,
                                      SD_BUS_ERROR_UNKNOWN_OBJECT,
                                      SD_BUS_ERROR_UNKNOWN_INTERFACE,
                                      SD_BUS_ERROR_UNKNOWN_METHOD,
                                      SD_BUS_ERROR_UNKNOWN_PROPERTY);
}

static int fail_unreachable(Ctx *ctx, int r, const sd_bus_error *error) {
        if (sd_bus_error_has_names(error, SD_BUS_ERROR_SERVICE_UNKNOWN,
                                   SD_BUS_ERROR_NAME_HAS_NO_OWNER))
                fprintf(stderr, "iommuctl: %s: iommud is not on the bus "
                        "(nobody owns the name " IOMMUD_BUS_NAME ").\n", ctx->verb);
        else if (sd_bus_error_is_set(error) && error->message)
                fprintf(stderr, "iommuctl: %s: no answer from iommud: %s\n",
                        ctx->verb, error->message);
        else
                fprintf(stderr, "iommuctl: %s: no answer from iommud: %s\n",
                        ctx->verb, strerror(-r));
        hint(HINT_START_DAEMON);
        return EXIT_UNREACHABLE;
}

/*
 * Prints "iommuctl: VERB: <message>", then what to do next, and returns the
 * exit code. iommud's messages say what to do in D-Bus terms; errors.c
 * says it in iommuctl's.
 */
int ctl_fail(Ctx *ctx, int r, const sd_bus_error *error) {
        if (ctl_error_is_unreachable(r, error))
                return fail_unreachable(ctx, r, error);

        if (sd_bus_error_is_set(error) && error->message && *error->message)
                error_print_message(ctx, error);
        else
                fprintf(stderr, "iommuctl: %s: %s\n", ctx->verb,
                        sd_bus_error_is_set(error) ? error->name : strerror(-r));
        if (sd_bus_error_is_set(error))
                error_explain(ctx, error);
        return EXIT_REFUSED;
}

int ctl_bad_reply(Ctx *ctx, int r) {
        if (r == -ENOMEM)
                fprintf(stderr, "iommuctl: %s: out of memory\n", ctx->verb);
        else
                fprintf(stderr, "iommuctl: %s: cannot read iommud's reply (%s); "
                        "are iommud and iommuctl the same version?\n",
                        ctx->verb, strerror(-r));
        return EXIT_REFUSED;
}

/* A call failed: the error, and the Simulator hint where it applies. */
static int call_failed(Ctx *ctx, int r, const sd_bus_error *error, const char *iface) {
        r = ctl_fail(ctx, r, error);
        if (r == EXIT_REFUSED && iface && strcmp(iface, IOMMUD_SIMULATOR_INTERFACE) == 0 &&
            ctl_error_is_missing_object(error))
                hint("the Simulator interface exists only with the sim or selftest backend "
                     "('iommud --sim'); see 'iommuctl status'.");
        return r;
}

/*
 * The method call of ctl_call() and ctl_call_object(). what and list_verb
 * (NULL for ctl_call()) name the object the user gave: a path that does
 * not exist is said in those words, e.g. "there is no space
 * /org/iommud1/space/9; 'iommuctl spaces' lists them."
 */
static int ctl_callv(Ctx *ctx, const char *path, const char *iface, const char *member,
                     const char *what, const char *list_verb, sd_bus_message **ret_reply,
                     const char *types, va_list ap) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_call_methodv(ctx->bus, IOMMUD_BUS_NAME, path, iface, member,
                                &error, ret_reply, types, ap);
        if (r >= 0)
                return 0;
        if (what && !ctl_error_is_unreachable(r, &error) &&
            sd_bus_error_has_names(&error, SD_BUS_ERROR_UNKNOWN_OBJECT,
                                   SD_BUS_ERROR_UNKNOWN_INTERFACE)) {
                fprintf(stderr, "iommuctl: %s: there is no %s %s; 'iommuctl %s' lists them.\n",
                        ctx->verb, what, path, list_verb);
                return EXIT_REFUSED;
        }
        return call_failed(ctx, r, &error, iface);
}

int ctl_call(Ctx *ctx, const char *path, const char *iface, const char *member,
             sd_bus_message **ret_reply, const char *types, ...) {
        va_list ap;
        int r;

        va_start(ap, types);
        r = ctl_callv(ctx, path, iface, member, NULL, NULL, ret_reply, types, ap);
        va_end(ap);
        return r;
}

/* A method of one object (a bond, region or space) that the user named. */
int ctl_call_object(Ctx *ctx, const char *path, const char *iface, const char *member,
                    const char *what, const char *list_verb, sd_bus_message **ret_reply,
                    const char *types, ...) {
        va_list ap;
        int r;

        va_start(ap, types);
        r = ctl_callv(ctx, path, iface, member, what, list_verb, ret_reply, types, ap);
        va_end(ap);
        return r;
}

/* Sends a method call built by the caller (for arguments such as "ay"). */
int ctl_call_message(Ctx *ctx, sd_bus_message *m, sd_bus_message **ret_reply) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_call(ctx->bus, m, 0, &error, ret_reply);
        return r >= 0 ? 0 : call_failed(ctx, r, &error, sd_bus_message_get_interface(m));
}

int ctl_print_table(Ctx *ctx, Table *t) {
        int r;

        r = table_print(t, stdout, ctx->legend);
        if (r < 0) {
                fprintf(stderr, "iommuctl: %s: cannot write the output: %s\n",
                        ctx->verb, strerror(-r));
                return EXIT_REFUSED;
        }
        return 0;
}

int ctl_write(Ctx *ctx, const char *text) {
        if (fputs(text, stdout) < 0 || fflush(stdout) != 0) {
                fprintf(stderr, "iommuctl: %s: cannot write the output: %s\n", ctx->verb,
                        strerror(errno));
                return EXIT_REFUSED;
        }
        return 0;
}

int ctl_finish_json(Ctx *ctx, Json *j) {
        int r = json_finish(j);

        if (r < 0) {
                fprintf(stderr, "iommuctl: %s: cannot write the output: %s\n", ctx->verb,
                        strerror(-r));
                return EXIT_REFUSED;
        }
        return 0;
}

/* A verb's one line of JSON: begun here, ended by ctl_done(). */
void ctl_begin_json(Ctx *ctx, Json *j) {
        if (!ctx->json)
                return;
        json_init(j, stdout);
        json_set_pretty(j, ctx->json_pretty);
        json_begin_object(j);
}

/* Ends a verb's output: the JSON object begun with ctl_begin_json(), or stdout. */
int ctl_done(Ctx *ctx, Json *j) {
        if (ctx->json) {
                json_end_object(j);
                return ctl_finish_json(ctx, j);
        }
        return fflush(stdout) == 0 ? 0 : ctl_bad_reply(ctx, -EIO);
}

int list_output_begin(Ctx *ctx, ListOutput *o) {
        const Verb *v = ctx->cmd->verb;
        const char *spec = command_value(ctx->cmd, OPT_COLUMNS), *bad;

        *o = (ListOutput) { .table = NULL };
        if (!ctx->json) {
                o->table = table_new(v->columns, v->n_default_columns);
                if (!o->table)
                        return ctl_bad_reply(ctx, -ENOMEM);
                /* the names were checked with the command line */
                if (spec && table_select(o->table, spec, &bad) < 0)
                        return ctl_usage_error(v, "unknown column in -o %s", spec);
                return 0;
        }
        o->mem = open_memstream(&o->buf, &o->size);
        if (!o->mem)
                return ctl_bad_reply(ctx, -ENOMEM);
        o->j = &o->json;
        json_init(o->j, o->mem);
        json_set_pretty(o->j, ctx->json_pretty);
        json_begin_array(o->j);
        return 0;
}

/* A table with no rows says so (systemd's "No sessions."), unless --no-legend. */
static int print_list_table(Ctx *ctx, Table *t) {
        if (table_rows(t) > 0)
                return ctl_print_table(ctx, t);
        if (!ctx->legend || !ctx->cmd->verb->empty)
                return 0;
        if (ctl_write(ctx, ctx->cmd->verb->empty) != 0)
                return EXIT_REFUSED;
        return ctl_write(ctx, "\n");
}

/* Prints the list when r is 0 (every row read), frees it, and returns the exit code. */
int list_output_end(Ctx *ctx, ListOutput *o, int r) {
        if (o->table) {
                if (r == 0)
                        r = print_list_table(ctx, o->table);
                o->table = table_free(o->table);
                return r;
        }
        if (!o->mem)
                return r;
        if (r == 0)
                json_end_array(o->j);
        else
                json_done(o->j);
        fputc('\n', o->mem);
        if ((fclose(o->mem) != 0 || o->j->error < 0) && r == 0)
                r = ctl_bad_reply(ctx, -ENOMEM);
        o->mem = NULL;
        if (r == 0)
                r = ctl_write(ctx, o->buf);
        o->buf = mfree(o->buf);
        return r;
}
