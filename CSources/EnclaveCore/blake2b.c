/* BLAKE2b through libb2. libb2's one-shot call takes (out, in, key, outlen, inlen, keylen), an
 * argument order unlike the reference code's; the KAT test pins it. */
#include <blake2.h>

#include "ec_internal.h"

int ec_blake2b(uint8_t *out, size_t out_len, const void *in, size_t in_len, const void *key,
               size_t key_len) {
    if (out == NULL || out_len == 0 || out_len > EC_BLAKE2B_MAX_BYTES) return -1;
    if (key_len > EC_BLAKE2B_KEY_MAX_BYTES || !EC_BUF_OK(in, in_len) || !EC_BUF_OK(key, key_len))
        return -1;
    return blake2b(out, in, key, out_len, in_len, key_len) == 0 ? 0 : -1;
}
