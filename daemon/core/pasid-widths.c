/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pasid-widths.c - the max_pasids values of the present PASID-capable devices, kept sorted with their counts */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "pasid-widths.h"

int pasid_widths_reserve(PasidWidths *w) {
        if (w->holders == w->room) {
                size_t room = w->room ? 2 * w->room : 8;
                PasidWidthCount *v = xrealloc(w->values, room * sizeof(*v));

                if (!v)
                        return -ENOMEM;
                w->values = v;
                w->room = room;
        }
        w->holders++;
        return 0;
}

void pasid_widths_release(PasidWidths *w) {
        if (w->holders > 0)
                w->holders--;
}

/* The index of the first value >= max_pasids (n if none). */
static size_t lower_bound(PasidWidths *w, uint32_t max_pasids) {
        size_t lo = 0, hi = w->n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                w->probes++;
                if (w->values[mid].max_pasids < max_pasids)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

void pasid_widths_add(PasidWidths *w, uint32_t max_pasids) {
        size_t i = lower_bound(w, max_pasids);

        if (i < w->n && w->values[i].max_pasids == max_pasids) {
                w->values[i].devices++;
                return;
        }
        /* n < holders <= room: pasid_widths_reserve() made the room. */
        memmove(&w->values[i + 1], &w->values[i], (w->n - i) * sizeof(*w->values));
        w->values[i] = (PasidWidthCount) { .max_pasids = max_pasids, .devices = 1 };
        w->n++;
}

void pasid_widths_remove(PasidWidths *w, uint32_t max_pasids) {
        size_t i = lower_bound(w, max_pasids);

        if (i == w->n || w->values[i].max_pasids != max_pasids)
                return;
        if (--w->values[i].devices > 0)
                return;
        memmove(&w->values[i], &w->values[i + 1], (w->n - i - 1) * sizeof(*w->values));
        w->n--;
}

void pasid_widths_change(PasidWidths *w, uint32_t from, uint32_t to) {
        if (from == to)
                return;
        pasid_widths_remove(w, from);
        pasid_widths_add(w, to);
}

void pasid_widths_clear(PasidWidths *w) {
        free(w->values);
        *w = (PasidWidths) { 0 };
}

uint32_t pasid_widths_min(PasidWidths *w, uint32_t at_least) {
        size_t i = lower_bound(w, at_least);

        w->probes++;
        return i < w->n ? w->values[i].max_pasids : 0;
}

uint32_t pasid_widths_below(PasidWidths *w, uint32_t limit) {
        size_t i = lower_bound(w, limit);

        w->probes++;
        return i ? w->values[i - 1].max_pasids : 0;
}
