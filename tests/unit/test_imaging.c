/* Stockroom: unit tests of imaging/ against the shared image corpus.
 * SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <limits.h>
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <vips/vips.h>

#include "imaging.h"

static char corpus[PATH_MAX]; /* absolute path of shared/corpus */
static char tmpdir[PATH_MAX]; /* scratch files made by the tests */

static const struct img_limits store_limits = {4000000, 100000000, 20, 20000};
static const struct img_limits open_limits = {0, 100000000, 20, 20000};

static const char *
corpus_file(const char *rel)
{
    static char path[PATH_MAX * 2];

    snprintf(path, sizeof path, "%s/%s", corpus, rel);
    return path;
}

static double
now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static int
analyse(const char *path, const struct img_limits *lim, struct img_analysis *a)
{
    char err[IMG_ERR_LEN] = "";
    int rc = img_analyse(path, lim, a, err);

    if (rc != IMG_OK)
        print_message("  %s: %d %s\n", path, rc, err);
    return rc;
}

/* Load an encoded file into a memory image, for pixel checks. */
static VipsImage *
load_buf(const struct img_buf *b)
{
    VipsImage *im = vips_image_new_from_buffer(b->data, b->len, "", NULL);
    VipsImage *mem;

    assert_non_null(im);
    mem = vips_image_copy_memory(im);
    g_object_unref(im);
    assert_non_null(mem);
    return mem;
}

/* No EXIF, XMP, IPTC or GPS field at all. */
static void
assert_no_metadata(VipsImage *im)
{
    gchar **fields = vips_image_get_fields(im);
    int i;

    assert_int_equal(vips_image_get_typeof(im, VIPS_META_EXIF_NAME), 0);
    assert_int_equal(vips_image_get_typeof(im, VIPS_META_XMP_NAME), 0);
    assert_int_equal(vips_image_get_typeof(im, VIPS_META_IPTC_NAME), 0);
    for (i = 0; fields[i]; i++)
        assert_null(strstr(fields[i], "exif-ifd3")); /* the GPS IFD */
    g_strfreev(fields);
}

static int
has_suffix(const char *name, const char *suffix)
{
    size_t n = strlen(name), s = strlen(suffix);

    return n >= s && g_ascii_strcasecmp(name + n - s, suffix) == 0;
}

/* Every real photo in an accepted format passes; GIF, JPEG XL, JPEG 2000
 * and the 12-bit JPEG are refused as unsupported. */
static void
test_real_corpus(void **state)
{
    char dir[PATH_MAX * 2];
    struct dirent *e;
    DIR *d;
    int seen = 0;

    (void)state;
    snprintf(dir, sizeof dir, "%s/real", corpus);
    d = opendir(dir);
    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        struct img_analysis a;
        char path[PATH_MAX * 3];
        int refused, rc;

        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        refused = has_suffix(e->d_name, ".gif") ||
                  has_suffix(e->d_name, ".jxl") ||
                  has_suffix(e->d_name, ".jp2") ||
                  strncmp(e->d_name, "51-", 3) == 0; /* 12-bit JPEG */
        rc = analyse(path, &open_limits, &a);
        seen++;
        if (refused) {
            assert_int_equal(rc, IMG_EUNSUPPORTED);
            continue;
        }
        assert_int_equal(rc, IMG_OK);
        assert_true(a.width > 0 && a.height > 0);
        assert_non_null(a.mime);
        assert_true(a.colour[0] != '\0');
        assert_true(a.thumbnail.len > 0);
        {
            VipsImage *t = load_buf(&a.thumbnail);

            assert_true(
                MAX(vips_image_get_width(t), vips_image_get_height(t)) <= 240);
            assert_int_equal(vips_image_get_bands(t), 3);
            assert_no_metadata(t);
            g_object_unref(t);
        }
        img_analysis_release(&a);
        assert_null(a.title);
        assert_null(a.thumbnail.data);
    }
    closedir(d);
    assert_true(seen >= 60);
}

struct expect {
    const char *file;
    int rc;
    int alt_rc; /* a second acceptable code, or the same */
};

/* The adversarial corpus with the minimum size lowered, so that each file
 * reaches the check it was made for. */
