/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* overrides.c - the overrides the daemon keeps across restarts and reboots, and their re-application */
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/file-io.h"
#include "common/path.h"
#include "daemon/log.h"
#include "overrides.h"

#define OVERRIDES_MAX_BYTES (4u << 20)

static OverrideRecord *record_free(OverrideStore *s, OverrideRecord *rec) {
        if (!rec)
                return NULL;
        hashmap_remove(&s->by_device, &rec->by_device);
        list_del_init(&rec->link);
        free(rec->device);
        free(rec->driver);
        free(rec);
        return NULL;
}

int override_store_init(OverrideStore *s, const char *state_dir, const char *lib_dir) {
        *s = (OverrideStore) { .dirs = { strdup(state_dir), strdup(lib_dir) } };
        list_init(&s->records);
        if (!s->dirs[0] || !s->dirs[1]) {
                override_store_done(s);
                return -ENOMEM;
        }
        return 0;
}

void override_store_done(OverrideStore *s) {
        while (!list_empty(&s->records))
                record_free(s, list_entry(s->records.next, OverrideRecord, link));
        hashmap_clear(&s->by_device);
        free(s->dirs[0]);
        free(s->dirs[1]);
        s->dirs[0] = s->dirs[1] = NULL;
}

OverrideRecord *override_store_find(OverrideStore *s, const char *device) {
        return hashmap_find_entry(OverrideRecord, rec, &s->by_device, by_device, hash_string(device),
                                  strcmp(rec->device, device) == 0);
}

static int record_put(OverrideStore *s, const char *device, const char *driver, const char *pci_id, bool saved) {
        OverrideRecord *rec = override_store_find(s, device);
        char *dev_copy = NULL, *drv_copy = NULL;

        if (!rec) {
                rec = calloc(1, sizeof(*rec));
                dev_copy = strdup(device);
                if (!rec || !dev_copy) {
                        free(rec);
                        free(dev_copy);
                        return -ENOMEM;
                }
                rec->device = dev_copy;
                list_add_tail(&s->records, &rec->link);
                hashmap_put(&s->by_device, &rec->by_device, hash_string(dev_copy));
        }
        if (driver && !(drv_copy = strdup(driver)))
                return -ENOMEM;
        free(rec->driver);
        rec->driver = drv_copy;
        rec->saved = saved;
        snprintf(rec->pci_id, sizeof(rec->pci_id), "%s", pci_id ? pci_id : "");
        return 0;
}

/* One file's records as JSON text (owned by the caller); NULL text: none. */
static int store_format(const OverrideStore *s, bool saved, char **ret) {
        json_object *root = json_object_new_object(), *list = json_object_new_array();
        const OverrideRecord *rec;
        unsigned n = 0;
        int r = 0;

        if (!root || !list || json_object_object_add(root, "overrides", list) < 0) {
                json_object_put(list);
                r = -ENOMEM;
                goto out;
        }
        list_for_each_entry(rec, &s->records, link) {
                json_object *o;

                if (rec->saved != saved)
                        continue;
                o = json_object_new_object();
                if (!o || json_object_array_add(list, o) < 0) {
                        json_object_put(o);
                        r = -ENOMEM;
                        goto out;
                }
                json_object_object_add(o, "device", json_object_new_string(rec->device));
                json_object_object_add(o, "driver", rec->driver ? json_object_new_string(rec->driver) : NULL);
                if (rec->pci_id[0])
                        json_object_object_add(o, "pci_id", json_object_new_string(rec->pci_id));
                n++;
        }
        *ret = NULL;
        if (n > 0) {
                *ret = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED));
                if (!*ret)
                        r = -ENOMEM;
        }
out:
        json_object_put(root);
        return r;
}

static int store_write(const OverrideStore *s, bool saved) {
        _cleanup_(freep) char *text = NULL;
        int r = store_format(s, saved, &text);

        if (r >= 0 && text) {
                size_t n = strlen(text);
                char *nl = realloc(text, n + 2);

                if (!nl)
                        return -ENOMEM;
                text = nl;
                memcpy(text + n, "\n", 2);
        }
        if (r >= 0)
                r = file_replace(s->dirs[saved], OVERRIDES_FILE, text);
        if (r < 0)
                log_error("cannot write %s/%s: %s; the overrides in it are not stored", s->dirs[saved],
                          OVERRIDES_FILE, strerror(-r));
        return r;
}

