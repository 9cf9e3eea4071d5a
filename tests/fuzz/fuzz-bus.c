/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-bus.c - libFuzzer target: every D-Bus method of the daemon, called with fuzzed arguments */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon/backend/sim.h"
#include "daemon/backend/topology.h"
#include "daemon/daemon.h"

/*
 * The daemon under test is the real one: daemon_new() on the sim backend with
 * the built-in topology, its policy a file written here, on a private
 * dbus-daemon with a system bus's rules and iommud's own bus policy
 * (units/org.iommud1.conf) that this process starts once. The callers are
 * more connections of this process, so the daemon learns who calls the way
 * it always does, from the bus (GetConnectionCredentials): root, which is why
 * the fuzzer must run as root. Every input gets a fresh daemon, so that an
 * input means the same thing whenever it runs and a finding reproduces alone.
 *
 * An input is a script of up to MAX_CALLS method calls, each:
 *   OP   one byte: which method (OP mod the number of methods; the table is
 *        built from the daemon's own vtables, so a new method is fuzzed
 *        without a change here; plus Properties.Get/GetAll, Introspect and
 *        ObjectManager.GetManagedObjects), and which of the N_CLIENTS
 *        connections calls (OP / the number of methods, mod N_CLIENTS):
 *        two root clients, so that one tries the other's objects
 *   OBJ  one byte, for methods of objects: which object (see object_path())
 *   SIG  one byte: < 0xf0 the method's own signature; else a fuzzed one of
 *        SIG & 7 types, one byte each, which the bus refuses before any
 *        handler runs (sd-bus checks the signature against the vtable)
 *   the arguments, by type: y b 1 byte, n q 2, i u 4, x t d 8 (little endian);
 *   s g: a length byte and that many bytes (NUL and bytes >= 0x80 become
 *   '?', as a bus only carries valid UTF-8); o: see object_path(); h: a kind
 *   byte and a size byte (see make_fd()); ay: 2 length bytes and the bytes;
 *   other arrays: a count byte (mod 8) and the elements.
 * Missing bytes read as 0. A call the daemon does not answer within
 * CALL_TIMEOUT_USEC, an input running over INPUT_TIMEOUT_SEC, or a daemon
 * whose event loop ends, is a finding (abort); so is every sanitizer report. Error replies are fine: they are most of
 * what fuzzed arguments get.
 */

#define MAX_CALLS               16
#define CALL_TIMEOUT_USEC       (5 * 1000 * 1000ULL)
#define INPUT_TIMEOUT_SEC       30
#define N_CLIENTS               2       /* callers: the second one tries the first one's objects */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static void write_seeds(const char *dir);

/* The bus policy of tests/integration/harness.py: a system bus, plus iommud's. */
static const char bus_conf[] =
        "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN\"\n"
        " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
        "<busconfig>\n"
        "  <type>system</type>\n"
        "  <listen>unix:path=%s</listen>\n"
        "  <auth>EXTERNAL</auth>\n"
        "  <policy context=\"default\">\n"
        "    <allow user=\"*\"/>\n"
        "    <deny own=\"*\"/>\n"
        "    <deny send_type=\"method_call\"/>\n"
        "    <allow send_type=\"signal\"/>\n"
        "    <allow send_requested_reply=\"true\" send_type=\"method_return\"/>\n"
        "    <allow send_requested_reply=\"true\" send_type=\"error\"/>\n"
        "    <allow receive_type=\"method_call\"/>\n"
        "    <allow receive_type=\"method_return\"/>\n"
        "    <allow receive_type=\"error\"/>\n"
        "    <allow receive_type=\"signal\"/>\n"
        "    <allow send_destination=\"org.freedesktop.DBus\" send_interface=\"org.freedesktop.DBus\"/>\n"
        "  </policy>\n"
        "  <include>%s/units/org.iommud1.conf</include>\n"
        "</busconfig>\n";

/*
 * Root may do everything by default; these rules give root quotas small
 * enough to reach (QuotaExceeded paths), a short fault timeout (a DMA that
 * waits for a page request ends quickly), and one group it may not claim
 * (AccessDenied paths). A deny with a device filter would deny the
 * device-less calls of that operation altogether (docs/policy.md).
 */
static const char policy_json[] =
        "{ \"rules\": [\n"
        "  { \"principals\": \"*\",\n"
        "    \"allow\": [\"claim\", \"detach-kernel-drivers\", \"sva\", \"share-memory\", \"spaces\",\n"
        "              \"fault-service\"],\n"
        "    \"quota\": { \"groups\": 2, \"pasids\": 1, \"bonds\": 4, \"regions\": 4, \"spaces\": 2,\n"
        "               \"pending-faults\": 8, \"bytes\": \"1M\" },\n"
        "    \"fault-timeout-ms\": 50 },\n"
        "  { \"principals\": { \"users\": [\"root\"] }, \"devices\": { \"group\": 3 },\n"
        "    \"deny\": [\"claim\"] }\n"
        "] }\n";

