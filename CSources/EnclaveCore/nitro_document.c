/* The structure of an AWS Nitro attestation document (docs/contract.md §3a): COSE_Sign1 and
 * its payload read with the strict CBOR reader, the document's time, and the PCR policy. No
 * cryptography here (nitro_verify.c). */
#include <string.h>

#include "cbor.h"
#include "ec_internal.h"

/* COSE_Sign1 is [protected, unprotected, payload, signature]; the payload's containers (pcrs,
 * cabundle) are one level below its map. Nothing here nests deeper. */
#define MAX_DEPTH 3

const char *ec_nitro_error_string(int reason) {
    switch (reason) {
    case EC_NITRO_OK: return "ok";
    case EC_NITRO_MALFORMED_CBOR: return "malformed or unsupported CBOR";
    case EC_NITRO_NOT_COSE_SIGN1: return "not a COSE_Sign1 array of four items";
    case EC_NITRO_BAD_ALGORITHM: return "the protected header is not {1: -35} (ES384)";
    case EC_NITRO_BAD_UNPROTECTED: return "the unprotected header is not an empty map";
    case EC_NITRO_BAD_SIGNATURE_LENGTH: return "the signature is not 96 bytes";
    case EC_NITRO_BAD_PAYLOAD: return "the payload is not one CBOR map";
    case EC_NITRO_DUPLICATE_KEY: return "a map holds a key twice";
    case EC_NITRO_MISSING_FIELD: return "a required field is missing or null";
    case EC_NITRO_BAD_FIELD: return "a field has the wrong type or size";
    case EC_NITRO_BAD_DIGEST: return "digest is not SHA384";
    case EC_NITRO_BAD_PCRS: return "pcrs must hold 1 to 32 entries, index below 32, 32, 48 or 64 bytes each";
    case EC_NITRO_TRAILING_BYTES: return "bytes follow the document";
    case EC_NITRO_EMPTY_CABUNDLE: return "cabundle is empty";
    case EC_NITRO_ROOT_MISMATCH: return "cabundle[0] is not the pinned root certificate";
    case EC_NITRO_BAD_ROOT: return "the pinned root is not a certificate";
    case EC_NITRO_CHAIN_INVALID: return "the certificate chain does not verify to the pinned root";
    case EC_NITRO_CERT_EXPIRED: return "a certificate of the chain is not valid at the verification time";
    case EC_NITRO_BAD_LEAF: return "the signing certificate is not a P-384 key for digital signatures";
    case EC_NITRO_SIGNATURE_INVALID: return "the COSE signature does not verify";
    case EC_NITRO_STALE: return "the document is older than the maximum age";
    case EC_NITRO_FUTURE: return "the document's timestamp is further in the future than allowed";
    case EC_NITRO_POLICY_MALFORMED: return "the PCR policy is malformed";
    case EC_NITRO_POLICY_EMPTY: return "the PCR policy allows nothing";
    case EC_NITRO_PCRS_NOT_ALLOWED: return "the PCRs satisfy no set of the policy";
    case EC_NITRO_DEBUG_ENCLAVE: return "PCR0 is all zero: a debug enclave";
    case EC_NITRO_INTERNAL: return "internal error";
    default: return "unknown reason";
    }
}

static int fail(int *reason, int code) {
    if (reason != NULL) *reason = code;
    return -1;
}

/* The payload's keys; a bit each, so a repeated key is seen. */
enum {
    KEY_MODULE_ID, KEY_DIGEST, KEY_TIMESTAMP, KEY_PCRS, KEY_CERTIFICATE, KEY_CABUNDLE,
    KEY_PUBLIC_KEY, KEY_USER_DATA, KEY_NONCE, KEY_COUNT
};
static const char *const payload_keys[KEY_COUNT] = {
    "module_id", "digest", "timestamp", "pcrs", "certificate", "cabundle", "public_key", "user_data", "nonce",
};

static int key_index(const cbor_item *key) {
    for (int i = 0; i < KEY_COUNT; i++)
        if (strlen(payload_keys[i]) == key->value && memcmp(payload_keys[i], key->data, key->value) == 0) return i;
    return -1;
}

/* Unknown keys are skipped, but each must still be unique: their bytes are remembered. */
#define MAX_UNKNOWN_KEYS 16
typedef struct {
    ec_view keys[MAX_UNKNOWN_KEYS];
    size_t count;
} unknown_keys;

