/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* proc-holder.h - which process holds a file: a walk of every /proc/PID/fd */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/*
 * The pid of a process other than us with an open fd whose file match()
 * accepts (stat() of /proc/PID/fd/N: what the fd refers to), or 0 when none
 * is seen; comm (NULL: not wanted) gets its command name. Best effort, for
 * the log and Group.Holders only: a process whose fds we may not read
 * (another uid under ProtectProc=, or more capabilities than ours) is not
 * seen, and the answer may be stale by the time it is read.
 */
pid_t proc_fd_holder(bool (*match)(const struct stat *st, void *data), void *data, char *comm,
                     size_t comm_size);
