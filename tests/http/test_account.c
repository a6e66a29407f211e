/* Stockroom — the account flows that go through mail, against a real SMTP
 * server: each test reads the link out of the parsed message and follows
 * it, as a person would. Verification, reset, password and address
 * change, sessions, export, notices with unsubscribe, and closing an
 * account whose licences must stay downloadable. */
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
#include "kit.h"
#include "smtpstand.h"
#include "util.h"

#define PW "correct horse battery"
#define PW2 "a new and longer password"
#define IMAGE "real/17-plasma-BytheWater-2560x1600.jpg"

static struct ts_smtp smtp;
static struct th_server srv;
static char admin_tok[128];

/* One request; the caller frees r. want 0: any status. */
static void
call(const char *method, const char *path, const char *token,
     const char *header, const char *json, long want, const char *code,
     struct th_resp *r)
{
    if (iu_req(&srv, method, path, token, header, json, r) < 0)
        fail_msg("%s %s: no answer", method, path);
    if (want && r->status != want)
        fail_msg("%s %s: %ld, wanted %ld: %s", method, path, r->status, want,
                 r->body);
    if (code && strcmp(th_error_code(r), code) != 0)
        fail_msg("%s %s: code '%s', wanted %s", method, path, th_error_code(r),
                 code);
}

static void
call_free(const char *method, const char *path, const char *token,
          const char *header, const char *json, long want, const char *code)
{
    struct th_resp r;

    call(method, path, token, header, json, want, code, &r);
    th_resp_free(&r);
}

/* The newest of at least n messages to email; fails without one. */
static json_t *
mail_to(const char *email, int n)
{
    json_t *m = ts_smtp_wait(&smtp, email, n, 20000);

    if (!m)
        fail_msg("message %d to %s never came; see %s", n, email, srv.log);
    return m;
}

static void
follow(json_t *mail, const char *page, const char *api, const char *json,
       long want, const char *code)
{
    char token[128], path[256];

    if (ts_link_token(mail, page, token, sizeof token) < 0)
        fail_msg("no %s link in: %s", page,
                 json_string_value(json_object_get(mail, "text")));
    snprintf(path, sizeof path, "%s/%s", api, token);
    call_free("POST", path, NULL, NULL, json, want, code);
}

/* Sign up over HTTP and verify through the mail; signs in into token. */
static void
member(const char *prefix, char email[128], char token[128])
{
    char *body;
    json_t *m;

    tu_email(prefix, email, 128);
    body = tu_json("{s:s,s:s,s:s}", "email", email, "password", PW, "name",
                   prefix);
    call_free("POST", "/api/v1/users", NULL, NULL, body, 201, NULL);
    free(body);
    m = mail_to(email, 1);
    follow(m, "verify.html", "/api/v1/email-verifications", NULL, 204, NULL);
    json_decref(m);
    assert_int_equal(th_login(&srv, email, PW, token, NULL), 201);
}

static int
me_status(const char *token)
{
    struct th_resp r;
    int st;

    call("GET", "/api/v1/me", token, NULL, NULL, 0, NULL, &r);
    st = (int)r.status;
    th_resp_free(&r);
    return st;
}

static int
me_flag(const char *token, const char *key)
{
    struct th_resp r;
    int v;

    call("GET", "/api/v1/me", token, NULL, NULL, 200, NULL, &r);
    v = json_is_true(json_object_get(r.json, key));
    th_resp_free(&r);
    return v;
}

