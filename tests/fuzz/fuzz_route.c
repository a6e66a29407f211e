/* Stockroom fuzz target: matching a decoded path against the route
 * patterns (server/parse.c). The input is the path; the patterns are the
 * shapes the router uses. Every captured parameter is a non-empty segment
 * without '/', inside the caller's buffer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const patterns[] = {"*",
                                           "/",
                                           "/api/images",
                                           "/api/images/{}",
                                           "/api/images/{}/file",
                                           "/api/lightboxes/{}/items/{}",
                                           "/{}/{}/{}/{}",
                                           "/api/{}"};
    char *path = malloc(size + 1);
    char segs[2048]; /* as struct srv_req's */
    const char *params[4];

    if (!path)
        return 0;
    memcpy(path, data, size);
    path[size] = '\0';
    for (size_t i = 0; i < sizeof patterns / sizeof patterns[0]; i++) {
        int n = 0;

        for (const char *c = patterns[i]; (c = strstr(c, "{}")); c += 2)
            n++;
        memset(params, 0, sizeof params);
        if (!srv_parse_route_match(patterns[i], path, segs, sizeof segs, params,
                                   4))
            continue;
        for (int k = 0; k < n && i > 0; k++) {
            if (!params[k] || params[k] < segs ||
                params[k] >= segs + sizeof segs || !*params[k] ||
                strchr(params[k], '/'))
                abort();
        }
    }
    free(path);
    return 0;
}
