/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* verbs-objects.c - spaces and regions: listed from the object manager's GetManagedObjects */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "iommuctl.h"

const char *const regions_columns[] = {
        "REGION", "ADDRESS", "LENGTH", "ACCESS", "OWNER", "OFFSET", HOLDER_COLUMNS, NULL,
};

const char *const spaces_columns[] = {
        "SPACE", "OWNER", "MAPPINGS", "ATTACHMENTS", HOLDER_COLUMNS, NULL,
};

typedef struct Mapping {
        uint64_t iova, length, offset;
        const char *region;
        uint32_t access;
} Mapping;

typedef struct Attachment {
        const char *device;
        uint32_t pasid;
} Attachment;

/* One object's row; strings point into the GetManagedObjects reply. */
typedef struct Row {
        const char *path, *owner;
        uint64_t address, offset, length;       /* regions */
        uint32_t access;
        Mapping *mappings;                      /* spaces */
        size_t n_mappings;
        Attachment *attachments;
        size_t n_attachments;
} Row;

typedef struct Rows {
        Row *rows;
        size_t n;
} Rows;

static void rows_done(Rows *l) {
        for (size_t i = 0; i < l->n; i++) {
                free(l->rows[i].mappings);
                free(l->rows[i].attachments);
        }
        l->rows = mfree(l->rows);
}

/* Appends one zeroed element of size to *array of *n. */
static void *grow(void *array_ptr, size_t *n, size_t size) {
        void **array = array_ptr;
        void *a;

        a = realloc(*array, (*n + 1) * size);
        if (!a)
                return NULL;
        *array = a;
        memset((char *)a + *n * size, 0, size);
        return (char *)a + (*n)++ * size;
}

/* Property parsers for Space.Mappings (a(ttotu)) and Space.Attachments (a(su)). */
static int parse_mappings(sd_bus_message *m, void *ret) {
        Row *row = ret;
        Mapping x;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "(ttotu)");
        while (r >= 0 && (r = sd_bus_message_read(m, "(ttotu)", &x.iova, &x.length, &x.region,
                                                  &x.offset, &x.access)) > 0) {
                Mapping *p = grow(&row->mappings, &row->n_mappings, sizeof(Mapping));

                if (!p)
                        return -ENOMEM;
                *p = x;
        }
        return r < 0 ? r : sd_bus_message_exit_container(m);
}

static int parse_attachments(sd_bus_message *m, void *ret) {
        Row *row = ret;
        Attachment x;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "(su)");
        while (r >= 0 && (r = sd_bus_message_read(m, "(su)", &x.device, &x.pasid)) > 0) {
                Attachment *p = grow(&row->attachments, &row->n_attachments, sizeof(Attachment));

                if (!p)
                        return -ENOMEM;
                *p = x;
        }
        return r < 0 ? r : sd_bus_message_exit_container(m);
}

static int read_row(sd_bus_message *m, const char *path, Rows *l) {
        Row *row = grow(&l->rows, &l->n, sizeof(Row));

        if (!row)
                return -ENOMEM;
        row->path = path;
        const PropertyParser mappings = { parse_mappings, row };
        const PropertyParser attachments = { parse_attachments, row };
        const Property props[] = {
                { "Owner", "s", &row->owner },
                { "Address", "t", &row->address },
                { "Offset", "t", &row->offset },
                { "Length", "t", &row->length },
                { "Access", "u", &row->access },
                { "Mappings", "a(ttotu)", (void *)&mappings },
                { "Attachments", "a(su)", (void *)&attachments },
        };
        return bus_read_properties(m, path, props, ELEMENTSOF(props));
}

/* What managed_objects() looks for, and the object being read. */
typedef struct ObjectsRead {
        const char *iface;      /* the interface whose objects become rows */
        Rows *rows;
        const char *path;       /* of the object being read; points into the reply */
} ObjectsRead;

/* One "sa{sv}" entry of an object: a row if it is the interface looked for. */
static int read_interface(sd_bus_message *m, void *userdata) {
        const ObjectsRead *o = userdata;
        const char *name;
        int r;

        r = sd_bus_message_read(m, "s", &name);
        if (r < 0)
                return r;
        if (strcmp(name, o->iface) == 0)
                return read_row(m, o->path, o->rows);
        return sd_bus_message_skip(m, "a{sv}");
}

/* One "oa{sa{sv}}" entry of GetManagedObjects: an object and its interfaces. */
static int read_object(sd_bus_message *m, void *userdata) {
        ObjectsRead *o = userdata;
        int r;

        r = sd_bus_message_read(m, "o", &o->path);
        if (r < 0)
                return r;
        return bus_read_dict(m, "{sa{sv}}", read_interface, o);
}

static uint64_t path_id(const char *path) {
        return strtoull(object_name(path), NULL, 10);
}

static int compare_rows(const void *a, const void *b) {
        uint64_t x = path_id(((const Row *)a)->path), y = path_id(((const Row *)b)->path);

        return x < y ? -1 : x > y;
}

/* The objects with interface iface, by number; their strings live in *ret_reply. */
static int managed_objects(Ctx *ctx, const char *iface, sd_bus_message **ret_reply, Rows *l) {
        ObjectsRead o = { .iface = iface, .rows = l };
        int r;

        r = ctl_call(ctx, IOMMUD_PATH, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects",
                     ret_reply, NULL);
        if (r != 0)
                return r;
        r = bus_read_dict(*ret_reply, "{oa{sa{sv}}}", read_object, &o);
        if (r < 0)
                return ctl_bad_reply(ctx, r);
        if (l->n > 1)
                qsort(l->rows, l->n, sizeof(Row), compare_rows);
        return 0;
}

