/* Fuzzes the request-authentication path of the core: header parsers and the keyed verifier.
 * Input: METHOD \n PATH \n TS \n NONCE \n SIGNATURE \n BODY. Properties: no crash or UB; a
 * signature the core made for these parts always verifies (current and previous key), and the
 * fuzzed signature verifies only if it equals one of those in either hex case. */
#include <ctype.h>

#include "enclave_core.h"
#include "fuzz_common.h"

static ec_rpc_verifier *verifier;
static const uint8_t current[] = "fuzz-current-secret-0123456789ab";
static const uint8_t previous[] = "fuzz-previous-secret-0123456789a";

static int same_hex(const char *a, const char *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (tolower((unsigned char)a[i]) != b[i]) return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (verifier == NULL) verifier = ec_rpc_verifier_new(current, sizeof current - 1, previous, sizeof previous - 1);
    field f[6];
    split_fields(data, size, f, 6);
    int64_t ts;
    (void)ec_parse_timestamp(f[2].p, f[2].n, &ts);
    (void)ec_check_nonce(f[3].p, f[3].n);

    const uint8_t *body = (const uint8_t *)f[5].p;
    int rc = ec_rpc_verify(verifier, f[0].p, f[0].n, f[1].p, f[1].n, f[2].p, f[2].n, f[3].p, f[3].n, body, f[5].n,
                           f[4].p, f[4].n);
    char good[EC_RPC_SIG_HEX_BYTES + 1], old[EC_RPC_SIG_HEX_BYTES + 1];
    FUZZ_ASSERT(ec_rpc_sign_hex(current, sizeof current - 1, f[0].p, f[0].n, f[1].p, f[1].n, f[2].p, f[2].n, f[3].p,
                                f[3].n, body, f[5].n, good) == 0);
    FUZZ_ASSERT(ec_rpc_sign_hex(previous, sizeof previous - 1, f[0].p, f[0].n, f[1].p, f[1].n, f[2].p, f[2].n, f[3].p,
                                f[3].n, body, f[5].n, old) == 0);
    int expected = -1;
    if (f[4].n == EC_RPC_SIG_HEX_BYTES && same_hex(f[4].p, good, f[4].n)) expected = 0;
    else if (f[4].n == EC_RPC_SIG_HEX_BYTES && same_hex(f[4].p, old, f[4].n)) expected = 1;
    FUZZ_ASSERT(rc == expected);
    FUZZ_ASSERT(ec_rpc_verify(verifier, f[0].p, f[0].n, f[1].p, f[1].n, f[2].p, f[2].n, f[3].p, f[3].n, body, f[5].n,
                              good, EC_RPC_SIG_HEX_BYTES) == 0);
    FUZZ_ASSERT(ec_rpc_verify(verifier, f[0].p, f[0].n, f[1].p, f[1].n, f[2].p, f[2].n, f[3].p, f[3].n, body, f[5].n,
                              old, EC_RPC_SIG_HEX_BYTES) == 1);
    return 0;
}
