/* Stockroom fuzz target: If-None-Match against an entity tag
 * (server/parse.c). The input is the header; the tag is fixed, as the
 * server's are. A header that is exactly the tag, or "*", always matches. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char etag[] = "\"t1-0123456789abcdef\"";
    char *h = malloc(size + 1);

    if (!h)
        return 0;
    memcpy(h, data, size);
    h[size] = '\0';
    (void)srv_parse_etag_matches(h, etag);
    (void)srv_parse_etag_matches(h, "\"\"");
    if (!strcmp(h, etag) && !srv_parse_etag_matches(h, etag))
        abort();
    free(h);
    return 0;
}
