/* Stockroom — accounts over HTTP: sign-up, sign-in and the log-in
 * limiter. Sessions, CSRF, roles and the error paths of the account
 * routes are in test_sessions.c. */
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
    assert_int_equal(af_signup(&af_srv, mixed, PW, "Ada Lovelace", &r), 201);
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
    assert_true(kit_has_role(r.json, "buyer"));
    assert_true(kit_has_role(r.json, "contributor"));
    assert_false(kit_has_role(r.json, "reviewer"));
    assert_false(kit_has_role(r.json, "admin"));
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
    assert_int_equal(af_signup(&af_srv, email, PW, "First", NULL), 201);
    assert_int_equal(af_signup(&af_srv, email, PW, "Second", &r), 409);
    af_expect_error(&r, 409, "email_taken", "same email");
    /* Emails are one address whatever their case. */
    for (size_t i = 0; i < sizeof upper && email[i]; i++)
        upper[i] = (char)(email[i] >= 'a' && email[i] <= 'z' ? email[i] - 32
                                                             : email[i]);
    upper[strlen(email)] = '\0';
    assert_int_equal(af_signup(&af_srv, upper, PW, "Third", &r), 409);
    af_expect_error(&r, 409, "email_taken", "same email, other case");
    /* The first account still signs in with its own password. */
    assert_int_equal(af_login(&af_srv, email, PW, NULL), 201);
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
    af_send_json(&af_srv, "POST", "/api/v1/users", NULL, body, &r);
    free(body);
    assert_int_equal(r.status, 201);
    assert_false(kit_has_role(r.json, "admin"));
    assert_false(kit_has_role(r.json, "reviewer"));
    th_resp_free(&r);
    assert_int_equal(th_login(&af_srv, email, PW, token, NULL), 201);
    hdrs[0] = th_bearer(token, auth, sizeof auth);
    af_send_json(&af_srv, "GET", "/api/v1/me", hdrs, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_false(kit_has_role(r.json, "admin"));
    assert_false(kit_has_role(r.json, "reviewer"));
    th_resp_free(&r);
}

static void
test_signup_password_too_short(void **state)
{
    char email[128];
    struct th_resp r;

    (void)state;
    tu_email("short", email, sizeof email);
    assert_int_equal(af_signup(&af_srv, email, "123456789", "Short", &r), 422);
    af_expect_error(&r, 422, "weak_password", "9-character password");
    assert_int_equal(af_signup(&af_srv, email, "", "Short", &r), 422);
    af_expect_error(&r, 422, "weak_password", "empty password");
    /* Nothing was stored by the refusals: ten characters is enough. */
    assert_int_equal(af_signup(&af_srv, email, "1234567890", "Short", NULL),
                     201);
    assert_int_equal(af_login(&af_srv, email, "1234567890", NULL), 201);
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
        assert_int_equal(af_signup(&af_srv, bad[i], PW, "Bad", &r), 422);
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
        af_send_json(&af_srv, "POST", "/api/v1/users", NULL, cases[i].body, &r);
        af_expect_error(&r, 422, cases[i].code, cases[i].body);
    }
    /* A NUL inside a string would cut it short in C: refused whole. */
    af_send_json(&af_srv, "POST", "/api/v1/users", NULL,
                 "{\"email\":\"nul@example.com\",\"password\":\"" PW "\","
                 "\"name\":\"a\\u0000b\"}",
                 &r);
    af_expect_error(&r, 400, "malformed_json", "a NUL in the name");
    /* Control characters in a name are refused, not stored. */
    af_send_json(&af_srv, "POST", "/api/v1/users", NULL,
                 "{\"email\":\"ctl@example.com\",\"password\":\"" PW "\","
                 "\"name\":\"a\\u001bb\"}",
                 &r);
    af_expect_error(&r, 422, "invalid_name", "a control character in the name");
    /* The sign-in route checks its fields the same way. */
    af_send_json(&af_srv, "POST", "/api/v1/sessions", NULL,
                 "{\"email\":\"m@example.com\"}", &r);
    af_expect_error(&r, 422, "missing_field", "sign-in without password");
    af_send_json(&af_srv, "POST", "/api/v1/sessions", NULL,
                 "{\"email\":true,\"password\":\"" PW "\"}", &r);
    af_expect_error(&r, 422, "invalid_field", "sign-in with email true");
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
        af_send_json(&af_srv, "POST", "/api/v1/users", NULL, bodies[i], &r);
        af_expect_error(&r, 400, "malformed_json", bodies[i]);
        af_send_json(&af_srv, "POST", "/api/v1/sessions", NULL, bodies[i], &r);
        af_expect_error(&r, 400, "malformed_json", bodies[i]);
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
    assert_int_equal(af_signup(&af_srv, email, PW, "Grace Hopper", &r), 201);
    snprintf(id, sizeof id, "%s",
             json_string_value(json_object_get(r.json, "id")));
    th_resp_free(&r);
    assert_int_equal(af_login(&af_srv, email, PW, &r), 201);
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
    af_send_json(&af_srv, "GET", "/api/v1/me", hdrs, NULL, &r);
    assert_int_equal(r.status, 200);
    tu_assert_security_headers(&r, "/me");
    assert_string_equal(json_string_value(json_object_get(r.json, "id")), id);
    assert_string_equal(json_string_value(json_object_get(r.json, "email")),
                        email);
    assert_string_equal(json_string_value(json_object_get(r.json, "name")),
                        "Grace Hopper");
    assert_true(json_is_array(json_object_get(r.json, "roles")));
    assert_true(kit_has_role(r.json, "buyer"));
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
    af_new_session(&af_srv, "case", email, sizeof email, token, csrf);
    for (char *c = email; *c; c++)
        *c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
    assert_int_equal(af_login(&af_srv, email, PW, NULL), 201);
}

