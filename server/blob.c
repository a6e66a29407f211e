/* Stockroom — the blob store's front door: one set of calls over the
 * local-file and the S3 back ends, its keys and its digests. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blobint.h"
#include "config.h"

#ifdef STOCKROOM_FAULTS
#include <pthread.h>
#include <stdatomic.h>

/* The test build's hook: STOCKROOM_FAULT=blob:N makes the Nth blob write
 * of the process fail once, as a full disk would. */
static atomic_long blob_countdown;

static void
blob_fault_init(void)
{
    const char *spec = getenv("STOCKROOM_FAULT");
    const char *p = spec ? strstr(spec, "blob:") : NULL;

    if (p)
        atomic_store(&blob_countdown, atol(p + 5));
}

static int
blob_fault_hit(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    long n;

    pthread_once(&once, blob_fault_init);
    n = atomic_load(&blob_countdown);
    while (n > 0) {
        if (atomic_compare_exchange_weak(&blob_countdown, &n, n - 1)) {
            if (n == 1) {
                errno = ENOSPC;
                return 1;
            }
            return 0;
        }
    }
    return 0;
}
#else
#define blob_fault_hit() 0
#endif

int
blob_open(const struct config *cfg, const char *kind, struct blob **out,
          char err[BLOB_ERR_LEN])
{
    struct blob *b = calloc(1, sizeof *b);
    char dir[1100];
    int rc;

    if (!b) {
        snprintf(err, BLOB_ERR_LEN, "out of memory");
        return BLOB_EIO;
    }
    if (!kind)
        kind = cfg->blob_store;
    if (!strcmp(kind, "s3")) {
        rc = blob__s3_open(b, cfg, err);
    } else {
        snprintf(dir, sizeof dir, "%s/blobs", cfg->data_dir);
        rc = blob__file_open(b, dir);
        if (rc < 0)
            snprintf(err, BLOB_ERR_LEN, "cannot open %.200s: %s", dir,
                     strerror(errno));
    }
    if (rc != BLOB_OK) {
        blob_close(b);
        return rc;
    }
    *out = b;
    return BLOB_OK;
}

void
blob_close(struct blob *b)
{
    if (!b)
        return;
    if (b->s3 || b->cache)
        blob__s3_close(b);
    free(b);
}

const char *
blob_kind(const struct blob *b)
{
    return b->s3 ? "s3" : "file";
}

int
blob_put_file(struct blob *b, const char *key, const char *tmp_path)
{
    if (blob_fault_hit())
        return BLOB_EIO;
    return b->s3 ? blob__s3_put_file(b, key, tmp_path)
                 : blob__file_put_file(b, key, tmp_path);
}

int
blob_put_original(struct blob *b, const char *sha256_hex, const char *tmp_path)
{
    char key[256];
    int has;

    blob_key_original(sha256_hex, key, sizeof key);
    has = blob_exists(b, key);
    /* A store that did not answer the question will not take the file
     * either: say so now, within the upload's deadline. */
    if (has != 0)
        return has;
    return blob_put_file(b, key, tmp_path);
}

int
blob_put_bytes(struct blob *b, const char *key, const void *data, size_t len)
{
    if (blob_fault_hit())
        return BLOB_EIO;
    return b->s3 ? blob__s3_put_bytes(b, key, data, len)
                 : blob__file_put_bytes(b, key, data, len);
}

int
blob_open_read(struct blob *b, const char *key, int *fd, uint64_t *size)
{
    return b->s3 ? blob__s3_open_read(b, key, fd, size)
                 : blob__file_open_read(b, key, fd, size);
}

int
blob_local(struct blob *b, const char *key, char *out, size_t len)
{
    if (b->s3)
        return blob__s3_local(b, key, out, len);
    blob__file_path(b, key, out, len);
    return access(out, F_OK) == 0 ? BLOB_OK : BLOB_ENOTFOUND;
}

void
blob_local_done(struct blob *b, const char *key)
{
    if (b->s3)
        blob__s3_local_done(b, key);
}

int
blob_remove(struct blob *b, const char *key)
{
    return b->s3 ? blob__s3_remove(b, key) : blob__file_remove(b, key);
}

int
blob_exists(struct blob *b, const char *key)
{
    return b->s3 ? blob__s3_exists(b, key) : blob__file_exists(b, key);
}

int
blob_stat(struct blob *b, const char *key, uint64_t *size, char md5[80])
{
    unsigned char raw[16];
    char sha[65];
    int fd, rc;

    if (b->s3)
        return blob__s3_stat(b, key, size, md5);
    rc = blob__file_open_read(b, key, &fd, size);
    if (rc != BLOB_OK)
        return rc;
    if (md5) {
        static const char digits[] = "0123456789abcdef";

        md5[0] = '\0';
        if (blob_digests_fd(fd, raw, sha, size) == 0) {
            for (int i = 0; i < 16; i++) {
                md5[2 * i] = digits[raw[i] >> 4];
                md5[2 * i + 1] = digits[raw[i] & 15];
            }
            md5[32] = '\0';
        }
    }
    close(fd);
    return BLOB_OK;
}

