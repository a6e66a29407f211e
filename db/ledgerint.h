/* Stockroom — what the ledger's files share and nobody else: accounts and
 * journal legs, transactions, idempotency, paging, tiers, lots, one sale
 * and the group-commit batcher. Functions taking a connection c run on the
 * caller's borrowed connection; those marked "in a transaction" assert that
 * the caller's write transaction is open. */
#ifndef STOCKROOM_LEDGERINT_H
#define STOCKROOM_LEDGERINT_H

#include "dbint.h"
#include "ledger.h"

#define LEDGER__ACCT_LEN (LEDGER_ID_LEN + 16) /* "payable:" + a user id */
#define LEDGER__MAX_POSTS 5 /* legs of the largest journal, a licence */

/* A write transaction is open on connection c: the precondition of every
 * function below marked "in a transaction". */
#define LEDGER__IN_TX(c) (sqlite3_get_autocommit(c) == 0)

/* One leg of a journal: debit positive, credit negative. */
struct ledger__post {
    const char *account;
    const char *asset;
    int64_t amount;
};

/* How much of one lot a licence spends. */
struct ledger__use {
    int64_t lot;
    int64_t credits;
    int64_t cents;
};

/* Columns of a licence row, in the order ledger__licence_row reads them;
 * "rowid" last, as the paging cursor. */
#define LEDGER__LICENCE_COLS                                                   \
    "id, buyer_id, image_id, contributor_id, size, type, "                     \
    "credits, cash_cents, rate_bp, royalty_cents, platform_cents, "            \
    "created_at, coalesce(refunded_at, 0), coalesce(file_sha256, ''), "        \
    "journal_id, coalesce(refund_journal, 0), rowid"

/* ledger_journal.c: checks and ids */

/* 1 unless s is present, non-empty and shorter than max. */
int ledger__bad_str(const char *s, size_t max);
/* Write what into err and return DB_EINVAL. */
int ledger__invalid(char err[DB_ERR_LEN], const char *what);
/* A fresh random id: prefix and 32 hex digits. Thread-safe. */
void ledger__new_id(char prefix, char out[LEDGER_ID_LEN]);
/* The account id "kind:user". */
void ledger__account_id(char out[LEDGER__ACCT_LEN], const char *kind,
                        const char *user);

/* ledger_journal.c: statements and transactions */

/* Step st to its end: DB_OK, or the failure in err. */
int ledger__step_done(sqlite3 *c, sqlite3_stmt *st, const char *what,
                      char err[DB_ERR_LEN]) DB_WUR;
/* Run a cached statement (sql a static array) that returns no rows. */
int ledger__run_cached(struct db *db, sqlite3 *c, const char *sql,
                       const char *what, char err[DB_ERR_LEN]) DB_WUR;
/* BEGIN IMMEDIATE; none may be open on c yet. */
int ledger__tx_begin(struct db *db, sqlite3 *c, char err[DB_ERR_LEN]) DB_WUR;
/* COMMIT the open transaction; rolled back when the commit fails. */
int ledger__tx_commit(struct db *db, sqlite3 *c, char err[DB_ERR_LEN]) DB_WUR;

/* ledger_journal.c: accounts, journals, idempotency */

/* In a transaction: create the account "kind:user" if it does not exist yet. */
int ledger__account_ensure(struct db *db, sqlite3 *c, const char *kind,
                           const char *user, char err[DB_ERR_LEN]) DB_WUR;
/* In a transaction: post one balanced journal of n (<= LEDGER__MAX_POSTS) legs;
 * *jid gets its id. DB_EINVAL if it does not balance (inv. 1). */
int ledger__journal_post(struct db *db, sqlite3 *c, const char *kind,
                         const char *memo, const struct ledger__post *p,
                         size_t n, int64_t *jid, char err[DB_ERR_LEN]) DB_WUR;
/* In a transaction: post the exact reversal of journal orig (inv. 11); *jid
 * gets its id. */
int ledger__journal_reverse(struct db *db, sqlite3 *c, const char *kind,
                            int64_t orig, const char *memo, int64_t *jid,
                            char err[DB_ERR_LEN]) DB_WUR;
/* In a transaction, inv. 10: *found = 0 when (user, scope, key) is new; 1 with
 * the earlier result id in result when hash matches; DB_EREUSED when it does
 * not. */
int ledger__idem_check(struct db *db, sqlite3 *c, const char *user,
                       const char *scope, const char *key, const char *hash,
                       char result[LEDGER_ID_LEN], int *found,
                       char err[DB_ERR_LEN]) DB_WUR;