static void
test_adversarial(void **state)
{
    static const struct expect table[] = {
        {"control-valid-640x480.jpg", IMG_OK, IMG_OK},
        {"empty-0-bytes.jpg", IMG_EEMPTY, IMG_EEMPTY},
        {"gif-screen-65535x65535.gif", IMG_EUNSUPPORTED, IMG_EUNSUPPORTED},
        {"jpeg-exif-64k.jpg", IMG_OK, IMG_OK},
        {"jpeg-exif-malformed-loop.jpg", IMG_OK, IMG_OK},
        {"jpeg-exif-orientation-9.jpg", IMG_OK, IMG_OK},
        {"jpeg-header-65000x65000.jpg", IMG_ETOOMANYPIXELS, IMG_ETOOMANYPIXELS},
        {"jpeg-icc-garbage.jpg", IMG_OK, IMG_OK},
        {"jpeg-named-as.png", IMG_OK, IMG_OK},
        {"jpeg-progressive-20000-scans.jpg", IMG_ECORRUPT, IMG_ETIMEOUT},
        {"jpeg-trailing-junk-64k.jpg", IMG_OK, IMG_OK},
        {"jpeg-truncated-half.jpg", IMG_ECORRUPT, IMG_ECORRUPT},
        {"path-traversal-filenames.json", IMG_EUNSUPPORTED, IMG_EUNSUPPORTED},
        {"path-traversal-payload.jpg", IMG_OK, IMG_OK},
        {"png-100000x1.png", IMG_ESHAPE, IMG_ESHAPE},
        {"png-1x1.png", IMG_OK, IMG_OK},
        {"png-1x100000.png", IMG_ESHAPE, IMG_ESHAPE},
        {"png-bomb-30000x30000.png", IMG_ETOOMANYPIXELS, IMG_ETOOMANYPIXELS},
        {"png-huge-ztxt-itxt.png", IMG_OK, IMG_OK},
        {"png-ihdr-2147483647-square.png", IMG_ETOOMANYPIXELS,
         IMG_ETOOMANYPIXELS},
        {"png-named-as.jpg", IMG_OK, IMG_OK},
        {"png-truncated-half.png", IMG_ECORRUPT, IMG_ECORRUPT},
        {"polyglot-jpeg-html.jpg", IMG_EEMBEDDED, IMG_EEMBEDDED},
        {"polyglot-jpeg-zip.jpg", IMG_EEMBEDDED, IMG_EEMBEDDED},
        {"ppm-named-as.jpg", IMG_EUNSUPPORTED, IMG_EUNSUPPORTED},
        {"random-bytes.jpg", IMG_EUNSUPPORTED, IMG_EUNSUPPORTED},
        {"svg-billion-laughs.svg", IMG_EUNSUPPORTED, IMG_EUNSUPPORTED},
        {"svg-named-as.jpg", IMG_EUNSUPPORTED, IMG_EUNSUPPORTED},
        {"svg-script-external-href.svg", IMG_EUNSUPPORTED, IMG_EUNSUPPORTED},
        {"tiff-2500-pages.tif", IMG_OK, IMG_OK},
        {"tiff-float16-gray.tif", IMG_EUNSUPPORTED, IMG_ECORRUPT},
        {"tiff-float32-nan-inf.tif", IMG_EUNSUPPORTED, IMG_EUNSUPPORTED},
        {"tiff-ifd-loop.tif", IMG_OK, IMG_OK},
        {"xpm-named-as.jpg", IMG_EUNSUPPORTED, IMG_EUNSUPPORTED},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof table / sizeof table[0]; i++) {
        char rel[256];
        struct img_analysis a;
        double t0;
        int rc;

        snprintf(rel, sizeof rel, "adversarial/%s", table[i].file);
        t0 = now();
        rc = analyse(corpus_file(rel), &open_limits, &a);
        if (rc != table[i].rc && rc != table[i].alt_rc)
            fail_msg("%s: got %d, want %d", table[i].file, rc, table[i].rc);
        if (rc == IMG_ETOOMANYPIXELS)
            assert_true(now() - t0 < 0.5); /* refused from the header */
        if (rc == IMG_OK)
            img_analysis_release(&a);
    }
}

/* The store's own limits: 4 MP minimum, 20:1 at most. */
static void
test_store_limits(void **state)
{
    struct img_analysis a;

    (void)state;
    assert_int_equal(
        analyse(corpus_file("adversarial/png-1x1.png"), &store_limits, &a),
        IMG_ETOOSMALL);
    assert_int_equal(
        analyse(corpus_file("adversarial/png-100000x1.png"), &store_limits, &a),
        IMG_ESHAPE);
    assert_int_equal(
        analyse(corpus_file("adversarial/control-valid-640x480.jpg"),
                &store_limits, &a),
        IMG_ETOOSMALL);
    assert_int_equal(analyse(corpus_file("real/02-exiv2-exiv2-bug922a.jpg"),
                             &store_limits, &a),
                     IMG_OK);
    assert_int_equal(a.width, 6000);
    assert_int_equal(a.height, 4000);
    img_analysis_release(&a);
}

