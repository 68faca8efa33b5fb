/* Verification of AWS Nitro attestation documents (CONTRACT.md section 3a) on OpenSSL: the pinned
 * root, the certificate chain at the verification time (X509_STORE), the leaf, the ES384 COSE
 * signature; and a verifier that caches verified certificate links between documents. */
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

static int fail(int *reason, int code) {
    if (reason != NULL) *reason = code;
    return -1;
}

int ec_sha256(const uint8_t *data, size_t len, uint8_t out[EC_SHA256_BYTES]) {
    if (!EC_BUF_OK(data, len) || out == NULL) return -1;
    static const uint8_t empty = 0;
    return SHA256(data != NULL ? data : &empty, len, out) != NULL ? 0 : -1;
}

static X509 *parse_der(const ec_view *der) {
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

/* certs[from..]: the pinned root stands for cabundle[0] (the two are byte-identical, and each
 * parse costs OpenSSL 3 about as much as a fifth of a signature verification). */
static int chain_parse(const ec_nitro_document *d, size_t from, X509 *root, chain *c) {
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i <= d->cabundle_count; i++) {
        if (i < from) {
            c->certs[c->count++] = NULL;
            continue;
        }
        if (i == 0) {
            if (X509_up_ref(root) != 1) return -1;
            c->certs[c->count++] = root;
            continue;
        }
        const ec_view *der = i < d->cabundle_count ? &d->cabundle[i] : &d->certificate;
        X509 *cert = parse_der(der);
        if (cert == NULL) return -1;
        c->certs[c->count++] = cert;
    }
    return 0;
}

/* OpenSSL's verification of certs[first + 1 .. count-1] up to certs[first] as the one trust
 * anchor, at at_ms: signatures, names, validity of every certificate, CA flags, key usage and
 * path lengths as OpenSSL checks them. The anchor is the pinned root (first = 0) or, with the
 * cache, an intermediate whose links were verified before (PARTIAL_CHAIN). */
static int chain_verify(const chain *c, size_t first, int64_t at_ms) {
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    int result = EC_NITRO_INTERNAL;
    if (store == NULL || ctx == NULL || untrusted == NULL || X509_STORE_add_cert(store, c->certs[first]) != 1) goto done;
    for (size_t i = first + 1; i + 1 < c->count; i++)
        if (sk_X509_push(untrusted, c->certs[i]) <= 0) goto done;
    if (X509_STORE_CTX_init(ctx, store, c->certs[c->count - 1], untrusted) != 1) goto done;
    X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_time(param, (time_t)(at_ms / 1000));
    if (first > 0) X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
    if (X509_verify_cert(ctx) == 1) {
        result = EC_NITRO_OK;
    } else {
        int error = X509_STORE_CTX_get_error(ctx);
        result = error == X509_V_ERR_CERT_HAS_EXPIRED || error == X509_V_ERR_CERT_NOT_YET_VALID ? EC_NITRO_CERT_EXPIRED
                                                                                                  : EC_NITRO_CHAIN_INVALID;
    }
done:
    sk_X509_free(untrusted); /* the certificates belong to the chain */
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return result;
}

/* A certificate's validity in Unix seconds. */
static int validity(X509 *cert, int64_t *not_before, int64_t *not_after) {
    struct tm tm;
    if (ASN1_TIME_to_tm(X509_get0_notBefore(cert), &tm) != 1) return -1;
    *not_before = (int64_t)timegm(&tm);
    if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1) return -1;
    *not_after = (int64_t)timegm(&tm);
    return 0;
}

/* ---- One document ------------------------------------------------------------------------- */

typedef struct ec_link_cache link_cache;
static int cache_chain_start(link_cache *cache, const ec_nitro_document *d, const uint8_t hashes[][EC_SHA256_BYTES],
                             int64_t at_ms, EVP_PKEY **leaf);
static void cache_remember(link_cache *cache, const chain *c, size_t from, const uint8_t hashes[][EC_SHA256_BYTES],
                           EVP_PKEY *leaf);

