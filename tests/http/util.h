/* Stockroom — helpers for the HTTP tests beyond the harness: raw sockets for
 * what libcurl will not send, running the binary as a command, reading
 * /metrics, checking the security headers, and SQLite loaded at run time
 * (the test link line has no -lsqlite3). */
#ifndef STOCKROOM_TEST_UTIL_H
#define STOCKROOM_TEST_UTIL_H

#include <stddef.h>
#include <sys/types.h>

#include "harness.h"

/* Raw sockets. */

/* A blocking TCP connection to 127.0.0.1:port, or -1. */
int tu_connect(int port);

/* Send all len bytes (no SIGPIPE). 0, or -1 when the peer is gone. */
int tu_send(int fd, const void *buf, size_t len);

/* Read until the peer closes, the buffer is full or ms pass. Returns the
 * bytes read (buf is NUL-terminated, cap includes the NUL); *closed is set
 * when the peer closed or reset the connection. */
size_t tu_recv_all(int fd, char *buf, size_t cap, int ms, int *closed);

/* Read one response: headers, then Content-Length bytes of body (or until
 * close). Returns the bytes read, 0 when nothing came within ms. */
size_t tu_recv_response(int fd, char *buf, size_t cap, int ms);

/* Wait until the peer closes the connection; 1 if it did within ms. */
int tu_wait_closed(int fd, int ms);

/* The status of a raw "HTTP/1.x NNN ..." answer, or 0. */
int tu_raw_status(const char *resp);

/* Send raw bytes on a new connection, half-close, and read one answer
 * (until complete, closed, or ms pass). Returns its status; 0 when the
 * server closed without a status line, -2 when nothing came and the
 * connection stayed open, -1 when it could not connect. */
int tu_raw_exchange(int port, const void *req, size_t len, char *out,
                    size_t cap, int ms);

/* Server state. */

/* GET /healthz answers 200. */
int tu_healthy(struct th_server *s);

/* The token tu_metric sends: a server it reads must be started with
 * "--metrics-token", TU_METRICS_TOKEN. */
#define TU_METRICS_TOKEN "metrics-test-token"

/* The value of the first /metrics sample whose text before the value is
 * exactly series (e.g. "stockroom_http_open_connections" or
 * "stockroom_http_requests_total{route=\"me\",status=\"401\"}"); -1 when
 * absent or unreadable. */
double tu_metric(struct th_server *s, const char *series);

/* Poll /metrics until min <= series <= max (max < 0: no upper bound); 1 if
 * it got there within ms. */
int tu_wait_metric(struct th_server *s, const char *series, double min,
                   double max, int ms);

/* cmocka-fails unless the response carries the headers every response of
 * the store must: a CSP with default-src 'self' and frame-ancestors 'none',
 * nosniff and a Referrer-Policy. what names the request in the message. */
void tu_assert_security_headers(const struct th_resp *r, const char *what);

/* Running the binary. */

/* The server binary the tests run ($STOCKROOM_BIN or build/stockroom). */
const char *tu_bin(void);

/* Run argv (argv[0] is replaced by tu_bin()) with stdin_text on standard
 * input (may be NULL), capturing standard output and standard error into
 * out/err (each NUL-terminated, may be NULL). Kills it after ms. Returns the
 * exit status, 128+signal if it died of a signal, -1 on timeout. */
int tu_run(const char *const *argv, const char *stdin_text, char *out,
           size_t out_len, char *err, size_t err_len, int ms);

/* Run `stockroom ledger verify --data dir` with the books as they lie;
 * its exit status (0: they balance). */
int tu_ledger_verify(const char *dir);

/* Wait for the child pid to exit (it is reaped); its exit status,
 * 128+signal, or -1 if it still runs after ms. */
int tu_wait_exit(pid_t pid, int ms);

/* The last len-1 bytes of a file (a server's log) into buf. */
const char *tu_log_tail(const char *path, char *buf, size_t len);

/* A fresh temporary directory into buf. 0 or -1. */
int tu_tmpdir(char *buf, size_t len);

/* Remove a directory tree (unless $STOCKROOM_KEEP is set). */
void tu_rmtree(const char *dir);

/* Write or copy a file. 0 or -1. */
int tu_write_file(const char *path, const char *text, size_t len);
int tu_copy_file(const char *from, const char *to);

/* SQLite through dlopen. */

/* Run sql (statements without results) on the database at path. 0 or -1;
 * err gets SQLite's message. */
int tu_sql_exec(const char *path, const char *sql, char *err, size_t len);

/* The first column of the first row of sql as an integer; -1 on error. */
long long tu_sql_int(const char *path, const char *sql);

/* The first column of the first row of sql as text into buf; NULL on
 * error. */
const char *tu_sql_text(const char *path, const char *sql, char *buf,
                        size_t len);

/* Misc. */

/* A unique email made from prefix (lower-case). */
const char *tu_email(const char *prefix, char *buf, size_t len);

/* JSON text of a sign-up or sign-in body; caller frees. */
char *tu_json(const char *fmt, ...);

/* Milliseconds of a monotonic clock. */
long tu_now_ms(void);

#endif
