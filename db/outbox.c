/* Stockroom — the mail outbox and the events that fill it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbint.h"
#include "outbox.h"
#include "outboxint.h"

/* The triggers queue a message in the very transaction that records the
 * event, so a sale or a review can never commit without its mail, nor mail
 * go out for an event that rolled back. A closed account (deleted_at set)
 * or one that turned a notice off gets nothing. */
#define TO_OWNER(uid)                                                          \
    " FROM users u WHERE u.id = " uid " AND u.deleted_at IS NULL"

const char db_schema_outbox[] =
    "CREATE TABLE outbox ("
    "  id INTEGER PRIMARY KEY,"
    "  kind TEXT NOT NULL,"
    "  user_id TEXT NOT NULL DEFAULT '',"
    "  to_addr TEXT NOT NULL,"
    "  params TEXT NOT NULL DEFAULT '{}',"
    "  status TEXT NOT NULL DEFAULT 'queued'"
    "    CHECK (status IN ('queued', 'sent', 'failed')),"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL DEFAULT (unixepoch()),"
    "  next_at INTEGER NOT NULL DEFAULT (unixepoch()),"
    "  sent_at INTEGER,"
    "  last_error TEXT NOT NULL DEFAULT ''"
    ") STRICT;"
    "CREATE INDEX outbox_due ON outbox(next_at, id) WHERE status = 'queued';"
    "CREATE INDEX outbox_user ON outbox(user_id);"

    "CREATE TRIGGER outbox_image_reviewed AFTER UPDATE OF status ON images"
    "  WHEN OLD.status = 'pending_review'"
    "   AND NEW.status IN ('approved', 'rejected') BEGIN"
    "  INSERT INTO outbox(kind, user_id, to_addr, params)"
    "  SELECT 'image_' || NEW.status, u.id, u.email,"
    "    json_object('image_id', NEW.id, 'title', NEW.title,"
    "      'code', NEW.reject_code, 'reason', NEW.reject_reason)" TO_OWNER(
        "NEW.contributor_id") " AND u.notify_reviews = 1;"
                              " END;"

                              "CREATE TRIGGER outbox_purchase_new AFTER INSERT "
                              "ON purchases"
                              "  WHEN NEW.status = 'settled' BEGIN"
                              "  INSERT INTO outbox(kind, user_id, to_addr, "
                              "params)"
                              "  SELECT 'purchase_receipt', u.id, u.email,"
                              "    json_object('purchase_id', NEW.id, "
                              "'credits', NEW.credits,"
                              "      'price_cents', NEW.price_cents)" TO_OWNER(
                                  "NEW.user_id") ";"
                                                 " END;"
                                                 "CREATE TRIGGER "
                                                 "outbox_purchase_settled "
                                                 "AFTER UPDATE OF status"
                                                 "  ON purchases WHEN "
                                                 "OLD.status = 'pending' AND "
                                                 "NEW.status = 'settled'"
                                                 "  BEGIN"
                                                 "  INSERT INTO outbox(kind, "
                                                 "user_id, to_addr, params)"
                                                 "  SELECT 'purchase_receipt', "
                                                 "u.id, u.email,"
                                                 "    "
                                                 "json_object('purchase_id', "
                                                 "NEW.id, 'credits', "
                                                 "NEW.credits,"
                                                 "      'price_cents', "
                                                 "NEW.price_cents)" TO_OWNER(
                                                     "NEW.user_id") ";"
                                                                    " END;"
                                                                    "CREATE "
                                                                    "TRIGGER "
                                                                    "outbox_"
                                                                    "purchase_"
                                                                    "refunded "
                                                                    "AFTER "
                                                                    "UPDATE OF "
                                                                    "status"
                                                                    "  ON "
                                                                    "purchases "
                                                                    "WHEN "
                                                                    "OLD."
                                                                    "status <> "
                                                                    "'refunded'"
                                                                    "   AND "
                                                                    "NEW."
                                                                    "status = "
                                                                    "'refunded'"
                                                                    " BEGIN"
                                                                    "  INSERT "
                                                                    "INTO "
                                                                    "outbox("
                                                                    "kind, "
                                                                    "user_id, "
                                                                    "to_addr, "
                                                                    "params)"
                                                                    "  SELECT "
                                                                    "'purchase_"
                                                                    "refunded',"
                                                                    " u.id, "
                                                                    "u.email,"
                                                                    "    "
                                                                    "json_"
                                                                    "object('"
                                                                    "purchase_"
                                                                    "id', "
                                                                    "NEW.id, "
                                                                    "'credits',"
                                                                    " NEW."
                                                                    "credits,"
                                                                    "      "
                                                                    "'price_"
                                                                    "cents', "
                                                                    "NEW.price_"
                                                                    "cents"
                                                                    ")" TO_OWNER(
                                                                        "NEW."
                                                                        "user_"
                                                                        "id") ";"
                                                                              " END;"
                                                                              "CREATE TRIGGER outbox_payout_settled AFTER UPDATE OF status ON payouts"
                                                                              "  WHEN OLD.status = 'requested' AND NEW.status IN ('paid', 'failed')"
                                                                              "  BEGIN"
                                                                              "  INSERT INTO outbox(kind, user_id, to_addr, params)"
                                                                              "  SELECT 'payout_' || NEW.status, u.id, u.email,"
                                                                              "    json_object('payout_id', NEW.id, 'amount_cents', NEW.amount_cents)" TO_OWNER(
                                                                                  "NEW.contributor_id") ";"
                                                                                                        " END;";

