/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* verbs-memory.c - memory shared with iommud, and device DMA into it: share, unshare, dma, peek */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/fd.h"
#include "iommuctl.h"

const VerbOption share_options[] = {
        VERB_FLAG("--read-only", OPT_READ_ONLY, "devices may read the memory but not write it"),
        VERB_VALUE("--at", OPT_AT, "map it at this address of iommuctl (page-aligned), for a "
                   "device that only reaches some addresses", "ADDRESS", ARG_ADDRESS),
        { NULL },
};

const VerbOption dma_options[] = {
        VERB_VALUE("--fill", OPT_FILL, "write LENGTH copies of BYTE", "BYTE", ARG_BYTE),
        VERB_VALUE("--write", OPT_WRITE, "write these bytes; LENGTH must be their number",
                   "HEXBYTES", ARG_HEX),
        { NULL },
};

#define HEX_PER_LINE 16
#define DMA_WRITE_MAX (UINT32_C(16) << 20)     /* what iommuctl builds for one write */

void shares_free(Ctx *ctx) {
        for (size_t i = 0; i < ctx->n_shares; i++) {
                munmap(ctx->shares[i].address, ctx->shares[i].size);
                free(ctx->shares[i].region);
        }
        ctx->shares = mfree(ctx->shares);
        ctx->n_shares = 0;
}

static int shares_add(Ctx *ctx, void *address, size_t size, const char *region) {
        Share *s;
        char *copy;

        s = realloc(ctx->shares, (ctx->n_shares + 1) * sizeof(Share));
        if (!s)
                return -ENOMEM;
        ctx->shares = s;
        copy = strdup(region);
        if (!copy)
                return -ENOMEM;
        s[ctx->n_shares++] = (Share) { .address = address, .size = size, .region = copy };
        return 0;
}

/* After unshare: iommud has let go of it, so the mapping goes too. */
static void shares_forget(Ctx *ctx, const char *region) {
        for (size_t i = 0; i < ctx->n_shares; i++) {
                Share *s = &ctx->shares[i];

                if (strcmp(s->region, region) != 0)
                        continue;
                munmap(s->address, s->size);
                free(s->region);
                *s = ctx->shares[--ctx->n_shares];
                return;
        }
}

/* The share that holds [address, address + length), or NULL. */
static const Share *shares_find(const Ctx *ctx, uint64_t address, uint64_t length) {
        for (size_t i = 0; i < ctx->n_shares; i++) {
                const Share *s = &ctx->shares[i];
                uint64_t base = (uint64_t)(uintptr_t)s->address;

                if (address >= base && length <= s->size && address - base <= s->size - length)
                        return s;
        }
        return NULL;
}

/* A new memfd of size bytes (zeroed), mapped shared and writable here. */
static int share_map(Ctx *ctx, uint64_t size, void *at, int *ret_fd, void **ret) {
        _cleanup_(closep) int fd = -EBADF;
        void *p;

        fd = memfd_create("iommuctl-share", MFD_ALLOW_SEALING | MFD_CLOEXEC);
        if (fd < 0 || ftruncate(fd, (off_t)size) < 0) {
                fprintf(stderr, "iommuctl: %s: cannot create %" PRIu64 " bytes of shared memory: "
                        "%s\n", ctx->verb, size, strerror(errno));
                return EXIT_REFUSED;
        }
        p = mmap(at, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED | (at ? MAP_FIXED_NOREPLACE : 0), fd, 0);
        if (p == MAP_FAILED) {
                fprintf(stderr, "iommuctl: %s: cannot map %" PRIu64 " bytes of shared memory: %s\n",
                        ctx->verb, size, strerror(errno));
                return EXIT_REFUSED;
        }
        *ret_fd = TAKE_FD(fd);
        *ret = p;
        return 0;
}

/* Remembers a share that iommud took: @share, @region, and the mapping for peek. */
static int share_keep(Ctx *ctx, void *p, uint64_t size, const char *path) {
        char *region;

        region = strdup(path);
        if (!region || shares_add(ctx, p, (size_t)size, path) < 0) {
                free(region);
                return -ENOMEM;
        }
        free(ctx->region);
        ctx->region = region;
        ctx->share_address = (uint64_t)(uintptr_t)p;
        ctx->refs |= REF_SHARE | REF_REGION;
        return 0;
}

