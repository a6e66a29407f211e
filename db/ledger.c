/* Stockroom — the double-entry ledger: schema, credit packs, licences,
 * refunds, earnings and payouts. Invariants are numbered as in
 * docs/LEDGER.md; ledger_verify.c checks them all. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbint.h"
#include "ledger.h"

/* Amounts are signed, debit positive; every journal sums to zero per asset.
 * An account's balance is kept on its natural side: balance = normal * sum
 * of its postings, so a wallet's balance is the credits it holds. The
 * posting trigger keeps that cache in the same transaction (inv. 4) and
 * the CHECK keeps every account but royalties payable at or above zero
 * (inv. 5). Nothing in the money tables is ever deleted, and journals,
 * postings and the figures of a licence are never changed (inv. 14): a
 * mistake is undone by a journal that reverses the original (inv. 11). */
/* Popularity (images.licences_sold, the "popular" sort) follows each sale
 * and refund inside the sale's own transaction: no second commit, and no
 * count that a crash could leave behind its licence. A migration of its own
 * because it reaches into the catalogue's table. */
const char db_schema_ledger_sales[] =
    "CREATE TRIGGER licences_count_sale AFTER INSERT ON licences BEGIN"
    "  UPDATE images SET licences_sold = licences_sold + 1"
    "  WHERE id = NEW.image_id;"
    " END;"
    "CREATE TRIGGER licences_count_refund AFTER UPDATE OF refunded_at"
    " ON licences WHEN OLD.refunded_at IS NULL"
    " AND NEW.refunded_at IS NOT NULL BEGIN"
    "  UPDATE images SET licences_sold = max(0, licences_sold - 1)"
    "  WHERE id = NEW.image_id;"
    " END;";

