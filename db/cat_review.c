/* Stockroom — review: the queue of pending images with their near
 * duplicates, and a reviewer's decision. */
#include <stdio.h>

#include "catint.h"

int
cat_review_queue(struct db *db, const char *cursor, int limit,
                 struct cat_image_list *out, char err[DB_ERR_LEN])
{
    return cat__image_page(db,
                           "SELECT " CAT__IMAGE_COLS
                           "WHERE i.seq IN (SELECT seq FROM images"
                           " WHERE status = 'pending_review' AND seq > ?2"
                           " UNION SELECT image_seq FROM image_edits"
                           " WHERE image_seq > ?2)"
                           " ORDER BY i.seq LIMIT ?3",
                           NULL, CAT__CUR_QUEUE, cursor, limit, 1, out, err);
}

int
cat_review_decide(struct db *db, const char *id, const char *reviewer_id,
                  int approve, const char *reason_code, const char *reason_text,
                  char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    int rc = db_begin(c, err);

    if (rc != DB_OK)
        goto out;
    rc =
        db_prepare(c,
                   "UPDATE images SET"
                   " status = CASE WHEN ?3 THEN 'approved' ELSE 'rejected' END,"
                   " reviewed_at = unixepoch(), reviewed_by = ?2,"
                   " approved_at = CASE WHEN ?3 THEN unixepoch() END,"
                   " reject_code = CASE WHEN ?3 THEN NULL ELSE ?4 END,"
                   " reject_reason = CASE WHEN ?3 THEN NULL ELSE ?5 END"
                   " WHERE id = ?1 AND status = 'pending_review'",
                   &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, reviewer_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, approve != 0);
    cat__bind_opt(st, 4, reason_code);
    cat__bind_opt(st, 5, reason_text);
    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        rc = db_fail(c, rc, "review", err);
        goto out;
    }
    if (sqlite3_changes(c) == 0) {
        rc = cat__image_exists(c, id, err);
        if (rc == DB_OK) {
            snprintf(err, DB_ERR_LEN, "image is not waiting for review");
            rc = DB_ECONFLICT;
        }
        goto out;
    }
    rc = db__audit_add(c, reviewer_id,
                       approve ? "review_approve" : "review_reject", "image",
                       id, approve ? NULL : reason_code, err);
    if (rc == DB_OK)
        rc = db_commit(c, err);
out:
    if (rc != DB_OK)
        db_rollback(c);
    sqlite3_finalize(st);
    db_conn_put(db, c);
    return rc;
}
