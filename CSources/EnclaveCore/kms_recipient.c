/* The runtime's side of a KMS release (docs/contract.md §3b): an RSA-2048 key pair made in the
 * process, its public half as DER SubjectPublicKeyInfo for the attestation document, and the strict
 * opening of KMS's CiphertextForRecipient: a CMS EnvelopedData (BER accepted) with exactly one
 * KeyTransRecipientInfo under RSAES-OAEP with SHA-256, MGF1-SHA-256 and an empty label, and AES-256-CBC
 * content. Anything else is refused with a reason, and nothing it held is used. */
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "ec_internal.h"

struct ec_kms_recipient {
    EVP_PKEY *key;
};

ec_kms_recipient *ec_kms_recipient_new(void) {
    ec_kms_recipient *r = calloc(1, sizeof *r);
    if (r == NULL) return NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, NULL);
    int ok = ctx != NULL && EVP_PKEY_keygen_init(ctx) == 1 && EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048) == 1 &&
             EVP_PKEY_keygen(ctx, &r->key) == 1;
    EVP_PKEY_CTX_free(ctx);
    if (!ok) {
        ec_kms_recipient_free(r);
        return NULL;
    }
    return r;
}

/* EVP_PKEY_free clears the private key's numbers (OpenSSL's BN_clear_free) before freeing them. */
void ec_kms_recipient_free(ec_kms_recipient *r) {
    if (r == NULL) return;
    EVP_PKEY_free(r->key);
    free(r);
}

int ec_kms_recipient_public_key(const ec_kms_recipient *r, uint8_t *out, size_t cap, size_t *len) {
    if (r == NULL || len == NULL || !EC_BUF_OK(out, cap)) return -1;
    int n = i2d_PUBKEY(r->key, NULL);
    if (n <= 0) return -1;
    *len = (size_t)n;
    if (out == NULL || cap < (size_t)n) return -1;
    uint8_t *p = out;
    return i2d_PUBKEY(r->key, &p) == n ? 0 : -1;
}

/* ---- The algorithms of the one recipient and of the content ------------------------------- */

static int is_sha256(const X509_ALGOR *alg) {
    if (alg == NULL) return 0; /* absent means SHA-1 (RFC 8017) */
    const ASN1_OBJECT *oid;
    int ptype;
    const void *pval;
    X509_ALGOR_get0(&oid, &ptype, &pval, alg);
    return OBJ_obj2nid(oid) == NID_sha256 && (ptype == V_ASN1_UNDEF || ptype == V_ASN1_NULL);
}

/* RSAES-OAEP whose parameters name SHA-256, MGF1 with SHA-256, and no label or an empty one. */
static int key_encryption_ok(const X509_ALGOR *alg) {
    const ASN1_OBJECT *oid;
    int ptype;
    const void *pval;
    X509_ALGOR_get0(&oid, &ptype, &pval, alg);
    if (OBJ_obj2nid(oid) != NID_rsaesOaep || ptype != V_ASN1_SEQUENCE) return 0;
    const ASN1_STRING *seq = pval;
    const unsigned char *p = ASN1_STRING_get0_data(seq);
    RSA_OAEP_PARAMS *params = d2i_RSA_OAEP_PARAMS(NULL, &p, ASN1_STRING_length(seq));
    if (params == NULL) return 0;
    int ok = p == ASN1_STRING_get0_data(seq) + ASN1_STRING_length(seq) && is_sha256(params->hashFunc) &&
             params->maskGenFunc != NULL;
    if (ok) {
        const ASN1_OBJECT *mgf;
        int mgf_type;
        const void *mgf_value;
        X509_ALGOR_get0(&mgf, &mgf_type, &mgf_value, params->maskGenFunc);
        ok = OBJ_obj2nid(mgf) == NID_mgf1 && mgf_type == V_ASN1_SEQUENCE;
        if (ok) {
            const ASN1_STRING *inner = mgf_value;
            const unsigned char *q = ASN1_STRING_get0_data(inner);
            X509_ALGOR *hash = d2i_X509_ALGOR(NULL, &q, ASN1_STRING_length(inner));
            ok = hash != NULL && q == ASN1_STRING_get0_data(inner) + ASN1_STRING_length(inner) && is_sha256(hash);
            X509_ALGOR_free(hash);
        }
    }
    if (ok && params->pSourceFunc != NULL) {
        const ASN1_OBJECT *source;
        int source_type;
        const void *label;
        X509_ALGOR_get0(&source, &source_type, &label, params->pSourceFunc);
        ok = OBJ_obj2nid(source) == NID_pSpecified && source_type == V_ASN1_OCTET_STRING &&
             ASN1_STRING_length((const ASN1_STRING *)label) == 0;
    }
    RSA_OAEP_PARAMS_free(params);
    return ok;
}

