/* Stockroom — passwords, tokens and the log-in limiter. */
#include <ctype.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"

#define LIMIT_SLOTS 4096
#define LIMIT_PROBE 8

struct limit_slot {
    uint64_t key; /* 0: free */
    int64_t window_start;
    int count;
};

struct auth {
    const struct config *cfg;
    pthread_mutex_t lock;
    pthread_cond_t hash_done;
    int hashing;                        /* Argon2 runs in progress */
    char dummy[crypto_pwhash_STRBYTES]; /* verified against for unknowns */
    struct limit_slot slots[LIMIT_SLOTS];
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

/* ---- failed log-in limiter -------------------------------------------- */

static uint64_t
limit_key(char kind, const char *s)
{
    unsigned char h[8];
    char buf[320];
    size_t n = 0;
    uint64_t k = 0;

    buf[n++] = kind;
    for (; *s && n < sizeof buf; s++)
        buf[n++] = (char)tolower((unsigned char)*s);
    crypto_generichash(h, sizeof h, (const unsigned char *)buf, n, NULL, 0);
    memcpy(&k, h, sizeof k);
    return k ? k : 1;
}

/* Find key's slot, or claim the stalest probed one. Lock held. */
static struct limit_slot *
limit_slot(struct auth *a, uint64_t key, int64_t now)
{
    struct limit_slot *oldest = NULL;

    for (int i = 0; i < LIMIT_PROBE; i++) {
        struct limit_slot *s = &a->slots[(key + (uint64_t)i) % LIMIT_SLOTS];

        if (s->key == key) {
            if (now - s->window_start >= a->cfg->login_window_s) {
                s->window_start = now;
                s->count = 0;
            }
            return s;
        }
        if (!oldest || s->key == 0 || s->window_start < oldest->window_start)
            oldest = s;
    }
    oldest->key = key;
    oldest->window_start = now;
    oldest->count = 0;
    return oldest;
}

static int
limit_wait(struct auth *a, struct limit_slot *s, int max, int64_t now)
{
    if (s->count < max)
        return 0;
    return (int)(s->window_start + a->cfg->login_window_s - now);
}

int
auth_login_wait(struct auth *a, const char *email, const char *client)
{
    int64_t now = (int64_t)time(NULL);
    int w1, w2;

    pthread_mutex_lock(&a->lock);
    w1 = limit_wait(a, limit_slot(a, limit_key('a', email), now),
                    a->cfg->login_fail_account, now);
    w2 = limit_wait(a, limit_slot(a, limit_key('c', client), now),
                    a->cfg->login_fail_client, now);
    pthread_mutex_unlock(&a->lock);
    return w1 > w2 ? w1 : w2;
}

void
auth_login_failed(struct auth *a, const char *email, const char *client)
{
    int64_t now = (int64_t)time(NULL);

    pthread_mutex_lock(&a->lock);
    limit_slot(a, limit_key('a', email), now)->count++;
    limit_slot(a, limit_key('c', client), now)->count++;
    pthread_mutex_unlock(&a->lock);
}

void
auth_login_ok(struct auth *a, const char *email)
{
    int64_t now = (int64_t)time(NULL);

    pthread_mutex_lock(&a->lock);
    limit_slot(a, limit_key('a', email), now)->count = 0;
    pthread_mutex_unlock(&a->lock);
}
