/* Stockroom — passwords and tokens. */
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"

struct auth {
    const struct config *cfg;
    pthread_mutex_t lock;
    pthread_cond_t hash_done;
    int hashing;                        /* Argon2 runs in progress */
    char dummy[crypto_pwhash_STRBYTES]; /* verified against for unknowns */
};

int
auth_new(const struct config *cfg, struct auth **out)
{
    struct auth *a;

    if (sodium_init() < 0)
        return -1;
    a = calloc(1, sizeof *a);
    if (!a)
        return -1;
    a->cfg = cfg;
    pthread_mutex_init(&a->lock, NULL);
    pthread_cond_init(&a->hash_done, NULL);
    *out = a;
    return 0;
}

void
auth_free(struct auth *a)
{
    if (!a)
        return;
    pthread_cond_destroy(&a->hash_done);
    pthread_mutex_destroy(&a->lock);
    free(a);
}

static void
hash_slot_take(struct auth *a)
{
    pthread_mutex_lock(&a->lock);
    while (a->hashing >= a->cfg->argon_parallel)
        pthread_cond_wait(&a->hash_done, &a->lock);
    a->hashing++;
    pthread_mutex_unlock(&a->lock);
}

static void
hash_slot_give(struct auth *a)
{
    pthread_mutex_lock(&a->lock);
    a->hashing--;
    pthread_cond_signal(&a->hash_done);
    pthread_mutex_unlock(&a->lock);
}

int
auth_hash_password(struct auth *a, const char *pw, char out[ACC_HASH_LEN])
{
    char hash[crypto_pwhash_STRBYTES];
    int rc;

    hash_slot_take(a);
    rc = crypto_pwhash_str(hash, pw, strlen(pw),
                           crypto_pwhash_OPSLIMIT_INTERACTIVE,
                           crypto_pwhash_MEMLIMIT_INTERACTIVE);
    hash_slot_give(a);
    if (rc != 0 || strlen(hash) >= ACC_HASH_LEN)
        return -1;
    memcpy(out, hash, strlen(hash) + 1);
    return 0;
}

int
auth_check_password(struct auth *a, const char *hash, const char *pw)
{
    int rc;

    if (!hash) {
        /* Made once, on the first unknown email; the lock keeps two
         * threads from making it at the same time. */
        pthread_mutex_lock(&a->lock);
        if (!a->dummy[0]) {
            char pwd[32];

            auth_random_text(pwd, sizeof pwd);
            if (crypto_pwhash_str(a->dummy, pwd, strlen(pwd),
                                  crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                  crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
                a->dummy[0] = '\0';
        }
        pthread_mutex_unlock(&a->lock);
        hash = a->dummy;
    }
    hash_slot_take(a);
    rc = crypto_pwhash_str_verify(hash, pw, strlen(pw));
    hash_slot_give(a);
    return rc == 0 && hash != a->dummy ? 0 : -1;
}

void
auth_token_hash(const char *token, unsigned char hash[32])
{
    crypto_generichash(hash, 32, (const unsigned char *)token, strlen(token),
                       NULL, 0);
}

void
auth_new_token(char token[AUTH_TOKEN_LEN], unsigned char hash[32])
{
    unsigned char raw[32];

    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(token, AUTH_TOKEN_LEN, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    auth_token_hash(token, hash);
    sodium_memzero(raw, sizeof raw);
}

void
auth_random_text(char *out, size_t len)
{
    unsigned char raw[24];
    size_t need = (len - 1) * 3 / 4; /* room for the NUL */

    if (need > sizeof raw)
        need = sizeof raw;
    randombytes_buf(raw, need);
    sodium_bin2base64(out, len, raw, need,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

int
auth_token_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);

    if (la != lb || la == 0)
        return 0;
    return sodium_memcmp(a, b, la) == 0;
}

int
auth_session_user(struct auth *a, struct db *db, const char *token,
                  struct acc_user *user, char csrf[ACC_CSRF_LEN])
{
    unsigned char hash[32];
    char err[DB_ERR_LEN];

    (void)a;
    if (strlen(token) >= AUTH_TOKEN_LEN)
        return -1;
    auth_token_hash(token, hash);
    return acc_session_find(db, hash, (int64_t)time(NULL), user, csrf, err) ==
                   DB_OK
               ? 0
               : -1;
}
