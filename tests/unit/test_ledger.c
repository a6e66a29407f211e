/* Stockroom — unit tests of the ledger: packs, licences, splits, refunds,
 * payouts, races, the append-only traps and the verifier. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "accounts.h"
#include "db.h"
#include "ledger.h"

#define DAY 86400

struct fx {
    char dir[64];
    char path[96];
    struct db *db;
    char buyer[ACC_ID_LEN];
    char buyer2[ACC_ID_LEN];
    char contrib[ACC_ID_LEN];
    char admin[ACC_ID_LEN];
};

static char err[DB_ERR_LEN];
static int key_seq;

static void
user(struct fx *f, const char *email, char id[ACC_ID_LEN])
{
    struct acc_user u;

    assert_int_equal(acc_user_create(f->db, email, "Test", "x",
                                     ACC_ROLE_BUYER | ACC_ROLE_CONTRIBUTOR, &u,
                                     err),
                     DB_OK);
    snprintf(id, ACC_ID_LEN, "%s", u.id);
}

static int
setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    const char *tmp = getenv("TMPDIR");

    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "%s/ledgerXXXXXX", tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/db.sqlite", f->dir);
    assert_int_equal(db_open(f->path, &f->db, err), DB_OK);
    user(f, "buyer@example.com", f->buyer);
    user(f, "buyer2@example.com", f->buyer2);
    user(f, "contrib@example.com", f->contrib);
    user(f, "admin@example.com", f->admin);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fx *f = *state;
    char p[160];

    db_close(f->db);
    snprintf(p, sizeof p, "%s/db.sqlite-wal", f->dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/db.sqlite-shm", f->dir);
    unlink(p);
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* The books must hold after every scenario. */
static void
verify_ok(struct fx *f)
{
    char *report = NULL;
    int rc = ledger_verify(f->db, &report, err);

    if (rc != DB_OK)
        fprintf(stderr, "%s\n%s\n", err, report ? report : "(no report)");
    assert_int_equal(rc, DB_OK);
    assert_non_null(strstr(report, "inv. 14 ok"));
    free(report);
}

/* A raw connection to the file, as an attacker or a careless tool would
 * have; recursive triggers as every Stockroom connection sets them. */
