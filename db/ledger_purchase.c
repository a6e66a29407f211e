/* Stockroom — wallets, credit packs (create, settle, refund,
 * list) and the credit lots a pack opens and a licence spends. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledgerint.h"

/* Purchases. */

#define PURCHASE_COLS                                                          \
    "p.id, p.user_id, p.credits, p.price_cents, "                              \
    "p.provider, p.provider_ref, p.status, p.created_at, "                     \
    "coalesce(p.settled_at, 0), coalesce(p.refunded_at, 0), "                  \
    "coalesce(l.credits_used, 0), p.journal_id"

static void
purchase_row(sqlite3_stmt *st, struct ledger_purchase *p)
{
    memset(p, 0, sizeof *p);
    db_col_copy(st, 0, p->id, sizeof p->id);
    db_col_copy(st, 1, p->user_id, sizeof p->user_id);
    p->credits = sqlite3_column_int64(st, 2);
    p->price_cents = sqlite3_column_int64(st, 3);
    db_col_copy(st, 4, p->provider, sizeof p->provider);
    db_col_copy(st, 5, p->provider_ref, sizeof p->provider_ref);
    /* The schema's CHECK admits only the enum's texts. */
    if (db_status_purchase_parse((const char *)sqlite3_column_text(st, 6),
                                 &p->status) != DB_OK)
        assert(!"purchase status outside the schema");
    p->created_at = sqlite3_column_int64(st, 7);
    p->settled_at = sqlite3_column_int64(st, 8);
    p->refunded_at = sqlite3_column_int64(st, 9);
    p->credits_used = sqlite3_column_int64(st, 10);
}

static const char SQL_PURCHASE_GET[] =
    "SELECT " PURCHASE_COLS " FROM purchases p "
    "LEFT JOIN lots l ON l.purchase_id = p.id "
    "WHERE p.id = ?1 AND (?2 IS NULL OR p.user_id = ?2)";

/* Load a purchase (and *jid, its journal or 0); user may be NULL. */
static int
purchase_load(struct db *db, sqlite3 *c, const char *id, const char *user,
              struct ledger_purchase *out, int64_t *jid, char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    int rc = db_prepare_cached(db, c, SQL_PURCHASE_GET, &st, err);

    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        purchase_row(st, out);
        if (jid)
            *jid = sqlite3_column_int64(st, 11);
        rc = DB_OK;
    } else if (rc == SQLITE_DONE) {
        snprintf(err, DB_ERR_LEN, "no such purchase");
        rc = DB_ENOTFOUND;
    } else {
        rc = db_fail(c, rc, "purchase lookup", err);
    }
out:
    if (st)
        db_stmt_done(db, c, st);
    return rc;
}

int
ledger_purchase_get(struct db *db, const char *purchase_id,
                    struct ledger_purchase *out, char err[DB_ERR_LEN])
{
    sqlite3 *c;
    int rc;

    if (ledger__bad_str(purchase_id, LEDGER_ID_LEN))
        return ledger__invalid(err, "missing purchase id");
    c = db_conn_get(db);
    rc = purchase_load(db, c, purchase_id, NULL, out, NULL, err);
    db_conn_put(db, c);
    return rc;
}

const char ledger__sql_balance_get[] =
    "SELECT balance FROM accounts WHERE id = ?1";

int
ledger_wallet(struct db *db, const char *user_id, int64_t *credits,
              char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    char id[LEDGER__ACCT_LEN];
    int rc = db_prepare_cached(db, c, ledger__sql_balance_get, &st, err);

    if (rc != DB_OK)
        goto out;
    ledger__account_id(id, "wallet", user_id);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
        *credits = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
        rc = DB_OK;
    } else {
        rc = db_fail(c, rc, "wallet lookup", err);
    }
out:
    if (st)
        db_stmt_done(db, c, st);
    db_conn_put(db, c);
    return rc;
}

static const char SQL_PURCHASE_INSERT[] =
    "INSERT INTO purchases(id, user_id, credits, price_cents, provider, "
    "status, created_at) VALUES (?1, ?2, ?3, ?4, ?5, 'pending', "
    "unixepoch())";