static void
test_formats(void **state)
{
    static const struct {
        const char *file;
        enum img_format f;
        const char *mime;
    } table[] = {
        {"real/08-exiv2-IMG_3578.heic", IMG_FMT_HEIF, "image/heic"},
        {"real/13-libheif-example.avif", IMG_FMT_HEIF, "image/avif"},
        {"real/66-vips-1.webp", IMG_FMT_WEBP, "image/webp"},
        {"real/75-pillow-hopper_bigtiff.tif", IMG_FMT_TIFF, "image/tiff"},
        {"adversarial/png-named-as.jpg", IMG_FMT_PNG, "image/png"},
        {"adversarial/jpeg-named-as.png", IMG_FMT_JPEG, "image/jpeg"},
    };
    struct img_analysis a;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof table / sizeof table[0]; i++) {
        assert_int_equal(analyse(corpus_file(table[i].file), &open_limits, &a),
                         IMG_OK);
        assert_int_equal(a.format, table[i].f);
        assert_string_equal(a.mime, table[i].mime);
        img_analysis_release(&a);
    }
    assert_string_equal(img_format_name(IMG_FMT_JPEG), "jpeg");
    assert_string_equal(img_format_name(IMG_FMT_HEIF), "heif");
}

/* The loaders outside the allow-list are blocked inside libvips too, so
 * nothing reaches ImageMagick, librsvg or poppler by another path. */
static void
test_loaders_blocked(void **state)
{
    static const char *const files[] = {
        "real/77-vips-garden.gif",      "real/78-exiv2-Reagan.jxl",
        "real/79-exiv2-Reagan2.jp2",    "adversarial/svg-named-as.jpg",
        "adversarial/xpm-named-as.jpg", "adversarial/ppm-named-as.jpg",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof files / sizeof files[0]; i++) {
        VipsImage *im = vips_image_new_from_file(corpus_file(files[i]), NULL);

        if (im)
            fail_msg("%s opened with %s", files[i],
                     vips_foreign_find_load(corpus_file(files[i])));
        vips_error_clear();
    }
}

/* All eight EXIF orientations come out upright and hash alike. */
static void
test_orientation(void **state)
{
    struct img_analysis ref, a;
    char rel[64];
    int i;

    (void)state;
    assert_int_equal(
        analyse(corpus_file("real/39-vips-rotation-1.jpg"), &open_limits, &ref),
        IMG_OK);
    assert_int_equal(ref.width, 308);
    assert_int_equal(ref.height, 410);
    for (i = 2; i <= 8; i++) {
        snprintf(rel, sizeof rel, "real/%d-vips-rotation-%d.jpg", 38 + i, i);
        assert_int_equal(analyse(corpus_file(rel), &open_limits, &a), IMG_OK);
        /* 43-46 are a smaller copy of the same portrait photo. */
        assert_true(a.height > a.width);
        assert_true(abs(a.width * 410 - a.height * 308) < 410 * 2);
        assert_true(img_dhash_distance(a.dhash[0], ref.dhash[0]) <= 6);
        img_analysis_release(&a);
    }
    img_analysis_release(&ref);
}

static void
save_transformed(const char *src, const char *dst, int rot)
{
    VipsImage *in = vips_image_new_from_file(src, NULL), *out = NULL;

    assert_non_null(in);
    if (rot)
        assert_int_equal(vips_rot(in, &out, VIPS_ANGLE_D90, NULL), 0);
    else
        assert_int_equal(vips_flip(in, &out, VIPS_DIRECTION_HORIZONTAL, NULL),
                         0);
    assert_int_equal(vips_image_write_to_file(out, dst, "Q", 90, NULL), 0);
    g_object_unref(out);
    g_object_unref(in);
}

static int
best_variant(uint64_t h, const struct img_analysis *orig, int *dist)
{
    int v, best = 0;

    *dist = 65;
    for (v = 0; v < 8; v++)
        if (img_dhash_distance(h, orig->dhash[v]) < *dist) {
            *dist = img_dhash_distance(h, orig->dhash[v]);
            best = v;
        }
    return best;
}

/* A rotated or mirrored copy matches one of the 8 hashes of the original;
 * an unrelated photo matches none. */
static void
test_dihedral_match(void **state)
{
    const char *photo = corpus_file("real/17-plasma-BytheWater-2560x1600.jpg");
    char rot[PATH_MAX + 16], flip[PATH_MAX + 16];
    struct img_analysis orig, a;
    int dist, v;

    (void)state;
    snprintf(rot, sizeof rot, "%s/rot90.jpg", tmpdir);
    snprintf(flip, sizeof flip, "%s/flip.jpg", tmpdir);
    assert_int_equal(analyse(photo, &open_limits, &orig), IMG_OK);
    save_transformed(photo, rot, 1);
    save_transformed(photo, flip, 0);

    assert_int_equal(analyse(rot, &open_limits, &a), IMG_OK);
    v = best_variant(a.dhash[0], &orig, &dist);
    assert_int_equal(v, IMG_DHASH_ROT90);
    assert_true(dist <= 6);
    img_analysis_release(&a);

    assert_int_equal(analyse(flip, &open_limits, &a), IMG_OK);
    v = best_variant(a.dhash[0], &orig, &dist);
    assert_int_equal(v, IMG_DHASH_FLIP_H);
    assert_true(dist <= 6);
    img_analysis_release(&a);

    assert_int_equal(
        analyse(corpus_file("real/19-mate-Storm.jpg"), &open_limits, &a),
        IMG_OK);
    best_variant(a.dhash[0], &orig, &dist);
    assert_true(dist > 10);
    img_analysis_release(&a);
    img_analysis_release(&orig);
    unlink(rot);
    unlink(flip);
}

