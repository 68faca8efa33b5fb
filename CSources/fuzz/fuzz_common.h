/* Splits a fuzz input into newline-separated fields; the last field takes the rest (it may hold
 * newlines), so a seed corpus stays readable. */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *p;
    size_t n;
} field;

static void split_fields(const uint8_t *data, size_t size, field *out, size_t count) {
    size_t start = 0;
    for (size_t f = 0; f < count; f++) {
        size_t end = start;
        if (f + 1 < count)
            while (end < size && data[end] != '\n') end++;
        else
            end = size;
        out[f].p = (const char *)data + (start < size ? start : size);
        out[f].n = (end > start ? end : start) - start;
        if (end > size) out[f].n = 0;
        start = end < size ? end + 1 : size;
    }
}

#define FUZZ_ASSERT(c) \
    do {               \
        if (!(c)) abort(); \
    } while (0)
#endif
