/* Stockroom — accounts and sessions in SQLite. Password hashing and token
 * generation happen in the caller: this module stores what it is given. */
#ifndef STOCKROOM_ACCOUNTS_H
#define STOCKROOM_ACCOUNTS_H

#include <stdint.h>

#include "db.h"

#define ACC_ID_LEN 24
#define ACC_EMAIL_LEN 256
#define ACC_NAME_LEN 128
#define ACC_HASH_LEN 128 /* an Argon2id string fits with room */
#define ACC_CSRF_LEN 48

/* Roles, as bits; a new user is buyer and contributor. */
enum {
    ACC_ROLE_BUYER = 1,
    ACC_ROLE_CONTRIBUTOR = 2,
    ACC_ROLE_REVIEWER = 4,
    ACC_ROLE_ADMIN = 8
};

struct acc_user {
    char id[ACC_ID_LEN];
    char email[ACC_EMAIL_LEN];
    char name[ACC_NAME_LEN];
    char pw_hash[ACC_HASH_LEN];
    unsigned roles;
    int64_t created_at;      /* unix seconds */
    int email_verified;      /* the address proved it receives mail */
    int notify_sales_digest; /* a daily digest of sales (off by default) */
    int notify_reviews;      /* a notice when a photo is reviewed */
    char unsub_token[40];    /* one-click unsubscribe, no sign-in */
    int closed;              /* the account was closed (acc_user_close) */
};

/* Users. */

/* Insert a user; the id is made here. DB_ECONFLICT when the email (compared
 * case-insensitively) is taken. On success *out holds the stored row. */
int acc_user_create(struct db *db, const char *email, const char *name,
                    const char *pw_hash, unsigned roles, struct acc_user *out,
                    char err[DB_ERR_LEN]) DB_WUR;

/* Look a user up by email (any case) or by id. DB_ENOTFOUND if absent. */
int acc_user_find_email(struct db *db, const char *email, struct acc_user *out,
                        char err[DB_ERR_LEN]) DB_WUR;
int acc_user_get(struct db *db, const char *id, struct acc_user *out,
                 char err[DB_ERR_LEN]) DB_WUR;

/* Add role bits to an existing user, or set the password hash (which ends
 * every session of the user, in the same transaction). */
int acc_user_add_roles(struct db *db, const char *id, unsigned roles,
                       char err[DB_ERR_LEN]) DB_WUR;
int acc_user_set_password(struct db *db, const char *id, const char *pw_hash,
                          char err[DB_ERR_LEN]) DB_WUR;

/* Sessions. token_hash is a 32-byte digest of the bearer token: the token
 * itself is never stored. */

int acc_session_create(struct db *db, const unsigned char token_hash[32],
                       const char *user_id, const char *csrf,
                       int64_t expires_at, char err[DB_ERR_LEN]) DB_WUR;

/* Find the live session for token_hash at time now: fills the user and the
 * session's CSRF token. DB_ENOTFOUND when unknown or expired. */
int acc_session_find(struct db *db, const unsigned char token_hash[32],
                     int64_t now, struct acc_user *user,
                     char csrf[ACC_CSRF_LEN], char err[DB_ERR_LEN]) DB_WUR;

int acc_session_delete(struct db *db, const unsigned char token_hash[32],
                       char err[DB_ERR_LEN]) DB_WUR;

/* Remove sessions that expired before now; returns how many or < 0. */
int acc_sessions_purge(struct db *db, int64_t now, char err[DB_ERR_LEN]);

/* Mail-backed account flows (acc_mail.c). Tokens are 32-byte digests of
 * link tokens the caller made; the link token itself is only in the queued
 * message, which the outbox erases once sent. */

#define ACC_TOKEN_VERIFY "verify"
#define ACC_TOKEN_RESET "reset"

/* A message to queue in the same transaction: kind and parameters (JSON
 * object text) as outbox_add; to NULL means the address concerned. */
struct acc_mail {
    const char *kind;
    const char *to;
    const char *params;
};

/* Create an account whose address is not yet verified, its verification
 * token and the message carrying it, in one transaction. Errors as
 * acc_user_create. */
int acc_signup(struct db *db, const char *email, const char *name,
               const char *pw_hash, unsigned roles,
               const unsigned char token_hash[32], int64_t expires_at,
               const struct acc_mail *mail, struct acc_user *out,
               char err[DB_ERR_LEN]) DB_WUR;