/* The whole verification against the pinned root (its DER and parsed); `cache` may be NULL. */
static int verify_document(link_cache *cache, const uint8_t *root_der, size_t root_len, X509 *root, const uint8_t *doc,
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

    size_t links = out->cabundle_count + 1; /* root, intermediates, leaf */
    uint8_t hashes[EC_NITRO_MAX_CABUNDLE + 1][EC_SHA256_BYTES];
    for (size_t i = 0; i < links; i++) {
        const ec_view *der = i < out->cabundle_count ? &out->cabundle[i] : &out->certificate;
        if (ec_sha256(der->data, der->len, hashes[i]) != 0) return EC_NITRO_INTERNAL;
    }
    EVP_PKEY *key = NULL;
    /* How much of the chain, from the root down, the cache already vouches for at this time:
     * every certificate before index `start` (the leaf's key too when start == links). */
    size_t start = cache != NULL ? (size_t)cache_chain_start(cache, out, (const uint8_t(*)[EC_SHA256_BYTES])hashes, at_ms, &key) : 0;
    chain c = {.count = 0};
    if (start < links) {
        /* Parse from the last vouched-for certificate (the anchor) down. */
        size_t anchor = start == 0 ? 0 : start - 1;
        if (chain_parse(out, anchor, root, &c) != 0) {
            chain_free(&c);
            return EC_NITRO_CHAIN_INVALID;
        }
        rc = chain_verify(&c, anchor, at_ms);
        if (rc == EC_NITRO_OK && (key = leaf_key(c.certs[c.count - 1])) == NULL) rc = EC_NITRO_BAD_LEAF;
        if (rc == EC_NITRO_OK && cache != NULL) cache_remember(cache, &c, anchor, (const uint8_t(*)[EC_SHA256_BYTES])hashes, key);
        chain_free(&c);
        if (rc != EC_NITRO_OK) {
            EVP_PKEY_free(key);
            return rc;
        }
    }
    rc = cose_signature_ok(key, &protected_bytes, &out->payload, &signature) ? EC_NITRO_OK : EC_NITRO_SIGNATURE_INVALID;
    EVP_PKEY_free(key);
    return rc;
}

int ec_nitro_verify(const uint8_t *doc, size_t doc_len, const uint8_t *root_der, size_t root_len, int64_t at_ms,
                    ec_nitro_document *out, int *reason) {
    if (doc == NULL || out == NULL || root_der == NULL || root_len == 0) return fail(reason, EC_NITRO_INTERNAL);
    ec_view root = {root_der, root_len};
    X509 *pinned = parse_der(&root);
    if (pinned == NULL) return fail(reason, EC_NITRO_BAD_ROOT);
    int rc = verify_document(NULL, root_der, root_len, pinned, doc, doc_len, at_ms, out);
    X509_free(pinned);
    if (rc != EC_NITRO_OK) {
        memset(out, 0, sizeof *out);
        return fail(reason, rc);
    }
    if (reason != NULL) *reason = EC_NITRO_OK;
    return 0;
}

/* ---- The verifier and its cache of verified links ----------------------------------------- */

/* A verified link: the certificate with this hash was verified as issued by the one with
 * issuer_hash, which is the pinned root or itself a cached certificate, so the whole path up to
 * the root was verified. Used only while the time is inside the certificate's validity. */
typedef struct {
    uint8_t hash[EC_SHA256_BYTES];
    uint8_t issuer_hash[EC_SHA256_BYTES];
    int64_t not_before, not_after;
    EVP_PKEY *leaf_key; /* the leaf's key, for a leaf */
    int used;
    uint64_t last_use; /* the least recently used link makes room: hot intermediates stay */
} cached_link;

#define CACHE_LINKS 64

struct ec_link_cache {
    pthread_mutex_t lock;
    uint8_t root_hash[EC_SHA256_BYTES];
    int64_t root_not_before, root_not_after;
    cached_link links[CACHE_LINKS];
    uint64_t uses; /* a clock of lookups, for last_use */
};

struct ec_nitro_verifier {
    uint8_t *root_der;
    size_t root_len;
    X509 *root;
    link_cache cache;
};

static void link_clear(cached_link *link) {
    EVP_PKEY_free(link->leaf_key);
    memset(link, 0, sizeof *link);
}

static cached_link *cache_find(link_cache *cache, const uint8_t hash[EC_SHA256_BYTES], const uint8_t issuer[EC_SHA256_BYTES]) {
    for (size_t i = 0; i < CACHE_LINKS; i++) {
        cached_link *link = &cache->links[i];
        if (link->used && memcmp(link->hash, hash, EC_SHA256_BYTES) == 0 &&
            memcmp(link->issuer_hash, issuer, EC_SHA256_BYTES) == 0) {
            link->last_use = ++cache->uses;
            return link;
        }
    }
    return NULL;
}

/* A free slot, or the least recently used link's, cleared. */
static cached_link *cache_slot(link_cache *cache) {
    cached_link *oldest = &cache->links[0];
    for (size_t i = 0; i < CACHE_LINKS; i++) {
        cached_link *link = &cache->links[i];
        if (!link->used) return link;
        if (link->last_use < oldest->last_use) oldest = link;
    }
    link_clear(oldest);
    return oldest;
}

/* The number of certificates, from the root down, that the cache vouches for at at_ms; when the
 * whole chain, leaf included, is vouched for, *leaf receives a reference to the leaf's key.
 * Expired links are dropped on the way. */
