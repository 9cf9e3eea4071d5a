/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* verbs-space.c - a client's own I/O address spaces: space, map, unmap, attach, detach, destroy */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "iommuctl.h"

const VerbOption map_options[] = {
        VERB_FLAG("--read-only", OPT_READ_ONLY, "devices may read the mapping but not write it"),
        { NULL },
};

/* The SPACE argument of every verb here but space is the first one. */
static int space_path(Ctx *ctx, const Command *cmd, char **ret) {
        return arg_path(ctx, cmd->args[0], ARG_SPACE, ret);
}

/* A method of the space; "there is no space ..." when it does not exist. */
#define space_call(ctx, path, member, types, ...)                                \
        ctl_call_object(ctx, path, IOMMUD_SPACE_INTERFACE, member, "space", "spaces", NULL, \
                        types, __VA_ARGS__)

int verb_space(Ctx *ctx, const Command *cmd) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *path;
        char *copy;
        Json j;
        int r;

        r = ctl_call(ctx, IOMMUD_PATH, IOMMUD_MANAGER_INTERFACE, "CreateSpace", &reply, NULL);
        if (r != 0)
                return r;
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return ctl_bad_reply(ctx, r);
        copy = strdup(path);
        if (!copy)
                return ctl_bad_reply(ctx, -ENOMEM);
        free(ctx->space);
        ctx->space = copy;
        ctx->refs |= REF_SPACE;

        ctl_begin_json(ctx, &j);
        if (ctx->json)
                json_pair_string(&j, "space", path);
        else
                printf("created space %s\n", path);
        return ctl_done(ctx, &j);
}

int verb_map(Ctx *ctx, const Command *cmd) {
        _cleanup_(freep) char *space = NULL, *region = NULL;
        bool read_only = cmd->flags & OPT_READ_ONLY;
        uint64_t offset, iova, length;
        Json j;
        int r;

        r = space_path(ctx, cmd, &space);
        if (r == 0)
                r = arg_path(ctx, cmd->args[1], ARG_REGION, &region);
        if (r == 0)
                r = arg_number(ctx, cmd->args[2], ARG_ADDRESS, &offset);
        if (r == 0)
                r = arg_number(ctx, cmd->args[3], ARG_ADDRESS, &iova);
        if (r == 0)
                r = arg_number(ctx, cmd->args[4], ARG_LENGTH, &length);
        if (r == 0)
                r = space_call(ctx, space, "Map", "otttu", region, offset, iova, length,
                               read_only ? IOMMUD_ACCESS_READ : IOMMUD_ACCESS_READ | IOMMUD_ACCESS_WRITE);
        if (r != 0)
                return r;

        ctl_begin_json(ctx, &j);
        if (ctx->json) {
                json_pair_string(&j, "space", space);
                json_pair_string(&j, "region", region);
                json_pair_uint(&j, "region_offset", offset);
                json_pair_uint(&j, "iova", iova);
                json_pair_uint(&j, "length", length);
                json_pair_bool(&j, "read_only", read_only);
        } else
                printf("mapped %" PRIu64 " bytes of %s at offset 0x%" PRIx64 " to IOVA 0x%" PRIx64
                       " in %s%s\n", length, region, offset, iova, space,
                       read_only ? " (read-only)" : "");
        return ctl_done(ctx, &j);
}

int verb_unmap(Ctx *ctx, const Command *cmd) {
        _cleanup_(freep) char *space = NULL;
        uint64_t iova, length;
        Json j;
        int r;

        r = space_path(ctx, cmd, &space);
        if (r == 0)
                r = arg_number(ctx, cmd->args[1], ARG_ADDRESS, &iova);
        if (r == 0)
                r = arg_number(ctx, cmd->args[2], ARG_LENGTH, &length);
        if (r == 0)
                r = space_call(ctx, space, "Unmap", "tt", iova, length);
        if (r != 0)
                return r;

        ctl_begin_json(ctx, &j);
        if (ctx->json) {
                json_pair_string(&j, "space", space);
                json_pair_uint(&j, "iova", iova);
                json_pair_uint(&j, "length", length);
        } else
                printf("unmapped %" PRIu64 " bytes at IOVA 0x%" PRIx64 " in %s\n",
                       length, iova, space);
        return ctl_done(ctx, &j);
}

/* Attach and Detach: SPACE DEVICE [PASID], PASID 0 (the RID) when left out. */
static int slot_call(Ctx *ctx, const Command *cmd, const char *member, const char *done_text,
                     const char *preposition) {
        _cleanup_(freep) char *space = NULL;
        const char *device = cmd->args[1];
        uint32_t pasid = 0;
        Json j;
        int r;

        r = space_path(ctx, cmd, &space);
        if (r == 0 && cmd->args[2])
                r = arg_u32(ctx, cmd->args[2], ARG_PASID, &pasid);
        if (r == 0)
                r = space_call(ctx, space, member, "su", device, pasid);
        if (r != 0)
                return r;

        ctl_begin_json(ctx, &j);
        if (ctx->json) {
                json_pair_string(&j, "space", space);
                json_pair_string(&j, "device", device);
                json_pair_uint(&j, "pasid", pasid);
        } else
                printf("%s %s %s %s PASID %" PRIu32 "%s\n", done_text, space, preposition, device,
                       pasid, pasid == 0 ? " (the RID)" : "");
        return ctl_done(ctx, &j);
}

int verb_attach(Ctx *ctx, const Command *cmd) {
        return slot_call(ctx, cmd, "Attach", "attached", "to");
}

int verb_detach(Ctx *ctx, const Command *cmd) {
        return slot_call(ctx, cmd, "Detach", "detached", "from");
}

int verb_destroy(Ctx *ctx, const Command *cmd) {
        _cleanup_(freep) char *space = NULL;
        Json j;
        int r;

        r = space_path(ctx, cmd, &space);
        if (r == 0)
                r = ctl_call_object(ctx, space, IOMMUD_SPACE_INTERFACE, "Destroy", "space", "spaces",
                                    NULL, NULL);
        if (r != 0)
                return r;

        ctl_begin_json(ctx, &j);
        if (ctx->json)
                json_pair_string(&j, "space", space);
        else
                printf("destroyed %s\n", space);
        return ctl_done(ctx, &j);
}
