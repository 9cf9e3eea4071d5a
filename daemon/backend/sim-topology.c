/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sim-topology.c - reading a simulated topology from a JSON file */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hashmap.h"
#include "driver-dma.h"
#include "sim-topology.h"

typedef struct Parser {
        const char *file;
        SimTopology *t;
        char *errors;           /* owned, one line per problem */
        size_t errors_len;
        unsigned n_errors;
        /* The names seen so far, so a name listed twice is found without
         * comparing each device with all before it. */
        HashMap names;          /* NameNode.node */
        struct NameNode *name_nodes; /* owned, one per device; only while parsing */
} Parser;

typedef struct NameNode {
        HashNode node;
        size_t index;           /* in SimTopology.devices */
} NameNode;

/*
 * Where in the file a problem is: text, or array[index] (.key). Only a
 * problem needs it as text; formatting it for every field of every device
 * beforehand was most of the parse of a large topology.
 */
typedef struct Where {
        const char *text;       /* the whole place; NULL: array[index] */
        const char *array;
        size_t index;
        const char *key;        /* NULL: the element itself */
} Where;

#define AT(s) (&(const Where) { .text = (s) })

static const char *where_text(const Where *w, char *buf, size_t size) {
        if (w->text)
                return w->text;
        if (w->key)
                snprintf(buf, size, "%s[%zu].%s", w->array, w->index, w->key);
        else
                snprintf(buf, size, "%s[%zu]", w->array, w->index);
        return buf;
}

_attribute_printf_(3, 4)
static void parser_error(Parser *p, const Where *at, const char *fmt, ...) {
        char msg[512], buf[160];
        const char *where = where_text(at, buf, sizeof(buf));
        int n;
        char *e;
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        n = snprintf(NULL, 0, "%s: %s: %s\n", p->file, where, msg);
        e = realloc(p->errors, p->errors_len + (size_t)n + 1);
        if (!e)
                return;
        snprintf(e + p->errors_len, (size_t)n + 1, "%s: %s: %s\n", p->file, where, msg);
        p->errors = e;
        p->errors_len += (size_t)n;
        p->n_errors++;
}

#define STRING_CHUNK_SIZE 65536

/* A copy of s that lives as long as the topology. Copies go into chunks
 * of 64 KiB: a malloc for each of a large file's ~33,000 strings cost as
 * much as the rest of reading the devices. */
static const char *keep_string(Parser *p, const char *s) {
        SimStringChunk *c = p->t->strings;
        size_t n = strlen(s) + 1;
        char *copy;

        if (!c || c->size - c->used < n) {
                size_t size = n > STRING_CHUNK_SIZE ? n : STRING_CHUNK_SIZE;

                c = malloc(sizeof(*c) + size);
                if (!c)
                        return NULL;
                *c = (SimStringChunk) { .next = p->t->strings, .size = size };
                p->t->strings = c;
        }
        copy = memcpy(c->data + c->used, s, n);
        c->used += n;
        return copy;
}

/* Numbers may be JSON integers or strings such as "0x8086". */
static bool get_number(Parser *p, json_object *v, const Where *where, uint64_t max, uint64_t *ret) {
        char *end;
        unsigned long long n;

        if (json_object_is_type(v, json_type_int) && json_object_get_int64(v) >= 0) {
                n = (unsigned long long)json_object_get_int64(v);
        } else if (json_object_is_type(v, json_type_string)) {
                errno = 0;
                n = strtoull(json_object_get_string(v), &end, 0);
                if (errno || *end || end == json_object_get_string(v))
                        goto bad;
        } else
                goto bad;
        if (n > max)
                goto bad;
        *ret = n;
        return true;
bad:
        parser_error(p, where, "expected a number from 0 to %" PRIu64 " (or a string like \"0x%" PRIx64 "\"), got %s",
                     max, max, json_object_to_json_string(v));
        return false;
}

static bool get_bool(Parser *p, json_object *v, const Where *where, bool *ret) {
        if (!json_object_is_type(v, json_type_boolean)) {
                parser_error(p, where, "expected true or false, got %s", json_object_to_json_string(v));
                return false;
        }
        *ret = json_object_get_boolean(v);
        return true;
}

static bool get_string(Parser *p, json_object *v, const Where *where, const char **ret) {
        if (!json_object_is_type(v, json_type_string) || !json_object_get_string(v)[0]) {
                parser_error(p, where, "expected a non-empty string, got %s", json_object_to_json_string(v));
                return false;
        }
        *ret = keep_string(p, json_object_get_string(v));
        return *ret != NULL;
}

