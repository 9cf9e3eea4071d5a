/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* policy-device.c - the core's devices as the policy sees them, and the PASID width a subject may bind */
#include "daemon/core/group.h"
#include "policy-device.h"

void policy_device_of(const Device *dev, PolicyDevice *ret) {
        *ret = (PolicyDevice) {
                .address = dev->name,
                .vendor_id = dev->vendor_id,
                .device_id = dev->device_id,
                .class_code = dev->class_code,
                .group = dev->group->id,
                .driver = dev->driver,
        };
}

typedef struct SvaAsk {
        const Policy *policy;
        const PolicySubject *subject;
} SvaAsk;

static bool sva_allowed(const Device *dev, void *userdata) {
        const SvaAsk *ask = userdata;
        PolicyDevice pdev;

        policy_device_of(dev, &pdev);
        return policy_allows(ask->policy, ask->subject, &pdev, POLICY_SVA);
}

uint32_t policy_sva_width(Core *c, const Policy *p, const PolicySubject *s) {
        SvaAsk ask = { .policy = p, .subject = s };
        bool allows;

        if (policy_decides_every_device(p, s, POLICY_SVA, &allows))
                return allows ? core_min_pasid_width(c) : 0;
        return core_min_pasid_width_where(c, sva_allowed, &ask);
}
