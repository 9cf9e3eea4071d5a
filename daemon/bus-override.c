/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bus-override.c - Manager.DetachGroup, ReattachGroup and ListOverrides: groups held for the machine */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/core/client.h"
#include "daemon/core/device.h"
#include "daemon/core/group.h"
#include "daemon/core/override.h"
#include "daemon.h"

/*
 * An override changes drivers off the event loop on the kernel backend, as
 * a claim does (bus-claim.c): the call waits here, referenced, until the
 * core's CORE_EVENT_OVERRIDE_SET or _REMOVED answers it. The caller is
 * nobody's client (an override belongs to the machine), so what the
 * journal says of it is kept here.
 */
typedef struct OverrideCall {
        ListNode link;          /* in Daemon.override_calls */
        sd_bus_message *call;   /* owned reference */
        uint32_t group;
        bool set;               /* DetachGroup, else ReattachGroup */
        bool saved;
        BusIdentity who;        /* name owned; no groups */
} OverrideCall;

static OverrideCall *override_call_free(OverrideCall *c) {
        if (!c)
                return NULL;
        list_del_init(&c->link);
        sd_bus_message_unref(c->call);
        free((char *)c->who.name);
        free(c);
        return NULL;
}

void bus_override_calls_free(Daemon *d) {
        while (!list_empty(&d->override_calls))
                override_call_free(list_entry(d->override_calls.next, OverrideCall, link));
}

static int override_call_wait(Daemon *d, sd_bus_message *m, const Group *g, bool set, bool saved,
                              const BusIdentity *who) {
        OverrideCall *c = calloc(1, sizeof(*c));

        if (!c)
                return -ENOMEM;
        c->who = (BusIdentity) { .uid = who->uid, .gid = who->gid, .pid = who->pid, .name = strdup(who->name) };
        memcpy(c->who.comm, who->comm, sizeof(c->who.comm));
        if (!c->who.name) {
                free(c);
                return -ENOMEM;
        }
        c->call = sd_bus_message_ref(m);
        c->group = g->id;
        c->set = set;
        c->saved = saved;
        list_add_tail(&d->override_calls, &c->link);
        return 1;               /* answered later */
}

/* Group id, its caller allowed admin-claim on every device of it, the one
 * operation both methods need. */
static int authorized_group(Daemon *d, sd_bus_message *m, uint32_t id, BusCaller *caller, Group **ret,
                            sd_bus_error *error) {
        const Device *dev;
        Group *g;
        int r;

        r = bus_find_group(d, id, &g, error);
        if (r >= 0)
                r = bus_caller_get(d, m, caller, error);
        if (r < 0)
                return r;
        list_for_each_entry(dev, &g->devices, group_link) {
                r = bus_authorize(d, bus_caller_identity(caller), POLICY_ADMIN_CLAIM, dev, error);
                if (r < 0)
                        return r;
        }
        *ret = g;
        return 0;
}

/* "vvvv:dddd" of dev in buf, or NULL where the backend does not know it. */
static const char *device_pci_id(const Device *dev, char buf[static 10]) {
        if (!dev->vendor_id)
                return NULL;
        snprintf(buf, 10, "%04x:%04x", dev->vendor_id, dev->device_id);
        return buf;
}

/* The stored records say what the model says of g now: each device and
 * the driver to give back while it is held, nothing once it is not. */
void bus_override_store_group(Daemon *d, const Group *g, bool saved) {
        const Device *dev;

        list_for_each_entry(dev, &g->devices, group_link) {
                char id[10];

                if (g->overridden)
                        (void)override_store_set(&d->overrides, dev->name, dev->override_driver,
                                                 device_pci_id(dev, id), saved);
                else
                        (void)override_store_remove(&d->overrides, dev->name);
        }
}

const char *bus_override_of_group(Daemon *d, const Group *g) {
        const Device *dev;

        if (!g->overridden)
                return "";
        list_for_each_entry(dev, &g->devices, group_link) {
                const OverrideRecord *rec = override_store_find(&d->overrides, dev->name);

                if (rec)
                        return rec->saved ? "persistent" : "until-reboot";
        }
        return "until-reboot";
}

static int busy_error(const Group *g, sd_bus_error *error) {
        if (g->owner)
                return bus_error_set(error, -EBUSY, "Group %u is claimed by client %s (uid %u); it has to release "
                                     "it (or exit) first, or 'iommuctl revoke %u' takes it back.", g->id,
                                     g->owner->name, (unsigned)g->owner->uid, g->id);
        return bus_error_set(error, -EBUSY, "Group %u is %s right now; try again when that is done.", g->id,
                             g->transit == GROUP_CLAIMING ? "being claimed" :
                             g->transit == GROUP_OVERRIDING ? "being detached" :
                             g->transit == GROUP_UNOVERRIDING ? "being reattached" : "being released");
}

