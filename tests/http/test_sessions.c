/* Stockroom — sessions over HTTP: log-out, the session cookie, CSRF,
 * expiry, roles and every error path of the account routes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "acctfix.h"
#include "harness.h"
#include "kit.h"
#include "util.h"

/* ---- sessions --------------------------------------------------------- */

static void
test_logout_bearer(void **state)
{
    char email[128], t1[128], t2[128], csrf[64], a1[200], a2[200];
    const char *hdrs[2] = {NULL, NULL};
    struct th_resp r;

    (void)state;
    af_new_session(&af_srv, "logout", email, sizeof email, t1, csrf);
    assert_int_equal(th_login(&af_srv, email, PW, t2, NULL), 201);
    th_bearer(t1, a1, sizeof a1);
    th_bearer(t2, a2, sizeof a2);
    assert_int_equal(af_me_status(&af_srv, a1), 200);
    hdrs[0] = a1;
    /* A Bearer token needs no CSRF token: no browser sends it by itself. */
    af_send_json(&af_srv, "DELETE", "/api/v1/sessions/current", hdrs, NULL, &r);
    assert_int_equal(r.status, 204);
    assert_int_equal(r.len, 0);
    tu_assert_security_headers(&r, "sign-out");
    th_resp_free(&r);
    af_me_refused(&af_srv, a1, "invalid_token");
    af_send_json(&af_srv, "DELETE", "/api/v1/sessions/current", hdrs, NULL, &r);
    af_expect_error(&r, 401, "invalid_token", "sign-out twice");
    /* Only that session ended. */
    assert_int_equal(af_me_status(&af_srv, a2), 200);
}

/* The sr_session value of a sign-in's Set-Cookie into buf. */
static void
session_cookie(const struct th_resp *r, char *buf, size_t len)
{
    char v[512];
    const char *eq;

    assert_non_null(th_header(r, "Set-Cookie", v, sizeof v));
    assert_memory_equal(v, "sr_session=", 11);
    eq = v + 11;
    snprintf(buf, len, "Cookie: sr_session=%.*s", (int)strcspn(eq, ";"), eq);
}

static void
test_session_cookie_attributes(void **state)
{
    char email[128], v[512], cookie[300], csrf[64];
    const char *hdrs[2] = {NULL, NULL};
    struct th_resp r;

    (void)state;
    tu_email("cookie", email, sizeof email);
    assert_int_equal(af_signup(&af_srv, email, PW, "Cookie", NULL), 201);
    assert_int_equal(af_login(&af_srv, email, PW, &r), 201);
    assert_non_null(th_header(&r, "Set-Cookie", v, sizeof v));
    /* Script cannot read it, other sites cannot send it on a POST. */
    assert_non_null(strstr(v, "HttpOnly"));
    assert_non_null(strstr(v, "SameSite="));
    assert_non_null(strstr(v, "Path=/"));
    session_cookie(&r, cookie, sizeof cookie);
    snprintf(csrf, sizeof csrf, "%s",
             json_string_value(json_object_get(r.json, "csrf_token")));
    /* The cookie carries the same session as the token. */
    assert_non_null(
        strstr(cookie, json_string_value(json_object_get(r.json, "token"))));
    th_resp_free(&r);
    hdrs[0] = cookie;
    af_send_json(&af_srv, "GET", "/api/v1/me", hdrs, NULL, &r);
    assert_int_equal(r.status, 200);
    /* A page loaded later learns its CSRF token from /me. */
    assert_string_equal(
        json_string_value(json_object_get(r.json, "csrf_token")), csrf);
    th_resp_free(&r);
}

