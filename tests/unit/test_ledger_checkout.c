/* Stockroom — unit tests of what a payment provider adds to the books:
 * checkouts settled once, events seen once, gap-free receipts, payout
 * accounts, and the verifier's inv. 18 and 19. */
#include "ledger_fixture.h"

static void
pending(struct fx *f, const char *key, struct ledger_purchase *p)
{
    assert_int_equal(ledger_purchase_create(f->db, f->buyer, key, "h", 10, 1500,
                                            "stripe", p, err),
                     DB_OK);
}

static void
test_checkout_paid_once(void **state)
{
    struct fx *f = *state;
    struct ledger_purchase p, q;
    struct ledger_checkout k;
    struct ledger_receipt r;

    pending(f, "c1", &p);
    assert_int_equal(
        ledger_checkout_put(f->db, p.id, "cs_1", "https://x/1", "open", err),
        DB_OK);
    assert_int_equal(ledger_receipt_get(f->db, p.id, f->buyer, &r, err),
                     DB_ENOTFOUND);
    assert_int_equal(
        ledger_checkout_paid(f->db, p.id, "cs_1", "pi_1", "4242", &q, err),
        DB_OK);
    assert_int_equal(q.status, DB_PURCHASE_SETTLED);
    assert_int_equal(q.replayed, 0);
    /* The webhook again, then reconciliation: nothing more. */
    assert_int_equal(
        ledger_checkout_paid(f->db, p.id, "cs_1", "pi_1", "4242", &q, err),
        DB_OK);
    assert_int_equal(q.replayed, 1);
    assert_int_equal(wallet(f, f->buyer), 10);
    assert_int_equal(ledger_checkout_get(f->db, p.id, &k, err), DB_OK);
    assert_string_equal(k.state, "paid");
    assert_string_equal(k.payment_ref, "pi_1");
    assert_string_equal(k.url, "https://x/1");
    /* A paid checkout stays paid: a late "expired" changes nothing. */
    assert_int_equal(
        ledger_checkout_put(f->db, p.id, NULL, NULL, "failed", err), DB_OK);
    assert_int_equal(ledger_checkout_by_payment(f->db, "pi_1", &k, err), DB_OK);
    assert_string_equal(k.state, "paid");
    assert_string_equal(k.purchase_id, p.id);
    assert_int_equal(ledger_receipt_get(f->db, p.id, f->buyer, &r, err), DB_OK);
    assert_int_equal(r.number, 1);
    assert_string_equal(r.card_last4, "4242");
    assert_int_equal(ledger_receipt_get(f->db, p.id, f->buyer2, &r, err),
                     DB_ENOTFOUND);
    assert_int_equal(ledger_checkout_put(f->db, p.id, NULL, NULL, "paid", err),
                     DB_EINVAL);
    verify_ok(f);
}

static void
test_failed_then_paid(void **state)
{
    struct fx *f = *state;
    struct ledger_purchase p, q;
    struct ledger_checkout k;

    /* Stripe was slow: marked failed, then its webhook says paid after
     * all. The money arrived, so the credits are issued. */
    pending(f, "c2", &p);
    assert_int_equal(
        ledger_checkout_put(f->db, p.id, NULL, NULL, "failed", err), DB_OK);
    assert_int_equal(ledger_checkout_get(f->db, p.id, &k, err), DB_OK);
    assert_string_equal(k.session_ref, "");
    assert_int_equal(
        ledger_checkout_paid(f->db, p.id, "cs_2", NULL, NULL, &q, err), DB_OK);
    assert_int_equal(wallet(f, f->buyer), 10);
    verify_ok(f);
}

