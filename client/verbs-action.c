/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* verbs-action.c - the verbs that change state: claims, PASIDs, bonds, reload, simulator */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "iommuctl.h"

const VerbOption claim_options[] = {
        VERB_FLAG("--detach-drivers", OPT_DETACH_DRIVERS,
                  "unbind the group's DMA-API kernel drivers first; they are rebound on release"),
        VERB_VALUE("--for-pid", OPT_FOR_PID, "hold the claim for process PID until it exits, even after "
                   "this connection closes (ClaimGroupForProcess)", "PID", ARG_PID),
        { NULL },
};

const VerbOption probe_options[] = {
        VERB_FLAG("--managed-dma", OPT_MANAGED_DMA,
                  "the driver manages DMA itself (like vfio-pci) and does not count "
                  "as a DMA-API user"),
        { NULL },
};

/* ClaimGroupForProcess with a pidfd of pid: the claim is the process's,
 * and ends when it exits, not with this connection. */
static int claim_for_pid(Ctx *ctx, const char *pid_s, uint32_t group, uint64_t flags, sd_bus_message **ret) {
        uint32_t pid = 0;
        int pidfd, r;

        if (parse_group(pid_s, &pid) < 0)
                return EXIT_USAGE;      /* checked while parsing the command line */
        pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
        if (pidfd < 0) {
                fprintf(stderr, "iommuctl: claim: cannot open process %u (%s); is it running?\n", pid,
                        strerror(errno));
                return EXIT_USAGE;
        }
        r = ctl_call(ctx, IOMMUD_PATH, IOMMUD_MANAGER_INTERFACE, "ClaimGroupForProcess", ret, "uth", group,
                     flags, pidfd);
        close(pidfd);
        return r;
}

int verb_claim(Ctx *ctx, const Command *cmd) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        uint64_t flags = 0;
        const char *path;
        uint32_t group;
        Json j;
        int r;

        if (parse_group(cmd->args[0], &group) < 0)
                return EXIT_USAGE;      /* checked while parsing the command line */
        if (cmd->flags & OPT_DETACH_DRIVERS)
                flags |= IOMMUD_CLAIM_DETACH_KERNEL_DRIVERS;

        if (cmd->flags & OPT_FOR_PID)
                r = claim_for_pid(ctx, command_value(cmd, OPT_FOR_PID), group, flags, &reply);
        else
                r = ctl_call(ctx, IOMMUD_PATH, IOMMUD_MANAGER_INTERFACE, "ClaimGroup", &reply, "ut",
                             group, flags);
        if (r != 0)
                return r;
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return ctl_bad_reply(ctx, r);

        ctl_begin_json(ctx, &j);
        if (ctx->json) {
                json_pair_uint(&j, "group", group);
                json_pair_string(&j, "path", path);
                json_pair_bool(&j, "detach_kernel_drivers", flags & IOMMUD_CLAIM_DETACH_KERNEL_DRIVERS);
        } else
                printf("claimed group %u (%s)\n", group, path);
        return ctl_done(ctx, &j);
}

int ctl_group_method(Ctx *ctx, const Command *cmd, const char *method, const char *done, const char *tail) {
        uint32_t group;
        Json j;
        int r;

        if (parse_group(cmd->args[0], &group) < 0)
                return EXIT_USAGE;
        r = ctl_call(ctx, IOMMUD_PATH, IOMMUD_MANAGER_INTERFACE, method, NULL, "u", group);
        if (r != 0)
                return r;

        ctl_begin_json(ctx, &j);
        if (ctx->json)
                json_pair_uint(&j, "group", group);
        else
                printf("%s group %u%s\n", done, group, tail);
        return ctl_done(ctx, &j);
}

int verb_release(Ctx *ctx, const Command *cmd) {
        return ctl_group_method(ctx, cmd, "ReleaseGroup", "released", "");
}

int verb_pasid(Ctx *ctx, const Command *cmd) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        uint32_t pasid;
        Json j;
        int r;

        r = ctl_call(ctx, IOMMUD_PATH, IOMMUD_MANAGER_INTERFACE, "AllocPasid", &reply, NULL);
        if (r != 0)
                return r;
        r = sd_bus_message_read(reply, "u", &pasid);
        if (r < 0)
                return ctl_bad_reply(ctx, r);
        ctx->pasid = pasid;
        ctx->refs |= REF_PASID;

        ctl_begin_json(ctx, &j);
        if (ctx->json)
                json_pair_uint(&j, "pasid", pasid);
        else
                printf("PASID %u\n", pasid);
        return ctl_done(ctx, &j);
}

