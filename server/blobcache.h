/* Stockroom — the local read-through cache of an outside blob store: files
 * under a folder by key, at most a given number of bytes, least recently
 * used evicted first. A file appears under its final name only complete
 * (written aside, then renamed); only one fill per key runs at a time, and
 * other readers of that key wait for it. The index is rebuilt from the
 * folder at start-up, so the cache survives a restart. */
#ifndef STOCKROOM_BLOBCACHE_H
#define STOCKROOM_BLOBCACHE_H

#include <stddef.h>
#include <stdint.h>

struct bcache;

/* Fill fd (an empty temporary file) with key's bytes: 0, or a negative
 * code that the waiting readers get too. */
typedef int (*bcache_fill_fn)(void *arg, const char *key, int fd);

/* Open the cache in dir (made if needed; leftover temporary files go),
 * bounded by max_bytes. Caller owns *out (bcache_close). 0 or -1. */
int bcache_open(const char *dir, uint64_t max_bytes, struct bcache **out);
void bcache_close(struct bcache *c);

/* Open key for reading (caller closes *fd), filling it with fill on a
 * miss. 0, the fill's code, or -1 when the cache itself failed. */
int bcache_open_read(struct bcache *c, const char *key, bcache_fill_fn fill,
                     void *arg, int *fd, uint64_t *size);

/* Like bcache_open_read, but give the file's path and keep it from
 * eviction until bcache_unpin(c, key): for libvips, which opens by name. */
int bcache_pin(struct bcache *c, const char *key, bcache_fill_fn fill,
               void *arg, char *path, size_t len);
void bcache_unpin(struct bcache *c, const char *key);

/* Take the finished file at path into the cache as key (renamed when on
 * the same filesystem; else it stays where it is and the cache does
 * without). 0 when taken. */
int bcache_adopt(struct bcache *c, const char *key, const char *path);

/* Keep a copy of len bytes as key. 0 or -1; the cache may do without. */
int bcache_put(struct bcache *c, const char *key, const void *data, size_t len);

/* Forget key and remove its file. */
void bcache_drop(struct bcache *c, const char *key);

/* 1 when key is in the cache. */
int bcache_has(struct bcache *c, const char *key);

/* Bytes held now (for tests and metrics). */
uint64_t bcache_bytes(struct bcache *c);

#endif
