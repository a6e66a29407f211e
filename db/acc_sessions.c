/* Stockroom — an account's sessions as it sees them, and its export. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "dbint.h"

#define SESSIONS_MAX 200 /* listed at most; older ones still work */

int
acc_session_describe(struct db *db, const unsigned char token_hash[32],
                     const char *client, const char *user_agent,
                     char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(c,
                        "UPDATE sessions SET client = ?2, user_agent = "
                        "substr(?3, 1, 255) WHERE token_hash = ?1",
                        &st, err);

    if (rc != DB_OK)
        goto out;
    sqlite3_bind_blob(st, 1, token_hash, 32, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, client ? client : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, user_agent ? user_agent : "", -1, SQLITE_STATIC);
    rc = db_step_change(c, st, "session", err);
out:
    sqlite3_finalize(st);
    db_conn_put(db, c);
    return rc;
}

int
acc_sessions_list(struct db *db, const char *user_id,
                  const unsigned char current[32], int64_t now,
                  struct acc_session **out, int *n, char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    struct acc_session *list = calloc(SESSIONS_MAX, sizeof *list);
    int rc, count = 0;

    if (!list) {
        snprintf(err, DB_ERR_LEN, "out of memory");
        rc = DB_EGENERIC;
        goto out;
    }
    rc = db_prepare(c,
                    "SELECT id, created_at, last_seen, expires_at, client, "
                    "user_agent, token_hash = ?2 FROM sessions WHERE "
                    "user_id = ?1 AND expires_at > ?3 ORDER BY created_at "
                    "DESC, id LIMIT 200",
                    &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, current, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && count < SESSIONS_MAX) {
        struct acc_session *s = &list[count++];

        db_col_copy(st, 0, s->id, sizeof s->id);
        s->created_at = sqlite3_column_int64(st, 1);
        s->last_seen = sqlite3_column_int64(st, 2);
        s->expires_at = sqlite3_column_int64(st, 3);
        db_col_copy(st, 4, s->client, sizeof s->client);
        db_col_copy(st, 5, s->user_agent, sizeof s->user_agent);
        s->current = sqlite3_column_int(st, 6);
    }
    rc = rc == SQLITE_DONE ? DB_OK : db_fail(c, rc, "sessions list", err);
out:
    sqlite3_finalize(st);
    db_conn_put(db, c);
    if (rc != DB_OK) {
        free(list);
        return rc;
    }
    *out = list;
    *n = count;
    return DB_OK;
}

int
acc_session_end(struct db *db, const char *user_id, const char *id,
                char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(
        c, "DELETE FROM sessions WHERE user_id = ?1 AND id = ?2", &st, err);

    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    rc = db_step_change(c, st, "session", err);
out:
    sqlite3_finalize(st);
    db_conn_put(db, c);
    return rc;
}

int
acc_sessions_end_others(struct db *db, const char *user_id,
                        const unsigned char keep[32], char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(c,
                        "DELETE FROM sessions WHERE user_id = ?1 AND "
                        "token_hash <> ?2",
                        &st, err);

    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, keep, 32, SQLITE_STATIC);
    rc = sqlite3_step(st);
    rc = rc == SQLITE_DONE ? DB_OK : db_fail(c, rc, "sessions end", err);
out:
    sqlite3_finalize(st);
    db_conn_put(db, c);
    return rc;
}

/* What the export holds, section by section: every query binds ?1 to the
 * account id. Secrets (password hash, token hashes, CSRF tokens) are not
 * the person's data and stay out. */
