/* Stockroom — the account flows that go through mail: verification,
 * password resets, email changes, notification settings, sessions as the
 * account sees them, closing an account and exporting it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "dbint.h"
#include "outboxint.h"

/* Accounts that exist when this lands count as verified (the default of
 * 1); sign-up over HTTP stores 0. Sessions get an opaque id of their own,
 * since the token hash must never leave the server. */
const char db_schema_acc_mail[] =
    "ALTER TABLE users ADD COLUMN email_verified INTEGER NOT NULL DEFAULT 1"
    "  CHECK (email_verified IN (0, 1));"
    "ALTER TABLE users ADD COLUMN notify_sales_digest INTEGER NOT NULL"
    "  DEFAULT 0 CHECK (notify_sales_digest IN (0, 1));"
    "ALTER TABLE users ADD COLUMN notify_reviews INTEGER NOT NULL DEFAULT 1"
    "  CHECK (notify_reviews IN (0, 1));"
    "ALTER TABLE users ADD COLUMN digest_at INTEGER;"
    "ALTER TABLE users ADD COLUMN deleted_at INTEGER;"
    "ALTER TABLE users ADD COLUMN unsub_token TEXT;"
    "UPDATE users SET unsub_token = lower(hex(randomblob(16)));"
    "CREATE UNIQUE INDEX users_unsub ON users(unsub_token);"
    "CREATE TRIGGER users_unsub_token AFTER INSERT ON users"
    "  WHEN NEW.unsub_token IS NULL BEGIN"
    "  UPDATE users SET unsub_token = lower(hex(randomblob(16)))"
    "  WHERE id = NEW.id;"
    " END;"

    "ALTER TABLE sessions ADD COLUMN id TEXT;"
    "ALTER TABLE sessions ADD COLUMN last_seen INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE sessions ADD COLUMN client TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';"
    "UPDATE sessions SET id = 's' || lower(hex(randomblob(8))),"
    "  last_seen = created_at;"
    "CREATE UNIQUE INDEX sessions_id ON sessions(id);"
    "CREATE INDEX sessions_user ON sessions(user_id);"
    "CREATE TRIGGER sessions_new_id AFTER INSERT ON sessions"
    "  WHEN NEW.id IS NULL BEGIN"
    "  UPDATE sessions SET id = 's' || lower(hex(randomblob(8))),"
    "    last_seen = NEW.created_at WHERE token_hash = NEW.token_hash;"
    " END;"

    "CREATE TABLE email_tokens ("
    "  hash BLOB PRIMARY KEY,"
    "  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  kind TEXT NOT NULL CHECK (kind IN ('verify', 'reset')),"
    "  email TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL,"
    "  used_at INTEGER"
    ") STRICT, WITHOUT ROWID;"
    "CREATE INDEX email_tokens_user ON email_tokens(user_id, kind,"
    "  created_at);";

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

/* Read one user by id on c (inside a transaction). */
static int
user_read(sqlite3 *c, const char *id, struct acc_user *out,
          char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(c, "SELECT " USER_COLS " FROM users WHERE id = ?1", &st,
                        err);

    if (rc != DB_OK)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        user_row(st, out);
        rc = DB_OK;
    } else if (rc == SQLITE_DONE) {
        snprintf(err, DB_ERR_LEN, "no such user");
        rc = DB_ENOTFOUND;
    } else {
        rc = db_fail(c, rc, "user read", err);
    }
    sqlite3_finalize(st);
    return rc;
}

/* Run sql binding ?1 to text a and ?2 to text b (either may be NULL). */
static int
exec2(sqlite3 *c, const char *sql, const char *a, const char *b,
      char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(c, sql, &st, err);

    if (rc != DB_OK)
        return rc;
    if (a)
        sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
    if (b)
        sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    rc = rc == SQLITE_DONE ? DB_OK : db_fail(c, rc, "update", err);
    sqlite3_finalize(st);
    return rc;
}

static int
token_insert(sqlite3 *c, const unsigned char hash[32], const char *user_id,
             const char *kind, const char *email, int64_t expires_at,
             char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(c,
                        "INSERT INTO email_tokens(hash, user_id, kind, email, "
                        "created_at, expires_at) VALUES (?1, ?2, ?3, ?4, "
                        "unixepoch(), ?5)",
                        &st, err);

    if (rc != DB_OK)
        return rc;
    sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, email, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, expires_at);
    rc = sqlite3_step(st);
    rc = rc == SQLITE_DONE ? DB_OK : db_fail(c, rc, "token insert", err);
    sqlite3_finalize(st);
    return rc;
}

