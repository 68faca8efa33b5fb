/* enclave-rpc: calls the enclave runtime from C with the project's crypto core and libcurl.
 *
 *   enclave-rpc ping                          signed ping; prints the answer
 *   enclave-rpc exchange USER_ID CONNECTOR_ID signed token exchange; prints the JSON answer
 *   enclave-rpc challenge                     challenge, verified with ec_challenge_payload and
 *                                             ec_ed25519_verify
 *   enclave-rpc sign PATH TS NONCE BODY       prints the x-alfred-rpc-signature (no network)
 *   enclave-rpc verify-nitro FILE [--at-ms MS] [--root PEM] [--pcrs POLICY] [--allow-debug]
 *                            [--max-age-s S]  verifies an AWS Nitro attestation document (COSE_Sign1,
 *                                             docs/contract.md §3a) at MS (default now) against
 *                                             the AWS root (or PEM), its timestamp at most S old
 *                                             (default 300); prints its fields as JSON; with
 *                                             POLICY (TEE_ALLOWED_PCRS syntax) its PCRs must match
 *
 * ENCLAVE_RPC_SHARED_SECRET (else the local default), ENCLAVE_RUNTIME_BASE_URL (else
 * http://127.0.0.1:8181) and TEE_ATTESTATION_PUBLIC_KEY (base64 Ed25519 key; also --public-key
 * KEY before the command). With a pinned key, evidence and the ping's binding must verify with it
 * and the document may publish no other; without one the document's own key is used and a
 * warning printed (local development only).
 *
 * With ENCLAVE_RUNTIME_TLS=attested (an https:// base URL, docs/contract.md §2b) every call is a new
 * TLS 1.3 connection whose certificate is checked in its handshake, before anything is sent: its
 * document (ec_attested_certificate_document) must publish the certificate's key, which must be the
 * pinned key (or, with none pinned, the document must be a dev-shim one: local development only);
 * evidence and the ping's binding then verify with the key of the connection that carried them.
 * A refused channel prints channel_not_attested.
 *
 * No RPC answer is believed before its x-alfred-rpc-response-signature verifies for the request
 * (docs/contract.md §2a). Exit status 0 only on a verified success; on failure one word goes to
 * stderr (the error envelope's code, unreachable, answer_not_authenticated[: claimed code],
 * bad_document, evidence_invalid, signature_invalid, key_mismatch, invalid_response) and the
 * status is 1 (2 for usage errors). */
#include <curl/curl.h>
#include <enclave_core.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_ANSWER (1u << 20)

typedef struct {
    char *data;
    size_t len;
    /* x-alfred-rpc-response-signature as received: its count and the first value. */
    int response_sig_count;
    char response_sig[EC_RPC_SIG_HEX_BYTES + 1];
    int response_sig_ok_len;
} answer_t;

static size_t collect(char *ptr, size_t size, size_t n, void *userdata) {
    answer_t *a = userdata;
    size_t add = size * n;
    if (a->len + add > MAX_ANSWER) return 0; /* cap answers at 1 MiB */
    char *grown = realloc(a->data, a->len + add + 1);
    if (grown == NULL) return 0;
    memcpy(grown + a->len, ptr, add);
    a->data = grown;
    a->len += add;
    a->data[a->len] = '\0';
    return add;
}

/* Keeps the response signature header; any other header is ignored. */
static size_t header_line(char *line, size_t size, size_t n, void *userdata) {
    answer_t *a = userdata;
    size_t len = size * n;
    static const char name[] = "x-alfred-rpc-response-signature:";
    if (len >= sizeof name - 1 && strncasecmp(line, name, sizeof name - 1) == 0) {
        const char *v = line + sizeof name - 1;
        size_t vlen = len - (sizeof name - 1);
        while (vlen > 0 && (*v == ' ' || *v == '\t')) v++, vlen--;
        while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' ')) vlen--;
        a->response_sig_count++;
        a->response_sig_ok_len = vlen == EC_RPC_SIG_HEX_BYTES;
        if (a->response_sig_ok_len) {
            memcpy(a->response_sig, v, vlen);
            a->response_sig[vlen] = '\0';
        }
    }
    return len;
}