static struct {
        char dir[64];                   /* owned temporary directory, removed at exit */
        char sock[128], conf[128], policy[128], log[128];
        pid_t bus_pid;                  /* the dbus-daemon; dies with us (PR_SET_PDEATHSIG) */
        sd_bus *clients[N_CLIENTS];     /* owned: the callers' connections, for the whole run */
} world = { .bus_pid = -1 };

/* IOMMUD_FUZZ_VERBOSE=1: every call and its answer on stderr. */
static bool verbose;

_attribute_printf_(1, 2) __attribute__((noreturn))
static void die(const char *fmt, ...) {
        va_list ap;

        fprintf(stderr, "fuzz-bus: cannot set up: ");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        exit(2);
}

/* ---- the world: a private bus, the policy file, the caller ---- */

static void write_file(const char *path, const char *text) {
        FILE *f = fopen(path, "we");

        if (!f || fputs(text, f) < 0 || fclose(f) != 0)
                die("cannot write %s: %m", path);
        if (chmod(path, 0644) < 0)
                die("cannot chmod %s: %m", path);
}

static void world_cleanup(void) {
        for (size_t i = 0; i < N_CLIENTS; i++)
                world.clients[i] = sd_bus_flush_close_unref(world.clients[i]);
        if (world.bus_pid > 0) {
                kill(world.bus_pid, SIGTERM);
                waitpid(world.bus_pid, NULL, 0);
                world.bus_pid = -1;
        }
        unlink(world.conf);
        unlink(world.policy);
        unlink(world.log);
        rmdir(world.dir);
}

