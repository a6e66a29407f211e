/* Stockroom — taking payments through Stripe, against the sf_fake Stripe API
 * of tests/services/stripe (webhooks signed by stripe-node): the purchase
 * flow, webhooks before and after the browser, replays, bad signatures,
 * amount mismatch, expiry, Stripe down, a crash before the webhook then
 * reconcile, refunds, receipts, and the books checked after each. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"
#include "kit.h"
#include "stripefix.h"
#include "util.h"

/* ---- tests -------------------------------------------------------------- */

static void
test_purchase_flow(void **state)
{
    char tok[128], id[64], sid[80], path[200], loc[600];
    struct th_resp r;
    json_t *seen = NULL, *req;
    size_t i;

    (void)state;
    sf_control("deliver", "{\"mode\":\"before\"}");
    kit_new_user("flow", tok);
    sf_buy(tok, id, sid);
    /* What Stockroom asked Stripe for, as Stripe documents it. */
    if (kit_try_on(&sf_fake, "GET", "/_control/log", NULL, NULL, NULL, NULL,
                   &r) < 0)
        fail_msg("no log");
    json_array_foreach(json_object_get(r.json, "requests"), i, req)
    {
        json_t *md =
            json_object_get(json_object_get(req, "params"), "metadata");

        if (md &&
            !strcmp(json_string_value(json_object_get(md, "purchase_id")), id))
            seen = req;
    }
    assert_non_null(seen);
    {
        json_t *p = json_object_get(seen, "params");
        json_t *li = json_array_get(json_object_get(p, "line_items"), 0);
        json_t *pd = json_object_get(li, "price_data");

        assert_string_equal(json_string_value(json_object_get(p, "mode")),
                            "payment");
        assert_string_equal(
            json_string_value(json_object_get(p, "client_reference_id")), id);
        assert_string_equal(
            json_string_value(json_object_get(pd, "unit_amount")), "1500");
        assert_string_equal(json_string_value(json_object_get(pd, "currency")),
                            "usd");
        assert_non_null(
            json_string_value(json_object_get(p, "customer_email")));
        assert_non_null(
            strstr(json_string_value(json_object_get(p, "success_url")), id));
        assert_non_null(
            json_string_value(json_object_get(seen, "idempotency_key")));
        assert_string_equal(
            json_string_value(json_object_get(seen, "stripe_version")),
            "2024-06-20");
    }
    th_resp_free(&r);
    /* The hosted page, then Pay: the webhook lands before the redirect. */
    snprintf(path, sizeof path, "/pay/%s", sid);
    if (kit_try_on(&sf_fake, "GET", path, NULL, NULL, NULL, NULL, &r) < 0)
        fail_msg("no checkout page");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "Pay"));
    th_resp_free(&r);
    snprintf(path, sizeof path, "/pay/%s/pay", sid);
    sf_fake_post(path, NULL, &r);
    assert_int_equal(r.status, 303);
    assert_non_null(th_header(&r, "Location", loc, sizeof loc));
    assert_non_null(strstr(loc, "checkout=success"));
    th_resp_free(&r);
    sf_wait_status(tok, id, "settled");
    assert_int_equal(kit_credits(tok), 10);
    /* The receipt. */
    snprintf(path, sizeof path, "/api/v1/me/purchases/%s/receipt", id);
    kit_call("GET", path, tok, NULL, NULL, &r);
    kit_expect(&r, 200, NULL, "receipt");
    assert_int_equal(
        json_integer_value(json_object_get(r.json, "amount_cents")), 1500);
    assert_string_equal(
        json_string_value(json_object_get(r.json, "card_last4")), "4242");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(r.json, "seller"), "tax_id")),
                        "GB123456789");
    assert_true(json_integer_value(json_object_get(r.json, "sequence")) >= 1);
    th_resp_free(&r);
    /* Nobody else's receipt. */
    {
        char other[128];

        kit_new_user("nosy", other);
        kit_call("GET", path, other, NULL, NULL, &r);
        kit_expect(&r, 404, "not_found", "another's receipt");
        th_resp_free(&r);
    }
    sf_books_balance();
}

static void
test_webhook_after_browser(void **state)
{
    char tok[128], id[64], sid[80], path[200];
    struct th_resp r;

    (void)state;
    sf_control("deliver", "{\"mode\":\"after\"}");
    kit_new_user("after", tok);
    sf_buy(tok, id, sid);
    snprintf(path, sizeof path, "/pay/%s/pay", sid);
    sf_fake_post(path, NULL, &r);
    assert_int_equal(r.status, 303);
    th_resp_free(&r);
    /* The browser is back first and polls, as Credits does. */
    sf_wait_status(tok, id, "settled");
    assert_int_equal(kit_credits(tok), 10);
    sf_control("deliver", "{\"mode\":\"before\"}");
    sf_books_balance();
}