const char db_schema_ledger[] =
    "CREATE TABLE accounts ("
    "  id TEXT PRIMARY KEY,"
    "  kind TEXT NOT NULL CHECK (kind IN ('wallet', 'credits_issued',"
    "    'credits_redeemed', 'payment_clearing', 'deferred_revenue',"
    "    'platform_revenue', 'payable', 'payouts_in_flight',"
    "    'payouts_paid')),"
    "  owner TEXT REFERENCES users(id),"
    "  asset TEXT NOT NULL CHECK (asset IN ('USD', 'CREDIT')),"
    "  normal INTEGER NOT NULL CHECK (normal IN (1, -1)),"
    "  may_go_negative INTEGER NOT NULL CHECK (may_go_negative IN (0, 1)),"
    "  balance INTEGER NOT NULL DEFAULT 0,"
    "  CHECK (may_go_negative = 1 OR balance >= 0),"
    "  UNIQUE (id, asset)"
    ") STRICT;"
    "INSERT INTO accounts(id, kind, owner, asset, normal, may_go_negative)"
    "  VALUES ('credits_issued', 'credits_issued', NULL, 'CREDIT', 1, 0),"
    "  ('credits_redeemed', 'credits_redeemed', NULL, 'CREDIT', -1, 0),"
    "  ('payment_clearing', 'payment_clearing', NULL, 'USD', 1, 0),"
    "  ('deferred_revenue', 'deferred_revenue', NULL, 'USD', -1, 0),"
    "  ('platform_revenue', 'platform_revenue', NULL, 'USD', -1, 0),"
    "  ('payouts_in_flight', 'payouts_in_flight', NULL, 'USD', -1, 0),"
    "  ('payouts_paid', 'payouts_paid', NULL, 'USD', -1, 0);"
    "CREATE TRIGGER accounts_fixed BEFORE UPDATE ON accounts"
    "  WHEN NEW.id IS NOT OLD.id OR NEW.kind IS NOT OLD.kind"
    "    OR NEW.owner IS NOT OLD.owner OR NEW.asset IS NOT OLD.asset"
    "    OR NEW.normal IS NOT OLD.normal"
    "    OR NEW.may_go_negative IS NOT OLD.may_go_negative"
    "  BEGIN SELECT RAISE(ABORT, 'only an account''s balance changes'); END;"
    "CREATE TRIGGER accounts_no_delete BEFORE DELETE ON accounts"
    "  BEGIN SELECT RAISE(ABORT, 'accounts are never deleted'); END;"

    "CREATE TABLE journals ("
    "  id INTEGER PRIMARY KEY,"
    "  kind TEXT NOT NULL CHECK (kind IN ('purchase', 'purchase_refund',"
    "    'licence', 'licence_refund', 'payout', 'payout_paid',"
    "    'payout_failed')),"
    "  created_at INTEGER NOT NULL,"
    "  reverses_journal_id INTEGER UNIQUE REFERENCES journals(id),"
    "  memo TEXT NOT NULL,"
    "  CHECK ((kind IN ('purchase_refund', 'licence_refund',"
    "    'payout_failed')) = (reverses_journal_id IS NOT NULL))"
    ") STRICT;"
    "CREATE TRIGGER journals_no_update BEFORE UPDATE ON journals"
    "  BEGIN SELECT RAISE(ABORT, 'journals are immutable'); END;"
    "CREATE TRIGGER journals_no_delete BEFORE DELETE ON journals"
    "  BEGIN SELECT RAISE(ABORT, 'journals are immutable'); END;"
    "CREATE TRIGGER journals_no_replace BEFORE INSERT ON journals"
    "  WHEN EXISTS (SELECT 1 FROM journals WHERE id = NEW.id)"
    "  BEGIN SELECT RAISE(ABORT, 'journals are immutable'); END;"

    "CREATE TABLE postings ("
    "  id INTEGER PRIMARY KEY,"
    "  journal_id INTEGER NOT NULL REFERENCES journals(id),"
    "  account_id TEXT NOT NULL,"
    "  asset TEXT NOT NULL,"
    "  amount INTEGER NOT NULL CHECK (amount <> 0),"
    "  FOREIGN KEY (account_id, asset) REFERENCES accounts(id, asset)"
    ") STRICT;"
    "CREATE INDEX postings_journal ON postings(journal_id);"
    "CREATE TRIGGER postings_no_update BEFORE UPDATE ON postings"
    "  BEGIN SELECT RAISE(ABORT, 'postings are immutable'); END;"
    "CREATE TRIGGER postings_no_delete BEFORE DELETE ON postings"
    "  BEGIN SELECT RAISE(ABORT, 'postings are immutable'); END;"
    "CREATE TRIGGER postings_no_replace BEFORE INSERT ON postings"
    "  WHEN EXISTS (SELECT 1 FROM postings WHERE id = NEW.id)"
    "  BEGIN SELECT RAISE(ABORT, 'postings are immutable'); END;"
    /* A journal is closed once a later one exists. */
    "CREATE TRIGGER postings_open_journal BEFORE INSERT ON postings"
    "  WHEN NEW.journal_id IS NOT (SELECT max(id) FROM journals)"
    "  BEGIN SELECT RAISE(ABORT, 'that journal is closed'); END;"
    "CREATE TRIGGER postings_balance AFTER INSERT ON postings"
    "  BEGIN UPDATE accounts SET balance = balance + normal * NEW.amount"
    "    WHERE id = NEW.account_id; END;"

    "CREATE TABLE purchases ("
    "  id TEXT PRIMARY KEY,"
    "  user_id TEXT NOT NULL REFERENCES users(id),"
    "  credits INTEGER NOT NULL CHECK (credits > 0),"
    "  price_cents INTEGER NOT NULL CHECK (price_cents >= 0),"
    "  provider TEXT NOT NULL,"
    "  provider_ref TEXT,"
    "  status TEXT NOT NULL CHECK (status IN ('pending', 'settled',"
    "    'refunded')),"
    "  created_at INTEGER NOT NULL,"
    "  settled_at INTEGER,"
    "  refunded_at INTEGER,"
    "  journal_id INTEGER REFERENCES journals(id),"
    "  refund_journal INTEGER REFERENCES journals(id)"
    ") STRICT;"
    "CREATE INDEX purchases_user ON purchases(user_id);"
    "CREATE TRIGGER purchases_fixed BEFORE UPDATE ON purchases"
    "  WHEN NEW.id IS NOT OLD.id OR NEW.user_id IS NOT OLD.user_id"
    "    OR NEW.credits IS NOT OLD.credits"
    "    OR NEW.price_cents IS NOT OLD.price_cents"
    "    OR NEW.provider IS NOT OLD.provider"
    "    OR NEW.created_at IS NOT OLD.created_at"
    "    OR (OLD.journal_id IS NOT NULL"
    "        AND NEW.journal_id IS NOT OLD.journal_id)"
    "    OR (OLD.refund_journal IS NOT NULL"
    "        AND NEW.refund_journal IS NOT OLD.refund_journal)"
    "  BEGIN SELECT RAISE(ABORT, 'a purchase''s figures are fixed'); END;"
    "CREATE TRIGGER purchases_no_delete BEFORE DELETE ON purchases"
    "  BEGIN SELECT RAISE(ABORT, 'purchases are never deleted'); END;"

    "CREATE TABLE lots ("
    "  id INTEGER PRIMARY KEY,"
    "  purchase_id TEXT NOT NULL UNIQUE REFERENCES purchases(id),"
    "  user_id TEXT NOT NULL REFERENCES users(id),"
    "  credits INTEGER NOT NULL CHECK (credits > 0),"
    "  price_cents INTEGER NOT NULL CHECK (price_cents >= 0),"
    "  credits_used INTEGER NOT NULL DEFAULT 0"
    "    CHECK (credits_used BETWEEN 0 AND credits),"
    "  cents_used INTEGER NOT NULL DEFAULT 0"
    "    CHECK (cents_used BETWEEN 0 AND price_cents),"
    "  refunded INTEGER NOT NULL DEFAULT 0 CHECK (refunded IN (0, 1))"
    ") STRICT;"
    "CREATE INDEX lots_open ON lots(user_id, id)"
    "  WHERE credits_used < credits AND refunded = 0;"
    "CREATE TRIGGER lots_fixed BEFORE UPDATE ON lots"
    "  WHEN NEW.id IS NOT OLD.id OR NEW.purchase_id IS NOT OLD.purchase_id"
    "    OR NEW.user_id IS NOT OLD.user_id OR NEW.credits IS NOT OLD.credits"
    "    OR NEW.price_cents IS NOT OLD.price_cents"
    "  BEGIN SELECT RAISE(ABORT, 'a lot''s size and price are fixed'); END;"
    "CREATE TRIGGER lots_no_delete BEFORE DELETE ON lots"
    "  BEGIN SELECT RAISE(ABORT, 'lots are never deleted'); END;"

    "CREATE TABLE licences ("
    "  id TEXT NOT NULL UNIQUE,"
    "  buyer_id TEXT NOT NULL REFERENCES users(id),"
    "  image_id TEXT NOT NULL,"
    "  contributor_id TEXT NOT NULL REFERENCES users(id),"
    "  size TEXT NOT NULL CHECK (size IN ('S', 'M', 'L', 'XL')),"
    "  type TEXT NOT NULL CHECK (type IN ('standard', 'extended')),"
    "  credits INTEGER NOT NULL CHECK (credits > 0),"
    "  cash_cents INTEGER NOT NULL CHECK (cash_cents >= 0),"
    "  rate_bp INTEGER NOT NULL CHECK (rate_bp BETWEEN 0 AND 10000),"
    "  royalty_cents INTEGER NOT NULL,"
    "  platform_cents INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  refunded_at INTEGER,"
    "  refund_journal INTEGER REFERENCES journals(id),"
    "  file_sha256 TEXT CHECK (file_sha256 IS NULL OR"
    "    (length(file_sha256) = 64 AND file_sha256 NOT GLOB '*[^0-9a-f]*')),"
    "  journal_id INTEGER NOT NULL REFERENCES journals(id),"
    "  CHECK (royalty_cents + platform_cents = cash_cents),"
    "  CHECK (royalty_cents = cash_cents * rate_bp / 10000),"
    "  CHECK ((refunded_at IS NULL) = (refund_journal IS NULL))"
    ") STRICT;"
    "CREATE INDEX licences_buyer ON licences(buyer_id);"
    "CREATE INDEX licences_contributor ON licences(contributor_id);"
    "CREATE TRIGGER licences_fixed BEFORE UPDATE ON licences"
    "  WHEN NEW.rowid IS NOT OLD.rowid OR NEW.id IS NOT OLD.id"
    "    OR NEW.buyer_id IS NOT OLD.buyer_id"
    "    OR NEW.image_id IS NOT OLD.image_id"
    "    OR NEW.contributor_id IS NOT OLD.contributor_id"
    "    OR NEW.size IS NOT OLD.size OR NEW.type IS NOT OLD.type"
    "    OR NEW.credits IS NOT OLD.credits"
    "    OR NEW.cash_cents IS NOT OLD.cash_cents"
    "    OR NEW.rate_bp IS NOT OLD.rate_bp"
    "    OR NEW.royalty_cents IS NOT OLD.royalty_cents"
    "    OR NEW.platform_cents IS NOT OLD.platform_cents"
    "    OR NEW.created_at IS NOT OLD.created_at"
    "    OR NEW.journal_id IS NOT OLD.journal_id"
    "    OR (OLD.file_sha256 IS NOT NULL"
    "        AND NEW.file_sha256 IS NOT OLD.file_sha256)"
    "    OR (OLD.refunded_at IS NOT NULL"
    "        AND NEW.refunded_at IS NOT OLD.refunded_at)"
    "    OR (OLD.refund_journal IS NOT NULL"
    "        AND NEW.refund_journal IS NOT OLD.refund_journal)"
    "  BEGIN SELECT RAISE(ABORT, 'a licence''s figures are fixed'); END;"
    "CREATE TRIGGER licences_no_delete BEFORE DELETE ON licences"
    "  BEGIN SELECT RAISE(ABORT, 'licences are never deleted'); END;"
    "CREATE TRIGGER licences_no_replace BEFORE INSERT ON licences"
    "  WHEN EXISTS (SELECT 1 FROM licences WHERE id = NEW.id)"
    "    OR EXISTS (SELECT 1 FROM licences WHERE rowid = NEW.rowid)"
    "  BEGIN SELECT RAISE(ABORT, 'licences are never replaced'); END;"

    /* Which lots paid for a licence: a refund gives them back. */
    "CREATE TABLE licence_lots ("
    "  licence_id TEXT NOT NULL REFERENCES licences(id),"
    "  lot_id INTEGER NOT NULL REFERENCES lots(id),"
    "  credits INTEGER NOT NULL CHECK (credits > 0),"
    "  cents INTEGER NOT NULL CHECK (cents >= 0),"
    "  PRIMARY KEY (licence_id, lot_id)"
    ") STRICT, WITHOUT ROWID;"
    "CREATE TRIGGER licence_lots_no_update BEFORE UPDATE ON licence_lots"
    "  BEGIN SELECT RAISE(ABORT, 'lot usages are immutable'); END;"
    "CREATE TRIGGER licence_lots_no_delete BEFORE DELETE ON licence_lots"
    "  BEGIN SELECT RAISE(ABORT, 'lot usages are immutable'); END;"

    "CREATE TABLE payouts ("
    "  id TEXT PRIMARY KEY,"
    "  contributor_id TEXT NOT NULL REFERENCES users(id),"
    "  amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),"
    "  status TEXT NOT NULL CHECK (status IN ('requested', 'paid',"
    "    'failed')),"
    "  requested_at INTEGER NOT NULL,"
    "  settled_at INTEGER,"
    "  journal_id INTEGER NOT NULL REFERENCES journals(id),"
    "  settle_journal INTEGER REFERENCES journals(id)"
    ") STRICT;"
    "CREATE INDEX payouts_contributor ON payouts(contributor_id);"
    "CREATE TRIGGER payouts_fixed BEFORE UPDATE ON payouts"
    "  WHEN NEW.id IS NOT OLD.id OR NEW.contributor_id IS NOT"
    "    OLD.contributor_id OR NEW.amount_cents IS NOT OLD.amount_cents"
    "    OR NEW.journal_id IS NOT OLD.journal_id OR OLD.status <> 'requested'"
    "  BEGIN SELECT RAISE(ABORT, 'a payout''s figures are fixed'); END;"
    "CREATE TRIGGER payouts_no_delete BEFORE DELETE ON payouts"
    "  BEGIN SELECT RAISE(ABORT, 'payouts are never deleted'); END;"

    "CREATE TABLE contributor_stats ("
    "  contributor_id TEXT PRIMARY KEY REFERENCES users(id),"
    "  lifetime_sold INTEGER NOT NULL CHECK (lifetime_sold >= 0)"
    ") STRICT, WITHOUT ROWID;"
    /* inv. 12: tiers never go down. */
    "CREATE TRIGGER contributor_stats_up BEFORE UPDATE ON contributor_stats"
    "  WHEN NEW.contributor_id IS NOT OLD.contributor_id"
    "    OR NEW.lifetime_sold < OLD.lifetime_sold"
    "  BEGIN SELECT RAISE(ABORT, 'lifetime counts never go down'); END;"
    "CREATE TRIGGER contributor_stats_no_delete BEFORE DELETE"
    "  ON contributor_stats"
    "  BEGIN SELECT RAISE(ABORT, 'lifetime counts never go down'); END;"

    "CREATE TABLE idempotency_keys ("
    "  user_id TEXT NOT NULL REFERENCES users(id),"
    "  scope TEXT NOT NULL CHECK (scope IN ('purchase', 'licence',"
    "    'payout')),"
    "  key TEXT NOT NULL,"
    "  request_hash TEXT NOT NULL,"
    "  result_id TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  PRIMARY KEY (user_id, scope, key)"
    ") STRICT, WITHOUT ROWID;"
    "CREATE TRIGGER idempotency_keys_no_update BEFORE UPDATE"
    "  ON idempotency_keys"
    "  BEGIN SELECT RAISE(ABORT, 'idempotency keys are immutable'); END;"
    "CREATE TRIGGER idempotency_keys_no_delete BEFORE DELETE"
    "  ON idempotency_keys"
    "  BEGIN SELECT RAISE(ABORT, 'idempotency keys are immutable'); END;";

