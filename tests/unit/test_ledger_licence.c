/* Stockroom — unit tests of licences: funds, idempotency, the
 * exact split, files and licence refunds. */
#include "ledger_fixture.h"

static void
test_licence_efunds(void **state)
{
    struct fx *f = *state;
    struct ledger_licence l;
    const char *snap =
        "SELECT (SELECT count(*) FROM journals) * 1000000 + "
        "(SELECT count(*) FROM postings) * 10000 + "
        "(SELECT count(*) FROM licences) * 100 + "
        "(SELECT count(*) FROM idempotency_keys) + "
        "(SELECT coalesce(sum(credits_used), 0) FROM lots) * 7 + "
        "(SELECT coalesce(sum(lifetime_sold), 0) FROM contributor_stats)";
    int64_t before;

    /* No wallet at all. */
    assert_int_equal(sell(f, f->buyer, f->contrib, "i", 1, NULL, 0, &l),
                     DB_EFUNDS);
    buy(f, f->buyer, 3, 450, NULL);
    before = count(f, snap);
    assert_int_equal(sell(f, f->buyer, f->contrib, "i", 4, NULL, 0, &l),
                     DB_EFUNDS);
    assert_int_equal(count(f, snap), before);
    assert_int_equal(wallet(f, f->buyer), 3);
    assert_int_equal(count(f, "SELECT count(*) FROM accounts "
                              "WHERE kind = 'payable'"),
                     0);
    assert_int_equal(sell(f, f->buyer, f->contrib, "i", 3, NULL, 0, &l), DB_OK);
    assert_int_equal(wallet(f, f->buyer), 0);
    assert_int_equal(sell(f, f->buyer, f->contrib, "i", 1, NULL, 0, &l),
                     DB_EFUNDS);
    /* Bad requests are refused before anything is read. */
    {
        struct ledger_licence_req r = {
            .buyer_id = f->buyer,
            .image_id = "i",
            .contributor_id = f->contrib,
            .size = "XXL",
            .type = "standard",
            .credits = 1,
            .idem_key = "k",
            .request_hash = "h",
        };
        struct ledger_tier bad[] = {{5, 2500}};

        assert_int_equal(ledger_licence_create(f->db, &r, &l, err), DB_EINVAL);
        r.size = "M";
        r.type = "editorial";
        assert_int_equal(ledger_licence_create(f->db, &r, &l, err), DB_EINVAL);
        r.type = "extended";
        r.tiers = bad;
        r.n_tiers = 1;
        assert_int_equal(ledger_licence_create(f->db, &r, &l, err), DB_EINVAL);
    }
    verify_ok(f);
}

/* Licences. */

static void
test_licence_idempotent(void **state)
{
    struct fx *f = *state;
    struct ledger_licence a, b;
    struct ledger_licence_req r = {
        .buyer_id = f->buyer,
        .image_id = "img1",
        .contributor_id = f->contrib,
        .size = "M",
        .type = "standard",
        .credits = 2,
        .idem_key = "same",
        .request_hash = "h1",
    };
    int held = -1;

    buy(f, f->buyer, 10, 1500, NULL);
    assert_int_equal(ledger_licence_held(f->db, f->buyer, "img1", "M",
                                         "standard", &held, err),
                     DB_OK);
    assert_int_equal(held, 0);
    assert_int_equal(ledger_licence_create(f->db, &r, &a, err), DB_OK);
    assert_int_equal(a.replayed, 0);
    assert_int_equal(ledger_licence_create(f->db, &r, &b, err), DB_OK);
    assert_int_equal(b.replayed, 1);
    assert_string_equal(a.id, b.id);
    assert_int_equal(b.cash_cents, a.cash_cents);
    assert_int_equal(wallet(f, f->buyer), 8);
    r.request_hash = "h2";
    assert_int_equal(ledger_licence_create(f->db, &r, &b, err), DB_EREUSED);
    assert_int_equal(wallet(f, f->buyer), 8);
    assert_int_equal(ledger_licence_held(f->db, f->buyer, "img1", "M",
                                         "standard", &held, err),
                     DB_OK);
    assert_int_equal(held, 1);
    assert_int_equal(ledger_licence_held(f->db, f->buyer, "img1", "L",
                                         "standard", &held, err),
                     DB_OK);
    assert_int_equal(held, 0);
    /* Re-licensing what one holds is allowed. */
    r.idem_key = "other";
    assert_int_equal(ledger_licence_create(f->db, &r, &b, err), DB_OK);
    assert_string_not_equal(a.id, b.id);
    assert_int_equal(ledger_licence_get(f->db, a.id, &b, err), DB_OK);
    assert_string_equal(b.image_id, "img1");
    assert_string_equal(b.size, "M");
    assert_int_equal(b.credits, 2);
    assert_int_equal(b.royalty_cents + b.platform_cents, b.cash_cents);
    assert_int_equal(ledger_licence_get(f->db, "lnope", &b, err), DB_ENOTFOUND);
    verify_ok(f);
}

