/*
 * enclave_core.h: the enclave runtime's crypto core (public ABI).
 *
 * Every exported symbol starts with `ec_`. Unless noted, functions return 0 on success and -1 on
 * failure. Fixed-size buffers are sized array parameters; variable ones are (pointer, length)
 * pairs, and a NULL pointer is allowed only with a length of 0.
 *
 * Versioning rule: the soname is libenclave_core.so.<MAJOR>. MAJOR changes only when an existing
 * function's signature or meaning changes or one is removed; MINOR grows when functions are added;
 * PATCH for fixes that change no interface. ec_version_string() returns "MAJOR.MINOR.PATCH".
 */
#ifndef ENCLAVE_CORE_H
#define ENCLAVE_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define EC_EXPORT __attribute__((visibility("default")))
#define EC_WARN_UNUSED __attribute__((warn_unused_result))
#define EC_DEPRECATED(message) __attribute__((deprecated(message)))
#else
#define EC_EXPORT
#define EC_WARN_UNUSED
#define EC_DEPRECATED(message)
#endif

#define EC_VERSION_MAJOR 1
#define EC_VERSION_MINOR 5
#define EC_VERSION_PATCH 0

#define EC_RPC_MAC_BYTES 32
#define EC_RPC_SIG_HEX_BYTES 64
#define EC_RPC_TIMESTAMP_MAX_DIGITS 19
#define EC_RPC_NONCE_MAX_BYTES 128
#define EC_ED25519_SEED_BYTES 32
#define EC_ED25519_PUBLIC_KEY_BYTES 32
#define EC_ED25519_SIGNATURE_BYTES 64
#define EC_BLAKE2B_MAX_BYTES 64
#define EC_BLAKE2B_KEY_MAX_BYTES 64
#define EC_SEAL_KEY_BYTES 32
#define EC_SEAL_NONCE_BYTES 12
#define EC_SEAL_TAG_BYTES 16
/* Sealed layout: nonce (12) || ciphertext (same length as the plaintext) || tag (16). */
#define EC_SEAL_OVERHEAD_BYTES (EC_SEAL_NONCE_BYTES + EC_SEAL_TAG_BYTES)

/* ---- Version and sizes ------------------------------------------------------------------- */

/* "MAJOR.MINOR.PATCH" of the library actually loaded (static storage). */
EC_EXPORT const char *ec_version_string(void);
EC_EXPORT int ec_version_major(void);
EC_EXPORT int ec_version_minor(void);

/* The size macros above as functions, so bindings never hard-code them. */
EC_EXPORT size_t ec_rpc_mac_bytes(void);
EC_EXPORT size_t ec_rpc_sig_hex_bytes(void);
EC_EXPORT size_t ec_ed25519_seed_bytes(void);
EC_EXPORT size_t ec_ed25519_public_key_bytes(void);
EC_EXPORT size_t ec_ed25519_signature_bytes(void);
EC_EXPORT size_t ec_seal_key_bytes(void);
EC_EXPORT size_t ec_seal_overhead_bytes(void);

/* ---- Utilities --------------------------------------------------------------------------- */

/* Compares len bytes of a and b. Returns 0 when equal, -1 otherwise. Constant-time: the time
 * depends only on len. */
EC_EXPORT EC_WARN_UNUSED int ec_ct_compare(const void *a, const void *b, size_t len);

/* Overwrites len bytes at p with zeros in a way the compiler may not remove. */
EC_EXPORT void ec_wipe(void *p, size_t len);

/* Fills out with len bytes from the operating system's CSPRNG (through OpenSSL). */
EC_EXPORT EC_WARN_UNUSED int ec_random(uint8_t *out, size_t len);

/* Keeps this process's memory, where keys and tokens live, out of core files and away from other
 * processes of the same user: a core size limit of 0 (soft and hard) and not dumpable
 * (PR_SET_DUMPABLE 0, so attaching a debugger and reading /proc/PID/mem or /proc/PID/environ need
 * CAP_SYS_PTRACE). Call it first in a process that will hold secrets. Linux only; -1 elsewhere.
 * Since 1.1. */