const struct ledger_tier ledger_default_tiers[4] = {
    {0, 2500},
    {100, 3000},
    {1000, 3500},
    {10000, 4000},
};

#define ACCT_LEN (LEDGER_ID_LEN + 16) /* "payable:" + a user id */
#define MAX_POSTS 5 /* legs of the largest journal, a licence */

/* One leg of a journal: debit positive, credit negative. */
struct post {
    const char *account;
    const char *asset;
    int64_t amount;
};

/* How much of one lot a licence spends. */
struct use {
    int64_t lot;
    int64_t credits;
    int64_t cents;
};

/* A string the caller must give: present, non-empty, fits in max - 1. */
static int
bad_str(const char *s, size_t max)
{
    return !s || !*s || strlen(s) >= max;
}

static int
invalid(char err[DB_ERR_LEN], const char *what)
{
    snprintf(err, DB_ERR_LEN, "%s", what);
    return DB_EINVAL;
}

/* A fresh random id: one letter and 32 hex digits. SQLite's PRNG is seeded
 * from the OS and guarded by its own mutex. */
static void
new_id(char prefix, char out[LEDGER_ID_LEN])
{
    unsigned char r[16];

    sqlite3_randomness(sizeof r, r);
    out[0] = prefix;
    for (size_t i = 0; i < sizeof r; i++)
        snprintf(out + 1 + 2 * i, 3, "%02x", r[i]);
}

static void
account_id(char out[ACCT_LEN], const char *kind, const char *user)
{
    snprintf(out, ACCT_LEN, "%s:%s", kind, user);
}

static int
step_done(sqlite3 *c, sqlite3_stmt *st, const char *what, char err[DB_ERR_LEN])
{
    int rc = sqlite3_step(st);

    return rc == SQLITE_DONE ? DB_OK : db_fail(c, rc, what, err);
}

/* Every statement below is a static array handed to db_prepare_cached, so
 * each connection compiles it (with its triggers and foreign keys) once;
 * its address is the cache key. Statements are handed back with
 * db_stmt_done on every path, never finalized. */

static const char SQL_BEGIN[] = "BEGIN IMMEDIATE";
static const char SQL_COMMIT[] = "COMMIT";

/* Run a cached statement that returns no rows. */
static int
run_cached(struct db *db, sqlite3 *c, const char *sql, const char *what,
           char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    int rc = db_prepare_cached(db, c, sql, &st, err);

    if (rc != DB_OK)
        return rc;
    rc = step_done(c, st, what, err);
    db_stmt_done(db, c, st);
    return rc;
}

/* BEGIN IMMEDIATE: racing writers queue here, so what a transaction reads
 * is what it changes (PITFALLS). */
static int
tx_begin(struct db *db, sqlite3 *c, char err[DB_ERR_LEN])
{
    return run_cached(db, c, SQL_BEGIN, "begin", err);
}

static int
tx_commit(struct db *db, sqlite3 *c, char err[DB_ERR_LEN])
{
    int rc = run_cached(db, c, SQL_COMMIT, "commit", err);

    if (rc != DB_OK)
        db_rollback(c);
    return rc;
}

static const char SQL_ACCOUNT_INSERT[] =
    "INSERT INTO accounts(id, kind, owner, asset, normal, may_go_negative) "
    "VALUES (?1, ?2, ?3, ?4, -1, ?5) ON CONFLICT(id) DO NOTHING";

/* Create the per-user account if it does not exist yet. */
static int
account_ensure(struct db *db, sqlite3 *c, const char *kind, const char *user,
               char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    char id[ACCT_LEN];
    int payable = strcmp(kind, "payable") == 0;
    int rc = db_prepare_cached(db, c, SQL_ACCOUNT_INSERT, &st, err);

    if (rc != DB_OK)
        return rc;
    account_id(id, kind, user);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, user, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, payable ? "USD" : "CREDIT", -1, SQLITE_STATIC);
    /* inv. 5: a contributor's payable may go negative after a refund of a
     * royalty already paid out; a wallet never. */
    sqlite3_bind_int(st, 5, payable);
    rc = step_done(c, st, "account insert", err);
    db_stmt_done(db, c, st);
    return rc;
}

static const char SQL_JOURNAL_INSERT[] =
    "INSERT INTO journals(kind, created_at, reverses_journal_id, memo) "
    "VALUES (?1, unixepoch(), ?2, ?3) RETURNING id";

/* Insert a journal row; *jid gets its id. */
static int
journal_insert(struct db *db, sqlite3 *c, const char *kind, int64_t reverses,
               const char *memo, int64_t *jid, char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    int rc = db_prepare_cached(db, c, SQL_JOURNAL_INSERT, &st, err);

    if (rc != DB_OK)
        return rc;
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    if (reverses)
        sqlite3_bind_int64(st, 2, reverses);
    sqlite3_bind_text(st, 3, memo, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *jid = sqlite3_column_int64(st, 0);
        rc = DB_OK;
    } else {
        rc = db_fail(c, rc, "journal insert", err);
    }
    db_stmt_done(db, c, st);
    return rc;
}

/* The postings of a journal of n non-zero legs in one INSERT, one fixed
 * text per n (a text built at run time could not be cached): leg i binds
 * ?(3i+2) account, ?(3i+3) asset, ?(3i+4) amount; ?1 is the journal. */
#define POST_INS                                                               \
    "INSERT INTO postings(journal_id, account_id, asset, "                     \
    "amount) VALUES (?1, ?2, ?3, ?4)"
#define POST_LEG(a, b, c) ", (?1, ?" #a ", ?" #b ", ?" #c ")"

static const char SQL_POST_1[] = POST_INS;
static const char SQL_POST_2[] = POST_INS POST_LEG(5, 6, 7);
static const char SQL_POST_3[] = POST_INS POST_LEG(5, 6, 7) POST_LEG(8, 9, 10);
static const char SQL_POST_4[] =
    POST_INS POST_LEG(5, 6, 7) POST_LEG(8, 9, 10) POST_LEG(11, 12, 13);
static const char SQL_POST_5[] = POST_INS POST_LEG(5, 6, 7) POST_LEG(8, 9, 10)
    POST_LEG(11, 12, 13) POST_LEG(14, 15, 16);

static const char *const sql_post[MAX_POSTS + 1] = {
    NULL, SQL_POST_1, SQL_POST_2, SQL_POST_3, SQL_POST_4, SQL_POST_5,
};

/* Post one journal of n legs in one INSERT. Legs of zero are left out (a
 * free pack moves no cash). inv. 1: refuse to write an unbalanced one. */
static int
journal_post(struct db *db, sqlite3 *c, const char *kind, const char *memo,
             const struct post *p, size_t n, int64_t *jid, char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    size_t legs = 0;
    int64_t usd = 0, credit = 0;
    int rc, k = 2;

    for (size_t i = 0; i < n; i++) {
        if (strcmp(p[i].asset, "USD") == 0)
            usd += p[i].amount;
        else
            credit += p[i].amount;
        legs += p[i].amount != 0;
    }
    if (usd != 0 || credit != 0 || legs == 0 || legs > MAX_POSTS) {
        snprintf(err, DB_ERR_LEN, "bug: unbalanced %s journal", kind);
        return DB_EGENERIC;
    }
    rc = journal_insert(db, c, kind, 0, memo, jid, err);
    if (rc != DB_OK)
        return rc;
    rc = db_prepare_cached(db, c, sql_post[legs], &st, err);
    if (rc != DB_OK)
        return rc;
    sqlite3_bind_int64(st, 1, *jid);
    for (size_t i = 0; i < n; i++) {
        if (p[i].amount == 0)
            continue;
        sqlite3_bind_text(st, k, p[i].account, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, k + 1, p[i].asset, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, k + 2, p[i].amount);
        k += 3;
    }
    rc = step_done(c, st, "postings insert", err);
    db_stmt_done(db, c, st);
    return rc;
}

