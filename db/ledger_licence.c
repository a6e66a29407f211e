/* Stockroom — one licence sale inside an open transaction, and
 * licence lookups, files, lists, the held check and refunds. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledgerint.h"

/* Licences. */

void
ledger__licence_row(sqlite3_stmt *st, struct ledger_licence *l)
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

static const char SQL_LICENCE_GET[] =
    "SELECT " LEDGER__LICENCE_COLS " FROM licences "
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
        ledger__licence_row(st, out);
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

int
ledger__licence_req_check(const struct ledger_licence_req *r,
                          char err[DB_ERR_LEN])
{
    if (ledger__bad_str(r->buyer_id, LEDGER_ID_LEN) ||
        ledger__bad_str(r->image_id, LEDGER_ID_LEN) ||
        ledger__bad_str(r->contributor_id, LEDGER_ID_LEN) ||
        ledger__bad_str(r->idem_key, LEDGER_KEY_LEN) ||
        ledger__bad_str(r->request_hash, LEDGER_KEY_LEN) || !r->size ||
        !r->type)
        return ledger__invalid(err, "missing or overlong licence field");
    if (strcmp(r->size, "S") && strcmp(r->size, "M") && strcmp(r->size, "L") &&
        strcmp(r->size, "XL"))
        return ledger__invalid(err, "size must be S, M, L or XL");
    if (strcmp(r->type, "standard") && strcmp(r->type, "extended"))
        return ledger__invalid(err, "type must be standard or extended");
    if (r->credits < 1 || r->credits > LEDGER_MAX_CREDITS)
        return ledger__invalid(err, "licence credits out of range");
    return r->tiers ? ledger__tiers_check(r->tiers, r->n_tiers, err) : DB_OK;
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

    assert(LEDGER__IN_TX(c));
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

    assert(LEDGER__IN_TX(c));
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
int
ledger__licence_one(struct db *db, sqlite3 *c,
                    const struct ledger_licence_req *req,
                    struct ledger_licence *out, char err[DB_ERR_LEN])
{
    const struct ledger_tier *tiers =
        req->tiers ? req->tiers : ledger_default_tiers;
    size_t n_tiers = req->tiers ? req->n_tiers : 4;
    struct ledger__use *uses = NULL;
    size_t n_uses = 0;
    struct ledger_licence l;
    char wallet[LEDGER__ACCT_LEN], payable[LEDGER__ACCT_LEN],
        prior[LEDGER_ID_LEN];
    char memo[192];
    int64_t before = 0;
    int found, rc;

    assert(LEDGER__IN_TX(c));
    rc = ledger__idem_check(db, c, req->buyer_id, "licence", req->idem_key,
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
    rc = ledger__lots_spend(db, c, req->buyer_id, req->credits, &uses, &n_uses,
                            &l.cash_cents, err);
    if (rc != DB_OK)
        goto out;
    rc = stats_bump(db, c, req->contributor_id, &before, err);
    if (rc != DB_OK)
        goto out;
    ledger__new_id('l', l.id);
    snprintf(l.buyer_id, sizeof l.buyer_id, "%s", req->buyer_id);
    snprintf(l.image_id, sizeof l.image_id, "%s", req->image_id);
    snprintf(l.contributor_id, sizeof l.contributor_id, "%s",
             req->contributor_id);
    snprintf(l.size, sizeof l.size, "%s", req->size);
    snprintf(l.type, sizeof l.type, "%s", req->type);
    l.credits = req->credits;
    /* inv. 7: the rate of the tier reached before this sale; the
     * contributor's share floored to the cent, the rest to the store. */
    l.rate_bp = tiers[ledger__tier_of(tiers, n_tiers, before)].rate_bp;
    l.royalty_cents = l.cash_cents * l.rate_bp / 10000;
    l.platform_cents = l.cash_cents - l.royalty_cents;
    /* The first sale opens the contributor's payable account; later ones
     * skip the statement (the hot path stays lean). */
    if (before == 0) {
        rc = ledger__account_ensure(db, c, "payable", req->contributor_id, err);
        if (rc != DB_OK)
            goto out;
    }
    ledger__account_id(wallet, "wallet", req->buyer_id);
    ledger__account_id(payable, "payable", req->contributor_id);
    snprintf(memo, sizeof memo, "licence %s", l.id);
    {
        struct ledger__post legs[] = {
            {wallet, "CREDIT", l.credits},
            {"credits_redeemed", "CREDIT", -l.credits},
            {"deferred_revenue", "USD", l.cash_cents},
            {payable, "USD", -l.royalty_cents},
            {"platform_revenue", "USD", -l.platform_cents},
        };

        rc = ledger__journal_post(db, c, "licence", memo, legs, 5,
                                  &l.journal_id, err);
        if (rc != DB_OK)
            goto out;
    }
    rc = licence_insert(db, c, &l, err);
    if (rc != DB_OK)
        goto out;
    rc = ledger__lots_record(db, c, l.id, uses, n_uses, err);
    if (rc != DB_OK)
        goto out;
    rc = ledger__idem_record(db, c, req->buyer_id, "licence", req->idem_key,
                             req->request_hash, l.id, err);
    if (rc == DB_OK)
        *out = l;
out:
    free(uses);
    return rc;
}

int
ledger_licence_get(struct db *db, const char *licence_id,
                   struct ledger_licence *out, char err[DB_ERR_LEN])
{
    sqlite3 *c;
    int rc;

    if (ledger__bad_str(licence_id, LEDGER_ID_LEN)) {
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
        return ledger__invalid(err, "sha256 must be 64 lower-case hex digits");
    if (ledger__bad_str(licence_id, LEDGER_ID_LEN)) {
        snprintf(err, DB_ERR_LEN, "no such licence");
        return DB_ENOTFOUND;
    }
    c = db_conn_get(db);
    rc = ledger__tx_begin(db, c, err);
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
    rc = ledger__step_done(c, st, "licence update", err);
    if (rc != DB_OK)
        goto out;
    rc = ledger__tx_commit(db, c, err);
out:
    if (st)
        db_stmt_done(db, c, st);
    if (c) {
        db_rollback(c);
        db_conn_put(db, c);
    }
    return rc;
}

static const char SQL_LICENCE_LIST[] =
    "SELECT " LEDGER__LICENCE_COLS " FROM licences "
    "WHERE buyer_id = ?1 AND rowid < ?2 "
    "ORDER BY rowid DESC LIMIT ?3";

static void
licence_row_any(sqlite3_stmt *st, void *item)
{
    ledger__licence_row(st, item);
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
    if (ledger__bad_str(buyer_id, LEDGER_ID_LEN) || limit < 1 ||
        limit > LEDGER_LIST_MAX)
        return ledger__invalid(err, "bad buyer id or limit");
    rc = ledger__cursor_parse(cursor, &after, err);
    if (rc != DB_OK)
        return rc;
    c = db_conn_get(db);
    /* Keyset paging on rowid, the order of sale: stable while new sales
     * arrive, and the buyer index carries the rowid. */
    rc = db_prepare_cached(db, c, SQL_LICENCE_LIST, &st, err);
    if (rc == DB_OK) {
        sqlite3_bind_text(st, 1, buyer_id, -1, SQLITE_STATIC);
        rc = ledger__page_rows(c, st, 2, after, limit, sizeof *l.items,
                               licence_row_any, 16, &items, &l.n, l.next_cursor,
                               "licence list", err);
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

    if (ledger__bad_str(buyer_id, LEDGER_ID_LEN) ||
        ledger__bad_str(image_id, LEDGER_ID_LEN) || !size || !type)
        return ledger__invalid(err, "missing licence field");
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

    if (ledger__bad_str(licence_id, LEDGER_ID_LEN) ||
        ledger__bad_str(admin_id, LEDGER_ID_LEN))
        return ledger__invalid(err, "missing licence or admin id");
    c = db_conn_get(db);
    rc = ledger__tx_begin(db, c, err);
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
    rc = ledger__journal_reverse(db, c, "licence_refund", l.journal_id, memo,
                                 &jid, err);
    if (rc != DB_OK)
        goto out;
    /* inv. 8: the credits go back to the lots they came from, with the
     * cents they took, so they keep their cash value. */
    rc = db_prepare_cached(db, c, SQL_LOTS_GIVE_BACK, &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, l.id, -1, SQLITE_STATIC);
    rc = ledger__step_done(c, st, "lot update", err);
    if (rc != DB_OK)
        goto out;
    db_stmt_done(db, c, st);
    rc = db_prepare_cached(db, c, SQL_LICENCE_REFUNDED, &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_int64(st, 1, jid);
    sqlite3_bind_text(st, 2, l.id, -1, SQLITE_STATIC);
    rc = ledger__step_done(c, st, "licence update", err);
    if (rc != DB_OK)
        goto out;
    rc = licence_load(db, c, l.id, out, err);
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
