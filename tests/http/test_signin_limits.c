/* Stockroom — the failed sign-in limiter as attackers meet it (issue 11,
 * items 1, 2 and 5): clients on several loopback addresses (127.0.0.2,
 * 127.0.0.3, …) try to evict a lock, to lock an owner out, and to lie
 * about their address; and the session cookie is Secure behind https. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "kit.h"
#include "util.h"

#define PW "correct horse battery"
#define WRONG "a wrong guess at it"

static struct th_server srv;

/* One sign-in from address from (NULL: the default) with extra headers;
 * fails the test unless it gets status with code. */
static void
signin(const char *from, const char *const *hdrs, const char *email,
       const char *pw, long status, const char *code, const char *what)
{
    char *body = tu_json("{s:s,s:s}", "email", email, "password", pw);
    struct th_resp r;

    kit_from(from);
    kit_call_h("POST", "/api/v1/sessions", NULL, hdrs, body, &r);
    kit_from(NULL);
    kit_expect(&r, status, code, what);
    th_resp_free(&r);
    free(body);
}

static void
start(const char *const *flags, char email[128])
{
    assert_int_equal(th_start(&srv, flags), 0);
    kit_use(&srv);
    tu_email("owner", email, 128);
    assert_int_equal(th_signup(&srv, email, PW, "Owner"), 201);
}

static void
stop(void)
{
    assert_int_equal(th_stop(&srv), 0);
    th_cleanup(&srv);
}

/* A sign-in for a fresh random email: the flood's request i. */
static void
random_signin(int i, char *buf, size_t len, void *arg)
{
    (void)arg;
    snprintf(buf, len,
             "{\"email\":\"flood-%d-%08x%08x@example.com\","
             "\"password\":\"" WRONG "\"}",
             i, (unsigned)random(), (unsigned)random());
}

/* Item 1: a locked account stays locked however many other keys pour in.
 * Refused requests are cheap (no Argon2) because the per-address limit
 * turns the flood away before any password is checked. */
static void
test_lock_survives_a_flood(void **state)
{
    static const char *const flags[] = {"--login-fail-client", "3", NULL};
    static const char *const from[] = {"127.0.0.3", "127.0.0.4", "127.0.0.5",
                                       "127.0.0.6"};
    char email[128], what[64];
    int counts[600];

    (void)state;
    start(flags, email);
    for (int i = 0; i < 3; i++)
        signin("127.0.0.2", NULL, email, WRONG, 401, "invalid_credentials",
               "guess");
    signin("127.0.0.2", NULL, email, WRONG, 429, "rate_limited", "locked");
    for (size_t a = 0; a < sizeof from / sizeof from[0]; a++) {
        memset(counts, 0, sizeof counts);
        assert_int_equal(th_burst(&srv, from[a], "POST", "/api/v1/sessions",
                                  6000, random_signin, NULL, counts),
                         0);
        snprintf(what, sizeof what, "flood from %s", from[a]);
        if (counts[401] != 3 || counts[429] != 6000 - 3)
            fail_msg("%s: %d answered 401 and %d 429", what, counts[401],
                     counts[429]);
    }
    signin("127.0.0.2", NULL, email, WRONG, 429, "rate_limited",
           "locked after 24,000 other sign-ins");
    signin("127.0.0.2", NULL, email, PW, 429, "rate_limited",
           "right password, still locked");
    stop();
}

/* Item 1, the bound: a table that is full refuses new keys (429) instead
 * of forgetting a count inside its window. */
static void
test_full_table_refuses_new_keys(void **state)
{
    static const char *const flags[] = {"--login-table", "64", NULL};
    char email[128], probe[128], from[32];
    int refused = 0;

    (void)state;
    start(flags, email);
    for (int i = 0; i < 5; i++)
        signin("127.0.0.2", NULL, email, WRONG, 401, "invalid_credentials",
               "guess");
    signin("127.0.0.2", NULL, email, WRONG, 429, "rate_limited", "locked");
    /* Each failure from a new address for a new email claims three
     * entries: 64 are gone after some twenty. */
    for (int i = 0; i < 40; i++) {
        char *body;
        struct th_resp r;

        snprintf(from, sizeof from, "127.0.1.%d", i + 1);
        tu_email("filler", probe, sizeof probe);
        body = tu_json("{s:s,s:s}", "email", probe, "password", WRONG);
        kit_from(from);
        kit_call("POST", "/api/v1/sessions", NULL, NULL, body, &r);
        kit_from(NULL);
        free(body);
        if (r.status == 429)
            kit_expect(&r, 429, "rate_limited", "full table");
        else
            kit_expect(&r, 401, "invalid_credentials", "filler");
        refused += r.status == 429;
        th_resp_free(&r);
    }
    if (refused < 10)
        fail_msg("only %d of 40 new keys refused by a 64-entry table", refused);
    signin("127.0.0.2", NULL, email, WRONG, 429, "rate_limited",
           "still locked with the table full");
    stop();
}

