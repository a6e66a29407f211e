/* Stockroom imaging: start-up, errors, deadlines, checked open and decode.
 * SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* The only loaders a photo may reach. libvips picks a loader by sniffing
 * the bytes, so everything else (ImageMagick, poppler, librsvg, ppm, ...)
 * is blocked at start-up and refused again here after opening. */
static const char *const allowed_loaders[] = {
    "jpegload",        "jpegload_source", "jpegload_buffer", "pngload",
    "pngload_source",  "pngload_buffer",  "webpload",        "webpload_source",
    "webpload_buffer", "tiffload",        "tiffload_source", "tiffload_buffer",
    "heifload",        "heifload_source", "heifload_buffer", NULL};

/* Loader classes to unblock after blocking the VipsForeignLoad base class
 * and with it every loader libvips has or a module adds. */
static const char *const allowed_classes[] = {
    "VipsForeignLoadJpeg", "VipsForeignLoadPng",  "VipsForeignLoadWebp",
    "VipsForeignLoadTiff", "VipsForeignLoadHeif", NULL};

int
img_init(void)
{
    int i;

    if (VIPS_INIT("stockroom") != 0) {
        vips_error_clear();
        return IMG_EGENERIC;
    }
    vips_block_untrusted_set(TRUE);
    vips_operation_block_set("VipsForeignLoad", TRUE);
    for (i = 0; allowed_classes[i]; i++)
        vips_operation_block_set(allowed_classes[i], FALSE);
    /* Each image is seen once: caching its operations only costs memory.
     * Workers parallelise across images, so one thread per image. */
    vips_cache_set_max(0);
    vips_concurrency_set(1);
    return IMG_OK;
}

void
img_shutdown(void)
{
    vips_shutdown();
}

const char *
img_format_name(enum img_format f)
{
    switch (f) {
    case IMG_FMT_JPEG:
        return "jpeg";
    case IMG_FMT_PNG:
        return "png";
    case IMG_FMT_WEBP:
        return "webp";
    case IMG_FMT_TIFF:
        return "tiff";
    case IMG_FMT_HEIF:
        return "heif";
    }
    return "unknown";
}

void
img_buf_release(struct img_buf *b)
{
    if (!b)
        return;
    g_free(b->data); /* libvips savers allocate with g_malloc */
    b->data = NULL;
    b->len = 0;
}

void
img__err(char *err, const char *fmt, ...)
{
    va_list ap;

    if (!err)
        return;
    va_start(ap, fmt);
    vsnprintf(err, IMG_ERR_LEN, fmt, ap);
    va_end(ap);
}

void
img__vips_err(char *err, const char *what)
{
    char msg[IMG_ERR_LEN];
    size_t len;

    snprintf(msg, sizeof msg, "%s", vips_error_buffer());
    vips_error_clear();
    /* libvips ends each message with a newline; keep only the first line. */
    len = strcspn(msg, "\n");
    msg[len] = '\0';
    img__err(err, "%s: %s", what, len ? msg : "libvips failed");
}

static void
deadline_eval(VipsImage *im, VipsProgress *progress, void *user)
{
    struct img__deadline *d = user;

    (void)progress;
    if (d->end_us && g_get_monotonic_time() > d->end_us) {
        g_atomic_int_set(&d->fired, 1);
        vips_image_set_kill(im, TRUE);
    }
}

void
img__deadline_start(struct img__deadline *d, int ms)
{
    d->end_us = ms > 0 ? g_get_monotonic_time() + (gint64)ms * 1000 : 0;
    d->fired = 0;
}

void
img__deadline_watch(struct img__deadline *d, VipsImage *im)
{
    if (!d->end_us)
        return;
    vips_image_set_progress(im, TRUE);
    g_signal_connect(im, "eval", G_CALLBACK(deadline_eval), d);
}

int
img__deadline_code(struct img__deadline *d, int code, char *err)
{
    /* A kill surfaces as an ordinary libvips error; our flag says why. */
    if (g_atomic_int_get(&d->fired) ||
        (d->end_us && g_get_monotonic_time() > d->end_us)) {
        img__err(err, "decoding took longer than the deadline");
        return IMG_ETIMEOUT;
    }
    return code;
}

static int
read_head(const char *path, unsigned char *buf, size_t cap, size_t *len,
          char *err)
{
    int fd;
    ssize_t n;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        img__err(err, "cannot open image: %s", strerror(errno));
        return IMG_EGENERIC;
    }
    n = read(fd, buf, cap);
    close(fd);
    if (n < 0) {
        img__err(err, "cannot read image: %s", strerror(errno));
        return IMG_EGENERIC;
    }
    *len = (size_t)n;
    return IMG_OK;
}

static int
loader_allowed(const char *loader)
{
    int i;

    for (i = 0; allowed_loaders[i]; i++)
        if (strcmp(loader, allowed_loaders[i]) == 0)
            return 1;
    return 0;
}

