/* The attested TLS certificate (docs/contract.md §2b): X.509 v3, self-signed with the evidence
 * key, carrying the attestation document's JSON in one non-critical extension. Written here as
 * DER so the signing key never leaves the core (the TLS library signs its handshakes through a
 * custom-key hook that calls ec_ed25519_signer_sign too); read back with OpenSSL's parser. */
#define _POSIX_C_SOURCE 200809L /* gmtime_r */
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <time.h>

#include "ec_internal.h"

/* 2.25.267775713998348542974421145614813140568, DER content octets. */
static const uint8_t DOCUMENT_OID[] = {0x69, 0x83, 0x92, 0xf3, 0xdd, 0x80, 0xc8, 0x94, 0xd2, 0xae,
                                       0xad, 0x94, 0xd1, 0xf8, 0xa0, 0xa5, 0x96, 0xfa, 0xac, 0x58};
static const uint8_t ED25519_ALGORITHM[] = {0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70};
/* Name: CN=enclave-runtime, as issuer and subject. */
static const uint8_t NAME[] = {0x30, 0x1a, 0x31, 0x18, 0x30, 0x16, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x0f,
                               'e', 'n', 'c', 'l', 'a', 'v', 'e', '-', 'r', 'u', 'n', 't', 'i', 'm', 'e'};

/* A DER writer into a caller's buffer that keeps counting past its end, so one pass gives the size. */
typedef struct {
    uint8_t *out;
    size_t cap, len;
} der;

static void put(der *d, const uint8_t *bytes, size_t n) {
    if (d->out != NULL && d->len + n <= d->cap) memcpy(d->out + d->len, bytes, n);
    d->len += n;
}

static void put_byte(der *d, uint8_t b) { put(d, &b, 1); }

static size_t length_size(size_t n) { return n < 0x80 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 4; }

static void put_header(der *d, uint8_t tag, size_t n) {
    put_byte(d, tag);
    size_t size = length_size(n);
    if (size == 1) {
        put_byte(d, (uint8_t)n);
        return;
    }
    put_byte(d, (uint8_t)(0x80 | (size - 1)));
    for (size_t i = size - 1; i > 0; i--) put_byte(d, (uint8_t)(n >> (8 * (i - 1))));
}

static size_t tlv_size(size_t n) { return 1 + length_size(n) + n; }

/* UTCTime before 2050, GeneralizedTime from then on (RFC 5280 4.1.2.5). */
static int put_time(der *d, int64_t unix_seconds) {
    time_t t = (time_t)unix_seconds;
    struct tm tm;
    if ((int64_t)t != unix_seconds || gmtime_r(&t, &tm) == NULL) return -1;
    int year = tm.tm_year + 1900;
    if (year < 1950 || year > 9999) return -1;
    /* YYYYMMDDHHMMSSZ, or without the century for UTCTime. */
    int fields[] = {year / 100, year % 100, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec};
    uint8_t text[15];
    size_t n = 0;
    for (size_t i = year < 2050 ? 1 : 0; i < sizeof fields / sizeof fields[0]; i++) {
        text[n++] = (uint8_t)('0' + fields[i] / 10);
        text[n++] = (uint8_t)('0' + fields[i] % 10);
    }
    text[n++] = 'Z';
    put_header(d, year < 2050 ? 0x17 : 0x18, n);
    put(d, text, n);
    return 0;
}

static size_t time_size(int64_t unix_seconds) {
    return unix_seconds < 2524608000 ? tlv_size(13) : tlv_size(15); /* 2050-01-01T00:00:00Z */
}

/* The TBSCertificate; serial is 16 bytes with its top bit clear. */
static int put_tbs(der *d, const uint8_t serial[16], const uint8_t pk[32], const uint8_t *document, size_t document_len,
                   int64_t not_before, int64_t not_after) {
    size_t validity = time_size(not_before) + time_size(not_after);
    size_t extension = tlv_size(sizeof DOCUMENT_OID) + tlv_size(document_len);
    size_t extensions = tlv_size(tlv_size(extension));
    size_t spki = sizeof ED25519_ALGORITHM + tlv_size(33);
    size_t content = 5 + tlv_size(16) + sizeof ED25519_ALGORITHM + sizeof NAME + tlv_size(validity) + sizeof NAME +
                     tlv_size(spki) + tlv_size(extensions);
    put_header(d, 0x30, content);
    static const uint8_t version3[] = {0xa0, 0x03, 0x02, 0x01, 0x02};
    put(d, version3, sizeof version3);
    put_header(d, 0x02, 16);
    put(d, serial, 16);
    put(d, ED25519_ALGORITHM, sizeof ED25519_ALGORITHM);
    put(d, NAME, sizeof NAME);
    put_header(d, 0x30, validity);
    if (put_time(d, not_before) != 0 || put_time(d, not_after) != 0) return -1;
    put(d, NAME, sizeof NAME);
    put_header(d, 0x30, spki);
    put(d, ED25519_ALGORITHM, sizeof ED25519_ALGORITHM);
    put_header(d, 0x03, 33);
    put_byte(d, 0x00);
    put(d, pk, 32);
    put_header(d, 0xa3, extensions);
    put_header(d, 0x30, tlv_size(extension));
    put_header(d, 0x30, extension);
    put_header(d, 0x06, sizeof DOCUMENT_OID);
    put(d, DOCUMENT_OID, sizeof DOCUMENT_OID);
    put_header(d, 0x04, document_len); /* extnValue: the document's bytes, no further wrapping */
    put(d, document, document_len);
    return 0;
}

