/* Stockroom — mail delivery against a real SMTP server (smtp-server from
 * npm, STARTTLS and AUTH on): the message as a mail client parses it,
 * --smtp-require-tls, a refused password, a server that is down and comes
 * back, a crash with mail queued, and header injection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "harness.h"
#include "imgutil.h"
#include "smtpstand.h"
#include "util.h"

#define PW "correct horse battery"

/* What a test started: its teardown ends it even when the test failed
 * halfway. */
static struct ts_smtp smtp;
static struct th_server srv, plain;

static int
cleanup(void **state)
{
    (void)state;
    th_cleanup(&srv);
    th_cleanup(&plain);
    ts_smtp_cleanup(&smtp);
    memset(&srv, 0, sizeof srv);
    memset(&plain, 0, sizeof plain);
    memset(&smtp, 0, sizeof smtp);
    return 0;
}

/* Start a server sending to smtp (its url, trusting its certificate) with
 * the stand's password, or another one; more flags may follow. */
static void
start_server(struct th_server *to, const char *url, const char *ca,
             const char *password, const char *extra)
{
    const char *flags[12];
    int n = 0;

    setenv("STOCKROOM_SMTP_USER", TS_SMTP_USER, 1);
    setenv("STOCKROOM_SMTP_PASSWORD", password, 1);
    flags[n++] = "--smtp-url";
    flags[n++] = url;
    if (ca) {
        flags[n++] = "--smtp-ca-file";
        flags[n++] = ca;
    }
    if (extra)
        flags[n++] = extra;
    flags[n] = NULL;
    assert_int_equal(th_start(to, flags), 0);
}

static void
signup(struct th_server *s, const char *email, const char *name)
{
    char *body =
        tu_json("{s:s,s:s,s:s}", "email", email, "password", PW, "name", name);
    struct th_resp r;

    assert_int_equal(
        th_req(s, "POST", "/api/v1/users", NULL, body, strlen(body), &r), 0);
    if (r.status != 201)
        fail_msg("sign-up %s: %ld %s", email, r.status, r.body);
    th_resp_free(&r);
    free(body);
}

static const char *
hdr(json_t *mail, const char *name)
{
    const char *v = json_string_value(
        json_object_get(json_object_get(mail, "headers"), name));
    return v ? v : "";
}

/* The database of a server, for what only the operator sees. */
static long long
outbox_int(struct th_server *s, const char *sql)
{
    char db[400];

    snprintf(db, sizeof db, "%s/stockroom.db", s->dir);
    return tu_sql_int(db, sql);
}

struct outbox_wait {
    struct th_server *s;
    const char *sql;
    long long min;
};

static int
outbox_reaches(void *arg)
{
    struct outbox_wait *w = arg;

    return outbox_int(w->s, w->sql) >= w->min;
}

static void
wait_outbox(struct th_server *s, const char *sql, long long min)
{
    struct outbox_wait w = {s, sql, min};

    if (!th_poll(outbox_reaches, &w, 20000))
        fail_msg("outbox never reached %lld for: %s", min, sql);
}

/* The sign-up mail, over STARTTLS after AUTH, parsed by mailparser: both
 * parts, UTF-8 headers decoded, Date and Message-ID, the link works. */
