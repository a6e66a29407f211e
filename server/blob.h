/* Stockroom — the blob store: originals under their SHA-256, renditions
 * under their image or licence id. Local files now, written atomically
 * (temporary file, fsync, rename, fsync of the folder); the interface is
 * small so an S3-compatible store can stand behind it later. */
#ifndef STOCKROOM_BLOB_H
#define STOCKROOM_BLOB_H

#include <stddef.h>
#include <stdint.h>

struct blob;

/* Open the store rooted at dir (created if needed). Caller owns *out. */
int blob_open(const char *dir, struct blob **out);
void blob_close(struct blob *b);

/* Move the finished file at tmp_path (on the same filesystem) into the
 * store as key, durably. 0 or -1 (errno set). */
int blob_put_file(struct blob *b, const char *key, const char *tmp_path);

/* Write len bytes as key, durably. */
int blob_put_bytes(struct blob *b, const char *key, const void *data,
                   size_t len);

/* Open key for reading: fd (caller closes) and its size. -1 if absent. */
int blob_open_read(struct blob *b, const char *key, int *fd, uint64_t *size);

/* The local path of key, for libvips to read. */
void blob_path(struct blob *b, const char *key, char *out, size_t len);

/* Delete key, not durably: for files the store can do without, such as a
 * preview base, which a crash may leave behind. 0 (also when key is
 * absent) or -1 (errno set). */
int blob_remove(struct blob *b, const char *key);

/* 1 if key exists. */
int blob_exists(struct blob *b, const char *key);

/* SHA-256 as 64 lower-case hex digits, of a file (read once, streamed)
 * or of bytes. 0 or -1. */
int blob_sha256_file(const char *path, char hex[65]);
void blob_sha256_bytes(const void *data, size_t len, char hex[65]);

/* Keys. An original: "originals/ab/abcd…"; renditions of an image:
 * "renditions/<id>/thumb.jpg" and "…/preview.jpg", and until the preview
 * is made "…/base.raw" (imaging.h's preview base); a licensed file:
 * "licensed/<licence id>.jpg". */
void blob_key_original(const char *sha256_hex, char *out, size_t len);
void blob_key_rendition(const char *image_id, const char *name, char *out,
                        size_t len);

#endif
