/* Stockroom — the ledger's plumbing that every money path shares:
 * ids, cached statements, transactions, journals and postings,
 * idempotency keys, paging and royalty tiers. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledgerint.h"

/* A string the caller must give: present, non-empty, fits in max - 1. */
int
ledger__bad_str(const char *s, size_t max)
{
    return !s || !*s || strlen(s) >= max;
}

int
ledger__invalid(char err[DB_ERR_LEN], const char *what)
{
    snprintf(err, DB_ERR_LEN, "%s", what);
    return DB_EINVAL;
}

/* A fresh random id: one letter and 32 hex digits. SQLite's PRNG is seeded
 * from the OS and guarded by its own mutex. */
void
ledger__new_id(char prefix, char out[LEDGER_ID_LEN])
{
    unsigned char r[16];

    sqlite3_randomness(sizeof r, r);
    out[0] = prefix;
    for (size_t i = 0; i < sizeof r; i++)
        snprintf(out + 1 + 2 * i, 3, "%02x", r[i]);
}

void
ledger__account_id(char out[LEDGER__ACCT_LEN], const char *kind,
                   const char *user)
{
    snprintf(out, LEDGER__ACCT_LEN, "%s:%s", kind, user);
}

int
ledger__step_done(sqlite3 *c, sqlite3_stmt *st, const char *what,
                  char err[DB_ERR_LEN])
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
int
ledger__run_cached(struct db *db, sqlite3 *c, const char *sql, const char *what,
                   char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    int rc = db_prepare_cached(db, c, sql, &st, err);

    if (rc != DB_OK)
        return rc;
    rc = ledger__step_done(c, st, what, err);
    db_stmt_done(db, c, st);
    return rc;
}

/* BEGIN IMMEDIATE: racing writers queue here, so what a transaction reads
 * is what it changes (PITFALLS). */
int
ledger__tx_begin(struct db *db, sqlite3 *c, char err[DB_ERR_LEN])
{
    /* db_conn_put rolls back whatever a borrower left open. */
    assert(!LEDGER__IN_TX(c));
    return ledger__run_cached(db, c, SQL_BEGIN, "begin", err);
}

int
ledger__tx_commit(struct db *db, sqlite3 *c, char err[DB_ERR_LEN])
{
    int rc = ledger__run_cached(db, c, SQL_COMMIT, "commit", err);

    if (rc != DB_OK)
        db_rollback(c);
    return rc;
}

static const char SQL_ACCOUNT_INSERT[] =
    "INSERT INTO accounts(id, kind, owner, asset, normal, may_go_negative) "
    "VALUES (?1, ?2, ?3, ?4, -1, ?5) ON CONFLICT(id) DO NOTHING";

/* Create the per-user account if it does not exist yet. */
int
ledger__account_ensure(struct db *db, sqlite3 *c, const char *kind,
                       const char *user, char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    char id[LEDGER__ACCT_LEN];
    int payable = strcmp(kind, "payable") == 0;
    int rc = db_prepare_cached(db, c, SQL_ACCOUNT_INSERT, &st, err);

    assert(LEDGER__IN_TX(c));
    if (rc != DB_OK)
        return rc;
    ledger__account_id(id, kind, user);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, user, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, payable ? "USD" : "CREDIT", -1, SQLITE_STATIC);
    /* inv. 5: a contributor's payable may go negative after a refund of a
     * royalty already paid out; a wallet never. */
    sqlite3_bind_int(st, 5, payable);
    rc = ledger__step_done(c, st, "account insert", err);
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

static const char *const sql_post[LEDGER__MAX_POSTS + 1] = {
    NULL, SQL_POST_1, SQL_POST_2, SQL_POST_3, SQL_POST_4, SQL_POST_5,
};

/* Post one journal of n legs in one INSERT. Legs of zero are left out (a
 * free pack moves no cash). inv. 1: refuse to write an unbalanced one. */
