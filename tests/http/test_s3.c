/* Stockroom — the S3 blob store against the stand-in: the stand-in itself
 * refuses bad signatures, start-up names a wrong secret, bucket or
 * endpoint, an outage gives 503 and records nothing while cached
 * renditions are still served, processing waits for the store, a cache
 * smaller than one preview works, and blobs migrate, verify and gc. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <sodium.h>

#include "harness.h"
#include "imgutil.h"
#include "kit.h"
#include "s3stand.h"
#include "util.h"

#define WAIT_MS 120000

static const char *const flags[] = {"--min-megapixels", "0.00005", NULL};
static const char *const tiny_cache[] = {"--min-megapixels",
                                         "0.00005",
                                         "--cache-mb",
                                         "0",
                                         "--rendition-base-url",
                                         "https://cdn.example/photos/",
                                         NULL};

static const char *const photos[] = {
    "real/07-digikam-body-background.jpg",
    "real/04-lomiri-Dragonfly_by_Bolly.jpg",
    "real/02-exiv2-exiv2-bug922a.jpg",
};

static struct th_server srv;

static struct s3s *
stand(void)
{
    struct s3s *s = s3s_shared();

    if (!s)
        fail_msg("the S3 stand-in did not start");
    assert_int_equal(s3s_fault(s, "mode=none"), 0);
    return s;
}

/* A fresh data directory whose servers and commands use a fresh bucket. */
static void
fresh_s3(struct th_server *s)
{
    assert_int_equal(tu_tmpdir(s->dir, sizeof s->dir), 0);
    assert_int_equal(s3s_use(stand(), s->dir), 0);
}

static void
start(struct th_server *s, const char *const *extra)
{
    if (th_start(s, extra) < 0)
        fail_msg("the server did not start; see %s", s->log);
}

static int
teardown(void **state)
{
    (void)state;
    if (s3s_shared())
        s3s_fault(s3s_shared(), "mode=none");
    th_cleanup(&srv);
    return 0;
}

static void
upload_ok(struct th_server *s, const char *token, int i, char id[64])
{
    char path[512], status[32];
    struct th_resp r;

    assert_int_equal(iu_upload(s, token,
                               th_corpus(photos[i], path, sizeof path), NULL, 0,
                               &r),
                     0);
    if (r.status != 202)
        fail_msg("%s: %ld %s", photos[i], r.status, r.body);
    snprintf(id, 64, "%s", kit_jstr(r.json, "id"));
    th_resp_free(&r);
    iu_wait_processed(s, token, id, WAIT_MS, status);
    if (!strcmp(status, "processing") || !strcmp(status, "failed") ||
        !status[0])
        fail_msg("%s ended '%s'", photos[i], status);
}

static long
get_status(struct th_server *s, const char *token, const char *path,
           const char *want_header)
{
    struct th_resp r;
    char buf[64];
    long st;

    assert_int_equal(iu_req(s, "GET", path, token, NULL, NULL, &r), 0);
    st = r.status;
    if (want_header && !th_header(&r, want_header, buf, sizeof buf))
        fail_msg("%s: no %s header", path, want_header);
    th_resp_free(&r);
    return st;
}

/* ---- the stand-in ------------------------------------------------------ */

struct reply {
    long status;
    char body[2048];
};

static size_t
keep(char *p, size_t size, size_t n, void *arg)
{
    struct reply *r = arg;
    size_t have = strlen(r->body), len = size * n;

    if (have + len < sizeof r->body) {
        memcpy(r->body + have, p, len);
        r->body[have + len] = '\0';
    }
    return len;
}

/* One request to the stand-in, signed with secret (NULL: unsigned), the
 * body's SHA-256 declared as sha (NULL: the body's own). */