int
outbox__insert(sqlite3 *c, const char *kind, const char *user_id,
               const char *to_addr, const char *params, char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(c,
                        "INSERT INTO outbox(kind, user_id, to_addr, params) "
                        "VALUES (?1, ?2, ?3, json(?4))",
                        &st, err);

    if (rc != DB_OK)
        return rc;
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, user_id ? user_id : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, to_addr, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, params ? params : "{}", -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    rc = rc == SQLITE_DONE ? DB_OK : db_fail(c, rc, "outbox insert", err);
    sqlite3_finalize(st);
    return rc;
}

int
outbox_add(struct db *db, const char *kind, const char *user_id,
           const char *to_addr, const char *params, char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    int rc = outbox__insert(c, kind, user_id, to_addr, params, err);

    db_conn_put(db, c);
    return rc;
}

#define MSG_COLS                                                               \
    "id, kind, user_id, to_addr, params, attempts, created_at, "               \
    "coalesce(sent_at, 0), status, last_error"

static int
msg_row(sqlite3_stmt *st, struct outbox_msg *m)
{
    const unsigned char *p = sqlite3_column_text(st, 4);

    memset(m, 0, sizeof *m);
    m->id = sqlite3_column_int64(st, 0);
    db_col_copy(st, 1, m->kind, sizeof m->kind);
    db_col_copy(st, 2, m->user_id, sizeof m->user_id);
    db_col_copy(st, 3, m->to_addr, sizeof m->to_addr);
    m->params = strdup(p ? (const char *)p : "{}");
    m->attempts = sqlite3_column_int(st, 5);
    m->created_at = sqlite3_column_int64(st, 6);
    m->sent_at = sqlite3_column_int64(st, 7);
    db_col_copy(st, 8, m->status, sizeof m->status);
    db_col_copy(st, 9, m->error, sizeof m->error);
    return m->params ? 0 : -1;
}

int
outbox_next(struct db *db, int64_t now, struct outbox_msg *out,
            char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(c,
                        "SELECT " MSG_COLS " FROM outbox WHERE status = "
                        "'queued' AND next_at <= ?1 ORDER BY next_at, id "
                        "LIMIT 1",
                        &st, err);

    if (rc != DB_OK)
        goto out;
    sqlite3_bind_int64(st, 1, now);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        rc = msg_row(st, out) == 0 ? DB_OK : DB_EGENERIC;
        if (rc != DB_OK) {
            outbox_msg_release(out);
            snprintf(err, DB_ERR_LEN, "out of memory");
        }
    } else if (rc == SQLITE_DONE) {
        snprintf(err, DB_ERR_LEN, "nothing due");
        rc = DB_ENOTFOUND;
    } else {
        rc = db_fail(c, rc, "outbox next", err);
    }
out:
    sqlite3_finalize(st);
    db_conn_put(db, c);
    return rc;
}

void
outbox_msg_release(struct outbox_msg *m)
{
    if (!m)
        return;
    free(m->params);
    m->params = NULL;
}

/* One UPDATE of a message by id, binding (?1 int, ?2 text, ?3 id). */
static int
msg_update(struct db *db, const char *sql, int64_t ival, const char *sval,
           int64_t id, char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(c, sql, &st, err);

    if (rc != DB_OK)
        goto out;
    sqlite3_bind_int64(st, 1, ival);
    sqlite3_bind_text(st, 2, sval ? sval : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, id);
    rc = db_step_change(c, st, "message", err);
out:
    sqlite3_finalize(st);
    db_conn_put(db, c);
    return rc;
}