/* Every split is exact over many prices and rates, cents are conserved,
 * and the tier moves at 100 lifetime licences. */
static void
test_split_property(void **state)
{
    struct fx *f = *state;
    static const int rates[] = {0, 1, 2500, 3333, 4999, 9999, 10000};
    struct ledger_licence l;
    struct ledger_earnings e;
    uint32_t seed = 12345;
    int64_t paid = 0, cash = 0, royalty = 0, platform = 0, left = 0;

    for (int i = 0; i < 40; i++) {
        int64_t credits = 1 + i % 13;
        int64_t price;

        seed = seed * 1103515245u + 12345u;
        price = (int64_t)(seed >> 8) % 7919;
        buy(f, f->buyer, credits, price, NULL);
        paid += price;
        left += credits;
    }
    for (int i = 0; left > 0; i++) {
        struct ledger_tier t[] = {{0, rates[i % 7]}};
        int64_t n;

        seed = seed * 1103515245u + 12345u;
        n = 1 + (int64_t)(seed >> 8) % 6;
        if (n > left)
            n = left;
        assert_int_equal(sell(f, f->buyer, f->buyer2, "p", n, t, 1, &l), DB_OK);
        assert_int_equal(l.rate_bp, rates[i % 7]);
        assert_int_equal(l.royalty_cents + l.platform_cents, l.cash_cents);
        assert_int_equal(l.royalty_cents, l.cash_cents * l.rate_bp / 10000);
        assert_true(l.royalty_cents >= 0 && l.platform_cents >= 0);
        cash += l.cash_cents;
        royalty += l.royalty_cents;
        platform += l.platform_cents;
        left -= n;
    }
    /* Every cent paid for the packs went to a contributor or the store. */
    assert_int_equal(cash, paid);
    assert_int_equal(royalty + platform, paid);
    assert_int_equal(count(f, "SELECT balance FROM accounts "
                              "WHERE id = 'deferred_revenue'"),
                     0);
    assert_int_equal(count(f, "SELECT balance FROM accounts "
                              "WHERE id = 'platform_revenue'"),
                     platform);

    /* The tier: 99 sold at 25%, the 100th still at 25%, then 30%. */
    buy(f, f->buyer, 100, 11000, NULL);
    buy(f, f->buyer, 10, 1500, NULL);
    for (int i = 0; i < 99; i++)
        assert_int_equal(sell(f, f->buyer, f->contrib, "t", 1, NULL, 0, &l),
                         DB_OK);
    assert_int_equal(ledger_earnings(f->db, f->contrib, NULL, 0, 10, &e, err),
                     DB_OK);
    assert_int_equal(e.licences_sold, 99);
    assert_int_equal(e.royalty_rate_bp, 2500);
    assert_int_equal(e.has_next_tier, 1);
    assert_int_equal(e.next_rate_bp, 3000);
    assert_int_equal(e.next_tier_left, 1);
    ledger_earnings_release(&e);
    assert_int_equal(sell(f, f->buyer, f->contrib, "t", 1, NULL, 0, &l), DB_OK);
    assert_int_equal(l.rate_bp, 2500);
    assert_int_equal(l.cash_cents, 110);
    assert_int_equal(l.royalty_cents, 27);
    assert_int_equal(l.platform_cents, 83);
    assert_int_equal(sell(f, f->buyer, f->contrib, "t", 1, NULL, 0, &l), DB_OK);
    assert_int_equal(l.rate_bp, 3000);
    assert_int_equal(l.cash_cents, 150); /* the next lot */
    assert_int_equal(l.royalty_cents, 45);
    assert_int_equal(ledger_earnings(f->db, f->contrib, NULL, 0, 10, &e, err),
                     DB_OK);
    assert_int_equal(e.licences_sold, 101);
    assert_int_equal(e.royalty_rate_bp, 3000);
    assert_int_equal(e.next_rate_bp, 3500);
    assert_int_equal(e.next_tier_left, 899);
    ledger_earnings_release(&e);
    verify_ok(f);
}

