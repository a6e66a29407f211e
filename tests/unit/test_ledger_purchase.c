/* Stockroom — unit tests of wallets, credit packs and their lots:
 * buying, idempotency, first-in first-out spending and pack refunds. */
#include "ledger_fixture.h"

/* Packs. */

static void
test_purchase_wallet(void **state)
{
    struct fx *f = *state;
    struct ledger_purchase p, q;

    assert_int_equal(wallet(f, f->buyer), 0);
    assert_int_equal(ledger_purchase_create(f->db, f->buyer, "k1", "h1", 10,
                                            1500, "test", &p, err),
                     DB_OK);
    assert_int_equal(p.status, DB_PURCHASE_PENDING);
    assert_int_equal(p.replayed, 0);
    assert_int_equal(wallet(f, f->buyer), 0);
    assert_int_equal(ledger_purchase_settle(f->db, p.id, "pi_1", &q, err),
                     DB_OK);
    assert_int_equal(q.status, DB_PURCHASE_SETTLED);
    assert_string_equal(q.provider_ref, "pi_1");
    assert_int_equal(q.replayed, 0);
    assert_int_equal(wallet(f, f->buyer), 10);
    /* A webhook retry changes nothing; another reference is a conflict. */
    assert_int_equal(ledger_purchase_settle(f->db, p.id, "pi_1", &q, err),
                     DB_OK);
    assert_int_equal(q.replayed, 1);
    assert_int_equal(ledger_purchase_settle(f->db, p.id, NULL, &q, err), DB_OK);
    assert_int_equal(ledger_purchase_settle(f->db, p.id, "pi_2", &q, err),
                     DB_ECONFLICT);
    assert_int_equal(ledger_purchase_settle(f->db, "pnope", "pi_1", &q, err),
                     DB_ENOTFOUND);
    assert_int_equal(wallet(f, f->buyer), 10);
    assert_int_equal(count(f, "SELECT count(*) FROM journals"), 1);
    assert_int_equal(ledger_purchase_create(f->db, f->buyer, "k2", "h", 0, 1500,
                                            "test", &p, err),
                     DB_EINVAL);
    assert_int_equal(ledger_purchase_create(f->db, f->buyer, "k2", "h", 10, -1,
                                            "test", &p, err),
                     DB_EINVAL);
    verify_ok(f);
}

static void
test_purchase_idempotent(void **state)
{
    struct fx *f = *state;
    struct ledger_purchase a, b;

    assert_int_equal(ledger_purchase_create(f->db, f->buyer, "key", "h1", 30,
                                            3900, "test", &a, err),
                     DB_OK);
    assert_int_equal(ledger_purchase_create(f->db, f->buyer, "key", "h1", 30,
                                            3900, "test", &b, err),
                     DB_OK);
    assert_string_equal(a.id, b.id);
    assert_int_equal(b.replayed, 1);
    assert_int_equal(ledger_purchase_create(f->db, f->buyer, "key", "h2", 10,
                                            1500, "test", &b, err),
                     DB_EREUSED);
    /* Keys belong to their user. */
    assert_int_equal(ledger_purchase_create(f->db, f->buyer2, "key", "h2", 10,
                                            1500, "test", &b, err),
                     DB_OK);
    assert_int_equal(b.replayed, 0);
    assert_string_not_equal(a.id, b.id);
    assert_int_equal(ledger_purchase_settle(f->db, a.id, "r", &a, err), DB_OK);
    /* A replay after settling returns the purchase as it is now. */
    assert_int_equal(ledger_purchase_create(f->db, f->buyer, "key", "h1", 30,
                                            3900, "test", &b, err),
                     DB_OK);
    assert_int_equal(b.status, DB_PURCHASE_SETTLED);
    assert_int_equal(wallet(f, f->buyer), 30);
    assert_int_equal(count(f, "SELECT count(*) FROM purchases"), 2);
    verify_ok(f);
}

/* Lots are spent oldest first and valued exactly from their own price. */
static void
test_fifo_lots(void **state)
{
    struct fx *f = *state;
    struct ledger_licence l;
    int64_t total = 0;

    buy(f, f->buyer, 7, 1000, NULL);
    buy(f, f->buyer, 10, 1500, NULL);
    buy(f, f->buyer, 30, 3900, NULL);
    buy(f, f->buyer, 100, 11000, NULL);
    assert_int_equal(wallet(f, f->buyer), 147);
    /* 5 of the 7-credit lot. */
    assert_int_equal(sell(f, f->buyer, f->contrib, "i1", 5, NULL, 0, &l),
                     DB_OK);
    assert_int_equal(l.cash_cents, value(1000, 7, 0, 5));
    assert_int_equal(l.cash_cents, 714);
    total += l.cash_cents;
    /* The last 2 of the 7 and the first 2 of the 10. */
    assert_int_equal(sell(f, f->buyer, f->contrib, "i1", 4, NULL, 0, &l),
                     DB_OK);
    assert_int_equal(l.cash_cents, (1000 - 714) + value(1500, 10, 0, 2));
    assert_int_equal(l.cash_cents, 586);
    total += l.cash_cents;
    /* The rest of the 10 and all of the 30 and 5 of the 100. */
    assert_int_equal(sell(f, f->buyer, f->contrib, "i2", 43, NULL, 0, &l),
                     DB_OK);
    assert_int_equal(l.cash_cents,
                     (1500 - 300) + 3900 + value(11000, 100, 0, 5));
    total += l.cash_cents;
    assert_int_equal(total, 1000 + 1500 + 3900 + 550);
    /* One credit at a time: each exactly the formula, the lot exact. */
    for (int i = 5; i < 100; i++) {
        assert_int_equal(sell(f, f->buyer, f->contrib, "i3", 1, NULL, 0, &l),
                         DB_OK);
        assert_int_equal(l.cash_cents, value(11000, 100, i, 1));
        total += l.cash_cents;
    }
    assert_int_equal(total, 1000 + 1500 + 3900 + 11000);
    assert_int_equal(wallet(f, f->buyer), 0);
    assert_int_equal(count(f, "SELECT balance FROM accounts "
                              "WHERE id = 'deferred_revenue'"),
                     0);
    verify_ok(f);
}

