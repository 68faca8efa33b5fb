/* The strict CBOR reader of cbor.h. */
#include "cbor.h"

#include "ec_internal.h"

/* The argument of a head: additional information 0..23 is the value itself, 24..27 announce 1, 2,
 * 4 or 8 bytes of big-endian value, 31 an indefinite length, 28..30 are reserved. */
static int read_argument(cbor_reader *r, unsigned info, uint64_t *value, int *indefinite) {
    *indefinite = 0;
    if (info < 24) {
        *value = info;
        return 0;
    }
    if (info == 31) {
        *indefinite = 1;
        *value = 0;
        return 0;
    }
    if (info > 27) return -1;
    size_t bytes = (size_t)1 << (info - 24);
    if ((size_t)(r->end - r->p) < bytes) return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < bytes; i++) v = (v << 8) | r->p[i];
    r->p += bytes;
    *value = v;
    return 0;
}

int cbor_read(cbor_reader *r, cbor_item *item) {
    if (r->p >= r->end) return -1;
    uint8_t head = *r->p++;
    unsigned major = head >> 5, info = head & 0x1f;
    item->data = NULL;
    item->indefinite = 0;
    item->value = 0;
    if (major == 7) {
        if (info == 22) item->type = CBOR_NULL;
        else if (info == 31) item->type = CBOR_BREAK;
        else return -1; /* false, true, undefined, floats, other simple values */
        return 0;
    }
    int indefinite;
    if (read_argument(r, info, &item->value, &indefinite) != 0) return -1;
    switch (major) {
    case 0:
    case 1:
    case 6:
        if (indefinite) return -1;
        item->type = major == 0 ? CBOR_UINT : major == 1 ? CBOR_NEGINT : CBOR_TAG;
        return 0;
    case 2:
    case 3:
        /* Indefinite-length strings (chunks) are refused: nothing here sends them. */
        if (indefinite || item->value > (uint64_t)(r->end - r->p)) return -1;
        item->type = major == 2 ? CBOR_BYTES : CBOR_TEXT;
        item->data = r->p;
        r->p += item->value;
        return 0;
    case 4:
    case 5:
        item->type = major == 4 ? CBOR_ARRAY : CBOR_MAP;
        item->indefinite = indefinite;
        /* A definite container cannot hold more items than bytes remain (each takes one at least). */
        if (!indefinite && item->value > (uint64_t)(r->end - r->p)) return -1;
        return 0;
    default:
        return -1;
    }
}

int cbor_next_entry(cbor_reader *r, const cbor_item *container, uint64_t *remaining, cbor_item *item, int *more) {
    if (!container->indefinite) {
        if (*remaining == 0) {
            *more = 0;
            return 0;
        }
        (*remaining)--;
        *more = 1;
        return cbor_read(r, item) == 0 && item->type != CBOR_BREAK ? 0 : -1;
    }
    if (cbor_read(r, item) != 0) return -1; /* a missing break runs out of input here */
    *more = item->type != CBOR_BREAK;
    return 0;
}

int cbor_skip(cbor_reader *r, const cbor_item *item, int depth) {
    if (item->type == CBOR_TAG) {
        cbor_item inner;
        return depth > 0 && cbor_read(r, &inner) == 0 && inner.type != CBOR_BREAK ? cbor_skip(r, &inner, depth - 1) : -1;
    }
    if (item->type != CBOR_ARRAY && item->type != CBOR_MAP) return item->type == CBOR_BREAK ? -1 : 0;
    if (depth <= 0) return -1;
    /* A map's entry is a key and a value: twice the items of an array of the same count. */
    uint64_t remaining = item->value;
    if (!item->indefinite && item->type == CBOR_MAP) {
        if (remaining > UINT64_MAX / 2) return -1;
        remaining *= 2;
    }
    cbor_item container = *item, entry;
    uint64_t read = 0;
    int more;
    for (;;) {
        if (cbor_next_entry(r, &container, &remaining, &entry, &more) != 0) return -1;
        if (!more) break;
        if (cbor_skip(r, &entry, depth - 1) != 0) return -1;
        read++;
    }
    /* An indefinite map holds whole pairs. */
    return item->type == CBOR_MAP && item->indefinite && read % 2 != 0 ? -1 : 0;
}