static void
test_verify_address(void **state)
{
    char email[128], token[128], *body;
    json_t *m;
    struct th_resp r;

    (void)state;
    tu_email("verify", email, sizeof email);
    body = tu_json("{s:s,s:s,s:s}", "email", email, "password", PW, "name",
                   "Vera");
    call_free("POST", "/api/v1/users", NULL, NULL, body, 201, NULL);
    free(body);
    assert_int_equal(th_login(&srv, email, PW, token, NULL), 201);
    assert_false(me_flag(token, "email_verified"));
    {
        char path[512];

        assert_int_equal(iu_upload(&srv, token,
                                   th_corpus(IMAGE, path, sizeof path), "t", 0,
                                   &r),
                         0);
        assert_int_equal(r.status, 403);
        assert_string_equal(th_error_code(&r), "email_unverified");
        th_resp_free(&r);
    }
    call_free("POST", "/api/v1/payouts", token, NULL, "{\"amount_cents\":2500}",
              403, "email_unverified");
    /* Buying needs no verified address; a receipt comes, and a notice
     * when the unused pack is refunded. */
    call("POST", "/api/v1/credits/purchases", token,
         "Idempotency-Key: verify-buy-1", "{\"pack\":\"10\"}", 201, NULL, &r);
    {
        char path[128];

        snprintf(path, sizeof path, "/api/v1/credits/purchases/%s/refund",
                 kit_jstr_or(r.json, "purchase_id"));
        th_resp_free(&r);
        m = mail_to(email, 2);
        assert_string_equal(json_string_value(json_object_get(m, "subject")),
                            "Your receipt: 10 credits");
        json_decref(m);
        call_free("POST", path, token, NULL, NULL, 200, NULL);
        m = mail_to(email, 3);
        assert_string_equal(json_string_value(json_object_get(m, "subject")),
                            "Refunded: 10 credits");
        json_decref(m);
    }

    {
        /* The first message is the sign-up's link. */
        json_t *all = ts_smtp_mails(&smtp, email);

        m = json_incref(json_array_get(all, 0));
        json_decref(all);
    }
    follow(m, "verify.html", "/api/v1/email-verifications", NULL, 204, NULL);
    assert_true(me_flag(token, "email_verified"));
    follow(m, "verify.html", "/api/v1/email-verifications", NULL, 410,
           "token_gone");
    json_decref(m);
    call_free("POST", "/api/v1/email-verifications/AAAAnotAtoken", NULL, NULL,
              NULL, 404, "unknown_token");
    call_free("POST", "/api/v1/email-verifications/bad.token", NULL, NULL, NULL,
              404, "unknown_token");
    call_free("POST", "/api/v1/me/email-verifications", token, NULL, NULL, 409,
              "already_verified");
}

static void
test_resend_is_rate_limited(void **state)
{
    char email[128], token[128], *body;
    json_t *m;
    int i;

    (void)state;
    tu_email("resend", email, sizeof email);
    body = tu_json("{s:s,s:s,s:s}", "email", email, "password", PW, "name",
                   "Resend");
    call_free("POST", "/api/v1/users", NULL, NULL, body, 201, NULL);
    free(body);
    assert_int_equal(th_login(&srv, email, PW, token, NULL), 201);
    for (i = 0; i < 4; i++)
        call_free("POST", "/api/v1/me/email-verifications", token, NULL, NULL,
                  202, NULL);
    call_free("POST", "/api/v1/me/email-verifications", token, NULL, NULL, 429,
              "rate_limited");
    /* The newest link works. */
    m = mail_to(email, 5);
    follow(m, "verify.html", "/api/v1/email-verifications", NULL, 204, NULL);
    json_decref(m);
}

static void
test_reset_password(void **state)
{
    char email[128], t1[128], t2[128], t3[128], *body;
    struct th_resp known, unknown;
    json_t *m;

    (void)state;
    member("reset", email, t1);
    assert_int_equal(th_login(&srv, email, PW, t2, NULL), 201);
    body = tu_json("{s:s}", "email", email);
    call("POST", "/api/v1/password-resets", NULL, NULL, body, 202, NULL,
         &known);
    free(body);
    call("POST", "/api/v1/password-resets", NULL, NULL,
         "{\"email\":\"nobody-here@example.com\"}", 202, NULL, &unknown);
    assert_string_equal(known.body, unknown.body);
    th_resp_free(&known);
    th_resp_free(&unknown);

    m = mail_to(email, 2);
    assert_string_equal(json_string_value(json_object_get(m, "subject")),
                        "Reset your Stockroom password");
    follow(m, "reset.html", "/api/v1/password-resets",
           "{\"password\":\"short\"}", 422, "weak_password");
    body = tu_json("{s:s}", "password", PW2);
    follow(m, "reset.html", "/api/v1/password-resets", body, 204, NULL);
    assert_int_equal(me_status(t1), 401);
    assert_int_equal(me_status(t2), 401);
    assert_int_equal(th_login(&srv, email, PW, t3, NULL), 401);
    assert_int_equal(th_login(&srv, email, PW2, t3, NULL), 201);
    follow(m, "reset.html", "/api/v1/password-resets", body, 410, "token_gone");
    free(body);
    json_decref(m);
    m = mail_to(email, 3);
    assert_string_equal(json_string_value(json_object_get(m, "subject")),
                        "Your Stockroom password was changed");
    json_decref(m);
}

