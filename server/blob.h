/* Stockroom — the blob store: originals under their SHA-256, renditions
 * under their image id, licensed files under their licence id. Either
 * local files (the default: temporary file, fsync, rename, fsync of the
 * folder) or an S3-compatible bucket with a local read-through cache
 * (blob_s3.c). Callers see the same keys and the same calls for both. */
#ifndef STOCKROOM_BLOB_H
#define STOCKROOM_BLOB_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct blob;

#define BLOB_ERR_LEN 300

/* Results. Every failure is negative, so "< 0" tests keep working. */
enum {
    BLOB_OK = 0,
    BLOB_EIO = -1,       /* a local error, or the store refused the request */
    BLOB_ENOTFOUND = -2, /* no such key */
    BLOB_EUNAVAIL = -3,  /* the store cannot be reached now: try later */
    BLOB_ECONFIG = -4    /* start-up: endpoint, bucket or credentials */
};

/* Open the store of kind "file" (under DATA/blobs) or "s3" (bucket and
 * cache from cfg, credentials from STOCKROOM_S3_* in the environment);
 * kind NULL means cfg->blob_store. An S3 store is checked first: a HEAD of
 * the bucket, then a probe object put, read back and deleted. Caller owns
 * *out. BLOB_OK, or a code with one line naming the culprit in err. */
int blob_open(const struct config *cfg, const char *kind, struct blob **out,
              char err[BLOB_ERR_LEN]);
void blob_close(struct blob *b);

/* "file" or "s3". */
const char *blob_kind(const struct blob *b);

/* Store the finished file at tmp_path (on the data directory's filesystem)
 * as key, durably; on success tmp_path is gone (moved into the store or
 * its cache). */
int blob_put_file(struct blob *b, const char *key, const char *tmp_path);

/* Store the upload at tmp_path as the original of sha256_hex unless the
 * store has it already (the same bytes are the same key): BLOB_OK when
 * tmp_path was taken, 1 when it was not needed, else a failure. */
int blob_put_original(struct blob *b, const char *sha256_hex,
                      const char *tmp_path);

/* Write len bytes as key, durably. */
int blob_put_bytes(struct blob *b, const char *key, const void *data,
                   size_t len);

/* Open key for reading: fd (caller closes) and its size. An S3 store reads
 * through its cache, one fetch per key at a time. */
int blob_open_read(struct blob *b, const char *key, int *fd, uint64_t *size);

/* A local path of key for libvips to read, kept in place until
 * blob_local_done(b, key), which every BLOB_OK must be paired with. */
int blob_local(struct blob *b, const char *key, char *out, size_t len);
void blob_local_done(struct blob *b, const char *key);

/* Delete key, not durably: for files the store can do without, such as a
 * preview base, which a crash may leave behind. BLOB_OK also when key is
 * absent. */
int blob_remove(struct blob *b, const char *key);

/* 1 if key exists, 0 if not, BLOB_EUNAVAIL when that cannot be told. */
int blob_exists(struct blob *b, const char *key);

/* The size of key and, when the store knows it, the MD5 of its bytes in
 * hex ("" otherwise); md5 may be NULL. */
int blob_stat(struct blob *b, const char *key, uint64_t *size, char md5[80]);

/* Call fn for every key under prefix ("" for all) with its size and last
 * change (unix seconds); fn returns 0 to go on, anything else stops the
 * walk and is returned. */
typedef int (*blob_list_fn)(const char *key, uint64_t size, int64_t mtime,
                            void *arg);
int blob_list(struct blob *b, const char *prefix, blob_list_fn fn, void *arg);

/* Upload the file at path as key and leave it in place (blobs migrate). */
int blob_put_copy(struct blob *b, const char *key, const char *path);

/* "ok", or "degraded" while an S3 store cannot be reached. */
const char *blob_health(struct blob *b);

/* The URL of key under base (a CDN or public bucket in front of the same
 * keys, the S3 prefix included). */
void blob_public_url(const struct blob *b, const char *base, const char *key,
                     char *out, size_t len);

/* SHA-256 as 64 lower-case hex digits, of a file (read once, streamed)
 * or of bytes. 0 or -1. */
int blob_sha256_file(const char *path, char hex[65]);
void blob_sha256_bytes(const void *data, size_t len, char hex[65]);

/* MD5 (raw) and SHA-256 (hex) of the file open as fd, in one pass, and
 * its size. 0 or -1. */
int blob_digests_fd(int fd, unsigned char md5[16], char sha256[65],
                    uint64_t *size);

/* Keys. An original: "originals/ab/abcd…"; renditions of an image:
 * "renditions/<id>/thumb.jpg" and "…/preview.jpg", and until the preview
 * is made "…/base.raw" (imaging.h's preview base); a licensed file:
 * "licensed/<licence id>.jpg". */
void blob_key_original(const char *sha256_hex, char *out, size_t len);
void blob_key_rendition(const char *image_id, const char *name, char *out,
                        size_t len);
void blob_key_licensed(const char *licence_id, char *out, size_t len);

#endif
