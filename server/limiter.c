/* Stockroom — the failed sign-in limiter. */
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "limiter.h"

#define PROBE 32       /* slots a key may live in */
#define FIRST_CAP 4096 /* slots before the first growth */

enum { K_PAIR, K_ACCOUNT, K_CLIENT, N_KINDS };

struct entry {
    uint64_t key; /* 0: never used */
    int64_t start;
    int count;
};

struct limiter {
    pthread_mutex_t lock;
    unsigned char secret[crypto_shorthash_KEYBYTES];
    int window_s;
    int max[N_KINDS];
    size_t cap;   /* slots, a power of two */
    size_t bound; /* the table grows up to this many slots */
    size_t used;  /* slots with a key, live or not */
    struct entry *e;
};

int
limiter_new(const struct config *cfg, struct limiter **out)
{
    struct limiter *l;

    if (sodium_init() < 0)
        return -1;
    l = calloc(1, sizeof *l);
    if (!l)
        return -1;
    randombytes_buf(l->secret, sizeof l->secret);
    l->window_s = cfg->login_window_s;
    l->max[K_PAIR] = cfg->login_fail_pair;
    l->max[K_ACCOUNT] = cfg->login_fail_account;
    l->max[K_CLIENT] = cfg->login_fail_client;
    for (l->bound = PROBE; l->bound * 2 <= (size_t)cfg->login_table;)
        l->bound *= 2;
    l->cap = l->bound < FIRST_CAP ? l->bound : FIRST_CAP;
    l->e = calloc(l->cap, sizeof *l->e);
    if (!l->e) {
        free(l);
        return -1;
    }
    pthread_mutex_init(&l->lock, NULL);
    *out = l;
    return 0;
}

void
limiter_free(struct limiter *l)
{
    if (!l)
        return;
    pthread_mutex_destroy(&l->lock);
    sodium_memzero(l->secret, sizeof l->secret);
    free(l->e);
    free(l);
}

/* SipHash with the start-up secret: a client cannot choose emails that
 * land where another's count lives. */
static uint64_t
key_of(const struct limiter *l, int kind, const char *email, const char *client)
{
    unsigned char buf[512], h[crypto_shorthash_BYTES];
    size_t n = 0, el = kind == K_CLIENT ? 0 : strlen(email);
    size_t cl = kind == K_ACCOUNT ? 0 : strlen(client);
    uint64_t k;

    buf[n++] = (unsigned char)kind;
    if (el > 300)
        el = 300;
    if (cl > 100)
        cl = 100;
    memcpy(buf + n, email, el);
    n += el;
    buf[n++] = '\0';
    memcpy(buf + n, client, cl);
    n += cl;
    crypto_shorthash(h, buf, n, l->secret);
    memcpy(&k, h, sizeof k);
    return k ? k : 1;
}

static int
live(const struct limiter *l, const struct entry *e, int64_t now)
{
    return e->key && now - e->start < l->window_s;
}

/* The live entry of key, or NULL; *room gets a slot it could take (a free
 * or expired one), or NULL when its whole neighbourhood is live. Lock
 * held. */
static struct entry *
find(struct limiter *l, uint64_t key, int64_t now, struct entry **room)
{
    struct entry *hit = NULL;

    *room = NULL;
    for (size_t i = 0; i < PROBE; i++) {
        struct entry *e = &l->e[(key + i) & (l->cap - 1)];

        if (e->key == key && live(l, e, now))
            hit = e;
        else if (!*room && !live(l, e, now))
            *room = e;
    }
    return hit;
}

/* Double the table, keeping only live entries. Stays as it is when memory
 * is short or a neighbourhood would overflow. Lock held. */
static void
grow(struct limiter *l, int64_t now)
{
    size_t cap = l->cap * 2, used = 0;
    struct entry *e = calloc(cap, sizeof *e);

    if (!e)
        return;
    for (size_t i = 0; i < l->cap; i++) {
        const struct entry *o = &l->e[i];
        size_t j = 0;

        if (!live(l, o, now))
            continue;
        while (j < PROBE && e[(o->key + j) & (cap - 1)].key)
            j++;
        if (j == PROBE) {
            free(e);
            return;
        }
        e[(o->key + j) & (cap - 1)] = *o;
        used++;
    }
    free(l->e);
    l->e = e;
    l->cap = cap;
    l->used = used;
}

static int
wait_of(const struct limiter *l, const struct entry *e, int max, int64_t now)
{
    int w;

    if (!e || e->count < max)
        return 0;
    w = (int)(e->start + l->window_s - now);
    return w > 0 ? w : 1;
}

/* The soonest a slot in key's neighbourhood frees up. Lock held. */
static int
wait_room(const struct limiter *l, uint64_t key, int64_t now)
{
    int64_t soonest = INT64_MAX;

    for (size_t i = 0; i < PROBE; i++) {
        const struct entry *e = &l->e[(key + i) & (l->cap - 1)];

        if (e->start < soonest)
            soonest = e->start;
    }
    return soonest + l->window_s - now > 0 ? (int)(soonest + l->window_s - now)
                                           : 1;
}

int
limiter_wait(struct limiter *l, const char *email, const char *client)
{
    int64_t now = (int64_t)time(NULL);
    int wait = 0;

    pthread_mutex_lock(&l->lock);
    for (int k = 0; k < N_KINDS; k++) {
        uint64_t key = key_of(l, k, email, client);
        struct entry *room, *e = find(l, key, now, &room);
        int w = wait_of(l, e, l->max[k], now);

        /* A failure must be countable before it may happen: with no room
         * left (the table at its bound and full), refuse rather than
         * forget somebody's count. */
        if (!e && !room && l->cap == l->bound)
            w = wait_room(l, key, now);
        if (w > wait)
            wait = w;
    }
    pthread_mutex_unlock(&l->lock);
    return wait;
}

void
limiter_failed(struct limiter *l, const char *email, const char *client)
{
    int64_t now = (int64_t)time(NULL);

    pthread_mutex_lock(&l->lock);
    for (int k = 0; k < N_KINDS; k++) {
        uint64_t key = key_of(l, k, email, client);
        struct entry *room, *e = find(l, key, now, &room);

        if (e) {
            e->count++;
            continue;
        }
        if ((!room || l->used >= l->cap / 2) && l->cap < l->bound) {
            grow(l, now);
            e = find(l, key, now, &room);
        }
        /* No room only when another thread took the last slot since
         * limiter_wait: that one failure goes uncounted. */
        if (!room)
            continue;
        if (!room->key)
            l->used++;
        *room = (struct entry){key, now, 1};
    }
    pthread_mutex_unlock(&l->lock);
}

void
limiter_ok(struct limiter *l, const char *email, const char *client)
{
    int64_t now = (int64_t)time(NULL);
    struct entry *room, *e;

    pthread_mutex_lock(&l->lock);
    e = find(l, key_of(l, K_PAIR, email, client), now, &room);
    /* Expired, not emptied: an empty slot would need the used count to
     * shrink, and an expired one is taken like an empty one. */
    if (e)
        e->start = now - l->window_s;
    pthread_mutex_unlock(&l->lock);
}