static void
test_csrf_cookie_needs_token(void **state)
{
    char email[128], cookie[300], csrf[64], wrong[100], good[100];
    char auth[200], token[128], other_csrf[64];
    const char *only_cookie[2] = {NULL, NULL};
    const char *with_wrong[3] = {NULL, NULL, NULL};
    const char *with_csrf[3] = {NULL, NULL, NULL};
    const char *bearer[2] = {NULL, NULL};
    struct th_resp r;

    (void)state;
    tu_email("csrf", email, sizeof email);
    assert_int_equal(af_signup(&af_srv, email, PW, "Csrf", NULL), 201);
    assert_int_equal(af_login(&af_srv, email, PW, &r), 201);
    session_cookie(&r, cookie, sizeof cookie);
    snprintf(csrf, sizeof csrf, "%s",
             json_string_value(json_object_get(r.json, "csrf_token")));
    th_resp_free(&r);

    only_cookie[0] = cookie;
    af_send_json(&af_srv, "DELETE", "/api/v1/sessions/current", only_cookie,
                 NULL, &r);
    af_expect_error(&r, 403, "csrf_failed", "cookie without X-CSRF-Token");
    /* The refused request changed nothing: the session is alive. */
    assert_int_equal(af_me_status(&af_srv, cookie), 200);

    with_wrong[0] = cookie;
    snprintf(wrong, sizeof wrong, "X-CSRF-Token: %.*sX", (int)strlen(csrf) - 1,
             csrf);
    with_wrong[1] = wrong;
    af_send_json(&af_srv, "DELETE", "/api/v1/sessions/current", with_wrong,
                 NULL, &r);
    af_expect_error(&r, 403, "csrf_failed", "cookie with a wrong X-CSRF-Token");
    with_wrong[1] = "X-CSRF-Token: ";
    af_send_json(&af_srv, "DELETE", "/api/v1/sessions/current", with_wrong,
                 NULL, &r);
    af_expect_error(&r, 403, "csrf_failed",
                    "cookie with an empty X-CSRF-Token");
    assert_int_equal(af_me_status(&af_srv, cookie), 200);

    /* Another session's CSRF token does not fit this session. */
    assert_int_equal(th_login(&af_srv, email, PW, token, other_csrf), 201);
    snprintf(wrong, sizeof wrong, "X-CSRF-Token: %s", other_csrf);
    with_wrong[1] = wrong;
    af_send_json(&af_srv, "DELETE", "/api/v1/sessions/current", with_wrong,
                 NULL, &r);
    af_expect_error(&r, 403, "csrf_failed", "another session's CSRF token");

    with_csrf[0] = cookie;
    snprintf(good, sizeof good, "X-CSRF-Token: %s", csrf);
    with_csrf[1] = good;
    af_send_json(&af_srv, "DELETE", "/api/v1/sessions/current", with_csrf, NULL,
                 &r);
    assert_int_equal(r.status, 204);
    th_resp_free(&r);
    af_me_refused(&af_srv, cookie, "unauthenticated");

    /* The other session, used with its Bearer token, needs no CSRF. */
    bearer[0] = th_bearer(token, auth, sizeof auth);
    af_send_json(&af_srv, "DELETE", "/api/v1/sessions/current", bearer, NULL,
                 &r);
    assert_int_equal(r.status, 204);
    th_resp_free(&r);
    af_me_refused(&af_srv, auth, "invalid_token");
}

/* Log in on a --session-ttl 1 server until /me says 200 at least once:
 * the one-second session may lapse between the two requests. */
static void
login_live(struct th_server *s, const char *email, char *auth, size_t len)
{
    char token[128];

    for (int i = 0; i < 5; i++) {
        assert_int_equal(th_login(s, email, PW, token, NULL), 201);
        th_bearer(token, auth, len);
        if (af_me_status(s, auth) == 200)
            return;
    }
    fail_msg("a fresh session never worked");
}

struct expiry {
    struct th_server *s;
    const char *auth;
};

static int
session_gone(void *arg)
{
    struct expiry *e = arg;

    return af_me_status(e->s, e->auth) == 401;
}