/* A checkout.session.completed event for purchase id, signed by
 * stripe-node with secret at timestamp t (0: now). */
static char *
signed_event(const char *evt, const char *id, const char *sid, long long amount,
             const char *secret, long long t, char *hdr, size_t hlen)
{
    char *payload = NULL, *req;
    struct th_resp r;
    json_t *ev, *sj;

    ev = json_pack(
        "{s:s,s:s,s:s,s:{s:{s:s,s:s,s:s,s:s,s:I,s:s,s:n,s:{s:s}}}}", "id", evt,
        "object", "event", "type", "checkout.session.completed", "data",
        "object", "id", sid, "object", "checkout.session", "status", "complete",
        "payment_status", "paid", "amount_total", (json_int_t)amount,
        "currency", "usd", "payment_intent", "metadata", "purchase_id", id);
    payload = json_dumps(ev, JSON_COMPACT);
    json_decref(ev);
    sj = json_pack("{s:s,s:s,s:I}", "payload", payload, "secret", secret,
                   "timestamp", (json_int_t)(t ? t : (long long)time(NULL)));
    req = json_dumps(sj, JSON_COMPACT);
    json_decref(sj);
    sf_fake_post("/_control/sign", req, &r);
    free(req);
    assert_int_equal(r.status, 200);
    snprintf(hdr, hlen, "Stripe-Signature: %s",
             json_string_value(json_object_get(r.json, "header")));
    th_resp_free(&r);
    return payload;
}

static void
post_webhook(const char *hdr, const char *body, struct th_resp *r)
{
    const char *h[] = {"Content-Type: application/json", hdr, NULL};

    kit_call_h("POST", "/api/v1/webhooks/stripe", NULL, h, body, r);
}

static void
test_same_event_three_times(void **state)
{
    char tok[128], id[64], sid[80], hdr[300];
    struct th_resp r;
    char *body;

    (void)state;
    sf_control("deliver", "{\"mode\":\"none\"}");
    kit_new_user("thrice", tok);
    sf_buy(tok, id, sid);
    body =
        signed_event("evt_thrice", id, sid, 1500, SECRET, 0, hdr, sizeof hdr);
    for (int i = 0; i < 3; i++) {
        post_webhook(hdr, body, &r);
        kit_expect(&r, 200, NULL, "event");
        assert_int_equal(json_is_true(json_object_get(r.json, "duplicate")),
                         i > 0);
        th_resp_free(&r);
    }
    free(body);
    assert_int_equal(kit_credits(tok), 10);
    /* The retired secret of a rotation still verifies. */
    {
        char tok2[128], id2[64], sid2[80];

        kit_new_user("rotated", tok2);
        sf_buy(tok2, id2, sid2);
        body = signed_event("evt_rotated", id2, sid2, 1500, "whsec_retired", 0,
                            hdr, sizeof hdr);
        post_webhook(hdr, body, &r);
        kit_expect(&r, 200, NULL, "old secret");
        th_resp_free(&r);
        free(body);
        assert_int_equal(kit_credits(tok2), 10);
    }
    sf_control("deliver", "{\"mode\":\"before\"}");
    sf_books_balance();
}

static void
test_bad_signatures(void **state)
{
    char tok[128], id[64], sid[80], hdr[300], st[32];
    struct th_resp r;
    char *body, *p;

    (void)state;
    kit_new_user("forger", tok);
    sf_buy(tok, id, sid);
    /* Tampered body: signed for 1500, sent saying 1600. */
    body =
        signed_event("evt_tamper", id, sid, 1500, SECRET, 0, hdr, sizeof hdr);
    p = strstr(body, "1500");
    p[1] = '6';
    post_webhook(hdr, body, &r);
    kit_expect(&r, 400, "bad_signature", "tampered body");
    th_resp_free(&r);
    free(body);
    /* Wrong secret. */
    body = signed_event("evt_wrong", id, sid, 1500, "whsec_wrong", 0, hdr,
                        sizeof hdr);
    post_webhook(hdr, body, &r);
    kit_expect(&r, 400, "bad_signature", "wrong secret");
    th_resp_free(&r);
    /* Missing header. */
    post_webhook(NULL, body, &r);
    kit_expect(&r, 400, "bad_signature", "no header");
    th_resp_free(&r);
    free(body);
    /* Ten minutes old. */
    body = signed_event("evt_old", id, sid, 1500, SECRET,
                        (long long)time(NULL) - 600, hdr, sizeof hdr);
    post_webhook(hdr, body, &r);
    kit_expect(&r, 400, "bad_signature", "old timestamp");
    th_resp_free(&r);
    free(body);
    /* Over 256 KiB: refused before anything is read into JSON. */
    {
        size_t big = 300 * 1024;
        char *huge = malloc(big + 1);

        assert_non_null(huge);
        memset(huge, ' ', big);
        huge[big] = '\0';
        post_webhook(hdr, huge, &r);
        kit_expect(&r, 413, "too_large", "oversized webhook");
        th_resp_free(&r);
        free(huge);
    }
    assert_int_equal(kit_credits(tok), 0);
    sf_purchase_status(tok, id, st);
    assert_string_equal(st, "pending");
    sf_books_balance();
}