/* In a transaction: record (user, scope, key, hash) -> result. */
int ledger__idem_record(struct db *db, sqlite3 *c, const char *user,
                        const char *scope, const char *key, const char *hash,
                        const char *result, char err[DB_ERR_LEN]) DB_WUR;

/* ledger_journal.c: paging and tiers */

/* Read a cursor (NULL or "": first page, *after = 0); DB_EINVAL if bad. */
int ledger__cursor_parse(const char *cursor, int64_t *after,
                         char err[DB_ERR_LEN]) DB_WUR;
/* Room for item n in an array of *cap items of sz bytes: the array, moved
 * if need be, or NULL when out of memory (the old one is then kept). */
void *ledger__grow(void *items, size_t *cap, size_t n, size_t sz,
                   char err[DB_ERR_LEN]);
/* One page of a newest-first list (see the comment at its definition);
 * on success *items (caller frees) holds *n items. */
int ledger__page_rows(sqlite3 *c, sqlite3_stmt *st, int first_param,
                      int64_t after, size_t limit, size_t sz,
                      void (*row)(sqlite3_stmt *, void *), int rowid_col,
                      void **items, size_t *n, char next[LEDGER_CURSOR_LEN],
                      const char *what, char err[DB_ERR_LEN]) DB_WUR;
/* DB_EINVAL unless t is a valid tier table (see struct ledger_tier). */
int ledger__tiers_check(const struct ledger_tier *t, size_t n,
                        char err[DB_ERR_LEN]) DB_WUR;
/* The index of the tier a contributor with sold lifetime licences is in. */
size_t ledger__tier_of(const struct ledger_tier *t, size_t n, int64_t sold);

/* ledger_purchase.c */

/* The balance of one account, bound as ?1; a static array, so one cached
 * statement serves the wallet and the earnings. */
extern const char ledger__sql_balance_get[];
/* In a transaction: take want credits from buyer's lots first in, first
 * out; *uses (caller frees) and *cash say from which and what they were
 * worth. DB_EFUNDS when the lots hold fewer. */
int ledger__lots_spend(struct db *db, sqlite3 *c, const char *buyer,
                       int64_t want, struct ledger__use **uses, size_t *n,
                       int64_t *cash, char err[DB_ERR_LEN]) DB_WUR;
/* In a transaction: write the lots' new use and the licence's usage. */
int ledger__lots_record(struct db *db, sqlite3 *c, const char *licence,
                        const struct ledger__use *u, size_t n,
                        char err[DB_ERR_LEN]) DB_WUR;

/* In a transaction: settle a pending purchase (journal, lot, receipt), or
 * find it settled already (out->replayed = 1); see ledger_purchase_settle. */
int ledger__purchase_settle_tx(struct db *db, sqlite3 *c,
                               const char *purchase_id,
                               const char *provider_ref,
                               struct ledger_purchase *out,
                               char err[DB_ERR_LEN]) DB_WUR;

/* ledger_licence.c */

/* Read a LEDGER__LICENCE_COLS row into *l. */
void ledger__licence_row(sqlite3_stmt *st, struct ledger_licence *l);
/* DB_EINVAL unless every field of r is present and in range. */
int ledger__licence_req_check(const struct ledger_licence_req *r,
                              char err[DB_ERR_LEN]) DB_WUR;
/* In a transaction: one sale; on failure the caller undoes what it wrote
 * (a savepoint or the whole transaction). */
int ledger__licence_one(struct db *db, sqlite3 *c,
                        const struct ledger_licence_req *req,
                        struct ledger_licence *out,
                        char err[DB_ERR_LEN]) DB_WUR;

/* ledger_batch.c */

/* One queued sale; the batcher fills rc (and err, out). */
struct ledger__job {
    const struct ledger_licence_req *req;
    struct ledger_licence *out;
    char *err; /* the caller's DB_ERR_LEN buffer */
    int rc;
    int done; /* set under the batch lock once answered */
    struct ledger__job *next;
};

/* Run the list of jobs in one transaction on a borrowed connection, each
 * sale under its own savepoint (none for a lone one), filling each job's
 * rc; a failed commit fails every sale in it. Called without the batch
 * lock, by one thread per database at a time. */
void ledger__batch_run(struct db *db, struct ledger__job *jobs);
/* 1 when no database holds a lane and no sale is queued or running, as
 * after every ledger_licence_create has returned. Thread-safe. */
int ledger__batch_idle(void);

#endif
