/* Stockroom — the account tests' fixture: a server with default flags,
 * room for dedicated servers with odd flags, and the sign-up, sign-in and
 * session helpers the account tests share. */
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
#include "acctfix.h"
#include "kit.h"
#include "util.h"

struct th_server af_srv;
struct th_server af_extra[3];

int
af_setup(void **state)
{
    (void)state;
    return th_start(&af_srv, NULL);
}

int
af_teardown(void **state)
{
    int rc = th_stop(&af_srv);

    (void)state;
    th_cleanup(&af_srv);
    /* A dedicated server left running means its test failed half-way. */
    for (size_t i = 0; i < sizeof af_extra / sizeof af_extra[0]; i++)
        th_cleanup(&af_extra[i]);
    return rc;
}

/* One request with a JSON text body (may be NULL); fails the test when no
 * answer comes at all. */
void
af_send_json(struct th_server *s, const char *method, const char *path,
             const char *const *hdrs, const char *body, struct th_resp *r)
{
    assert_int_equal(
        th_req(s, method, path, hdrs, body, body ? strlen(body) : 0, r), 0);
}

/* Assert status and error code, then free. */
void
af_expect_error(struct th_resp *r, long status, const char *code,
                const char *what)
{
    if (r->status != status || strcmp(th_error_code(r), code) != 0)
        fail_msg("%s: want %ld %s, got %ld: %s", what, status, code, r->status,
                 r->body);
    tu_assert_security_headers(r, what);
    th_resp_free(r);
}

long
af_signup(struct th_server *s, const char *email, const char *pw,
          const char *name, struct th_resp *out)
{
    char *body =
        tu_json("{s:s,s:s,s:s}", "email", email, "password", pw, "name", name);
    struct th_resp r;
    long status;

    af_send_json(s, "POST", "/api/v1/users", NULL, body, &r);
    free(body);
    status = r.status;
    if (out)
        *out = r;
    else
        th_resp_free(&r);
    return status;
}

long
af_login(struct th_server *s, const char *email, const char *pw,
         struct th_resp *out)
{
    char *body = tu_json("{s:s,s:s}", "email", email, "password", pw);
    struct th_resp r;
    long status;

    af_send_json(s, "POST", "/api/v1/sessions", NULL, body, &r);
    free(body);
    status = r.status;
    if (out)
        *out = r;
    else
        th_resp_free(&r);
    return status;
}

/* GET /api/v1/me with one header (may be NULL); returns the status. */
long
af_me_status(struct th_server *s, const char *hdr)
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
void
af_login_refused(struct th_server *s, const char *email, const char *pw,
                 const char *code)
{
    struct th_resp r;

    af_login(s, email, pw, &r);
    kit_expect(&r, 401, code, "a refused sign-in");
    th_resp_free(&r);
}

/* GET /api/v1/me with one header (may be NULL) must be refused with 401
 * and code. */
void
af_me_refused(struct th_server *s, const char *hdr, const char *code)
{
    const char *hdrs[2] = {hdr, NULL};
    struct th_resp r;

    kit_try_on(s, "GET", "/api/v1/me", NULL, hdr ? hdrs : NULL, NULL, NULL, &r);
    kit_expect(&r, 401, code, "GET /api/v1/me");
    th_resp_free(&r);
}

/* A new account, signed in: its email into email, token and csrf. */
void
af_new_session(struct th_server *s, const char *prefix, char *email,
               size_t email_len, char token[128], char csrf[64])
{
    tu_email(prefix, email, email_len);
    assert_int_equal(th_signup(s, email, PW, prefix), 201);
    assert_int_equal(th_login(s, email, PW, token, csrf), 201);
}
