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
    int64_t created_at; /* unix seconds */
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

#endif
