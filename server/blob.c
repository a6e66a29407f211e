/* Stockroom — local-file blob store with atomic, durable writes. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blob.h"

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

struct blob {
    char root[1100];
};

static int
mkdirs_for(const char *path)
{
    char buf[1400];

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

/* fsync the folder holding path, so a rename into it survives a crash. */
static int
sync_dir_of(const char *path)
{
    char dir[1400];
    char *slash;
    int fd, rc;

    snprintf(dir, sizeof dir, "%s", path);
    slash = strrchr(dir, '/');
    if (!slash)
        return 0;
    *slash = '\0';
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

int
blob_open(const char *dir, struct blob **out)
{
    struct blob *b = calloc(1, sizeof *b);

    if (!b)
        return -1;
    snprintf(b->root, sizeof b->root, "%s", dir);
    if (mkdir(b->root, 0750) < 0 && errno != EEXIST) {
        free(b);
        return -1;
    }
    *out = b;
    return 0;
}

void
blob_close(struct blob *b)
{
    free(b);
}

void
blob_path(struct blob *b, const char *key, char *out, size_t len)
{
    snprintf(out, len, "%s/%s", b->root, key);
}

int
blob_put_file(struct blob *b, const char *key, const char *tmp_path)
{
    char dst[1400];
    int fd;
    int rc;

    if (blob_fault_hit())
        return -1;
    fd = open(tmp_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    if (rc < 0)
        return -1;
    blob_path(b, key, dst, sizeof dst);
    if (mkdirs_for(dst) < 0 || rename(tmp_path, dst) < 0)
        return -1;
    return sync_dir_of(dst);
}

int
blob_put_bytes(struct blob *b, const char *key, const void *data, size_t len)
{
    char dst[1400], tmp[1450];
    const char *p = data;
    int fd, rc = -1;

    if (blob_fault_hit())
        return -1;
    blob_path(b, key, dst, sizeof dst);
    if (mkdirs_for(dst) < 0)
        return -1;
    snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", dst);
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return -1;
    while (len > 0) {
        ssize_t w = write(fd, p, len);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            goto out;
        p += w;
        len -= (size_t)w;
    }
    if (fsync(fd) < 0)
        goto out;
    if (rename(tmp, dst) < 0)
        goto out;
    tmp[0] = '\0';
    rc = sync_dir_of(dst);
out:
    close(fd);
    if (tmp[0])
        unlink(tmp);
    return rc;
}

int
blob_open_read(struct blob *b, const char *key, int *fd, uint64_t *size)
{
    char path[1400];
    struct stat st;
    int f;

    blob_path(b, key, path, sizeof path);
    f = open(path, O_RDONLY | O_CLOEXEC);
    if (f < 0)
        return -1;
    if (fstat(f, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(f);
        return -1;
    }
    *fd = f;
    *size = (uint64_t)st.st_size;
    return 0;
}

int
blob_remove(struct blob *b, const char *key)
{
    char path[1400];

    blob_path(b, key, path, sizeof path);
    return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
}

int
blob_exists(struct blob *b, const char *key)
{
    char path[1400];

    blob_path(b, key, path, sizeof path);
    return access(path, F_OK) == 0;
}

void
blob_key_original(const char *sha256_hex, char *out, size_t len)
{
    snprintf(out, len, "originals/%.2s/%s", sha256_hex, sha256_hex);
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