static void start_bus(void) {
        char conf[4096];
        pid_t pid;

        snprintf(conf, sizeof(conf), bus_conf, world.sock, SOURCE_ROOT);
        write_file(world.conf, conf);
        pid = fork();
        if (pid < 0)
                die("fork: %m");
        if (pid == 0) {
                char arg[160];
                int fd;

                prctl(PR_SET_PDEATHSIG, SIGKILL);
                fd = open(world.log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (fd >= 0) {
                        dup2(fd, STDOUT_FILENO);
                        dup2(fd, STDERR_FILENO);
                }
                snprintf(arg, sizeof(arg), "--config-file=%s", world.conf);
                execlp("dbus-daemon", "dbus-daemon", arg, "--nofork", "--nopidfile", (char *)NULL);
                _exit(127);
        }
        world.bus_pid = pid;
        for (int i = 0; i < 1000; i++) {
                struct timespec ts = { 0, 10 * 1000 * 1000 };

                if (access(world.sock, F_OK) == 0)
                        return;
                if (waitpid(pid, NULL, WNOHANG) == pid) {
                        world.bus_pid = -1;
                        die("dbus-daemon exited at start (is package dbus-daemon installed? "
                            "tools/install-deps); its log was %s", world.log);
                }
                nanosleep(&ts, NULL);
        }
        die("dbus-daemon did not make its socket %s within 10 s", world.sock);
}

static uint64_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* When the running input started (CLOCK_MONOTONIC), 0 between inputs. */
static _Atomic uint64_t input_start_usec;

/* The thread that runs the inputs. */
static pthread_t fuzzing_thread;

/* libFuzzer's -timeout, done here (see keep_alarm_away()): an input running
 * longer than INPUT_TIMEOUT_SEC is a hang. SIGABRT to the fuzzing thread makes
 * libFuzzer print where it hangs and write the input. */
static void *watchdog(void *userdata) {
        for (;;) {
                uint64_t start;

                sleep(1);
                start = atomic_load(&input_start_usec);
                if (start && now_usec() - start > INPUT_TIMEOUT_SEC * 1000000ULL) {
                        fprintf(stderr, "fuzz-bus: FINDING: an input has run for over %d s: iommud hangs\n",
                                INPUT_TIMEOUT_SEC);
                        pthread_kill(fuzzing_thread, SIGABRT);
                        sleep(10);
                        abort();        /* if SIGABRT did not end it there */
                }
        }
        return NULL;
}

/*
 * libFuzzer's SIGALRM (its -timeout check, every few seconds) would interrupt
 * the ppoll() of a synchronous bus call: sd_bus_call() then fails with EINTR
 * (daemon_new()'s RequestName, a handler's GetConnectionCredentials), which
 * the real daemon, whose signals are blocked or absent, never sees. So this
 * thread blocks SIGALRM and it goes to the watchdog's thread, where libFuzzer
 * ignores it (it only acts in the fuzzing thread); the watchdog does its job.
 */
static void keep_alarm_away(void) {
        pthread_t t;
        sigset_t mask;
        int r;

        fuzzing_thread = pthread_self();
        r = pthread_create(&t, NULL, watchdog, NULL);
        if (r != 0)
                die("pthread_create: %s", strerror(r));
        sigemptyset(&mask);
        sigaddset(&mask, SIGALRM);
        r = pthread_sigmask(SIG_BLOCK, &mask, NULL);
        if (r != 0)
                die("pthread_sigmask: %s", strerror(r));
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        const char *tmp = getenv("TMPDIR");
        char addr[160];
        int r;

        if (getenv("IOMMUD_FUZZ_WRITE_SEEDS")) {
                write_seeds(getenv("IOMMUD_FUZZ_WRITE_SEEDS"));
                exit(0);
        }
        if (geteuid() != 0)
                die("fuzz-bus runs as root: only root may own org.iommud1 under units/org.iommud1.conf, "
                    "and root's calls get past the daemon's authorization; run it with sudo");
        snprintf(world.dir, sizeof(world.dir), "%s/iommud-fuzz-bus-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(world.dir))
                die("mkdtemp %s: %m", world.dir);
        chmod(world.dir, 0755);
        snprintf(world.sock, sizeof(world.sock), "%s/bus", world.dir);
        snprintf(world.conf, sizeof(world.conf), "%s/bus.conf", world.dir);
        snprintf(world.policy, sizeof(world.policy), "%s/policy.json", world.dir);
        snprintf(world.log, sizeof(world.log), "%s/bus.log", world.dir);
        atexit(world_cleanup);
        verbose = getenv("IOMMUD_FUZZ_VERBOSE") != NULL;
        write_file(world.policy, policy_json);
        start_bus();
        keep_alarm_away();

        /* daemon_new() connects to the "system bus": ours. */
        snprintf(addr, sizeof(addr), "unix:path=%s", world.sock);
        if (setenv("DBUS_SYSTEM_BUS_ADDRESS", addr, 1) < 0)
                die("setenv: %m");
        for (size_t i = 0; i < N_CLIENTS; i++) {
                r = sd_bus_open_system(&world.clients[i]);
                if (r < 0)
                        die("cannot connect to the private bus %s: %s", addr, strerror(-r));
        }
        return 0;
}

/* ---- the methods: from the daemon's vtables ---- */

typedef enum Kind {
        KIND_ROOT,                      /* /org/iommud1 */
        KIND_GROUP,
        KIND_DEVICE,
        KIND_BOND,
        KIND_REGION,
        KIND_SPACE,
        _KIND_MAX,
        KIND_ANY = _KIND_MAX,           /* any of the above, chosen by the input */
} Kind;

static const struct Interface {
        const char *name;
        const sd_bus_vtable *vtable;
        Kind kind;
} interfaces[] = {
        { IOMMUD_MANAGER_INTERFACE,   manager_vtable,   KIND_ROOT },
        { IOMMUD_SIMULATOR_INTERFACE, simulator_vtable, KIND_ROOT },
        { IOMMUD_GROUP_INTERFACE,     group_vtable,     KIND_GROUP },
        { IOMMUD_DEVICE_INTERFACE,    device_vtable,    KIND_DEVICE },
        { IOMMUD_BOND_INTERFACE,      bond_vtable,      KIND_BOND },
        { IOMMUD_REGION_INTERFACE,    region_vtable,    KIND_REGION },
        { IOMMUD_SPACE_INTERFACE,     space_vtable,     KIND_SPACE },
};
#define N_INTERFACES (sizeof(interfaces) / sizeof(interfaces[0]))

typedef enum Special {
        PLAIN,
        PROPERTY_GET,                   /* (s interface, s property): both chosen from the vtables */
        PROPERTY_GET_ALL,               /* (s interface) */
} Special;

typedef struct Method {
        const char *interface, *member, *signature;
        Kind kind;
        Special special;
} Method;

#define MAX_METHODS 64
static Method methods[MAX_METHODS];
static size_t n_methods;

static void add_method(const char *interface, const char *member, const char *signature, Kind kind,
                       Special special) {
        if (n_methods >= MAX_METHODS)
                die("more than %d methods: raise MAX_METHODS", MAX_METHODS);
        methods[n_methods++] = (Method) { interface, member, signature, kind, special };
}

static void build_methods(void) {
        for (size_t i = 0; i < N_INTERFACES; i++)
                for (const sd_bus_vtable *v = interfaces[i].vtable; v->type != _SD_BUS_VTABLE_END; v++)
                        if (v->type == _SD_BUS_VTABLE_METHOD)
                                add_method(interfaces[i].name, v->x.method.member, v->x.method.signature,
                                           interfaces[i].kind, PLAIN);
        add_method("org.freedesktop.DBus.Properties", "Get", "ss", KIND_ANY, PROPERTY_GET);
        add_method("org.freedesktop.DBus.Properties", "GetAll", "s", KIND_ANY, PROPERTY_GET_ALL);
        add_method("org.freedesktop.DBus.ObjectManager", "GetManagedObjects", "", KIND_ROOT, PLAIN);
        add_method("org.freedesktop.DBus.Introspectable", "Introspect", "", KIND_ANY, PLAIN);
}

/* ---- decoding the input ---- */

typedef struct Input {
        const uint8_t *p;
        size_t left;
} Input;

static uint8_t get_u8(Input *in) {
        if (in->left == 0)
                return 0;
        in->left--;
        return *in->p++;
}

static uint64_t get_le(Input *in, unsigned bytes) {
        uint64_t v = 0;

        for (unsigned i = 0; i < bytes; i++)
                v |= (uint64_t)get_u8(in) << (8 * i);
        return v;
}

/* A length byte and that many bytes, as a string a bus can carry. */
static void get_string(Input *in, char buf[static 256]) {
        size_t len = get_u8(in), i;

        for (i = 0; i < len && in->left > 0; i++) {
                uint8_t c = get_u8(in);

                buf[i] = (char)(c == 0 || c >= 0x80 ? '?' : c);
        }
        buf[i] = '\0';
}

/*
 * An object path from one byte k. For a fixed kind, the object numbered k
 * (devices: the k-th of the built-in topology, mod its size); object ids
 * start at 1 in a fresh core and are shared by clients, bonds, regions and
 * spaces. For KIND_ANY, kind (k >> 4) % 6 and number k & 15. *ret is owned
 * by the caller.
 */
static char *object_path(Kind kind, uint8_t k) {
        static const char *const prefixes[_KIND_MAX] = {
                [KIND_GROUP] = IOMMUD_GROUP_PREFIX, [KIND_BOND] = IOMMUD_BOND_PREFIX,
                [KIND_REGION] = IOMMUD_REGION_PREFIX, [KIND_SPACE] = IOMMUD_SPACE_PREFIX,
        };
        char *p = NULL;

        if (kind == KIND_ANY) {
                kind = (Kind)((k >> 4) % _KIND_MAX);
                k &= 15;
        }
        if (kind == KIND_ROOT)
                return strdup(IOMMUD_PATH);
        if (kind == KIND_DEVICE) {
                if (sd_bus_path_encode(IOMMUD_DEVICE_PREFIX, sim_default_topology[k % sim_default_topology_size].name,
                                       &p) < 0)
                        return NULL;
                return p;
        }
        return object_path_for_id(prefixes[kind], k, &p) < 0 ? NULL : p;
}

/* An 'o' argument: a byte < 0xe0 names an object of any kind; otherwise a
 * fuzzed string made into a valid path ('/' first, no "//", no '/' last). */
static char *get_object_path(Input *in) {
        uint8_t k = get_u8(in);
        char s[256], *p, *o;

        if (k < 0xe0)
                return object_path(KIND_ANY, k);
        get_string(in, s);
        p = o = malloc(strlen(s) + 2);
        if (!p)
                return NULL;
        *o++ = '/';
        for (const char *c = s; *c; c++) {
                bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9');

                if (ok || *c == '_')
                        *o++ = *c;
                else if (o[-1] != '/')
                        *o++ = '/';
        }
        if (o > p + 1 && o[-1] == '/')
                o--;
        *o = '\0';
        return p;
}

/*
 * An 'h' argument: kind byte % 5 says what the fd is, a size byte how many
 * pages it holds: 0 a memfd that allows sealing (what ShareMemory wants),
 * 1 a memfd that does not, 2 one sealed against writes, 3 one sealed against
 * more seals, 4 a pipe. The caller closes it (the message holds its own dup).
 */
static int make_fd(Input *in) {
        unsigned kind = get_u8(in) % 5;
        off_t size = (off_t)get_u8(in) * 4096;
        int fd, p[2];

        if (kind == 4) {
                if (pipe2(p, O_CLOEXEC) < 0)
                        return -errno;
                close(p[1]);
                return p[0];
        }
        fd = memfd_create("fuzz-bus", MFD_CLOEXEC | (kind == 1 ? 0 : MFD_ALLOW_SEALING));
        if (fd < 0)
                return -errno;
        if (ftruncate(fd, size) < 0 ||
            (kind == 2 && fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) < 0) ||
            (kind == 3 && fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL) < 0)) {
                int r = -errno;

                close(fd);
                return r;
        }
        return fd;
}

