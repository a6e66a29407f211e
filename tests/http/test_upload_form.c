/* Stockroom — the upload form over HTTP: who may upload, duplicates, the
 * size and pixel limits, a missing file, keywords, titles (typed and
 * embedded) and hostile file names. */
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

static struct th_server srv;    /* small photos allowed */
static struct th_server strict; /* default limits, 1 MiB uploads */
static char contrib[128];       /* a contributor of srv */
static char scratch[256];       /* files the tests make */

static const char *const srv_flags[] = {
    /* 8x8 px (64 px) is the smallest real photo; 1x1 stays too small. */
    "--min-megapixels", "0.00005", "--workers", "2", NULL};
static const char *const strict_flags[] = {"--max-upload-mb", "1", NULL};

static int
setup(void **state)
{
    (void)state;
    snprintf(scratch, sizeof scratch, "/tmp/stockroom-form-XXXXXX");
    if (!mkdtemp(scratch) || th_start(&srv, srv_flags) < 0 ||
        th_start(&strict, strict_flags) < 0)
        return -1;
    th_new_user(&srv, "contrib", contrib);
    return 0;
}

static int
teardown(void **state)
{
    char cmd[300];
    int rc = th_stop(&srv);
    int rc2 = th_stop(&strict);

    (void)state;
    th_cleanup(&srv);
    th_cleanup(&strict);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", scratch);
    return rc || rc2 ? -1 : 0;
}

/* ---- the upload form -------------------------------------------------- */

static void
test_anonymous_upload(void **state)
{
    char path[512];
    struct th_resp r;

    (void)state;
    assert_int_equal(
        iu_upload(&srv, NULL,
                  iu_unique_corpus(scratch,
                                   "adversarial/control-valid-640x480.jpg",
                                   "anon", path, sizeof path),
                  NULL, 0, &r),
        0);
    assert_int_equal(r.status, 401);
    th_resp_free(&r);
}

static void
test_duplicate(void **state)
{
    char path[512], id[64];
    struct th_resp r;
    const char *dup;

    (void)state;
    iu_unique_corpus(scratch, "real/28-pillow-flower.jpg", "dup", path,
                     sizeof path);
    iu_upload_ok(&srv, contrib, path, "first", id);
    assert_int_equal(iu_upload(&srv, contrib, path, "again", 0, &r), 0);
    assert_int_equal(r.status, 409);
    assert_string_equal(th_error_code(&r), "duplicate");
    dup = json_string_value(
        json_object_get(json_object_get(r.json, "error"), "image_id"));
    assert_non_null(dup);
    assert_string_equal(dup, id);
    th_resp_free(&r);
}

/* The default minimum of 4 megapixels: a small photo is refused at once,
 * one just over it is taken. */
static void
test_too_small_by_default(void **state)
{
    char path[512], id[64];
    struct th_resp r;
    char c2[128];

    (void)state;
    th_new_user(&strict, "strict", c2);
    assert_int_equal(
        iu_upload(&strict, c2,
                  th_corpus("real/28-pillow-flower.jpg", path, sizeof path),
                  NULL, 0, &r),
        0);
    assert_int_equal(r.status, 422);
    assert_string_equal(th_error_code(&r), "too_small");
    th_resp_free(&r);
    /* 2560x1600 = 4.1 MP in 910 KB: under the 1 MiB limit too. */
    iu_upload_ok(
        &strict, c2,
        th_corpus("real/15-plasma-Path-2560x1600.jpg", path, sizeof path), NULL,
        id);
}

static int
tmp_empty(void *dir)
{
    return iu_count_files(dir, "") == 0;
}

/* Over --max-upload-mb: 413 too_large, whether the body's length is
 * announced or it comes chunked, and the server stays up. */
