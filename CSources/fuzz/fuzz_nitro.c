/* Fuzzes the Nitro document reader and verifier: the strict CBOR decoder, COSE_Sign1 and payload
 * rules, the chain (against the AWS root) and the PCR policy. Properties: no crash or UB; a
 * document that verifies also parses, to the same fields; the verifier with its link cache gives
 * the same answer as the verification without one, input after input. Seeds: the genuine AWS
 * documents, verified at their own timestamps (so mutations reach the cryptography too). */
#include <string.h>

#include "enclave_core.h"
#include "fuzz_common.h"

static ec_nitro_verifier *cached;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    size_t root_len = 0;
    const uint8_t *root = ec_nitro_aws_root_der(&root_len);
    if (cached == NULL) cached = ec_nitro_verifier_new(root, root_len);
    FUZZ_ASSERT(cached != NULL);

    ec_nitro_document parsed, verified, again;
    int parse_reason = -1, reason = -1, cached_reason = -1;
    int parse_rc = ec_nitro_parse(data, size, &parsed, &parse_reason);
    FUZZ_ASSERT((parse_rc == 0) == (parse_reason == EC_NITRO_OK));
    FUZZ_ASSERT(strlen(ec_nitro_error_string(parse_reason)) > 0);
    /* At the document's own time when it has one, so a genuine chain is valid. */
    int64_t at = parse_rc == 0 ? (int64_t)parsed.timestamp_ms : 1665651482136;
    int rc = ec_nitro_verify(data, size, root, root_len, at, &verified, &reason);
    int cached_rc = ec_nitro_verifier_verify(cached, data, size, at, &again, &cached_reason);
    FUZZ_ASSERT(rc == cached_rc && reason == cached_reason);
    if (rc == 0) {
        FUZZ_ASSERT(parse_rc == 0 && memcmp(&parsed, &verified, sizeof parsed) == 0);
        FUZZ_ASSERT(memcmp(&verified, &again, sizeof verified) == 0);
        FUZZ_ASSERT(ec_nitro_check_time(&verified, at, 0, 0, &reason) == 0);
    } else {
        /* A refused document leaves nothing behind. */
        static const ec_nitro_document zero;
        FUZZ_ASSERT(memcmp(&verified, &zero, sizeof zero) == 0);
    }
    if (parse_rc == 0) {
        static const char policy[] =
            "0=f4d48b81a460c9916d1e685119074bf24660afd3e34fae9fca0a0d28d9d5599936332687e6f66fc890ac8cf150142d8b";
        (void)ec_nitro_pcrs_match(&parsed, policy, sizeof policy - 1, 0, &reason);
        /* The input as a policy, too. */
        (void)ec_nitro_pcrs_match(&parsed, (const char *)data, size, 1, &reason);
    }
    (void)ec_nitro_policy_check((const char *)data, size, &reason);
    return 0;
}
