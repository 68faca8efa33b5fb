/* Constant-time comparison, wiping and randomness. */
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ec_internal.h"

int ec_ct_compare(const void *a, const void *b, size_t len) {
    const volatile uint8_t *x = (const volatile uint8_t *)a;
    const volatile uint8_t *y = (const volatile uint8_t *)b;
    uint8_t d = 0;
    /* OR of the XORs, then a branch-free reduction (libsodium's sodium_memcmp). */
    for (size_t i = 0; i < len; i++) d |= x[i] ^ y[i];
    return (int)((1 & ((d - 1) >> 8)) - 1);
}

void ec_wipe(void *p, size_t len) {
    if (p != NULL && len > 0) OPENSSL_cleanse(p, len);
}

int ec_random(uint8_t *out, size_t len) {
    if (!EC_BUF_OK(out, len)) return -1;
    while (len > 0) {
        int chunk = len > (size_t)INT_MAX ? INT_MAX : (int)len;
        if (RAND_bytes(out, chunk) != 1) return -1;
        out += chunk;
        len -= (size_t)chunk;
    }
    return 0;
}
