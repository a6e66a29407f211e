/* Stockroom — contributors' earnings reports and payouts
 * (request, settle, list). */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledgerint.h"

/* Earnings. */

/* Run a query bound to the contributor and a row limit, handing each row
 * to fill(), which writes slot i of *items. */
static int
earnings_rows(sqlite3 *c, const char *sql, const char *contributor,
              size_t max_rows, void **items, size_t *n, size_t sz,
              void (*fill)(sqlite3_stmt *, void *), char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int rc = db_prepare(c, sql, &st, err);

    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, contributor, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)max_rows);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        void *g = ledger__grow(*items, &cap, *n, sz, err);

        if (!g) {
            rc = DB_EGENERIC;
            goto out;
        }
        *items = g;
        fill(st, (char *)g + sz * (*n)++);
    }
    rc = rc == SQLITE_DONE ? DB_OK : db_fail(c, rc, "earnings", err);
out:
    sqlite3_finalize(st);
    return rc;
}

static void
image_row(sqlite3_stmt *st, void *p)
{
    struct ledger_image_earnings *e = p;

    db_col_copy(st, 0, e->image_id, sizeof e->image_id);
    e->licences = sqlite3_column_int64(st, 1);
    e->cents = sqlite3_column_int64(st, 2);
}

static void
month_row(sqlite3_stmt *st, void *p)
{
    struct ledger_month_earnings *e = p;

    db_col_copy(st, 0, e->month, sizeof e->month);
    e->licences = sqlite3_column_int64(st, 1);
    e->cents = sqlite3_column_int64(st, 2);
}

static void
sale_row(sqlite3_stmt *st, void *p)
{
    ledger__licence_row(st, p);
}

static const char SQL_EARNINGS_TOTALS[] =
    "SELECT (SELECT balance FROM accounts WHERE id = ?2), "
    "(SELECT coalesce(sum(amount_cents), 0) FROM payouts "
    "  WHERE contributor_id = ?1 AND status = 'requested'), "
    "(SELECT coalesce(sum(royalty_cents), 0) FROM licences "
    "  WHERE contributor_id = ?1 AND refunded_at IS NULL), "
    "(SELECT lifetime_sold FROM contributor_stats "
    "  WHERE contributor_id = ?1)";

int
ledger_earnings(struct db *db, const char *contributor_id,
                const struct ledger_tier *tiers, size_t n_tiers,
                size_t max_rows, struct ledger_earnings *out,
                char err[DB_ERR_LEN])
{
    sqlite3 *c = NULL;
    sqlite3_stmt *st = NULL;
    struct ledger_earnings e;
    char payable[LEDGER__ACCT_LEN];
    void *rows = NULL; /* each list, until e owns it */
    size_t t;
    int rc;

    memset(&e, 0, sizeof e);
    if (!tiers) {
        tiers = ledger_default_tiers;
        n_tiers = 4;
    }
    if (ledger__bad_str(contributor_id, LEDGER_ID_LEN) || max_rows < 1 ||
        max_rows > LEDGER_LIST_MAX)
        return ledger__invalid(err, "bad contributor id or row limit");
    rc = ledger__tiers_check(tiers, n_tiers, err);
    if (rc != DB_OK)
        return rc;
    c = db_conn_get(db);
    /* One read snapshot, so the totals and the lines agree. */
    rc = db_exec(c, "BEGIN", err);
    if (rc != DB_OK)
        goto out;
    rc = db_prepare_cached(db, c, SQL_EARNINGS_TOTALS, &st, err);
    if (rc != DB_OK)
        goto out;
    ledger__account_id(payable, "payable", contributor_id);
    sqlite3_bind_text(st, 1, contributor_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, payable, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        rc = db_fail(c, rc, "earnings", err);
        goto out;
    }
    e.balance_cents = sqlite3_column_int64(st, 0);
    e.pending_cents = sqlite3_column_int64(st, 1);
    e.lifetime_cents = sqlite3_column_int64(st, 2);
    e.licences_sold = sqlite3_column_int64(st, 3);
    t = ledger__tier_of(tiers, n_tiers, e.licences_sold);
    e.royalty_rate_bp = tiers[t].rate_bp;
    if (t + 1 < n_tiers) {
        e.has_next_tier = 1;
        e.next_rate_bp = tiers[t + 1].rate_bp;
        e.next_tier_left = tiers[t + 1].min_sold - e.licences_sold;
    }
    rc = earnings_rows(
        c,
        "SELECT image_id, count(*), sum(royalty_cents) FROM licences "
        "WHERE contributor_id = ?1 AND refunded_at IS NULL "
        "GROUP BY image_id ORDER BY 3 DESC, 2 DESC, 1 LIMIT ?2",
        contributor_id, max_rows, &rows, &e.n_by_image, sizeof *e.by_image,
        image_row, err);
    e.by_image = rows;
    rows = NULL;
    if (rc != DB_OK)
        goto out;
    rc = earnings_rows(
        c,
        "SELECT strftime('%Y-%m', created_at, 'unixepoch'), count(*), "
        "sum(royalty_cents) FROM licences "
        "WHERE contributor_id = ?1 AND refunded_at IS NULL "
        "GROUP BY 1 ORDER BY 1 DESC LIMIT ?2",
        contributor_id, max_rows, &rows, &e.n_by_month, sizeof *e.by_month,
        month_row, err);
    e.by_month = rows;
    rows = NULL;
    if (rc != DB_OK)
        goto out;
    rc = earnings_rows(c,
                       "SELECT " LEDGER__LICENCE_COLS " FROM licences "
                       "WHERE contributor_id = ?1 ORDER BY rowid DESC LIMIT ?2",
                       contributor_id, max_rows, &rows, &e.n_sales,
                       sizeof *e.sales, sale_row, err);
    e.sales = rows;
    rows = NULL;
    if (rc != DB_OK)
        goto out;
    *out = e;
    memset(&e, 0, sizeof e);
out:
    ledger_earnings_release(&e);
    if (st)
        db_stmt_done(db, c, st);
    if (c) {
        db_rollback(c);
        db_conn_put(db, c);
    }
    return rc;
}

