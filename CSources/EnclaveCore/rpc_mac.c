/* HMAC-SHA256 of the canonical request message (docs/contract.md §2): signing and verifying.
 *
 * The HMAC key schedule (the SHA-256 states after the ipad and opad blocks) is computed once per
 * key and copied per message. OpenSSL 3 has no allocation-free public HMAC with a reusable key, so
 * this uses the low-level SHA256_* functions, which are deprecated but still supported in 3.x and
 * run the same SHA-NI/AVX code as EVP. */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ec_internal.h"

#define HMAC_BLOCK 64

typedef struct {
    SHA256_CTX inner; /* state after absorbing key ^ ipad */
    SHA256_CTX outer; /* state after absorbing key ^ opad */
} hmac_key;

struct ec_rpc_signer {
    hmac_key key;
};

struct ec_rpc_verifier {
    hmac_key current;
    hmac_key previous;
    int has_previous;
};

typedef struct {
    const char *method;
    size_t method_len;
    const char *path;
    size_t path_len;
    const char *ts;
    size_t ts_len;
    const char *nonce;
    size_t nonce_len;
    const uint8_t *body;
    size_t body_len;
} canonical_parts;

/* The signed answer's message (docs/contract.md §2a): "v1-response" \0 REQUEST_SIGNATURE \0
 * STATUS \0 BODY, the request signature in lowercase and the status as three digits. Everything
 * before the body has a fixed length and is laid out once, so it is hashed in one update. */
#define RESPONSE_LABEL "v1-response"
#define RESPONSE_HEAD_BYTES (sizeof RESPONSE_LABEL + EC_RPC_SIG_HEX_BYTES + 1 + 3 + 1)
typedef struct {
    uint8_t head[RESPONSE_HEAD_BYTES];
    const uint8_t *body;
    size_t body_len;
} response_parts;

/* A shared secret must have at least one byte: an empty HMAC key is a key anyone can use. */
static int hmac_key_init(hmac_key *k, const uint8_t *key, size_t key_len) {
    if (key == NULL || key_len == 0) return -1;
    uint8_t block[HMAC_BLOCK] = {0};
    uint8_t pad[HMAC_BLOCK];
    if (key_len > HMAC_BLOCK) {
        if (SHA256(key, key_len, block) == NULL) return -1;
    } else {
        memcpy(block, key, key_len);
    }
    for (size_t i = 0; i < HMAC_BLOCK; i++) pad[i] = block[i] ^ 0x36;
    int ok = SHA256_Init(&k->inner) && SHA256_Update(&k->inner, pad, HMAC_BLOCK);
    for (size_t i = 0; i < HMAC_BLOCK; i++) pad[i] = block[i] ^ 0x5c;
    ok = ok && SHA256_Init(&k->outer) && SHA256_Update(&k->outer, pad, HMAC_BLOCK);
    OPENSSL_cleanse(block, sizeof block);
    OPENSSL_cleanse(pad, sizeof pad);
    return ok ? 0 : -1;
}

/* Finishes an inner hash already fed with the message and writes the MAC; the outer hash runs
 * in the inner one's storage, so there is one state to wipe. */
static void hmac_finish(const hmac_key *k, SHA256_CTX *inner, uint8_t mac[EC_RPC_MAC_BYTES]) {
    uint8_t inner_digest[SHA256_DIGEST_LENGTH];
    SHA256_Final(inner_digest, inner);
    *inner = k->outer;
    SHA256_Update(inner, inner_digest, sizeof inner_digest);
    SHA256_Final(mac, inner);
    OPENSSL_cleanse(inner_digest, sizeof inner_digest);
}

static void canonical_mac(const hmac_key *k, const canonical_parts *p, uint8_t mac[EC_RPC_MAC_BYTES]) {
    static const uint8_t zero = 0;
    SHA256_CTX inner = k->inner;
    SHA256_Update(&inner, p->method, p->method_len);
    SHA256_Update(&inner, &zero, 1);
    SHA256_Update(&inner, p->path, p->path_len);
    SHA256_Update(&inner, &zero, 1);
    SHA256_Update(&inner, p->ts, p->ts_len);
    SHA256_Update(&inner, &zero, 1);
    SHA256_Update(&inner, p->nonce, p->nonce_len);
    SHA256_Update(&inner, &zero, 1);
    SHA256_Update(&inner, p->body, p->body_len);
    hmac_finish(k, &inner, mac);
    OPENSSL_cleanse(&inner, sizeof inner);
}