static void
test_login_wrong_password(void **state)
{
    char email[128], token[128], csrf[64], msg[512];
    struct th_resp r;

    (void)state;
    af_new_session(&af_srv, "wrongpw", email, sizeof email, token, csrf);
    assert_int_equal(af_login(&af_srv, email, "not the password", &r), 401);
    snprintf(msg, sizeof msg, "%s", r.body);
    assert_null(th_header(&r, "Set-Cookie", token, sizeof token));
    af_expect_error(&r, 401, "invalid_credentials", "wrong password");
    /* An unknown email gets the very same answer: no account discovery. */
    assert_int_equal(af_login(&af_srv, "nobody-here@example.com", PW, &r), 401);
    assert_string_equal(r.body, msg);
    af_expect_error(&r, 401, "invalid_credentials", "unknown email");
    /* The password is compared whole, not by a prefix. */
    af_login_refused(&af_srv, email, PW "x", "invalid_credentials");
    af_login_refused(&af_srv, email, "correct horse batter",
                     "invalid_credentials");
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
    struct th_server *s = &af_extra[0];
    char email[128], other[128], upper[128];
    struct th_resp r;

    (void)state;
    assert_int_equal(th_start(s, flags), 0);
    tu_email("limited", email, sizeof email);
    tu_email("bystander", other, sizeof other);
    assert_int_equal(af_signup(s, email, PW, "Limited", NULL), 201);
    assert_int_equal(af_signup(s, other, PW, "Bystander", NULL), 201);
    af_login_refused(s, email, "guess number one", "invalid_credentials");
    af_login_refused(s, email, "guess number two", "invalid_credentials");
    /* Now even the right password waits: the limiter cannot be used to
     * test guesses. */
    af_login(s, email, PW, &r);
    assert_rate_limited(&r, "right password after 2 failures");
    af_login(s, email, "guess number three", &r);
    assert_rate_limited(&r, "third guess");
    /* The account is one whatever the case of its address. */
    snprintf(upper, sizeof upper, "%s", email);
    upper[0] = (char)(upper[0] - 32);
    af_login(s, upper, PW, &r);
    assert_rate_limited(&r, "same account, other case");
    /* Another account from the same address is not locked out. */
    assert_int_equal(af_login(s, other, PW, NULL), 201);
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
    struct th_server *s = &af_extra[1];
    char email[128], probe[128];
    struct th_resp r;

    (void)state;
    assert_int_equal(th_start(s, flags), 0);
    tu_email("victim", email, sizeof email);
    assert_int_equal(af_signup(s, email, PW, "Victim", NULL), 201);
    /* Three failures on three different accounts: each account is under
     * its own limit, the address is not. */
    for (int i = 0; i < 3; i++) {
        tu_email("spray", probe, sizeof probe);
        af_login_refused(s, probe, "password spraying", "invalid_credentials");
    }
    tu_email("spray", probe, sizeof probe);
    af_login(s, probe, "password spraying", &r);
    assert_rate_limited(&r, "fourth account from one address");
    af_login(s, email, PW, &r);
    assert_rate_limited(&r, "real account from a limited address");
    assert_int_equal(th_stop(s), 0);
    th_cleanup(s);
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
    };

    return cmocka_run_group_tests(tests, af_setup, af_teardown);
}
