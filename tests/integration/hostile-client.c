/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hostile-client.c - client processes that try to stop or fool iommud (tests/integration/test-hostile.py) */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#define DEST "org.iommud1"
#define PATH "/org/iommud1"
#define MANAGER "org.iommud1.Manager"

/*
 * flood N MEMBER
 *   Opens N connections to the system bus at once, makes one call MEMBER on
 *   each (AllocPasid, CreateSpace: no arguments; ClaimGroup: group 1, flags
 *   0), keeps every connection open, prints one line with how each call
 *   ended, then waits until stdin closes. The test reads the line while the
 *   connections are still open, checks the daemon, and then closes stdin.
 *   A line "close" on stdin closes every connection but keeps the process
 *   running, and prints "closed".
 *
 * setgid-fork PROGRAM GROUP
 *   The process that connects to the bus (the pid the bus records) forks;
 *   it then execs PROGRAM, a setgid copy of sleep(1), and so runs with
 *   effective gid GROUP, a group the user is not a member of. The child
 *   waits until that has happened, then starts the D-Bus connection on the
 *   inherited socket and calls ClaimGroup(1, 0). Prints "claim: ok" or
 *   "claim: ERROR.NAME", after "parent-egid: N", then ends the parent.
 */

static int call(sd_bus *bus, const char *member, char *ret_error, size_t size) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        int r;

        if (strcmp(member, "ClaimGroup") == 0)
                r = sd_bus_call_method(bus, DEST, PATH, MANAGER, member, &e, &reply, "ut", 1u, (uint64_t)0);
        else
                r = sd_bus_call_method(bus, DEST, PATH, MANAGER, member, &e, &reply, "");
        if (r < 0)
                snprintf(ret_error, size, "%s", e.name ? e.name : strerror(-r));
        sd_bus_error_free(&e);
        sd_bus_message_unref(reply);
        return r;
}

/* Counts the outcomes by error name: "AccessDenied=256" or "ok=1 NoReply=3". */
typedef struct Outcome {
        char name[128];
        unsigned count;
} Outcome;

static void count(Outcome *o, size_t *n, const char *name) {
        const char *dot = strrchr(name, '.');

        name = dot ? dot + 1 : name;
        for (size_t i = 0; i < *n; i++)
                if (strcmp(o[i].name, name) == 0) {
                        o[i].count++;
                        return;
                }
        if (*n == 16)
                return;
        snprintf(o[*n].name, sizeof(o[*n].name), "%s", name);
        o[(*n)++].count = 1;
}

static int flood(unsigned n, const char *member) {
        sd_bus **buses = calloc(n, sizeof(*buses));
        Outcome outcomes[16];
        size_t n_outcomes = 0;
        char line[64];

        if (!buses)
                return EXIT_FAILURE;
        for (unsigned i = 0; i < n; i++) {
                char error[256] = "ok";
                int r = sd_bus_open_system(&buses[i]);

                if (r < 0) {
                        snprintf(error, sizeof(error), "connect-%s", strerror(-r));
                        buses[i] = NULL;
                } else
                        call(buses[i], member, error, sizeof(error));
                count(outcomes, &n_outcomes, error);
        }
        printf("flood:");
        for (size_t i = 0; i < n_outcomes; i++)
                printf(" %s=%u", outcomes[i].name, outcomes[i].count);
        printf("\n");
        fflush(stdout);
        /* Keep every connection open until the test lets go. */
        while (fgets(line, sizeof(line), stdin))
                if (strcmp(line, "close\n") == 0) {
                        for (unsigned i = 0; i < n; i++)
                                buses[i] = sd_bus_flush_close_unref(buses[i]);
                        printf("closed\n");
                        fflush(stdout);
                }
        for (unsigned i = 0; i < n; i++)
                sd_bus_flush_close_unref(buses[i]);
        free(buses);
        return EXIT_SUCCESS;
}

/* A connected, not yet authenticated socket to the system bus. */
static int connect_bus(void) {
        const char *addr = getenv("DBUS_SYSTEM_BUS_ADDRESS");
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        const char *path = "/run/dbus/system_bus_socket";
        int fd;

        if (addr && strncmp(addr, "unix:path=", 10) == 0)
                path = addr + 10;
        if (strlen(path) >= sizeof(sa.sun_path))
                return -1;
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -1;
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                close(fd);
                return -1;
        }
        return fd;
}

/* The effective gid of pid from /proc/pid/status ("Gid: real effective ..."). */
static long proc_egid(pid_t pid) {
        char path[64], line[256];
        long real, eff = -1;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        f = fopen(path, "re");
        if (!f)
                return -1;
        while (fgets(line, sizeof(line), f))
                if (sscanf(line, "Gid: %ld %ld", &real, &eff) == 2)
                        break;
        fclose(f);
        return eff;
}

static int child_claim(int fd, pid_t parent, long group) {
        struct timespec pause = { 0, 20 * 1000 * 1000 };
        char error[512] = "ok";
        sd_bus *bus = NULL;
        long egid = -1;
        int r;

        for (int i = 0; i < 500 && egid != group; i++) {
                nanosleep(&pause, NULL);
                egid = proc_egid(parent);
        }
        printf("parent-egid: %ld\n", egid);
        r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_fd(bus, fd, fd);
        if (r >= 0)
                r = sd_bus_set_bus_client(bus, 1);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r < 0)
                printf("claim: connect-failed: %s\n", strerror(-r));
        else if (call(bus, "ClaimGroup", error, sizeof(error)) < 0)
                printf("claim: %s\n", error);
        else
                printf("claim: ok\n");
        fflush(stdout);
        sd_bus_flush_close_unref(bus);
        /* Done: the parent's sleep need not run out. */
        kill(parent, SIGTERM);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

static int setgid_fork(const char *program, const char *group) {
        pid_t parent = getpid();
        int fd = connect_bus();
        pid_t pid;

        if (fd < 0) {
                perror("hostile-client: connect");
                return EXIT_FAILURE;
        }
        fflush(stdout);
        pid = fork();
        if (pid < 0)
                return EXIT_FAILURE;
        if (pid == 0)
                _exit(child_claim(fd, parent, strtol(group, NULL, 10)));
        /* The pid the bus recorded at connect becomes a setgid program; the
         * socket stays open in the child (SOCK_CLOEXEC closes ours). */
        execl(program, program, "60", (char *)NULL);
        perror("hostile-client: exec");
        return EXIT_FAILURE;
}

int main(int argc, char *argv[]) {
        if (argc == 4 && strcmp(argv[1], "flood") == 0)
                return flood((unsigned)strtoul(argv[2], NULL, 10), argv[3]);
        if (argc == 4 && strcmp(argv[1], "setgid-fork") == 0)
                return setgid_fork(argv[2], argv[3]);
        fprintf(stderr, "usage: hostile-client flood N MEMBER | setgid-fork PROGRAM GROUP\n");
        return EXIT_FAILURE;
}
