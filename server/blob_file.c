/* Stockroom — the local-file blob store: atomic, durable writes. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blobint.h"

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
blob__file_open(struct blob *b, const char *dir)
{
    snprintf(b->root, sizeof b->root, "%s", dir);
    if (mkdir(b->root, 0750) < 0 && errno != EEXIST)
        return -1;
    return 0;
}

void
blob__file_path(struct blob *b, const char *key, char *out, size_t len)
{
    snprintf(out, len, "%s/%s", b->root, key);
}

int
blob__file_put_file(struct blob *b, const char *key, const char *tmp_path)
{
    char dst[1400];
    int fd = open(tmp_path, O_RDONLY | O_CLOEXEC);
    int rc;

    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    if (rc < 0)
        return -1;
    blob__file_path(b, key, dst, sizeof dst);
    if (mkdirs_for(dst) < 0 || rename(tmp_path, dst) < 0)
        return -1;
    return sync_dir_of(dst);
}

int
blob__file_put_bytes(struct blob *b, const char *key, const void *data,
                     size_t len)
{
    char dst[1400], tmp[1450];
    const char *p = data;
    int fd, rc = -1;

    blob__file_path(b, key, dst, sizeof dst);
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
blob__file_open_read(struct blob *b, const char *key, int *fd, uint64_t *size)
{
    char path[1400];
    struct stat st;
    int f;

    blob__file_path(b, key, path, sizeof path);
    f = open(path, O_RDONLY | O_CLOEXEC);
    if (f < 0)
        return errno == ENOENT ? BLOB_ENOTFOUND : BLOB_EIO;
    if (fstat(f, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(f);
        return -1;
    }
    *fd = f;
    *size = (uint64_t)st.st_size;
    return 0;
}

int
blob__file_remove(struct blob *b, const char *key)
{
    char path[1400];

    blob__file_path(b, key, path, sizeof path);
    return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
}

int
blob__file_exists(struct blob *b, const char *key)
{
    char path[1400];

    blob__file_path(b, key, path, sizeof path);
    return access(path, F_OK) == 0;
}

/* Walk one folder of the store, keys relative to the root. */
static int
walk(struct blob *b, const char *rel, blob_list_fn fn, void *arg)
{
    char path[1400];
    struct dirent *d;
    DIR *dir;
    int rc = 0;

    snprintf(path, sizeof path, "%s/%s", b->root, rel);
    dir = opendir(path);
    if (!dir)
        return errno == ENOENT ? 0 : BLOB_EIO;
    while (rc == 0 && (d = readdir(dir))) {
        char sub[1400], full[2900];
        struct stat st;

        if (d->d_name[0] == '.')
            continue;
        snprintf(sub, sizeof sub, "%s%s%s", rel, rel[0] ? "/" : "", d->d_name);
        snprintf(full, sizeof full, "%s/%s", b->root, sub);
        if (lstat(full, &st) < 0)
            continue;
        if (S_ISDIR(st.st_mode))
            rc = walk(b, sub, fn, arg);
        else if (S_ISREG(st.st_mode) && !strstr(d->d_name, ".tmp-"))
            rc = fn(sub, (uint64_t)st.st_size, (int64_t)st.st_mtime, arg);
    }
    closedir(dir);
    return rc;
}

int
blob__file_list(struct blob *b, const char *prefix, blob_list_fn fn, void *arg)
{
    char rel[600];
    size_t n;

    /* Keys are folders: walk the deepest folder the prefix names. */
    snprintf(rel, sizeof rel, "%s", prefix);
    n = strlen(rel);
    while (n > 0 && rel[n - 1] != '/')
        rel[--n] = '\0';
    if (n > 0)
        rel[--n] = '\0';
    return walk(b, rel, fn, arg);
}
