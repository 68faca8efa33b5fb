/* A strict reader of the CBOR subset that COSE_Sign1 and the AWS Nitro attestation payload use
 * (RFC 8949): unsigned and negative integers, byte and text strings of definite length, arrays
 * and maps of definite or indefinite length, tag 18 (COSE_Sign1), null. It allocates nothing:
 * every item is read in place from the caller's buffer. Internal to the core. */
#ifndef EC_CBOR_H
#define EC_CBOR_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    CBOR_UINT,
    CBOR_NEGINT, /* value holds -1 - n, as CBOR encodes it */
    CBOR_BYTES,
    CBOR_TEXT,
    CBOR_ARRAY,
    CBOR_MAP,
    CBOR_TAG,
    CBOR_NULL,
    CBOR_BREAK, /* the end of an indefinite-length array or map */
} cbor_type;

typedef struct {
    cbor_type type;
    /* The integer, the tag, the string's length, or the container's number of entries (pairs for
     * a map); unused for an indefinite container. */
    uint64_t value;
    /* A string's bytes, in the input. */
    const uint8_t *data;
    int indefinite;
} cbor_item;

typedef struct {
    const uint8_t *p;
    const uint8_t *end;
} cbor_reader;

static inline cbor_reader cbor_reader_make(const uint8_t *data, size_t len) {
    cbor_reader r = {data, data + len};
    return r;
}

/* Reads the next item's head (and a string's bytes). Fails on a malformed or unsupported item:
 * reserved additional information, an indefinite-length string, a simple value other than null,
 * a float, or a length past the input. A break is returned as CBOR_BREAK for the caller to match
 * with its indefinite container. */
int cbor_read(cbor_reader *r, cbor_item *item);

/* Skips the content of `item` (already read): nothing for a scalar, every entry of an array or
 * map, nested at most `depth` levels deeper. */
int cbor_skip(cbor_reader *r, const cbor_item *item, int depth);

/* Reads the next entry of a container opened by `container`: *more is 1 and the next item is read
 * into `item`, or 0 once the container ended (its break consumed, or `*remaining` reached 0). */
int cbor_next_entry(cbor_reader *r, const cbor_item *container, uint64_t *remaining, cbor_item *item, int *more);

#endif
