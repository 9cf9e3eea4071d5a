/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* errors.c - iommud's and the bus's errors said in iommuctl's words, with what to do next */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "iommuctl.h"

/*
 * iommud words its messages for D-Bus programs ("call ClaimGroup(1, 0)
 * first"); iommuctl's user types verbs, so such names are rewritten. With
 * first_arg the method's first argument is kept: ClaimGroup(1, 0) becomes
 * 'iommuctl claim 1'.
 */
typedef struct Rewrite {
        const char *from;       /* a method name followed by '(' ... ')', or literal text */
        const char *to;
        bool method;
        bool first_arg;
} Rewrite;

static const Rewrite rewrites[] = {
        { "flag DETACH_KERNEL_DRIVERS (1)", "option --detach-drivers", false, false },
        { "DETACH_KERNEL_DRIVERS (1)", "--detach-drivers", false, false },
        { "flag OVERRIDE_NOSAVE (1)", "option --nosave", false, false },
        { "OVERRIDE_NOSAVE (1)", "--nosave", false, false },
        { "DetachGroup", "detach-group", true, true },
        { "ReattachGroup", "reattach-group", true, true },
        { "ListOverrides", "list-overrides", true, false },
        { "ClaimGroup", "claim", true, true },
        { "ReleaseGroup", "release", true, true },
        { "AllocPasid", "pasid", true, false },
        { "BindSva", "bind", true, true },
        { "ShareMemory", "share", true, false },
        { "Unbind", "unbind", true, false },
        { "Destroy", "destroy", true, false },
        { "Reload", "reload", true, false },
        { "Simulator.ProbeDriver", "probe", true, false },
        { "Simulator.RemoveDriver", "remove-driver", true, false },
        { "Simulator.Unplug", "unplug", true, false },
        { "Simulator.Dma", "dma", true, false },
        { "ProbeDriver", "probe", true, false },
        { "RemoveDriver", "remove-driver", true, false },
        { "Unplug", "unplug", true, false },
        { "Dma", "dma", true, false },
};

/* Writes the rewrite of the text at p, if one applies there; returns how much of p it used. */
static size_t rewrite_at(FILE *f, const char *msg, const char *p) {
        for (size_t i = 0; i < ELEMENTSOF(rewrites); i++) {
                const Rewrite *w = &rewrites[i];
                size_t len = strlen(w->from), arg;
                const char *close;

                if (strncmp(p, w->from, len) != 0)
                        continue;
                if (!w->method) {
                        fputs(w->to, f);
                        return len;
                }
                /* a whole name: not the tail of another word, and a call */
                if ((p > msg && (isalnum((unsigned char)p[-1]) || p[-1] == '.')) || p[len] != '(')
                        continue;
                close = strchr(p + len, ')');
                if (!close)
                        continue;
                arg = strcspn(p + len + 1, ",)");
                fprintf(f, "'iommuctl %s%s%.*s'", w->to, w->first_arg && arg ? " " : "",
                        w->first_arg ? (int)arg : 0, p + len + 1);
                return (size_t)(close + 1 - p);
        }
        return 0;
}

/* msg with the D-Bus names of rewrites[] in iommuctl's words; NULL when out of memory. */
static char *rewrite_message(const char *msg) {
        char *buf = NULL;
        size_t size = 0, n;
        FILE *f;

        f = open_memstream(&buf, &size);
        if (!f)
                return NULL;
        for (const char *p = msg; *p; p += n) {
                n = rewrite_at(f, msg, p);
                if (n == 0) {
                        fputc(*p, f);
                        n = 1;
                }
        }
        return fclose(f) == 0 ? buf : mfree(buf);
}

/* What to do next, per error iommud can answer iommuctl with. */
typedef struct Advice {
        const char *error;
        const char *text;
} Advice;

static const Advice advice[] = {
        { IOMMUD_ERROR_BUSY,
          "someone else holds it, or it is changing now: 'iommuctl groups' and 'iommuctl bonds' "
          "show who holds what; try again once they let go." },
        { IOMMUD_ERROR_NO_SUCH_DEVICE,
          "'iommuctl list' lists the devices; give one as listed, or as lspci prints it "
          "(00:02.0) when its domain is 0000." },
        { IOMMUD_ERROR_NO_SUCH_GROUP, "'iommuctl groups' lists the groups." },
        { IOMMUD_ERROR_NOT_CLAIMED,
          "a claim lasts as long as the connection that made it: join the verbs with '+', "
          "e.g. 'iommuctl claim 1 + bind 00:02.0 + hold'." },
        { IOMMUD_ERROR_OVERFLOW,
          "the device cannot take this connection's PASID: 'iommuctl list -o DEVICE,MAX-PASIDS' "
          "shows how many each device has; use another device, or a new connection." },
        { IOMMUD_ERROR_QUOTA_EXCEEDED,
          "you hold as much as the policy allows: give something back ('release', 'unbind', "
          "'unshare', 'destroy') or ask an administrator to raise the quota in iommud's policy "
          "('man iommud.policy')." },
        { IOMMUD_ERROR_NOT_SUPPORTED,
          "this device or backend cannot do that: 'iommuctl show DEVICE' shows what the device "
          "supports, 'iommuctl status' which backend runs." },
        { IOMMUD_ERROR_INVALID_ARGUMENT,
          "check the arguments: 'iommuctl VERB --help' shows what each one takes." },
        { IOMMUD_ERROR_DMA_FAULT,
          "the device reaches only memory this connection shared ('share') through its "
          "SVA PASID ('bind'), or what a space attached at that PASID maps ('map', 'attach')." },
        { SD_BUS_ERROR_ACCESS_DENIED,
          "an administrator can grant it in iommud's policy (/etc/iommud/policy.json or "
          "/etc/iommud/policy.d/; see 'man iommud.policy')." },
};

