/* Stockroom — libmicrohttpd glue: routing, bodies, auth, replies, metrics. */
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "auth.h"
#include "http.h"
#include "log.h"
#include "rcache.h"

#define MAX_PARAMS 4
#define MAX_HDRS 8
#define MAX_PARTS 16
#define FIELD_LIMIT (64 * 1024)   /* a non-file multipart field */
#define FORM_SLACK (1024 * 1024)  /* form fields beside the file */
#define JSON_DEPTH 32             /* deeper is refused before parsing */
#define DISCARD_MAX (256LL << 20) /* body bytes read after refusing it */
#define HEADERS_MAX (16 * 1024)   /* all request headers together */

static const unsigned statuses[] = {
    200, 201, 202, 204, 206, 304, 400, 401, 402, 403, 404,
    405, 409, 410, 413, 415, 422, 429, 431, 500, 503, 0 /* any other */
};
#define N_STATUS (sizeof statuses / sizeof statuses[0])

static const double buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                 0.25,  0.5,    1,     2.5,  5,     10};
#define N_BUCKETS (sizeof buckets / sizeof buckets[0])

struct route_stats {
    _Atomic uint64_t by_status[N_STATUS];
    _Atomic uint64_t hist[N_BUCKETS + 1]; /* last: above every bucket */
    _Atomic uint64_t micros;              /* sum of durations */
};

struct srv_http {
    struct app *app;
    struct MHD_Daemon *d;
    const struct srv_route *routes;
    int n_routes;
    int listen_fd;
    _Atomic int inflight; /* requests begun and not yet completed */
    _Atomic int open_conns;
    _Atomic uint64_t next_id;
    struct route_stats *stats; /* n_routes + 1: the last is "unmatched" */
};

struct srv_req {
    struct srv_http *h;
    struct MHD_Connection *con;
    const struct srv_route *route;
    int route_ix;
    char method[16];
    char path[2048];
    char segs[2048]; /* path split at '/', params point here */
    const char *params[MAX_PARAMS];
    char id[24];
    char client[64];
    struct timespec start;
    /* reply */
    struct MHD_Response *resp;
    unsigned status;
    uint64_t bytes;
    int queued;
    char *hdr_name[MAX_HDRS];
    char *hdr_value[MAX_HDRS];
    int n_hdrs;
    /* body */
    char *body;
    size_t body_len;
    uint64_t received;
    json_t *json;
    struct MHD_PostProcessor *pp;
    struct srv_part *parts;
    struct srv_part *cur;
    int n_parts;
    /* auth */
    struct acc_user user;
    int has_user;
    int via_cookie;
    char csrf[ACC_CSRF_LEN];
};

/* ---- replies ---------------------------------------------------------- */

static void
add_common_headers(struct srv_req *r, struct MHD_Response *resp)
{
    MHD_add_response_header(
        resp, "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Referrer-Policy",
                            "strict-origin-when-cross-origin");
    MHD_add_response_header(resp, "X-Request-Id", r->id);
    for (int i = 0; i < r->n_hdrs; i++)
        MHD_add_response_header(resp, r->hdr_name[i], r->hdr_value[i]);
}

static void
set_reply(struct srv_req *r, unsigned status, struct MHD_Response *resp,
          uint64_t bytes)
{
    if (r->resp) {
        /* A handler that replies twice is a bug; keep the first answer. */
        log_error("%s: second reply ignored", r->id);
        MHD_destroy_response(resp);
        return;
    }
    if (!resp)
        return;
    add_common_headers(r, resp);
    r->resp = resp;
    r->status = status;
    r->bytes = bytes;
}

void
srv_header(struct srv_req *r, const char *name, const char *value)
{
    if (r->n_hdrs == MAX_HDRS)
        return;
    r->hdr_name[r->n_hdrs] = strdup(name);
    r->hdr_value[r->n_hdrs] = strdup(value);
    r->n_hdrs++;
}

void
srv_bytes(struct srv_req *r, unsigned status, const void *data, size_t len,
          const char *mime)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        len, (void *)data, MHD_RESPMEM_MUST_COPY);

    if (resp && mime)
        MHD_add_response_header(resp, "Content-Type", mime);
    set_reply(r, status, resp, len);
}

