/* Stockroom — bounded LRU file cache with one fill per key at a time. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blobcache.h"
#include "log.h"

#define NBUCKETS 16384
#define PATH_LEN 1400

enum state { READY, FILLING, FAILED };

struct entry {
    char *key;
    uint64_t size;
    int pins;
    int waiters;
    int fail_rc;
    enum state state;
    int64_t stamp;             /* for the start-up order only */
    struct entry *prev, *next; /* LRU: head is the most recent */
    struct entry *hnext;
};

struct bcache {
    char dir[1100];
    uint64_t max, bytes;
    pthread_mutex_t lock;
    pthread_cond_t filled;
    struct entry *head, *tail;
    struct entry *table[NBUCKETS];
    unsigned seq;
};

static unsigned
hash(const char *s)
{
    unsigned h = 2166136261u;

    while (*s)
        h = (h ^ (unsigned char)*s++) * 16777619u;
    return h % NBUCKETS;
}

static void
path_of(const struct bcache *c, const char *key, char *out, size_t len)
{
    snprintf(out, len, "%s/%s", c->dir, key);
}

static int
mkdirs_for(const char *path)
{
    char buf[PATH_LEN];

    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0750) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return 0;
}

static struct entry *
find(struct bcache *c, const char *key)
{
    for (struct entry *e = c->table[hash(key)]; e; e = e->hnext)
        if (!strcmp(e->key, key))
            return e;
    return NULL;
}

static void
lru_unlink(struct bcache *c, struct entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else if (c->head == e)
        c->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else if (c->tail == e)
        c->tail = e->prev;
    e->prev = e->next = NULL;
}

static void
lru_front(struct bcache *c, struct entry *e)
{
    lru_unlink(c, e);
    e->next = c->head;
    if (c->head)
        c->head->prev = e;
    c->head = e;
    if (!c->tail)
        c->tail = e;
}

static struct entry *
add(struct bcache *c, const char *key, enum state st)
{
    struct entry *e = calloc(1, sizeof *e);
    unsigned h = hash(key);

    if (!e || !(e->key = strdup(key))) {
        free(e);
        return NULL;
    }
    e->state = st;
    e->hnext = c->table[h];
    c->table[h] = e;
    lru_front(c, e);
    return e;
}

static void
forget(struct bcache *c, struct entry *e)
{
    struct entry **pp = &c->table[hash(e->key)];

    while (*pp && *pp != e)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = e->hnext;
    lru_unlink(c, e);
    if (e->state == READY)
        c->bytes -= e->size;
    free(e->key);
    free(e);
}

/* Over the bound: drop the least recently used files nobody holds. keep
 * is spared even then, so a cache smaller than one file still works. */
static void
evict(struct bcache *c, const struct entry *keep)
{
    struct entry *e = c->tail;

    while (c->bytes > c->max && e) {
        struct entry *prev = e->prev;

        if (e != keep && e->state == READY && e->pins == 0) {
            char path[PATH_LEN];

            path_of(c, e->key, path, sizeof path);
            if (unlink(path) < 0 && errno != ENOENT)
                log_warn("cache: cannot remove %s: %s", e->key,
                         strerror(errno));
            forget(c, e);
        }
        e = prev;
    }
}

/* Index one folder of the cache at start-up. */
static void
scan(struct bcache *c, const char *rel, struct entry ***all, size_t *n,
     size_t *cap)
{
    char path[PATH_LEN];
    struct dirent *d;
    DIR *dir;

    snprintf(path, sizeof path, "%s%s%s", c->dir, rel[0] ? "/" : "", rel);
    dir = opendir(path);
    if (!dir)
        return;
    while ((d = readdir(dir))) {
        char sub[PATH_LEN], full[PATH_LEN * 2];
        struct stat st;

        if (d->d_name[0] == '.')
            continue;
        snprintf(sub, sizeof sub, "%s%s%s", rel, rel[0] ? "/" : "", d->d_name);
        snprintf(full, sizeof full, "%s/%s", c->dir, sub);
        if (lstat(full, &st) < 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            scan(c, sub, all, n, cap);
            continue;
        }
        /* A fill cut off by a crash: never a final name. */
        if (strstr(d->d_name, ".part-")) {
            unlink(full);
            continue;
        }
        if (!S_ISREG(st.st_mode))
            continue;
        if (*n == *cap) {
            size_t nc = *cap ? *cap * 2 : 256;
            struct entry **na = realloc(*all, nc * sizeof *na);

            if (!na)
                continue;
            *all = na;
            *cap = nc;
        }
        (*all)[*n] = calloc(1, sizeof ***all);
        if (!(*all)[*n] || !((*all)[*n]->key = strdup(sub))) {
            free((*all)[*n]);
            continue;
        }
        (*all)[*n]->size = (uint64_t)st.st_size;
        (*all)[*n]->stamp = (int64_t)st.st_mtime;
        (*n)++;
    }
    closedir(dir);
}