static int append_one(sd_bus_message *m, const char **sig, Input *in);

static int append_array(sd_bus_message *m, const char **sig, Input *in) {
        char element[2] = { **sig, '\0' };
        unsigned n;
        int r;

        if (element[0] == 'y') {
                size_t len = get_le(in, 2);
                const uint8_t *bytes = in->p;

                (*sig)++;
                if (len > in->left)
                        len = in->left;
                in->p += len;
                in->left -= len;
                return sd_bus_message_append_array(m, 'y', bytes, len);
        }
        r = sd_bus_message_open_container(m, 'a', element);
        n = get_u8(in) % 8;
        for (unsigned i = 0; r >= 0 && i < n; i++) {
                const char *e = element;

                r = append_one(m, &e, in);
        }
        (*sig)++;
        return r < 0 ? r : sd_bus_message_close_container(m);
}

/* Appends one complete type from *sig (basic types and arrays of them, all
 * that our methods and the fuzzed signatures use), advancing *sig. */
static int append_one(sd_bus_message *m, const char **sig, Input *in) {
        char type = *(*sig)++, s[256];
        union { uint8_t y; int b; uint16_t q; uint32_t u; uint64_t t; double d; } v;
        _cleanup_(freep) char *path = NULL;
        int fd, r;

        switch (type) {
        case 'y':
                v.y = get_u8(in);
                return sd_bus_message_append_basic(m, type, &v.y);
        case 'b':
                v.b = get_u8(in) & 1;
                return sd_bus_message_append_basic(m, type, &v.b);
        case 'n': case 'q':
                v.q = (uint16_t)get_le(in, 2);
                return sd_bus_message_append_basic(m, type, &v.q);
        case 'i': case 'u':
                v.u = (uint32_t)get_le(in, 4);
                return sd_bus_message_append_basic(m, type, &v.u);
        case 'x': case 't': case 'd':
                v.t = get_le(in, 8);
                return sd_bus_message_append_basic(m, type, &v.t);
        case 's': case 'g':
                get_string(in, s);
                return sd_bus_message_append_basic(m, type, s);
        case 'o':
                path = get_object_path(in);
                return path ? sd_bus_message_append_basic(m, type, path) : -ENOMEM;
        case 'h':
                fd = make_fd(in);
                if (fd < 0)
                        return fd;
                r = sd_bus_message_append_basic(m, type, &fd);
                close(fd);
                return r;
        case 'a':
                return append_array(m, sig, in);
        default:
                return -EINVAL;         /* not in any signature we make */
        }
}