void
srv_json(struct srv_req *r, unsigned status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    struct MHD_Response *resp;
    size_t len;

    json_decref(body);
    if (!text) {
        text = strdup("{\"error\":{\"code\":\"internal\","
                      "\"message\":\"The answer could not be encoded.\"}}");
        status = 500;
    }
    len = strlen(text);
    /* MHD frees text with free() once sent. */
    resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(text);
        return;
    }
    MHD_add_response_header(resp, "Content-Type",
                            "application/json; charset=utf-8");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    set_reply(r, status, resp, len);
}

void
srv_error(struct srv_req *r, unsigned status, const char *code, const char *fmt,
          ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    srv_json(r, status,
             json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg));
}

void
srv_empty(struct srv_req *r, unsigned status)
{
    set_reply(r, status,
              MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT),
              0);
}

void
srv_fd(struct srv_req *r, unsigned status, int fd, uint64_t size,
       const char *mime)
{
    /* MHD owns fd from here and uses sendfile when it can. */
    struct MHD_Response *resp = MHD_create_response_from_fd64(size, fd);

    if (!resp) {
        close(fd);
        srv_error(r, 500, "internal", "The file could not be sent.");
        return;
    }
    MHD_add_response_header(resp, "Content-Type", mime);
    set_reply(r, status, resp, size);
}

void
srv_cached(struct srv_req *r, unsigned status, struct rcache_entry *e,
           const char *mime)
{
    /* Our own descriptor of the cached file, for sendfile: offsets are
     * explicit, so sharing the open file with other replies is safe. */
    int fd = fcntl(rcache_fd(e), F_DUPFD_CLOEXEC, 0);
    size_t size = rcache_size(e);

    rcache_unref(e);
    if (fd < 0) {
        srv_error(r, 503, "overloaded", "The file could not be sent.");
        return;
    }
    srv_fd(r, status, fd, size, mime);
}

/* ---- accessors -------------------------------------------------------- */

struct app *
srv_req_app(struct srv_req *r)
{
    return r->h->app;
}

const char *
srv_req_path(struct srv_req *r)
{
    return r->path;
}

const char *
srv_req_param(struct srv_req *r, int i)
{
    return i >= 0 && i < MAX_PARAMS ? r->params[i] : NULL;
}

const char *
srv_req_query(struct srv_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->con, MHD_GET_ARGUMENT_KIND, name);
}

const char *
srv_req_header(struct srv_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->con, MHD_HEADER_KIND, name);
}

const char *
srv_req_cookie(struct srv_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->con, MHD_COOKIE_KIND, name);
}

const char *
srv_req_client(struct srv_req *r)
{
    return r->client;
}

const char *
srv_req_id(struct srv_req *r)
{
    return r->id;
}

json_t *
srv_req_json(struct srv_req *r)
{
    return r->json;
}

struct srv_part *
srv_req_part(struct srv_req *r, const char *name)
{
    for (struct srv_part *p = r->parts; p; p = p->next) {
        if (!strcmp(p->name, name))
            return p;
    }
    return NULL;
}

const struct acc_user *
srv_req_user(struct srv_req *r)
{
    return r->has_user ? &r->user : NULL;
}

int
srv_req_via_cookie(struct srv_req *r)
{
    return r->via_cookie;
}

const char *
srv_req_csrf(struct srv_req *r)
{
    return r->csrf;
}

void
srv_part_take_file(struct srv_part *p)
{
    p->path[0] = '\0';
}

/* ---- JSON fields ------------------------------------------------------ */

int
srv_field_str(struct srv_req *r, const char *key, size_t min_len,
              size_t max_len, int optional, const char **out)
{
    json_t *v = r->json ? json_object_get(r->json, key) : NULL;
    size_t len;

    if (!v || json_is_null(v)) {
        if (optional) {
            *out = NULL;
            return 0;
        }
        srv_error(r, 422, "missing_field", "The field '%s' is required.", key);
        return -1;
    }
    if (!json_is_string(v)) {
        srv_error(r, 422, "invalid_field", "The field '%s' must be a string.",
                  key);
        return -1;
    }
    len = json_string_length(v);
    if (len < min_len || len > max_len || strlen(json_string_value(v)) != len) {
        srv_error(r, 422, "invalid_field",
                  "The field '%s' must be %zu to %zu characters long.", key,
                  min_len, max_len);
        return -1;
    }
    *out = json_string_value(v);
    return 0;
}

