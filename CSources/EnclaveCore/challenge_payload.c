/* The canonical attestation evidence string of CONTRACT.md section 4, shared by the runtime (which
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

/* A text field may hold any bytes but the separator and control characters. */
static void put_field(writer *w, const char *s, size_t n) {
    if (!EC_BUF_OK(s, n)) {
        w->failed = 1;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '|' || c < 0x20 || c == 0x7f) {
            w->failed = 1;
            return;
        }
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
