/* Tests of the C core over the published vectors and the contract's edge cases; built and run
 * under AddressSanitizer and UndefinedBehaviorSanitizer by `make check-c`.
 * Usage: core_test VECTORS_TXT (written by Tests/Vectors/flatten.py). */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <time.h>

#include "enclave_core.h"

static int failures, checks;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        checks++;                                                                    \
        if (!(cond)) {                                                               \
            failures++;                                                              \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                            \
    } while (0)

/* Decodes hex ("-" = empty) into a fresh buffer; the caller frees it. */
static uint8_t *unhex(const char *hex, size_t *len) {
    if (strcmp(hex, "-") == 0) hex = "";
    size_t n = strlen(hex) / 2;
    uint8_t *out = malloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
    *len = n;
    return out;
}

static void test_hmac_vector(const uint8_t *key, size_t key_len, const uint8_t *msg, size_t msg_len,
                             const uint8_t *tag, size_t tag_len, int valid) {
    uint8_t mac[EC_RPC_MAC_BYTES];
    CHECK(ec_hmac_sha256(key, key_len, msg, msg_len, mac) == 0);
    CHECK((memcmp(mac, tag, tag_len) == 0) == valid);

    if (tag_len != EC_RPC_MAC_BYTES) return;
    /* The vector's key and message as a request body: the canonical MAC must equal the HMAC of
     * the joined message, and the verifier must accept it. */
    static const char prefix[] = "POST\0/v1/rpc/google/token/exchange\0" "1767225600\0n-1\0";
    size_t prefix_len = sizeof prefix - 1;
    uint8_t *joined = malloc(prefix_len + msg_len + 1);
    memcpy(joined, prefix, prefix_len);
    if (msg_len > 0) memcpy(joined + prefix_len, msg, msg_len);
    uint8_t joined_mac[EC_RPC_MAC_BYTES];
    CHECK(ec_hmac_sha256(key, key_len, joined, prefix_len + msg_len, joined_mac) == 0);
    free(joined);
    char want[EC_RPC_SIG_HEX_BYTES + 1], hex[EC_RPC_SIG_HEX_BYTES + 1];
    for (size_t i = 0; i < EC_RPC_MAC_BYTES; i++) snprintf(want + 2 * i, 3, "%02x", joined_mac[i]);
    CHECK(ec_rpc_sign_hex(key, key_len, "POST", 4, "/v1/rpc/google/token/exchange", 29, "1767225600", 10,
                          "n-1", 3, msg, msg_len, hex) == 0);
    CHECK(strcmp(hex, want) == 0);
    ec_rpc_verifier *v = ec_rpc_verifier_new(key, key_len, NULL, 0);
    CHECK(v != NULL);
    CHECK(ec_rpc_verify(v, "POST", 4, "/v1/rpc/google/token/exchange", 29, "1767225600", 10, "n-1", 3, msg,
                        msg_len, want, 64) == 0);
    CHECK(ec_rpc_verify(v, "POST", 4, "/v1/rpc/google/token/exchange", 29, "1767225600", 10, "n-2", 3, msg,
                        msg_len, want, 64) == -1);
    ec_rpc_verifier_free(v);
}

static void run_vectors(const char *path) {
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    if (f == NULL) return;
    char *line = NULL;
    size_t cap = 0;
    int counts[4] = {0};
    while (getline(&line, &cap, f) > 0) {
        char kind[32], a[4096], b[4096], c[4096], d[4096];
        int n = sscanf(line, "%31s %4095s %4095s %4095s %4095s", kind, a, b, c, d);
        size_t al, bl, cl, dl;
        uint8_t *x = unhex(a, &al), *y = unhex(b, &bl), *z = unhex(c, &cl);
        uint8_t *w = n == 5 ? unhex(d, &dl) : NULL;
        if (strcmp(kind, "hmac") == 0) {
            test_hmac_vector(x, al, y, bl, z, cl, atoi(d));
            counts[0]++;
        } else if (strcmp(kind, "ed25519_verify") == 0) {
            int valid = atoi(d);
            int rc = cl == EC_ED25519_SIGNATURE_BYTES && al == 32 ? ec_ed25519_verify(x, y, bl, z) : -1;
            CHECK((rc == 0) == valid);
            counts[1]++;
        } else if (strcmp(kind, "ed25519_sign") == 0) {
            ec_ed25519_signer *s = ec_ed25519_signer_new(x);
            uint8_t pk[32], sig[64];
            CHECK(s != NULL && ec_ed25519_signer_public_key(s, pk) == 0 && memcmp(pk, y, 32) == 0);
            CHECK(ec_ed25519_signer_sign(s, z, cl, sig) == 0 && memcmp(sig, w, 64) == 0);
            CHECK(ec_ed25519_verify(pk, z, cl, sig) == 0);
            sig[0] ^= 1;
            CHECK(ec_ed25519_verify(pk, z, cl, sig) == -1);
            ec_ed25519_signer_free(s);
            counts[2]++;
        } else if (strcmp(kind, "blake2b") == 0) {
            uint8_t out[64];
            CHECK(ec_blake2b(out, 64, x, al, y, bl) == 0 && memcmp(out, z, 64) == 0);
            counts[3]++;
        }
        free(x), free(y), free(z), free(w);
    }
    free(line);
    fclose(f);
    CHECK(counts[0] == 181 && counts[1] == 151 && counts[2] == 5 && counts[3] == 256);
}

static void test_sizes_and_version(void) {
    CHECK(ec_rpc_mac_bytes() == EC_RPC_MAC_BYTES && EC_RPC_MAC_BYTES == 32);
    CHECK(ec_rpc_sig_hex_bytes() == EC_RPC_SIG_HEX_BYTES && EC_RPC_SIG_HEX_BYTES == 64);
    CHECK(ec_ed25519_seed_bytes() == EC_ED25519_SEED_BYTES);
    CHECK(ec_ed25519_public_key_bytes() == EC_ED25519_PUBLIC_KEY_BYTES);
    CHECK(ec_ed25519_signature_bytes() == EC_ED25519_SIGNATURE_BYTES);
    CHECK(ec_seal_key_bytes() == EC_SEAL_KEY_BYTES);
    CHECK(ec_seal_overhead_bytes() == EC_SEAL_OVERHEAD_BYTES && EC_SEAL_OVERHEAD_BYTES == 28);
    CHECK(ec_ping_binding_overhead_bytes() == EC_PING_BINDING_OVERHEAD_BYTES && EC_PING_BINDING_OVERHEAD_BYTES == 73);
    char expected[32];
    snprintf(expected, sizeof expected, "%d.%d.%d", EC_VERSION_MAJOR, EC_VERSION_MINOR, EC_VERSION_PATCH);
    CHECK(strcmp(ec_version_string(), expected) == 0 && ec_version_major() == EC_VERSION_MAJOR);
}

