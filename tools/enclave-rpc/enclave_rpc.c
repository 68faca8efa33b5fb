/* enclave-rpc: calls the enclave runtime from C with the project's crypto core and libcurl.
 *
 *   enclave-rpc ping                          signed ping; prints the attested identity
 *   enclave-rpc exchange USER_ID CONNECTOR_ID signed token exchange; prints the JSON answer
 *   enclave-rpc challenge                     challenge, verified with ec_challenge_payload and
 *                                             ec_ed25519_verify against the document's key
 *   enclave-rpc sign PATH TS NONCE BODY       prints the x-alfred-rpc-signature (no network)
 *
 * ENCLAVE_RPC_SHARED_SECRET (else the local default) and ENCLAVE_RUNTIME_BASE_URL (else
 * http://127.0.0.1:8181). Exit status 0 only on a verified success; on failure the error
 * envelope's code is printed to stderr and the status is 1 (2 for usage errors). */
#include <curl/curl.h>
#include <enclave_core.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    char *data;
    size_t len;
} buffer;

static size_t collect(char *ptr, size_t size, size_t n, void *userdata) {
    buffer *b = userdata;
    size_t add = size * n;
    if (b->len + add > (1u << 20)) return 0; /* cap answers at 1 MiB */
    char *grown = realloc(b->data, b->len + add + 1);
    if (grown == NULL) return 0;
    memcpy(grown + b->len, ptr, add);
    b->data = grown;
    b->len += add;
    b->data[b->len] = '\0';
    return add;
}

/* The string value of "key" in a flat JSON object (escapes beyond \" \\ \/ are not expected). */
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

static void random_hex(char *out, size_t bytes) {
    uint8_t raw[64];
    if (bytes > sizeof raw || ec_random(raw, bytes) != 0) abort();
    for (size_t i = 0; i < bytes; i++) snprintf(out + 2 * i, 3, "%02x", raw[i]);
}

/* Sends one request; returns the HTTP status (0 when unreachable) with the body in *answer. */
static long send_request(const char *base, const char *path, const char *body, int sign, const char *secret,
                         buffer *answer) {
    char url[1024], ts[24], nonce[33], sig[EC_RPC_SIG_HEX_BYTES + 1], h_ts[64], h_nonce[96], h_sig[128];
    snprintf(url, sizeof url, "%s%s", base, path);
    CURL *curl = curl_easy_init();
    struct curl_slist *headers = curl_slist_append(NULL, "content-type: application/json");
    if (sign) {
        snprintf(ts, sizeof ts, "%lld", (long long)time(NULL));
        random_hex(nonce, 16);
        if (ec_rpc_sign_hex((const uint8_t *)secret, strlen(secret), "POST", 4, path, strlen(path), ts, strlen(ts),
                            nonce, strlen(nonce), (const uint8_t *)body, strlen(body), sig) != 0)
            abort();
        snprintf(h_ts, sizeof h_ts, "x-alfred-rpc-ts: %s", ts);
        snprintf(h_nonce, sizeof h_nonce, "x-alfred-rpc-nonce: %s", nonce);
        snprintf(h_sig, sizeof h_sig, "x-alfred-rpc-signature: %s", sig);
        headers = curl_slist_append(headers, "x-alfred-rpc-version: v1");
        headers = curl_slist_append(headers, h_ts);
        headers = curl_slist_append(headers, h_nonce);
        headers = curl_slist_append(headers, h_sig);
    }
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, answer);
    if (body != NULL) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    long status = 0;
    if (curl_easy_perform(curl) == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return status;
}

static int fail(long status, const buffer *answer) {
    char code[128];
    if (status == 0)
        fprintf(stderr, "unreachable\n");
    else if (json_string(answer->data, "code", code, sizeof code) == 0)
        fprintf(stderr, "%s\n", code);
    else
        fprintf(stderr, "http_%ld\n", status);
    return 1;
}

static int signed_call(const char *base, const char *secret, const char *path, const char *body, const char *rid) {
    buffer answer = {0};
    long status = send_request(base, path, body, 1, secret, &answer);
    char echoed[256];
    int rc;
    if (status != 200) {
        rc = fail(status, &answer);
    } else if (json_string(answer.data, "request_id", echoed, sizeof echoed) != 0 || strcmp(echoed, rid) != 0) {
        fprintf(stderr, "invalid_response\n");
        rc = 1;
    } else {
        printf("%s\n", answer.data);
        rc = 0;
    }
    free(answer.data);
    return rc;
}

