/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* audit.h - one structured journal record per decision that matters, each kind with its MESSAGE_ID */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "daemon/core/types.h"

struct BusIdentity;

/*
 * The MESSAGE_ID of each kind of record: generated once with
 * `systemd-id128 new`, never to change (journalctl MESSAGE_ID=... finds
 * them across versions). docs/journal.md lists their fields.
 */
#define AUDIT_MESSAGE_CLAIM             "22d2444411cf4a779bed9e9642812e94"
#define AUDIT_MESSAGE_CLAIM_FAILED      "70d585b44c2543a4ab0f15370559a4f0"
#define AUDIT_MESSAGE_RELEASE           "d741fa227d414caa8da4ed76ede2f335"
#define AUDIT_MESSAGE_CLIENT_END        "76239fa31b83448cae5f620aa474af35"
#define AUDIT_MESSAGE_BIND              "be13bf6e46c7456f8e8aaa2fa150dcb2"
#define AUDIT_MESSAGE_SHARE             "e2b3451d712a4b149ad55611780bc2b9"
#define AUDIT_MESSAGE_DEVICE_OPEN       "fd7002efe84d429e8c95bdbf6568cba8"
#define AUDIT_MESSAGE_REVOKE            "20c3eb9fce2243a5a5f1ceec485a6575"
#define AUDIT_MESSAGE_DENIED            "b53a186faf7345da8dc35e764ae24c14"
#define AUDIT_MESSAGE_FAULT_REFUSED     "191c4f90069c4d75abc2743dc281f4a9"
#define AUDIT_MESSAGE_FAULT_SUPPRESSED  "5f58c940e5774db98d0335dc1f4dc6c4"
#define AUDIT_MESSAGE_OVERRIDE_SET      "c5b10797f05a4826a70bc307a659587a"
#define AUDIT_MESSAGE_OVERRIDE_REMOVED  "388c376ee8ca4ae8aa6c6e0120bf1aaa"

/* Refused faults: at most AUDIT_FAULTS_PER_WINDOW records per client in
 * each AUDIT_FAULT_WINDOW_USEC; the rest are counted, and one
 * FAULT_SUPPRESSED record says how many when the next window starts or the
 * client ends. */
#define AUDIT_FAULTS_PER_WINDOW 5
#define AUDIT_FAULT_WINDOW_USEC (10ull * 1000 * 1000)

/* A client's rate limit of refused-fault records; embedded in its BusClient. */
typedef struct AuditRate {
        uint64_t window_start_usec;     /* CLOCK_MONOTONIC */
        unsigned in_window;
        unsigned suppressed;
} AuditRate;

/*
 * who is the caller or client the decision is about: its bus name, uid and
 * pid as the bus gave them. Each record adds IOMMUD_COMM and IOMMUD_UNIT
 * of that pid as they are when the record is written: for the reader only,
 * never for decisions (docs/journal.md).
 */

/* A claim took g for who: the drivers it detached are on its devices (restore_driver). */
void audit_claim(const struct BusIdentity *who, const Group *g);
/* A claim of group that the backend failed with r (err): what went wrong in
 * words, why in the backend's (NULL: strerror()). Every driver was put back (L5). */
void audit_claim_failed(const struct BusIdentity *who, uint32_t group, int r, const char *what, const char *why);
/* who's claim of g ends now (operation: "release", "client-exit"); the
 * drivers named are being bound again. Before the core's release. */
void audit_release(const struct BusIdentity *who, const Group *g, const char *operation);
/* An override holds g for the machine now (override.h), set by who (NULL:
 * re-applied at start from what was stored); saved: it survives a reboot.
 * The drivers it took away are on its devices (override_driver). */
void audit_override_set(const struct BusIdentity *who, const Group *g, bool saved);
/* who ends g's override; the drivers named are being bound again. Before
 * the core's unoverride. */
void audit_override_removed(const struct BusIdentity *who, const Group *g);
/* who ended (why: "left the bus", "exited") holding something, which is released now. */
void audit_client_end(const struct BusIdentity *who, const char *why);
void audit_bind(const struct BusIdentity *who, const Device *dev, uint64_t bond, uint32_t pasid, unsigned users);
void audit_share(const struct BusIdentity *who, uint64_t region, uint64_t address, uint64_t length,
                 uint32_t access);
/* What /proc/PID/comm says, "" when the process is gone. */
void audit_read_comm(pid_t pid, char *buf, size_t size);
/* Reads who's systemd unit (sd_pid_get_unit()) into who->unit, for the
 * records of a client that outlive the lookup, its exit's among them. */
void audit_read_unit(struct BusIdentity *who);
/* A device fd handed to who (what: how it was opened, e.g. "vfio-cdev"). */
void audit_device_open(const struct BusIdentity *who, const Device *dev, const char *what);
/* A reload took object ("" for the whole connection) back from who; group 0: none. */
void audit_revoke(const struct BusIdentity *who, const char *object, uint32_t group, const char *reason);
/* Policy (or the root-only rule) refused who operation on dev (NULL: no device). */
void audit_denied(const struct BusIdentity *who, const char *operation, const Device *dev, const char *reason);
/* A page request of who's (NULL: of no client) at address on device of
 * group was refused by the service; rate-limited by rate at now_usec. */
void audit_fault_refused(const struct BusIdentity *who, AuditRate *rate, uint64_t now_usec, const char *device,
                         uint32_t group, uint64_t address);
/* The client ends: what its rate limit held back is said now. */
void audit_fault_flush(const struct BusIdentity *who, AuditRate *rate);
