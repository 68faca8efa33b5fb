/* Differential fuzzing of the verifier's path cache: over a sequence of documents, a verifier
 * that keeps its cache gives, document after document, exactly the answer of the one-shot call.
 * The documents are made here, really signed, from a pool of P-384 certificates made at start
 * under a root of our own: genuine chains, a self-signed CA of an attacker, CAs named like others,
 * a CA with name constraints, short-lived certificates, leaves that are CAs; signed by the leaf's
 * key or another. Each document of the input is described by
 *   byte 0: bits 0-1 bundle size - 1, bits 2-3 the verification time, bit 4 signed by another key,
 *           bit 5 the bundle's first certificate taken from the next byte instead of the root;
 *   then the bundle's certificates (pool indexes, cabundle[0] first unless bit 5), then the leaf.
 * The link cache of before issue 31 fails this within a few documents: a refused document taught
 * it links that the next one used. */
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "enclave_core.h"
#include "fuzz_common.h"

#define POOL 16
#define MAX_DOCS 6
#define T0 1767225600 /* 2026-01-01: the time every certificate is made around */

typedef struct {
    EVP_PKEY *key;
    uint8_t der[2048];
    size_t der_len;
} pooled;

static pooled pool[POOL];
static EVP_PKEY *other_key;
static const int64_t times[4] = {T0, T0 + 3600 /* J's notAfter exactly */, T0 + 7200, T0 + 40 * 86400};

