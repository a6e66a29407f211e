/* Stockroom — which blobs the catalogue and the ledger name, and render
 * jobs that wait for the blob store. */
#include <stdio.h>
#include <string.h>

#include "dbint.h"
#include "storage.h"

/* Originals of every image, renditions of those that have them (an image
 * still processing has none yet), and licensed files that were made. */
static const char refs_sql[] =
    "SELECT 0, id, sha256, file_size FROM images"
    " UNION ALL SELECT 1, id, thumb_etag, -1 FROM images"
    "  WHERE thumb_etag IS NOT NULL AND thumb_etag <> ''"
    " UNION ALL SELECT 2, id, preview_etag, -1 FROM images"
    "  WHERE preview_etag IS NOT NULL AND preview_etag <> ''"
    " UNION ALL SELECT 3, id, file_sha256, -1 FROM licences"
    "  WHERE file_sha256 IS NOT NULL";

int
cat_blob_refs(struct db *db, int (*fn)(const struct cat_blob_ref *, void *),
              void *arg, char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(c, refs_sql, &st, err);

    while (rc == DB_OK) {
        struct cat_blob_ref ref;
        int step = sqlite3_step(st);

        if (step == SQLITE_DONE)
            break;
        if (step != SQLITE_ROW) {
            rc = db_fail(c, step, "blob references", err);
            break;
        }
        ref.kind = (enum cat_ref_kind)sqlite3_column_int(st, 0);
        ref.id = (const char *)sqlite3_column_text(st, 1);
        ref.sha256 = (const char *)sqlite3_column_text(st, 2);
        ref.size = sqlite3_column_int64(st, 3);
        rc = fn(&ref, arg);
    }
    sqlite3_finalize(st);
    db_conn_put(db, c);
    return rc;
}

int
cat_job_defer(struct db *db, const char *job_id, int64_t not_before,
              const char *reason, char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    /* lease_until doubles as "not before": cat_job_claim skips a queued
     * job whose lease_until is still ahead. */
    int rc = db_prepare(c,
                        "UPDATE jobs SET state = 'queued', last_error = ?2,"
                        " lease_until = ?3, attempts = max(attempts - 1, 0)"
                        " WHERE id = ?1 AND state = 'running'",
                        &st, err);

    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, job_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, reason, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, not_before);
    rc = db_step_change(c, st, "running job", err);
out:
    sqlite3_finalize(st);
    db_conn_put(db, c);
    return rc;
}
