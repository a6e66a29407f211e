/* Stockroom — hostile HTTP framing: huge and many headers, bad methods,
 * truncated bodies, bad lengths, garbage request lines, HTTP/1.0,
 * pipelining, log injection, long URLs and slow clients, sent with libcurl
 * or, for what libcurl will not send, with raw sockets. The HTTP library
 * refuses bad framing before any route runs, so a raw case wants a 4xx or
 * a closed connection; the server must answer /healthz afterwards. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"
#include "kit.h"
#include "util.h"

#define PW "correct horse battery"
#define RAW_MS 10000 /* longest wait for one raw answer */

/* A short connection timeout, so that half-open connections left by the
 * cases drain quickly and the slow-client case is cut off soon. */
static const char *const flags[] = {"--connection-timeout", "2", NULL};
static struct th_server srv;

static int
setup(void **state)
{
    (void)state;
    kit_use(&srv);
    return th_start(&srv, flags);
}

static int
teardown(void **state)
{
    int rc = th_stop(&srv);

    (void)state;
    th_cleanup(&srv);
    return rc;
}

static void
assert_up(const char *after)
{
    if (!tu_healthy(&srv))
        fail_msg("/healthz does not answer 200 after %s", after);
}

/* Send raw bytes; the answer must be a 4xx or a close, never a hang or a
 * success. */
static void
raw_refused(const void *req, size_t len, const char *what)
{
    char *out = malloc(65536);
    int status;

    assert_non_null(out);
    status = tu_raw_exchange(srv.port, req, len, out, 65536, RAW_MS);
    if (status != 0 && (status < 400 || status > 499) && status != 505)
        fail_msg("%s: want a 4xx or a close, got %d: %.200s", what, status,
                 status > 0 ? out : "");
    free(out);
    assert_up(what);
}

/* ---- HTTP framing ----------------------------------------------------- */

static void
test_huge_header(void **state)
{
    size_t n = 100 * 1024;
    char *req = malloc(n + 256);
    size_t len;

    (void)state;
    assert_non_null(req);
    len = (size_t)sprintf(req, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                               "X-Padding: ");
    memset(req + len, 'a', n);
    len += n;
    len += (size_t)sprintf(req + len, "\r\nConnection: close\r\n\r\n");
    raw_refused(req, len, "a 100 KB header line");
    free(req);
}

/* The same bulk as many small headers. */
static void
test_many_headers(void **state)
{
    size_t n = 100 * 1024;
    char *req = malloc(n + 256);
    size_t len;

    (void)state;
    assert_non_null(req);
    len = (size_t)sprintf(req, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for (int i = 0; len < n; i++)
        len += (size_t)sprintf(req + len, "X-H%d: %040d\r\n", i, i);
    len += (size_t)sprintf(req + len, "Connection: close\r\n\r\n");
    raw_refused(req, len, "100 KB of small headers");
    free(req);
}

static void
test_huge_header_over_memory(void **state)
{
    size_t n = 300 * 1024;
    char *req = malloc(n + 256);
    size_t len;

    (void)state;
    assert_non_null(req);
    /* Larger than the connection's memory: refused whatever the limits. */
    len = (size_t)sprintf(req, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                               "X-Padding: ");
    memset(req + len, 'a', n);
    len += n;
    len += (size_t)sprintf(req + len, "\r\n\r\n");
    raw_refused(req, len, "a 300 KB header line");
    free(req);
}

static void
test_bad_methods(void **state)
{
    static const char *const reqs[] = {
        "FOO / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "get /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "GETT /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "POSTPOSTPOSTPOSTPOSTPOSTPOSTPOST /api/v1/users HTTP/1.1\r\n"
        "Host: x\r\nConnection: close\r\n\r\n",
        "CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "TRACE / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        " / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "G\x01T / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    };

    (void)state;
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++)
        raw_refused(reqs[i], strlen(reqs[i]), reqs[i]);
}

/* Open, send head (+ some of the body), close: the server must forget the
 * request and act on none of it. */
static void
send_and_close(const char *data, size_t len)
{
    int fd = tu_connect(srv.port);

    assert_true(fd >= 0);
    assert_int_equal(tu_send(fd, data, len), 0);
    close(fd);
}

