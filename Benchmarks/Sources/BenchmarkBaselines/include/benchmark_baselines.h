/* Baselines for the core's benchmarks: what a caller would write with OpenSSL alone. */
#ifndef BENCHMARK_BASELINES_H
#define BENCHMARK_BASELINES_H
#include <stddef.h>
#include <stdint.h>

/* Naive request verification: concatenate the canonical message into a fresh buffer, one-shot
 * HMAC(), decode the hex signature, CRYPTO_memcmp. Returns 0 on match, -1 otherwise. */
int baseline_naive_verify(const uint8_t *key, size_t key_len, const char *method, size_t method_len,
                          const char *path, size_t path_len, const char *ts, size_t ts_len,
                          const char *nonce, size_t nonce_len, const uint8_t *body, size_t body_len,
                          const char *sig_hex, size_t sig_hex_len);

/* An Ed25519 key parsed once (EVP_PKEY), and a raw EVP_DigestSign with it. */
void *baseline_ed25519_key_new(const uint8_t seed[32]);
void baseline_ed25519_key_free(void *key);
int baseline_ed25519_sign(void *key, const uint8_t *msg, size_t len, uint8_t sig[64]);
#endif