int
blob_list(struct blob *b, const char *prefix, blob_list_fn fn, void *arg)
{
    return b->s3 ? blob__s3_list(b, prefix, fn, arg)
                 : blob__file_list(b, prefix, fn, arg);
}

int
blob_put_copy(struct blob *b, const char *key, const char *path)
{
    char tmp[1500];
    int rc;

    if (b->s3)
        return blob__s3_put_path(b, key, path, 1);
    /* Into files: a hard link the store then moves into place. */
    snprintf(tmp, sizeof tmp, "%s.copy-%d", path, (int)getpid());
    if (link(path, tmp) < 0)
        return BLOB_EIO;
    rc = blob__file_put_file(b, key, tmp);
    if (rc != BLOB_OK)
        unlink(tmp);
    return rc;
}

const char *
blob_health(struct blob *b)
{
    return b->s3 ? blob__s3_health(b) : "ok";
}

void
blob_public_url(const struct blob *b, const char *base, const char *key,
                char *out, size_t len)
{
    size_t n = strlen(base);

    snprintf(out, len, "%.*s/%s%s", (int)(n && base[n - 1] == '/' ? n - 1 : n),
             base, b->s3 ? b->prefix : "", key);
}

void
blob_key_original(const char *sha256_hex, char *out, size_t len)
{
    snprintf(out, len, "originals/%.2s/%s", sha256_hex, sha256_hex);
}

void
blob_key_licensed(const char *licence_id, char *out, size_t len)
{
    snprintf(out, len, "licensed/%s.jpg", licence_id);
}

void
blob_key_rendition(const char *image_id, const char *name, char *out,
                   size_t len)
{
    snprintf(out, len, "renditions/%s/%s", image_id, name);
}

/* SHA-256 through OpenSSL, which uses the CPU's SHA instructions: about
 * six times libsodium's portable code here, and hashing every upload was
 * a sixth of the ingest's CPU. */
static void
to_hex(const unsigned char *d, char hex[65])
{
    static const char digits[] = "0123456789abcdef";

    for (int i = 0; i < 32; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[64] = '\0';
}

int
blob_sha256_file(const char *path, char hex[65])
{
    unsigned char buf[65536], digest[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc = -1;
    ssize_t n;

    if (fd < 0 || !ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
        goto out;
    while ((n = read(fd, buf, sizeof buf)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || EVP_DigestUpdate(ctx, buf, (size_t)n) != 1)
            goto out;
    }
    if (EVP_DigestFinal_ex(ctx, digest, &dlen) != 1 || dlen != 32)
        goto out;
    to_hex(digest, hex);
    rc = 0;
out:
    EVP_MD_CTX_free(ctx);
    if (fd >= 0)
        close(fd);
    return rc;
}

void
blob_sha256_bytes(const void *data, size_t len, char hex[65])
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;

    if (EVP_Digest(data, len, digest, &dlen, EVP_sha256(), NULL) != 1 ||
        dlen != 32)
        abort(); /* SHA-256 of memory cannot fail but for a broken
                    library */
    to_hex(digest, hex);
}

int
blob_digests_fd(int fd, unsigned char md5[16], char sha256[65], uint64_t *size)
{
    unsigned char buf[65536], digest[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    EVP_MD_CTX *m = EVP_MD_CTX_new(), *s = EVP_MD_CTX_new();
    uint64_t total = 0;
    off_t off = 0;
    int rc = -1;
    ssize_t n;

    if (!m || !s || EVP_DigestInit_ex(m, EVP_md5(), NULL) != 1 ||
        EVP_DigestInit_ex(s, EVP_sha256(), NULL) != 1)
        goto out;
    while ((n = pread(fd, buf, sizeof buf, off)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || EVP_DigestUpdate(m, buf, (size_t)n) != 1 ||
            EVP_DigestUpdate(s, buf, (size_t)n) != 1)
            goto out;
        off += n;
        total += (uint64_t)n;
    }
    if (EVP_DigestFinal_ex(m, md5, &dlen) != 1 || dlen != 16 ||
        EVP_DigestFinal_ex(s, digest, &dlen) != 1 || dlen != 32)
        goto out;
    to_hex(digest, sha256);
    *size = total;
    rc = 0;
out:
    EVP_MD_CTX_free(m);
    EVP_MD_CTX_free(s);
    return rc;
}