static int
by_stamp(const void *a, const void *b)
{
    const struct entry *x = *(struct entry *const *)a;
    const struct entry *y = *(struct entry *const *)b;

    return (x->stamp > y->stamp) - (x->stamp < y->stamp);
}

int
bcache_open(const char *dir, uint64_t max_bytes, struct bcache **out)
{
    struct bcache *c = calloc(1, sizeof *c);
    struct entry **all = NULL;
    size_t n = 0, cap = 0;

    if (!c)
        return -1;
    snprintf(c->dir, sizeof c->dir, "%s", dir);
    c->max = max_bytes;
    if (mkdirs_for(c->dir) < 0 ||
        (mkdir(c->dir, 0750) < 0 && errno != EEXIST)) {
        free(c);
        return -1;
    }
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->filled, NULL);
    scan(c, "", &all, &n, &cap);
    /* Oldest first, each to the front: the newest ends at the head. */
    if (n > 0)
        qsort(all, n, sizeof *all, by_stamp);
    for (size_t i = 0; i < n; i++) {
        struct entry *e = add(c, all[i]->key, READY);

        if (e) {
            e->size = all[i]->size;
            c->bytes += e->size;
        }
        free(all[i]->key);
        free(all[i]);
    }
    free(all);
    evict(c, NULL);
    *out = c;
    return 0;
}

