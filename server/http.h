/* Stockroom — the HTTP layer over libmicrohttpd: routing, request bodies
 * (JSON buffered under a ceiling, multipart streamed to temporary files),
 * authentication before the body is read, replies with the security headers
 * every response carries, the access log and the request metrics. */
#ifndef STOCKROOM_HTTP_H
#define STOCKROOM_HTTP_H

#include <jansson.h>
#include <stdint.h>
#include <sys/types.h>

#include "accounts.h"

struct app;
struct srv_req;
struct srv_http;

enum srv_body {
    SRV_BODY_NONE,      /* a body is refused with 413 */
    SRV_BODY_JSON,      /* parsed before the handler runs */
    SRV_BODY_MULTIPART, /* files streamed to temporary files */
    SRV_BODY_RAW        /* bytes as sent, up to SRV_RAW_LIMIT, unparsed */
};

#define SRV_RAW_LIMIT (256 * 1024) /* a signed webhook's body */

enum srv_auth {
    SRV_AUTH_NONE,     /* the user is not looked up */
    SRV_AUTH_OPTIONAL, /* looked up when a token is sent */
    SRV_AUTH_REQUIRED  /* 401 without a live session */
};

struct srv_route {
    const char *method;
    const char *pattern; /* "/api/v1/images/{}/review": {} captures */
    void (*handler)(struct srv_req *r);
    enum srv_body body;
    enum srv_auth auth;
    unsigned roles;   /* any of these ACC_ROLE_ bits, else 403 */
    const char *name; /* label in /metrics */
};

/* One uploaded multipart field. Files are on disk at path, removed when the
 * request ends unless the handler took them (srv_part_take_file). */
struct srv_part {
    char name[64];
    char filename[256]; /* as the client sent it: display text only */
    char *value;        /* non-file fields, NUL-terminated */
    size_t size;        /* bytes received */
    char path[1200];    /* file fields: the temporary file */
    int fd;             /* open on path, or -1 */
    struct srv_part *next;
};

/* Server lifecycle. */

/* Start serving routes on the socket listen_fd (bound by the caller so a
 * taken address is reported precisely). The route table is borrowed for
 * the server's life. */
int srv_http_start(struct app *app, int listen_fd,
                   const struct srv_route *routes, int n_routes,
                   struct srv_http **out);

/* Stop accepting, wait up to grace_ms for requests in flight, then stop. */
void srv_http_stop(struct srv_http *h, int grace_ms);

/* Prometheus text for the request counters and latency histogram; caller
 * frees. */
char *srv_http_metrics(struct srv_http *h);

/* Request accessors (borrowed, valid until the request ends). */

struct app *srv_req_app(struct srv_req *r);
const char *srv_req_path(struct srv_req *r);
const char *srv_req_param(struct srv_req *r, int i); /* {} captures */
const char *srv_req_query(struct srv_req *r, const char *name);
const char *srv_req_header(struct srv_req *r, const char *name);
const char *srv_req_cookie(struct srv_req *r, const char *name);
const char *srv_req_client(struct srv_req *r); /* peer address */
const char *srv_req_id(struct srv_req *r);
json_t *srv_req_json(struct srv_req *r); /* a JSON object */
/* A SRV_BODY_RAW body as received (NUL-terminated, may hold NULs); *len
 * gets its length. */
const char *srv_req_body(struct srv_req *r, size_t *len);
struct srv_part *srv_req_part(struct srv_req *r, const char *name);
/* The signed-in user, or NULL. via_cookie tells how it was authenticated. */
const struct acc_user *srv_req_user(struct srv_req *r);
int srv_req_via_cookie(struct srv_req *r);
const char *srv_req_csrf(struct srv_req *r);

/* For a route that sets a session cookie: 0 when the request came from
 * no page or one of ours; else replies 403 cross_site and returns -1. */
int srv_req_same_site(struct srv_req *r);

/* Take a part's temporary file: the request no longer removes it. */
void srv_part_take_file(struct srv_part *p);

/* Replies: a handler makes exactly one. */

/* Add a header to the reply about to be made. */
void srv_header(struct srv_req *r, const char *name, const char *value);

/* Send body (steals the reference) as JSON with status. */
void srv_json(struct srv_req *r, unsigned status, json_t *body);

/* {"error":{"code","message"}} with status. */
void srv_error(struct srv_req *r, unsigned status, const char *code,
               const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The error policy: every failure of db/, the blob store or imaging/, and
 * every 500, is answered by one of these, which log the underlying reason
 * with the request id and never show it for a 5xx. */

/* rc is a DB_E* code with err (may be NULL) from db/; what names the thing
 * asked for ("licence", "lightbox"). DB_OK: replies nothing, returns 0.
 * Otherwise replies and returns -1: DB_ENOTFOUND 404 not_found,
 * DB_ECONFLICT 409 conflict, DB_EREUSED 409 idempotency_key_reused,
 * DB_EFUNDS 402 insufficient_credits, DB_EINVAL 422 invalid_request,
 * DB_ELIMIT 422 limit_reached (the last three with err as the message),
 * DB_EBUSY 503 busy with Retry-After, anything else 500 internal. */
int srv_reply_db(struct srv_req *r, int rc, const char *err, const char *what);

/* rc (a BLOB_ code, with errno for BLOB_EIO) from a blob_ call: 0
 * replies nothing and returns 0; a missing stored file 500 internal; any
 * other failure 503 storage_unavailable with Retry-After. Returns -1
 * after replying. */
int srv_reply_blob(struct srv_req *r, int rc, const char *what);

/* rc and err from imaging/ on a file the store already holds: 0 replies
 * nothing; IMG_ETIMEOUT 503 busy with Retry-After; anything else 500
 * internal (a stored file that fails is never the client's fault). */
int srv_reply_img(struct srv_req *r, int rc, const char *err, const char *what);

/* 500 internal for a failure with no module code (encoding, memory): logs
 * what and the printf-style reason with the request id. */
void srv_reply_internal(struct srv_req *r, const char *what, const char *fmt,
                        ...) __attribute__((format(printf, 3, 4)));

/* 503 with code ("overloaded", "storage_unavailable") and Retry-After for
 * a resource that ran short (memory, descriptors, disk); logs the
 * printf-style reason with the request id. */
void srv_reply_overloaded(struct srv_req *r, const char *code, const char *what,
                          const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* An empty reply (204, 304). */
void srv_empty(struct srv_req *r, unsigned status);

/* Send size bytes of fd (taken: closed after sending) with zero copy. */
void srv_fd(struct srv_req *r, unsigned status, int fd, uint64_t size,
            const char *mime);

struct rcache_entry;

/* Send a cached rendition with sendfile; the reference on e is taken. */
void srv_cached(struct srv_req *r, unsigned status, struct rcache_entry *e,
                const char *mime);

/* Send a copy of a memory buffer. */
void srv_bytes(struct srv_req *r, unsigned status, const void *data, size_t len,
               const char *mime);

/* JSON field helpers: on a missing or wrong-typed field they reply 422 and
 * return -1, so a handler just returns. */
int srv_field_str(struct srv_req *r, const char *key, size_t min_len,
                  size_t max_len, int optional, const char **out);
int srv_field_int(struct srv_req *r, const char *key, int64_t min, int64_t max,
                  int optional, int64_t *out);

/* Query parameter as a whole number in [min, max]; def when absent. On a
 * bad value replies 422 and returns -1. */
int srv_query_int(struct srv_req *r, const char *name, int64_t min, int64_t max,
                  int64_t def, int64_t *out);

#endif
