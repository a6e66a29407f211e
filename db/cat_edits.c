/* Stockroom — held edits: a change to the title, description or keywords
 * of an approved image waits here for a reviewer, while the approved text
 * stays what the store shows and searches. */
#include <stdio.h>
#include <string.h>

#include "catint.h"

/* One held edit per image, the whole text as it would become. image_seq
 * orders it in the review queue beside the pending images. */
const char db_schema_image_edits[] =
    "CREATE TABLE image_edits ("
    "  image_id TEXT PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,"
    "  image_seq INTEGER NOT NULL UNIQUE,"
    "  title TEXT NOT NULL,"
    "  description TEXT NOT NULL,"
    "  keywords TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL"
    ") STRICT;";

int
cat_edit_hold(struct db *db, const char *id, const char *owner_id,
              const char *title, const char *description, const char *keywords,
              char err[DB_ERR_LEN])
{
    char kw[CAT__KEYWORDS_BUF];
    sqlite3 *c = NULL;
    sqlite3_stmt *st = NULL;
    int rc = DB_OK;

    if ((title && strlen(title) > CAT_TITLE_MAX) ||
        (description && strlen(description) > CAT_DESC_MAX)) {
        snprintf(err, DB_ERR_LEN, "title or description too long");
        return DB_EINVAL;
    }
    if (keywords)
        rc = cat__keywords_normalise(keywords, kw, err);
    if (rc != DB_OK)
        return rc;
    c = db_conn_get(db);
    rc = db_begin(c, err);
    if (rc != DB_OK)
        goto out;
    /* What is not sent stays as held before, or as approved. */
    rc = db_prepare(
        c,
        "INSERT INTO image_edits (image_id, image_seq, title, description,"
        "  keywords, created_at)"
        " SELECT i.id, i.seq, coalesce(?3, e.title, i.title),"
        "  coalesce(?4, e.description, i.description),"
        "  coalesce(?5, e.keywords, i.keywords), unixepoch()"
        " FROM images i LEFT JOIN image_edits e ON e.image_id = i.id"
        " WHERE i.id = ?1 AND i.contributor_id = ?2"
        "  AND i.status = 'approved'"
        " ON CONFLICT (image_id) DO UPDATE SET title = excluded.title,"
        "  description = excluded.description, keywords = excluded.keywords,"
        "  created_at = excluded.created_at",
        &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, owner_id, -1, SQLITE_STATIC);
    if (title)
        sqlite3_bind_text(st, 3, title, -1, SQLITE_STATIC);
    if (description)
        sqlite3_bind_text(st, 4, description, -1, SQLITE_STATIC);
    if (keywords)
        sqlite3_bind_text(st, 5, kw, -1, SQLITE_STATIC);
    rc = db_step_change(c, st, "approved image of yours", err);
    if (rc == DB_OK)
        rc = db_commit(c, err);
out:
    if (rc != DB_OK)
        db_rollback(c);
    sqlite3_finalize(st);
    db_conn_put(db, c);
    return rc;
}

int
cat_edit_get(struct db *db, const char *id, struct cat_edit *out,
             char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(c,
                        "SELECT title, description, keywords, created_at"
                        " FROM image_edits WHERE image_id = ?1",
                        &st, err);

    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        db_col_copy(st, 0, out->title, sizeof out->title);
        db_col_copy(st, 1, out->description, sizeof out->description);
        db_col_copy(st, 2, out->keywords, sizeof out->keywords);
        out->created_at = sqlite3_column_int64(st, 3);
        rc = DB_OK;
    } else if (rc == SQLITE_DONE) {
        snprintf(err, DB_ERR_LEN, "no edit held");
        rc = DB_ENOTFOUND;
    } else {
        rc = db_fail(c, rc, "held edit", err);
    }
out:
    sqlite3_finalize(st);
    db_conn_put(db, c);
    return rc;
}

int
cat_edit_decide(struct db *db, const char *id, int approve,
                char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    int rc = db_begin(c, err);

    if (rc != DB_OK)
        goto out;
    if (approve) {
        /* The search index follows through images' update trigger. */
        rc = db_prepare(c,
                        "UPDATE images SET (title, description, keywords) ="
                        " (SELECT title, description, keywords"
                        "  FROM image_edits WHERE image_id = ?1)"
                        " WHERE id = ?1 AND status = 'approved' AND EXISTS"
                        " (SELECT 1 FROM image_edits WHERE image_id = ?1)",
                        &st, err);
        if (rc != DB_OK)
            goto out;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        rc = rc == SQLITE_DONE ? DB_OK : db_fail(c, rc, "held edit", err);
        sqlite3_finalize(st);
        st = NULL;
        if (rc != DB_OK)
            goto out;
    }
    rc = db_prepare(c, "DELETE FROM image_edits WHERE image_id = ?1", &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        rc = db_fail(c, rc, "held edit", err);
        goto out;
    }
    if (sqlite3_changes(c) == 0) {
        snprintf(err, DB_ERR_LEN, "no edit held");
        rc = DB_ECONFLICT;
        goto out;
    }
    rc = db_commit(c, err);
out:
    if (rc != DB_OK)
        db_rollback(c);
    sqlite3_finalize(st);
    db_conn_put(db, c);
    return rc;
}