static void
test_reset_link_expires(void **state)
{
    char email[128], tok[128], db[400], *body;
    struct th_resp r;
    json_t *m;

    (void)state;
    member("expire", email, tok);
    body = tu_json("{s:s}", "email", email);
    call_free("POST", "/api/v1/password-resets", NULL, NULL, body, 202, NULL);
    free(body);
    m = mail_to(email, 2);
    /* The test clock: the link's hour is over. */
    snprintf(db, sizeof db, "%s/stockroom.db", srv.dir);
    assert_int_equal(tu_sql_exec(db,
                                 "UPDATE email_tokens SET expires_at = "
                                 "unixepoch() - 1 WHERE kind = 'reset'",
                                 NULL, 0),
                     0);
    body = tu_json("{s:s}", "password", PW2);
    follow(m, "reset.html", "/api/v1/password-resets", body, 410, "token_gone");
    free(body);
    json_decref(m);
    call("POST", "/api/v1/password-resets/unknownToken123", NULL, NULL,
         "{\"password\":\"a new and longer password\"}", 404, "unknown_token",
         &r);
    th_resp_free(&r);
    assert_int_equal(th_login(&srv, email, PW, tok, NULL), 201);
}

static void
test_change_password(void **state)
{
    char email[128], t1[128], t2[128], *body;
    json_t *m;

    (void)state;
    member("chpw", email, t1);
    assert_int_equal(th_login(&srv, email, PW, t2, NULL), 201);
    call_free("POST", "/api/v1/me/password", t1, NULL,
              "{\"current_password\":\"wrong password!\","
              "\"new_password\":\"a new and longer password\"}",
              403, "wrong_password");
    call_free("POST", "/api/v1/me/password", t1, NULL,
              "{\"current_password\":\"" PW "\",\"new_password\":\"short\"}",
              422, "weak_password");
    body = tu_json("{s:s,s:s}", "current_password", PW, "new_password", PW2);
    call_free("POST", "/api/v1/me/password", t1, NULL, body, 204, NULL);
    free(body);
    assert_int_equal(me_status(t1), 200);
    assert_int_equal(me_status(t2), 401);
    m = mail_to(email, 2);
    assert_string_equal(json_string_value(json_object_get(m, "subject")),
                        "Your Stockroom password was changed");
    json_decref(m);
}

static void
test_change_email(void **state)
{
    char email[128], other[128], fresh[128], tok[128], otok[128], *body;
    struct th_resp r;
    json_t *m;

    (void)state;
    member("chmail", email, tok);
    member("taken", other, otok);
    tu_email("newaddr", fresh, sizeof fresh);
    body = tu_json("{s:s}", "email", fresh);
    call_free("PATCH", "/api/v1/me", tok, NULL, body, 422, "missing_field");
    free(body);
    body = tu_json("{s:s,s:s}", "email", fresh, "current_password",
                   "wrong password!");
    call_free("PATCH", "/api/v1/me", tok, NULL, body, 403, "wrong_password");
    free(body);
    body = tu_json("{s:s,s:s}", "email", other, "current_password", PW);
    call_free("PATCH", "/api/v1/me", tok, NULL, body, 409, "email_taken");
    free(body);
    body = tu_json("{s:s,s:s}", "email", fresh, "current_password", PW);
    call("PATCH", "/api/v1/me", tok, NULL, body, 200, NULL, &r);
    free(body);
    assert_string_equal(kit_jstr_or(r.json, "pending_email"), fresh);
    assert_string_equal(kit_jstr_or(r.json, "email"), email);
    th_resp_free(&r);

    m = mail_to(email, 2); /* the notice to the old address */
    assert_non_null(
        strstr(json_string_value(json_object_get(m, "text")), fresh));
    json_decref(m);
    m = mail_to(fresh, 1);
    follow(m, "verify.html", "/api/v1/email-verifications", NULL, 204, NULL);
    json_decref(m);
    call("GET", "/api/v1/me", tok, NULL, NULL, 200, NULL, &r);
    assert_string_equal(kit_jstr_or(r.json, "email"), fresh);
    th_resp_free(&r);
    assert_int_equal(th_login(&srv, fresh, PW, tok, NULL), 201);
    assert_int_equal(th_login(&srv, email, PW, tok, NULL), 401);
}