/* AWS's SigV4 suite, case get-vanilla-with-session-token (all 38 cases: bindings/python/tests/test_sigv4.py),
 * the size query, and a buffer one byte short. */
static void test_sigv4(void) {
    const ec_sigv4_header host = {"Host", 4, "example.amazonaws.com", 21};
    const char *secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const char *token = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267";
    ec_sigv4_request r = {
        .method = "GET", .method_len = 3, .path = "/", .path_len = 1, .query = "", .query_len = 0, .headers = &host,
        .header_count = 1, .payload = NULL, .payload_len = 0, .amz_date = "20150830T123600Z", .region = "us-east-1",
        .region_len = 9, .service = "service", .service_len = 7, .access_key_id = "AKIDEXAMPLE", .access_key_id_len = 11,
        .secret_access_key = (const uint8_t *)secret, .secret_access_key_len = strlen(secret), .session_token = token,
        .session_token_len = strlen(token), .normalize_path = 1, .sign_payload_header = 0};
    const char *want =
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
        "SignedHeaders=host;x-amz-date;x-amz-security-token, "
        "Signature=07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8";
    size_t len = 0;
    char out[512];
    CHECK(ec_sigv4_authorization(&r, NULL, 0, &len) == -1 && len == strlen(want));
    CHECK(ec_sigv4_authorization(&r, out, len, &len) == -1);
    CHECK(ec_sigv4_authorization(&r, out, sizeof out, &len) == 0 && strcmp(out, want) == 0);
    CHECK(ec_sigv4_canonical_request(&r, out, sizeof out, &len) == 0 && strstr(out, "x-amz-security-token:6e86") != NULL);
    r.amz_date = "20150830T1236Z";
    CHECK(ec_sigv4_authorization(&r, out, sizeof out, &len) == -1);
    CHECK(ec_sigv4_authorization(NULL, out, sizeof out, &len) == -1);
}

static void test_parsers(void) {
    int64_t t = -1;
    CHECK(ec_parse_timestamp("1767225600", 10, &t) == 0 && t == 1767225600);
    CHECK(ec_parse_timestamp("0", 1, &t) == 0 && t == 0);
    CHECK(ec_parse_timestamp("9223372036854775807", 19, &t) == 0 && t == INT64_MAX);
    CHECK(ec_parse_timestamp("9223372036854775808", 19, &t) == -1);
    CHECK(ec_parse_timestamp("9999999999999999999", 19, &t) == -1);
    CHECK(ec_parse_timestamp("10000000000000000000", 20, &t) == -1);
    CHECK(ec_parse_timestamp("", 0, &t) == -1);
    CHECK(ec_parse_timestamp("-1", 2, &t) == -1);
    CHECK(ec_parse_timestamp("+1", 2, &t) == -1);
    CHECK(ec_parse_timestamp(" 1", 2, &t) == -1);
    CHECK(ec_parse_timestamp("1 ", 2, &t) == -1);
    CHECK(ec_parse_timestamp("12a", 3, &t) == -1);
    CHECK(ec_parse_timestamp("1\0" "2", 3, &t) == -1);
    CHECK(ec_parse_timestamp("\xd9\xa1", 2, &t) == -1); /* Arabic-Indic digit one */

    char nonce[130];
    memset(nonce, 'a', sizeof nonce);
    CHECK(ec_check_nonce(nonce, 1) == 0 && ec_check_nonce(nonce, 128) == 0);
    CHECK(ec_check_nonce(nonce, 129) == -1 && ec_check_nonce(nonce, 0) == -1);
    CHECK(ec_check_nonce("!~", 2) == 0);
    CHECK(ec_check_nonce("a b", 3) == -1 && ec_check_nonce("a\x7f", 2) == -1);
    CHECK(ec_check_nonce("a\0", 2) == -1 && ec_check_nonce("\xc3\xa9", 2) == -1);
}

static void test_ct_compare(void) {
    uint8_t a[64], b[64];
    CHECK(ec_random(a, sizeof a) == 0);
    memcpy(b, a, sizeof a);
    CHECK(ec_ct_compare(a, b, sizeof a) == 0 && ec_ct_compare(a, b, 0) == 0);
    for (size_t i = 0; i < sizeof a * 8; i++) {
        b[i / 8] ^= (uint8_t)(1u << (i % 8));
        CHECK(ec_ct_compare(a, b, sizeof a) == -1);
        b[i / 8] ^= (uint8_t)(1u << (i % 8));
    }
    ec_wipe(b, sizeof b);
    uint8_t zero[64] = {0};
    CHECK(memcmp(b, zero, sizeof b) == 0);
}

/* Last: the test process stays protected afterwards. */
static void test_protect_process(void) {
    CHECK(ec_process_is_protected() == 0);
    CHECK(ec_protect_process() == 0);
    CHECK(ec_process_is_protected() == 1);
    CHECK(ec_protect_process() == 0); /* idempotent */
}

static int verify(const ec_rpc_verifier *v, const char *body, const char *sig) {
    return ec_rpc_verify(v, "POST", 4, "/v1/rpc/ping", 12, "1767225600", 10, "n-1", 3,
                         (const uint8_t *)body, strlen(body), sig, strlen(sig));
}

