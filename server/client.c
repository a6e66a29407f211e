/* Stockroom — who the client is: the peer address, or behind a trusted
 * proxy the address that proxy says it served. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "httpint.h"

/* 1 when addr is one of the comma-separated addresses of list. Compared
 * as binary addresses, so "::ffff:…" forms and spellings do not matter. */
static int
in_list(const char *list, const char *addr)
{
    unsigned char want[16], have[16];
    int fam = strchr(addr, ':') ? AF_INET6 : AF_INET;
    char one[64];

    if (inet_pton(fam, addr, want) != 1)
        return 0;
    while (*list) {
        size_t n = strcspn(list, ",");

        if (n < sizeof one) {
            memcpy(one, list, n);
            one[n] = '\0';
            if (inet_pton(fam, one, have) == 1 &&
                !memcmp(want, have, fam == AF_INET ? 4 : 16))
                return 1;
        }
        list += n + (list[n] == ',');
    }
    return 0;
}

void
srv__client_resolve(struct srv_req *r)
{
    const char *proxies = r->h->app->cfg.trusted_proxy;
    const char *xff;
    char hop[64];
    size_t end;

    if (!proxies[0] || !in_list(proxies, r->client))
        return;
    xff = srv_req_header(r, "X-Forwarded-For");
    if (!xff)
        return;
    /* Read from the right: each hop was appended by the proxy in front of
     * it, so the first address that is not one of our proxies is the
     * client; what lies left of it the client could have written. */
    for (end = strlen(xff); end > 0;) {
        size_t start = end;
        unsigned char bin[16];

        while (start > 0 && xff[start - 1] != ',')
            start--;
        while (start < end && xff[start] == ' ')
            start++;
        while (end > start && xff[end - 1] == ' ')
            end--;
        if (end - start == 0 || end - start >= sizeof hop)
            return;
        memcpy(hop, xff + start, end - start);
        hop[end - start] = '\0';
        if (inet_pton(AF_INET, hop, bin) != 1 &&
            inet_pton(AF_INET6, hop, bin) != 1)
            return;
        snprintf(r->client, sizeof r->client, "%s", hop);
        if (!in_list(proxies, hop))
            return;
        while (start > 0 && xff[start - 1] != ',')
            start--;
        end = start > 0 ? start - 1 : 0;
    }
}
