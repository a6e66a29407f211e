/* Stockroom — accounts over HTTP: sign-up, sign-in, sessions, the log-in
 * limiter, CSRF, roles and every error path of the account routes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"
#include "kit.h"
#include "util.h"

#define PW "correct horse battery"

static struct th_server srv;      /* default flags, shared by most tests */
static struct th_server extra[3]; /* dedicated servers with odd flags */

static int
setup(void **state)
{
    (void)state;
    return th_start(&srv, NULL);
}

static int
teardown(void **state)
{
    int rc = th_stop(&srv);

    (void)state;
    th_cleanup(&srv);
    /* A dedicated server left running means its test failed half-way. */
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++)
        th_cleanup(&extra[i]);
    return rc;
}

/* One request with a JSON text body (may be NULL); fails the test when no
 * answer comes at all. */
static void
send_json(struct th_server *s, const char *method, const char *path,
          const char *const *hdrs, const char *body, struct th_resp *r)
{
    assert_int_equal(
        th_req(s, method, path, hdrs, body, body ? strlen(body) : 0, r), 0);
}

/* Assert status and error code, then free. */
static void
expect_error(struct th_resp *r, long status, const char *code, const char *what)
{
    if (r->status != status || strcmp(th_error_code(r), code) != 0)
        fail_msg("%s: want %ld %s, got %ld: %s", what, status, code, r->status,
                 r->body);
    tu_assert_security_headers(r, what);
    th_resp_free(r);
}

static long
signup(struct th_server *s, const char *email, const char *pw, const char *name,
       struct th_resp *out)
{
    char *body =
        tu_json("{s:s,s:s,s:s}", "email", email, "password", pw, "name", name);
    struct th_resp r;
    long status;

    send_json(s, "POST", "/api/v1/users", NULL, body, &r);
    free(body);
    status = r.status;
    if (out)
        *out = r;
    else
        th_resp_free(&r);
    return status;
}

static long
login(struct th_server *s, const char *email, const char *pw,
      struct th_resp *out)
{
    char *body = tu_json("{s:s,s:s}", "email", email, "password", pw);
    struct th_resp r;
    long status;

    send_json(s, "POST", "/api/v1/sessions", NULL, body, &r);
    free(body);
    status = r.status;
    if (out)
        *out = r;
    else
        th_resp_free(&r);
    return status;
}

/* GET /api/v1/me with one header (may be NULL); returns the status. */
static long
me_status(struct th_server *s, const char *hdr)
{
    const char *hdrs[2] = {hdr, NULL};
    struct th_resp r;
    long status;

    assert_int_equal(
        th_req(s, "GET", "/api/v1/me", hdr ? hdrs : NULL, NULL, 0, &r), 0);
    status = r.status;
    th_resp_free(&r);
    return status;
}

/* A sign-in that must be refused with 401 and code. */
static void
login_refused(struct th_server *s, const char *email, const char *pw,
              const char *code)
{
    struct th_resp r;

    login(s, email, pw, &r);
    kit_expect(&r, 401, code, "a refused sign-in");
    th_resp_free(&r);
}

/* GET /api/v1/me with one header (may be NULL) must be refused with 401
 * and code. */
static void
me_refused(struct th_server *s, const char *hdr, const char *code)
{
    const char *hdrs[2] = {hdr, NULL};
    struct th_resp r;

    kit_try_on(s, "GET", "/api/v1/me", NULL, hdr ? hdrs : NULL, NULL, NULL, &r);
    kit_expect(&r, 401, code, "GET /api/v1/me");
    th_resp_free(&r);
}

/* A new account, signed in: its email into email, token and csrf. */
static void
new_session(struct th_server *s, const char *prefix, char *email,
            size_t email_len, char token[128], char csrf[64])
{
    tu_email(prefix, email, email_len);
    assert_int_equal(th_signup(s, email, PW, prefix), 201);
    assert_int_equal(th_login(s, email, PW, token, csrf), 201);
}

static int
has_role(json_t *user, const char *role)
{
    json_t *roles = json_object_get(user, "roles");
    size_t i;
    json_t *v;

    json_array_foreach(roles, i, v)
    {
        if (json_is_string(v) && !strcmp(json_string_value(v), role))
            return 1;
    }
    return 0;
}

/* ---- sign-up ---------------------------------------------------------- */