static int parts_ok(const canonical_parts *p) {
    return EC_BUF_OK(p->method, p->method_len) && EC_BUF_OK(p->path, p->path_len) &&
           EC_BUF_OK(p->ts, p->ts_len) && EC_BUF_OK(p->nonce, p->nonce_len) &&
           EC_BUF_OK(p->body, p->body_len);
}

/* Lowercase hex without data-dependent branches or table lookups (libsodium's sodium_bin2hex). */
static void to_hex(const uint8_t *bin, size_t len, char *hex) {
    for (size_t i = 0; i < len; i++) {
        unsigned hi = bin[i] >> 4, lo = bin[i] & 0xf;
        hex[2 * i] = (char)(unsigned char)(87U + hi + (((hi - 10U) >> 8) & ~38U));
        hex[2 * i + 1] = (char)(unsigned char)(87U + lo + (((lo - 10U) >> 8) & ~38U));
    }
    hex[2 * len] = '\0';
}

/* Decodes hex of either case without data-dependent branches; returns 0, or -1 when any
 * character is not a hex digit (decided only after every character was read). */
static int from_hex_ct(const char *hex, size_t bin_len, uint8_t *bin) {
    unsigned invalid = 0;
    for (size_t i = 0; i < 2 * bin_len; i++) {
        unsigned c = (unsigned char)hex[i];
        unsigned num = c ^ 48U;
        unsigned num_mask = ((num - 10U) >> 8) & 0xffU;
        unsigned alpha = (c & ~32U) - 55U;
        unsigned alpha_mask = (((alpha - 10U) ^ (alpha - 16U)) >> 8) & 0xffU;
        unsigned value = (num_mask & num) | (alpha_mask & alpha);
        invalid |= ~(num_mask | alpha_mask) & 0xffU;
        if (i & 1)
            bin[i / 2] |= (uint8_t)value;
        else
            bin[i / 2] = (uint8_t)(value << 4);
    }
    return invalid == 0 ? 0 : -1;
}

int ec_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *msg, size_t msg_len,
                   uint8_t out[EC_RPC_MAC_BYTES]) {
    if (!EC_BUF_OK(key, key_len) || !EC_BUF_OK(msg, msg_len) || out == NULL) return -1;
    hmac_key k;
    if (hmac_key_init(&k, key, key_len) != 0) return -1;
    SHA256_CTX inner = k.inner;
    SHA256_Update(&inner, msg, msg_len);
    hmac_finish(&k, &inner, out);
    OPENSSL_cleanse(&inner, sizeof inner);
    OPENSSL_cleanse(&k, sizeof k);
    return 0;
}

int ec_rpc_sign_hex(const uint8_t *key, size_t key_len, const char *method, size_t method_len,
                    const char *path, size_t path_len, const char *ts, size_t ts_len,
                    const char *nonce, size_t nonce_len, const uint8_t *body, size_t body_len,
                    char out_hex[EC_RPC_SIG_HEX_BYTES + 1]) {
    ec_rpc_signer signer;
    if (!EC_BUF_OK(key, key_len) || hmac_key_init(&signer.key, key, key_len) != 0) return -1;
    int rc = ec_rpc_signer_sign_hex(&signer, method, method_len, path, path_len, ts, ts_len, nonce,
                                    nonce_len, body, body_len, out_hex);
    OPENSSL_cleanse(&signer, sizeof signer);
    return rc;
}

ec_rpc_signer *ec_rpc_signer_new(const uint8_t *key, size_t key_len) {
    if (key == NULL || key_len == 0) return NULL;
    ec_rpc_signer *s = malloc(sizeof *s);
    if (s == NULL) return NULL;
    if (hmac_key_init(&s->key, key, key_len) != 0) {
        ec_rpc_signer_free(s);
        return NULL;
    }
    return s;
}

void ec_rpc_signer_free(ec_rpc_signer *s) {
    if (s == NULL) return;
    OPENSSL_cleanse(s, sizeof *s);
    free(s);
}

int ec_rpc_signer_sign_hex(const ec_rpc_signer *s, const char *method, size_t method_len,
                           const char *path, size_t path_len, const char *ts, size_t ts_len,
                           const char *nonce, size_t nonce_len, const uint8_t *body,
                           size_t body_len, char out_hex[EC_RPC_SIG_HEX_BYTES + 1]) {
    canonical_parts p = {method, method_len, path, path_len, ts, ts_len, nonce, nonce_len, body, body_len};
    if (s == NULL || out_hex == NULL || !parts_ok(&p)) return -1;
    uint8_t mac[EC_RPC_MAC_BYTES];
    canonical_mac(&s->key, &p, mac);
    to_hex(mac, sizeof mac, out_hex);
    OPENSSL_cleanse(mac, sizeof mac);
    return 0;
}