int verb_share(Ctx *ctx, const Command *cmd) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(closep) int fd = -EBADF;
        bool read_only = cmd->flags & OPT_READ_ONLY;
        const char *path = NULL;
        uint64_t size, at = 0;
        void *p;
        Json j;
        int r;

        r = arg_number(ctx, cmd->args[0], ARG_SIZE, &size);
        if (r == 0 && (cmd->flags & OPT_AT))
                r = arg_number(ctx, command_value(cmd, OPT_AT), ARG_ADDRESS, &at);
        if (r == 0 && (at & 4095)) {
                fprintf(stderr, "iommuctl: share: --at 0x%" PRIx64 " is not page-aligned (4096).\n", at);
                r = EXIT_USAGE;
        }
        if (r == 0)
                r = share_map(ctx, size, (void *)(uintptr_t)at, &fd, &p);
        if (r != 0)
                return r;
        r = ctl_call(ctx, IOMMUD_PATH, IOMMUD_MANAGER_INTERFACE, "ShareMemory", &reply, "htttu", fd,
                     (uint64_t)(uintptr_t)p, UINT64_C(0), size,
                     read_only ? IOMMUD_ACCESS_READ : IOMMUD_ACCESS_READ | IOMMUD_ACCESS_WRITE);
        if (r == 0) {
                r = sd_bus_message_read(reply, "o", &path);
                if (r >= 0)
                        r = share_keep(ctx, p, size, path);
                r = r < 0 ? ctl_bad_reply(ctx, r) : 0;
        }
        if (r != 0) {
                munmap(p, (size_t)size);
                return r;
        }

        ctl_begin_json(ctx, &j);
        if (ctx->json) {
                json_pair_uint(&j, "size", size);
                json_pair_uint(&j, "address", (uint64_t)(uintptr_t)p);
                json_pair_string(&j, "region", path);
                json_pair_bool(&j, "read_only", read_only);
        } else
                printf("shared %" PRIu64 " bytes at 0x%" PRIxPTR " as region %s\n", size,
                       (uintptr_t)p, path);
        return ctl_done(ctx, &j);
}

int verb_unshare(Ctx *ctx, const Command *cmd) {
        _cleanup_(freep) char *path = NULL;
        Json j;
        int r;

        r = arg_path(ctx, cmd->args[0], ARG_REGION, &path);
        if (r == 0)
                r = ctl_call_object(ctx, path, IOMMUD_REGION_INTERFACE, "Remove", "region", "regions",
                                    NULL, NULL);
        if (r != 0)
                return r;
        shares_forget(ctx, path);

        ctl_begin_json(ctx, &j);
        if (ctx->json)
                json_pair_string(&j, "region", path);
        else
                printf("unshared %s\n", path);
        return ctl_done(ctx, &j);
}

/* Bytes as one hex string, for JSON ("data": "abab..."). */
static char *hex_string(const uint8_t *data, size_t n) {
        char *hex;

        hex = malloc(2 * n + 1);
        if (!hex)
                return NULL;
        for (size_t i = 0; i < n; i++)
                snprintf(hex + 2 * i, 3, "%02x", data[i]);
        hex[2 * n] = 0;
        return hex;
}

/* Bytes as hex for people: 16 a line, each line starting with its address. */
static void print_hex(uint64_t address, const uint8_t *data, size_t n) {
        uint64_t last = address + (n ? n - 1 : 0);
        int width = 1;

        while (width < 16 && last >> (4 * width))
                width++;
        for (size_t i = 0; i < n; i++) {
                if (i % HEX_PER_LINE == 0)
                        printf("%s0x%0*" PRIx64 ":", i ? "\n" : "", width, address + i);
                printf(" %02x", data[i]);
        }
        if (n)
                putchar('\n');
}

/* --fill BYTE or --write HEXBYTES: the data of a write, or none for a read. */
static int dma_data(Ctx *ctx, const Command *cmd, uint32_t length, uint8_t **ret, size_t *ret_len) {
        uint64_t byte;
        int r;

        *ret = NULL;
        *ret_len = 0;
        if (cmd->flags & OPT_WRITE) {
                r = parse_hex_bytes(command_value(cmd, OPT_WRITE), ret, ret_len);
                if (r < 0)
                        return r == -ENOMEM ? ctl_bad_reply(ctx, r) : EXIT_USAGE;
                if (*ret_len != length)
                        return ctl_usage_error(cmd->verb, "LENGTH is %" PRIu32 " here, but --write "
                                               "gives %zu bytes", length, *ret_len);
                return 0;
        }
        if (!(cmd->flags & OPT_FILL))
                return 0;
        r = arg_number(ctx, command_value(cmd, OPT_FILL), ARG_BYTE, &byte);
        if (r != 0)
                return r;
        if (length > DMA_WRITE_MAX)
                return ctl_usage_error(cmd->verb, "a write from iommuctl moves at most %" PRIu32
                                       " bytes", DMA_WRITE_MAX);
        *ret = malloc(length);
        if (!*ret)
                return ctl_bad_reply(ctx, -ENOMEM);
        memset(*ret, (int)byte, length);
        *ret_len = length;
        return 0;
}

/* The command line's own checks of dma: option combinations, --write's length. */
const char *validate_dma(const Command *cmd) {
        _cleanup_(freep) uint8_t *data = NULL;
        uint64_t length;
        size_t n;

        if ((cmd->flags & OPT_FILL) && (cmd->flags & OPT_WRITE))
                return "--fill and --write exclude each other; give one of them for a write, "
                       "neither for a read";
        if (!(cmd->flags & OPT_WRITE) || cmd->args[3][0] == '@')
                return NULL;    /* a reference is checked when it runs */
        if (parse_hex_bytes(command_value(cmd, OPT_WRITE), &data, &n) >= 0 &&
            parse_number(cmd->args[3], &length) >= 0 && length != n)
                return "LENGTH must be the number of bytes that --write gives";
        return NULL;
}

