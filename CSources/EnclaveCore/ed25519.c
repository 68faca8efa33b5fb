/* Ed25519 signing of attestation evidence and verification of it, on OpenSSL's EVP API. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>

#include "ec_internal.h"

struct ec_signer {
    EVP_PKEY *key; /* parsed once; EVP_PKEY_free cleanses the private key */
    uint8_t public_key[EC_ED25519_PUBLIC_KEY_BYTES];
};

ec_signer *ec_signer_new(const uint8_t seed[EC_ED25519_SEED_BYTES]) {
    if (seed == NULL) return NULL;
    ec_signer *s = calloc(1, sizeof *s);
    if (s == NULL) return NULL;
    s->key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, EC_ED25519_SEED_BYTES);
    size_t pk_len = sizeof s->public_key;
    if (s->key == NULL || EVP_PKEY_get_raw_public_key(s->key, s->public_key, &pk_len) != 1 ||
        pk_len != sizeof s->public_key) {
        ec_signer_free(s);
        return NULL;
    }
    return s;
}

void ec_signer_free(ec_signer *s) {
    if (s == NULL) return;
    EVP_PKEY_free(s->key);
    OPENSSL_cleanse(s, sizeof *s);
    free(s);
}

int ec_signer_public_key(const ec_signer *s, uint8_t pk[EC_ED25519_PUBLIC_KEY_BYTES]) {
    if (s == NULL || pk == NULL) return -1;
    for (size_t i = 0; i < EC_ED25519_PUBLIC_KEY_BYTES; i++) pk[i] = s->public_key[i];
    return 0;
}

int ec_signer_sign(const ec_signer *s, const uint8_t *msg, size_t len,
                   uint8_t sig[EC_ED25519_SIGNATURE_BYTES]) {
    if (s == NULL || sig == NULL || !EC_BUF_OK(msg, len)) return -1;
    /* A context per call keeps one signer safe to share between threads. */
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL) return -1;
    size_t sig_len = EC_ED25519_SIGNATURE_BYTES;
    static const uint8_t empty = 0;
    int ok = EVP_DigestSignInit(ctx, NULL, NULL, NULL, s->key) == 1 &&
             EVP_DigestSign(ctx, sig, &sig_len, msg != NULL ? msg : &empty, len) == 1 &&
             sig_len == EC_ED25519_SIGNATURE_BYTES;
    EVP_MD_CTX_free(ctx);
    return ok ? 0 : -1;
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
