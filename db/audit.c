/* Stockroom — the audit log (audit.h) and the trust-and-safety schema. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "dbint.h"

/* The images table keeps its CHECK on status from the first migration:
 * SQLite cannot alter a constraint, and rebuilding the table would cascade
 * deletes to every table that refers to images. The documented way for a
 * change that leaves stored rows valid is to edit the table's SQL in
 * sqlite_schema and reload it; the new list only adds states. */
const char db_schema_safety[] =
    "PRAGMA writable_schema = ON;"
    "UPDATE sqlite_schema SET sql = replace(sql,"
    "  '''rejected'', ''failed'')',"
    "  '''rejected'', ''failed'', ''draft'', ''withdrawn'', ''taken_down'')')"
    "  WHERE type = 'table' AND name = 'images';"
    "PRAGMA writable_schema = RESET;"
    /* The state an image was in before it went off sale, for an admin's
     * restore; suspended marks images held by a suspension only. */
    "ALTER TABLE images ADD COLUMN held_status TEXT;"
    "ALTER TABLE images ADD COLUMN off_sale_at INTEGER;"
    "ALTER TABLE images ADD COLUMN off_sale_reason TEXT;"
    "ALTER TABLE images ADD COLUMN suspended INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE images ADD COLUMN counter_notice TEXT;"
    "ALTER TABLE images ADD COLUMN appeal_message TEXT;"
    "ALTER TABLE images ADD COLUMN appealed_at INTEGER;"
    "ALTER TABLE users ADD COLUMN suspended_at INTEGER;"
    "ALTER TABLE users ADD COLUMN suspend_reason TEXT;"
    "ALTER TABLE images ADD COLUMN people INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE images ADD COLUMN property INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE images ADD COLUMN editorial INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE images ADD COLUMN caption TEXT NOT NULL DEFAULT '';"
    /* Signed release forms: the document is a private blob under
     * releases/<id>, never served publicly. */
    "CREATE TABLE releases ("
    "  seq INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE,"
    "  owner_id TEXT NOT NULL REFERENCES users(id),"
    "  kind TEXT NOT NULL CHECK (kind IN ('model', 'property')),"
    "  name TEXT NOT NULL,"
    "  mime TEXT NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL"
    ") STRICT;"
    "CREATE INDEX releases_owner ON releases(owner_id, seq);"
    "CREATE TABLE image_releases ("
    "  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
    "  release_id TEXT NOT NULL REFERENCES releases(id) ON DELETE CASCADE,"
    "  PRIMARY KEY (image_id, release_id)"
    ") STRICT, WITHOUT ROWID;"
    "CREATE INDEX image_releases_release ON image_releases(release_id);"
    /* Whether a licence was sold for editorial use only, fixed at the
     * sale: the photo may change later, the licence does not. */
    "CREATE TABLE licence_terms ("
    "  licence_id TEXT PRIMARY KEY,"
    "  editorial INTEGER NOT NULL CHECK (editorial IN (0, 1))"
    ") STRICT, WITHOUT ROWID;"
    "CREATE TRIGGER licence_terms_no_update BEFORE UPDATE ON licence_terms"
    "  BEGIN SELECT RAISE(ABORT, 'licence terms are immutable'); END;"
    "CREATE TABLE reports ("
    "  seq INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE,"
    "  image_id TEXT NOT NULL REFERENCES images(id),"
    "  reason TEXT NOT NULL CHECK (reason IN ('copyright', 'privacy',"
    "    'offensive', 'other')),"
    "  details TEXT NOT NULL,"
    "  contact_email TEXT NOT NULL,"
    "  status TEXT NOT NULL CHECK (status IN ('open', 'dismissed',"
    "    'actioned')),"
    "  created_at INTEGER NOT NULL,"
    "  closed_at INTEGER,"
    "  closed_by TEXT"
    ") STRICT;"
    "CREATE INDEX reports_open ON reports(seq) WHERE status = 'open';"
    "CREATE INDEX reports_image ON reports(image_id);"
    "CREATE TABLE audit_log ("
    "  seq INTEGER PRIMARY KEY,"
    "  at INTEGER NOT NULL,"
    "  actor_id TEXT NOT NULL,"
    "  action TEXT NOT NULL CHECK (action IN ('review_approve',"
    "    'review_reject', 'takedown', 'restore', 'withdraw',"
    "    'dismiss_report', 'suspend', 'unsuspend', 'refund', 'payout_paid',"
    "    'payout_failed', 'role_change')),"
    "  object_type TEXT NOT NULL,"
    "  object_id TEXT NOT NULL,"
    "  reason TEXT NOT NULL"
    ") STRICT;"
    "CREATE INDEX audit_action ON audit_log(action, seq);"
    "CREATE INDEX audit_object ON audit_log(object_id, seq);"
    "CREATE INDEX audit_actor ON audit_log(actor_id, seq);"
    /* As the ledger: no line is ever changed, removed or replaced
     * (recursive_triggers makes INSERT OR REPLACE fire the delete one). */
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN"
    "  SELECT RAISE(ABORT, 'the audit log is append-only');"
    "END;"
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN"
    "  SELECT RAISE(ABORT, 'the audit log is append-only');"
    "END;"
    /* A connection without recursive_triggers replaces silently. */
    "CREATE TRIGGER audit_log_no_replace BEFORE INSERT ON audit_log"
    "  WHEN EXISTS (SELECT 1 FROM audit_log WHERE seq = NEW.seq) BEGIN"
    "  SELECT RAISE(ABORT, 'the audit log is append-only');"
    "END;";

