/* Stockroom — reports of images by anyone, and their closing by admins
 * (cat_safety.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cat_safety.h"
#include "catint.h"

int
cat_report_create(struct db *db, const char *image_id, const char *reason,
                  const char *details, const char *contact_email,
                  char id_out[CAT_ID_LEN], char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    int rc = db_begin(c, err);

    if (rc == DB_OK)
        rc = db_prepare(c,
                        "INSERT INTO reports (id, image_id, reason, details,"
                        " contact_email, status, created_at)"
                        " SELECT 'r' || lower(hex(randomblob(8))), id, ?2,"
                        " ?3, ?4, 'open', unixepoch() FROM images"
                        " WHERE id = ?1 AND status = 'approved'"
                        " RETURNING id",
                        &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, image_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, reason, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, details ? details : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, contact_email ? contact_email : "", -1,
                      SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        db_col_copy(st, 0, id_out, CAT_ID_LEN);
        rc = DB_OK;
    } else if (rc == SQLITE_DONE) {
        snprintf(err, DB_ERR_LEN, "no such image");
        rc = DB_ENOTFOUND;
    } else if ((rc & 0xff) == SQLITE_CONSTRAINT) {
        snprintf(err, DB_ERR_LEN, "unknown reason");
        rc = DB_EINVAL;
    } else
        rc = db_fail(c, rc, "report", err);
    sqlite3_finalize(st);
    st = NULL;
    if (rc == DB_OK)
        rc = db_commit(c, err);
out:
    sqlite3_finalize(st);
    if (rc != DB_OK)
        db_rollback(c);
    db_conn_put(db, c);
    return rc;
}

int
cat_reports_open(struct db *db, struct cat_report **out, int *n,
                 char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    struct cat_report *a = calloc(CAT_LIST_MAX, sizeof *a);
    int rc;

    *out = NULL;
    *n = 0;
    if (!a) {
        snprintf(err, DB_ERR_LEN, "out of memory");
        rc = DB_EGENERIC;
        goto out;
    }
    rc = db_prepare(c,
                    "SELECT r.id, r.image_id, i.title, r.reason, r.details,"
                    " r.contact_email, r.status, r.created_at"
                    " FROM reports r JOIN images i ON i.id = r.image_id"
                    " WHERE r.status = 'open' ORDER BY r.seq LIMIT ?1",
                    &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_int(st, 1, CAT_LIST_MAX);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct cat_report *r = &a[*n];

        db_col_copy(st, 0, r->id, sizeof r->id);
        db_col_copy(st, 1, r->image_id, sizeof r->image_id);
        db_col_copy(st, 2, r->image_title, sizeof r->image_title);
        db_col_copy(st, 3, r->reason, sizeof r->reason);
        r->details = strdup((const char *)sqlite3_column_text(st, 4));
        db_col_copy(st, 5, r->contact_email, sizeof r->contact_email);
        db_col_copy(st, 6, r->status, sizeof r->status);
        r->created_at = sqlite3_column_int64(st, 7);
        if (!r->details) {
            snprintf(err, DB_ERR_LEN, "out of memory");
            rc = DB_EGENERIC;
            goto out;
        }
        (*n)++;
    }
    rc = rc == SQLITE_DONE ? DB_OK : db_fail(c, rc, "reports", err);
out:
    sqlite3_finalize(st);
    db_conn_put(db, c);
    if (rc != DB_OK) {
        cat_reports_free(a, *n);
        *n = 0;
        return rc;
    }
    *out = a;
    return DB_OK;
}

void
cat_reports_free(struct cat_report *r, int n)
{
    for (int i = 0; r && i < n; i++)
        free(r[i].details);
    free(r);
}

int
cat_report_dismiss(struct db *db, const char *id, const char *admin_id,
                   const char *reason, char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    int rc = db_begin(c, err);

    if (rc == DB_OK)
        rc = db_prepare(c,
                        "UPDATE reports SET status = 'dismissed',"
                        " closed_at = unixepoch(), closed_by = ?2"
                        " WHERE id = ?1 AND status = 'open'",
                        &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, admin_id, -1, SQLITE_STATIC);
    rc = db_step_change(c, st, "open report", err);
    sqlite3_finalize(st);
    st = NULL;
    if (rc == DB_ENOTFOUND) {
        rc = db_prepare(c, "SELECT 1 FROM reports WHERE id = ?1", &st, err);
        if (rc == DB_OK) {
            sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
            rc = sqlite3_step(st) == SQLITE_ROW ? DB_ECONFLICT : DB_ENOTFOUND;
            snprintf(err, DB_ERR_LEN, "%s",
                     rc == DB_ECONFLICT ? "the report is closed"
                                        : "no such report");
        }
    }
    if (rc == DB_OK)
        rc = db__audit_add(c, admin_id, "dismiss_report", "report", id, reason,
                           err);
    if (rc == DB_OK)
        rc = db_commit(c, err);
out:
    sqlite3_finalize(st);
    if (rc != DB_OK)
        db_rollback(c);
    db_conn_put(db, c);
    return rc;
}