static int set_error(Daemon *d, uint32_t id, int r, const char *why, sd_bus_error *error) {
        if (!why || !why[0])
                why = daemon_backend_error(d, r);
        if (r == -EOPNOTSUPP)
                return bus_error_set(error, r, "The %s backend cannot hold groups for the machine.",
                                     d->backend->class->name);
        if (r == -ENODEV)
                return bus_error_set(error, r, "Group %u has no devices left.", id);
        return bus_error_set(error, -EBUSY, "Detaching group %u failed: %s. Every device and driver was left as it "
                             "was; retry, or see the journal.", id, why);
}

/* The end of a DetachGroup, now or later: stored and recorded, or undone. */
static int set_answer(Daemon *d, sd_bus_message *m, Group *g, uint32_t id, const BusIdentity *who, bool saved,
                      int r, const char *why) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;

        if (r >= 0 && g) {
                bus_override_store_group(d, g, saved);
                audit_override_set(who, g, saved);
                return sd_bus_reply_method_return(m, NULL);
        }
        if (g)
                bus_override_store_group(d, g, saved);  /* not held: the records written first go */
        if (r >= 0)
                r = -ENODEV;
        (void)set_error(d, id, r, why, &error);
        return sd_bus_reply_method_error(m, &error);
}

/* A device on vfio-pci already that a stored record names (an override
 * from before a restart) gets that record's driver back when it ends. */
static void preset_drivers(Daemon *d, Group *g) {
        Device *dev;

        list_for_each_entry(dev, &g->devices, group_link) {
                const OverrideRecord *rec = override_store_find(&d->overrides, dev->name);

                if (rec && rec->driver && !dev->driver_dma_api)
                        (void)device_set_override_driver(dev, rec->driver);
        }
}

/* Written before the core starts: a crash half-way leaves the record of
 * every driver, and the next start re-applies it (then reattach gives them
 * back). A device on no DMA-API driver has none to give back. */
static int store_intent(Daemon *d, Group *g, bool saved, sd_bus_error *error) {
        Device *dev;
        int r;

        preset_drivers(d, g);
        list_for_each_entry(dev, &g->devices, group_link) {
                char id[10];

                r = override_store_set(&d->overrides, dev->name, dev->driver_dma_api ? dev->driver :
                                       dev->override_driver, device_pci_id(dev, id), saved);
                if (r < 0) {
                        list_for_each_entry(dev, &g->devices, group_link)
                                (void)override_store_remove(&d->overrides, dev->name);
                        return bus_error_set(error, -EBUSY, "Cannot store the override of group %u in %s (%s); "
                                             "nothing was changed. Make that directory writable, or pass NOSAVE "
                                             "to keep it in %s until the next reboot.", g->id,
                                             d->overrides.dirs[saved], strerror(-r), d->overrides.dirs[0]);
                }
        }
        return 0;
}

int bus_method_detach_group(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(bus_caller_done) BusCaller caller = BUS_CALLER_NULL;
        Daemon *d = bus_daemon(m);
        uint64_t flags;
        uint32_t id;
        bool saved;
        Group *g;
        int r;

        r = sd_bus_message_read(m, "ut", &id, &flags);
        if (r < 0)
                return r;
        if (flags & ~IOMMUD_OVERRIDE_FLAGS_ALL)
                return bus_error_set(error, -EINVAL, "Unknown flags 0x%llx; the only flag is NOSAVE (1).",
                                     (unsigned long long)(flags & ~IOMMUD_OVERRIDE_FLAGS_ALL));
        saved = !(flags & IOMMUD_OVERRIDE_NOSAVE);
        r = authorized_group(d, m, id, &caller, &g, error);
        if (r < 0)
                return r;
        if (g->overridden && g->transit == GROUP_STEADY) {
                bus_override_store_group(d, g, saved);  /* overrides don't nest; where it is kept may change */
                return sd_bus_reply_method_return(m, NULL);
        }
        if (g->owner || g->transit != GROUP_STEADY)
                return busy_error(g, error);
        r = store_intent(d, g, saved, error);
        if (r < 0)
                return r;
        r = group_override(g);
        if (r == -EINPROGRESS)
                return override_call_wait(d, m, g, true, saved, bus_caller_identity(&caller));
        return set_answer(d, m, g, id, bus_caller_identity(&caller), saved, r, NULL);
}