static int
mails_queue(sqlite3 *c, const char *user_id, const char *addr,
            const struct acc_mail *mails, int n, char err[DB_ERR_LEN])
{
    int rc = DB_OK;

    for (int i = 0; i < n && rc == DB_OK; i++)
        rc = outbox__insert(c, mails[i].kind, user_id,
                            mails[i].to ? mails[i].to : addr, mails[i].params,
                            err);
    return rc;
}

int
acc_signup(struct db *db, const char *email, const char *name,
           const char *pw_hash, unsigned roles,
           const unsigned char token_hash[32], int64_t expires_at,
           const struct acc_mail *mail, struct acc_user *out,
           char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    struct acc_user u;
    int rc = db_begin(c, err);

    if (rc != DB_OK)
        goto out;
    rc = db_prepare(c,
                    "INSERT INTO users(id, email, name, pw_hash, roles, "
                    "created_at, email_verified) VALUES ('u' || "
                    "lower(hex(randomblob(8))), ?1, ?2, ?3, ?4, unixepoch(), "
                    "0) RETURNING id",
                    &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, email, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, pw_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, (int)roles);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        db_col_copy(st, 0, u.id, sizeof u.id);
        rc = DB_OK;
    } else if ((rc & 0xff) == SQLITE_CONSTRAINT) {
        snprintf(err, DB_ERR_LEN, "email already registered");
        rc = DB_ECONFLICT;
    } else {
        rc = db_fail(c, rc, "user insert", err);
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc != DB_OK)
        goto out;
    rc = token_insert(c, token_hash, u.id, ACC_TOKEN_VERIFY, email, expires_at,
                      err);
    if (rc == DB_OK)
        rc = mails_queue(c, u.id, email, mail, 1, err);
    if (rc == DB_OK)
        rc = user_read(c, u.id, &u, err);
    if (rc == DB_OK)
        rc = db_commit(c, err);
out:
    if (rc != DB_OK)
        db_rollback(c);
    else
        *out = u;
    db_conn_put(db, c);
    return rc;
}

int
acc_token_issue(struct db *db, const char *user_id, const char *kind,
                const char *email, const unsigned char token_hash[32],
                int64_t expires_at, int max_per_hour,
                const struct acc_mail *mails, int n, char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    int rc = db_begin(c, err);

    if (rc != DB_OK)
        goto out;
    rc = db_prepare(c,
                    "SELECT count(*) FROM email_tokens WHERE user_id = ?1 "
                    "AND kind = ?2 AND created_at > unixepoch() - 3600",
                    &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        rc = db_fail(c, rc, "token count", err);
        goto out;
    }
    if (sqlite3_column_int(st, 0) >= max_per_hour) {
        snprintf(err, DB_ERR_LEN, "too many %s links this hour", kind);
        rc = DB_ELIMIT;
        goto out;
    }
    rc = token_insert(c, token_hash, user_id, kind, email, expires_at, err);
    if (rc == DB_OK)
        rc = mails_queue(c, user_id, email, mails, n, err);
    if (rc == DB_OK)
        rc = db_commit(c, err);
out:
    sqlite3_finalize(st);
    if (rc != DB_OK)
        db_rollback(c);
    db_conn_put(db, c);
    return rc;
}

/* Find token hash of kind on c and mark it used at now; its account and
 * address into user_id and email. */
static int
token_take(sqlite3 *c, const unsigned char hash[32], const char *kind,
           int64_t now, char user_id[ACC_ID_LEN], char email[ACC_EMAIL_LEN],
           char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(c,
                        "SELECT user_id, email, used_at IS NOT NULL, "
                        "expires_at <= ?3 FROM email_tokens WHERE hash = ?1 "
                        "AND kind = ?2",
                        &st, err);

    if (rc != DB_OK)
        return rc;
    sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        snprintf(err, DB_ERR_LEN, "no such link");
        rc = DB_ENOTFOUND;
    } else if (rc != SQLITE_ROW) {
        rc = db_fail(c, rc, "token lookup", err);
    } else if (sqlite3_column_int(st, 2)) {
        snprintf(err, DB_ERR_LEN, "this link was already used");
        rc = DB_EGONE;
    } else if (sqlite3_column_int(st, 3)) {
        snprintf(err, DB_ERR_LEN, "this link has expired");
        rc = DB_EGONE;
    } else {
        db_col_copy(st, 0, user_id, ACC_ID_LEN);
        db_col_copy(st, 1, email, ACC_EMAIL_LEN);
        rc = DB_OK;
    }
    sqlite3_finalize(st);
    if (rc != DB_OK)
        return rc;
    rc = db_prepare(c, "UPDATE email_tokens SET used_at = ?2 WHERE hash = ?1",
                    &st, err);
    if (rc != DB_OK)
        return rc;
    sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    rc = sqlite3_step(st);
    rc = rc == SQLITE_DONE ? DB_OK : db_fail(c, rc, "token use", err);
    sqlite3_finalize(st);
    return rc;
}

