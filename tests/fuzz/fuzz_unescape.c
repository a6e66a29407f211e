/* Stockroom fuzz target: percent-decoding of the URL and the check on the
 * decoded path (server/parse.c). Decoding never grows the string and never
 * leaves a NUL inside it; a path that passes the check holds no control
 * character. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    size_t in, out;

    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    in = strlen(s);
    out = srv_parse_unescape(s);
    if (out > in || strlen(s) != out)
        abort();
    if (srv_parse_path_ok(s)) {
        if (s[0] != '/')
            abort();
        for (const char *c = s; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f || *c == '\\')
                abort();
    }
    free(s);
    return 0;
}