static int cache_chain_start(link_cache *cache, const ec_nitro_document *d, const uint8_t hashes[][EC_SHA256_BYTES],
                             int64_t at_ms, EVP_PKEY **leaf) {
    size_t links = d->cabundle_count + 1;
    size_t start = 1; /* the root: pinned, compared byte for byte */
    int64_t at = at_ms / 1000;
    pthread_mutex_lock(&cache->lock);
    for (size_t i = 0; i < CACHE_LINKS; i++)
        if (cache->links[i].used && cache->links[i].not_after < at) link_clear(&cache->links[i]);
    if (memcmp(hashes[0], cache->root_hash, EC_SHA256_BYTES) == 0 && at >= cache->root_not_before &&
        at <= cache->root_not_after) {
        while (start < links) {
            cached_link *link = cache_find(cache, hashes[start], hashes[start - 1]);
            if (link == NULL || at < link->not_before || at > link->not_after) break;
            if (start == links - 1) {
                if (link->leaf_key == NULL || EVP_PKEY_up_ref(link->leaf_key) != 1) break;
                *leaf = link->leaf_key;
            }
            start++;
        }
    } else {
        start = 0;
    }
    pthread_mutex_unlock(&cache->lock);
    return (int)start;
}

/* Remembers the links of a chain that verified from certs[from] down (certs[from] already
 * vouched for, or the root). */
static void cache_remember(link_cache *cache, const chain *c, size_t from, const uint8_t hashes[][EC_SHA256_BYTES],
                           EVP_PKEY *leaf) {
    pthread_mutex_lock(&cache->lock);
    for (size_t i = from + 1; i < c->count; i++) {
        int64_t not_before, not_after;
        if (validity(c->certs[i], &not_before, &not_after) != 0) break;
        /* A link is good no longer than the certificates above it. */
        cached_link *link = cache_find(cache, hashes[i], hashes[i - 1]);
        if (link == NULL) link = cache_slot(cache);
        memcpy(link->hash, hashes[i], EC_SHA256_BYTES);
        memcpy(link->issuer_hash, hashes[i - 1], EC_SHA256_BYTES);
        link->not_before = not_before;
        link->not_after = not_after;
        link->used = 1;
        link->last_use = ++cache->uses;
        if (i == c->count - 1 && link->leaf_key == NULL && EVP_PKEY_up_ref(leaf) == 1) link->leaf_key = leaf;
    }
    pthread_mutex_unlock(&cache->lock);
}

ec_nitro_verifier *ec_nitro_verifier_new(const uint8_t *root_der, size_t root_len) {
    if (root_der == NULL || root_len == 0) return NULL;
    ec_view root = {root_der, root_len};
    X509 *pinned = parse_der(&root);
    if (pinned == NULL) return NULL;
    ec_nitro_verifier *v = calloc(1, sizeof *v);
    if (v == NULL || validity(pinned, &v->cache.root_not_before, &v->cache.root_not_after) != 0) {
        X509_free(pinned);
        free(v);
        return NULL;
    }
    v->root = pinned;
    v->root_der = malloc(root_len);
    if (v->root_der == NULL || pthread_mutex_init(&v->cache.lock, NULL) != 0 ||
        ec_sha256(root_der, root_len, v->cache.root_hash) != 0) {
        X509_free(v->root);
        free(v->root_der);
        free(v);
        return NULL;
    }
    memcpy(v->root_der, root_der, root_len);
    v->root_len = root_len;
    return v;
}

void ec_nitro_verifier_free(ec_nitro_verifier *v) {
    if (v == NULL) return;
    for (size_t i = 0; i < CACHE_LINKS; i++) link_clear(&v->cache.links[i]);
    pthread_mutex_destroy(&v->cache.lock);
    X509_free(v->root);
    free(v->root_der);
    free(v);
}

int ec_nitro_verifier_verify(ec_nitro_verifier *v, const uint8_t *doc, size_t doc_len, int64_t at_ms,
                             ec_nitro_document *out, int *reason) {
    if (v == NULL || doc == NULL || out == NULL) return fail(reason, EC_NITRO_INTERNAL);
    int rc = verify_document(&v->cache, v->root_der, v->root_len, v->root, doc, doc_len, at_ms, out);
    if (rc != EC_NITRO_OK) {
        memset(out, 0, sizeof *out);
        return fail(reason, rc);
    }
    if (reason != NULL) *reason = EC_NITRO_OK;
    return 0;
}

size_t ec_nitro_verifier_cached_links(const ec_nitro_verifier *v) {
    if (v == NULL) return 0;
    size_t count = 0;
    pthread_mutex_lock((pthread_mutex_t *)&v->cache.lock);
    for (size_t i = 0; i < CACHE_LINKS; i++) count += v->cache.links[i].used != 0;
    pthread_mutex_unlock((pthread_mutex_t *)&v->cache.lock);
    return count;
}