static void
test_signup_returns_user(void **state)
{
    char email[128], mixed[128];
    struct th_resp r;
    json_t *roles;

    (void)state;
    tu_email("Mixed.Case", mixed, sizeof mixed);
    /* The stored address is the lower-cased one. */
    snprintf(email, sizeof email, "%s", mixed);
    for (char *c = email; *c; c++)
        *c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
    assert_int_equal(signup(&srv, mixed, PW, "Ada Lovelace", &r), 201);
    tu_assert_security_headers(&r, "sign-up");
    assert_true(json_is_string(json_object_get(r.json, "id")));
    assert_true(json_string_length(json_object_get(r.json, "id")) > 0);
    assert_string_equal(json_string_value(json_object_get(r.json, "email")),
                        email);
    assert_string_equal(json_string_value(json_object_get(r.json, "name")),
                        "Ada Lovelace");
    roles = json_object_get(r.json, "roles");
    assert_true(json_is_array(roles));
    /* Everyone who signs up may buy and contribute, and nothing more. */
    assert_true(has_role(r.json, "buyer"));
    assert_true(has_role(r.json, "contributor"));
    assert_false(has_role(r.json, "reviewer"));
    assert_false(has_role(r.json, "admin"));
    /* Neither the password nor its hash ever goes back out. */
    assert_null(strstr(r.body, PW));
    assert_null(strstr(r.body, "argon2"));
    assert_null(json_object_get(r.json, "password"));
    th_resp_free(&r);
}

static void
test_signup_duplicate_email(void **state)
{
    char email[128], upper[128];
    struct th_resp r;

    (void)state;
    tu_email("dup", email, sizeof email);
    assert_int_equal(signup(&srv, email, PW, "First", NULL), 201);
    assert_int_equal(signup(&srv, email, PW, "Second", &r), 409);
    expect_error(&r, 409, "email_taken", "same email");
    /* Emails are one address whatever their case. */
    for (size_t i = 0; i < sizeof upper && email[i]; i++)
        upper[i] = (char)(email[i] >= 'a' && email[i] <= 'z' ? email[i] - 32
                                                             : email[i]);
    upper[strlen(email)] = '\0';
    assert_int_equal(signup(&srv, upper, PW, "Third", &r), 409);
    expect_error(&r, 409, "email_taken", "same email, other case");
    /* The first account still signs in with its own password. */
    assert_int_equal(login(&srv, email, PW, NULL), 201);
}

static void
test_signup_cannot_choose_roles(void **state)
{
    char email[128], token[128], auth[200];
    const char *hdrs[2] = {NULL, NULL};
    char *body;
    struct th_resp r;

    (void)state;
    tu_email("climber", email, sizeof email);
    /* Extra fields are ignored, above all the ones that would grant power. */
    body = tu_json("{s:s,s:s,s:s,s:[ss],s:b}", "email", email, "password", PW,
                   "name", "Climber", "roles", "admin", "reviewer", "admin", 1);
    send_json(&srv, "POST", "/api/v1/users", NULL, body, &r);
    free(body);
    assert_int_equal(r.status, 201);
    assert_false(has_role(r.json, "admin"));
    assert_false(has_role(r.json, "reviewer"));
    th_resp_free(&r);
    assert_int_equal(th_login(&srv, email, PW, token, NULL), 201);
    hdrs[0] = th_bearer(token, auth, sizeof auth);
    send_json(&srv, "GET", "/api/v1/me", hdrs, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_false(has_role(r.json, "admin"));
    assert_false(has_role(r.json, "reviewer"));
    th_resp_free(&r);
}

static void
test_signup_password_too_short(void **state)
{
    char email[128];
    struct th_resp r;

    (void)state;
    tu_email("short", email, sizeof email);
    assert_int_equal(signup(&srv, email, "123456789", "Short", &r), 422);
    expect_error(&r, 422, "weak_password", "9-character password");
    assert_int_equal(signup(&srv, email, "", "Short", &r), 422);
    expect_error(&r, 422, "weak_password", "empty password");
    /* Nothing was stored by the refusals: ten characters is enough. */
    assert_int_equal(signup(&srv, email, "1234567890", "Short", NULL), 201);
    assert_int_equal(login(&srv, email, "1234567890", NULL), 201);
}

static void
test_signup_invalid_email(void **state)
{
    static const char *const bad[] = {
        "no-at-sign.example.com",
        "@example.com",
        "someone@",
        "two@@example.com",
        "a@b@example.com",
        "space in@example.com",
        "someone@example",
        "someone@.example.com",
        "someone@example.com.",
        "<script>@example.com",
        "tab\t@example.com",
        "a@",
    };
    struct th_resp r;

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(signup(&srv, bad[i], PW, "Bad", &r), 422);
        /* Too short for the field is caught before the address check. */
        if (strcmp(th_error_code(&r), "invalid_email") != 0 &&
            strcmp(th_error_code(&r), "invalid_field") != 0)
            fail_msg("'%s': code %s", bad[i], th_error_code(&r));
        tu_assert_security_headers(&r, bad[i]);
        th_resp_free(&r);
    }
}