/* The end of a ReattachGroup: the records go either way (not held now). */
static int remove_answer(Daemon *d, sd_bus_message *m, Group *g, uint32_t id, int r, const char *why) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;

        if (g)
                bus_override_store_group(d, g, false);
        if (r >= 0)
                return sd_bus_reply_method_return(m, NULL);
        if (!why || !why[0])
                why = daemon_backend_error(d, r);
        (void)bus_error_set(&error, -EBUSY, "Group %u is reattached only in part: %s. Its override has ended; "
                            "'iommuctl list' shows which devices have no driver.", id, why);
        return sd_bus_reply_method_error(m, &error);
}

/* The record of g's first device that has one: a group is looked at
 * once, for that record, however many of its devices have one. */
static const OverrideRecord *first_record_of_group(Daemon *d, const Group *g) {
        const Device *dev;

        list_for_each_entry(dev, &g->devices, group_link) {
                const OverrideRecord *rec = override_store_find(&d->overrides, dev->name);

                if (rec)
                        return rec;
        }
        return NULL;
}

int bus_method_reattach_group(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(bus_caller_done) BusCaller caller = BUS_CALLER_NULL;
        Daemon *d = bus_daemon(m);
        uint32_t id;
        Group *g;
        int r;

        r = sd_bus_message_read(m, "u", &id);
        if (r < 0)
                return r;
        r = authorized_group(d, m, id, &caller, &g, error);
        if (r < 0)
                return r;
        if (!g->overridden && g->transit == GROUP_STEADY && first_record_of_group(d, g)) {
                /* Records that start did not re-apply (their devices are
                 * not what was held, or the hold failed): forgotten, the
                 * devices left as they are. */
                const BusIdentity *who = bus_caller_identity(&caller);

                log_notice("the stored override records of group %u, not re-applied at start, forgotten by %s "
                           "(uid %u, pid %d); its devices were not held and stay as they are", id, who->name,
                           (unsigned)who->uid, (int)who->pid);
                bus_override_store_group(d, g, false);
                return sd_bus_reply_method_return(m, NULL);
        }
        if (!g->overridden && g->transit == GROUP_STEADY)
                return bus_error_set(error, -EPERM, "Group %u has no override; 'iommuctl list-overrides' lists "
                                     "them.", id);
        if (g->owner || g->transit != GROUP_STEADY)
                return busy_error(g, error);
        audit_override_removed(bus_caller_identity(&caller), g);
        r = group_unoverride(g);
        if (r == -EINPROGRESS)
                return override_call_wait(d, m, g, false, false, bus_caller_identity(&caller));
        return remove_answer(d, m, g, id, r, NULL);
}

/* An override change left in progress ended: its call is answered. */
void bus_override_answered(Daemon *d, const CoreEvent *ev) {
        Group *g = core_find_group(d->core, ev->group);
        bool set = ev->kind == CORE_EVENT_OVERRIDE_SET;
        OverrideCall *c, *tmp;

        list_for_each_entry_safe(c, tmp, &d->override_calls, link) {
                if (c->group != ev->group || c->set != set)
                        continue;
                if (set)
                        (void)set_answer(d, c->call, g, c->group, &c->who, c->saved, ev->result, ev->reason);
                else
                        (void)remove_answer(d, c->call, g, c->group, ev->result, ev->reason);
                override_call_free(c);
        }
}

/* "held", "detaching", "reattaching", "absent" (the device is not here),
 * or "not-held" (a stored override that could not be re-applied). */
static const char *record_state(Daemon *d, const OverrideRecord *rec, uint32_t *ret_group) {
        const Device *dev = core_find_device(d->core, rec->device);

        *ret_group = dev ? dev->group->id : 0;
        if (!dev)
                return "absent";
        if (dev->group->transit == GROUP_OVERRIDING)
                return "detaching";
        if (dev->group->transit == GROUP_UNOVERRIDING)
                return "reattaching";
        return dev->group->overridden ? "held" : "not-held";
}