/* Camera, date, title, description and keywords from EXIF, XMP and IPTC. */
static void
test_metadata(void **state)
{
    struct img_analysis a;

    (void)state;
    assert_int_equal(analyse(corpus_file("real/02-exiv2-exiv2-bug922a.jpg"),
                             &open_limits, &a),
                     IMG_OK);
    assert_string_equal(a.camera_make, "NIKON CORPORATION");
    assert_string_equal(a.camera_model, "NIKON D5300");
    assert_string_equal(a.date_taken, "2015-02-13T13:51:35");
    assert_string_equal(a.title, "the rest drink soda"); /* XMP x-default */
    assert_string_equal(a.description,
                        "Mrs Johnson's Austin Office"); /* IPTC */
    img_analysis_release(&a);

    assert_int_equal(
        analyse(corpus_file("real/29-pillow-iptc.jpg"), &open_limits, &a),
        IMG_OK);
    assert_string_equal(a.keywords,
                        "HvK,2006,summer,July,holiday,Hungary,Budapest");
    assert_string_equal(a.camera_make, "Nokia");
    img_analysis_release(&a);

    assert_int_equal(
        analyse(corpus_file("real/23-exiv2-DSC_3079.jpg"), &open_limits, &a),
        IMG_OK);
    assert_string_equal(a.keywords, "America");
    img_analysis_release(&a);

    assert_int_equal(
        analyse(corpus_file("real/27-pillow-xmp_test.jpg"), &open_limits, &a),
        IMG_OK);
    assert_string_equal(a.camera_model, "Canon EOS Rebel T6");
    assert_null(a.title);
    img_analysis_release(&a);

    assert_int_equal(
        analyse(corpus_file("real/25-exiv2-Reagan.jpg"), &open_limits, &a),
        IMG_OK);
    assert_string_equal(a.title, "040621-N-6536T-062");
    assert_non_null(strstr(a.keywords, "ronald reagan,reagan,cvn 76"));
    assert_true(strlen(a.description) <= 2000);
    img_analysis_release(&a);
}

static void
test_preview_metadata(void **state)
{
    static const char *const files[] = {
        "real/30-goexif-sample1.jpg",     /* GPS */
        "real/22-exiv2-exiv2-bug922.jpg", /* depth map in XMP */
        "real/02-exiv2-exiv2-bug922a.jpg",  "real/49-exiftool-GPS.jpg",
        "real/57-goximage-yellow_rose.png", /* alpha */
    };
    char err[IMG_ERR_LEN];
    struct img_buf b;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof files / sizeof files[0]; i++) {
        VipsImage *im;

        assert_int_equal(img_preview(corpus_file(files[i]),
                                     "Stockroom \xc2\xb7 Jane Doe", 7, 20000,
                                     &b, err),
                         IMG_OK);
        im = load_buf(&b);
        assert_int_equal(vips_image_get_bands(im), 3);
        assert_true(MAX(vips_image_get_width(im), vips_image_get_height(im)) <=
                    800);
        assert_no_metadata(im);
        g_object_unref(im);
        img_buf_release(&b);
        assert_null(b.data);
    }
    assert_int_equal(img_preview(corpus_file("real/02-exiv2-exiv2-bug922a.jpg"),
                                 "x", 1, 0, &b, err),
                     IMG_OK);
    {
        VipsImage *im = load_buf(&b);

        assert_int_equal(vips_image_get_width(im), 800);
        assert_int_equal(vips_image_get_height(im), 533);
        g_object_unref(im);
    }
    img_buf_release(&b);
    assert_int_equal(img_preview(corpus_file("adversarial/random-bytes.jpg"),
                                 "x", 1, 0, &b, err),
                     IMG_EUNSUPPORTED);
}

