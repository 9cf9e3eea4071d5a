/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* holder.c - who is behind a bus name: uid and pid from the bus, the command from /proc */
#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>

#include "iommuctl.h"

/*
 * The holders looked up on this run, so that a list of fifty bonds of one
 * client asks the bus once. Owned by the Ctx; names are copies.
 */
typedef struct HolderEntry {
        struct HolderEntry *next;
        Holder holder;
        char *name;
} HolderEntry;

struct Holders {
        HolderEntry *first;
};

/* UnixUserID and ProcessID out of GetConnectionCredentials' a{sv}. */
static int read_credentials(sd_bus_message *m, Holder *h) {
        const char *key;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                r = sd_bus_message_read(m, "s", &key);
                if (r >= 0 && strcmp(key, "UnixUserID") == 0)
                        r = sd_bus_message_read(m, "v", "u", &h->uid);
                else if (r >= 0 && strcmp(key, "ProcessID") == 0)
                        r = sd_bus_message_read(m, "v", "u", &h->pid);
                else if (r >= 0)
                        r = sd_bus_message_skip(m, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        return r;
}

/* /proc/PID/comm, which the process may change; "" when it is gone. */
static void read_comm(Holder *h) {
        char path[64];
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%" PRIu32 "/comm", h->pid);
        f = fopen(path, "re");
        if (!f)
                return;
        if (fgets(h->comm, sizeof(h->comm), f))
                h->comm[strcspn(h->comm, "\n")] = 0;
        fclose(f);
}

static void fill_holder(Ctx *ctx, Holder *h) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        struct passwd *pw;

        if (sd_bus_call_method(ctx->bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                               "org.freedesktop.DBus", "GetConnectionCredentials", NULL, &reply,
                               "s", h->bus_name) < 0 ||
            read_credentials(reply, h) < 0)
                return;         /* gone since it was listed: the bus name is all we have */
        if (h->pid)
                read_comm(h);
        pw = h->uid != UINT32_MAX ? getpwuid(h->uid) : NULL;
        if (pw)
                snprintf(h->user, sizeof(h->user), "%s", pw->pw_name);
}

const Holder *holder_lookup(Ctx *ctx, const char *bus_name) {
        HolderEntry *e;

        if (!bus_name || !*bus_name)
                return NULL;
        if (!ctx->holders && !(ctx->holders = calloc(1, sizeof(*ctx->holders))))
                return NULL;
        for (e = ctx->holders->first; e; e = e->next)
                if (strcmp(e->name, bus_name) == 0)
                        return &e->holder;
        e = calloc(1, sizeof(*e));
        if (!e || !(e->name = strdup(bus_name)))
                return mfree(e);
        e->holder = (Holder) { .bus_name = e->name, .uid = UINT32_MAX };
        fill_holder(ctx, &e->holder);
        e->next = ctx->holders->first;
        ctx->holders->first = e;
        return &e->holder;
}

void holders_free(Ctx *ctx) {
        if (!ctx->holders)
                return;
        while (ctx->holders->first) {
                HolderEntry *e = ctx->holders->first;

                ctx->holders->first = e->next;
                free(e->name);
                free(e);
        }
        ctx->holders = mfree(ctx->holders);
}

/* ":1.42 (uid 1000 alice, pid 4242 iommuctl)", or the bus name alone when the rest is unknown. */
static int owner_cell(Table *t, const Holder *h) {
        char user[80] = "", process[64] = "";

        if (h->uid != UINT32_MAX)
                snprintf(user, sizeof(user), "uid %" PRIu32 "%s%s", h->uid, *h->user ? " " : "",
                         h->user);
        if (h->pid)
                snprintf(process, sizeof(process), "pid %" PRIu32 "%s%s", h->pid,
                         *h->comm ? " " : "", h->comm);
        if (!*user && !*process)
                return table_add(t, h->bus_name);
        return table_addf(t, "%s (%s%s%s)", h->bus_name, user, *user && *process ? ", " : "",
                          process);
}

int holder_add_owner(Ctx *ctx, Table *t, const char *bus_name) {
        const Holder *h = holder_lookup(ctx, bus_name);

        return h ? owner_cell(t, h) : table_add(t, NULL);
}

int holder_add_columns(Ctx *ctx, Table *t, const char *bus_name) {
        const Holder *h = holder_lookup(ctx, bus_name);

        if (!h) {
                for (unsigned i = 0; i < N_HOLDER_COLUMNS; i++)
                        if (table_add(t, NULL) < 0)
                                return -ENOMEM;
                return 0;
        }
        if (table_add(t, h->bus_name) < 0 ||
            (h->uid != UINT32_MAX ? table_addf(t, "%" PRIu32, h->uid) : table_add(t, NULL)) < 0 ||
            table_add(t, h->user) < 0 ||
            (h->pid ? table_addf(t, "%" PRIu32, h->pid) : table_add(t, NULL)) < 0 ||
            table_add(t, h->comm) < 0)
                return -ENOMEM;
        return 0;
}

void holder_json(Ctx *ctx, Json *j, const char *key, const char *bus_name) {
        const Holder *h = holder_lookup(ctx, bus_name);
        char name[32];

        json_pair_string_or_null(j, key, bus_name);
        snprintf(name, sizeof(name), "%s_uid", key);
        json_key(j, name);
        h && h->uid != UINT32_MAX ? json_uint(j, h->uid) : json_null(j);
        snprintf(name, sizeof(name), "%s_user", key);
        json_pair_string_or_null(j, name, h ? h->user : NULL);
        snprintf(name, sizeof(name), "%s_pid", key);
        json_key(j, name);
        h && h->pid ? json_uint(j, h->pid) : json_null(j);
        snprintf(name, sizeof(name), "%s_comm", key);
        json_pair_string_or_null(j, name, h ? h->comm : NULL);
}
