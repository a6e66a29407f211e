/* Stockroom — what a payment provider adds to the books: checkouts of
 * pending purchases, provider events seen once, gap-free receipts, and
 * contributors' payout accounts and transfers. The migration creating them
 * is here too; the journals stay those of ledger_schema.c. */
#include <stdio.h>
#include <string.h>

#include "ledgerint.h"

/* The migration: never edit it once shipped, add another. Receipts are
 * back-filled for purchases settled before it, in settling order. */
const char db_schema_checkout[] =
    "CREATE TABLE checkouts ("
    "  purchase_id TEXT PRIMARY KEY REFERENCES purchases(id),"
    "  session_ref TEXT UNIQUE,"
    "  url TEXT,"
    "  state TEXT NOT NULL CHECK (state IN ('open', 'paid', 'failed',"
    "    'needs_attention')),"
    "  payment_ref TEXT UNIQUE,"
    "  card_last4 TEXT CHECK (card_last4 IS NULL OR (length(card_last4) = 4"
    "    AND card_last4 NOT GLOB '*[^0-9]*')),"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL"
    ") STRICT;"
    "CREATE TRIGGER checkouts_no_delete BEFORE DELETE ON checkouts"
    "  BEGIN SELECT RAISE(ABORT, 'checkouts are never deleted'); END;"
    "CREATE TRIGGER checkouts_paid_stays BEFORE UPDATE ON checkouts"
    "  WHEN OLD.state = 'paid' AND NEW.state <> 'paid'"
    "  BEGIN SELECT RAISE(ABORT, 'a paid checkout stays paid'); END;"

    "CREATE TABLE provider_events ("
    "  id TEXT PRIMARY KEY,"
    "  provider TEXT NOT NULL,"
    "  type TEXT NOT NULL,"
    "  received_at INTEGER NOT NULL"
    ") STRICT, WITHOUT ROWID;"
    "CREATE TRIGGER provider_events_no_delete BEFORE DELETE"
    "  ON provider_events"
    "  BEGIN SELECT RAISE(ABORT, 'events seen are never forgotten'); END;"

    "CREATE TABLE receipts ("
    "  number INTEGER PRIMARY KEY CHECK (number > 0),"
    "  purchase_id TEXT NOT NULL UNIQUE REFERENCES purchases(id),"
    "  issued_at INTEGER NOT NULL"
    ") STRICT;"
    "INSERT INTO receipts(number, purchase_id, issued_at)"
    "  SELECT row_number() OVER (ORDER BY settled_at, rowid), id, settled_at"
    "  FROM purchases WHERE journal_id IS NOT NULL;"
    "CREATE TRIGGER receipts_gap_free BEFORE INSERT ON receipts"
    "  WHEN NEW.number IS NOT (SELECT coalesce(max(number), 0) + 1"
    "    FROM receipts)"
    "  BEGIN SELECT RAISE(ABORT, 'receipt numbers have no gaps'); END;"
    "CREATE TRIGGER receipts_no_update BEFORE UPDATE ON receipts"
    "  BEGIN SELECT RAISE(ABORT, 'receipts are immutable'); END;"
    "CREATE TRIGGER receipts_no_delete BEFORE DELETE ON receipts"
    "  BEGIN SELECT RAISE(ABORT, 'receipts are immutable'); END;"

    "CREATE TABLE payout_accounts ("
    "  user_id TEXT PRIMARY KEY REFERENCES users(id),"
    "  provider TEXT NOT NULL,"
    "  account_ref TEXT NOT NULL UNIQUE,"
    "  payouts_enabled INTEGER NOT NULL DEFAULT 0"
    "    CHECK (payouts_enabled IN (0, 1)),"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL"
    ") STRICT;"
    "CREATE TABLE payout_transfers ("
    "  payout_id TEXT PRIMARY KEY REFERENCES payouts(id),"
    "  transfer_ref TEXT NOT NULL UNIQUE,"
    "  created_at INTEGER NOT NULL"
    ") STRICT;";