static void
assert_licensed(const struct img_buf *b, int w, int h)
{
    VipsImage *im = load_buf(b);
    const void *xmp;
    const char *copyright;
    size_t len;
    char *text;
    gchar **fields;
    int i;

    assert_int_equal(vips_image_get_width(im), w);
    assert_int_equal(vips_image_get_height(im), h);
    assert_int_equal(vips_image_get_bands(im), 3);
    assert_int_equal(vips_image_get_interpretation(im),
                     VIPS_INTERPRETATION_sRGB);
    assert_int_equal(vips_image_get_typeof(im, VIPS_META_IPTC_NAME), 0);
    assert_int_equal(vips_image_get_blob(im, VIPS_META_XMP_NAME, &xmp, &len),
                     0);
    text = g_strndup(xmp, len);
    assert_non_null(
        strstr(text, "\xc2\xa9 2026 Jane Doe, licensed via Stockroom"));
    assert_non_null(
        strstr(text, "<plus:LicenseID>lic_7&amp;x</plus:LicenseID>"));
    assert_null(strstr(text, "GPS"));
    g_free(text);
    assert_int_equal(
        vips_image_get_string(im, "exif-ifd0-Copyright", &copyright), 0);
    assert_non_null(strstr(copyright, "2026 Jane Doe"));
    assert_int_equal(
        vips_image_get_string(im, "exif-ifd0-ImageDescription", &copyright), 0);
    assert_non_null(strstr(copyright, "lic_7&x"));
    fields = vips_image_get_fields(im);
    for (i = 0; fields[i]; i++) {
        assert_null(strstr(fields[i], "exif-ifd3"));
        assert_null(strstr(fields[i], "Make"));
    }
    g_strfreev(fields);
    g_object_unref(im);
}

static void
test_render(void **state)
{
    const char *copyright = "\xc2\xa9 2026 Jane Doe, licensed via Stockroom";
    char err[IMG_ERR_LEN];
    struct img_buf b;

    (void)state;
    /* Original size, GPS in the source. */
    assert_int_equal(img_render(corpus_file("real/30-goexif-sample1.jpg"), 0,
                                copyright, "lic_7&x", 20000, &b, err),
                     IMG_OK);
    assert_licensed(&b, 500, 375);
    img_buf_release(&b);
    /* Never upscaled. */
    assert_int_equal(img_render(corpus_file("real/49-exiftool-GPS.jpg"), 1024,
                                copyright, "lic_7&x", 0, &b, err),
                     IMG_OK);
    assert_licensed(&b, 120, 80);
    img_buf_release(&b);
    /* Downsized, turned upright. */
    assert_int_equal(img_render(corpus_file("real/44-vips-rotation-6.jpg"), 200,
                                copyright, "lic_7&x", 0, &b, err),
                     IMG_OK);
    assert_licensed(&b, 150, 200);
    img_buf_release(&b);
}

/* CMYK comes out as 3-band sRGB with its colours: the CMYK and the RGB
 * encodings of the same frame hash alike. */
static void
test_cmyk(void **state)
{
    struct img_analysis cmyk, rgb;
    char err[IMG_ERR_LEN];
    struct img_buf b;
    VipsImage *im;

    (void)state;
    assert_int_equal(analyse(corpus_file("real/52-go-video-001.cmyk.jpeg"),
                             &open_limits, &cmyk),
                     IMG_OK);
    assert_int_equal(analyse(corpus_file("real/53-go-video-001.221212.jpeg"),
                             &open_limits, &rgb),
                     IMG_OK);
    assert_true(img_dhash_distance(cmyk.dhash[0], rgb.dhash[0]) <= 6);
    assert_string_equal(cmyk.colour, rgb.colour);
    img_analysis_release(&cmyk);
    img_analysis_release(&rgb);
    assert_int_equal(img_render(corpus_file("real/52-go-video-001.cmyk.jpeg"),
                                0, "c", "l", 0, &b, err),
                     IMG_OK);
    im = load_buf(&b);
    assert_int_equal(vips_image_get_bands(im), 3);
    assert_int_equal(vips_image_get_interpretation(im),
                     VIPS_INTERPRETATION_sRGB);
    g_object_unref(im);
    img_buf_release(&b);
}

static void
make_plain(const char *path, double level)
{
    VipsImage *black = NULL, *lit = NULL, *rgb = NULL;

    assert_int_equal(vips_black(&black, 3000, 2000, "bands", 3, NULL), 0);
    assert_int_equal(vips_linear1(black, &lit, 1.0, level, NULL), 0);
    assert_int_equal(vips_cast_uchar(lit, &rgb, NULL), 0);
    assert_int_equal(vips_image_write_to_file(rgb, path, "Q", 95, NULL), 0);
    g_object_unref(rgb);
    g_object_unref(lit);
    g_object_unref(black);
}

/* The preview of path, made from the original or from its analysis'
 * preview base, as the worker makes it. */
static VipsImage *
preview_image(const char *path, uint64_t seed, int from_base)
{
    const char *text = "Stockroom \xc2\xb7 Jane Doe";
    char err[IMG_ERR_LEN];
    struct img_analysis a;
    struct img_buf b;
    VipsImage *im;

    if (from_base) {
        assert_int_equal(analyse(path, &open_limits, &a), IMG_OK);
        assert_int_equal(img_preview_from_base(a.base.data, a.base.len, text,
                                               seed, 0, &b, err),
                         IMG_OK);
        img_analysis_release(&a);
    } else {
        assert_int_equal(img_preview(path, text, seed, 0, &b, err), IMG_OK);
    }
    im = load_buf(&b);
    img_buf_release(&b);
    return im;
}

