/* Stockroom — routing and authentication: from the request line and
 * headers to a route, a user and the body ceiling, before any body is read. */
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "httpint.h"
#include "log.h"
#include "auth.h"
#include "parse.h"

static int
req_auth(struct srv_req *r)
{
    struct app *app = r->h->app;
    const char *hdr = srv_req_header(r, MHD_HTTP_HEADER_AUTHORIZATION);
    const char *cookie = srv_req_cookie(r, AUTH_COOKIE);
    const char *token = NULL;
    int rc;

    if (hdr) {
        if (srv_parse_bearer(hdr, &token) < 0) {
            srv_error(r, 401, "invalid_token",
                      "Send the token as 'Authorization: Bearer TOKEN'.");
            return -1;
        }
    } else if (cookie) {
        token = cookie;
        r->via_cookie = 1;
    }
    if (token) {
        rc = auth_session_user(app->auth, app->db, token, &r->user, r->csrf);
        if (rc == 0) {
            r->has_user = 1;
        } else if (!r->via_cookie) {
            srv_error(r, 401, "invalid_token",
                      "The token is unknown or has expired: sign in again.");
            return -1;
        } else {
            /* A stale cookie on a public page is just a visitor. */
            r->via_cookie = 0;
        }
    }
    if (r->route->auth == SRV_AUTH_REQUIRED && !r->has_user) {
        srv_error(r, 401, "unauthenticated", "Sign in to do this.");
        return -1;
    }
    if (r->route->roles &&
        (!r->has_user || !(r->user.roles & r->route->roles))) {
        srv_error(r, 403, "forbidden",
                  "Your account does not have the role this needs.");
        return -1;
    }
    /* A cookie is sent by the browser on its own, so a state-changing
     * request must also prove it came from our page. A Bearer token is
     * never sent automatically and needs no such proof. */
    if (r->via_cookie && r->has_user && strcmp(r->method, "GET") != 0 &&
        strcmp(r->method, "HEAD") != 0) {
        const char *sent = srv_req_header(r, "X-CSRF-Token");

        if (!sent || !auth_token_equal(sent, r->csrf)) {
            srv_error(r, 403, "csrf_failed",
                      "The X-CSRF-Token header is missing or wrong.");
            return -1;
        }
    }
    return 0;
}

static enum MHD_Result
add_header_size(void *cls, enum MHD_ValueKind kind, const char *key,
                const char *value)
{
    size_t *total = cls;

    (void)kind;
    *total += strlen(key) + (value ? strlen(value) : 0) + 4;
    return MHD_YES;
}

/* Everything that can be decided from the request line and headers. */
void
srv__req_begin(struct srv_req *r)
{
    struct app *app = r->h->app;
    const char *clen = srv_req_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char *allowed[16];
    int n_allowed = 0;
    const char *m = !strcmp(r->method, "HEAD") ? "GET" : r->method;

    srv__client_resolve(r);
    if (!srv_parse_path_ok(r->path)) {
        srv_error(r, 404, "not_found", "There is nothing at this address.");
        return;
    }
    {
        size_t total = 0;

        MHD_get_connection_values(r->con, MHD_HEADER_KIND, add_header_size,
                                  &total);
        if (total > HEADERS_MAX) {
            srv_error(r, 431, "headers_too_large",
                      "The request headers are "
                      "larger than %d bytes.",
                      HEADERS_MAX);
            return;
        }
    }
    r->route_ix = r->h->n_routes;
    for (int i = 0; i < r->h->n_routes; i++) {
        const struct srv_route *rt = &r->h->routes[i];

        memset(r->params, 0, sizeof r->params);
        if (!srv_parse_route_match(rt->pattern, r->path, r->segs,
                                   sizeof r->segs, r->params, MAX_PARAMS))
            continue;
        if (!strcmp(rt->method, m)) {
            r->route = rt;
            r->route_ix = i;
            break;
        }
        if (strcmp(rt->pattern, "*") != 0 && n_allowed < 16)
            allowed[n_allowed++] = rt->method;
    }
    if (!r->route || (n_allowed && !strcmp(r->route->pattern, "*"))) {
        char allow[128] = "";

        r->route = NULL;
        r->route_ix = r->h->n_routes;
        if (!n_allowed) {
            srv_error(r, 404, "not_found", "There is nothing at this address.");
            return;
        }
        for (int i = 0; i < n_allowed; i++) {
            if (!strstr(allow, allowed[i])) {
                strncat(allow, *allow ? ", " : "",
                        sizeof allow - strlen(allow) - 1);
                strncat(allow, allowed[i], sizeof allow - strlen(allow) - 1);
            }
        }
        srv_header(r, "Allow", allow);
        srv_error(r, 405, "method_not_allowed",
                  "This address does not take %s; it takes %s.", r->method,
                  allow);
        return;
    }
    if (r->route->auth != SRV_AUTH_NONE && req_auth(r) < 0)
        return;
    if (clen) {
        char *end;
        unsigned long long n = strtoull(clen, &end, 10);
        uint64_t limit = r->route->body == SRV_BODY_JSON ? app->cfg.json_limit
                         : r->route->body == SRV_BODY_MULTIPART
                             ? (uint64_t)app->cfg.upload_limit + FORM_SLACK
                         : r->route->body == SRV_BODY_RAW ? SRV_RAW_LIMIT
                                                          : 0;

        if (*end == '\0' && n > limit) {
            srv_error(r, 413, "too_large",
                      "The body is larger than this address accepts.");
            return;
        }
    }
    if (srv__req_type_ok(r) < 0)
        return;
    if (r->route->body == SRV_BODY_MULTIPART) {
        r->pp = MHD_create_post_processor(r->con, 32 * 1024, srv__post_iter, r);
        if (!r->pp)
            srv_error(r, 415, "unsupported_media_type",
                      "Send the upload as multipart/form-data.");
    }
}