static void
test_amount_mismatch(void **state)
{
    char tok[128], id[64], sid[80], hdr[300], st[32];
    struct th_resp r;
    char *body;

    (void)state;
    kit_new_user("cheap", tok);
    sf_buy(tok, id, sid);
    body = signed_event("evt_cheap", id, sid, 100, SECRET, 0, hdr, sizeof hdr);
    post_webhook(hdr, body, &r);
    kit_expect(&r, 200, NULL, "mismatch acknowledged");
    th_resp_free(&r);
    free(body);
    assert_int_equal(kit_credits(tok), 0);
    sf_purchase_status(tok, id, st);
    assert_string_equal(st, "needs_attention");
    sf_books_balance();
}

static void
test_expired_and_cancelled(void **state)
{
    char tok[128], id[64], sid[80], body[200], path[200], loc[600];
    struct th_resp r;

    (void)state;
    kit_new_user("expiry", tok);
    sf_buy(tok, id, sid);
    /* Cancel: back to Credits saying so; the session stays open. */
    snprintf(path, sizeof path, "/pay/%s/cancel", sid);
    sf_fake_post(path, NULL, &r);
    assert_int_equal(r.status, 303);
    assert_non_null(th_header(&r, "Location", loc, sizeof loc));
    assert_non_null(strstr(loc, "checkout=cancel"));
    th_resp_free(&r);
    snprintf(body, sizeof body, "{\"session\":\"%s\"}", sid);
    sf_control("expire", body);
    sf_wait_status(tok, id, "failed");
    assert_int_equal(kit_credits(tok), 0);
    sf_books_balance();
}

/* The fake answers only the store's key: a wrong key or none is 401, so
 * every passing test here proves the store sent the right one. */
static void
test_fake_checks_the_key(void **state)
{
    static const char *const keys[] = {"sk_test_wrong", NULL};
    struct th_resp r;

    (void)state;
    for (size_t i = 0; i < 2; i++) {
        if (kit_try_on(&sf_fake, "GET", "/v1/checkout/sessions", keys[i], NULL,
                       NULL, NULL, &r) < 0)
            fail_msg("the fake did not answer");
        assert_int_equal(r.status, 401);
        th_resp_free(&r);
    }
    if (kit_try_on(&sf_fake, "GET", "/v1/checkout/sessions", KEY, NULL, NULL,
                   NULL, &r) < 0)
        fail_msg("the fake did not answer");
    assert_int_equal(r.status, 200);
    th_resp_free(&r);
}

static void
test_stripe_down(void **state)
{
    char tok[128];
    struct th_resp r;
    long t0;

    (void)state;
    kit_new_user("down", tok);
    sf_control("faults", "{\"fail\":1000,\"failStatus\":503}");
    t0 = tu_now_ms();
    kit_call("POST", "/api/v1/credits/purchases", tok, "down-1",
             "{\"pack\":\"10\"}", &r);
    kit_expect(&r, 503, "payment_unavailable", "Stripe 503");
    th_resp_free(&r);
    assert_true(tu_now_ms() - t0 < 10000);
    sf_control("faults", "{\"fail\":0,\"drop\":1000}");
    kit_call("POST", "/api/v1/credits/purchases", tok, "down-2",
             "{\"pack\":\"10\"}", &r);
    kit_expect(&r, 503, "payment_unavailable", "Stripe dropping");
    th_resp_free(&r);
    sf_control("faults", "{\"drop\":0,\"fail\":1,\"failStatus\":400}");
    kit_call("POST", "/api/v1/credits/purchases", tok, "down-3",
             "{\"pack\":\"10\"}", &r);
    kit_expect(&r, 502, "payment_failed", "Stripe refusing");
    th_resp_free(&r);
    sf_control("faults", "{\"fail\":0,\"drop\":0}");
    /* Left failed, not dangling. */
    kit_call("GET", "/api/v1/me/purchases", tok, NULL, NULL, &r);
    kit_expect(&r, 200, NULL, "purchases");
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 3);
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(
            json_string_value(json_object_get(
                json_array_get(json_object_get(r.json, "items"), i), "status")),
            "failed");
    th_resp_free(&r);
    assert_int_equal(kit_credits(tok), 0);
    sf_books_balance();
}