/* Steps into the next TLV of [*p, end): its content in [*p, *p + *len). DER only (the structure is
 * read from OpenSSL's own re-encoding, which has definite lengths). */
static int next_tlv(const unsigned char **p, const unsigned char *end, int want_tag, int want_class, long *len) {
    int tag, xclass;
    const unsigned char *start = *p;
    int info = ASN1_get_object(p, len, &tag, &xclass, end - start);
    if ((info & 0x80) || (info & 0x01) || tag != want_tag || xclass != want_class) return 0;
    return *len >= 0 && *len <= end - *p;
}

/* The EncryptedContentInfo's contentEncryptionAlgorithm is AES-256-CBC with a 16-byte IV. OpenSSL
 * has no accessor for it, so its DER re-encoding is walked: ContentInfo { OID, [0] EnvelopedData
 * { version, [0] originatorInfo OPTIONAL, recipientInfos SET, EncryptedContentInfo { OID, alg }}}. */
static int content_encryption_ok(CMS_ContentInfo *cms) {
    unsigned char *der = NULL;
    int n = i2d_CMS_ContentInfo(cms, &der);
    if (n <= 0) return 0;
    const unsigned char *p = der, *end = der + n;
    long len;
    int ok = next_tlv(&p, end, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, &len);
    ok = ok && next_tlv(&p, end, V_ASN1_OBJECT, V_ASN1_UNIVERSAL, &len) && (p += len, 1);
    ok = ok && next_tlv(&p, end, 0, V_ASN1_CONTEXT_SPECIFIC, &len);
    ok = ok && next_tlv(&p, end, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, &len);
    ok = ok && next_tlv(&p, end, V_ASN1_INTEGER, V_ASN1_UNIVERSAL, &len) && (p += len, 1);
    if (ok) { /* originatorInfo, when present */
        const unsigned char *peek = p;
        long skip;
        if (next_tlv(&peek, end, 0, V_ASN1_CONTEXT_SPECIFIC, &skip)) p = peek + skip;
    }
    ok = ok && next_tlv(&p, end, V_ASN1_SET, V_ASN1_UNIVERSAL, &len) && (p += len, 1);
    ok = ok && next_tlv(&p, end, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, &len);
    ok = ok && next_tlv(&p, end, V_ASN1_OBJECT, V_ASN1_UNIVERSAL, &len) && (p += len, 1);
    const unsigned char *alg_start = p;
    ok = ok && next_tlv(&p, end, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, &len);
    if (ok) {
        const unsigned char *q = alg_start;
        X509_ALGOR *alg = d2i_X509_ALGOR(NULL, &q, (p - alg_start) + len);
        const ASN1_OBJECT *oid;
        int ptype;
        const void *iv;
        ok = alg != NULL;
        if (ok) {
            X509_ALGOR_get0(&oid, &ptype, &iv, alg);
            ok = OBJ_obj2nid(oid) == NID_aes_256_cbc && ptype == V_ASN1_OCTET_STRING &&
                 ASN1_STRING_length((const ASN1_STRING *)iv) == 16;
        }
        X509_ALGOR_free(alg);
    }
    OPENSSL_free(der);
    return ok;
}

