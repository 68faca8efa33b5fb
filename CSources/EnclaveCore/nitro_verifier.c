/* The Nitro verifier (docs/contract.md §3a): ec_nitro_verify's checks, with a cache of proven
 * certificate paths between documents, so that a host re-checking an enclave's document pays for
 * its signature, not its chain. The cache may change how fast an answer comes, never the answer. */
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ec_internal.h"

/* ---- The verifier and its cache of proven paths -------------------------------------------- */

/* A proven path: a document whose certificates hash to `key` (cabundle in its order, then the
 * leaf for a leaf entry) verified in full, signature included, and OpenSSL built exactly that
 * path. A CA entry keeps the parsed CAs, so a new leaf under the same bundle costs one
 * verification; a leaf entry keeps the leaf's key, so the same document again costs only its
 * signature. Used only while the time is strictly inside every certificate's validity. */
typedef struct {
    int used;
    uint8_t key[EC_SHA256_BYTES];
    X509 *cas[EC_NITRO_MAX_CABUNDLE]; /* a CA entry */
    size_t ca_count;
    EVP_PKEY *leaf_key; /* a leaf entry */
    int64_t valid_from, valid_until;
    uint64_t last_use; /* the least recently used entry makes room: hot bundles stay */
} cached_path;

#define CACHE_PATHS 64

struct nitro_path_cache {
    pthread_mutex_t lock;
    cached_path paths[CACHE_PATHS];
    uint64_t uses; /* a clock of lookups, for last_use */
};

struct ec_nitro_verifier {
    uint8_t *root_der;
    size_t root_len;
    X509 *root;
    nitro_path_cache cache;
};

static void path_clear(cached_path *path) {
    for (size_t i = 0; i < path->ca_count; i++) X509_free(path->cas[i]);
    EVP_PKEY_free(path->leaf_key);
    memset(path, 0, sizeof *path);
}

/* The key of a CA entry (the bundle's hashes) or a leaf entry (the leaf's hash after them). */
static int path_key(const uint8_t hashes[][EC_SHA256_BYTES], size_t ca_count, int with_leaf, uint8_t key[EC_SHA256_BYTES]) {
    uint8_t input[1 + (EC_NITRO_MAX_CABUNDLE + 1) * EC_SHA256_BYTES];
    size_t count = ca_count + (with_leaf ? 1 : 0);
    input[0] = with_leaf ? 'L' : 'C';
    memcpy(input + 1, hashes, count * EC_SHA256_BYTES);
    return ec_sha256(input, 1 + count * EC_SHA256_BYTES, key);
}

static cached_path *cache_find(nitro_path_cache *cache, const uint8_t key[EC_SHA256_BYTES], int with_leaf) {
    for (size_t i = 0; i < CACHE_PATHS; i++) {
        cached_path *path = &cache->paths[i];
        if (path->used && (path->leaf_key != NULL) == with_leaf && memcmp(path->key, key, EC_SHA256_BYTES) == 0) return path;
    }
    return NULL;
}

/* The leaf entry for these certificates, else their CA entry, usable at at_ms; 0 when found.
 * Entries out of date at at_ms are dropped on the way. */
int nitro_cache_lookup(nitro_path_cache *cache, const uint8_t hashes[][EC_SHA256_BYTES], size_t ca_count, int64_t at_ms,
                        nitro_cache_hit *hit) {
    int64_t at = at_ms / 1000;
    uint8_t leaf_key_id[EC_SHA256_BYTES], ca_key_id[EC_SHA256_BYTES];
    int found = -1;
    memset(hit, 0, sizeof *hit);
    if (path_key(hashes, ca_count, 1, leaf_key_id) != 0 || path_key(hashes, ca_count, 0, ca_key_id) != 0) return -1;
    pthread_mutex_lock(&cache->lock);
    for (size_t i = 0; i < CACHE_PATHS; i++)
        if (cache->paths[i].used && cache->paths[i].valid_until < at) path_clear(&cache->paths[i]);
    cached_path *path = cache_find(cache, leaf_key_id, 1);
    if (path == NULL || at < path->valid_from) path = cache_find(cache, ca_key_id, 0);
    if (path != NULL && at >= path->valid_from && at <= path->valid_until) {
        path->last_use = ++cache->uses;
        hit->valid_from = path->valid_from;
        hit->valid_until = path->valid_until;
        if (path->leaf_key != NULL) {
            if (EVP_PKEY_up_ref(path->leaf_key) == 1) {
                hit->leaf_key = path->leaf_key;
                found = 0;
            }
        } else {
            found = 0;
            for (size_t i = 0; i < path->ca_count; i++) {
                if (X509_up_ref(path->cas[i]) != 1) {
                    found = -1;
                    break;
                }
                hit->cas[hit->ca_count++] = path->cas[i];
            }
        }
    }
    pthread_mutex_unlock(&cache->lock);
    if (found != 0) nitro_cache_hit_free(hit);
    return found;
}