static void
raw_s3(struct s3s *s, const char *method, const char *path, const char *body,
       const char *secret, const char *sha, struct reply *out)
{
    unsigned char d[crypto_hash_sha256_BYTES];
    char hex[65], url[300], line[120], userpwd[200];
    struct curl_slist *h = NULL;
    CURL *c = curl_easy_init();

    memset(out, 0, sizeof *out);
    assert_non_null(c);
    crypto_hash_sha256(d, (const unsigned char *)(body ? body : ""),
                       body ? strlen(body) : 0);
    sodium_bin2hex(hex, sizeof hex, d, sizeof d);
    snprintf(line, sizeof line, "x-amz-content-sha256: %s", sha ? sha : hex);
    h = curl_slist_append(h, line);
    snprintf(url, sizeof url, "%s%s", s->endpoint, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    if (secret) {
        snprintf(userpwd, sizeof userpwd, "%s:%s", S3S_ACCESS_KEY, secret);
        curl_easy_setopt(c, CURLOPT_AWS_SIGV4, "aws:amz:us-east-1:s3");
        curl_easy_setopt(c, CURLOPT_USERPWD, userpwd);
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
}

/* A stand-in that accepted anything would prove nothing. */
static void
test_stand_checks_signatures(void **state)
{
    struct s3s *s = stand();
    struct reply r;

    (void)state;
    assert_int_equal(s3s_bucket(s, "sig-check"), 0);
    raw_s3(s, "PUT", "/sig-check/a.txt", "hello", S3S_SECRET, NULL, &r);
    assert_int_equal(r.status, 200);
    raw_s3(s, "GET", "/sig-check/a.txt", NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 403);
    assert_non_null(strstr(r.body, "<Code>SignatureDoesNotMatch</Code>"));
    raw_s3(s, "GET", "/sig-check/a.txt", NULL, "not-the-secret", NULL, &r);
    assert_int_equal(r.status, 403);
    assert_non_null(strstr(r.body, "<Code>SignatureDoesNotMatch</Code>"));
    /* Signed, but the body is not the one the signature declares. */
    raw_s3(s, "PUT", "/sig-check/b.txt", "tampered", S3S_SECRET,
           "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
           &r);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "<Code>XAmzContentSHA256Mismatch</Code>"));
    raw_s3(s, "GET", "/sig-check/a.txt", NULL, S3S_SECRET, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "hello");
}

/* ---- start-up ----------------------------------------------------------- */

static void
serve_fails(const char *dir, const char *endpoint, const char *bucket,
            const char *expect)
{
    const char *argv[] = {"stockroom",     "serve",  "--listen",
                          "127.0.0.1:0",   "--data", dir,
                          "--blob-store",  "s3",     "--s3-path-style",
                          "--s3-endpoint", endpoint, "--s3-bucket",
                          bucket,          NULL};
    char err[2048];
    int rc = tu_run(argv, NULL, NULL, 0, err, sizeof err, 60000);

    if (rc != 2 || !strstr(err, expect))
        fail_msg("exit %d, wanted 2 naming '%s': %s", rc, expect, err);
}

static void
test_startup_names_the_culprit(void **state)
{
    struct s3s *s = stand();
    char dir[256], bucket[64];

    (void)state;
    assert_int_equal(tu_tmpdir(dir, sizeof dir), 0);
    assert_int_equal(s3s_use(s, dir), 0);
    snprintf(bucket, sizeof bucket, "%s", getenv("STOCKROOM_S3_BUCKET"));
    setenv("STOCKROOM_S3_SECRET_ACCESS_KEY", "not-the-secret", 1);
    serve_fails(dir, s->endpoint, bucket, "S3 credentials refused");
    setenv("STOCKROOM_S3_SECRET_ACCESS_KEY", S3S_SECRET, 1);
    serve_fails(dir, s->endpoint, "no-such-bucket", "bucket 'no-such-bucket'");
    serve_fails(dir, "http://127.0.0.1:1", bucket, "cannot be reached");
    unsetenv("STOCKROOM_S3_ACCESS_KEY_ID");
    serve_fails(dir, s->endpoint, bucket, "S3 credentials missing");
    setenv("STOCKROOM_S3_ACCESS_KEY_ID", S3S_ACCESS_KEY, 1);
    tu_rmtree(dir);
}

/* ---- outages ------------------------------------------------------------ */

struct storage_wait {
    struct th_server *s;
    const char *want;
};

static int
storage_is(void *arg)
{
    struct storage_wait *w = arg;
    struct th_resp r;
    int ok;

    if (th_req(w->s, "GET", "/healthz", NULL, NULL, 0, &r) < 0)
        return 0;
    ok = r.status == 200 && !strcmp(kit_jstr_or(r.json, "storage"), w->want);
    th_resp_free(&r);
    return ok;
}

