/* Stockroom — upload and processing over HTTP: the shared corpus (every
 * real photo accepted and rendered, every adversarial file refused with
 * its own status) and the renditions (size, sRGB, no metadata, upright).
 * The upload form's limits and fields are in test_upload_form.c. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"
#include "imgutil.h"
#include "kit.h"
#include "util.h"

#define PROCESS_MS 120000 /* one image's processing, ASan build */

static struct th_server srv; /* small photos allowed */
static char contrib[128];    /* a contributor of srv */
static char reviewer[128];   /* a reviewer of srv */
static char scratch[256];    /* files the tests make */

static const char *const srv_flags[] = {
    /* 8x8 px (64 px) is the smallest real photo; 1x1 stays too small. */
    "--min-megapixels", "0.00005", "--workers", "2", NULL};

static int
setup(void **state)
{
    (void)state;
    snprintf(scratch, sizeof scratch, "/tmp/stockroom-upload-XXXXXX");
    if (!mkdtemp(scratch) || th_start(&srv, srv_flags) < 0)
        return -1;
    th_new_user(&srv, "contrib", contrib);
    kit_use(&srv);
    kit_staff("reviewer", "reviewer", reviewer);
    return 0;
}

static int
teardown(void **state)
{
    char cmd[300];
    int rc = th_stop(&srv);

    (void)state;
    th_cleanup(&srv);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", scratch);
    return rc;
}

/* ---- helpers ---------------------------------------------------------- */

/* A rendition as token sees it: a JPEG whose long edge is edge (never
 * upscaled) with the image's proportions, three colour components (sRGB:
 * no CMYK, and an embedded profile only if it is sRGB), and no metadata
 * at all (no EXIF, XMP, IPTC, GPS or comment). Returns the file (caller
 * frees) and its length, for tests that look further. */
static char *
check_rendition(struct th_server *s, const char *token, const char *id,
                const char *name, int edge, int w, int h, size_t *len_out)
{
    char path[128], type[64];
    struct th_resp r;
    struct iu_jpeg j;
    int longest = w > h ? w : h, want = edge < longest ? edge : longest;
    int tw, th;
    char *data;

    snprintf(path, sizeof path, "/images/%s/%s", id, name);
    assert_int_equal(iu_req(s, "GET", path, token, NULL, NULL, &r), 0);
    if (r.status != 200)
        fail_msg("GET %s: %ld %s", path, r.status, r.body);
    assert_non_null(th_header(&r, "Content-Type", type, sizeof type));
    assert_string_equal(type, "image/jpeg");
    if (iu_jpeg_parse(r.body, r.len, &j) < 0)
        fail_msg("%s is not a JPEG", path);
    tw = w >= h ? want : (int)(((int64_t)w * want + h / 2) / h);
    th = w >= h ? (int)(((int64_t)h * want + w / 2) / w) : want;
    if (abs(j.width - tw) > 1 || abs(j.height - th) > 1 ||
        (j.width > j.height) != (w > h))
        fail_msg("%s is %dx%d, expected %dx%d (image %dx%d)", path, j.width,
                 j.height, tw, th, w, h);
    if (j.components != 3)
        fail_msg("%s has %d colour components, not sRGB", path, j.components);
    if (j.has_icc && !j.icc_srgb)
        fail_msg("%s carries a colour profile other than sRGB", path);
    if (j.has_exif || j.has_xmp || j.has_iptc || j.has_gps || j.has_comment)
        fail_msg("%s carries metadata (exif %d xmp %d iptc %d gps %d com %d)",
                 path, j.has_exif, j.has_xmp, j.has_iptc, j.has_gps,
                 j.has_comment);
    data = r.body;
    *len_out = r.len;
    r.body = NULL;
    th_resp_free(&r);
    return data;
}

/* Check both renditions of a processed image. */
static void
check_renditions(struct th_server *s, const char *token, const char *id, int w,
                 int h)
{
    size_t len;

    free(check_rendition(s, token, id, "thumbnail.jpg", 240, w, h, &len));
    free(check_rendition(s, token, id, "preview.jpg", 800, w, h, &len));
}

/* Every entry of the review queue, all pages: an array the caller
 * decrefs. */