int
ledger_purchase_create(struct db *db, const char *user_id, const char *idem_key,
                       const char *request_hash, int64_t credits,
                       int64_t price_cents, const char *provider,
                       struct ledger_purchase *out, char err[DB_ERR_LEN])
{
    sqlite3 *c = NULL;
    sqlite3_stmt *st = NULL;
    char id[LEDGER_ID_LEN];
    int found, rc;

    if (ledger__bad_str(user_id, LEDGER_ID_LEN) ||
        ledger__bad_str(idem_key, LEDGER_KEY_LEN) ||
        ledger__bad_str(request_hash, LEDGER_KEY_LEN) ||
        ledger__bad_str(provider, LEDGER_REF_LEN))
        return ledger__invalid(err, "missing or overlong purchase field");
    if (credits < 1 || credits > LEDGER_MAX_CREDITS || price_cents < 0 ||
        price_cents > LEDGER_MAX_CENTS)
        return ledger__invalid(err, "pack credits or price out of range");
    c = db_conn_get(db);
    rc = ledger__tx_begin(db, c, err);
    if (rc != DB_OK)
        goto out;
    rc = ledger__idem_check(db, c, user_id, "purchase", idem_key, request_hash,
                            id, &found, err);
    if (rc != DB_OK)
        goto out;
    if (found) {
        rc = purchase_load(db, c, id, NULL, out, NULL, err);
        if (rc != DB_OK)
            goto out;
        out->replayed = 1;
        rc = ledger__tx_commit(db, c, err);
        goto out;
    }
    ledger__new_id('p', id);
    rc = db_prepare_cached(db, c, SQL_PURCHASE_INSERT, &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, credits);
    sqlite3_bind_int64(st, 4, price_cents);
    sqlite3_bind_text(st, 5, provider, -1, SQLITE_STATIC);
    rc = ledger__step_done(c, st, "purchase insert", err);
    if (rc != DB_OK)
        goto out;
    rc = ledger__idem_record(db, c, user_id, "purchase", idem_key, request_hash,
                             id, err);
    if (rc != DB_OK)
        goto out;
    rc = purchase_load(db, c, id, NULL, out, NULL, err);
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

static const char SQL_LOT_INSERT[] =
    "INSERT INTO lots(purchase_id, user_id, credits, price_cents) "
    "VALUES (?1, ?2, ?3, ?4);";

static const char SQL_PURCHASE_SETTLED[] =
    "UPDATE purchases SET status = 'settled', provider_ref = ?1, "
    "settled_at = unixepoch(), journal_id = ?2 WHERE id = ?3";

static const char SQL_RECEIPT_ISSUE[] =
    "INSERT INTO receipts(number, purchase_id, issued_at) VALUES "
    "((SELECT coalesce(max(number), 0) + 1 FROM receipts), ?1, unixepoch())";

int
ledger__purchase_settle_tx(struct db *db, sqlite3 *c, const char *purchase_id,
                           const char *provider_ref,
                           struct ledger_purchase *out, char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    struct ledger_purchase p;
    char wallet[LEDGER__ACCT_LEN], memo[128];
    int64_t jid;
    int rc;

    assert(LEDGER__IN_TX(c));
    rc = purchase_load(db, c, purchase_id, NULL, &p, NULL, err);
    if (rc != DB_OK)
        goto out;
    if (p.status != DB_PURCHASE_PENDING) {
        /* Webhooks retry: the same confirmation again changes nothing. */
        if (provider_ref && *provider_ref &&
            strcmp(provider_ref, p.provider_ref) != 0) {
            snprintf(err, DB_ERR_LEN,
                     "purchase already settled under "
                     "another provider reference");
            rc = DB_ECONFLICT;
            goto out;
        }
        p.replayed = 1;
        *out = p;
        goto out;
    }
    rc = ledger__account_ensure(db, c, "wallet", p.user_id, err);
    if (rc != DB_OK)
        goto out;
    ledger__account_id(wallet, "wallet", p.user_id);
    snprintf(memo, sizeof memo, "purchase %s", p.id);
    {
        struct ledger__post legs[] = {
            {"credits_issued", "CREDIT", p.credits},
            {wallet, "CREDIT", -p.credits},
            {"payment_clearing", "USD", p.price_cents},
            {"deferred_revenue", "USD", -p.price_cents},
        };

        rc = ledger__journal_post(db, c, "purchase", memo, legs, 4, &jid, err);
        if (rc != DB_OK)
            goto out;
    }
    rc = db_prepare_cached(db, c, SQL_LOT_INSERT, &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, p.id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, p.user_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, p.credits);
    sqlite3_bind_int64(st, 4, p.price_cents);
    rc = ledger__step_done(c, st, "lot insert", err);
    if (rc != DB_OK)
        goto out;
    db_stmt_done(db, c, st);
    rc = db_prepare_cached(db, c, SQL_PURCHASE_SETTLED, &st, err);
    if (rc != DB_OK)
        goto out;
    if (provider_ref && *provider_ref)
        sqlite3_bind_text(st, 1, provider_ref, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, jid);
    sqlite3_bind_text(st, 3, p.id, -1, SQLITE_STATIC);
    rc = ledger__step_done(c, st, "purchase update", err);
    if (rc != DB_OK)
        goto out;
    db_stmt_done(db, c, st);
    /* inv. 15: the receipt's number is taken in the settling transaction,
     * so numbers have no gaps and no settled purchase lacks one. */
    rc = db_prepare_cached(db, c, SQL_RECEIPT_ISSUE, &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, p.id, -1, SQLITE_STATIC);
    rc = ledger__step_done(c, st, "receipt insert", err);
    if (rc != DB_OK)
        goto out;
    rc = purchase_load(db, c, purchase_id, NULL, out, NULL, err);
out:
    if (st)
        db_stmt_done(db, c, st);
    return rc;
}

int
ledger_purchase_settle(struct db *db, const char *purchase_id,
                       const char *provider_ref, struct ledger_purchase *out,
                       char err[DB_ERR_LEN])
{
    sqlite3 *c = NULL;
    int rc;

    if (ledger__bad_str(purchase_id, LEDGER_ID_LEN) ||
        (provider_ref && strlen(provider_ref) >= LEDGER_REF_LEN))
        return ledger__invalid(err, "missing or overlong purchase field");
    c = db_conn_get(db);
    rc = ledger__tx_begin(db, c, err);
    if (rc != DB_OK)
        goto out;
    rc = ledger__purchase_settle_tx(db, c, purchase_id, provider_ref, out, err);
    if (rc != DB_OK)
        goto out;
    rc = ledger__tx_commit(db, c, err);
out:
    if (rc != DB_OK)
        db_rollback(c);
    db_conn_put(db, c);
    return rc;
}

static const char SQL_LOT_REFUNDED[] =
    "UPDATE lots SET refunded = 1 WHERE purchase_id = ?1;";

static const char SQL_PURCHASE_REFUNDED[] =
    "UPDATE purchases SET status = 'refunded', refunded_at = ?1, "
    "refund_journal = ?2 WHERE id = ?3";

int
ledger_purchase_refund(struct db *db, const char *purchase_id,
                       const char *user_id, int64_t now, int64_t window_seconds,
                       struct ledger_purchase *out, char err[DB_ERR_LEN])
{
    sqlite3 *c = NULL;
    sqlite3_stmt *st = NULL;
    struct ledger_purchase p;
    char memo[128];
    int64_t orig = 0, jid;
    int rc;

