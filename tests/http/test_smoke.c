/* Stockroom — smoke test: the server starts, answers, and stops cleanly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "harness.h"

static struct th_server srv;

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
    return rc;
}

static void
test_healthz(void **state)
{
    struct th_resp r;

    (void)state;
    assert_int_equal(th_req(&srv, "GET", "/healthz", NULL, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "status")),
                        "ok");
    th_resp_free(&r);
}

static void
test_signup_login_me(void **state)
{
    char token[128], auth[200];
    const char *hdrs[2] = {NULL, NULL};
    struct th_resp r;

    (void)state;
    th_new_user(&srv, "smoke", token);
    hdrs[0] = th_bearer(token, auth, sizeof auth);
    assert_int_equal(th_req(&srv, "GET", "/api/v1/me", hdrs, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "name")),
                        "smoke");
    th_resp_free(&r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_healthz),
        cmocka_unit_test(test_signup_login_me),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
