/* Stockroom — the S3 blob store: every blob in a bucket, read through a
 * bounded local cache. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "blobcache.h"
#include "blobint.h"
#include "config.h"
#include "log.h"
#include "s3.h"

#define PING_EVERY_MS 3000 /* health asks a degraded store this often */

static int
from_s3(int rc)
{
    switch (rc) {
    case S3_OK:
        return BLOB_OK;
    case S3_ENOTFOUND:
        return BLOB_ENOTFOUND;
    case S3_EUNAVAIL:
        return BLOB_EUNAVAIL;
    default:
        return BLOB_EIO;
    }
}

/* Name the culprit of a failed start-up check in one line. */
static int
explain(const struct config *cfg, const char *endpoint, int rc,
        const char *what, const char *detail, char err[BLOB_ERR_LEN])
{
    switch (rc) {
    case S3_EUNAVAIL:
        snprintf(err, BLOB_ERR_LEN, "S3 endpoint %s cannot be reached (%s)",
                 endpoint, detail);
        break;
    case S3_ENOBUCKET:
        snprintf(err, BLOB_ERR_LEN, "S3 bucket '%s' does not exist at %s",
                 cfg->s3_bucket, endpoint);
        break;
    case S3_EDENIED:
        snprintf(err, BLOB_ERR_LEN,
                 "S3 credentials refused (STOCKROOM_S3_ACCESS_KEY_ID / "
                 "STOCKROOM_S3_SECRET_ACCESS_KEY) by %s for bucket '%s'",
                 endpoint, cfg->s3_bucket);
        break;
    default:
        snprintf(err, BLOB_ERR_LEN, "S3 %s failed at %s: %s", what, endpoint,
                 detail);
    }
    return BLOB_ECONFIG;
}

/* The start-up check: the bucket answers, and a small object goes in,
 * comes back the same and goes away. */
static int
probe(struct blob *b, const struct config *cfg, const char *endpoint,
      char err[BLOB_ERR_LEN])
{
    char e[S3_ERR_LEN], key[64], sent[64], got[64] = "";
    uint64_t size = 0;
    FILE *tmp;
    int rc;

    rc = s3_head_bucket(b->s3, e);
    if (rc != S3_OK)
        return explain(cfg, endpoint, rc, "bucket check", e, err);
    snprintf(key, sizeof key, "_stockroom/probe-%08x", randombytes_random());
    snprintf(sent, sizeof sent, "probe %s", key + 17);
    rc = s3_put_mem(b->s3, key, sent, strlen(sent), "text/plain", e);
    if (rc != S3_OK)
        return explain(cfg, endpoint, rc, "probe upload", e, err);
    tmp = tmpfile();
    rc = tmp ? s3_get_fd(b->s3, key, fileno(tmp), &size, e) : S3_EFAIL;
    if (rc == S3_OK &&
        (pread(fileno(tmp), got, sizeof got - 1, 0) != (ssize_t)strlen(sent) ||
         strcmp(got, sent) != 0)) {
        snprintf(e, sizeof e, "the probe object came back different");
        rc = S3_EFAIL;
    }
    if (tmp)
        fclose(tmp);
    if (rc != S3_OK)
        return explain(cfg, endpoint, rc, "probe download", e, err);
    rc = s3_delete(b->s3, key, e);
    if (rc != S3_OK)
        return explain(cfg, endpoint, rc, "probe delete", e, err);
    return BLOB_OK;
}

int
blob__s3_open(struct blob *b, const struct config *cfg, char err[BLOB_ERR_LEN])
{
    const char *akid = getenv("STOCKROOM_S3_ACCESS_KEY_ID");
    const char *secret = getenv("STOCKROOM_S3_SECRET_ACCESS_KEY");
    struct s3_conf sc = {0};
    char dir[1100], endpoint[300];

    if (!cfg->s3_bucket[0]) {
        snprintf(err, BLOB_ERR_LEN, "--blob-store s3 needs --s3-bucket");
        return BLOB_ECONFIG;
    }
    if (!akid || !*akid || !secret || !*secret) {
        snprintf(err, BLOB_ERR_LEN,
                 "S3 credentials missing: set STOCKROOM_S3_ACCESS_KEY_ID and "
                 "STOCKROOM_S3_SECRET_ACCESS_KEY");
        return BLOB_ECONFIG;
    }
    if (cfg->s3_endpoint[0])
        snprintf(endpoint, sizeof endpoint, "%s", cfg->s3_endpoint);
    else
        snprintf(endpoint, sizeof endpoint, "https://s3.%s.amazonaws.com",
                 cfg->s3_region);
    sc.endpoint = cfg->s3_endpoint;
    sc.bucket = cfg->s3_bucket;
    sc.region = cfg->s3_region;
    sc.prefix = cfg->s3_prefix;
    sc.path_style = cfg->s3_path_style;
    sc.access_key = akid;
    sc.secret_key = secret;
    sc.session_token = getenv("STOCKROOM_S3_SESSION_TOKEN");
    snprintf(b->prefix, sizeof b->prefix, "%s", cfg->s3_prefix);
    if (s3_new(&sc, &b->s3) < 0) {
        snprintf(err, BLOB_ERR_LEN, "S3 client could not start");
        return BLOB_EIO;
    }
    if (cfg->cache_dir[0])
        snprintf(dir, sizeof dir, "%s", cfg->cache_dir);
    else
        snprintf(dir, sizeof dir, "%s/cache", cfg->data_dir);
    if (bcache_open(dir, (uint64_t)cfg->cache_mb * 1024 * 1024, &b->cache) <
        0) {
        snprintf(err, BLOB_ERR_LEN, "cannot open the cache %.200s: %s", dir,
                 strerror(errno));
        return BLOB_EIO;
    }
    return probe(b, cfg, endpoint, err);
}

