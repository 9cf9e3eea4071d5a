/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-policy.c - libFuzzer target: a policy file's text through the parser and the decisions */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A few subjects and devices, so that a policy that loads is also asked
 * what it allows: the rules' matching code runs on what the parser built. */
static const gid_t some_groups[] = { 0, 100, 65534 };
static const PolicySubject subjects[] = {
        { .uid = 0, .gid = 0 },
        { .uid = 1000, .gid = 100, .groups = some_groups, .n_groups = 3 },
        { .uid = 65534, .gid = 65534 },
};
static const PolicyDevice devices[] = {
        { .address = "0000:00:02.0", .vendor_id = 0x1b36, .device_id = 0x00f0, .class_code = 0x120000,
          .group = 1, .driver = NULL },
        { .address = "0000:00:03.0", .vendor_id = 0x8086, .device_id = 0x10d3, .class_code = 0x020000,
          .group = 2, .driver = "e1000e" },
        { .address = "", .group = 0, .driver = "" },
};

static void ask(const Policy *p) {
        for (size_t s = 0; s < sizeof(subjects) / sizeof(subjects[0]); s++) {
                uint64_t timeout;
                Quota quota;

                policy_limits(p, &subjects[s], &quota, &timeout);
                for (int op = 0; op < _POLICY_OP_MAX; op++) {
                        const char *origin = NULL;

                        (void)policy_allows_explain(p, &subjects[s], NULL, op, &origin);
                        if (origin && !*origin)
                                abort();        /* an origin names a file and a rule */
                        for (size_t d = 0; d < sizeof(devices) / sizeof(devices[0]); d++)
                                (void)policy_allows(p, &subjects[s], &devices[d], op);
                }
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *errors = NULL, *text;
        Policy *p = NULL;
        int r;

        /* policy_load() reads a file into size bytes and a NUL: the same here. */
        text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';
        r = policy_load_text("fuzz.json", text, size, &p, &errors);
        if (r >= 0) {
                if (!p || errors)
                        abort();        /* success is a policy and no problems */
                ask(p);
                policy_free(p);
        } else if (r == -EINVAL && (!errors || !*errors))
                abort();                /* a rejected policy always says why */
        free(errors);
        free(text);
        return 0;
}
