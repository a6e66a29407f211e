/* Stockroom — the money of briefs: the bounty into the brief's escrow
 * account, back to the wallet when the brief ends without an award, or
 * out to the winners as licences (docs/LEDGER.md, inv. 15-17). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "briefint.h"
#include "ledgerint.h"

#define SWEEP_BATCH 100 /* briefs the chore ends per run */

static const char SQL_IDEM[] =
    "SELECT id, request_hash FROM briefs WHERE buyer_id = ?1 AND idem_key = ?2";

/* *found = 1 with the brief's id when (buyer, key) posted one already. */
static int
idem_find(struct db *db, sqlite3 *c, const struct db_brief_req *req,
          char id[BRIEF_ID_LEN], int *found, char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    int rc = db_prepare_cached(db, c, SQL_IDEM, &st, err);

    *found = 0;
    if (rc != DB_OK)
        return rc;
    sqlite3_bind_text(st, 1, req->buyer_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, req->idem_key, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        rc = DB_OK;
    } else if (rc != SQLITE_ROW) {
        rc = db_fail(c, rc, "brief key lookup", err);
    } else if (strcmp((const char *)sqlite3_column_text(st, 1),
                      req->request_hash) != 0) {
        snprintf(err, DB_ERR_LEN,
                 "idempotency key already used for another brief");
        rc = DB_EREUSED;
    } else {
        db_col_copy(st, 0, id, BRIEF_ID_LEN);
        *found = 1;
        rc = DB_OK;
    }
    db_stmt_done(db, c, st);
    return rc;
}

static const char SQL_ESCROW_ACCOUNT[] =
    "INSERT INTO accounts(id, kind, owner, asset, normal, may_go_negative) "
    "VALUES ('brief_escrow:' || ?1, 'brief_escrow', ?2, 'CREDIT', -1, 0)";

static const char SQL_BRIEF_INSERT[] =
    "INSERT INTO briefs(id, buyer_id, title, description, keywords, "
    "orientation, min_pixels, deadline, bounty_credits, winners, "
    "licence_type, royalty_bp, status, created_at, idem_key, request_hash, "
    "escrow_journal) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
    "?12, 'open', ?13, ?14, ?15, ?16)";

/* In a transaction: the escrow account, the escrow journal, the row. */
static int
brief_insert(struct db *db, sqlite3 *c, const struct db_brief_req *req,
             const char *id, int64_t now, char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    char wallet[LEDGER__ACCT_LEN], escrow[LEDGER__ACCT_LEN], memo[80];
    int64_t jid = 0;
    int rc = db_prepare_cached(db, c, SQL_ESCROW_ACCOUNT, &st, err);

    if (rc != DB_OK)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, req->buyer_id, -1, SQLITE_STATIC);
    rc = ledger__step_done(c, st, "escrow account insert", err);
    db_stmt_done(db, c, st);
    if (rc != DB_OK)
        return rc;
    ledger__account_id(wallet, "wallet", req->buyer_id);
    ledger__account_id(escrow, "brief_escrow", id);
    snprintf(memo, sizeof memo, "brief %s", id);
    {
        struct ledger__post legs[] = {
            {wallet, "CREDIT", req->bounty_credits},
            {escrow, "CREDIT", -req->bounty_credits},
        };

        rc = ledger__journal_post(db, c, "brief_escrow", memo, legs, 2, &jid,
                                  err);
        if (rc != DB_OK)
            return rc;
    }
    rc = db_prepare_cached(db, c, SQL_BRIEF_INSERT, &st, err);
    if (rc != DB_OK)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, req->buyer_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, req->title, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, req->description ? req->description : "", -1,
                      SQLITE_STATIC);
    sqlite3_bind_text(st, 5, req->keywords ? req->keywords : "", -1,
                      SQLITE_STATIC);
    sqlite3_bind_text(st, 6, req->orientation ? req->orientation : "", -1,
                      SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, req->min_pixels);
    sqlite3_bind_int64(st, 8, req->deadline);
    sqlite3_bind_int64(st, 9, req->bounty_credits);
    sqlite3_bind_int(st, 10, req->winners);
    sqlite3_bind_text(st, 11, req->licence_type, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 12, req->royalty_bp);
    sqlite3_bind_int64(st, 13, now);
    sqlite3_bind_text(st, 14, req->idem_key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 15, req->request_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 16, jid);
    rc = ledger__step_done(c, st, "brief insert", err);
    db_stmt_done(db, c, st);
    return rc;
}