#define CHECKOUT_COLS                                                          \
    "purchase_id, coalesce(session_ref, ''), coalesce(url, ''), state, "       \
    "coalesce(payment_ref, ''), coalesce(card_last4, ''), created_at, "        \
    "updated_at"

static void
checkout_row(sqlite3_stmt *st, struct ledger_checkout *o)
{
    memset(o, 0, sizeof *o);
    db_col_copy(st, 0, o->purchase_id, sizeof o->purchase_id);
    db_col_copy(st, 1, o->session_ref, sizeof o->session_ref);
    db_col_copy(st, 2, o->url, sizeof o->url);
    db_col_copy(st, 3, o->state, sizeof o->state);
    db_col_copy(st, 4, o->payment_ref, sizeof o->payment_ref);
    db_col_copy(st, 5, o->card_last4, sizeof o->card_last4);
    o->created_at = sqlite3_column_int64(st, 6);
    o->updated_at = sqlite3_column_int64(st, 7);
}

/* One row by the text in ?1 of sql; DB_ENOTFOUND when none. */
static int
checkout_find(struct db *db, sqlite3 *c, const char *sql, const char *key,
              struct ledger_checkout *out, char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    int rc = db_prepare_cached(db, c, sql, &st, err);

    if (rc != DB_OK)
        return rc;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        checkout_row(st, out);
        rc = DB_OK;
    } else if (rc == SQLITE_DONE) {
        snprintf(err, DB_ERR_LEN, "no such checkout");
        rc = DB_ENOTFOUND;
    } else {
        rc = db_fail(c, rc, "checkout lookup", err);
    }
    db_stmt_done(db, c, st);
    return rc;
}

static const char SQL_CHECKOUT_GET[] =
    "SELECT " CHECKOUT_COLS " FROM checkouts WHERE purchase_id = ?1";
static const char SQL_CHECKOUT_BY_PAYMENT[] =
    "SELECT " CHECKOUT_COLS " FROM checkouts WHERE payment_ref = ?1";

int
ledger_checkout_get(struct db *db, const char *purchase_id,
                    struct ledger_checkout *out, char err[DB_ERR_LEN])
{
    sqlite3 *c;
    int rc;

    if (ledger__bad_str(purchase_id, LEDGER_ID_LEN))
        return ledger__invalid(err, "missing purchase id");
    c = db_conn_get(db);
    rc = checkout_find(db, c, SQL_CHECKOUT_GET, purchase_id, out, err);
    db_conn_put(db, c);
    return rc;
}

int
ledger_checkout_by_payment(struct db *db, const char *payment_ref,
                           struct ledger_checkout *out, char err[DB_ERR_LEN])
{
    sqlite3 *c;
    int rc;

    if (ledger__bad_str(payment_ref, LEDGER_REF_LEN))
        return ledger__invalid(err, "missing payment reference");
    c = db_conn_get(db);
    rc = checkout_find(db, c, SQL_CHECKOUT_BY_PAYMENT, payment_ref, out, err);
    db_conn_put(db, c);
    return rc;
}

/* A paid checkout never moves; open or failed ones may be recorded again
 * (a retried purchase request, a session created after all). */
static const char SQL_CHECKOUT_PUT[] =
    "INSERT INTO checkouts(purchase_id, session_ref, url, state, created_at,"
    " updated_at) VALUES (?1, ?2, ?3, ?4, unixepoch(), unixepoch()) "
    "ON CONFLICT(purchase_id) DO UPDATE SET "
    "session_ref = coalesce(excluded.session_ref, session_ref), "
    "url = coalesce(excluded.url, url), state = excluded.state, "
    "updated_at = unixepoch() WHERE state <> 'paid'";

