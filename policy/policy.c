/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* policy.c - the decisions: plain C over loaded rules, no I/O and no JSON */
#include <errno.h>
#include <fnmatch.h>
#include <string.h>

#include "common/alloc.h"
#include "policy-internal.h"

static const char *const op_names[_POLICY_OP_MAX] = {
        [POLICY_CLAIM] = "claim",
        [POLICY_DETACH_KERNEL_DRIVERS] = "detach-kernel-drivers",
        [POLICY_SVA] = "sva",
        [POLICY_SHARE_MEMORY] = "share-memory",
        [POLICY_SPACES] = "spaces",
        [POLICY_FAULT_SERVICE] = "fault-service",
        [POLICY_OPEN_DEVICE] = "open-device",
        [POLICY_REVOKE] = "revoke",
        [POLICY_ADMIN_CLAIM] = "admin-claim",
};

const char *policy_op_to_string(PolicyOp op) {
        return (unsigned)op < ELEMENTSOF(op_names) ? op_names[op] : NULL;
}

int policy_op_from_string(const char *s) {
        for (unsigned op = 0; op < _POLICY_OP_MAX; op++)
                if (strcmp(s, op_names[op]) == 0)
                        return (int)op;
        return -EINVAL;
}

void policy_rule_done(PolicyRule *r) {
        free(r->origin);
        free(r->uids);
        free(r->gids);
        free(r->address);
        free(r->driver);
        memset(r, 0, sizeof(*r));
}

int policy_new_empty(Policy **ret) {
        Policy *p;

        p = xzalloc(sizeof(*p));
        if (!p)
                return -ENOMEM;
        *ret = p;
        return 0;
}

Policy *policy_free(Policy *p) {
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->n_rules; i++)
                policy_rule_done(&p->rules[i]);
        free(p->rules);
        free(p);
        return NULL;
}

unsigned policy_rule_count(const Policy *p) {
        return p ? (unsigned)p->n_rules : 0;
}

unsigned policy_file_count(const Policy *p) {
        return p ? p->n_files : 0;
}

/* uid_t and gid_t are both unsigned 32-bit on Linux, so one helper serves both. */
_Static_assert(sizeof(uid_t) == sizeof(uint32_t) && sizeof(gid_t) == sizeof(uint32_t),
               "uid_t and gid_t are 32 bits");

static bool id_in(const uint32_t *ids, size_t n, uint32_t id) {
        for (size_t i = 0; i < n; i++)
                if (ids[i] == id)
                        return true;
        return false;
}

static bool rule_matches_subject(const PolicyRule *r, const PolicySubject *s) {
        if (r->any_principal)
                return true;
        if (id_in(r->uids, r->n_uids, s->uid))
                return true;
        if (id_in(r->gids, r->n_gids, s->gid))
                return true;
        for (size_t i = 0; i < s->n_groups; i++)
                if (id_in(r->gids, r->n_gids, s->groups[i]))
                        return true;
        return false;
}

static bool driver_matches(const char *want, const char *have) {
        bool none = !have || !*have;

        if (!*want)
                return none;
        return !none && strcmp(want, have) == 0;
}

/* Every field the rule sets must match; a rule that sets none matches all. */
static bool rule_matches_device(const PolicyRule *r, const PolicyDevice *d) {
        unsigned m = r->device_match;

        if ((m & DEVICE_MATCH_ADDRESS) &&
            (!d->address || fnmatch(r->address, d->address, 0) != 0))
                return false;
        if ((m & DEVICE_MATCH_VENDOR) && r->vendor_id != d->vendor_id)
                return false;
        if ((m & DEVICE_MATCH_DEVICE) && r->device_id != d->device_id)
                return false;
        if ((m & DEVICE_MATCH_CLASS) && r->class_code != d->class_code)
                return false;
        if ((m & DEVICE_MATCH_GROUP) && r->group != d->group)
                return false;
        if ((m & DEVICE_MATCH_DRIVER) && !driver_matches(r->driver, d->driver))
                return false;
        return true;
}