    if (ledger__bad_str(purchase_id, LEDGER_ID_LEN) ||
        ledger__bad_str(user_id, LEDGER_ID_LEN))
        return ledger__invalid(err, "missing purchase or user id");
    c = db_conn_get(db);
    rc = ledger__tx_begin(db, c, err);
    if (rc != DB_OK)
        goto out;
    rc = purchase_load(db, c, purchase_id, user_id, &p, &orig, err);
    if (rc != DB_OK)
        goto out;
    if (p.status != DB_PURCHASE_SETTLED) {
        snprintf(err, DB_ERR_LEN, "purchase is %s",
                 db_status_purchase_str(p.status));
        rc = DB_ECONFLICT;
        goto out;
    }
    if (p.credits_used != 0) {
        snprintf(err, DB_ERR_LEN, "%lld of the pack's credits are spent",
                 (long long)p.credits_used);
        rc = DB_ECONFLICT;
        goto out;
    }
    if (now - p.settled_at > window_seconds) {
        snprintf(err, DB_ERR_LEN, "the refund window has passed");
        rc = DB_EINVAL;
        goto out;
    }
    snprintf(memo, sizeof memo, "refund of purchase %s", p.id);
    /* inv. 9: an unused lot's credits are all in the wallet, so the wallet
     * cannot go below zero here. */
    rc = ledger__journal_reverse(db, c, "purchase_refund", orig, memo, &jid,
                                 err);
    if (rc != DB_OK)
        goto out;
    rc = db_prepare_cached(db, c, SQL_LOT_REFUNDED, &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, p.id, -1, SQLITE_STATIC);
    rc = ledger__step_done(c, st, "lot update", err);
    if (rc != DB_OK)
        goto out;
    db_stmt_done(db, c, st);
    rc = db_prepare_cached(db, c, SQL_PURCHASE_REFUNDED, &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int64(st, 2, jid);
    sqlite3_bind_text(st, 3, p.id, -1, SQLITE_STATIC);
    rc = ledger__step_done(c, st, "purchase update", err);
    if (rc != DB_OK)
        goto out;
    rc = purchase_load(db, c, purchase_id, NULL, out, NULL, err);
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

int
ledger_purchase_is_refundable(const struct ledger_purchase *p, int64_t now,
                              int64_t window_seconds)
{
    return p->status == DB_PURCHASE_SETTLED && p->credits_used == 0 &&
           now - p->settled_at <= window_seconds;
}

static const char SQL_PURCHASE_LIST[] =
    "SELECT " PURCHASE_COLS " FROM purchases p "
    "LEFT JOIN lots l ON l.purchase_id = p.id "
    "WHERE p.user_id = ?1 ORDER BY p.rowid DESC LIMIT ?2";

int
ledger_purchases(struct db *db, const char *user_id, int64_t now,
                 int64_t window_seconds, size_t limit,
                 struct ledger_purchase_list *out, char err[DB_ERR_LEN])
{
    sqlite3 *c = NULL;
    sqlite3_stmt *st = NULL;
    struct ledger_purchase_list l = {NULL, 0};
    size_t cap = 0;
    int rc;

    if (ledger__bad_str(user_id, LEDGER_ID_LEN) || limit < 1 ||
        limit > LEDGER_LIST_MAX)
        return ledger__invalid(err, "bad user id or limit");
    c = db_conn_get(db);
    rc = db_prepare_cached(db, c, SQL_PURCHASE_LIST, &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct ledger_purchase *p =
            ledger__grow(l.items, &cap, l.n, sizeof *p, err);

        if (!p) {
            rc = DB_EGENERIC;
            goto out;
        }
        l.items = p;
        p = &l.items[l.n++];
        purchase_row(st, p);
        p->refundable = ledger_purchase_is_refundable(p, now, window_seconds);
    }
    if (rc != SQLITE_DONE) {
        rc = db_fail(c, rc, "purchase list", err);
        goto out;
    }
    *out = l;
    l.items = NULL;
    rc = DB_OK;
out:
    free(l.items);
    if (st)
        db_stmt_done(db, c, st);
    db_conn_put(db, c);
    return rc;
}

void
ledger_purchase_list_release(struct ledger_purchase_list *l)
{
    if (!l)
        return;
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

static const char SQL_LOTS_OPEN[] =
    "SELECT id, credits, price_cents, credits_used, cents_used FROM lots "
    "WHERE user_id = ?1 AND credits_used < credits AND refunded = 0 "
    "ORDER BY id";

/* Spend want credits from the buyer's open lots, oldest first, filling
 * *uses (caller frees) and *cash. The k-th credit of a lot of C credits
 * priced P is worth floor(P*k/C) - floor(P*(k-1)/C), so a lot's credits
 * add up to exactly its price; cents_used tracks what was taken, and after
 * a licence refund gave cents back the next spend takes the lot back to
 * floor(P*used/C) (never below nothing), so the total stays exact (inv. 8).
 * DB_EFUNDS when the lots hold fewer than want credits. */
int
ledger__lots_spend(struct db *db, sqlite3 *c, const char *buyer, int64_t want,
                   struct ledger__use **uses, size_t *n, int64_t *cash,
                   char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    struct ledger__use *u = NULL;
    size_t nu = 0, cap = 0;
    int64_t left = want, total = 0;
    int rc = db_prepare_cached(db, c, SQL_LOTS_OPEN, &st, err);

    assert(LEDGER__IN_TX(c));
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, buyer, -1, SQLITE_STATIC);
    while (left > 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t lot_c = sqlite3_column_int64(st, 1);
        int64_t lot_p = sqlite3_column_int64(st, 2);
        int64_t used = sqlite3_column_int64(st, 3);
        int64_t cents = sqlite3_column_int64(st, 4);
        int64_t take = lot_c - used < left ? lot_c - used : left;
        /* Both below LEDGER_MAX_*, so the product fits in 64 bits. */
        int64_t v = lot_p * (used + take) / lot_c - cents;

        struct ledger__use *g = ledger__grow(u, &cap, nu, sizeof *u, err);

        if (!g) {
            rc = DB_EGENERIC;
            goto out;
        }
        u = g;
        u[nu].lot = sqlite3_column_int64(st, 0);
        u[nu].credits = take;
        u[nu].cents = v > 0 ? v : 0;
        total += u[nu].cents;
        nu++;
        left -= take;
    }
    if (left > 0) {
        if (rc != SQLITE_DONE) {
            rc = db_fail(c, rc, "lot lookup", err);
            goto out;
        }
        snprintf(err, DB_ERR_LEN, "insufficient credits: %lld short",
                 (long long)left);
        rc = DB_EFUNDS;
        goto out;
    }
    *uses = u;
    u = NULL;
    *n = nu;
    *cash = total;
    rc = DB_OK;
out:
    free(u);
    if (st)
        db_stmt_done(db, c, st);
    return rc;
}

static const char SQL_LOT_USE[] =
    "UPDATE lots SET credits_used = credits_used + ?1, "
    "cents_used = cents_used + ?2 WHERE id = ?3";

static const char SQL_LICENCE_LOT_INSERT[] =
    "INSERT INTO licence_lots(licence_id, lot_id, "
    "credits, cents) VALUES (?1, ?2, ?3, ?4)";

/* Write the lots' new use and the licence's usage rows. */
int
ledger__lots_record(struct db *db, sqlite3 *c, const char *licence,
                    const struct ledger__use *u, size_t n, char err[DB_ERR_LEN])
{
    sqlite3_stmt *up = NULL, *ins = NULL;
    int rc = db_prepare_cached(db, c, SQL_LOT_USE, &up, err);

    assert(LEDGER__IN_TX(c));
    if (rc != DB_OK)
        goto out;
    rc = db_prepare_cached(db, c, SQL_LICENCE_LOT_INSERT, &ins, err);
    if (rc != DB_OK)
        goto out;
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_int64(up, 1, u[i].credits);
        sqlite3_bind_int64(up, 2, u[i].cents);
        sqlite3_bind_int64(up, 3, u[i].lot);
        rc = ledger__step_done(c, up, "lot update", err);
        if (rc != DB_OK)
            goto out;
        sqlite3_reset(up);
        sqlite3_bind_text(ins, 1, licence, -1, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 2, u[i].lot);
        sqlite3_bind_int64(ins, 3, u[i].credits);
        sqlite3_bind_int64(ins, 4, u[i].cents);
        rc = ledger__step_done(c, ins, "lot usage insert", err);
        if (rc != DB_OK)
            goto out;
        sqlite3_reset(ins);
    }
out:
    if (ins)
        db_stmt_done(db, c, ins);
    if (up)
        db_stmt_done(db, c, up);
    return rc;
}