/* Parses one field of a device; false for an unknown key. */
static bool parse_field(Parser *p, const char *key, json_object *v, const Where *where,
                        DeviceInfo *d, bool *refuse) {
        uint64_t n;

        if (strcmp(key, "name") == 0)
                get_string(p, v, where, &d->name);
        else if (strcmp(key, "iommu") == 0)
                get_string(p, v, where, &d->iommu);
        else if (strcmp(key, "driver") == 0) {
                if (!json_object_is_type(v, json_type_null))
                        get_string(p, v, where, &d->driver);
        } else if (strcmp(key, "group") == 0) {
                if (get_number(p, v, where, UINT32_MAX, &n))
                        d->group = (uint32_t)n;
        } else if (strcmp(key, "vendor") == 0) {
                if (get_number(p, v, where, UINT16_MAX, &n))
                        d->vendor_id = (uint16_t)n;
        } else if (strcmp(key, "device") == 0) {
                if (get_number(p, v, where, UINT16_MAX, &n))
                        d->device_id = (uint16_t)n;
        } else if (strcmp(key, "class") == 0) {
                if (get_number(p, v, where, 0xffffff, &n))
                        d->class_code = (uint32_t)n;
        } else if (strcmp(key, "max_pasids") == 0) {
                if (get_number(p, v, where, 1u << 20, &n))
                        d->max_pasids = (uint32_t)n;
        } else if (strcmp(key, "pasid") == 0)
                get_bool(p, v, where, &d->pasid);
        else if (strcmp(key, "pri") == 0)
                get_bool(p, v, where, &d->pri);
        else if (strcmp(key, "ats") == 0)
                get_bool(p, v, where, &d->ats);
        else if (strcmp(key, "driver_managed_dma") == 0)
                get_bool(p, v, where, &d->driver_managed_dma);
        else if (strcmp(key, "refuse_unbind") == 0)
                get_bool(p, v, where, refuse);
        else
                return false;
        return true;
}

/* The time its driver's remove() or probe() takes; 10 minutes at most. */
static bool parse_driver_time(Parser *p, const char *key, json_object *v, const Where *where, size_t i) {
        uint64_t n;

        if (strcmp(key, "unbind_ms") != 0 && strcmp(key, "probe_ms") != 0)
                return false;
        if (get_number(p, v, where, 600000, &n))
                (key[0] == 'u' ? p->t->unbind_ms : p->t->probe_ms)[i] = (unsigned)n;
        return true;
}

/* Files devices[i] by its name, or says which earlier device has it. */
static void check_name_unique(Parser *p, size_t i, const Where *where) {
        const char *name = p->t->devices[i].name;
        uint64_t hash = hash_string(name);
        NameNode *seen = hashmap_find_entry(NameNode, x, &p->names, node, hash,
                                            strcmp(p->t->devices[x->index].name, name) == 0);

        if (seen) {
                parser_error(p, where, "device \"%s\" is listed twice (also devices[%zu])", name, seen->index);
                return;
        }
        p->name_nodes[i].index = i;
        hashmap_put(&p->names, &p->name_nodes[i].node, hash);
}

static void parse_device(Parser *p, json_object *o, size_t i) {
        DeviceInfo *d = &p->t->devices[i];
        const Where *where = &(const Where) { .array = "devices", .index = i };

        if (!json_object_is_type(o, json_type_object)) {
                parser_error(p, where, "expected an object describing a device");
                return;
        }
        json_object_object_foreach(o, key, v) {
                const Where *fwhere = &(const Where) { .array = "devices", .index = i, .key = key };

                if (!parse_field(p, key, v, fwhere, d, &p->t->refuse_unbind[i]) &&
                    !parse_driver_time(p, key, v, fwhere, i))
                        parser_error(p, fwhere, "unknown key; expected one of name, group, iommu, vendor, "
                                     "device, class, pasid, max_pasids, pri, ats, driver, "
                                     "driver_managed_dma, refuse_unbind, unbind_ms, probe_ms");
        }
        /* Unless the file says, a driver manages DMA as the kernel's does. */
        if (!json_object_object_get_ex(o, "driver_managed_dma", NULL))
                d->driver_managed_dma = driver_manages_dma(d->driver);
        if (!d->name)
                parser_error(p, where, "missing \"name\" (the device's PCI address, e.g. \"0000:00:02.0\")");
        if (!d->iommu)
                parser_error(p, where, "missing \"iommu\" (the IOMMU instance, e.g. \"dmar0\")");
        if (d->pasid && d->max_pasids < 2)
                parser_error(p, where, "a PASID-capable device needs \"max_pasids\" of at least 2");
        if (!d->pasid && d->max_pasids)
                parser_error(p, where, "\"max_pasids\" given but \"pasid\" is not true");
        if (d->name)
                check_name_unique(p, i, where);
}

