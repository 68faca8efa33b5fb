/* Internal helpers shared by the core's source files; nothing here is exported. */
#ifndef EC_INTERNAL_H
#define EC_INTERNAL_H

#include "enclave_core.h"

/* NULL is a valid pointer only for an empty buffer. */
#define EC_BUF_OK(p, len) ((p) != NULL || (len) == 0)

/* Reads a Nitro document's COSE_Sign1 and payload into d (an EC_NITRO_ reason code, 0 when
 * well-formed); the protected header's and the signature's bytes go to the two views. */
int nitro_parse_cose(const uint8_t *doc, size_t doc_len, ec_nitro_document *d, ec_view *protected_out,
                     ec_view *signature_out);

#endif
