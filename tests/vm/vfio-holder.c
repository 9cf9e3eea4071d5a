/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vfio-holder.c - the lane's "other VMM": holds a VFIO cdev bound to an iommufd of its own until killed */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "daemon/backend/kernel-uapi.h"

/* usage: vfio-holder /dev/vfio/devices/vfioN; prints "bound DEVID" once it holds it. */
int main(int argc, char *argv[]) {
        VfioDeviceBindIommufd bind = { .argsz = sizeof(bind) };
        int cdev, iommufd;

        if (argc != 2) {
                fprintf(stderr, "usage: vfio-holder /dev/vfio/devices/vfioN\n");
                return 2;
        }
        cdev = open(argv[1], O_RDWR | O_CLOEXEC);
        iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
        if (cdev < 0 || iommufd < 0) {
                fprintf(stderr, "vfio-holder: cannot open %s or /dev/iommu: %s\n", argv[1], strerror(errno));
                return 1;
        }
        bind.iommufd = iommufd;
        if (ioctl(cdev, KVFIO_DEVICE_BIND_IOMMUFD, &bind) < 0) {
                fprintf(stderr, "vfio-holder: VFIO_DEVICE_BIND_IOMMUFD: %s\n", strerror(errno));
                return 1;
        }
        printf("bound %u\n", bind.out_devid);
        fflush(stdout);
        for (;;)
                pause();        /* until killed: the kernel closes both fds then */
}
