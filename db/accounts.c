/* Stockroom — accounts and sessions. */
#include <stdio.h>
#include <string.h>

#include "accounts.h"
#include "dbint.h"

const char db_schema_accounts[] =
    "CREATE TABLE users ("
    "  id TEXT PRIMARY KEY,"
    "  email TEXT NOT NULL UNIQUE COLLATE NOCASE,"
    "  name TEXT NOT NULL,"
    "  pw_hash TEXT NOT NULL,"
    "  roles INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL"
    ") STRICT;"
    "CREATE TABLE sessions ("
    "  token_hash BLOB PRIMARY KEY,"
    "  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  csrf TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL"
    ") STRICT, WITHOUT ROWID;"
    "CREATE INDEX sessions_expiry ON sessions(expires_at);";

/* How often a session's "last seen" is written. */
#define SEEN_EVERY_S 60

#define USER_COLS                                                              \
    "id, email, name, pw_hash, roles, created_at, email_verified, "            \
    "notify_sales_digest, notify_reviews, unsub_token, deleted_at IS NOT NULL"

static void
user_row(sqlite3_stmt *st, struct acc_user *u)
{
    db_col_copy(st, 0, u->id, sizeof u->id);
    db_col_copy(st, 1, u->email, sizeof u->email);
    db_col_copy(st, 2, u->name, sizeof u->name);
    db_col_copy(st, 3, u->pw_hash, sizeof u->pw_hash);
    u->roles = (unsigned)sqlite3_column_int(st, 4);
    u->created_at = sqlite3_column_int64(st, 5);
    u->email_verified = sqlite3_column_int(st, 6);
    u->notify_sales_digest = sqlite3_column_int(st, 7);
    u->notify_reviews = sqlite3_column_int(st, 8);
    db_col_copy(st, 9, u->unsub_token, sizeof u->unsub_token);
    u->closed = sqlite3_column_int(st, 10);
}

/* Run a one-row lookup of users bound to a single text key. */
static int
user_lookup(struct db *db, const char *sql, const char *key,
            struct acc_user *out, char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(c, sql, &st, err);

    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        user_row(st, out);
        rc = DB_OK;
    } else if (rc == SQLITE_DONE) {
        snprintf(err, DB_ERR_LEN, "no such user");
        rc = DB_ENOTFOUND;
    } else {
        rc = db_fail(c, rc, "user lookup", err);
    }
out:
    sqlite3_finalize(st);
    db_conn_put(db, c);
    return rc;
}

int
acc_user_create(struct db *db, const char *email, const char *name,
                const char *pw_hash, unsigned roles, struct acc_user *out,
                char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(
        c,
        "INSERT INTO users(id, email, name, pw_hash, roles, created_at) "
        "VALUES ('u' || lower(hex(randomblob(8))), ?1, ?2, ?3, ?4, "
        "unixepoch()) RETURNING " USER_COLS,
        &st, err);

    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, email, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, pw_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, (int)roles);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        user_row(st, out);
        rc = DB_OK;
    } else if ((rc & 0xff) == SQLITE_CONSTRAINT) {
        snprintf(err, DB_ERR_LEN, "email already registered");
        rc = DB_ECONFLICT;
    } else {
        rc = db_fail(c, rc, "user insert", err);
    }
out:
    sqlite3_finalize(st);
    db_conn_put(db, c);
    return rc;
}

int
acc_user_find_email(struct db *db, const char *email, struct acc_user *out,
                    char err[DB_ERR_LEN])
{
    return user_lookup(db, "SELECT " USER_COLS " FROM users WHERE email = ?1",
                       email, out, err);
}

int
acc_user_get(struct db *db, const char *id, struct acc_user *out,
             char err[DB_ERR_LEN])
{
    return user_lookup(db, "SELECT " USER_COLS " FROM users WHERE id = ?1", id,
                       out, err);
}

