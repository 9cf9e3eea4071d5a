/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* audit.c - one structured journal record per decision that matters, each kind with its MESSAGE_ID */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-login.h>

#include "daemon/core/device.h"
#include "daemon/core/group.h"
#include "audit.h"
#include "daemon.h"
#include "log.h"

/*
 * A record is built as a strv of "KEY=value" fields and handed to
 * log_struct(), which writes it whole to the journal (one entry) or its
 * message alone to the console. Records are best effort: out of memory,
 * a field is left out, never the decision.
 */
typedef struct AuditRecord {
        char **fields;          /* owned strv */
} AuditRecord;

static void record_done(AuditRecord *rec) {
        rec->fields = strv_free(rec->fields);
}

_attribute_printf_(2, 3)
static void record_add(AuditRecord *rec, const char *fmt, ...) {
        char *field;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&field, fmt, ap);
        va_end(ap);
        if (r >= 0)
                (void)strv_consume(&rec->fields, field);
}

/* The process's command name from /proc/PID/comm, or "" when it is gone. */
void audit_read_comm(pid_t pid, char *buf, size_t size) {
        char path[64];
        FILE *f;

        buf[0] = 0;
        if (pid <= 0)
                return;
        snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
        f = fopen(path, "re");
        if (!f)
                return;
        if (!fgets(buf, (int)size, f))
                buf[0] = 0;
        buf[strcspn(buf, "\n")] = 0;
        fclose(f);
}

/* The command name kept when the client was made (a client's exit is
 * recorded after its process may be gone), else /proc's now. */
static void record_comm(AuditRecord *rec, const BusIdentity *who) {
        char comm[sizeof(who->comm)];

        if (who->comm[0])
                snprintf(comm, sizeof(comm), "%s", who->comm);
        else
                audit_read_comm(who->pid, comm, sizeof(comm));
        if (comm[0])
                record_add(rec, "IOMMUD_COMM=%s", comm);
}

void audit_read_unit(BusIdentity *who) {
        who->unit = mfree(who->unit);
        if (who->pid <= 0 || sd_pid_get_unit(who->pid, &who->unit) < 0)
                who->unit = NULL;
        who->unit_read = true;
}

/* IOMMUD_CLIENT, _UID, _PID, _COMM and _UNIT (the systemd unit of the
 * pid's cgroup, where it is in one: the one read when the client was made,
 * else /proc's now). */
static void record_caller(AuditRecord *rec, const BusIdentity *who) {
        _cleanup_(freep) char *unit = NULL;

        if (!who)
                return;
        record_add(rec, "IOMMUD_CLIENT=%s", who->name ? who->name : "");
        record_add(rec, "IOMMUD_UID=%u", (unsigned)who->uid);
        if (who->pid <= 0)
                return;
        record_add(rec, "IOMMUD_PID=%d", (int)who->pid);
        record_comm(rec, who);
        if (who->unit_read) {
                if (who->unit)
                        record_add(rec, "IOMMUD_UNIT=%s", who->unit);
        } else if (sd_pid_get_unit(who->pid, &unit) >= 0)
                record_add(rec, "IOMMUD_UNIT=%s", unit);
}

/* IOMMUD_GROUP, one IOMMUD_DEVICE per device (the journal keeps every
 * value of a repeated field), and IOMMUD_DRIVERS: "DEVICE=DRIVER ..." of
 * the drivers a claim detached, "" for none. */
static void record_group_drivers(AuditRecord *rec, const Group *g, bool override) {
        _cleanup_(strv_freep) char **drivers = NULL;
        _cleanup_(freep) char *joined = NULL;
        char *one;
        const Device *dev;

        record_add(rec, "IOMMUD_GROUP=%u", g->id);
        list_for_each_entry(dev, &g->devices, group_link) {
                const char *driver = override ? dev->override_driver : dev->restore_driver;

                record_add(rec, "IOMMUD_DEVICE=%s", dev->name);
                if (driver && asprintf(&one, "%s=%s", dev->name, driver) >= 0)
                        (void)strv_consume(&drivers, one);
        }
        joined = strv_join(drivers, " ");
        record_add(rec, "IOMMUD_DRIVERS=%s", joined ? joined : "");
}