static void test_rpc_verifier(void) {
    const uint8_t cur[] = "current-secret-0123456789abcdef";
    const uint8_t prev[] = "previous-secret-0123456789abcdef";
    const uint8_t other[] = "unknown-secret-0123456789abcdef";
    const char *body = "{\"contract_version\":\"v1\",\"request_id\":\"r-3\"}";
    char sig_cur[65], sig_prev[65], sig_other[65];
    const uint8_t *keys[3] = {cur, prev, other};
    char *sigs[3] = {sig_cur, sig_prev, sig_other};
    for (int i = 0; i < 3; i++)
        CHECK(ec_rpc_sign_hex(keys[i], strlen((const char *)keys[i]), "POST", 4, "/v1/rpc/ping", 12,
                              "1767225600", 10, "n-1", 3, (const uint8_t *)body, strlen(body), sigs[i]) == 0);

    /* The keyed signer agrees with the one-shot function. */
    ec_rpc_signer *signer = ec_rpc_signer_new(cur, sizeof cur - 1);
    char again[65];
    CHECK(signer != NULL && ec_rpc_signer_sign_hex(signer, "POST", 4, "/v1/rpc/ping", 12, "1767225600", 10,
                                                   "n-1", 3, (const uint8_t *)body, strlen(body), again) == 0);
    CHECK(strcmp(again, sig_cur) == 0);
    ec_rpc_signer_free(signer);

    ec_rpc_verifier *only = ec_rpc_verifier_new(cur, sizeof cur - 1, NULL, 0);
    ec_rpc_verifier *rot = ec_rpc_verifier_new(cur, sizeof cur - 1, prev, sizeof prev - 1);
    CHECK(only != NULL && rot != NULL);
    CHECK(verify(only, body, sig_cur) == 0 && verify(only, body, sig_prev) == -1);
    CHECK(verify(rot, body, sig_cur) == 0 && verify(rot, body, sig_prev) == 1);
    CHECK(verify(rot, body, sig_other) == -1);

    /* Upper-case hex is accepted; wrong lengths and non-hex digits are not. */
    char upper[65];
    for (int i = 0; i < 65; i++) upper[i] = (char)(sig_cur[i] >= 'a' && sig_cur[i] <= 'f' ? sig_cur[i] - 32 : sig_cur[i]);
    CHECK(verify(only, body, upper) == 0);
    CHECK(ec_rpc_verify(only, "POST", 4, "/v1/rpc/ping", 12, "1767225600", 10, "n-1", 3,
                        (const uint8_t *)body, strlen(body), sig_cur, 63) == -1);
    char longer[66];
    snprintf(longer, sizeof longer, "%s0", sig_cur);
    CHECK(verify(only, body, longer) == -1);
    const char bad_digits[] = {'g', 'G', 'x', ' ', '/', ':', '@', '`', '\0', (char)0xff};
    for (size_t d = 0; d < sizeof bad_digits; d++) {
        char bad[65];
        memcpy(bad, sig_cur, 65);
        bad[17] = bad_digits[d];
        CHECK(ec_rpc_verify(only, "POST", 4, "/v1/rpc/ping", 12, "1767225600", 10, "n-1", 3,
                            (const uint8_t *)body, strlen(body), bad, 64) == -1);
    }

    /* Random bit flips in the signature, in each signed part, and in the body all fail. */
    char msg[256];
    for (int round = 0; round < 2000; round++) {
        char sig[65];
        memcpy(sig, sig_cur, 65);
        uint8_t r[2];
        CHECK(ec_random(r, 2) == 0);
        size_t pos = r[0] % 64;
        sig[pos] = (char)(sig[pos] ^ (1u << (r[1] % 7)));
        if (memcmp(sig, sig_cur, 64) != 0 && strcasecmp(sig, sig_cur) != 0) CHECK(verify(rot, body, sig) == -1);

        snprintf(msg, sizeof msg, "%s", body);
        size_t bpos = r[0] % strlen(body);
        msg[bpos] = (char)(msg[bpos] ^ (1u << (r[1] % 7)));
        CHECK(verify(rot, msg, sig_cur) == -1);
    }
    CHECK(ec_rpc_verify(only, "GET", 3, "/v1/rpc/ping", 12, "1767225600", 10, "n-1", 3,
                        (const uint8_t *)body, strlen(body), sig_cur, 64) == -1);
    CHECK(ec_rpc_verify(only, "POST", 4, "/v1/rpc/pinG", 12, "1767225600", 10, "n-1", 3,
                        (const uint8_t *)body, strlen(body), sig_cur, 64) == -1);
    CHECK(ec_rpc_verify(only, "POST", 4, "/v1/rpc/ping", 12, "1767225601", 10, "n-1", 3,
                        (const uint8_t *)body, strlen(body), sig_cur, 64) == -1);
    CHECK(ec_rpc_verify(only, "POST", 4, "/v1/rpc/ping", 12, "1767225600", 10, "n-2", 3,
                        (const uint8_t *)body, strlen(body), sig_cur, 64) == -1);
    /* Moving a byte across a separator changes the message. */
    CHECK(ec_rpc_verify(only, "POST", 4, "/v1/rpc/pin", 11, "g1767225600", 11, "n-1", 3,
                        (const uint8_t *)body, strlen(body), sig_cur, 64) == -1);
    CHECK(ec_rpc_verify(NULL, "POST", 4, "/", 1, "1", 1, "n", 1, NULL, 0, sig_cur, 64) == -1);
    CHECK(ec_rpc_verify(only, "POST", 4, "/", 1, "1", 1, "n", 1, NULL, 5, sig_cur, 64) == -1);
    ec_rpc_verifier_free(only);
    ec_rpc_verifier_free(rot);
    ec_rpc_verifier_free(NULL);
}

/* An empty key is a key anyone can use: every constructor refuses it, and "no previous key" is
 * NULL only. */
static void test_empty_keys_refused(void) {
    const uint8_t key[] = "current-secret-0123456789abcdef";
    const uint8_t empty[1] = {0};
    char hex[65];
    uint8_t mac[32];
    CHECK(ec_rpc_signer_new(key, 0) == NULL && ec_rpc_signer_new(empty, 0) == NULL && ec_rpc_signer_new(NULL, 0) == NULL);
    CHECK(ec_rpc_verifier_new(key, 0, NULL, 0) == NULL && ec_rpc_verifier_new(NULL, 0, NULL, 0) == NULL);
    CHECK(ec_rpc_verifier_new(key, sizeof key - 1, empty, 0) == NULL);
    CHECK(ec_rpc_verifier_new(key, sizeof key - 1, NULL, 5) == NULL);
    CHECK(ec_rpc_sign_hex(empty, 0, "POST", 4, "/", 1, "1", 1, "n", 1, NULL, 0, hex) == -1);
    CHECK(ec_hmac_sha256(empty, 0, (const uint8_t *)"m", 1, mac) == -1);
    /* A MAC made with the empty key is not accepted as the previous key's. */
    ec_rpc_verifier *v = ec_rpc_verifier_new(key, sizeof key - 1, NULL, 0);
    CHECK(v != NULL);
    ec_rpc_verifier_free(v);
}