static void
test_too_large(void **state)
{
    char path[512], c2[128];

    (void)state;
    th_new_user(&strict, "big", c2);
    th_corpus("real/05-lomiri-seeding_by_Clements_Engelhardt.jpg", path,
              sizeof path); /* 1.4 MiB */
    for (int chunked = 0; chunked < 2; chunked++) {
        struct th_resp r;

        assert_int_equal(iu_upload(&strict, c2, path, NULL, chunked, &r), 0);
        if (r.status != 413)
            fail_msg("%s upload: %ld %s", chunked ? "chunked" : "plain",
                     r.status, r.body);
        assert_string_equal(th_error_code(&r), "too_large");
        th_resp_free(&r);
        if (!tu_healthy(&strict))
            fail_msg("the server is down after %s", "an oversized upload");
    }
    /* Nothing of the refused bodies is left behind (once the server has
     * finished with the connection, which may be after its answer). */
    snprintf(path, sizeof path, "%s/tmp", strict.dir);
    if (!th_poll(tmp_empty, path, 10000))
        fail_msg("%d refused uploads left in %s", iu_count_files(path, ""),
                 path);
}

/* A form without a file part, or with "file" sent as a plain field. */
static void
test_missing_file(void **state)
{
    struct iu_part title = {"title", NULL, 0, "No photo", 8};
    struct iu_part text[2] = {
        {"title", NULL, 0, "Text", 4},
        {"file", NULL, 0, "not a file", 10},
    };
    struct th_resp r;

    (void)state;
    assert_int_equal(
        iu_multipart(&srv, "/api/v1/images", contrib, &title, 1, 0, &r), 0);
    assert_int_equal(r.status, 422);
    assert_string_equal(th_error_code(&r), "missing_file");
    th_resp_free(&r);
    /* Refused either as no file or as text that is no image. */
    assert_int_equal(
        iu_multipart(&srv, "/api/v1/images", contrib, text, 2, 0, &r), 0);
    assert_true(r.status == 422 || r.status == 415);
    th_resp_free(&r);
}

static void
test_keywords_limit(void **state)
{
    char kw[1024], path[512], id[64];
    size_t len = 0, flen;
    void *data;
    struct th_resp r;
    json_t *img;

    (void)state;
    for (int i = 1; i <= 51; i++)
        len += (size_t)snprintf(kw + len, sizeof kw - len, "%sword%d",
                                i > 1 ? ", " : "", i);
    iu_unique_corpus(scratch, "adversarial/control-valid-640x480.jpg", "kw",
                     path, sizeof path);
    data = iu_read_file(path, &flen);
    assert_non_null(data);
    {
        struct iu_part parts[2] = {
            {"keywords", NULL, 0, kw, len},
            {"file", "kw.jpg", 0, data, flen},
        };

        assert_int_equal(
            iu_multipart(&srv, "/api/v1/images", contrib, parts, 2, 0, &r), 0);
        assert_int_equal(r.status, 422);
        assert_string_equal(th_error_code(&r), "too_many_keywords");
        th_resp_free(&r);

        /* Fifty is the limit, and all fifty are kept. */
        parts[0].len = (size_t)(strstr(kw, ", word51") - kw);
        assert_int_equal(
            iu_multipart(&srv, "/api/v1/images", contrib, parts, 2, 0, &r), 0);
        assert_int_equal(r.status, 202);
        snprintf(id, sizeof id, "%s", kit_jstr_or(r.json, "id"));
        th_resp_free(&r);
    }
    free(data);
    img = iu_get_image(&srv, contrib, id);
    assert_int_equal(json_array_size(json_object_get(img, "keywords")), 50);
    json_decref(img);
}

