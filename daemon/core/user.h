/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* user.h - what all the clients of one uid hold together, for the per-uid quotas (L10) */
#pragma once

#include <sys/types.h>

#include "common/list.h"
#include "core.h"
#include "types.h"

/*
 * One per uid that has clients, as dbus-broker charges a user object: every
 * charge of a client (client_charge()) also goes to its User, and the quota
 * limits apply to the User's totals, so opening more connections does not
 * multiply what one uid may hold. Owned by Core.users; each Client holds one
 * reference (Client.user), and the User is freed with the last one.
 */
struct User {
        Core *core;             /* borrowed */
        uid_t uid;
        unsigned n_refs;
        uint64_t used[_RES_MAX];
        ListNode core_link;     /* in core->users */
        HashNode uid_node;      /* in core->users_by_uid */
};

/* The User of uid with one more reference, made on first use. */
int user_ref(Core *c, uid_t uid, User **ret);
/* Drops one reference; frees u with its last. Accepts NULL; returns NULL. */
User *user_unref(User *u);
User *core_find_user(Core *c, uid_t uid);