/* /healthz stays 200 and tells the store's state in "storage". */
static void
wait_storage(struct th_server *s, const char *want)
{
    struct storage_wait w = {s, want};

    if (!th_poll(storage_is, &w, 30000))
        fail_msg("storage never became '%s'", want);
}

static int
count_images(struct th_server *s, const char *token)
{
    struct th_resp r;
    int n;

    assert_int_equal(
        iu_req(s, "GET", "/api/v1/me/images", token, NULL, NULL, &r), 0);
    assert_int_equal(r.status, 200);
    n = (int)json_array_size(json_object_get(r.json, "items"));
    th_resp_free(&r);
    return n;
}

static void
test_outage_refuses_uploads_serves_cache(void **state)
{
    struct s3s *s = stand();
    char token[128], id[64], id2[64], path[512], thumb[128];
    struct th_resp r;
    long t0;

    (void)state;
    fresh_s3(&srv);
    start(&srv, flags);
    th_new_user(&srv, "outage", token);
    upload_ok(&srv, token, 0, id);
    snprintf(thumb, sizeof thumb, "/images/%s/thumbnail.jpg", id);

    assert_int_equal(s3s_fault(s, "mode=refuse"), 0);
    t0 = tu_now_ms();
    assert_int_equal(iu_upload(&srv, token,
                               th_corpus(photos[1], path, sizeof path), NULL, 0,
                               &r),
                     0);
    assert_int_equal(r.status, 503);
    assert_string_equal(th_error_code(&r), "storage_unavailable");
    assert_non_null(th_header(&r, "Retry-After", path, sizeof path));
    th_resp_free(&r);
    /* The bound, not a timing assertion on the test's own pace. */
    if (tu_now_ms() - t0 > 15000)
        fail_msg("the 503 took %ld ms", tu_now_ms() - t0);
    assert_int_equal(count_images(&srv, token), 1);
    wait_storage(&srv, "degraded");
    assert_int_equal(get_status(&srv, token, thumb, "ETag"), 200);

    assert_int_equal(s3s_fault(s, "mode=none"), 0);
    wait_storage(&srv, "ok");
    upload_ok(&srv, token, 1, id2);
    assert_int_equal(count_images(&srv, token), 2);
    assert_int_equal(th_stop(&srv), 0);
}

struct faulted {
    struct s3s *s;
    long until;
};

static int
faulted_enough(void *arg)
{
    struct faulted *f = arg;

    return s3s_stat(f->s, "faulted") >= f->until;
}

/* The store answers 503 SlowDown to every preview upload for longer than
 * three render attempts: the job waits instead of failing the image, and
 * finishes once the store is back. */
static void
test_processing_waits_for_the_store(void **state)
{
    struct s3s *s = stand();
    char token[128], path[512], id[64], status[32];
    struct faulted f = {s, 0};
    struct th_resp r;

    (void)state;
    fresh_s3(&srv);
    start(&srv, flags);
    th_new_user(&srv, "waits", token);
    f.until = s3s_stat(s, "faulted") + 12; /* 3 attempts of 4 tries */
    assert_int_equal(
        s3s_fault(s, "mode=status&status=503&code=SlowDown&match=/preview.jpg"),
        0);
    assert_int_equal(iu_upload(&srv, token,
                               th_corpus(photos[2], path, sizeof path), NULL, 0,
                               &r),
                     0);
    assert_int_equal(r.status, 202);
    snprintf(id, sizeof id, "%s", kit_jstr(r.json, "id"));
    th_resp_free(&r);
    if (!th_poll(faulted_enough, &f, WAIT_MS))
        fail_msg("the worker never tried to store the preview");
    assert_int_equal(
        iu_req(&srv, "GET", "/api/v1/me/images", token, NULL, NULL, &r), 0);
    assert_non_null(strstr(r.body, "\"processing\""));
    th_resp_free(&r);
    assert_int_equal(s3s_fault(s, "mode=none"), 0);
    iu_wait_processed(&srv, token, id, WAIT_MS, status);
    if (!strcmp(status, "failed") || !strcmp(status, "processing"))
        fail_msg("image ended '%s'", status);
    assert_int_equal(th_stop(&srv), 0);
}

