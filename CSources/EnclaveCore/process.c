/* Keeping the secrets in this process's memory out of core files and away from other processes. */
#define _DEFAULT_SOURCE /* setrlimit under -std=c11 */
#include <sys/resource.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "ec_internal.h"

int ec_protect_process(void) {
#ifdef __linux__
    /* The limit first: a core written between the two calls would hold nothing yet, but a
     * process that later becomes dumpable again (setuid transitions reset the flag) still
     * writes no core. */
    const struct rlimit none = {0, 0};
    if (setrlimit(RLIMIT_CORE, &none) != 0) return -1;
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return -1;
    return 0;
#else
    return -1;
#endif
}

int ec_process_is_protected(void) {
#ifdef __linux__
    struct rlimit limit;
    if (getrlimit(RLIMIT_CORE, &limit) != 0) return -1;
    int dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
    if (dumpable < 0) return -1;
    return limit.rlim_cur == 0 && limit.rlim_max == 0 && dumpable == 0;
#else
    return -1;
#endif
}
