/* Stockroom — unit tests of the group-commit batcher: one batch run by
 * hand, racing sales through ledger_licence_create, and the drain. */
#include "ledger_fixture.h"
#include "ledgerint.h"

/* A sale request with its own key, for jobs queued by hand. */
struct job_req {
    char key[32];
    struct ledger_licence_req req;
    struct ledger_licence out;
    char err[DB_ERR_LEN];
};

static void
job_init(struct job_req *q, struct ledger__job *j, const char *buyer,
         const char *contrib, const char *key, const char *hash)
{
    snprintf(q->key, sizeof q->key, "%s", key);
    q->req = (struct ledger_licence_req){
        .buyer_id = buyer,
        .image_id = "batch",
        .contributor_id = contrib,
        .size = "S",
        .type = "standard",
        .credits = 1,
        .idem_key = q->key,
        .request_hash = hash,
    };
    *j = (struct ledger__job){.req = &q->req, .out = &q->out, .err = q->err};
}

/* A sale whose idempotency key is "boom" fails at its last write, after
 * its journal, licence and lot use are written: a trigger only this test
 * adds. */
static void
add_boom(struct fx *f)
{
    sqlite3 *c = raw_open(f, 1);

    assert_int_equal(
        sqlite3_exec(c,
                     "CREATE TRIGGER test_boom BEFORE INSERT ON "
                     "idempotency_keys WHEN NEW.key = 'boom' BEGIN "
                     "SELECT RAISE(ABORT, 'boom'); END",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(c);
}

/* One batch of seven sales in one transaction: the good ones are committed
 * once each; a sale short of credits, one reusing a key, one failing on a
 * foreign key at its first write and one failing at its last write undo
 * themselves alone, under their savepoints. */
static void
test_batch_failure_undoes_only_itself(void **state)
{
    struct fx *f = *state;
    enum { N = 7 };
    struct job_req q[N];
    struct ledger__job j[N];
    int64_t journals;

    buy(f, f->buyer, 3, 300, NULL);
    buy(f, f->buyer2, 2, 200, NULL);
    add_boom(f);
    job_init(&q[0], &j[0], f->buyer, f->contrib, "k0", "h");
    job_init(&q[1], &j[1], f->buyer2, "nobody", "k1", "h"); /* foreign key */
    job_init(&q[2], &j[2], f->buyer, f->contrib, "k0", "other"); /* reused */
    job_init(&q[3], &j[3], f->buyer, f->contrib, "k3", "h");
    job_init(&q[4], &j[4], f->admin, f->contrib, "k4", "h"); /* no credits */
    job_init(&q[5], &j[5], f->buyer2, f->contrib, "boom", "h");
    job_init(&q[6], &j[6], f->buyer, f->contrib, "k6", "h");
    for (int i = 0; i + 1 < N; i++)
        j[i].next = &j[i + 1];
    journals = count(f, "SELECT count(*) FROM journals");

    ledger__batch_run(f->db, j);

    assert_int_equal(j[0].rc, DB_OK);
    assert_int_equal(j[1].rc, DB_ECONFLICT);
    assert_int_equal(j[2].rc, DB_EREUSED);
    assert_int_equal(j[3].rc, DB_OK);
    assert_int_equal(j[4].rc, DB_EFUNDS);
    assert_int_equal(j[5].rc, DB_ECONFLICT);
    assert_int_equal(j[6].rc, DB_OK);
    assert_string_not_equal(q[0].out.id, q[3].out.id);
    assert_string_not_equal(q[3].out.id, q[6].out.id);
    assert_int_equal(count(f, "SELECT count(*) FROM licences"), 3);
    assert_int_equal(count(f, "SELECT count(*) FROM journals"), journals + 3);
    assert_int_equal(count(f, "SELECT count(*) FROM idempotency_keys "
                              "WHERE scope = 'licence'"),
                     3);
    assert_int_equal(wallet(f, f->buyer), 0);
    assert_int_equal(wallet(f, f->buyer2), 2); /* both spends undone */
    assert_int_equal(count(f, "SELECT count(*) FROM licence_lots"), 3);
    assert_int_equal(wallet(f, f->admin), 0);
    assert_int_equal(count(f, "SELECT count(*) FROM contributor_stats "
                              "WHERE contributor_id = 'nobody'"),
                     0);
    assert_int_equal(count(f, "SELECT lifetime_sold FROM contributor_stats"),
                     3);
    verify_ok(f);
}

/* A lone job runs without a savepoint: its failure, even at its last
 * write, rolls the whole transaction back and leaves nothing behind. */
static void
test_batch_lone_failure(void **state)
{
    struct fx *f = *state;
    struct job_req q;
    struct ledger__job j;
    int64_t journals;

    buy(f, f->buyer2, 1, 100, NULL);
    add_boom(f);
    journals = count(f, "SELECT count(*) FROM journals");
    job_init(&q, &j, f->buyer2, f->contrib, "boom", "h");
    ledger__batch_run(f->db, &j);
    assert_int_equal(j.rc, DB_ECONFLICT);
    assert_int_equal(wallet(f, f->buyer2), 1);
    assert_int_equal(count(f, "SELECT count(*) FROM licences"), 0);
    assert_int_equal(count(f, "SELECT count(*) FROM journals"), journals);
    assert_int_equal(count(f, "SELECT count(*) FROM contributor_stats"), 0);
    assert_int_equal(count(f, "SELECT count(*) FROM idempotency_keys "
                              "WHERE scope = 'licence'"),
                     0);
    verify_ok(f);
}

/* Many submitters with credits for all: every sale is committed exactly
 * once (a replay of each key finds the same licence, charged once), and
 * once they have all returned the batcher holds no lane and no queued
 * sale: closing the database then loses nothing. */
static void
test_batch_concurrent_once_and_drain(void **state)
{
    struct fx *f = *state;
    enum { N = 48 };
    static struct race r[N];
    pthread_t t[N];

    buy(f, f->buyer, N, N * 100, NULL);
    for (int i = 0; i < N; i++) {
        r[i] = (struct race){.f = f, .n = i, .rc = 1};
        assert_int_equal(pthread_create(&t[i], NULL, race_licence, &r[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(r[i].rc, DB_OK);
        assert_false(r[i].l.replayed);
        assert_int_equal(r[i].l.cash_cents, 100);
    }
    assert_true(ledger__batch_idle());
    assert_int_equal(wallet(f, f->buyer), 0);
    assert_int_equal(count(f, "SELECT count(DISTINCT id) FROM licences"), N);
    assert_int_equal(count(f, "SELECT count(*) FROM journals "
                              "WHERE kind = 'licence'"),
                     N);
    for (int i = 0; i < N; i++) {
        struct race again = r[i];

        race_licence(&again);
        assert_int_equal(again.rc, DB_OK);
        assert_true(again.l.replayed);
        assert_string_equal(again.l.id, r[i].l.id);
    }
    assert_true(ledger__batch_idle());
    db_close(f->db);
    assert_int_equal(db_open(f->path, &f->db, err), DB_OK);
    assert_int_equal(count(f, "SELECT count(*) FROM licences"), N);
    assert_int_equal(wallet(f, f->buyer), 0);
    verify_ok(f);
}

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
        cmocka_unit_test_setup_teardown(test_batch_failure_undoes_only_itself,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_lone_failure, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_batch_concurrent_once_and_drain,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_race_wallet, setup, teardown),
        cmocka_unit_test_setup_teardown(test_race_same_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_race_mixed, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