/*
 * "The last matching rule decides" is the same as "the first matching rule
 * from the end decides", which stops early.
 */
bool policy_allows_explain(const Policy *p, const PolicySubject *s, const PolicyDevice *d,
                           PolicyOp op, const char **ret_origin) {
        unsigned bit;

        if (ret_origin)
                *ret_origin = NULL;
        if ((unsigned)op >= _POLICY_OP_MAX)
                return false;
        bit = POLICY_OP_BIT(op);
        for (size_t i = p ? p->n_rules : 0; i > 0; i--) {
                const PolicyRule *r = &p->rules[i - 1];

                if (!((r->allow | r->deny) & bit))
                        continue;
                if (!rule_matches_subject(r, s))
                        continue;
                if (d && !rule_matches_device(r, d))
                        continue;
                if (ret_origin)
                        *ret_origin = r->origin;
                return !(r->deny & bit);
        }
        return s->uid == 0;
}

/* The rule policy_allows_explain() stops at, read before knowing the
 * device: the last one for s and op, which filters devices or not. */
bool policy_decides_every_device(const Policy *p, const PolicySubject *s, PolicyOp op, bool *ret_allows) {
        unsigned bit;

        if ((unsigned)op >= _POLICY_OP_MAX)
                return false;
        bit = POLICY_OP_BIT(op);
        for (size_t i = p ? p->n_rules : 0; i > 0; i--) {
                const PolicyRule *r = &p->rules[i - 1];

                if (!((r->allow | r->deny) & bit) || !rule_matches_subject(r, s))
                        continue;
                if (r->device_match)
                        return false;
                *ret_allows = !(r->deny & bit);
                return true;
        }
        *ret_allows = s->uid == 0;
        return true;
}

bool policy_allows(const Policy *p, const PolicySubject *s, const PolicyDevice *d, PolicyOp op) {
        return policy_allows_explain(p, s, d, op, NULL);
}

static Quota default_quota(uid_t uid) {
        Quota q;

        if (uid == 0) {
                for (unsigned r = 0; r < _RES_MAX; r++)
                        q.limit[r] = UINT64_MAX;
                return q;
        }
        q.limit[RES_PASIDS] = POLICY_DEFAULT_PASIDS;
        q.limit[RES_BONDS] = POLICY_DEFAULT_BONDS;
        q.limit[RES_REGIONS] = POLICY_DEFAULT_REGIONS;
        q.limit[RES_SPACES] = POLICY_DEFAULT_SPACES;
        q.limit[RES_PENDING_FAULTS] = POLICY_DEFAULT_PENDING_FAULTS;
        q.limit[RES_GROUPS] = POLICY_DEFAULT_GROUPS;
        q.limit[RES_BYTES] = POLICY_DEFAULT_BYTES;
        q.limit[RES_MAPPINGS] = POLICY_DEFAULT_MAPPINGS;
        q.limit[RES_CONNECTIONS] = POLICY_DEFAULT_CONNECTIONS;
        q.limit[RES_OPEN_DEVICES] = POLICY_DEFAULT_OPEN_DEVICES;
        return q;
}

/* Walks forward so that each later rule overwrites what earlier ones set. */
void policy_limits(const Policy *p, const PolicySubject *s, Quota *ret_quota,
                   uint64_t *ret_fault_timeout_usec) {
        Quota q = default_quota(s->uid);
        uint64_t timeout = UINT64_C(1000) * POLICY_DEFAULT_FAULT_TIMEOUT_MS;

        for (size_t i = 0; p && i < p->n_rules; i++) {
                const PolicyRule *r = &p->rules[i];

                if (!rule_matches_subject(r, s))
                        continue;
                for (unsigned res = 0; res < _RES_MAX; res++)
                        if (r->quota_set[res])
                                q.limit[res] = r->quota[res];
                if (r->fault_timeout_set)
                        timeout = r->fault_timeout_usec;
        }
        if (ret_quota)
                *ret_quota = q;
        if (ret_fault_timeout_usec)
                *ret_fault_timeout_usec = timeout;
}