EC_EXPORT EC_WARN_UNUSED int ec_protect_process(void);

/* 1 when ec_protect_process's settings are in place, 0 when not, -1 when they cannot be read.
 * Since 1.1. */
EC_EXPORT int ec_process_is_protected(void);

/* HMAC-SHA256 of msg under key, into out. Since 1.2 an empty key (key_len 0) is refused. */
EC_EXPORT EC_WARN_UNUSED int ec_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *msg,
                                            size_t msg_len, uint8_t out[EC_RPC_MAC_BYTES]);

/* ---- Signed RPC requests (docs/contract.md §2) ----------------------------------------- */

/* HMAC-SHA256 under key of the canonical message METHOD \0 PATH \0 TS \0 NONCE \0 BODY, written
 * to out_hex as 64 lowercase hex digits and a NUL. Parts may be empty; the key may not (since 1.2
 * every signing and verifying key of at least one byte). */
EC_EXPORT EC_WARN_UNUSED int ec_rpc_sign_hex(const uint8_t *key, size_t key_len, const char *method,
                                             size_t method_len, const char *path, size_t path_len,
                                             const char *ts, size_t ts_len, const char *nonce,
                                             size_t nonce_len, const uint8_t *body, size_t body_len,
                                             char out_hex[EC_RPC_SIG_HEX_BYTES + 1]);

/* A signing key with its HMAC key schedule done once; for clients that sign many requests.
 * Immutable after creation, so one signer may be used from many threads. NULL for an empty key. */
typedef struct ec_rpc_signer ec_rpc_signer;

EC_EXPORT ec_rpc_signer *ec_rpc_signer_new(const uint8_t *key, size_t key_len);
/* Wipes and frees; NULL is ignored. */
EC_EXPORT void ec_rpc_signer_free(ec_rpc_signer *s);
/* Same output as ec_rpc_sign_hex with the signer's key. */
EC_EXPORT EC_WARN_UNUSED int ec_rpc_signer_sign_hex(const ec_rpc_signer *s, const char *method,
                                                    size_t method_len, const char *path,
                                                    size_t path_len, const char *ts, size_t ts_len,
                                                    const char *nonce, size_t nonce_len,
                                                    const uint8_t *body, size_t body_len,
                                                    char out_hex[EC_RPC_SIG_HEX_BYTES + 1]);

/* A verifier for the current shared secret and, during rotation, the previous one. The key
 * schedules are computed once here; verification allocates nothing. Immutable after creation,
 * so one verifier may be used from many threads at once. "No previous key" is previous_key NULL
 * with 0; an empty key (current, or a non-NULL previous of length 0) gives NULL. */
typedef struct ec_rpc_verifier ec_rpc_verifier;

EC_EXPORT ec_rpc_verifier *ec_rpc_verifier_new(const uint8_t *key, size_t key_len,
                                               const uint8_t *previous_key,
                                               size_t previous_key_len);
/* Wipes and frees; NULL is ignored. */
EC_EXPORT void ec_rpc_verifier_free(ec_rpc_verifier *v);

/* Checks sig_hex (64 hex digits, either case) against the canonical message's MAC.
 * Returns 0 when it matches the current key, 1 when it matches the previous key, -1 otherwise
 * (wrong length, a non-hex digit, or no match). Constant-time in the signature and in the keys:
 * both keys are always tried when a previous key is set; time depends only on the lengths. */
EC_EXPORT EC_WARN_UNUSED int ec_rpc_verify(const ec_rpc_verifier *v, const char *method,
                                           size_t method_len, const char *path, size_t path_len,
                                           const char *ts, size_t ts_len, const char *nonce,
                                           size_t nonce_len, const uint8_t *body, size_t body_len,
                                           const char *sig_hex, size_t sig_hex_len);

/* ---- Authenticated answers (docs/contract.md §2a, since 1.2) ---------------------------- */