int
srv_field_int(struct srv_req *r, const char *key, int64_t min, int64_t max,
              int optional, int64_t *out)
{
    json_t *v = r->json ? json_object_get(r->json, key) : NULL;

    if (!v || json_is_null(v)) {
        if (optional)
            return 0;
        srv_error(r, 422, "missing_field", "The field '%s' is required.", key);
        return -1;
    }
    if (!json_is_integer(v) || json_integer_value(v) < min ||
        json_integer_value(v) > max) {
        srv_error(r, 422, "invalid_field",
                  "The field '%s' must be a whole number from %lld to %lld.",
                  key, (long long)min, (long long)max);
        return -1;
    }
    *out = json_integer_value(v);
    return 0;
}

int
srv_etag_matches(const char *header, const char *etag)
{
    size_t elen = strlen(etag);
    const char *p = header;

    while (*p) {
        const char *end;

        while (*p == ' ' || *p == ',')
            p++;
        if (*p == '*')
            return 1;
        if (!strncmp(p, "W/", 2))
            p += 2;
        end = p;
        while (*end && *end != ',')
            end++;
        while (end > p && end[-1] == ' ')
            end--;
        if ((size_t)(end - p) == elen && !strncmp(p, etag, elen))
            return 1;
        p = end;
        while (*p && *p != ',')
            p++;
    }
    return 0;
}

int
srv_query_int(struct srv_req *r, const char *name, int64_t min, int64_t max,
              int64_t def, int64_t *out)
{
    const char *v = srv_req_query(r, name);
    char *end;
    long long n;

    if (!v || !*v) {
        *out = def;
        return 0;
    }
    errno = 0;
    n = strtoll(v, &end, 10);
    if (errno || *end || n < min || n > max) {
        srv_error(r, 422, "invalid_parameter",
                  "The parameter '%s' must be a whole number from %lld to "
                  "%lld.",
                  name, (long long)min, (long long)max);
        return -1;
    }
    *out = n;
    return 0;
}

/* ---- routing ---------------------------------------------------------- */

/* Match the path against pattern segment by segment, capturing {} segments
 * into r->params (they point into r->segs). */
static int
route_match(struct srv_req *r, const char *pattern)
{
    char pat[256];
    char *p, *s;
    int n = 0;

    if (!strcmp(pattern, "*"))
        return 1;
    snprintf(r->segs, sizeof r->segs, "%s", r->path);
    snprintf(pat, sizeof pat, "%s", pattern);
    p = pat + 1;
    s = r->segs + 1;
    for (;;) {
        char *pe = strchr(p, '/');
        char *se = strchr(s, '/');

        if (pe)
            *pe = '\0';
        if (se)
            *se = '\0';
        if (!strcmp(p, "{}")) {
            if (!*s || n == MAX_PARAMS)
                return 0;
            r->params[n++] = s;
        } else if (strcmp(p, s) != 0) {
            return 0;
        }
        if (!pe || !se)
            return !pe && !se;
        p = pe + 1;
        s = se + 1;
    }
}

/* ---- auth ------------------------------------------------------------- */