/* Max and mean absolute difference of a w x h window of two images. */
static void
window_diff(VipsImage *a, VipsImage *b, int x, int y, int w, int h, int *max,
            double *mean)
{
    long sum = 0;
    int i, j, d;

    *max = 0;
    for (j = y; j < y + h; j++) {
        const VipsPel *p = VIPS_IMAGE_ADDR(a, x, j);
        const VipsPel *q = VIPS_IMAGE_ADDR(b, x, j);

        for (i = 0; i < w * 3; i++) {
            d = abs((int)p[i] - (int)q[i]);
            sum += d;
            *max = MAX(*max, d);
        }
    }
    *mean = (double)sum / ((double)w * h * 3);
}

/* No 200 x 200 window of the preview is left unmarked, on white, black
 * and mid-grey, and the seed moves the pattern: from the original and from
 * the preview base alike. */
static void
test_watermark_coverage(void **state)
{
    static const double levels[] = {255, 0, 128};
    char path[PATH_MAX + 16];
    size_t l;
    int from_base = *(int *)*state;

    snprintf(path, sizeof path, "%s/plain-%d.jpg", tmpdir, from_base);
    for (l = 0; l < sizeof levels / sizeof levels[0]; l++) {
        VipsImage *marked, *thumb = NULL, *plain;
        int w, h, x, y, max;
        double mean;

        make_plain(path, levels[l]);
        marked = preview_image(path, 1234 + l, from_base);
        assert_int_equal(vips_thumbnail(path, &thumb, 800, NULL), 0);
        plain = vips_image_copy_memory(thumb);
        g_object_unref(thumb);
        w = vips_image_get_width(marked);
        h = vips_image_get_height(marked);
        assert_int_equal(w, 800);
        assert_int_equal(h, 533);
        /* Every window, the last ones flush with the right and bottom. */
        for (y = 0; y < h; y += 100)
            for (x = 0; x < w; x += 100) {
                int wx = MIN(x, w - 200), wy = MIN(y, h - 200);

                window_diff(marked, plain, wx, wy, 200, 200, &max, &mean);
                if (!(max > 40 || mean > 2))
                    fail_msg("level %g: window %d,%d unmarked (max %d, "
                             "mean %.2f)",
                             levels[l], wx, wy, max, mean);
            }
        g_object_unref(plain);
        g_object_unref(marked);
    }
    {
        VipsImage *a = preview_image(path, 1, from_base);
        VipsImage *b = preview_image(path, 2, from_base);
        int max;
        double mean;

        window_diff(a, b, 0, 0, vips_image_get_width(a),
                    vips_image_get_height(a), &max, &mean);
        assert_true(mean > 2);
        g_object_unref(a);
        g_object_unref(b);
    }
    unlink(path);
}

static uint32_t
le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static void
put_le32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

/* The preview base carries the layout imaging.h documents. */
static void
test_base_layout(void **state)
{
    struct img_analysis a;
    const unsigned char *p;

    (void)state;
    assert_int_equal(analyse(corpus_file("real/02-exiv2-exiv2-bug922a.jpg"),
                             &open_limits, &a),
                     IMG_OK);
    p = a.base.data;
    assert_memory_equal(p, "SRBI\x01\x00\x03\x00", 8);
    assert_int_equal(le32(p + 8), 800);
    assert_int_equal(le32(p + 12), 533);
    assert_int_equal(a.base.len, IMG_BASE_HEADER_LEN + 800 * 533 * 3);
    img_analysis_release(&a);
    assert_null(a.base.data);
    /* Upright, and never upscaled. */
    assert_int_equal(
        analyse(corpus_file("real/44-vips-rotation-6.jpg"), &open_limits, &a),
        IMG_OK);
    assert_true(le32((unsigned char *)a.base.data + 12) >
                le32((unsigned char *)a.base.data + 8));
    img_analysis_release(&a);
    assert_int_equal(
        analyse(corpus_file("real/49-exiftool-GPS.jpg"), &open_limits, &a),
        IMG_OK);
    assert_int_equal(le32((unsigned char *)a.base.data + 8), 120);
    assert_int_equal(le32((unsigned char *)a.base.data + 12), 80);
    img_analysis_release(&a);
}

/* Call img_preview_from_base on an exact-size heap copy of len bytes of
 * good, with the bytes at off overwritten by patch: an overread is an
 * ASan error. */
static int
base_variant(const struct img_buf *good, size_t len, size_t off,
             const void *patch, size_t plen)
{
    char err[IMG_ERR_LEN] = "";
    struct img_buf out = {(void *)1, 7}; /* must stay untouched */
    unsigned char *copy = malloc(len ? len : 1);
    int rc;

    assert_non_null(copy);
    memcpy(copy, good->data, MIN(len, good->len));
    if (len > good->len)
        memset(copy + good->len, 0, len - good->len);
    if (plen)
        memcpy(copy + off, patch, plen);
    rc = img_preview_from_base(copy, len, "x", 1, 0, &out, err);
    if (rc == IMG_OK) {
        img_buf_release(&out);
    } else {
        assert_true(out.data == (void *)1 && out.len == 7);
        assert_true(err[0] != '\0');
    }
    free(copy);
    return rc;
}

