/* Stockroom — unit tests of the group-commit batcher: racing
 * sales through ledger_licence_create. */
#include "ledger_fx.h"

static void
test_race_wallet(void **state)
{
    struct fx *f = *state;
    enum { N = 100 };
    static struct race r[N];
    pthread_t t[N];
    int ok = 0, funds = 0;
    int64_t cash = 0;

    buy(f, f->buyer, 10, 1500, NULL);
    for (int i = 0; i < N; i++) {
        r[i] = (struct race){.f = f, .n = i};
        assert_int_equal(pthread_create(&t[i], NULL, race_licence, &r[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        ok += r[i].rc == DB_OK;
        funds += r[i].rc == DB_EFUNDS;
        if (r[i].rc == DB_OK)
            cash += r[i].l.cash_cents;
    }
    assert_int_equal(ok, 10);
    assert_int_equal(funds, N - 10);
    assert_int_equal(cash, 1500);
    assert_int_equal(wallet(f, f->buyer), 0);
    assert_int_equal(count(f, "SELECT count(*) FROM licences"), 10);
    verify_ok(f);
}

static void
test_race_same_key(void **state)
{
    struct fx *f = *state;
    enum { N = 20 };
    static struct race r[N];
    pthread_t t[N];
    int fresh = 0;

    buy(f, f->buyer, 10, 1500, NULL);
    for (int i = 0; i < N; i++) {
        r[i] = (struct race){.f = f, .n = i, .key = "one-key"};
        assert_int_equal(pthread_create(&t[i], NULL, race_licence, &r[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(r[i].rc, DB_OK);
        assert_string_equal(r[i].l.id, r[0].l.id);
        fresh += !r[i].l.replayed;
    }
    assert_int_equal(fresh, 1);
    assert_int_equal(wallet(f, f->buyer), 9);
    assert_int_equal(count(f, "SELECT count(*) FROM licences"), 1);
    verify_ok(f);
}

/* Sales that arrive together share one transaction (group commit), each
 * under its own savepoint: replays, reused keys, sales short of credits
 * and sales that fail on a constraint mid-way must each come out as if
 * alone, and undo nothing of their neighbours. */
static void
test_race_mixed(void **state)
{
    struct fx *f = *state;
    enum { N = 80 };
    static struct race r[N];
    struct race first = {.key = "dup"};
    pthread_t t[N];
    int ok = 0, funds = 0, replays = 0, reused = 0, bad = 0;

    buy(f, f->buyer, 10, 1500, NULL);
    buy(f, f->buyer2, 10, 1500, NULL);
    first.f = f;
    race_licence(&first);
    assert_int_equal(first.rc, DB_OK);
    for (int i = 0; i < N; i++) {
        r[i] = (struct race){.f = f, .n = i};
        if (i % 4 == 0) {
            r[i].key = "dup"; /* the same sale again */
        } else if (i % 8 == 1) {
            r[i].key = "dup"; /* that key, another sale */
            r[i].hash = "other";
        } else if (i % 8 == 3) {
            r[i].contrib = "nobody"; /* fails on a foreign key */
            r[i].buyer = f->buyer2;
        }
        assert_int_equal(pthread_create(&t[i], NULL, race_licence, &r[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        if (i % 4 == 0) {
            assert_int_equal(r[i].rc, DB_OK);
            assert_true(r[i].l.replayed);
            assert_string_equal(r[i].l.id, first.l.id);
            replays++;
        } else if (i % 8 == 1) {
            assert_int_equal(r[i].rc, DB_EREUSED);
            reused++;
        } else if (i % 8 == 3) {
            assert_int_equal(r[i].rc, DB_ECONFLICT);
            bad++;
        } else {
            assert_true(r[i].rc == DB_OK || r[i].rc == DB_EFUNDS);
            ok += r[i].rc == DB_OK;
            funds += r[i].rc == DB_EFUNDS;
            assert_true(r[i].rc != DB_OK || !r[i].l.replayed);
        }
    }
    assert_int_equal(replays, N / 4);
    assert_int_equal(reused, N / 8);
    assert_int_equal(ok, 9);
    assert_int_equal(ok + funds, N - N / 4 - N / 8 - N / 8);
    assert_int_equal(bad, N / 8);
    assert_int_equal(wallet(f, f->buyer), 0);
    assert_int_equal(wallet(f, f->buyer2), 10);
    assert_int_equal(count(f, "SELECT count(*) FROM licences"), 10);
    assert_int_equal(count(f, "SELECT lifetime_sold FROM contributor_stats"),
                     10);
    verify_ok(f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_race_wallet, setup, teardown),
        cmocka_unit_test_setup_teardown(test_race_same_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_race_mixed, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