/* The string value of "key" in a flat JSON object (escapes beyond \" \\ \/ are not expected).
 * Fails when the value does not fit in cap bytes with its NUL. */
static int json_string(const char *json, const char *key, char *out, size_t cap) {
    char pattern[96];
    snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
    const char *p = json != NULL ? strstr(json, pattern) : NULL;
    if (p == NULL) return -1;
    p += strlen(pattern);
    size_t n = 0;
    for (; *p && *p != '"'; p++) {
        if (*p == '\\' && p[1]) p++;
        if (n + 1 >= cap) return -1;
        out[n++] = *p;
    }
    out[n] = '\0';
    return *p == '"' ? 0 : -1;
}

static int json_int(const char *json, const char *key, long long *out) {
    char pattern[96];
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    const char *p = json != NULL ? strstr(json, pattern) : NULL;
    if (p == NULL) return -1;
    char *end;
    *out = strtoll(p + strlen(pattern), &end, 10);
    return end == p + strlen(pattern) ? -1 : 0;
}

/* Standard base64 of exactly `want` bytes: the text must be the canonical length (with padding)
 * before anything is decoded, so a longer value can never be written into out. */
static int base64_exact(const char *text, uint8_t *out, size_t want) {
    size_t text_len = strlen(text);
    if (text_len != 4 * ((want + 2) / 3)) return -1;
    uint8_t decoded[4 * ((EC_ED25519_SIGNATURE_BYTES + 2) / 3)];
    if (want > EC_ED25519_SIGNATURE_BYTES) return -1;
    int n = EVP_DecodeBlock(decoded, (const unsigned char *)text, (int)text_len);
    /* EVP_DecodeBlock counts the padding as zero bytes. */
    size_t padding = (size_t)(text_len >= 1 && text[text_len - 1] == '=') + (size_t)(text_len >= 2 && text[text_len - 2] == '=');
    if (n < 0 || (size_t)n - padding != want || padding != (3 - want % 3) % 3) return -1;
    memcpy(out, decoded, want);
    return 0;
}

static void random_hex(char *out, size_t bytes) {
    uint8_t raw[64];
    if (bytes > sizeof raw || ec_random(raw, bytes) != 0) abort();
    for (size_t i = 0; i < bytes; i++) snprintf(out + 2 * i, 3, "%02x", raw[i]);
}

/* Sends one request; returns the HTTP status (0 when unreachable) with the answer in *answer.
 * Signed requests write their signature to sig_out. Redirects are not followed. */
/* Attested TLS: on, the key pinned for the channel (NULL: dev-shim documents only), and what the
 * latest handshake proved. */
static int attested_tls = 0;
static const uint8_t *channel_pin = NULL;
static uint8_t channel_key[EC_ED25519_PUBLIC_KEY_BYTES];
static int channel_verified = 0, channel_refused = 0;

static int base64_exact(const char *text, uint8_t *out, size_t want);
static int json_string(const char *json, const char *key, char *out, size_t cap);