static void
test_session_expires(void **state)
{
    static const char *const flags[] = {"--session-ttl", "1", NULL};
    struct th_server *s = &af_extra[2];
    char email[128], auth[200], v[256];
    struct expiry e = {s, auth};
    const char *hdrs[2] = {auth, NULL};
    struct th_resp r;

    (void)state;
    assert_int_equal(th_start(s, flags), 0);
    tu_email("expiry", email, sizeof email);
    assert_int_equal(af_signup(s, email, PW, "Expiry", NULL), 201);
    assert_int_equal(af_login(s, email, PW, &r), 201);
    /* The browser is told the same lifetime. */
    assert_non_null(th_header(&r, "Set-Cookie", v, sizeof v));
    assert_non_null(strstr(v, "Max-Age=1;"));
    th_resp_free(&r);
    login_live(s, email, auth, sizeof auth);
    /* Poll with a deadline: the session must lapse soon after a second. */
    assert_true(th_poll(session_gone, &e, 10000));
    af_send_json(s, "GET", "/api/v1/me", hdrs, NULL, &r);
    af_expect_error(&r, 401, "invalid_token", "expired session");
    assert_int_equal(th_stop(s), 0);
    th_cleanup(s);
}

/* ---- every error path ------------------------------------------------- */

static void
test_not_signed_in(void **state)
{
    static const char *const bad_auth[] = {
        "Authorization: Bearer not-a-real-token",
        "Authorization: Bearer ",
        "Authorization: Basic dXNlcjpwYXNz",
        /* Longer than any token the server makes. */
        "Authorization: Bearer "
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    };
    const char *hdrs[2] = {NULL, NULL};
    struct th_resp r;

    (void)state;
    af_send_json(&af_srv, "GET", "/api/v1/me", NULL, NULL, &r);
    af_expect_error(&r, 401, "unauthenticated", "/me without a session");
    af_send_json(&af_srv, "DELETE", "/api/v1/sessions/current", NULL, NULL, &r);
    af_expect_error(&r, 401, "unauthenticated", "sign-out without a session");
    for (size_t i = 0; i < sizeof bad_auth / sizeof bad_auth[0]; i++) {
        hdrs[0] = bad_auth[i];
        af_send_json(&af_srv, "GET", "/api/v1/me", hdrs, NULL, &r);
        af_expect_error(&r, 401, "invalid_token", bad_auth[i]);
    }
    /* A stale cookie is a visitor, who must sign in. */
    hdrs[0] = "Cookie: sr_session=stale-or-forged";
    af_send_json(&af_srv, "GET", "/api/v1/me", hdrs, NULL, &r);
    af_expect_error(&r, 401, "unauthenticated", "stale cookie");
}

static void
test_unknown_route(void **state)
{
    static const struct {
        const char *method, *path;
    } cases[] = {
        {"GET", "/api/v1/nope"},  {"GET", "/api/v1/users/123"},
        {"GET", "/api/v2/me"},    {"GET", "/api/v1/me/"},
        {"POST", "/api/v1/nope"}, {"DELETE", "/api/v1/sessions/other"},
        {"GET", "/api"},          {"GET", "/api/"},
    };
    struct th_resp r;
    char what[128];

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(what, sizeof what, "%s %s", cases[i].method, cases[i].path);
        af_send_json(&af_srv, cases[i].method, cases[i].path, NULL, NULL, &r);
        af_expect_error(&r, 404, "not_found", what);
    }
}

