/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kernel-state.h - the drivers to give back, kept in a file so that a crash strands no device */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "backend.h"

/*
 * Before the kernel backend unbinds a function's driver, or moves a function
 * without one to vfio-pci, it records what to give back in STATE_DIR/drivers
 * (normally /run/iommud/drivers, the unit's RuntimeDirectory), written whole
 * and atomically: a temporary file, fsync(), rename(), fsync() of the
 * directory. The entry goes once the function is given back, and the file
 * once no entry is left. A daemon that starts after one was killed finds
 * there what that one left on vfio-pci and gives it back before it serves
 * (kernel_state_restore()). /run is a tmpfs: after a reboot there is nothing
 * to give back, and nothing is found.
 *
 * The file is text: a comment line, then one line per function,
 * "NAME DRIVER", DRIVER "-" for a function that had no driver:
 *
 *     # iommud: drivers to give back to functions it moved to vfio-pci
 *     0000:01:00.0 e1000e
 */

#define KERNEL_STATE_FILE "drivers"

typedef struct KernelStateEntry {
        char name[64];          /* the PCI function, as sysfs names it */
        char driver[64];        /* the driver it had; "" for none */
} KernelStateEntry;

typedef struct KernelState {
        char *dir;              /* owned; NULL: nothing is recorded (unit tests) */
        KernelStateEntry *v;    /* owned array: this daemon's entries */
        size_t n;
} KernelState;

/*
 * Parses a file's text into *ret (malloc'ed, *ret_n entries). Lines that are
 * not "NAME DRIVER" are left out and counted in *ret_bad; the first of them
 * is quoted in why. -ENOMEM only.
 */
int kernel_state_parse(const char *text, KernelStateEntry **ret, size_t *ret_n, unsigned *ret_bad, char *why,
                       size_t why_size);
/* The file's text for v (malloc'ed), or NULL without memory. */
char *kernel_state_format(const KernelStateEntry *v, size_t n);

/* Starts with no entry, keeping them under dir (NULL: nowhere). */
int kernel_state_init(KernelState *s, const char *dir);
void kernel_state_done(KernelState *s);

/* The entry of function name, or NULL. */
const KernelStateEntry *kernel_state_find(const KernelState *s, const char *name);
/*
 * Adds (or replaces) the entry of name, driver NULL for none, and writes the
 * file before it returns; on failure nothing changed, in memory or on disk.
 */
int kernel_state_record(KernelState *s, const char *name, const char *driver);
/* Drops the entry of name, if any, and writes the file (removes it when
 * empty). 0 also when there was none. */
int kernel_state_forget(KernelState *s, const char *name);

typedef enum KernelRestoreAction {
        KERNEL_RESTORE_GONE,            /* the function is no longer there */
        KERNEL_RESTORE_LEAVE,           /* on a driver of someone else's choosing now */
        KERNEL_RESTORE_GIVE_BACK,       /* on vfio-pci, or on none: give its driver back */
} KernelRestoreAction;

/* What to do with a recorded function that exists (or not) with driver
 * current ("" for none) bound now. */
KernelRestoreAction kernel_restore_action(bool exists, const char *current);

/*
 * At start-up, before anything is served: every function opts->state_dir's
 * file names and a previous daemon left on vfio-pci (or on no driver) gets
 * its recorded driver back: vfio-pci unbound, driver_override cleared, the
 * driver bound. Each is said through opts->log; then the file is removed.
 * Returns how many were given back, or -errno if the file could not be
 * read (not -ENOENT: no file, nothing to do).
 */
int kernel_state_restore(const BackendOptions *opts);