/* docs/contract.md §2a: the answer's signature binds the request signature, status and body. */
static void test_response_signatures(void) {
    const uint8_t cur[] = "current-secret-0123456789abcdef";
    const uint8_t prev[] = "previous-secret-0123456789abcdef";
    const char *req = "5f0c7d8a1b2e3f405162738495a6b7c8d9eaf0b1c2d3e4f5061728394a5b6c7d";
    char upper[65];
    for (int i = 0; i < 65; i++) upper[i] = (char)(req[i] >= 'a' && req[i] <= 'f' ? req[i] - 32 : req[i]);
    const char *body = "{\"contract_version\":\"v1\",\"request_id\":\"r-3\"}";
    size_t blen = strlen(body);
    ec_rpc_verifier *rot = ec_rpc_verifier_new(cur, sizeof cur - 1, prev, sizeof prev - 1);
    ec_rpc_verifier *only = ec_rpc_verifier_new(cur, sizeof cur - 1, NULL, 0);
    ec_rpc_signer *client = ec_rpc_signer_new(cur, sizeof cur - 1);
    ec_rpc_signer *old_client = ec_rpc_signer_new(prev, sizeof prev - 1);
    char sig[65], sig_prev[65], again[65];
    CHECK(ec_rpc_verifier_sign_response_hex(rot, 0, req, 64, 200, (const uint8_t *)body, blen, sig) == 0);
    CHECK(ec_rpc_verifier_sign_response_hex(rot, 1, req, 64, 200, (const uint8_t *)body, blen, sig_prev) == 0);
    CHECK(ec_rpc_verifier_sign_response_hex(only, 1, req, 64, 200, (const uint8_t *)body, blen, again) == -1);
    CHECK(ec_rpc_verifier_sign_response_hex(rot, 2, req, 64, 200, (const uint8_t *)body, blen, again) == -1);
    /* The request signature is bound in lowercase: the upper-case form signs the same. */
    CHECK(ec_rpc_verifier_sign_response_hex(only, 0, upper, 64, 200, (const uint8_t *)body, blen, again) == 0);
    CHECK(strcmp(again, sig) == 0);
    /* Every byte value, first and last: only the 22 hex digits are taken (case folding must not
     * turn a control byte or punctuation into a digit), each signing as its lowercase form. */
    for (int at = 0; at < 64; at += 63) {
        int taken = 0;
        for (int c = 0; c < 256; c++) {
            char probe[65], lower[65], want_sig[65];
            memcpy(probe, req, 65);
            probe[at] = (char)c;
            int hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
            int rc = ec_rpc_verifier_sign_response_hex(only, 0, probe, 64, 200, (const uint8_t *)body, blen, again);
            CHECK(rc == (hex ? 0 : -1));
            if (rc != 0) continue;
            taken++;
            memcpy(lower, probe, 65);
            lower[at] = (char)(c >= 'A' && c <= 'F' ? c + 32 : c);
            CHECK(ec_rpc_verifier_sign_response_hex(only, 0, lower, 64, 200, (const uint8_t *)body, blen, want_sig) == 0);
            CHECK(strcmp(again, want_sig) == 0);
        }
        CHECK(taken == 22);
    }
    CHECK(ec_rpc_signer_sign_response_hex(client, req, 64, 200, (const uint8_t *)body, blen, again) == 0);
    CHECK(strcmp(again, sig) == 0);
    /* The message is exactly "v1-response" \0 SIG \0 "200" \0 BODY. */
    char message[512];
    size_t mlen = 0;
    memcpy(message, "v1-response", 12), mlen = 12;
    memcpy(message + mlen, req, 64), mlen += 64;
    message[mlen++] = 0;
    memcpy(message + mlen, "200", 3), mlen += 3;
    message[mlen++] = 0;
    memcpy(message + mlen, body, blen), mlen += blen;
    uint8_t mac[32];
    CHECK(ec_hmac_sha256(cur, sizeof cur - 1, (const uint8_t *)message, mlen, mac) == 0);
    char want[65];
    for (int i = 0; i < 32; i++) snprintf(want + 2 * i, 3, "%02x", mac[i]);
    CHECK(strcmp(want, sig) == 0);

    CHECK(ec_rpc_signer_verify_response(client, req, 64, 200, (const uint8_t *)body, blen, sig, 64) == 0);
    CHECK(ec_rpc_signer_verify_response(client, upper, 64, 200, (const uint8_t *)body, blen, sig, 64) == 0);
    CHECK(ec_rpc_signer_verify_response(old_client, req, 64, 200, (const uint8_t *)body, blen, sig_prev, 64) == 0);
    CHECK(ec_rpc_signer_verify_response(client, req, 64, 200, (const uint8_t *)body, blen, sig_prev, 64) == -1);
    /* Status, body, request signature and the answer's signature each matter. */
    CHECK(ec_rpc_signer_verify_response(client, req, 64, 201, (const uint8_t *)body, blen, sig, 64) == -1);
    CHECK(ec_rpc_signer_verify_response(client, req, 64, 200, (const uint8_t *)body, blen - 1, sig, 64) == -1);
    CHECK(ec_rpc_signer_verify_response(client, req, 64, 200, (const uint8_t *)body, blen, sig, 63) == -1);
    CHECK(ec_rpc_signer_verify_response(client, req, 63, 200, (const uint8_t *)body, blen, sig, 64) == -1);
    CHECK(ec_rpc_signer_verify_response(client, req, 64, 99, (const uint8_t *)body, blen, sig, 64) == -1);
    CHECK(ec_rpc_signer_verify_response(client, req, 64, 1000, (const uint8_t *)body, blen, sig, 64) == -1);
    CHECK(ec_rpc_signer_verify_response(NULL, req, 64, 200, (const uint8_t *)body, blen, sig, 64) == -1);
    for (int round = 0; round < 500; round++) {
        uint8_t r[2];
        CHECK(ec_random(r, 2) == 0);
        char flipped[65], request[65];
        memcpy(flipped, sig, 65);
        memcpy(request, req, 65);
        flipped[r[0] % 64] = (char)(flipped[r[0] % 64] ^ (1u << (r[1] % 7)));
        if (strcasecmp(flipped, sig) != 0)
            CHECK(ec_rpc_signer_verify_response(client, req, 64, 200, (const uint8_t *)body, blen, flipped, 64) == -1);
        request[r[1] % 64] = (char)(request[r[1] % 64] ^ (1u << (r[0] % 7)));
        if (strcasecmp(request, req) != 0)
            CHECK(ec_rpc_signer_verify_response(client, request, 64, 200, (const uint8_t *)body, blen, sig, 64) == -1);
    }
    /* The ping binding's message. */
    uint8_t payload[128];
    size_t plen = 0;
    CHECK(ec_ping_binding_payload("r-3", 3, upper, 64, payload, sizeof payload, &plen) == 0);
    CHECK(plen == EC_PING_BINDING_OVERHEAD_BYTES + 3 && memcmp(payload, "v1-ping\0r-3\0", 12) == 0 &&
          memcmp(payload + 12, req, 64) == 0);
    CHECK(ec_ping_binding_payload("r-3", 3, req, 64, payload, plen - 1, &plen) == -1);
    CHECK(ec_ping_binding_payload("r-3", 3, "zz", 2, payload, sizeof payload, &plen) == -1);
    char not_hex[65];
    memcpy(not_hex, req, 65);
    not_hex[63] = 'G';
    CHECK(ec_ping_binding_payload("r-3", 3, not_hex, 64, payload, sizeof payload, &plen) == -1);
    ec_rpc_verifier_free(rot);
    ec_rpc_verifier_free(only);
    ec_rpc_signer_free(client);
    ec_rpc_signer_free(old_client);
}

