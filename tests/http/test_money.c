/* Stockroom — money over HTTP: credit packs, purchases and their
 * idempotency, licences, licensed downloads, signed certificates, earnings
 * and the exact split, payouts, refunds, races, and the books checked by
 * the admin route and by `stockroom ledger verify` at the end. */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <sodium.h>

#include "harness.h"
#include "imgutil.h"
#include "kit.h"
#include "moneyfix.h"
#include "util.h"

#define PW "correct horse battery"

/* The contributor's earnings; the caller decrefs. */
static json_t *
earnings(void)
{
    struct th_resp r;
    json_t *j;

    kit_call("GET", "/api/v1/me/earnings", mf_contrib_tok, NULL, NULL, &r);
    kit_expect(&r, 200, NULL, "earnings");
    j = json_incref(r.json);
    th_resp_free(&r);
    return j;
}

static json_int_t
balance(void)
{
    json_t *e = earnings();
    json_int_t b = kit_jint(e, "balance_cents");

    json_decref(e);
    return b;
}

/* Request a payout; returns the status, the payout id into id. */
static long
payout(const char *token, json_int_t cents, char id[64], const char *code)
{
    char body[64];
    struct th_resp r;
    long st;

    snprintf(body, sizeof body, "{\"amount_cents\":%lld}", (long long)cents);
    kit_call("POST", "/api/v1/payouts", token, NULL, body, &r);
    st = r.status;
    if (code)
        kit_expect(&r, r.status, code, "payout error code");
    if (st == 201 && id)
        snprintf(id, 64, "%s", kit_jstr(r.json, "id"));
    th_resp_free(&r);
    return st;
}

static void
settle(const char *payout_id, const char *status, long want, const char *code)
{
    char path[128], body[64];
    struct th_resp r;

    snprintf(path, sizeof path, "/api/v1/payouts/%s", payout_id);
    snprintf(body, sizeof body, "{\"status\":\"%s\"}", status);
    kit_call("PATCH", path, mf_admin_tok, NULL, body, &r);
    kit_expect(&r, want, code, "settle payout");
    if (want == 200)
        assert_string_equal(kit_jstr(r.json, "status"), status);
    th_resp_free(&r);
}

/* A buyer who spends 100-credit packs ($1.10 a credit) on XL extended
 * licences (36 credits, cash 3960, royalty 990 at 25%). */
static char whale_tok[128];
static json_int_t whale_left;

static void
earn_at_least(json_int_t cents)
{
    while (balance() < cents) {
        if (whale_left < 36) {
            kit_buy(whale_tok, "100", NULL);
            whale_left += 100;
        }
        mf_licence_ok(whale_tok, "XL", "extended", NULL);
        whale_left -= 36;
    }
}

/* ---- packs and purchases ------------------------------------------------ */

static void
test_packs(void **state)
{
    struct th_resp r;
    json_t *items;
    const json_int_t want[3][2] = {{10, 1500}, {30, 3900}, {100, 11000}};

    (void)state;
    kit_call("GET", "/api/v1/credits/packs", NULL, NULL, NULL, &r);
    kit_expect(&r, 200, NULL, "packs");
    items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 3);
    for (size_t i = 0; i < 3; i++) {
        json_t *p = json_array_get(items, i);
        char id[16];

        snprintf(id, sizeof id, "%lld", (long long)want[i][0]);
        assert_string_equal(kit_jstr(p, "id"), id);
        assert_int_equal(kit_jint(p, "credits"), want[i][0]);
        assert_int_equal(kit_jint(p, "price_cents"), want[i][1]);
    }
    assert_true(json_is_null(json_object_get(r.json, "next_cursor")));
    th_resp_free(&r);
}