static sqlite3 *
raw_open(struct fx *f, int recursive)
{
    sqlite3 *c = NULL;

    assert_int_equal(sqlite3_open(f->path, &c), SQLITE_OK);
    sqlite3_busy_timeout(c, 10000);
    assert_int_equal(sqlite3_exec(c,
                                  recursive ? "PRAGMA recursive_triggers=ON"
                                            : "PRAGMA recursive_triggers=OFF",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    return c;
}

static int64_t
raw_int(sqlite3 *c, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int64_t v;

    assert_int_equal(sqlite3_prepare_v2(c, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* A text digest of a table's rows, to see that a refused write changed
 * nothing. Caller frees. */
static char *
raw_text(sqlite3 *c, const char *sql)
{
    sqlite3_stmt *st = NULL;
    char *s;

    assert_int_equal(sqlite3_prepare_v2(c, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    s = strdup(sqlite3_column_text(st, 0)
                   ? (const char *)sqlite3_column_text(st, 0)
                   : "");
    sqlite3_finalize(st);
    return s;
}

static int64_t
count(struct fx *f, const char *sql)
{
    sqlite3 *c = raw_open(f, 1);
    int64_t v = raw_int(c, sql);

    sqlite3_close(c);
    return v;
}

static void
buy(struct fx *f, const char *who, int64_t credits, int64_t price,
    struct ledger_purchase *p)
{
    char key[32];
    struct ledger_purchase tmp;

    snprintf(key, sizeof key, "buy-%d", key_seq++);
    assert_int_equal(ledger_purchase_create(f->db, who, key, "h", credits,
                                            price, "test", &tmp, err),
                     DB_OK);
    assert_int_equal(
        ledger_purchase_settle(f->db, tmp.id, "ref", p ? p : &tmp, err), DB_OK);
}

static int
sell(struct fx *f, const char *buyer, const char *contrib, const char *image,
     int64_t credits, const struct ledger_tier *tiers, size_t n_tiers,
     struct ledger_licence *l)
{
    char key[32];
    struct ledger_licence tmp;
    struct ledger_licence_req r = {
        .buyer_id = buyer,
        .image_id = image,
        .contributor_id = contrib,
        .size = "S",
        .type = "standard",
        .credits = credits,
        .idem_key = key,
        .request_hash = "h",
        .tiers = tiers,
        .n_tiers = n_tiers,
    };

    snprintf(key, sizeof key, "lic-%d", key_seq++);
    return ledger_licence_create(f->db, &r, l ? l : &tmp, err);
}

static int64_t
wallet(struct fx *f, const char *who)
{
    int64_t w = -1;

    assert_int_equal(ledger_wallet(f->db, who, &w, err), DB_OK);
    return w;
}

static int64_t
value(int64_t price, int64_t credits, int64_t used, int64_t n)
{
    return price * (used + n) / credits - price * used / credits;
}

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
    assert_string_equal(p.status, "pending");
    assert_int_equal(p.replayed, 0);
    assert_int_equal(wallet(f, f->buyer), 0);
    assert_int_equal(ledger_purchase_settle(f->db, p.id, "pi_1", &q, err),
                     DB_OK);
    assert_string_equal(q.status, "settled");
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
    assert_string_equal(b.status, "settled");
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

/* Each write the books forbid must fail and leave the rows as they were. */
static void
expect_refused(sqlite3 *c, const char *digest_sql, const char *sql)
{
    char *before = raw_text(c, digest_sql), *after;
    int rc = sqlite3_exec(c, sql, NULL, NULL, NULL);

    if (rc == SQLITE_OK)
        fprintf(stderr, "not refused: %s\n", sql);
    assert_int_not_equal(rc, SQLITE_OK);
    after = raw_text(c, digest_sql);
    assert_string_equal(before, after);
    free(before);
    free(after);
}

static void
test_immutable(void **state)
{
    struct fx *f = *state;
    struct ledger_licence l;
    const char *dp =
        "SELECT group_concat(id || ',' || journal_id || ',' || "
        "account_id || ',' || asset || ',' || amount, ';') FROM postings";
    const char *dj =
        "SELECT group_concat(id || ',' || kind || ',' || "
        "created_at || ',' || coalesce(reverses_journal_id, '') || ',' || "
        "memo, ';') FROM journals";
    const char *dl =
        "SELECT group_concat(rowid || ',' || id || ',' || "
        "buyer_id || ',' || image_id || ',' || contributor_id || ',' || "
        "size || type || credits || ',' || cash_cents || ',' || rate_bp || "
        "',' || royalty_cents || ',' || platform_cents || ',' || created_at "
        "|| ',' || coalesce(refunded_at, '') || ',' || "
        "coalesce(refund_journal, '') || ',' || coalesce(file_sha256, '') "
        "|| ',' || journal_id, ';') FROM licences";
    char sql[512];

    buy(f, f->buyer, 10, 1500, NULL);
    assert_int_equal(sell(f, f->buyer, f->contrib, "i", 2, NULL, 0, &l), DB_OK);
    for (int recursive = 1; recursive >= 0; recursive--) {
        sqlite3 *c = raw_open(f, recursive);

        expect_refused(c, dp, "UPDATE postings SET amount = amount + 1");
        expect_refused(c, dp,
                       "UPDATE postings SET account_id = "
                       "'platform_revenue' WHERE account_id LIKE 'payable:%'");
        expect_refused(c, dp, "DELETE FROM postings");
        expect_refused(c, dp,
                       "INSERT OR REPLACE INTO postings(id, "
                       "journal_id, account_id, asset, amount) "
                       "VALUES (1, 1, 'payment_clearing', 'USD', 1)");
        expect_refused(c, dp,
                       "REPLACE INTO postings(id, journal_id, "
                       "account_id, asset, amount) SELECT id, journal_id, "
                       "account_id, asset, amount * 2 FROM postings");
        expect_refused(c, dp,
                       "INSERT INTO postings(id, journal_id, "
                       "account_id, asset, amount) VALUES (1, 2, "
                       "'platform_revenue', 'USD', -5) ON CONFLICT(id) DO "
                       "UPDATE SET amount = 5");
        /* Appending to a closed journal. */
        expect_refused(c, dp,
                       "INSERT INTO postings(journal_id, account_id, "
                       "asset, amount) VALUES (1, 'payment_clearing', 'USD',"
                       " 1), (1, 'deferred_revenue', 'USD', -1)");
        expect_refused(c, dj, "UPDATE journals SET memo = 'nothing here'");
        expect_refused(c, dj, "DELETE FROM journals");
        expect_refused(c, dj,
                       "INSERT OR REPLACE INTO journals(id, kind, "
                       "created_at, memo) VALUES (1, 'purchase', 0, 'x')");
        expect_refused(c, dj,
                       "INSERT INTO journals(id, kind, created_at, "
                       "memo) VALUES (1, 'purchase', 0, 'x') ON CONFLICT(id) "
                       "DO UPDATE SET memo = 'y'");
        expect_refused(c, dl,
                       "UPDATE licences SET cash_cents = 0, "
                       "royalty_cents = 0, platform_cents = 0");
        expect_refused(c, dl, "UPDATE licences SET rate_bp = 4000");
        expect_refused(c, dl, "UPDATE licences SET buyer_id = contributor_id");
        expect_refused(c, dl, "DELETE FROM licences");
        snprintf(sql, sizeof sql,
                 "INSERT OR REPLACE INTO licences(id, "
                 "buyer_id, image_id, contributor_id, size, type, credits, "
                 "cash_cents, rate_bp, royalty_cents, platform_cents, "
                 "created_at, journal_id) VALUES ('%s', '%s', 'i', '%s', "
                 "'S', 'standard', 2, 0, 0, 0, 0, 0, 2)",
                 l.id, f->buyer, f->contrib);
        expect_refused(c, dl, sql);
        expect_refused(c, dl, "REPLACE INTO licences SELECT * FROM licences");
        expect_refused(c, dl, "UPDATE licences SET rowid = rowid + 100");
        expect_refused(c, "SELECT group_concat(balance) FROM accounts",
                       "DELETE FROM accounts");
        expect_refused(c, "SELECT group_concat(key) FROM idempotency_keys",
                       "DELETE FROM idempotency_keys");
        expect_refused(c,
                       "SELECT group_concat(lifetime_sold) FROM "
                       "contributor_stats",
                       "UPDATE contributor_stats SET "
                       "lifetime_sold = 0");
        sqlite3_close(c);
    }
    /* The file hash and the refund may each be set once. */
    {
        sqlite3 *c = raw_open(f, 1);

        assert_int_equal(sqlite3_exec(c,
                                      "UPDATE licences SET file_sha256 = "
                                      "printf('%064d', 7)",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
        expect_refused(c, dl,
                       "UPDATE licences SET file_sha256 = "
                       "printf('%064d', 8)");
        expect_refused(c, dl, "UPDATE licences SET file_sha256 = NULL");
        sqlite3_close(c);
    }
    assert_int_equal(ledger_licence_refund(f->db, l.id, f->admin, &l, err),
                     DB_OK);
    {
        sqlite3 *c = raw_open(f, 1);

        expect_refused(c, dl,
                       "UPDATE licences SET refunded_at = NULL, "
                       "refund_journal = NULL");
        expect_refused(c, dl, "UPDATE licences SET refunded_at = 5");
        sqlite3_close(c);
    }
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
    assert_string_equal(p.status, "paid");
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
    assert_string_equal(r.status, "refunded");
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

/* Races. */

struct race {
    struct fx *f;
    const char *key;     /* NULL: a key per thread */
    const char *hash;    /* NULL: "h" */
    const char *contrib; /* NULL: the fixture's contributor */
    const char *buyer;   /* NULL: the fixture's buyer */
    int n;
    int rc;
    struct ledger_licence l;
    int64_t amount;
};

static void *
race_licence(void *arg)
{
    struct race *r = arg;
    char key[32], e[DB_ERR_LEN];
    struct ledger_licence_req q = {
        .buyer_id = r->buyer ? r->buyer : r->f->buyer,
        .image_id = "race",
        .contributor_id = r->contrib ? r->contrib : r->f->contrib,
        .size = "S",
        .type = "standard",
        .credits = 1,
        .idem_key = r->key ? r->key : key,
        .request_hash = r->hash ? r->hash : "h",
    };

    snprintf(key, sizeof key, "race-%d", r->n);
    r->rc = ledger_licence_create(r->f->db, &q, &r->l, e);
    return NULL;
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
        ledger_payouts(f->db, f->contrib, "requested", NULL, 10, &pl, err),
        DB_OK);
    assert_int_equal(pl.n, 1);
    snprintf(q.id, sizeof q.id, "%s", pl.items[0].id);
    ledger_payout_list_release(&pl);
    assert_int_equal(ledger_payout_settle(f->db, q.id, 0, &p, err), DB_OK);
    assert_string_equal(p.status, "failed");
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
    assert_string_equal(pl.items[0].status, "paid");
    assert_string_not_equal(pl.next_cursor, "");
    {
        struct ledger_payout_list more;

        assert_int_equal(
            ledger_payouts(f->db, NULL, NULL, pl.next_cursor, 5, &more, err),
            DB_OK);
        assert_int_equal(more.n, 1);
        assert_string_equal(more.items[0].status, "failed");
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

/* The verifier. */

static void
test_verify_catches(void **state)
{
    struct fx *f = *state;
    char *report = NULL;
    sqlite3 *c;

    buy(f, f->buyer, 10, 1500, NULL);
    assert_int_equal(sell(f, f->buyer, f->contrib, "i", 2, NULL, 0, NULL),
                     DB_OK);
    verify_ok(f);
    /* An unbalanced journal, through the front door: every trigger lets
     * it in, only the verifier can see it. */
    c = raw_open(f, 1);
    assert_int_equal(
        sqlite3_exec(
            c,
            "INSERT INTO journals(kind, created_at, memo) "
            "VALUES ('purchase', 0, 'forged');"
            "INSERT INTO postings(journal_id, account_id, asset, amount) "
            "VALUES ((SELECT max(id) FROM journals), 'payment_clearing', "
            "'USD', "
            "500)",
            NULL, NULL, NULL),
        SQLITE_OK);
    assert_int_equal(ledger_verify(f->db, &report, err), DB_ECONFLICT);
    assert_non_null(strstr(report, "inv. 1 BROKEN"));
    assert_non_null(strstr(report, "USD postings sum to 500"));
    assert_non_null(strstr(report, "(purchase) records nothing"));
    assert_non_null(strstr(report, "inv. 2 BROKEN"));
    assert_non_null(strstr(report, "inv. 4 ok"));
    free(report);
    /* Dropping a guard and editing a posting: the cache no longer agrees,
     * and the missing trigger is reported. */
    assert_int_equal(
        sqlite3_exec(
            c,
            "DROP TRIGGER postings_no_update;"
            "UPDATE postings SET amount = amount - 1 WHERE account_id = "
            "'platform_revenue'",
            NULL, NULL, NULL),
        SQLITE_OK);
    assert_int_equal(ledger_verify(f->db, &report, err), DB_ECONFLICT);
    assert_non_null(strstr(report, "inv. 4 BROKEN"));
    assert_non_null(strstr(report, "inv. 7 BROKEN"));
    assert_non_null(strstr(report, "inv. 14 BROKEN"));
    assert_non_null(strstr(report, "trigger postings_no_update is missing"));
    assert_non_null(strstr(report, "inv. 10 ok"));
    if (getenv("LEDGER_SHOW_REPORT"))
        fputs(report, stderr);
    free(report);
    sqlite3_close(c);
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
        cmocka_unit_test_setup_teardown(test_licence_efunds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_licence_idempotent, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_split_property, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_immutable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refund_after_payout, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_refund_twice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refund_awkward_lot, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pack_refund, setup, teardown),
        cmocka_unit_test_setup_teardown(test_race_wallet, setup, teardown),
        cmocka_unit_test_setup_teardown(test_race_same_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_race_mixed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_payouts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_earnings_and_lists, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_verify_catches, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