static int remember_unknown(unknown_keys *u, const cbor_item *key) {
    for (size_t i = 0; i < u->count; i++)
        if (u->keys[i].len == key->value && memcmp(u->keys[i].data, key->data, key->value) == 0) return EC_NITRO_DUPLICATE_KEY;
    if (u->count == MAX_UNKNOWN_KEYS) return EC_NITRO_BAD_PAYLOAD;
    u->keys[u->count].data = key->data;
    u->keys[u->count].len = (size_t)key->value;
    u->count++;
    return EC_NITRO_OK;
}

/* A byte string of at most max bytes, or null (absent). */
static int optional_bytes(const cbor_item *value, size_t max, ec_view *out) {
    if (value->type == CBOR_NULL) {
        out->data = NULL;
        out->len = 0;
        return EC_NITRO_OK;
    }
    if (value->type != CBOR_BYTES || value->value > max) return EC_NITRO_BAD_FIELD;
    out->data = value->data;
    out->len = (size_t)value->value;
    return EC_NITRO_OK;
}

static int read_pcrs(cbor_reader *r, const cbor_item *map, ec_nitro_document *d) {
    if (map->type != CBOR_MAP) return EC_NITRO_BAD_PCRS;
    uint64_t remaining = map->value;
    size_t count = 0;
    for (;;) {
        cbor_item index, value;
        int more;
        if (cbor_next_entry(r, map, &remaining, &index, &more) != 0) return EC_NITRO_MALFORMED_CBOR;
        if (!more) break;
        if (cbor_read(r, &value) != 0 || value.type == CBOR_BREAK) return EC_NITRO_MALFORMED_CBOR;
        if (index.type != CBOR_UINT || index.value >= EC_NITRO_MAX_PCRS) return EC_NITRO_BAD_PCRS;
        if (value.type != CBOR_BYTES || (value.value != 32 && value.value != 48 && value.value != 64))
            return EC_NITRO_BAD_PCRS;
        uint32_t bit = (uint32_t)1 << index.value;
        if (d->pcr_present & bit) return EC_NITRO_DUPLICATE_KEY;
        d->pcr_present |= bit;
        d->pcrs[index.value].data = value.data;
        d->pcrs[index.value].len = (size_t)value.value;
        count++;
    }
    return count >= 1 && count <= EC_NITRO_MAX_PCRS ? EC_NITRO_OK : EC_NITRO_BAD_PCRS;
}

static int read_cabundle(cbor_reader *r, const cbor_item *array, ec_nitro_document *d) {
    if (array->type != CBOR_ARRAY) return EC_NITRO_BAD_FIELD;
    uint64_t remaining = array->value;
    for (;;) {
        cbor_item cert;
        int more;
        if (cbor_next_entry(r, array, &remaining, &cert, &more) != 0) return EC_NITRO_MALFORMED_CBOR;
        if (!more) break;
        if (cert.type != CBOR_BYTES || cert.value == 0) return EC_NITRO_BAD_FIELD;
        if (d->cabundle_count == EC_NITRO_MAX_CABUNDLE) return EC_NITRO_BAD_FIELD;
        d->cabundle[d->cabundle_count].data = cert.data;
        d->cabundle[d->cabundle_count].len = (size_t)cert.value;
        d->cabundle_count++;
    }
    return d->cabundle_count > 0 ? EC_NITRO_OK : EC_NITRO_EMPTY_CABUNDLE;
}