static void
test_signup_mail_over_starttls(void **state)
{
    char email[128], token[128], path[256];
    json_t *m;
    struct th_resp r;

    (void)state;
    assert_int_equal(ts_smtp_start(&smtp, 1, 0), 0);
    start_server(&srv, smtp.url, smtp.ca, TS_SMTP_PASSWORD, NULL);
    tu_email("tls", email, sizeof email);
    signup(&srv, email, "Zoë Ünïcode");
    m = ts_smtp_wait(&smtp, email, 1, 20000);
    if (!m)
        fail_msg("no mail arrived; see %s", srv.log);
    assert_true(json_is_true(json_object_get(m, "tls")));
    assert_string_equal(json_string_value(json_object_get(m, "user")),
                        TS_SMTP_USER);
    assert_string_equal(json_string_value(json_object_get(m, "subject")),
                        "Confirm your email address");
    assert_non_null(strstr(hdr(m, "content-type"), "multipart/alternative"));
    assert_non_null(strstr(hdr(m, "to"), "Zoë Ünïcode"));
    assert_true(strlen(json_string_value(json_object_get(m, "messageId"))) >
                10);
    assert_true(json_is_string(json_object_get(m, "date")));
    assert_non_null(
        strstr(json_string_value(json_object_get(m, "html")), "<a href="));
    assert_int_equal(ts_link_token(m, "verify.html", token, sizeof token), 0);
    snprintf(path, sizeof path, "/api/v1/email-verifications/%s", token);
    assert_int_equal(th_req(&srv, "POST", path, NULL, NULL, 0, &r), 0);
    assert_int_equal(r.status, 204);
    th_resp_free(&r);
    json_decref(m);
    assert_int_equal(th_stop(&srv), 0);
    th_cleanup(&srv);
    ts_smtp_cleanup(&smtp);
}

/* A wrong SMTP password is refused by the server, and the mail waits in
 * the outbox with the reason instead of being lost or sent. */
static void
test_wrong_smtp_password(void **state)
{
    char email[128];
    json_t *all;

    (void)state;
    assert_int_equal(ts_smtp_start(&smtp, 1, 0), 0);
    start_server(&srv, smtp.url, smtp.ca, "not-the-password", NULL);
    tu_email("badpw", email, sizeof email);
    signup(&srv, email, "Bad Password");
    wait_outbox(&srv, "SELECT attempts FROM outbox WHERE kind = 'verify'", 1);
    assert_true(ts_smtp_refused(&smtp) >= 1);
    all = ts_smtp_mails(&smtp, NULL);
    assert_int_equal(json_array_size(all), 0);
    json_decref(all);
    assert_int_equal(outbox_int(&srv, "SELECT count(*) FROM outbox WHERE "
                                      "status = 'queued' AND last_error LIKE "
                                      "'%Login denied%'"),
                     1);
    assert_int_equal(th_stop(&srv), 0);
    th_cleanup(&srv);
    ts_smtp_cleanup(&smtp);
}

/* --smtp-require-tls against a server without STARTTLS: nothing is sent,
 * and after --mail-give-up the message is failed, visible to admins. The
 * same server without the flag gets the mail in the clear. */
static void
test_require_tls(void **state)
{
    char email[128], admin[128], tok[128], csrf[64];
    json_t *all, *m;
    struct th_resp r;

    (void)state;
    assert_int_equal(ts_smtp_start(&smtp, 0, 0), 0);
    {
        const char *flags[] = {"--smtp-url",     smtp.url, "--smtp-require-tls",
                               "--mail-give-up", "1",      NULL};

        setenv("STOCKROOM_SMTP_USER", TS_SMTP_USER, 1);
        setenv("STOCKROOM_SMTP_PASSWORD", TS_SMTP_PASSWORD, 1);
        assert_int_equal(th_start(&srv, flags), 0);
    }
    tu_email("notls", email, sizeof email);
    signup(&srv, email, "No TLS");
    wait_outbox(&srv,
                "SELECT count(*) FROM outbox WHERE kind = 'verify' AND "
                "status = 'failed'",
                1);
    all = ts_smtp_mails(&smtp, NULL);
    assert_int_equal(json_array_size(all), 0);
    json_decref(all);
    tu_email("mailadmin", admin, sizeof admin);
    assert_int_equal(th_admin_add(&srv, admin, "admin", PW), 0);
    assert_int_equal(th_login(&srv, admin, PW, tok, csrf), 201);
    assert_int_equal(iu_req(&srv, "GET", "/api/v1/admin/outbox?status=failed",
                            tok, NULL, NULL, &r),
                     0);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
    th_resp_free(&r);
    assert_int_equal(th_stop(&srv), 0);
    th_cleanup(&srv);

    start_server(&plain, smtp.url, NULL, TS_SMTP_PASSWORD, NULL);
    tu_email("plain", email, sizeof email);
    signup(&plain, email, "Plain");
    m = ts_smtp_wait(&smtp, email, 1, 20000);
    assert_non_null(m);
    assert_true(json_is_false(json_object_get(m, "tls")));
    json_decref(m);
    assert_int_equal(th_stop(&plain), 0);
    th_cleanup(&plain);
    ts_smtp_cleanup(&smtp);
}

