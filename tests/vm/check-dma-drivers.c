/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* check-dma-drivers.c - our table of driver_managed_dma drivers against the lane kernel's source */
#include <stdio.h>
#include <string.h>

#include "daemon/backend/driver-dma.h"

/*
 * usage: check-dma-drivers LIST. LIST is what tests/vm/list-dma-drivers
 * found in the source of the kernel the lane built (build-kernel writes it
 * as driver-managed-dma.txt): one driver name a line. Every one of them
 * must be in driver-dma.c's table, or a claim with DETACH_KERNEL_DRIVERS
 * would unbind it as if it used the DMA API.
 */
int main(int argc, char **argv) {
        char line[256];
        unsigned n = 0, missing = 0;
        FILE *f;

        if (argc != 2) {
                fprintf(stderr, "usage: check-dma-drivers LIST\n");
                return 2;
        }
        f = fopen(argv[1], "re");
        if (!f) {
                perror(argv[1]);
                return 1;
        }
        while (fgets(line, sizeof(line), f)) {
                line[strcspn(line, "\n")] = 0;
                if (!line[0])
                        continue;
                n++;
                if (!driver_manages_dma(line)) {
                        printf("check-dma-drivers: %s sets driver_managed_dma in the kernel but is not in "
                               "daemon/backend/driver-dma.c: add it to driver_managed_dma_drivers[]\n", line);
                        missing++;
                }
        }
        fclose(f);
        if (n == 0) {
                printf("check-dma-drivers: %s lists no driver; list-dma-drivers found nothing?\n", argv[1]);
                return 1;
        }
        printf("check-dma-drivers: %u of the kernel's %u driver_managed_dma PCI drivers are in our table "
               "(which has %zu)\n", n - missing, n, driver_managed_dma_drivers_size);
        return missing ? 1 : 0;
}