int
ledger_checkout_put(struct db *db, const char *purchase_id,
                    const char *session_ref, const char *url, const char *state,
                    char err[DB_ERR_LEN])
{
    sqlite3 *c = NULL;
    sqlite3_stmt *st = NULL;
    int rc;

    if (ledger__bad_str(purchase_id, LEDGER_ID_LEN) ||
        (session_ref && strlen(session_ref) >= LEDGER_REF_LEN) ||
        (url && strlen(url) >= LEDGER_URL_LEN) || !state ||
        (strcmp(state, "open") && strcmp(state, "failed") &&
         strcmp(state, "needs_attention")))
        return ledger__invalid(err, "bad checkout field");
    c = db_conn_get(db);
    rc = db_prepare_cached(db, c, SQL_CHECKOUT_PUT, &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, purchase_id, -1, SQLITE_STATIC);
    if (session_ref && *session_ref)
        sqlite3_bind_text(st, 2, session_ref, -1, SQLITE_STATIC);
    if (url && *url)
        sqlite3_bind_text(st, 3, url, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, state, -1, SQLITE_STATIC);
    rc = ledger__step_done(c, st, "checkout write", err);
out:
    if (st)
        db_stmt_done(db, c, st);
    db_conn_put(db, c);
    return rc;
}

static const char SQL_CHECKOUT_PAID[] =
    "INSERT INTO checkouts(purchase_id, session_ref, state, payment_ref,"
    " card_last4, created_at, updated_at) VALUES (?1, ?2, 'paid', ?3, ?4,"
    " unixepoch(), unixepoch()) "
    "ON CONFLICT(purchase_id) DO UPDATE SET "
    "session_ref = coalesce(excluded.session_ref, session_ref), "
    "state = 'paid', payment_ref = coalesce(excluded.payment_ref, "
    "payment_ref), card_last4 = coalesce(excluded.card_last4, card_last4), "
    "updated_at = unixepoch()";

int
ledger_checkout_paid(struct db *db, const char *purchase_id,
                     const char *session_ref, const char *payment_ref,
                     const char *card_last4, struct ledger_purchase *out,
                     char err[DB_ERR_LEN])
{
    sqlite3 *c = NULL;
    sqlite3_stmt *st = NULL;
    int rc;

    if (ledger__bad_str(purchase_id, LEDGER_ID_LEN) ||
        ledger__bad_str(session_ref, LEDGER_REF_LEN) ||
        (payment_ref && strlen(payment_ref) >= LEDGER_REF_LEN) ||
        (card_last4 && *card_last4 && strlen(card_last4) != 4))
        return ledger__invalid(err, "bad checkout field");
    c = db_conn_get(db);
    rc = ledger__tx_begin(db, c, err);
    if (rc != DB_OK)
        goto out;
    rc = ledger__purchase_settle_tx(db, c, purchase_id, session_ref, out, err);
    if (rc != DB_OK)
        goto out;
    rc = db_prepare_cached(db, c, SQL_CHECKOUT_PAID, &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, purchase_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, session_ref, -1, SQLITE_STATIC);
    if (payment_ref && *payment_ref)
        sqlite3_bind_text(st, 3, payment_ref, -1, SQLITE_STATIC);
    if (card_last4 && *card_last4)
        sqlite3_bind_text(st, 4, card_last4, -1, SQLITE_STATIC);
    rc = ledger__step_done(c, st, "checkout paid", err);
    if (rc != DB_OK)
        goto out;
    rc = ledger__tx_commit(db, c, err);
out:
    if (st)
        db_stmt_done(db, c, st);
    if (rc != DB_OK)
        db_rollback(c);
    db_conn_put(db, c);
    return rc;
}

/* Events. */

static const char SQL_EVENT_SEEN[] =
    "SELECT 1 FROM provider_events WHERE id = ?1";
static const char SQL_EVENT_RECORD[] =
    "INSERT INTO provider_events(id, provider, type, received_at) "
    "VALUES (?1, ?2, ?3, unixepoch()) ON CONFLICT(id) DO NOTHING";