static int
req_auth(struct srv_req *r)
{
    struct app *app = r->h->app;
    const char *hdr = srv_req_header(r, MHD_HTTP_HEADER_AUTHORIZATION);
    const char *cookie = srv_req_cookie(r, AUTH_COOKIE);
    const char *token = NULL;
    int rc;

    if (hdr) {
        if (strncasecmp(hdr, "Bearer ", 7) != 0) {
            srv_error(r, 401, "invalid_token",
                      "Send the token as 'Authorization: Bearer TOKEN'.");
            return -1;
        }
        token = hdr + 7;
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

/* ---- bodies ----------------------------------------------------------- */

static int
json_too_deep(const char *s, size_t len)
{
    int depth = 0, in_str = 0;

    for (size_t i = 0; i < len; i++) {
        char c = s[i];

        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '{' || c == '[') {
            if (++depth > JSON_DEPTH)
                return 1;
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return 0;
}

static void
parse_json_body(struct srv_req *r)
{
    json_error_t e;

    if (r->body_len == 0) {
        srv_error(r, 400, "malformed_json", "The request needs a JSON body.");
        return;
    }
    if (json_too_deep(r->body, r->body_len)) {
        srv_error(r, 400, "malformed_json", "The JSON is nested too deeply.");
        return;
    }
    r->json = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &e);
    if (!r->json) {
        srv_error(r, 400, "malformed_json", "The body is not valid JSON: %s.",
                  e.text);
        return;
    }
    if (!json_is_object(r->json))
        srv_error(r, 422, "invalid_body", "The body must be a JSON object.");
}

static enum MHD_Result
post_iter(void *cls, enum MHD_ValueKind kind, const char *key,
          const char *filename, const char *content_type,
          const char *transfer_encoding, const char *data, uint64_t off,
          size_t size)
{
    struct srv_req *r = cls;
    struct app *app = r->h->app;
    struct srv_part *p = r->cur;

    (void)kind;
    (void)content_type;
    (void)transfer_encoding;
    if (off == 0) {
        if (r->n_parts == MAX_PARTS) {
            srv_error(r, 413, "too_large", "Too many form fields.");
            return MHD_NO;
        }
        p = calloc(1, sizeof *p);
        if (!p)
            return MHD_NO;
        p->fd = -1;
        snprintf(p->name, sizeof p->name, "%s", key ? key : "");
        p->next = r->parts;
        r->parts = p;
        r->cur = p;
        r->n_parts++;
        /* The part named "file" is always a file, also when a filename
         * libmicrohttpd could not pass on (a NUL in it) went missing. */
        if (filename || (key && !strcmp(key, "file"))) {
            snprintf(p->filename, sizeof p->filename, "%s",
                     filename ? filename : "");
            snprintf(p->path, sizeof p->path, "%s/upload-XXXXXX", app->tmp_dir);
            p->fd = mkostemp(p->path, O_CLOEXEC);
            if (p->fd < 0) {
                log_error("%s: temporary file: %s", r->id, strerror(errno));
                p->path[0] = '\0';
                srv_error(r, 503, "storage_unavailable",
                          "The upload could not be stored.");
                return MHD_NO;
            }
        }
    }
    if (!p)
        return MHD_NO;
    if (p->fd >= 0) {
        if ((int64_t)(p->size + size) > app->cfg.upload_limit) {
            srv_error(r, 413, "too_large", "The file is larger than %lld MiB.",
                      (long long)(app->cfg.upload_limit >> 20));
            return MHD_NO;
        }
        for (size_t done = 0; done < size;) {
            ssize_t w = write(p->fd, data + done, size - done);

            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                log_error("%s: writing upload: %s", r->id, strerror(errno));
                srv_error(r, 503, "storage_unavailable",
                          "The upload could not be stored.");
                return MHD_NO;
            }
            done += (size_t)w;
        }
    } else {
        char *grown;

        if (p->size + size > FIELD_LIMIT) {
            srv_error(r, 413, "too_large", "The field '%s' is too long.",
                      p->name);
            return MHD_NO;
        }
        grown = realloc(p->value, p->size + size + 1);
        if (!grown)
            return MHD_NO;
        p->value = grown;
        memcpy(p->value + p->size, data, size);
        p->value[p->size + size] = '\0';
    }
    p->size += size;
    return MHD_YES;
}

/* Take another piece of the body. May make a reply (413 and friends). */
static void
req_consume(struct srv_req *r, const char *data, size_t size)
{
    struct app *app = r->h->app;

    r->received += size;
    switch (r->route->body) {
    case SRV_BODY_NONE:
        srv_error(r, 413, "too_large", "This request takes no body.");
        break;
    case SRV_BODY_JSON: {
        char *grown;

        if (r->body_len + size > app->cfg.json_limit) {
            srv_error(r, 413, "too_large", "The body is larger than %zu bytes.",
                      app->cfg.json_limit);
            break;
        }
        grown = realloc(r->body, r->body_len + size + 1);
        if (!grown) {
            srv_error(r, 503, "overloaded", "Out of memory.");
            break;
        }
        r->body = grown;
        memcpy(r->body + r->body_len, data, size);
        r->body_len += size;
        break;
    }
    case SRV_BODY_MULTIPART:
        if ((int64_t)r->received > app->cfg.upload_limit + FORM_SLACK) {
            srv_error(r, 413, "too_large",
                      "The upload is larger than %lld MiB.",
                      (long long)(app->cfg.upload_limit >> 20));
            break;
        }
        if (MHD_post_process(r->pp, data, size) != MHD_YES && !r->resp)
            srv_error(r, 400, "malformed_body",
                      "The multipart body could not be read.");
        break;
    }
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
static void
req_begin(struct srv_req *r)
{
    struct app *app = r->h->app;
    const char *clen = srv_req_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char *allowed[16];
    int n_allowed = 0, path_ok = 1;
    const char *m = !strcmp(r->method, "HEAD") ? "GET" : r->method;

    for (const char *c = r->path; *c; c++) {
        /* 0x7f is what the unescaper makes of %00. */
        if ((unsigned char)*c < 0x20 || *c == 0x7f || *c == '\\')
            path_ok = 0;
    }
    if (r->path[0] != '/' || !path_ok) {
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
        if (!route_match(r, rt->pattern))
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
                             : 0;

        if (*end == '\0' && n > limit) {
            srv_error(r, 413, "too_large",
                      "The body is larger than this address accepts.");
            return;
        }
    }
    if (r->route->body == SRV_BODY_MULTIPART) {
        r->pp = MHD_create_post_processor(r->con, 32 * 1024, post_iter, r);
        if (!r->pp)
            srv_error(r, 415, "unsupported_media_type",
                      "Send the upload as multipart/form-data.");
    }
}

static void
req_dispatch(struct srv_req *r)
{
    if (r->route->body == SRV_BODY_JSON)
        parse_json_body(r);
    if (r->route->body == SRV_BODY_MULTIPART) {
        for (struct srv_part *p = r->parts; p; p = p->next) {
            if (p->fd >= 0 && lseek(p->fd, 0, SEEK_SET) < 0)
                log_warn("%s: rewinding upload: %s", r->id, strerror(errno));
        }
    }
    if (!r->resp)
        r->route->handler(r);
    if (!r->resp) {
        log_error("%s: %s %s made no reply", r->id, r->method, r->path);
        srv_error(r, 500, "internal", "Something went wrong on our side.");
    }
}

/* ---- libmicrohttpd callbacks ------------------------------------------ */

static struct srv_req *
req_new(struct srv_http *h, struct MHD_Connection *con, const char *url,
        const char *method)
{
    struct srv_req *r = calloc(1, sizeof *r);
    const union MHD_ConnectionInfo *ci;

    if (!r)
        return NULL;
    r->h = h;
    r->con = con;
    r->route_ix = h->n_routes; /* "unmatched" until routed */
    clock_gettime(CLOCK_MONOTONIC, &r->start);
    snprintf(r->method, sizeof r->method, "%s", method);
    snprintf(r->path, sizeof r->path, "%s", url);
    snprintf(r->id, sizeof r->id, "r%06llx",
             (unsigned long long)atomic_fetch_add(&h->next_id, 1));
    snprintf(r->client, sizeof r->client, "unknown");
    ci = MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr) {
        char host[64];

        if (getnameinfo(ci->client_addr, sizeof(struct sockaddr_storage), host,
                        sizeof host, NULL, 0, NI_NUMERICHOST) == 0)
            snprintf(r->client, sizeof r->client, "%s", host);
    }
    atomic_fetch_add(&h->inflight, 1);
    return r;
}

static enum MHD_Result
req_queue(struct srv_req *r)
{
    enum MHD_Result ok;

    if (r->queued)
        return MHD_YES;
    r->queued = 1;
    ok = MHD_queue_response(r->con, r->status, r->resp);
    return ok;
}

static enum MHD_Result
on_access(void *cls, struct MHD_Connection *con, const char *url,
          const char *method, const char *version, const char *data,
          size_t *size, void **ctx)
{
    struct srv_http *h = cls;
    struct srv_req *r = *ctx;

    (void)version;
    if (!r) {
        r = req_new(h, con, url, method);
        if (!r)
            return MHD_NO;
        *ctx = r;
        req_begin(r);
        return r->resp ? req_queue(r) : MHD_YES;
    }
    if (*size) {
        if (!r->resp)
            req_consume(r, data, *size);
        else
            r->received += *size;
        *size = 0;
        /* libmicrohttpd takes a reply only once the body is in, so a
         * refused body is read and dropped until then; past a ceiling the
         * client is not worth the bandwidth and the connection closes. */
        if (r->resp && r->received > DISCARD_MAX)
            return MHD_NO;
        return MHD_YES;
    }
    if (!r->resp)
        req_dispatch(r);
    return req_queue(r);
}

static void
status_count(struct srv_http *h, struct srv_req *r, double secs)
{
    struct route_stats *st = &h->stats[r->route_ix];
    size_t i = 0, b = 0;

    while (statuses[i] && statuses[i] != r->status)
        i++;
    atomic_fetch_add(&st->by_status[i], 1);
    while (b < N_BUCKETS && secs > buckets[b])
        b++;
    atomic_fetch_add(&st->hist[b], 1);
    atomic_fetch_add(&st->micros, (uint64_t)(secs * 1e6));
}

/* The path as the access log shows it: decoded control characters would
 * let a client write lines of its own into the log. */
static void
log_path(const char *path, char *out, size_t len)
{
    size_t w = 0;

    for (const unsigned char *p = (const unsigned char *)path;
         *p && w + 5 < len; p++) {
        if (*p < 0x20 || *p == 0x7f || *p == '\\')
            w += (size_t)snprintf(out + w, len - w, "\\x%02x", *p);
        else
            out[w++] = (char)*p;
    }
    out[w] = '\0';
}

static void
on_completed(void *cls, struct MHD_Connection *con, void **ctx,
             enum MHD_RequestTerminationCode toe)
{
    struct srv_http *h = cls;
    struct srv_req *r = *ctx;
    char shown[512];
    struct timespec now;
    double secs;

    (void)con;
    if (!r)
        return;
    clock_gettime(CLOCK_MONOTONIC, &now);
    secs = (double)(now.tv_sec - r->start.tv_sec) +
           (double)(now.tv_nsec - r->start.tv_nsec) / 1e9;
    status_count(h, r, secs);
    log_path(r->path, shown, sizeof shown);
    log_info("%s %s %s %u %llu %.1fms%s", r->id, r->method, shown, r->status,
             (unsigned long long)r->bytes, secs * 1000,
             toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted");
    if (r->pp)
        MHD_destroy_post_processor(r->pp);
    while (r->parts) {
        struct srv_part *p = r->parts;

        r->parts = p->next;
        if (p->fd >= 0)
            close(p->fd);
        if (p->path[0])
            unlink(p->path);
        free(p->value);
        free(p);
    }
    if (r->resp)
        MHD_destroy_response(r->resp);
    for (int i = 0; i < r->n_hdrs; i++) {
        free(r->hdr_name[i]);
        free(r->hdr_value[i]);
    }
    json_decref(r->json);
    free(r->body);
    free(r);
    *ctx = NULL;
    atomic_fetch_sub(&h->inflight, 1);
}

static void
on_connection(void *cls, struct MHD_Connection *con, void **socket_ctx,
              enum MHD_ConnectionNotificationCode toe)
{
    struct srv_http *h = cls;

    (void)con;
    (void)socket_ctx;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED)
        atomic_fetch_add(&h->open_conns, 1);
    else
        atomic_fetch_sub(&h->open_conns, 1);
}

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decoding that cannot truncate: %00 becomes 0x7f, which every path
 * check refuses, instead of a NUL that would hide what follows it. */
static size_t
unescape(void *cls, struct MHD_Connection *con, char *s)
{
    char *w = s;

    (void)cls;
    (void)con;
    for (char *p = s; *p; p++) {
        int hi, lo;

        if (*p == '%' && (hi = hexval(p[1])) >= 0 && (lo = hexval(p[2])) >= 0) {
            int v = hi * 16 + lo;

            *w++ = v ? (char)v : 0x7f;
            p += 2;
        } else if (*p == '+') {
            /* Only the query string reaches us with '+' meaning space;
             * paths with '+' are left to fail their route match. */
            *w++ = ' ';
        } else {
            *w++ = *p;
        }
    }
    *w = '\0';
    return (size_t)(w - s);
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];

    (void)cls;
    vsnprintf(line, sizeof line, fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    log_debug("libmicrohttpd: %s", line);
}

int
srv_http_start(struct app *app, int listen_fd, const struct srv_route *routes,
               int n_routes, struct srv_http **out)
{
    struct srv_http *h = calloc(1, sizeof *h);

    if (!h)
        return -1;
    h->app = app;
    h->routes = routes;
    h->n_routes = n_routes;
    h->listen_fd = listen_fd;
    h->stats = calloc((size_t)n_routes + 1, sizeof *h->stats);
    if (!h->stats) {
        free(h);
        return -1;
    }
    h->d = MHD_start_daemon(
        /* poll, not epoll: quiescing an epoll thread pool races in
         * libmicrohttpd 0.9.75 and can abort at shutdown. */
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ITC |
            MHD_USE_TURBO | MHD_USE_ERROR_LOG,
        0, NULL, NULL, on_access, h, MHD_OPTION_LISTEN_SOCKET,
        (MHD_socket)listen_fd, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned int)app->cfg.http_threads, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned int)app->cfg.max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned int)app->cfg.conn_timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)app->cfg.conn_memory,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)0,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
        MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_END);
    if (!h->d) {
        free(h->stats);
        free(h);
        return -1;
    }
    *out = h;
    return 0;
}

