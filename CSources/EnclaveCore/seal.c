/* Sealing with AES-256-GCM: nonce (12, random) || ciphertext || tag (16), associated data bound in. */
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "ec_internal.h"

static int lengths_ok(const uint8_t *aad, size_t aad_len, const uint8_t *data, size_t data_len) {
    /* OpenSSL takes int lengths. */
    return EC_BUF_OK(aad, aad_len) && EC_BUF_OK(data, data_len) && aad_len <= INT_MAX &&
           data_len <= INT_MAX - EC_SEAL_OVERHEAD_BYTES;
}

/* Runs one GCM pass; tag is written when encrypting and checked when decrypting. */
static int gcm(int encrypt, const uint8_t key[EC_SEAL_KEY_BYTES], const uint8_t nonce[EC_SEAL_NONCE_BYTES],
               const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t in_len, uint8_t *out,
               uint8_t tag[EC_SEAL_TAG_BYTES]) {
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL) return -1;
    int n = 0;
    int ok = EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce, encrypt) == 1;
    if (ok && aad_len > 0) ok = EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aad_len) == 1;
    if (ok && in_len > 0) ok = EVP_CipherUpdate(ctx, out, &n, in, (int)in_len) == 1;
    if (ok && !encrypt) ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, EC_SEAL_TAG_BYTES, tag) == 1;
    uint8_t none[1];
    /* GCM's final step writes no bytes; avoid forming out + 0 from a NULL out. */
    if (ok) ok = EVP_CipherFinal_ex(ctx, out != NULL ? out + in_len : none, &n) == 1;
    if (ok && encrypt) ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, EC_SEAL_TAG_BYTES, tag) == 1;
    EVP_CIPHER_CTX_free(ctx);
    return ok ? 0 : -1;
}

int ec_seal(const uint8_t key[EC_SEAL_KEY_BYTES], const uint8_t *aad, size_t aad_len,
            const uint8_t *plain, size_t plain_len, uint8_t *out, size_t out_cap, size_t *out_len) {
    if (key == NULL || out == NULL || out_len == NULL || !lengths_ok(aad, aad_len, plain, plain_len))
        return -1;
    if (out_cap < plain_len + EC_SEAL_OVERHEAD_BYTES) return -1;
    uint8_t *nonce = out;
    uint8_t *cipher = out + EC_SEAL_NONCE_BYTES;
    uint8_t *tag = cipher + plain_len;
    if (ec_random(nonce, EC_SEAL_NONCE_BYTES) != 0 ||
        gcm(1, key, nonce, aad, aad_len, plain, plain_len, cipher, tag) != 0) {
        ec_wipe(out, plain_len + EC_SEAL_OVERHEAD_BYTES);
        return -1;
    }
    *out_len = plain_len + EC_SEAL_OVERHEAD_BYTES;
    return 0;
}

int ec_open(const uint8_t key[EC_SEAL_KEY_BYTES], const uint8_t *aad, size_t aad_len,
            const uint8_t *sealed, size_t sealed_len, uint8_t *out, size_t out_cap, size_t *out_len) {
    if (key == NULL || sealed == NULL || out_len == NULL || sealed_len < EC_SEAL_OVERHEAD_BYTES)
        return -1;
    size_t plain_len = sealed_len - EC_SEAL_OVERHEAD_BYTES;
    if (!lengths_ok(aad, aad_len, out, plain_len) || out_cap < plain_len) return -1;
    uint8_t tag[EC_SEAL_TAG_BYTES];
    for (size_t i = 0; i < EC_SEAL_TAG_BYTES; i++) tag[i] = sealed[sealed_len - EC_SEAL_TAG_BYTES + i];
    /* GCM writes plaintext before the tag is checked: never hand out unauthenticated bytes. */
    if (gcm(0, key, sealed, aad, aad_len, sealed + EC_SEAL_NONCE_BYTES, plain_len, out, tag) != 0) {
        ec_wipe(out, plain_len);
        return -1;
    }
    *out_len = plain_len;
    return 0;
}