static void
test_purchase_idempotency(void **state)
{
    char tok[128], key[64], first[64];
    struct th_resp r;

    (void)state;
    th_new_user(&mf_srv, "packbuyer", tok);
    assert_int_equal(kit_credits(tok), 0);
    kit_call("POST", "/api/v1/credits/purchases", tok, NULL,
             "{\"pack\":\"10\"}", &r);
    kit_expect(&r, 400, "missing_idempotency_key", "no key");
    th_resp_free(&r);
    kit_fresh_key(key, "p");
    kit_call("POST", "/api/v1/credits/purchases", tok, key, "{\"pack\":\"11\"}",
             &r);
    kit_expect(&r, 422, "unknown_pack", "unknown pack");
    th_resp_free(&r);
    kit_call("POST", "/api/v1/credits/purchases", NULL, key,
             "{\"pack\":\"10\"}", &r);
    kit_expect(&r, 401, "unauthenticated", "anonymous purchase");
    th_resp_free(&r);
    assert_int_equal(kit_credits(tok), 0);

    kit_call("POST", "/api/v1/credits/purchases", tok, key, "{\"pack\":\"10\"}",
             &r);
    kit_expect(&r, 201, NULL, "purchase");
    snprintf(first, sizeof first, "%s", kit_jstr(r.json, "purchase_id"));
    assert_int_equal(kit_jint(r.json, "credits"), 10);
    assert_int_equal(kit_jint(r.json, "price_cents"), 1500);
    assert_int_equal(kit_jint(r.json, "balance"), 10);
    assert_string_equal(kit_jstr(r.json, "status"), "settled");
    th_resp_free(&r);
    /* A retry: the same purchase, charged once. */
    kit_call("POST", "/api/v1/credits/purchases", tok, key, "{\"pack\":\"10\"}",
             &r);
    kit_expect(&r, 201, NULL, "purchase replay");
    assert_string_equal(kit_jstr(r.json, "purchase_id"), first);
    assert_int_equal(kit_jint(r.json, "balance"), 10);
    th_resp_free(&r);
    kit_call("POST", "/api/v1/credits/purchases", tok, key, "{\"pack\":\"30\"}",
             &r);
    kit_expect(&r, 409, "idempotency_key_reused", "same key, other pack");
    th_resp_free(&r);
    assert_int_equal(kit_credits(tok), 10);
    kit_call("GET", "/api/v1/me/purchases", tok, NULL, NULL, &r);
    kit_expect(&r, 200, NULL, "my purchases");
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
    assert_string_equal(
        kit_jstr(json_array_get(json_object_get(r.json, "items"), 0),
                 "purchase_id"),
        first);
    th_resp_free(&r);
}

/* ---- earnings ----------------------------------------------------------- */

static void
test_earnings_split(void **state)
{
    char tok[128], id[64];
    json_t *before, *after, *sales, *sale = NULL;
    json_int_t sold;

    (void)state;
    th_new_user(&mf_srv, "splitbuyer", tok);
    kit_buy(tok, "10", NULL);
    before = earnings();
    sold = kit_jint(before, "licences_sold");
    assert_true(sold < 100); /* still in the 25% tier */
    mf_licence_ok(tok, "S", "standard", id);
    /* The sale is there at once, split exactly: $15 / 10 credits = 150
     * cents; floor(150 * 2500 / 10000) = 37 to the contributor. */
    after = earnings();
    assert_int_equal(kit_jint(after, "balance_cents") -
                         kit_jint(before, "balance_cents"),
                     37);
    assert_int_equal(kit_jint(after, "lifetime_cents") -
                         kit_jint(before, "lifetime_cents"),
                     37);
    assert_int_equal(kit_jint(after, "licences_sold"), sold + 1);
    assert_int_equal(kit_jint(after, "royalty_rate_bp"), 2500);
    sales = json_object_get(after, "sales");
    for (size_t i = 0; i < json_array_size(sales); i++) {
        if (!strcmp(kit_jstr(json_array_get(sales, i), "licence_id"), id))
            sale = json_array_get(sales, i);
    }
    assert_non_null(sale);
    assert_int_equal(kit_jint(sale, "credits"), 1);
    assert_int_equal(kit_jint(sale, "cash_cents"), 150);
    assert_int_equal(kit_jint(sale, "royalty_rate_bp"), 2500);
    assert_int_equal(kit_jint(sale, "share_cents"), 37);
    assert_string_equal(kit_jstr(sale, "image_id"), mf_image_id);
    assert_false(json_is_true(json_object_get(sale, "refunded")));
    json_decref(before);
    json_decref(after);
}

/* ---- payouts ------------------------------------------------------------ */

