/* Stockroom — unit tests of earnings reports and payouts. */
#include "ledger_fixture.h"

static void *
race_payout(void *arg)
{
    struct race *r = arg;
    char e[DB_ERR_LEN];
    struct ledger_payout p;

    r->rc = ledger_payout_request(r->f->db, r->f->contrib, r->amount, 2500,
                                  NULL, &p, e);
    return NULL;
}

static void
test_payouts(void **state)
{
    struct fx *f = *state;
    enum { N = 16 };
    static struct race r[N];
    pthread_t t[N];
    struct ledger_payout p, q;
    struct ledger_payout_list pl;
    const enum db_payout_status requested = DB_PAYOUT_REQUESTED;
    struct ledger_earnings e;
    int64_t bal, took = 0;
    int ok = 0;

    buy(f, f->buyer, 100, 11000, NULL);
    buy(f, f->buyer, 100, 11000, NULL);
    for (int i = 0; i < 5; i++)
        assert_int_equal(sell(f, f->buyer, f->contrib, "x", 36, NULL, 0, NULL),
                         DB_OK);
    bal = 5 * 990;
    assert_int_equal(
        ledger_payout_request(f->db, f->contrib, 2499, 2500, NULL, &p, err),
        DB_EINVAL);
    assert_int_equal(
        ledger_payout_request(f->db, f->contrib, bal + 1, 2500, NULL, &p, err),
        DB_EFUNDS);
    /* Racing requests of 2600 each against 4950: exactly one fits. */
    for (int i = 0; i < N; i++) {
        r[i] = (struct race){.f = f, .n = i, .amount = 2600};
        assert_int_equal(pthread_create(&t[i], NULL, race_payout, &r[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        if (r[i].rc == DB_OK) {
            ok++;
            took += r[i].amount;
        } else {
            assert_int_equal(r[i].rc, DB_EFUNDS);
        }
    }
    assert_int_equal(ok, 1);
    assert_true(took <= bal);
    assert_int_equal(ledger_earnings(f->db, f->contrib, NULL, 0, 10, &e, err),
                     DB_OK);
    assert_int_equal(e.balance_cents, bal - 2600);
    assert_int_equal(e.pending_cents, 2600);
    ledger_earnings_release(&e);
    verify_ok(f);
    /* Failed: the money comes back; settled twice: a conflict. */
    assert_int_equal(
        ledger_payouts(f->db, f->contrib, &requested, NULL, 10, &pl, err),
        DB_OK);
    assert_int_equal(pl.n, 1);
    snprintf(q.id, sizeof q.id, "%s", pl.items[0].id);
    ledger_payout_list_release(&pl);
    assert_int_equal(ledger_payout_settle(f->db, q.id, 0, &p, err), DB_OK);
    assert_int_equal(p.status, DB_PAYOUT_FAILED);
    assert_int_equal(ledger_payout_settle(f->db, q.id, 1, &p, err),
                     DB_ECONFLICT);
    assert_int_equal(ledger_payout_settle(f->db, "onope", 1, &p, err),
                     DB_ENOTFOUND);
    /* An idempotent request. */
    assert_int_equal(
        ledger_payout_request(f->db, f->contrib, 4950, 2500, "pk", &p, err),
        DB_OK);
    assert_int_equal(
        ledger_payout_request(f->db, f->contrib, 4950, 2500, "pk", &q, err),
        DB_OK);
    assert_int_equal(q.replayed, 1);
    assert_string_equal(p.id, q.id);
    assert_int_equal(
        ledger_payout_request(f->db, f->contrib, 3000, 2500, "pk", &q, err),
        DB_EREUSED);
    assert_int_equal(ledger_payout_settle(f->db, p.id, 1, &p, err), DB_OK);
    assert_int_equal(ledger_earnings(f->db, f->contrib, NULL, 0, 10, &e, err),
                     DB_OK);
    assert_int_equal(e.balance_cents, 0);
    assert_int_equal(e.pending_cents, 0);
    assert_int_equal(e.lifetime_cents, bal);
    ledger_earnings_release(&e);
    assert_int_equal(ledger_payouts(f->db, NULL, NULL, NULL, 1, &pl, err),
                     DB_OK);
    assert_int_equal(pl.n, 1);
    assert_int_equal(pl.items[0].status, DB_PAYOUT_PAID);
    assert_string_not_equal(pl.next_cursor, "");
    {
        struct ledger_payout_list more;

        assert_int_equal(
            ledger_payouts(f->db, NULL, NULL, pl.next_cursor, 5, &more, err),
            DB_OK);
        assert_int_equal(more.n, 1);
        assert_int_equal(more.items[0].status, DB_PAYOUT_FAILED);
        assert_string_equal(more.next_cursor, "");
        ledger_payout_list_release(&more);
    }
    ledger_payout_list_release(&pl);
    assert_int_equal(count(f, "SELECT balance FROM accounts "
                              "WHERE id = 'payouts_paid'"),
                     4950);
    verify_ok(f);
}

/* Earnings and lists. */

static void
test_earnings_and_lists(void **state)
{
    struct fx *f = *state;
    struct ledger_licence l[5], r;
    struct ledger_licence_list ll, more;
    struct ledger_earnings e;
    static const char *img[5] = {"a", "b", "a", "c", "a"};

    buy(f, f->buyer, 100, 11000, NULL);
    for (int i = 0; i < 5; i++)
        assert_int_equal(
            sell(f, f->buyer, f->contrib, img[i], 2, NULL, 0, &l[i]), DB_OK);
    assert_int_equal(ledger_licence_refund(f->db, l[3].id, f->admin, &r, err),
                     DB_OK);
    assert_int_equal(ledger_earnings(f->db, f->contrib, NULL, 0, 10, &e, err),
                     DB_OK);
    assert_int_equal(e.licences_sold, 5);
    assert_int_equal(e.lifetime_cents, 4 * 55);
    assert_int_equal(e.balance_cents, 4 * 55);
    assert_int_equal(e.n_by_image, 2);
    assert_string_equal(e.by_image[0].image_id, "a");
    assert_int_equal(e.by_image[0].licences, 3);
    assert_int_equal(e.by_image[0].cents, 165);
    assert_int_equal(e.n_by_month, 1);
    assert_int_equal(strlen(e.by_month[0].month), 7);
    assert_int_equal(e.by_month[0].licences, 4);
    assert_int_equal(e.n_sales, 5);
    assert_string_equal(e.sales[0].id, l[4].id);
    assert_true(e.sales[1].refunded_at > 0);
    assert_int_equal(e.sales[0].cash_cents, 220);
    assert_int_equal(e.sales[0].rate_bp, 2500);
    ledger_earnings_release(&e);
    /* A contributor who never sold. */
    assert_int_equal(ledger_earnings(f->db, f->buyer2, NULL, 0, 10, &e, err),
                     DB_OK);
    assert_int_equal(e.licences_sold, 0);
    assert_int_equal(e.balance_cents, 0);
    assert_int_equal(e.royalty_rate_bp, 2500);
    assert_int_equal(e.next_tier_left, 100);
    ledger_earnings_release(&e);
    /* Paging, newest first. */
    assert_int_equal(
        ledger_licences_for_buyer(f->db, f->buyer, NULL, 2, &ll, err), DB_OK);
    assert_int_equal(ll.n, 2);
    assert_string_equal(ll.items[0].id, l[4].id);
    assert_string_equal(ll.items[1].id, l[3].id);
    assert_int_equal(ledger_licences_for_buyer(f->db, f->buyer, ll.next_cursor,
                                               2, &more, err),
                     DB_OK);
    assert_string_equal(more.items[0].id, l[2].id);
    assert_string_equal(more.items[1].id, l[1].id);
    ledger_licence_list_release(&ll);
    assert_int_equal(ledger_licences_for_buyer(f->db, f->buyer,
                                               more.next_cursor, 2, &ll, err),
                     DB_OK);
    assert_int_equal(ll.n, 1);
    assert_string_equal(ll.items[0].id, l[0].id);
    assert_string_equal(ll.next_cursor, "");
    ledger_licence_list_release(&ll);
    ledger_licence_list_release(&more);
    assert_int_equal(
        ledger_licences_for_buyer(f->db, f->buyer, "x1", 2, &ll, err),
        DB_EINVAL);
    assert_int_equal(
        ledger_licences_for_buyer(f->db, f->buyer2, NULL, 2, &ll, err), DB_OK);
    assert_int_equal(ll.n, 0);
    ledger_licence_list_release(&ll);
    verify_ok(f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_payouts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_earnings_and_lists, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