void
ledger_earnings_release(struct ledger_earnings *e)
{
    if (!e)
        return;
    free(e->by_image);
    free(e->by_month);
    free(e->sales);
    memset(e, 0, sizeof *e);
}

/* Payouts. */

#define PAYOUT_COLS                                                            \
    "id, contributor_id, amount_cents, status, "                               \
    "requested_at, coalesce(settled_at, 0), journal_id, rowid"

static void
payout_row(sqlite3_stmt *st, struct ledger_payout *p)
{
    memset(p, 0, sizeof *p);
    db_col_copy(st, 0, p->id, sizeof p->id);
    db_col_copy(st, 1, p->contributor_id, sizeof p->contributor_id);
    p->amount_cents = sqlite3_column_int64(st, 2);
    /* The schema's CHECK admits only the enum's texts. */
    if (db_status_payout_parse((const char *)sqlite3_column_text(st, 3),
                               &p->status) != DB_OK)
        assert(!"payout status outside the schema");
    p->requested_at = sqlite3_column_int64(st, 4);
    p->settled_at = sqlite3_column_int64(st, 5);
}

static const char SQL_PAYOUT_GET[] = "SELECT " PAYOUT_COLS " FROM payouts "
                                     "WHERE id = ?1";

static int
payout_load(struct db *db, sqlite3 *c, const char *id,
            struct ledger_payout *out, int64_t *jid, char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    int rc = db_prepare_cached(db, c, SQL_PAYOUT_GET, &st, err);

    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        payout_row(st, out);
        if (jid)
            *jid = sqlite3_column_int64(st, 6);
        rc = DB_OK;
    } else if (rc == SQLITE_DONE) {
        snprintf(err, DB_ERR_LEN, "no such payout");
        rc = DB_ENOTFOUND;
    } else {
        rc = db_fail(c, rc, "payout lookup", err);
    }
out:
    if (st)
        db_stmt_done(db, c, st);
    return rc;
}

/* The contributor's payable balance, 0 before their first sale. */
static int
payable_balance(struct db *db, sqlite3 *c, const char *account, int64_t *bal,
                char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    int rc = db_prepare_cached(db, c, ledger__sql_balance_get, &st, err);

    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
        *bal = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
        rc = DB_OK;
    } else {
        rc = db_fail(c, rc, "balance lookup", err);
    }
