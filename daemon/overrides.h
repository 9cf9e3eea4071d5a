/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* overrides.h - the overrides the daemon keeps across restarts and reboots, and their re-application */
#pragma once

#include <stdbool.h>

#include "common/hashmap.h"
#include "common/list.h"

#define IOMMUD_DEFAULT_LIB_DIR "/var/lib/iommud"
#define OVERRIDES_FILE "overrides"

/*
 * One device an override holds (daemon/core/override.h), as stored: by PCI
 * address, which a reboot keeps (group ids it may not). Owned by the
 * OverrideStore, from DetachGroup (written before the core starts, so that
 * a crash half-way strands nothing) or the stored file, until its override
 * ends or fails.
 */
typedef struct OverrideRecord {
        char *device;           /* owned */
        char *driver;           /* owned: the driver to bind again; NULL: it had none */
        bool saved;             /* in lib_dir: survives a reboot; else in state_dir (a tmpfs) */
        char pci_id[10];        /* "vvvv:dddd" of the device when it was held; "" in older files */
        ListNode link;          /* in OverrideStore.records */
        HashNode by_device;     /* in OverrideStore.by_device, filed under hash_string(device) */
} OverrideRecord;

/*
 * Two files of the same format: lib_dir/overrides (saved) and
 * state_dir/overrides (until the next reboot, like driverctl --nosave).
 * {"overrides": [{"device": "0000:00:03.0", "driver": "e1000e"}, ...]}
 */
typedef struct OverrideStore {
        char *dirs[2];          /* owned: [0] state_dir (not saved), [1] lib_dir (saved) */
        ListNode records;       /* OverrideRecord.link, owned; in file order */
        HashMap by_device;      /* OverrideRecord.by_device, borrowed: the same records by device */
} OverrideStore;

int override_store_init(OverrideStore *s, const char *state_dir, const char *lib_dir);
void override_store_done(OverrideStore *s);

/* Reads both files. A file that cannot be parsed is logged, moved aside
 * (overrides.broken) and read as empty: the daemon starts, and nothing is
 * lost. */
int override_store_load(OverrideStore *s);

/* device's record or NULL, without walking the records (a store holds up to
 * every device of the machine). */
OverrideRecord *override_store_find(OverrideStore *s, const char *device);
/* Adds or updates device's record and writes the files it is or was in.
 * pci_id: "vvvv:dddd" of the device now, or NULL where unknown. */
int override_store_set(OverrideStore *s, const char *device, const char *driver, const char *pci_id, bool saved);
/* Drops device's record (none: 0) and writes its file. */
int override_store_remove(OverrideStore *s, const char *device);