/* x-alfred-rpc-response-signature: HMAC-SHA256 of "v1-response" \0 REQUEST_SIGNATURE \0 STATUS \0
 * BODY, with REQUEST_SIGNATURE the request's signature (64 hex digits, either case, bound in
 * lowercase) and STATUS the three-digit status (100..999). Written to out_hex as 64 lowercase hex
 * digits and a NUL.
 * The runtime signs with the key that verified the request: key_index 0 (current, the value
 * ec_rpc_verify returned) or 1 (previous, only when the verifier has one). */
EC_EXPORT EC_WARN_UNUSED int ec_rpc_verifier_sign_response_hex(const ec_rpc_verifier *v, int key_index,
                                                              const char *request_sig_hex, size_t request_sig_len,
                                                              int status, const uint8_t *body, size_t body_len,
                                                              char out_hex[EC_RPC_SIG_HEX_BYTES + 1]);

/* The same response signature under a signer's key (tools and stand-ins that hold the secret). */
EC_EXPORT EC_WARN_UNUSED int ec_rpc_signer_sign_response_hex(const ec_rpc_signer *s, const char *request_sig_hex,
                                                            size_t request_sig_len, int status,
                                                            const uint8_t *body, size_t body_len,
                                                            char out_hex[EC_RPC_SIG_HEX_BYTES + 1]);

/* 0 when response_sig_hex (64 hex digits, either case) is the response signature of
 * (request_sig_hex, status, body) under the signer's key, -1 otherwise. Constant-time in the
 * signatures; time depends only on the lengths. A host calls it before it trusts any answer. */
EC_EXPORT EC_WARN_UNUSED int ec_rpc_signer_verify_response(const ec_rpc_signer *s, const char *request_sig_hex,
                                                          size_t request_sig_len, int status,
                                                          const uint8_t *body, size_t body_len,
                                                          const char *response_sig_hex, size_t response_sig_len);

/* The message the ping answer's Ed25519 `binding` signs: "v1-ping" \0 REQUEST_ID \0
 * REQUEST_SIGNATURE (lowercase hex). Written to out (EC_PING_BINDING_OVERHEAD_BYTES +
 * request_id_len bytes, no NUL added), its length to *out_len. Fails when the signature is not
 * 64 hex digits or out_cap is too small. */
#define EC_PING_BINDING_OVERHEAD_BYTES (8 + 1 + EC_RPC_SIG_HEX_BYTES)
EC_EXPORT size_t ec_ping_binding_overhead_bytes(void);
EC_EXPORT EC_WARN_UNUSED int ec_ping_binding_payload(const char *request_id, size_t request_id_len,
                                                    const char *request_sig_hex, size_t request_sig_len,
                                                    uint8_t *out, size_t out_cap, size_t *out_len);

/* x-alfred-rpc-ts: 1 to 19 ASCII digits whose value fits in int64_t, stored into *out. */
EC_EXPORT EC_WARN_UNUSED int ec_parse_timestamp(const char *s, size_t len, int64_t *out);

/* x-alfred-rpc-nonce: 1 to 128 bytes, each 0x21..0x7e. */
EC_EXPORT EC_WARN_UNUSED int ec_check_nonce(const char *s, size_t len);

/* ---- Ed25519 (attestation evidence, docs/contract.md §4) ------------------------------- */

/* A signing key built once from a 32-byte seed (RFC 8032 private key). Immutable after creation,
 * so one signer may be used from many threads at once. */
typedef struct ec_ed25519_signer ec_ed25519_signer;

EC_EXPORT ec_ed25519_signer *ec_ed25519_signer_new(const uint8_t seed[EC_ED25519_SEED_BYTES]);
/* Wipes and frees; NULL is ignored. */
EC_EXPORT void ec_ed25519_signer_free(ec_ed25519_signer *s);
EC_EXPORT EC_WARN_UNUSED int ec_ed25519_signer_public_key(const ec_ed25519_signer *s,
                                                  uint8_t pk[EC_ED25519_PUBLIC_KEY_BYTES]);