static void
test_awkward_pack(void **state)
{
    struct fx *f = *state;
    struct ledger_licence l;
    int64_t total = 0;

    buy(f, f->buyer, 7, 1000, NULL);
    for (int i = 0; i < 7; i++) {
        assert_int_equal(sell(f, f->buyer, f->contrib, "i", 1, NULL, 0, &l),
                         DB_OK);
        assert_int_equal(l.cash_cents, value(1000, 7, i, 1));
        assert_int_equal(l.cash_cents, i == 0 ? 142 : 143);
        total += l.cash_cents;
    }
    assert_int_equal(total, 1000);
    verify_ok(f);
}

static void
test_pack_refund(void **state)
{
    struct fx *f = *state;
    struct ledger_purchase a, b, c, r;
    struct ledger_purchase_list pl;
    struct ledger_licence l;
    int64_t now = (int64_t)time(NULL);

    buy(f, f->buyer, 10, 1500, &a);
    buy(f, f->buyer, 30, 3900, &b);
    assert_int_equal(ledger_purchase_create(f->db, f->buyer, "pend", "h", 10,
                                            1500, "test", &c, err),
                     DB_OK);
    assert_int_equal(
        ledger_purchases(f->db, f->buyer, now, 14 * DAY, 10, &pl, err), DB_OK);
    assert_int_equal(pl.n, 3);
    assert_string_equal(pl.items[0].id, c.id); /* newest first */
    assert_int_equal(pl.items[0].refundable, 0);
    assert_int_equal(pl.items[1].refundable, 1);
    assert_int_equal(pl.items[2].refundable, 1);
    ledger_purchase_list_release(&pl);
    /* Not the user's, pending, past the window. */
    assert_int_equal(
        ledger_purchase_refund(f->db, a.id, f->buyer2, now, 14 * DAY, &r, err),
        DB_ENOTFOUND);
    assert_int_equal(
        ledger_purchase_refund(f->db, c.id, f->buyer, now, 14 * DAY, &r, err),
        DB_ECONFLICT);
    assert_int_equal(ledger_purchase_refund(f->db, a.id, f->buyer,
                                            now + 15 * DAY, 14 * DAY, &r, err),
                     DB_EINVAL);
    /* Partly used: the oldest lot pays first. */
    assert_int_equal(sell(f, f->buyer, f->contrib, "i", 1, NULL, 0, &l), DB_OK);
    assert_int_equal(
        ledger_purchase_refund(f->db, a.id, f->buyer, now, 14 * DAY, &r, err),
        DB_ECONFLICT);
    /* Within the window and unused. */
    assert_int_equal(
        ledger_purchase_refund(f->db, b.id, f->buyer, now, 14 * DAY, &r, err),
        DB_OK);
    assert_int_equal(r.status, DB_PURCHASE_REFUNDED);
    assert_int_equal(r.refunded_at, now);
    assert_int_equal(wallet(f, f->buyer), 9);
    assert_int_equal(
        ledger_purchase_refund(f->db, b.id, f->buyer, now, 14 * DAY, &r, err),
        DB_ECONFLICT);
    verify_ok(f);
    /* A licence refund makes the first pack unused again. */
    assert_int_equal(ledger_licence_refund(f->db, l.id, f->admin, &l, err),
                     DB_OK);
    assert_int_equal(
        ledger_purchase_refund(f->db, a.id, f->buyer, now, 14 * DAY, &r, err),
        DB_OK);
    assert_int_equal(wallet(f, f->buyer), 0);
    assert_int_equal(count(f, "SELECT balance FROM accounts "
                              "WHERE id = 'payment_clearing'"),
                     0);
    assert_int_equal(sell(f, f->buyer, f->contrib, "i", 1, NULL, 0, &l),
                     DB_EFUNDS);
    verify_ok(f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_purchase_wallet, setup, teardown),
        cmocka_unit_test_setup_teardown(test_purchase_idempotent, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fifo_lots, setup, teardown),
        cmocka_unit_test_setup_teardown(test_awkward_pack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pack_refund, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