static void
test_signup_missing_and_wrong_fields(void **state)
{
    static const struct {
        const char *body, *code;
    } cases[] = {
        {"{\"password\":\"" PW "\",\"name\":\"N\"}", "missing_field"},
        {"{\"email\":\"m@example.com\",\"name\":\"N\"}", "missing_field"},
        {"{\"email\":\"m@example.com\",\"password\":\"" PW "\"}",
         "missing_field"},
        {"{\"email\":null,\"password\":\"" PW "\",\"name\":\"N\"}",
         "missing_field"},
        {"{}", "missing_field"},
        {"{\"email\":42,\"password\":\"" PW "\",\"name\":\"N\"}",
         "invalid_field"},
        {"{\"email\":\"m@example.com\",\"password\":[],\"name\":\"N\"}",
         "invalid_field"},
        {"{\"email\":\"m@example.com\",\"password\":\"" PW "\","
         "\"name\":{}}",
         "invalid_field"},
        {"{\"email\":\"m@example.com\",\"password\":\"" PW "\","
         "\"name\":\"\"}",
         "invalid_field"},
    };
    struct th_resp r;

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        send_json(&srv, "POST", "/api/v1/users", NULL, cases[i].body, &r);
        expect_error(&r, 422, cases[i].code, cases[i].body);
    }
    /* A NUL inside a string would cut it short in C: refused whole. */
    send_json(&srv, "POST", "/api/v1/users", NULL,
              "{\"email\":\"nul@example.com\",\"password\":\"" PW "\","
              "\"name\":\"a\\u0000b\"}",
              &r);
    expect_error(&r, 400, "malformed_json", "a NUL in the name");
    /* Control characters in a name are refused, not stored. */
    send_json(&srv, "POST", "/api/v1/users", NULL,
              "{\"email\":\"ctl@example.com\",\"password\":\"" PW "\","
              "\"name\":\"a\\u001bb\"}",
              &r);
    expect_error(&r, 422, "invalid_name", "a control character in the name");
    /* The sign-in route checks its fields the same way. */
    send_json(&srv, "POST", "/api/v1/sessions", NULL,
              "{\"email\":\"m@example.com\"}", &r);
    expect_error(&r, 422, "missing_field", "sign-in without password");
    send_json(&srv, "POST", "/api/v1/sessions", NULL,
              "{\"email\":true,\"password\":\"" PW "\"}", &r);
    expect_error(&r, 422, "invalid_field", "sign-in with email true");
}

static void
test_malformed_json(void **state)
{
    static const char *const bodies[] = {
        "{\"email\":", "{email: \"x\"}", "{\"a\":1,}",
        "not json",    "{'a':1}",        "{\"a\":1} trailing",
    };
    struct th_resp r;

    (void)state;
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        send_json(&srv, "POST", "/api/v1/users", NULL, bodies[i], &r);
        expect_error(&r, 400, "malformed_json", bodies[i]);
        send_json(&srv, "POST", "/api/v1/sessions", NULL, bodies[i], &r);
        expect_error(&r, 400, "malformed_json", bodies[i]);
    }
}

/* ---- sign-in and /me ------------------------------------------------ */

