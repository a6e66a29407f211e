/* Stockroom — the daemon: libmicrohttpd start and stop, and the callbacks
 * that carry a request from its first line to its reply and clean-up. */
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "fault.h"
#include "httpint.h"
#include "log.h"
#include "parse.h"

#ifdef STOCKROOM_FAULTS
/* The test build's per-request fault: "X-Stockroom-Fault: step:N" (or
 * alloc:N) makes the Nth SQLite step or db/ allocation of this request's
 * own thread fail, and the reply says in X-Stockroom-Fault-Fired whether it
 * did, so a test can walk N = 1, 2, ... until a request passes untouched.
 * The normal build has neither header. */
static void
req_run_handler(struct srv_req *r)
{
    const char *spec = srv_req_header(r, "X-Stockroom-Fault");
    int fired;

    if (!spec) {
        r->route->handler(r);
        return;
    }
    db_fault_arm_local(spec);
    r->route->handler(r);
    fired = db_fault_disarm_local();
    if (r->resp)
        MHD_add_response_header(r->resp, "X-Stockroom-Fault-Fired",
                                fired ? "1" : "0");
}
#else
static void
req_run_handler(struct srv_req *r)
{
    r->route->handler(r);
}
#endif

static void
req_dispatch(struct srv_req *r)
{
    if (r->route->body == SRV_BODY_JSON)
        srv__parse_json_body(r);
    if (r->route->body == SRV_BODY_MULTIPART) {
        for (struct srv_part *p = r->parts; p; p = p->next) {
            if (p->fd >= 0 && lseek(p->fd, 0, SEEK_SET) < 0)
                log_warn("%s: rewinding upload: %s", r->id, strerror(errno));
        }
    }
    if (!r->resp)
        req_run_handler(r);
    if (!r->resp) {
        srv_reply_internal(r, "request", "%s %s made no reply", r->method,
                           r->path);
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
        srv__req_begin(r);
        return r->resp ? req_queue(r) : MHD_YES;
    }
    if (*size) {
        if (!r->resp)
            srv__req_consume(r, data, *size);
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
    srv__metrics_count(h, r, secs);
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

/* libmicrohttpd's own unescaper would let %00 truncate a path. */
static size_t
unescape(void *cls, struct MHD_Connection *con, char *s)
{
    (void)cls;
    (void)con;
    return srv_parse_unescape(s);
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
    h->stats = srv__stats_new(n_routes);
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