static void
test_sessions(void **state)
{
    char email[128], a[128], b[128], path[128], bid[32] = "";
    json_t *items, *it;
    struct th_resp r;
    size_t i;
    char *body;

    (void)state;
    member("sess", email, a);
    body = tu_json("{s:s,s:s}", "email", email, "password", PW);
    call("POST", "/api/v1/sessions", NULL, "User-Agent: Browser-B/2.0", body,
         201, NULL, &r);
    snprintf(b, sizeof b, "%s", kit_jstr_or(r.json, "token"));
    th_resp_free(&r);
    call_free("POST", "/api/v1/sessions", NULL, "User-Agent: Browser-C/3.0",
              body, 201, NULL);
    free(body);

    call("GET", "/api/v1/me/sessions", a, NULL, NULL, 200, NULL, &r);
    items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 3);
    assert_true(json_is_null(json_object_get(r.json, "next_cursor")));
    {
        int current = 0;

        json_array_foreach(items, i, it)
        {
            current += json_is_true(json_object_get(it, "current"));
            assert_string_equal(
                json_string_value(json_object_get(it, "client")), "127.0.0.1");
            assert_true(json_is_string(json_object_get(it, "last_seen_at")));
            if (!strcmp(json_string_value(json_object_get(it, "browser")),
                        "Browser-B/2.0"))
                snprintf(bid, sizeof bid, "%s",
                         json_string_value(json_object_get(it, "id")));
        }
        assert_int_equal(current, 1);
    }
    th_resp_free(&r);
    assert_true(bid[0] != '\0');
    snprintf(path, sizeof path, "/api/v1/me/sessions/%s", bid);
    call_free("DELETE", path, a, NULL, NULL, 204, NULL);
    assert_int_equal(me_status(b), 401);
    call_free("DELETE", path, a, NULL, NULL, 404, "not_found");
    call_free("DELETE", "/api/v1/me/sessions", a, NULL, NULL, 204, NULL);
    call("GET", "/api/v1/me/sessions", a, NULL, NULL, 200, NULL, &r);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
    th_resp_free(&r);
    assert_int_equal(me_status(a), 200);
}

static void
test_export(void **state)
{
    char email[128], tok[128];
    struct th_resp r;
    char disp[200];
    json_t *doc;

    (void)state;
    member("export", email, tok);
    call_free("POST", "/api/v1/credits/purchases", tok,
              "Idempotency-Key: export-buy-1", "{\"pack\":\"10\"}", 201, NULL);
    call_free("POST", "/api/v1/lightboxes", tok, NULL, "{\"name\":\"Lakes\"}",
              201, NULL);
    call("GET", "/api/v1/me/export", tok, NULL, NULL, 200, NULL, &r);
    assert_non_null(th_header(&r, "Content-Disposition", disp, sizeof disp));
    assert_non_null(strstr(disp, "attachment"));
    doc = r.json;
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(doc, "profile"), "email")),
                        email);
    assert_int_equal(json_array_size(json_object_get(doc, "sessions")), 1);
    assert_int_equal(json_array_size(json_object_get(doc, "purchases")), 1);
    assert_int_equal(
        json_integer_value(json_object_get(
            json_array_get(json_object_get(doc, "purchases"), 0), "credits")),
        10);
    assert_int_equal(json_array_size(json_object_get(doc, "lightboxes")), 1);
    assert_true(json_is_array(json_object_get(doc, "images")));
    assert_true(json_is_array(json_object_get(doc, "licences")));
    assert_true(json_is_array(json_object_get(doc, "earnings")));
    assert_true(json_is_array(json_object_get(doc, "payouts")));
    assert_null(strstr(r.body, "pw_hash"));
    assert_null(strstr(r.body, "$argon2"));
    th_resp_free(&r);
}

