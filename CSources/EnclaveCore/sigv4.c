/* AWS Signature Version 4 for header-signed requests (the KMS calls of docs/contract.md §3b):
 * the canonical request, the string to sign, the signing key's HMAC chain and the Authorization
 * header value. Checked against AWS's SigV4 test suite and botocore's SigV4Auth. */
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "ec_internal.h"

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define SIGV4_TERMINATOR "aws4_request"

/* ---- A growing buffer ---------------------------------------------------------------------- */

typedef struct {
    char *data;
    size_t len, cap;
    int failed;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n) {
    if (b->failed) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) cap *= 2;
        char *grown = realloc(b->data, cap);
        if (grown == NULL) {
            b->failed = 1;
            return;
        }
        b->data = grown;
        b->cap = cap;
    }
    if (n > 0) memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void sb_str(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }
static void sb_char(sbuf *b, char c) { sb_put(b, &c, 1); }

static void sb_free(sbuf *b) {
    if (b->data != NULL) {
        ec_wipe(b->data, b->cap);
        free(b->data);
    }
    b->data = NULL;
    b->len = b->cap = 0;
}

static void hex_lower(const uint8_t *bin, size_t len, char *out) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[bin[i] >> 4];
        out[2 * i + 1] = digits[bin[i] & 0xf];
    }
    out[2 * len] = '\0';
}

/* ---- URI encoding (RFC 3986 unreserved characters stay) ------------------------------------ */

static int unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

static void uri_encode(sbuf *b, const char *s, size_t n, int keep_slash) {
    static const char digits[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (unreserved(c) || (keep_slash && c == '/')) {
            sb_char(b, (char)c);
        } else {
            char escaped[3] = {'%', digits[c >> 4], digits[c & 0xf]};
            sb_put(b, escaped, 3);
        }
    }
}

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent-decodes s into b (a '%' not followed by two hex digits stays as it is). */
static void uri_decode(sbuf *b, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < n && (hi = hex_value(s[i + 1])) >= 0 &&
            (lo = hex_value(s[i + 2])) >= 0) {
            sb_char(b, (char)(hi << 4 | lo));
            i += 2;
        } else {
            sb_char(b, s[i]);
        }
    }
}

/* ---- The canonical URI ------------------------------------------------------------------- */

/* With normalize: dot segments removed (RFC 3986 5.2.4) and empty segments dropped, a trailing
 * slash kept; each byte outside the unreserved set and '/' percent-encoded, so a path already
 * percent-encoded is encoded a second time, as every service but S3 expects. */
static void canonical_uri(sbuf *out, const char *path, size_t n, int normalize) {
    if (n == 0) {
        sb_char(out, '/');
        return;
    }
    if (!normalize) {
        uri_encode(out, path, n, 1);
        return;
    }
    /* Segment starts and lengths of the normalized path, in order. */
    size_t count = 0, cap = 1;
    for (size_t i = 0; i < n; i++) cap += path[i] == '/';
    size_t *starts = malloc(cap * sizeof *starts), *lengths = malloc(cap * sizeof *lengths);
    if (starts == NULL || lengths == NULL) {
        free(starts);
        free(lengths);
        out->failed = 1;
        return;
    }
    /* A trailing slash stays when the path ends in '/', '.' or '..' (RFC 3986 5.2.4). */
    int trailing = 0;
    for (size_t i = 0; i <= n;) {
        size_t j = i;
        while (j < n && path[j] != '/') j++;
        size_t len = j - i;
        int dot = len == 1 && path[i] == '.', dots = len == 2 && path[i] == '.' && path[i + 1] == '.';
        if (dots) {
            if (count > 0) count--;
        } else if (len > 0 && !dot) {
            starts[count] = i;
            lengths[count] = len;
            count++;
        }
        trailing = len == 0 || dot || dots;
        i = j + 1;
    }
    sb_char(out, '/');
    for (size_t k = 0; k < count; k++) {
        if (k > 0) sb_char(out, '/');
        uri_encode(out, path + starts[k], lengths[k], 0);
    }
    if (count > 0 && trailing) sb_char(out, '/');
    free(starts);
    free(lengths);
}

/* ---- The canonical query string -------------------------------------------------------- */

typedef struct {
    char *key, *value; /* encoded */
} query_pair;

static int compare_pairs(const void *a, const void *b) {
    const query_pair *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c != 0 ? c : strcmp(x->value, y->value);
}