EC_EXPORT EC_WARN_UNUSED int ec_ed25519_signer_sign(const ec_ed25519_signer *s, const uint8_t *msg, size_t len,
                                            uint8_t sig[EC_ED25519_SIGNATURE_BYTES]);
/* The names of 1.2 and earlier, for one release: the same functions. */
typedef ec_ed25519_signer ec_signer;
EC_EXPORT EC_DEPRECATED("use ec_ed25519_signer_new") ec_signer *ec_signer_new(const uint8_t seed[EC_ED25519_SEED_BYTES]);
EC_EXPORT EC_DEPRECATED("use ec_ed25519_signer_free") void ec_signer_free(ec_signer *s);
EC_EXPORT EC_DEPRECATED("use ec_ed25519_signer_public_key") int ec_signer_public_key(const ec_signer *s,
                                                                                    uint8_t pk[EC_ED25519_PUBLIC_KEY_BYTES]);
EC_EXPORT EC_DEPRECATED("use ec_ed25519_signer_sign") int ec_signer_sign(const ec_signer *s, const uint8_t *msg, size_t len,
                                                                       uint8_t sig[EC_ED25519_SIGNATURE_BYTES]);
/* Returns 0 when sig is a valid signature of msg under pk, -1 otherwise. */
EC_EXPORT EC_WARN_UNUSED int ec_ed25519_verify(const uint8_t pk[EC_ED25519_PUBLIC_KEY_BYTES],
                                               const uint8_t *msg, size_t len,
                                               const uint8_t sig[EC_ED25519_SIGNATURE_BYTES]);

/* 0 when s may be a text field of the evidence string: no '|' and no control character (C0
 * 0x00..0x1f, DEL 0x7f, and since 1.2 the C1 controls U+0080..U+009F and U+2028, U+2029 in their
 * UTF-8 forms); -1 otherwise. Since 1.2. */
EC_EXPORT EC_WARN_UNUSED int ec_evidence_text_ok(const char *s, size_t len);

/* Writes the canonical evidence string
 *   runtime|measurement|challenge_nonce|issued_at|expires_at|operation_purpose|request_id|evidence_issued_at
 * (integers in decimal) followed by a NUL into out, and its length without the NUL into *out_len.
 * Fails when a text field is refused by ec_evidence_text_ok, or when out_cap is smaller than the
 * payload plus its NUL. */
EC_EXPORT EC_WARN_UNUSED int ec_challenge_payload(
    const char *runtime, size_t runtime_len, const char *measurement, size_t measurement_len,
    const char *challenge_nonce, size_t challenge_nonce_len, int64_t issued_at, int64_t expires_at,
    const char *operation_purpose, size_t operation_purpose_len, const char *request_id,
    size_t request_id_len, int64_t evidence_issued_at, char *out, size_t out_cap, size_t *out_len);

/* ---- BLAKE2b (libb2) -------------------------------------------------------------------- */

/* Keyed (key_len 1..64) or unkeyed (key_len 0) BLAKE2b with out_len 1..64. */
EC_EXPORT EC_WARN_UNUSED int ec_blake2b(uint8_t *out, size_t out_len, const void *in, size_t in_len,
                                        const void *key, size_t key_len);

/* ---- AWS Signature Version 4 (since 1.4) ----------------------------------------------- */

/* One header of a request to sign: any case, value as sent (trimmed and its whitespace runs
 * collapsed in the canonical form; headers of one name are joined with ',' in their order). */
typedef struct {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} ec_sigv4_header;

/* A request signed in its Authorization header. `path` is the request target's path as sent,
 * `query` what follows the '?' (may be empty). The signer adds and signs x-amz-date (amz_date,
 * "YYYYMMDDTHHMMSSZ"), x-amz-security-token when session_token is not empty, and
 * x-amz-content-sha256 when sign_payload_header is set; `headers` must not hold them. region and
 * service are lowercase [a-z0-9-] tokens. normalize_path removes dot segments and empty segments
 * (every service but S3). */