int ec_kms_recipient_open(const ec_kms_recipient *r, const uint8_t *cms_ber, size_t cms_len, uint8_t *out, size_t cap,
                          size_t *len, int *reason) {
    int why = EC_CMS_MALFORMED;
    if (reason != NULL) *reason = why;
    if (r == NULL || len == NULL || !EC_BUF_OK(cms_ber, cms_len) || !EC_BUF_OK(out, cap) || cms_len > EC_CMS_MAX_BYTES)
        return -1;
    *len = 0;
    const unsigned char *p = cms_ber;
    CMS_ContentInfo *cms = cms_len > 0 ? d2i_CMS_ContentInfo(NULL, &p, (long)cms_len) : NULL;
    BIO *plain = NULL;
    if (cms == NULL || p != cms_ber + cms_len) goto done; /* nothing may follow the structure */
    why = EC_CMS_NOT_ENVELOPED;
    if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_enveloped) goto done;
    why = EC_CMS_RECIPIENTS;
    STACK_OF(CMS_RecipientInfo) *recipients = CMS_get0_RecipientInfos(cms);
    if (recipients == NULL || sk_CMS_RecipientInfo_num(recipients) != 1) goto done;
    CMS_RecipientInfo *ri = sk_CMS_RecipientInfo_value(recipients, 0);
    if (CMS_RecipientInfo_type(ri) != CMS_RECIPINFO_TRANS) goto done;
    why = EC_CMS_KEY_ENCRYPTION;
    X509_ALGOR *key_alg = NULL;
    if (CMS_RecipientInfo_ktri_get0_algs(ri, NULL, NULL, &key_alg) != 1 || !key_encryption_ok(key_alg)) goto done;
    why = EC_CMS_CONTENT_ENCRYPTION;
    if (!content_encryption_ok(cms)) goto done;
    /* The recipient identifier is not compared: KMS does not document which it writes, and the
     * key is proven by the OAEP decryption, which no other key passes. */
    why = EC_CMS_DOES_NOT_OPEN;
    plain = BIO_new(BIO_s_mem());
    /* The recipient info takes a reference of its own, which CMS_ContentInfo_free drops. */
    if (plain == NULL || EVP_PKEY_up_ref(r->key) != 1) goto done;
    if (CMS_RecipientInfo_set0_pkey(ri, r->key) != 1) {
        EVP_PKEY_free(r->key);
        goto done;
    }
    if (CMS_RecipientInfo_decrypt(cms, ri) != 1 || CMS_decrypt(cms, NULL, NULL, NULL, plain, CMS_BINARY) != 1) goto done;
    char *content;
    long content_len = BIO_get_mem_data(plain, &content);
    why = EC_CMS_TOO_LARGE;
    if (content_len < 0) goto done;
    *len = (size_t)content_len;
    if (out == NULL ? content_len > 0 : (size_t)content_len > cap) goto done;
    if (content_len > 0) memcpy(out, content, (size_t)content_len);
    why = EC_CMS_OK;
done:
    if (plain != NULL) { /* the plaintext's copy in the BIO is wiped before it is freed */
        char *held;
        long held_len = BIO_get_mem_data(plain, &held);
        if (held_len > 0) ec_wipe(held, (size_t)held_len);
        BIO_free(plain);
    }
    CMS_ContentInfo_free(cms);
    if (reason != NULL) *reason = why;
    return why == EC_CMS_OK ? 0 : -1;
}

const char *ec_cms_reason_string(int reason) {
    switch (reason) {
    case EC_CMS_OK: return "ok";
    case EC_CMS_MALFORMED: return "not a CMS structure (or bytes after it)";
    case EC_CMS_NOT_ENVELOPED: return "not EnvelopedData";
    case EC_CMS_RECIPIENTS: return "not exactly one KeyTransRecipientInfo";
    case EC_CMS_KEY_ENCRYPTION: return "key encryption is not RSAES-OAEP with SHA-256, MGF1-SHA-256 and an empty label";
    case EC_CMS_CONTENT_ENCRYPTION: return "content encryption is not AES-256-CBC";
    case EC_CMS_DOES_NOT_OPEN: return "does not open with this key";
    case EC_CMS_TOO_LARGE: return "the content is larger than the buffer";
    default: return "unknown reason";
    }
}