static void record_group(AuditRecord *rec, const Group *g) {
        record_group_drivers(rec, g, false);
}

static const char *drivers_of(const AuditRecord *rec) {
        for (char **f = rec->fields; f && *f; f++)
                if (strncmp(*f, "IOMMUD_DRIVERS=", 15) == 0)
                        return (*f)[15] ? *f + 15 : "none";
        return "none";
}

static size_t record_count(const AuditRecord *rec) {
        size_t n = 0;

        while (rec->fields && rec->fields[n])
                n++;
        return n;
}

#define record_emit(rec, priority, id, ...) \
        log_struct(priority, id, (rec)->fields, record_count(rec), __VA_ARGS__)

void audit_claim(const BusIdentity *who, const Group *g) {
        _cleanup_(record_done) AuditRecord rec = { NULL };

        record_caller(&rec, who);
        record_group(&rec, g);
        record_add(&rec, "IOMMUD_OPERATION=claim");
        record_emit(&rec, LOG_INFO, AUDIT_MESSAGE_CLAIM, "group %u claimed by %s (uid %u, pid %d); drivers "
                    "detached: %s", g->id, who->name, (unsigned)who->uid, (int)who->pid, drivers_of(&rec));
}

void audit_override_set(const BusIdentity *who, const Group *g, bool saved) {
        _cleanup_(record_done) AuditRecord rec = { NULL };
        const char *lasts = saved ? "until reattached, across reboots" : "until reattached or the next reboot";

        if (who)
                record_caller(&rec, who);
        record_group_drivers(&rec, g, true);
        record_add(&rec, "IOMMUD_OPERATION=%s", who ? "detach-group" : "override-restore");
        record_add(&rec, "IOMMUD_SAVED=%d", saved);
        if (who)
                record_emit(&rec, LOG_NOTICE, AUDIT_MESSAGE_OVERRIDE_SET, "group %u detached for the machine by "
                            "%s (uid %u, pid %d), %s; drivers detached: %s", g->id, who->name, (unsigned)who->uid,
                            (int)who->pid, lasts, drivers_of(&rec));
        else
                record_emit(&rec, LOG_NOTICE, AUDIT_MESSAGE_OVERRIDE_SET, "group %u detached for the machine again "
                            "(a stored override), %s; drivers to give back: %s", g->id, lasts, drivers_of(&rec));
}

void audit_override_removed(const BusIdentity *who, const Group *g) {
        _cleanup_(record_done) AuditRecord rec = { NULL };

        record_caller(&rec, who);
        record_group_drivers(&rec, g, true);
        record_add(&rec, "IOMMUD_OPERATION=reattach-group");
        record_emit(&rec, LOG_NOTICE, AUDIT_MESSAGE_OVERRIDE_REMOVED, "group %u reattached by %s (uid %u, pid %d); "
                    "drivers being restored: %s", g->id, who->name, (unsigned)who->uid, (int)who->pid,
                    drivers_of(&rec));
}

void audit_claim_failed(const BusIdentity *who, uint32_t group, int r, const char *what, const char *why) {
        _cleanup_(record_done) AuditRecord rec = { NULL };
        const char *detail = why && *why ? why : strerror(-r);

        record_caller(&rec, who);
        record_add(&rec, "IOMMUD_GROUP=%u", group);
        record_add(&rec, "IOMMUD_OPERATION=claim");
        record_add(&rec, "IOMMUD_REASON=%s (%s)", what, detail);
        record_add(&rec, "ERRNO=%d", -r);
        record_emit(&rec, LOG_ERR, AUDIT_MESSAGE_CLAIM_FAILED, "claiming group %u for %s (uid %u) failed: %s "
                    "(%s); every device and driver was left as it was", group, who->name, (unsigned)who->uid,
                    what, detail);
}