int
outbox_mark_sent(struct db *db, int64_t id, int64_t now, char err[DB_ERR_LEN])
{
    return msg_update(db,
                      "UPDATE outbox SET status = 'sent', sent_at = ?1, "
                      "attempts = attempts + 1, params = '{}', "
                      "last_error = ?2 WHERE id = ?3 AND status = 'queued'",
                      now, "", id, err);
}

int
outbox_mark_failed(struct db *db, int64_t id, int64_t next_at, const char *why,
                   char err[DB_ERR_LEN])
{
    return msg_update(db,
                      "UPDATE outbox SET attempts = attempts + 1, "
                      "last_error = ?2, next_at = max(?1, next_at), "
                      "status = CASE WHEN ?1 = 0 THEN 'failed' ELSE status "
                      "END, params = CASE WHEN ?1 = 0 THEN '{}' ELSE params "
                      "END WHERE id = ?3 AND status = 'queued'",
                      next_at, why, id, err);
}

int
outbox_list(struct db *db, const char *status, int limit,
            struct outbox_msg **out, int *n, char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    struct outbox_msg *list = NULL;
    int rc, count = 0;

    rc = db_prepare(c,
                    "SELECT " MSG_COLS " FROM outbox WHERE ?1 IS NULL OR "
                    "status = ?1 ORDER BY id DESC LIMIT ?2",
                    &st, err);
    if (rc != DB_OK)
        goto out;
    if (status)
        sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, limit);
    list = calloc((size_t)(limit > 0 ? limit : 1), sizeof *list);
    if (!list) {
        snprintf(err, DB_ERR_LEN, "out of memory");
        rc = DB_EGENERIC;
        goto out;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && count < limit) {
        if (msg_row(st, &list[count++]) < 0) {
            snprintf(err, DB_ERR_LEN, "out of memory");
            rc = DB_EGENERIC;
            goto out;
        }
    }
    rc = rc == SQLITE_DONE ? DB_OK : db_fail(c, rc, "outbox list", err);
out:
    sqlite3_finalize(st);
    db_conn_put(db, c);
    if (rc != DB_OK) {
        outbox_list_free(list, count);
        return rc;
    }
    *out = list;
    *n = count;
    return DB_OK;
}

void
outbox_list_free(struct outbox_msg *list, int n)
{
    for (int i = 0; list && i < n; i++)
        outbox_msg_release(&list[i]);
    free(list);
}

/* Run sql binding ?1 to v and ?2 to w on c. */
static int
exec_2(sqlite3 *c, const char *sql, int64_t v, int64_t w, char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(c, sql, &st, err);

    if (rc != DB_OK)
        return rc;
    sqlite3_bind_int64(st, 1, v);
    sqlite3_bind_int64(st, 2, w);
    rc = sqlite3_step(st);
    rc = rc == SQLITE_DONE ? DB_OK : db_fail(c, rc, "digest", err);
    sqlite3_finalize(st);
    return rc;
}

int
outbox_queue_digests(struct db *db, int64_t interval_s, int64_t now,
                     char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    int rc = db_begin(c, err), queued = 0;

    if (rc != DB_OK)
        goto out;
    /* The window is per account (digest_at, set when the digest is turned
     * on), so a restart neither repeats nor skips one. Refunded sales
     * still count as sold in the window: a refund has its own line in the
     * earnings. */
    /* A window ends at the last whole second, now - 1: a sale committed
     * later in the current second belongs to the next window. */
    rc = exec_2(c,
                "INSERT INTO outbox(kind, user_id, to_addr, params) "
                "SELECT 'sales_digest', u.id, u.email, json_object("
                "  'count', count(*), 'royalty_cents', sum(l.royalty_cents),"
                "  'since', coalesce(u.digest_at, 0)) "
                "FROM users u JOIN licences l ON l.contributor_id = u.id "
                "WHERE u.notify_sales_digest = 1 AND u.deleted_at IS NULL "
                "  AND coalesce(u.digest_at, 0) <= ?2 - ?1 "
                "  AND l.created_at > coalesce(u.digest_at, 0) "
                "  AND l.created_at < ?2 GROUP BY u.id",
                interval_s, now, err);
    if (rc != DB_OK)
        goto out;
    queued = sqlite3_changes(c);
    rc = exec_2(c,
                "UPDATE users SET digest_at = ?2 - 1 "
                "WHERE notify_sales_digest = 1 AND deleted_at IS NULL "
                "  AND coalesce(digest_at, 0) <= ?2 - ?1",
                interval_s, now, err);
    if (rc != DB_OK)
        goto out;
    rc = db_commit(c, err);
out:
    if (rc != DB_OK)
        db_rollback(c);
    db_conn_put(db, c);
    return rc == DB_OK ? queued : rc;
}