static void
test_truncated_bodies(void **state)
{
    char req[1024], body[256];
    size_t blen;

    (void)state;
    blen = (size_t)snprintf(body, sizeof body,
                            "{\"email\":\"trunc@example.com"
                            "\",\"password\":\"" PW "\",\"name\":\"T\"}");
    /* Content-Length 100, ten bytes sent. */
    snprintf(req, sizeof req,
             "POST /api/v1/users HTTP/1.1\r\nHost: x\r\n"
             "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
             "%.10s",
             body);
    send_and_close(req, strlen(req));
    assert_up("Content-Length 100, 10 bytes, close");
    /* The whole of a valid body, but less than announced. */
    snprintf(req, sizeof req,
             "POST /api/v1/users HTTP/1.1\r\nHost: x\r\n"
             "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n"
             "%s",
             blen + 20, body);
    send_and_close(req, strlen(req));
    assert_up("a valid body shorter than its Content-Length, close");
    /* Headers cut off in the middle. */
    snprintf(req, sizeof req,
             "POST /api/v1/users HTTP/1.1\r\nHost: x\r\n"
             "Content-Le");
    send_and_close(req, strlen(req));
    assert_up("headers cut off");
    /* A chunked body cut off inside a chunk. */
    snprintf(req, sizeof req,
             "POST /api/v1/users HTTP/1.1\r\nHost: x\r\n"
             "Content-Type: application/json\r\nTransfer-Encoding: chunked"
             "\r\n\r\n%zx\r\n%.20s",
             blen, body);
    send_and_close(req, strlen(req));
    assert_up("chunked body cut off");
    /* None of them made the account. */
    {
        struct th_resp r;

        kit_call("POST", "/api/v1/sessions", NULL, NULL,
                 "{\"email\":\"trunc@example.com\","
                 "\"password\":\"" PW "\"}",
                 &r);
        kit_expect(&r, 401, "invalid_credentials",
                   "sign-in after truncated sign-ups");
        th_resp_free(&r);
    }
    /* And none is left in flight: only the /metrics request itself. */
    if (!tu_wait_metric(&srv, "stockroom_http_requests_in_flight", 1, 1,
                        RAW_MS))
        fail_msg("requests still in flight after their clients left");
}

static void
test_bad_lengths(void **state)
{
    static const char *const lengths[] = {
        "-1",   "abc",  "99999999999999999999999", "1e3",
        "0x10", "5, 5", "18446744073709551616",
    };
    char req[512];

    (void)state;
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        snprintf(req, sizeof req,
                 "POST /api/v1/users HTTP/1.1\r\nHost: x\r\n"
                 "Content-Type: application/json\r\nContent-Length: %s\r\n"
                 "Connection: close\r\n\r\n{}",
                 lengths[i]);
        raw_refused(req, strlen(req), lengths[i]);
    }
    /* Two framings at once, the ground of request smuggling. */
    snprintf(req, sizeof req,
             "POST /api/v1/users HTTP/1.1\r\nHost: x\r\n"
             "Content-Length: 2\r\nContent-Length: 100\r\n"
             "Connection: close\r\n\r\n{}");
    raw_refused(req, strlen(req), "two Content-Length headers");
    snprintf(req, sizeof req,
             "POST /api/v1/users HTTP/1.1\r\nHost: x\r\n"
             "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n"
             "Connection: close\r\n\r\n0\r\n\r\n");
    raw_refused(req, strlen(req), "Content-Length and chunked");
    snprintf(req, sizeof req,
             "POST /api/v1/users HTTP/1.1\r\nHost: x\r\n"
             "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
             "zz\r\nabc\r\n0\r\n\r\n");
    raw_refused(req, strlen(req), "a bad chunk size");
}

