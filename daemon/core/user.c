/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* user.c - what all the clients of one uid hold together, for the per-uid quotas (L10) */
#include <assert.h>
#include <errno.h>

#include "common/alloc.h"
#include "user.h"

User *core_find_user(Core *c, uid_t uid) {
        return hashmap_find_entry(User, u, &c->users_by_uid, uid_node, hash_u64(uid), u->uid == uid);
}

int user_ref(Core *c, uid_t uid, User **ret) {
        User *u = core_find_user(c, uid);

        if (!u) {
                u = xzalloc(sizeof(*u));
                if (!u)
                        return -ENOMEM;
                u->core = c;
                u->uid = uid;
                list_add_tail(&c->users, &u->core_link);
                hashmap_put(&c->users_by_uid, &u->uid_node, hash_u64(uid));
        }
        u->n_refs++;
        *ret = u;
        return 0;
}

User *user_unref(User *u) {
        if (!u)
                return NULL;
        assert(u->n_refs > 0);
        if (--u->n_refs > 0)
                return NULL;
        list_del_init(&u->core_link);
        hashmap_remove(&u->core->users_by_uid, &u->uid_node);
        free(u);
        return NULL;
}
