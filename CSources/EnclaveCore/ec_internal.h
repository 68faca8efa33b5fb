/* Internal helpers shared by the core's source files; nothing here is exported. */
#ifndef EC_INTERNAL_H
#define EC_INTERNAL_H

#include "enclave_core.h"

/* NULL is a valid pointer only for an empty buffer. */
#define EC_BUF_OK(p, len) ((p) != NULL || (len) == 0)

/* Reads a Nitro document's COSE_Sign1 and payload into d (an EC_NITRO_ reason code, 0 when
 * well-formed); the protected header's and the signature's bytes go to the two views. */
int nitro_parse_cose(const uint8_t *doc, size_t doc_len, ec_nitro_document *d, ec_view *protected_out,
                     ec_view *signature_out);


/* ---- Nitro verification (nitro_verify.c) and its verifier's path cache (nitro_verifier.c) ---- */
#include <openssl/evp.h>
#include <openssl/x509.h>

static inline int nitro_fail(int *reason, int code) {
    if (reason != NULL) *reason = code;
    return -1;
}

/* One DER certificate, the whole buffer and nothing after it, or NULL. */
X509 *nitro_parse_der(const ec_view *der);

typedef struct nitro_path_cache nitro_path_cache;
/* The whole verification of a document against the pinned root (DER and parsed); cache may be NULL. */
int nitro_verify_document(nitro_path_cache *cache, const uint8_t *root_der, size_t root_len, X509 *root, const uint8_t *doc,
                          size_t doc_len, int64_t at_ms, ec_nitro_document *out);

/* What the cache holds for a document's certificates, with references for the caller. */
typedef struct {
    EVP_PKEY *leaf_key;               /* the whole chain, leaf included, was proven */
    X509 *cas[EC_NITRO_MAX_CABUNDLE]; /* else the CA path was: cabundle, parsed */
    size_t ca_count;
    int64_t valid_from, valid_until;
} nitro_cache_hit;
/* hashes: SHA-256 of cabundle[0..ca_count-1], then of the leaf. 0 when a usable entry was found. */
int nitro_cache_lookup(nitro_path_cache *cache, const uint8_t hashes[][EC_SHA256_BYTES], size_t ca_count, int64_t at_ms,
                       nitro_cache_hit *hit);
void nitro_cache_hit_free(nitro_cache_hit *hit);
/* Remembers a proven path: a CA entry (cas, ca_count of them) or a leaf entry (leaf_key). */
void nitro_cache_remember(nitro_path_cache *cache, const uint8_t hashes[][EC_SHA256_BYTES], size_t ca_count, X509 *const *cas,
                          EVP_PKEY *leaf_key, int64_t valid_from, int64_t valid_until);

#endif