/* The SMTP server is down when the mail is queued and comes back: the
 * mail arrives, once. */
static void
test_smtp_down_then_back(void **state)
{
    char email[128], url[64];
    int port = ts_free_port();
    json_t *all;

    (void)state;
    snprintf(url, sizeof url, "smtp://127.0.0.1:%d", port);
    /* No CA file yet: the stand makes its certificate when it starts, so
     * this server sends in the clear when offered nothing better. */
    start_server(&srv, url, NULL, TS_SMTP_PASSWORD, NULL);
    tu_email("down", email, sizeof email);
    signup(&srv, email, "Down Then Back");
    wait_outbox(&srv, "SELECT attempts FROM outbox WHERE kind = 'verify'", 1);
    assert_int_equal(ts_smtp_start(&smtp, 0, port), 0);
    wait_outbox(&srv, "SELECT count(*) FROM outbox WHERE status = 'sent'", 1);
    all = ts_smtp_mails(&smtp, email);
    assert_int_equal(json_array_size(all), 1);
    json_decref(all);
    assert_int_equal(th_stop(&srv), 0);
    th_cleanup(&srv);
    ts_smtp_cleanup(&smtp);
}

/* kill -9 with a message queued: after the restart it is sent, once. */
static void
test_crash_with_mail_queued(void **state)
{
    char email[128], url[64];
    int port = ts_free_port();
    json_t *all;

    (void)state;
    snprintf(url, sizeof url, "smtp://127.0.0.1:%d", port);
    start_server(&srv, url, NULL, TS_SMTP_PASSWORD, NULL);
    tu_email("crash", email, sizeof email);
    signup(&srv, email, "Crash");
    wait_outbox(&srv, "SELECT attempts FROM outbox WHERE kind = 'verify'", 1);
    th_crash(&srv);
    assert_int_equal(ts_smtp_start(&smtp, 0, port), 0);
    start_server(&srv, url, NULL, TS_SMTP_PASSWORD, NULL);
    wait_outbox(&srv, "SELECT count(*) FROM outbox WHERE status = 'sent'", 1);
    all = ts_smtp_mails(&smtp, email);
    assert_int_equal(json_array_size(all), 1);
    json_decref(all);
    assert_int_equal(th_stop(&srv), 0);
    th_cleanup(&srv);
    ts_smtp_cleanup(&smtp);
}

/* A name with CR LF is refused at sign-up; one that got into the database
 * anyway still cannot add a header or a recipient. */