/* Properties.Get/GetAll: an interface of ours (or a fuzzed name for a byte
 * >= 0xf0) and, for Get, one of its properties (or a fuzzed name). */
static int append_property_args(sd_bus_message *m, Special special, Input *in) {
        uint8_t i = get_u8(in), p;
        const sd_bus_vtable *v, *found = NULL;
        char iface[256], prop[256];
        unsigned n = 0;
        int r;

        if (i >= 0xf0)
                get_string(in, iface);
        else
                snprintf(iface, sizeof(iface), "%s", interfaces[i % N_INTERFACES].name);
        r = sd_bus_message_append_basic(m, 's', iface);
        if (r < 0 || special == PROPERTY_GET_ALL)
                return r;
        p = get_u8(in);
        if (p >= 0xf0 || i >= 0xf0) {
                get_string(in, prop);
                return sd_bus_message_append_basic(m, 's', prop);
        }
        for (v = interfaces[i % N_INTERFACES].vtable; v->type != _SD_BUS_VTABLE_END; v++)
                if (v->type == _SD_BUS_VTABLE_PROPERTY && n++ == p % 32)
                        found = v;
        return sd_bus_message_append_basic(m, 's', found ? found->x.property.member : "NoSuchProperty");
}

/* The signature of this call: the method's own, or a fuzzed one. */
static const char *call_signature(const Method *mt, Input *in, char buf[static 32]) {
        static const char *const types[] = {
                "y", "b", "n", "q", "i", "u", "x", "t", "d", "s", "o", "g", "h", "ay", "as", "au",
        };
        uint8_t s = get_u8(in);
        size_t n, o = 0;

        if (s < 0xf0)
                return mt->signature;
        n = s & 7;
        for (size_t i = 0; i < n; i++) {
                const char *t = types[get_u8(in) % (sizeof(types) / sizeof(types[0]))];

                memcpy(buf + o, t, strlen(t));
                o += strlen(t);
        }
        buf[o] = '\0';
        return buf;
}

/* ---- seeds: readable scripts, written as inputs by IOMMUD_FUZZ_WRITE_SEEDS=DIR ---- */

typedef struct Seed {
        uint8_t b[1024];
        size_t n;
} Seed;

static void put(Seed *s, const void *p, size_t n) {
        if (s->n + n > sizeof(s->b))
                die("a seed is longer than %zu bytes", sizeof(s->b));
        memcpy(s->b + s->n, p, n);
        s->n += n;
}

static void put_u8(Seed *s, uint8_t v) {
        put(s, &v, 1);
}

static void put_le(Seed *s, uint64_t v, unsigned bytes) {
        for (unsigned i = 0; i < bytes; i++)
                put_u8(s, (uint8_t)(v >> (8 * i)));
}

static void put_str(Seed *s, const char *str) {
        put_u8(s, (uint8_t)strlen(str));
        put(s, str, strlen(str));
}

/* A call of interface.member by client (on object obj, for methods of
 * objects), with its own signature; the arguments follow. */
static void put_call_by(Seed *s, unsigned client, const char *interface, const char *member, uint8_t obj) {
        for (size_t i = 0; i < n_methods; i++)
                if (strcmp(methods[i].interface, interface) == 0 && strcmp(methods[i].member, member) == 0) {
                        put_u8(s, (uint8_t)(i + client * n_methods));
                        if (methods[i].kind != KIND_ROOT)
                                put_u8(s, obj);
                        put_u8(s, 0);
                        return;
                }
        die("a seed calls %s.%s, which no vtable has", interface, member);
}