out:
    if (st)
        db_stmt_done(db, c, st);
    return rc;
}

static const char SQL_PAYOUT_INSERT[] =
    "INSERT INTO payouts(id, contributor_id, amount_cents, status, "
    "requested_at, journal_id) VALUES (?1, ?2, ?3, 'requested', "
    "unixepoch(), ?4)";

int
ledger_payout_request(struct db *db, const char *contributor_id,
                      int64_t amount_cents, int64_t min_cents,
                      const char *idem_key, struct ledger_payout *out,
                      char err[DB_ERR_LEN])
{
    sqlite3 *c = NULL;
    sqlite3_stmt *st = NULL;
    char id[LEDGER_ID_LEN], payable[LEDGER__ACCT_LEN], hash[32], memo[128];
    int64_t bal = 0, jid;
    int found = 0, rc;

    if (ledger__bad_str(contributor_id, LEDGER_ID_LEN) ||
        (idem_key && ledger__bad_str(idem_key, LEDGER_KEY_LEN)))
        return ledger__invalid(err, "bad contributor id or idempotency key");
    if (amount_cents < min_cents || amount_cents <= 0 ||
        amount_cents > LEDGER_MAX_CENTS) {
        snprintf(err, DB_ERR_LEN, "a payout must be at least %lld cents",
                 (long long)(min_cents > 1 ? min_cents : 1));
        return DB_EINVAL;
    }
    /* The request is its amount: the same key for another amount is a
     * different request. */
    snprintf(hash, sizeof hash, "%lld", (long long)amount_cents);
    ledger__account_id(payable, "payable", contributor_id);
    c = db_conn_get(db);
    rc = ledger__tx_begin(db, c, err);
    if (rc != DB_OK)
        goto out;
    if (idem_key) {
        rc = ledger__idem_check(db, c, contributor_id, "payout", idem_key, hash,
                                id, &found, err);
        if (rc != DB_OK)
            goto out;
    }
    if (found) {
        rc = payout_load(db, c, id, out, NULL, err);
        if (rc != DB_OK)
            goto out;
        out->replayed = 1;
        rc = ledger__tx_commit(db, c, err);
        goto out;
    }
    /* Read inside BEGIN IMMEDIATE: no other payout can slip in between
     * this check and the journal. */
    rc = payable_balance(db, c, payable, &bal, err);
    if (rc != DB_OK)
        goto out;
    if (amount_cents > bal) {
        snprintf(err, DB_ERR_LEN, "only %lld cents are available",
                 (long long)(bal > 0 ? bal : 0));
        rc = DB_EFUNDS;
        goto out;
    }
    ledger__new_id('o', id);
    snprintf(memo, sizeof memo, "payout %s", id);
    {
        struct ledger__post legs[] = {
            {payable, "USD", amount_cents},
            {"payouts_in_flight", "USD", -amount_cents},
        };

        rc = ledger__journal_post(db, c, "payout", memo, legs, 2, &jid, err);
        if (rc != DB_OK)
            goto out;
    }
    rc = db_prepare_cached(db, c, SQL_PAYOUT_INSERT, &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, contributor_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, amount_cents);
    sqlite3_bind_int64(st, 4, jid);
    rc = ledger__step_done(c, st, "payout insert", err);
    if (rc != DB_OK)
        goto out;
    if (idem_key) {
        rc = ledger__idem_record(db, c, contributor_id, "payout", idem_key,
                                 hash, id, err);
        if (rc != DB_OK)
            goto out;
    }
    rc = payout_load(db, c, id, out, NULL, err);
    if (rc != DB_OK)
        goto out;
    rc = ledger__tx_commit(db, c, err);
out:
    if (st)
        db_stmt_done(db, c, st);
    if (c) {
        if (rc != DB_OK)
            db_rollback(c);
        db_conn_put(db, c);
    }
    return rc;
}

static const char SQL_PAYOUT_SETTLED[] =
    "UPDATE payouts SET status = ?1, "
    "settled_at = unixepoch(), settle_journal = ?2 "
    "WHERE id = ?3";

int
ledger_payout_settle(struct db *db, const char *payout_id, int paid,
                     struct ledger_payout *out, char err[DB_ERR_LEN])
{
    sqlite3 *c = NULL;
    sqlite3_stmt *st = NULL;
    struct ledger_payout p;
    char memo[128];
    int64_t orig = 0, jid;
    int rc;