static void
test_payouts(void **state)
{
    char id[64], buyer[128];
    json_int_t b;
    json_t *e;
    struct th_resp r;

    (void)state;
    earn_at_least(2600);
    b = balance();
    assert_int_equal(payout(mf_contrib_tok, 2499, NULL, "below_minimum"), 422);
    assert_int_equal(
        payout(mf_contrib_tok, b + 1, NULL, "insufficient_balance"), 422);
    assert_int_equal(balance(), b);

    /* Requested, then failed: the money comes back. */
    assert_int_equal(payout(mf_contrib_tok, 2500, id, NULL), 201);
    e = earnings();
    assert_int_equal(kit_jint(e, "balance_cents"), b - 2500);
    assert_true(kit_jint(e, "pending_cents") >= 2500);
    json_decref(e);
    th_new_user(&mf_srv, "notadmin", buyer);
    {
        char path[128];

        snprintf(path, sizeof path, "/api/v1/payouts/%s", id);
        kit_call("PATCH", path, buyer, NULL, "{\"status\":\"paid\"}", &r);
        kit_expect(&r, 403, "forbidden", "a non-admin settles a payout");
        th_resp_free(&r);
        kit_call("PATCH", path, mf_contrib_tok, NULL, "{\"status\":\"paid\"}",
                 &r);
        kit_expect(&r, 403, "forbidden",
                   "the contributor settles their payout");
        th_resp_free(&r);
    }
    kit_call("GET", "/api/v1/payouts?status=requested", mf_contrib_tok, NULL,
             NULL, &r);
    kit_expect(&r, 403, "forbidden", "a non-admin lists all payouts");
    th_resp_free(&r);
    kit_call("GET", "/api/v1/payouts?status=requested", mf_admin_tok, NULL,
             NULL, &r);
    kit_expect(&r, 200, NULL, "admin lists payouts");
    assert_true(json_array_size(json_object_get(r.json, "items")) >= 1);
    th_resp_free(&r);
    settle(id, "failed", 200, NULL);
    assert_int_equal(balance(), b);
    settle(id, "paid", 409, "not_requested");

    /* Requested, then paid: gone from the balance for good. */
    assert_int_equal(payout(mf_contrib_tok, 2500, id, NULL), 201);
    settle(id, "paid", 200, NULL);
    settle(id, "failed", 409, "not_requested");
    assert_int_equal(balance(), b - 2500);
    kit_call("GET", "/api/v1/me/payouts", mf_contrib_tok, NULL, NULL, &r);
    kit_expect(&r, 200, NULL, "my payouts");
    assert_string_equal(
        kit_jstr(json_array_get(json_object_get(r.json, "items"), 0), "status"),
        "paid");
    th_resp_free(&r);
}

struct racer {
    json_int_t amount;
    long status;
    char code[64];
};

static void *
race_payout(void *arg)
{
    struct racer *p = arg;
    char body[64], auth[200];
    const char *h[2] = {th_bearer(mf_contrib_tok, auth, sizeof auth), NULL};
    struct th_resp r;

    snprintf(body, sizeof body, "{\"amount_cents\":%lld}",
             (long long)p->amount);
    p->status = th_req(&mf_srv, "POST", "/api/v1/payouts", h, body,
                       strlen(body), &r) < 0
                    ? -1
                    : r.status;
    snprintf(p->code, sizeof p->code, "%s",
             p->status > 0 ? th_error_code(&r) : "");
    th_resp_free(&r);
    return NULL;
}

