/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* policy.h - who may do what to which device, and with what quotas (docs/policy.md) */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "daemon/core/types.h"
#include "common/macro.h"

/* The operations a rule can allow or deny. */
typedef enum PolicyOp {
        POLICY_CLAIM,                   /* ClaimGroup */
        POLICY_DETACH_KERNEL_DRIVERS,   /* ClaimGroup with DETACH_KERNEL_DRIVERS */
        POLICY_SVA,                     /* AllocPasid, BindSva */
        POLICY_SHARE_MEMORY,            /* ShareMemory */
        POLICY_SPACES,                  /* IO address spaces */
        POLICY_FAULT_SERVICE,           /* answering page requests */
        POLICY_OPEN_DEVICE,             /* OpenDevice; OpenIommufd if granted on some device */
        POLICY_REVOKE,                  /* Group.Revoke of another client's claim */
        POLICY_ADMIN_CLAIM,             /* DetachGroup, ReattachGroup: overrides for the machine */
        _POLICY_OP_MAX,
} PolicyOp;

/* "claim", "detach-kernel-drivers", "sva", "share-memory", "spaces",
 * "fault-service", "open-device", "revoke", "admin-claim"; NULL for a value out of range. */
const char *policy_op_to_string(PolicyOp op);
/* The inverse; -EINVAL for an unknown name. */
int policy_op_from_string(const char *s);

/* Who asks. All pointers are borrowed for the duration of the call. */
typedef struct PolicySubject {
        uid_t uid;
        gid_t gid;                      /* primary group */
        const gid_t *groups;            /* supplementary groups */
        size_t n_groups;
} PolicySubject;

/* What the operation is on. Strings are borrowed for the duration of the call. */
typedef struct PolicyDevice {
        const char *address;            /* device name, "0000:00:02.0" */
        uint16_t vendor_id, device_id;
        uint32_t class_code;
        uint32_t group;
        const char *driver;             /* NULL or "": no driver bound */
} PolicyDevice;

typedef struct Policy Policy;

/*
 * Loads a file, or a directory: every "*.json" in it, then every "*.json" in
 * its "policy.d", each set in strcmp() order (docs/policy.md). On success
 * *ret owns the new Policy and *ret_errors (if given) is set to NULL. On
 * error *ret is left untouched and, if ret_errors != NULL, *ret_errors gets
 * a malloc'ed message with one line per problem (no trailing newline; NULL
 * only when out of memory). Returns -ENOENT if path itself does not exist,
 * another negative errno if it cannot be examined, -ENOMEM, or -EINVAL for
 * every other problem (bad content, unreadable files inside a directory).
 */
int policy_load(const char *path, Policy **ret, char **ret_errors);

/*
 * policy_load() of one file's text, already in memory: size bytes followed
 * by a NUL. name stands for the file in messages and origins. None of the
 * file checks apply (regular file, size, mode): the caller read the text.
 * For tests and tests/fuzz/fuzz-policy, which parses what the daemon parses.
 */
int policy_load_text(const char *name, const char *text, size_t size, Policy **ret, char **ret_errors);

/* The empty policy: root may do everything, nobody else anything. */
int policy_new_empty(Policy **ret);

/* Accepts NULL; returns NULL. */
Policy *policy_free(Policy *p);
DEFINE_POINTER_CLEANUP(Policy, policy_free)

/*
 * May s do op on d? d == NULL for operations without a device (AllocPasid,
 * ShareMemory): the device filters of the rules are then ignored. The last
 * rule that matches s and d and names op decides; without one, root may and
 * nobody else may. A NULL p is the empty policy.
 */
bool policy_allows(const Policy *p, const PolicySubject *s, const PolicyDevice *d, PolicyOp op);

/*
 * Whether p decides op for s alike on every device, so that a caller can
 * skip asking device by device: true when the rule that decides (the last
 * one matching s and naming op) filters no device field, or when no rule
 * does (the default decides); *ret_allows then gets the decision. False
 * when the decision may differ between devices. O(rules).
 */
bool policy_decides_every_device(const Policy *p, const PolicySubject *s, PolicyOp op, bool *ret_allows);

/*
 * policy_allows() that also says why: *ret_origin (if given) is set to the
 * deciding rule, e.g. "/etc/iommud/policy.json: rules[2]" (borrowed from p,
 * valid until it is freed), or NULL when the default decided.
 */
bool policy_allows_explain(const Policy *p, const PolicySubject *s, const PolicyDevice *d,
                           PolicyOp op, const char **ret_origin);

/* s's quotas (L10) and fault timeout: per resource, the last rule matching s
 * (devices are not looked at) that sets it, else the default. The core
 * applies each limit to the total of s's uid over all its connections. */
void policy_limits(const Policy *p, const PolicySubject *s, Quota *ret_quota,
                   uint64_t *ret_fault_timeout_usec);

unsigned policy_rule_count(const Policy *p);
/* How many files the policy was read from (0 for the empty policy). */
unsigned policy_file_count(const Policy *p);

/*
 * For "iommud --check-policy PATH": loads path and writes to out either
 * every problem, one per line, or "OK: N rules from M files". Returns 0 when
 * the policy is valid, 1 otherwise.
 */
int policy_check(const char *path, FILE *out, FILE *err);