static void
test_login_and_me(void **state)
{
    char email[128], auth[200], id[64];
    const char *hdrs[2] = {NULL, NULL};
    struct th_resp r;
    json_t *user;

    (void)state;
    tu_email("me", email, sizeof email);
    assert_int_equal(signup(&srv, email, PW, "Grace Hopper", &r), 201);
    snprintf(id, sizeof id, "%s",
             json_string_value(json_object_get(r.json, "id")));
    th_resp_free(&r);
    assert_int_equal(login(&srv, email, PW, &r), 201);
    tu_assert_security_headers(&r, "sign-in");
    assert_true(json_is_string(json_object_get(r.json, "token")));
    assert_true(json_is_string(json_object_get(r.json, "csrf_token")));
    assert_true(json_string_length(json_object_get(r.json, "csrf_token")) >=
                16);
    user = json_object_get(r.json, "user");
    assert_string_equal(json_string_value(json_object_get(user, "id")), id);
    th_bearer(json_string_value(json_object_get(r.json, "token")), auth,
              sizeof auth);
    th_resp_free(&r);

    hdrs[0] = auth;
    send_json(&srv, "GET", "/api/v1/me", hdrs, NULL, &r);
    assert_int_equal(r.status, 200);
    tu_assert_security_headers(&r, "/me");
    assert_string_equal(json_string_value(json_object_get(r.json, "id")), id);
    assert_string_equal(json_string_value(json_object_get(r.json, "email")),
                        email);
    assert_string_equal(json_string_value(json_object_get(r.json, "name")),
                        "Grace Hopper");
    assert_true(json_is_array(json_object_get(r.json, "roles")));
    assert_true(has_role(r.json, "buyer"));
    /* Credits are whole numbers, and a new account has none. */
    assert_true(json_is_integer(json_object_get(r.json, "credits")));
    assert_int_equal(json_integer_value(json_object_get(r.json, "credits")), 0);
    /* Personal answers must not be cached by anything in between. */
    {
        char cc[128];

        assert_non_null(th_header(&r, "Cache-Control", cc, sizeof cc));
        assert_non_null(strstr(cc, "no-store"));
    }
    th_resp_free(&r);
}

static void
test_login_email_any_case(void **state)
{
    char email[128], token[128], csrf[64];

    (void)state;
    new_session(&srv, "case", email, sizeof email, token, csrf);
    for (char *c = email; *c; c++)
        *c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
    assert_int_equal(login(&srv, email, PW, NULL), 201);
}

static void
test_login_wrong_password(void **state)
{
    char email[128], token[128], csrf[64], msg[512];
    struct th_resp r;

    (void)state;
    new_session(&srv, "wrongpw", email, sizeof email, token, csrf);
    assert_int_equal(login(&srv, email, "not the password", &r), 401);
    snprintf(msg, sizeof msg, "%s", r.body);
    assert_null(th_header(&r, "Set-Cookie", token, sizeof token));
    expect_error(&r, 401, "invalid_credentials", "wrong password");
    /* An unknown email gets the very same answer: no account discovery. */
    assert_int_equal(login(&srv, "nobody-here@example.com", PW, &r), 401);
    assert_string_equal(r.body, msg);
    expect_error(&r, 401, "invalid_credentials", "unknown email");
    /* The password is compared whole, not by a prefix. */
    login_refused(&srv, email, PW "x", "invalid_credentials");
    login_refused(&srv, email, "correct horse batter", "invalid_credentials");
}

/* ---- the log-in limiter ---------------------------------------------- */

static void
assert_rate_limited(struct th_resp *r, const char *what)
{
    char v[64];
    long secs;

    if (r->status != 429)
        fail_msg("%s: want 429, got %ld: %s", what, r->status, r->body);
    assert_string_equal(th_error_code(r), "rate_limited");
    if (!th_header(r, "Retry-After", v, sizeof v))
        fail_msg("%s: 429 without Retry-After", what);
    secs = strtol(v, NULL, 10);
    /* Whole seconds, within the configured window of 60. */
    if (secs < 1 || secs > 60)
        fail_msg("%s: Retry-After '%s'", what, v);
    assert_null(th_header(r, "Set-Cookie", v, sizeof v));
    tu_assert_security_headers(r, what);
    th_resp_free(r);
}

static void
test_rate_limit_per_account(void **state)
{
    static const char *const flags[] = {
        "--login-fail-account",
        "2",
        "--login-fail-client",
        "1000",
        "--login-window",
        "60",
        NULL,
    };
    struct th_server *s = &extra[0];
    char email[128], other[128], upper[128];
    struct th_resp r;

    (void)state;
    assert_int_equal(th_start(s, flags), 0);
    tu_email("limited", email, sizeof email);
    tu_email("bystander", other, sizeof other);
    assert_int_equal(signup(s, email, PW, "Limited", NULL), 201);
    assert_int_equal(signup(s, other, PW, "Bystander", NULL), 201);
    login_refused(s, email, "guess number one", "invalid_credentials");
    login_refused(s, email, "guess number two", "invalid_credentials");
    /* Now even the right password waits: the limiter cannot be used to
     * test guesses. */
    login(s, email, PW, &r);
    assert_rate_limited(&r, "right password after 2 failures");
    login(s, email, "guess number three", &r);
    assert_rate_limited(&r, "third guess");
    /* The account is one whatever the case of its address. */
    snprintf(upper, sizeof upper, "%s", email);
    upper[0] = (char)(upper[0] - 32);
    login(s, upper, PW, &r);
    assert_rate_limited(&r, "same account, other case");
    /* Another account from the same address is not locked out. */
    assert_int_equal(login(s, other, PW, NULL), 201);
    assert_int_equal(th_stop(s), 0);
    th_cleanup(s);
}