void
bcache_close(struct bcache *c)
{
    if (!c)
        return;
    while (c->head)
        forget(c, c->head);
    pthread_cond_destroy(&c->filled);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* A temporary name beside the final one, never taken for a cached file. */
static int
part_file(const char *final, char *tmp, size_t len)
{
    int fd;

    if (mkdirs_for(final) < 0)
        return -1;
    snprintf(tmp, len, "%s.part-XXXXXX", final);
    fd = mkostemp(tmp, O_CLOEXEC);
    return fd;
}

/* Called with the lock held: the entry for key READY (filling it when
 * needed, the lock dropped meanwhile), or NULL with *rc set. */
static struct entry *
obtain(struct bcache *c, const char *key, bcache_fill_fn fill, void *arg,
       int *rc)
{
    struct entry *e;
    char final[PATH_LEN], tmp[PATH_LEN + 16];
    int fd;

    for (;;) {
        e = find(c, key);
        if (!e)
            break;
        if (e->state == READY) {
            lru_front(c, e);
            return e;
        }
        e->waiters++;
        while (e->state == FILLING)
            pthread_cond_wait(&c->filled, &c->lock);
        e->waiters--;
        if (e->state == FAILED) {
            *rc = e->fail_rc;
            if (e->waiters == 0)
                forget(c, e);
            return NULL;
        }
    }
    e = add(c, key, FILLING);
    if (!e) {
        *rc = -1;
        return NULL;
    }
    pthread_mutex_unlock(&c->lock);
    path_of(c, key, final, sizeof final);
    fd = part_file(final, tmp, sizeof tmp);
    *rc = fd < 0 ? -1 : fill(arg, key, fd);
    if (*rc == 0 && (fdatasync(fd) < 0 || rename(tmp, final) < 0))
        *rc = -1;
    if (*rc != 0 && fd >= 0)
        unlink(tmp);
    {
        struct stat st;

        if (*rc == 0 && fstat(fd, &st) == 0)
            e->size = (uint64_t)st.st_size;
    }
    if (fd >= 0)
        close(fd);
    pthread_mutex_lock(&c->lock);
    if (*rc == 0) {
        e->state = READY;
        c->bytes += e->size;
    } else {
        e->state = FAILED;
        e->fail_rc = *rc;
    }
    pthread_cond_broadcast(&c->filled);
    if (*rc != 0) {
        if (e->waiters == 0)
            forget(c, e);
        return NULL;
    }
    return e;
}

int
bcache_open_read(struct bcache *c, const char *key, bcache_fill_fn fill,
                 void *arg, int *fd, uint64_t *size)
{
    char path[PATH_LEN];
    struct entry *e;
    struct stat st;
    int rc = 0;

    pthread_mutex_lock(&c->lock);
    e = obtain(c, key, fill, arg, &rc);
    if (e) {
        /* Opened under the lock: eviction cannot slip in between. */
        path_of(c, key, path, sizeof path);
        *fd = open(path, O_RDONLY | O_CLOEXEC);
        if (*fd < 0 || fstat(*fd, &st) < 0) {
            /* Removed behind our back: forget it, the next read refills. */
            if (*fd >= 0)
                close(*fd);
            forget(c, e);
            rc = -1;
        } else {
            *size = (uint64_t)st.st_size;
            evict(c, e);
        }
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

int
bcache_pin(struct bcache *c, const char *key, bcache_fill_fn fill, void *arg,
           char *path, size_t len)
{
    struct entry *e;
    int rc = 0;

    pthread_mutex_lock(&c->lock);
    e = obtain(c, key, fill, arg, &rc);
    if (e) {
        e->pins++;
        path_of(c, key, path, len);
        evict(c, e);
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

void
bcache_unpin(struct bcache *c, const char *key)
{
    struct entry *e;

    pthread_mutex_lock(&c->lock);
    e = find(c, key);
    if (e && e->pins > 0 && --e->pins == 0)
        evict(c, NULL);
    pthread_mutex_unlock(&c->lock);
}

/* Enter a complete file now at final as key. */
static void
enter(struct bcache *c, const char *key, uint64_t size)
{
    struct entry *e;

    pthread_mutex_lock(&c->lock);
    e = find(c, key);
    if (e && e->state == READY) {
        c->bytes -= e->size;
        e->size = size;
        c->bytes += size;
        lru_front(c, e);
    } else if (!e && (e = add(c, key, READY))) {
        e->size = size;
        c->bytes += size;
    }
    /* A fill in progress for the key will rename over ours: same bytes. */
    if (e)
        evict(c, e);
    pthread_mutex_unlock(&c->lock);
}

int
bcache_adopt(struct bcache *c, const char *key, const char *path)
{
    char final[PATH_LEN];
    struct stat st;

    path_of(c, key, final, sizeof final);
    if (stat(path, &st) < 0 || mkdirs_for(final) < 0 || rename(path, final) < 0)
        return -1;
    enter(c, key, (uint64_t)st.st_size);
    return 0;
}

int
bcache_put(struct bcache *c, const char *key, const void *data, size_t len)
{
    char final[PATH_LEN], tmp[PATH_LEN + 16];
    const char *p = data;
    size_t left = len;
    int fd, rc = -1;

    path_of(c, key, final, sizeof final);
    fd = part_file(final, tmp, sizeof tmp);
    if (fd < 0)
        return -1;
    while (left > 0) {
        ssize_t w = write(fd, p, left);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            goto out;
        p += w;
        left -= (size_t)w;
    }
    if (fdatasync(fd) < 0 || rename(tmp, final) < 0)
        goto out;
    tmp[0] = '\0';
    enter(c, key, len);
    rc = 0;
out:
    close(fd);
    if (tmp[0])
        unlink(tmp);
    return rc;
}

void
bcache_drop(struct bcache *c, const char *key)
{
    char path[PATH_LEN];
    struct entry *e;

    pthread_mutex_lock(&c->lock);
    e = find(c, key);
    if (e && e->state == READY && e->pins == 0) {
        path_of(c, key, path, sizeof path);
        unlink(path);
        forget(c, e);
    }
    pthread_mutex_unlock(&c->lock);
}

int
bcache_has(struct bcache *c, const char *key)
{
    struct entry *e;
    int has;

    pthread_mutex_lock(&c->lock);
    e = find(c, key);
    has = e && e->state == READY;
    pthread_mutex_unlock(&c->lock);
    return has;
}

uint64_t
bcache_bytes(struct bcache *c)
{
    uint64_t n;

    pthread_mutex_lock(&c->lock);
    n = c->bytes;
    pthread_mutex_unlock(&c->lock);
    return n;
}
