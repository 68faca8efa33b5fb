/* Compiled against an installed libenclave_core through pkg-config by scripts/check-install.sh:
 * checks the loaded library's version and sizes, and one canonical signature. */
#include <enclave_core.h>
#include <stdio.h>
#include <string.h>

int main(void) {
    char hex[EC_RPC_SIG_HEX_BYTES + 1];
    const char *body = "{\"contract_version\":\"v1\",\"request_id\":\"r-3\"}";
    const char *key = "local-dev-enclave-rpc-secret";
    if (ec_rpc_sign_hex((const uint8_t *)key, strlen(key), "POST", 4, "/v1/rpc/ping", 12, "1767225600", 10,
                        "nonce-0123456789abcdef0123456789ab", 34, (const uint8_t *)body, strlen(body), hex) != 0)
        return 1;
    int ok = ec_version_major() == EC_VERSION_MAJOR && ec_rpc_sig_hex_bytes() == EC_RPC_SIG_HEX_BYTES &&
             strcmp(hex, "1ce3361b9f42bbd4ec0cf8f329e9fa5f0e6f544bd93e92be0ade8adf9cfb0a03") == 0;
    printf("libenclave_core %s: %s\n", ec_version_string(), ok ? "ok" : "MISMATCH");
    return ok ? 0 : 1;
}
