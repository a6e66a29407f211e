/* Stockroom — integration test harness: start a real `stockroom serve` on a
 * free port with a temporary data directory, and talk to it over HTTP with
 * libcurl. Tests run from the repository root. */
#ifndef STOCKROOM_HARNESS_H
#define STOCKROOM_HARNESS_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

struct th_server {
    pid_t pid;
    int port;
    char dir[256]; /* temporary data directory */
    char base[64]; /* http://127.0.0.1:PORT */
    char log[300]; /* the server's standard error */
};

struct th_resp {
    long status;
    char *body; /* NUL-terminated */
    size_t len;
    char *headers; /* raw header block */
    json_t *json;  /* parsed body when it is JSON, else NULL */
};

/* Start the server binary ($STOCKROOM_BIN, default build/stockroom) with
 * extra flags (NULL-terminated, may be NULL); waits for /healthz with a
 * deadline. Reuses s->dir when it is already set (a restart). 0 or -1. */
int th_start(struct th_server *s, const char *const *extra);

/* SIGTERM, wait with a deadline; returns the exit status (0 clean), or -1
 * if it had to be killed. Keeps the data directory. */
int th_stop(struct th_server *s);

/* kill -9, as a crash would. */
void th_crash(struct th_server *s);

/* Remove the data directory. */
void th_cleanup(struct th_server *s);

/* One request. headers is NULL-terminated ("Name: value"), may be NULL.
 * body may be NULL. Fills out (th_resp_free). 0, or -1 when no answer. */
int th_req(struct th_server *s, const char *method, const char *path,
           const char *const *headers, const char *body, size_t len,
           struct th_resp *out);
void th_resp_free(struct th_resp *r);

/* The local address every following th_req of this process binds to
 * ("127.0.0.2": the server sees another client), or NULL for the default.
 * Not thread-safe: set it between requests. */
void th_source(const char *addr);

/* n requests of method to path from local address from on one kept-alive
 * connection (as far as the server keeps it), each with the JSON body
 * make(i, buf, len, arg) writes. counts[status] is incremented for each
 * answer (statuses below 600). 0, or -1 when one got no answer. */
int th_burst(struct th_server *s, const char *from, const char *method,
             const char *path, int n,
             void (*make)(int i, char *buf, size_t len, void *arg), void *arg,
             int counts[600]);

/* The value of a response header (case-insensitive), copied into buf; NULL
 * when absent. */
const char *th_header(const struct th_resp *r, const char *name, char *buf,
                      size_t len);

/* The error code of a {"error":{"code"}} body, or "". */
const char *th_error_code(const struct th_resp *r);

/* Sign up (returns the status) and sign in (fills token and csrf). */
long th_signup(struct th_server *s, const char *email, const char *pw,
               const char *name);
long th_login(struct th_server *s, const char *email, const char *pw,
              char token[128], char csrf[64]);

/* Sign up and sign in a fresh user with a unique email made from prefix;
 * fills token. Fails the test on error. */
void th_new_user(struct th_server *s, const char *prefix, char token[128]);

/* Run `stockroom user add` against the server's data directory. */
int th_admin_add(struct th_server *s, const char *email, const char *role,
                 const char *pw);

/* "Authorization: Bearer TOKEN" into buf. */
const char *th_bearer(const char *token, char *buf, size_t len);

/* A multipart upload: file at path (as filename), plus NULL-terminated
 * name/value pairs. */
int th_upload(struct th_server *s, const char *path, const char *token,
              const char *file_path, const char *filename,
              const char *const *fields, struct th_resp *out);

/* A path inside the shared corpus ($STOCKROOM_CORPUS). */
const char *th_corpus(const char *rel, char *buf, size_t len);

/* Poll fn(arg) every 50 ms until it returns non-zero or ms pass. */
int th_poll(int (*fn)(void *), void *arg, int ms);

#endif