static void
test_garbage_request_line(void **state)
{
    /* The start of a TLS ClientHello. */
    static const unsigned char tls[] = {
        0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1,
        0x03, 0x03, 0x00, 0x01, 0x02, '\r', '\n', '\r', '\n',
    };
    unsigned char bytes[4096];
    char line[9000];

    (void)state;
    raw_refused(tls, sizeof tls, "a TLS ClientHello");
    for (size_t i = 0; i < sizeof bytes; i++)
        bytes[i] = (unsigned char)(i * 131 + 7);
    raw_refused(bytes, sizeof bytes, "4 KB of binary");
    raw_refused("\0\0\0\0\r\n\r\n", 8, "NUL bytes");
    raw_refused("\r\n\r\n\r\n\r\n", 8, "empty lines");
    raw_refused("GET\r\n\r\n", 7, "a method alone");
    raw_refused("GET /healthz\r\n\r\n", 16, "no version");
    raw_refused("GET /healthz HTTP/1.1 extra\r\n\r\n", 31, "extra word");
    raw_refused("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24, "HTTP/2 preface");
    raw_refused("GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n", 35, "HTTP/9.9");
    memset(line, 'A', sizeof line - 5);
    memcpy(line + sizeof line - 5, "\r\n\r\n", 5);
    raw_refused(line, sizeof line - 1, "9 KB without a space");
}

static void
test_http10(void **state)
{
    static const char req[] = "GET /healthz HTTP/1.0\r\n\r\n";
    char out[4096];
    int fd, closed;

    (void)state;
    fd = tu_connect(srv.port);
    assert_true(fd >= 0);
    assert_int_equal(tu_send(fd, req, sizeof req - 1), 0);
    /* No keep-alive was asked for: the server answers, then closes. */
    tu_recv_all(fd, out, sizeof out, RAW_MS, &closed);
    close(fd);
    if (tu_raw_status(out) != 200)
        fail_msg("HTTP/1.0: %.300s", out);
    assert_non_null(strstr(out, "\"ok\""));
    assert_true(closed);
    assert_up("HTTP/1.0");
}

/* Statuses of the responses in buf, in order; returns how many. */
static int
split_responses(const char *buf, int *statuses, int max)
{
    const char *p = buf;
    int n = 0;

    while (n < max && tu_raw_status(p) > 0) {
        const char *end = strstr(p, "\r\n\r\n");
        const char *cl;
        long len = 0;

        statuses[n++] = tu_raw_status(p);
        if (!end)
            break;
        cl = strcasestr(p, "\r\nContent-Length:");
        if (cl && cl < end)
            len = strtol(cl + 17, NULL, 10);
        p = end + 4 + len;
    }
    return n;
}

static void
test_pipelined(void **state)
{
    static const char reqs[] =
        "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        "GET /no-such-file.txt HTTP/1.1\r\nHost: x\r\n\r\n"
        "POST /api/v1/users HTTP/1.1\r\nHost: x\r\n"
        "Content-Type: application/json\r\nContent-Length: 9\r\n\r\n{\"email\":"
        "POST /api/v1/sessions HTTP/1.1\r\nHost: x\r\n"
        "Content-Type: application/json\r\nContent-Length: 52\r\n\r\n"
        "{\"email\":\"pipe@example.com\",\"password\":\"wrongwrong\"}"
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    static const int want[] = {200, 404, 400, 401, 200};
    char *out = malloc(65536);
    int statuses[8], n, fd, closed;

    (void)state;
    assert_non_null(out);
    fd = tu_connect(srv.port);
    assert_true(fd >= 0);
    /* All five in one write: each answered in order, none swallowed, none
     * mixed with its neighbour's body. */
    assert_int_equal(tu_send(fd, reqs, sizeof reqs - 1), 0);
    tu_recv_all(fd, out, 65536, RAW_MS, &closed);
    close(fd);
    n = split_responses(out, statuses, 8);
    if (n != 5)
        fail_msg("pipelined: %d answers: %.500s", n, out);
    for (int i = 0; i < 5; i++) {
        if (statuses[i] != want[i])
            fail_msg("pipelined answer %d: %d, want %d", i, statuses[i],
                     want[i]);
    }
    assert_true(closed);
    free(out);
    assert_up("pipelined requests");
}

/* A request refused from its headers alone may end the connection, but
 * then it must say so, and the requests behind it must not be answered
 * as if they were part of it. */
static void
test_pipelined_after_early_refusal(void **state)
{
    static const char reqs[] =
        "GET /api/v1/me HTTP/1.1\r\nHost: x\r\n\r\n"
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    char out[16384], v[64];
    int statuses[4], n, fd, closed;

    (void)state;
    fd = tu_connect(srv.port);
    assert_true(fd >= 0);
    assert_int_equal(tu_send(fd, reqs, sizeof reqs - 1), 0);
    tu_recv_all(fd, out, sizeof out, RAW_MS, &closed);
    close(fd);
    n = split_responses(out, statuses, 4);
    if (n < 1 || statuses[0] != 401)
        fail_msg("pipelined after 401: %.500s", out);
    if (n == 1) {
        struct th_resp r = {.headers = out};

        /* Closing is fine when announced. */
        if (!th_header(&r, "Connection", v, sizeof v) ||
            strcasecmp(v, "close") != 0)
            fail_msg("closed after 401 without Connection: close");
    } else if (n != 2 || statuses[1] != 200) {
        fail_msg("pipelined after 401: %.500s", out);
    }
    assert_true(closed);
    assert_up("pipelined after an early refusal");
}

static void
test_long_urls(void **state)
{
    size_t n = 20000;
    char *req = malloc(n + 256);
    size_t len;

    (void)state;
    assert_non_null(req);
    len = (size_t)sprintf(req, "GET /");
    memset(req + len, 'a', n);
    len += n;
    len += (size_t)sprintf(req + len, " HTTP/1.1\r\nHost: x\r\n"
                                      "Connection: close\r\n\r\n");
    raw_refused(req, len, "a 20 KB path");
    /* A long path that would be an API route after truncation. */
    len = (size_t)sprintf(req, "GET /api/v1/me");
    memset(req + len, '/', n);
    len += n;
    len += (size_t)sprintf(req + len, " HTTP/1.1\r\nHost: x\r\n"
                                      "Connection: close\r\n\r\n");
    raw_refused(req, len, "/api/v1/me and 20 KB of slashes");
    len = (size_t)sprintf(req, "GET /healthz?");
    for (size_t i = 0; i < n / 8; i++)
        len += (size_t)sprintf(req + len, "a=%zu&", i % 10);
    len += (size_t)sprintf(req + len, " HTTP/1.1\r\nHost: x\r\n"
                                      "Connection: close\r\n\r\n");
    /* Thousands of query arguments: an answer or a close, not a hang. */
    assert_true(tu_raw_exchange(srv.port, req, len, req, n + 256, RAW_MS) >= 0);
    free(req);
    assert_up("thousands of query arguments");
}

static void
test_slow_client_cut_off(void **state)
{
    static const char head[] = "POST /api/v1/users HTTP/1.1\r\nHost: x\r\n"
                               "Content-Length: 100\r\n\r\n{\"email\":";
    int fd[3];

    (void)state;
    /* Half a request line; nothing at all; a body that stops coming. */
    fd[0] = tu_connect(srv.port);
    fd[1] = tu_connect(srv.port);
    fd[2] = tu_connect(srv.port);
    assert_true(fd[0] >= 0 && fd[1] >= 0 && fd[2] >= 0);
    assert_int_equal(tu_send(fd[0], "GET /heal", 9), 0);
    assert_int_equal(tu_send(fd[2], head, sizeof head - 1), 0);
    /* The server runs with --connection-timeout 2: a generous deadline,
     * and no assertion on how long it took. */
    for (int i = 0; i < 3; i++) {
        int gone = tu_wait_closed(fd[i], 20000);

        close(fd[i]);
        if (!gone)
            fail_msg("slow client %d was never cut off", i);
    }
    assert_up("slow clients");
}

struct log_wait {
    const char *path;
    const char *marker;
};

static int
log_has(void *arg)
{
    struct log_wait *w = arg;
    FILE *f = fopen(w->path, "r");
    char line[4096];
    int found = 0;

    if (!f)
        return 0;
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, w->marker) != NULL;
    fclose(f);
    return found;
}