typedef struct {
    const char *method;
    size_t method_len;
    const char *path;
    size_t path_len;
    const char *query;
    size_t query_len;
    const ec_sigv4_header *headers;
    size_t header_count;
    const uint8_t *payload;
    size_t payload_len;
    const char *amz_date;
    const char *region;
    size_t region_len;
    const char *service;
    size_t service_len;
    const char *access_key_id;
    size_t access_key_id_len;
    const uint8_t *secret_access_key;
    size_t secret_access_key_len;
    const char *session_token;
    size_t session_token_len;
    int normalize_path;
    int sign_payload_header;
} ec_sigv4_request;

/* Each writes its text and a NUL to out when it fits in cap, and its length (without the NUL)
 * to *len in any case once the request is valid: call with cap 0 to learn the size. -1 for an
 * invalid request or a buffer too small. */
EC_EXPORT EC_WARN_UNUSED int ec_sigv4_canonical_request(const ec_sigv4_request *r, char *out, size_t cap, size_t *len);
EC_EXPORT EC_WARN_UNUSED int ec_sigv4_string_to_sign(const ec_sigv4_request *r, char *out, size_t cap, size_t *len);
/* "AWS4-HMAC-SHA256 Credential=ID/DATE/REGION/SERVICE/aws4_request, SignedHeaders=..., Signature=HEX" */
EC_EXPORT EC_WARN_UNUSED int ec_sigv4_authorization(const ec_sigv4_request *r, char *out, size_t cap, size_t *len);

/* ---- KMS release: the recipient key and CiphertextForRecipient (since 1.4) -------------- */

/* Why ec_kms_recipient_open refused (docs/contract.md §3b, step 4). */
#define EC_CMS_OK 0
#define EC_CMS_MALFORMED 1           /* not a BER/DER CMS ContentInfo, or bytes after it */
#define EC_CMS_NOT_ENVELOPED 2       /* another content type than EnvelopedData */
#define EC_CMS_RECIPIENTS 3          /* not exactly one recipient, or not key transport */
#define EC_CMS_KEY_ENCRYPTION 4      /* not RSAES-OAEP with SHA-256, MGF1-SHA-256 and an empty label */
#define EC_CMS_CONTENT_ENCRYPTION 5  /* not AES-256-CBC with a 16-byte IV */
#define EC_CMS_DOES_NOT_OPEN 6       /* the key or the content does not decrypt under this key */
#define EC_CMS_TOO_LARGE 7           /* the content does not fit in the buffer (*len says its size) */
#define EC_CMS_MAX_BYTES 65536

/* An RSA-2048 key pair made in this process, never exported but for its public half. */
typedef struct ec_kms_recipient ec_kms_recipient;

/* A new key pair from OpenSSL's CSPRNG, or NULL. */
EC_EXPORT ec_kms_recipient *ec_kms_recipient_new(void);
/* Frees the pair; OpenSSL clears the private key's numbers as it frees them. NULL is allowed. */
EC_EXPORT void ec_kms_recipient_free(ec_kms_recipient *r);
/* The public key as DER SubjectPublicKeyInfo (294 bytes), for the attestation document's
 * public_key. *len is set whenever r is valid; -1 when cap is too small. */
EC_EXPORT EC_WARN_UNUSED int ec_kms_recipient_public_key(const ec_kms_recipient *r, uint8_t *out, size_t cap, size_t *len);
/* Opens KMS's CiphertextForRecipient (at most EC_CMS_MAX_BYTES) strictly: EnvelopedData with
 * exactly one KeyTransRecipientInfo under RSAES-OAEP (SHA-256, MGF1-SHA-256, empty label) and
 * AES-256-CBC content, BER or DER. The content goes to out; *reason gets an EC_CMS_ code. */
EC_EXPORT EC_WARN_UNUSED int ec_kms_recipient_open(const ec_kms_recipient *r, const uint8_t *cms_ber, size_t cms_len,
                                                   uint8_t *out, size_t cap, size_t *len, int *reason);
/* A sentence for an EC_CMS_ code (static storage). */
EC_EXPORT const char *ec_cms_reason_string(int reason);

/* ---- Attested TLS certificates (docs/contract.md §2b, since 1.5) ------------------------ */