ec_rpc_verifier *ec_rpc_verifier_new(const uint8_t *key, size_t key_len, const uint8_t *previous_key,
                                     size_t previous_key_len) {
    /* "No previous key" is NULL only: a previous key of length 0 would be a key anyone knows. */
    if (key == NULL || key_len == 0 || (previous_key != NULL && previous_key_len == 0) ||
        (previous_key == NULL && previous_key_len != 0))
        return NULL;
    ec_rpc_verifier *v = calloc(1, sizeof *v);
    if (v == NULL) return NULL;
    int rc = hmac_key_init(&v->current, key, key_len);
    if (rc == 0 && previous_key != NULL) {
        v->has_previous = 1;
        rc = hmac_key_init(&v->previous, previous_key, previous_key_len);
    }
    if (rc != 0) {
        ec_rpc_verifier_free(v);
        return NULL;
    }
    return v;
}

void ec_rpc_verifier_free(ec_rpc_verifier *v) {
    if (v == NULL) return;
    OPENSSL_cleanse(v, sizeof *v);
    free(v);
}

int ec_rpc_verify(const ec_rpc_verifier *v, const char *method, size_t method_len, const char *path,
                  size_t path_len, const char *ts, size_t ts_len, const char *nonce,
                  size_t nonce_len, const uint8_t *body, size_t body_len, const char *sig_hex,
                  size_t sig_hex_len) {
    canonical_parts p = {method, method_len, path, path_len, ts, ts_len, nonce, nonce_len, body, body_len};
    /* The length is public (it is the header's length), so rejecting it early leaks nothing. */
    if (v == NULL || sig_hex == NULL || sig_hex_len != EC_RPC_SIG_HEX_BYTES || !parts_ok(&p))
        return -1;

    uint8_t received[EC_RPC_MAC_BYTES];
    uint8_t mac[EC_RPC_MAC_BYTES];
    int hex_ok = from_hex_ct(sig_hex, sizeof received, received) == 0;

    canonical_mac(&v->current, &p, mac);
    int current_ok = ec_ct_compare(mac, received, sizeof mac) == 0;
    int previous_ok = 0;
    if (v->has_previous) {
        /* Always computed when configured, so timing does not say which key matched. */
        canonical_mac(&v->previous, &p, mac);
        previous_ok = ec_ct_compare(mac, received, sizeof mac) == 0;
    }
    OPENSSL_cleanse(mac, sizeof mac);
    OPENSSL_cleanse(received, sizeof received);

    if (!hex_ok) return -1;
    if (current_ok) return 0;
    return previous_ok ? 1 : -1;
}

/* ---- Authenticated answers (docs/contract.md §2a) ---------------------------------------- */

static void response_mac(const hmac_key *k, const response_parts *p, uint8_t mac[EC_RPC_MAC_BYTES]) {
    SHA256_CTX inner = k->inner;
    SHA256_Update(&inner, p->head, sizeof p->head);
    SHA256_Update(&inner, p->body, p->body_len);
    hmac_finish(k, &inner, mac);
    OPENSSL_cleanse(&inner, sizeof inner);
}

/* Copies hex digits of either case in lowercase; -1 when any character is not a hex digit. The
 * request signature is public (it travelled in a header), so this needs no constant time; it is
 * one branch-free pass all the same, which the compiler vectorizes. */
static int copy_lowercase_hex(const char *hex, size_t len, uint8_t *out) {
    unsigned invalid = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned c = (unsigned char)hex[i];
        unsigned lower = c | 32U; /* 'A'..'F' to 'a'..'f'; digits already have this bit */
        invalid |= ((c - 48U < 10U) | (lower - 97U < 6U)) ^ 1U;
        out[i] = (uint8_t)lower;
    }
    return invalid == 0 ? 0 : -1;
}

/* Fills p from the caller's request signature (64 hex digits, either case), status (100..999)
 * and body; -1 when any of them is malformed. */
