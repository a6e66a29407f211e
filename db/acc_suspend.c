/* Stockroom — account suspensions (acc_suspend.h). */
#include <stdio.h>
#include <stdlib.h>

#include "acc_suspend.h"
#include "dbint.h"

static int
exec_bound(sqlite3 *c, const char *sql, const char *a, const char *b,
           int *changed, char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(c, sql, &st, err);

    if (rc != DB_OK)
        return rc;
    sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
    if (b)
        sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    rc = rc == SQLITE_DONE ? DB_OK : db_fail(c, rc, "suspension", err);
    if (changed)
        *changed = sqlite3_changes(c);
    sqlite3_finalize(st);
    return rc;
}

static int
suspended_on(sqlite3 *c, const char *user_id, int64_t *since,
             char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    int rc =
        db_prepare(c, "SELECT suspended_at FROM users WHERE id = ?1", &st, err);

    if (rc != DB_OK)
        return rc;
    sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *since = sqlite3_column_int64(st, 0);
        rc = DB_OK;
    } else if (rc == SQLITE_DONE) {
        snprintf(err, DB_ERR_LEN, "no such user");
        rc = DB_ENOTFOUND;
    } else
        rc = db_fail(c, rc, "user", err);
    sqlite3_finalize(st);
    return rc;
}

static int
finish(struct db *db, sqlite3 *c, int rc, char err[DB_ERR_LEN])
{
    if (rc == DB_OK)
        rc = db_commit(c, err);
    if (rc != DB_OK)
        db_rollback(c);
    db_conn_put(db, c);
    return rc;
}

int
acc_user_suspend(struct db *db, const char *user_id, const char *admin_id,
                 const char *reason, char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    int64_t since = 0;
    int rc = db_begin(c, err);

    if (rc == DB_OK)
        rc = suspended_on(c, user_id, &since, err);
    if (rc == DB_OK && since) {
        snprintf(err, DB_ERR_LEN, "the account is suspended already");
        rc = DB_ECONFLICT;
    }
    if (rc == DB_OK)
        rc = exec_bound(c,
                        "UPDATE users SET suspended_at = unixepoch(),"
                        " suspend_reason = ?2 WHERE id = ?1",
                        user_id, reason, NULL, err);
    if (rc == DB_OK)
        rc = exec_bound(c, "DELETE FROM sessions WHERE user_id = ?1", user_id,
                        NULL, NULL, err);
    if (rc == DB_OK)
        rc = exec_bound(c,
                        "UPDATE images SET held_status = status,"
                        " status = 'taken_down', suspended = 1,"
                        " off_sale_at = unixepoch(),"
                        " off_sale_reason = 'account suspended'"
                        " WHERE contributor_id = ?1 AND status = 'approved'",
                        user_id, NULL, NULL, err);
    if (rc == DB_OK)
        rc =
            db__audit_add(c, admin_id, "suspend", "user", user_id, reason, err);
    return finish(db, c, rc, err);
}

int
acc_user_unsuspend(struct db *db, const char *user_id, const char *admin_id,
                   char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    int64_t since = 0;
    int rc = db_begin(c, err);

    if (rc == DB_OK)
        rc = suspended_on(c, user_id, &since, err);
    if (rc == DB_OK && !since) {
        snprintf(err, DB_ERR_LEN, "the account is not suspended");
        rc = DB_ECONFLICT;
    }
    if (rc == DB_OK)
        rc = exec_bound(c,
                        "UPDATE users SET suspended_at = NULL,"
                        " suspend_reason = NULL WHERE id = ?1",
                        user_id, NULL, NULL, err);
    if (rc == DB_OK)
        rc = exec_bound(c,
                        "UPDATE images SET status = held_status,"
                        " held_status = NULL, suspended = 0,"
                        " off_sale_at = NULL, off_sale_reason = NULL"
                        " WHERE contributor_id = ?1 AND suspended = 1",
                        user_id, NULL, NULL, err);
    if (rc == DB_OK)
        rc =
            db__audit_add(c, admin_id, "unsuspend", "user", user_id, NULL, err);
    return finish(db, c, rc, err);
}

int
acc_user_suspended(struct db *db, const char *user_id, int64_t *since,
                   char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    int rc = suspended_on(c, user_id, since, err);

    db_conn_put(db, c);
    return rc;
}

int
acc_users_search(struct db *db, const char *q, struct acc_user_row **out,
                 int *n, char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    struct acc_user_row *a = calloc(50, sizeof *a);
    int rc;

    *out = NULL;
    *n = 0;
    if (!a) {
        snprintf(err, DB_ERR_LEN, "out of memory");
        rc = DB_EGENERIC;
        goto out;
    }
    /* instr, not LIKE: the text typed is never a pattern. */
    rc = db_prepare(c,
                    "SELECT id, email, name, roles, created_at,"
                    " coalesce(suspended_at, 0) FROM users"
                    " WHERE ?1 IS NULL OR instr(lower(email), lower(?1)) = 1"
                    " OR instr(lower(name), lower(?1)) > 0"
                    " ORDER BY created_at DESC, id LIMIT 50",
                    &st, err);
    if (rc != DB_OK)
        goto out;
    if (q && *q)
        sqlite3_bind_text(st, 1, q, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct acc_user_row *u = &a[(*n)++];

        db_col_copy(st, 0, u->id, sizeof u->id);
        db_col_copy(st, 1, u->email, sizeof u->email);
        db_col_copy(st, 2, u->name, sizeof u->name);
        u->roles = (unsigned)sqlite3_column_int(st, 3);
        u->created_at = sqlite3_column_int64(st, 4);
        u->suspended_at = sqlite3_column_int64(st, 5);
    }
    rc = rc == SQLITE_DONE ? DB_OK : db_fail(c, rc, "users", err);
out:
    sqlite3_finalize(st);
    db_conn_put(db, c);
    if (rc != DB_OK) {
        free(a);
        *n = 0;
        return rc;
    }
    *out = a;
    return DB_OK;
}