static const char *
thumb_url(struct th_server *s, const char *token, const char *id, char *buf)
{
    char path[128];
    struct th_resp r;

    snprintf(path, sizeof path, "/api/v1/images/%s", id);
    assert_int_equal(iu_req(s, "GET", path, token, NULL, NULL, &r), 0);
    assert_int_equal(r.status, 200);
    snprintf(buf, 256, "%s", kit_jstr(r.json, "thumbnail_url"));
    th_resp_free(&r);
    return buf;
}

/* A cache smaller than one preview: every read fetches again, and works.
 * With --rendition-base-url, approved renditions are linked on the CDN,
 * private ones stay with Stockroom. */
static void
test_cache_smaller_than_a_preview(void **state)
{
    char token[128], reviewer[128], id[64], url[256], want[256];
    struct th_resp a, b;
    long faulted;

    (void)state;
    fresh_s3(&srv);
    start(&srv, tiny_cache);
    th_new_user(&srv, "tiny", token);
    upload_ok(&srv, token, 0, id);
    snprintf(url, sizeof url, "/images/%s/preview.jpg", id);
    assert_int_equal(iu_req(&srv, "GET", url, token, NULL, NULL, &a), 0);
    assert_int_equal(iu_req(&srv, "GET", url, token, NULL, NULL, &b), 0);
    assert_int_equal(a.status, 200);
    assert_int_equal(b.status, 200);
    assert_true(a.len > 1000);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.body, b.body, a.len);
    th_resp_free(&b);
    /* The thumbnail pushes the preview out; its next fetch is cut half-way
     * once, then delayed once: retried, and the same bytes arrive. */
    assert_int_equal(get_status(&srv, token,
                                strstr(thumb_url(&srv, token, id, want), "/"),
                                NULL),
                     200);
    assert_int_equal(s3s_fault(stand(), "mode=cut&count=1&match=/preview.jpg"),
                     0);
    faulted = s3s_stat(s3s_shared(), "faulted");
    assert_int_equal(iu_req(&srv, "GET", url, token, NULL, NULL, &b), 0);
    assert_int_equal(s3s_stat(s3s_shared(), "faulted"), faulted + 1);
    assert_int_equal(b.status, 200);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.body, b.body, a.len);
    th_resp_free(&b);
    assert_int_equal(get_status(&srv, token, strstr(want, "/"), NULL), 200);
    assert_int_equal(
        s3s_fault(stand(),
                  "mode=delay&delay_ms=500&count=1&match=/preview.jpg"),
        0);
    assert_int_equal(iu_req(&srv, "GET", url, token, NULL, NULL, &b), 0);
    assert_int_equal(s3s_stat(s3s_shared(), "faulted"), faulted + 2);
    assert_int_equal(b.status, 200);
    assert_int_equal(a.len, b.len);
    th_resp_free(&a);
    th_resp_free(&b);

    snprintf(want, sizeof want, "/images/%s/thumbnail.jpg", id);
    assert_string_equal(thumb_url(&srv, token, id, url), want);
    snprintf(url, sizeof url, "/api/v1/images/%s", id);
    assert_int_equal(iu_req(&srv, "PATCH", url, token, NULL,
                            "{\"title\":\"Body background\",\"keywords\":"
                            "\"body,background,texture,skin,light\"}",
                            &a),
                     0);
    assert_int_equal(a.status, 200);
    th_resp_free(&a);
    kit_use(&srv);
    kit_staff("cdn-reviewer", "reviewer", reviewer);
    snprintf(url, sizeof url, "/api/v1/images/%s/review", id);
    assert_int_equal(iu_req(&srv, "POST", url, reviewer, NULL,
                            "{\"decision\":\"approve\"}", &a),
                     0);
    if (a.status != 200)
        fail_msg("approve: %ld %s", a.status, a.body);
    th_resp_free(&a);
    snprintf(want, sizeof want,
             "https://cdn.example/photos/renditions/%s/thumb.jpg", id);
    assert_string_equal(thumb_url(&srv, token, id, url), want);
    assert_int_equal(th_stop(&srv), 0);
}

