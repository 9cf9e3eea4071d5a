/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-topology.c - libFuzzer target: a topology file's text through the parser and into a core */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "daemon/backend/sim-topology.h"
#include "daemon/backend/sim.h"
#include "daemon/backend/topology.h"
#include "daemon/core/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What `iommud --sim --topology=FILE` does with the file (sim_load_topology()):
 * parse it, then add every device to a fresh core on the sim backend. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        SimTopology *t = NULL;
        SimBackend *s = NULL;
        char *error = NULL;
        Core *c = NULL;
        int r;

        r = sim_topology_parse_text("fuzz.json", (const char *)data, size, &t, &error);
        if (r < 0) {
                if (r == -EINVAL && (!error || !*error))
                        abort();        /* a rejected topology always says why */
                free(error);
                return 0;
        }
        if (!t || error || t->n_devices == 0)
                abort();                /* success is at least one device and no problems */
        if (sim_backend_new(&s) >= 0 && core_new(&c, &sim_ops, s) >= 0)
                (void)topology_load(c, t->devices, t->n_devices);
        core_free(c);
        sim_backend_free(s);
        sim_topology_free(t);
        return 0;
}