static void
test_wrong_method(void **state)
{
    static const struct {
        const char *method, *path, *allow;
    } cases[] = {
        {"GET", "/api/v1/users", "POST"},
        {"PUT", "/api/v1/users", "POST"},
        {"GET", "/api/v1/sessions", "POST"},
        {"DELETE", "/api/v1/sessions", "POST"},
        {"GET", "/api/v1/sessions/current", "DELETE"},
        {"POST", "/api/v1/me", "GET"},
        {"PATCH", "/api/v1/me", "GET"},
        {"POST", "/healthz", "GET"},
        {"DELETE", "/metrics", "GET"},
    };
    struct th_resp r;
    char what[128], allow[128];

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(what, sizeof what, "%s %s", cases[i].method, cases[i].path);
        af_send_json(&af_srv, cases[i].method, cases[i].path, NULL, NULL, &r);
        if (!th_header(&r, "Allow", allow, sizeof allow))
            fail_msg("%s: 405 without Allow: %ld %s", what, r.status, r.body);
        if (!strstr(allow, cases[i].allow))
            fail_msg("%s: Allow '%s' lacks %s", what, allow, cases[i].allow);
        af_expect_error(&r, 405, "method_not_allowed", what);
    }
}

static void
test_body_too_large(void **state)
{
    size_t big = 64 * 1024 + 100;
    char *body = malloc(big + 1);
    char head[512], resp[4096], email[128];
    struct th_resp r;
    int fd;

    (void)state;
    assert_non_null(body);
    /* Valid JSON, so only the size can be the reason. */
    tu_email("big", email, sizeof email);
    snprintf(body, big + 1,
             "{\"email\":\"%s\",\"password\":\"" PW "\","
             "\"name\":\"",
             email);
    memset(body + strlen(body), 'a', big - strlen(body));
    memcpy(body + big - 2, "\"}", 3);
    assert_int_equal(
        th_req(&af_srv, "POST", "/api/v1/users", NULL, body, big, &r), 0);
    free(body);
    af_expect_error(&r, 413, "too_large", "65 KiB JSON with Content-Length");
    /* The refused sign-up stored nothing. */
    af_login_refused(&af_srv, email, PW, "invalid_credentials");

    /* A Content-Length over the limit is refused before any body byte. */
    fd = tu_connect(af_srv.port);
    assert_true(fd >= 0);
    snprintf(head, sizeof head,
             "POST /api/v1/users HTTP/1.1\r\n"
             "Host: 127.0.0.1\r\nContent-Type: application/json\r\n"
             "Content-Length: 1000000\r\n\r\n");
    assert_int_equal(tu_send(fd, head, strlen(head)), 0);
    assert_true(tu_recv_response(fd, resp, sizeof resp, 15000) > 0);
    close(fd);
    if (tu_raw_status(resp) != 413)
        fail_msg("Content-Length 1000000: %s", resp);
    assert_non_null(strstr(resp, "too_large"));

    /* A route that takes no body refuses one. */
    assert_int_equal(th_req(&af_srv, "GET", "/healthz", NULL, "x", 1, &r), 0);
    af_expect_error(&r, 413, "too_large", "GET /healthz with a body");
    assert_true(tu_healthy(&af_srv));
}

/* Without a Content-Length the limit must hold while the body is read,
 * and the client must still be told why. */
static void
test_body_too_large_chunked(void **state)
{
    const char *chunked[] = {"Transfer-Encoding: chunked", NULL};
    size_t big = 64 * 1024 + 100;
    char *body = malloc(big + 1);
    struct th_resp r;
    int rc;

    (void)state;
    assert_non_null(body);
    snprintf(body, big + 1,
             "{\"email\":\"chunked@example.com\","
             "\"password\":\"" PW "\",\"name\":\"");
    memset(body + strlen(body), 'a', big - strlen(body));
    memcpy(body + big - 2, "\"}", 3);
    rc = th_req(&af_srv, "POST", "/api/v1/users", chunked, body, big, &r);
    free(body);
    assert_true(tu_healthy(&af_srv));
    if (rc < 0)
        fail_msg("chunked 65 KiB JSON: closed without an answer, want 413");
    af_expect_error(&r, 413, "too_large", "65 KiB JSON, chunked");
    af_login_refused(&af_srv, "chunked@example.com", PW, "invalid_credentials");
}

/* ---- roles ------------------------------------------------------------ */

