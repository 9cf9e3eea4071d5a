/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* authorize.c - who may do what: the caller's bus identity against the policy */
#include <errno.h>

#include "daemon/core/device.h"
#include "daemon/core/group.h"
#include "daemon.h"
#include "policy-device.h"

bool bus_allows(Daemon *d, const BusIdentity *who, PolicyOp op, const Device *dev) {
        PolicySubject subject;
        PolicyDevice pdev;

        bus_identity_subject(who, &subject);
        if (dev)
                policy_device_of(dev, &pdev);
        return policy_allows(d->policy, &subject, dev ? &pdev : NULL, op);
}

uint32_t bus_sva_width(Daemon *d, const BusIdentity *who) {
        PolicySubject subject;

        bus_identity_subject(who, &subject);
        return policy_sva_width(d->core, d->policy, &subject);
}

int bus_authorize_sva_somewhere(Daemon *d, const BusIdentity *who, uint32_t *ret_width, sd_bus_error *error) {
        uint32_t width = bus_sva_width(d, who);

        if (width == 0) {
                audit_denied(who, "sva", NULL, "no policy rule grants \"sva\" on a PASID-capable device");
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "uid %u may not sva on any device: no policy rule grants \"sva\" on a "
                                         "PASID-capable device, and a PASID is only for binding one. An "
                                         "administrator can grant it with a rule in %s (see 'man iommud.policy') and "
                                         "'iommuctl reload'.", (unsigned)who->uid,
                                         d->policy_path ? d->policy_path : IOMMUD_DEFAULT_POLICY "/policy.d/");
        }
        *ret_width = width;
        return 0;
}

int bus_authorize(Daemon *d, const BusIdentity *who, PolicyOp op, const Device *dev, sd_bus_error *error) {
        if (bus_allows(d, who, op, dev))
                return 0;
        audit_denied(who, policy_op_to_string(op), dev, "no policy rule grants it");
        if (dev)
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "uid %u may not %s on device %s (group %u): no policy rule grants "
                                         "\"%s\". An administrator can grant it with a rule in %s "
                                         "(see 'man iommud.policy') and 'iommuctl reload'.",
                                         (unsigned)who->uid, policy_op_to_string(op), dev->name,
                                         dev->group->id, policy_op_to_string(op),
                                         d->policy_path ? d->policy_path : IOMMUD_DEFAULT_POLICY "/policy.d/");
        return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                 "uid %u may not %s: no policy rule grants \"%s\". An administrator can "
                                 "grant it with a rule in %s (see 'man iommud.policy') and 'iommuctl reload'.",
                                 (unsigned)who->uid, policy_op_to_string(op), policy_op_to_string(op),
                                 d->policy_path ? d->policy_path : IOMMUD_DEFAULT_POLICY "/policy.d/");
}

int bus_authorize_root(sd_bus_message *m, const char *what, sd_bus_error *error) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        uid_t uid;
        int r;

        /* The uid the bus vouches for; never augmented from /proc. */
        r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID | SD_BUS_CREDS_PID, &creds);
        if (r < 0)
                return r;
        r = sd_bus_creds_get_euid(creds, &uid);
        if (r < 0)
                return r;
        if (uid != 0) {
                BusIdentity who = { .uid = uid, .name = sd_bus_message_get_sender(m) };

                if (sd_bus_creds_get_pid(creds, &who.pid) < 0)
                        who.pid = 0;
                audit_denied(&who, what, NULL, "root only");
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "%s is for root only (you are uid %u); run it with sudo.",
                                         what, (unsigned)uid);
        }
        return 0;
}
