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

/* The floor of a Nitro document's verification: its certificates (root first, leaf last) and its
 * COSE parts parsed once; nitro_floor_run does only the five signature verifications. */
typedef struct nitro_floor nitro_floor;
nitro_floor *nitro_floor_new(const uint8_t *const *ders, const size_t *der_lens, size_t count, const uint8_t *protected_bytes,
                             size_t protected_len, const uint8_t *payload, size_t payload_len, const uint8_t signature[96]);
int nitro_floor_run(const nitro_floor *f);
void nitro_floor_free(nitro_floor *f);

/* The floor of opening KMS's CiphertextForRecipient: one RSA-2048 OAEP (SHA-256) decryption and one
 * AES-256-CBC block decryption, key and ciphertexts made by kms_floor_new. */
typedef struct kms_floor kms_floor;
kms_floor *kms_floor_new(void);
int kms_floor_run(const kms_floor *f);
void kms_floor_free(kms_floor *f);
#endif
