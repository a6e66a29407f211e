/* Stockroom — paying contributors through Stripe Connect, against the fake
 * Stripe API: no payout without an enabled account, onboarding through the
 * hosted page and account.updated, a transfer per payout, a refused
 * transfer giving the money back, and the books after each. */
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
#include "stripefix.h"
#include "util.h"

#define IMAGE "real/17-plasma-BytheWater-2560x1600.jpg"

static char contrib[128], admin[128], buyer[128];

static long long
balance_cents(void)
{
    json_t *e =
        kit_want("GET", "/api/v1/me/earnings", contrib, NULL, 200, NULL);
    long long b = kit_jint(e, "balance_cents");

    json_decref(e);
    return b;
}

/* A sale of the contributor's photo, so there is a balance to pay out. */
static void
make_balance(void)
{
    const char *fields[] = {"title", "By the water", "keywords",
                            "water, lake, evening, calm, blue", NULL};
    char path[512], image[64], pid[64], sid[80], lic[200];
    struct th_resp r;

    if (th_upload(&sf_srv, "/api/v1/images", contrib,
                  th_corpus(IMAGE, path, sizeof path), "photo.jpg", fields,
                  &r) < 0)
        fail_msg("upload: no answer");
    kit_expect(&r, 202, NULL, "upload");
    snprintf(image, sizeof image, "%s", kit_jstr(r.json, "id"));
    th_resp_free(&r);
    kit_approve(contrib, admin, image);
    sf_buy(buyer, pid, sid);
    snprintf(path, sizeof path, "/pay/%s/pay", sid);
    sf_fake_post(path, NULL, &r);
    th_resp_free(&r);
    sf_wait_status(buyer, pid, "settled");
    snprintf(lic, sizeof lic,
             "{\"image_id\":\"%s\",\"size\":\"XL\",\"type\":\"standard\"}",
             image);
    {
        char key[64];

        kit_fresh_key(key, "licence");
        kit_call("POST", "/api/v1/licences", buyer, key, lic, &r);
        kit_expect(&r, 201, NULL, "licence");
        th_resp_free(&r);
    }
}

static int
setup(void **state)
{
    if (sf_setup(state) < 0)
        return -1;
    kit_staff("boss", "admin", admin);
    kit_new_user("payee", contrib);
    kit_new_user("patron", buyer);
    return 0;
}

static void
test_no_payout_without_account(void **state)
{
    json_t *a;

    (void)state;
    a = kit_want("GET", "/api/v1/me/payout-account", contrib, NULL, 200, NULL);
    assert_string_equal(kit_jstr(a, "status"), "none");
    json_decref(a);
    kit_check("POST", "/api/v1/payouts", contrib, "{\"amount_cents\":100}", 409,
              "payout_account_required", "payout without account");
    sf_books_balance();
}

static void
test_onboard_then_paid(void **state)
{
    json_t *a, *p;
    struct th_resp r;
    char url[300], path[200];
    long until;
    long long before;

    (void)state;
    a = kit_want("POST", "/api/v1/me/payout-account", contrib, NULL, 201, NULL);
    assert_string_equal(kit_jstr(a, "status"), "onboarding");
    snprintf(url, sizeof url, "%s", kit_jstr(a, "onboarding_url"));
    assert_true(!strncmp(url, sf_fake.base, strlen(sf_fake.base)));
    snprintf(path, sizeof path, "%s", url + strlen(sf_fake.base));
    json_decref(a);
    /* Created once: asking again gives a new link to the same account. */
    a = kit_want("POST", "/api/v1/me/payout-account", contrib, NULL, 201, NULL);
    assert_string_equal(kit_jstr(a, "onboarding_url"), url);
    json_decref(a);
    kit_check("POST", "/api/v1/payouts", contrib, "{\"amount_cents\":100}", 409,
              "payout_account_required", "payout while onboarding");
    sf_fake_post(path, NULL, &r); /* Finish: account.updated is sent */
    assert_int_equal(r.status, 303);
    th_resp_free(&r);
    until = tu_now_ms() + DEADLINE_MS;
    for (;;) {
        a = kit_want("GET", "/api/v1/me/payout-account", contrib, NULL, 200,
                     NULL);
        if (json_is_true(json_object_get(a, "payouts_enabled")))
            break;
        json_decref(a);
        if (tu_now_ms() > until)
            fail_msg("payouts never enabled");
        usleep(20000);
    }
    assert_string_equal(kit_jstr(a, "status"), "enabled");
    json_decref(a);
    make_balance();
    before = balance_cents();
    assert_true(before >= 100);
    p = kit_want("POST", "/api/v1/payouts", contrib, "{\"amount_cents\":100}",
                 201, NULL);
    assert_string_equal(kit_jstr(p, "status"), "paid");
    json_decref(p);
    assert_int_equal(balance_cents(), before - 100);
    sf_books_balance();
}

static void
test_transfer_refused(void **state)
{
    long long before = balance_cents();

    (void)state;
    sf_control("refuse_transfers", "{\"on\":true}");
    kit_check("POST", "/api/v1/payouts", contrib, "{\"amount_cents\":100}", 502,
              "transfer_refused", "refused transfer");
    sf_control("refuse_transfers", "{\"on\":false}");
    assert_int_equal(balance_cents(), before);
    {
        json_t *l =
            kit_want("GET", "/api/v1/me/payouts", contrib, NULL, 200, NULL);

        assert_string_equal(
            kit_jstr(json_array_get(json_object_get(l, "items"), 0), "status"),
            "failed");
        json_decref(l);
    }
    sf_books_balance();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_payout_without_account),
        cmocka_unit_test(test_onboard_then_paid),
        cmocka_unit_test(test_transfer_refused),
    };

    return cmocka_run_group_tests(tests, setup, sf_teardown);
}