static char *encoded_copy(const char *s, size_t n) {
    sbuf decoded = {0}, encoded = {0};
    uri_decode(&decoded, s, n);
    uri_encode(&encoded, decoded.data ? decoded.data : "", decoded.len, 0);
    sb_put(&encoded, "", 0);
    sb_free(&decoded);
    if (encoded.failed) {
        sb_free(&encoded);
        return NULL;
    }
    return encoded.data;
}

/* Pairs split on '&' and '=', decoded, encoded again, sorted by key then value. */
static void canonical_query(sbuf *out, const char *query, size_t n) {
    if (n == 0) return;
    size_t cap = 1;
    for (size_t i = 0; i < n; i++) cap += query[i] == '&';
    query_pair *pairs = calloc(cap, sizeof *pairs);
    if (pairs == NULL) {
        out->failed = 1;
        return;
    }
    size_t count = 0;
    int failed = 0;
    for (size_t i = 0; i <= n && !failed;) {
        size_t j = i;
        while (j < n && query[j] != '&') j++;
        if (j > i) {
            size_t eq = i;
            while (eq < j && query[eq] != '=') eq++;
            pairs[count].key = encoded_copy(query + i, eq - i);
            pairs[count].value = encoded_copy(query + (eq < j ? eq + 1 : j), eq < j ? j - eq - 1 : 0);
            failed = pairs[count].key == NULL || pairs[count].value == NULL;
            count++;
        }
        i = j + 1;
    }
    if (!failed) {
        qsort(pairs, count, sizeof *pairs, compare_pairs);
        for (size_t k = 0; k < count; k++) {
            if (k > 0) sb_char(out, '&');
            sb_str(out, pairs[k].key);
            sb_char(out, '=');
            sb_str(out, pairs[k].value);
        }
    } else {
        out->failed = 1;
    }
    for (size_t k = 0; k < count; k++) {
        free(pairs[k].key);
        free(pairs[k].value);
    }
    free(pairs);
}

/* ---- Canonical headers ------------------------------------------------------------------ */

typedef struct {
    char *name;  /* lowercase */
    char *value; /* trimmed, inner whitespace runs as one space */
    size_t order;
} header_entry;

static int compare_headers(const void *a, const void *b) {
    const header_entry *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c != 0) return c;
    return x->order < y->order ? -1 : x->order > y->order; /* a stable sort: values keep their order */
}

