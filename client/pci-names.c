/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pci-names.c - vendor and device names from the PCI ID database (pci.ids), through libpci */
#include <pci/pci.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "iommuctl.h"

/*
 * libpci, used only for its name lookup: no bus scan (pci_init is never
 * called), so it needs no access to the machine's PCI devices. Made on the
 * first lookup, freed by pci_names_free(); one per process.
 */
static struct pci_access *pci;
static bool pci_failed;

/* libpci calls these instead of exiting; a broken pci.ids makes the names unknown. */
static void pci_quiet(char *msg, ...) {
        (void)msg;
}

static struct pci_access *pci_names(void) {
        if (pci || pci_failed)
                return pci;
        pci = pci_alloc();
        if (!pci) {
                pci_failed = true;
                return NULL;
        }
        pci->warning = pci_quiet;
        pci->debug = pci_quiet;
        return pci;
}

/* libpci wrote the name into the caller's buffer; NULL for one pci.ids does not know. */
static const char *found(const char *name) {
        return name && *name ? name : NULL;
}

const char *pci_vendor_name(uint16_t vendor, char *buf, size_t size) {
        struct pci_access *a = pci_names();

        if (!a)
                return NULL;
        return found(pci_lookup_name(a, buf, (int)size, PCI_LOOKUP_VENDOR | PCI_LOOKUP_NO_NUMBERS,
                                     (int)vendor));
}

const char *pci_device_name(uint16_t vendor, uint16_t device, char *buf, size_t size) {
        struct pci_access *a = pci_names();

        if (!a)
                return NULL;
        return found(pci_lookup_name(a, buf, (int)size, PCI_LOOKUP_DEVICE | PCI_LOOKUP_NO_NUMBERS,
                                     (int)vendor, (int)device));
}

void pci_names_free(void) {
        if (pci)
                pci_cleanup(pci);
        pci = NULL;
}