static const char SQL_REVERSAL_INSERT[] =
    "INSERT INTO postings(journal_id, account_id, asset, amount) "
    "SELECT ?1, account_id, asset, -amount FROM postings "
    "WHERE journal_id = ?2 ORDER BY id";

/* inv. 11: undo journal orig by a new one of the exact opposite legs that
 * names it; the UNIQUE reverses_journal_id makes a second reversal fail. */
static int
journal_reverse(struct db *db, sqlite3 *c, const char *kind, int64_t orig,
                const char *memo, int64_t *jid, char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    int rc = journal_insert(db, c, kind, orig, memo, jid, err);

    if (rc != DB_OK)
        return rc;
    rc = db_prepare_cached(db, c, SQL_REVERSAL_INSERT, &st, err);
    if (rc != DB_OK)
        return rc;
    sqlite3_bind_int64(st, 1, *jid);
    sqlite3_bind_int64(st, 2, orig);
    rc = step_done(c, st, "reversal insert", err);
    db_stmt_done(db, c, st);
    return rc;
}

static const char SQL_IDEM_GET[] =
    "SELECT request_hash, result_id FROM idempotency_keys "
    "WHERE user_id = ?1 AND scope = ?2 AND key = ?3";

/* inv. 10: look (user, scope, key) up. *found = 0 when new; 1 with the
 * earlier result when the request is the same; DB_EREUSED otherwise. */
static int
idem_check(struct db *db, sqlite3 *c, const char *user, const char *scope,
           const char *key, const char *hash, char result[LEDGER_ID_LEN],
           int *found, char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    int rc = db_prepare_cached(db, c, SQL_IDEM_GET, &st, err);

    *found = 0;
    if (rc != DB_OK)
        return rc;
    sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, scope, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        rc = DB_OK;
    } else if (rc != SQLITE_ROW) {
        rc = db_fail(c, rc, "idempotency lookup", err);
    } else if (strcmp((const char *)sqlite3_column_text(st, 0), hash) != 0) {
        snprintf(err, DB_ERR_LEN,
                 "idempotency key already used for "
                 "another request");
        rc = DB_EREUSED;
    } else {
        db_col_copy(st, 1, result, LEDGER_ID_LEN);
        *found = 1;
        rc = DB_OK;
    }
    db_stmt_done(db, c, st);
    return rc;
}

static const char SQL_IDEM_INSERT[] =
    "INSERT INTO idempotency_keys(user_id, scope, key, request_hash, "
    "result_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, unixepoch())";

static int
idem_record(struct db *db, sqlite3 *c, const char *user, const char *scope,
            const char *key, const char *hash, const char *result,
            char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    int rc = db_prepare_cached(db, c, SQL_IDEM_INSERT, &st, err);

    if (rc != DB_OK)
        return rc;
    sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, scope, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, result, -1, SQLITE_STATIC);
    rc = step_done(c, st, "idempotency insert", err);
    db_stmt_done(db, c, st);
    return rc;
}

/* A paging cursor is the rowid of the last row shown, in decimal. */
static int
cursor_parse(const char *cursor, int64_t *after, char err[DB_ERR_LEN])
{
    char *end;
    long long v;

    *after = INT64_MAX;
    if (!cursor || !*cursor)
        return DB_OK;
    if (strlen(cursor) >= LEDGER_CURSOR_LEN || cursor[0] < '0' ||
        cursor[0] > '9')
        return invalid(err, "bad cursor");
    v = strtoll(cursor, &end, 10);
    if (*end || v <= 0)
        return invalid(err, "bad cursor");
    *after = v;
    return DB_OK;
}

/* Room for item n in an array of *cap items of sz bytes: the array, moved
 * if need be, or NULL when out of memory (the old one is then kept). */
static void *
grow(void *items, size_t *cap, size_t n, size_t sz, char err[DB_ERR_LEN])
{
    void *p;
    size_t ncap;

    if (n < *cap)
        return items;
    ncap = *cap ? *cap * 2 : 16;
    p = realloc(items, ncap * sz);
    if (!p) {
        snprintf(err, DB_ERR_LEN, "out of memory");
        return NULL;
    }
    *cap = ncap;
    return p;
}

/* Read one page of a newest-first list whose statement is bound but for
 * its last two parameters, first_param and the next: the cursor's rowid
 * and limit + 1 (one more, to know whether a page follows). row() fills
 * an item of sz bytes; the rowid is in column rowid_col. On success
 * *items (caller frees) holds *n items and next the cursor, "" on the
 * last page. */
static int
page_rows(sqlite3 *c, sqlite3_stmt *st, int first_param, int64_t after,
          size_t limit, size_t sz, void (*row)(sqlite3_stmt *, void *),
          int rowid_col, void **items, size_t *n, char next[LEDGER_CURSOR_LEN],
          const char *what, char err[DB_ERR_LEN])
{
    void *got = NULL;
    size_t cap = 0, have = 0;
    int64_t last = 0;
    int rc;

    sqlite3_bind_int64(st, first_param, after);
    sqlite3_bind_int64(st, first_param + 1, (sqlite3_int64)limit + 1);
    next[0] = '\0';
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        void *g;

        if (have == limit) {
            snprintf(next, LEDGER_CURSOR_LEN, "%lld", (long long)last);
            rc = SQLITE_DONE;
            break;
        }
        g = grow(got, &cap, have, sz, err);
        if (!g) {
            free(got);
            return DB_EGENERIC;
        }
        got = g;
        row(st, (char *)got + have * sz);
        have++;
        last = sqlite3_column_int64(st, rowid_col);
    }
    if (rc != SQLITE_DONE) {
        free(got);
        return db_fail(c, rc, what, err);
    }
    *items = got;
    *n = have;
    return DB_OK;
}

/* Tiers. */

static int
tiers_check(const struct ledger_tier *t, size_t n, char err[DB_ERR_LEN])
{
    if (n == 0 || t[0].min_sold != 0)
        return invalid(err, "royalty tiers must start at 0 licences");
    for (size_t i = 0; i < n; i++) {
        if (t[i].rate_bp < 0 || t[i].rate_bp > 10000)
            return invalid(err, "royalty rate out of 0..10000 bp");
        if (i > 0 && t[i].min_sold <= t[i - 1].min_sold)
            return invalid(err, "royalty tiers out of order");
    }
    return DB_OK;
}

/* The tier a contributor with sold lifetime licences is in. */
static size_t
tier_of(const struct ledger_tier *t, size_t n, int64_t sold)
{
    size_t i = 0;

    while (i + 1 < n && t[i + 1].min_sold <= sold)
        i++;
    return i;
}

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
    db_col_copy(st, 6, p->status, sizeof p->status);
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

static const char SQL_BALANCE_GET[] =
    "SELECT balance FROM accounts WHERE id = ?1";

