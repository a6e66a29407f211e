/* Stockroom — awards survive kill -9: many briefs awarded at once from
 * several threads, the server killed in the middle, then the books checked
 * on disk (each brief wholly awarded or wholly in escrow), the awards
 * asked again (each paid once), and the books checked again. */
#include <pthread.h>
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

#define BRIEFS 12
#define ROUNDS 3

static int
setup(void **state)
{
    (void)state;
    return bf_start("3600");
}

static int
teardown(void **state)
{
    (void)state;
    return bf_stop();
}

struct award {
    char brief[64];
    char path[128];
    char body[256];
    long status;
};

static struct award awards[BRIEFS];
static int answered; /* awards answered 201 in this round, racy on purpose */

static void *
fire(void *arg)
{
    struct award *a = arg;
    struct th_resp r;

    a->status = kit_try("POST", a->path, bf_buyer.tok, NULL, a->body, &r);
    if (a->status == 201)
        __atomic_add_fetch(&answered, 1, __ATOMIC_SEQ_CST);
    th_resp_free(&r);
    return NULL;
}

static int
some_answered(void *arg)
{
    (void)arg;
    return __atomic_load_n(&answered, __ATOMIC_SEQ_CST) > 0;
}

/* Each brief is wholly awarded or wholly in escrow: the books say so. */
static void
books_ok(const char *when)
{
    int v = tu_ledger_verify(bf_srv.dir);

    if (v != 0)
        fail_msg("%s: stockroom ledger verify exited %d", when, v);
}

static void
test_kill_during_awards(void **state)
{
    pthread_t t[BRIEFS];
    int64_t before;

    (void)state;
    kit_buy(bf_buyer.tok, "100", NULL);
    for (int i = 0; i < BRIEFS; i++) {
        char s1[64], s2[64];

        bf_post(&bf_buyer, 20 + i, 2, 40 * 3600, awards[i].brief);
        bf_submit(&bf_c1, awards[i].brief, bf_c1.photo[i % BF_PHOTOS], 201,
                  NULL, s1);
        bf_submit(&bf_c2, awards[i].brief, bf_c2.photo[i % BF_PHOTOS], 201,
                  NULL, s2);
        snprintf(awards[i].path, sizeof awards[i].path,
                 "/api/v1/briefs/%.63s/awards", awards[i].brief);
        snprintf(awards[i].body, sizeof awards[i].body,
                 "{\"submission_ids\":[\"%.63s\",\"%.63s\"]}", s1, s2);
    }
    before = bf_credits(&bf_buyer);
    for (int round = 0; round < ROUNDS; round++) {
        answered = 0;
        for (int i = 0; i < BRIEFS; i++)
            assert_int_equal(pthread_create(&t[i], NULL, fire, &awards[i]), 0);
        /* Kill it once the first award is through, others in flight. */
        th_poll(some_answered, NULL, 20000);
        th_crash(&bf_srv);
        for (int i = 0; i < BRIEFS; i++)
            pthread_join(t[i], NULL);
        books_ok("after kill -9");
        assert_int_equal(bf_restart(), 0);
        books_ok("after restart");
    }
    /* Whatever the crashes left, asking again pays each brief once. */
    for (int i = 0; i < BRIEFS; i++) {
        struct th_resp r;
        long st = kit_call("POST", awards[i].path, bf_buyer.tok, NULL,
                           awards[i].body, &r);

        if (st != 200 && st != 201)
            fail_msg("award %d after the crashes: %ld %s", i, st, r.body);
        th_resp_free(&r);
        {
            json_t *b = bf_brief(bf_buyer.tok, awards[i].brief);

            assert_string_equal(kit_jstr(b, "status"), "awarded");
            assert_int_equal(kit_jint(b, "escrow_credits"), 0);
            json_decref(b);
        }
    }
    /* The bounties left the wallet when posted, never again. */
    assert_int_equal(bf_credits(&bf_buyer), before);
    books_ok("after the awards");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_during_awards),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
