/* Stockroom — unit tests of the Stripe-Signature check, against headers
 * made by Stripe's own stripe-node (webhooks.generateTestHeaderString). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "stripe_sig.h"

/* Made with stripe-node 17.7 at t=1700000000. */
static const char BODY[] =
    "{\"id\":\"evt_1\",\"type\":\"checkout.session.completed\",\"data\":"
    "{\"object\":{\"id\":\"cs_1\",\"amount_total\":1500}}}";
#define T0 1700000000
#define SIG_MAIN                                                               \
    "07458764b1437a230a955f79d93601c65fe3e0e82900c301c0d4719ccc6937ee"
#define SIG_ROTATED                                                            \
    "f0febe55e1e547508edf8355c4fa8a4bbbaa56e5241ce1012aedb2cf1f3f7002"
#define SIG_EMPTY                                                              \
    "316b9ab98c15bfa039d243f3196acee619cf29749a91a634e6a8154e2f7b6727"

static int
check(const char *h, const char *body, const char *secrets, int64_t now)
{
    return stripe_sig_verify(h, body, strlen(body), secrets, now,
                             STRIPE_SIG_TOLERANCE);
}

static void
test_valid(void **state)
{
    (void)state;
    assert_int_equal(
        check("t=1700000000,v1=" SIG_MAIN, BODY, "whsec_test_secret", T0),
        STRIPE_SIG_OK);
    assert_int_equal(check(" t=1700000000 , v0=abc, v1=" SIG_MAIN, BODY,
                           "whsec_test_secret", T0 + 299),
                     STRIPE_SIG_OK);
    assert_int_equal(
        check("t=1700000000,v1=" SIG_EMPTY, "", "whsec_test_secret", T0),
        STRIPE_SIG_OK);
}

static void
test_rotation(void **state)
{
    (void)state;
    /* Either secret of a rotation, and any v1 of several. */
    assert_int_equal(check("t=1700000000,v1=" SIG_ROTATED, BODY,
                           "whsec_test_secret, whsec_rotated", T0),
                     STRIPE_SIG_OK);
    assert_int_equal(check("t=1700000000,v1=" SIG_ROTATED ",v1=" SIG_MAIN, BODY,
                           "whsec_test_secret", T0),
                     STRIPE_SIG_OK);
    assert_int_equal(
        check("t=1700000000,v1=" SIG_ROTATED, BODY, "whsec_test_secret", T0),
        STRIPE_SIG_EMISMATCH);
}

static void
test_tampered(void **state)
{
    char body[sizeof BODY];

    (void)state;
    memcpy(body, BODY, sizeof body);
    body[sizeof body - 6] = '9'; /* 1500 -> 1900 */
    assert_int_equal(
        check("t=1700000000,v1=" SIG_MAIN, body, "whsec_test_secret", T0),
        STRIPE_SIG_EMISMATCH);
    assert_int_equal(
        check("t=1700000001,v1=" SIG_MAIN, BODY, "whsec_test_secret", T0),
        STRIPE_SIG_EMISMATCH);
    assert_int_equal(
        check("t=1700000000,v1=" SIG_MAIN, BODY, "whsec_wrong", T0),
        STRIPE_SIG_EMISMATCH);
}

static void
test_time(void **state)
{
    (void)state;
    assert_int_equal(
        check("t=1700000000,v1=" SIG_MAIN, BODY, "whsec_test_secret", T0 + 301),
        STRIPE_SIG_ESTALE);
    assert_int_equal(
        check("t=1700000000,v1=" SIG_MAIN, BODY, "whsec_test_secret", T0 - 301),
        STRIPE_SIG_ESTALE);
}

static void
test_malformed(void **state)
{
    char big[STRIPE_SIG_HEADER_MAX + 64];

    (void)state;
    assert_int_equal(check(NULL, BODY, "s", T0), STRIPE_SIG_EMISSING);
    assert_int_equal(check("", BODY, "s", T0), STRIPE_SIG_EMISSING);
    assert_int_equal(check("v1=" SIG_MAIN, BODY, "s", T0), STRIPE_SIG_EMISSING);
    assert_int_equal(check("t=1700000000", BODY, "s", T0), STRIPE_SIG_EMISSING);
    assert_int_equal(check("t=1700000000,v0=" SIG_MAIN, BODY, "s", T0),
                     STRIPE_SIG_EMISSING);
    assert_int_equal(check("t=17x0000000,v1=" SIG_MAIN, BODY, "s", T0),
                     STRIPE_SIG_EMALFORMED);
    assert_int_equal(check("t=1,t=1700000000,v1=" SIG_MAIN, BODY, "s", T0),
                     STRIPE_SIG_EMALFORMED);
    assert_int_equal(check("t=1700000000,v1=abc", BODY, "s", T0),
                     STRIPE_SIG_EMALFORMED);
    assert_int_equal(
        check("t=99999999999999999999,v1=" SIG_MAIN, BODY, "s", T0),
        STRIPE_SIG_EMALFORMED);
    assert_int_equal(check("t=1700000000,garbage,v1=" SIG_MAIN, BODY, "s", T0),
                     STRIPE_SIG_EMALFORMED);
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(check(big, BODY, "s", T0), STRIPE_SIG_EMALFORMED);
    assert_int_equal(check("t=1700000000,v1=" SIG_MAIN, BODY, "", T0),
                     STRIPE_SIG_ENOSECRET);
    assert_int_equal(check("t=1700000000,v1=" SIG_MAIN, BODY, " , ", T0),
                     STRIPE_SIG_ENOSECRET);
    assert_non_null(strstr(stripe_sig_str(STRIPE_SIG_ESTALE), "timestamp"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),     cmocka_unit_test(test_rotation),
        cmocka_unit_test(test_tampered),  cmocka_unit_test(test_time),
        cmocka_unit_test(test_malformed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
