/* Stockroom — replies: JSON, errors, files and buffers, each with the
 * security headers every response carries. */
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "imaging.h"
#include "httpint.h"
#include "log.h"
#include "rcache.h"

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

void
srv__set_reply(struct srv_req *r, unsigned status, struct MHD_Response *resp,
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
    srv__set_reply(r, status, resp, len);
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
    srv__set_reply(r, status, resp, len);
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
    srv__set_reply(
        r, status,
        MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT), 0);
}

void
srv_fd(struct srv_req *r, unsigned status, int fd, uint64_t size,
       const char *mime)
{
    /* MHD owns fd from here and uses sendfile when it can. */
    struct MHD_Response *resp = MHD_create_response_from_fd64(size, fd);

    if (!resp) {
        close(fd);
        srv_reply_internal(r, "file", "libmicrohttpd made no response");
        return;
    }
    MHD_add_response_header(resp, "Content-Type", mime);
    srv__set_reply(r, status, resp, size);
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
        srv_reply_overloaded(r, "overloaded", "file", "dup: %s",
                             strerror(errno));
        return;
    }
    srv_fd(r, status, fd, size, mime);
}

/* ---- the error policy ------------------------------------------------- */

void
srv_reply_internal(struct srv_req *r, const char *what, const char *fmt, ...)
{
    char reason[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    log_error("%s: %s: %s", r->id, what, reason);
    srv_error(r, 500, "internal", "The %s failed on our side.", what);
}

void
srv_reply_overloaded(struct srv_req *r, const char *code, const char *what,
                     const char *fmt, ...)
{
    char reason[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    log_warn("%s: %s: %s", r->id, what, reason);
    srv_header(r, "Retry-After", "5");
    srv_error(r, 503, code, "The %s could not be done now: try again later.",
              what);
}

static void
reply_busy(struct srv_req *r, const char *what, const char *reason)
{
    log_warn("%s: %s: busy: %s", r->id, what, reason);
    srv_header(r, "Retry-After", "1");
    srv_error(r, 503, "busy", "The store is busy: try again in a moment.");
}

int
srv_reply_db(struct srv_req *r, int rc, const char *err, const char *what)
{
    const char *why = err && *err ? err : "no reason given";

    switch (rc) {
    case DB_OK:
        return 0;
    case DB_ENOTFOUND:
        srv_error(r, 404, "not_found", "There is no such %s.", what);
        break;
    case DB_ECONFLICT:
        srv_error(r, 409, "conflict", "%s.", why);
        break;
    case DB_EREUSED:
        srv_error(r, 409, "idempotency_key_reused",
                  "This Idempotency-Key was used for a different request.");
        break;
    case DB_EFUNDS:
        srv_error(r, 402, "insufficient_credits",
                  "You do not have enough credits: buy a credit pack first.");
        break;
    case DB_EINVAL:
        srv_error(r, 422, "invalid_request", "%s.", why);
        break;
    case DB_ELIMIT:
        srv_error(r, 422, "limit_reached", "%s.", why);
        break;
    case DB_EBUSY:
        reply_busy(r, what, why);
        break;
    default:
        srv_reply_internal(r, what, "database: %s (%d)", why, rc);
    }
    return -1;
}

int
srv_reply_blob(struct srv_req *r, int rc, const char *what)
{
    int e = errno;

    if (rc == 0)
        return 0;
    if (e == ENOENT) {
        /* A row that names a file the store no longer has: ours to fix. */
        srv_reply_internal(r, what, "blob store: stored file missing");
        return -1;
    }
    log_error("%s: %s: blob store: %s", r->id, what, strerror(e));
    srv_header(r, "Retry-After", "5");
    srv_error(r, 503, "storage_unavailable",
              "The %s could not be stored or read: try again later.", what);
    return -1;
}

int
srv_reply_img(struct srv_req *r, int rc, const char *err, const char *what)
{
    const char *why = err && *err ? err : "no reason given";

    switch (rc) {
    case 0:
        return 0;
    case IMG_ETIMEOUT:
        reply_busy(r, what, why);
        break;
    case IMG_EEMPTY:
    case IMG_ECORRUPT:
        /* Our own stored file failed to decode: never the client's fault. */
        srv_reply_internal(r, what, "imaging: stored file unreadable: %s", why);
        break;
    default:
        srv_reply_internal(r, what, "imaging: %s (%d)", why, rc);
    }
    return -1;
}
