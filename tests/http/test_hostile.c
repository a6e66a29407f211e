/* Stockroom — hostile JSON: deep, enormous, broken, duplicated, out of
 * range and wrongly typed bodies. Each gets its exact 4xx and JSON error,
 * and the server answers /healthz afterwards. Hostile HTTP framing is in
 * test_hostile_http.c. */
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

/* POST body (len bytes) as JSON to path and expect the status and its
 * error code. */
static void
post_expect(const char *path, const char *body, size_t len, long status,
            const char *code, const char *what)
{
    struct th_resp r;

    if (th_req(&srv, "POST", path, NULL, body, len, &r) < 0)
        fail_msg("%s: no answer", what);
    kit_expect(&r, status, code, what);
    /* Whatever went wrong, the answer is a JSON error. */
    if (!json_is_object(json_object_get(r.json, "error")))
        fail_msg("%s: not a JSON error: %.300s", what, r.body);
    th_resp_free(&r);
    assert_up(what);
}

/* Both JSON routes must refuse the same body the same way. */
static void
both_expect(const char *body, size_t len, long status, const char *code,
            const char *what)
{
    post_expect("/api/v1/users", body, len, status, code, what);
    post_expect("/api/v1/sessions", body, len, status, code, what);
}

/* ---- JSON ------------------------------------------------------------- */

static void
test_deep_nesting(void **state)
{
    size_t n = 10000;
    char *body = malloc(2 * n + 64);
    size_t len;

    (void)state;
    assert_non_null(body);
    memset(body, '[', n);
    memset(body + n, ']', n);
    both_expect(body, 2 * n, 400, "malformed_json", "[ x 10000");

    /* Deep inside a field, and as objects. */
    len = (size_t)sprintf(body, "{\"email\":");
    memset(body + len, '[', n);
    memset(body + len + n, ']', n);
    memcpy(body + len + 2 * n, "}", 2);
    both_expect(body, strlen(body), 400, "malformed_json",
                "field nested 10000 deep");
    len = 0;
    for (size_t i = 0; i < 2000; i++)
        len += (size_t)sprintf(body + len, "{\"a\":");
    len += (size_t)sprintf(body + len, "1");
    memset(body + len, '}', 2000);
    both_expect(body, len + 2000, 400, "malformed_json",
                "objects nested 2000 deep");
    /* Unbalanced: only openings. */
    memset(body, '{', n);
    both_expect(body, n, 400, "malformed_json", "{ x 10000, unclosed");
    free(body);
}

static void
test_huge_string(void **state)
{
    size_t big = 10 * 1024 * 1024;
    char *body = malloc(big + 1);
    char head[512], resp[4096];
    int fd;

    (void)state;
    assert_non_null(body);
    snprintf(body, big + 1, "{\"email\":\"");
    memset(body + strlen(body), 'a', big - strlen(body));
    memcpy(body + big - 2, "\"}", 3);
    both_expect(body, big, 413, "too_large", "10 MB string");
    free(body);

    /* The refusal comes before the body: the server need not read it. */
    fd = tu_connect(srv.port);
    assert_true(fd >= 0);
    snprintf(head, sizeof head,
             "POST /api/v1/users HTTP/1.1\r\n"
             "Host: 127.0.0.1\r\nContent-Type: application/json\r\n"
             "Content-Length: %zu\r\n\r\n{\"email\":\"aaaa",
             big);
    assert_int_equal(tu_send(fd, head, strlen(head)), 0);
    assert_true(tu_recv_response(fd, resp, sizeof resp, RAW_MS) > 0);
    close(fd);
    if (tu_raw_status(resp) != 413)
        fail_msg("10 MB Content-Length: %.300s", resp);
    assert_up("10 MB Content-Length, body never sent");
}

/* The same 10 MB without a Content-Length: the ceiling must hold while
 * reading, and the client must be told. */
