/* The canonical attestation evidence string of docs/contract.md §4, shared by the runtime (which
 * signs it) and every host (which verifies it), so no one rebuilds it by hand. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ec_internal.h"

typedef struct {
    char *out;
    size_t cap;
    size_t len;
    int failed;
} writer;

static void put(writer *w, const char *s, size_t n) {
    if (w->failed) return;
    if (n > w->cap - w->len) {
        w->failed = 1;
        return;
    }
    if (n > 0) memcpy(w->out + w->len, s, n);
    w->len += n;
}

int ec_evidence_text_ok(const char *s, size_t n) {
    if (!EC_BUF_OK(s, n)) return -1;
    const unsigned char *b = (const unsigned char *)s;
    for (size_t i = 0; i < n; i++) {
        if (b[i] == '|' || b[i] < 0x20 || b[i] == 0x7f) return -1;
        /* C1 controls U+0080..U+009F (C2 80..C2 9F) and the line and paragraph separators
         * U+2028, U+2029 (E2 80 A8, E2 80 A9): a log or a terminal may treat them as line breaks. */
        if (b[i] == 0xc2 && i + 1 < n && b[i + 1] >= 0x80 && b[i + 1] <= 0x9f) return -1;
        if (b[i] == 0xe2 && i + 2 < n && b[i + 1] == 0x80 && (b[i + 2] == 0xa8 || b[i + 2] == 0xa9)) return -1;
    }
    return 0;
}

/* A text field may hold any bytes but the separator and control characters. */
static void put_field(writer *w, const char *s, size_t n) {
    if (ec_evidence_text_ok(s, n) != 0) {
        w->failed = 1;
        return;
    }
    put(w, s, n);
}

static void put_int(writer *w, int64_t v) {
    char digits[24];
    int n = snprintf(digits, sizeof digits, "%" PRId64, v);
    put(w, digits, (size_t)n);
}

int ec_challenge_payload(const char *runtime, size_t runtime_len, const char *measurement,
                         size_t measurement_len, const char *challenge_nonce,
                         size_t challenge_nonce_len, int64_t issued_at, int64_t expires_at,
                         const char *operation_purpose, size_t operation_purpose_len,
                         const char *request_id, size_t request_id_len, int64_t evidence_issued_at,
                         char *out, size_t out_cap, size_t *out_len) {
    if (out == NULL || out_len == NULL || out_cap == 0) return -1;
    /* Leave room for the NUL. */
    writer w = {out, out_cap - 1, 0, 0};
    put_field(&w, runtime, runtime_len);
    put(&w, "|", 1);
    put_field(&w, measurement, measurement_len);
    put(&w, "|", 1);
    put_field(&w, challenge_nonce, challenge_nonce_len);
    put(&w, "|", 1);
    put_int(&w, issued_at);
    put(&w, "|", 1);
    put_int(&w, expires_at);
    put(&w, "|", 1);
    put_field(&w, operation_purpose, operation_purpose_len);
    put(&w, "|", 1);
    put_field(&w, request_id, request_id_len);
    put(&w, "|", 1);
    put_int(&w, evidence_issued_at);
    if (w.failed) {
        out[0] = '\0';
        return -1;
    }
    out[w.len] = '\0';
    *out_len = w.len;
    return 0;
}
