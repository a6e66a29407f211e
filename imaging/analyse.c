/* Stockroom imaging: the upload check. SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define THUMB_EDGE 240
#define THUMB_Q 80

static int
check_limits(uint64_t w, uint64_t h, const struct img_limits *lim, char *err)
{
    uint64_t px = w * h; /* both < 2^32: cannot overflow */
    uint64_t lo = MIN(w, h), hi = MAX(w, h);

    if (lo == 0) {
        img__err(err, "the image declares no pixels");
        return IMG_ECORRUPT;
    }
    if (lim->max_pixels && px > lim->max_pixels) {
        img__err(err, "image too large: %llu x %llu = %.1f MP, over %.1f MP",
                 (unsigned long long)w, (unsigned long long)h, px / 1e6,
                 lim->max_pixels / 1e6);
        return IMG_ETOOMANYPIXELS;
    }
    if (lim->max_aspect > 0 && hi > lo * (uint64_t)lim->max_aspect) {
        img__err(err, "image shape %llu x %llu is beyond %d:1",
                 (unsigned long long)w, (unsigned long long)h, lim->max_aspect);
        return IMG_ESHAPE;
    }
    if (px < lim->min_pixels) {
        img__err(err, "image too small: %llu x %llu = %.2f MP, under %.1f MP",
                 (unsigned long long)w, (unsigned long long)h, px / 1e6,
                 lim->min_pixels / 1e6);
        return IMG_ETOOSMALL;
    }
    return IMG_OK;
}

/* Everything the bytes alone can tell: format, MIME type, hidden content,
 * and the PNG header's claims, which libpng itself refuses to report when
 * absurd. */
static int
check_bytes(const char *path, const struct img_limits *lim,
            struct img_analysis *a, char *err)
{
    struct stat st;
    unsigned char *map = MAP_FAILED;
    uint64_t png_w, png_h;
    size_t n = 0;
    int fd, rc = IMG_OK;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        img__err(err, "cannot open image: %s", strerror(errno));
        rc = IMG_EGENERIC;
        goto out;
    }
    if (st.st_size == 0) {
        img__err(err, "the file is empty");
        rc = IMG_EEMPTY;
        goto out;
    }
    n = (size_t)st.st_size;
    map = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        img__err(err, "cannot map image: %s", strerror(errno));
        rc = IMG_EGENERIC;
        goto out;
    }
    a->format = img__sniff(map, n);
    if (!a->format) {
        img__err(err, "not a JPEG, PNG, WebP, TIFF, HEIC or AVIF image");
        rc = IMG_EUNSUPPORTED;
        goto out;
    }
    a->mime = img__mime(map, n, a->format);
    rc = img__scan(map, n, a->format, &png_w, &png_h, err);
    if (rc == IMG_OK && png_w && png_h)
        rc = check_limits(png_w, png_h, lim, err);
out:
    if (map != MAP_FAILED)
        munmap(map, n);
    if (fd >= 0)
        close(fd);
    return rc;
}

int
img_analyse(const char *path, const struct img_limits *lim,
            struct img_analysis *out, char err[IMG_ERR_LEN])
{
    static const struct img_limits none = {0, 0, 0, 0};
    struct img_analysis a = {0};
    struct img__source src = {0};
    struct img__deadline dl;
    VipsImage *decoded = NULL, *mem = NULL, *shrunk = NULL, *small = NULL;
    double scale;
    int rc;

    if (!lim)
        lim = &none;
    img__deadline_start(&dl, lim->deadline_ms);
    rc = check_bytes(path, lim, &a, err);
    if (rc != IMG_OK)
        goto out;
    rc = img__open(path, &src, err);
    if (rc != IMG_OK)
        goto out;
    rc = check_limits((uint64_t)src.width, (uint64_t)src.height, lim, err);
    if (rc != IMG_OK)
        goto out;
    a.width = src.width;
    a.height = src.height;

    /* The one decode: to the preview's size, because libjpeg's entropy
     * decoding costs the same whatever the DCT scaling, so a second decode
     * for the preview would cost almost as much as this one. */
    rc = img__decode(path, &src, IMG_BASE_EDGE, &decoded, err);
    if (rc != IMG_OK)
        goto out;
    /* The decode is sequential and can be read once: copy the result
     * (1.9 MB at most) to memory, and make everything from there. */
    img__deadline_watch(&dl, decoded);
    mem = vips_image_copy_memory(decoded);
    if (!mem) {
        img__vips_err(err, "cannot decode the image");
        rc = img__deadline_code(&dl, IMG_ECORRUPT, err);
        goto out;
    }
    rc = img__base_pack(mem, &a.base, err);
    if (rc != IMG_OK)
        goto out;
    /* The scale vips_thumbnail would use, so the long edge is exactly
     * THUMB_EDGE; a smaller image stays as it is. */
    scale = (double)THUMB_EDGE /
            MAX(vips_image_get_width(mem), vips_image_get_height(mem));
    if (scale < 1.0 && vips_resize(mem, &shrunk, scale, NULL)) {
        img__vips_err(err, "cannot shrink the thumbnail");
        rc = IMG_EGENERIC;
        goto out;
    }
    small = vips_image_copy_memory(shrunk ? shrunk : mem);
    if (!small) {
        img__vips_err(err, "cannot shrink the thumbnail");
        rc = IMG_EGENERIC;
        goto out;
    }
    if (vips_jpegsave_buffer(small, &a.thumbnail.data, &a.thumbnail.len, "Q",
                             THUMB_Q, "strip", TRUE, NULL)) {
        img__vips_err(err, "cannot save the thumbnail");
        rc = IMG_EGENERIC;
        goto out;
    }
    /* Hashes from the thumbnail's pixels, as before the preview base
     * existed: catalogue hashes stay comparable. */
    img__dhash8(small, a.dhash);
    g_strlcpy(a.colour, img__colour(small), sizeof a.colour);
    img__meta_read(src.header, &a);
    *out = a;
    memset(&a, 0, sizeof a);
out:
    img_analysis_release(&a);
    if (small)
        g_object_unref(small);
    if (shrunk)
        g_object_unref(shrunk);
    if (mem)
        g_object_unref(mem);
    if (decoded)
        g_object_unref(decoded);
    if (src.header)
        g_object_unref(src.header);
    return rc;
}

void
img_analysis_release(struct img_analysis *a)
{
    if (!a)
        return;
    g_free(a->title);
    a->title = NULL;
    g_free(a->description);
    a->description = NULL;
    g_free(a->keywords);
    a->keywords = NULL;
    img_buf_release(&a->thumbnail);
    img_buf_release(&a->base);
}