void nitro_cache_hit_free(nitro_cache_hit *hit) {
    for (size_t i = 0; i < hit->ca_count; i++) X509_free(hit->cas[i]);
    EVP_PKEY_free(hit->leaf_key);
    memset(hit, 0, sizeof *hit);
}

/* Remembers a proven path: a CA entry (cas, ca_count of them) or a leaf entry (leaf_key). */
void nitro_cache_remember(nitro_path_cache *cache, const uint8_t hashes[][EC_SHA256_BYTES], size_t ca_count, X509 *const *cas,
                           EVP_PKEY *leaf_key, int64_t valid_from, int64_t valid_until) {
    if (valid_from > valid_until) return;
    cached_path fresh = {.used = 1, .valid_from = valid_from, .valid_until = valid_until};
    if (path_key(hashes, ca_count, leaf_key != NULL, fresh.key) != 0) return;
    if (leaf_key != NULL) {
        if (EVP_PKEY_up_ref(leaf_key) != 1) return;
        fresh.leaf_key = leaf_key;
    } else {
        for (size_t i = 0; i < ca_count; i++) {
            if (X509_up_ref(cas[i]) != 1) {
                path_clear(&fresh);
                return;
            }
            fresh.cas[fresh.ca_count++] = cas[i];
        }
    }
    pthread_mutex_lock(&cache->lock);
    cached_path *slot = cache_find(cache, fresh.key, leaf_key != NULL);
    for (size_t i = 0; slot == NULL && i < CACHE_PATHS; i++)
        if (!cache->paths[i].used) slot = &cache->paths[i];
    if (slot == NULL) { /* the least recently used */
        slot = &cache->paths[0];
        for (size_t i = 1; i < CACHE_PATHS; i++)
            if (cache->paths[i].last_use < slot->last_use) slot = &cache->paths[i];
    }
    path_clear(slot);
    fresh.last_use = ++cache->uses;
    *slot = fresh;
    pthread_mutex_unlock(&cache->lock);
}

ec_nitro_verifier *ec_nitro_verifier_new(const uint8_t *root_der, size_t root_len) {
    if (root_der == NULL || root_len == 0) return NULL;
    ec_view root = {root_der, root_len};
    X509 *pinned = nitro_parse_der(&root);
    if (pinned == NULL) return NULL;
    ec_nitro_verifier *v = calloc(1, sizeof *v);
    if (v == NULL || (v->root_der = malloc(root_len)) == NULL || pthread_mutex_init(&v->cache.lock, NULL) != 0) {
        X509_free(pinned);
        if (v != NULL) free(v->root_der);
        free(v);
        return NULL;
    }
    v->root = pinned;
    memcpy(v->root_der, root_der, root_len);
    v->root_len = root_len;
    return v;
}

void ec_nitro_verifier_free(ec_nitro_verifier *v) {
    if (v == NULL) return;
    for (size_t i = 0; i < CACHE_PATHS; i++) path_clear(&v->cache.paths[i]);
    pthread_mutex_destroy(&v->cache.lock);
    X509_free(v->root);
    free(v->root_der);
    free(v);
}

int ec_nitro_verifier_verify(ec_nitro_verifier *v, const uint8_t *doc, size_t doc_len, int64_t at_ms,
                             ec_nitro_document *out, int *reason) {
    if (v == NULL || doc == NULL || out == NULL) return nitro_fail(reason, EC_NITRO_INTERNAL);
    int rc = nitro_verify_document(&v->cache, v->root_der, v->root_len, v->root, doc, doc_len, at_ms, out);
    if (rc != EC_NITRO_OK) {
        memset(out, 0, sizeof *out);
        return nitro_fail(reason, rc);
    }
    if (reason != NULL) *reason = EC_NITRO_OK;
    return 0;
}

/* The certificate links the cache vouches for: a CA entry's below the root, one per leaf entry. */
size_t ec_nitro_verifier_cached_links(const ec_nitro_verifier *v) {
    if (v == NULL) return 0;
    size_t count = 0;
    pthread_mutex_lock((pthread_mutex_t *)&v->cache.lock);
    for (size_t i = 0; i < CACHE_PATHS; i++) {
        const cached_path *path = &v->cache.paths[i];
        if (path->used) count += path->leaf_key != NULL ? 1 : path->ca_count - 1;
    }
    pthread_mutex_unlock((pthread_mutex_t *)&v->cache.lock);
    return count;
}