static json_t *
review_queue(struct th_server *s)
{
    json_t *all = json_array();
    char path[256], cursor[128] = "";

    for (int page = 0; page < 50; page++) {
        struct th_resp r;
        json_t *next;

        snprintf(path, sizeof path, "/api/v1/review/queue?limit=100%s%s",
                 cursor[0] ? "&cursor=" : "", cursor);
        assert_int_equal(iu_req(s, "GET", path, reviewer, NULL, NULL, &r), 0);
        assert_int_equal(r.status, 200);
        json_array_extend(all, json_object_get(r.json, "items"));
        next = json_object_get(r.json, "next_cursor");
        snprintf(cursor, sizeof cursor, "%s",
                 json_is_string(next) ? json_string_value(next) : "");
        th_resp_free(&r);
        if (!cursor[0])
            break;
    }
    return all;
}

/* The match of image id with other in the queue, or NULL (borrowed). */
static json_t *
match_of(json_t *queue, const char *id, const char *other)
{
    size_t i, k;
    json_t *item, *m;

    json_array_foreach(queue, i, item)
    {
        if (strcmp(kit_jstr_or(item, "id"), id) != 0)
            continue;
        json_array_foreach(json_object_get(item, "matches"), k, m)
        {
            if (!strcmp(kit_jstr_or(m, "image_id"), other))
                return m;
        }
    }
    return NULL;
}

/* Fail unless a and b are flagged to each other as upright near
 * duplicates: the same picture, neither turned nor mirrored. */
static void
assert_upright_match(json_t *queue, const char *a, const char *b,
                     const char *what)
{
    json_t *m = match_of(queue, a, b);

    if (!m)
        fail_msg("%s: no near-duplicate match", what);
    if (json_is_true(json_object_get(m, "rotated_or_mirrored")))
        fail_msg("%s: matched only turned or mirrored (distance %d)", what,
                 (int)json_integer_value(json_object_get(m, "distance")));
}

/* ---- the real corpus -------------------------------------------------- */

/* What differs from "202, any size" in corpus/real: MANIFEST.md under
 * Stockroom's rules. Sizes are upright, after EXIF orientation. */
static const struct real_expect {
    const char *prefix;
    long status, alt; /* the reply; alt: another allowed one */
    int w, h;         /* 0: not checked */
} real_expect[] = {
    {"01-", 202, 0, 5640, 3172},
    {"02-", 202, 0, 6000, 4000},
    {"08-", 202, 0, 4032, 3024}, /* HEIC */
    {"14-", 202, 0, 1920, 1080}, /* AVIF */
    {"22-", 202, 0, 1536, 2048},
    {"23-", 202, 0, 720, 1280},
    {"39-", 202, 0, 308, 410}, /* orientations 1-4: stored upright */
    {"40-", 202, 0, 308, 410},
    {"41-", 202, 0, 308, 410},
    {"42-", 202, 0, 308, 410},
    {"43-", 202, 0, 231, 308}, /* 5-8: stored landscape */
    {"44-", 202, 0, 231, 308},
    {"45-", 202, 0, 231, 308},
    {"46-", 202, 0, 231, 308},
    {"48-", 202, 0, 8, 8},
    {"51-", 415, 422, 0, 0}, /* 12-bit JPEG: not decodable */
    {"67-", 202, 0, 2048, 396},
    {"76-", 415, 0, 0, 0}, /* GIF */
    {"77-", 415, 0, 0, 0},
    {"78-", 415, 0, 0, 0}, /* JPEG XL */
    {"79-", 415, 0, 0, 0}, /* JPEG 2000 */
};

#define REAL_MAX 128

struct real_file {
    char name[128];
    char id[64];
    const struct real_expect *x;
};

static const struct real_expect *
real_expect_of(const char *name)
{
    static const struct real_expect accept = {"", 202, 0, 0, 0};

    for (size_t i = 0; i < sizeof real_expect / sizeof real_expect[0]; i++)
        if (!strncmp(name, real_expect[i].prefix,
                     strlen(real_expect[i].prefix)))
            return &real_expect[i];
    return &accept;
}

