/* Stockroom — a bounded in-memory cache of public renditions (thumbnails
 * and previews of approved images), so the hot path of the store answers
 * from memory without a database lookup or a file open. Least recently
 * used entries go first. Thread-safe. */
#ifndef STOCKROOM_RCACHE_H
#define STOCKROOM_RCACHE_H

#include <stddef.h>

struct rcache;
struct rcache_entry;

/* A cache holding at most max_bytes of file data. Caller owns *out. */
int rcache_new(size_t max_bytes, struct rcache **out);

/* Free the cache; entries still lent out live until their last unref. */
void rcache_free(struct rcache *c);

/* The entry for key with a reference taken (give it back with
 * rcache_unref), or NULL. */
struct rcache_entry *rcache_get(struct rcache *c, const char *key);

/* Add data (taken: freed with free() when the entry goes) under key with
 * its quoted ETag. An existing entry for key is kept and data freed. */
void rcache_put(struct rcache *c, const char *key, const char *etag,
                void *data, size_t len);

/* Give back a reference from rcache_get. */
void rcache_unref(struct rcache_entry *e);

/* An entry's bytes, length and quoted ETag: valid while referenced. */
const void *rcache_data(const struct rcache_entry *e);
size_t rcache_len(const struct rcache_entry *e);
const char *rcache_etag(const struct rcache_entry *e);

#endif
