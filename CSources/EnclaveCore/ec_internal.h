/* Internal helpers shared by the core's source files; nothing here is exported. */
#ifndef EC_INTERNAL_H
#define EC_INTERNAL_H

#include "enclave_core.h"

/* NULL is a valid pointer only for an empty buffer. */
#define EC_BUF_OK(p, len) ((p) != NULL || (len) == 0)

#endif