static void
test_receipts_gap_free(void **state)
{
    struct fx *f = *state;
    struct ledger_purchase p, q;
    struct ledger_receipt r;
    char key[16];
    sqlite3 *c;

    for (int i = 0; i < 5; i++) {
        snprintf(key, sizeof key, "g%d", i);
        pending(f, key, &p);
        if (i == 2)
            continue; /* never paid: no receipt, no gap */
        assert_int_equal(ledger_purchase_settle(f->db, p.id, NULL, &q, err),
                         DB_OK);
        assert_int_equal(ledger_receipt_get(f->db, p.id, f->buyer, &r, err),
                         DB_OK);
        assert_int_equal(r.number, i < 2 ? i + 1 : i);
    }
    verify_ok(f);
    /* Nobody writes a number out of turn, or rewrites one. */
    c = raw_open(f, 1);
    assert_int_not_equal(sqlite3_exec(c,
                                      "INSERT INTO receipts VALUES (9, 'x', 0)",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
    assert_int_not_equal(
        sqlite3_exec(c, "UPDATE receipts SET number = 7 WHERE number = 1", NULL,
                     NULL, NULL),
        SQLITE_OK);
    assert_int_not_equal(
        sqlite3_exec(c, "DELETE FROM receipts", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(c);
}

static void
test_verify_catches(void **state)
{
    struct fx *f = *state;
    struct ledger_purchase p;
    char *report = NULL;
    sqlite3 *c;

    /* A checkout marked paid whose purchase never settled. */
    pending(f, "v1", &p);
    c = raw_open(f, 1);
    {
        char sql[300];

        snprintf(sql, sizeof sql,
                 "INSERT INTO checkouts(purchase_id, state, created_at, "
                 "updated_at) VALUES ('%s', 'paid', 0, 0)",
                 p.id);
        assert_int_equal(sqlite3_exec(c, sql, NULL, NULL, NULL), SQLITE_OK);
    }
    sqlite3_close(c);
    assert_int_equal(ledger_verify(f->db, &report, err), DB_ECONFLICT);
    assert_non_null(strstr(report, "inv. 19 BROKEN"));
    assert_non_null(strstr(report, "inv. 18 ok"));
    free(report);
}

static void
test_events_once(void **state)
{
    struct fx *f = *state;
    int seen = -1;

    assert_int_equal(ledger_event_seen(f->db, "evt_1", &seen, err), DB_OK);
    assert_int_equal(seen, 0);
    assert_int_equal(ledger_event_record(f->db, "evt_1", "stripe",
                                         "checkout.session.completed", err),
                     DB_OK);
    assert_int_equal(ledger_event_record(f->db, "evt_1", "stripe",
                                         "checkout.session.completed", err),
                     DB_OK);
    assert_int_equal(ledger_event_seen(f->db, "evt_1", &seen, err), DB_OK);
    assert_int_equal(seen, 1);
    assert_int_equal(ledger_event_seen(f->db, "", &seen, err), DB_EINVAL);
}

static void
test_payout_accounts(void **state)
{
    struct fx *f = *state;
    struct ledger_payout_account a;

    assert_int_equal(ledger_payout_account_get(f->db, f->contrib, &a, err),
                     DB_ENOTFOUND);
    assert_int_equal(
        ledger_payout_account_put(f->db, f->contrib, "stripe", "acct_1", err),
        DB_OK);
    /* Created once: a second account id is not taken. */
    assert_int_equal(
        ledger_payout_account_put(f->db, f->contrib, "stripe", "acct_2", err),
        DB_OK);
    assert_int_equal(ledger_payout_account_get(f->db, f->contrib, &a, err),
                     DB_OK);
    assert_string_equal(a.account_ref, "acct_1");
    assert_int_equal(a.payouts_enabled, 0);
    assert_int_equal(ledger_payout_account_enable(f->db, "acct_1", 1, err),
                     DB_OK);
    assert_int_equal(ledger_payout_account_get(f->db, f->contrib, &a, err),
                     DB_OK);
    assert_int_equal(a.payouts_enabled, 1);
    assert_int_equal(ledger_payout_account_enable(f->db, "acct_9", 1, err),
                     DB_ENOTFOUND);
    verify_ok(f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_checkout_paid_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_failed_then_paid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_receipts_gap_free, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_verify_catches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_payout_accounts, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