/* OpenSSL's verification callback, in the handshake: the leaf's document must vouch for its key. */
static int verify_channel(int preverify_ok, X509_STORE_CTX *store) {
    (void)preverify_ok;
    if (X509_STORE_CTX_get_error_depth(store) != 0) return 1; /* the one self-signed certificate */
    unsigned char *der = NULL;
    int der_len = i2d_X509(X509_STORE_CTX_get_current_cert(store), &der);
    static uint8_t document[EC_ATTESTED_CERT_MAX_DOCUMENT_BYTES + 1];
    size_t document_len = 0;
    uint8_t key[EC_ED25519_PUBLIC_KEY_BYTES], published[EC_ED25519_PUBLIC_KEY_BYTES];
    char published_b64[128];
    int ok = der_len > 0 &&
             ec_attested_certificate_document(der, (size_t)der_len, document, sizeof document - 1, &document_len, key) == 0;
    OPENSSL_free(der);
    if (ok) {
        document[document_len] = '\0';
        ok = json_string((const char *)document, "public_key", published_b64, sizeof published_b64) == 0 &&
             base64_exact(published_b64, published, sizeof published) == 0 && memcmp(published, key, sizeof key) == 0;
    }
    if (ok && channel_pin != NULL) ok = memcmp(channel_pin, key, sizeof key) == 0;
    if (ok && channel_pin == NULL) ok = strstr((const char *)document, "\"dev_shim\":true") != NULL;
    if (!ok) {
        channel_refused = 1;
        return 0;
    }
    memcpy(channel_key, key, sizeof key);
    channel_verified = 1;
    return 1;
}

static CURLcode install_verification(CURL *curl, void *ssl_ctx, void *userdata) {
    (void)curl;
    (void)userdata;
    SSL_CTX_set_verify((SSL_CTX *)ssl_ctx, SSL_VERIFY_PEER, verify_channel);
    return CURLE_OK;
}