int
db__audit_add(sqlite3 *c, const char *actor_id, const char *action,
              const char *object_type, const char *object_id,
              const char *reason, char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(c,
                        "INSERT INTO audit_log (at, actor_id, action,"
                        " object_type, object_id, reason)"
                        " VALUES (unixepoch(), ?1, ?2, ?3, ?4,"
                        " substr(?5, 1, ?6))",
                        &st, err);

    if (rc != DB_OK)
        return rc;
    sqlite3_bind_text(st, 1, actor_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, action, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, object_type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, object_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, reason ? reason : "", -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 6, DB_AUDIT_REASON_MAX);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        rc = DB_OK;
    else if ((rc & 0xff) == SQLITE_CONSTRAINT) {
        snprintf(err, DB_ERR_LEN, "unknown audit action '%s'", action);
        rc = DB_EINVAL;
    } else
        rc = db_fail(c, rc, "audit", err);
    sqlite3_finalize(st);
    return rc;
}

int
db_audit_add(struct db *db, const char *actor_id, const char *action,
             const char *object_type, const char *object_id, const char *reason,
             char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    int rc = db_begin(c, err);

    if (rc == DB_OK)
        rc = db__audit_add(c, actor_id, action, object_type, object_id, reason,
                           err);
    if (rc == DB_OK)
        rc = db_commit(c, err);
    if (rc != DB_OK)
        db_rollback(c);
    db_conn_put(db, c);
    return rc;
}

static void
bind_filter(sqlite3_stmt *st, int i, const char *s)
{
    if (s && *s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

int
db_audit_page(struct db *db, const char *action, const char *object_id,
              const char *actor_id, int64_t before, int limit,
              struct db_audit_list *out, char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    int rc;

    memset(out, 0, sizeof *out);
    if (limit < 1 || limit > 100)
        limit = 50;
    out->items = calloc((size_t)limit, sizeof *out->items);
    if (!out->items) {
        snprintf(err, DB_ERR_LEN, "out of memory");
        rc = DB_EGENERIC;
        goto out;
    }
    rc = db_prepare(c,
                    "SELECT seq, at, actor_id, action, object_type, object_id,"
                    " reason FROM audit_log"
                    " WHERE (?1 IS NULL OR action = ?1)"
                    " AND (?2 IS NULL OR object_id = ?2)"
                    " AND (?3 IS NULL OR actor_id = ?3)"
                    " AND seq < ?4 ORDER BY seq DESC LIMIT ?5",
                    &st, err);
    if (rc != DB_OK)
        goto out;
    bind_filter(st, 1, action);
    bind_filter(st, 2, object_id);
    bind_filter(st, 3, actor_id);
    sqlite3_bind_int64(st, 4, before > 0 ? before : INT64_MAX);
    sqlite3_bind_int(st, 5, limit + 1);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct db_audit_entry *e;

        if (out->n == limit) {
            out->next_before = out->items[out->n - 1].seq;
            break;
        }
        e = &out->items[out->n];
        e->seq = sqlite3_column_int64(st, 0);
        e->at = sqlite3_column_int64(st, 1);
        db_col_copy(st, 2, e->actor_id, sizeof e->actor_id);
        db_col_copy(st, 3, e->action, sizeof e->action);
        db_col_copy(st, 4, e->object_type, sizeof e->object_type);
        db_col_copy(st, 5, e->object_id, sizeof e->object_id);
        e->reason = strdup((const char *)sqlite3_column_text(st, 6));
        if (!e->reason) {
            snprintf(err, DB_ERR_LEN, "out of memory");
            rc = DB_EGENERIC;
            goto out;
        }
        out->n++;
    }
    rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? DB_OK
                                               : db_fail(c, rc, "audit", err);
out:
    sqlite3_finalize(st);
    db_conn_put(db, c);
    return rc;
}

void
db_audit_list_release(struct db_audit_list *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->items[i].reason);
    free(l->items);
    memset(l, 0, sizeof *l);
}