static void test_challenge_payload(void) {
    char out[256];
    size_t len = 0;
    CHECK(ec_challenge_payload("nitro", 5, "dev-local-enclave", 17, "n", 1, 1767225600, 1767225900,
                               "decrypt", 7, "r", 1, 1767225601, out, sizeof out, &len) == 0);
    const char *want = "nitro|dev-local-enclave|n|1767225600|1767225900|decrypt|r|1767225601";
    CHECK(len == strlen(want) && strcmp(out, want) == 0);
    CHECK(ec_challenge_payload("nitro", 5, "m", 1, "n", 1, -5, 0, "p", 1, "r", 1, INT64_MAX, out,
                               sizeof out, &len) == 0);
    CHECK(strcmp(out, "nitro|m|n|-5|0|p|r|9223372036854775807") == 0);
    /* Exactly enough room, then one byte too little. */
    CHECK(ec_challenge_payload("nitro", 5, "dev-local-enclave", 17, "n", 1, 1767225600, 1767225900,
                               "decrypt", 7, "r", 1, 1767225601, out, strlen(want) + 1, &len) == 0);
    CHECK(ec_challenge_payload("nitro", 5, "dev-local-enclave", 17, "n", 1, 1767225600, 1767225900,
                               "decrypt", 7, "r", 1, 1767225601, out, strlen(want), &len) == -1);
    /* C0, DEL, C1 (U+0080..U+009F) and U+2028/U+2029 are control characters. */
    const char *bad[] = {"a|b", "a\nb", "a\x1f", "\x7f", "a\0b", "a\xc2\x80", "\xc2\x9f", "x\xe2\x80\xa8", "\xe2\x80\xa9y"};
    size_t bad_len[] = {3, 3, 2, 1, 3, 3, 2, 4, 4};
    for (int i = 0; i < 9; i++) {
        CHECK(ec_challenge_payload(bad[i], bad_len[i], "m", 1, "n", 1, 1, 2, "p", 1, "r", 1, 3, out, sizeof out, &len) == -1);
        CHECK(ec_challenge_payload("nitro", 5, "m", 1, "n", 1, 1, 2, "p", 1, bad[i], bad_len[i], 3, out, sizeof out, &len) == -1);
        CHECK(ec_challenge_payload("nitro", 5, "m", 1, bad[i], bad_len[i], 1, 2, "p", 1, "r", 1, 3, out, sizeof out, &len) == -1);
    }
    /* UTF-8 beyond ASCII is allowed, U+00A0 and U+2027 among it. */
    CHECK(ec_challenge_payload("nitro", 5, "m", 1, "\xc3\xa9", 2, 1, 2, "p", 1, "r", 1, 3, out, sizeof out, &len) == 0);
    CHECK(ec_challenge_payload("nitro", 5, "m", 1, "\xc2\xa0\xe2\x80\xa7", 5, 1, 2, "p", 1, "r", 1, 3, out, sizeof out, &len) == 0);
    CHECK(ec_evidence_text_ok("ok", 2) == 0 && ec_evidence_text_ok("\xc2\x85", 2) == -1 && ec_evidence_text_ok(NULL, 0) == 0);
}

