/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* policy-device.h - the core's devices as the policy sees them, and the PASID width a subject may bind */
#pragma once

#include "daemon/core/device.h"
#include "policy/policy.h"

/* dev's fields as a policy rule matches them; ret borrows dev's strings. */
void policy_device_of(const Device *dev, PolicyDevice *ret);

/*
 * The smallest max_pasids of the PASID-capable devices s may bind ("sva")
 * under p, or 0 when there is none: what the client's PASID is to fit (L7).
 * Costs O(rules) when p decides "sva" for s alike on every device (every
 * rule without device filters, as in the shipped policies): the core keeps
 * the smallest max_pasids. Only when a device-filtered rule decides for s
 * are the devices asked one by one (core_min_pasid_width_where()), which
 * counts them in Core.device_walks.
 */
uint32_t policy_sva_width(Core *c, const Policy *p, const PolicySubject *s);
