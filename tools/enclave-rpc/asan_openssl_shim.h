/* Included first (-include) in the sanitizer build of enclave-rpc only. libcrypto is not built
 * with AddressSanitizer, so its writes into the caller's buffers go unseen: EVP_DecodeBlock decodes
 * here into a buffer of its own, and the copy into the caller's buffer (an instrumented memcpy)
 * is checked against that buffer's real size. */
#ifndef ASAN_OPENSSL_SHIM_H
#define ASAN_OPENSSL_SHIM_H
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

static inline int asan_checked_decode_block(unsigned char *out, const unsigned char *in, int len) {
    unsigned char *decoded = malloc((size_t)len / 4 * 3 + 3);
    if (decoded == NULL) abort();
    int n = EVP_DecodeBlock(decoded, in, len);
    if (n > 0) memcpy(out, decoded, (size_t)n);
    free(decoded);
    return n;
}
#define EVP_DecodeBlock asan_checked_decode_block
#endif