static void test_ed25519_signer(void) {
    uint8_t seed[32], pk[32], sig[64];
    CHECK(ec_random(seed, sizeof seed) == 0);
    ec_ed25519_signer *s = ec_ed25519_signer_new(seed);
    CHECK(s != NULL && ec_ed25519_signer_public_key(s, pk) == 0);
    const uint8_t msg[] = "nitro|m|n|1|2|p|r|3";
    CHECK(ec_ed25519_signer_sign(s, msg, sizeof msg - 1, sig) == 0);
    CHECK(ec_ed25519_verify(pk, msg, sizeof msg - 1, sig) == 0);
    CHECK(ec_ed25519_verify(pk, msg, sizeof msg - 2, sig) == -1);
    CHECK(ec_ed25519_signer_sign(s, NULL, 0, sig) == 0 && ec_ed25519_verify(pk, NULL, 0, sig) == 0);
    for (int bit = 0; bit < 512; bit += 7) {
        sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        CHECK(ec_ed25519_verify(pk, NULL, 0, sig) == -1);
        sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    ec_ed25519_signer_free(s);
    CHECK(ec_ed25519_signer_new(NULL) == NULL);
    /* The deprecated names of 1.2 are the same functions. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    uint8_t old_pk[32], old_sig[64];
    ec_signer *old = ec_signer_new(seed);
    CHECK(old != NULL && ec_signer_public_key(old, old_pk) == 0 && memcmp(old_pk, pk, 32) == 0);
    CHECK(ec_signer_sign(old, msg, sizeof msg - 1, old_sig) == 0 && ec_ed25519_verify(pk, msg, sizeof msg - 1, old_sig) == 0);
    ec_signer_free(old);
#pragma GCC diagnostic pop
}

/* docs/contract.md §2b: the certificate reads back (document, key) through OpenSSL; sizes, bounds
 * and every truncation are refused (independent parsers: bindings/python/tests/test_attested_cert.py). */
static void test_attested_certificate(void) {
    uint8_t seed[32], pk[32], got_pk[32];
    CHECK(ec_random(seed, sizeof seed) == 0);
    ec_ed25519_signer *s = ec_ed25519_signer_new(seed);
    CHECK(s != NULL && ec_ed25519_signer_public_key(s, pk) == 0);
    static uint8_t document[20000], cert[21000], back[20000];
    for (size_t i = 0; i < sizeof document; i++) document[i] = (uint8_t)('a' + i % 26);
    const size_t sizes[] = {1, 2, 127, 128, 255, 256, 1000, 65535 > sizeof document ? sizeof document : 65535};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t len = 0, doc_len = 0;
        CHECK(ec_attested_certificate(s, document, sizes[k], 1796638500, 1796724900, NULL, 0, &len) == -1 && len > sizes[k]);
        CHECK(ec_attested_certificate(s, document, sizes[k], 1796638500, 1796724900, cert, len - 1, &len) == -1);
        CHECK(ec_attested_certificate(s, document, sizes[k], 1796638500, 1796724900, cert, sizeof cert, &len) == 0);
        CHECK(ec_attested_certificate_document(cert, len, back, sizeof back, &doc_len, got_pk) == 0);
        CHECK(doc_len == sizes[k] && memcmp(back, document, doc_len) == 0 && memcmp(got_pk, pk, 32) == 0);
        for (size_t cut = 1; cut < len; cut += len / 7 + 1)
            CHECK(ec_attested_certificate_document(cert, cut, back, sizeof back, &doc_len, got_pk) == -1);
    }
    size_t len = 0;
    CHECK(ec_attested_certificate(s, document, 0, 0, 1, cert, sizeof cert, &len) == -1);
    CHECK(ec_attested_certificate(s, document, 10, 5, 5, cert, sizeof cert, &len) == -1);
    CHECK(ec_attested_certificate(NULL, document, 10, 0, 1, cert, sizeof cert, &len) == -1);
    CHECK(ec_attested_certificate(s, document, EC_ATTESTED_CERT_MAX_DOCUMENT_BYTES + 1, 0, 1, NULL, 0, &len) == -1);
    ec_ed25519_signer_free(s);
}

static void test_blake2b_bounds(void) {
    uint8_t out[65], key[65] = {0};
    CHECK(ec_blake2b(out, 0, "x", 1, NULL, 0) == -1 && ec_blake2b(out, 65, "x", 1, NULL, 0) == -1);
    CHECK(ec_blake2b(out, 32, "x", 1, key, 65) == -1);
    CHECK(ec_blake2b(out, 16, "x", 1, key, 64) == 0 && ec_blake2b(out, 64, NULL, 0, NULL, 0) == 0);
}

static void test_seal(void) {
    uint8_t key[32], other[32];
    CHECK(ec_random(key, 32) == 0 && ec_random(other, 32) == 0);
    const uint8_t aad[] = "user|connector|kms/local|1";
    const uint8_t plain[] = "1//refresh-token-value";
    size_t plain_len = sizeof plain - 1, aad_len = sizeof aad - 1;
    uint8_t sealed[128], sealed2[128], opened[128];
    size_t sealed_len = 0, sealed2_len = 0, opened_len = 0;
    CHECK(ec_seal(key, aad, aad_len, plain, plain_len, sealed, sizeof sealed, &sealed_len) == 0);
    CHECK(sealed_len == plain_len + EC_SEAL_OVERHEAD_BYTES);
    CHECK(ec_open(key, aad, aad_len, sealed, sealed_len, opened, sizeof opened, &opened_len) == 0);
    CHECK(opened_len == plain_len && memcmp(opened, plain, plain_len) == 0);
    /* Fresh nonce each time. */
    CHECK(ec_seal(key, aad, aad_len, plain, plain_len, sealed2, sizeof sealed2, &sealed2_len) == 0);
    CHECK(memcmp(sealed, sealed2, EC_SEAL_NONCE_BYTES) != 0);
    /* Every tamper case fails: key, aad, each byte of nonce, ciphertext and tag, truncation. */
    CHECK(ec_open(other, aad, aad_len, sealed, sealed_len, opened, sizeof opened, &opened_len) == -1);
    CHECK(ec_open(key, aad, aad_len - 1, sealed, sealed_len, opened, sizeof opened, &opened_len) == -1);
    CHECK(ec_open(key, NULL, 0, sealed, sealed_len, opened, sizeof opened, &opened_len) == -1);
    for (size_t i = 0; i < sealed_len; i++) {
        sealed[i] ^= 0x01;
        CHECK(ec_open(key, aad, aad_len, sealed, sealed_len, opened, sizeof opened, &opened_len) == -1);
        sealed[i] ^= 0x01;
    }
    for (size_t cut = 0; cut < sealed_len; cut++)
        CHECK(ec_open(key, aad, aad_len, sealed, cut, opened, sizeof opened, &opened_len) == -1);
    /* Too small an output buffer fails without writing past it. */
    CHECK(ec_seal(key, aad, aad_len, plain, plain_len, sealed2, plain_len + EC_SEAL_OVERHEAD_BYTES - 1,
                  &sealed2_len) == -1);
    CHECK(ec_open(key, aad, aad_len, sealed, sealed_len, opened, plain_len - 1, &opened_len) == -1);
    /* Empty plaintext and empty aad round-trip. */
    CHECK(ec_seal(key, NULL, 0, NULL, 0, sealed2, sizeof sealed2, &sealed2_len) == 0 &&
          sealed2_len == EC_SEAL_OVERHEAD_BYTES);
    CHECK(ec_open(key, NULL, 0, sealed2, sealed2_len, NULL, 0, &opened_len) == 0 && opened_len == 0);
}

/* ---- AWS Nitro documents ------------------------------------------------------------------ */

static uint8_t *read_file(const char *dir, const char *name, size_t *len) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    if (f == NULL) return NULL;
    uint8_t *data = malloc(1 << 16);
    *len = fread(data, 1, 1 << 16, f);
    fclose(f);
    return data;
}

/* The AWS root as DER, from the PEM of the vectors. */
static uint8_t *aws_root(const char *dir, size_t *len) {
    char path[1024];
    snprintf(path, sizeof path, "%s/aws_nitro_enclaves_root_g1.pem", dir);
    FILE *f = fopen(path, "r");
    X509 *cert = f != NULL ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f != NULL) fclose(f);
    unsigned char *der = NULL;
    int n = cert != NULL ? i2d_X509(cert, &der) : -1;
    X509_free(cert);
    CHECK(n > 0);
    uint8_t *copy = malloc(n > 0 ? (size_t)n : 1);
    if (n > 0) memcpy(copy, der, (size_t)n);
    OPENSSL_free(der);
    *len = n > 0 ? (size_t)n : 0;
    return copy;
}

typedef struct {
    const char *file;
    int64_t timestamp_ms;
    int debug;
} genuine;

static const genuine documents[] = {
    {"evervault_ga_attestation_doc.cbor", 1695049410860, 1},
    {"evervault_beta_valid-attestation-doc.cbor", 1665651482136, 0},
    {"evervault_beta_debug-mode-attestation-doc.cbor", 1665582606081, 1},
};

static const char beta_policy[] =
    "0=f4d48b81a460c9916d1e685119074bf24660afd3e34fae9fca0a0d28d9d5599936332687e6f66fc890ac8cf150142d8b,"
    "1=bcdf05fefccaa8e55bf2c8d6dee9e79bbff31e34bf28a99aa19e6b29c37ee80b214a414b7607236edf26fcb78654e63f,"
    "2=d8f114da658de5481f8d9ec73907feb553560787522f705c92d7d96beed8e15e2aa611984e098c576832c292e8dc469a,"
    "8=8790eb3cce6c83d07e84b126dc61ca923333d6f66615c4a79157de48c5ab2418bdc60746ea7b7afbff03a1c6210201cb";