int
acc_verify_use(struct db *db, const unsigned char token_hash[32], int64_t now,
               struct acc_user *out, char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    char uid[ACC_ID_LEN], email[ACC_EMAIL_LEN];
    struct acc_user u;
    int rc = db_begin(c, err);

    if (rc == DB_OK)
        rc = token_take(c, token_hash, ACC_TOKEN_VERIFY, now, uid, email, err);
    /* The address changes only now, when the new one proved it works. */
    if (rc == DB_OK)
        rc = exec2(c,
                   "UPDATE users SET email = ?2, email_verified = 1 "
                   "WHERE id = ?1 AND deleted_at IS NULL",
                   uid, email, err);
    if (rc == DB_ECONFLICT)
        snprintf(err, DB_ERR_LEN,
                 "the address is now used by another "
                 "account");
    if (rc == DB_OK)
        rc = user_read(c, uid, &u, err);
    if (rc == DB_OK)
        rc = db_commit(c, err);
    if (rc != DB_OK)
        db_rollback(c);
    else
        *out = u;
    db_conn_put(db, c);
    return rc;
}

int
acc_reset_use(struct db *db, const unsigned char token_hash[32], int64_t now,
              const char *pw_hash, const struct acc_mail *notice,
              struct acc_user *out, char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    char uid[ACC_ID_LEN], email[ACC_EMAIL_LEN];
    struct acc_user u;
    int rc = db_begin(c, err);

    if (rc == DB_OK)
        rc = token_take(c, token_hash, ACC_TOKEN_RESET, now, uid, email, err);
    if (rc == DB_OK)
        rc = exec2(c, "UPDATE users SET pw_hash = ?2 WHERE id = ?1", uid,
                   pw_hash, err);
    /* Every session ends: whoever had the old password is out. Other reset
     * links die too, so an older mail cannot undo this one. */
    if (rc == DB_OK)
        rc =
            exec2(c, "DELETE FROM sessions WHERE user_id = ?1", uid, NULL, err);
    if (rc == DB_OK)
        rc = exec2(c,
                   "UPDATE email_tokens SET used_at = unixepoch() WHERE "
                   "user_id = ?1 AND kind = 'reset' AND used_at IS NULL",
                   uid, NULL, err);
    if (rc == DB_OK)
        rc = user_read(c, uid, &u, err);
    if (rc == DB_OK && notice)
        rc = mails_queue(c, uid, u.email, notice, 1, err);
    if (rc == DB_OK)
        rc = db_commit(c, err);
    if (rc != DB_OK)
        db_rollback(c);
    else
        *out = u;
    db_conn_put(db, c);
    return rc;
}

int
acc_password_change(struct db *db, const char *user_id, const char *pw_hash,
                    const unsigned char *keep, const struct acc_mail *notice,
                    char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    struct acc_user u;
    int rc = db_begin(c, err);

    if (rc == DB_OK)
        rc = exec2(c, "UPDATE users SET pw_hash = ?2 WHERE id = ?1", user_id,
                   pw_hash, err);
    if (rc == DB_OK)
        rc = db_prepare(c,
                        "DELETE FROM sessions WHERE user_id = ?1 AND "
                        "(?2 IS NULL OR token_hash <> ?2)",
                        &st, err);
    if (rc == DB_OK) {
        sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
        if (keep)
            sqlite3_bind_blob(st, 2, keep, 32, SQLITE_STATIC);
        rc = sqlite3_step(st);
        rc = rc == SQLITE_DONE ? DB_OK : db_fail(c, rc, "sessions end", err);
    }
    if (rc == DB_OK && notice)
        rc = user_read(c, user_id, &u, err);
    if (rc == DB_OK && notice)
        rc = mails_queue(c, user_id, u.email, notice, 1, err);
    if (rc == DB_OK)
        rc = db_commit(c, err);
    sqlite3_finalize(st);
    if (rc != DB_OK)
        db_rollback(c);
    db_conn_put(db, c);
    return rc;
}