static void
test_rate_limit_per_client(void **state)
{
    static const char *const flags[] = {
        "--login-fail-account",
        "1000",
        "--login-fail-client",
        "3",
        "--login-window",
        "60",
        NULL,
    };
    struct th_server *s = &extra[1];
    char email[128], probe[128];
    struct th_resp r;

    (void)state;
    assert_int_equal(th_start(s, flags), 0);
    tu_email("victim", email, sizeof email);
    assert_int_equal(signup(s, email, PW, "Victim", NULL), 201);
    /* Three failures on three different accounts: each account is under
     * its own limit, the address is not. */
    for (int i = 0; i < 3; i++) {
        tu_email("spray", probe, sizeof probe);
        login_refused(s, probe, "password spraying", "invalid_credentials");
    }
    tu_email("spray", probe, sizeof probe);
    login(s, probe, "password spraying", &r);
    assert_rate_limited(&r, "fourth account from one address");
    login(s, email, PW, &r);
    assert_rate_limited(&r, "real account from a limited address");
    assert_int_equal(th_stop(s), 0);
    th_cleanup(s);
}

/* ---- sessions --------------------------------------------------------- */

static void
test_logout_bearer(void **state)
{
    char email[128], t1[128], t2[128], csrf[64], a1[200], a2[200];
    const char *hdrs[2] = {NULL, NULL};
    struct th_resp r;

    (void)state;
    new_session(&srv, "logout", email, sizeof email, t1, csrf);
    assert_int_equal(th_login(&srv, email, PW, t2, NULL), 201);
    th_bearer(t1, a1, sizeof a1);
    th_bearer(t2, a2, sizeof a2);
    assert_int_equal(me_status(&srv, a1), 200);
    hdrs[0] = a1;
    /* A Bearer token needs no CSRF token: no browser sends it by itself. */
    send_json(&srv, "DELETE", "/api/v1/sessions/current", hdrs, NULL, &r);
    assert_int_equal(r.status, 204);
    assert_int_equal(r.len, 0);
    tu_assert_security_headers(&r, "sign-out");
    th_resp_free(&r);
    me_refused(&srv, a1, "invalid_token");
    send_json(&srv, "DELETE", "/api/v1/sessions/current", hdrs, NULL, &r);
    expect_error(&r, 401, "invalid_token", "sign-out twice");
    /* Only that session ended. */
    assert_int_equal(me_status(&srv, a2), 200);
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
    assert_int_equal(signup(&srv, email, PW, "Cookie", NULL), 201);
    assert_int_equal(login(&srv, email, PW, &r), 201);
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
    send_json(&srv, "GET", "/api/v1/me", hdrs, NULL, &r);
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
    assert_int_equal(signup(&srv, email, PW, "Csrf", NULL), 201);
    assert_int_equal(login(&srv, email, PW, &r), 201);
    session_cookie(&r, cookie, sizeof cookie);
    snprintf(csrf, sizeof csrf, "%s",
             json_string_value(json_object_get(r.json, "csrf_token")));
    th_resp_free(&r);

    only_cookie[0] = cookie;
    send_json(&srv, "DELETE", "/api/v1/sessions/current", only_cookie, NULL,
              &r);
    expect_error(&r, 403, "csrf_failed", "cookie without X-CSRF-Token");
    /* The refused request changed nothing: the session is alive. */
    assert_int_equal(me_status(&srv, cookie), 200);

    with_wrong[0] = cookie;
    snprintf(wrong, sizeof wrong, "X-CSRF-Token: %.*sX", (int)strlen(csrf) - 1,
             csrf);
    with_wrong[1] = wrong;
    send_json(&srv, "DELETE", "/api/v1/sessions/current", with_wrong, NULL, &r);
    expect_error(&r, 403, "csrf_failed", "cookie with a wrong X-CSRF-Token");
    with_wrong[1] = "X-CSRF-Token: ";
    send_json(&srv, "DELETE", "/api/v1/sessions/current", with_wrong, NULL, &r);
    expect_error(&r, 403, "csrf_failed", "cookie with an empty X-CSRF-Token");
    assert_int_equal(me_status(&srv, cookie), 200);

    /* Another session's CSRF token does not fit this session. */
    assert_int_equal(th_login(&srv, email, PW, token, other_csrf), 201);
    snprintf(wrong, sizeof wrong, "X-CSRF-Token: %s", other_csrf);
    with_wrong[1] = wrong;
    send_json(&srv, "DELETE", "/api/v1/sessions/current", with_wrong, NULL, &r);
    expect_error(&r, 403, "csrf_failed", "another session's CSRF token");

    with_csrf[0] = cookie;
    snprintf(good, sizeof good, "X-CSRF-Token: %s", csrf);
    with_csrf[1] = good;
    send_json(&srv, "DELETE", "/api/v1/sessions/current", with_csrf, NULL, &r);
    assert_int_equal(r.status, 204);
    th_resp_free(&r);
    me_refused(&srv, cookie, "unauthenticated");

    /* The other session, used with its Bearer token, needs no CSRF. */
    bearer[0] = th_bearer(token, auth, sizeof auth);
    send_json(&srv, "DELETE", "/api/v1/sessions/current", bearer, NULL, &r);
    assert_int_equal(r.status, 204);
    th_resp_free(&r);
    me_refused(&srv, auth, "invalid_token");
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
        if (me_status(s, auth) == 200)
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

    return me_status(e->s, e->auth) == 401;
}