static void
test_huge_string_chunked(void **state)
{
    const char *chunked[] = {"Transfer-Encoding: chunked", NULL};
    size_t big = 10 * 1024 * 1024;
    char *body = malloc(big + 1);
    struct th_resp r;
    int rc;

    (void)state;
    assert_non_null(body);
    snprintf(body, big + 1, "{\"email\":\"");
    memset(body + strlen(body), 'a', big - strlen(body));
    memcpy(body + big - 2, "\"}", 3);
    rc = th_req(&srv, "POST", "/api/v1/users", chunked, body, big, &r);
    free(body);
    assert_up("10 MB chunked");
    if (rc < 0)
        fail_msg("10 MB chunked: closed without an answer, want 413");
    if (r.status != 413)
        fail_msg("10 MB chunked: want 413, got %ld", r.status);
    th_resp_free(&r);
}

static void
test_invalid_utf8(void **state)
{
    static const char *const bodies[] = {
        "{\"email\":\"\xff\xfe@example.com\",\"password\":\"" PW "\","
        "\"name\":\"n\"}",
        /* Truncated two-byte sequence. */
        "{\"email\":\"a@example.com\",\"password\":\"" PW "\","
        "\"name\":\"ab\xc3\"}",
        /* Overlong encoding of '/'. */
        "{\"email\":\"a@example.com\",\"password\":\"\xc0\xaf" PW "\","
        "\"name\":\"n\"}",
        /* A UTF-16 surrogate written as UTF-8. */
        "{\"email\":\"a@example.com\",\"password\":\"" PW "\","
        "\"name\":\"\xed\xa0\x80\"}",
        /* Above U+10FFFF. */
        "{\"email\":\"a@example.com\",\"password\":\"" PW "\","
        "\"name\":\"\xf4\x90\x80\x80\"}",
        /* A lone surrogate as an escape. */
        "{\"email\":\"a@example.com\",\"password\":\"" PW "\","
        "\"name\":\"\\ud800\"}",
        /* In a key. */
        "{\"\xff\":1,\"email\":\"a@example.com\",\"password\":\"" PW "\","
        "\"name\":\"n\"}",
        /* After the value. */
        "{\"email\":\"a@example.com\",\"password\":\"" PW "\","
        "\"name\":\"n\"}\xff",
    };

    (void)state;
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++)
        both_expect(bodies[i], strlen(bodies[i]), 400, "malformed_json",
                    bodies[i]);
    /* Nothing above was stored. */
    post_expect("/api/v1/sessions",
                "{\"email\":\"a@example.com\","
                "\"password\":\"" PW "\"}",
                strlen("{\"email\":\"a@example.com"
                       "\",\"password\":\"" PW "\"}"),
                401, "invalid_credentials", "sign-in after the refusals");
}

static void
test_duplicate_keys(void **state)
{
    static const char *const bodies[] = {
        "{\"email\":\"a@example.com\",\"email\":\"admin@example.com\","
        "\"password\":\"" PW "\",\"name\":\"n\"}",
        "{\"email\":\"a@example.com\",\"password\":\"" PW "\","
        "\"password\":\"" PW "\",\"name\":\"n\"}",
        /* The same key spelt with an escape. */
        "{\"email\":\"a@example.com\",\"\\u0065mail\":\"b@example.com\","
        "\"password\":\"" PW "\",\"name\":\"n\"}",
    };

    (void)state;
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++)
        both_expect(bodies[i], strlen(bodies[i]), 400, "malformed_json",
                    bodies[i]);
}