int
acc_notify_set(struct db *db, const char *user_id, int sales_digest,
               int reviews, char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(
        c,
        "UPDATE users SET "
        "digest_at = CASE WHEN ?2 = 1 AND notify_sales_digest = 0 "
        "  THEN unixepoch() - 1 ELSE digest_at END, "
        "notify_sales_digest = CASE WHEN ?2 < 0 THEN notify_sales_digest "
        "  ELSE ?2 END, "
        "notify_reviews = CASE WHEN ?3 < 0 THEN notify_reviews ELSE ?3 END "
        "WHERE id = ?1",
        &st, err);

    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, sales_digest);
    sqlite3_bind_int(st, 3, reviews);
    rc = db_step_change(c, st, "user", err);
out:
    sqlite3_finalize(st);
    db_conn_put(db, c);
    return rc;
}

int
acc_unsubscribe(struct db *db, const char *unsub_token, char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(c,
                        "UPDATE users SET notify_sales_digest = 0, "
                        "notify_reviews = 0 WHERE unsub_token = ?1",
                        &st, err);

    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, unsub_token, -1, SQLITE_STATIC);
    rc = db_step_change(c, st, "subscription", err);
out:
    sqlite3_finalize(st);
    db_conn_put(db, c);
    return rc;
}

int
acc_user_close(struct db *db, const char *user_id, char err[DB_ERR_LEN])
{
    /* Multi-line entries in parentheses: one string each, not a missing
     * comma (clang's -Wstring-concatenation). */
    static const char *const steps[] = {
        "DELETE FROM sessions WHERE user_id = ?1",
        "DELETE FROM email_tokens WHERE user_id = ?1",
        /* The pseudonymous id stays for the ledger; nothing else that
         * names the person does. An address nobody can own keeps the
         * UNIQUE column satisfied, and '!' is no password hash. First, so
         * that no trigger below queues mail to the account. */
        ("UPDATE users SET email = id || '@closed.invalid', name = '', "
         "  pw_hash = '!', email_verified = 0, notify_sales_digest = 0, "
         "  notify_reviews = 0, deleted_at = unixepoch() WHERE id = ?1"),
        /* Off sale: the contributor's photos leave the catalogue through
         * the states it already knows; licences bought keep their files. */
        ("UPDATE images SET status = 'rejected', reject_code = "
         "  'account_closed', reject_reason = 'The contributor closed their "
         "account.' WHERE contributor_id = ?1 AND status IN ('approved', "
         "  'pending_review')"),
        "DELETE FROM lightboxes WHERE owner_id = ?1",
        /* Mail not yet sent to the account is dropped; mail already sent
         * keeps its row for the record, without the address. */
        ("UPDATE outbox SET status = 'failed', last_error = 'account "
         "closed', params = '{}' WHERE user_id = ?1 AND status = 'queued'"),
        "UPDATE outbox SET to_addr = '' WHERE user_id = ?1",
    };
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    int rc = db_begin(c, err);

    if (rc != DB_OK)
        goto out;
    rc = db_prepare(c,
                    "SELECT EXISTS (SELECT 1 FROM accounts WHERE owner = ?1 "
                    "AND kind = 'payable' AND balance > 0) OR EXISTS (SELECT "
                    "1 FROM payouts WHERE contributor_id = ?1 AND status = "
                    "'requested')",
                    &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        rc = db_fail(c, rc, "balance check", err);
        goto out;
    }
    if (sqlite3_column_int(st, 0)) {
        snprintf(err, DB_ERR_LEN, "money is waiting to be paid out");
        rc = DB_EFUNDS;
        goto out;
    }
    rc = DB_OK;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0] && rc == DB_OK; i++)
        rc = exec2(c, steps[i], user_id, NULL, err);
    if (rc == DB_OK)
        rc = db_commit(c, err);
out:
    sqlite3_finalize(st);
    if (rc != DB_OK)
        db_rollback(c);
    db_conn_put(db, c);
    return rc;
}