/* ---- blobs migrate, verify, gc ----------------------------------------- */

static int
blobs(const char *dir, const char *const *words, char *out, size_t len)
{
    const char *argv[12] = {"stockroom", "blobs"};
    int n = 2;
    char err[2048];
    int rc;

    for (int i = 0; words[i] && n < 9; i++)
        argv[n++] = words[i];
    argv[n++] = "--data";
    argv[n++] = dir;
    argv[n] = NULL;
    rc = tu_run(argv, NULL, out, len, err, sizeof err, 120000);
    if (rc != 0 && rc != 1)
        fail_msg("blobs %s: exit %d: %s", words[0], rc, err);
    return rc;
}

static void
test_migrate_verify_gc(void **state)
{
    static const char *const migrate[] = {"migrate", "--to", "s3", NULL};
    static const char *const verify[] = {"verify", "--deep", NULL};
    static const char *const gc[] = {"gc", "--older-than", "0", NULL};
    static const char *const gc_del[] = {"gc", "--older-than", "0", "--delete",
                                         NULL};
    struct s3s *s = stand();
    char token[128], ids[2][64], out[8192], bucket[64], key[200], url[128];
    struct reply r;

    (void)state;
    /* A store in files, as `make run` keeps it. */
    unsetenv("STOCKROOM_BLOB_STORE");
    start(&srv, flags);
    th_new_user(&srv, "migrate", token);
    upload_ok(&srv, token, 0, ids[0]);
    upload_ok(&srv, token, 1, ids[1]);
    assert_int_equal(th_stop(&srv), 0);

    assert_int_equal(s3s_use(s, srv.dir), 0);
    snprintf(bucket, sizeof bucket, "%s", getenv("STOCKROOM_S3_BUCKET"));
    /* Interrupted: the first object's check and upload are refused. */
    assert_int_equal(
        s3s_fault(s, "mode=status&status=400&code=InvalidRequest&count=2"
                     "&match=/originals/"),
        0);
    assert_int_equal(blobs(srv.dir, migrate, out, sizeof out), 1);
    assert_non_null(strstr(out, "1 failed"));
    /* Resumed: only what is missing goes; then nothing. */
    assert_int_equal(blobs(srv.dir, migrate, out, sizeof out), 0);
    assert_non_null(strstr(out, ": 1 copied"));
    assert_int_equal(blobs(srv.dir, migrate, out, sizeof out), 0);
    assert_non_null(strstr(out, ": 0 copied"));
    assert_int_equal(blobs(srv.dir, verify, out, sizeof out), 0);
    assert_non_null(strstr(out, "0 missing, 0 wrong"));

    /* An object no row names, as a crash between upload and row leaves. */
    snprintf(key, sizeof key, "/%s/originals/00/orphan", bucket);
    raw_s3(s, "PUT", key, "orphan bytes", S3S_SECRET, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(blobs(srv.dir, gc, out, sizeof out), 0);
    assert_non_null(strstr(out, "unnamed originals/00/orphan"));
    assert_non_null(strstr(out, "1 unnamed blobs"));
    assert_int_equal(blobs(srv.dir, gc_del, out, sizeof out), 0);
    assert_non_null(strstr(out, "removed originals/00/orphan"));
    assert_int_equal(blobs(srv.dir, gc, out, sizeof out), 0);
    assert_non_null(strstr(out, "0 unnamed blobs"));

    /* The same data directory now serves from the bucket. */
    start(&srv, flags);
    snprintf(url, sizeof url, "/images/%s/preview.jpg", ids[1]);
    assert_int_equal(get_status(&srv, token, url, "ETag"), 200);
    assert_int_equal(th_stop(&srv), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_stand_checks_signatures, teardown),
        cmocka_unit_test_teardown(test_startup_names_the_culprit, teardown),
        cmocka_unit_test_teardown(test_outage_refuses_uploads_serves_cache,
                                  teardown),
        cmocka_unit_test_teardown(test_processing_waits_for_the_store,
                                  teardown),
        cmocka_unit_test_teardown(test_cache_smaller_than_a_preview, teardown),
        cmocka_unit_test_teardown(test_migrate_verify_gc, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
