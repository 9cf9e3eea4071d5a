/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-policy.c - policy files: loading, error messages, and the decisions made from them */
#include <criterion/criterion.h>
#include <endian.h>
#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "policy/policy.h"
#include "common/alloc.h"
#include "common/utf8.h"
#include "leak-check.h"

/* Every test gets its own directory, removed afterwards. */
static char tmpdir[64];

typedef struct Path {
        char s[256];
} Path;

static void setup(void) {
        snprintf(tmpdir, sizeof(tmpdir), "/tmp/test-policy.XXXXXX");
        cr_assert_not_null(mkdtemp(tmpdir));
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path);
}

static void teardown(void) {
        nftw(tmpdir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
        check_leaks();
}

TestSuite(policy, .init = setup, .fini = teardown);

static Path path_of(const char *name) {
        Path p;

        cr_assert_lt(snprintf(p.s, sizeof(p.s), "%s/%s", tmpdir, name), (int)sizeof(p.s));
        return p;
}

/*
 * Writes tmpdir/name, creating its directory. JSON is written with ' for "
 * so that the tests stay readable; no test needs a literal '.
 */
static Path write_file(const char *name, const char *text) {
        Path p = path_of(name);
        char *slash = strrchr(p.s, '/');
        FILE *f;

        *slash = '\0';
        cr_assert(mkdir(p.s, 0755) == 0 || errno == EEXIST, "mkdir %s: %m", p.s);
        *slash = '/';
        f = fopen(p.s, "we");
        cr_assert_not_null(f, "%s: %m", p.s);
        for (const char *c = text; *c; c++)
                fputc(*c == '\'' ? '"' : *c, f);
        cr_assert_eq(fclose(f), 0);
        cr_assert_eq(chmod(p.s, 0644), 0);      /* whatever the umask */
        return p;
}

static Policy *load_ok(const char *path) {
        _cleanup_(freep) char *errors = NULL;
        Policy *p = NULL;
        int r;

        r = policy_load(path, &p, &errors);
        cr_assert_eq(r, 0, "policy_load(%s) = %d:\n%s", path, r, errors ? errors : "");
        cr_assert_not_null(p);
        cr_assert_null(errors, "no message on success");
        return p;
}

static Policy *load_text(const char *text) {
        return load_ok(write_file("policy.json", text).s);
}

/* Never dereferenced: only compared, to see that a failed load left it alone. */
static char sentinel_storage;
#define SENTINEL ((Policy *)(void *)&sentinel_storage)

/* Loads path, expects the error r, returns the message (owned by the caller). */
static char *load_fails(const char *path, int expected) {
        Policy *p = SENTINEL;
        char *errors = NULL;
        int r;

        r = policy_load(path, &p, &errors);
        cr_assert_eq(r, expected, "policy_load(%s) = %d, expected %d", path, r, expected);
        cr_assert_eq(p, SENTINEL, "a failed load leaves *ret untouched");
        cr_assert_not_null(errors);
        return errors;
}

static bool contains(const char *haystack, const char *needle) {
        return strstr(haystack, needle) != NULL;
}

/* One policy.json with text must be rejected with "PATH: msg" among the problems. */
static void expect_error(const char *text, const char *msg) {
        Path f = write_file("policy.json", text);
        _cleanup_(freep) char *errors = load_fails(f.s, -EINVAL);
        char want[1024];

        snprintf(want, sizeof(want), "%s: %s", f.s, msg);
        cr_assert(contains(errors, want), "expected\n  %s\namong\n  %s", want, errors);
}

static unsigned count_lines(const char *s) {
        unsigned n = *s ? 1 : 0;

        for (; *s; s++)
                n += *s == '\n';
        return n;
}

static const PolicySubject ROOT = { .uid = 0, .gid = 0 };
static const PolicySubject NOBODY = { .uid = 65534, .gid = 65534 };

static PolicySubject user(uid_t uid) {
        return (PolicySubject) { .uid = uid, .gid = uid };
}

/* A QEMU PCI test device. */
static PolicyDevice test_device(void) {
        return (PolicyDevice) {
                .address = "0000:00:02.0",
                .vendor_id = 0x1b36,
                .device_id = 0x00f0,
                .class_code = 0x120000,
                .group = 1,
                .driver = NULL,
        };
}

static bool allows(const Policy *p, const PolicySubject *s, PolicyOp op) {
        PolicyDevice d = test_device();

        return policy_allows(p, s, &d, op);
}

Test(policy, op_names_round_trip) {
        cr_assert_str_eq(policy_op_to_string(POLICY_DETACH_KERNEL_DRIVERS),
                         "detach-kernel-drivers");
        cr_assert_null(policy_op_to_string(_POLICY_OP_MAX));
        for (int op = 0; op < _POLICY_OP_MAX; op++)
                cr_assert_eq(policy_op_from_string(policy_op_to_string(op)), op);
        cr_assert_eq(policy_op_from_string("clam"), -EINVAL);
}

Test(policy, empty_policy_root_everything_others_nothing) {
        _cleanup_(policy_freep) Policy *p = NULL;

        cr_assert_eq(policy_new_empty(&p), 0);
        cr_assert_eq(policy_rule_count(p), 0);
        for (int op = 0; op < _POLICY_OP_MAX; op++) {
                cr_assert(allows(p, &ROOT, op));
                cr_assert(policy_allows(p, &ROOT, NULL, op));
                cr_assert_not(allows(p, &NOBODY, op));
                cr_assert_not(policy_allows(p, &NOBODY, NULL, op));
        }
        cr_assert_null(policy_free(NULL));
}

Test(policy, deny_by_default_for_non_root) {
        _cleanup_(policy_freep) Policy *p = load_text(
                "{ 'rules': [ { 'principals': { 'users': [1000] }, 'allow': ['claim'] } ] }");
        PolicySubject u1000 = user(1000), u1001 = user(1001);

        cr_assert(allows(p, &u1000, POLICY_CLAIM), "the rule grants claim to 1000");
        cr_assert_not(allows(p, &u1000, POLICY_SVA), "but nothing else");
        cr_assert_not(allows(p, &u1001, POLICY_CLAIM));
        for (int op = 0; op < _POLICY_OP_MAX; op++)
                cr_assert_not(allows(p, &NOBODY, op), "%s", policy_op_to_string(op));
}

Test(policy, root_allowed_by_default) {
        _cleanup_(policy_freep) Policy *p = load_text(
                "{ 'rules': [ { 'principals': { 'users': ['nobody'] }, 'deny': ['claim'] } ] }");

        for (int op = 0; op < _POLICY_OP_MAX; op++)
                cr_assert(allows(p, &ROOT, op), "%s", policy_op_to_string(op));
        cr_assert_not(allows(p, &NOBODY, POLICY_CLAIM));
}

Test(policy, root_denied_by_explicit_rule) {
        _cleanup_(policy_freep) Policy *p = load_text(
                "{ 'rules': [ { 'principals': { 'users': ['root'] }, 'deny': ['claim'] } ] }");
        const char *origin = NULL;

        cr_assert_not(allows(p, &ROOT, POLICY_CLAIM));
        cr_assert(allows(p, &ROOT, POLICY_SVA));
        cr_assert_not(policy_allows_explain(p, &ROOT, NULL, POLICY_CLAIM, &origin));
        cr_assert_not_null(origin);
        cr_assert(contains(origin, "/policy.json: rules[0]"), "%s", origin);
        cr_assert(policy_allows_explain(p, &ROOT, NULL, POLICY_SVA, &origin));
        cr_assert_null(origin, "the default decided");
}

Test(policy, deny_wins_within_one_rule) {
        _cleanup_(policy_freep) Policy *p = load_text(
                "{ 'rules': [ { 'principals': '*', 'allow': ['claim', 'sva'],"
                "  'deny': ['claim'] } ] }");

        cr_assert_not(allows(p, &NOBODY, POLICY_CLAIM));
        cr_assert_not(allows(p, &ROOT, POLICY_CLAIM));
        cr_assert(allows(p, &NOBODY, POLICY_SVA));
}

Test(policy, last_matching_rule_wins) {
        _cleanup_(policy_freep) Policy *p = load_text(
                "{ 'rules': ["
                "  { 'principals': '*', 'allow': ['claim', 'sva'] },"
                "  { 'principals': { 'groups': ['nogroup'] }, 'deny': ['claim', 'sva'] },"
                "  { 'principals': { 'users': [65534] }, 'allow': ['claim'] },"
                "  { 'principals': { 'users': [4242] }, 'deny': ['claim'] }"
                "] }");

        cr_assert(allows(p, &NOBODY, POLICY_CLAIM), "rule 2 re-allows what rule 1 denied");
        cr_assert_not(allows(p, &NOBODY, POLICY_SVA), "rule 1 denies, rule 2 does not mention sva");
        cr_assert_eq(policy_rule_count(p), 4);
}

/* Order: policy.json, then policy.d/ in strcmp() order, so "10-" before "9-". */
Test(policy, directory_order_policy_json_then_policy_d_lexically) {
        _cleanup_(policy_freep) Policy *p = NULL;
        const char *origin = NULL;

        write_file("policy.d/9-deny.json",
                   "{ 'rules': [ { 'principals': '*', 'deny': ['claim'] } ] }");
        write_file("policy.d/10-allow.json",
                   "{ 'rules': [ { 'principals': '*', 'allow': ['claim', 'sva'] } ] }");
        write_file("policy.json",
                   "{ 'rules': [ { 'principals': '*', 'allow': ['claim'], 'deny': ['sva'] } ] }");
        p = load_ok(tmpdir);
        cr_assert_eq(policy_rule_count(p), 3);
        cr_assert_eq(policy_file_count(p), 3);
        cr_assert_not(policy_allows_explain(p, &NOBODY, NULL, POLICY_CLAIM, &origin),
                      "policy.d/9-deny.json is read last");
        cr_assert(contains(origin, "/policy.d/9-deny.json: rules[0]"), "%s", origin);
        cr_assert(allows(p, &NOBODY, POLICY_SVA), "policy.d/ comes after policy.json");
}

Test(policy, directory_of_json_files_and_what_is_skipped) {
        _cleanup_(policy_freep) Policy *p = NULL;

        write_file("b.json", "{ 'rules': [ { 'principals': '*', 'allow': ['claim'] } ] }");
        write_file("a.json", "{ 'rules': [ { 'principals': '*', 'deny': ['claim'] } ] }");
        write_file(".hidden.json", "not json");
        write_file("c.json.bak", "not json");
        write_file("README", "not json");
        write_file("policy.d/notes.txt", "not json");
        p = load_ok(tmpdir);
        cr_assert_eq(policy_file_count(p), 2);
        cr_assert(allows(p, &NOBODY, POLICY_CLAIM), "b.json after a.json");
}

Test(policy, empty_directory_is_the_empty_policy) {
        _cleanup_(policy_freep) Policy *p = load_ok(tmpdir);

        cr_assert_eq(policy_rule_count(p), 0);
        cr_assert(allows(p, &ROOT, POLICY_CLAIM));
        cr_assert_not(allows(p, &NOBODY, POLICY_CLAIM));
}

/* A policy granting claim to everybody on devices matching filter (JSON). */
static Policy *claim_on(const char *filter) {
        char text[512];

        snprintf(text, sizeof(text),
                 "{ 'rules': [ { 'principals': '*', 'devices': %s, 'allow': ['claim'] } ] }",
                 filter);
        return load_text(text);
}

static bool claim_ok(const Policy *p, PolicyDevice d) {
        return policy_allows(p, &NOBODY, &d, POLICY_CLAIM);
}

Test(policy, device_vendor_device_class) {
        _cleanup_(policy_freep) Policy *v = claim_on("{ 'vendor': '0x1b36' }");
        _cleanup_(policy_freep) Policy *vn = claim_on("{ 'vendor': 6966 }");
        _cleanup_(policy_freep) Policy *dv = claim_on("{ 'device': '0X00F0' }");
        _cleanup_(policy_freep) Policy *c = claim_on("{ 'class': '0x120000' }");
        PolicyDevice d = test_device(), other;

        cr_assert(claim_ok(v, d));
        cr_assert(claim_ok(vn, d), "6966 == 0x1b36");
        cr_assert(claim_ok(dv, d));
        cr_assert(claim_ok(c, d));
        other = d, other.vendor_id = 0x8086;
        cr_assert_not(claim_ok(v, other));
        cr_assert_not(claim_ok(vn, other));
        other = d, other.device_id = 0x00f1;
        cr_assert_not(claim_ok(dv, other));
        cr_assert(claim_ok(v, other));
        other = d, other.class_code = 0x020000;
        cr_assert_not(claim_ok(c, other));
}

/* open-device is decided per device like claim, and its quota is the
 * uid's "open-devices": a rule for one device filter grants no other. */
Test(policy, open_device_follows_device_filters_and_has_a_quota) {
        _cleanup_(policy_freep) Policy *p = load_text(
                "{ 'rules': ["
                "  { 'principals': { 'users': [65534] }, 'devices': { 'address': '0000:00:02.*' },"
                "    'allow': ['claim', 'open-device'] },"
                "  { 'principals': { 'users': [65534] }, 'quota': { 'open-devices': 2 } }"
                "] }");
        PolicyDevice d = test_device(), other = test_device();
        Quota q;

        other.address = "0000:00:03.0";
        cr_assert(policy_allows(p, &NOBODY, &d, POLICY_OPEN_DEVICE));
        cr_assert_not(policy_allows(p, &NOBODY, &other, POLICY_OPEN_DEVICE), "the filter does not match");
        cr_assert(policy_allows(p, &ROOT, &other, POLICY_OPEN_DEVICE), "root by default");
        cr_assert_not(policy_allows(p, &NOBODY, &d, POLICY_REVOKE), "revoke is not granted");
        cr_assert_eq(policy_op_from_string("open-device"), POLICY_OPEN_DEVICE);
        cr_assert_eq(policy_op_from_string("revoke"), POLICY_REVOKE);
        cr_assert_eq(policy_op_from_string("admin-claim"), POLICY_ADMIN_CLAIM);
        policy_limits(p, &NOBODY, &q, NULL);
        cr_assert_eq(q.limit[RES_OPEN_DEVICES], 2);
}

Test(policy, device_group_and_driver) {
        _cleanup_(policy_freep) Policy *g = claim_on("{ 'group': 1 }");
        _cleanup_(policy_freep) Policy *drv = claim_on("{ 'driver': 'e1000e' }");
        _cleanup_(policy_freep) Policy *none = claim_on("{ 'driver': '' }");
        PolicyDevice d = test_device(), other = test_device();

        cr_assert(claim_ok(g, d));
        other.group = 2;
        cr_assert_not(claim_ok(g, other));

        cr_assert(claim_ok(none, d), "NULL driver: none bound");
        cr_assert_not(claim_ok(drv, d));
        d.driver = "";
        cr_assert(claim_ok(none, d), "\"\" driver: none bound");
        d.driver = "e1000e";
        cr_assert(claim_ok(drv, d));
        cr_assert_not(claim_ok(none, d));
        d.driver = "e1000";
        cr_assert_not(claim_ok(drv, d));
}

Test(policy, device_address_glob) {
        _cleanup_(policy_freep) Policy *p = claim_on("{ 'address': '0000:00:0[23].*' }");
        PolicyDevice d = test_device();

        cr_assert(claim_ok(p, d));
        d.address = "0000:00:03.1";
        cr_assert(claim_ok(p, d));
        d.address = "0000:00:04.0";
        cr_assert_not(claim_ok(p, d));
        d.address = "0000:01:02.0";
        cr_assert_not(claim_ok(p, d));
        d.address = "0000:00:02";
        cr_assert_not(claim_ok(p, d), "the glob must match the whole name");
        d.address = NULL;
        cr_assert_not(claim_ok(p, d));
}

Test(policy, device_every_field_must_match) {
        _cleanup_(policy_freep) Policy *p = claim_on(
                "{ 'address': '0000:00:02.*', 'vendor': '0x1b36', 'device': 240,"
                "  'class': 1179648, 'group': 1, 'driver': '' }");
        PolicyDevice d = test_device(), other;

        cr_assert(claim_ok(p, d));
        other = d, other.group = 7;
        cr_assert_not(claim_ok(p, other));
        other = d, other.driver = "vfio-pci";
        cr_assert_not(claim_ok(p, other));
        other = d, other.address = "0000:00:05.0";
        cr_assert_not(claim_ok(p, other));
}

Test(policy, null_device_ignores_device_filter) {
        _cleanup_(policy_freep) Policy *p = load_text(
                "{ 'rules': ["
                "  { 'principals': '*', 'devices': { 'vendor': '0x1234' }, 'allow': ['sva'] },"
                "  { 'principals': { 'users': [0] }, 'devices': { 'vendor': '0x1234' },"
                "    'deny': ['share-memory'] }"
                "] }");

        cr_assert(policy_allows(p, &NOBODY, NULL, POLICY_SVA));
        cr_assert_not(allows(p, &NOBODY, POLICY_SVA), "the test device is a 0x1b36");
        cr_assert_not(policy_allows(p, &ROOT, NULL, POLICY_SHARE_MEMORY));
        cr_assert(allows(p, &ROOT, POLICY_SHARE_MEMORY));
}

Test(policy, groups_primary_and_supplementary) {
        _cleanup_(policy_freep) Policy *p = load_text(
                "{ 'rules': [ { 'principals': { 'groups': ['nogroup', 4000] },"
                "  'allow': ['claim'] } ] }");
        static const gid_t with[] = { 27, 65534 }, without[] = { 27, 100 };
        PolicySubject s = user(1000);

        cr_assert_not(allows(p, &s, POLICY_CLAIM));
        s.groups = with, s.n_groups = 2;
        cr_assert(allows(p, &s, POLICY_CLAIM), "supplementary group nogroup");
        s.groups = without;
        cr_assert_not(allows(p, &s, POLICY_CLAIM));
        s.gid = 4000;
        cr_assert(allows(p, &s, POLICY_CLAIM), "primary group 4000");
        cr_assert(allows(p, &NOBODY, POLICY_CLAIM), "nobody's primary group is nogroup");
}

Test(policy, star_matches_everybody) {
        _cleanup_(policy_freep) Policy *p = load_text(
                "{ 'rules': [ { 'principals': '*', 'allow': ['fault-service'],"
                "  'deny': ['spaces'] } ] }");
        PolicySubject s = user(4242);

        cr_assert(allows(p, &s, POLICY_FAULT_SERVICE));
        cr_assert(allows(p, &NOBODY, POLICY_FAULT_SERVICE));
        cr_assert_not(allows(p, &ROOT, POLICY_SPACES));
        cr_assert_not(allows(p, &s, POLICY_CLAIM));
}

Test(policy, quota_and_timeout_defaults) {
        _cleanup_(policy_freep) Policy *p = NULL;
        uint64_t timeout = 0;
        Quota q;

        cr_assert_eq(policy_new_empty(&p), 0);
        policy_limits(p, &NOBODY, &q, &timeout);
        cr_assert_eq(q.limit[RES_PASIDS], 1);
        cr_assert_eq(q.limit[RES_BONDS], 16);
        cr_assert_eq(q.limit[RES_REGIONS], 64);
        cr_assert_eq(q.limit[RES_SPACES], 8);
        cr_assert_eq(q.limit[RES_PENDING_FAULTS], 256);
        cr_assert_eq(q.limit[RES_GROUPS], 4);
        cr_assert_eq(q.limit[RES_BYTES], 256ull << 20);
        cr_assert_eq(q.limit[RES_MAPPINGS], 1024);
        cr_assert_eq(q.limit[RES_CONNECTIONS], 16);
        cr_assert_eq(q.limit[RES_OPEN_DEVICES], 4);
        cr_assert_eq(timeout, 2000000);
        policy_limits(p, &ROOT, &q, &timeout);
        for (unsigned r = 0; r < _RES_MAX; r++)
                cr_assert_eq(q.limit[r], UINT64_MAX, "root: %s", resource_to_string(r));
        cr_assert_eq(timeout, 2000000);
}

Test(policy, quota_last_matching_rule_wins_per_resource) {
        _cleanup_(policy_freep) Policy *p = load_text(
                "{ 'rules': ["
                "  { 'principals': '*', 'quota': { 'bonds': 8, 'bytes': '1G', 'pasids': 2,"
                "                                  'mappings': 5, 'connections': 'unlimited' } },"
                "  { 'principals': { 'users': ['nobody'] }, 'quota': { 'bonds': 3 } },"
                "  { 'principals': { 'users': [1000] },"
                "    'quota': { 'bonds': 99, 'spaces': 'unlimited' } },"
                "  { 'principals': { 'users': [1000] }, 'devices': { 'vendor': 1 },"
                "    'quota': { 'groups': 1 } }"
                "] }");
        PolicySubject u1000 = user(1000), u1001 = user(1001);
        Quota q;

        policy_limits(p, &NOBODY, &q, NULL);
        cr_assert_eq(q.limit[RES_BONDS], 3);
        cr_assert_eq(q.limit[RES_BYTES], 1ull << 30);
        cr_assert_eq(q.limit[RES_PASIDS], 2);
        cr_assert_eq(q.limit[RES_MAPPINGS], 5);
        cr_assert_eq(q.limit[RES_CONNECTIONS], UINT64_MAX);
        cr_assert_eq(q.limit[RES_REGIONS], 64, "nothing sets it: the default");
        policy_limits(p, &u1000, &q, NULL);
        cr_assert_eq(q.limit[RES_BONDS], 99);
        cr_assert_eq(q.limit[RES_SPACES], UINT64_MAX);
        cr_assert_eq(q.limit[RES_GROUPS], 1, "a device filter does not limit a quota");
        policy_limits(p, &u1001, &q, NULL);
        cr_assert_eq(q.limit[RES_BONDS], 8);
        cr_assert_eq(q.limit[RES_GROUPS], 4);
        policy_limits(p, &ROOT, &q, NULL);
        cr_assert_eq(q.limit[RES_BONDS], 8, "root matches \"*\" too");
        cr_assert_eq(q.limit[RES_REGIONS], UINT64_MAX);
}

Test(policy, quota_sizes) {
        static const struct {
                const char *json;
                uint64_t bytes;
        } cases[] = {
                { "0", 0 },
                { "4096", 4096 },
                { "'4096'", 4096 },
                { "'64K'", 64ull << 10 },
                { "'5k'", 5ull << 10 },
                { "'3M'", 3ull << 20 },
                { "'2G'", 2ull << 30 },
                { "'1T'", 1ull << 40 },
                { "'16777215T'", 16777215ull << 40 },
                { "'unlimited'", UINT64_MAX },
                { "18446744073709551615", UINT64_MAX },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(policy_freep) Policy *p = NULL;
                char text[256];
                Quota q;

                snprintf(text, sizeof(text),
                         "{ 'rules': [ { 'principals': '*', 'quota': { 'bytes': %s } } ] }",
                         cases[i].json);
                p = load_text(text);
                policy_limits(p, &NOBODY, &q, NULL);
                cr_assert_eq(q.limit[RES_BYTES], cases[i].bytes, "%s", cases[i].json);
        }
}

Test(policy, fault_timeout_last_wins) {
        _cleanup_(policy_freep) Policy *p = load_text(
                "{ 'rules': ["
                "  { 'principals': '*', 'fault-timeout-ms': 500 },"
                "  { 'principals': { 'users': [65534] }, 'fault-timeout-ms': 7000 }"
                "] }");
        PolicySubject u1000 = user(1000);
        uint64_t timeout = 0;

        policy_limits(p, &NOBODY, NULL, &timeout);
        cr_assert_eq(timeout, 7000000);
        policy_limits(p, &u1000, NULL, &timeout);
        cr_assert_eq(timeout, 500000);
}

/* Like expect_error() for a policy of one rule with these members. */
static void expect_rule_error(const char *members, const char *msg) {
        char text[512];

        snprintf(text, sizeof(text), "{ 'rules': [ { %s } ] }", members);
        expect_error(text, msg);
}

Test(policy, error_malformed_json) {
        expect_error("{\n  'rules': [\n    { 'principals': '*' 'allow': [] }\n  ]\n}",
                     "line 3, column 25: expected valid JSON, got a syntax error");
        expect_error("{ 'rules': [\n",
                     "line 2, column 1: expected more JSON, got the end of the file");
        expect_error("{ 'rules': [], }", "line 1, column 16: expected valid JSON");
        expect_error("{ 'rules': [] } []", "line 1, column 17: expected valid JSON");
        expect_error(" \n", "expected a JSON object with a list of \"rules\", got an empty file");
}

Test(policy, error_top_level) {
        expect_error("[]", "expected a JSON object with a list of \"rules\", got an array");
        expect_error("{}", "missing \"rules\", expected a JSON object with a list of \"rules\"");
        expect_error("{ 'rules': {} }", "rules: expected a list of rules, got an object");
        expect_error("{ 'rules': [ 3 ] }", "rules[0]: expected a rule (an object), got 3");
        expect_error("{ 'rule': [] }", "rule: unknown key, expected one of: comment, rules");
}

Test(policy, error_unknown_keys) {
        expect_rule_error("'principals': '*', 'alow': ['claim']",
                          "rules[0].alow: unknown key, expected one of: comment, principals, "
                          "devices, allow, deny, quota, fault-timeout-ms");
        expect_rule_error("'principals': '*', 'allow': [], 'devices': { 'bus': 1 }",
                          "rules[0].devices.bus: unknown key, expected one of: address, vendor, "
                          "device, class, group, driver");
        expect_rule_error("'principals': '*', 'quota': { 'pasid': 1 }",
                          "rules[0].quota.pasid: unknown key, expected one of: pasids, bonds, "
                          "regions, spaces, pending-faults, groups, bytes, mappings, connections, open-devices");
        expect_rule_error("'principals': { 'user': [0] }, 'allow': []",
                          "rules[0].principals.user: unknown key, expected one of: users, groups");
        expect_rule_error("'principals': '*', 'allow': [], 'a b\\n': 1",
                          "rules[0][\"a b\\x0a\"]: unknown key");
        expect_rule_error("'principals': '*', 'allow': [], 'a\\'b': 1",
                          "rules[0][\"a\\\"b\"]: unknown key");
}

Test(policy, error_wrong_types) {
        Path f = write_file("policy.json",
                "{ 'rules': [ { 'principals': '*', 'quota': { 'bytes': true } } ] }");
        _cleanup_(freep) char *errors = load_fails(f.s, -EINVAL);
        char want[512];

        snprintf(want, sizeof(want), "%s: rules[0].quota.bytes: "
                 "expected a number or a size like \"512M\", got true", f.s);
        cr_assert_str_eq(errors, want, "the whole message, one line");

        expect_rule_error("'principals': '*', 'quota': { 'bonds': -1 }",
                          "rules[0].quota.bonds: expected a number or \"unlimited\", got -1");
        expect_rule_error("'principals': '*', 'quota': { 'bytes': '1.5G' }",
                          "rules[0].quota.bytes: expected a number or a size like \"512M\", "
                          "got \"1.5G\"");
        expect_rule_error("'principals': '*', 'quota': { 'bytes': '99999999999999999999' }",
                          "rules[0].quota.bytes: expected a number or a size like \"512M\", "
                          "got \"99999999999999999999\" (too large)");
        expect_rule_error("'principals': '*', 'allow': 'claim'",
                          "rules[0].allow: expected a list of operation names, got \"claim\"");
        expect_rule_error("'principals': '*', 'allow': [], 'comment': 1",
                          "rules[0].comment: expected a string, got 1");
        expect_rule_error("'principals': '*', 'fault-timeout-ms': 0",
                          "rules[0].fault-timeout-ms: expected a number of milliseconds "
                          "from 1 to 3600000, got 0");
        expect_rule_error("'principals': '*', 'fault-timeout-ms': 2.5",
                          "rules[0].fault-timeout-ms: expected a number of milliseconds "
                          "from 1 to 3600000, got 2.5");
        expect_rule_error("'principals': '*', 'allow': [], 'devices': { 'group': '1' }",
                          "rules[0].devices.group: expected a group number "
                          "from 0 to 4294967295, got \"1\"");
        expect_rule_error("'principals': '*', 'allow': [], 'devices': { 'driver': null }",
                          "rules[0].devices.driver: expected a string, got null");
}

Test(policy, error_principals) {
        expect_rule_error("'allow': ['claim']",
                          "rules[0]: missing \"principals\", expected \"*\" or an object");
        expect_rule_error("'principals': 'alice', 'allow': []",
                          "rules[0].principals: expected \"*\" or an object with \"users\" "
                          "and/or \"groups\", got \"alice\"");
        expect_rule_error("'principals': {}, 'allow': []",
                          "rules[0].principals: expected \"*\" or at least one of \"users\", "
                          "\"groups\"");
        expect_rule_error("'principals': { 'users': [-1] }, 'allow': []",
                          "rules[0].principals.users[0]: expected a user name or a uid "
                          "from 0 to 4294967294, got -1");
        expect_rule_error("'principals': { 'users': 0 }, 'allow': []",
                          "rules[0].principals.users: expected a list, got 0");
}

Test(policy, error_unknown_users_and_groups) {
        expect_rule_error("'principals': { 'users': ['root', 'no-such-user-iommud'] }, 'allow': []",
                          "rules[0].principals.users[1]: unknown user \"no-such-user-iommud\", "
                          "expected a user name or a uid");
        expect_rule_error("'principals': { 'groups': ['no-such-group-iommud'] }, 'allow': []",
                          "rules[0].principals.groups[0]: unknown group \"no-such-group-iommud\", "
                          "expected a group name or a gid");
        expect_rule_error("'principals': { 'users': ['1000'] }, 'allow': []",
                          "rules[0].principals.users[0]: unknown user \"1000\", expected a user "
                          "name or a uid from 0 to 4294967294 (write an id as a number, "
                          "without quotes)");
}

Test(policy, error_unknown_operation) {
        expect_rule_error("'principals': '*', 'allow': ['claim', 'clam']",
                          "rules[0].allow[1]: expected one of claim, detach-kernel-drivers, sva, "
                          "share-memory, spaces, fault-service, open-device, revoke, admin-claim, got \"clam\"");
        expect_rule_error("'principals': '*', 'deny': [1]",
                          "rules[0].deny[0]: expected one of claim");
        expect_rule_error("'principals': '*'",
                          "rules[0]: expected at least one of \"allow\", \"deny\", \"quota\", "
                          "\"fault-timeout-ms\"; this rule does nothing");
}

Test(policy, error_bad_glob_and_hex) {
        expect_rule_error("'principals': '*', 'allow': [],"
                          "'devices': { 'address': '0000:00:0[23.*' }",
                          "rules[0].devices.address: expected a shell glob like "
                          "\"0000:00:0[23].*\"");
        expect_rule_error("'principals': '*', 'allow': [], 'devices': { 'address': '' }",
                          "rules[0].devices.address: expected a shell glob");
        expect_rule_error("'principals': '*', 'allow': [], 'devices': { 'vendor': '0xzz' }",
                          "rules[0].devices.vendor: expected a number from 0 to 0xffff or "
                          "a hex string like \"0x1b36\", got \"0xzz\"");
        expect_rule_error("'principals': '*', 'allow': [], 'devices': { 'vendor': '1b36' }",
                          "rules[0].devices.vendor: expected a number from 0 to 0xffff");
        expect_rule_error("'principals': '*', 'allow': [], 'devices': { 'device': 65536 }",
                          "rules[0].devices.device: expected a number from 0 to 0xffff");
        expect_rule_error("'principals': '*', 'allow': [], 'devices': { 'class': '0x1000000' }",
                          "rules[0].devices.class: expected a number from 0 to 0xffffff or "
                          "a hex string like \"0x120000\", got \"0x1000000\"");
}

Test(policy, error_files) {
        Path f = write_file("policy.json", "{ 'rules': [] }");
        Path d = path_of("policy.d/x.json");
        _cleanup_(freep) char *missing = NULL, *writable = NULL, *notfile = NULL;
        char want[512];

        missing = load_fails(path_of("nope").s, -ENOENT);
        snprintf(want, sizeof(want), "%s: cannot read: No such file or directory",
                 path_of("nope").s);
        cr_assert_str_eq(missing, want);

        cr_assert_eq(chmod(f.s, 0666), 0);
        writable = load_fails(f.s, -EINVAL);
        cr_assert(contains(writable, "everybody may write it"), "%s", writable);
        cr_assert_eq(chmod(f.s, 0644), 0);

        cr_assert_eq(mkdir(path_of("policy.d").s, 0755), 0);
        cr_assert_eq(mkdir(d.s, 0755), 0);
        notfile = load_fails(tmpdir, -EINVAL);
        snprintf(want, sizeof(want), "%s: expected a regular file", d.s);
        cr_assert_str_eq(notfile, want);
}

Test(policy, all_errors_of_a_load_are_reported) {
        Path a = write_file("policy.d/10-a.json",
                "{ 'rules': ["
                "  { 'principals': '*', 'alow': ['claim'], 'deny': [] },"
                "  { 'principals': '*', 'allow': ['clam'] },"
                "  { 'principals': '*', 'quota': { 'bytes': true } }"
                "] }");
        Path b = write_file("policy.d/20-b.json",
                "{ 'rules': [ { 'principals': { 'users': ['no-such-user-iommud'] },"
                "  'allow': [] } ] }");
        _cleanup_(freep) char *errors = load_fails(tmpdir, -EINVAL);
        const char *want[] = { "rules[0].alow: unknown key", "rules[1].allow[0]: expected one of",
                               "rules[2].quota.bytes: expected a number",
                               "rules[0].principals.users[0]: unknown user" };
        const char *files[] = { a.s, a.s, a.s, b.s };

        cr_assert_eq(count_lines(errors), 4, "one line per problem:\n%s", errors);
        for (size_t i = 0; i < ELEMENTSOF(want); i++) {
                char line[512];

                snprintf(line, sizeof(line), "%s: %s", files[i], want[i]);
                cr_assert(contains(errors, line), "missing\n  %s\nin\n%s", line, errors);
        }
        cr_assert_lt(strstr(errors, "rules[0].alow"), strstr(errors, "rules[2].quota"), "in order");
}

Test(policy, failed_load_leaves_ret_untouched) {
        Path bad = write_file("bad.json", "{ 'rules': [ { 'principals': '*', 'allow': ['x'] } ] }");
        Policy *p = SENTINEL;

        cr_assert_eq(policy_load(bad.s, &p, NULL), -EINVAL, "ret_errors may be NULL");
        cr_assert_eq(p, SENTINEL);
        cr_assert_eq(policy_load(path_of("missing").s, &p, NULL), -ENOENT);
        cr_assert_eq(p, SENTINEL);
}

Test(policy, allocation_failures_leave_ret_untouched) {
        write_file("policy.json", "{ 'rules': [ { 'principals': { 'users': [0, 'nobody'] },"
                                  "  'devices': { 'address': '*', 'driver': 'x' },"
                                  "  'allow': ['claim'], 'quota': { 'bytes': '1M' } } ] }");
        write_file("policy.d/1.json", "{ 'rules': [ { 'principals': '*', 'deny': ['sva'] } ] }");
        long n;

        for (n = 0; n < 1000; n++) {
                Policy *p = SENTINEL;
                char *errors = NULL;
                int r;

                alloc_fail_after(n);
                r = policy_load(tmpdir, &p, &errors);
                alloc_fail_after(-1);
                if (r == 0) {
                        cr_assert_eq(policy_rule_count(p), 2);
                        policy_free(p);
                        break;
                }
                cr_assert_eq(r, -ENOMEM, "allocation %ld: %d", n, r);
                cr_assert_eq(p, SENTINEL, "allocation %ld", n);
                free(errors);
        }
        cr_assert_gt(n, 5, "the loader allocates through xmalloc() & co.");
        cr_assert_lt(n, 1000);
}

Test(policy, check_policy_output) {
        Path good = write_file("good.json",
                "{ 'comment': 'lab', 'rules': [ { 'principals': '*', 'allow': [] },"
                "  { 'principals': '*', 'deny': [] } ] }");
        Path bad = write_file("sub/bad.json", "{ 'rules': 1 }");
        char *out = NULL;
        size_t size = 0;
        FILE *f;

        f = open_memstream(&out, &size);
        cr_assert_not_null(f);
        cr_assert_eq(policy_check(good.s, f, f), 0);
        cr_assert_eq(policy_check(bad.s, f, f), 1);
        cr_assert_eq(fclose(f), 0);
        cr_assert(contains(out, "OK: 2 rules from 1 file\n"), "%s", out);
        cr_assert(contains(out, "/sub/bad.json: rules: expected a list of rules, got 1\n"),
                  "%s", out);
        free(out);
}

/* Issue 10, finding 7: problems end up in Reload()'s error reply, which
 * sd-bus refuses to send unless it is valid UTF-8. A quoted value was cut
 * at a byte count, in the middle of a character, and bytes that are not
 * UTF-8 were copied as they were. */
Test(policy, messages_quoting_input_are_valid_utf8_when_cut_or_bad) {
        _cleanup_(freep) char *errors = NULL;
        char text[1024], name[200];
        size_t o = 0;
        Path f;

        for (int i = 0; i < 40; i++)
                o += (size_t)snprintf(name + o, sizeof(name) - o, "\xc3\xa9");
        snprintf(text, sizeof(text), "{ 'rules': [ { 'principals': { 'users': ['%s', 'a\xff" "b'] }, "
                 "'allow': ['claim'], '%s': 1 } ] }", name, name);
        f = write_file("policy.json", text);
        errors = load_fails(f.s, -EINVAL);
        cr_assert_eq(utf8_valid_prefix(errors, strlen(errors)), strlen(errors), "not UTF-8:\n%s", errors);
        cr_assert(contains(errors, "unknown user \"\xc3\xa9\xc3\xa9"), "%s", errors);
        cr_assert(contains(errors, "\xc3\xa9...\""), "cut between characters and marked:\n%s", errors);
        cr_assert(contains(errors, "unknown user \"a\\xffb\""), "a bad byte is escaped:\n%s", errors);
        cr_assert(contains(errors, "rules[0][\"\xc3\xa9"), "an odd key is quoted:\n%s", errors);
}

/*
 * Issue 10, finding 9: only world-writability was checked, but a policy
 * file or directory that a non-root user owns, or that a non-root group
 * may write, grants devices as surely. The tests run as root and hand
 * files to uid/gid 65534 (nobody/nogroup).
 */
#define OTHER 65534

/* The problem the load of path reports for file, which must be the only one. */
static void expect_unsafe(const char *path, const char *file, const char *what, const char *why) {
        _cleanup_(freep) char *errors = load_fails(path, -EINVAL);
        char want[512];

        snprintf(want, sizeof(want), "%s: expected a %s only root can change, but %s", file, what, why);
        cr_assert_str_eq(errors, want);
}

Test(policy, files_and_directories_others_can_change_are_refused) {
        Path f = write_file("policy.json", "{ 'rules': [] }");
        Path pd = path_of("policy.d");
        Path g = write_file("policy.d/10-x.json", "{ 'rules': [] }");
        char why[128];

        snprintf(why, sizeof(why), "uid %u owns it (chown root)", OTHER);
        cr_assert_eq(chown(f.s, OTHER, 0), 0);
        expect_unsafe(tmpdir, f.s, "file", why);
        expect_unsafe(f.s, f.s, "file", why);
        cr_assert_eq(chown(f.s, 0, 0), 0);

        snprintf(why, sizeof(why), "group %u may write it (chmod g-w, or chgrp root)", OTHER);
        cr_assert_eq(chown(g.s, 0, OTHER), 0);
        cr_assert_eq(chmod(g.s, 0664), 0);
        expect_unsafe(tmpdir, g.s, "file", why);
        cr_assert_eq(chmod(g.s, 0644), 0);
        policy_free(load_ok(tmpdir));   /* readable by that group is fine */

        cr_assert_eq(chown(g.s, 0, 0), 0);
        cr_assert_eq(chmod(g.s, 0664), 0);
        policy_free(load_ok(tmpdir));   /* writable by root's group is fine */
        cr_assert_eq(chmod(g.s, 0644), 0);

        cr_assert_eq(chown(pd.s, 0, OTHER), 0);
        cr_assert_eq(chmod(pd.s, 0775), 0);
        expect_unsafe(tmpdir, pd.s, "directory", why);
        cr_assert_eq(chmod(pd.s, 0777), 0);
        expect_unsafe(tmpdir, pd.s, "directory", "everybody may write it (chmod o-w)");
        cr_assert_eq(chown(pd.s, 0, 0), 0);
        cr_assert_eq(chmod(pd.s, 0755), 0);

        snprintf(why, sizeof(why), "uid %u owns it (chown root)", OTHER);
        cr_assert_eq(chown(tmpdir, OTHER, 0), 0);
        expect_unsafe(tmpdir, tmpdir, "directory", why);
        cr_assert_eq(chown(tmpdir, 0, 0), 0);
        policy_free(load_ok(tmpdir));
}

Test(policy, every_unsafe_file_and_directory_is_reported) {
        Path f = write_file("policy.json", "{ 'rules': [] }");
        Path pd = path_of("policy.d");
        Path g = write_file("policy.d/10-x.json", "{ 'rules': [] }");
        _cleanup_(freep) char *errors = NULL;

        cr_assert_eq(chown(f.s, OTHER, OTHER), 0);
        cr_assert_eq(chown(g.s, OTHER, OTHER), 0);
        cr_assert_eq(chown(pd.s, OTHER, OTHER), 0);
        errors = load_fails(tmpdir, -EINVAL);
        cr_assert_eq(count_lines(errors), 3, "%s", errors);
        cr_assert(contains(errors, f.s) && contains(errors, g.s) && contains(errors, pd.s), "%s", errors);
}

/* An access ACL entry: the layout of linux/posix_acl_xattr.h, little-endian. */
static size_t acl_entry(uint8_t *x, size_t o, uint16_t tag, uint16_t perm, uint32_t id) {
        uint16_t t = htole16(tag), p = htole16(perm);
        uint32_t i = htole32(id);

        memcpy(x + o, &t, 2);
        memcpy(x + o + 2, &p, 2);
        memcpy(x + o + 4, &i, 4);
        return o + 8;
}

/* Sets path's access ACL to u::rw-, user:uid:perm, g::r--, mask, o::r--. */
static void set_acl(const char *path, uint32_t uid, uint16_t perm, uint16_t mask) {
        uint8_t x[4 + 5 * 8];
        uint32_t version = htole32(2);
        size_t o = 4;

        memcpy(x, &version, 4);
        o = acl_entry(x, o, 0x01, 6, UINT32_MAX);
        o = acl_entry(x, o, 0x02, perm, uid);
        o = acl_entry(x, o, 0x04, 4, UINT32_MAX);
        o = acl_entry(x, o, 0x10, mask, UINT32_MAX);
        o = acl_entry(x, o, 0x20, 4, UINT32_MAX);
        cr_assert_eq(setxattr(path, "system.posix_acl_access", x, o, 0), 0,
                     "setting an ACL on %s: %m; the test needs a file system with POSIX ACLs in /tmp", path);
}

Test(policy, a_file_an_acl_lets_others_write_is_refused) {
        Path f = write_file("policy.json", "{ 'rules': [] }");
        char why[128];

        set_acl(f.s, OTHER, 6, 6);
        snprintf(why, sizeof(why), "an ACL lets uid %u write it (setfacl -b)", OTHER);
        expect_unsafe(f.s, f.s, "file", why);
        set_acl(f.s, OTHER, 6, 4);      /* the mask takes the write away */
        policy_free(load_ok(f.s));
        set_acl(f.s, 0, 6, 6);          /* root may */
        policy_free(load_ok(f.s));
}

/* What policy_sva_width() relies on to skip asking device by device: the
 * deciding rule filters no device, and the answer is that of every device. */
Test(policy, decides_every_device_only_when_the_deciding_rule_filters_none) {
        _cleanup_(policy_freep) Policy *p = load_text(
                "{ 'rules': ["
                "  { 'principals': { 'users': [1000, 1001, 1002] }, 'allow': ['sva'] },"
                "  { 'principals': { 'users': [1001] }, 'allow': ['sva'], 'devices': { 'vendor': '0x8086' } },"
                "  { 'principals': { 'users': [1002] }, 'deny': ['sva'] },"
                "  { 'principals': { 'users': [1003] }, 'allow': ['claim'], 'devices': { 'group': 7 } } ] }");
        PolicySubject u1000 = user(1000), u1001 = user(1001), u1002 = user(1002), u1003 = user(1003);
        PolicyDevice d = test_device();
        bool allows_all = false;

        cr_assert(policy_decides_every_device(p, &u1000, POLICY_SVA, &allows_all));
        cr_assert(allows_all);
        cr_assert(policy_allows(p, &u1000, &d, POLICY_SVA));
        cr_assert_not(policy_decides_every_device(p, &u1001, POLICY_SVA, &allows_all),
                      "a vendor filter decides for 1001: devices differ");
        cr_assert(policy_decides_every_device(p, &u1002, POLICY_SVA, &allows_all));
        cr_assert_not(allows_all, "the last rule for 1002 denies on every device");
        cr_assert_not(policy_allows(p, &u1002, &d, POLICY_SVA));
        cr_assert(policy_decides_every_device(p, &u1003, POLICY_SVA, &allows_all),
                  "1003's filtered rule names claim, not sva: the default decides");
        cr_assert_not(allows_all);
        cr_assert(policy_decides_every_device(p, &ROOT, POLICY_SVA, &allows_all));
        cr_assert(allows_all, "no rule for root: the default lets it");
        cr_assert_not(policy_decides_every_device(p, &u1003, POLICY_CLAIM, &allows_all));
        cr_assert_not(policy_decides_every_device(p, &u1000, _POLICY_OP_MAX, &allows_all));
}
