/* Fuzzes the strict opener of KMS's CiphertextForRecipient. Input: any bytes, taken as a CMS
 * structure. Properties: nothing crashes or leaks; every input is refused with one of the EC_CMS_
 * reasons (opening needs an encryption to this process's fresh key, which no input can be); and
 * the reason's sentence exists. Seeds (fuzz/corpus/fuzz_kms_open) are `openssl cms -encrypt`
 * outputs of each shape the opener tells apart, made for another key. */
#include "enclave_core.h"
#include "fuzz_common.h"

static ec_kms_recipient *recipient;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (recipient == NULL) recipient = ec_kms_recipient_new();
    FUZZ_ASSERT(recipient != NULL);
    uint8_t out[256];
    size_t len = 0;
    int reason = -1;
    FUZZ_ASSERT(ec_kms_recipient_open(recipient, data, size, out, sizeof out, &len, &reason) == -1);
    FUZZ_ASSERT(reason >= EC_CMS_MALFORMED && reason <= EC_CMS_TOO_LARGE && reason != EC_CMS_TOO_LARGE);
    FUZZ_ASSERT(ec_cms_reason_string(reason) != NULL);
    return 0;
}
