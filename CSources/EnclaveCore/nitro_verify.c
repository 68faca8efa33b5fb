/* Verification of AWS Nitro attestation documents (docs/contract.md §3a) on OpenSSL: the pinned
 * root, the certificate chain at the verification time (X509_STORE), the leaf, the ES384 COSE
 * signature. The verifier that keeps proven paths between documents is nitro_verifier.c. */
#define _DEFAULT_SOURCE 1 /* timegm */
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ec_internal.h"

#define ES384_HALF 48

int ec_sha256(const uint8_t *data, size_t len, uint8_t out[EC_SHA256_BYTES]) {
    if (!EC_BUF_OK(data, len) || out == NULL) return -1;
    static const uint8_t empty = 0;
    return SHA256(data != NULL ? data : &empty, len, out) != NULL ? 0 : -1;
}

X509 *nitro_parse_der(const ec_view *der) {
    const unsigned char *p = der->data;
    X509 *cert = d2i_X509(NULL, &p, (long)der->len);
    /* The whole buffer must be the certificate: no bytes after it. */
    if (cert != NULL && p != der->data + der->len) {
        X509_free(cert);
        return NULL;
    }
    return cert;
}

/* ---- The COSE signature ------------------------------------------------------------------- */

/* A CBOR byte string's head for a string of len bytes. */
static size_t bstr_head(uint8_t out[9], size_t len) {
    if (len < 24) {
        out[0] = (uint8_t)(0x40 | len);
        return 1;
    }
    size_t bytes = len <= 0xff ? 1 : len <= 0xffff ? 2 : len <= 0xffffffffu ? 4 : 8;
    out[0] = (uint8_t)(0x40 | (bytes == 1 ? 24 : bytes == 2 ? 25 : bytes == 4 ? 26 : 27));
    for (size_t i = 0; i < bytes; i++) out[1 + i] = (uint8_t)(len >> (8 * (bytes - 1 - i)));
    return 1 + bytes;
}

/* ES384 of Sig_structure = ["Signature1", protected, h'', payload] (RFC 9052 section 4.4), the
 * signature r || s turned into DER for OpenSSL. */