#define EC_ATTESTED_CERT_MAX_DOCUMENT_BYTES 65536

/* A DER X.509 v3 certificate self-signed by s (Ed25519), subject and issuer CN=enclave-runtime,
 * valid from not_before to not_after (Unix seconds), with one non-critical extension, OID
 * 2.25.267775713998348542974421145614813140568, whose extnValue is exactly document (the JSON
 * that GET /v1/attestation/document serves). *len is the size needed whenever the arguments are
 * valid; -1 when out is NULL or cap is too small. */
EC_EXPORT EC_WARN_UNUSED int ec_attested_certificate(const ec_ed25519_signer *s, const uint8_t *document,
                                                     size_t document_len, int64_t not_before, int64_t not_after,
                                                     uint8_t *out, size_t cap, size_t *len);
/* What a client checks a peer's certificate for: exactly one DER certificate with an Ed25519 key
 * (to pk) and exactly one non-critical document extension (its bytes to document, *document_len
 * the size whenever it is found). The document's own checks (docs/contract.md §3, §3a) are the
 * caller's; the chain and names play no part. */
EC_EXPORT EC_WARN_UNUSED int ec_attested_certificate_document(const uint8_t *certificate, size_t certificate_len,
                                                              uint8_t *document, size_t cap, size_t *document_len,
                                                              uint8_t pk[EC_ED25519_PUBLIC_KEY_BYTES]);

/* ---- Sealing (AES-256-GCM) -------------------------------------------------------------- */

/* Encrypts plain under key with a fresh random 96-bit nonce, authenticating aad too. Writes
 * nonce || ciphertext || tag (plain_len + EC_SEAL_OVERHEAD_BYTES bytes) to out. */
EC_EXPORT EC_WARN_UNUSED int ec_seal(const uint8_t key[EC_SEAL_KEY_BYTES], const uint8_t *aad,
                                     size_t aad_len, const uint8_t *plain, size_t plain_len,
                                     uint8_t *out, size_t out_cap, size_t *out_len);

/* Opens what ec_seal wrote. Fails, writing nothing useful, when the key, aad, nonce, ciphertext
 * or tag differ or sealed is shorter than EC_SEAL_OVERHEAD_BYTES; out is wiped on failure. */
EC_EXPORT EC_WARN_UNUSED int ec_open(const uint8_t key[EC_SEAL_KEY_BYTES], const uint8_t *aad,
                                     size_t aad_len, const uint8_t *sealed, size_t sealed_len,
                                     uint8_t *out, size_t out_cap, size_t *out_len);

/* ---- AWS Nitro attestation documents (docs/contract.md §3a, since 1.2) ------------------ */

#define EC_NITRO_MAX_PCRS 32
#define EC_NITRO_MAX_CABUNDLE 8
#define EC_NITRO_SIGNATURE_BYTES 96
#define EC_NITRO_MAX_PUBLIC_KEY_BYTES 1024
#define EC_NITRO_MAX_USER_DATA_BYTES 512
#define EC_NITRO_MAX_NONCE_BYTES 512
#define EC_NITRO_MAX_DOCUMENT_BYTES 65536
#define EC_SHA256_BYTES 32

/* A view into the caller's buffer: never allocated, never to be freed. data is NULL (len 0) for
 * a field that is absent or CBOR null. Text views are not NUL-terminated. */
typedef struct {
    const uint8_t *data;
    size_t len;
} ec_view;

/* The fields of a Nitro attestation document, as views into the document's bytes. */
typedef struct {
    ec_view module_id;
    ec_view digest;
    uint64_t timestamp_ms;
    uint32_t pcr_present; /* bit i set when PCR i is in the document */
    ec_view pcrs[EC_NITRO_MAX_PCRS];
    ec_view certificate; /* DER */
    size_t cabundle_count;
    ec_view cabundle[EC_NITRO_MAX_CABUNDLE]; /* DER, the root first */
    ec_view public_key;
    ec_view user_data;
    ec_view nonce;
    ec_view payload; /* the signed payload's bytes, as sent */
} ec_nitro_document;