void
srv_http_stop(struct srv_http *h, int grace_ms)
{
    MHD_socket fd;
    struct timespec tick = {0, 10 * 1000 * 1000};

    if (!h)
        return;
    /* Stop accepting first, so the wait below only drains. */
    fd = MHD_quiesce_daemon(h->d);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    for (int waited = 0; atomic_load(&h->inflight) > 0 && waited < grace_ms;
         waited += 10)
        nanosleep(&tick, NULL);
    MHD_stop_daemon(h->d);
    free(h->stats);
    free(h);
}

char *
srv_http_metrics(struct srv_http *h)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (!f)
        return NULL;
    fprintf(f, "# HELP stockroom_http_requests_total Requests answered, by "
               "route and status.\n"
               "# TYPE stockroom_http_requests_total counter\n");
    for (int i = 0; i <= h->n_routes; i++) {
        const char *name = i < h->n_routes ? h->routes[i].name : "unmatched";

        for (size_t s = 0; s < N_STATUS; s++) {
            uint64_t n = atomic_load(&h->stats[i].by_status[s]);

            if (!n)
                continue;
            if (statuses[s])
                fprintf(f,
                        "stockroom_http_requests_total{route=\"%s\","
                        "status=\"%u\"} %llu\n",
                        name, statuses[s], (unsigned long long)n);
            else
                fprintf(f,
                        "stockroom_http_requests_total{route=\"%s\","
                        "status=\"other\"} %llu\n",
                        name, (unsigned long long)n);
        }
    }
    fprintf(f, "# HELP stockroom_http_request_duration_seconds Time from "
               "request line to reply.\n"
               "# TYPE stockroom_http_request_duration_seconds histogram\n");
    for (int i = 0; i <= h->n_routes; i++) {
        const char *name = i < h->n_routes ? h->routes[i].name : "unmatched";
        uint64_t cum = 0;

        for (size_t b = 0; b <= N_BUCKETS; b++) {
            cum += atomic_load(&h->stats[i].hist[b]);
            if (b < N_BUCKETS)
                fprintf(f,
                        "stockroom_http_request_duration_seconds_bucket"
                        "{route=\"%s\",le=\"%g\"} %llu\n",
                        name, buckets[b], (unsigned long long)cum);
            else
                fprintf(f,
                        "stockroom_http_request_duration_seconds_bucket"
                        "{route=\"%s\",le=\"+Inf\"} %llu\n",
                        name, (unsigned long long)cum);
        }
        fprintf(f,
                "stockroom_http_request_duration_seconds_sum{route=\"%s\"}"
                " %.6f\n",
                name, (double)atomic_load(&h->stats[i].micros) / 1e6);
        fprintf(f,
                "stockroom_http_request_duration_seconds_count"
                "{route=\"%s\"} %llu\n",
                name, (unsigned long long)cum);
    }
    fprintf(f,
            "# HELP stockroom_http_open_connections Connections open now.\n"
            "# TYPE stockroom_http_open_connections gauge\n"
            "stockroom_http_open_connections %d\n"
            "# HELP stockroom_http_requests_in_flight Requests begun and "
            "not yet answered.\n"
            "# TYPE stockroom_http_requests_in_flight gauge\n"
            "stockroom_http_requests_in_flight %d\n",
            atomic_load(&h->open_conns), atomic_load(&h->inflight));
    fclose(f);
    return buf;
}
