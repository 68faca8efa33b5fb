/* The floor of a KMS release's work at start: what opening CiphertextForRecipient cannot avoid, one
 * RSA-2048 OAEP (SHA-256) decryption of the content key and one AES-256-CBC block decryption, with
 * OpenSSL on a key and ciphertexts made beforehand. */
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <stdlib.h>

#include "benchmark_baselines.h"

struct kms_floor {
    EVP_PKEY *key;
    unsigned char wrapped[256];
    size_t wrapped_len;
    unsigned char content_key[32], iv[16], block[16];
};

static EVP_PKEY_CTX *oaep_ctx(EVP_PKEY *key, int decrypt) {
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
    if (ctx == NULL || (decrypt ? EVP_PKEY_decrypt_init(ctx) : EVP_PKEY_encrypt_init(ctx)) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) != 1 || EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) != 1 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) != 1) {
        EVP_PKEY_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

kms_floor *kms_floor_new(void) {
    kms_floor *f = calloc(1, sizeof *f);
    EVP_PKEY_CTX *gen = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, NULL);
    int ok = f != NULL && gen != NULL && EVP_PKEY_keygen_init(gen) == 1 && EVP_PKEY_CTX_set_rsa_keygen_bits(gen, 2048) == 1 &&
             EVP_PKEY_keygen(gen, &f->key) == 1 && RAND_bytes(f->content_key, 32) == 1 && RAND_bytes(f->iv, 16) == 1 &&
             RAND_bytes(f->block, 16) == 1;
    EVP_PKEY_CTX_free(gen);
    EVP_PKEY_CTX *enc = ok ? oaep_ctx(f->key, 0) : NULL;
    f->wrapped_len = sizeof f->wrapped;
    ok = ok && enc != NULL && EVP_PKEY_encrypt(enc, f->wrapped, &f->wrapped_len, f->content_key, 32) == 1;
    EVP_PKEY_CTX_free(enc);
    if (!ok) {
        kms_floor_free(f);
        return NULL;
    }
    return f;
}

int kms_floor_run(const kms_floor *f) {
    unsigned char key[256], plain[32];
    size_t key_len = sizeof key;
    EVP_PKEY_CTX *ctx = oaep_ctx(f->key, 1);
    int ok = ctx != NULL && EVP_PKEY_decrypt(ctx, key, &key_len, f->wrapped, f->wrapped_len) == 1 && key_len == 32;
    EVP_PKEY_CTX_free(ctx);
    EVP_CIPHER_CTX *aes = EVP_CIPHER_CTX_new();
    int n = 0;
    ok = ok && aes != NULL && EVP_DecryptInit_ex(aes, EVP_aes_256_cbc(), NULL, key, f->iv) == 1 &&
         EVP_CIPHER_CTX_set_padding(aes, 0) == 1 && EVP_DecryptUpdate(aes, plain, &n, f->block, 16) == 1 && n == 16;
    EVP_CIPHER_CTX_free(aes);
    return ok ? 0 : -1;
}

void kms_floor_free(kms_floor *f) {
    if (f == NULL) return;
    EVP_PKEY_free(f->key);
    free(f);
}