int
ledger_brief_post(struct db *db, const struct db_brief_req *req, int64_t now,
                  struct db_brief *out, char err[DB_ERR_LEN])
{
    sqlite3 *c;
    sqlite3_stmt *st = NULL;
    char id[BRIEF_ID_LEN], wallet[LEDGER__ACCT_LEN];
    int64_t have = 0;
    int found = 0, rc;

    if (ledger__bad_str(req->buyer_id, LEDGER_ID_LEN) ||
        ledger__bad_str(req->idem_key, LEDGER_KEY_LEN) ||
        ledger__bad_str(req->request_hash, LEDGER_KEY_LEN) || !req->title ||
        !req->licence_type || req->bounty_credits < 1 ||
        req->bounty_credits > BRIEF_MAX_CREDITS || req->winners < 1 ||
        req->winners > BRIEF_WINNERS_MAX || req->royalty_bp < 0 ||
        req->royalty_bp > 10000)
        return ledger__invalid(err, "brief field missing or out of range");
    c = db_conn_get(db);
    rc = ledger__tx_begin(db, c, err);
    if (rc != DB_OK)
        goto out;
    rc = idem_find(db, c, req, id, &found, err);
    if (rc != DB_OK || found)
        goto load;
    rc = db_prepare_cached(db, c, ledger__sql_balance_get, &st, err);
    if (rc != DB_OK)
        goto out;
    {
        /* SQLITE_STATIC: a copy could fail to allocate and leave the
         * parameter NULL, which reads as an empty wallet. */
        ledger__account_id(wallet, "wallet", req->buyer_id);
        sqlite3_bind_text(st, 1, wallet, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            have = sqlite3_column_int64(st, 0);
        rc = rc == SQLITE_ROW || rc == SQLITE_DONE
                 ? DB_OK
                 : db_fail(c, rc, "wallet", err);
    }
    db_stmt_done(db, c, st);
    if (rc != DB_OK)
        goto out;
    /* inv. 5: a wallet never goes below zero; say so before writing. */
    if (have < req->bounty_credits) {
        snprintf(err, DB_ERR_LEN, "insufficient credits: %lld short",
                 (long long)(req->bounty_credits - have));
        rc = DB_EFUNDS;
        goto out;
    }
    ledger__new_id('b', id);
    rc = brief_insert(db, c, req, id, now, err);
    if (rc != DB_OK)
        goto out;
    rc = ledger__tx_commit(db, c, err);
load:
    if (rc == DB_OK)
        rc = db__brief_load(c, id, out, err);
    if (rc == DB_OK)
        out->replayed = found;
out:
    db_rollback(c);
    db_conn_put(db, c);
    return rc;
}

static const char SQL_END[] =
    "UPDATE briefs SET status = ?2, close_reason = ?3, closed_at = ?4, "
    "return_journal = ?5 WHERE id = ?1 AND status = 'open'";

/* In a transaction: the whole escrow of open brief b back to its buyer's
 * wallet, and the brief ended as status. */
static int
escrow_return(struct db *db, sqlite3 *c, const struct db_brief *b,
              enum db_brief_status status, const char *reason, int64_t now,
              char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    char wallet[LEDGER__ACCT_LEN], escrow[LEDGER__ACCT_LEN], memo[80];
    int64_t jid = 0;
    int rc;

    ledger__account_id(wallet, "wallet", b->buyer_id);
    ledger__account_id(escrow, "brief_escrow", b->id);
    snprintf(memo, sizeof memo, "brief %s %s", b->id,
             db_brief_status_str(status));
    {
        /* inv. 15: an open brief's escrow holds exactly its bounty. */
        struct ledger__post legs[] = {
            {escrow, "CREDIT", b->bounty_credits},
            {wallet, "CREDIT", -b->bounty_credits},
        };

        rc = ledger__journal_post(db, c, "brief_return", memo, legs, 2, &jid,
                                  err);
        if (rc != DB_OK)
            return rc;
    }
    rc = db_prepare_cached(db, c, SQL_END, &st, err);
    if (rc != DB_OK)
        return rc;
    sqlite3_bind_text(st, 1, b->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, db_brief_status_str(status), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, reason ? reason : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, now);
    sqlite3_bind_int64(st, 5, jid);
    rc = db_step_change(c, st, "open brief", err);
    db_stmt_done(db, c, st);
    return rc;
}

int
ledger_brief_end(struct db *db, const char *brief_id, const char *buyer_id,
                 enum ledger_brief_end how, const char *reason, int64_t now,
                 enum db_brief_why *why, char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    struct db_brief b = {0};
    int64_t live = 0, counted = 0;
    int rc = ledger__tx_begin(db, c, err);

    *why = DB_BRIEF_WHY_NONE;
    if (rc != DB_OK)
        goto out;
    rc = db__brief_load(c, brief_id, &b, err);
    if (rc == DB_OK && strcmp(b.buyer_id, buyer_id) != 0) {
        snprintf(err, DB_ERR_LEN, "no such brief");
        rc = DB_ENOTFOUND;
    }
    if (rc != DB_OK)
        goto out;
    if (b.status != DB_BRIEF_OPEN) {
        rc = db__brief_refuse(why, DB_BRIEF_WHY_NOT_OPEN, DB_ECONFLICT, err,
                              "This brief is no longer open.");
        goto out;
    }
    rc = db__brief_counts(c, b.id, &live, &counted, err);
    if (rc != DB_OK)
        goto out;
    if (how == LEDGER_BRIEF_CANCEL && live > 0) {
        rc = db__brief_refuse(
            why, DB_BRIEF_WHY_HAS_SUBMISSIONS, DB_ELIMIT, err,
            "A brief with submissions cannot be cancelled: close "
            "it with a reason instead.");
        goto out;
    }
    if (how == LEDGER_BRIEF_CLOSE && live == 0) {
        rc = db__brief_refuse(
            why, DB_BRIEF_WHY_NO_SUBMISSIONS, DB_ELIMIT, err,
            "A brief without submissions is cancelled, not closed.");
        goto out;
    }
    rc = escrow_return(db, c, &b,
                       how == LEDGER_BRIEF_CANCEL ? DB_BRIEF_CANCELLED
                                                  : DB_BRIEF_CLOSED,
                       reason, now, err);
    if (rc == DB_OK)
        rc = ledger__tx_commit(db, c, err);
out:
    db_brief_release(&b);
    db_rollback(c);
    db_conn_put(db, c);
    return rc;
}

/* Open briefs past their deadline with nothing live, or past the time the
 * buyer had to act. */
static const char SQL_DUE[] =
    "SELECT b.id FROM briefs b WHERE b.status = 'open' AND b.deadline <= ?1 "
    "AND (b.deadline + ?2 <= ?1 OR NOT EXISTS (SELECT 1 FROM "
    "brief_submissions s JOIN images i ON i.id = s.image_id "
    "WHERE s.brief_id = b.id AND " DB__BRIEF_LIVE ")) LIMIT ?3";

/* End one due brief in its own transaction, judging it again inside. */
static int
sweep_one(struct db *db, sqlite3 *c, const char *id, int64_t now,
          int64_t abandon_s, int *ended, char err[DB_ERR_LEN])
{
    struct db_brief b = {0};
    int64_t live = 0, counted = 0;
    int rc = ledger__tx_begin(db, c, err);

    if (rc != DB_OK)
        return rc;
    rc = db__brief_load(c, id, &b, err);
    if (rc == DB_OK)
        rc = db__brief_counts(c, id, &live, &counted, err);
    if (rc != DB_OK || b.status != DB_BRIEF_OPEN || b.deadline > now)
        goto out;
    if (live == 0)
        rc = escrow_return(db, c, &b, DB_BRIEF_EXPIRED, NULL, now, err);
    else if (b.deadline + abandon_s <= now)
        rc = escrow_return(db, c, &b, DB_BRIEF_ABANDONED, NULL, now, err);
    else
        goto out;
    if (rc == DB_OK)
        rc = ledger__tx_commit(db, c, err);
    if (rc == DB_OK)
        (*ended)++;
out:
    db_brief_release(&b);
    db_rollback(c);
    return rc;
}

int
ledger_brief_sweep(struct db *db, int64_t now, int64_t abandon_s, int *ended,
                   char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    char ids[SWEEP_BATCH][BRIEF_ID_LEN];
    int n = 0, rc = db_prepare(c, SQL_DUE, &st, err);

    *ended = 0;
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int64(st, 2, abandon_s);
    sqlite3_bind_int(st, 3, SWEEP_BATCH);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < SWEEP_BATCH)
        db_col_copy(st, 0, ids[n++], BRIEF_ID_LEN);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        rc = db_fail(c, rc, "due briefs", err);
        goto out;
    }
    sqlite3_finalize(st);
    st = NULL;
    rc = DB_OK;
    for (int i = 0; i < n && rc == DB_OK; i++)
        rc = sweep_one(db, c, ids[i], now, abandon_s, ended, err);
