/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* policy-internal.h - the Policy's plain structures, shared by the loader and the decisions */
#pragma once

#include "policy.h"

/* Limits for everybody but root when no rule sets them (docs/policy.md). */
#define POLICY_DEFAULT_PASIDS           1
#define POLICY_DEFAULT_BONDS            16
#define POLICY_DEFAULT_REGIONS          64
#define POLICY_DEFAULT_SPACES           8
#define POLICY_DEFAULT_PENDING_FAULTS   256
#define POLICY_DEFAULT_GROUPS           4
#define POLICY_DEFAULT_BYTES            (UINT64_C(256) << 20)
#define POLICY_DEFAULT_MAPPINGS         1024
#define POLICY_DEFAULT_CONNECTIONS      16
#define POLICY_DEFAULT_OPEN_DEVICES     4
#define POLICY_DEFAULT_FAULT_TIMEOUT_MS 2000
#define POLICY_MAX_FAULT_TIMEOUT_MS     (3600 * 1000)

/* Which fields of a rule's device filter are set. */
enum {
        DEVICE_MATCH_ADDRESS = 1u << 0,
        DEVICE_MATCH_VENDOR  = 1u << 1,
        DEVICE_MATCH_DEVICE  = 1u << 2,
        DEVICE_MATCH_CLASS   = 1u << 3,
        DEVICE_MATCH_GROUP   = 1u << 4,
        DEVICE_MATCH_DRIVER  = 1u << 5,
};

#define POLICY_OP_BIT(op) (1u << (op))

/*
 * One entry of "rules", already resolved: names are uids and gids, hex
 * strings are numbers. Every pointer is owned by the rule and freed by
 * policy_rule_done().
 */
typedef struct PolicyRule {
        char *origin;                   /* "FILE: rules[N]", for explanations */

        bool any_principal;             /* "principals": "*" */
        uid_t *uids;
        size_t n_uids;
        gid_t *gids;
        size_t n_gids;

        unsigned device_match;          /* DEVICE_MATCH_*: the fields below that are set */
        char *address;                  /* fnmatch() pattern */
        uint16_t vendor_id, device_id;
        uint32_t class_code;
        uint32_t group;
        char *driver;                   /* "" matches a device without a driver */

        unsigned allow, deny;           /* POLICY_OP_BIT() sets */

        bool quota_set[_RES_MAX];
        uint64_t quota[_RES_MAX];
        bool fault_timeout_set;
        uint64_t fault_timeout_usec;
} PolicyRule;

struct Policy {
        PolicyRule *rules;              /* owned, in the order they were read */
        size_t n_rules;
        unsigned n_files;
};

/* Frees what r owns (not r itself) and clears it. */
void policy_rule_done(PolicyRule *r);