/* One UPDATE of users bound to (text, id); DB_ENOTFOUND if no row moved. */
static int
user_update(struct db *db, const char *sql, sqlite3_int64 ival,
            const char *sval, const char *id, char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(c, sql, &st, err);

    if (rc != DB_OK)
        goto out;
    if (sval)
        sqlite3_bind_text(st, 1, sval, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(st, 1, ival);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    rc = db_step_change(c, st, "user", err);
out:
    sqlite3_finalize(st);
    db_conn_put(db, c);
    return rc;
}

int
acc_user_add_roles(struct db *db, const char *id, unsigned roles,
                   char err[DB_ERR_LEN])
{
    return user_update(db, "UPDATE users SET roles = roles | ?1 WHERE id = ?2",
                       roles, NULL, id, err);
}

int
acc_user_set_password(struct db *db, const char *id, const char *pw_hash,
                      char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    int rc = db_begin(c, err);

    if (rc != DB_OK)
        goto out;
    rc = db_prepare(c, "UPDATE users SET pw_hash = ?1 WHERE id = ?2", &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, pw_hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    rc = db_step_change(c, st, "user", err);
    sqlite3_finalize(st);
    st = NULL;
    if (rc != DB_OK)
        goto out;
    /* Whoever knew the old password may hold a session made with it. */
    rc = db_prepare(c, "DELETE FROM sessions WHERE user_id = ?1", &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        rc = db_fail(c, rc, "ending sessions", err);
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

int
acc_session_create(struct db *db, const unsigned char token_hash[32],
                   const char *user_id, const char *csrf, int64_t expires_at,
                   char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(
        c,
        "INSERT INTO sessions(token_hash, user_id, csrf, created_at, "
        "expires_at) VALUES (?1, ?2, ?3, unixepoch(), ?4)",
        &st, err);

    if (rc != DB_OK)
        goto out;
    sqlite3_bind_blob(st, 1, token_hash, 32, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, csrf, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, expires_at);
    rc = sqlite3_step(st);
    rc = rc == SQLITE_DONE ? DB_OK : db_fail(c, rc, "session insert", err);
out:
    sqlite3_finalize(st);
    db_conn_put(db, c);
    return rc;
}

int
acc_session_find(struct db *db, const unsigned char token_hash[32], int64_t now,
                 struct acc_user *user, char csrf[ACC_CSRF_LEN],
                 char err[DB_ERR_LEN])
{
    /* Every signed-in request asks: prepared once per connection. */
    static const char sql[] =
        "SELECT u.id, u.email, u.name, u.pw_hash, u.roles, u.created_at, "
        "u.email_verified, u.notify_sales_digest, u.notify_reviews, "
        "u.unsub_token, u.deleted_at IS NOT NULL, s.csrf, s.last_seen "
        "FROM sessions s "
        "JOIN users u ON u.id = s.user_id "
        "WHERE s.token_hash = ?1 AND s.expires_at > ?2";
    static const char touch[] =
        "UPDATE sessions SET last_seen = ?2 WHERE token_hash = ?1";
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    int rc = db_prepare_cached(db, c, sql, &st, err), stale = 0;

    if (rc != DB_OK)
        goto out;
    sqlite3_bind_blob(st, 1, token_hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        user_row(st, user);
        db_col_copy(st, 11, csrf, ACC_CSRF_LEN);
        stale = sqlite3_column_int64(st, 12) < now - SEEN_EVERY_S;
        rc = DB_OK;
    } else if (rc == SQLITE_DONE) {
        snprintf(err, DB_ERR_LEN, "no live session");
        rc = DB_ENOTFOUND;
    } else {
        rc = db_fail(c, rc, "session lookup", err);
    }
    db_stmt_done(db, c, st);
    st = NULL;
    /* "Last seen" is written at most once a minute per session, so a
     * signed-in reader does not turn every request into a write; a failed
     * touch costs nothing but accuracy. */
    if (rc == DB_OK && stale &&
        db_prepare_cached(db, c, touch, &st, NULL) == DB_OK) {
        sqlite3_bind_blob(st, 1, token_hash, 32, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, now);
        (void)sqlite3_step(st);
    }
out:
    if (st)
        db_stmt_done(db, c, st);
    db_conn_put(db, c);
    return rc;
}

int
acc_session_delete(struct db *db, const unsigned char token_hash[32],
                   char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    int rc =
        db_prepare(c, "DELETE FROM sessions WHERE token_hash = ?1", &st, err);

    if (rc != DB_OK)
        goto out;
    sqlite3_bind_blob(st, 1, token_hash, 32, SQLITE_STATIC);
    rc = sqlite3_step(st);
    rc = rc == SQLITE_DONE ? DB_OK : db_fail(c, rc, "session delete", err);
out:
    sqlite3_finalize(st);
    db_conn_put(db, c);
    return rc;
}

int
acc_sessions_purge(struct db *db, int64_t now, char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    int rc =
        db_prepare(c, "DELETE FROM sessions WHERE expires_at <= ?1", &st, err);

    if (rc != DB_OK)
        goto out;
    sqlite3_bind_int64(st, 1, now);
    rc = sqlite3_step(st);
    rc = rc == SQLITE_DONE ? sqlite3_changes(c)
                           : db_fail(c, rc, "session purge", err);
out:
    sqlite3_finalize(st);
    db_conn_put(db, c);
    return rc;
}