/* A damaged or hostile base is refused as corrupt, never read past its
 * end; a well-formed one of any pixels is a preview. */
static void
test_base_hostile(void **state)
{
    static const struct {
        uint32_t w, h;
    } sizes[] = {
        {0, 533},
        {800, 0},
        {801, 100},
        {100, 801},
        {0xffffffffu, 1},
        {1, 0xffffffffu},
        {0xffffffffu, 0xffffffffu},
        {0x80000000u, 0x80000000u},
        {0x55555556u, 3},
    };
    char err[IMG_ERR_LEN];
    struct img_analysis a;
    struct img_buf out;
    unsigned char swapped[8];
    size_t i, n;

    (void)state;
    assert_int_equal(analyse(corpus_file("real/02-exiv2-exiv2-bug922a.jpg"),
                             &open_limits, &a),
                     IMG_OK);
    n = a.base.len;
    assert_int_equal(base_variant(&a.base, n, 0, NULL, 0), IMG_OK);
    assert_int_equal(img_preview_from_base(NULL, n, "x", 1, 0, &out, err),
                     IMG_ECORRUPT);
    for (i = 0; i < IMG_BASE_HEADER_LEN; i++)
        assert_int_equal(base_variant(&a.base, i, 0, NULL, 0), IMG_ECORRUPT);
    assert_int_equal(base_variant(&a.base, n - 1, 0, NULL, 0), IMG_ECORRUPT);
    assert_int_equal(base_variant(&a.base, n / 2, 0, NULL, 0), IMG_ECORRUPT);
    assert_int_equal(base_variant(&a.base, n + 1, 0, NULL, 0), IMG_ECORRUPT);
    assert_int_equal(base_variant(&a.base, n, 0, "SRBJ", 4), IMG_ECORRUPT);
    assert_int_equal(base_variant(&a.base, n, 0, "\xff\xd8\xff\xe0", 4),
                     IMG_ECORRUPT);
    assert_int_equal(base_variant(&a.base, n, 4, "\x02\x00", 2), IMG_ECORRUPT);
    assert_int_equal(base_variant(&a.base, n, 6, "\x04\x00", 2), IMG_ECORRUPT);
    assert_int_equal(base_variant(&a.base, n, 6, "\x01\x00", 2), IMG_ECORRUPT);
    for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        unsigned char hdr[8];

        put_le32(hdr, sizes[i].w);
        put_le32(hdr + 4, sizes[i].h);
        if (base_variant(&a.base, n, 8, hdr, 8) != IMG_ECORRUPT)
            fail_msg("base of %u x %u accepted", sizes[i].w, sizes[i].h);
    }
    /* Width and height swapped: the same length, a different image. */
    put_le32(swapped, 533);
    put_le32(swapped + 4, 800);
    assert_int_equal(base_variant(&a.base, n, 8, swapped, 8), IMG_OK);
    img_analysis_release(&a);
}

/* The worker's two paths give the same file: the base holds exactly the
 * pixels img_preview decodes, and the watermark and save are shared. */
static void
test_preview_from_base(void **state)
{
    static const char *const files[] = {
        "real/02-exiv2-exiv2-bug922a.jpg",
        "real/44-vips-rotation-6.jpg",      /* EXIF orientation */
        "real/52-go-video-001.cmyk.jpeg",   /* CMYK */
        "real/57-goximage-yellow_rose.png", /* alpha */
        "real/71-goximage-video-001-gray-16bit.tiff",
        "real/08-exiv2-IMG_3578.heic",
        "real/49-exiftool-GPS.jpg", /* smaller than 800 */
    };
    const char *text = "Stockroom \xc2\xb7 Jane Doe";
    char err[IMG_ERR_LEN];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof files / sizeof files[0]; i++) {
        struct img_analysis a;
        struct img_buf orig, based;
        VipsImage *x, *y;

        assert_int_equal(analyse(corpus_file(files[i]), &open_limits, &a),
                         IMG_OK);
        assert_int_equal(
            img_preview(corpus_file(files[i]), text, 99, 20000, &orig, err),
            IMG_OK);
        assert_int_equal(img_preview_from_base(a.base.data, a.base.len, text,
                                               99, 20000, &based, err),
                         IMG_OK);
        x = load_buf(&orig);
        y = load_buf(&based);
        assert_int_equal(vips_image_get_width(x), vips_image_get_width(y));
        assert_int_equal(vips_image_get_height(x), vips_image_get_height(y));
        assert_no_metadata(y);
        if (orig.len != based.len ||
            memcmp(orig.data, based.data, orig.len) != 0)
            fail_msg("%s: the previews differ", files[i]);
        g_object_unref(x);
        g_object_unref(y);
        img_buf_release(&orig);
        img_buf_release(&based);
        img_analysis_release(&a);
    }
}