/*
 * Advice for one verb, before the general one: an override is the
 * machine's, not a connection's, so the general words about claims and
 * connections would mislead. text NULL: iommud's message says all there
 * is to do (who holds the group, which verb lists the overrides or groups).
 */
typedef struct VerbAdvice {
        const char *verb;
        const char *error;
        const char *text;
} VerbAdvice;

/* iommud's own message names the rule missing and where to add it. */
#define ADMIN_CLAIM_ADVICE(what) \
        "only root, or a user whom iommud's policy grants \"admin-claim\" on every device " \
        "of the group, may " what " a group for the machine."

static const VerbAdvice verb_advice[] = {
        { "detach-group", SD_BUS_ERROR_ACCESS_DENIED, ADMIN_CLAIM_ADVICE("detach") },
        { "reattach-group", SD_BUS_ERROR_ACCESS_DENIED, ADMIN_CLAIM_ADVICE("reattach") },
        { "detach-group", IOMMUD_ERROR_BUSY, NULL },
        { "reattach-group", IOMMUD_ERROR_BUSY, NULL },
        { "reattach-group", IOMMUD_ERROR_NOT_CLAIMED, NULL },
        { "detach-group", IOMMUD_ERROR_NO_SUCH_GROUP, NULL },
        { "reattach-group", IOMMUD_ERROR_NO_SUCH_GROUP, NULL },
};

/* The advice of verb_advice[] for this verb and error, if it has one: printed, true. */
static bool explain_for_verb(Ctx *ctx, const sd_bus_error *error) {
        for (size_t i = 0; i < ELEMENTSOF(verb_advice); i++)
                if (ctx->verb && strcmp(ctx->verb, verb_advice[i].verb) == 0 &&
                    sd_bus_error_has_name(error, verb_advice[i].error)) {
                        if (verb_advice[i].text)
                                fprintf(stderr, "iommuctl: %s\n", verb_advice[i].text);
                        return true;
                }
        return false;
}

/* The bus itself refused the call (its policy file), before iommud saw it. */
static bool denied_by_bus(const sd_bus_error *error) {
        return sd_bus_error_has_name(error, SD_BUS_ERROR_ACCESS_DENIED) && error->message &&
               strncmp(error->message, "Rejected send message", 21) == 0;
}

/* The DEVICE argument of the command running, if its verb takes one. */
static const char *command_device(const Ctx *ctx) {
        const Verb *v = ctx->cmd ? ctx->cmd->verb : NULL;

        for (unsigned i = 0; v && i < v->n_args; i++)
                if (v->arg_kind[i] == ARG_DEVICE && ctx->cmd->args[i])
                        return ctx->cmd->args[i];
        return NULL;
}

/* The group of device, from ListDevices; -ENOENT when it is not listed. */
static int device_group(Ctx *ctx, const char *device, uint32_t *ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *name;
        uint32_t group;
        int r;

        r = sd_bus_call_method(ctx->bus, IOMMUD_BUS_NAME, IOMMUD_PATH, IOMMUD_MANAGER_INTERFACE,
                               "ListDevices", NULL, &reply, NULL);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "(susbbo)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(susbbo)", &name, &group, NULL, NULL,
                                                   NULL, NULL)) > 0)
                if (strcmp(name, device) == 0) {
                        *ret = group;
                        return 0;
                }
        return r < 0 ? r : -ENOENT;
}

/* NotClaimed for a device: which group to claim, as a command line to type. */
static bool explain_not_claimed(Ctx *ctx) {
        const char *device = command_device(ctx);
        uint32_t group;

        if (!device || device_group(ctx, device, &group) < 0)
                return false;
        fprintf(stderr, "iommuctl: %s is in group %u: claim group %u first, on the same command "
                "line (a claim lasts as long as its connection), e.g. 'iommuctl claim %u + %s "
                "%s + hold'.\n", device, group, group, group, ctx->verb, device);
        return true;
}

void error_explain(Ctx *ctx, const sd_bus_error *error) {
        if (denied_by_bus(error)) {
                fprintf(stderr, "iommuctl: only root may do this: the bus policy of iommud "
                        "(org.iommud1.conf) lets only root use '%s'; run it as root, e.g. with "
                        "sudo.\n", ctx->verb);
                return;
        }
        if (explain_for_verb(ctx, error))
                return;
        if (sd_bus_error_has_name(error, IOMMUD_ERROR_NOT_CLAIMED) && explain_not_claimed(ctx))
                return;
        for (size_t i = 0; i < ELEMENTSOF(advice); i++)
                if (sd_bus_error_has_name(error, advice[i].error)) {
                        fprintf(stderr, "iommuctl: %s\n", advice[i].text);
                        return;
                }
}

int error_print_message(Ctx *ctx, const sd_bus_error *error) {
        _cleanup_(freep) char *text = NULL;

        if (denied_by_bus(error)) {
                fprintf(stderr, "iommuctl: %s: permission denied.\n", ctx->verb);
                return 0;
        }
        text = rewrite_message(error->message);
        fprintf(stderr, "iommuctl: %s: %s\n", ctx->verb, text ? text : error->message);
        return 0;
}