void audit_release(const BusIdentity *who, const Group *g, const char *operation) {
        _cleanup_(record_done) AuditRecord rec = { NULL };

        record_caller(&rec, who);
        record_group(&rec, g);
        record_add(&rec, "IOMMUD_OPERATION=%s", operation);
        record_emit(&rec, LOG_INFO, AUDIT_MESSAGE_RELEASE, "group %u released by %s (uid %u, pid %d, %s); "
                    "drivers being restored: %s", g->id, who->name, (unsigned)who->uid, (int)who->pid,
                    operation, drivers_of(&rec));
}

void audit_client_end(const BusIdentity *who, const char *why) {
        _cleanup_(record_done) AuditRecord rec = { NULL };

        record_caller(&rec, who);
        record_add(&rec, "IOMMUD_OPERATION=client-exit");
        record_add(&rec, "IOMMUD_REASON=%s", why);
        record_emit(&rec, LOG_INFO, AUDIT_MESSAGE_CLIENT_END, "client %s (uid %u, pid %d) %s; releasing what "
                    "it held", who->name, (unsigned)who->uid, (int)who->pid, why);
}

void audit_bind(const BusIdentity *who, const Device *dev, uint64_t bond, uint32_t pasid, unsigned users) {
        _cleanup_(record_done) AuditRecord rec = { NULL };

        record_caller(&rec, who);
        record_add(&rec, "IOMMUD_GROUP=%u", dev->group->id);
        record_add(&rec, "IOMMUD_DEVICE=%s", dev->name);
        record_add(&rec, "IOMMUD_OPERATION=bind");
        record_add(&rec, "IOMMUD_BOND=%" PRIu64, bond);
        record_add(&rec, "IOMMUD_PASID=%u", pasid);
        record_add(&rec, "IOMMUD_USERS=%u", users);
        record_emit(&rec, LOG_INFO, AUDIT_MESSAGE_BIND, "%s bound SVA on %s at PASID %u (bond %" PRIu64
                    ", %u user%s)", who->name, dev->name, pasid, bond, users, users == 1 ? "" : "s");
}

void audit_share(const BusIdentity *who, uint64_t region, uint64_t address, uint64_t length, uint32_t access) {
        _cleanup_(record_done) AuditRecord rec = { NULL };

        record_caller(&rec, who);
        record_add(&rec, "IOMMUD_OPERATION=share");
        record_add(&rec, "IOMMUD_REGION=%" PRIu64, region);
        record_add(&rec, "IOMMUD_ADDRESS=0x%" PRIx64, address);
        record_add(&rec, "IOMMUD_LENGTH=%" PRIu64, length);
        record_add(&rec, "IOMMUD_ACCESS=%s%s", access & ACCESS_READ ? "r" : "", access & ACCESS_WRITE ? "w" : "");
        record_emit(&rec, LOG_INFO, AUDIT_MESSAGE_SHARE, "%s (uid %u) shared %" PRIu64 " bytes at 0x%" PRIx64
                    " for DMA (region %" PRIu64 ")", who->name, (unsigned)who->uid, length, address, region);
}

void audit_device_open(const BusIdentity *who, const Device *dev, const char *what) {
        _cleanup_(record_done) AuditRecord rec = { NULL };

        record_caller(&rec, who);
        record_add(&rec, "IOMMUD_GROUP=%u", dev->group->id);
        record_add(&rec, "IOMMUD_DEVICE=%s", dev->name);
        record_add(&rec, "IOMMUD_OPERATION=open");
        record_add(&rec, "IOMMUD_HANDLE=%s", what);
        record_emit(&rec, LOG_INFO, AUDIT_MESSAGE_DEVICE_OPEN, "%s (uid %u) was handed device %s (%s)",
                    who->name, (unsigned)who->uid, dev->name, what);
}

