/* Stockroom — what a request must show before a route takes its body: a
 * JSON body that says it is JSON, and, for the routes that hand out a
 * session cookie, a page of our own behind it. Both stop cross-site forms:
 * a browser sends neither an application/json body nor a same-origin
 * Origin from another site's page without asking us first. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "httpint.h"

static int
has_body(struct srv_req *r)
{
    const char *clen = srv_req_header(r, "Content-Length");

    if (srv_req_header(r, "Transfer-Encoding"))
        return 1;
    if (!clen)
        return 0;
    clen += strspn(clen, "0 \t");
    return *clen != '\0';
}

/* "application/json", in any case, alone or with parameters. */
static int
is_json_type(const char *t)
{
    size_t n = strlen("application/json");

    if (!t)
        return 0;
    t += strspn(t, " \t");
    if (strncasecmp(t, "application/json", n) != 0)
        return 0;
    t += n;
    t += strspn(t, " \t");
    return *t == '\0' || *t == ';';
}

int
srv__req_type_ok(struct srv_req *r)
{
    /* Raw bodies (a signed webhook) are judged by their handler. */
    if (r->route->body != SRV_BODY_JSON || !has_body(r))
        return 0;
    if (is_json_type(srv_req_header(r, "Content-Type")))
        return 0;
    srv_error(r, 415, "unsupported_media_type",
              "Send the body as JSON with 'Content-Type: application/json'.");
    return -1;
}

/* The origin the store is reached at: scheme://host[:port] of
 * --public-url, or just host[:port] from the Host header. */
static int
same_origin(struct srv_req *r, const char *origin)
{
    const char *pub = srv_req_app(r)->cfg.public_url;
    const char *host = srv_req_header(r, "Host");
    const char *o_host = strstr(origin, "://");

    if (pub[0]) {
        const char *p_host = strstr(pub, "://");
        size_t n;

        if (!p_host)
            return 0;
        n = (size_t)(p_host + 3 - pub) + strcspn(p_host + 3, "/?#");
        return strlen(origin) == n && !strncasecmp(origin, pub, n);
    }
    return o_host && host && !strcasecmp(o_host + 3, host);
}

int
srv_req_same_site(struct srv_req *r)
{
    const char *site = srv_req_header(r, "Sec-Fetch-Site");
    const char *origin = srv_req_header(r, "Origin");

    /* "none": typed by the user; tools send neither header. */
    if (site && strcasecmp(site, "same-origin") != 0 &&
        strcasecmp(site, "none") != 0)
        goto refuse;
    if (origin && !same_origin(r, origin))
        goto refuse;
    return 0;
refuse:
    srv_error(r, 403, "cross_site",
              "This request came from another site's page.");
    return -1;
}