int
ledger__journal_post(struct db *db, sqlite3 *c, const char *kind,
                     const char *memo, const struct ledger__post *p, size_t n,
                     int64_t *jid, char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    size_t legs = 0;
    int64_t usd = 0, credit = 0;
    int rc, k = 2;

    assert(LEDGER__IN_TX(c));
    for (size_t i = 0; i < n; i++) {
        if (strcmp(p[i].asset, "USD") == 0)
            usd += p[i].amount;
        else
            credit += p[i].amount;
        legs += p[i].amount != 0;
    }
    if (usd != 0 || credit != 0 || legs == 0 || legs > LEDGER__MAX_POSTS) {
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
    rc = ledger__step_done(c, st, "postings insert", err);
    db_stmt_done(db, c, st);
    return rc;
}

static const char SQL_REVERSAL_INSERT[] =
    "INSERT INTO postings(journal_id, account_id, asset, amount) "
    "SELECT ?1, account_id, asset, -amount FROM postings "
    "WHERE journal_id = ?2 ORDER BY id";

/* inv. 11: undo journal orig by a new one of the exact opposite legs that
 * names it; the UNIQUE reverses_journal_id makes a second reversal fail. */
int
ledger__journal_reverse(struct db *db, sqlite3 *c, const char *kind,
                        int64_t orig, const char *memo, int64_t *jid,
                        char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    int rc;

    /* Checked before the insert: a failed one (out of memory, I/O) may
     * have made SQLite roll the transaction back already. */
    assert(LEDGER__IN_TX(c));
    rc = journal_insert(db, c, kind, orig, memo, jid, err);
    if (rc != DB_OK)
        return rc;
    rc = db_prepare_cached(db, c, SQL_REVERSAL_INSERT, &st, err);
    if (rc != DB_OK)
        return rc;
    sqlite3_bind_int64(st, 1, *jid);
    sqlite3_bind_int64(st, 2, orig);
    rc = ledger__step_done(c, st, "reversal insert", err);
    db_stmt_done(db, c, st);
    return rc;
}

static const char SQL_IDEM_GET[] =
    "SELECT request_hash, result_id FROM idempotency_keys "
    "WHERE user_id = ?1 AND scope = ?2 AND key = ?3";

/* inv. 10: look (user, scope, key) up. *found = 0 when new; 1 with the
 * earlier result when the request is the same; DB_EREUSED otherwise. */
int
ledger__idem_check(struct db *db, sqlite3 *c, const char *user,
                   const char *scope, const char *key, const char *hash,
                   char result[LEDGER_ID_LEN], int *found, char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    int rc = db_prepare_cached(db, c, SQL_IDEM_GET, &st, err);

    assert(LEDGER__IN_TX(c));
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

int
ledger__idem_record(struct db *db, sqlite3 *c, const char *user,
                    const char *scope, const char *key, const char *hash,
                    const char *result, char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    int rc = db_prepare_cached(db, c, SQL_IDEM_INSERT, &st, err);

    assert(LEDGER__IN_TX(c));
    if (rc != DB_OK)
        return rc;
    sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, scope, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, result, -1, SQLITE_STATIC);
    rc = ledger__step_done(c, st, "idempotency insert", err);
    db_stmt_done(db, c, st);
    return rc;
}

/* A paging cursor is the rowid of the last row shown, in decimal. */
int
ledger__cursor_parse(const char *cursor, int64_t *after, char err[DB_ERR_LEN])
{
    char *end;
    long long v;

    *after = INT64_MAX;
    if (!cursor || !*cursor)
        return DB_OK;
    if (strlen(cursor) >= LEDGER_CURSOR_LEN || cursor[0] < '0' ||
        cursor[0] > '9')
        return ledger__invalid(err, "bad cursor");
    v = strtoll(cursor, &end, 10);
    if (*end || v <= 0)
        return ledger__invalid(err, "bad cursor");
    *after = v;
    return DB_OK;
}

/* Room for item n in an array of *cap items of sz bytes: the array, moved
 * if need be, or NULL when out of memory (the old one is then kept). */
void *
ledger__grow(void *items, size_t *cap, size_t n, size_t sz,
             char err[DB_ERR_LEN])
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
int
ledger__page_rows(sqlite3 *c, sqlite3_stmt *st, int first_param, int64_t after,
                  size_t limit, size_t sz, void (*row)(sqlite3_stmt *, void *),
                  int rowid_col, void **items, size_t *n,
                  char next[LEDGER_CURSOR_LEN], const char *what,
                  char err[DB_ERR_LEN])
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
        g = ledger__grow(got, &cap, have, sz, err);
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

int
ledger__tiers_check(const struct ledger_tier *t, size_t n, char err[DB_ERR_LEN])
{
    if (n == 0 || t[0].min_sold != 0)
        return ledger__invalid(err, "royalty tiers must start at 0 licences");
    for (size_t i = 0; i < n; i++) {
        if (t[i].rate_bp < 0 || t[i].rate_bp > 10000)
            return ledger__invalid(err, "royalty rate out of 0..10000 bp");
        if (i > 0 && t[i].min_sold <= t[i - 1].min_sold)
            return ledger__invalid(err, "royalty tiers out of order");
    }
    return DB_OK;
}

/* The tier a contributor with sold lifetime licences is in. */
size_t
ledger__tier_of(const struct ledger_tier *t, size_t n, int64_t sold)
{
    size_t i = 0;

    while (i + 1 < n && t[i + 1].min_sold <= sold)
        i++;
    return i;
}