static void
test_numbers_out_of_range(void **state)
{
    static const char *const numbers[] = {
        "1e400",
        "-1e400",
        "99999999999999999999",
        "-99999999999999999999",
        "123456789012345678901234567890e999",
    };
    char body[256];

    (void)state;
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
        snprintf(body, sizeof body,
                 "{\"email\":%s,\"password\":\"" PW "\","
                 "\"name\":\"n\"}",
                 numbers[i]);
        both_expect(body, strlen(body), 400, "malformed_json", numbers[i]);
        snprintf(body, sizeof body,
                 "{\"email\":\"n@example.com\","
                 "\"password\":\"" PW "\",\"name\":\"n\",\"extra\":%s}",
                 numbers[i]);
        /* Out of range anywhere is refused, even in an ignored field. */
        post_expect("/api/v1/users", body, strlen(body), 400, "malformed_json",
                    numbers[i]);
    }
}

static void
test_wrong_types(void **state)
{
    static const char *const users[] = {"email", "password", "name"};
    static const char *const sessions[] = {"email", "password"};
    static const char *const values[] = {
        "42",
        "-1",
        "4.5",
        "true",
        "false",
        "[]",
        "[\"a@example.com\"]",
        "{}",
        "{\"x\":\"y\"}",
    };
    static const char *const good[] = {
        "\"wt@example.com\"",
        "\"" PW "\"",
        "\"Wrong Types\"",
    };
    char body[512], what[128];

    (void)state;
    for (size_t f = 0; f < 3; f++) {
        for (size_t v = 0; v < sizeof values / sizeof values[0]; v++) {
            size_t len = (size_t)snprintf(body, sizeof body, "{");

            for (size_t k = 0; k < 3; k++)
                len += (size_t)snprintf(body + len, sizeof body - len,
                                        "%s\"%s\":%s", k ? "," : "", users[k],
                                        k == f ? values[v] : good[k]);
            snprintf(body + len, sizeof body - len, "}");
            snprintf(what, sizeof what, "sign-up %s=%s", users[f], values[v]);
            post_expect("/api/v1/users", body, strlen(body), 422,
                        "invalid_field", what);
        }
    }
    for (size_t f = 0; f < 2; f++) {
        for (size_t v = 0; v < sizeof values / sizeof values[0]; v++) {
            snprintf(body, sizeof body, "{\"%s\":%s,\"%s\":%s}", sessions[0],
                     f == 0 ? values[v] : good[0], sessions[1],
                     f == 1 ? values[v] : good[1]);
            snprintf(what, sizeof what, "sign-in %s=%s", sessions[f],
                     values[v]);
            post_expect("/api/v1/sessions", body, strlen(body), 422,
                        "invalid_field", what);
        }
    }
}

static void
test_top_level_not_object(void **state)
{
    static const char *const arrays[] = {
        "[]",
        "[{\"email\":\"a@example.com\",\"password\":\"" PW "\","
        "\"name\":\"n\"}]",
    };
    static const char *const scalars[] = {
        "\"a@example.com\"",
        "42",
        "null",
        "true",
    };

    (void)state;
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++)
        both_expect(arrays[i], strlen(arrays[i]), 422, "invalid_body",
                    arrays[i]);
    for (size_t i = 0; i < sizeof scalars / sizeof scalars[0]; i++)
        both_expect(scalars[i], strlen(scalars[i]), 400, "malformed_json",
                    scalars[i]);
}

static void
test_empty_body(void **state)
{
    static const char no_length[] =
        "POST /api/v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/json\r\nConnection: close\r\n\r\n";
    char out[4096];

    (void)state;
    both_expect("", 0, 400, "malformed_json", "empty body");
    both_expect("   \r\n\t ", 7, 400, "malformed_json", "blank body");
    /* No Content-Length at all is an empty body too. */
    assert_int_equal(tu_raw_exchange(srv.port, no_length, sizeof no_length - 1,
                                     out, sizeof out, RAW_MS),
                     400);
    assert_non_null(strstr(out, "malformed_json"));
    assert_up("POST without a body");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_huge_string),
        cmocka_unit_test(test_huge_string_chunked),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_numbers_out_of_range),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_top_level_not_object),
        cmocka_unit_test(test_empty_body),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
