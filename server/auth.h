/* Stockroom — authentication: Argon2id password hashes (a bounded number at
 * once), random session tokens stored only as hashes, constant-time
 * compares. The failed sign-in limiter is limiter.h. */
#ifndef STOCKROOM_AUTH_H
#define STOCKROOM_AUTH_H

#include <stdint.h>

#include "accounts.h"
#include "config.h"

#define AUTH_COOKIE "sr_session"
#define AUTH_TOKEN_LEN 64 /* base64url text of 32 random bytes */

struct auth;
struct db;

/* Set up libsodium. Caller owns *out (auth_free). */
int auth_new(const struct config *cfg, struct auth **out);
void auth_free(struct auth *a);

/* Hash a password with Argon2id into out; blocks while argon_parallel
 * hashes are already running, so a burst cannot exhaust memory. */
int auth_hash_password(struct auth *a, const char *pw, char out[ACC_HASH_LEN]);

/* 0 when pw matches hash. Costs as much when hash is NULL (unknown
 * account), so timing does not tell which emails exist. */
int auth_check_password(struct auth *a, const char *hash, const char *pw);

/* Make a new session token (text for the client) and its stored hash. */
void auth_new_token(char token[AUTH_TOKEN_LEN], unsigned char hash[32]);
void auth_token_hash(const char *token, unsigned char hash[32]);

/* Random text for CSRF tokens. */
void auth_random_text(char *out, size_t len);

/* Constant-time equality of two NUL-terminated strings. */
int auth_token_equal(const char *a, const char *b);

/* Resolve a token to its user and CSRF token; 0 or -1. */
int auth_session_user(struct auth *a, struct db *db, const char *token,
                      struct acc_user *user, char csrf[ACC_CSRF_LEN]);

#endif
