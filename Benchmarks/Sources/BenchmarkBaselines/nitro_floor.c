/* The floor of verifying a Nitro document: the five P-384 signature verifications nothing can
 * avoid (four certificate links, root -> intermediates -> leaf, and the COSE signature), done
 * directly with OpenSSL on certificates and keys parsed beforehand. Nothing else: no CBOR, no
 * chain building, no time or extension checks. */
#include "benchmark_baselines.h"

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

struct nitro_floor {
    X509 *certs[8]; /* root first, the leaf last */
    EVP_PKEY *keys[8];
    size_t count;
    uint8_t *signed_bytes; /* Sig_structure */
    size_t signed_len;
    unsigned char *signature; /* DER */
    int signature_len;
};

static size_t bstr_head(uint8_t *out, size_t len) {
    if (len < 24) { out[0] = (uint8_t)(0x40 | len); return 1; }
    if (len <= 0xff) { out[0] = 0x58; out[1] = (uint8_t)len; return 2; }
    out[0] = 0x59; out[1] = (uint8_t)(len >> 8); out[2] = (uint8_t)len; return 3;
}

nitro_floor *nitro_floor_new(const uint8_t *const *ders, const size_t *der_lens, size_t count, const uint8_t *protected_bytes,
                             size_t protected_len, const uint8_t *payload, size_t payload_len, const uint8_t signature[96]) {
    nitro_floor *f = calloc(1, sizeof *f);
    if (f == NULL || count > 8) return NULL;
    for (size_t i = 0; i < count; i++) {
        const unsigned char *p = ders[i];
        f->certs[i] = d2i_X509(NULL, &p, (long)der_lens[i]);
        f->keys[i] = f->certs[i] != NULL ? X509_get_pubkey(f->certs[i]) : NULL;
        if (f->keys[i] == NULL) return NULL;
    }
    f->count = count;
    /* ["Signature1", protected, h'', payload] */
    f->signed_bytes = malloc(12 + 3 + protected_len + 1 + 3 + payload_len);
    uint8_t *w = f->signed_bytes;
    static const uint8_t context[] = {0x84, 0x6a, 'S', 'i', 'g', 'n', 'a', 't', 'u', 'r', 'e', '1'};
    memcpy(w, context, sizeof context), w += sizeof context;
    w += bstr_head(w, protected_len);
    memcpy(w, protected_bytes, protected_len), w += protected_len;
    *w++ = 0x40;
    w += bstr_head(w, payload_len);
    memcpy(w, payload, payload_len), w += payload_len;
    f->signed_len = (size_t)(w - f->signed_bytes);
    ECDSA_SIG *sig = ECDSA_SIG_new();
    ECDSA_SIG_set0(sig, BN_bin2bn(signature, 48, NULL), BN_bin2bn(signature + 48, 48, NULL));
    f->signature_len = i2d_ECDSA_SIG(sig, &f->signature);
    ECDSA_SIG_free(sig);
    return f;
}

int nitro_floor_run(const nitro_floor *f) {
    int ok = 1;
    for (size_t i = 1; i < f->count; i++) ok &= X509_verify(f->certs[i], f->keys[i - 1]) == 1;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    ok &= EVP_DigestVerifyInit(ctx, NULL, EVP_sha384(), NULL, f->keys[f->count - 1]) == 1 &&
          EVP_DigestVerify(ctx, f->signature, (size_t)f->signature_len, f->signed_bytes, f->signed_len) == 1;
    EVP_MD_CTX_free(ctx);
    return ok ? 0 : -1;
}

void nitro_floor_free(nitro_floor *f) {
    if (f == NULL) return;
    for (size_t i = 0; i < f->count; i++) {
        EVP_PKEY_free(f->keys[i]);
        X509_free(f->certs[i]);
    }
    free(f->signed_bytes);
    OPENSSL_free(f->signature);
    free(f);
}