static X509 *make_cert(const char *subject, const char *issuer, EVP_PKEY *key, EVP_PKEY *issuer_key, long from, long until,
                       int ca, const char *extra_nid_value, int extra_nid) {
    X509 *cert = X509_new();
    X509_NAME *s = X509_NAME_new(), *i = X509_NAME_new();
    X509_NAME_add_entry_by_txt(s, "CN", MBSTRING_ASC, (const unsigned char *)subject, -1, -1, 0);
    X509_NAME_add_entry_by_txt(i, "CN", MBSTRING_ASC, (const unsigned char *)issuer, -1, -1, 0);
    X509_set_version(cert, 2);
    static long serial = 1;
    ASN1_INTEGER_set(X509_get_serialNumber(cert), serial++);
    X509_set_subject_name(cert, s);
    X509_set_issuer_name(cert, i);
    time_t base = T0;
    X509_time_adj_ex(X509_getm_notBefore(cert), 0, from, &base);
    X509_time_adj_ex(X509_getm_notAfter(cert), 0, until, &base);
    X509_set_pubkey(cert, key);
    X509_EXTENSION *bc = X509V3_EXT_conf_nid(NULL, NULL, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    X509_EXTENSION *ku = X509V3_EXT_conf_nid(NULL, NULL, NID_key_usage,
                                             ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
    X509_add_ext(cert, bc, -1);
    X509_add_ext(cert, ku, -1);
    X509_EXTENSION_free(bc);
    X509_EXTENSION_free(ku);
    if (extra_nid_value != NULL) {
        X509_EXTENSION *extra = X509V3_EXT_conf_nid(NULL, NULL, extra_nid, extra_nid_value);
        FUZZ_ASSERT(extra != NULL);
        X509_add_ext(cert, extra, -1);
        X509_EXTENSION_free(extra);
    }
    FUZZ_ASSERT(X509_sign(cert, issuer_key, EVP_sha384()) > 0);
    X509_NAME_free(s);
    X509_NAME_free(i);
    return cert;
}

static void put(int index, X509 *cert, EVP_PKEY *key) {
    unsigned char *p = pool[index].der;
    int n = i2d_X509(cert, NULL);
    FUZZ_ASSERT(n > 0 && (size_t)n <= sizeof pool[index].der);
    pool[index].der_len = (size_t)i2d_X509(cert, &p);
    pool[index].key = key;
    X509_free(cert);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    EVP_PKEY *k[POOL];
    for (int i = 0; i < POOL; i++) k[i] = EVP_EC_gen("P-384");
    other_key = EVP_EC_gen("P-384");
    const long day = 86400, hour = 3600;
    put(0, make_cert("R", "R", k[0], k[0], -3650 * day, 3650 * day, 1, NULL, 0), k[0]);            /* the pinned root */
    put(1, make_cert("I", "R", k[1], k[0], -day, 30 * day, 1, NULL, 0), k[1]);                    /* intermediate */
    put(2, make_cert("I2", "I", k[2], k[1], -day, 30 * day, 1, NULL, 0), k[2]);                   /* under it */
    put(3, make_cert("X", "X", k[3], k[3], -day, 30 * day, 1, NULL, 0), k[3]);                    /* the attacker's CA */
    put(4, make_cert("I", "X", k[4], k[3], -day, 30 * day, 1, NULL, 0), k[4]);                    /* named like I */
    put(5, make_cert("J", "R", k[5], k[0], -hour, hour, 1, NULL, 0), k[5]);                       /* short-lived */
    put(6, make_cert("R", "R", k[6], k[6], -day, 30 * day, 1, NULL, 0), k[6]);                    /* named like the root */
    put(7, make_cert("N", "R", k[7], k[0], -day, 30 * day, 1, "critical,permitted;DNS:example.com", NID_name_constraints), k[7]);
    put(8, make_cert("leaf-I", "I", k[8], k[1], -hour, 3 * hour, 0, NULL, 0), k[8]);
    put(9, make_cert("leaf-I2", "I2", k[9], k[2], -hour, 3 * hour, 0, NULL, 0), k[9]);
    put(10, make_cert("leaf-X", "X", k[10], k[3], -hour, 3 * hour, 0, NULL, 0), k[10]);
    put(11, make_cert("leaf-XI", "I", k[11], k[4], -hour, 3 * hour, 0, NULL, 0), k[11]);         /* issuer name I, key of XI */
    put(12, make_cert("leaf-R", "R", k[12], k[0], -hour, 3 * hour, 0, NULL, 0), k[12]);
    put(13, make_cert("leaf-J", "J", k[13], k[5], -hour, 3 * hour, 0, NULL, 0), k[13]);
    put(14, make_cert("I2", "I", k[14], k[1], -hour, 3 * hour, 0, NULL, 0), k[14]);              /* a leaf named like a CA */
    put(15, make_cert("leaf-N", "N", k[15], k[7], -hour, 3 * hour, 0, "DNS:example.com", NID_subject_alt_name), k[15]);
    return 0;
}

/* ---- A document, written as the NSM writes it ------------------------------------------------- */

typedef struct {
    uint8_t data[16384];
    size_t len;
} buffer;

static void append(buffer *b, const void *data, size_t len) {
    FUZZ_ASSERT(b->len + len <= sizeof b->data);
    if (len > 0) memcpy(b->data + b->len, data, len);
    b->len += len;
}

static void head(buffer *b, uint8_t major, uint64_t value) {
    uint8_t out[9];
    size_t n = 0;
    if (value < 24) {
        out[n++] = (uint8_t)(major << 5 | value);
    } else {
        int bytes = value <= 0xff ? 1 : value <= 0xffff ? 2 : value <= 0xffffffffu ? 4 : 8;
        out[n++] = (uint8_t)(major << 5 | (bytes == 1 ? 24 : bytes == 2 ? 25 : bytes == 4 ? 26 : 27));
        for (int i = bytes - 1; i >= 0; i--) out[n++] = (uint8_t)(value >> (8 * i));
    }
    append(b, out, n);
}

static void text(buffer *b, const char *s) {
    head(b, 3, strlen(s));
    append(b, s, strlen(s));
}

static void bytes(buffer *b, const uint8_t *data, size_t len) {
    head(b, 2, len);
    append(b, data, len);
}

static void payload(buffer *b, const int *bundle, size_t count, int leaf) {
    static const uint8_t pcr[48] = {1};
    head(b, 5, 6);
    text(b, "module_id");
    text(b, "i-0123456789abcdef0-enc0123456789abcdef");
    text(b, "digest");
    text(b, "SHA384");
    text(b, "timestamp");
    head(b, 0, (uint64_t)T0 * 1000);
    text(b, "pcrs");
    head(b, 5, 1);
    head(b, 0, 0);
    bytes(b, pcr, sizeof pcr);
    text(b, "certificate");
    bytes(b, pool[leaf].der, pool[leaf].der_len);
    text(b, "cabundle");
    head(b, 4, count);
    for (size_t i = 0; i < count; i++) bytes(b, pool[bundle[i]].der, pool[bundle[i]].der_len);
}

/* COSE_Sign1 [protected {1: -35}, {}, payload, ES384 r || s]. */
static void document(buffer *doc, const buffer *body, EVP_PKEY *key) {
    static const uint8_t protected_bytes[] = {0xa1, 0x01, 0x38, 0x22};
    buffer structure = {.len = 0};
    head(&structure, 4, 4);
    text(&structure, "Signature1");
    bytes(&structure, protected_bytes, sizeof protected_bytes);
    bytes(&structure, NULL, 0);
    bytes(&structure, body->data, body->len);
    uint8_t der[160], raw[96] = {0};
    size_t der_len = sizeof der;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    FUZZ_ASSERT(EVP_DigestSignInit(ctx, NULL, EVP_sha384(), NULL, key) == 1 &&
                EVP_DigestSign(ctx, der, &der_len, structure.data, structure.len) == 1);
    EVP_MD_CTX_free(ctx);
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    FUZZ_ASSERT(sig != NULL);
    FUZZ_ASSERT(BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw, 48) == 48 && BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw + 48, 48) == 48);
    ECDSA_SIG_free(sig);
    head(doc, 4, 4);
    bytes(doc, protected_bytes, sizeof protected_bytes);
    head(doc, 5, 0);
    bytes(doc, body->data, body->len);
    bytes(doc, raw, sizeof raw);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ec_nitro_verifier *cached = ec_nitro_verifier_new(pool[0].der, pool[0].der_len);
    FUZZ_ASSERT(cached != NULL);
    static buffer body, doc;
    size_t at = 0;
    for (int n = 0; n < MAX_DOCS && at < size; n++) {
        uint8_t shape = data[at++];
        size_t count = (shape & 3u) + 1;
        int bundle[4];
        for (size_t i = 0; i < count; i++)
            bundle[i] = i == 0 && !(shape & 0x20) ? 0 : at < size ? data[at++] % POOL : 0;
        int leaf = at < size ? data[at++] % POOL : 8;
        int64_t at_ms = times[(shape >> 2) & 3u] * 1000 + 500;
        body.len = doc.len = 0;
        payload(&body, bundle, count, leaf);
        document(&doc, &body, shape & 0x10 ? other_key : pool[leaf].key);

        ec_nitro_document one_shot, with_cache;
        int reason = -1, cached_reason = -1;
        int rc = ec_nitro_verify(doc.data, doc.len, pool[0].der, pool[0].der_len, at_ms, &one_shot, &reason);
        int cached_rc = ec_nitro_verifier_verify(cached, doc.data, doc.len, at_ms, &with_cache, &cached_reason);
        FUZZ_ASSERT(rc == cached_rc && reason == cached_reason);
        FUZZ_ASSERT(memcmp(&one_shot, &with_cache, sizeof one_shot) == 0);
    }
    ec_nitro_verifier_free(cached);
    return 0;
}