int
ledger_event_seen(struct db *db, const char *event_id, int *seen,
                  char err[DB_ERR_LEN])
{
    sqlite3 *c;
    sqlite3_stmt *st = NULL;
    int rc;

    if (ledger__bad_str(event_id, LEDGER_REF_LEN))
        return ledger__invalid(err, "missing event id");
    c = db_conn_get(db);
    rc = db_prepare_cached(db, c, SQL_EVENT_SEEN, &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, event_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
        *seen = rc == SQLITE_ROW;
        rc = DB_OK;
    } else {
        rc = db_fail(c, rc, "event lookup", err);
    }
out:
    if (st)
        db_stmt_done(db, c, st);
    db_conn_put(db, c);
    return rc;
}

int
ledger_event_record(struct db *db, const char *event_id, const char *provider,
                    const char *type, char err[DB_ERR_LEN])
{
    sqlite3 *c;
    sqlite3_stmt *st = NULL;
    int rc;

    if (ledger__bad_str(event_id, LEDGER_REF_LEN) ||
        ledger__bad_str(provider, LEDGER_REF_LEN) ||
        ledger__bad_str(type, LEDGER_REF_LEN))
        return ledger__invalid(err, "missing event field");
    c = db_conn_get(db);
    rc = db_prepare_cached(db, c, SQL_EVENT_RECORD, &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, event_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, provider, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, type, -1, SQLITE_STATIC);
    rc = ledger__step_done(c, st, "event insert", err);
out:
    if (st)
        db_stmt_done(db, c, st);
    db_conn_put(db, c);
    return rc;
}

/* Receipts. */

static const char SQL_RECEIPT_GET[] =
    "SELECT r.number, r.issued_at, coalesce(k.card_last4, '') "
    "FROM receipts r JOIN purchases p ON p.id = r.purchase_id "
    "LEFT JOIN checkouts k ON k.purchase_id = p.id "
    "WHERE r.purchase_id = ?1 AND p.user_id = ?2";

int
ledger_receipt_get(struct db *db, const char *purchase_id, const char *user_id,
                   struct ledger_receipt *out, char err[DB_ERR_LEN])
{
    sqlite3 *c;
    sqlite3_stmt *st = NULL;
    int rc;

    if (ledger__bad_str(purchase_id, LEDGER_ID_LEN) ||
        ledger__bad_str(user_id, LEDGER_ID_LEN))
        return ledger__invalid(err, "missing purchase or user id");
    c = db_conn_get(db);
    rc = db_prepare_cached(db, c, SQL_RECEIPT_GET, &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, purchase_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, user_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        memset(out, 0, sizeof *out);
        out->number = sqlite3_column_int64(st, 0);
        out->issued_at = sqlite3_column_int64(st, 1);
        db_col_copy(st, 2, out->card_last4, sizeof out->card_last4);
        rc = DB_OK;
    } else if (rc == SQLITE_DONE) {
        snprintf(err, DB_ERR_LEN, "no receipt for this purchase");
        rc = DB_ENOTFOUND;
    } else {
        rc = db_fail(c, rc, "receipt lookup", err);
    }
out:
    if (st)
        db_stmt_done(db, c, st);
    db_conn_put(db, c);
    return rc;
}

/* Payout accounts and transfers. */

static const char SQL_PAYACCT_GET[] =
    "SELECT account_ref, payouts_enabled FROM payout_accounts "
    "WHERE user_id = ?1";
static const char SQL_PAYACCT_PUT[] =
    "INSERT INTO payout_accounts(user_id, provider, account_ref, created_at,"
    " updated_at) VALUES (?1, ?2, ?3, unixepoch(), unixepoch()) "
    "ON CONFLICT(user_id) DO NOTHING";
static const char SQL_PAYACCT_ENABLE[] =
    "UPDATE payout_accounts SET payouts_enabled = ?1, updated_at = "
    "unixepoch() WHERE account_ref = ?2";
