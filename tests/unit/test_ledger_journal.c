/* Stockroom — unit tests of the books themselves: the triggers
 * that keep journals and postings immutable, and the verifier. */
#include "ledger_fixture.h"

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
        cmocka_unit_test_setup_teardown(test_immutable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_catches, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
