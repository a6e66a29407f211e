/* Stockroom — a bounded cache of public renditions (thumbnails and
 * previews of approved images): each entry holds the file open with its
 * ETag, so the hot path of the store answers with sendfile, without a
 * database lookup or a file open. Least recently used entries go first.
 * Thread-safe. */
#ifndef STOCKROOM_RCACHE_H
#define STOCKROOM_RCACHE_H

#include <stddef.h>

struct rcache;
struct rcache_entry;

/* A cache holding at most max_files open files. Caller owns *out. */
int rcache_new(size_t max_files, struct rcache **out);

/* Free the cache; entries still lent out live until their last unref. */
void rcache_free(struct rcache *c);

/* The entry for key with a reference taken (give it back with
 * rcache_unref), or NULL. */
struct rcache_entry *rcache_get(struct rcache *c, const char *key);

/* Add the open file fd (taken: closed when the entry goes) of size bytes
 * under key with its quoted ETag. An existing entry for key is kept and
 * fd closed. */
void rcache_put(struct rcache *c, const char *key, const char *etag, int fd,
                size_t size);

/* Give back a reference from rcache_get. */
void rcache_unref(struct rcache_entry *e);

/* An entry's open file, size and quoted ETag: valid while referenced. */
int rcache_fd(const struct rcache_entry *e);
size_t rcache_size(const struct rcache_entry *e);
const char *rcache_etag(const struct rcache_entry *e);

/* Forget key's entry, if any (an image taken off sale); lenders keep
 * theirs until done. Accepts a NULL cache. */
void rcache_drop(struct rcache *c, const char *key);

#endif
