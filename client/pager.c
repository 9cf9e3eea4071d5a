/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pager.c - list output through a pager on a terminal, chosen as systemd's tools choose it */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "iommuctl.h"

/* The pager's pid while it runs; stdout is the pipe to it meanwhile. One per process. */
static pid_t pager_pid;

/* $IOMMUCTL_PAGER, $SYSTEMD_PAGER, $PAGER in that order; NULL: none set. */
static const char *pager_from_environment(void) {
        static const char *const names[] = { "IOMMUCTL_PAGER", "SYSTEMD_PAGER", "PAGER" };

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                const char *v = getenv(names[i]);

                if (v)
                        return v;
        }
        return NULL;
}

/* Copies stdin to stdout: what the child does when no pager can be started. */
static _Noreturn void copy_through(void) {
        char buf[4096];
        ssize_t n;

        while ((n = read(STDIN_FILENO, buf, sizeof(buf))) > 0)
                if (write(STDOUT_FILENO, buf, (size_t)n) != n)
                        break;
        _exit(0);
}

/* In the child, stdin the pipe: runs the pager, or copies when none starts. */
static _Noreturn void exec_pager(const char *pager) {
        /* F: quit if it fits one screen, R: colours, X: leave the screen, M: long prompt,
         * K: quit on Ctrl-C; only when the user has not chosen LESS. */
        setenv("LESS", "FRXMK", 0);
        if (pager) {
                execl("/bin/sh", "sh", "-c", pager, (char *)NULL);
                copy_through();
        }
        execlp("less", "less", (char *)NULL);
        execlp("more", "more", (char *)NULL);
        copy_through();
}

void pager_open(Ctx *ctx) {
        const char *pager = pager_from_environment();
        int fds[2];
        pid_t pid;

        (void)ctx;
        if (pager_pid > 0 || !isatty(STDOUT_FILENO))
                return;
        /* "" or "cat" means no pager, as in systemd */
        if (pager && (!*pager || strcmp(pager, "cat") == 0))
                return;
        fflush(stdout);
        if (pipe2(fds, O_CLOEXEC) < 0)
                return;         /* no pager, then: the output still goes to the terminal */
        pid = fork();
        if (pid < 0) {
                close(fds[0]);
                close(fds[1]);
                return;
        }
        if (pid == 0) {
                if (dup2(fds[0], STDIN_FILENO) < 0)
                        _exit(EXIT_FAILURE);
                exec_pager(pager);
        }
        if (dup2(fds[1], STDOUT_FILENO) < 0) {
                kill(pid, SIGTERM);
                waitpid(pid, NULL, 0);
        } else
                pager_pid = pid;
        close(fds[0]);
        close(fds[1]);
}

void pager_close(void) {
        if (pager_pid <= 0)
                return;
        fflush(stdout);
        fclose(stdout);         /* the pager sees the end of its input */
        while (waitpid(pager_pid, NULL, 0) < 0 && errno == EINTR)
                ;
        pager_pid = 0;
}