static int
image_is(void *arg)
{
    const char **w = arg;
    char path[128];
    struct th_resp r;
    int ok;

    snprintf(path, sizeof path, "/api/v1/images/%s", w[0]);
    if (iu_req(&srv, "GET", path, w[2], NULL, NULL, &r) < 0)
        return 0;
    ok = r.status == 200 && !strcmp(kit_jstr_or(r.json, "status"), w[1]);
    th_resp_free(&r);
    return ok;
}

/* A sale end to end with its mail (approval notice with one-click
 * unsubscribe, receipt, sales digest, payout), then the contributor
 * leaves: refused while money waits, then closed; the buyer's licence
 * still downloads, and the contributor can no longer sign in. */
static void
test_notices_and_closing(void **state)
{
    char c_mail[128], c_tok[128], b_mail[128], b_tok[128], path[512];
    char image[64], lic[64], payout[64], unsub[512], *body;
    const char *w[3];
    struct th_resp r;
    json_t *m;
    long long balance;

    (void)state;
    member("seller", c_mail, c_tok);
    member("buyer", b_mail, b_tok);
    call_free("PATCH", "/api/v1/me", c_tok, NULL,
              "{\"notify_sales_digest\":true}", 200, NULL);
    assert_true(me_flag(c_tok, "notify_sales_digest"));
    {
        const char *fields[] = {"title", "Lake at dusk", "keywords",
                                "lake, dusk, water, evening, calm", NULL};

        assert_int_equal(th_upload(&srv, "/api/v1/images", c_tok,
                                   th_corpus(IMAGE, path, sizeof path),
                                   "photo.jpg", fields, &r),
                         0);
        assert_int_equal(r.status, 202);
        snprintf(image, sizeof image, "%s", kit_jstr_or(r.json, "id"));
        th_resp_free(&r);
    }
    w[0] = image;
    w[1] = "pending_review";
    w[2] = c_tok;
    assert_true(th_poll(image_is, w, 90000));
    snprintf(path, sizeof path, "/api/v1/images/%s/review", image);
    call_free("POST", path, admin_tok, NULL, "{\"decision\":\"approve\"}", 200,
              NULL);
    m = mail_to(c_mail, 2);
    assert_non_null(strstr(json_string_value(json_object_get(m, "subject")),
                           "was approved"));
    assert_non_null(
        strstr(json_string_value(json_object_get(m, "text")), image));
    {
        /* mailparser folds List-* headers into "list": read the header
         * as sent. */
        const char *raw = json_string_value(json_object_get(m, "raw"));
        const char *lu = raw ? strstr(raw, "\r\nList-Unsubscribe: <") : NULL;
        const char *start = lu ? strstr(lu, "/api/v1/unsubscribe/") : NULL;

        assert_non_null(raw ? strstr(raw, "\r\nList-Unsubscribe-Post: "
                                          "List-Unsubscribe=One-Click\r\n")
                            : NULL);

        assert_non_null(start);
        snprintf(unsub, sizeof unsub, "%.*s", (int)strcspn(start, ">\""),
                 start);
    }
    json_decref(m);

    call_free("POST", "/api/v1/credits/purchases", b_tok,
              "Idempotency-Key: close-buy-1", "{\"pack\":\"10\"}", 201, NULL);
    m = mail_to(b_mail, 2);
    assert_non_null(
        strstr(json_string_value(json_object_get(m, "subject")), "receipt"));
    json_decref(m);
    body = tu_json("{s:s,s:s,s:s}", "image_id", image, "size", "S", "type",
                   "standard");
    call("POST", "/api/v1/licences", b_tok, "Idempotency-Key: close-lic-1",
         body, 201, NULL, &r);
    free(body);
    snprintf(lic, sizeof lic, "%s", kit_jstr_or(r.json, "id"));
    th_resp_free(&r);
    m = mail_to(c_mail, 3);
    assert_string_equal(json_string_value(json_object_get(m, "subject")),
                        "Your Stockroom sales: 1 licence");
    json_decref(m);

    /* One click, no session, the form body mail clients send. */
    {
        const char *h[] = {"Content-Type: application/x-www-form-urlencoded",
                           NULL};

        assert_int_equal(th_req(&srv, "POST", unsub, h,
                                "List-Unsubscribe=One-Click", 26, &r),
                         0);
        assert_int_equal(r.status, 204);
        th_resp_free(&r);
    }
    assert_false(me_flag(c_tok, "notify_reviews"));
    assert_false(me_flag(c_tok, "notify_sales_digest"));
    call_free("POST", "/api/v1/unsubscribe/00000000000000000000000000000000",
              NULL, "Content-Type: application/x-www-form-urlencoded",
              "List-Unsubscribe=One-Click", 404, "unknown_token");

    body = tu_json("{s:s}", "current_password", PW);
    call_free("DELETE", "/api/v1/me", c_tok, NULL, body, 409,
              "balance_outstanding");
    call("GET", "/api/v1/me/earnings", c_tok, NULL, NULL, 200, NULL, &r);
    balance =
        (long long)json_integer_value(json_object_get(r.json, "balance_cents"));
    th_resp_free(&r);
    assert_true(balance > 0);
    {
        char pb[64];

        snprintf(pb, sizeof pb, "{\"amount_cents\":%lld}", balance);
        call("POST", "/api/v1/payouts", c_tok, NULL, pb, 201, NULL, &r);
        snprintf(payout, sizeof payout, "%s", kit_jstr_or(r.json, "id"));
        th_resp_free(&r);
    }
    call_free("DELETE", "/api/v1/me", c_tok, NULL, body, 409,
              "balance_outstanding");
    snprintf(path, sizeof path, "/api/v1/payouts/%s", payout);
    call_free("PATCH", path, admin_tok, NULL, "{\"status\":\"paid\"}", 200,
              NULL);
    m = mail_to(c_mail, 4);
    assert_non_null(
        strstr(json_string_value(json_object_get(m, "subject")), "was paid"));
    json_decref(m);
    call_free("DELETE", "/api/v1/me", c_tok, NULL,
              "{\"current_password\":\"wrong password!\"}", 403,
              "wrong_password");
    call_free("DELETE", "/api/v1/me", c_tok, NULL, body, 204, NULL);
    free(body);

    assert_int_equal(me_status(c_tok), 401);
    assert_int_equal(th_login(&srv, c_mail, PW, c_tok, NULL), 401);
    snprintf(path, sizeof path, "/api/v1/images/%s", image);
    call_free("GET", path, NULL, NULL, NULL, 404, NULL);
    snprintf(path, sizeof path, "/api/v1/licences/%s/download", lic);
    call("GET", path, b_tok, NULL, NULL, 200, NULL, &r);
    assert_true(r.len > 1000);
    th_resp_free(&r);
    assert_int_equal(tu_ledger_verify(srv.dir), 0);
}

