#include "benchmark_baselines.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int baseline_naive_verify(const uint8_t *key, size_t key_len, const char *method, size_t method_len,
                          const char *path, size_t path_len, const char *ts, size_t ts_len,
                          const char *nonce, size_t nonce_len, const uint8_t *body, size_t body_len,
                          const char *sig_hex, size_t sig_hex_len) {
    if (sig_hex_len != 64) return -1;
    uint8_t expected[32];
    for (int i = 0; i < 32; i++) {
        int hi = hexval(sig_hex[2 * i]), lo = hexval(sig_hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return -1;
        expected[i] = (uint8_t)(hi << 4 | lo);
    }
    size_t len = method_len + path_len + ts_len + nonce_len + body_len + 4;
    uint8_t *msg = malloc(len), *p = msg;
    memcpy(p, method, method_len), p += method_len, *p++ = 0;
    memcpy(p, path, path_len), p += path_len, *p++ = 0;
    memcpy(p, ts, ts_len), p += ts_len, *p++ = 0;
    memcpy(p, nonce, nonce_len), p += nonce_len, *p++ = 0;
    memcpy(p, body, body_len);
    uint8_t mac[32];
    unsigned mac_len = 0;
    int ok = HMAC(EVP_sha256(), key, (int)key_len, msg, len, mac, &mac_len) != NULL;
    free(msg);
    return ok && mac_len == 32 && CRYPTO_memcmp(mac, expected, 32) == 0 ? 0 : -1;
}

void *baseline_ed25519_key_new(const uint8_t seed[32]) {
    return EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
}

void baseline_ed25519_key_free(void *key) { EVP_PKEY_free(key); }

int baseline_ed25519_sign(void *key, const uint8_t *msg, size_t len, uint8_t sig[64]) {
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t sig_len = 64;
    int ok = EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) == 1 && EVP_DigestSign(ctx, sig, &sig_len, msg, len) == 1;
    EVP_MD_CTX_free(ctx);
    return ok ? 0 : -1;
}