/* Resident memory in kB from /proc/self/status, field "VmRSS:" or
 * "VmHWM:" (the peak since the last reset). */
static long
status_kb(const char *field)
{
    char line[256];
    long kb = -1;
    FILE *f = fopen("/proc/self/status", "r");

    assert_non_null(f);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, strlen(field)) == 0)
            kb = atol(line + strlen(field));
    fclose(f);
    return kb;
}

/* The one decode of a 100 MP JPEG shrinks on load: the peak stays far
 * below the 300 MB its full pixels would take. */
static void
test_analyse_100mp_memory(void **state)
{
    char path[PATH_MAX + 16];
    VipsImage *black = NULL;
    struct img_analysis a;
    long before, peak;
    FILE *f;

    (void)state;
    snprintf(path, sizeof path, "%s/100mp.jpg", tmpdir);
    assert_int_equal(vips_black(&black, 12000, 8333, "bands", 3, NULL), 0);
    assert_int_equal(vips_image_write_to_file(black, path, "Q", 50, NULL), 0);
    g_object_unref(black);
    /* Freed heap left resident would hide new allocations: return it,
     * then reset the peak (VmHWM) to the present size by writing 5. */
    malloc_trim(0);
    f = fopen("/proc/self/clear_refs", "w");
    if (!f || fputs("5", f) < 0 || fclose(f) != 0) {
        unlink(path);
        skip();
    }
    before = status_kb("VmRSS:");
    assert_int_equal(analyse(path, &open_limits, &a), IMG_OK);
    peak = status_kb("VmHWM:");
    assert_int_equal(a.width, 12000);
    assert_int_equal(le32((unsigned char *)a.base.data + 8), 800);
    img_analysis_release(&a);
    unlink(path);
    print_message("  100 MP analyse: peak %ld MB over %ld MB\n",
                  (peak - before) / 1024, before / 1024);
    assert_true(peak - before < 100 * 1024);
}

/* A decode that runs past its deadline is killed and says so. */
static void
test_deadline(void **state)
{
    struct img_limits lim = open_limits;
    struct img_analysis a;
    char err[IMG_ERR_LEN];
    struct img_buf b;

    (void)state;
    lim.deadline_ms = 1;
    assert_int_equal(
        img_preview(corpus_file("real/01-mate-Elephants_5640x3172.jpg"), "x", 1,
                    1, &b, err),
        IMG_ETIMEOUT);
    assert_int_equal(
        analyse(corpus_file("real/01-mate-Elephants_5640x3172.jpg"), &lim, &a),
        IMG_ETIMEOUT);
}

static void
quiet(const gchar *domain, GLogLevelFlags level, const gchar *message,
      gpointer user)
{
    (void)domain;
    (void)level;
    (void)message;
    (void)user;
}

static int
group_setup(void **state)
{
    const char *env = getenv("STOCKROOM_CORPUS");
    char *tmpl;

    (void)state;
    if (!realpath(env ? env : "../shared/corpus", corpus)) {
        print_error("corpus not found: set STOCKROOM_CORPUS\n");
        return -1;
    }
    tmpl = g_build_filename(g_get_tmp_dir(), "test_imaging.XXXXXX", NULL);
    if (!g_mkdtemp(tmpl)) {
        g_free(tmpl);
        return -1;
    }
    g_strlcpy(tmpdir, tmpl, sizeof tmpdir);
    g_free(tmpl);
    return img_init() == IMG_OK ? 0 : -1;
}

static int
group_teardown(void **state)
{
    (void)state;
    rmdir(tmpdir);
    img_shutdown();
    return 0;
}

int
main(void)
{
    static int from_original = 0, from_base = 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_corpus),
        cmocka_unit_test(test_adversarial),
        cmocka_unit_test(test_store_limits),
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_loaders_blocked),
        cmocka_unit_test(test_orientation),
        cmocka_unit_test(test_dihedral_match),
        cmocka_unit_test(test_metadata),
        cmocka_unit_test(test_preview_metadata),
        cmocka_unit_test(test_render),
        cmocka_unit_test(test_cmyk),
        cmocka_unit_test_prestate(test_watermark_coverage, &from_original),
        cmocka_unit_test_prestate(test_watermark_coverage, &from_base),
        cmocka_unit_test(test_base_layout),
        cmocka_unit_test(test_base_hostile),
        cmocka_unit_test(test_preview_from_base),
        cmocka_unit_test(test_analyse_100mp_memory),
        cmocka_unit_test(test_deadline),
    };

    /* libvips warns on stderr about odd but harmless corpus files (nclx
     * profiles, unknown TIFF tags): keep the output to the results. */
    g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING, quiet, NULL);
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