static int challenge(const char *base) {
    buffer doc = {0}, answer = {0};
    int rc = 1;
    char key_b64[128], nonce[33], rid[33], body[512], runtime[128], measurement[256], echoed_nonce[64], sig_b64[128];
    uint8_t key[48], sig[72], payload[1024];
    long long issued_at = (long long)time(NULL), expires_at = issued_at + 60, evidence_at = 0, e_issued = 0, e_expires = 0;
    size_t payload_len = 0;
    long status = send_request(base, "/v1/attestation/document", NULL, 0, NULL, &doc);
    if (status != 200) return fail(status, &doc);
    if (json_string(doc.data, "public_key", key_b64, sizeof key_b64) != 0 ||
        EVP_DecodeBlock(key, (const unsigned char *)key_b64, (int)strlen(key_b64)) != 33) {
        fprintf(stderr, "bad_document\n");
        goto done;
    }
    random_hex(nonce, 16);
    random_hex(rid, 16);
    snprintf(body, sizeof body,
             "{\"challenge_nonce\":\"%s\",\"issued_at\":%lld,\"expires_at\":%lld,\"operation_purpose\":\"cli\","
             "\"request_id\":\"%s\"}",
             nonce, issued_at, expires_at, rid);
    status = send_request(base, "/v1/attestation/challenge", body, 0, NULL, &answer);
    if (status != 200) {
        rc = fail(status, &answer);
        goto done;
    }
    if (json_string(answer.data, "runtime", runtime, sizeof runtime) || json_string(answer.data, "measurement", measurement, sizeof measurement) ||
        json_string(answer.data, "challenge_nonce", echoed_nonce, sizeof echoed_nonce) || strcmp(echoed_nonce, nonce) ||
        json_int(answer.data, "issued_at", &e_issued) || e_issued != issued_at || json_int(answer.data, "expires_at", &e_expires) ||
        e_expires != expires_at || json_int(answer.data, "evidence_issued_at", &evidence_at) ||
        json_string(answer.data, "signature", sig_b64, sizeof sig_b64) ||
        EVP_DecodeBlock(sig, (const unsigned char *)sig_b64, (int)strlen(sig_b64)) != 66) {
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
    free(doc.data);
    free(answer.data);
    return rc;
}

int main(int argc, char **argv) {
    /* It holds the shared secret: no core file, and no other process of this user reads it. */
    if (ec_protect_process() != 0) {
        fprintf(stderr, "enclave-rpc: could not turn off core files and process dumping\n");
        return 71;
    }
    const char *secret = getenv("ENCLAVE_RPC_SHARED_SECRET");
    const char *base = getenv("ENCLAVE_RUNTIME_BASE_URL");
    if (secret == NULL || *secret == '\0') secret = "local-dev-enclave-rpc-secret";
    if (base == NULL || *base == '\0') base = "http://127.0.0.1:8181";
    if (argc < 2) goto usage;
    if (strcmp(argv[1], "sign") == 0 && argc == 6) {
        char sig[EC_RPC_SIG_HEX_BYTES + 1];
        if (ec_rpc_sign_hex((const uint8_t *)secret, strlen(secret), "POST", 4, argv[2], strlen(argv[2]), argv[3],
                            strlen(argv[3]), argv[4], strlen(argv[4]), (const uint8_t *)argv[5], strlen(argv[5]), sig) != 0)
            return 1;
        printf("%s\n", sig);
        return 0;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    char rid[33], body[512];
    random_hex(rid, 16);
    int rc;
    if (strcmp(argv[1], "ping") == 0 && argc == 2) {
        snprintf(body, sizeof body, "{\"contract_version\":\"v1\",\"request_id\":\"%s\"}", rid);
        rc = signed_call(base, secret, "/v1/rpc/ping", body, rid);
    } else if (strcmp(argv[1], "exchange") == 0 && argc == 4 && strlen(argv[2]) < 64 && strlen(argv[3]) < 64) {
        snprintf(body, sizeof body,
                 "{\"contract_version\":\"v1\",\"request_id\":\"%s\",\"connector\":{\"user_id\":\"%s\",\"connector_id\":\"%s\"}}",
                 rid, argv[2], argv[3]);
        rc = signed_call(base, secret, "/v1/rpc/google/token/exchange", body, rid);
    } else if (strcmp(argv[1], "challenge") == 0 && argc == 2) {
        rc = challenge(base);
    } else {
        curl_global_cleanup();
        goto usage;
    }
    curl_global_cleanup();
    return rc;
usage:
    fprintf(stderr, "usage: enclave-rpc ping | exchange USER_ID CONNECTOR_ID | challenge | sign PATH TS NONCE BODY\n");
    return 2;
}
