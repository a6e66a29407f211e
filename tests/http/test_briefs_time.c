/* Stockroom — briefs over time, with brief days two seconds long: a brief
 * without submissions expires at its deadline and one whose buyer does
 * nothing is abandoned 14 days after it, both with the escrow returned by
 * the chore; submissions and feedback close at the deadline; awards close
 * 7 days after it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "brieffix.h"
#include "harness.h"
#include "kit.h"
#include "util.h"

#define DAY 2         /* seconds in a brief day here */
#define WAIT_MS 90000 /* longest wait for a brief to change */

static int
setup(void **state)
{
    (void)state;
    return bf_start("2");
}

static int
teardown(void **state)
{
    (void)state;
    return bf_stop();
}

struct want {
    const char *brief, *key, *value;
};

static int
brief_is(void *arg)
{
    struct want *w = arg;
    json_t *b = bf_brief(bf_buyer.tok, w->brief);
    json_t *v = json_object_get(b, w->key);
    int ok = json_is_string(v)
                 ? strcmp(json_string_value(v), w->value) == 0
                 : (json_is_true(v) ? 1 : 0) == (strcmp(w->value, "true") == 0);

    json_decref(b);
    return ok;
}

/* Wait until the brief's key reads value ("true"/"false" for booleans). */
static void
wait_brief(const char *brief, const char *key, const char *value)
{
    struct want w = {brief, key, value};

    if (!th_poll(brief_is, &w, WAIT_MS))
        fail_msg("brief %s: %s never became %s", brief, key, value);
}

/* Wait until the server's clock is past the brief's award window. */
static int
award_window_over(void *arg)
{
    const char *brief = arg;
    char path[128];
    struct th_resp r;
    long st;

    snprintf(path, sizeof path, "/api/v1/briefs/%s/awards", brief);
    st = kit_call("POST", path, bf_buyer.tok, NULL,
                  "{\"submission_ids\":[\"snosuch\"]}", &r);
    st = st == 409 && !strcmp(th_error_code(&r), "award_window_closed");
    th_resp_free(&r);
    return (int)st;
}

static void
test_expire_abandon_and_windows(void **state)
{
    char expire[64], abandon[64], award[64], late[64];
    char sa[64], sw[64], sl[64], path[200], body[128];
    int64_t before = bf_credits(&bf_buyer);
    json_t *b;

    (void)state;
    bf_post(&bf_buyer, 20, 1, 2 * DAY, expire);
    bf_post(&bf_buyer, 21, 1, 2 * DAY, abandon);
    bf_post(&bf_buyer, 22, 1, 2 * DAY, award);
    bf_post(&bf_buyer, 23, 1, 2 * DAY, late);
    bf_submit(&bf_c1, abandon, bf_c1.photo[0], 201, NULL, sa);
    bf_submit(&bf_c1, award, bf_c1.photo[1], 201, NULL, sw);
    bf_submit(&bf_c2, late, bf_c2.photo[0], 201, NULL, sl);
    assert_int_equal(bf_credits(&bf_buyer), before - 86);

    /* No submission at the deadline: the escrow comes back by itself. */
    wait_brief(expire, "status", "expired");
    b = bf_brief(bf_buyer.tok, expire);
    assert_int_equal(kit_jint(b, "escrow_credits"), 0);
    json_decref(b);

    /* After the deadline: no more answers, no more feedback. */
    wait_brief(abandon, "accepting_submissions", "false");
    bf_submit(&bf_c2, abandon, bf_c2.photo[1], 409, "deadline_passed", NULL);
    snprintf(path, sizeof path, "/api/v1/briefs/%s/submissions/%s/shortlist",
             abandon, sa);
    kit_check("PUT", path, bf_buyer.tok, NULL, 409, "deadline_passed",
              "shortlist late");
    snprintf(path, sizeof path, "/api/v1/briefs/%s/submissions/%s/comments",
             abandon, sa);
    kit_check("POST", path, bf_buyer.tok, "{\"text\":\"Late\"}", 409,
              "deadline_passed", "comment late");

    /* Awarding is still open after the deadline. */
    snprintf(path, sizeof path, "/api/v1/briefs/%s/awards", award);
    snprintf(body, sizeof body, "{\"submission_ids\":[\"%s\"]}", sw);
    kit_check("POST", path, bf_buyer.tok, body, 201, NULL, "award in time");

    /* ... until 7 days after it. */
    if (!th_poll(award_window_over, late, WAIT_MS))
        fail_msg("the award window of %s never closed", late);
    snprintf(path, sizeof path, "/api/v1/briefs/%s/awards", late);
    snprintf(body, sizeof body, "{\"submission_ids\":[\"%s\"]}", sl);
    kit_check("POST", path, bf_buyer.tok, body, 409, "award_window_closed",
              "award too late");

    /* The buyer did nothing: abandoned 14 days after the deadline. */
    wait_brief(abandon, "status", "abandoned");
    wait_brief(late, "status", "abandoned");
    b = bf_brief(NULL, abandon);
    assert_true(kit_jint(json_object_get(b, "buyer_record"), "abandoned") >= 2);
    assert_true(kit_jint(json_object_get(b, "buyer_record"), "expired") >= 1);
    assert_true(kit_jint(json_object_get(b, "buyer_record"), "awarded") >= 1);
    json_decref(b);
    /* Everything but the awarded bounty came back. */
    assert_int_equal(bf_credits(&bf_buyer), before - 22);
    assert_int_equal(tu_ledger_verify(bf_srv.dir), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expire_abandon_and_windows),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
