/* Fuzzes the evidence payload builder. Input: RUNTIME \n MEASUREMENT \n NONCE \n PURPOSE \n
 * REQUEST_ID \n 24 bytes of integers. Properties: success exactly when no field holds '|', a
 * control character (C0, DEL, C1 as UTF-8) or U+2028/U+2029; on success the output has exactly 7
 * separators and the stated length. */
#include "enclave_core.h"
#include "fuzz_common.h"

static int clean(const field *f) {
    for (size_t i = 0; i < f->n; i++) {
        unsigned char c = (unsigned char)f->p[i];
        if (c == '|' || c < 0x20 || c == 0x7f) return 0;
        if (c == 0xc2 && i + 1 < f->n && (unsigned char)f->p[i + 1] >= 0x80 && (unsigned char)f->p[i + 1] <= 0x9f) return 0;
        if (c == 0xe2 && i + 2 < f->n && (unsigned char)f->p[i + 1] == 0x80 &&
            ((unsigned char)f->p[i + 2] == 0xa8 || (unsigned char)f->p[i + 2] == 0xa9))
            return 0;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    field f[6];
    split_fields(data, size, f, 6);
    int64_t ints[3] = {0, 0, 0};
    memcpy(ints, f[5].p, f[5].n < sizeof ints ? f[5].n : sizeof ints);
    size_t cap = f[0].n + f[1].n + f[2].n + f[3].n + f[4].n + 3 * 20 + 8;
    char *out = malloc(cap);
    size_t len = 0;
    int rc = ec_challenge_payload(f[0].p, f[0].n, f[1].p, f[1].n, f[2].p, f[2].n, ints[0], ints[1], f[3].p, f[3].n,
                                  f[4].p, f[4].n, ints[2], out, cap, &len);
    int all_clean = clean(&f[0]) && clean(&f[1]) && clean(&f[2]) && clean(&f[3]) && clean(&f[4]);
    FUZZ_ASSERT((rc == 0) == all_clean);
    if (rc == 0) {
        size_t bars = 0;
        for (size_t i = 0; i < len; i++) bars += out[i] == '|';
        FUZZ_ASSERT(bars == 7 && out[len] == '\0' && len < cap);
        /* One byte too little must fail cleanly. */
        FUZZ_ASSERT(ec_challenge_payload(f[0].p, f[0].n, f[1].p, f[1].n, f[2].p, f[2].n, ints[0], ints[1], f[3].p,
                                         f[3].n, f[4].p, f[4].n, ints[2], out, len, &len) == -1);
    }
    free(out);
    return 0;
}