/* Staff routes: who may use them is the role, never just being signed in. */
static void
test_wrong_role(void **state)
{
    static const struct {
        const char *method, *path;
        int reviewer_ok; /* a reviewer may use it too */
    } staff[] = {
        {"GET", "/api/v1/review/queue", 1},
        {"GET", "/api/v1/payouts", 0},
        {"GET", "/api/v1/admin/ledger/verify", 0},
        {"POST", "/api/v1/licences/no-such-licence/refund", 0},
    };
    char email[128], token[128], csrf[64], auth[200];
    char admin_email[128], admin_auth[200], rev_email[128], rev_auth[200];
    char what[200];
    const char *hdrs[2] = {NULL, NULL};
    struct th_resp r;

    (void)state;
    af_new_session(&af_srv, "buyer", email, sizeof email, token, csrf);
    th_bearer(token, auth, sizeof auth);
    tu_email("staff", admin_email, sizeof admin_email);
    assert_int_equal(th_admin_add(&af_srv, admin_email, "admin", PW), 0);
    assert_int_equal(th_login(&af_srv, admin_email, PW, token, NULL), 201);
    th_bearer(token, admin_auth, sizeof admin_auth);
    tu_email("reviewer", rev_email, sizeof rev_email);
    assert_int_equal(th_admin_add(&af_srv, rev_email, "reviewer", PW), 0);
    assert_int_equal(th_login(&af_srv, rev_email, PW, token, NULL), 201);
    th_bearer(token, rev_auth, sizeof rev_auth);
    for (size_t i = 0; i < sizeof staff / sizeof staff[0]; i++) {
        snprintf(what, sizeof what, "%s %s", staff[i].method, staff[i].path);
        af_send_json(&af_srv, staff[i].method, staff[i].path, NULL, NULL, &r);
        af_expect_error(&r, 401, "unauthenticated", what);
        /* The role is checked before anything is looked up. */
        hdrs[0] = auth;
        af_send_json(&af_srv, staff[i].method, staff[i].path, hdrs, NULL, &r);
        af_expect_error(&r, 403, "forbidden", what);
        hdrs[0] = rev_auth;
        af_send_json(&af_srv, staff[i].method, staff[i].path, hdrs, NULL, &r);
        if (!staff[i].reviewer_ok)
            af_expect_error(&r, 403, "forbidden", what);
        else if (r.status != 200)
            fail_msg("%s as reviewer: %ld %s", what, r.status, r.body);
        else
            th_resp_free(&r);
        hdrs[0] = admin_auth;
        af_send_json(&af_srv, staff[i].method, staff[i].path, hdrs, NULL, &r);
        /* Let in: it may still find nothing to refund. */
        if (r.status == 401 || r.status == 403)
            fail_msg("%s as admin: %ld %s", what, r.status, r.body);
        th_resp_free(&r);
    }
    /* Whatever the routes, the roles behind them must be right. */
    hdrs[0] = admin_auth;
    af_send_json(&af_srv, "GET", "/api/v1/me", hdrs, NULL, &r);
    assert_true(kit_has_role(r.json, "admin"));
    th_resp_free(&r);
    hdrs[0] = auth;
    af_send_json(&af_srv, "GET", "/api/v1/me", hdrs, NULL, &r);
    assert_false(kit_has_role(r.json, "admin"));
    assert_false(kit_has_role(r.json, "reviewer"));
    th_resp_free(&r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_logout_bearer),
        cmocka_unit_test(test_session_cookie_attributes),
        cmocka_unit_test(test_csrf_cookie_needs_token),
        cmocka_unit_test(test_session_expires),
        cmocka_unit_test(test_not_signed_in),
        cmocka_unit_test(test_unknown_route),
        cmocka_unit_test(test_wrong_method),
        cmocka_unit_test(test_body_too_large),
        cmocka_unit_test(test_body_too_large_chunked),
        cmocka_unit_test(test_wrong_role),
    };

    return cmocka_run_group_tests(tests, af_setup, af_teardown);
}