int
ledger_wallet(struct db *db, const char *user_id, int64_t *credits,
              char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    char id[ACCT_LEN];
    int rc = db_prepare_cached(db, c, SQL_BALANCE_GET, &st, err);

    if (rc != DB_OK)
        goto out;
    account_id(id, "wallet", user_id);
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

    if (bad_str(user_id, LEDGER_ID_LEN) || bad_str(idem_key, LEDGER_KEY_LEN) ||
        bad_str(request_hash, LEDGER_KEY_LEN) ||
        bad_str(provider, LEDGER_REF_LEN))
        return invalid(err, "missing or overlong purchase field");
    if (credits < 1 || credits > LEDGER_MAX_CREDITS || price_cents < 0 ||
        price_cents > LEDGER_MAX_CENTS)
        return invalid(err, "pack credits or price out of range");
    c = db_conn_get(db);
    rc = tx_begin(db, c, err);
    if (rc != DB_OK)
        goto out;
    rc = idem_check(db, c, user_id, "purchase", idem_key, request_hash, id,
                    &found, err);
    if (rc != DB_OK)
        goto out;
    if (found) {
        rc = purchase_load(db, c, id, NULL, out, NULL, err);
        if (rc != DB_OK)
            goto out;
        out->replayed = 1;
        rc = tx_commit(db, c, err);
        goto out;
    }
    new_id('p', id);
    rc = db_prepare_cached(db, c, SQL_PURCHASE_INSERT, &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, credits);
    sqlite3_bind_int64(st, 4, price_cents);
    sqlite3_bind_text(st, 5, provider, -1, SQLITE_STATIC);
    rc = step_done(c, st, "purchase insert", err);
    if (rc != DB_OK)
        goto out;
    rc = idem_record(db, c, user_id, "purchase", idem_key, request_hash, id,
                     err);
    if (rc != DB_OK)
        goto out;
    rc = purchase_load(db, c, id, NULL, out, NULL, err);
    if (rc != DB_OK)
        goto out;
    rc = tx_commit(db, c, err);
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

int
ledger_purchase_settle(struct db *db, const char *purchase_id,
                       const char *provider_ref, struct ledger_purchase *out,
                       char err[DB_ERR_LEN])
{
    sqlite3 *c = NULL;
    sqlite3_stmt *st = NULL;
    struct ledger_purchase p;
    char wallet[ACCT_LEN], memo[128];
    int64_t jid;
    int rc;

    if (bad_str(purchase_id, LEDGER_ID_LEN) ||
        (provider_ref && strlen(provider_ref) >= LEDGER_REF_LEN))
        return invalid(err, "missing or overlong purchase field");
    c = db_conn_get(db);
    rc = tx_begin(db, c, err);
    if (rc != DB_OK)
        goto out;
    rc = purchase_load(db, c, purchase_id, NULL, &p, NULL, err);
    if (rc != DB_OK)
        goto out;
    if (strcmp(p.status, "pending") != 0) {
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
        rc = tx_commit(db, c, err);
        goto out;
    }
    rc = account_ensure(db, c, "wallet", p.user_id, err);
    if (rc != DB_OK)
        goto out;
    account_id(wallet, "wallet", p.user_id);
    snprintf(memo, sizeof memo, "purchase %s", p.id);
    {
        struct post legs[] = {
            {"credits_issued", "CREDIT", p.credits},
            {wallet, "CREDIT", -p.credits},
            {"payment_clearing", "USD", p.price_cents},
            {"deferred_revenue", "USD", -p.price_cents},
        };

        rc = journal_post(db, c, "purchase", memo, legs, 4, &jid, err);
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
    rc = step_done(c, st, "lot insert", err);
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
    rc = step_done(c, st, "purchase update", err);
    if (rc != DB_OK)
        goto out;
    rc = purchase_load(db, c, purchase_id, NULL, out, NULL, err);
    if (rc != DB_OK)
        goto out;
    rc = tx_commit(db, c, err);
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

    if (bad_str(purchase_id, LEDGER_ID_LEN) || bad_str(user_id, LEDGER_ID_LEN))
        return invalid(err, "missing purchase or user id");
    c = db_conn_get(db);
    rc = tx_begin(db, c, err);
    if (rc != DB_OK)
        goto out;
    rc = purchase_load(db, c, purchase_id, user_id, &p, &orig, err);
    if (rc != DB_OK)
        goto out;
    if (strcmp(p.status, "settled") != 0) {
        snprintf(err, DB_ERR_LEN, "purchase is %s", p.status);
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
    rc = journal_reverse(db, c, "purchase_refund", orig, memo, &jid, err);
    if (rc != DB_OK)
        goto out;
    rc = db_prepare_cached(db, c, SQL_LOT_REFUNDED, &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, p.id, -1, SQLITE_STATIC);
    rc = step_done(c, st, "lot update", err);
    if (rc != DB_OK)
        goto out;
    db_stmt_done(db, c, st);
    rc = db_prepare_cached(db, c, SQL_PURCHASE_REFUNDED, &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int64(st, 2, jid);
    sqlite3_bind_text(st, 3, p.id, -1, SQLITE_STATIC);
    rc = step_done(c, st, "purchase update", err);
    if (rc != DB_OK)
        goto out;
    rc = purchase_load(db, c, purchase_id, NULL, out, NULL, err);
    if (rc != DB_OK)
        goto out;
    rc = tx_commit(db, c, err);
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

    if (bad_str(user_id, LEDGER_ID_LEN) || limit < 1 || limit > LEDGER_LIST_MAX)
        return invalid(err, "bad user id or limit");
    c = db_conn_get(db);
    rc = db_prepare_cached(db, c, SQL_PURCHASE_LIST, &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct ledger_purchase *p = grow(l.items, &cap, l.n, sizeof *p, err);

        if (!p) {
            rc = DB_EGENERIC;
            goto out;
        }
        l.items = p;
        p = &l.items[l.n++];
        purchase_row(st, p);
        p->refundable = strcmp(p->status, "settled") == 0 &&
                        p->credits_used == 0 &&
                        now - p->settled_at <= window_seconds;
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

/* Licences. */

#define LICENCE_COLS                                                           \
    "id, buyer_id, image_id, contributor_id, size, type, "                     \
    "credits, cash_cents, rate_bp, royalty_cents, platform_cents, "            \
    "created_at, coalesce(refunded_at, 0), coalesce(file_sha256, ''), "        \
    "journal_id, coalesce(refund_journal, 0), rowid"

static void
licence_row(sqlite3_stmt *st, struct ledger_licence *l)
{
    memset(l, 0, sizeof *l);
    db_col_copy(st, 0, l->id, sizeof l->id);
    db_col_copy(st, 1, l->buyer_id, sizeof l->buyer_id);
    db_col_copy(st, 2, l->image_id, sizeof l->image_id);
    db_col_copy(st, 3, l->contributor_id, sizeof l->contributor_id);
    db_col_copy(st, 4, l->size, sizeof l->size);
    db_col_copy(st, 5, l->type, sizeof l->type);
    l->credits = sqlite3_column_int64(st, 6);
    l->cash_cents = sqlite3_column_int64(st, 7);
    l->rate_bp = sqlite3_column_int(st, 8);
    l->royalty_cents = sqlite3_column_int64(st, 9);
    l->platform_cents = sqlite3_column_int64(st, 10);
    l->created_at = sqlite3_column_int64(st, 11);
    l->refunded_at = sqlite3_column_int64(st, 12);
    db_col_copy(st, 13, l->file_sha256, sizeof l->file_sha256);
    l->journal_id = sqlite3_column_int64(st, 14);
    l->refund_journal_id = sqlite3_column_int64(st, 15);
}

static const char SQL_LICENCE_GET[] = "SELECT " LICENCE_COLS " FROM licences "
                                      "WHERE id = ?1";

static int
licence_load(struct db *db, sqlite3 *c, const char *id,
             struct ledger_licence *out, char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    int rc = db_prepare_cached(db, c, SQL_LICENCE_GET, &st, err);

    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        licence_row(st, out);
        rc = DB_OK;
    } else if (rc == SQLITE_DONE) {
        snprintf(err, DB_ERR_LEN, "no such licence");
        rc = DB_ENOTFOUND;
    } else {
        rc = db_fail(c, rc, "licence lookup", err);
    }
out:
    if (st)
        db_stmt_done(db, c, st);
    return rc;
}

static int
licence_req_check(const struct ledger_licence_req *r, char err[DB_ERR_LEN])
{
    if (bad_str(r->buyer_id, LEDGER_ID_LEN) ||
        bad_str(r->image_id, LEDGER_ID_LEN) ||
        bad_str(r->contributor_id, LEDGER_ID_LEN) ||
        bad_str(r->idem_key, LEDGER_KEY_LEN) ||
        bad_str(r->request_hash, LEDGER_KEY_LEN) || !r->size || !r->type)
        return invalid(err, "missing or overlong licence field");
    if (strcmp(r->size, "S") && strcmp(r->size, "M") && strcmp(r->size, "L") &&
        strcmp(r->size, "XL"))
        return invalid(err, "size must be S, M, L or XL");
    if (strcmp(r->type, "standard") && strcmp(r->type, "extended"))
        return invalid(err, "type must be standard or extended");
    if (r->credits < 1 || r->credits > LEDGER_MAX_CREDITS)
        return invalid(err, "licence credits out of range");
    return r->tiers ? tiers_check(r->tiers, r->n_tiers, err) : DB_OK;
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
static int
lots_spend(struct db *db, sqlite3 *c, const char *buyer, int64_t want,
           struct use **uses, size_t *n, int64_t *cash, char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    struct use *u = NULL;
    size_t nu = 0, cap = 0;
    int64_t left = want, total = 0;
    int rc = db_prepare_cached(db, c, SQL_LOTS_OPEN, &st, err);

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

        struct use *g = grow(u, &cap, nu, sizeof *u, err);

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

static const char SQL_STATS_BUMP[] =
    "INSERT INTO contributor_stats(contributor_id, lifetime_sold) "
    "VALUES (?1, 1) ON CONFLICT(contributor_id) DO UPDATE SET "
    "lifetime_sold = lifetime_sold + 1 RETURNING lifetime_sold";

/* Bump the contributor's lifetime count; *before gets the count before. */
static int
stats_bump(struct db *db, sqlite3 *c, const char *contributor, int64_t *before,
           char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    int rc = db_prepare_cached(db, c, SQL_STATS_BUMP, &st, err);

    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, contributor, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        rc = db_fail(c, rc, "lifetime count", err);
        goto out;
    }
    *before = sqlite3_column_int64(st, 0) - 1;
    rc = DB_OK;
out:
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
static int
lots_record(struct db *db, sqlite3 *c, const char *licence, const struct use *u,
            size_t n, char err[DB_ERR_LEN])
{
    sqlite3_stmt *up = NULL, *ins = NULL;
    int rc = db_prepare_cached(db, c, SQL_LOT_USE, &up, err);

    if (rc != DB_OK)
        goto out;
    rc = db_prepare_cached(db, c, SQL_LICENCE_LOT_INSERT, &ins, err);
    if (rc != DB_OK)
        goto out;
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_int64(up, 1, u[i].credits);
        sqlite3_bind_int64(up, 2, u[i].cents);
        sqlite3_bind_int64(up, 3, u[i].lot);
        rc = step_done(c, up, "lot update", err);
        if (rc != DB_OK)
            goto out;
        sqlite3_reset(up);
        sqlite3_bind_text(ins, 1, licence, -1, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 2, u[i].lot);
        sqlite3_bind_int64(ins, 3, u[i].credits);
        sqlite3_bind_int64(ins, 4, u[i].cents);
        rc = step_done(c, ins, "lot usage insert", err);
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

static const char SQL_LICENCE_INSERT[] =
    "INSERT INTO licences(id, buyer_id, image_id, contributor_id, size, "
    "type, credits, cash_cents, rate_bp, royalty_cents, platform_cents, "
    "created_at, journal_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
    "?10, ?11, unixepoch(), ?12) RETURNING created_at";

static int
licence_insert(struct db *db, sqlite3 *c, struct ledger_licence *l,
               char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    int rc = db_prepare_cached(db, c, SQL_LICENCE_INSERT, &st, err);

    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, l->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, l->buyer_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, l->image_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, l->contributor_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, l->size, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, l->type, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, l->credits);
    sqlite3_bind_int64(st, 8, l->cash_cents);
    sqlite3_bind_int(st, 9, l->rate_bp);
    sqlite3_bind_int64(st, 10, l->royalty_cents);
    sqlite3_bind_int64(st, 11, l->platform_cents);
    sqlite3_bind_int64(st, 12, l->journal_id);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        rc = db_fail(c, rc, "licence insert", err);
        goto out;
    }
    l->created_at = sqlite3_column_int64(st, 0);
    rc = DB_OK;
out:
    if (st)
        db_stmt_done(db, c, st);
    return rc;
}

/* One sale inside the caller's open write transaction; on failure the
 * caller undoes what it wrote. */
static int
licence_one(struct db *db, sqlite3 *c, const struct ledger_licence_req *req,
            struct ledger_licence *out, char err[DB_ERR_LEN])
{
    const struct ledger_tier *tiers =
        req->tiers ? req->tiers : ledger_default_tiers;
    size_t n_tiers = req->tiers ? req->n_tiers : 4;
    struct use *uses = NULL;
    size_t n_uses = 0;
    struct ledger_licence l;
    char wallet[ACCT_LEN], payable[ACCT_LEN], prior[LEDGER_ID_LEN];
    char memo[192];
    int64_t before = 0;
    int found, rc;

    rc = idem_check(db, c, req->buyer_id, "licence", req->idem_key,
                    req->request_hash, prior, &found, err);
    if (rc != DB_OK)
        return rc;
    if (found) {
        rc = licence_load(db, c, prior, out, err);
        if (rc == DB_OK)
            out->replayed = 1;
        return rc;
    }
    memset(&l, 0, sizeof l);
    /* inv. 5, 9: the open lots hold exactly the wallet's credits, so
     * finding enough in them is the funds check, before anything is
     * written. */
    rc = lots_spend(db, c, req->buyer_id, req->credits, &uses, &n_uses,
                    &l.cash_cents, err);
    if (rc != DB_OK)
        goto out;
    rc = stats_bump(db, c, req->contributor_id, &before, err);
    if (rc != DB_OK)
        goto out;
    new_id('l', l.id);
    snprintf(l.buyer_id, sizeof l.buyer_id, "%s", req->buyer_id);
    snprintf(l.image_id, sizeof l.image_id, "%s", req->image_id);
    snprintf(l.contributor_id, sizeof l.contributor_id, "%s",
             req->contributor_id);
    snprintf(l.size, sizeof l.size, "%s", req->size);
    snprintf(l.type, sizeof l.type, "%s", req->type);
    l.credits = req->credits;
    /* inv. 7: the rate of the tier reached before this sale; the
     * contributor's share floored to the cent, the rest to the store. */
    l.rate_bp = tiers[tier_of(tiers, n_tiers, before)].rate_bp;
    l.royalty_cents = l.cash_cents * l.rate_bp / 10000;
    l.platform_cents = l.cash_cents - l.royalty_cents;
    /* The first sale opens the contributor's payable account; later ones
     * skip the statement (the hot path stays lean). */
    if (before == 0) {
        rc = account_ensure(db, c, "payable", req->contributor_id, err);
        if (rc != DB_OK)
            goto out;
    }
    account_id(wallet, "wallet", req->buyer_id);
    account_id(payable, "payable", req->contributor_id);
    snprintf(memo, sizeof memo, "licence %s", l.id);
    {
        struct post legs[] = {
            {wallet, "CREDIT", l.credits},
            {"credits_redeemed", "CREDIT", -l.credits},
            {"deferred_revenue", "USD", l.cash_cents},
            {payable, "USD", -l.royalty_cents},
            {"platform_revenue", "USD", -l.platform_cents},
        };

        rc = journal_post(db, c, "licence", memo, legs, 5, &l.journal_id, err);
        if (rc != DB_OK)
            goto out;
    }
    rc = licence_insert(db, c, &l, err);
    if (rc != DB_OK)
        goto out;
    rc = lots_record(db, c, l.id, uses, n_uses, err);
    if (rc != DB_OK)
        goto out;
    rc = idem_record(db, c, req->buyer_id, "licence", req->idem_key,
                     req->request_hash, l.id, err);
    if (rc == DB_OK)
        *out = l;
out:
    free(uses);
    return rc;
}

/* Group commit. A durable commit waits for the disk (an fdatasync), and
 * SQLite commits one writer at a time, so sales that arrive while one is
 * being written queue here and the next of them to run takes the whole
 * queue into one transaction: one commit, one wait for the disk, for all.
 * Each sale runs under its own savepoint, so one that fails (short of
 * credits, a reused key) undoes only itself; nobody is answered before
 * the commit that holds their sale is durable, and a failed commit fails
 * every sale in it. Within a batch sales run in the order they arrived,
 * so racing sales still succeed exactly as far as the credits go. */

#define BATCH_MAX 64 /* sales in one transaction at most */
#define LANES 8      /* databases batching at the same time */

struct licence_job {
    const struct ledger_licence_req *req;
    struct ledger_licence *out;
    char *err; /* the caller's DB_ERR_LEN buffer */
    int rc;
    int done; /* set under batch_lock once answered */
    struct licence_job *next;
};

/* The queue of one open database. */
struct lane {
    struct db *db;
    struct licence_job *head, *tail;
    int leading; /* a thread is running a batch */
};

static pthread_mutex_t batch_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t batch_done = PTHREAD_COND_INITIALIZER;
static struct lane lanes[LANES];

static const char SQL_SAVEPOINT[] = "SAVEPOINT sale";
static const char SQL_RELEASE[] = "RELEASE sale";
static const char SQL_ROLLBACK_TO[] = "ROLLBACK TO sale";

/* The lane of db, claiming an idle one; NULL when all are busy. Called
 * with batch_lock held. */
static struct lane *
lane_of(struct db *db)
{
    struct lane *idle = NULL;

    for (int i = 0; i < LANES; i++) {
        if (lanes[i].db == db)
            return &lanes[i];
        if (!idle && !lanes[i].leading && !lanes[i].head)
            idle = &lanes[i];
    }
    if (idle)
        idle->db = db;
    return idle;
}

/* Run a batch of jobs in one transaction, filling each job's rc. */
static void
batch_run(struct db *db, struct licence_job *jobs)
{
    sqlite3 *c = db_conn_get(db);
    int single = jobs->next == NULL;
    int rc;
    char err[DB_ERR_LEN];

    rc = tx_begin(db, c, err);
    for (struct licence_job *j = jobs; j; j = j->next) {
        if (rc != DB_OK) {
            j->rc = rc;
            snprintf(j->err, DB_ERR_LEN, "%s", err);
            continue;
        }
        /* A lone sale needs no savepoint: its failure undoes it all. */
        j->rc = single ? DB_OK
                       : run_cached(db, c, SQL_SAVEPOINT, "savepoint", j->err);
        if (j->rc == DB_OK)
            j->rc = licence_one(db, c, j->req, j->out, j->err);
        if (single)
            continue;
        if (j->rc == DB_OK)
            rc = run_cached(db, c, SQL_RELEASE, "release", err);
        else if (run_cached(db, c, SQL_ROLLBACK_TO, "rollback to", err) ==
                 DB_OK)
            rc = run_cached(db, c, SQL_RELEASE, "release", err);
        else
            rc = DB_EGENERIC;
        /* rc != DB_OK: the transaction is in an unknown state, so it is
         * rolled back and every sale in it fails. */
    }
    if (rc == DB_OK && !(single && jobs->rc != DB_OK))
        rc = tx_commit(db, c, err);
    /* Nothing of this transaction stands: no sale in it succeeded. */
    for (struct licence_job *j = jobs; rc != DB_OK && j; j = j->next) {
        if (j->rc == DB_OK) {
            j->rc = rc;
            snprintf(j->err, DB_ERR_LEN, "%s", err);
        }
    }
    db_rollback(c);
    db_conn_put(db, c);
}

/* Sell without batching (every lane busy). */
static int
licence_alone(struct db *db, const struct ledger_licence_req *req,
              struct ledger_licence *out, char err[DB_ERR_LEN])
{
    struct licence_job j = {req, out, err, DB_OK, 0, NULL};

    batch_run(db, &j);
    return j.rc;
}

int
ledger_licence_create(struct db *db, const struct ledger_licence_req *req,
                      struct ledger_licence *out, char err[DB_ERR_LEN])
{
    struct licence_job me = {req, out, err, DB_OK, 0, NULL};
    struct lane *ln;
    int rc = licence_req_check(req, err);

    if (rc != DB_OK)
        return rc;
    pthread_mutex_lock(&batch_lock);
    ln = lane_of(db);
    if (!ln) {
        pthread_mutex_unlock(&batch_lock);
        return licence_alone(db, req, out, err);
    }
    if (ln->tail)
        ln->tail->next = &me;
    else
        ln->head = &me;
    ln->tail = &me;
    while (!me.done) {
        struct licence_job *batch, *last;
        int n = 1;

        if (ln->leading) {
            pthread_cond_wait(&batch_done, &batch_lock);
            continue;
        }
        /* Lead: take up to BATCH_MAX queued sales, ours among them. */
        ln->leading = 1;
        batch = last = ln->head;
        while (last->next && n < BATCH_MAX) {
            last = last->next;
            n++;
        }
        ln->head = last->next;
        if (!ln->head)
            ln->tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&batch_lock);
        batch_run(db, batch);
        pthread_mutex_lock(&batch_lock);
        for (struct licence_job *j = batch; j; j = j->next)
            j->done = 1;
        ln->leading = 0;
        if (!ln->head)
            ln->db = NULL;
        pthread_cond_broadcast(&batch_done);
    }
    pthread_mutex_unlock(&batch_lock);
    return me.rc;
}

int
ledger_licence_get(struct db *db, const char *licence_id,
                   struct ledger_licence *out, char err[DB_ERR_LEN])
{
    sqlite3 *c;
    int rc;

    if (bad_str(licence_id, LEDGER_ID_LEN)) {
        snprintf(err, DB_ERR_LEN, "no such licence");
        return DB_ENOTFOUND;
    }
    c = db_conn_get(db);
    rc = licence_load(db, c, licence_id, out, err);
    db_conn_put(db, c);
    return rc;
}

static const char SQL_LICENCE_FILE[] =
    "UPDATE licences SET file_sha256 = ?1 WHERE id = ?2";

int
ledger_licence_set_file(struct db *db, const char *licence_id,
                        const char *sha256_hex, char err[DB_ERR_LEN])
{
    sqlite3 *c = NULL;
    sqlite3_stmt *st = NULL;
    struct ledger_licence l;
    int rc;

    if (!sha256_hex || strlen(sha256_hex) != 64 ||
        strspn(sha256_hex, "0123456789abcdef") != 64)
        return invalid(err, "sha256 must be 64 lower-case hex digits");
    if (bad_str(licence_id, LEDGER_ID_LEN)) {
        snprintf(err, DB_ERR_LEN, "no such licence");
        return DB_ENOTFOUND;
    }
    c = db_conn_get(db);
    rc = tx_begin(db, c, err);
    if (rc != DB_OK)
        goto out;
    rc = licence_load(db, c, licence_id, &l, err);
    if (rc != DB_OK)
        goto out;
    if (*l.file_sha256) {
        if (strcmp(l.file_sha256, sha256_hex) != 0) {
            snprintf(err, DB_ERR_LEN, "the licensed file is already set");
            rc = DB_ECONFLICT;
        }
        goto out;
    }
    rc = db_prepare_cached(db, c, SQL_LICENCE_FILE, &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, sha256_hex, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, licence_id, -1, SQLITE_STATIC);
    rc = step_done(c, st, "licence update", err);
    if (rc != DB_OK)
        goto out;
    rc = tx_commit(db, c, err);
out:
    if (st)
        db_stmt_done(db, c, st);
    if (c) {
        db_rollback(c);
        db_conn_put(db, c);
    }
    return rc;
}

static const char SQL_LICENCE_LIST[] = "SELECT " LICENCE_COLS " FROM licences "
                                       "WHERE buyer_id = ?1 AND rowid < ?2 "
                                       "ORDER BY rowid DESC LIMIT ?3";

static void
licence_row_any(sqlite3_stmt *st, void *item)
{
    licence_row(st, item);
}

int
ledger_licences_for_buyer(struct db *db, const char *buyer_id,
                          const char *cursor, size_t limit,
                          struct ledger_licence_list *out, char err[DB_ERR_LEN])
{
    sqlite3 *c = NULL;
    sqlite3_stmt *st = NULL;
    struct ledger_licence_list l;
    void *items = NULL;
    int64_t after;
    int rc;

    memset(&l, 0, sizeof l);
    if (bad_str(buyer_id, LEDGER_ID_LEN) || limit < 1 ||
        limit > LEDGER_LIST_MAX)
        return invalid(err, "bad buyer id or limit");
    rc = cursor_parse(cursor, &after, err);
    if (rc != DB_OK)
        return rc;
    c = db_conn_get(db);
    /* Keyset paging on rowid, the order of sale: stable while new sales
     * arrive, and the buyer index carries the rowid. */
    rc = db_prepare_cached(db, c, SQL_LICENCE_LIST, &st, err);
    if (rc == DB_OK) {
        sqlite3_bind_text(st, 1, buyer_id, -1, SQLITE_STATIC);
        rc = page_rows(c, st, 2, after, limit, sizeof *l.items, licence_row_any,
                       16, &items, &l.n, l.next_cursor, "licence list", err);
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
ledger_licence_list_release(struct ledger_licence_list *l)
{
    if (!l)
        return;
    free(l->items);
    l->items = NULL;
    l->n = 0;
    l->next_cursor[0] = '\0';
}

static const char SQL_LICENCE_HELD[] =
    "SELECT EXISTS (SELECT 1 FROM licences "
    "WHERE buyer_id = ?1 AND image_id = ?2 AND size = ?3 "
    "AND type = ?4 AND refunded_at IS NULL)";

int
ledger_licence_held(struct db *db, const char *buyer_id, const char *image_id,
                    const char *size, const char *type, int *held,
                    char err[DB_ERR_LEN])
{
    sqlite3 *c = NULL;
    sqlite3_stmt *st = NULL;
    int rc;

    if (bad_str(buyer_id, LEDGER_ID_LEN) || bad_str(image_id, LEDGER_ID_LEN) ||
        !size || !type)
        return invalid(err, "missing licence field");
    c = db_conn_get(db);
    rc = db_prepare_cached(db, c, SQL_LICENCE_HELD, &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, buyer_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, image_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, size, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, type, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        rc = db_fail(c, rc, "licence lookup", err);
        goto out;
    }
    *held = sqlite3_column_int(st, 0);
    rc = DB_OK;
out:
    if (st)
        db_stmt_done(db, c, st);
    db_conn_put(db, c);
    return rc;
}

static const char SQL_LOTS_GIVE_BACK[] =
    "UPDATE lots SET credits_used = lots.credits_used - u.credits, "
    "cents_used = lots.cents_used - u.cents FROM (SELECT lot_id, credits, "
    "cents FROM licence_lots WHERE licence_id = ?1) AS u "
    "WHERE lots.id = u.lot_id";

static const char SQL_LICENCE_REFUNDED[] =
    "UPDATE licences SET refunded_at = unixepoch(), "
    "refund_journal = ?1 WHERE id = ?2";

int
ledger_licence_refund(struct db *db, const char *licence_id,
                      const char *admin_id, struct ledger_licence *out,
                      char err[DB_ERR_LEN])
{
    sqlite3 *c = NULL;
    sqlite3_stmt *st = NULL;
    struct ledger_licence l;
    char memo[192];
    int64_t jid;
    int rc;

    if (bad_str(licence_id, LEDGER_ID_LEN) || bad_str(admin_id, LEDGER_ID_LEN))
        return invalid(err, "missing licence or admin id");
    c = db_conn_get(db);
    rc = tx_begin(db, c, err);
    if (rc != DB_OK)
        goto out;
    rc = licence_load(db, c, licence_id, &l, err);
    if (rc != DB_OK)
        goto out;
    if (l.refunded_at) {
        snprintf(err, DB_ERR_LEN, "licence already refunded");
        rc = DB_ECONFLICT;
        goto out;
    }
    snprintf(memo, sizeof memo, "refund of licence %s by %s", l.id, admin_id);
    /* inv. 5: the payable may go below zero here, to be made good by later
     * sales; the wallet only gains. */
    rc =
        journal_reverse(db, c, "licence_refund", l.journal_id, memo, &jid, err);
    if (rc != DB_OK)
        goto out;
    /* inv. 8: the credits go back to the lots they came from, with the
     * cents they took, so they keep their cash value. */
    rc = db_prepare_cached(db, c, SQL_LOTS_GIVE_BACK, &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, l.id, -1, SQLITE_STATIC);
    rc = step_done(c, st, "lot update", err);
    if (rc != DB_OK)
        goto out;
    db_stmt_done(db, c, st);
    rc = db_prepare_cached(db, c, SQL_LICENCE_REFUNDED, &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_int64(st, 1, jid);
    sqlite3_bind_text(st, 2, l.id, -1, SQLITE_STATIC);
    rc = step_done(c, st, "licence update", err);
    if (rc != DB_OK)
        goto out;
    rc = licence_load(db, c, l.id, out, err);
    if (rc != DB_OK)
        goto out;
    rc = tx_commit(db, c, err);
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
        void *g = grow(*items, &cap, *n, sz, err);

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
    licence_row(st, p);
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
    char payable[ACCT_LEN];
    void *rows = NULL; /* each list, until e owns it */
    size_t t;
    int rc;

    memset(&e, 0, sizeof e);
    if (!tiers) {
        tiers = ledger_default_tiers;
        n_tiers = 4;
    }
    if (bad_str(contributor_id, LEDGER_ID_LEN) || max_rows < 1 ||
        max_rows > LEDGER_LIST_MAX)
        return invalid(err, "bad contributor id or row limit");
    rc = tiers_check(tiers, n_tiers, err);
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
    account_id(payable, "payable", contributor_id);
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
    t = tier_of(tiers, n_tiers, e.licences_sold);
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
                       "SELECT " LICENCE_COLS " FROM licences "
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
    db_col_copy(st, 3, p->status, sizeof p->status);
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
    int rc = db_prepare_cached(db, c, SQL_BALANCE_GET, &st, err);

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
    char id[LEDGER_ID_LEN], payable[ACCT_LEN], hash[32], memo[128];
    int64_t bal = 0, jid;
    int found = 0, rc;

    if (bad_str(contributor_id, LEDGER_ID_LEN) ||
        (idem_key && bad_str(idem_key, LEDGER_KEY_LEN)))
        return invalid(err, "bad contributor id or idempotency key");
    if (amount_cents < min_cents || amount_cents <= 0 ||
        amount_cents > LEDGER_MAX_CENTS) {
        snprintf(err, DB_ERR_LEN, "a payout must be at least %lld cents",
                 (long long)(min_cents > 1 ? min_cents : 1));
        return DB_EINVAL;
    }
    /* The request is its amount: the same key for another amount is a
     * different request. */
    snprintf(hash, sizeof hash, "%lld", (long long)amount_cents);
    account_id(payable, "payable", contributor_id);
    c = db_conn_get(db);
    rc = tx_begin(db, c, err);
    if (rc != DB_OK)
        goto out;
    if (idem_key) {
        rc = idem_check(db, c, contributor_id, "payout", idem_key, hash, id,
                        &found, err);
        if (rc != DB_OK)
            goto out;
    }
    if (found) {
        rc = payout_load(db, c, id, out, NULL, err);
        if (rc != DB_OK)
            goto out;
        out->replayed = 1;
        rc = tx_commit(db, c, err);
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
    new_id('o', id);
    snprintf(memo, sizeof memo, "payout %s", id);
    {
        struct post legs[] = {
            {payable, "USD", amount_cents},
            {"payouts_in_flight", "USD", -amount_cents},
        };

        rc = journal_post(db, c, "payout", memo, legs, 2, &jid, err);
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
    rc = step_done(c, st, "payout insert", err);
    if (rc != DB_OK)
        goto out;
    if (idem_key) {
        rc = idem_record(db, c, contributor_id, "payout", idem_key, hash, id,
                         err);
        if (rc != DB_OK)
            goto out;
    }
    rc = payout_load(db, c, id, out, NULL, err);
    if (rc != DB_OK)
        goto out;
    rc = tx_commit(db, c, err);
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

    if (bad_str(payout_id, LEDGER_ID_LEN)) {
        snprintf(err, DB_ERR_LEN, "no such payout");
        return DB_ENOTFOUND;
    }
    c = db_conn_get(db);
    rc = tx_begin(db, c, err);
    if (rc != DB_OK)
        goto out;
    rc = payout_load(db, c, payout_id, &p, &orig, err);
    if (rc != DB_OK)
        goto out;
    if (strcmp(p.status, "requested") != 0) {
        snprintf(err, DB_ERR_LEN, "payout is already %s", p.status);
        rc = DB_ECONFLICT;
        goto out;
    }
    if (paid) {
        struct post legs[] = {
            {"payouts_in_flight", "USD", p.amount_cents},
            {"payouts_paid", "USD", -p.amount_cents},
        };

        snprintf(memo, sizeof memo, "payout %s paid", p.id);
        rc = journal_post(db, c, "payout_paid", memo, legs, 2, &jid, err);
    } else {
        /* inv. 11: a failed payout is the request, reversed. */
        snprintf(memo, sizeof memo, "payout %s failed", p.id);
        rc = journal_reverse(db, c, "payout_failed", orig, memo, &jid, err);
    }
    if (rc != DB_OK)
        goto out;
    rc = db_prepare_cached(db, c, SQL_PAYOUT_SETTLED, &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, paid ? "paid" : "failed", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, jid);
    sqlite3_bind_text(st, 3, p.id, -1, SQLITE_STATIC);
    rc = step_done(c, st, "payout update", err);
    if (rc != DB_OK)
        goto out;
    rc = payout_load(db, c, p.id, out, NULL, err);
    if (rc != DB_OK)
        goto out;
    rc = tx_commit(db, c, err);
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
ledger_payouts(struct db *db, const char *contributor_id, const char *status,
               const char *cursor, size_t limit, struct ledger_payout_list *out,
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
        return invalid(err, "bad limit");
    rc = cursor_parse(cursor, &after, err);
    if (rc != DB_OK)
        return rc;
    c = db_conn_get(db);
    rc = db_prepare_cached(db, c, SQL_PAYOUT_LIST, &st, err);
    if (rc == DB_OK) {
        sqlite3_bind_text(st, 1, contributor_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
        rc = page_rows(c, st, 3, after, limit, sizeof *l.items, payout_row_any,
                       7, &items, &l.n, l.next_cursor, "payout list", err);
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