static void
test_crash_then_reconcile(void **state)
{
    char tok[128], id[64], sid[80], body[200], out[2048], err[2048];
    char data[320], api[80];
    const char *argv[] = {
        "stockroom",          "payments", "reconcile",        "--data", data,
        "--payment-provider", "stripe",   "--stripe-api-url", api,      NULL};

    (void)state;
    sf_control("deliver", "{\"mode\":\"none\"}");
    kit_new_user("crash", tok);
    sf_buy(tok, id, sid);
    snprintf(body, sizeof body, "{\"session\":\"%s\"}", sid);
    sf_control("pay", body); /* paid; the webhook is lost */
    th_crash(&sf_srv);
    snprintf(data, sizeof data, "%s", sf_srv.dir);
    snprintf(api, sizeof api, "%s", sf_fake.base);
    assert_int_equal(
        tu_run(argv, NULL, out, sizeof out, err, sizeof err, DEADLINE_MS), 0);
    assert_non_null(strstr(out, "1 pending purchases settled"));
    /* Safe to run again: nothing more to do. */
    assert_int_equal(
        tu_run(argv, NULL, out, sizeof out, err, sizeof err, DEADLINE_MS), 0);
    assert_non_null(strstr(out, "0 pending purchases settled"));
    sf_books_balance();
    sf_store_start();
    assert_int_equal(kit_credits(tok), 10);
    sf_control("deliver", "{\"mode\":\"before\"}");
}

static void
test_refund(void **state)
{
    char tok[128], id[64], sid[80], path[200];
    struct th_resp r;
    json_t *req, *hit = NULL;
    size_t i;

    (void)state;
    kit_new_user("refund", tok);
    sf_buy(tok, id, sid);
    snprintf(path, sizeof path, "/pay/%s/pay", sid);
    sf_fake_post(path, NULL, &r);
    th_resp_free(&r);
    sf_wait_status(tok, id, "settled");
    snprintf(path, sizeof path, "/api/v1/credits/purchases/%s/refund", id);
    kit_call("POST", path, tok, NULL, NULL, &r);
    kit_expect(&r, 200, NULL, "refund");
    assert_string_equal(json_string_value(json_object_get(r.json, "status")),
                        "refunded");
    th_resp_free(&r);
    assert_int_equal(kit_credits(tok), 0);
    if (kit_try_on(&sf_fake, "GET", "/_control/log", NULL, NULL, NULL, NULL,
                   &r) < 0)
        fail_msg("no log");
    json_array_foreach(json_object_get(r.json, "requests"), i, req)
    {
        if (!strcmp(json_string_value(json_object_get(req, "path")),
                    "/v1/refunds"))
            hit = req;
    }
    assert_non_null(hit);
    assert_null(json_object_get(json_object_get(hit, "params"), "amount"));
    assert_non_null(json_string_value(json_object_get(hit, "idempotency_key")));
    th_resp_free(&r);
    /* Again: refused, and the charge.refunded event booked nothing more. */
    kit_call("POST", path, tok, NULL, NULL, &r);
    kit_expect(&r, 409, "not_refundable", "second refund");
    th_resp_free(&r);
    sf_books_balance();
}

static void
test_startup_needs_secrets(void **state)
{
    char out[512], err[512];
    const char *argv[] = {"stockroom", "serve",    "--payment-provider",
                          "stripe",    "--listen", "127.0.0.1:0",
                          NULL};

    (void)state;
    unsetenv("STOCKROOM_STRIPE_WEBHOOK_SECRET");
    assert_int_equal(
        tu_run(argv, NULL, out, sizeof out, err, sizeof err, DEADLINE_MS), 2);
    assert_non_null(strstr(err, "STOCKROOM_STRIPE_WEBHOOK_SECRET"));
    assert_null(strstr(err, KEY)); /* never a secret in a message */
    assert_null(strchr(strchr(err, '\n') + 1, '\n'));
    setenv("STOCKROOM_STRIPE_WEBHOOK_SECRET", SECRETS, 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_startup_needs_secrets),
        cmocka_unit_test(test_purchase_flow),
        cmocka_unit_test(test_webhook_after_browser),
        cmocka_unit_test(test_same_event_three_times),
        cmocka_unit_test(test_bad_signatures),
        cmocka_unit_test(test_amount_mismatch),
        cmocka_unit_test(test_expired_and_cancelled),
        cmocka_unit_test(test_fake_checks_the_key),
        cmocka_unit_test(test_stripe_down),
        cmocka_unit_test(test_refund),
        cmocka_unit_test(test_crash_then_reconcile),
    };

    return cmocka_run_group_tests(tests, sf_setup, sf_teardown);
}