/* Issue a token of kind for user_id proving address email, queueing the n
 * mails with it. DB_ELIMIT when the account already got max_per_hour
 * tokens of that kind in the last hour (nothing is queued). */
int acc_token_issue(struct db *db, const char *user_id, const char *kind,
                    const char *email, const unsigned char token_hash[32],
                    int64_t expires_at, int max_per_hour,
                    const struct acc_mail *mails, int n,
                    char err[DB_ERR_LEN]) DB_WUR;

/* Use a verification token at now: marks the address verified, and moves
 * the account to the token's address when it is a new one. DB_ENOTFOUND
 * unknown, DB_EGONE used or expired, DB_ECONFLICT the new address was
 * taken meanwhile. *out is the account afterwards. */
int acc_verify_use(struct db *db, const unsigned char token_hash[32],
                   int64_t now, struct acc_user *out,
                   char err[DB_ERR_LEN]) DB_WUR;

/* Use a reset token at now: sets pw_hash, ends every session of the
 * account and queues notice (to NULL: the account's address). Errors as
 * acc_verify_use. */
int acc_reset_use(struct db *db, const unsigned char token_hash[32],
                  int64_t now, const char *pw_hash,
                  const struct acc_mail *notice, struct acc_user *out,
                  char err[DB_ERR_LEN]) DB_WUR;

/* Set a new password and end every session but keep (may be NULL: all),
 * queueing notice when not NULL. */
int acc_password_change(struct db *db, const char *user_id, const char *pw_hash,
                        const unsigned char *keep,
                        const struct acc_mail *notice,
                        char err[DB_ERR_LEN]) DB_WUR;

/* Notification settings; a value < 0 leaves that one as it is. Turning
 * the digest on starts its window now. */
int acc_notify_set(struct db *db, const char *user_id, int sales_digest,
                   int reviews, char err[DB_ERR_LEN]) DB_WUR;

/* Turn every optional notice off for the account holding the unsubscribe
 * token. DB_ENOTFOUND when unknown. */
int acc_unsubscribe(struct db *db, const char *unsub_token,
                    char err[DB_ERR_LEN]) DB_WUR;

/* Close an account: sessions and tokens gone, email and name erased, mail
 * to it dropped, its approved photos taken off sale. The ledger keeps its
 * entries under the id. DB_EFUNDS while royalties wait to be paid out or
 * a payout is in flight. */
int acc_user_close(struct db *db, const char *user_id,
                   char err[DB_ERR_LEN]) DB_WUR;

/* Sessions as the account sees them. */
struct acc_session {
    char id[24];
    int64_t created_at, last_seen, expires_at;
    char client[64];
    char user_agent[256];
    int current; /* its token hash is the one asked about */
};

/* Record where a new session came from. */
int acc_session_describe(struct db *db, const unsigned char token_hash[32],
                         const char *client, const char *user_agent,
                         char err[DB_ERR_LEN]) DB_WUR;

/* The live sessions of user_id at now, newest first; current marks the
 * one whose hash is current. *out is a heap array of *n (free()). */
int acc_sessions_list(struct db *db, const char *user_id,
                      const unsigned char current[32], int64_t now,
                      struct acc_session **out, int *n,
                      char err[DB_ERR_LEN]) DB_WUR;

/* End session id of user_id (DB_ENOTFOUND when it is not theirs), or
 * every session of user_id but keep. */
int acc_session_end(struct db *db, const char *user_id, const char *id,
                    char err[DB_ERR_LEN]) DB_WUR;
int acc_sessions_end_others(struct db *db, const char *user_id,
                            const unsigned char keep[32],
                            char err[DB_ERR_LEN]) DB_WUR;

/* Export: every row Stockroom holds about user_id, section by section.
 * cb gets the section name ("profile", "sessions", "images", ...), the
 * column names and the row's values (NULL for SQL NULL; ints flagged in
 * is_int as text digits); a section with no rows calls cb with ncol 0
 * once so it still appears. A non-zero return from cb stops with
 * DB_EGENERIC. */
typedef int (*acc_export_fn)(void *arg, const char *section, int ncol,
                             const char *const *names,
                             const char *const *values, const int *is_int);
int acc_export(struct db *db, const char *user_id, acc_export_fn cb, void *arg,
               char err[DB_ERR_LEN]) DB_WUR;

#endif