/* Set the contributor's lifetime count as if they had sold n licences,
 * to reach the far tiers without selling thousands (the verifier would
 * then report the count, so the test does not run it). */
static void
raise_sold(struct fx *f, int64_t n)
{
    sqlite3 *c = raw_open(f, 1);
    char sql[160];

    snprintf(sql, sizeof sql,
             "UPDATE contributor_stats SET lifetime_sold = %lld "
             "WHERE contributor_id = '%s'",
             (long long)n, f->contrib);
    assert_int_equal(sqlite3_exec(c, sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_changes(c), 1);
    sqlite3_close(c);
}

/* DESIGN.md's royalty defaults, pinned where the ledger owns them: 25%
 * until 100 lifetime licences, 30% until 1,000, 35% until 10,000, 40% from
 * there, each sale at the rate of the count before it, the contributor's
 * share rounded down to the cent. Every credit here is worth 103 cents: 25.75
 * and 30.9 round down, not to the nearest; 36.05 and 41.2 not up. */
static void
test_default_tiers(void **state)
{
    struct fx *f = *state;
    static const struct ledger_tier want[4] = {
        {0, 2500}, {100, 3000}, {1000, 3500}, {10000, 4000}};
    static const struct {
        int64_t sold;    /* lifetime count before the sale; -1: as is */
        int rate_bp;     /* the rate that sale gets */
        int64_t royalty; /* floor(103 * rate) */
    } steps[] = {
        {-1, 2500, 25}, /* the 100th licence, 99 sold before */
        {-1, 3000, 30}, /* the 101st, exactly 100 before */
        {999, 3000, 30},  {-1, 3500, 36}, /* 1,000 before */
        {9999, 3500, 36}, {-1, 4000, 41}, /* 10,000 before */
        {-1, 4000, 41},
    };
    size_t n_steps = sizeof steps / sizeof steps[0];
    struct ledger_licence l;
    struct ledger_earnings e;

    assert_int_equal(sizeof ledger_default_tiers, sizeof want);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(ledger_default_tiers[i].min_sold, want[i].min_sold);
        assert_int_equal(ledger_default_tiers[i].rate_bp, want[i].rate_bp);
    }
    buy(f, f->buyer, 99 + (int64_t)n_steps, (99 + (int64_t)n_steps) * 103,
        NULL);
    for (int i = 0; i < 99; i++) {
        assert_int_equal(sell(f, f->buyer, f->contrib, "t", 1, NULL, 0, &l),
                         DB_OK);
        assert_int_equal(l.rate_bp, 2500);
        assert_int_equal(l.royalty_cents, 25);
    }
    assert_int_equal(ledger_earnings(f->db, f->contrib, NULL, 0, 1, &e, err),
                     DB_OK);
    assert_int_equal(e.licences_sold, 99);
    assert_int_equal(e.royalty_rate_bp, 2500);
    assert_int_equal(e.next_tier_left, 1);
    ledger_earnings_release(&e);
    for (size_t i = 0; i < n_steps; i++) {
        if (steps[i].sold >= 0)
            raise_sold(f, steps[i].sold);
        assert_int_equal(sell(f, f->buyer, f->contrib, "t", 1, NULL, 0, &l),
                         DB_OK);
        assert_int_equal(l.cash_cents, 103);
        assert_int_equal(l.rate_bp, steps[i].rate_bp);
        assert_int_equal(l.royalty_cents, steps[i].royalty);
        assert_int_equal(l.platform_cents, 103 - steps[i].royalty);
    }
    assert_int_equal(ledger_earnings(f->db, f->contrib, NULL, 0, 1, &e, err),
                     DB_OK);
    assert_int_equal(e.licences_sold, 10002);
    assert_int_equal(e.royalty_rate_bp, 4000);
    assert_int_equal(e.has_next_tier, 0);
    ledger_earnings_release(&e);
}

