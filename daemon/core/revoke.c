/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* revoke.c - taking back what a new policy no longer allows or its quotas no longer cover */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "bond.h"
#include "client.h"
#include "device.h"
#include "domain.h"
#include "group.h"
#include "pasid.h"
#include "region.h"
#include "revoke.h"
#include "space.h"
#include "user.h"

/*
 * client_revoke() works in two passes. The decide_*() functions look at the
 * client and the policy and put a mark on each object that goes (and announce
 * it, with the reason), changing nothing else; then the release_*() functions
 * act on the marks, in the order of L2. The marks live in the objects' revoke
 * fields and are cleared before client_revoke() returns.
 */
enum {
        MARK_NONE,
        MARK_STOP,      /* a bond made stale, a space emptied, an attachment detached */
        MARK_FREE,      /* a bond, space, group, region that goes */
};

typedef struct Revoke {
        Client *cl;
        GrantFn allows;
        void *userdata;
        bool pasid;     /* the PASID goes */
        int n;          /* things announced */
} Revoke;

#define QUOTA_FMT "over the new quota \"%s\" (%" PRIu64 ") of uid %u, which counts all its connections"
#define QUOTA_ARGS(rv, r) resource_to_string(r), (rv)->cl->quota.limit[r], (unsigned)(rv)->cl->uid

static bool granted(const Revoke *rv, Grant g, const Device *d) {
        return rv->allows(rv->userdata, rv->cl, g, d);
}

/* How far the uid's total of r is over this client's limit of it. */
static uint64_t excess(const Client *cl, Resource r) {
        uint64_t used = cl->user->used[r], limit = cl->quota.limit[r];

        return used > limit ? used - limit : 0;
}

static uint64_t sub_sat(uint64_t a, uint64_t b) {
        return a > b ? a - b : 0;
}

_attribute_printf_(5, 6)
static void announce(Revoke *rv, RevokedKind what, uint32_t group, uint64_t id, const char *fmt, ...) {
        char reason[320];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(reason, sizeof(reason), fmt, ap);
        va_end(ap);
        core_emit_revoked(rv->cl->core, what, group, id, rv->cl, reason);
        rv->n++;
}

static const Device *group_denied_device(const Revoke *rv, Group *g) {
        Device *d;

        list_for_each_entry(d, &g->devices, group_link)
                if (!granted(rv, GRANT_CLAIM, d))
                        return d;
        return NULL;
}

/* Groups no longer granted on every device, then the newest over quota. */
static void decide_groups(Revoke *rv) {
        uint64_t over = excess(rv->cl, RES_GROUPS);
        const Device *d;
        Group *g;

        list_for_each_entry(g, &rv->cl->groups, owner_link) {
                d = group_denied_device(rv, g);
                if (!d)
                        continue;
                g->revoke = MARK_FREE;
                over = sub_sat(over, 1);
                announce(rv, REVOKED_GROUP, g->id, g->id, "the policy no longer allows \"claim\" on %s: group "
                         "%u was released, its kernel drivers rebound", d->name, g->id);
        }
        list_for_each_entry_reverse(g, &rv->cl->groups, owner_link) {
                if (over == 0)
                        break;
                if (g->revoke)
                        continue;
                g->revoke = MARK_FREE;
                over--;
                announce(rv, REVOKED_GROUP, g->id, g->id, QUOTA_FMT ": group %u was released, its kernel "
                         "drivers rebound", QUOTA_ARGS(rv, RES_GROUPS), g->id);
        }
}

static bool sva_granted_somewhere(const Revoke *rv) {
        Device *d;

        list_for_each_entry(d, &rv->cl->core->devices, core_link)
                if (d->pasid_capable && granted(rv, GRANT_SVA, d))
                        return true;
        return false;
}

static void decide_pasid(Revoke *rv) {
        Client *cl = rv->cl;

        if (cl->pasid == PASID_NONE)
                return;
        if (!sva_granted_somewhere(rv))
                announce(rv, REVOKED_PASID, 0, cl->pasid, "the policy no longer allows \"sva\" on any device: "
                         "PASID %u was freed, and every bond and attachment at it stopped", cl->pasid);
        else if (excess(cl, RES_PASIDS) > 0)
                announce(rv, REVOKED_PASID, 0, cl->pasid, QUOTA_FMT ": PASID %u was freed, and every bond and "
                         "attachment at it stopped", QUOTA_ARGS(rv, RES_PASIDS), cl->pasid);
        else
                return;
        rv->pasid = true;
}

/* Active bonds whose access went become stale (L3); the newest over the
 * "bonds" quota, stale or not, go. */
