/* Stockroom — the durable render queue: queueing, claiming under a lease,
 * finishing, failing and the reset at start-up. */
#include <stdio.h>

#include "catint.h"

/* A new upload's job waits this long (seconds) for the server to store the
 * original and release it; a process that died in between left a held job
 * that start-up releases, to fail it as interrupted. */
#define HOLD_S "300"

int
cat__job_queue(sqlite3 *c, const char *image_id, char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(
        c,
        "INSERT INTO jobs(id, image_id, kind, state, created_at,"
        " lease_until)"
        " VALUES ('j' || lower(hex(randomblob(8))), ?1, 'render', 'queued',"
        " unixepoch(), unixepoch() + " HOLD_S ")",
        &st, err);

    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, image_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    rc = rc == SQLITE_DONE ? DB_OK : db_fail(c, rc, "job insert", err);
out:
    sqlite3_finalize(st);
    return rc;
}

int
cat_job_claim(struct db *db, int64_t now, int lease_seconds,
              struct cat_job *out, char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    /* One UPDATE takes the write lock before it reads, so two workers
     * never claim the same job. The state IN (...) term matches the
     * partial index jobs_live. */
    int rc =
        db_prepare(c,
                   "UPDATE jobs SET state = 'running', attempts = attempts + 1,"
                   " lease_until = ?1 + ?2,"
                   " claimed_by = 'c' || lower(hex(randomblob(8)))"
                   " WHERE rowid = (SELECT rowid FROM jobs"
                   "  WHERE state IN ('queued', 'running')"
                   "  AND (lease_until IS NULL OR lease_until <= ?1)"
                   "  ORDER BY created_at, rowid LIMIT 1)"
                   " RETURNING id, image_id, kind, attempts, claimed_by",
                   &st, err);

    if (rc != DB_OK)
        goto out;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int(st, 2, lease_seconds);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        db_col_copy(st, 0, out->id, sizeof out->id);
        db_col_copy(st, 1, out->image_id, sizeof out->image_id);
        db_col_copy(st, 2, out->kind, sizeof out->kind);
        out->attempts = sqlite3_column_int(st, 3);
        db_col_copy(st, 4, out->claim, sizeof out->claim);
        /* Step to the end so the statement's transaction commits. */
        rc = sqlite3_step(st);
        rc = rc == SQLITE_DONE ? DB_OK : db_fail(c, rc, "job claim", err);
    } else if (rc == SQLITE_DONE) {
        snprintf(err, DB_ERR_LEN, "no job waiting");
        rc = DB_ENOTFOUND;
    } else {
        rc = db_fail(c, rc, "job claim", err);
    }
out:
    sqlite3_finalize(st);
    db_conn_put(db, c);
    return rc;
}

/* Inside a transaction: the image and attempts of a running job. */
static int
job_running(sqlite3 *c, const char *job_id, char image_id[CAT_ID_LEN],
            int *attempts, char err[DB_ERR_LEN])
{
    enum db_job_state state;
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(c,
                        "SELECT image_id, attempts, state FROM jobs"
                        " WHERE id = ?1",
                        &st, err);

    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, job_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        db_col_copy(st, 0, image_id, CAT_ID_LEN);
        *attempts = sqlite3_column_int(st, 1);
        rc = DB_OK;
        if (db_status_job_parse((const char *)sqlite3_column_text(st, 2),
                                &state) != DB_OK ||
            state != DB_JOB_RUNNING) {
            snprintf(err, DB_ERR_LEN, "job is not running");
            rc = DB_ECONFLICT;
        }
    } else if (rc == SQLITE_DONE) {
        snprintf(err, DB_ERR_LEN, "no such job");
        rc = DB_ENOTFOUND;
    } else {
        rc = db_fail(c, rc, "job lookup", err);
    }
out:
    sqlite3_finalize(st);
    return rc;
}