/* The payload: one map (definite or indefinite) and nothing after it. */
static int read_payload(const uint8_t *data, size_t len, ec_nitro_document *d) {
    cbor_reader r = cbor_reader_make(data, len);
    cbor_item map;
    if (cbor_read(&r, &map) != 0) return EC_NITRO_MALFORMED_CBOR;
    if (map.type != CBOR_MAP) return EC_NITRO_BAD_PAYLOAD;
    uint64_t remaining = map.value;
    unsigned seen = 0;
    unknown_keys unknown = {.count = 0};
    for (;;) {
        cbor_item key, value;
        int more, rc = EC_NITRO_OK;
        if (cbor_next_entry(&r, &map, &remaining, &key, &more) != 0) return EC_NITRO_MALFORMED_CBOR;
        if (!more) break;
        if (key.type != CBOR_TEXT) return EC_NITRO_BAD_PAYLOAD;
        if (cbor_read(&r, &value) != 0 || value.type == CBOR_BREAK) return EC_NITRO_MALFORMED_CBOR;
        int index = key_index(&key);
        if (index < 0) {
            if ((rc = remember_unknown(&unknown, &key)) != EC_NITRO_OK) return rc;
            if (cbor_skip(&r, &value, MAX_DEPTH - 1) != 0) return EC_NITRO_MALFORMED_CBOR;
            continue;
        }
        if (seen & (1u << index)) return EC_NITRO_DUPLICATE_KEY;
        seen |= 1u << index;
        /* Required fields may not be null; a null optional field is absent. */
        if (value.type == CBOR_NULL && index < KEY_PUBLIC_KEY) return EC_NITRO_MISSING_FIELD;
        switch (index) {
        case KEY_MODULE_ID:
            if (value.type != CBOR_TEXT || value.value == 0) return EC_NITRO_BAD_FIELD;
            d->module_id.data = value.data, d->module_id.len = (size_t)value.value;
            break;
        case KEY_DIGEST:
            if (value.type != CBOR_TEXT) return EC_NITRO_BAD_FIELD;
            if (value.value != 6 || memcmp(value.data, "SHA384", 6) != 0) return EC_NITRO_BAD_DIGEST;
            d->digest.data = value.data, d->digest.len = 6;
            break;
        case KEY_TIMESTAMP:
            if (value.type != CBOR_UINT || value.value == 0 || value.value > (uint64_t)INT64_MAX) return EC_NITRO_BAD_FIELD;
            d->timestamp_ms = value.value;
            break;
        case KEY_PCRS: rc = read_pcrs(&r, &value, d); break;
        case KEY_CERTIFICATE:
            if (value.type != CBOR_BYTES || value.value == 0) return EC_NITRO_BAD_FIELD;
            d->certificate.data = value.data, d->certificate.len = (size_t)value.value;
            break;
        case KEY_CABUNDLE: rc = read_cabundle(&r, &value, d); break;
        case KEY_PUBLIC_KEY: rc = optional_bytes(&value, EC_NITRO_MAX_PUBLIC_KEY_BYTES, &d->public_key); break;
        case KEY_USER_DATA: rc = optional_bytes(&value, EC_NITRO_MAX_USER_DATA_BYTES, &d->user_data); break;
        case KEY_NONCE: rc = optional_bytes(&value, EC_NITRO_MAX_NONCE_BYTES, &d->nonce); break;
        }
        if (rc != EC_NITRO_OK) return rc;
    }
    /* An indefinite map ended with its break (a missing break failed above: the input ran out). */
    const unsigned required = (1u << KEY_MODULE_ID) | (1u << KEY_DIGEST) | (1u << KEY_TIMESTAMP) | (1u << KEY_PCRS) |
                              (1u << KEY_CERTIFICATE) | (1u << KEY_CABUNDLE);
    if ((seen & required) != required) return EC_NITRO_MISSING_FIELD;
    return r.p == r.end ? EC_NITRO_OK : EC_NITRO_BAD_PAYLOAD;
}

/* The protected header: a byte string holding exactly the map {1: -35}. */
static int check_protected(const cbor_item *protected_bytes) {
    if (protected_bytes->type != CBOR_BYTES) return EC_NITRO_NOT_COSE_SIGN1;
    cbor_reader r = cbor_reader_make(protected_bytes->data, (size_t)protected_bytes->value);
    cbor_item map, key, value;
    int more;
    uint64_t remaining;
    if (cbor_read(&r, &map) != 0 || map.type != CBOR_MAP) return EC_NITRO_BAD_ALGORITHM;
    remaining = map.value;
    if (cbor_next_entry(&r, &map, &remaining, &key, &more) != 0 || !more) return EC_NITRO_BAD_ALGORITHM;
    if (cbor_read(&r, &value) != 0) return EC_NITRO_BAD_ALGORITHM;
    /* -35 is encoded as the negative integer with n = 34. */
    if (key.type != CBOR_UINT || key.value != 1 || value.type != CBOR_NEGINT || value.value != 34) return EC_NITRO_BAD_ALGORITHM;
    if (cbor_next_entry(&r, &map, &remaining, &key, &more) != 0 || more) return EC_NITRO_BAD_ALGORITHM;
    return r.p == r.end ? EC_NITRO_OK : EC_NITRO_BAD_ALGORITHM;
}

/* The unprotected header: an empty map. */
static int check_unprotected(cbor_reader *r) {
    cbor_item map, entry;
    int more;
    if (cbor_read(r, &map) != 0) return EC_NITRO_MALFORMED_CBOR;
    if (map.type != CBOR_MAP) return EC_NITRO_NOT_COSE_SIGN1;
    uint64_t remaining = map.value;
    if (cbor_next_entry(r, &map, &remaining, &entry, &more) != 0) return EC_NITRO_MALFORMED_CBOR;
    return more ? EC_NITRO_BAD_UNPROTECTED : EC_NITRO_OK;
}