static int response_parts_init(response_parts *p, const char *request_sig_hex, size_t request_sig_len,
                               int status, const uint8_t *body, size_t body_len) {
    if (request_sig_hex == NULL || request_sig_len != EC_RPC_SIG_HEX_BYTES || status < 100 || status > 999 ||
        !EC_BUF_OK(body, body_len))
        return -1;
    uint8_t *h = p->head;
    memcpy(h, RESPONSE_LABEL, sizeof RESPONSE_LABEL); /* with its NUL: the separator */
    h += sizeof RESPONSE_LABEL;
    if (copy_lowercase_hex(request_sig_hex, EC_RPC_SIG_HEX_BYTES, h) != 0) return -1;
    h += EC_RPC_SIG_HEX_BYTES;
    *h++ = 0;
    *h++ = (uint8_t)('0' + status / 100);
    *h++ = (uint8_t)('0' + status / 10 % 10);
    *h++ = (uint8_t)('0' + status % 10);
    *h = 0;
    p->body = body;
    p->body_len = body_len;
    return 0;
}

static int sign_response(const hmac_key *k, const char *request_sig_hex, size_t request_sig_len, int status,
                         const uint8_t *body, size_t body_len, char out_hex[EC_RPC_SIG_HEX_BYTES + 1]) {
    response_parts p;
    if (out_hex == NULL || response_parts_init(&p, request_sig_hex, request_sig_len, status, body, body_len) != 0)
        return -1;
    uint8_t mac[EC_RPC_MAC_BYTES];
    response_mac(k, &p, mac);
    to_hex(mac, sizeof mac, out_hex);
    OPENSSL_cleanse(mac, sizeof mac);
    return 0;
}

int ec_rpc_verifier_sign_response_hex(const ec_rpc_verifier *v, int key_index, const char *request_sig_hex,
                                      size_t request_sig_len, int status, const uint8_t *body, size_t body_len,
                                      char out_hex[EC_RPC_SIG_HEX_BYTES + 1]) {
    if (v == NULL || (key_index != 0 && key_index != 1) || (key_index == 1 && !v->has_previous)) return -1;
    return sign_response(key_index == 0 ? &v->current : &v->previous, request_sig_hex, request_sig_len, status,
                         body, body_len, out_hex);
}

int ec_rpc_signer_sign_response_hex(const ec_rpc_signer *s, const char *request_sig_hex, size_t request_sig_len,
                                    int status, const uint8_t *body, size_t body_len,
                                    char out_hex[EC_RPC_SIG_HEX_BYTES + 1]) {
    if (s == NULL) return -1;
    return sign_response(&s->key, request_sig_hex, request_sig_len, status, body, body_len, out_hex);
}

int ec_rpc_signer_verify_response(const ec_rpc_signer *s, const char *request_sig_hex, size_t request_sig_len,
                                  int status, const uint8_t *body, size_t body_len, const char *response_sig_hex,
                                  size_t response_sig_len) {
    response_parts p;
    /* Lengths are public (the headers' lengths), so refusing them early leaks nothing. */
    if (s == NULL || response_sig_hex == NULL || response_sig_len != EC_RPC_SIG_HEX_BYTES ||
        response_parts_init(&p, request_sig_hex, request_sig_len, status, body, body_len) != 0)
        return -1;
    uint8_t received[EC_RPC_MAC_BYTES], mac[EC_RPC_MAC_BYTES];
    int hex_ok = from_hex_ct(response_sig_hex, sizeof received, received) == 0;
    response_mac(&s->key, &p, mac);
    int match = ec_ct_compare(mac, received, sizeof mac) == 0;
    OPENSSL_cleanse(mac, sizeof mac);
    OPENSSL_cleanse(received, sizeof received);
    return hex_ok && match ? 0 : -1;
}

int ec_ping_binding_payload(const char *request_id, size_t request_id_len, const char *request_sig_hex,
                            size_t request_sig_len, uint8_t *out, size_t out_cap, size_t *out_len) {
    static const char prefix[] = "v1-ping";
    if (out == NULL || out_len == NULL || !EC_BUF_OK(request_id, request_id_len) || request_sig_hex == NULL ||
        request_sig_len != EC_RPC_SIG_HEX_BYTES)
        return -1;
    size_t need = sizeof prefix + request_id_len + 1 + EC_RPC_SIG_HEX_BYTES;
    if (request_id_len > SIZE_MAX / 2 || out_cap < need) return -1;
    memcpy(out, prefix, sizeof prefix); /* with its NUL: the separator */
    if (request_id_len > 0) memcpy(out + sizeof prefix, request_id, request_id_len);
    out[sizeof prefix + request_id_len] = 0;
    /* The signature in lowercase, as the answer's signature takes it (out is undefined on failure). */
    if (copy_lowercase_hex(request_sig_hex, EC_RPC_SIG_HEX_BYTES, out + sizeof prefix + request_id_len + 1) != 0) return -1;
    *out_len = need;
    return 0;
}
