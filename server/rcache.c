/* Stockroom — LRU cache of public renditions. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rcache.h"

#define BUCKETS 16384 /* power of two */

struct rcache_entry {
    char key[64];
    char etag[80];
    int fd;
    size_t size;
    _Atomic int refs;          /* the cache's own, plus one per lender */
    struct rcache_entry *next; /* in its bucket */
    struct rcache_entry *newer, *older; /* recency list */
};

struct rcache {
    pthread_mutex_t lock;
    struct rcache_entry *buckets[BUCKETS];
    struct rcache_entry *newest, *oldest;
    size_t files, max_files;
};

static uint32_t
hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */

    while (*s)
        h = (h ^ (unsigned char)*s++) * 16777619u;
    return h & (BUCKETS - 1);
}

int
rcache_new(size_t max_files, struct rcache **out)
{
    struct rcache *c = calloc(1, sizeof *c);

    if (!c)
        return -1;
    pthread_mutex_init(&c->lock, NULL);
    c->max_files = max_files;
    *out = c;
    return 0;
}

void
rcache_unref(struct rcache_entry *e)
{
    if (e && atomic_fetch_sub(&e->refs, 1) == 1) {
        close(e->fd);
        free(e);
    }
}

static void
list_unlink(struct rcache *c, struct rcache_entry *e)
{
    if (e->newer)
        e->newer->older = e->older;
    else
        c->newest = e->older;
    if (e->older)
        e->older->newer = e->newer;
    else
        c->oldest = e->newer;
    e->newer = e->older = NULL;
}

static void
list_push(struct rcache *c, struct rcache_entry *e)
{
    e->older = c->newest;
    e->newer = NULL;
    if (c->newest)
        c->newest->newer = e;
    c->newest = e;
    if (!c->oldest)
        c->oldest = e;
}

/* Drop e from the cache; lenders keep it alive until they are done. Lock
 * held. */
static void
evict(struct rcache *c, struct rcache_entry *e)
{
    struct rcache_entry **p = &c->buckets[hash(e->key)];

    while (*p != e)
        p = &(*p)->next;
    *p = e->next;
    list_unlink(c, e);
    c->files--;
    rcache_unref(e);
}

void
rcache_free(struct rcache *c)
{
    if (!c)
        return;
    while (c->oldest)
        evict(c, c->oldest);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

struct rcache_entry *
rcache_get(struct rcache *c, const char *key)
{
    struct rcache_entry *e;

    pthread_mutex_lock(&c->lock);
    for (e = c->buckets[hash(key)]; e && strcmp(e->key, key); e = e->next)
        ;
    if (e) {
        atomic_fetch_add(&e->refs, 1);
        list_unlink(c, e);
        list_push(c, e);
    }
    pthread_mutex_unlock(&c->lock);
    return e;
}

void
rcache_put(struct rcache *c, const char *key, const char *etag, int fd,
           size_t size)
{
    struct rcache_entry *e, *have;
    uint32_t h = hash(key);

    if (!c->max_files || strlen(key) >= sizeof e->key ||
        strlen(etag) >= sizeof e->etag || !(e = calloc(1, sizeof *e))) {
        close(fd);
        return;
    }
    snprintf(e->key, sizeof e->key, "%s", key);
    snprintf(e->etag, sizeof e->etag, "%s", etag);
    e->fd = fd;
    e->size = size;
    e->refs = 1;
    pthread_mutex_lock(&c->lock);
    for (have = c->buckets[h]; have && strcmp(have->key, key);
         have = have->next)
        ;
    if (have) {
        pthread_mutex_unlock(&c->lock);
        rcache_unref(e);
        return;
    }
    while (c->oldest && c->files >= c->max_files)
        evict(c, c->oldest);
    e->next = c->buckets[h];
    c->buckets[h] = e;
    list_push(c, e);
    c->files++;
    pthread_mutex_unlock(&c->lock);
}

int
rcache_fd(const struct rcache_entry *e)
{
    return e->fd;
}

size_t
rcache_size(const struct rcache_entry *e)
{
    return e->size;
}

const char *
rcache_etag(const struct rcache_entry *e)
{
    return e->etag;
}

void
rcache_drop(struct rcache *c, const char *key)
{
    struct rcache_entry *e;

    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    for (e = c->buckets[hash(key)]; e && strcmp(e->key, key); e = e->next)
        ;
    if (e)
        evict(c, e);
    pthread_mutex_unlock(&c->lock);
}