    if (ledger__bad_str(payout_id, LEDGER_ID_LEN)) {
        snprintf(err, DB_ERR_LEN, "no such payout");
        return DB_ENOTFOUND;
    }
    c = db_conn_get(db);
    rc = ledger__tx_begin(db, c, err);
    if (rc != DB_OK)
        goto out;
    rc = payout_load(db, c, payout_id, &p, &orig, err);
    if (rc != DB_OK)
        goto out;
    if (p.status != DB_PAYOUT_REQUESTED) {
        snprintf(err, DB_ERR_LEN, "payout is already %s",
                 db_status_payout_str(p.status));
        rc = DB_ECONFLICT;
        goto out;
    }
    if (paid) {
        struct ledger__post legs[] = {
            {"payouts_in_flight", "USD", p.amount_cents},
            {"payouts_paid", "USD", -p.amount_cents},
        };

        snprintf(memo, sizeof memo, "payout %s paid", p.id);
        rc = ledger__journal_post(db, c, "payout_paid", memo, legs, 2, &jid,
                                  err);
    } else {
        /* inv. 11: a failed payout is the request, reversed. */
        snprintf(memo, sizeof memo, "payout %s failed", p.id);
        rc = ledger__journal_reverse(db, c, "payout_failed", orig, memo, &jid,
                                     err);
    }
    if (rc != DB_OK)
        goto out;
    rc = db_prepare_cached(db, c, SQL_PAYOUT_SETTLED, &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, paid ? "paid" : "failed", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, jid);
    sqlite3_bind_text(st, 3, p.id, -1, SQLITE_STATIC);
    rc = ledger__step_done(c, st, "payout update", err);
    if (rc != DB_OK)
        goto out;
    rc = payout_load(db, c, p.id, out, NULL, err);
    if (rc != DB_OK)
        goto out;
    rc = ledger__tx_commit(db, c, err);
out:
    if (st)
        db_stmt_done(db, c, st);
    if (c) {
        if (rc != DB_OK)
            db_rollback(c);
        db_conn_put(db, c);
    }
    return rc;
}

static const char SQL_PAYOUT_LIST[] =
    "SELECT " PAYOUT_COLS " FROM payouts "
    "WHERE (?1 IS NULL OR contributor_id = ?1) "
    "AND (?2 IS NULL OR status = ?2) AND rowid < ?3 "
    "ORDER BY rowid DESC LIMIT ?4";

static void
payout_row_any(sqlite3_stmt *st, void *item)
{
    payout_row(st, item);
}

int
ledger_payouts(struct db *db, const char *contributor_id,
               const enum db_payout_status *status, const char *cursor,
               size_t limit, struct ledger_payout_list *out,
               char err[DB_ERR_LEN])
{
    sqlite3 *c = NULL;
    sqlite3_stmt *st = NULL;
    struct ledger_payout_list l;
    void *items = NULL;
    int64_t after;
    int rc;

    memset(&l, 0, sizeof l);
    if (limit < 1 || limit > LEDGER_LIST_MAX)
        return ledger__invalid(err, "bad limit");
    rc = ledger__cursor_parse(cursor, &after, err);
    if (rc != DB_OK)
        return rc;
    c = db_conn_get(db);
    rc = db_prepare_cached(db, c, SQL_PAYOUT_LIST, &st, err);
    if (rc == DB_OK) {
        sqlite3_bind_text(st, 1, contributor_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, status ? db_status_payout_str(*status) : NULL,
                          -1, SQLITE_STATIC);
        rc = ledger__page_rows(c, st, 3, after, limit, sizeof *l.items,
                               payout_row_any, 7, &items, &l.n, l.next_cursor,
                               "payout list", err);
    }
    if (rc == DB_OK) {
        l.items = items;
        *out = l;
    }
    if (st)
        db_stmt_done(db, c, st);
    db_conn_put(db, c);
    return rc;
}

void
ledger_payout_list_release(struct ledger_payout_list *l)
{
    if (!l)
        return;
    free(l->items);
    l->items = NULL;
    l->n = 0;
    l->next_cursor[0] = '\0';
}