static void
test_set_file(void **state)
{
    struct fx *f = *state;
    struct ledger_licence l, g;
    const char *h1 = "0123456789abcdef0123456789abcdef"
                     "0123456789abcdef0123456789abcdef";
    const char *h2 = "f123456789abcdef0123456789abcdef"
                     "0123456789abcdef0123456789abcdef";

    buy(f, f->buyer, 10, 1500, NULL);
    assert_int_equal(sell(f, f->buyer, f->contrib, "i", 1, NULL, 0, &l), DB_OK);
    assert_string_equal(l.file_sha256, "");
    assert_int_equal(ledger_licence_set_file(f->db, l.id, "XYZ", err),
                     DB_EINVAL);
    assert_int_equal(ledger_licence_set_file(f->db, l.id, h1, err), DB_OK);
    assert_int_equal(ledger_licence_set_file(f->db, l.id, h1, err), DB_OK);
    assert_int_equal(ledger_licence_set_file(f->db, l.id, h2, err),
                     DB_ECONFLICT);
    assert_int_equal(ledger_licence_set_file(f->db, "lnope", h2, err),
                     DB_ENOTFOUND);
    assert_int_equal(ledger_licence_get(f->db, l.id, &g, err), DB_OK);
    assert_string_equal(g.file_sha256, h1);
    verify_ok(f);
}

/* Refunds. */

static void
test_refund_after_payout(void **state)
{
    struct fx *f = *state;
    struct ledger_licence l[4], r;
    struct ledger_payout p;
    struct ledger_earnings e;

    buy(f, f->buyer, 100, 11000, NULL);
    buy(f, f->buyer, 100, 11000, NULL);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(sell(f, f->buyer, f->contrib, "x", 36, NULL, 0, &l[i]),
                         DB_OK);
        assert_int_equal(l[i].cash_cents, 3960);
        assert_int_equal(l[i].royalty_cents, 990);
    }
    assert_int_equal(
        ledger_payout_request(f->db, f->contrib, 2970, 2500, NULL, &p, err),
        DB_OK);
    assert_int_equal(ledger_payout_settle(f->db, p.id, 1, &p, err), DB_OK);
    assert_int_equal(p.status, DB_PAYOUT_PAID);
    assert_int_equal(wallet(f, f->buyer), 200 - 108);
    assert_int_equal(ledger_licence_refund(f->db, l[1].id, f->admin, &r, err),
                     DB_OK);
    assert_true(r.refunded_at > 0);
    assert_true(r.refund_journal_id > 0);
    assert_int_equal(wallet(f, f->buyer), 200 - 72);
    assert_int_equal(ledger_earnings(f->db, f->contrib, NULL, 0, 10, &e, err),
                     DB_OK);
    assert_int_equal(e.balance_cents, -990);
    assert_int_equal(e.lifetime_cents, 1980);
    assert_int_equal(e.licences_sold, 3); /* tiers never go down */
    ledger_earnings_release(&e);
    assert_int_equal(
        ledger_payout_request(f->db, f->contrib, 2500, 2500, NULL, &p, err),
        DB_EFUNDS);
    verify_ok(f);
    /* Later sales make it good; the returned credits keep their value. */
    assert_int_equal(sell(f, f->buyer, f->contrib, "x", 36, NULL, 0, &l[3]),
                     DB_OK);
    assert_int_equal(l[3].cash_cents, 3960);
    assert_int_equal(ledger_earnings(f->db, f->contrib, NULL, 0, 10, &e, err),
                     DB_OK);
    assert_int_equal(e.balance_cents, 0);
    assert_int_equal(e.licences_sold, 4);
    ledger_earnings_release(&e);
    assert_int_equal(sell(f, f->buyer, f->contrib, "x", 36, NULL, 0, NULL),
                     DB_OK);
    assert_int_equal(ledger_earnings(f->db, f->contrib, NULL, 0, 10, &e, err),
                     DB_OK);
    assert_true(e.balance_cents > 0);
    ledger_earnings_release(&e);
    verify_ok(f);
}