static void decide_bonds(Revoke *rv) {
        uint64_t over = excess(rv->cl, RES_BONDS);
        const char *why;
        Bond *b;

        list_for_each_entry(b, &rv->cl->bonds, client_link) {
                if (b->stale)
                        continue;
                if (!granted(rv, GRANT_SVA, b->device))
                        why = "the policy no longer allows \"sva\" on it";
                else if (b->device->group->revoke)
                        why = "its group was released";
                else if (rv->pasid)
                        why = "its PASID was freed";
                else
                        continue;
                b->revoke = MARK_STOP;
                announce(rv, REVOKED_BOND, 0, b->id, "the bond to %s is stale, %s; Unbind() it",
                         b->device_name, why);
        }
        list_for_each_entry_reverse(b, &rv->cl->bonds, client_link) {
                if (over == 0)
                        break;
                over--;
                b->revoke = MARK_FREE;
                announce(rv, REVOKED_BOND, 0, b->id, QUOTA_FMT ": the bond to %s was removed",
                         QUOTA_ARGS(rv, RES_BONDS), b->device_name);
        }
}

static void decide_attachments(Revoke *rv, Space *s) {
        SpaceAttachment *a;
        const char *why;

        list_for_each_entry(a, &s->attachments, space_link) {
                Device *d = a->slot.device;

                if (d->group->revoke)
                        why = "its group was released";
                else if (a->slot.pasid != PASID_NONE && rv->pasid)
                        why = "its PASID was freed";
                else if (!granted(rv, GRANT_SPACES, d))
                        why = "the policy no longer allows \"spaces\" on it";
                else
                        continue;
                a->revoke = MARK_FREE;
                announce(rv, REVOKED_SPACE, 0, s->id, "space %" PRIu64 " was detached from %s PASID %u, %s",
                         s->id, d->name, a->slot.pasid, why);
        }
}

/* The newest spaces over quota go; without "spaces" the others are emptied. */
static void decide_spaces(Revoke *rv) {
        bool allowed = granted(rv, GRANT_SPACES, NULL);
        uint64_t over = excess(rv->cl, RES_SPACES);
        Space *s;

        list_for_each_entry_reverse(s, &rv->cl->spaces, client_link) {
                if (over > 0) {
                        over--;
                        s->revoke = MARK_FREE;
                        announce(rv, REVOKED_SPACE, 0, s->id, QUOTA_FMT ": space %" PRIu64 " was destroyed",
                                 QUOTA_ARGS(rv, RES_SPACES), s->id);
                } else if (!allowed) {
                        if (list_empty(&s->io.mappings) && list_empty(&s->attachments))
                                continue;       /* emptied already (L1) */
                        s->revoke = MARK_STOP;
                        announce(rv, REVOKED_SPACE, 0, s->id, "the policy no longer allows \"spaces\": space %"
                                 PRIu64 " was emptied, its mappings and attachments are gone; Destroy() it", s->id);
                } else
                        decide_attachments(rv, s);
        }
}

/* Without "share-memory" every region goes; else the newest over quota. */
static void decide_regions(Revoke *rv) {
        bool allowed = granted(rv, GRANT_SHARE_MEMORY, NULL);
        uint64_t over = excess(rv->cl, RES_REGIONS);
        Region *r;

        list_for_each_entry_reverse(r, &rv->cl->regions, client_link) {
                if (!allowed)
                        announce(rv, REVOKED_REGION, 0, r->id, "the policy no longer allows \"share-memory\": "
                                 "region %" PRIu64 " was removed, unmapped everywhere", r->id);
                else if (over > 0) {
                        over--;
                        announce(rv, REVOKED_REGION, 0, r->id, QUOTA_FMT ": region %" PRIu64 " was removed, "
                                 "unmapped everywhere", QUOTA_ARGS(rv, RES_REGIONS), r->id);
                } else
                        continue;
                r->revoke = MARK_FREE;
        }
}

/* L2 step 1: no device reaches what goes. */
static void stop_dma(Revoke *rv) {
        SpaceAttachment *a;
        Space *s;
        Bond *b;

        list_for_each_entry(b, &rv->cl->bonds, client_link)
                if (b->revoke)
                        slot_release(&b->slot);
        list_for_each_entry(s, &rv->cl->spaces, client_link)
                list_for_each_entry(a, &s->attachments, space_link)
                        if (s->revoke || a->revoke)
                                slot_release(&a->slot);
}

/* L2 step 2: SVA domains (with the bonds that held them), spaces. */
static void release_domains(Revoke *rv) {
        SpaceAttachment *a, *a_tmp;
        Space *s, *s_tmp;
        Bond *b, *b_tmp;

        list_for_each_entry_safe(b, b_tmp, &rv->cl->bonds, client_link) {
                if (b->revoke == MARK_FREE)
                        bond_free(b);
                else if (b->revoke == MARK_STOP)
                        bond_make_stale(b);
        }
        list_for_each_entry_safe(s, s_tmp, &rv->cl->spaces, client_link) {
                if (s->revoke == MARK_FREE) {
                        space_free(s);
                        continue;
                }
                list_for_each_entry_safe(a, a_tmp, &s->attachments, space_link)
                        if (s->revoke || a->revoke)
                                space_attachment_free(a);
                if (s->revoke)
                        iodomain_unmap_all(&s->io);
        }
}

/* What freeing r gives back: its bytes, and the space mappings of it (which
 * region_free() unmaps) with theirs. */
