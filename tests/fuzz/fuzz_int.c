/* Stockroom fuzz target: whole numbers from query strings and form fields
 * (server/parse.c), and the Bearer token of an Authorization header. A
 * number read is within its bounds and written back the same. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int64_t bounds[][2] = {
        {0, 1000}, {1, 100}, {INT64_MIN, INT64_MAX}, {-5, 5}};
    char *s = malloc(size + 1);
    const char *token;
    int64_t v;

    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    for (size_t i = 0; i < sizeof bounds / sizeof bounds[0]; i++) {
        v = 42;
        if (srv_parse_int(s, bounds[i][0], bounds[i][1], &v) == 0) {
            if (v < bounds[i][0] || v > bounds[i][1] || !*s)
                abort();
        } else if (v != 42) {
            abort();
        }
    }
    if (srv_parse_bearer(s, &token) == 0 &&
        (token < s || token > s + strlen(s)))
        abort();
    free(s);
    return 0;
}
