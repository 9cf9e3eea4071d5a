/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* backends.c - the backend classes this iommud was built with, by name */
#include <string.h>

#include "backend.h"
#include "kernel.h"
#include "sim.h"
#if HAVE_SELFTEST
#include "selftest.h"
#else
/* meson -Dselftest=false: the name is known, the class is not there. */
static const BackendClass selftest_backend_class = { .name = "selftest" };
#endif

static const BackendClass *const backend_classes[] = {
        &sim_backend_class,
        &kernel_backend_class,
        &selftest_backend_class,
};

const BackendClass *backend_class_find(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(backend_classes); i++)
                if (strcmp(backend_classes[i]->name, name) == 0)
                        return backend_classes[i];
        return NULL;
}