static void put_call(Seed *s, const char *interface, const char *member, uint8_t obj) {
        put_call_by(s, 0, interface, member, obj);
}

#define M IOMMUD_MANAGER_INTERFACE
#define SIM IOMMUD_SIMULATOR_INTERFACE
#define OBJ_REGION(n) (0x40 | (n))      /* an 'o' argument: object_path(KIND_ANY, k) */

/* ShareMemory of a fresh sealable memfd of pages pages at address, read-write. */
static void put_share(Seed *s, uint64_t address, uint8_t pages) {
        put_call(s, M, "ShareMemory", 0);
        put_u8(s, 0);
        put_u8(s, pages);
        put_le(s, address, 8);
        put_le(s, 0, 8);
        put_le(s, (uint64_t)pages * 4096, 8);
        put_le(s, IOMMUD_ACCESS_ALL, 4);
}

static void put_dma(Seed *s, const char *device, uint32_t pasid, uint64_t address, uint16_t len, bool write) {
        put_call(s, SIM, "Dma", 0);
        put_str(s, device);
        put_le(s, pasid, 4);
        put_le(s, address, 8);
        put_le(s, len, 4);
        put_u8(s, write);
        put_le(s, write ? len : 0, 2);
        for (unsigned i = 0; write && i < len; i++)
                put_u8(s, (uint8_t)i);
}

static void seed_lists(Seed *s) {
        put_call(s, M, "ListGroups", 0);
        put_call(s, M, "ListDevices", 0);
        put_call(s, M, "ListBonds", 0);
        put_call(s, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", 0);
        put_call(s, "org.freedesktop.DBus.Introspectable", "Introspect", 0x20);
}

/* Client 1, bond 2: ids count from 1 in a fresh core. */
static void seed_sva(Seed *s) {
        put_call(s, M, "ClaimGroup", 0);
        put_le(s, 1, 4);
        put_le(s, 0, 8);
        put_call(s, M, "BindSva", 0);
        put_str(s, "0000:00:02.0");
        put_call(s, M, "ListBonds", 0);
        put_call(s, IOMMUD_BOND_INTERFACE, "Unbind", 2);
        put_call(s, M, "ReleaseGroup", 0);
        put_le(s, 1, 4);
}

/* A device write into shared memory through a page request. */
static void seed_faults(Seed *s) {
        put_call(s, M, "ClaimGroup", 0);
        put_le(s, 4, 4);
        put_le(s, 0, 8);
        put_call(s, M, "AllocPasid", 0);
        put_call(s, M, "BindSva", 0);
        put_str(s, "0000:00:05.0");
        put_share(s, 0x100000, 16);
        put_dma(s, "0000:00:05.0", 1, 0x103000, 16, true);
        put_dma(s, "0000:00:05.0", 1, 0x103000, 16, false);
        put_call(s, IOMMUD_REGION_INTERFACE, "Remove", 3);
}

/* Space 2, region 3, attached at the RID of a claimed device. */
static void seed_space(Seed *s) {
        put_call(s, M, "CreateSpace", 0);
        put_share(s, 0x200000, 4);
        for (int i = 0; i < 2; i++) {   /* the second overlaps the first */
                put_call(s, IOMMUD_SPACE_INTERFACE, "Map", 2);
                put_u8(s, OBJ_REGION(3));
                put_le(s, 0, 8);
                put_le(s, 0x10000, 8);
                put_le(s, 0x2000, 8);
                put_le(s, IOMMUD_ACCESS_ALL, 4);
        }
        put_call(s, IOMMUD_REGION_INTERFACE, "Remove", 3);      /* mapped: refused */
        put_call(s, M, "ClaimGroup", 0);
        put_le(s, 1, 4);
        put_le(s, 0, 8);
        put_call(s, IOMMUD_SPACE_INTERFACE, "Attach", 2);
        put_str(s, "0000:00:02.0");
        put_le(s, 0, 4);
        put_dma(s, "0000:00:02.0", 0, 0x10000, 8, true);
        put_call(s, IOMMUD_SPACE_INTERFACE, "Detach", 2);
        put_str(s, "0000:00:02.0");
        put_le(s, 0, 4);
        put_call(s, IOMMUD_SPACE_INTERFACE, "Unmap", 2);
        put_le(s, 0x10000, 8);
        put_le(s, 0x2000, 8);
        put_call(s, IOMMUD_SPACE_INTERFACE, "Destroy", 2);
}

/* Kernel events while a group with a driver is claimed, then Reload. */
static void seed_simulator(Seed *s) {
        put_call(s, M, "ClaimGroup", 0);
        put_le(s, 2, 4);
        put_le(s, IOMMUD_CLAIM_DETACH_KERNEL_DRIVERS, 8);
        put_call(s, SIM, "ProbeDriver", 0);
        put_str(s, "0000:00:03.1");
        put_str(s, "vfio-pci");
        put_u8(s, 1);
        put_call(s, SIM, "RemoveDriver", 0);
        put_str(s, "0000:00:03.1");
        put_call(s, SIM, "Unplug", 0);
        put_str(s, "0000:00:03.0");
        put_call(s, SIM, "CheckMapping", 0);
        put_str(s, "0000:00:02.0");
        put_le(s, 0, 4);
        put_le(s, 0x1000, 8);
        put_le(s, 0x1000, 8);
        put_call(s, SIM, "CheckAttachment", 0);
        put_str(s, "0000:00:02.0");
        put_le(s, 0, 4);
        put_call(s, M, "Reload", 0);
}

/* The first finding (a leak; tests/unit ownership/L5_release_keeps_a_driver_
 * bound_during_the_claim): a driver that manages DMA itself binds to a
 * claimed device; the claim ends with the input. */
static void seed_probe_while_claimed(Seed *s) {
        put_call(s, M, "ClaimGroup", 0);
        put_le(s, 2, 4);
        put_le(s, IOMMUD_CLAIM_DETACH_KERNEL_DRIVERS, 8);
        put_call(s, SIM, "ProbeDriver", 0);
        put_str(s, "0000:00:03.0");
        put_str(s, "vfio-pci");
        put_u8(s, 1);
}

/* The second client at the first one's group, bond, region and space
 * (client 1, bond 2, region 3, space 4, client 5). */
static void seed_other_client(Seed *s) {
        put_call(s, M, "ClaimGroup", 0);
        put_le(s, 1, 4);
        put_le(s, 0, 8);
        put_call(s, M, "BindSva", 0);
        put_str(s, "0000:00:02.0");
        put_share(s, 0x100000, 1);
        put_call(s, M, "CreateSpace", 0);
        put_call_by(s, 1, M, "ReleaseGroup", 0);
        put_le(s, 1, 4);
        put_call_by(s, 1, M, "ClaimGroup", 0);
        put_le(s, 1, 4);
        put_le(s, 0, 8);
        put_call_by(s, 1, IOMMUD_BOND_INTERFACE, "Unbind", 2);
        put_call_by(s, 1, IOMMUD_REGION_INTERFACE, "Remove", 3);
        put_call_by(s, 1, IOMMUD_SPACE_INTERFACE, "Attach", 4);
        put_str(s, "0000:00:02.0");
        put_le(s, 0, 4);
        put_call_by(s, 1, IOMMUD_SPACE_INTERFACE, "Destroy", 4);
}

/* What the policy refuses: group 3, a third group, a second megabyte. */
static void seed_refusals(Seed *s) {
        static const uint32_t groups[] = { 3, 1, 2, 4 };

        for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
                put_call(s, M, "ClaimGroup", 0);
                put_le(s, groups[i], 4);
                put_le(s, IOMMUD_CLAIM_DETACH_KERNEL_DRIVERS, 8);
        }
        put_call(s, M, "ReleaseGroup", 0);
        put_le(s, 4, 4);
        put_share(s, 0x100000, 255);
        put_share(s, 0x200000, 255);
        put_call(s, M, "AllocPasid", 0);
        put_call(s, M, "AllocPasid", 0);
        put_call(s, M, "CreateSpace", 0);
        put_call(s, M, "CreateSpace", 0);
        put_call(s, M, "CreateSpace", 0);
}

