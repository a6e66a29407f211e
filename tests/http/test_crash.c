/* Stockroom — processing survives the process: kill -9 (or a clean stop)
 * while render jobs are queued or running, start again on the same data,
 * and every image is finished, none left in "processing", no temporary
 * file left behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"
#include "imgutil.h"
#include "kit.h"
#include "util.h"

#define PROCESS_MS 180000 /* the whole backlog, ASan build, 1 worker */
#define MAX_IMAGES 16

/* One worker, so most jobs are still queued when the process dies. */
static const char *const flags[] = {"--min-megapixels", "0.00005", "--workers",
                                    "1", NULL};

/* Large photos first: each takes the one worker a while. */
static const char *const photos[] = {
    "real/01-mate-Elephants_5640x3172.jpg",
    "real/02-exiv2-exiv2-bug922a.jpg",
    "real/05-lomiri-seeding_by_Clements_Engelhardt.jpg",
    "real/04-lomiri-Dragonfly_by_Bolly.jpg",
    "real/08-exiv2-IMG_3578.heic",
    "real/07-digikam-body-background.jpg",
    "real/56-lxqt-appleflower.png",
    "real/27-pillow-xmp_test.jpg",
    "real/63-exiv2-exiv2-bug1199.webp",
    "real/68-rust-tiff-kodim02-lzw.tif",
};

#define N_PHOTOS (int)(sizeof photos / sizeof photos[0])

static struct th_server srv; /* each test's own, started afresh */

/* A failed assertion leaves the test early: never leave its server
 * running or its data behind. */
static int
teardown(void **state)
{
    (void)state;
    th_cleanup(&srv);
    memset(&srv, 0, sizeof srv);
    return 0;
}

/* ---- helpers ---------------------------------------------------------- */

static void
start(struct th_server *s)
{
    if (th_start(s, flags) < 0)
        fail_msg("the server did not start; see %s", s->log);
}

/* Upload every photo as token; ids into ids. */
static void
upload_all(struct th_server *s, const char *token, char ids[][64])
{
    char path[512];

    for (int i = 0; i < N_PHOTOS; i++) {
        struct th_resp r;

        assert_int_equal(iu_upload(s, token,
                                   th_corpus(photos[i], path, sizeof path),
                                   NULL, 0, &r),
                         0);
        if (r.status != 202)
            fail_msg("%s: %ld %s", photos[i], r.status, r.body);
        snprintf(ids[i], 64, "%s", kit_jstr_or(r.json, "id"));
        th_resp_free(&r);
    }
}

struct backlog {
    struct th_server *s;
    const char *token;
    int processing; /* images still "processing" */
    int total;
};

/* Count token's images still processing. */
static int
backlog_done(void *arg)
{
    struct backlog *b = arg;
    struct th_resp r;
    json_t *item;
    size_t i;

    if (iu_req(b->s, "GET", "/api/v1/me/images?limit=100", b->token, NULL, NULL,
               &r) < 0)
        return 0;
    if (r.status != 200) {
        th_resp_free(&r);
        return 0;
    }
    b->processing = 0;
    b->total = 0;
    json_array_foreach(json_object_get(r.json, "items"), i, item)
    {
        b->total++;
        b->processing += !strcmp(
            json_string_value(json_object_get(item, "status")), "processing");
    }
    th_resp_free(&r);
    return b->processing == 0;
}

/* Wait for the backlog to drain, then check that each image was
 * finished: pending review with both renditions. Failing ones name their
 * reason. */
static void
assert_all_processed(struct th_server *s, const char *token, char ids[][64],
                     int n)
{
    struct backlog b = {s, token, 0, 0};

    if (!th_poll(backlog_done, &b, PROCESS_MS))
        fail_msg("%d of %d images stuck in processing", b.processing, b.total);
    assert_int_equal(b.total, n);
    for (int i = 0; i < n; i++) {
        char path[128];
        struct th_resp r;

        snprintf(path, sizeof path, "/api/v1/images/%s", ids[i]);
        assert_int_equal(iu_req(s, "GET", path, token, NULL, NULL, &r), 0);
        assert_int_equal(r.status, 200);
        /* Every original was stored before its 202, so nothing is lost:
         * failed would mean a job gave up on a file it had. */
        if (strcmp(kit_jstr_or(r.json, "status"), "pending_review") != 0)
            fail_msg("%s ended %s: %s", photos[i],
                     kit_jstr_or(r.json, "status"),
                     json_string_value(json_object_get(r.json, "fail_reason")));
        th_resp_free(&r);
        snprintf(path, sizeof path, "/images/%s/thumbnail.jpg", ids[i]);
        assert_int_equal(iu_req(s, "GET", path, token, NULL, NULL, &r), 0);
        assert_int_equal(r.status, 200);
        th_resp_free(&r);
        snprintf(path, sizeof path, "/images/%s/preview.jpg", ids[i]);
        assert_int_equal(iu_req(s, "GET", path, token, NULL, NULL, &r), 0);
        assert_int_equal(r.status, 200);
        th_resp_free(&r);
    }
}