/* Reads the COSE_Sign1 array; `protected_out` and `signature_out` receive the protected header's
 * and the signature's bytes (the signature is checked elsewhere). */
int nitro_parse_cose(const uint8_t *doc, size_t doc_len, ec_nitro_document *d, ec_view *protected_out,
                        ec_view *signature_out) {
    cbor_reader r = cbor_reader_make(doc, doc_len);
    cbor_item item;
    if (cbor_read(&r, &item) != 0) return EC_NITRO_MALFORMED_CBOR;
    if (item.type == CBOR_TAG) {
        /* Tag 18 (COSE_Sign1) is optional; any other tag is not this document. */
        if (item.value != 18) return EC_NITRO_NOT_COSE_SIGN1;
        if (cbor_read(&r, &item) != 0) return EC_NITRO_MALFORMED_CBOR;
    }
    if (item.type != CBOR_ARRAY || item.indefinite || item.value != 4) return EC_NITRO_NOT_COSE_SIGN1;
    cbor_item protected_bytes, payload, signature;
    int rc;
    if (cbor_read(&r, &protected_bytes) != 0) return EC_NITRO_MALFORMED_CBOR;
    if ((rc = check_protected(&protected_bytes)) != EC_NITRO_OK) return rc;
    if ((rc = check_unprotected(&r)) != EC_NITRO_OK) return rc;
    if (cbor_read(&r, &payload) != 0) return EC_NITRO_MALFORMED_CBOR;
    if (payload.type != CBOR_BYTES) return EC_NITRO_BAD_PAYLOAD;
    if (cbor_read(&r, &signature) != 0) return EC_NITRO_MALFORMED_CBOR;
    if (signature.type != CBOR_BYTES) return EC_NITRO_NOT_COSE_SIGN1;
    if (signature.value != EC_NITRO_SIGNATURE_BYTES) return EC_NITRO_BAD_SIGNATURE_LENGTH;
    if (r.p != r.end) return EC_NITRO_TRAILING_BYTES;
    if ((rc = read_payload(payload.data, (size_t)payload.value, d)) != EC_NITRO_OK) return rc;
    d->payload.data = payload.data;
    d->payload.len = (size_t)payload.value;
    protected_out->data = protected_bytes.data;
    protected_out->len = (size_t)protected_bytes.value;
    signature_out->data = signature.data;
    signature_out->len = (size_t)signature.value;
    return EC_NITRO_OK;
}

int ec_nitro_parse(const uint8_t *doc, size_t doc_len, ec_nitro_document *out, int *reason) {
    if (out == NULL || doc == NULL || doc_len == 0 || doc_len > EC_NITRO_MAX_DOCUMENT_BYTES)
        return fail(reason, doc == NULL || out == NULL ? EC_NITRO_INTERNAL : EC_NITRO_MALFORMED_CBOR);
    memset(out, 0, sizeof *out);
    ec_view protected_bytes, signature;
    int rc = nitro_parse_cose(doc, doc_len, out, &protected_bytes, &signature);
    if (rc != EC_NITRO_OK) {
        memset(out, 0, sizeof *out);
        return fail(reason, rc);
    }
    if (reason != NULL) *reason = EC_NITRO_OK;
    return 0;
}

int ec_nitro_check_time(const ec_nitro_document *d, int64_t at_ms, int64_t max_age_ms, int64_t max_future_ms,
                        int *reason) {
    if (d == NULL || max_age_ms < 0 || max_future_ms < 0) return fail(reason, EC_NITRO_INTERNAL);
    int64_t timestamp = (int64_t)d->timestamp_ms;
    /* Compared without overflow: at_ms - timestamp may not fit when both are extreme. */
    if (timestamp < at_ms && (uint64_t)at_ms - (uint64_t)timestamp > (uint64_t)max_age_ms) return fail(reason, EC_NITRO_STALE);
    if (timestamp > at_ms && (uint64_t)timestamp - (uint64_t)at_ms > (uint64_t)max_future_ms)
        return fail(reason, EC_NITRO_FUTURE);
    if (reason != NULL) *reason = EC_NITRO_OK;
    return 0;
}

/* ---- PCR policy ------------------------------------------------------------------------- */

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int is_blank(char c) { return c == ' ' || c == '\t'; }