static void
test_refund_twice(void **state)
{
    struct fx *f = *state;
    struct ledger_licence l, r;
    int held = -1;

    buy(f, f->buyer, 10, 1500, NULL);
    assert_int_equal(sell(f, f->buyer, f->contrib, "i", 4, NULL, 0, &l), DB_OK);
    assert_int_equal(ledger_licence_refund(f->db, l.id, f->admin, &r, err),
                     DB_OK);
    assert_int_equal(ledger_licence_refund(f->db, l.id, f->admin, &r, err),
                     DB_ECONFLICT);
    assert_int_equal(ledger_licence_refund(f->db, "lnope", f->admin, &r, err),
                     DB_ENOTFOUND);
    assert_int_equal(wallet(f, f->buyer), 10);
    assert_int_equal(count(f, "SELECT lifetime_sold FROM contributor_stats"),
                     1);
    assert_int_equal(count(f, "SELECT count(*) FROM journals "
                              "WHERE kind = 'licence_refund'"),
                     1);
    assert_int_equal(
        ledger_licence_held(f->db, f->buyer, "i", "S", "standard", &held, err),
        DB_OK);
    assert_int_equal(held, 0);
    /* The credits went back to their lot with their value: 10 credits
     * still make exactly 1500 cents. */
    assert_int_equal(sell(f, f->buyer, f->contrib, "i", 3, NULL, 0, &l), DB_OK);
    assert_int_equal(l.cash_cents, 450);
    assert_int_equal(sell(f, f->buyer, f->contrib, "i", 7, NULL, 0, &l), DB_OK);
    assert_int_equal(l.cash_cents, 1050);
    verify_ok(f);
}

/* A refund in the middle of an awkward lot leaves its total exact. */
static void
test_refund_awkward_lot(void **state)
{
    struct fx *f = *state;
    struct ledger_licence a, b, r;
    int64_t total;

    buy(f, f->buyer, 3, 100, NULL);
    assert_int_equal(sell(f, f->buyer, f->contrib, "i", 2, NULL, 0, &a), DB_OK);
    assert_int_equal(sell(f, f->buyer, f->contrib, "i", 1, NULL, 0, &b), DB_OK);
    assert_int_equal(a.cash_cents + b.cash_cents, 100);
    assert_int_equal(ledger_licence_refund(f->db, a.id, f->admin, &r, err),
                     DB_OK);
    total = b.cash_cents;
    assert_int_equal(sell(f, f->buyer, f->contrib, "i", 1, NULL, 0, &a), DB_OK);
    total += a.cash_cents;
    assert_int_equal(sell(f, f->buyer, f->contrib, "i", 1, NULL, 0, &a), DB_OK);
    total += a.cash_cents;
    assert_int_equal(total, 100);
    verify_ok(f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_licence_efunds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_licence_idempotent, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_split_property, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_tiers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refund_after_payout, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_refund_twice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refund_awkward_lot, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