static int cose_signature_ok(EVP_PKEY *key, const ec_view *protected_bytes, const ec_view *payload, const ec_view *signature) {
    static const uint8_t context[] = {0x84, 0x6a, 'S', 'i', 'g', 'n', 'a', 't', 'u', 'r', 'e', '1'};
    static const uint8_t empty_external = 0x40;
    uint8_t protected_head[9], payload_head[9];
    size_t protected_head_len = bstr_head(protected_head, protected_bytes->len);
    size_t payload_head_len = bstr_head(payload_head, payload->len);

    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(signature->data, ES384_HALF, NULL), *s = BN_bin2bn(signature->data + ES384_HALF, ES384_HALF, NULL);
    unsigned char *der = NULL;
    int der_len = -1, ok = 0;
    if (sig != NULL && r != NULL && s != NULL && ECDSA_SIG_set0(sig, r, s) == 1) {
        r = s = NULL; /* owned by sig now */
        der_len = i2d_ECDSA_SIG(sig, &der);
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (der_len > 0 && ctx != NULL && EVP_DigestVerifyInit(ctx, NULL, EVP_sha384(), NULL, key) == 1 &&
        EVP_DigestVerifyUpdate(ctx, context, sizeof context) == 1 &&
        EVP_DigestVerifyUpdate(ctx, protected_head, protected_head_len) == 1 &&
        EVP_DigestVerifyUpdate(ctx, protected_bytes->data, protected_bytes->len) == 1 &&
        EVP_DigestVerifyUpdate(ctx, &empty_external, 1) == 1 && EVP_DigestVerifyUpdate(ctx, payload_head, payload_head_len) == 1 &&
        EVP_DigestVerifyUpdate(ctx, payload->data, payload->len) == 1)
        ok = EVP_DigestVerifyFinal(ctx, der, (size_t)der_len) == 1;
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return ok;
}

/* The leaf signs the document: an end-entity certificate (not a CA) with a P-384 key whose key
 * usage includes digitalSignature. Its key, with a reference for the caller, or NULL. */
static EVP_PKEY *leaf_key(X509 *leaf) {
    uint32_t flags = X509_get_extension_flags(leaf);
    if ((flags & EXFLAG_CA) || !(flags & EXFLAG_KUSAGE) || !(X509_get_key_usage(leaf) & KU_DIGITAL_SIGNATURE)) return NULL;
    EVP_PKEY *key = X509_get_pubkey(leaf);
    char group[32];
    size_t group_len = 0;
    if (key == NULL || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC ||
        EVP_PKEY_get_utf8_string_param(key, "group", group, sizeof group, &group_len) != 1 ||
        strcmp(group, SN_secp384r1) != 0) {
        EVP_PKEY_free(key);
        return NULL;
    }
    return key;
}

/* ---- The certificate chain ----------------------------------------------------------------- */

/* The chain's certificates parsed: [0] the root (cabundle[0]), then cabundle[1..], then the leaf. */
typedef struct {
    X509 *certs[EC_NITRO_MAX_CABUNDLE + 1];
    size_t count;
} chain;

static void chain_free(chain *c) {
    for (size_t i = 0; i < c->count; i++) X509_free(c->certs[i]);
    c->count = 0;
}

/* The pinned root stands for cabundle[0] (the two are byte-identical, and each parse costs
 * OpenSSL 3 about as much as a fifth of a signature verification). */
static int chain_parse(const ec_nitro_document *d, X509 *root, chain *c) {
    memset(c, 0, sizeof *c);
    if (X509_up_ref(root) != 1) return -1;
    c->certs[c->count++] = root;
    for (size_t i = 1; i <= d->cabundle_count; i++) {
        X509 *cert = nitro_parse_der(i < d->cabundle_count ? &d->cabundle[i] : &d->certificate);
        if (cert == NULL) return -1;
        c->certs[c->count++] = cert;
    }
    return 0;
}

/* OpenSSL's verification of `leaf` up to `anchor`, the one trust anchor, through the untrusted
 * certificates, at at_ms: signatures, names, validity of every certificate, CA flags, key usage
 * and path lengths as OpenSSL checks them. The anchor is the pinned root or, with the cache, the
 * last CA of a path verified before (PARTIAL_CHAIN). *as_presented (when not NULL) says whether
 * the path OpenSSL built is exactly leaf, expected[count-1], ..., expected[0]. */
static int chain_verify(X509 *anchor, int partial, X509 *leaf, X509 *const *untrusted_certs, size_t untrusted_count,
                        int64_t at_ms, X509 *const *expected, size_t expected_count, int *as_presented) {
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    int result = EC_NITRO_INTERNAL;
    if (as_presented != NULL) *as_presented = 0;
    if (store == NULL || ctx == NULL || untrusted == NULL || X509_STORE_add_cert(store, anchor) != 1) goto done;
    for (size_t i = 0; i < untrusted_count; i++)
        if (sk_X509_push(untrusted, untrusted_certs[i]) <= 0) goto done;
    if (X509_STORE_CTX_init(ctx, store, leaf, untrusted) != 1) goto done;
    X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_time(param, (time_t)(at_ms / 1000));
    if (partial) X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
    if (X509_verify_cert(ctx) == 1) {
        result = EC_NITRO_OK;
        STACK_OF(X509) *built = X509_STORE_CTX_get0_chain(ctx);
        if (as_presented != NULL && built != NULL && (size_t)sk_X509_num(built) == expected_count + 1) {
            int same = X509_cmp(sk_X509_value(built, 0), leaf) == 0;
            for (size_t i = 0; same && i < expected_count; i++)
                same = X509_cmp(sk_X509_value(built, (int)(expected_count - i)), expected[i]) == 0;
            *as_presented = same;
        }
    } else {
        int error = X509_STORE_CTX_get_error(ctx);
        result = error == X509_V_ERR_CERT_HAS_EXPIRED || error == X509_V_ERR_CERT_NOT_YET_VALID ? EC_NITRO_CERT_EXPIRED
                                                                                                  : EC_NITRO_CHAIN_INVALID;
    }
done:
    sk_X509_free(untrusted); /* the certificates belong to the caller */
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return result;
}

/* The seconds at which OpenSSL finds every certificate valid (notBefore <= t < notAfter), narrowed
 * by a second at each end so that a cached answer is never given where OpenSSL's might differ. */
static int validity_window(X509 *const *certs, size_t count, int64_t *from, int64_t *until) {
    *from = INT64_MIN;
    *until = INT64_MAX;
    for (size_t i = 0; i < count; i++) {
        struct tm tm;
        if (ASN1_TIME_to_tm(X509_get0_notBefore(certs[i]), &tm) != 1) return -1;
        int64_t not_before = (int64_t)timegm(&tm) + 1;
        if (ASN1_TIME_to_tm(X509_get0_notAfter(certs[i]), &tm) != 1) return -1;
        int64_t not_after = (int64_t)timegm(&tm) - 1;
        if (not_before > *from) *from = not_before;
        if (not_after < *until) *until = not_after;
    }
    return 0;
}

/* Whether a verified path may stand for later documents: OpenSSL built exactly the presented
 * path, every subject name in it is distinct (so the only issuer OpenSSL can find for a new leaf
 * is the one it found before), and no CA constrains names or policies below it (constraints a
 * path cut at its last CA would not apply). */
static int path_cacheable(const chain *c) {
    static const int constraining[] = {NID_name_constraints, NID_policy_constraints, NID_policy_mappings, NID_inhibit_any_policy};
    for (size_t i = 0; i < c->count; i++) {
        for (size_t j = 0; j < i; j++)
            if (X509_NAME_cmp(X509_get_subject_name(c->certs[i]), X509_get_subject_name(c->certs[j])) == 0) return 0;
        if (i + 1 == c->count) break;
        for (size_t k = 0; k < sizeof constraining / sizeof constraining[0]; k++)
            if (X509_get_ext_by_NID(c->certs[i], constraining[k], -1) >= 0) return 0;
    }
    return 1;
}

/* ---- One document ------------------------------------------------------------------------- */

/* With a cached CA path: the leaf alone, verified under the path's last CA, when that is sure to
 * be OpenSSL's answer for the whole document. EC_NITRO_OK with *key, or -1: verify in full. */
static int verify_leaf_under_path(const nitro_cache_hit *hit, const ec_nitro_document *d, int64_t at_ms, EVP_PKEY **key,
                                  X509 **leaf_out) {
    X509 *leaf = nitro_parse_der(&d->certificate);
    if (leaf == NULL) return -1;
    X509 *anchor = hit->cas[hit->ca_count - 1];
    int as_presented = 0, rc = -1;
    for (size_t i = 0; i < hit->ca_count; i++) /* a leaf named like a CA of the path: no shortcut */
        if (X509_NAME_cmp(X509_get_subject_name(leaf), X509_get_subject_name(hit->cas[i])) == 0) goto done;
    if (chain_verify(anchor, hit->ca_count > 1, leaf, NULL, 0, at_ms, &anchor, 1, &as_presented) != EC_NITRO_OK || !as_presented)
        goto done;
    *key = leaf_key(leaf);
    rc = *key != NULL ? EC_NITRO_OK : EC_NITRO_BAD_LEAF;
done:
    if (rc == -1) {
        X509_free(leaf);
    } else {
        *leaf_out = leaf;
    }
    return rc;
}

/* The whole verification against the pinned root (its DER and parsed); `cache` may be NULL. With
 * a cache the answer is always the one without it: the cache holds only paths of documents that
 * verified in full, signature included, and is used only where OpenSSL's answer is the same. */
int nitro_verify_document(nitro_path_cache *cache, const uint8_t *root_der, size_t root_len, X509 *root, const uint8_t *doc,
                           size_t doc_len, int64_t at_ms, ec_nitro_document *out) {
    ec_view protected_bytes, signature;
    memset(out, 0, sizeof *out);
    if (doc_len > EC_NITRO_MAX_DOCUMENT_BYTES) return EC_NITRO_MALFORMED_CBOR;
    int rc = nitro_parse_cose(doc, doc_len, out, &protected_bytes, &signature);
    if (rc != EC_NITRO_OK) return rc;
    /* The root is pinned: the document's own root must be it, byte for byte (never the last
     * certificate of the bundle, never a root the document brings). */
    if (out->cabundle[0].len != root_len || memcmp(out->cabundle[0].data, root_der, root_len) != 0)
        return EC_NITRO_ROOT_MISMATCH;

    size_t ca_count = out->cabundle_count;
    uint8_t hashes[EC_NITRO_MAX_CABUNDLE + 1][EC_SHA256_BYTES];
    for (size_t i = 0; cache != NULL && i <= ca_count; i++) {
        const ec_view *der = i < ca_count ? &out->cabundle[i] : &out->certificate;
        if (ec_sha256(der->data, der->len, hashes[i]) != 0) return EC_NITRO_INTERNAL;
    }
    const uint8_t(*keyed)[EC_SHA256_BYTES] = (const uint8_t(*)[EC_SHA256_BYTES])hashes;
    EVP_PKEY *key = NULL;
    X509 *new_leaf = NULL;
    nitro_cache_hit hit = {.leaf_key = NULL, .ca_count = 0};
    if (cache != NULL && nitro_cache_lookup(cache, keyed, ca_count, at_ms, &hit) == 0) {
        if (hit.leaf_key != NULL) {
            key = hit.leaf_key; /* the very certificates verified before */
            hit.leaf_key = NULL;
            rc = EC_NITRO_OK;
        } else {
            rc = verify_leaf_under_path(&hit, out, at_ms, &key, &new_leaf);
        }
        if (rc == EC_NITRO_OK) {
            rc = cose_signature_ok(key, &protected_bytes, &out->payload, &signature) ? EC_NITRO_OK : EC_NITRO_SIGNATURE_INVALID;
            int64_t from, until;
            if (rc == EC_NITRO_OK && new_leaf != NULL && validity_window(&new_leaf, 1, &from, &until) == 0)
                nitro_cache_remember(cache, keyed, ca_count, NULL, key, from > hit.valid_from ? from : hit.valid_from,
                               until < hit.valid_until ? until : hit.valid_until);
        }
        X509_free(new_leaf);
        nitro_cache_hit_free(&hit);
        if (rc != -1) {
            EVP_PKEY_free(key);
            return rc;
        }
    }

    chain c = {.count = 0};
    if (chain_parse(out, root, &c) != 0) {
        chain_free(&c);
        return EC_NITRO_CHAIN_INVALID;
    }
    int as_presented = 0;
    rc = chain_verify(c.certs[0], 0, c.certs[ca_count], &c.certs[1], ca_count - 1, at_ms, c.certs, ca_count,
                      cache != NULL ? &as_presented : NULL);
    if (rc == EC_NITRO_OK && (key = leaf_key(c.certs[ca_count])) == NULL) rc = EC_NITRO_BAD_LEAF;
    if (rc == EC_NITRO_OK)
        rc = cose_signature_ok(key, &protected_bytes, &out->payload, &signature) ? EC_NITRO_OK : EC_NITRO_SIGNATURE_INVALID;
    /* Only now, the whole document proven, may its path stand for others. */
    int64_t from, until;
    if (rc == EC_NITRO_OK && cache != NULL && as_presented && path_cacheable(&c) &&
        validity_window(c.certs, ca_count, &from, &until) == 0) {
        nitro_cache_remember(cache, keyed, ca_count, c.certs, NULL, from, until);
        int64_t leaf_from, leaf_until;
        if (validity_window(&c.certs[ca_count], 1, &leaf_from, &leaf_until) == 0)
            nitro_cache_remember(cache, keyed, ca_count, NULL, key, leaf_from > from ? leaf_from : from,
                           leaf_until < until ? leaf_until : until);
    }
    chain_free(&c);
    EVP_PKEY_free(key);
    return rc;
}

int ec_nitro_verify(const uint8_t *doc, size_t doc_len, const uint8_t *root_der, size_t root_len, int64_t at_ms,
                    ec_nitro_document *out, int *reason) {
    if (doc == NULL || out == NULL || root_der == NULL || root_len == 0) return nitro_fail(reason, EC_NITRO_INTERNAL);
    ec_view root = {root_der, root_len};
    X509 *pinned = nitro_parse_der(&root);
    if (pinned == NULL) return nitro_fail(reason, EC_NITRO_BAD_ROOT);
    int rc = nitro_verify_document(NULL, root_der, root_len, pinned, doc, doc_len, at_ms, out);
    X509_free(pinned);
    if (rc != EC_NITRO_OK) {
        memset(out, 0, sizeof *out);
        return nitro_fail(reason, rc);
    }
    if (reason != NULL) *reason = EC_NITRO_OK;
    return 0;
}