static const char *
format_of(const char *name)
{
    const char *dot = strrchr(name, '.');

    if (!dot)
        return "";
    if (!strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg"))
        return "jpeg";
    if (!strcasecmp(dot, ".tif") || !strcasecmp(dot, ".tiff"))
        return "tiff";
    if (!strcasecmp(dot, ".heic") || !strcasecmp(dot, ".avif"))
        return "heif";
    return dot + 1;
}

static int
not_hidden(const struct dirent *e)
{
    return e->d_name[0] != '.';
}

/* The id of the real file whose name starts with prefix. */
static const char *
real_id(struct real_file *f, int n, const char *prefix)
{
    for (int i = 0; i < n; i++)
        if (!strncmp(f[i].name, prefix, strlen(prefix)))
            return f[i].id;
    fail_msg("no corpus file %s", prefix);
    return NULL;
}

static void
test_real_corpus(void **state)
{
    static struct real_file files[REAL_MAX];
    struct dirent **list;
    char dir[512], path[1024];
    int n, accepted = 0;
    json_t *queue;

    (void)state;
    n = scandir(th_corpus("real", dir, sizeof dir), &list, not_hidden,
                alphasort);
    assert_true(n > 60 && n <= REAL_MAX);
    for (int i = 0; i < n; i++) {
        struct real_file *f = &files[i];
        struct th_resp r;

        snprintf(f->name, sizeof f->name, "%.127s", list[i]->d_name);
        free(list[i]);
        f->x = real_expect_of(f->name);
        snprintf(path, sizeof path, "%s/%s", dir, f->name);
        assert_int_equal(iu_upload(&srv, contrib, path, NULL, 0, &r), 0);
        if (r.status != f->x->status && (!f->x->alt || r.status != f->x->alt))
            fail_msg("%s: %ld %s", f->name, r.status, r.body);
        if (r.status == 202) {
            snprintf(f->id, sizeof f->id, "%s", kit_jstr_or(r.json, "id"));
            accepted++;
        } else {
            assert_true(th_error_code(&r)[0] != '\0');
        }
        th_resp_free(&r);
        if (!tu_healthy(&srv))
            fail_msg("the server is down after %s", f->name);
    }
    free(list);
    assert_true(accepted > 60);

    /* Every accepted photo is processed: none fails, none is stuck. */
    for (int i = 0; i < n; i++) {
        if (!files[i].id[0])
            continue;
        iu_wait_pending(&srv, contrib, files[i].id, PROCESS_MS, files[i].name);
    }

    /* Upright sizes, the format from the bytes, and the renditions. */
    for (int i = 0; i < n; i++) {
        struct real_file *f = &files[i];
        json_t *img;
        int w, h;

        if (!f->id[0])
            continue;
        img = iu_get_image(&srv, contrib, f->id);
        w = (int)json_integer_value(json_object_get(img, "width"));
        h = (int)json_integer_value(json_object_get(img, "height"));
        if (f->x->w && (w != f->x->w || h != f->x->h))
            fail_msg("%s is %dx%d, expected %dx%d upright", f->name, w, h,
                     f->x->w, f->x->h);
        if (strcmp(kit_jstr_or(img, "format"), format_of(f->name)) != 0)
            fail_msg("%s stored as %s", f->name, kit_jstr_or(img, "format"));
        assert_true(w > 0 && h > 0);
        check_renditions(&srv, contrib, f->id, w, h);
        json_decref(img);
    }

    /* The pixels themselves, through the server's own perceptual hash of
     * the upright decode: the eight orientations of one photo are the same
     * upright picture; the CMYK file is the same picture as its YCbCr
     * twin (inverted or raw CMYK would hash far apart); the XYB file
     * matches the plain one once its profile is applied. */
    queue = review_queue(&srv);
    for (int a = 39; a <= 46; a++) {
        for (int b = 39; b <= 46; b++) {
            char pa[8], pb[8], what[64];

            if (a == b)
                continue;
            snprintf(pa, sizeof pa, "%d-", a);
            snprintf(pb, sizeof pb, "%d-", b);
            snprintf(what, sizeof what, "orientation %d vs %d", a - 38, b - 38);
            assert_upright_match(queue, real_id(files, n, pa),
                                 real_id(files, n, pb), what);
        }
    }
    assert_upright_match(queue, real_id(files, n, "52-"),
                         real_id(files, n, "53-"), "CMYK vs YCbCr");
    assert_upright_match(queue, real_id(files, n, "37-"),
                         real_id(files, n, "36-"), "XYB vs sRGB");
    json_decref(queue);
}

/* The preview is rendered apart from the upload check: upload each
 * orientation's thumbnail and preview back, and the server's hash must
 * find the upright original in them, not a turned or mirrored one. */
static void
test_renditions_upright(void **state)
{
    char id1[64], path[512], name[64];
    char ids[2][8][64];
    static const char *const rend[2] = {"thumbnail.jpg", "preview.jpg"};
    json_t *queue;
    int found[2] = {0, 0};

    (void)state;
    iu_upload_ok(&srv, contrib,
                 iu_unique_corpus(scratch, "real/39-vips-rotation-1.jpg",
                                  "upright", path, sizeof path),
                 NULL, id1);
    for (int o = 1; o <= 8; o++) {
        char rel[64], id[64];

        snprintf(rel, sizeof rel, "real/%d-vips-rotation-%d.jpg", 38 + o, o);
        snprintf(name, sizeof name, "upright%d", o);
        iu_upload_ok(&srv, contrib,
                     iu_unique_corpus(scratch, rel, name, path, sizeof path),
                     NULL, id);
        iu_wait_pending(&srv, contrib, id, PROCESS_MS, rel);
        for (int k = 0; k < 2; k++) {
            size_t len;
            char *data =
                check_rendition(&srv, contrib, id, rend[k], k ? 800 : 240,
                                o < 5 ? 308 : 231, o < 5 ? 410 : 308, &len);

            /* Two renditions may come out byte for byte the same: a tag
             * after the end keeps them apart (no 409). */
            snprintf(name, sizeof name, "back-%d-%s", o, rend[k]);
            data = realloc(data, len + sizeof name);
            assert_non_null(data);
            memcpy(data + len, name, strlen(name));
            assert_int_equal(
                iu_write_file(iu_path(scratch, name, path, sizeof path), data,
                              len + strlen(name)),
                0);
            free(data);
            iu_upload_ok(&srv, contrib, path, NULL, ids[k][o - 1]);
        }
    }
    for (int k = 0; k < 2; k++) {
        for (int o = 0; o < 8; o++) {
            snprintf(name, sizeof name, "%s of orientation %d", rend[k], o + 1);
            iu_wait_pending(&srv, contrib, ids[k][o], PROCESS_MS, name);
        }
    }
    queue = review_queue(&srv);
    for (int k = 0; k < 2; k++) {
        for (int o = 0; o < 8; o++) {
            json_t *m = match_of(queue, ids[k][o], id1);

            /* A turned copy would match as rotated_or_mirrored. */
            if (m && json_is_true(json_object_get(m, "rotated_or_mirrored")))
                fail_msg("%s of orientation %d is turned or mirrored", rend[k],
                         o + 1);
            found[k] += m != NULL;
        }
    }
    /* The thumbnail carries no watermark: every one must match. The
     * preview's watermark moves several of the 64 hash bits, often past
     * the near-duplicate threshold (about 6 in 10 match), so only a
     * preview that matches at all tells; none matching would mean the
     * check saw nothing. */
    assert_int_equal(found[0], 8);
    if (found[1] < 1)
        fail_msg("no preview matched its original at all");
    json_decref(queue);
}

/* ---- the adversarial corpus ------------------------------------------- */

static const struct adv_expect {
    const char *file;
    long status, alt;   /* alt: another reply MANIFEST.md allows */
    const char *code;   /* NULL for 202 */
    const char *format; /* for 202: the format stored */
    int w, h;           /* for 202: upright size */
} adv_expect[] = {
    {"control-valid-640x480.jpg", 202, 0, NULL, "jpeg", 640, 480},
    {"empty-0-bytes.jpg", 400, 0, "empty_file", NULL, 0, 0},
    {"gif-screen-65535x65535.gif", 415, 0, "unsupported_format", NULL, 0, 0},
    {"jpeg-exif-64k.jpg", 202, 0, NULL, "jpeg", 640, 480},
    /* libexif still reads Orientation 6 from the broken EXIF. */
    {"jpeg-exif-malformed-loop.jpg", 202, 0, NULL, "jpeg", 480, 640},
    {"jpeg-exif-orientation-9.jpg", 202, 0, NULL, "jpeg", 640, 480},
    {"jpeg-header-65000x65000.jpg", 422, 0, "too_many_pixels", NULL, 0, 0},
    {"jpeg-icc-garbage.jpg", 202, 0, NULL, "jpeg", 640, 480},
    /* The same bytes as the control file: a duplicate of it. */
    {"jpeg-named-as.png", 409, 0, "duplicate", NULL, 0, 0},
    {"jpeg-progressive-20000-scans.jpg", 422, 0, "corrupt", NULL, 0, 0},
    {"jpeg-trailing-junk-64k.jpg", 202, 0, NULL, "jpeg", 640, 480},
    {"jpeg-truncated-half.jpg", 422, 0, "corrupt", NULL, 0, 0},
    {"path-traversal-filenames.json", 415, 0, "unsupported_format", NULL, 0, 0},
    {"path-traversal-payload.jpg", 409, 0, "duplicate", NULL, 0, 0},
    {"png-100000x1.png", 422, 0, "bad_shape", NULL, 0, 0},
    {"png-1x1.png", 422, 0, "too_small", NULL, 0, 0},
    {"png-1x100000.png", 422, 0, "bad_shape", NULL, 0, 0},
    {"png-bomb-30000x30000.png", 422, 0, "too_many_pixels", NULL, 0, 0},
    {"png-huge-ztxt-itxt.png", 202, 0, NULL, "png", 64, 64},
    {"png-ihdr-2147483647-square.png", 422, 0, "too_many_pixels", NULL, 0, 0},
    {"png-named-as.jpg", 202, 0, NULL, "png", 640, 480},
    {"png-truncated-half.png", 422, 0, "corrupt", NULL, 0, 0},
    {"polyglot-jpeg-html.jpg", 422, 0, "embedded_content", NULL, 0, 0},
    {"polyglot-jpeg-zip.jpg", 422, 0, "embedded_content", NULL, 0, 0},
    {"ppm-named-as.jpg", 415, 0, "unsupported_format", NULL, 0, 0},
    {"random-bytes.jpg", 415, 0, "unsupported_format", NULL, 0, 0},
    {"svg-billion-laughs.svg", 415, 0, "unsupported_format", NULL, 0, 0},
    {"svg-named-as.jpg", 415, 0, "unsupported_format", NULL, 0, 0},
    {"svg-script-external-href.svg", 415, 0, "unsupported_format", NULL, 0, 0},
    /* Page 0 only, or refused for its page count: both allowed. */
    {"tiff-2500-pages.tif", 202, 422, NULL, "tiff", 1024, 1024},
    {"tiff-float16-gray.tif", 422, 415, NULL, NULL, 0, 0},
    {"tiff-float32-nan-inf.tif", 415, 0, "unsupported_format", NULL, 0, 0},
    {"tiff-ifd-loop.tif", 202, 0, NULL, "tiff", 64, 64},
    {"xpm-named-as.jpg", 415, 0, "unsupported_format", NULL, 0, 0},
};

#define N_ADV (sizeof adv_expect / sizeof adv_expect[0])

static void
test_adversarial_corpus(void **state)
{
    char path[512], ids[N_ADV][64], control[64] = "";
    struct dirent **list;
    char dir[512];
    int n;

    (void)state;
    /* The table covers the whole folder: a new file needs a verdict. */
    n = scandir(th_corpus("adversarial", dir, sizeof dir), &list, not_hidden,
                alphasort);
    assert_int_equal(n, (int)N_ADV);
    for (int i = 0; i < n; i++)
        free(list[i]);
    free(list);

    for (size_t i = 0; i < N_ADV; i++) {
        const struct adv_expect *x = &adv_expect[i];
        struct th_resp r;
        char rel[256];

        ids[i][0] = '\0';
        snprintf(rel, sizeof rel, "adversarial/%s", x->file);
        assert_int_equal(iu_upload(&srv, contrib,
                                   th_corpus(rel, path, sizeof path), NULL, 0,
                                   &r),
                         0);
        if (r.status != x->status && (!x->alt || r.status != x->alt))
            fail_msg("%s: %ld %s", x->file, r.status, r.body);
        if (r.status == 202) {
            snprintf(ids[i], sizeof ids[i], "%s", kit_jstr_or(r.json, "id"));
            if (!strcmp(x->file, "control-valid-640x480.jpg"))
                memcpy(control, ids[i], sizeof control);
        } else {
            /* Every refusal says why, as the API promises. */
            if (x->code && strcmp(th_error_code(&r), x->code) != 0)
                fail_msg("%s: code %s, expected %s", x->file, th_error_code(&r),
                         x->code);
            assert_true(th_error_code(&r)[0] != '\0');
        }
        if (r.status == 409) {
            const char *dup = json_string_value(
                json_object_get(json_object_get(r.json, "error"), "image_id"));

            assert_non_null(dup);
            assert_string_equal(dup, control);
        }
        th_resp_free(&r);
        if (!tu_healthy(&srv))
            fail_msg("the server is down after %s", x->file);
    }

    /* What was accepted is processed, stored in the format its bytes say
     * (never the name's), upright, and rendered without its metadata. */
    for (size_t i = 0; i < N_ADV; i++) {
        const struct adv_expect *x = &adv_expect[i];
        json_t *img;

        if (!ids[i][0])
            continue;
        iu_wait_pending(&srv, contrib, ids[i], PROCESS_MS, x->file);
        img = iu_get_image(&srv, contrib, ids[i]);
        assert_string_equal(kit_jstr_or(img, "format"), x->format);
        if ((int)json_integer_value(json_object_get(img, "width")) != x->w ||
            (int)json_integer_value(json_object_get(img, "height")) != x->h)
            fail_msg("%s is %dx%d, expected %dx%d", x->file,
                     (int)json_integer_value(json_object_get(img, "width")),
                     (int)json_integer_value(json_object_get(img, "height")),
                     x->w, x->h);
        check_renditions(&srv, contrib, ids[i], x->w, x->h);
        json_decref(img);
    }
}

/* ---- renditions ------------------------------------------------------- */

/* The preview: 800 px on the long edge, a JPEG without EXIF, XMP or GPS,
 * and the watermark's placement varies per image, so two uploads of the
 * same pixels get different previews. Pixel coverage of the watermark is
 * unit-tested in imaging. */
static void
test_preview(void **state)
{
    char path[512], id[2][64], etag[2][128];
    size_t len;

    (void)state;
    for (int k = 0; k < 2; k++) {
        char tag[16];
        struct th_resp r;
        char *data;

        snprintf(tag, sizeof tag, "preview%d", k);
        /* 2268x1512 and no metadata; GPS files are checked in the corpus
         * test above. */
        iu_upload_ok(&srv, contrib,
                     iu_unique_corpus(scratch,
                                      "real/32-rust-jpeg-large_"
                                      "image.jpg",
                                      tag, path, sizeof path),
                     NULL, id[k]);
        iu_wait_pending(&srv, contrib, id[k], PROCESS_MS,
                        "the preview test's photo");
        data = check_rendition(&srv, contrib, id[k], "preview.jpg", 800, 2268,
                               1512, &len);
        free(data);
        snprintf(path, sizeof path, "/images/%s/preview.jpg", id[k]);
        assert_int_equal(iu_req(&srv, "GET", path, contrib, NULL, NULL, &r), 0);
        assert_non_null(th_header(&r, "ETag", etag[k], sizeof etag[k]));
        th_resp_free(&r);
    }
    /* The ETag is the rendition's hash: different bytes. */
    assert_string_not_equal(etag[0], etag[1]);
}

/* GPS, EXIF and XMP of the originals never reach a rendition, also from
 * formats other than JPEG (HEIC, WebP). */
static void
test_renditions_strip_gps(void **state)
{
    static const char *const gps[] = {
        "real/11-exiv2-Stonehenge.heic",
        "real/30-goexif-sample1.jpg",
        "real/31-rust-jpeg-tower_grayscale.jpg",
        "real/49-exiftool-GPS.jpg",
        "real/63-exiv2-exiv2-bug1199.webp",
        "adversarial/jpeg-exif-64k.jpg",
    };
    char path[512], id[64];

    (void)state;
    for (size_t i = 0; i < sizeof gps / sizeof gps[0]; i++) {
        json_t *img;

        iu_upload_ok(
            &srv, contrib,
            iu_unique_corpus(scratch, gps[i], "gps", path, sizeof path), NULL,
            id);
        iu_wait_pending(&srv, contrib, id, PROCESS_MS, gps[i]);
        img = iu_get_image(&srv, contrib, id);
        check_renditions(
            &srv, contrib, id,
            (int)json_integer_value(json_object_get(img, "width")),
            (int)json_integer_value(json_object_get(img, "height")));
        json_decref(img);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_corpus),
        cmocka_unit_test(test_renditions_upright),
        cmocka_unit_test(test_adversarial_corpus),
        cmocka_unit_test(test_preview),
        cmocka_unit_test(test_renditions_strip_gps),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