int override_store_set(OverrideStore *s, const char *device, const char *driver, const char *pci_id, bool saved) {
        OverrideRecord *rec = override_store_find(s, device);
        bool was_saved = rec ? rec->saved : saved;
        int r = record_put(s, device, driver, pci_id, saved);

        if (r >= 0)
                r = store_write(s, saved);
        if (r >= 0 && was_saved != saved)
                r = store_write(s, was_saved);
        return r;
}

int override_store_remove(OverrideStore *s, const char *device) {
        OverrideRecord *rec = override_store_find(s, device);
        bool saved;

        if (!rec)
                return 0;
        saved = rec->saved;
        record_free(s, rec);
        return store_write(s, saved);
}

/* One entry of a file; a bad one is named in the log and skipped. */
static int load_entry(OverrideStore *s, const char *path, size_t i, json_object *o, bool saved) {
        json_object *dev = NULL, *drv = NULL, *id = NULL;
        const char *device, *driver = NULL, *pci_id = NULL;
        unsigned vendor, product;
        char end;

        if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, "device", &dev) ||
            !json_object_is_type(dev, json_type_string) || !(device = json_object_get_string(dev))[0]) {
                log_error("%s: entry %zu has no \"device\" string; skipped", path, i);
                return 0;
        }
        if (json_object_object_get_ex(o, "driver", &drv) && drv) {
                if (!json_object_is_type(drv, json_type_string) || !json_object_get_string(drv)[0]) {
                        log_error("%s: entry %zu (%s): \"driver\" is neither a name nor null; skipped", path, i,
                                  device);
                        return 0;
                }
                driver = json_object_get_string(drv);
        }
        if (json_object_object_get_ex(o, "pci_id", &id)) {
                pci_id = json_object_is_type(id, json_type_string) ? json_object_get_string(id) : "";
                if (strlen(pci_id) != 9 || sscanf(pci_id, "%4x:%4x%c", &vendor, &product, &end) != 2) {
                        log_error("%s: entry %zu (%s): \"pci_id\" is not \"vvvv:dddd\"; skipped", path, i, device);
                        return 0;
                }
        }
        return record_put(s, device, driver, pci_id, saved);
}

/* A file that does not parse is kept for the administrator, beside. */
static void move_aside(const char *path, const char *why) {
        char broken[PATH_MAX];

        if (path_printf(broken, sizeof(broken), "%s.broken", path) < 0 || rename(path, broken) < 0)
                log_error("%s: %s; it is ignored and will be overwritten", path, why);
        else
                log_error("%s: %s; moved to %s and ignored: its overrides are not re-applied", path, why, broken);
}

static int load_file(OverrideStore *s, bool saved) {
        _cleanup_(freep) char *text = NULL;
        json_object *root, *list = NULL;
        char path[PATH_MAX];
        int r;

        if (path_printf(path, sizeof(path), "%s/%s", s->dirs[saved], OVERRIDES_FILE) < 0)
                return -ENAMETOOLONG;
        r = file_read_all(path, OVERRIDES_MAX_BYTES, &text);
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                log_error("cannot read %s: %s", path, strerror(-r));
                return 0;
        }
        root = json_tokener_parse(text);
        if (!root || !json_object_object_get_ex(root, "overrides", &list) ||
            !json_object_is_type(list, json_type_array)) {
                json_object_put(root);
                move_aside(path, "not JSON of the form {\"overrides\": [...]}");
                return 0;
        }
        for (size_t i = 0; r >= 0 && i < json_object_array_length(list); i++)
                r = load_entry(s, path, i, json_object_array_get_idx(list, i), saved);
        json_object_put(root);
        return r;
}

int override_store_load(OverrideStore *s) {
        int r = load_file(s, false);

        /* A device in both: the saved record wins (it was read last). */
        return r < 0 ? r : load_file(s, true);
}