/* "rw", "r" or "w" (bit 0 read, bit 1 write). */
static const char *access_text(uint32_t access) {
        static const char *const names[] = { "-", "r", "w", "rw" };

        return names[access & 3];
}

/* "/org/iommud1/region/3" -> "region/3" */
static const char *short_path(const char *path) {
        size_t len = strlen(IOMMUD_PATH);

        return strncmp(path, IOMMUD_PATH "/", len + 1) == 0 ? path + len + 1 : path;
}

static void space_json(Ctx *ctx, Json *j, const Row *s) {
        json_begin_object(j);
        json_pair_string(j, "space", s->path);
        holder_json(ctx, j, "owner", s->owner);
        json_key(j, "mappings");
        json_begin_array(j);
        for (size_t i = 0; i < s->n_mappings; i++) {
                const Mapping *m = &s->mappings[i];

                json_begin_object(j);
                json_pair_uint(j, "iova", m->iova);
                json_pair_uint(j, "length", m->length);
                json_pair_string(j, "region", m->region);
                json_pair_uint(j, "region_offset", m->offset);
                json_pair_uint(j, "access", m->access);
                json_end_object(j);
        }
        json_end_array(j);
        json_key(j, "attachments");
        json_begin_array(j);
        for (size_t i = 0; i < s->n_attachments; i++) {
                json_begin_object(j);
                json_pair_string(j, "device", s->attachments[i].device);
                json_pair_uint(j, "pasid", s->attachments[i].pasid);
                json_end_object(j);
        }
        json_end_array(j);
        json_end_object(j);
}

/*
 * A table cell: "0x100000+0x10000:region/1+0x0:rw,..." for mappings,
 * "0000:00:02.0/0,..." (DEVICE/PASID) for attachments.
 */
static char *space_cell(const Row *s, bool mappings) {
        char *buf = NULL;
        size_t size = 0, n = mappings ? s->n_mappings : s->n_attachments;
        FILE *f;

        f = open_memstream(&buf, &size);
        if (!f)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                const Mapping *m = mappings ? &s->mappings[i] : NULL;

                if (i)
                        fputc(',', f);
                if (m)
                        fprintf(f, "0x%" PRIx64 "+0x%" PRIx64 ":%s+0x%" PRIx64 ":%s",
                                m->iova, m->length, short_path(m->region), m->offset,
                                access_text(m->access));
                else
                        fprintf(f, "%s/%" PRIu32, s->attachments[i].device,
                                s->attachments[i].pasid);
        }
        return fclose(f) == 0 ? buf : mfree(buf);
}

static int space_add_row(Ctx *ctx, Table *t, const Row *s) {
        _cleanup_(freep) char *mappings = NULL, *attachments = NULL;

        mappings = space_cell(s, true);
        attachments = space_cell(s, false);
        if (!mappings || !attachments ||
            table_add(t, s->path) < 0 || holder_add_owner(ctx, t, s->owner) < 0 ||
            table_add(t, mappings) < 0 || table_add(t, attachments) < 0 ||
            holder_add_columns(ctx, t, s->owner) < 0)
                return -ENOMEM;
        return 0;
}

static void region_json(Ctx *ctx, Json *j, const Row *g) {
        json_begin_object(j);
        json_pair_string(j, "region", g->path);
        json_pair_uint(j, "address", g->address);
        json_pair_uint(j, "offset", g->offset);
        json_pair_uint(j, "length", g->length);
        json_pair_uint(j, "access", g->access);
        holder_json(ctx, j, "owner", g->owner);
        json_end_object(j);
}

static int region_add_row(Ctx *ctx, Table *t, const Row *g) {
        if (table_add(t, g->path) < 0 ||
            table_addf(t, "0x%" PRIx64, g->address) < 0 ||
            table_addf(t, "%" PRIu64, g->length) < 0 ||
            table_add(t, access_text(g->access)) < 0 ||
            holder_add_owner(ctx, t, g->owner) < 0 ||
            table_addf(t, "0x%" PRIx64, g->offset) < 0 ||
            holder_add_columns(ctx, t, g->owner) < 0)
                return -ENOMEM;
        return 0;
}

static int list_objects(Ctx *ctx, const char *iface,
                        void (*to_json)(Ctx *ctx, Json *j, const Row *row),
                        int (*add_row)(Ctx *ctx, Table *t, const Row *row)) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(rows_done) Rows l = { .rows = NULL };
        ListOutput o;
        int r;

        r = managed_objects(ctx, iface, &reply, &l);
        if (r != 0)
                return r;
        r = list_output_begin(ctx, &o);
        if (r != 0)
                return r;
        for (size_t i = 0; i < l.n && r == 0; i++)
                if (o.j)
                        to_json(ctx, o.j, &l.rows[i]);
                else if (add_row(ctx, o.table, &l.rows[i]) < 0)
                        r = ctl_bad_reply(ctx, -ENOMEM);
        return list_output_end(ctx, &o, r);
}

int verb_spaces(Ctx *ctx, const Command *cmd) {
        return list_objects(ctx, IOMMUD_SPACE_INTERFACE, space_json, space_add_row);
}

int verb_regions(Ctx *ctx, const Command *cmd) {
        return list_objects(ctx, IOMMUD_REGION_INTERFACE, region_json, region_add_row);
}
