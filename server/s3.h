/* Stockroom — a small S3 client over libcurl: objects in one bucket under
 * an optional key prefix, signed with libcurl's AWS Signature V4. One
 * reusable handle per calling thread (keep-alive), deadlines on every
 * request, jittered retries of what failed for a passing reason. Knows
 * nothing of what the objects are. */
#ifndef STOCKROOM_S3_H
#define STOCKROOM_S3_H

#include <stddef.h>
#include <stdint.h>

#define S3_ERR_LEN 256

enum {
    S3_OK = 0,
    S3_EFAIL = -1,     /* refused for a reason retrying will not change */
    S3_ENOTFOUND = -2, /* no such key */
    S3_EUNAVAIL = -3,  /* unreachable, timing out or 5xx, retries spent */
    S3_EDENIED = -4,   /* credentials or signature refused */
    S3_ENOBUCKET = -5  /* no such bucket */
};

struct s3_conf {
    const char *endpoint; /* "" or NULL: AWS's endpoint of the region */
    const char *bucket;
    const char *region;
    const char *prefix; /* put before every key; may be "" */
    int path_style;     /* bucket in the path rather than the host name */
    const char *access_key;
    const char *secret_key;
    const char *session_token; /* NULL or "" when there is none */
};

struct s3;

/* Copy conf into a new client. Caller owns *out (s3_free). 0 or -1. */
int s3_new(const struct s3_conf *conf, struct s3 **out);
/* Free the client and every thread's handle: call once no other thread
 * uses it. Accepts NULL. */
void s3_free(struct s3 *s);

/* HEAD of the bucket. */
int s3_head_bucket(struct s3 *s, char err[S3_ERR_LEN]);

/* One quick HEAD of the bucket, no retries: a health probe. */
int s3_ping(struct s3 *s);

/* PUT size bytes read from fd (from its start, with pread, so a retry
 * reads them again) as key, with Content-MD5 (md5: the raw 16 bytes),
 * x-amz-content-sha256 (sha256_hex) and ctype; the reply's ETag must be
 * the MD5. */
int s3_put_fd(struct s3 *s, const char *key, int fd, uint64_t size,
              const unsigned char md5[16], const char *sha256_hex,
              const char *ctype, char err[S3_ERR_LEN]);

/* PUT len bytes from memory, digests computed here. */
int s3_put_mem(struct s3 *s, const char *key, const void *data, size_t len,
               const char *ctype, char err[S3_ERR_LEN]);

/* GET key into fd (truncated first, and again before each retry); *size
 * gets the length. */
int s3_get_fd(struct s3 *s, const char *key, int fd, uint64_t *size,
              char err[S3_ERR_LEN]);

/* HEAD key: its size and its ETag without quotes (an MD5 in hex for a
 * single-part upload). Either out may be NULL. */
int s3_head(struct s3 *s, const char *key, uint64_t *size, char etag[80],
            char err[S3_ERR_LEN]);

/* DELETE key; S3_OK also when it was absent. */
int s3_delete(struct s3 *s, const char *key, char err[S3_ERR_LEN]);

/* Call fn for every key under prefix (keys as given to s3_put_*, without
 * the client's prefix), with its size, ETag and last change (unix
 * seconds), in S3's order. fn returns 0 to go on; anything else stops the
 * listing and is returned. */
typedef int (*s3_list_fn)(const char *key, uint64_t size, const char *etag,
                          int64_t mtime, void *arg);
int s3_list(struct s3 *s, const char *prefix, s3_list_fn fn, void *arg,
            char err[S3_ERR_LEN]);

/* 1 while the last request reached the store (or none was made), 0 after
 * one that found it unavailable. */
int s3_reachable(const struct s3 *s);

#endif
