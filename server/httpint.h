/* Stockroom — what the files of the HTTP layer share and no handler sees:
 * the request and server structs, and the steps of a request's life that
 * one file hands to another. */
#ifndef STOCKROOM_HTTPINT_H
#define STOCKROOM_HTTPINT_H

#include <microhttpd.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "accounts.h"
#include "http.h"

#define MAX_PARAMS 4
#define MAX_HDRS 8
#define MAX_PARTS 16
#define FIELD_LIMIT (64 * 1024)   /* a non-file multipart field */
#define FORM_SLACK (1024 * 1024)  /* form fields beside the file */
#define JSON_DEPTH 32             /* deeper is refused before parsing */
#define DISCARD_MAX (256LL << 20) /* body bytes read after refusing it */
#define HEADERS_MAX (16 * 1024)   /* all request headers together */

struct srv__stats; /* metrics.c: per-route counters */

struct srv_http {
    struct app *app;
    struct MHD_Daemon *d;
    const struct srv_route *routes;
    int n_routes;
    int listen_fd;
    _Atomic int inflight; /* requests begun and not yet completed */
    _Atomic int open_conns;
    _Atomic uint64_t next_id;
    struct srv__stats *stats; /* n_routes + 1: the last is "unmatched" */
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

/* reply.c: make r's one reply from resp (taken), with the headers every
 * reply carries; a second reply is logged and dropped. */
void srv__set_reply(struct srv_req *r, unsigned status,
                    struct MHD_Response *resp, uint64_t bytes);

/* router.c: everything decided from the request line and headers: the
 * route, 404/405/431, authentication and roles, the Content-Length ceiling.
 * May make a reply. */
void srv__req_begin(struct srv_req *r);

/* body.c: take another piece of the body (may reply 413 and friends); parse
 * a finished JSON body into r->json (replies 400/422 when it is not one). */
void srv__req_consume(struct srv_req *r, const char *data, size_t size);
void srv__parse_json_body(struct srv_req *r);
/* The libmicrohttpd post-processor callback: cls is the request. */
enum MHD_Result srv__post_iter(void *cls, enum MHD_ValueKind kind,
                               const char *key, const char *filename,
                               const char *content_type,
                               const char *transfer_encoding, const char *data,
                               uint64_t off, size_t size);

/* metrics.c: counters for n_routes + 1 routes (the last: unmatched), NULL
 * when out of memory; free with free(). Count a finished request. */
struct srv__stats *srv__stats_new(int n_routes);
void srv__metrics_count(struct srv_http *h, struct srv_req *r, double secs);

#endif
