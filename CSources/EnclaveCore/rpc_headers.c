/* Syntax checks of the signed-RPC headers, done before any MAC is computed. */
#include "ec_internal.h"

int ec_parse_timestamp(const char *s, size_t len, int64_t *out) {
    if (s == NULL || out == NULL || len == 0 || len > EC_RPC_TIMESTAMP_MAX_DIGITS) return -1;
    uint64_t value = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned digit = (unsigned)(unsigned char)s[i] - '0';
        if (digit > 9) return -1;
        /* 19 digits fit in uint64_t, so only the final int64_t bound needs checking. */
        value = value * 10 + digit;
    }
    if (value > (uint64_t)INT64_MAX) return -1;
    *out = (int64_t)value;
    return 0;
}

int ec_check_nonce(const char *s, size_t len) {
    if (s == NULL || len == 0 || len > EC_RPC_NONCE_MAX_BYTES) return -1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x21 || c > 0x7e) return -1;
    }
    return 0;
}