/* BindSva's reply: two out arguments "ou", or one struct "(ou)". */
static int read_bond_reply(sd_bus_message *reply, const char **path, uint32_t *pasid) {
        char type;
        int r;

        r = sd_bus_message_peek_type(reply, &type, NULL);
        if (r <= 0)
                return r < 0 ? r : -EBADMSG;
        if (type == SD_BUS_TYPE_STRUCT)
                return sd_bus_message_read(reply, "(ou)", path, pasid);
        return sd_bus_message_read(reply, "ou", path, pasid);
}

int verb_bind(Ctx *ctx, const Command *cmd) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *device = cmd->args[0], *path;
        uint32_t pasid;
        Json j;
        int r;

        r = ctl_call(ctx, IOMMUD_PATH, IOMMUD_MANAGER_INTERFACE, "BindSva", &reply, "s", device);
        if (r != 0)
                return r;
        r = read_bond_reply(reply, &path, &pasid);
        if (r < 0)
                return ctl_bad_reply(ctx, r);
        ctx->pasid = pasid;
        ctx->refs |= REF_PASID;

        ctl_begin_json(ctx, &j);
        if (ctx->json) {
                json_pair_string(&j, "device", device);
                json_pair_uint(&j, "pasid", pasid);
                json_pair_string(&j, "bond", path);
        } else
                printf("bound %s: PASID %u, bond %s\n", device, pasid, path);
        return ctl_done(ctx, &j);
}

int verb_unbind(Ctx *ctx, const Command *cmd) {
        _cleanup_(freep) char *path = NULL;
        Json j;
        int r;

        r = parse_bond(cmd->args[0], &path);
        if (r < 0)
                return r == -ENOMEM ? ctl_bad_reply(ctx, r) : EXIT_USAGE;

        r = ctl_call_object(ctx, path, IOMMUD_BOND_INTERFACE, "Unbind", "bond", "bonds", NULL, NULL);
        if (r != 0)
                return r;

        ctl_begin_json(ctx, &j);
        if (ctx->json)
                json_pair_string(&j, "bond", path);
        else
                printf("unbound %s\n", path);
        return ctl_done(ctx, &j);
}

int verb_reload(Ctx *ctx, const Command *cmd) {
        Json j;
        int r;

        r = ctl_call(ctx, IOMMUD_PATH, IOMMUD_MANAGER_INTERFACE, "Reload", NULL, NULL);
        if (r != 0)
                return r;
        ctl_begin_json(ctx, &j);
        if (ctx->json)
                json_pair_bool(&j, "reloaded", true);
        else
                printf("policy reloaded\n");
        return ctl_done(ctx, &j);
}

int verb_probe(Ctx *ctx, const Command *cmd) {
        const char *device = cmd->args[0], *driver = cmd->args[1];
        bool managed = cmd->flags & OPT_MANAGED_DMA;
        Json j;
        int r;

        r = ctl_call(ctx, IOMMUD_PATH, IOMMUD_SIMULATOR_INTERFACE, "ProbeDriver", NULL, "ssb",
                     device, driver, (int)managed);
        if (r != 0)
                return r;
        ctl_begin_json(ctx, &j);
        if (ctx->json) {
                json_pair_string(&j, "device", device);
                json_pair_string(&j, "driver", driver);
                json_pair_bool(&j, "managed_dma", managed);
        } else
                printf("driver %s bound to %s%s\n", driver, device,
                       managed ? " (driver-managed DMA)" : "");
        return ctl_done(ctx, &j);
}

/* RemoveDriver and Unplug: one device argument, nothing returned. */
static int device_call(Ctx *ctx, const Command *cmd, const char *method, const char *what) {
        const char *device = cmd->args[0];
        Json j;
        int r;

        r = ctl_call(ctx, IOMMUD_PATH, IOMMUD_SIMULATOR_INTERFACE, method, NULL, "s", device);
        if (r != 0)
                return r;
        ctl_begin_json(ctx, &j);
        if (ctx->json)
                json_pair_string(&j, "device", device);
        else
                printf("%s %s\n", what, device);
        return ctl_done(ctx, &j);
}

int verb_remove_driver(Ctx *ctx, const Command *cmd) {
        return device_call(ctx, cmd, "RemoveDriver", "removed the driver of");
}

int verb_unplug(Ctx *ctx, const Command *cmd) {
        return device_call(ctx, cmd, "Unplug", "unplugged");
}
