/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* verbs-override.c - groups held for the machine (driverctl-style overrides): detach-group, reattach-group, list-overrides */
#include <errno.h>
#include <stdio.h>

#include "iommuctl.h"

const VerbOption detach_group_options[] = {
        VERB_FLAG("--nosave", OPT_NOSAVE,
                  "hold the group until reboot only, as driverctl's --nosave (OVERRIDE_NOSAVE)"),
        { NULL },
};

const char *const overrides_columns[] = {
        "DEVICE", "DRIVER", "GROUP", "SAVED", "STATE", NULL,
};

int verb_detach_group(Ctx *ctx, const Command *cmd) {
        bool saved = !(cmd->flags & OPT_NOSAVE);
        uint32_t group;
        Json j;
        int r;

        if (parse_group(cmd->args[0], &group) < 0)
                return EXIT_USAGE;      /* checked while parsing the command line */
        /* answered once every driver is unbound, which can take a while on the kernel */
        r = ctl_call(ctx, IOMMUD_PATH, IOMMUD_MANAGER_INTERFACE, "DetachGroup", NULL, "ut", group,
                     (uint64_t)(saved ? 0 : IOMMUD_OVERRIDE_NOSAVE));
        if (r != 0)
                return r;

        ctl_begin_json(ctx, &j);
        if (ctx->json) {
                json_pair_uint(&j, "group", group);
                json_pair_bool(&j, "saved", saved);
        } else
                printf("detached group %u for the machine: its devices stay on vfio-pci until "
                       "'iommuctl reattach-group %u', %s\n", group, group,
                       saved ? "across reboots" : "or until reboot (--nosave)");
        return ctl_done(ctx, &j);
}

int verb_reattach_group(Ctx *ctx, const Command *cmd) {
        return ctl_group_method(ctx, cmd, "ReattachGroup", "reattached",
                                ": its devices are back on the drivers they had");
}

/* One entry of ListOverrides: device, driver to give back, group (0: absent), saved, state. */
static int override_read_row(Ctx *ctx, sd_bus_message *reply, Table *t, Json *j, void *userdata) {
        const char *device, *driver, *state;
        uint32_t group;
        int saved, r;

        r = sd_bus_message_read(reply, "(ssubs)", &device, &driver, &group, &saved, &state);
        if (r <= 0)
                return r < 0 ? ctl_bad_reply(ctx, r) : ROW_END;
        if (j) {
                json_begin_object(j);
                json_pair_string(j, "device", device);
                json_pair_string_or_null(j, "driver", driver);
                json_key(j, "group");
                group ? json_uint(j, group) : json_null(j);
                json_pair_bool(j, "saved", saved);
                json_pair_string(j, "state", state);
                json_end_object(j);
                return 0;
        }
        if (table_add(t, device) < 0 ||
            table_add(t, driver) < 0 ||
            (group ? table_addf(t, "%u", group) : table_add(t, NULL)) < 0 ||
            table_add(t, saved ? "yes" : "no") < 0 ||
            table_add(t, state) < 0)
                return ctl_bad_reply(ctx, -ENOMEM);
        return 0;
}

int verb_list_overrides(Ctx *ctx, const Command *cmd) {
        return list_verb(ctx, "ListOverrides", "(ssubs)", override_read_row, NULL);
}