static void
test_racing_payouts(void **state)
{
    enum { N = 4 };
    struct racer p[N];
    pthread_t t[N];
    json_int_t b;
    int ok = 0;

    (void)state;
    earn_at_least(5200);
    b = balance();
    /* Each alone fits; no two together do. */
    for (int i = 0; i < N; i++) {
        p[i].amount = b / 2 + 1;
        assert_int_equal(pthread_create(&t[i], NULL, race_payout, &p[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        assert_true(
            p[i].status == 201 ||
            (p[i].status == 422 && !strcmp(p[i].code, "insufficient_balance")));
        ok += p[i].status == 201;
    }
    assert_int_equal(ok, 1);
    assert_int_equal(balance(), b - (b / 2 + 1));
}

/* ---- refunds ------------------------------------------------------------ */

/* Refund a licence as token; want the status and, for a refusal, code. */
static void
refund(const char *token, const char *licence_id, long want, const char *code)
{
    char path[160];
    struct th_resp r;

    snprintf(path, sizeof path, "/api/v1/licences/%s/refund", licence_id);
    kit_call("POST", path, token, NULL, NULL, &r);
    kit_expect(&r, want, code, "refund a licence");
    th_resp_free(&r);
}

static void
test_licence_refund(void **state)
{
    char tok[128], id[64];
    json_int_t b;
    struct th_resp r;

    (void)state;
    th_new_user(&mf_srv, "refundbuyer", tok);
    kit_buy(tok, "10", NULL);
    b = balance();
    mf_licence_ok(tok, "M", "standard", id);
    assert_int_equal(kit_credits(tok), 8);
    /* 2 credits of 150 cents: 300, a quarter floored is 75. */
    assert_int_equal(balance(), b + 75);
    refund(tok, id, 403, "forbidden");
    refund(mf_contrib_tok, id, 403, "forbidden");
    assert_int_equal(kit_credits(tok), 8);
    refund(mf_admin_tok, id, 200, NULL);
    assert_int_equal(kit_credits(tok), 10);
    assert_int_equal(balance(), b);
    refund(mf_admin_tok, id, 409, "already_refunded");
    assert_int_equal(kit_credits(tok), 10);
    refund(mf_admin_tok, "l0000000000000000000000000000000", 404, "not_found");
    mf_download(tok, id, &r);
    kit_expect(&r, 410, "licence_refunded", "download a refunded licence");
    th_resp_free(&r);
    {
        json_t *e = earnings(), *sales = json_object_get(e, "sales");
        int seen = 0;

        for (size_t i = 0; i < json_array_size(sales); i++) {
            json_t *s = json_array_get(sales, i);

            if (!strcmp(kit_jstr(s, "licence_id"), id)) {
                seen = 1;
                assert_true(json_is_true(json_object_get(s, "refunded")));
            }
        }
        assert_true(seen);
        json_decref(e);
    }
    /* The credits spend again at their value. */
    mf_licence_ok(tok, "M", "standard", NULL);
    assert_int_equal(balance(), b + 75);
}

static void
test_refund_after_payout(void **state)
{
    char id[64], pid[64], tok[128];
    json_int_t b;

    (void)state;
    earn_at_least(2500);
    /* The whale's next sale, then everything paid out. */
    if (whale_left < 36) {
        kit_buy(whale_tok, "100", NULL);
        whale_left += 100;
    }
    mf_licence_ok(whale_tok, "XL", "extended", id);
    whale_left -= 36;
    b = balance();
    assert_true(b >= 2500);
    assert_int_equal(payout(mf_contrib_tok, b, pid, NULL), 201);
    settle(pid, "paid", 200, NULL);
    assert_int_equal(balance(), 0);
    /* The refund takes the royalty back: the balance goes below zero. */
    refund(mf_admin_tok, id, 200, NULL);
    assert_int_equal(balance(), -990);
    assert_int_equal(payout(mf_contrib_tok, 2500, NULL, "insufficient_balance"),
                     422);
    /* Later sales make it good. */
    th_new_user(&mf_srv, "recoverbuyer", tok);
    kit_buy(tok, "10", NULL);
    mf_licence_ok(tok, "S", "standard", NULL);
    assert_int_equal(balance(), -990 + 37);
}

static void
test_pack_refund(void **state)
{
    char tok[128], used[64], unused[64], path[160];
    struct th_resp r;

    (void)state;
    th_new_user(&mf_srv, "packrefund", tok);
    kit_buy(tok, "10", used);
    mf_licence_ok(tok, "S", "standard", NULL);
    kit_buy(tok, "30", unused);
    assert_int_equal(kit_credits(tok), 39);
    kit_call("GET", "/api/v1/me/purchases", tok, NULL, NULL, &r);
    kit_expect(&r, 200, NULL, "my purchases");
    for (size_t i = 0; i < 2; i++) {
        json_t *p = json_array_get(json_object_get(r.json, "items"), i);

        assert_int_equal(json_is_true(json_object_get(p, "refundable")),
                         !strcmp(kit_jstr(p, "purchase_id"), unused));
    }
    th_resp_free(&r);

    snprintf(path, sizeof path, "/api/v1/credits/purchases/%s/refund", used);
    kit_call("POST", path, tok, NULL, NULL, &r);
    kit_expect(&r, 409, "not_refundable", "refund a used pack");
    th_resp_free(&r);
    snprintf(path, sizeof path, "/api/v1/credits/purchases/%s/refund", unused);
    kit_call("POST", path, whale_tok, NULL, NULL, &r);
    kit_expect(&r, 404, "not_found", "refund someone else's pack");
    th_resp_free(&r);
    kit_call("POST", path, tok, NULL, NULL, &r);
    kit_expect(&r, 200, NULL, "refund an unused pack");
    assert_int_equal(kit_jint(r.json, "balance"), 9);
    assert_string_equal(kit_jstr(r.json, "status"), "refunded");
    th_resp_free(&r);
    kit_call("POST", path, tok, NULL, NULL, &r);
    kit_expect(&r, 409, "not_refundable", "refund a pack twice");
    th_resp_free(&r);
    assert_int_equal(kit_credits(tok), 9);
}

/* ---- races -------------------------------------------------------------- */

struct buyer_race {
    const char *token;
    const char *key; /* NULL: one of its own */
    int n;
    long status;
    char id[64];
    char code[64];
};

static void *
race_licence(void *arg)
{
    struct buyer_race *b = arg;
    char auth[200], idem[128], body[256];
    const char *h[3] = {th_bearer(b->token, auth, sizeof auth), idem, NULL};
    struct th_resp r;

    if (b->key)
        snprintf(idem, sizeof idem, "Idempotency-Key: %s", b->key);
    else
        snprintf(idem, sizeof idem, "Idempotency-Key: race-%d-%d", getpid(),
                 b->n);
    snprintf(body, sizeof body, "{\"image_id\":\"%s\",\"size\":\"S\"}",
             mf_image_id);
    b->status = -1;
    if (th_req(&mf_srv, "POST", "/api/v1/licences", h, body, strlen(body), &r) <
        0)
        return NULL;
    b->status = r.status;
    snprintf(b->code, sizeof b->code, "%s", th_error_code(&r));
    if (r.status == 201 && r.json)
        snprintf(b->id, sizeof b->id, "%s",
                 json_string_value(json_object_get(r.json, "id")));
    th_resp_free(&r);
    return NULL;
}

static void
run_race(struct buyer_race *b, int n)
{
    pthread_t *t = calloc((size_t)n, sizeof *t);

    assert_non_null(t);
    for (int i = 0; i < n; i++)
        assert_int_equal(pthread_create(&t[i], NULL, race_licence, &b[i]), 0);
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    free(t);
}

static void
test_race_wallet(void **state)
{
    enum { N = 100 };
    static struct buyer_race b[N];
    char tok[128];
    int ok = 0, short_ = 0;
    json_int_t sold;
    json_t *e = earnings();

    (void)state;
    sold = kit_jint(e, "licences_sold");
    json_decref(e);
    th_new_user(&mf_srv, "racer", tok);
    kit_buy(tok, "10", NULL);
    for (int i = 0; i < N; i++)
        b[i] = (struct buyer_race){.token = tok, .n = i};
    run_race(b, N);
    for (int i = 0; i < N; i++) {
        if (b[i].status != 201 &&
            (b[i].status != 402 || strcmp(b[i].code, "insufficient_credits")))
            fail_msg("racer %d: %ld %s", i, b[i].status, b[i].code);
        ok += b[i].status == 201;
        short_ += b[i].status == 402;
    }
    assert_int_equal(ok, 10);
    assert_int_equal(short_, N - 10);
    assert_int_equal(kit_credits(tok), 0);
    e = earnings();
    assert_int_equal(kit_jint(e, "licences_sold"), sold + 10);
    json_decref(e);
}

static void
test_race_same_key(void **state)
{
    enum { N = 20 };
    static struct buyer_race b[N];
    char tok[128], key[64];

    (void)state;
    th_new_user(&mf_srv, "samekey", tok);
    kit_buy(tok, "10", NULL);
    kit_fresh_key(key, "same");
    for (int i = 0; i < N; i++)
        b[i] = (struct buyer_race){.token = tok, .key = key, .n = i};
    run_race(b, N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(b[i].status, 201);
        assert_string_equal(b[i].id, b[0].id);
    }
    assert_int_equal(kit_credits(tok), 9);
}

/* ---- the books ---------------------------------------------------------- */

static void
test_books_balance(void **state)
{
    struct th_resp r;

    (void)state;
    kit_call("GET", "/api/v1/admin/ledger/verify", mf_contrib_tok, NULL, NULL,
             &r);
    kit_expect(&r, 403, "forbidden", "a non-admin checks the books");
    th_resp_free(&r);
    kit_call("GET", "/api/v1/admin/ledger/verify", mf_admin_tok, NULL, NULL,
             &r);
    kit_expect(&r, 200, NULL, "verify");
    if (!json_is_true(json_object_get(r.json, "ok")))
        fail_msg("the books do not balance:\n%s", kit_jstr(r.json, "report"));
    assert_non_null(strstr(kit_jstr(r.json, "report"), "inv. 14 ok"));
    th_resp_free(&r);
}

/* The shared fixture, and the buyer who spends big. */
static int
setup(void **state)
{
    if (mf_setup(state) < 0)
        return -1;
    kit_new_user("whale", whale_tok);
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_packs),
        cmocka_unit_test(test_purchase_idempotency),
        cmocka_unit_test(test_earnings_split),
        cmocka_unit_test(test_payouts),
        cmocka_unit_test(test_racing_payouts),
        cmocka_unit_test(test_licence_refund),
        cmocka_unit_test(test_refund_after_payout),
        cmocka_unit_test(test_pack_refund),
        cmocka_unit_test(test_race_wallet),
        cmocka_unit_test(test_race_same_key),
        cmocka_unit_test(test_books_balance),
    };

    return cmocka_run_group_tests(tests, setup, mf_teardown);
}