/* Properties of every interface, and one call with a signature of its own. */
static void seed_properties(Seed *s) {
        for (uint8_t i = 0; i < N_INTERFACES; i++) {
                put_call(s, "org.freedesktop.DBus.Properties", "GetAll", interfaces[i].kind << 4 | 1);
                put_u8(s, i);
                put_call(s, "org.freedesktop.DBus.Properties", "Get", interfaces[i].kind << 4 | 1);
                put_u8(s, i);
                put_u8(s, 1);
        }
        put_u8(s, 0);                   /* ListGroups, the first method... */
        put_u8(s, 0xf2);                /* ...with two fuzzed types: */
        put_u8(s, 9);                   /* s */
        put_str(s, "x");
        put_u8(s, 13);                  /* ay */
        put_le(s, 0, 2);
}

static void write_seeds(const char *dir) {
        static const struct {
                const char *name;
                void (*make)(Seed *s);
        } seeds[] = {
                { "lists", seed_lists },
                { "sva", seed_sva },
                { "faults", seed_faults },
                { "space", seed_space },
                { "simulator", seed_simulator },
                { "probe-while-claimed", seed_probe_while_claimed },
                { "refusals", seed_refusals },
                { "other-client", seed_other_client },
                { "properties", seed_properties },
        };

        build_methods();
        for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
                Seed s = { .n = 0 };
                char path[4096];
                FILE *f;

                seeds[i].make(&s);
                snprintf(path, sizeof(path), "%s/seed-%s", dir, seeds[i].name);
                f = fopen(path, "we");
                if (!f || fwrite(s.b, 1, s.n, f) != s.n || fclose(f) != 0)
                        die("cannot write %s: %m", path);
        }
}