out:
    sqlite3_finalize(st);
    db_conn_put(db, c);
    return rc;
}

static const char SQL_AWARDED[] =
    "SELECT submission_id FROM brief_awards WHERE brief_id = ?1 "
    "ORDER BY position";

/* The brief was awarded: *same = 1 when to exactly sids, in order. */
static int
award_same(sqlite3 *c, const char *brief_id, const char *const *sids, size_t n,
           int *same, char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    size_t k = 0;
    int rc = db_prepare(c, SQL_AWARDED, &st, err);

    *same = 1;
    if (rc != DB_OK)
        return rc;
    sqlite3_bind_text(st, 1, brief_id, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (k >= n ||
            strcmp((const char *)sqlite3_column_text(st, 0), sids[k]) != 0)
            *same = 0;
        k++;
    }
    if (k != n)
        *same = 0;
    rc = rc == SQLITE_DONE ? DB_OK : db_fail(c, rc, "awards", err);
    sqlite3_finalize(st);
    return rc;
}

static const char SQL_PICK[] =
    "SELECT s.image_id, s.contributor_id FROM brief_submissions s "
    "JOIN images i ON i.id = s.image_id WHERE s.id = ?1 AND s.brief_id = ?2 "
    "AND " DB__BRIEF_COUNTED;