static void
test_title_utf8(void **state)
{
    static const char *const bad[] = {
        "\xc3\x28",     /* a lead byte without its continuation */
        "\xc0\xaf",     /* overlong "/" */
        "caf\xe9",      /* Latin-1 */
        "\xed\xa0\x80", /* a UTF-16 surrogate */
    };
    char path[512], id[64];
    size_t flen;
    void *data;
    struct th_resp r;
    json_t *img;

    (void)state;
    iu_unique_corpus(scratch, "adversarial/control-valid-640x480.jpg", "utf8",
                     path, sizeof path);
    data = iu_read_file(path, &flen);
    assert_non_null(data);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        for (int field = 0; field < 2; field++) {
            struct iu_part parts[2] = {
                {field ? "description" : "title", NULL, 0, bad[i],
                 strlen(bad[i])},
                {"file", "utf8.jpg", 0, data, flen},
            };

            assert_int_equal(
                iu_multipart(&srv, "/api/v1/images", contrib, parts, 2, 0, &r),
                0);
            if (r.status != 422)
                fail_msg("%s %zu: %ld %s", parts[0].name, i, r.status, r.body);
            th_resp_free(&r);
        }
    }
    free(data);
    /* Real UTF-8 is kept as sent. */
    iu_upload_ok(&srv, contrib, path, "Caf\xc3\xa9 \xe2\x98\x95 Z\xc3\xbcrich",
                 id);
    img = iu_get_image(&srv, contrib, id);
    assert_string_equal(kit_jstr_or(img, "title"),
                        "Caf\xc3\xa9 \xe2\x98\x95 Z\xc3\xbcrich");
    json_decref(img);
}

/* An empty title takes the photo's own: IPTC (2:05) or XMP (dc:title);
 * empty keywords take IPTC 2:25. A title sent wins. */
static void
test_embedded_title(void **state)
{
    char path[512], id[64];
    json_t *img, *kw;
    size_t i;
    int budapest = 0;

    (void)state;
    iu_upload_ok(&srv, contrib,
                 iu_unique_corpus(scratch, "real/49-exiftool-GPS.jpg", "t1",
                                  path, sizeof path),
                 "", id);
    img = iu_get_image(&srv, contrib, id);
    assert_string_equal(kit_jstr_or(img, "title"), "Communications");
    json_decref(img);

    iu_upload_ok(&srv, contrib,
                 iu_unique_corpus(scratch, "real/73-exiv2-test.tiff", "t2",
                                  path, sizeof path),
                 NULL, id);
    img = iu_get_image(&srv, contrib, id);
    assert_string_equal(kit_jstr_or(img, "title"), "this is a test image");
    json_decref(img);

    iu_upload_ok(&srv, contrib,
                 iu_unique_corpus(scratch, "real/29-pillow-iptc.jpg", "t3",
                                  path, sizeof path),
                 NULL, id);
    img = iu_get_image(&srv, contrib, id);
    /* The catalogue keeps keywords in lower case. */
    json_array_foreach(json_object_get(img, "keywords"), i, kw) budapest |=
        !strcasecmp(json_string_value(kw), "Budapest");
    assert_true(budapest);
    json_decref(img);

    iu_upload_ok(&srv, contrib,
                 iu_unique_corpus(scratch, "real/25-exiv2-Reagan.jpg", "t4",
                                  path, sizeof path),
                 "My own title", id);
    img = iu_get_image(&srv, contrib, id);
    assert_string_equal(kit_jstr_or(img, "title"), "My own title");
    json_decref(img);
}

/* Every name of path-traversal-filenames.json is taken as display text:
 * the upload succeeds (400 is allowed for a NUL or control character),
 * and no file appears anywhere the name points to. */
