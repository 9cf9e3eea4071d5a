/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* proc-holder.c - which process holds a file: a walk of every /proc/PID/fd */
#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/path.h"
#include "proc-holder.h"

/* Whether process pid (a /proc entry's name) has an fd match() accepts. */
static bool pid_holds(const char *pid, bool (*match)(const struct stat *st, void *data), void *data) {
        char path[PATH_MAX];
        struct dirent *fe;
        bool found = false;
        DIR *fds;

        if (path_printf(path, sizeof(path), "/proc/%s/fd", pid) < 0 || !(fds = opendir(path)))
                return false;
        while (!found && (fe = readdir(fds))) {
                struct stat st;

                if (fe->d_name[0] == '.' || path_printf(path, sizeof(path), "/proc/%s/fd/%s", pid, fe->d_name) < 0 ||
                    stat(path, &st) < 0)
                        continue;
                found = match(&st, data);
        }
        closedir(fds);
        return found;
}

static void read_comm(pid_t pid, char *comm, size_t size) {
        char path[64];
        FILE *f;

        comm[0] = 0;
        snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
        f = fopen(path, "re");
        if (f && fgets(comm, (int)size, f))
                comm[strcspn(comm, "\n")] = 0;
        if (f)
                fclose(f);
}

pid_t proc_fd_holder(bool (*match)(const struct stat *st, void *data), void *data, char *comm,
                     size_t comm_size) {
        DIR *proc = opendir("/proc");
        struct dirent *de;
        pid_t found = 0;

        while (proc && !found && (de = readdir(proc)))
                if (isdigit((unsigned char)de->d_name[0]) && atoi(de->d_name) != getpid() &&
                    pid_holds(de->d_name, match, data))
                        found = atoi(de->d_name);
        if (proc)
                closedir(proc);
        if (comm && comm_size > 0) {
                comm[0] = 0;
                if (found)
                        read_comm(found, comm, comm_size);
        }
        return found;
}