static const char SQL_AWARD_INSERT[] =
    "INSERT INTO brief_awards(submission_id, brief_id, position, "
    "share_credits, journal_id, licence_id, created_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

/* In a transaction: winner k (submission sid) of b gets share credits:
 * released from escrow to the buyer's wallet and spent at once on a
 * licence of the photo at its original size, at the brief's royalty. */
static int
award_one(struct db *db, sqlite3 *c, const struct db_brief *b, const char *sid,
          int k, int64_t share, int64_t now, enum db_brief_why *why,
          char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    struct ledger_tier rate = {0, b->royalty_bp};
    struct ledger_licence_req req = {0};
    struct ledger_licence lic;
    char image[BRIEF_ID_LEN], contrib[BRIEF_ID_LEN], key[96], hash[80];
    char wallet[LEDGER__ACCT_LEN], escrow[LEDGER__ACCT_LEN], memo[80];
    int64_t jid = 0;
    int rc = db_prepare(c, SQL_PICK, &st, err);

    if (rc != DB_OK)
        return rc;
    sqlite3_bind_text(st, 1, sid, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, b->id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        db_col_copy(st, 0, image, sizeof image);
        db_col_copy(st, 1, contrib, sizeof contrib);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE
                   ? db__brief_refuse(
                         why, DB_BRIEF_WHY_BAD_PICK, DB_EINVAL, err,
                         "A picked submission is not one of this brief's "
                         "or its photo is no longer on sale.")
                   : db_fail(c, rc, "submission", err);
    ledger__account_id(wallet, "wallet", b->buyer_id);
    ledger__account_id(escrow, "brief_escrow", b->id);
    snprintf(memo, sizeof memo, "brief %s award %s", b->id, sid);
    {
        struct ledger__post legs[] = {
            {escrow, "CREDIT", share},
            {wallet, "CREDIT", -share},
        };

        rc = ledger__journal_post(db, c, "brief_award", memo, legs, 2, &jid,
                                  err);
        if (rc != DB_OK)
            return rc;
    }
    snprintf(key, sizeof key, "brief-award:%s", sid);
    snprintf(hash, sizeof hash, "brief:%s", b->id);
    req.buyer_id = b->buyer_id;
    req.image_id = image;
    req.contributor_id = contrib;
    req.size = "XL";
    req.type = b->licence_type;
    req.credits = share;
    req.idem_key = key;
    req.request_hash = hash;
    req.tiers = &rate;
    req.n_tiers = 1;
    rc = ledger__licence_req_check(&req, err);
    if (rc == DB_OK)
        rc = ledger__licence_one(db, c, &req, &lic, err);
    if (rc != DB_OK)
        return rc;
    rc = db_prepare(c, SQL_AWARD_INSERT, &st, err);
    if (rc != DB_OK)
        return rc;
    sqlite3_bind_text(st, 1, sid, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, b->id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, k);
    sqlite3_bind_int64(st, 4, share);
    sqlite3_bind_int64(st, 5, jid);
    sqlite3_bind_text(st, 6, lic.id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, now);
    rc = ledger__step_done(c, st, "award insert", err);
    sqlite3_finalize(st);
    return rc;
}

static const char SQL_AWARD_DONE[] =
    "UPDATE briefs SET status = 'awarded', closed_at = ?2 "
    "WHERE id = ?1 AND status = 'open'";

/* In a transaction: the checks of an award, then every winner. */
static int
award_all(struct db *db, sqlite3 *c, const struct db_brief *b,
          const char *const *sids, size_t n, int64_t now, int64_t window_s,
          enum db_brief_why *why, char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    int64_t live = 0, counted = 0, share;
    int rc;

    if (now > b->deadline + window_s)
        return db__brief_refuse(why, DB_BRIEF_WHY_AWARD_WINDOW, DB_ELIMIT, err,
                                "The time to award this brief has passed.");
    rc = db__brief_counts(c, b->id, &live, &counted, err);
    if (rc != DB_OK)
        return rc;
    if (counted == 0)
        return db__brief_refuse(why, DB_BRIEF_WHY_NO_SUBMISSIONS, DB_ELIMIT,
                                err,
                                "This brief has no submission to award yet.");
    if (n < 1 || n > (size_t)b->winners)
        return db__brief_refuse(
            why, DB_BRIEF_WHY_BAD_PICK, DB_EINVAL, err,
            "Pick between one and the brief's number of winners.");
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < i; k++) {
            if (strcmp(sids[i], sids[k]) == 0)
                return db__brief_refuse(why, DB_BRIEF_WHY_BAD_PICK, DB_EINVAL,
                                        err, "A submission is picked twice.");
        }
    }
    /* The whole bounty goes out, split equally; the remainder credit goes
     * to the first pick (inv. 16). */
    share = b->bounty_credits / (int64_t)n;
    for (size_t i = 0; i < n; i++) {
        int64_t s = share + (i == 0 ? b->bounty_credits % (int64_t)n : 0);

        rc = award_one(db, c, b, sids[i], (int)i, s, now, why, err);
        if (rc != DB_OK)
            return rc;
    }
    rc = db_prepare(c, SQL_AWARD_DONE, &st, err);
    if (rc != DB_OK)
        return rc;
    sqlite3_bind_text(st, 1, b->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    rc = db_step_change(c, st, "open brief", err);
    sqlite3_finalize(st);
    return rc;
}