/* The access log is one line per request: a path must not be able to
 * start a line of its own and forge an entry. */
static void
test_log_injection(void **state)
{
    static const char *const paths[] = {
        "/x%0aFORGED-LOG-LINE-1%20error%20fake",
        "/api/v1/me%0d%0aFORGED-LOG-LINE-2",
        "/x%0dFORGED-LOG-LINE-3",
    };
    struct log_wait w = {srv.log, NULL};
    struct th_resp r;
    FILE *f;
    char line[4096];

    (void)state;
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        assert_int_equal(th_req(&srv, "GET", paths[i], NULL, NULL, 0, &r), 0);
        assert_int_equal(r.status, 404);
        th_resp_free(&r);
    }
    /* The last request's line is written once it is answered. */
    w.marker = "FORGED-LOG-LINE-3";
    assert_true(th_poll(log_has, &w, RAW_MS));
    f = fopen(srv.log, "r");
    assert_non_null(f);
    while (fgets(line, sizeof line, f)) {
        /* A bare CR starts a new line on a terminal too. */
        if (!strncmp(line, "FORGED-LOG-LINE", 15) ||
            strstr(line, "\rFORGED-LOG-LINE")) {
            line[strcspn(line, "\r\n")] = '\0';
            fclose(f);
            fail_msg("a request path started a log line: '%s'", line);
        }
    }
    fclose(f);
}

/* Last: nothing the cases above did is still held by the server. */
static void
test_nothing_left_behind(void **state)
{
    (void)state;
    if (!tu_wait_metric(&srv, "stockroom_http_requests_in_flight", 1, 1, 20000))
        fail_msg("requests left in flight");
    /* Only the connection of the /metrics request itself. */
    if (!tu_wait_metric(&srv, "stockroom_http_open_connections", 1, 1, 20000))
        fail_msg("connections left open: %g",
                 tu_metric(&srv, "stockroom_http_open_connections"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_huge_header),
        cmocka_unit_test(test_many_headers),
        cmocka_unit_test(test_huge_header_over_memory),
        cmocka_unit_test(test_bad_methods),
        cmocka_unit_test(test_truncated_bodies),
        cmocka_unit_test(test_bad_lengths),
        cmocka_unit_test(test_garbage_request_line),
        cmocka_unit_test(test_http10),
        cmocka_unit_test(test_pipelined),
        cmocka_unit_test(test_pipelined_after_early_refusal),
        cmocka_unit_test(test_log_injection),
        cmocka_unit_test(test_long_urls),
        cmocka_unit_test(test_slow_client_cut_off),
        cmocka_unit_test(test_nothing_left_behind),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