/* Item 2: five wrong passwords lock the account for that address only;
 * the owner elsewhere signs in; 50 from all addresses lock it for all. */
static void
test_lockout_is_per_address(void **state)
{
    char email[128], from[32];

    (void)state;
    start(NULL, email);
    for (int i = 0; i < 5; i++)
        signin("127.0.0.2", NULL, email, WRONG, 401, "invalid_credentials",
               "attacker's guess");
    signin("127.0.0.2", NULL, email, PW, 429, "rate_limited",
           "the attacker's address is locked");
    signin("127.0.0.3", NULL, email, PW, 201, NULL,
           "the owner from another address");
    /* 45 more from nine other addresses: 50 in the window. */
    for (int a = 0; a < 9; a++) {
        snprintf(from, sizeof from, "127.0.2.%d", a + 1);
        for (int i = 0; i < 5; i++)
            signin(from, NULL, email, WRONG, 401, "invalid_credentials",
                   "distributed guess");
    }
    signin("127.0.0.4", NULL, email, PW, 429, "rate_limited",
           "the account's ceiling of 50");
    stop();
}

/* Item 5: X-Forwarded-For names the client only when a trusted proxy
 * sends it. */
static void
test_forwarded_for_only_from_trusted_proxy(void **state)
{
    static const char *const flags[] = {"--trusted-proxy", "127.0.0.2,::1",
                                        NULL};
    static const char *const client_a[] = {"X-Forwarded-For: 10.9.8.7", NULL};
    static const char *const client_b[] = {"X-Forwarded-For: 10.9.8.6", NULL};
    static const char *const spoofed[] = {"X-Forwarded-For: 10.9.8.6, 10.9.8.7",
                                          NULL};
    char email[128], log[65536];

    (void)state;
    start(flags, email);
    for (int i = 0; i < 5; i++)
        signin("127.0.0.2", client_a, email, WRONG, 401, "invalid_credentials",
               "guess through the proxy");
    signin("127.0.0.2", client_a, email, PW, 429, "rate_limited",
           "the forwarded client is locked");
    signin("127.0.0.2", client_b, email, PW, 201, NULL,
           "another client behind the same proxy");
    /* The client may write what it likes left of the address the proxy
     * appended: the right-most hop counts. */
    signin("127.0.0.2", spoofed, email, PW, 429, "rate_limited",
           "a prepended address changes nothing");
    /* From an untrusted peer the header is ignored: that peer is itself
     * the client, and it is not locked. */
    signin("127.0.0.3", client_a, email, PW, 201, NULL,
           "an untrusted peer's header");
    assert_int_equal(th_stop(&srv), 0);
    tu_log_tail(srv.log, log, sizeof log);
    if (!strstr(log, " 10.9.8.7 POST /api/v1/sessions 429"))
        fail_msg("the access log does not name the forwarded client:\n%s", log);
    if (!strstr(log, " 127.0.0.3 POST /api/v1/sessions 201"))
        fail_msg("the access log does not name the untrusted peer:\n%s", log);
    th_cleanup(&srv);
}

/* Item 5: behind https the session cookie never travels in the clear. */
static void
test_cookie_secure_behind_https(void **state)
{
    static const char *const flags[] = {"--public-url", "https://shop.example",
                                        NULL};
    char email[128], token[128], cookie[512], auth[200];
    const char *hdrs[2] = {NULL, NULL};
    struct th_resp r;
    char *body;

    (void)state;
    start(flags, email);
    body = tu_json("{s:s,s:s}", "email", email, "password", PW);
    kit_call("POST", "/api/v1/sessions", NULL, NULL, body, &r);
    free(body);
    kit_expect(&r, 201, NULL, "sign-in");
    assert_non_null(th_header(&r, "Set-Cookie", cookie, sizeof cookie));
    assert_non_null(strstr(cookie, "; Secure"));
    snprintf(token, sizeof token, "%s", kit_jstr(r.json, "token"));
    th_resp_free(&r);
    hdrs[0] = th_bearer(token, auth, sizeof auth);
    kit_call_h("DELETE", "/api/v1/sessions/current", NULL, hdrs, NULL, &r);
    kit_expect(&r, 204, NULL, "sign-out");
    assert_non_null(th_header(&r, "Set-Cookie", cookie, sizeof cookie));
    if (!strstr(cookie, "; Secure"))
        fail_msg("the sign-out cookie is not Secure: %s", cookie);
    th_resp_free(&r);
    stop();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lock_survives_a_flood),
        cmocka_unit_test(test_full_table_refuses_new_keys),
        cmocka_unit_test(test_lockout_is_per_address),
        cmocka_unit_test(test_forwarded_for_only_from_trusted_proxy),
        cmocka_unit_test(test_cookie_secure_behind_https),
    };

    srandom((unsigned)getpid());
    return cmocka_run_group_tests(tests, NULL, NULL);
}