const SimIommu sim_iommu_default = {
        .name = NULL, .max_pasid_log2 = 20, .address_bits = 48,
        .reserved = { { 0xfee00000, 0xfeefffff } }, .n_reserved = 1,
};

/* "reserved": [ ["0xfee00000", "0xfeefffff"], ... ]: first and last IOVA. */
static void parse_reserved(Parser *p, json_object *v, const Where *where, SimIommu *i) {
        char buf[160];
        const char *at = where_text(where, buf, sizeof(buf));
        size_t n;

        if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) > SIM_IOMMU_RESERVED_MAX) {
                parser_error(p, where, "expected an array of at most %d [first, last] IOVA pairs",
                             SIM_IOMMU_RESERVED_MAX);
                return;
        }
        n = json_object_array_length(v);
        for (size_t k = 0; k < n; k++) {
                json_object *pair = json_object_array_get_idx(v, k);
                uint64_t a, b;
                char w[192];

                snprintf(w, sizeof(w), "%s[%zu]", at, k);
                if (!json_object_is_type(pair, json_type_array) || json_object_array_length(pair) != 2) {
                        parser_error(p, AT(w), "expected [first, last], e.g. [\"0xfee00000\", \"0xfeefffff\"]");
                        continue;
                }
                if (get_number(p, json_object_array_get_idx(pair, 0), AT(w), UINT64_MAX, &a) &&
                    get_number(p, json_object_array_get_idx(pair, 1), AT(w), UINT64_MAX, &b)) {
                        if (a > b)
                                parser_error(p, AT(w), "the first IOVA is above the last");
                        i->reserved[k] = (IovaRange) { a, b };
                }
        }
        i->n_reserved = n;
}

static void parse_iommu(Parser *p, json_object *o, size_t k) {
        SimIommu *i = &p->t->iommus[k];
        const Where *where = &(const Where) { .array = "iommus", .index = k };
        uint64_t n;

        *i = sim_iommu_default;
        if (!json_object_is_type(o, json_type_object)) {
                parser_error(p, where, "expected an object describing an IOMMU instance");
                return;
        }
        json_object_object_foreach(o, key, v) {
                const Where *fwhere = &(const Where) { .array = "iommus", .index = k, .key = key };

                if (strcmp(key, "name") == 0)
                        get_string(p, v, fwhere, &i->name);
                else if (strcmp(key, "max_pasid_log2") == 0) {
                        if (get_number(p, v, fwhere, 20, &n))
                                i->max_pasid_log2 = (uint8_t)n;
                } else if (strcmp(key, "capabilities") == 0) {
                        if (get_number(p, v, fwhere, 0xf, &n))
                                i->capabilities = n;
                } else if (strcmp(key, "address_bits") == 0) {
                        if (!get_number(p, v, fwhere, 64, &n))
                                continue;
                        if (n < 12)
                                parser_error(p, fwhere, "an aperture needs at least 12 address bits");
                        i->address_bits = (uint8_t)n;
                } else if (strcmp(key, "reserved") == 0)
                        parse_reserved(p, v, fwhere, i);
                else
                        parser_error(p, fwhere, "unknown key; expected one of name, max_pasid_log2, "
                                     "capabilities, address_bits, reserved");
        }
        if (!i->name)
                parser_error(p, where, "missing \"name\" (the IOMMU instance its devices name, e.g. \"dmar0\")");
        for (size_t j = 0; j < k && i->name; j++)
                if (p->t->iommus[j].name && strcmp(p->t->iommus[j].name, i->name) == 0)
                        parser_error(p, where, "IOMMU \"%s\" is listed twice (also iommus[%zu])", i->name, j);
}

static void parse_iommus(Parser *p, json_object *v) {
        size_t n;

        if (!json_object_is_type(v, json_type_array)) {
                parser_error(p, AT("iommus"), "expected an array of IOMMU instances");
                return;
        }
        n = json_object_array_length(v);
        p->t->iommus = calloc(n ? n : 1, sizeof(SimIommu));
        if (!p->t->iommus) {
                parser_error(p, AT("iommus"), "out of memory");
                return;
        }
        p->t->n_iommus = n;
        for (size_t k = 0; k < n; k++)
                parse_iommu(p, json_object_array_get_idx(v, k), k);
}

