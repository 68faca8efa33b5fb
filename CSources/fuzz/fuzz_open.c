/* Fuzzes opening sealed records. Input: AAD \n SEALED. Properties: arbitrary input never opens
 * under the fuzz key (forging GCM is infeasible), and sealing the input's bytes always opens again. */
#include "enclave_core.h"
#include "fuzz_common.h"

static const uint8_t key[EC_SEAL_KEY_BYTES] = "fuzz-data-key-0123456789abcdef!";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    field f[2];
    split_fields(data, size, f, 2);
    const uint8_t *aad = (const uint8_t *)f[0].p, *sealed = (const uint8_t *)f[1].p;
    uint8_t *out = malloc(f[1].n + EC_SEAL_OVERHEAD_BYTES + 1);
    size_t len = 0;
    FUZZ_ASSERT(ec_open(key, aad, f[0].n, sealed, f[1].n, out, f[1].n, &len) == -1);

    uint8_t *again = malloc(f[1].n + 1);
    FUZZ_ASSERT(ec_seal(key, aad, f[0].n, sealed, f[1].n, out, f[1].n + EC_SEAL_OVERHEAD_BYTES, &len) == 0);
    size_t opened = 0;
    FUZZ_ASSERT(ec_open(key, aad, f[0].n, out, len, again, f[1].n, &opened) == 0);
    FUZZ_ASSERT(opened == f[1].n && (opened == 0 || memcmp(again, sealed, opened) == 0));
    free(again);
    free(out);
    return 0;
}