static const struct {
    const char *section;
    const char *sql;
} export_queries[] = {
    {"profile", "SELECT id, email, name, roles, created_at, email_verified, "
                "notify_sales_digest, notify_reviews FROM users WHERE id = ?1"},
    {"sessions", "SELECT id, created_at, last_seen, expires_at, client, "
                 "user_agent FROM sessions WHERE user_id = ?1 ORDER BY "
                 "created_at"},
    {"images",
     "SELECT id, status, title, description, keywords, width, height, "
     "format, file_size, sha256, camera_make, camera_model, date_taken, "
     "colour, reject_code, reject_reason, fail_reason, created_at, "
     "approved_at, licences_sold FROM images WHERE contributor_id = ?1 "
     "ORDER BY seq"},
    {"lightboxes", "SELECT id, name, created_at FROM lightboxes WHERE "
                   "owner_id = ?1 ORDER BY created_at"},
    {"lightbox_items",
     "SELECT i.lightbox_id, i.image_id, i.added_at FROM lightbox_items i "
     "JOIN lightboxes l ON l.id = i.lightbox_id WHERE l.owner_id = ?1 "
     "ORDER BY i.lightbox_id, i.added_at"},
    {"purchases", "SELECT id, credits, price_cents, provider, status, "
                  "created_at, settled_at, refunded_at FROM purchases WHERE "
                  "user_id = ?1 ORDER BY created_at"},
    {"licences", "SELECT id, image_id, size, type, credits, created_at, "
                 "refunded_at, file_sha256 FROM licences WHERE buyer_id = ?1 "
                 "ORDER BY created_at"},
    {"earnings", "SELECT id AS licence_id, image_id, size, type, credits, "
                 "cash_cents, rate_bp, royalty_cents, created_at, refunded_at "
                 "FROM licences WHERE contributor_id = ?1 ORDER BY "
                 "created_at"},
    {"payouts", "SELECT id, amount_cents, status, requested_at, settled_at "
                "FROM payouts WHERE contributor_id = ?1 ORDER BY "
                "requested_at"},
    {"mail", "SELECT id, kind, status, created_at, sent_at FROM outbox "
             "WHERE user_id = ?1 ORDER BY id"},
};

#define EXPORT_COLS 32

static int
export_one(sqlite3 *c, const char *section, const char *sql,
           const char *user_id, acc_export_fn cb, void *arg,
           char err[DB_ERR_LEN])
{
    const char *names[EXPORT_COLS], *values[EXPORT_COLS];
    int is_int[EXPORT_COLS], ncol, rows = 0;
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(c, sql, &st, err);

    if (rc != DB_OK)
        return rc;
    sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
    ncol = sqlite3_column_count(st);
    if (ncol > EXPORT_COLS)
        ncol = EXPORT_COLS;
    for (int i = 0; i < ncol; i++)
        names[i] = sqlite3_column_name(st, i);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int i = 0; i < ncol; i++) {
            int t = sqlite3_column_type(st, i);

            values[i] = t == SQLITE_NULL
                            ? NULL
                            : (const char *)sqlite3_column_text(st, i);
            is_int[i] = t == SQLITE_INTEGER;
        }
        rows++;
        if (cb(arg, section, ncol, names, values, is_int) != 0) {
            snprintf(err, DB_ERR_LEN, "export stopped");
            rc = DB_EGENERIC;
            goto out;
        }
    }
    if (rc != SQLITE_DONE) {
        rc = db_fail(c, rc, "export", err);
        goto out;
    }
    rc = DB_OK;
    if (rows == 0 && cb(arg, section, 0, names, values, is_int) != 0) {
        snprintf(err, DB_ERR_LEN, "export stopped");
        rc = DB_EGENERIC;
    }
out:
    sqlite3_finalize(st);
    return rc;
}

int
acc_export(struct db *db, const char *user_id, acc_export_fn cb, void *arg,
           char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    int rc = db_exec(c, "BEGIN", err);

    /* One read transaction: the sections agree with each other. */
    for (size_t i = 0;
         rc == DB_OK && i < sizeof export_queries / sizeof export_queries[0];
         i++)
        rc = export_one(c, export_queries[i].section, export_queries[i].sql,
                        user_id, cb, arg, err);
    db_rollback(c);
    db_conn_put(db, c);
    return rc;
}
