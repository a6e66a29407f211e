/* Stockroom — unit tests of the status tables (db/status.h): every value
 * goes to the text the schema stores and back, and nothing else parses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "status.h"

/* Text no table holds: near misses of real values, and the values of the
 * other tables where they differ. */
static const char *const strangers[] = {
    "",        "Approved", "approved ",  " approved",  "pending-review",
    "PENDING", "drafts",   "withdrawn ", "taken-down", "unknown",
    "proces",  "paidd",    "approved\n", NULL};

static void
test_image_status(void **state)
{
    static const char *const want[DB_IMG_N] = {
        "processing", "pending_review", "approved",  "rejected",
        "failed",     "draft",          "withdrawn", "taken_down"};
    enum db_img_status got;

    (void)state;
    for (int i = 0; i < DB_IMG_N; i++) {
        assert_string_equal(db_status_img_str((enum db_img_status)i), want[i]);
        assert_int_equal(db_status_img_parse(want[i], &got), DB_OK);
        assert_int_equal(got, i);
    }
    assert_null(db_status_img_str(DB_IMG_N));
    assert_null(db_status_img_str((enum db_img_status) - 1));
    got = DB_IMG_FAILED;
    for (int i = 0; strangers[i]; i++)
        assert_int_equal(db_status_img_parse(strangers[i], &got), DB_EINVAL);
    assert_int_equal(db_status_img_parse("queued", &got), DB_EINVAL);
    assert_int_equal(db_status_img_parse(NULL, &got), DB_EINVAL);
    assert_int_equal(got, DB_IMG_FAILED); /* untouched on failure */
}

static void
test_job_state(void **state)
{
    static const char *const want[DB_JOB_N] = {"queued", "running", "done",
                                               "failed"};
    enum db_job_state got;

    (void)state;
    for (int i = 0; i < DB_JOB_N; i++) {
        assert_string_equal(db_status_job_str((enum db_job_state)i), want[i]);
        assert_int_equal(db_status_job_parse(want[i], &got), DB_OK);
        assert_int_equal(got, i);
    }
    assert_null(db_status_job_str(DB_JOB_N));
    got = DB_JOB_DONE;
    for (int i = 0; strangers[i]; i++)
        assert_int_equal(db_status_job_parse(strangers[i], &got), DB_EINVAL);
    assert_int_equal(db_status_job_parse("approved", &got), DB_EINVAL);
    assert_int_equal(db_status_job_parse(NULL, &got), DB_EINVAL);
    assert_int_equal(got, DB_JOB_DONE);
}

static void
test_purchase_status(void **state)
{
    static const char *const want[DB_PURCHASE_N] = {"pending", "settled",
                                                    "refunded"};
    enum db_purchase_status got;

    (void)state;
    for (int i = 0; i < DB_PURCHASE_N; i++) {
        assert_string_equal(db_status_purchase_str((enum db_purchase_status)i),
                            want[i]);
        assert_int_equal(db_status_purchase_parse(want[i], &got), DB_OK);
        assert_int_equal(got, i);
    }
    assert_null(db_status_purchase_str(DB_PURCHASE_N));
    got = DB_PURCHASE_SETTLED;
    for (int i = 0; strangers[i]; i++)
        assert_int_equal(db_status_purchase_parse(strangers[i], &got),
                         DB_EINVAL);
    assert_int_equal(db_status_purchase_parse("paid", &got), DB_EINVAL);
    assert_int_equal(db_status_purchase_parse(NULL, &got), DB_EINVAL);
    assert_int_equal(got, DB_PURCHASE_SETTLED);
}

static void
test_payout_status(void **state)
{
    static const char *const want[DB_PAYOUT_N] = {"requested", "paid",
                                                  "failed"};
    enum db_payout_status got;

    (void)state;
    for (int i = 0; i < DB_PAYOUT_N; i++) {
        assert_string_equal(db_status_payout_str((enum db_payout_status)i),
                            want[i]);
        assert_int_equal(db_status_payout_parse(want[i], &got), DB_OK);
        assert_int_equal(got, i);
    }
    assert_null(db_status_payout_str(DB_PAYOUT_N));
    got = DB_PAYOUT_PAID;
    for (int i = 0; strangers[i]; i++)
        assert_int_equal(db_status_payout_parse(strangers[i], &got), DB_EINVAL);
    assert_int_equal(db_status_payout_parse("settled", &got), DB_EINVAL);
    assert_int_equal(db_status_payout_parse(NULL, &got), DB_EINVAL);
    assert_int_equal(got, DB_PAYOUT_PAID);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_image_status),
        cmocka_unit_test(test_job_state),
        cmocka_unit_test(test_purchase_status),
        cmocka_unit_test(test_payout_status),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