/* Inside a transaction: run sql bound to up to three texts. */
static int
exec3(sqlite3 *c, const char *sql, const char *a, const char *b, const char *d,
      char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(c, sql, &st, err);

    if (rc != DB_OK)
        return rc;
    sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
    if (b)
        sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
    if (d)
        sqlite3_bind_text(st, 3, d, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    rc = rc == SQLITE_DONE ? DB_OK : db_fail(c, rc, "update", err);
    sqlite3_finalize(st);
    return rc;
}

int
cat_job_done(struct db *db, const char *job_id, const char *thumb_etag,
             const char *preview_etag, int min_keywords, char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    char image_id[CAT_ID_LEN];
    int attempts;
    int rc = db_begin(c, err);

    if (rc == DB_OK)
        rc = job_running(c, job_id, image_id, &attempts, err);
    if (rc == DB_OK)
        rc = exec3(c,
                   "UPDATE jobs SET state = 'done', lease_until = NULL"
                   " WHERE id = ?1",
                   job_id, NULL, NULL, err);
    if (rc == DB_OK)
        rc = exec3(c,
                   "UPDATE images SET thumb_etag = ?2, preview_etag = ?3,"
                   " status = CASE status WHEN 'processing'"
                   "  THEN 'pending_review' ELSE status END WHERE id = ?1",
                   image_id, thumb_etag, preview_etag, err);
    if (rc == DB_OK && min_keywords > 0)
        rc = cat__hold_draft(c, image_id, min_keywords, err);
    if (rc == DB_OK)
        rc = db_commit(c, err);
    if (rc != DB_OK)
        db_rollback(c);
    db_conn_put(db, c);
    return rc;
}

int
cat_job_fail(struct db *db, const char *job_id, const char *reason,
             int max_attempts, char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    char image_id[CAT_ID_LEN];
    int attempts = 0;
    int rc = db_begin(c, err);

    if (rc == DB_OK)
        rc = job_running(c, job_id, image_id, &attempts, err);
    if (rc == DB_OK && attempts < max_attempts) {
        rc = exec3(c,
                   "UPDATE jobs SET state = 'queued', last_error = ?2,"
                   " lease_until = NULL WHERE id = ?1",
                   job_id, reason, NULL, err);
    } else if (rc == DB_OK) {
        rc = exec3(c,
                   "UPDATE jobs SET state = 'failed', last_error = ?2,"
                   " lease_until = NULL WHERE id = ?1",
                   job_id, reason, NULL, err);
        if (rc == DB_OK)
            rc = exec3(c,
                       "UPDATE images SET status = 'failed',"
                       " fail_reason = ?2"
                       " WHERE id = ?1 AND status = 'processing'",
                       image_id, reason, NULL, err);
    }
    if (rc == DB_OK)
        rc = db_commit(c, err);
    if (rc != DB_OK)
        db_rollback(c);
    db_conn_put(db, c);
    return rc;
}

int
cat_job_release(struct db *db, const char *image_id, char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(c,
                        "UPDATE jobs SET lease_until = NULL"
                        " WHERE image_id = ?1 AND state = 'queued'",
                        &st, err);

    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, image_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    rc = rc == SQLITE_DONE ? DB_OK : db_fail(c, rc, "job release", err);
out:
    sqlite3_finalize(st);
    db_conn_put(db, c);
    return rc;
}

int
cat_jobs_reset(struct db *db, char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(c,
                        "UPDATE jobs SET state = 'queued',"
                        " lease_until = NULL WHERE state = 'running'"
                        " OR (state = 'queued' AND lease_until IS NOT NULL)",
                        &st, err);

    if (rc != DB_OK)
        goto out;
    rc = sqlite3_step(st);
    rc = rc == SQLITE_DONE ? sqlite3_changes(c)
                           : db_fail(c, rc, "job reset", err);
out:
    sqlite3_finalize(st);
    db_conn_put(db, c);
    return rc;
}