int bus_method_list_overrides(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Daemon *d = bus_daemon(m);
        const OverrideRecord *rec;
        int r;

        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ssubs)");
        list_for_each_entry(rec, &d->overrides.records, link) {
                uint32_t group;
                const char *state = record_state(d, rec, &group);

                if (r >= 0)
                        r = sd_bus_message_append(reply, "(ssubs)", rec->device, rec->driver ? rec->driver : "",
                                                  group, rec->saved, state);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* Whether the stored record of some device of g says "saved". */
static bool group_saved(Daemon *d, const Group *g) {
        const Device *dev;

        list_for_each_entry(dev, &g->devices, group_link) {
                const OverrideRecord *rec = override_store_find(&d->overrides, dev->name);

                if (rec && rec->saved)
                        return true;
        }
        return false;
}

/* Whether a group a record names is still on its way (only those were
 * started): a walk of the records, not of the machine's groups, since it
 * runs once per turn of the loop until the last one is done. */
static bool overrides_in_transit(Daemon *d) {
        const OverrideRecord *rec;

        list_for_each_entry(rec, &d->overrides.records, link) {
                const Device *dev = core_find_device(d->core, rec->device);

                if (dev && (dev->group->transit == GROUP_OVERRIDING || dev->group->transit == GROUP_UNOVERRIDING))
                        return true;
        }
        return false;
}

/* Once every group a record names has been tried: what came of each. */
static void reapply_report(Daemon *d) {
        OverrideRecord *rec, *tmp;
        Group *g;

        list_for_each_entry(g, &d->core->groups, core_link) {
                bool named = false;
                const Device *dev;

                list_for_each_entry(dev, &g->devices, group_link)
                        named = named || override_store_find(&d->overrides, dev->name);
                if (!named)
                        continue;
                if (g->overridden) {
                        bool saved = group_saved(d, g);

                        bus_override_store_group(d, g, saved);
                        audit_override_set(NULL, g, saved);
                } else
                        log_error("the stored override of group %u could not be re-applied; its devices were left "
                                  "as they were, and its records are kept: 'iommuctl detach-group %u' retries, "
                                  "'iommuctl reattach-group %u' forgets them", g->id, g->id, g->id);
        }
        list_for_each_entry_safe(rec, tmp, &d->overrides.records, link)
                if (!core_find_device(d->core, rec->device))
                        log_warning("stored override of %s: no such device here; kept for when it appears",
                                    rec->device);
}

/*
 * A record names a device by its PCI address, which names another device
 * after a card moved or on another machine (a restored image); holding
 * that one could take the machine's own disk or network. A group is held
 * again only if each of its devices with a record is the kind of device
 * (vendor:device) that was held; records of older files say none, and are
 * taken as they are. The first that is not is logged, and g left alone.
 */
static bool group_is_what_was_held(Daemon *d, const Group *g) {
        const Device *dev;

        list_for_each_entry(dev, &g->devices, group_link) {
                const OverrideRecord *rec = override_store_find(&d->overrides, dev->name);
                char id[10];
                const char *now = device_pci_id(dev, id);

                if (!rec || !rec->pci_id[0] || (now && strcmp(now, rec->pci_id) == 0))
                        continue;
                log_error("the stored override of %s was set on a %s, and %s is %s%s now: group %u is not held "
                          "again; 'iommuctl detach-group %u' holds it as it is, 'iommuctl reattach-group %u' "
                          "forgets the records", dev->name, rec->pci_id, dev->name,
                          now ? "a " : "a device of unknown kind", now ? now : "", g->id, g->id, g->id);
                return false;
        }
        return true;
}

/*
 * At start, before the bus name is taken, so that no client sees a group
 * the machine is to hold as free: each group a stored record names is held
 * again, and the loop runs (nobody else can reach the daemon yet) until
 * every one has ended, however it ended.
 */
int bus_overrides_reapply(Daemon *d) {
        OverrideRecord *rec;
        int r;

        list_for_each_entry(rec, &d->overrides.records, link) {
                Device *dev = core_find_device(d->core, rec->device);

                if (!dev || dev->group->overridden || dev->group->transit != GROUP_STEADY ||
                    first_record_of_group(d, dev->group) != rec || !group_is_what_was_held(d, dev->group))
                        continue;
                preset_drivers(d, dev->group);
                r = group_override(dev->group);
                if (r < 0 && r != -EINPROGRESS)
                        log_error("re-applying the override of group %u (%s): %s", dev->group->id, rec->device,
                                  daemon_backend_error(d, r));
        }
        while (overrides_in_transit(d)) {
                r = sd_event_run(d->event, UINT64_MAX);
                if (r < 0 || sd_event_get_state(d->event) == SD_EVENT_FINISHED)
                        return r < 0 ? r : -ECANCELED;
        }
        core_dispatch(d->core);
        reapply_report(d);
        return 0;
}