/* Why a document (or a PCR policy) was refused; ec_nitro_error_string names each. */
enum {
    EC_NITRO_OK = 0,
    EC_NITRO_MALFORMED_CBOR = 1,
    EC_NITRO_NOT_COSE_SIGN1 = 2,
    EC_NITRO_BAD_ALGORITHM = 3,
    EC_NITRO_BAD_UNPROTECTED = 4,
    EC_NITRO_BAD_SIGNATURE_LENGTH = 5,
    EC_NITRO_BAD_PAYLOAD = 6,
    EC_NITRO_DUPLICATE_KEY = 7,
    EC_NITRO_MISSING_FIELD = 8,
    EC_NITRO_BAD_FIELD = 9,
    EC_NITRO_BAD_DIGEST = 10,
    EC_NITRO_BAD_PCRS = 11,
    EC_NITRO_TRAILING_BYTES = 12,
    EC_NITRO_EMPTY_CABUNDLE = 13,
    EC_NITRO_ROOT_MISMATCH = 14,
    EC_NITRO_BAD_ROOT = 15,
    EC_NITRO_CHAIN_INVALID = 16,
    EC_NITRO_CERT_EXPIRED = 17,
    EC_NITRO_BAD_LEAF = 18,
    EC_NITRO_SIGNATURE_INVALID = 19,
    EC_NITRO_STALE = 20,
    EC_NITRO_FUTURE = 21,
    EC_NITRO_POLICY_MALFORMED = 22,
    EC_NITRO_POLICY_EMPTY = 23,
    EC_NITRO_PCRS_NOT_ALLOWED = 24,
    EC_NITRO_DEBUG_ENCLAVE = 25,
    EC_NITRO_INTERNAL = 26,
};

/* The AWS Nitro Enclaves Root-G1 certificate, DER (static storage), the default pinned root; its
 * length goes to *len. */
EC_EXPORT const uint8_t *ec_nitro_aws_root_der(size_t *len);

/* A fixed English phrase for a reason code (static storage); "unknown reason" for any other. */
EC_EXPORT const char *ec_nitro_error_string(int reason);

/* Reads the document's structure (docs/contract.md §3a's shape rules: COSE_Sign1 with
 * {1: -35}, a 96-byte signature, the payload's fields, sizes and types, no duplicate key, nothing
 * after the top-level item) without any cryptography. 0 with *out filled, or -1 with *reason. */
EC_EXPORT EC_WARN_UNUSED int ec_nitro_parse(const uint8_t *doc, size_t doc_len, ec_nitro_document *out, int *reason);

/* ec_nitro_parse, then: cabundle[0] byte-identical to root_der (the pinned root, DER); the chain
 * root -> cabundle[1..] -> certificate verified by OpenSSL at at_ms (every certificate valid then,
 * CA flags and key usage as issued); the leaf a P-384 key with digitalSignature; the ES384
 * signature over ["Signature1", protected, h'', payload] verified with the leaf's key. No state is
 * kept between calls: see ec_nitro_verifier for repeated documents. */
EC_EXPORT EC_WARN_UNUSED int ec_nitro_verify(const uint8_t *doc, size_t doc_len, const uint8_t *root_der,
                                            size_t root_len, int64_t at_ms, ec_nitro_document *out, int *reason);

/* A verifier for one pinned root that remembers verified certificate links (by the SHA-256 of
 * their DER, each with its validity): a document whose chain it has verified costs one signature
 * verification (the COSE one), one whose leaf is new two. A cached link is used only while every
 * certificate it rests on is valid at the verification time, and dropped once expired. Safe to use
 * from many threads. */
typedef struct ec_nitro_verifier ec_nitro_verifier;