void audit_revoke(const BusIdentity *who, const char *object, uint32_t group, const char *reason) {
        _cleanup_(record_done) AuditRecord rec = { NULL };

        record_caller(&rec, who);
        if (group)
                record_add(&rec, "IOMMUD_GROUP=%u", group);
        record_add(&rec, "IOMMUD_OPERATION=revoke");
        record_add(&rec, "IOMMUD_OBJECT=%s", object);
        record_add(&rec, "IOMMUD_REASON=%s", reason);
        record_emit(&rec, LOG_NOTICE, AUDIT_MESSAGE_REVOKE, "revoked from %s%s%s: %s", who->name,
                    *object ? ", " : "", object, reason);
}

void audit_denied(const BusIdentity *who, const char *operation, const Device *dev, const char *reason) {
        _cleanup_(record_done) AuditRecord rec = { NULL };

        record_caller(&rec, who);
        if (dev) {
                record_add(&rec, "IOMMUD_GROUP=%u", dev->group->id);
                record_add(&rec, "IOMMUD_DEVICE=%s", dev->name);
        }
        record_add(&rec, "IOMMUD_OPERATION=%s", operation);
        record_add(&rec, "IOMMUD_REASON=%s", reason);
        record_emit(&rec, LOG_NOTICE, AUDIT_MESSAGE_DENIED, "denied %s%s%s to %s (uid %u, pid %d): %s",
                    operation, dev ? " on " : "", dev ? dev->name : "", who->name, (unsigned)who->uid,
                    (int)who->pid, reason);
}

/* who's name for a message: "no client" for a fault nobody's attachment took. */
static const char *who_name(const BusIdentity *who) {
        return who && who->name ? who->name : "no client";
}

/* What the core's service refuses (fault.c): an address in no region the
 * client shared with the access asked for, a client without fault service,
 * or one over its pending-fault quota. */
#define FAULT_REFUSED_REASON "not in a region the client shared with that access, or no fault service for it"

static void fault_suppressed(const BusIdentity *who, unsigned count) {
        _cleanup_(record_done) AuditRecord rec = { NULL };

        record_caller(&rec, who);
        record_add(&rec, "IOMMUD_OPERATION=fault");
        record_add(&rec, "IOMMUD_SUPPRESSED=%u", count);
        record_emit(&rec, LOG_WARNING, AUDIT_MESSAGE_FAULT_SUPPRESSED, "%u more refused page requests of %s "
                    "were not logged (at most %u every %llu s)", count, who_name(who), AUDIT_FAULTS_PER_WINDOW,
                    AUDIT_FAULT_WINDOW_USEC / 1000000);
}

void audit_fault_flush(const BusIdentity *who, AuditRate *rate) {
        if (rate->suppressed > 0)
                fault_suppressed(who, rate->suppressed);
        rate->suppressed = 0;
}

void audit_fault_refused(const BusIdentity *who, AuditRate *rate, uint64_t now_usec, const char *device,
                         uint32_t group, uint64_t address) {
        _cleanup_(record_done) AuditRecord rec = { NULL };

        if (rate->in_window == 0 || now_usec - rate->window_start_usec >= AUDIT_FAULT_WINDOW_USEC) {
                audit_fault_flush(who, rate);
                rate->window_start_usec = now_usec;
                rate->in_window = 0;
        }
        if (rate->in_window >= AUDIT_FAULTS_PER_WINDOW) {
                rate->suppressed++;
                return;
        }
        rate->in_window++;
        record_caller(&rec, who);
        record_add(&rec, "IOMMUD_GROUP=%u", group);
        record_add(&rec, "IOMMUD_DEVICE=%s", device);
        record_add(&rec, "IOMMUD_OPERATION=fault");
        record_add(&rec, "IOMMUD_ADDRESS=0x%" PRIx64, address);
        record_add(&rec, "IOMMUD_REASON=%s", FAULT_REFUSED_REASON);
        record_emit(&rec, LOG_WARNING, AUDIT_MESSAGE_FAULT_REFUSED, "refused a page request of %s on %s at "
                    "0x%" PRIx64 " (%s)", who_name(who), device, address, FAULT_REFUSED_REASON);
}
