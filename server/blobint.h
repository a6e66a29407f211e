/* Stockroom — what blob.c shares with its two back ends, blob_file.c and
 * blob_s3.c, and nobody else. */
#ifndef STOCKROOM_BLOBINT_H
#define STOCKROOM_BLOBINT_H

#include "blob.h"

struct s3;
struct bcache;

struct blob {
    char root[1100]; /* file: the folder of the store */
    struct s3 *s3;   /* s3: the bucket, NULL for files */
    struct bcache *cache;
    char prefix[128];  /* s3: key prefix, for public URLs */
    long last_ping_ms; /* s3: when health last asked the store itself */
};

/* blob_file.c */
int blob__file_open(struct blob *b, const char *dir);
int blob__file_put_file(struct blob *b, const char *key, const char *tmp);
int blob__file_put_bytes(struct blob *b, const char *key, const void *data,
                         size_t len);
int blob__file_open_read(struct blob *b, const char *key, int *fd,
                         uint64_t *size);
int blob__file_remove(struct blob *b, const char *key);
int blob__file_exists(struct blob *b, const char *key);
int blob__file_list(struct blob *b, const char *prefix, blob_list_fn fn,
                    void *arg);
void blob__file_path(struct blob *b, const char *key, char *out, size_t len);

/* blob_s3.c */
int blob__s3_open(struct blob *b, const struct config *cfg,
                  char err[BLOB_ERR_LEN]);
void blob__s3_close(struct blob *b);
int blob__s3_put_file(struct blob *b, const char *key, const char *tmp);
int blob__s3_put_bytes(struct blob *b, const char *key, const void *data,
                       size_t len);
int blob__s3_open_read(struct blob *b, const char *key, int *fd,
                       uint64_t *size);
int blob__s3_local(struct blob *b, const char *key, char *out, size_t len);
void blob__s3_local_done(struct blob *b, const char *key);
int blob__s3_remove(struct blob *b, const char *key);
int blob__s3_exists(struct blob *b, const char *key);
int blob__s3_stat(struct blob *b, const char *key, uint64_t *size,
                  char md5[80]);
int blob__s3_list(struct blob *b, const char *prefix, blob_list_fn fn,
                  void *arg);
int blob__s3_put_path(struct blob *b, const char *key, const char *path,
                      int keep);
const char *blob__s3_health(struct blob *b);

#endif
