/* Stockroom: unit tests of imaging/'s outputs against the shared image
 * corpus: metadata read and stripped, licensed renditions, CMYK, the
 * watermark, the preview base and previews made from it.
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

#include "imaging_kit.h"

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
int
main(void)
{
    static int from_original = 0, from_base = 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metadata),
        cmocka_unit_test(test_preview_metadata),
        cmocka_unit_test(test_render),
        cmocka_unit_test(test_cmyk),
        cmocka_unit_test_prestate(test_watermark_coverage, &from_original),
        cmocka_unit_test_prestate(test_watermark_coverage, &from_base),
        cmocka_unit_test(test_base_layout),
        cmocka_unit_test(test_base_hostile),
        cmocka_unit_test(test_preview_from_base),
    };
    return IMAGING_KIT_RUN(tests);
}