/* ---- one call ---- */

typedef struct Call {
        const Method *method;
        const char *path, *signature;   /* borrowed, for IOMMUD_FUZZ_VERBOSE */
        bool done;
} Call;

static int on_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        Call *c = userdata;

        /* sd-bus says NoReply when the call timed out, and the bus when the
         * daemon's connection went away: either way the daemon failed. */
        if (e && (sd_bus_error_has_name(e, SD_BUS_ERROR_NO_REPLY) ||
                  sd_bus_error_has_name(e, SD_BUS_ERROR_TIMEOUT) ||
                  sd_bus_error_has_name(e, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
                  sd_bus_error_has_name(e, SD_BUS_ERROR_NAME_HAS_NO_OWNER))) {
                fprintf(stderr, "fuzz-bus: FINDING: %s.%s got no answer from iommud within %llu s: %s: %s\n",
                        c->method->interface, c->method->member, CALL_TIMEOUT_USEC / 1000000, e->name,
                        e->message);
                abort();
        }
        if (verbose)
                fprintf(stderr, "fuzz-bus: %s %s.%s(%s) -> %s%s%s\n", c->path, c->method->interface,
                        c->method->member, c->signature, e ? e->name : "ok", e ? ": " : "",
                        e ? e->message : "");
        c->done = true;
        return 0;
}

/* Runs the daemon's event loop (the caller's connection is on it too) until
 * the reply to the call is in. */
static void wait_for_reply(Daemon *d, Call *c) {
        while (!c->done) {
                int r = sd_event_run(d->event, UINT64_MAX);

                if (r < 0)
                        die("the event loop failed: %s", strerror(-r));
                if (sd_event_get_state(d->event) == SD_EVENT_FINISHED) {
                        fprintf(stderr, "fuzz-bus: FINDING: iommud's event loop ended during %s.%s\n",
                                c->method->interface, c->method->member);
                        abort();
                }
        }
}

static void do_call(Daemon *d, Input *in) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        uint8_t op = get_u8(in);
        const Method *mt = &methods[op % n_methods];
        sd_bus *client = world.clients[(op / n_methods) % N_CLIENTS];
        _cleanup_(freep) char *path = NULL;
        Call c = { .method = mt };
        const char *sig0;
        const char *sig;
        char buf[32];
        int r;

        path = object_path(mt->kind, mt->kind == KIND_ROOT ? 0 : get_u8(in));
        if (!path)
                return;
        sig = sig0 = call_signature(mt, in, buf);
        r = sd_bus_message_new_method_call(client, &m, IOMMUD_BUS_NAME, path, mt->interface, mt->member);
        if (r < 0)
                die("cannot make a method call: %s", strerror(-r));
        if (mt->special != PLAIN && sig == mt->signature)
                r = append_property_args(m, mt->special, in);
        else
                while (r >= 0 && *sig)
                        r = append_one(m, &sig, in);
        if (r < 0)
                return;         /* no such message can be sent (an invalid 'g', an fd we could not make) */
        c.path = path;
        c.signature = sig0;
        r = sd_bus_call_async(client, &slot, m, on_reply, &c, CALL_TIMEOUT_USEC);
        if (r < 0)
                die("cannot send %s.%s: %s", mt->interface, mt->member, strerror(-r));
        wait_for_reply(d, &c);
}

/* ---- one input: a fresh daemon, the calls, the daemon's shutdown ---- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        DaemonConfig cfg = { .backend = &sim_backend_class, .policy = world.policy };
        Input in = { .p = data, .left = size };
        Daemon *d = NULL;
        sigset_t mask;
        int r;

        if (n_methods == 0)
                build_methods();
        atomic_store(&input_start_usec, now_usec());
        r = daemon_new(&d, &cfg);
        if (r < 0)
                die("daemon_new() failed: %s", strerror(-r));
        /* daemon_new() blocks the signals it reads from a signalfd; libFuzzer
         * needs SIGINT and friends, and the loop here never waits for them. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        pthread_sigmask(SIG_UNBLOCK, &mask, NULL);
        for (size_t i = 0; i < N_CLIENTS; i++) {
                r = sd_bus_attach_event(world.clients[i], d->event, SD_EVENT_PRIORITY_NORMAL);
                if (r < 0)
                        die("cannot attach a caller to the event loop: %s", strerror(-r));
        }

        for (unsigned i = 0; i < MAX_CALLS && in.left > 0; i++)
                do_call(d, &in);

        for (size_t i = 0; i < N_CLIENTS; i++)
                sd_bus_detach_event(world.clients[i]);
        /* Give the name back now: the next input's daemon asks for it at
         * once, before the bus may have noticed this connection close. */
        r = sd_bus_release_name(d->bus, IOMMUD_BUS_NAME);
        if (r < 0)
                die("cannot release %s: %s", IOMMUD_BUS_NAME, strerror(-r));
        daemon_free(d);
        atomic_store(&input_start_usec, 0);
        return 0;
}