int
img__open(const char *path, struct img__source *src, char *err)
{
    unsigned char head[64];
    size_t len;
    const char *loader = NULL;
    VipsImage *im = NULL;
    VipsBandFormat bf;
    int rc;

    rc = read_head(path, head, sizeof head, &len, err);
    if (rc != IMG_OK)
        return rc;
    if (len == 0) {
        img__err(err, "the file is empty");
        return IMG_EEMPTY;
    }
    src->format = img__sniff(head, len);
    if (!src->format) {
        img__err(err, "not a JPEG, PNG, WebP, TIFF, HEIC or AVIF image");
        return IMG_EUNSUPPORTED;
    }
    im = vips_image_new_from_file(path, "access", VIPS_ACCESS_SEQUENTIAL,
                                  "fail_on", VIPS_FAIL_ON_ERROR, NULL);
    if (!im) {
        img__vips_err(err, "cannot read the image header");
        rc = IMG_ECORRUPT;
        goto out;
    }
    if (vips_image_get_string(im, VIPS_META_LOADER, &loader) != 0 ||
        !loader_allowed(loader)) {
        vips_error_clear();
        img__err(err, "image type not accepted (loader %s)",
                 loader ? loader : "unknown");
        rc = IMG_EUNSUPPORTED;
        goto out;
    }
    bf = vips_image_get_format(im);
    if (vips_image_get_coding(im) != VIPS_CODING_NONE ||
        (bf != VIPS_FORMAT_UCHAR && bf != VIPS_FORMAT_USHORT)) {
        img__err(err, "%s samples are not accepted: 8 or 16-bit only",
                 vips_enum_nick(VIPS_TYPE_BAND_FORMAT, bf));
        rc = IMG_EUNSUPPORTED;
        goto out;
    }
    src->width = vips_image_get_width(im);
    src->height = vips_image_get_height(im);
    if (vips_image_get_orientation_swap(im)) {
        src->width = vips_image_get_height(im);
        src->height = vips_image_get_width(im);
    }
    src->header = im;
    im = NULL;
out:
    if (im)
        g_object_unref(im);
    return rc;
}

/* Make in sRGB, 3 bands of uchar, with any alpha flattened onto white. */
static int
to_srgb8(VipsImage *in, VipsImage **out, char *err)
{
    VipsImage *t[3] = {NULL, NULL, NULL};
    VipsImage *cur = in;
    int rc = IMG_OK;

    if (vips_image_get_interpretation(cur) != VIPS_INTERPRETATION_sRGB ||
        vips_image_get_format(cur) != VIPS_FORMAT_UCHAR) {
        if (vips_colourspace(cur, &t[0], VIPS_INTERPRETATION_sRGB, NULL)) {
            img__vips_err(err, "cannot convert to sRGB");
            rc = IMG_ECORRUPT;
            goto out;
        }
        cur = t[0];
    }
    if (vips_image_hasalpha(cur)) {
        VipsArrayDouble *white = vips_array_double_newv(1, 255.0);

        rc = vips_flatten(cur, &t[1], "background", white, NULL);
        vips_area_unref(VIPS_AREA(white));
        if (rc) {
            img__vips_err(err, "cannot flatten the alpha channel");
            rc = IMG_ECORRUPT;
            goto out;
        }
        cur = t[1];
    }
    if (vips_image_get_bands(cur) > 3) {
        /* A second alpha or spare channels: keep the colour. */
        if (vips_extract_band(cur, &t[2], 0, "n", 3, NULL)) {
            img__vips_err(err, "cannot select the colour bands");
            rc = IMG_ECORRUPT;
            goto out;
        }
        cur = t[2];
    } else if (vips_image_get_bands(cur) < 3) {
        img__err(err, "cannot convert %d bands to sRGB",
                 vips_image_get_bands(cur));
        rc = IMG_ECORRUPT;
        goto out;
    }
    if (vips_cast_uchar(cur, out, NULL)) {
        img__vips_err(err, "cannot convert to 8 bits");
        rc = IMG_ECORRUPT;
    }
out:
    for (int i = 0; i < 3; i++)
        if (t[i])
            g_object_unref(t[i]);
    return rc;
}

int
img__decode(const char *path, const struct img__source *src, int long_edge,
            VipsImage **out, char *err)
{
    VipsImage *thumb = NULL;
    const char *fallback;
    int rc;

    /* The fallback profile for files without one must match their bands:
     * lcms refuses an RGB profile on grey pixels. Grey is made sRGB after
     * the decode instead. */
    if (vips_image_get_interpretation(src->header) == VIPS_INTERPRETATION_CMYK)
        fallback = "cmyk";
    else if (vips_image_get_bands(src->header) >= 3)
        fallback = "srgb";
    else
        fallback = NULL;
    if (vips_thumbnail(path, &thumb, long_edge, "height", long_edge, "size",
                       VIPS_SIZE_DOWN, "import_profile", fallback,
                       "export_profile", "srgb", "fail_on", VIPS_FAIL_ON_ERROR,
                       NULL)) {
        img__vips_err(err, "cannot decode the image");
        return IMG_ECORRUPT;
    }
    rc = to_srgb8(thumb, out, err);
    g_object_unref(thumb);
    return rc;
}