static int header_name_ok(const char *s, size_t n) {
    if (n == 0) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f || c == ':') return 0;
    }
    return 1;
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static int header_entry_init(header_entry *e, const char *name, size_t name_len, const char *value, size_t value_len,
                             size_t order) {
    if (!header_name_ok(name, name_len) || !EC_BUF_OK(value, value_len)) return -1;
    e->order = order;
    e->name = malloc(name_len + 1);
    e->value = malloc(value_len + 1);
    if (e->name == NULL || e->value == NULL) return -1;
    for (size_t i = 0; i < name_len; i++) {
        char c = name[i];
        e->name[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    e->name[name_len] = '\0';
    size_t out = 0;
    int pending_space = 0;
    for (size_t i = 0; i < value_len; i++) {
        if (value[i] == '\0') return -1;
        if (is_space(value[i])) {
            pending_space = out > 0;
            continue;
        }
        if (pending_space) e->value[out++] = ' ';
        pending_space = 0;
        e->value[out++] = value[i];
    }
    e->value[out] = '\0';
    return 0;
}

/* ---- The request's parts ------------------------------------------------------------------- */

static int token_ok(const char *s, size_t n) {
    if (s == NULL || n == 0 || n > 64) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return 0;
    }
    return 1;
}

/* YYYYMMDDTHHMMSSZ */
static int amz_date_ok(const char *d) {
    if (d == NULL) return 0;
    for (int i = 0; i < 16; i++) {
        char c = d[i];
        if (c == '\0') return 0;
        if (i == 8 ? c != 'T' : i == 15 ? c != 'Z' : (c < '0' || c > '9')) return 0;
    }
    return d[16] == '\0';
}

static int request_ok(const ec_sigv4_request *r) {
    if (r == NULL || r->method == NULL || r->method_len == 0 || !EC_BUF_OK(r->path, r->path_len) ||
        !EC_BUF_OK(r->query, r->query_len) || !EC_BUF_OK(r->headers, r->header_count) ||
        !EC_BUF_OK(r->payload, r->payload_len) || !amz_date_ok(r->amz_date) || !token_ok(r->region, r->region_len) ||
        !token_ok(r->service, r->service_len) || r->access_key_id == NULL || r->access_key_id_len == 0 ||
        r->secret_access_key == NULL || r->secret_access_key_len == 0 || !EC_BUF_OK(r->session_token, r->session_token_len))
        return 0;
    for (size_t i = 0; i < r->method_len; i++)
        if (r->method[i] < 'A' || r->method[i] > 'Z') return 0;
    for (size_t i = 0; i < r->access_key_id_len; i++)
        if ((unsigned char)r->access_key_id[i] <= 0x20 || r->access_key_id[i] == '/' || r->access_key_id[i] == ',') return 0;
    for (size_t i = 0; i < r->path_len; i++)
        if (r->path[i] == '\0' || r->path[i] == '?') return 0;
    return 1;
}

/* The canonical request into out and the signed header names into signed_out. */
static int build_canonical(const ec_sigv4_request *r, sbuf *out, sbuf *signed_out) {
    uint8_t digest[SHA256_DIGEST_LENGTH];
    char payload_hex[2 * SHA256_DIGEST_LENGTH + 1];
    SHA256(r->payload != NULL ? r->payload : (const uint8_t *)"", r->payload_len, digest);
    hex_lower(digest, sizeof digest, payload_hex);

    size_t extra = 1 + (r->session_token_len > 0) + (r->sign_payload_header != 0);
    size_t count = r->header_count + extra;
    header_entry *entries = calloc(count, sizeof *entries);
    if (entries == NULL) return -1;
    int rc = 0;
    size_t made = 0;
    for (size_t i = 0; i < r->header_count && rc == 0; i++, made++) {
        const ec_sigv4_header *h = &r->headers[i];
        if (h->name == NULL) rc = -1;
        else rc = header_entry_init(&entries[made], h->name, h->name_len, h->value, h->value_len, made);
        /* The signer's own headers are its to set. */
        if (rc == 0 && (strcmp(entries[made].name, "x-amz-date") == 0 || strcmp(entries[made].name, "authorization") == 0 ||
                        (r->session_token_len > 0 && strcmp(entries[made].name, "x-amz-security-token") == 0) ||
                        (r->sign_payload_header && strcmp(entries[made].name, "x-amz-content-sha256") == 0)))
            rc = -1;
    }
    if (rc == 0) rc = header_entry_init(&entries[made], "x-amz-date", 10, r->amz_date, 16, made), made++;
    if (rc == 0 && r->session_token_len > 0)
        rc = header_entry_init(&entries[made], "x-amz-security-token", 20, r->session_token, r->session_token_len, made), made++;
    if (rc == 0 && r->sign_payload_header)
        rc = header_entry_init(&entries[made], "x-amz-content-sha256", 20, payload_hex, 64, made), made++;

    if (rc == 0) {
        qsort(entries, made, sizeof *entries, compare_headers);
        sb_put(out, r->method, r->method_len);
        sb_char(out, '\n');
        canonical_uri(out, r->path, r->path_len, r->normalize_path);
        sb_char(out, '\n');
        canonical_query(out, r->query, r->query_len);
        sb_char(out, '\n');
        for (size_t i = 0; i < made; i++) {
            int continues = i > 0 && strcmp(entries[i].name, entries[i - 1].name) == 0;
            if (continues) {
                sb_char(out, ',');
            } else {
                if (i > 0) sb_char(out, '\n');
                sb_str(out, entries[i].name);
                sb_char(out, ':');
                if (signed_out->len > 0) sb_char(signed_out, ';');
                sb_str(signed_out, entries[i].name);
            }
            sb_str(out, entries[i].value);
        }
        sb_str(out, "\n\n");
        sb_put(out, signed_out->data, signed_out->len);
        sb_char(out, '\n');
        sb_str(out, payload_hex);
        if (out->failed || signed_out->failed) rc = -1;
    }
    for (size_t i = 0; i < count; i++) {
        if (entries[i].value != NULL) ec_wipe(entries[i].value, strlen(entries[i].value));
        free(entries[i].name);
        free(entries[i].value);
    }
    free(entries);
    return rc;
}

static void scope(sbuf *b, const ec_sigv4_request *r) {
    sb_put(b, r->amz_date, 8);
    sb_char(b, '/');
    sb_put(b, r->region, r->region_len);
    sb_char(b, '/');
    sb_put(b, r->service, r->service_len);
    sb_str(b, "/" SIGV4_TERMINATOR);
}

static int build_string_to_sign(const ec_sigv4_request *r, sbuf *sts, sbuf *signed_out) {
    sbuf canonical = {0};
    if (build_canonical(r, &canonical, signed_out) != 0) {
        sb_free(&canonical);
        return -1;
    }
    uint8_t digest[SHA256_DIGEST_LENGTH];
    char hex[2 * SHA256_DIGEST_LENGTH + 1];
    SHA256((const uint8_t *)canonical.data, canonical.len, digest);
    hex_lower(digest, sizeof digest, hex);
    sb_free(&canonical);
    sb_str(sts, SIGV4_ALGORITHM "\n");
    sb_put(sts, r->amz_date, 16);
    sb_char(sts, '\n');
    scope(sts, r);
    sb_char(sts, '\n');
    sb_str(sts, hex);
    return sts->failed ? -1 : 0;
}

static int emit(const sbuf *b, char *out, size_t cap, size_t *len) {
    if (len != NULL) *len = b->len;
    if (out == NULL || cap < b->len + 1) return -1;
    memcpy(out, b->data, b->len + 1);
    return 0;
}

int ec_sigv4_canonical_request(const ec_sigv4_request *r, char *out, size_t cap, size_t *len) {
    if (!request_ok(r)) return -1;
    sbuf canonical = {0}, names = {0};
    int rc = build_canonical(r, &canonical, &names);
    if (rc == 0) rc = emit(&canonical, out, cap, len);
    sb_free(&canonical);
    sb_free(&names);
    return rc;
}

int ec_sigv4_string_to_sign(const ec_sigv4_request *r, char *out, size_t cap, size_t *len) {
    if (!request_ok(r)) return -1;
    sbuf sts = {0}, names = {0};
    int rc = build_string_to_sign(r, &sts, &names);
    if (rc == 0) rc = emit(&sts, out, cap, len);
    sb_free(&sts);
    sb_free(&names);
    return rc;
}

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request"). */
static int signing_key(const ec_sigv4_request *r, uint8_t key[EC_RPC_MAC_BYTES]) {
    size_t first_len = 4 + r->secret_access_key_len;
    uint8_t *first = malloc(first_len);
    if (first == NULL) return -1;
    memcpy(first, "AWS4", 4);
    memcpy(first + 4, r->secret_access_key, r->secret_access_key_len);
    uint8_t k[EC_RPC_MAC_BYTES];
    int rc = ec_hmac_sha256(first, first_len, (const uint8_t *)r->amz_date, 8, k);
    ec_wipe(first, first_len);
    free(first);
    rc = rc || ec_hmac_sha256(k, sizeof k, (const uint8_t *)r->region, r->region_len, k);
    rc = rc || ec_hmac_sha256(k, sizeof k, (const uint8_t *)r->service, r->service_len, k);
    rc = rc || ec_hmac_sha256(k, sizeof k, (const uint8_t *)SIGV4_TERMINATOR, strlen(SIGV4_TERMINATOR), key);
    ec_wipe(k, sizeof k);
    return rc ? -1 : 0;
}

int ec_sigv4_authorization(const ec_sigv4_request *r, char *out, size_t cap, size_t *len) {
    if (!request_ok(r)) return -1;
    sbuf sts = {0}, names = {0}, header = {0};
    uint8_t key[EC_RPC_MAC_BYTES], mac[EC_RPC_MAC_BYTES];
    char signature[2 * EC_RPC_MAC_BYTES + 1];
    int rc = build_string_to_sign(r, &sts, &names);
    if (rc == 0) rc = signing_key(r, key);
    if (rc == 0) rc = ec_hmac_sha256(key, sizeof key, (const uint8_t *)sts.data, sts.len, mac);
    if (rc == 0) {
        hex_lower(mac, sizeof mac, signature);
        sb_str(&header, SIGV4_ALGORITHM " Credential=");
        sb_put(&header, r->access_key_id, r->access_key_id_len);
        sb_char(&header, '/');
        scope(&header, r);
        sb_str(&header, ", SignedHeaders=");
        sb_put(&header, names.data, names.len);
        sb_str(&header, ", Signature=");
        sb_str(&header, signature);
        rc = header.failed ? -1 : emit(&header, out, cap, len);
    }
    ec_wipe(key, sizeof key);
    ec_wipe(mac, sizeof mac);
    sb_free(&sts);
    sb_free(&names);
    sb_free(&header);
    return rc;
}