static const char SQL_TRANSFER_PUT[] =
    "INSERT INTO payout_transfers(payout_id, transfer_ref, created_at) "
    "VALUES (?1, ?2, unixepoch()) ON CONFLICT(payout_id) DO NOTHING";

int
ledger_payout_account_get(struct db *db, const char *user_id,
                          struct ledger_payout_account *out,
                          char err[DB_ERR_LEN])
{
    sqlite3 *c;
    sqlite3_stmt *st = NULL;
    int rc;

    if (ledger__bad_str(user_id, LEDGER_ID_LEN))
        return ledger__invalid(err, "missing user id");
    c = db_conn_get(db);
    rc = db_prepare_cached(db, c, SQL_PAYACCT_GET, &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        memset(out, 0, sizeof *out);
        db_col_copy(st, 0, out->account_ref, sizeof out->account_ref);
        out->payouts_enabled = sqlite3_column_int(st, 1);
        rc = DB_OK;
    } else if (rc == SQLITE_DONE) {
        snprintf(err, DB_ERR_LEN, "no payout account");
        rc = DB_ENOTFOUND;
    } else {
        rc = db_fail(c, rc, "payout account lookup", err);
    }
out:
    if (st)
        db_stmt_done(db, c, st);
    db_conn_put(db, c);
    return rc;
}

/* Run one cached write with up to three text binds (NULL: skipped) and,
 * when has_int, an integer as ?1 shifting the texts one place. */
static int
write_row(struct db *db, const char *sql, const char *what, int has_int,
          int64_t n, const char *a, const char *b, const char *d, int *changed,
          char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    const char *texts[3] = {a, b, d};
    int rc = db_prepare_cached(db, c, sql, &st, err);

    if (rc != DB_OK)
        goto out;
    if (has_int)
        sqlite3_bind_int64(st, 1, n);
    for (int i = 0; i < 3; i++) {
        if (texts[i])
            sqlite3_bind_text(st, i + 1 + has_int, texts[i], -1, SQLITE_STATIC);
    }
    rc = ledger__step_done(c, st, what, err);
    if (rc == DB_OK && changed)
        *changed = sqlite3_changes(c);
out:
    if (st)
        db_stmt_done(db, c, st);
    db_conn_put(db, c);
    return rc;
}

int
ledger_payout_account_put(struct db *db, const char *user_id,
                          const char *provider, const char *account_ref,
                          char err[DB_ERR_LEN])
{
    if (ledger__bad_str(user_id, LEDGER_ID_LEN) ||
        ledger__bad_str(provider, LEDGER_REF_LEN) ||
        ledger__bad_str(account_ref, LEDGER_REF_LEN))
        return ledger__invalid(err, "bad payout account field");
    return write_row(db, SQL_PAYACCT_PUT, "payout account insert", 0, 0,
                     user_id, provider, account_ref, NULL, err);
}

int
ledger_payout_account_enable(struct db *db, const char *account_ref,
                             int enabled, char err[DB_ERR_LEN])
{
    int changed = 0;
    int rc;

    if (ledger__bad_str(account_ref, LEDGER_REF_LEN))
        return ledger__invalid(err, "missing account reference");
    rc = write_row(db, SQL_PAYACCT_ENABLE, "payout account update", 1,
                   enabled ? 1 : 0, account_ref, NULL, NULL, &changed, err);
    if (rc == DB_OK && !changed) {
        snprintf(err, DB_ERR_LEN, "no such payout account");
        rc = DB_ENOTFOUND;
    }
    return rc;
}

int
ledger_payout_transfer_put(struct db *db, const char *payout_id,
                           const char *transfer_ref, char err[DB_ERR_LEN])
{
    if (ledger__bad_str(payout_id, LEDGER_ID_LEN) ||
        ledger__bad_str(transfer_ref, LEDGER_REF_LEN))
        return ledger__invalid(err, "bad transfer field");
    return write_row(db, SQL_TRANSFER_PUT, "transfer insert", 0, 0, payout_id,
                     transfer_ref, NULL, NULL, err);
}