/* Nothing half-written survives a restart: the upload folder is empty
 * and no blob store temporary file ("KEY.tmp-XXXXXX") is left. */
static void
assert_no_leftovers(struct th_server *s)
{
    char path[400];
    int n;

    snprintf(path, sizeof path, "%s/tmp", s->dir);
    n = iu_count_files(path, "");
    if (n != 0)
        fail_msg("%d files left in %s", n, path);
    snprintf(path, sizeof path, "%s/blobs", s->dir);
    n = iu_count_files(path, ".tmp-");
    if (n != 0)
        fail_msg("%d temporary files left in %s", n, path);
}

static void
finish(struct th_server *s)
{
    int rc = th_stop(s);

    th_cleanup(s);
    assert_int_equal(rc, 0);
}

/* ---- tests ------------------------------------------------------------ */

/* kill -9 right after the last upload, while the one worker has barely
 * begun; then again right after the restart, while the resumed jobs
 * run. */
static void
test_crash_while_processing(void **state)
{
    struct th_server *s = &srv;
    char token[128], ids[MAX_IMAGES][64];

    (void)state;
    start(s);
    th_new_user(s, "crash", token);
    upload_all(s, token, ids);
    th_crash(s);

    start(s);
    {
        /* Not an assertion (timing is not the test's to choose), but a
         * run where the worker had already finished everything proves
         * nothing: say so. */
        struct backlog b = {s, token, 0, 0};

        backlog_done(&b);
        if (b.processing == 0)
            print_message("note: no job was left at the crash\n");
    }
    th_crash(s);

    start(s);
    assert_all_processed(s, token, ids, N_PHOTOS);
    assert_no_leftovers(s);
    finish(s);
}

/* A clean stop (SIGTERM) with a backlog exits 0, without a sanitizer
 * report, and the next start finishes the backlog. */
static void
test_stop_while_processing(void **state)
{
    struct th_server *s = &srv;
    char token[128], ids[MAX_IMAGES][64];

    (void)state;
    start(s);
    th_new_user(s, "stop", token);
    upload_all(s, token, ids);
    assert_int_equal(th_stop(s), 0);

    start(s);
    assert_all_processed(s, token, ids, N_PHOTOS);
    assert_no_leftovers(s);
    finish(s);
}

struct spool {
    const char *dir;
};

static int
spooled(void *arg)
{
    struct spool *sp = arg;

    return iu_count_files(sp->dir, "") > 0;
}

/* kill -9 in the middle of receiving an upload: the half file in the
 * upload folder is removed at the next start, no image record is left,
 * and the same photo then uploads as new (not a 409). */
static void
test_crash_during_upload(void **state)
{
    static const char boundary[] = "crash-test-boundary";
    struct th_server *s = &srv;
    char token[128], path[512], head[1024], part[512], tmpdir[700];
    char ids[1][64];
    struct spool sp = {tmpdir};
    struct th_resp r;
    size_t len, plen, total;
    void *data;
    int fd;

    (void)state;
    start(s);
    th_new_user(s, "halfway", token);
    data = iu_read_file(
        th_corpus("real/01-mate-Elephants_5640x3172.jpg", path, sizeof path),
        &len);
    assert_non_null(data);
    plen = (size_t)snprintf(part, sizeof part,
                            "--%s\r\nContent-Disposition: "
                            "form-data; name=\"file\"; filename=\"a.jpg\"\r\n"
                            "Content-Type: image/jpeg\r\n\r\n",
                            boundary);
    total = plen + len + strlen(boundary) + 8;
    snprintf(head, sizeof head,
             "POST /api/v1/images HTTP/1.1\r\n"
             "Host: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
             "Content-Type: multipart/form-data; boundary=%s\r\n"
             "Content-Length: %zu\r\n\r\n",
             token, boundary, total);
    fd = tu_connect(s->port);
    assert_true(fd >= 0);
    /* Headers, the part's head and half the photo: then nothing more. */
    assert_int_equal(tu_send(fd, head, strlen(head)), 0);
    assert_int_equal(tu_send(fd, part, plen), 0);
    assert_int_equal(tu_send(fd, data, len / 2), 0);
    snprintf(tmpdir, sizeof tmpdir, "%s/tmp", s->dir);
    if (!th_poll(spooled, &sp, 30000))
        fail_msg("the upload never reached %s", tmpdir);
    th_crash(s);
    close(fd);
    free(data);

    start(s);
    assert_no_leftovers(s);
    assert_int_equal(
        iu_req(s, "GET", "/api/v1/me/images", token, NULL, NULL, &r), 0);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
    th_resp_free(&r);
    assert_int_equal(iu_upload(s, token, path, NULL, 0, &r), 0);
    assert_int_equal(r.status, 202);
    snprintf(ids[0], sizeof ids[0], "%s", kit_jstr_or(r.json, "id"));
    th_resp_free(&r);
    /* photos[0] is this photo: assert_all_processed names it so. */
    assert_all_processed(s, token, ids, 1);
    finish(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_crash_while_processing, teardown),
        cmocka_unit_test_teardown(test_stop_while_processing, teardown),
        cmocka_unit_test_teardown(test_crash_during_upload, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