int
ledger_brief_award(struct db *db, const char *brief_id, const char *buyer_id,
                   const char *const *sids, size_t n, int64_t now,
                   int64_t window_s, int *replayed, enum db_brief_why *why,
                   char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    struct db_brief b = {0};
    int same = 0;
    int rc = ledger__tx_begin(db, c, err);

    *replayed = 0;
    *why = DB_BRIEF_WHY_NONE;
    if (rc != DB_OK)
        goto out;
    rc = db__brief_load(c, brief_id, &b, err);
    if (rc == DB_OK && strcmp(b.buyer_id, buyer_id) != 0) {
        snprintf(err, DB_ERR_LEN, "no such brief");
        rc = DB_ENOTFOUND;
    }
    if (rc != DB_OK)
        goto out;
    /* Racing awards queue on the write lock: the first pays out, the
     * others find it awarded and are answered as a replay (same picks)
     * or refused (other picks). */
    if (b.status == DB_BRIEF_AWARDED) {
        rc = award_same(c, b.id, sids, n, &same, err);
        if (rc == DB_OK && !same)
            rc = db__brief_refuse(why, DB_BRIEF_WHY_ALREADY_AWARDED,
                                  DB_ECONFLICT, err,
                                  "This brief was already awarded to other "
                                  "submissions.");
        *replayed = rc == DB_OK;
        goto out;
    }
    if (b.status != DB_BRIEF_OPEN) {
        rc = db__brief_refuse(why, DB_BRIEF_WHY_NOT_OPEN, DB_ECONFLICT, err,
                              "This brief is no longer open.");
        goto out;
    }
    rc = award_all(db, c, &b, sids, n, now, window_s, why, err);
    if (rc == DB_OK)
        rc = ledger__tx_commit(db, c, err);
out:
    db_brief_release(&b);
    db_rollback(c);
    db_conn_put(db, c);
    return rc;
}

static const char SQL_HAS_OPEN[] =
    "SELECT EXISTS (SELECT 1 FROM briefs WHERE buyer_id = ?1 "
    "AND status = 'open')";

int
ledger_brief_has_open(struct db *db, const char *user_id, int *open,
                      char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(c, SQL_HAS_OPEN, &st, err);

    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *open = sqlite3_column_int(st, 0);
        rc = DB_OK;
    } else {
        rc = db_fail(c, rc, "open briefs", err);
    }
out:
    sqlite3_finalize(st);
    db_conn_put(db, c);
    return rc;
}