static void region_gives(Region *r, uint64_t *bytes, uint64_t *mappings) {
        const Mapping *m;

        *bytes += r->length;
        list_for_each_entry(m, &r->mappings, region_link)
                if (m->charged) {
                        *bytes += m->length;
                        (*mappings)++;
                }
}

static void marked_regions_give(const Client *cl, uint64_t *ret_bytes, uint64_t *ret_mappings) {
        Region *r;

        *ret_bytes = *ret_mappings = 0;
        list_for_each_entry(r, &cl->regions, client_link)
                if (r->revoke)
                        region_gives(r, ret_bytes, ret_mappings);
}

/* Still over "mappings" or "bytes": the newest space mappings go first. */
static void trim_mappings(Revoke *rv) {
        uint64_t bytes, mappings, over_m, over_b;
        Mapping *m, *m_tmp;
        Space *s;

        marked_regions_give(rv->cl, &bytes, &mappings);
        over_m = sub_sat(excess(rv->cl, RES_MAPPINGS), mappings);
        over_b = sub_sat(excess(rv->cl, RES_BYTES), bytes);
        list_for_each_entry_reverse(s, &rv->cl->spaces, client_link) {
                unsigned n = 0;

                list_for_each_entry_safe_reverse(m, m_tmp, &s->io.mappings, domain_link) {
                        if (over_m == 0 && over_b == 0)
                                break;
                        if (!m->charged || m->region->revoke)
                                continue;
                        over_m = sub_sat(over_m, 1);
                        over_b = sub_sat(over_b, m->length);
                        mapping_unmap(m);
                        n++;
                }
                if (n > 0)
                        announce(rv, REVOKED_SPACE, 0, s->id, "%u mapping(s) of space %" PRIu64 " were unmapped, "
                                 "the newest first: over the new quota \"mappings\" (%" PRIu64 ") or \"bytes\" (%"
                                 PRIu64 ") of uid %u, which counts all its connections", n, s->id,
                                 rv->cl->quota.limit[RES_MAPPINGS], rv->cl->quota.limit[RES_BYTES],
                                 (unsigned)rv->cl->uid);
        }
}

/* L2 step 3: groups, and with them their kernel drivers, go back. */
static void release_groups(Revoke *rv) {
        Group *g, *g_tmp;

        list_for_each_entry_safe(g, g_tmp, &rv->cl->groups, owner_link)
                if (g->revoke) {
                        g->revoke = MARK_NONE;
                        group_revoke(g);
                }
}

/* L2 step 4: regions, the newest first while still over "bytes". */
static void release_regions(Revoke *rv) {
        uint64_t bytes, mappings, over;
        Region *r, *r_tmp;

        marked_regions_give(rv->cl, &bytes, &mappings);
        over = sub_sat(excess(rv->cl, RES_BYTES), bytes);
        list_for_each_entry_reverse(r, &rv->cl->regions, client_link) {
                uint64_t gives = 0;

                if (over == 0)
                        break;
                if (r->revoke)
                        continue;
                r->revoke = MARK_FREE;
                region_gives(r, &gives, &mappings);
                over = sub_sat(over, gives);
                announce(rv, REVOKED_REGION, 0, r->id, QUOTA_FMT ": region %" PRIu64 " was removed, unmapped "
                         "everywhere", QUOTA_ARGS(rv, RES_BYTES), r->id);
        }
        list_for_each_entry_safe(r, r_tmp, &rv->cl->regions, client_link)
                if (r->revoke)
                        region_free(r);
}

static void clear_marks(Client *cl) {
        SpaceAttachment *a;
        Space *s;
        Bond *b;

        list_for_each_entry(b, &cl->bonds, client_link)
                b->revoke = MARK_NONE;
        list_for_each_entry(s, &cl->spaces, client_link) {
                s->revoke = MARK_NONE;
                list_for_each_entry(a, &s->attachments, space_link)
                        a->revoke = MARK_NONE;
        }
}

int client_revoke(Client *cl, GrantFn allows, void *userdata) {
        Revoke rv = { .cl = cl, .allows = allows, .userdata = userdata };

        if (core_in_callback(cl->core))
                return -EDEADLK;
        if (cl->ended)
                return 0;
        /* Decide, while nothing has changed; the order matters: bonds and
         * attachments go with their group or PASID. */
        decide_groups(&rv);
        decide_pasid(&rv);
        decide_bonds(&rv);
        decide_spaces(&rv);
        decide_regions(&rv);
        /* Take it back in the order of L2. */
        stop_dma(&rv);
        release_domains(&rv);
        trim_mappings(&rv);
        release_groups(&rv);
        release_regions(&rv);
        if (rv.pasid)
                client_put_pasid(cl);
        clear_marks(cl);
        return rv.n;
}

void client_revoke_connection(Client *cl, const char *reason) {
        core_emit_revoked(cl->core, REVOKED_CLIENT, 0, cl->id, cl, reason);
        client_release(cl->core, cl->id);
}