static void
test_session_expires(void **state)
{
    static const char *const flags[] = {"--session-ttl", "1", NULL};
    struct th_server *s = &extra[2];
    char email[128], auth[200], v[256];
    struct expiry e = {s, auth};
    const char *hdrs[2] = {auth, NULL};
    struct th_resp r;

    (void)state;
    assert_int_equal(th_start(s, flags), 0);
    tu_email("expiry", email, sizeof email);
    assert_int_equal(signup(s, email, PW, "Expiry", NULL), 201);
    assert_int_equal(login(s, email, PW, &r), 201);
    /* The browser is told the same lifetime. */
    assert_non_null(th_header(&r, "Set-Cookie", v, sizeof v));
    assert_non_null(strstr(v, "Max-Age=1;"));
    th_resp_free(&r);
    login_live(s, email, auth, sizeof auth);
    /* Poll with a deadline: the session must lapse soon after a second. */
    assert_true(th_poll(session_gone, &e, 10000));
    send_json(s, "GET", "/api/v1/me", hdrs, NULL, &r);
    expect_error(&r, 401, "invalid_token", "expired session");
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
    send_json(&srv, "GET", "/api/v1/me", NULL, NULL, &r);
    expect_error(&r, 401, "unauthenticated", "/me without a session");
    send_json(&srv, "DELETE", "/api/v1/sessions/current", NULL, NULL, &r);
    expect_error(&r, 401, "unauthenticated", "sign-out without a session");
    for (size_t i = 0; i < sizeof bad_auth / sizeof bad_auth[0]; i++) {
        hdrs[0] = bad_auth[i];
        send_json(&srv, "GET", "/api/v1/me", hdrs, NULL, &r);
        expect_error(&r, 401, "invalid_token", bad_auth[i]);
    }
    /* A stale cookie is a visitor, who must sign in. */
    hdrs[0] = "Cookie: sr_session=stale-or-forged";
    send_json(&srv, "GET", "/api/v1/me", hdrs, NULL, &r);
    expect_error(&r, 401, "unauthenticated", "stale cookie");
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
        send_json(&srv, cases[i].method, cases[i].path, NULL, NULL, &r);
        expect_error(&r, 404, "not_found", what);
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
        send_json(&srv, cases[i].method, cases[i].path, NULL, NULL, &r);
        if (!th_header(&r, "Allow", allow, sizeof allow))
            fail_msg("%s: 405 without Allow: %ld %s", what, r.status, r.body);
        if (!strstr(allow, cases[i].allow))
            fail_msg("%s: Allow '%s' lacks %s", what, allow, cases[i].allow);
        expect_error(&r, 405, "method_not_allowed", what);
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
    assert_int_equal(th_req(&srv, "POST", "/api/v1/users", NULL, body, big, &r),
                     0);
    free(body);
    expect_error(&r, 413, "too_large", "65 KiB JSON with Content-Length");
    /* The refused sign-up stored nothing. */
    login_refused(&srv, email, PW, "invalid_credentials");

    /* A Content-Length over the limit is refused before any body byte. */
    fd = tu_connect(srv.port);
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
    assert_int_equal(th_req(&srv, "GET", "/healthz", NULL, "x", 1, &r), 0);
    expect_error(&r, 413, "too_large", "GET /healthz with a body");
    assert_true(tu_healthy(&srv));
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
    rc = th_req(&srv, "POST", "/api/v1/users", chunked, body, big, &r);
    free(body);
    assert_true(tu_healthy(&srv));
    if (rc < 0)
        fail_msg("chunked 65 KiB JSON: closed without an answer, want 413");
    expect_error(&r, 413, "too_large", "65 KiB JSON, chunked");
    login_refused(&srv, "chunked@example.com", PW, "invalid_credentials");
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
    new_session(&srv, "buyer", email, sizeof email, token, csrf);
    th_bearer(token, auth, sizeof auth);
    tu_email("staff", admin_email, sizeof admin_email);
    assert_int_equal(th_admin_add(&srv, admin_email, "admin", PW), 0);
    assert_int_equal(th_login(&srv, admin_email, PW, token, NULL), 201);
    th_bearer(token, admin_auth, sizeof admin_auth);
    tu_email("reviewer", rev_email, sizeof rev_email);
    assert_int_equal(th_admin_add(&srv, rev_email, "reviewer", PW), 0);
    assert_int_equal(th_login(&srv, rev_email, PW, token, NULL), 201);
    th_bearer(token, rev_auth, sizeof rev_auth);
    for (size_t i = 0; i < sizeof staff / sizeof staff[0]; i++) {
        snprintf(what, sizeof what, "%s %s", staff[i].method, staff[i].path);
        send_json(&srv, staff[i].method, staff[i].path, NULL, NULL, &r);
        expect_error(&r, 401, "unauthenticated", what);
        /* The role is checked before anything is looked up. */
        hdrs[0] = auth;
        send_json(&srv, staff[i].method, staff[i].path, hdrs, NULL, &r);
        expect_error(&r, 403, "forbidden", what);
        hdrs[0] = rev_auth;
        send_json(&srv, staff[i].method, staff[i].path, hdrs, NULL, &r);
        if (!staff[i].reviewer_ok)
            expect_error(&r, 403, "forbidden", what);
        else if (r.status != 200)
            fail_msg("%s as reviewer: %ld %s", what, r.status, r.body);
        else
            th_resp_free(&r);
        hdrs[0] = admin_auth;
        send_json(&srv, staff[i].method, staff[i].path, hdrs, NULL, &r);
        /* Let in: it may still find nothing to refund. */
        if (r.status == 401 || r.status == 403)
            fail_msg("%s as admin: %ld %s", what, r.status, r.body);
        th_resp_free(&r);
    }
    /* Whatever the routes, the roles behind them must be right. */
    hdrs[0] = admin_auth;
    send_json(&srv, "GET", "/api/v1/me", hdrs, NULL, &r);
    assert_true(has_role(r.json, "admin"));
    th_resp_free(&r);
    hdrs[0] = auth;
    send_json(&srv, "GET", "/api/v1/me", hdrs, NULL, &r);
    assert_false(has_role(r.json, "admin"));
    assert_false(has_role(r.json, "reviewer"));
    th_resp_free(&r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signup_returns_user),
        cmocka_unit_test(test_signup_duplicate_email),
        cmocka_unit_test(test_signup_cannot_choose_roles),
        cmocka_unit_test(test_signup_password_too_short),
        cmocka_unit_test(test_signup_invalid_email),
        cmocka_unit_test(test_signup_missing_and_wrong_fields),
        cmocka_unit_test(test_malformed_json),
        cmocka_unit_test(test_login_and_me),
        cmocka_unit_test(test_login_email_any_case),
        cmocka_unit_test(test_login_wrong_password),
        cmocka_unit_test(test_rate_limit_per_account),
        cmocka_unit_test(test_rate_limit_per_client),
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

    return cmocka_run_group_tests(tests, setup, teardown);
}