static void
test_header_injection(void **state)
{
    char email[128], db[400], sql[600], err[256];
    char *body;
    json_t *m;
    struct th_resp r;

    (void)state;
    assert_int_equal(ts_smtp_start(&smtp, 1, 0), 0);
    start_server(&srv, smtp.url, smtp.ca, TS_SMTP_PASSWORD, NULL);
    tu_email("inject", email, sizeof email);
    body = tu_json("{s:s,s:s,s:s}", "email", email, "password", PW, "name",
                   "Eve\r\nBcc: victim@example.com");
    assert_int_equal(
        th_req(&srv, "POST", "/api/v1/users", NULL, body, strlen(body), &r), 0);
    assert_int_equal(r.status, 422);
    assert_string_equal(th_error_code(&r), "invalid_name");
    th_resp_free(&r);
    free(body);
    body = tu_json("{s:s,s:s,s:s}", "email",
                   "eve@example.com\r\nBcc: victim@example.com", "password", PW,
                   "name", "Eve");
    assert_int_equal(
        th_req(&srv, "POST", "/api/v1/users", NULL, body, strlen(body), &r), 0);
    assert_int_equal(r.status, 422);
    assert_string_equal(th_error_code(&r), "invalid_email");
    th_resp_free(&r);
    free(body);

    signup(&srv, email, "Eve");
    m = ts_smtp_wait(&smtp, email, 1, 20000);
    assert_non_null(m);
    json_decref(m);
    snprintf(db, sizeof db, "%s/stockroom.db", srv.dir);
    snprintf(sql, sizeof sql,
             "UPDATE users SET name = 'Eve' || char(13, 10) || 'Bcc: "
             "victim@example.com' || char(13, 10) || 'Subject: pwned' "
             "WHERE email = '%s'",
             email);
    if (tu_sql_exec(db, sql, err, sizeof err) != 0)
        fail_msg("%s", err);
    body = tu_json("{s:s}", "email", email);
    assert_int_equal(th_req(&srv, "POST", "/api/v1/password-resets", NULL, body,
                            strlen(body), &r),
                     0);
    assert_int_equal(r.status, 202);
    th_resp_free(&r);
    free(body);
    m = ts_smtp_wait(&smtp, email, 2, 20000);
    assert_non_null(m);
    assert_int_equal(
        json_array_size(json_object_get(json_object_get(m, "envelope"), "to")),
        1);
    assert_string_equal(hdr(m, "bcc"), "");
    assert_string_equal(json_string_value(json_object_get(m, "subject")),
                        "Reset your Stockroom password");
    assert_null(
        strstr(json_string_value(json_object_get(m, "raw")), "\r\nBcc:"));
    json_decref(m);
    m = ts_smtp_mails(&smtp, "victim@example.com");
    assert_int_equal(json_array_size(m), 0);
    json_decref(m);
    assert_int_equal(th_stop(&srv), 0);
    th_cleanup(&srv);
    ts_smtp_cleanup(&smtp);
}

/* Reset requests from one client address are limited, whatever address
 * they name; the limit answers 429, never something that tells accounts
 * apart. */
static void
test_reset_client_limit(void **state)
{
    struct th_resp r;
    char body[128];
    int i;

    (void)state;
    assert_int_equal(th_start(&srv, NULL), 0);
    for (i = 0; i < 10; i++) {
        snprintf(body, sizeof body, "{\"email\":\"who%d@example.com\"}", i);
        assert_int_equal(th_req(&srv, "POST", "/api/v1/password-resets", NULL,
                                body, strlen(body), &r),
                         0);
        assert_int_equal(r.status, 202);
        th_resp_free(&r);
    }
    assert_int_equal(th_req(&srv, "POST", "/api/v1/password-resets", NULL, body,
                            strlen(body), &r),
                     0);
    assert_int_equal(r.status, 429);
    assert_string_equal(th_error_code(&r), "rate_limited");
    th_resp_free(&r);
    assert_int_equal(th_stop(&srv), 0);
    th_cleanup(&srv);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_signup_mail_over_starttls, cleanup),
        cmocka_unit_test_teardown(test_wrong_smtp_password, cleanup),
        cmocka_unit_test_teardown(test_require_tls, cleanup),
        cmocka_unit_test_teardown(test_smtp_down_then_back, cleanup),
        cmocka_unit_test_teardown(test_crash_with_mail_queued, cleanup),
        cmocka_unit_test_teardown(test_header_injection, cleanup),
        cmocka_unit_test_teardown(test_reset_client_limit, cleanup),
    };

    curl_global_init(CURL_GLOBAL_ALL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
