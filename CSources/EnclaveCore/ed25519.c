/* Ed25519 evidence signing on libsodium; verification on OpenSSL's EVP API.
 * Signing is on the challenge endpoint's hot path: libsodium signs with a prepared 64-byte secret
 * key and no allocation (about 17 us here), where OpenSSL 3.0's EVP_DigestSign allocates a context
 * and fetches SHA-512 on every call (about 46 us). Ed25519 is deterministic, so the signatures are
 * the same bytes either way (RFC 8032 and Wycheproof vectors pin that). Verification stays on
 * OpenSSL so that what hosts accept does not change. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdlib.h>

#include "ec_internal.h"

struct ec_ed25519_signer {
    uint8_t secret_key[crypto_sign_SECRETKEYBYTES]; /* seed || public key, libsodium's layout */
    uint8_t public_key[EC_ED25519_PUBLIC_KEY_BYTES];
};

_Static_assert(crypto_sign_PUBLICKEYBYTES == EC_ED25519_PUBLIC_KEY_BYTES, "public key size");
_Static_assert(crypto_sign_SEEDBYTES == EC_ED25519_SEED_BYTES, "seed size");
_Static_assert(crypto_sign_BYTES == EC_ED25519_SIGNATURE_BYTES, "signature size");

ec_ed25519_signer *ec_ed25519_signer_new(const uint8_t seed[EC_ED25519_SEED_BYTES]) {
    if (seed == NULL) return NULL;
    /* Idempotent and thread-safe; -1 only when the library cannot initialise at all. */
    if (sodium_init() < 0) return NULL;
    ec_ed25519_signer *s = calloc(1, sizeof *s);
    if (s == NULL) return NULL;
    if (crypto_sign_seed_keypair(s->public_key, s->secret_key, seed) != 0) {
        ec_ed25519_signer_free(s);
        return NULL;
    }
    return s;
}

void ec_ed25519_signer_free(ec_ed25519_signer *s) {
    if (s == NULL) return;
    OPENSSL_cleanse(s, sizeof *s);
    free(s);
}

int ec_ed25519_signer_public_key(const ec_ed25519_signer *s, uint8_t pk[EC_ED25519_PUBLIC_KEY_BYTES]) {
    if (s == NULL || pk == NULL) return -1;
    for (size_t i = 0; i < EC_ED25519_PUBLIC_KEY_BYTES; i++) pk[i] = s->public_key[i];
    return 0;
}

/* Reads the signer only, so one signer is safe to share between threads. */
int ec_ed25519_signer_sign(const ec_ed25519_signer *s, const uint8_t *msg, size_t len,
                   uint8_t sig[EC_ED25519_SIGNATURE_BYTES]) {
    if (s == NULL || sig == NULL || !EC_BUF_OK(msg, len)) return -1;
    static const uint8_t empty = 0;
    return crypto_sign_detached(sig, NULL, msg != NULL ? msg : &empty, (unsigned long long)len, s->secret_key) == 0
               ? 0 : -1;
}

int ec_ed25519_verify(const uint8_t pk[EC_ED25519_PUBLIC_KEY_BYTES], const uint8_t *msg, size_t len,
                      const uint8_t sig[EC_ED25519_SIGNATURE_BYTES]) {
    if (pk == NULL || sig == NULL || !EC_BUF_OK(msg, len)) return -1;
    EVP_PKEY *key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pk, EC_ED25519_PUBLIC_KEY_BYTES);
    if (key == NULL) return -1;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    static const uint8_t empty = 0;
    int ok = ctx != NULL && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1 &&
             EVP_DigestVerify(ctx, sig, EC_ED25519_SIGNATURE_BYTES, msg != NULL ? msg : &empty, len) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    return ok ? 0 : -1;
}

/* The deprecated names of 1.2 (enclave_core.h): forwarders, removed in 2.0. */
ec_signer *ec_signer_new(const uint8_t seed[EC_ED25519_SEED_BYTES]) { return ec_ed25519_signer_new(seed); }
void ec_signer_free(ec_signer *s) { ec_ed25519_signer_free(s); }
int ec_signer_public_key(const ec_signer *s, uint8_t pk[EC_ED25519_PUBLIC_KEY_BYTES]) {
    return ec_ed25519_signer_public_key(s, pk);
}
int ec_signer_sign(const ec_signer *s, const uint8_t *msg, size_t len, uint8_t sig[EC_ED25519_SIGNATURE_BYTES]) {
    return ec_ed25519_signer_sign(s, msg, len, sig);
}