static void
test_hostile_filenames(void **state)
{
    static const char *const needles[] = {
        "passwd",   "evil",    "win.ini", "hosts",
        "htaccess", "CON.jpg", ".php",    "aaaaaaaaaaaaaaaa",
        "rm -rf",   "$(id)",   "<img",    "%2e",
        "gpj",
    };
    char path[512], list[512], dir[600];
    char ids[32][64];
    const char *outside[] = {".", "/tmp", "/", "/etc", "/etc/cron.d", NULL};
    json_error_t jerr;
    json_t *names, *v;
    struct stat before_passwd, after_passwd;
    size_t i, plen;
    void *payload;
    int existed[32][8] = {{0}}, refused = 0;

    (void)state;
    names = json_load_file(th_corpus("adversarial/path-traversal-filenames."
                                     "json",
                                     list, sizeof list),
                           JSON_ALLOW_NUL, &jerr);
    assert_non_null(names);
    assert_true(json_array_size(names) >= 10 && json_array_size(names) <= 32);
    payload = iu_read_file(
        th_corpus("adversarial/path-traversal-payload.jpg", path, sizeof path),
        &plen);
    assert_non_null(payload);
    assert_int_equal(stat("/etc/passwd", &before_passwd), 0);

    /* Where each name's last component would land outside the data
     * folder: note what is there already. */
    json_array_foreach(names, i, v)
    {
        const char *name = json_string_value(v);
        const char *base = strrchr(name, '/');

        base = base ? base + 1 : name;
        for (int k = 0; outside[k]; k++) {
            snprintf(dir, sizeof dir, "%s/%s", outside[k], base);
            existed[i][k] = *base && access(dir, F_OK) == 0;
        }
    }

    json_array_foreach(names, i, v)
    {
        const char *name = json_string_value(v);
        size_t nlen = json_string_length(v);
        char *body = malloc(plen + 16);
        int ctl = 0;
        struct th_resp r;

        for (size_t k = 0; k < nlen; k++)
            ctl |= (unsigned char)name[k] < 0x20;
        /* The same payload each time would be a duplicate: a different
         * byte after its end keeps the pixels and changes the hash. */
        memcpy(body, payload, plen);
        body[plen] = (char)('A' + i);
        {
            struct iu_part part = {"file", name, nlen, body, plen + 1};

            assert_int_equal(
                iu_multipart(&srv, "/api/v1/images", contrib, &part, 1, 0, &r),
                0);
        }
        free(body);
        ids[i][0] = '\0';
        if (r.status == 202) {
            snprintf(ids[i], sizeof ids[i], "%s", kit_jstr_or(r.json, "id"));
        } else if (!(ctl && r.status == 400)) {
            /* Go on: one refused name must not hide the others. */
            print_error("filename %zu: %ld %s\n", i, r.status, r.body);
            refused++;
        }
        th_resp_free(&r);
        if (!tu_healthy(&srv))
            fail_msg("the server is down after %s", "a hostile filename");
    }
    json_array_foreach(names, i, v)
    {
        if (!ids[i][0])
            continue;
        iu_wait_pending(&srv, contrib, ids[i], PROCESS_MS,
                        "a hostile filename's upload");
    }

    /* Inside the data folder only server-made names. */
    for (size_t k = 0; k < sizeof needles / sizeof needles[0]; k++)
        if (iu_count_files(srv.dir, needles[k]) != 0)
            fail_msg("a file named after '%s' is in the data folder",
                     needles[k]);
    /* Outside it nothing new. */
    json_array_foreach(names, i, v)
    {
        const char *name = json_string_value(v);
        const char *base = strrchr(name, '/');

        base = base ? base + 1 : name;
        for (int k = 0; outside[k]; k++) {
            snprintf(dir, sizeof dir, "%s/%s", outside[k], base);
            if (*base && !existed[i][k] && access(dir, F_OK) == 0)
                fail_msg("the upload created %s", dir);
        }
    }
    if (refused)
        fail_msg("%d hostile filenames were refused", refused);
    assert_int_equal(stat("/etc/passwd", &after_passwd), 0);
    assert_true(before_passwd.st_mtime == after_passwd.st_mtime &&
                before_passwd.st_size == after_passwd.st_size);
    free(payload);
    json_decref(names);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_anonymous_upload),
        cmocka_unit_test(test_duplicate),
        cmocka_unit_test(test_too_small_by_default),
        cmocka_unit_test(test_too_large),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_keywords_limit),
        cmocka_unit_test(test_title_utf8),
        cmocka_unit_test(test_embedded_title),
        cmocka_unit_test(test_hostile_filenames),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
