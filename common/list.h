/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* list.h - intrusive circular doubly-linked lists */
#pragma once

#include <stdbool.h>

#include "macro.h"

/*
 * A ListNode is embedded in the object it links. A head is a ListNode whose
 * next/prev point to itself when empty. A node that is not on any list is
 * kept self-linked (list_del_init()), so list_linked() tells whether it is.
 */
typedef struct ListNode {
        struct ListNode *next, *prev;
} ListNode;

static inline void list_init(ListNode *n) {
        n->next = n->prev = n;
}

static inline bool list_empty(const ListNode *head) {
        return head->next == head;
}

static inline bool list_linked(const ListNode *n) {
        return n->next && n->next != n;
}

static inline void list_insert_between(ListNode *n, ListNode *prev, ListNode *next) {
        n->prev = prev;
        n->next = next;
        prev->next = n;
        next->prev = n;
}

static inline void list_add_tail(ListNode *head, ListNode *n) {
        list_insert_between(n, head->prev, head);
}

static inline void list_add_head(ListNode *head, ListNode *n) {
        list_insert_between(n, head, head->next);
}

/* Inserts n right after pos (pos may be a head or a member). */
static inline void list_add_after(ListNode *pos, ListNode *n) {
        list_insert_between(n, pos, pos->next);
}

/* Unlinks n if it is linked; safe to call twice. */
static inline void list_del_init(ListNode *n) {
        if (!list_linked(n)) {
                list_init(n);
                return;
        }
        n->prev->next = n->next;
        n->next->prev = n->prev;
        list_init(n);
}

static inline unsigned list_count(const ListNode *head) {
        unsigned n = 0;
        for (const ListNode *i = head->next; i != head; i = i->next)
                n++;
        return n;
}

#define list_entry(ptr, type, member) container_of(ptr, type, member)

#define list_first_entry(head, type, member) \
        (list_empty(head) ? NULL : list_entry((head)->next, type, member))

#define list_for_each_entry(pos, head, member)                                  \
        for (pos = list_entry((head)->next, __typeof__(*pos), member);          \
             &pos->member != (head);                                            \
             pos = list_entry(pos->member.next, __typeof__(*pos), member))

/*
 * The first entry of head (a list of type, linked by member) for which cond
 * holds, or NULL. pos names the entry inside cond and is declared here:
 *         return list_find_entry(Group, g, &c->groups, core_link, g->id == id);
 * A linear walk: lookups by key go through an index (common/hashmap.h).
 */
#define list_find_entry(type, pos, head, member, cond) __extension__({  \
                type *pos, *_found_ = NULL;                             \
                list_for_each_entry(pos, head, member)                  \
                        if (cond) {                                     \
                                _found_ = pos;                          \
                                break;                                  \
                        }                                               \
                _found_;                                                \
        })

/* Iteration that allows removing pos (and only pos) from the list. */
#define list_for_each_entry_safe(pos, tmp, head, member)                        \
        for (pos = list_entry((head)->next, __typeof__(*pos), member),          \
             tmp = list_entry(pos->member.next, __typeof__(*pos), member);      \
             &pos->member != (head);                                            \
             pos = tmp, tmp = list_entry(tmp->member.next, __typeof__(*pos), member))

#define list_for_each_entry_reverse(pos, head, member)                          \
        for (pos = list_entry((head)->prev, __typeof__(*pos), member);          \
             &pos->member != (head);                                            \
             pos = list_entry(pos->member.prev, __typeof__(*pos), member))

/* Backwards, newest first for lists kept in creation order; allows removing pos. */
#define list_for_each_entry_safe_reverse(pos, tmp, head, member)                \
        for (pos = list_entry((head)->prev, __typeof__(*pos), member),          \
             tmp = list_entry(pos->member.prev, __typeof__(*pos), member);      \
             &pos->member != (head);                                            \
             pos = tmp, tmp = list_entry(tmp->member.prev, __typeof__(*pos), member))