static void test_nitro_genuine(const char *dir) {
    size_t root_len = 0;
    uint8_t *root = aws_root(dir, &root_len);
    uint8_t root_hash[32];
    CHECK(ec_sha256(root, root_len, root_hash) == 0);
    static const uint8_t aws_hash[32] = {0x64, 0x1a, 0x03, 0x21, 0xa3, 0xe2, 0x44, 0xef, 0xe4, 0x56, 0x46, 0x31, 0x95, 0xd6, 0x06, 0x31,
                                         0x7e, 0xd7, 0xcd, 0xcc, 0x3c, 0x17, 0x56, 0xe0, 0x98, 0x93, 0xf3, 0xc6, 0x8f, 0x79, 0xbb, 0x5b};
    CHECK(memcmp(root_hash, aws_hash, 32) == 0);
    size_t built_in_len = 0;
    const uint8_t *built_in = ec_nitro_aws_root_der(&built_in_len);
    CHECK(built_in_len == root_len && memcmp(built_in, root, root_len) == 0);
    ec_nitro_verifier *verifier = ec_nitro_verifier_new(root, root_len);
    CHECK(verifier != NULL);
    for (size_t i = 0; i < sizeof documents / sizeof documents[0]; i++) {
        size_t len = 0;
        uint8_t *doc = read_file(dir, documents[i].file, &len);
        if (doc == NULL) continue;
        ec_nitro_document d;
        int reason = -1;
        int64_t at = documents[i].timestamp_ms;
        CHECK(ec_nitro_parse(doc, len, &d, &reason) == 0 && reason == EC_NITRO_OK);
        CHECK(ec_nitro_verify(doc, len, root, root_len, at, &d, &reason) == 0 && reason == EC_NITRO_OK);
        CHECK((int64_t)d.timestamp_ms == at && d.cabundle_count == 4 && d.digest.len == 6);
        CHECK(d.pcr_present == 0xffff && d.pcrs[0].len == 48 && d.module_id.len > 0);
        CHECK(memcmp(d.cabundle[0].data, root, root_len) == 0);
        /* Today the chain has long expired. */
        int64_t now = (int64_t)time(NULL) * 1000;
        CHECK(ec_nitro_verify(doc, len, root, root_len, now, &d, &reason) == -1 && reason == EC_NITRO_CERT_EXPIRED);
        CHECK(d.timestamp_ms == 0); /* nothing is left in *out on failure */
        /* The verifier with its cache: the same answers, then from the cache. */
        CHECK(ec_nitro_verifier_verify(verifier, doc, len, at, &d, &reason) == 0);
        CHECK(ec_nitro_verifier_cached_links(verifier) >= 4); /* three intermediates and the leaf */
        CHECK(ec_nitro_verifier_verify(verifier, doc, len, at, &d, &reason) == 0);
        /* Never past a certificate's expiry: at a later time the links are gone, and it fails. */
        CHECK(ec_nitro_verifier_verify(verifier, doc, len, now, &d, &reason) == -1 && reason == EC_NITRO_CERT_EXPIRED);
        CHECK(ec_nitro_verifier_cached_links(verifier) == 0);
        CHECK(ec_nitro_verifier_verify(verifier, doc, len, at, &d, &reason) == 0);
        /* Freshness at the document's time and a little later. */
        CHECK(ec_nitro_check_time(&d, at + 300000, 300000, 30000, &reason) == 0);
        CHECK(ec_nitro_check_time(&d, at + 300001, 300000, 30000, &reason) == -1 && reason == EC_NITRO_STALE);
        CHECK(ec_nitro_check_time(&d, at - 30001, 300000, 30000, &reason) == -1 && reason == EC_NITRO_FUTURE);
        /* PCR policy: the debug documents are refused unless debug is allowed. */
        char zeros[1024];
        int n = snprintf(zeros, sizeof zeros, "0=%096d,1=%096d", 0, 0);
        int rc = ec_nitro_pcrs_match(&d, zeros, (size_t)n, 0, &reason);
        if (documents[i].debug) {
            CHECK(rc == -1 && reason == EC_NITRO_DEBUG_ENCLAVE);
            CHECK(ec_nitro_pcrs_match(&d, zeros, (size_t)n, 1, &reason) == 0);
            CHECK(ec_nitro_pcrs_match(&d, beta_policy, strlen(beta_policy), 1, &reason) == -1 && reason == EC_NITRO_PCRS_NOT_ALLOWED);
        } else {
            CHECK(rc == -1 && reason == EC_NITRO_PCRS_NOT_ALLOWED);
            CHECK(ec_nitro_pcrs_match(&d, beta_policy, strlen(beta_policy), 0, &reason) == 0);
            /* One set of several matching is enough; an empty policy matches nothing. */
            char two[2048];
            int m = snprintf(two, sizeof two, "%s ; %s", zeros, beta_policy);
            CHECK(ec_nitro_pcrs_match(&d, two, (size_t)m, 0, &reason) == 0);
            CHECK(ec_nitro_pcrs_match(&d, "", 0, 0, &reason) == -1 && reason == EC_NITRO_POLICY_EMPTY);
            CHECK(ec_nitro_pcrs_match(&d, " ; , ;", 6, 0, &reason) == -1 && reason == EC_NITRO_POLICY_EMPTY);
            /* A PCR the document lacks fails the set. */
            char missing[512];
            int k = snprintf(missing, sizeof missing, "%s,20=%096d", beta_policy, 0);
            CHECK(ec_nitro_pcrs_match(&d, missing, (size_t)k, 0, &reason) == -1 && reason == EC_NITRO_PCRS_NOT_ALLOWED);
        }
        /* Another root pinned (one bit of its signature): refused before any chain work; a pinned
         * root that is not a certificate is refused as such. */
        uint8_t other[600];
        memcpy(other, root, root_len);
        other[root_len - 1] ^= 1;
        CHECK(ec_nitro_verify(doc, len, other, root_len, at, &d, &reason) == -1 && reason == EC_NITRO_ROOT_MISMATCH);
        CHECK(ec_nitro_verify(doc, len, root, root_len - 1, at, &d, &reason) == -1 && reason == EC_NITRO_BAD_ROOT);
        /* Random bit flips anywhere never verify. */
        for (int round = 0; round < 200; round++) {
            uint8_t r[4];
            CHECK(ec_random(r, 4) == 0);
            size_t pos = ((size_t)r[0] << 16 | (size_t)r[1] << 8 | r[2]) % len;
            doc[pos] ^= (uint8_t)(1u << (r[3] % 8));
            CHECK(ec_nitro_verify(doc, len, root, root_len, at, &d, &reason) == -1 && reason != EC_NITRO_OK);
            CHECK(ec_nitro_verifier_verify(verifier, doc, len, at, &d, &reason) == -1);
            doc[pos] ^= (uint8_t)(1u << (r[3] % 8));
        }
        /* Truncated and extended. */
        CHECK(ec_nitro_verify(doc, len - 1, root, root_len, at, &d, &reason) == -1);
        uint8_t *longer = malloc(len + 1);
        memcpy(longer, doc, len);
        longer[len] = 0xf6;
        CHECK(ec_nitro_verify(longer, len + 1, root, root_len, at, &d, &reason) == -1 && reason == EC_NITRO_TRAILING_BYTES);
        free(longer);
        free(doc);
    }
    ec_nitro_verifier_free(verifier);
    CHECK(ec_nitro_verifier_new(root, root_len - 1) == NULL);
    free(root);
}