int ec_attested_certificate(const ec_ed25519_signer *s, const uint8_t *document, size_t document_len, int64_t not_before,
                            int64_t not_after, uint8_t *out, size_t cap, size_t *len) {
    if (s == NULL || len == NULL || (document == NULL && document_len > 0) || document_len == 0 ||
        document_len > EC_ATTESTED_CERT_MAX_DOCUMENT_BYTES || not_after <= not_before)
        return -1;
    uint8_t pk[32];
    if (ec_ed25519_signer_public_key(s, pk) != 0) return -1;
    uint8_t serial[16];
    if (ec_random(serial, sizeof serial) != 0) return -1;
    serial[0] = (uint8_t)((serial[0] & 0x7f) | 0x40); /* positive, and no leading zero to strip */

    der sizing = {NULL, 0, 0};
    if (put_tbs(&sizing, serial, pk, document, document_len, not_before, not_after) != 0) return -1;
    size_t tbs_len = sizing.len;
    size_t content = tbs_len + sizeof ED25519_ALGORITHM + tlv_size(65);
    *len = tlv_size(content);
    if (out == NULL || cap < *len) return -1;

    der d = {out, cap, 0};
    put_header(&d, 0x30, content);
    size_t tbs_at = d.len;
    if (put_tbs(&d, serial, pk, document, document_len, not_before, not_after) != 0) return -1;
    uint8_t signature[EC_ED25519_SIGNATURE_BYTES];
    if (ec_ed25519_signer_sign(s, out + tbs_at, tbs_len, signature) != 0) return -1;
    put(&d, ED25519_ALGORITHM, sizeof ED25519_ALGORITHM);
    put_header(&d, 0x03, 65);
    put_byte(&d, 0x00);
    put(&d, signature, sizeof signature);
    return d.len == *len ? 0 : -1;
}

int ec_attested_certificate_document(const uint8_t *certificate, size_t certificate_len, uint8_t *document, size_t cap,
                                     size_t *document_len, uint8_t pk[EC_ED25519_PUBLIC_KEY_BYTES]) {
    if (certificate == NULL || document_len == NULL || pk == NULL || certificate_len == 0 || certificate_len > (1u << 20))
        return -1;
    const unsigned char *cursor = certificate;
    X509 *x509 = d2i_X509(NULL, &cursor, (long)certificate_len);
    int rc = -1;
    ASN1_OBJECT *oid = NULL;
    EVP_PKEY *key = NULL;
    if (x509 == NULL || cursor != certificate + certificate_len) goto done; /* nothing after the certificate */
    key = X509_get_pubkey(x509);
    size_t pk_len = EC_ED25519_PUBLIC_KEY_BYTES;
    if (key == NULL || EVP_PKEY_id(key) != EVP_PKEY_ED25519 || EVP_PKEY_get_raw_public_key(key, pk, &pk_len) != 1 ||
        pk_len != EC_ED25519_PUBLIC_KEY_BYTES)
        goto done;
    oid = OBJ_txt2obj("2.25.267775713998348542974421145614813140568", 1);
    if (oid == NULL) goto done;
    int at = X509_get_ext_by_OBJ(x509, oid, -1);
    if (at < 0 || X509_get_ext_by_OBJ(x509, oid, at) >= 0) goto done; /* exactly one */
    X509_EXTENSION *extension = X509_get_ext(x509, at);
    const ASN1_OCTET_STRING *value = X509_EXTENSION_get_data(extension);
    if (X509_EXTENSION_get_critical(extension) || value == NULL || value->length <= 0) goto done;
    *document_len = (size_t)value->length;
    if (document == NULL || cap < *document_len) goto done;
    memcpy(document, value->data, *document_len);
    rc = 0;
done:
    ASN1_OBJECT_free(oid);
    EVP_PKEY_free(key);
    X509_free(x509);
    return rc;
}