static int dma_call(Ctx *ctx, const char *device, uint32_t pasid, uint64_t address,
                    uint32_t length, const uint8_t *data, size_t n, sd_bus_message **ret_reply) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_method_call(ctx->bus, &m, IOMMUD_BUS_NAME, IOMMUD_PATH,
                                           IOMMUD_SIMULATOR_INTERFACE, "Dma");
        if (r >= 0)
                r = sd_bus_message_append(m, "sutub", device, pasid, address, length,
                                          (int)(data != NULL));
        if (r >= 0)
                r = sd_bus_message_append_array(m, 'y', data ? data : (const uint8_t *)"", n);
        if (r < 0) {
                fprintf(stderr, "iommuctl: %s: cannot build the call: %s\n",
                        ctx->verb, strerror(-r));
                return EXIT_REFUSED;
        }
        return ctl_call_message(ctx, m, ret_reply);
}

int verb_dma(Ctx *ctx, const Command *cmd) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(freep) uint8_t *data = NULL;
        _cleanup_(freep) char *hex = NULL;
        const char *device = cmd->args[0];
        uint32_t pasid, length;
        uint64_t address;
        const void *got = NULL;
        size_t n, n_got = 0;
        Json j;
        int r;

        r = arg_u32(ctx, cmd->args[1], ARG_PASID, &pasid);
        if (r == 0)
                r = arg_number(ctx, cmd->args[2], ARG_ADDRESS, &address);
        if (r == 0)
                r = arg_u32(ctx, cmd->args[3], ARG_DMA_LENGTH, &length);
        if (r == 0)
                r = dma_data(ctx, cmd, length, &data, &n);
        if (r == 0)
                r = dma_call(ctx, device, pasid, address, length, data, n, &reply);
        if (r != 0)
                return r;
        if (!data && (r = sd_bus_message_read_array(reply, 'y', &got, &n_got)) < 0)
                return ctl_bad_reply(ctx, r);
        if (!data && ctx->json && !(hex = hex_string(got, n_got)))
                return ctl_bad_reply(ctx, -ENOMEM);

        ctl_begin_json(ctx, &j);
        if (ctx->json) {
                json_pair_string(&j, "device", device);
                json_pair_uint(&j, "pasid", pasid);
                json_pair_uint(&j, "address", address);
                json_pair_uint(&j, "length", length);
                json_pair_bool(&j, "write", data != NULL);
                if (hex)
                        json_pair_string(&j, "data", hex);
        } else if (data)
                printf("wrote %" PRIu32 " bytes at 0x%" PRIx64 " through %s PASID %" PRIu32 "\n",
                       length, address, device, pasid);
        else
                print_hex(address, got, n_got);
        return ctl_done(ctx, &j);
}

static int peek_refuse(Ctx *ctx, uint64_t address, uint64_t length) {
        _cleanup_(freep) char *ranges = NULL;
        size_t size = 0;
        FILE *f;

        if (ctx->n_shares == 0)
                return ctl_usage_error(ctx->cmd->verb, "it shows only memory that a 'share' "
                                       "earlier on this command line made, and there is none");
        f = open_memstream(&ranges, &size);
        if (!f)
                return ctl_bad_reply(ctx, -ENOMEM);
        for (size_t i = 0; i < ctx->n_shares; i++) {
                uint64_t base = (uint64_t)(uintptr_t)ctx->shares[i].address;

                fprintf(f, "%s0x%" PRIx64 "-0x%" PRIx64, i ? ", " : "", base,
                        base + ctx->shares[i].size - 1);
        }
        if (fclose(f) != 0)
                return ctl_bad_reply(ctx, -ENOMEM);
        return ctl_usage_error(ctx->cmd->verb, "0x%" PRIx64 "+%" PRIu64 " is not inside memory "
                               "this iommuctl shared (%s); give a range inside it, such as "
                               "@share 16", address, length, ranges);
}

/* Only ever reads a range inside one of our own shares: never an arbitrary address. */
int verb_peek(Ctx *ctx, const Command *cmd) {
        _cleanup_(freep) char *hex = NULL;
        uint64_t address, length;
        const uint8_t *bytes;
        const Share *s;
        Json j;
        int r;

        r = arg_number(ctx, cmd->args[0], ARG_ADDRESS, &address);
        if (r == 0)
                r = arg_number(ctx, cmd->args[1], ARG_LENGTH, &length);
        if (r != 0)
                return r;
        s = shares_find(ctx, address, length);
        if (!s)
                return peek_refuse(ctx, address, length);
        bytes = (const uint8_t *)s->address + (address - (uint64_t)(uintptr_t)s->address);
        if (ctx->json && !(hex = hex_string(bytes, (size_t)length)))
                return ctl_bad_reply(ctx, -ENOMEM);

        ctl_begin_json(ctx, &j);
        if (ctx->json) {
                json_pair_uint(&j, "address", address);
                json_pair_uint(&j, "length", length);
                json_pair_string(&j, "region", s->region);
                json_pair_string(&j, "data", hex);
        } else
                print_hex(address, bytes, (size_t)length);
        return ctl_done(ctx, &j);
}