/* One INDEX=HEX item (blanks trimmed) into index and value; -1 when malformed. */
static int parse_item(const char *s, size_t n, unsigned *index, uint8_t value[64], size_t *value_len) {
    while (n > 0 && is_blank(*s)) s++, n--;
    while (n > 0 && is_blank(s[n - 1])) n--;
    size_t i = 0;
    unsigned idx = 0;
    if (n == 0 || s[0] < '0' || s[0] > '9') return -1;
    while (i < n && s[i] >= '0' && s[i] <= '9' && i < 3) idx = idx * 10 + (unsigned)(s[i++] - '0');
    if (i == n || s[i] != '=' || idx >= EC_NITRO_MAX_PCRS || (i > 1 && s[0] == '0')) return -1;
    const char *hex = s + i + 1;
    size_t hex_len = n - i - 1;
    if (hex_len != 64 && hex_len != 96 && hex_len != 128) return -1;
    for (size_t k = 0; k < hex_len / 2; k++) {
        int hi = hex_value(hex[2 * k]), lo = hex_value(hex[2 * k + 1]);
        if (hi < 0 || lo < 0) return -1;
        value[k] = (uint8_t)(hi << 4 | lo);
    }
    *index = idx;
    *value_len = hex_len / 2;
    return 0;
}

/* Walks the policy: for each non-empty set, whether the document (when given) satisfies it.
 * Returns the number of sets, -1 when malformed; *matched is set when some set matches. */
static int walk_policy(const char *policy, size_t len, const ec_nitro_document *d, int *matched) {
    int sets = 0;
    *matched = 0;
    size_t set_start = 0;
    for (size_t pos = 0; pos <= len; pos++) {
        if (pos < len && policy[pos] != ';') continue;
        /* The set policy[set_start, pos): items separated by ','. */
        int items = 0, satisfied = 1;
        uint32_t indexes = 0;
        size_t item_start = set_start;
        for (size_t q = set_start; q <= pos; q++) {
            if (q < pos && policy[q] != ',') continue;
            size_t n = q - item_start;
            const char *item = policy + item_start;
            size_t blank = 0;
            while (blank < n && is_blank(item[blank])) blank++;
            if (blank < n) { /* an empty item (",,") is dropped */
                unsigned index;
                uint8_t value[64];
                size_t value_len;
                if (parse_item(item, n, &index, value, &value_len) != 0) return -1;
                if (indexes & (1u << index)) return -1; /* the same PCR twice in a set */
                indexes |= 1u << index;
                items++;
                if (d != NULL && (!(d->pcr_present & (1u << index)) || d->pcrs[index].len != value_len ||
                                  memcmp(d->pcrs[index].data, value, value_len) != 0))
                    satisfied = 0;
            }
            item_start = q + 1;
        }
        if (items > 0) {
            sets++;
            if (satisfied) *matched = 1;
        }
        set_start = pos + 1;
    }
    return sets;
}

int ec_nitro_policy_check(const char *policy, size_t policy_len, int *reason) {
    if (!EC_BUF_OK(policy, policy_len)) return fail(reason, EC_NITRO_POLICY_MALFORMED);
    int matched;
    int sets = walk_policy(policy, policy_len, NULL, &matched);
    if (sets < 0) return fail(reason, EC_NITRO_POLICY_MALFORMED);
    if (sets == 0) return fail(reason, EC_NITRO_POLICY_EMPTY);
    if (reason != NULL) *reason = EC_NITRO_OK;
    return 0;
}

int ec_nitro_pcrs_match(const ec_nitro_document *d, const char *policy, size_t policy_len, int allow_debug,
                        int *reason) {
    if (d == NULL || !EC_BUF_OK(policy, policy_len)) return fail(reason, EC_NITRO_INTERNAL);
    /* A debug enclave's PCRs are all zero, and its memory can be read by its parent. */
    if ((d->pcr_present & 1u) && !allow_debug) {
        uint8_t any = 0;
        for (size_t i = 0; i < d->pcrs[0].len; i++) any |= d->pcrs[0].data[i];
        if (any == 0) return fail(reason, EC_NITRO_DEBUG_ENCLAVE);
    }
    int matched;
    int sets = walk_policy(policy, policy_len, d, &matched);
    if (sets < 0) return fail(reason, EC_NITRO_POLICY_MALFORMED);
    if (sets == 0) return fail(reason, EC_NITRO_POLICY_EMPTY);
    if (!matched) return fail(reason, EC_NITRO_PCRS_NOT_ALLOWED);
    if (reason != NULL) *reason = EC_NITRO_OK;
    return 0;
}
