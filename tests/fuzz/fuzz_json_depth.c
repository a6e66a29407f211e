/* Stockroom fuzz target: the nesting check every JSON body goes through
 * before jansson sees it (server/parse.c). jansson is the reference: a
 * body it parses within the depth never counts as too deep, and a depth
 * limit one higher never refuses what a lower one accepted. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
depth_of(const json_t *j)
{
    int d = 0, sub;
    const char *key;
    json_t *v;
    size_t i;

    if (json_is_object(j)) {
        json_object_foreach((json_t *)j, key, v)
        {
            sub = depth_of(v);
            d = sub > d ? sub : d;
        }
        return d + 1;
    }
    if (json_is_array(j)) {
        json_array_foreach(j, i, v)
        {
            sub = depth_of(v);
            d = sub > d ? sub : d;
        }
        return d + 1;
    }
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    int max = size ? data[0] % 40 : 0;
    json_error_t e;
    json_t *j;

    if (srv_parse_json_too_deep(s, size, max + 1) &&
        !srv_parse_json_too_deep(s, size, max))
        abort();
    if (srv_parse_json_too_deep(s, size, 32))
        return 0;
    /* Within the limit: jansson may now parse it, and must agree. */
    j = json_loadb(s, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &e);
    if (j && depth_of(j) <= max && srv_parse_json_too_deep(s, size, max))
        abort();
    json_decref(j);
    return 0;
}
