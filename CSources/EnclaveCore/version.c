/* Version and size queries, so bindings read sizes from the library instead of hard-coding them. */
#include "ec_internal.h"

#define EC_STR2(x) #x
#define EC_STR(x) EC_STR2(x)

const char *ec_version_string(void) {
    return EC_STR(EC_VERSION_MAJOR) "." EC_STR(EC_VERSION_MINOR) "." EC_STR(EC_VERSION_PATCH);
}
int ec_version_major(void) { return EC_VERSION_MAJOR; }
int ec_version_minor(void) { return EC_VERSION_MINOR; }

size_t ec_rpc_mac_bytes(void) { return EC_RPC_MAC_BYTES; }
size_t ec_rpc_sig_hex_bytes(void) { return EC_RPC_SIG_HEX_BYTES; }
size_t ec_ed25519_seed_bytes(void) { return EC_ED25519_SEED_BYTES; }
size_t ec_ed25519_public_key_bytes(void) { return EC_ED25519_PUBLIC_KEY_BYTES; }
size_t ec_ed25519_signature_bytes(void) { return EC_ED25519_SIGNATURE_BYTES; }
size_t ec_seal_key_bytes(void) { return EC_SEAL_KEY_BYTES; }
size_t ec_seal_overhead_bytes(void) { return EC_SEAL_OVERHEAD_BYTES; }
size_t ec_ping_binding_overhead_bytes(void) { return EC_PING_BINDING_OVERHEAD_BYTES; }
size_t ec_nitro_max_pcrs(void) { return EC_NITRO_MAX_PCRS; }
size_t ec_nitro_max_cabundle(void) { return EC_NITRO_MAX_CABUNDLE; }
size_t ec_nitro_document_size(void) { return sizeof(ec_nitro_document); }