void
blob__s3_close(struct blob *b)
{
    bcache_close(b->cache);
    b->cache = NULL;
    s3_free(b->s3);
    b->s3 = NULL;
}

int
blob__s3_put_file(struct blob *b, const char *key, const char *tmp)
{
    return blob__s3_put_path(b, key, tmp, 0);
}

int
blob__s3_put_path(struct blob *b, const char *key, const char *tmp, int keep)
{
    unsigned char md5[16];
    char sha[65], err[S3_ERR_LEN];
    uint64_t size;
    int fd = open(tmp, O_RDONLY | O_CLOEXEC), rc;

    if (fd < 0)
        return BLOB_EIO;
    /* One pass for both digests, then the upload streams from the file. */
    if (blob_digests_fd(fd, md5, sha, &size) < 0) {
        close(fd);
        return BLOB_EIO;
    }
    rc = s3_put_fd(b->s3, key, fd, size, md5, sha, "application/octet-stream",
                   err);
    close(fd);
    if (rc != S3_OK) {
        log_error("s3: %s", err);
        return from_s3(rc);
    }
    /* The worker reads the original next: keep it at hand. */
    if (!keep && bcache_adopt(b->cache, key, tmp) < 0)
        unlink(tmp);
    return BLOB_OK;
}

static const char *
ctype_of(const char *key)
{
    size_t n = strlen(key);

    return n > 4 && !strcmp(key + n - 4, ".jpg") ? "image/jpeg"
                                                 : "application/octet-stream";
}

int
blob__s3_put_bytes(struct blob *b, const char *key, const void *data,
                   size_t len)
{
    char err[S3_ERR_LEN];
    int rc = s3_put_mem(b->s3, key, data, len, ctype_of(key), err);

    if (rc != S3_OK) {
        log_error("s3: %s", err);
        return from_s3(rc);
    }
    if (bcache_put(b->cache, key, data, len) < 0)
        log_warn("cache: %s not kept: %s", key, strerror(errno));
    return BLOB_OK;
}

static int
fill(void *arg, const char *key, int fd)
{
    struct blob *b = arg;
    char err[S3_ERR_LEN];
    uint64_t size;
    int rc = s3_get_fd(b->s3, key, fd, &size, err);

    if (rc != S3_OK && rc != S3_ENOTFOUND)
        log_error("s3: %s", err);
    return from_s3(rc);
}

int
blob__s3_open_read(struct blob *b, const char *key, int *fd, uint64_t *size)
{
    int rc = bcache_open_read(b->cache, key, fill, b, fd, size);

    return rc == 0 ? BLOB_OK : rc;
}

int
blob__s3_local(struct blob *b, const char *key, char *out, size_t len)
{
    int rc = bcache_pin(b->cache, key, fill, b, out, len);

    return rc == 0 ? BLOB_OK : rc;
}

void
blob__s3_local_done(struct blob *b, const char *key)
{
    bcache_unpin(b->cache, key);
}

int
blob__s3_remove(struct blob *b, const char *key)
{
    char err[S3_ERR_LEN];
    int rc = s3_delete(b->s3, key, err);

    bcache_drop(b->cache, key);
    if (rc != S3_OK)
        log_warn("s3: %s", err);
    return from_s3(rc);
}

int
blob__s3_exists(struct blob *b, const char *key)
{
    char err[S3_ERR_LEN];
    int rc;

    if (bcache_has(b->cache, key))
        return 1;
    rc = s3_head(b->s3, key, NULL, NULL, err);
    if (rc == S3_OK)
        return 1;
    if (rc == S3_ENOTFOUND)
        return 0;
    log_warn("s3: %s", err);
    return rc == S3_EUNAVAIL ? BLOB_EUNAVAIL : BLOB_EIO;
}

int
blob__s3_stat(struct blob *b, const char *key, uint64_t *size, char md5[80])
{
    char err[S3_ERR_LEN], etag[80];
    int rc = s3_head(b->s3, key, size, etag, err);

    if (rc == S3_OK && md5)
        snprintf(md5, 80, "%s", strlen(etag) == 32 ? etag : "");
    return from_s3(rc);
}

struct list_arg {
    blob_list_fn fn;
    void *arg;
};

static int
list_one(const char *key, uint64_t size, const char *etag, int64_t mtime,
         void *arg)
{
    struct list_arg *la = arg;

    (void)etag;
    /* The start-up probe's key is ours, never a blob. */
    if (!strncmp(key, "_stockroom/", 11))
        return 0;
    return la->fn(key, size, mtime, la->arg);
}

int
blob__s3_list(struct blob *b, const char *prefix, blob_list_fn fn, void *arg)
{
    struct list_arg la = {fn, arg};
    char err[S3_ERR_LEN];
    int rc = s3_list(b->s3, prefix, list_one, &la, err);

    if (rc < S3_OK && rc >= S3_ENOBUCKET)
        log_error("s3: %s", err);
    return rc <= 0 && rc >= S3_ENOBUCKET ? from_s3(rc) : rc;
}

static long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *
blob__s3_health(struct blob *b)
{
    long now = now_ms();
    long last = __atomic_load_n(&b->last_ping_ms, __ATOMIC_RELAXED);

    /* Degraded stays degraded until a request gets through: without other
     * traffic, ask the store now and then, one short try (one caller at a
     * time wins the exchange and asks). */
    if (!s3_reachable(b->s3) && now - last > PING_EVERY_MS &&
        __atomic_compare_exchange_n(&b->last_ping_ms, &last, now, 0,
                                    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        s3_ping(b->s3);
    return s3_reachable(b->s3) ? "ok" : "degraded";
}