/* The link-cache attack (tools/nitro/forge_cache_attack.py): a genuine document with a CA of the
 * attacker's inserted at cabundle[1] is refused, and must teach the cache nothing: the next
 * document, AWS root -> that CA -> the attacker's leaf, is refused by the verifier that saw the
 * first exactly as by the one-shot call. */
static void test_nitro_cache_attack(const char *dir) {
    size_t root_len = 0, inserted_len = 0, forged_len = 0, genuine_len = 0;
    uint8_t *root = aws_root(dir, &root_len);
    uint8_t *inserted = read_file(dir, "cache_attack_inserted_ca.cbor", &inserted_len);
    uint8_t *forged = read_file(dir, "cache_attack_forged_chain.cbor", &forged_len);
    uint8_t *genuine = read_file(dir, "evervault_ga_attestation_doc.cbor", &genuine_len);
    const int64_t at = 1695049410860;
    ec_nitro_document d;
    int reason = -1;
    CHECK(ec_nitro_verify(inserted, inserted_len, root, root_len, at, &d, &reason) == -1 && reason == EC_NITRO_SIGNATURE_INVALID);
    CHECK(ec_nitro_verify(forged, forged_len, root, root_len, at, &d, &reason) == -1 && reason == EC_NITRO_CHAIN_INVALID);
    ec_nitro_verifier *verifier = ec_nitro_verifier_new(root, root_len);
    CHECK(ec_nitro_verifier_verify(verifier, inserted, inserted_len, at, &d, &reason) == -1 && reason == EC_NITRO_SIGNATURE_INVALID);
    CHECK(ec_nitro_verifier_cached_links(verifier) == 0); /* nothing unproven is remembered */
    CHECK(ec_nitro_verifier_verify(verifier, forged, forged_len, at, &d, &reason) == -1 && reason == EC_NITRO_CHAIN_INVALID);
    /* After the genuine document is cached, neither forgery gets through either. */
    CHECK(ec_nitro_verifier_verify(verifier, genuine, genuine_len, at, &d, &reason) == 0);
    CHECK(ec_nitro_verifier_verify(verifier, inserted, inserted_len, at, &d, &reason) == -1 && reason == EC_NITRO_SIGNATURE_INVALID);
    CHECK(ec_nitro_verifier_verify(verifier, forged, forged_len, at, &d, &reason) == -1 && reason == EC_NITRO_CHAIN_INVALID);
    CHECK(ec_nitro_verifier_verify(verifier, genuine, genuine_len, at, &d, &reason) == 0);
    ec_nitro_verifier_free(verifier);
    free(root);
    free(inserted);
    free(forged);
    free(genuine);
}

static void test_nitro_policy_and_strings(void) {
    int reason;
    char item[512];
    int n = snprintf(item, sizeof item, " 3 = %064d ", 0);
    CHECK(ec_nitro_policy_check(item, (size_t)n, &reason) == -1); /* blanks inside an item */
    n = snprintf(item, sizeof item, " 3=%064d , 4=%0128d ;; 31=%096d", 0, 0, 0);
    CHECK(ec_nitro_policy_check(item, (size_t)n, &reason) == 0);
    const char *bad[] = {"0=abc", "32=" "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
                         "x=00", "0=zz00000000000000000000000000000000000000000000000000000000000000", "=00", "00=" "0000000000000000000000000000000000000000000000000000000000000000"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(ec_nitro_policy_check(bad[i], strlen(bad[i]), &reason) == -1 && reason == EC_NITRO_POLICY_MALFORMED);
    n = snprintf(item, sizeof item, "1=%064d,1=%064d", 0, 0);
    CHECK(ec_nitro_policy_check(item, (size_t)n, &reason) == -1 && reason == EC_NITRO_POLICY_MALFORMED);
    CHECK(ec_nitro_policy_check("", 0, &reason) == -1 && reason == EC_NITRO_POLICY_EMPTY);
    for (int code = 0; code <= EC_NITRO_INTERNAL; code++) CHECK(strlen(ec_nitro_error_string(code)) > 0);
    CHECK(strcmp(ec_nitro_error_string(999), "unknown reason") == 0);
    CHECK(ec_nitro_max_pcrs() == EC_NITRO_MAX_PCRS && ec_nitro_max_cabundle() == EC_NITRO_MAX_CABUNDLE);
    CHECK(ec_nitro_document_size() == sizeof(ec_nitro_document));
    ec_nitro_document d;
    CHECK(ec_nitro_parse((const uint8_t *)"\x84", 1, &d, &reason) == -1 && reason == EC_NITRO_MALFORMED_CBOR);
    CHECK(ec_nitro_parse((const uint8_t *)"\xa0", 1, &d, &reason) == -1 && reason == EC_NITRO_NOT_COSE_SIGN1);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s VECTORS_TXT NITRO_DIR\n", argv[0]);
        return 2;
    }
    run_vectors(argv[1]);
    test_sizes_and_version();
    test_parsers();
    test_sigv4();
    test_ct_compare();
    test_rpc_verifier();
    test_empty_keys_refused();
    test_response_signatures();
    test_challenge_payload();
    test_ed25519_signer();
    test_attested_certificate();
    test_blake2b_bounds();
    test_seal();
    test_protect_process();
    test_nitro_genuine(argv[2]);
    test_nitro_cache_attack(argv[2]);
    test_nitro_policy_and_strings();
    printf("core_test: %d checks, %d failures\n", checks, failures);
    printf("%d passed, %d failed\n", checks - failures, failures);
    return failures == 0 ? 0 : 1;
}