/* NULL when root_der is not a certificate. */
EC_EXPORT ec_nitro_verifier *ec_nitro_verifier_new(const uint8_t *root_der, size_t root_len);
EC_EXPORT void ec_nitro_verifier_free(ec_nitro_verifier *v);
/* The same checks as ec_nitro_verify, with the cache. */
EC_EXPORT EC_WARN_UNUSED int ec_nitro_verifier_verify(ec_nitro_verifier *v, const uint8_t *doc, size_t doc_len,
                                                     int64_t at_ms, ec_nitro_document *out, int *reason);
/* Certificate links held by the cache (for tests and benchmarks). */
EC_EXPORT size_t ec_nitro_verifier_cached_links(const ec_nitro_verifier *v);

/* 0 when the document's timestamp is at most max_age_ms before at_ms and at most max_future_ms
 * after it; -1 with EC_NITRO_STALE or EC_NITRO_FUTURE otherwise. */
EC_EXPORT EC_WARN_UNUSED int ec_nitro_check_time(const ec_nitro_document *d, int64_t at_ms, int64_t max_age_ms,
                                                int64_t max_future_ms, int *reason);

/* The PCR policy of TEE_ALLOWED_PCRS: sets separated by ';', each a comma-separated list of
 * INDEX=HEX (index 0..31, 32, 48 or 64 bytes of hex in either case; blanks around items are
 * ignored, empty sets dropped). 0 when some set has every one of its PCRs present in the document
 * and equal; -1 with EC_NITRO_POLICY_EMPTY (no set: an empty policy matches nothing),
 * EC_NITRO_POLICY_MALFORMED, EC_NITRO_DEBUG_ENCLAVE (PCR0 all zero and allow_debug 0) or
 * EC_NITRO_PCRS_NOT_ALLOWED. */
EC_EXPORT EC_WARN_UNUSED int ec_nitro_pcrs_match(const ec_nitro_document *d, const char *policy, size_t policy_len,
                                                int allow_debug, int *reason);

/* 0 when policy is well-formed and holds at least one set (for configuration checks); -1 with
 * the reason otherwise. */
EC_EXPORT EC_WARN_UNUSED int ec_nitro_policy_check(const char *policy, size_t policy_len, int *reason);

/* ---- The Nitro Secure Module (docs/contract.md §3a, since 1.2) ---------------------------- */

enum {
    EC_NSM_OK = 0,
    EC_NSM_UNREACHABLE = 1,
    EC_NSM_IO = 2,
    EC_NSM_REFUSED = 3,
    EC_NSM_BAD_RESPONSE = 4,
    EC_NSM_TOO_LARGE = 5,
    EC_NSM_BAD_ARGUMENT = 6,
};

/* A fixed English phrase for an EC_NSM_ reason (static storage). */
EC_EXPORT const char *ec_nsm_error_string(int reason);

/* Asks the NSM for an attestation document that vouches for public_key and user_data (each may
 * be NULL with 0: CBOR null), with no nonce. device is the NSM device ("/dev/nsm": the driver's
 * ioctl, inside a Nitro Enclave only) or "unix:PATH", an NSM simulator's stream socket, each
 * message framed by its length as 4 big-endian bytes (local development only; the caller enforces
 * that). Blocks for the exchange (at most 5 s on a socket). Writes the COSE_Sign1 document to out
 * and its length to *out_len; -1 with *reason otherwise. Safe from several threads at once. */
EC_EXPORT EC_WARN_UNUSED int ec_nsm_attest(const char *device, const uint8_t *public_key, size_t public_key_len,
                                          const uint8_t *user_data, size_t user_data_len, uint8_t *out, size_t out_cap,
                                          size_t *out_len, int *reason);

/* SHA-256 of data into out. */
EC_EXPORT EC_WARN_UNUSED int ec_sha256(const uint8_t *data, size_t len, uint8_t out[EC_SHA256_BYTES]);

/* The sizes above as functions, for bindings. */
EC_EXPORT size_t ec_nitro_max_pcrs(void);
EC_EXPORT size_t ec_nitro_max_cabundle(void);
EC_EXPORT size_t ec_nitro_document_size(void); /* sizeof(ec_nitro_document), for bindings' layout checks */

#ifdef __cplusplus
}
#endif

#endif /* ENCLAVE_CORE_H */
