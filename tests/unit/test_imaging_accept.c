/* Stockroom: unit tests of imaging/'s upload check (img_analyse) against
 * the shared image corpus: formats, limits, orientation, hashes, memory
 * and deadlines. SPDX-License-Identifier: MIT */
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
    snprintf(dir, sizeof dir, "%s", corpus_file("real"));
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
int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_corpus),
        cmocka_unit_test(test_adversarial),
        cmocka_unit_test(test_store_limits),
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_loaders_blocked),
        cmocka_unit_test(test_orientation),
        cmocka_unit_test(test_dihedral_match),
        cmocka_unit_test(test_analyse_100mp_memory),
        cmocka_unit_test(test_deadline),
    };
    return IMAGING_KIT_RUN(tests);
}