static long send_request(const char *base, const char *path, const char *body, const ec_rpc_signer *signer,
                         char sig_out[EC_RPC_SIG_HEX_BYTES + 1], answer_t *answer) {
    char url[1024], ts[24], nonce[33], h_ts[64], h_nonce[96], h_sig[128];
    if (snprintf(url, sizeof url, "%s%s", base, path) >= (int)sizeof url) return 0;
    CURL *curl = curl_easy_init();
    if (curl == NULL) return 0;
    struct curl_slist *headers = curl_slist_append(NULL, "content-type: application/json");
    if (signer != NULL) {
        snprintf(ts, sizeof ts, "%lld", (long long)time(NULL));
        random_hex(nonce, 16);
        if (ec_rpc_signer_sign_hex(signer, "POST", 4, path, strlen(path), ts, strlen(ts), nonce, strlen(nonce),
                                   (const uint8_t *)body, strlen(body), sig_out) != 0)
            abort();
        snprintf(h_ts, sizeof h_ts, "x-alfred-rpc-ts: %s", ts);
        snprintf(h_nonce, sizeof h_nonce, "x-alfred-rpc-nonce: %s", nonce);
        snprintf(h_sig, sizeof h_sig, "x-alfred-rpc-signature: %s", sig_out);
        headers = curl_slist_append(headers, "x-alfred-rpc-version: v1");
        headers = curl_slist_append(headers, h_ts);
        headers = curl_slist_append(headers, h_nonce);
        headers = curl_slist_append(headers, h_sig);
    }
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, answer);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, header_line);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, answer);
    if (attested_tls) {
        /* No chain, no host name: the document is what is verified, each connection anew. */
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
        curl_easy_setopt(curl, CURLOPT_SSLVERSION, (long)(CURL_SSLVERSION_TLSv1_3 | CURL_SSLVERSION_MAX_TLSv1_3));
        curl_easy_setopt(curl, CURLOPT_SSL_CTX_FUNCTION, install_verification);
        curl_easy_setopt(curl, CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(curl, CURLOPT_FORBID_REUSE, 1L);
        channel_verified = channel_refused = 0;
    }
    if (body != NULL) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    long status = 0;
    if (curl_easy_perform(curl) == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (attested_tls && !channel_verified) status = -1; /* nothing was sent: the channel did not prove the enclave */
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return status;
}

static int fail(long status, const answer_t *answer) {
    char code[128];
    if (status == -1)
        fprintf(stderr, "channel_not_attested\n");
    else if (status == 0)
        fprintf(stderr, "unreachable\n");
    else if (json_string(answer->data, "code", code, sizeof code) == 0)
        fprintf(stderr, "%s\n", code);
    else
        fprintf(stderr, "http_%ld\n", status);
    return 1;
}

/* docs/contract.md §2a: 1 when the answer's response signature verifies for our request. */
static int authenticated(const ec_rpc_signer *signer, const char *request_sig, long status, const answer_t *a) {
    return a->response_sig_count == 1 && a->response_sig_ok_len &&
           ec_rpc_signer_verify_response(signer, request_sig, EC_RPC_SIG_HEX_BYTES, (int)status,
                                         (const uint8_t *)(a->data != NULL ? a->data : ""), a->len, a->response_sig,
                                         EC_RPC_SIG_HEX_BYTES) == 0;
}

/* The document's public key, or the pinned one (which the document may not contradict). */
static int evidence_key(const char *base, const uint8_t *pinned, uint8_t key[EC_ED25519_PUBLIC_KEY_BYTES]) {
    answer_t doc = {0};
    char published[128];
    long status = send_request(base, "/v1/attestation/document", NULL, NULL, NULL, &doc);
    int rc = -1;
    if (status != 200) {
        fail(status, &doc);
    } else if (attested_tls) {
        memcpy(key, channel_key, EC_ED25519_PUBLIC_KEY_BYTES); /* checked in the handshake */
        rc = 0;
    } else if (json_string(doc.data, "public_key", published, sizeof published) == 0) {
        uint8_t from_document[EC_ED25519_PUBLIC_KEY_BYTES];
        if (base64_exact(published, from_document, sizeof from_document) != 0) {
            fprintf(stderr, "bad_document\n");
        } else if (pinned != NULL && memcmp(pinned, from_document, sizeof from_document) != 0) {
            fprintf(stderr, "key_mismatch\n");
        } else {
            memcpy(key, pinned != NULL ? pinned : from_document, EC_ED25519_PUBLIC_KEY_BYTES);
            if (pinned == NULL) fprintf(stderr, "warning: no pinned key; trusting the key the document publishes\n");
            rc = 0;
        }
    } else if (pinned != NULL) {
        memcpy(key, pinned, EC_ED25519_PUBLIC_KEY_BYTES);
        rc = 0;
    } else {
        fprintf(stderr, "bad_document\n");
    }
    free(doc.data);
    return rc;
}

static int signed_call(const char *base, const ec_rpc_signer *signer, const char *path, const char *body,
                       const char *rid, const uint8_t *binding_key) {
    answer_t answer = {0};
    char request_sig[EC_RPC_SIG_HEX_BYTES + 1];
    long status = send_request(base, path, body, signer, request_sig, &answer);
    char echoed[256], binding_b64[128];
    int rc = 1;
    if (attested_tls && binding_key != NULL && status > 0) binding_key = channel_key; /* this connection's */
    if (status <= 0) {
        fail(status, &answer);
    } else if (!authenticated(signer, request_sig, status, &answer)) {
        char claimed[128];
        if (json_string(answer.data, "code", claimed, sizeof claimed) == 0)
            fprintf(stderr, "answer_not_authenticated: %s\n", claimed);
        else
            fprintf(stderr, "answer_not_authenticated\n");
    } else if (status != 200) {
        fail(status, &answer);
    } else if (json_string(answer.data, "request_id", echoed, sizeof echoed) != 0 || strcmp(echoed, rid) != 0) {
        fprintf(stderr, "invalid_response\n");
    } else if (binding_key != NULL) {
        /* The ping binding: the attested key's signature over this very request. */
        uint8_t binding[EC_ED25519_SIGNATURE_BYTES], message[512];
        size_t message_len = 0;
        if (json_string(answer.data, "binding", binding_b64, sizeof binding_b64) != 0 ||
            base64_exact(binding_b64, binding, sizeof binding) != 0 ||
            ec_ping_binding_payload(rid, strlen(rid), request_sig, EC_RPC_SIG_HEX_BYTES, message, sizeof message,
                                    &message_len) != 0 ||
            ec_ed25519_verify(binding_key, message, message_len, binding) != 0) {
            fprintf(stderr, "answer_not_authenticated: binding\n");
        } else {
            printf("%s\n", answer.data);
            rc = 0;
        }
    } else {
        printf("%s\n", answer.data);
        rc = 0;
    }
    free(answer.data);
    return rc;
}

static int challenge(const char *base, const uint8_t *pinned) {
    answer_t answer = {0};
    int rc = 1;
    char nonce[33], rid[33], body[512], runtime[128], measurement[256], echoed_nonce[64], sig_b64[128];
    uint8_t key[EC_ED25519_PUBLIC_KEY_BYTES], sig[EC_ED25519_SIGNATURE_BYTES], payload[1024];
    long long issued_at = (long long)time(NULL), expires_at = issued_at + 60, evidence_at = 0, e_issued = 0, e_expires = 0;
    size_t payload_len = 0;
    if (evidence_key(base, pinned, key) != 0) return 1;
    random_hex(nonce, 16);
    random_hex(rid, 16);
    snprintf(body, sizeof body,
             "{\"challenge_nonce\":\"%s\",\"issued_at\":%lld,\"expires_at\":%lld,\"operation_purpose\":\"cli\","
             "\"request_id\":\"%s\"}",
             nonce, issued_at, expires_at, rid);
    long status = send_request(base, "/v1/attestation/challenge", body, NULL, NULL, &answer);
    if (status != 200) {
        rc = fail(status, &answer);
        goto done;
    }
    if (attested_tls) memcpy(key, channel_key, sizeof key); /* the evidence of the connection that carried it */
    if (json_string(answer.data, "runtime", runtime, sizeof runtime) || json_string(answer.data, "measurement", measurement, sizeof measurement) ||
        json_string(answer.data, "challenge_nonce", echoed_nonce, sizeof echoed_nonce) || strcmp(echoed_nonce, nonce) ||
        json_int(answer.data, "issued_at", &e_issued) || e_issued != issued_at || json_int(answer.data, "expires_at", &e_expires) ||
        e_expires != expires_at || json_int(answer.data, "evidence_issued_at", &evidence_at) ||
        json_string(answer.data, "signature", sig_b64, sizeof sig_b64) || base64_exact(sig_b64, sig, sizeof sig) != 0) {
        fprintf(stderr, "evidence_invalid\n");
        goto done;
    }
    /* The canonical payload from the fields we sent, so the evidence must match our challenge. */
    if (ec_challenge_payload(runtime, strlen(runtime), measurement, strlen(measurement), nonce, strlen(nonce), issued_at,
                             expires_at, "cli", 3, rid, strlen(rid), evidence_at, (char *)payload, sizeof payload,
                             &payload_len) != 0 ||
        ec_ed25519_verify(key, payload, payload_len, sig) != 0) {
        fprintf(stderr, "signature_invalid\n");
        goto done;
    }
    printf("verified runtime=%s measurement=%s evidence_issued_at=%lld\n", runtime, measurement, evidence_at);
    rc = 0;
done:
    free(answer.data);
    return rc;
}

static void print_hex(const ec_view *v) {
    if (v->data == NULL) {
        printf("null");
        return;
    }
    printf("\"");
    for (size_t i = 0; i < v->len; i++) printf("%02x", v->data[i]);
    printf("\"");
}

/* verify-nitro: exit 0 with the fields as JSON, 1 with the reason on stderr, 2 for usage. */
static int verify_nitro(int argc, char **argv) {
    const char *file = NULL, *root_pem = NULL, *policy = NULL;
    long long at_ms = (long long)time(NULL) * 1000, max_age_s = 300;
    int allow_debug = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--at-ms") == 0 && i + 1 < argc) at_ms = strtoll(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--root") == 0 && i + 1 < argc) root_pem = argv[++i];
        else if (strcmp(argv[i], "--pcrs") == 0 && i + 1 < argc) policy = argv[++i];
        else if (strcmp(argv[i], "--max-age-s") == 0 && i + 1 < argc) max_age_s = strtoll(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--allow-debug") == 0) allow_debug = 1;
        else if (file == NULL && argv[i][0] != '-') file = argv[i];
        else return 2;
    }
    if (file == NULL || max_age_s < 0) return 2;
    uint8_t *doc = malloc(EC_NITRO_MAX_DOCUMENT_BYTES + 1);
    FILE *f = fopen(file, "rb");
    size_t len = f != NULL && doc != NULL ? fread(doc, 1, EC_NITRO_MAX_DOCUMENT_BYTES + 1, f) : 0;
    if (f != NULL) fclose(f);
    if (f == NULL || doc == NULL) {
        fprintf(stderr, "enclave-rpc: cannot read %s\n", file);
        free(doc);
        return 2;
    }
    size_t root_len = 0;
    const uint8_t *root = ec_nitro_aws_root_der(&root_len);
    unsigned char *own_root = NULL;
    if (root_pem != NULL) {
        FILE *pem = fopen(root_pem, "r");
        X509 *cert = pem != NULL ? PEM_read_X509(pem, NULL, NULL, NULL) : NULL;
        if (pem != NULL) fclose(pem);
        int n = cert != NULL ? i2d_X509(cert, &own_root) : -1;
        X509_free(cert);
        if (n <= 0) {
            fprintf(stderr, "enclave-rpc: %s is not a PEM certificate\n", root_pem);
            free(doc);
            return 2;
        }
        root = own_root;
        root_len = (size_t)n;
    }
    ec_nitro_document d;
    int reason = EC_NITRO_OK, rc = ec_nitro_verify(doc, len, root, root_len, (int64_t)at_ms, &d, &reason);
    if (rc == 0) rc = ec_nitro_check_time(&d, (int64_t)at_ms, (int64_t)max_age_s * 1000, 30000, &reason);
    if (rc == 0 && policy != NULL) rc = ec_nitro_pcrs_match(&d, policy, strlen(policy), allow_debug, &reason);
    if (rc != 0) {
        fprintf(stderr, "%s\n", ec_nitro_error_string(reason));
    } else {
        printf("{\"module_id\":\"%.*s\",\"digest\":\"%.*s\",\"timestamp_ms\":%llu,\"pcrs\":{", (int)d.module_id.len,
               (const char *)d.module_id.data, (int)d.digest.len, (const char *)d.digest.data,
               (unsigned long long)d.timestamp_ms);
        const char *comma = "";
        for (int i = 0; i < EC_NITRO_MAX_PCRS; i++) {
            if (!(d.pcr_present & (1u << i))) continue;
            printf("%s\"%d\":", comma, i);
            print_hex(&d.pcrs[i]);
            comma = ",";
        }
        printf("},\"cabundle_length\":%zu,\"public_key\":", d.cabundle_count);
        print_hex(&d.public_key);
        printf(",\"user_data\":");
        print_hex(&d.user_data);
        printf(",\"nonce\":");
        print_hex(&d.nonce);
        printf("}\n");
    }
    OPENSSL_free(own_root);
    free(doc);
    return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
    /* It holds the shared secret: no core file, and no other process of this user reads it. */
    if (ec_protect_process() != 0) {
        fprintf(stderr, "enclave-rpc: could not turn off core files and process dumping\n");
        return 71;
    }
    const char *secret = getenv("ENCLAVE_RPC_SHARED_SECRET");
    const char *base = getenv("ENCLAVE_RUNTIME_BASE_URL");
    const char *pinned_b64 = getenv("TEE_ATTESTATION_PUBLIC_KEY");
    if (secret == NULL || *secret == '\0') secret = "local-dev-enclave-rpc-secret";
    if (base == NULL || *base == '\0') base = "http://127.0.0.1:8181";
    if (argc >= 3 && strcmp(argv[1], "--public-key") == 0) {
        pinned_b64 = argv[2];
        argv += 2;
        argc -= 2;
    }
    uint8_t pinned[EC_ED25519_PUBLIC_KEY_BYTES];
    int has_pin = pinned_b64 != NULL && *pinned_b64 != '\0';
    if (has_pin && base64_exact(pinned_b64, pinned, sizeof pinned) != 0) {
        fprintf(stderr, "enclave-rpc: the pinned public key must be base64 of 32 bytes\n");
        return 2;
    }
    const char *tls = getenv("ENCLAVE_RUNTIME_TLS");
    if (tls != NULL && strcmp(tls, "attested") == 0) {
        if (strncmp(base, "https://", 8) != 0) {
            fprintf(stderr, "enclave-rpc: ENCLAVE_RUNTIME_TLS=attested needs an https:// ENCLAVE_RUNTIME_BASE_URL\n");
            return 2;
        }
        attested_tls = 1;
        channel_pin = has_pin ? pinned : NULL;
    }
    if (argc < 2) goto usage;
    if (strcmp(argv[1], "verify-nitro") == 0) {
        int rc = verify_nitro(argc, argv);
        if (rc != 2) return rc;
        goto usage;
    }
    ec_rpc_signer *signer = ec_rpc_signer_new((const uint8_t *)secret, strlen(secret));
    if (signer == NULL) return 2;
    if (strcmp(argv[1], "sign") == 0 && argc == 6) {
        char sig[EC_RPC_SIG_HEX_BYTES + 1];
        int rc = ec_rpc_signer_sign_hex(signer, "POST", 4, argv[2], strlen(argv[2]), argv[3], strlen(argv[3]), argv[4],
                                        strlen(argv[4]), (const uint8_t *)argv[5], strlen(argv[5]), sig);
        ec_rpc_signer_free(signer);
        if (rc != 0) return 1;
        printf("%s\n", sig);
        return 0;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    char rid[33], body[512];
    random_hex(rid, 16);
    int rc = 2;
    if (strcmp(argv[1], "ping") == 0 && argc == 2) {
        uint8_t key[EC_ED25519_PUBLIC_KEY_BYTES];
        snprintf(body, sizeof body, "{\"contract_version\":\"v1\",\"request_id\":\"%s\"}", rid);
        rc = evidence_key(base, has_pin ? pinned : NULL, key) != 0 ? 1 : signed_call(base, signer, "/v1/rpc/ping", body, rid, key);
    } else if (strcmp(argv[1], "exchange") == 0 && argc == 4 && strlen(argv[2]) < 64 && strlen(argv[3]) < 64) {
        snprintf(body, sizeof body,
                 "{\"contract_version\":\"v1\",\"request_id\":\"%s\",\"connector\":{\"user_id\":\"%s\",\"connector_id\":\"%s\"}}",
                 rid, argv[2], argv[3]);
        rc = signed_call(base, signer, "/v1/rpc/google/token/exchange", body, rid, NULL);
    } else if (strcmp(argv[1], "challenge") == 0 && argc == 2) {
        rc = challenge(base, has_pin ? pinned : NULL);
    }
    curl_global_cleanup();
    ec_rpc_signer_free(signer);
    if (rc != 2) return rc;
usage:
    fprintf(stderr, "usage: enclave-rpc [--public-key BASE64] ping | exchange USER_ID CONNECTOR_ID | challenge | "
                    "sign PATH TS NONCE BODY\n"
                    "       enclave-rpc verify-nitro FILE [--at-ms MS] [--root PEM] [--pcrs POLICY] [--allow-debug] "
                    "[--max-age-s S]\n");
    return 2;
}