static int
setup(void **state)
{
    const char *flags[] = {"--smtp-url",
                           NULL,
                           "--smtp-ca-file",
                           NULL,
                           "--min-megapixels",
                           "0.01",
                           "--payout-min-cents",
                           "1",
                           "--digest-interval",
                           "1",
                           NULL};
    char email[128], csrf[64];

    (void)state;
    curl_global_init(CURL_GLOBAL_ALL);
    if (ts_smtp_start(&smtp, 1, 0) < 0)
        return -1;
    flags[1] = smtp.url;
    flags[3] = smtp.ca;
    setenv("STOCKROOM_SMTP_USER", TS_SMTP_USER, 1);
    setenv("STOCKROOM_SMTP_PASSWORD", TS_SMTP_PASSWORD, 1);
    if (th_start(&srv, flags) < 0)
        return -1;
    tu_email("admin", email, sizeof email);
    if (th_admin_add(&srv, email, "admin", PW) != 0 ||
        th_login(&srv, email, PW, admin_tok, csrf) != 201)
        return -1;
    return 0;
}

static int
teardown(void **state)
{
    int rc = th_stop(&srv);

    (void)state;
    th_cleanup(&srv);
    ts_smtp_cleanup(&smtp);
    return rc == 0 ? 0 : -1;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verify_address),
        cmocka_unit_test(test_resend_is_rate_limited),
        cmocka_unit_test(test_reset_password),
        cmocka_unit_test(test_reset_link_expires),
        cmocka_unit_test(test_change_password),
        cmocka_unit_test(test_change_email),
        cmocka_unit_test(test_sessions),
        cmocka_unit_test(test_export),
        cmocka_unit_test(test_notices_and_closing),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