static void parse_root(Parser *p, json_object *root) {
        json_object *devs, *iommus;
        size_t n;

        if (!json_object_is_type(root, json_type_object) ||
            !json_object_object_get_ex(root, "devices", &devs) ||
            !json_object_is_type(devs, json_type_array)) {
                parser_error(p, AT("(top)"), "expected an object with an array \"devices\"");
                return;
        }
        json_object_object_foreach(root, key, v) {
                (void)v;
                if (strcmp(key, "devices") != 0 && strcmp(key, "iommus") != 0)
                        parser_error(p, AT(key), "unknown key; expected \"devices\" and optionally \"iommus\"");
        }
        if (json_object_object_get_ex(root, "iommus", &iommus))
                parse_iommus(p, iommus);
        n = json_object_array_length(devs);
        if (n == 0) {
                parser_error(p, AT("devices"), "expected at least one device");
                return;
        }
        p->t->devices = calloc(n, sizeof(DeviceInfo));
        p->t->refuse_unbind = calloc(n, sizeof(bool));
        p->t->unbind_ms = calloc(n, sizeof(unsigned));
        p->t->probe_ms = calloc(n, sizeof(unsigned));
        p->name_nodes = calloc(n, sizeof(NameNode));
        if (!p->t->devices || !p->t->refuse_unbind || !p->t->unbind_ms || !p->t->probe_ms || !p->name_nodes) {
                parser_error(p, AT("devices"), "out of memory");
                free(p->name_nodes);
                p->name_nodes = NULL;
                return;
        }
        p->t->n_devices = n;
        for (size_t i = 0; i < n; i++)
                parse_device(p, json_object_array_get_idx(devs, i), i);
        hashmap_clear(&p->names);
        free(p->name_nodes);
        p->name_nodes = NULL;
}

SimTopology *sim_topology_free(SimTopology *t) {
        if (!t)
                return NULL;
        while (t->strings) {
                SimStringChunk *c = t->strings;

                t->strings = c->next;
                free(c);
        }
        free(t->devices);
        free(t->refuse_unbind);
        free(t->unbind_ms);
        free(t->probe_ms);
        free(t->iommus);
        free(t);
        return NULL;
}

/* Takes root (NULL: the literal null, or none could be read, which was
 * reported); *ret gets p->t if nothing was wrong, else it is freed. */
static int parse_finish(Parser *p, json_object *root, SimTopology **ret, char **ret_error) {
        _cleanup_(sim_topology_freep) SimTopology *t = p->t;

        if (p->n_errors == 0)
                parse_root(p, root);
        json_object_put(root);
        if (p->n_errors > 0) {
                if (ret_error)
                        *ret_error = p->errors;
                else
                        free(p->errors);
                return -EINVAL;
        }
        *ret = TAKE_PTR(t);
        return 0;
}

int sim_topology_parse_file(const char *path, SimTopology **ret, char **ret_error) {
        Parser p = { .file = path, .t = calloc(1, sizeof(SimTopology)) };
        json_object *root;

        if (!p.t)
                return -ENOMEM;
        root = json_object_from_file(path);
        if (!root)
                parser_error(&p, AT("(file)"), "cannot read it as JSON: %s", json_util_get_last_err());
        return parse_finish(&p, root, ret, ret_error);
}

/* The same JSON parse as json_object_from_file() does on the file's bytes. */
int sim_topology_parse_text(const char *name, const char *text, size_t size, SimTopology **ret,
                            char **ret_error) {
        Parser p = { .file = name, .t = calloc(1, sizeof(SimTopology)) };
        json_object *root = NULL;
        json_tokener *tok;

        if (!p.t)
                return -ENOMEM;
        if (size > INT_MAX)
                parser_error(&p, AT("(file)"), "cannot read it as JSON: it is bigger than 2 GiB");
        else if (!(tok = json_tokener_new())) {
                free(p.t);
                return -ENOMEM;
        } else {
                root = json_tokener_parse_ex(tok, text, (int)size);
                if (!root && json_tokener_get_error(tok) != json_tokener_success)
                        parser_error(&p, AT("(file)"), "cannot read it as JSON: %s",
                                     json_tokener_error_desc(json_tokener_get_error(tok)));
                json_tokener_free(tok);
        }
        return parse_finish(&p, root, ret, ret_error);
}
