/* Stockroom — who may see, edit and decide an image, the review queue
 * (positions, decisions, near duplicates, possible theft), and what an
 * approved image looks like to everyone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "harness.h"
#include "imgutil.h"
#include "kit.h"

#define PROCESS_MS 120000 /* one image's processing, ASan build */

static struct th_server srv;
static char owner[128]; /* the contributor whose images these are */
static char other[128]; /* another contributor */
static char reviewer[128];
static char admin[128];
static char scratch[256]; /* files the tests make */
static int seq;           /* keeps each test's uploads unique */

static const char *const flags[] = {"--min-megapixels", "0.00005", "--workers",
                                    "2", NULL};

static int
setup(void **state)
{
    (void)state;
    snprintf(scratch, sizeof scratch, "/tmp/stockroom-review-XXXXXX");
    if (!mkdtemp(scratch) || th_start(&srv, flags) < 0)
        return -1;
    th_new_user(&srv, "owner", owner);
    th_new_user(&srv, "other", other);
    kit_use(&srv);
    kit_staff("reviewer", "reviewer", reviewer);
    kit_staff("admin", "admin", admin);
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

/* Upload a copy of the corpus file rel that no other upload shares, as
 * token, and wait until it is processed; the id into id (64 bytes). */
static void
upload_processed(const char *token, const char *rel, const char *title,
                 char *id)
{
    char src[512], dst[512], tag[32], status[32];
    struct th_resp r;

    snprintf(tag, sizeof tag, "review-%d",
             __atomic_add_fetch(&seq, 1, __ATOMIC_SEQ_CST));
    snprintf(dst, sizeof dst, "%s/%s.img", scratch, tag);
    assert_int_equal(iu_unique_copy(th_corpus(rel, src, sizeof src), dst, tag),
                     0);
    assert_int_equal(iu_upload(&srv, token, dst, title, 0, &r), 0);
    if (r.status != 202)
        fail_msg("%s: %ld %s", rel, r.status, r.body);
    snprintf(id, 64, "%s", kit_jstr_or(r.json, "id"));
    th_resp_free(&r);
    iu_wait_processed(&srv, token, id, PROCESS_MS, status);
    assert_string_equal(status, "pending_review");
}

/* Upload the bytes as they are (no tag), processed; id as above. */
static void
upload_bytes(const char *token, const void *data, size_t len, const char *name,
             char *id)
{
    char path[512], status[32];
    struct th_resp r;

    snprintf(path, sizeof path, "%s/%s", scratch, name);
    assert_int_equal(iu_write_file(path, data, len), 0);
    assert_int_equal(iu_upload(&srv, token, path, NULL, 0, &r), 0);
    if (r.status != 202)
        fail_msg("%s: %ld %s", name, r.status, r.body);
    snprintf(id, 64, "%s", kit_jstr_or(r.json, "id"));
    th_resp_free(&r);
    iu_wait_processed(&srv, token, id, PROCESS_MS, status);
    assert_string_equal(status, "pending_review");
}

static long
decide(const char *id, const char *token, const char *json, struct th_resp *out)
{
    char path[128];

    snprintf(path, sizeof path, "/api/v1/images/%s/review", id);
    assert_int_equal(iu_req(&srv, "POST", path, token, NULL, json, out), 0);
    return out->status;
}

static void
approve(const char *id)
{
    struct th_resp r;

    if (decide(id, reviewer, "{\"decision\":\"approve\"}", &r) != 200)
        fail_msg("approve %s: %ld %s", id, r.status, r.body);
    th_resp_free(&r);
}

/* One image of token's /me/images (borrowed from list), or NULL. */
static json_t *
mine(json_t *list, const char *id)
{
    size_t i;
    json_t *item;

    json_array_foreach(json_object_get(list, "items"), i, item)
    {
        if (!strcmp(json_string_value(json_object_get(item, "id")), id))
            return item;
    }
    return NULL;
}

/* GET /api/v1/me/images?limit=100 as token: the body's JSON (decref). */
static json_t *
my_images(const char *token)
{
    struct th_resp r;
    json_t *j;

    assert_int_equal(iu_req(&srv, "GET", "/api/v1/me/images?limit=100", token,
                            NULL, NULL, &r),
                     0);
    assert_int_equal(r.status, 200);
    j = json_incref(r.json);
    th_resp_free(&r);
    return j;
}

static int
queue_position(const char *token, const char *id)
{
    json_t *list = my_images(token);
    json_t *item = mine(list, id);
    int pos;

    assert_non_null(item);
    pos = (int)json_integer_value(json_object_get(item, "queue_position"));
    json_decref(list);
    return pos;
}

/* The review queue's entry for id (first page of 100), its JSON (decref)
 * or NULL. */
static json_t *
queue_entry(const char *id)
{
    struct th_resp r;
    json_t *found = NULL, *item;
    size_t i;

    assert_int_equal(iu_req(&srv, "GET", "/api/v1/review/queue?limit=100",
                            reviewer, NULL, NULL, &r),
                     0);
    assert_int_equal(r.status, 200);
    json_array_foreach(json_object_get(r.json, "items"), i, item)
    {
        if (!strcmp(json_string_value(json_object_get(item, "id")), id))
            found = json_incref(item);
    }
    th_resp_free(&r);
    return found;
}

/* The match of other in id's queue entry (decref), or NULL. */
static json_t *
match(const char *id, const char *with)
{
    json_t *e = queue_entry(id), *m, *found = NULL;
    size_t i;

    if (!e)
        fail_msg("%s is not in the review queue", id);
    json_array_foreach(json_object_get(e, "matches"), i, m)
    {
        if (!strcmp(json_string_value(json_object_get(m, "image_id")), with))
            found = json_incref(m);
    }
    json_decref(e);
    return found;
}

/* Approve everything waiting, so a test can count from an empty queue. */
static void
empty_queue(void)
{
    for (int round = 0; round < 20; round++) {
        struct th_resp r;
        json_t *item;
        size_t i, n;

        assert_int_equal(iu_req(&srv, "GET", "/api/v1/review/queue?limit=100",
                                reviewer, NULL, NULL, &r),
                         0);
        assert_int_equal(r.status, 200);
        n = json_array_size(json_object_get(r.json, "items"));
        json_array_foreach(json_object_get(r.json, "items"), i, item)
            approve(json_string_value(json_object_get(item, "id")));
        th_resp_free(&r);
        if (n == 0)
            return;
    }
    fail_msg("the review queue does not empty");
}

/* ---- roles ------------------------------------------------------------ */

static void
test_upload_needs_sign_in(void **state)
{
    char path[512], dst[512];
    struct th_resp r;

    (void)state;
    snprintf(dst, sizeof dst, "%s/anon.jpg", scratch);
    assert_int_equal(iu_unique_copy(th_corpus("adversarial/control-valid-"
                                              "640x480.jpg",
                                              path, sizeof path),
                                    dst, "anon"),
                     0);
    assert_int_equal(iu_upload(&srv, NULL, dst, NULL, 0, &r), 0);
    kit_expect(&r, 401, "unauthenticated", "an anonymous upload");
    th_resp_free(&r);
    assert_int_equal(iu_upload(&srv, "not-a-token", dst, NULL, 0, &r), 0);
    kit_expect(&r, 401, "invalid_token", "an upload with a bad token");
    th_resp_free(&r);
}

/* A pending image and its renditions exist only for its owner and the
 * staff: to everyone else they are not there at all. */
static void
test_pending_visibility(void **state)
{
    static const char *const what[][2] = {
        {"/api/v1/images/", ""},
        {"/images/", "/thumbnail.jpg"},
        {"/images/", "/preview.jpg"},
    };
    char id[64], path[128], cc[128];
    struct th_resp r;

    (void)state;
    upload_processed(owner, "real/28-pillow-flower.jpg", "Pending", id);
    for (size_t i = 0; i < sizeof what / sizeof what[0]; i++) {
        snprintf(path, sizeof path, "%s%s%s", what[i][0], id, what[i][1]);
        kit_check("GET", path, NULL, NULL, 404, "not_found", "anonymous");
        kit_check("GET", path, other, NULL, 404, "not_found",
                  "another contributor");
        kit_check("GET", path, owner, NULL, 200, NULL, "the owner");
        kit_check("GET", path, reviewer, NULL, 200, NULL, "a reviewer");
        kit_check("GET", path, admin, NULL, 200, NULL, "an admin");
    }
    /* What the owner sees includes the private fields; a pending
     * rendition must not sit in a shared cache. */
    snprintf(path, sizeof path, "/api/v1/images/%s", id);
    assert_int_equal(iu_req(&srv, "GET", path, owner, NULL, NULL, &r), 0);
    assert_string_equal(kit_jstr_or(r.json, "status"), "pending_review");
    assert_string_equal(kit_jstr_or(r.json, "format"), "jpeg");
    th_resp_free(&r);
    snprintf(path, sizeof path, "/images/%s/thumbnail.jpg", id);
    assert_int_equal(iu_req(&srv, "GET", path, owner, NULL, NULL, &r), 0);
    assert_non_null(th_header(&r, "Cache-Control", cc, sizeof cc));
    assert_null(strstr(cc, "public"));
    th_resp_free(&r);
    /* An id that does not exist looks the same as one not shown. */
    kit_check("GET", "/api/v1/images/i0000000000000000", owner, NULL, 404,
              "not_found", "the owner");
}

static void
test_patch_roles(void **state)
{
    char id[64], path[128], kw[2048];
    struct th_resp r;
    size_t len = 0;

    (void)state;
    upload_processed(owner, "real/34-skimage-rocket.jpg", "Before", id);
    snprintf(path, sizeof path, "/api/v1/images/%s", id);
    kit_check("PATCH", path, NULL, "{\"title\":\"Anon\"}", 401,
              "unauthenticated", "anonymous");
    kit_check("PATCH", path, other, "{\"title\":\"Theirs\"}", 404, "not_found",
              "another contributor");
    /* Reviewers judge images; they do not edit other people's. */
    kit_check("PATCH", path, reviewer, "{\"title\":\"Staff\"}", 404,
              "not_found", "a reviewer");
    assert_int_equal(iu_req(&srv, "PATCH", path, owner, NULL,
                            "{\"title\":\"Rocket at dawn\",\"keywords\":"
                            "[\"rocket\",\"launch\"]}",
                            &r),
                     0);
    assert_int_equal(r.status, 200);
    assert_string_equal(kit_jstr_or(r.json, "title"), "Rocket at dawn");
    assert_int_equal(json_array_size(json_object_get(r.json, "keywords")), 2);
    th_resp_free(&r);
    /* None of the refused edits landed. */
    assert_int_equal(iu_req(&srv, "GET", path, owner, NULL, NULL, &r), 0);
    assert_string_equal(kit_jstr_or(r.json, "title"), "Rocket at dawn");
    th_resp_free(&r);
    /* 51 keywords, as a string and as a list. */
    for (int i = 1; i <= 51; i++)
        len += (size_t)snprintf(kw + len, sizeof kw - len, "%sk%d",
                                i > 1 ? "," : "", i);
    {
        char body[4096];

        snprintf(body, sizeof body, "{\"keywords\":\"%s\"}", kw);
        kit_check("PATCH", path, owner, body, 422, "too_many_keywords",
                  "the owner");
        len = (size_t)snprintf(body, sizeof body, "{\"keywords\":[");
        for (int i = 1; i <= 51; i++)
            len += (size_t)snprintf(body + len, sizeof body - len, "%s\"k%d\"",
                                    i > 1 ? "," : "", i);
        snprintf(body + len, sizeof body - len, "]}");
        /* As a list, the same limit is a field of the wrong shape. */
        kit_check("PATCH", path, owner, body, 422, "invalid_field",
                  "the owner");
    }
    kit_check("PATCH", path, owner, "{\"title\":\"bad \\u0001 text\"}", 422,
              "invalid_field", "the owner");
}

static void
test_me_images(void **state)
{
    char id[64];
    json_t *list;

    (void)state;
    upload_processed(owner, "real/59-skimage-chelsea.png", "Mine", id);
    kit_check("GET", "/api/v1/me/images", NULL, NULL, 401, "unauthenticated",
              "anonymous");
    list = my_images(owner);
    assert_non_null(mine(list, id));
    assert_true(json_object_get(list, "next_cursor") != NULL);
    json_decref(list);
    list = my_images(other);
    assert_null(mine(list, id));
    json_decref(list);
}

static void
test_queue_roles(void **state)
{
    (void)state;
    kit_check("GET", "/api/v1/review/queue", NULL, NULL, 401, "unauthenticated",
              "anonymous");
    kit_check("GET", "/api/v1/review/queue", owner, NULL, 403, "forbidden",
              "a contributor");
    kit_check("GET", "/api/v1/review/queue", reviewer, NULL, 200, NULL,
              "a reviewer");
    kit_check("GET", "/api/v1/review/queue", admin, NULL, 200, NULL,
              "an admin");
}

/* ---- deciding --------------------------------------------------------- */

static void
test_decide(void **state)
{
    static const struct {
        const char *body, *code;
    } bad[] = {
        {"{\"decision\":\"reject\"}", "invalid_reason"},
        {"{\"decision\":\"reject\",\"reason_code\":\"ugly\"}",
         "invalid_reason"},
        {"{\"decision\":\"reject\",\"reason_code\":\"\"}", "invalid_field"},
        {"{\"decision\":\"maybe\"}", "invalid_field"},
        {"{}", "missing_field"},
    };
    char a[64], b[64], path[128];
    struct th_resp r;
    json_t *list, *item;

    (void)state;
    upload_processed(owner, "real/60-skimage-astronaut.png", "Approve me", a);
    upload_processed(owner, "real/61-skimage-camera.png", "Reject me", b);
    snprintf(path, sizeof path, "/api/v1/images/%s/review", a);
    kit_check("POST", path, NULL, "{\"decision\":\"approve\"}", 401,
              "unauthenticated", "anonymous");
    kit_check("POST", path, owner, "{\"decision\":\"approve\"}", 403,
              "forbidden", "its contributor");
    kit_check("POST", path, other, "{\"decision\":\"approve\"}", 403,
              "forbidden", "a contributor");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        decide(a, reviewer, bad[i].body, &r);
        kit_expect(&r, 422, bad[i].code, bad[i].body);
        th_resp_free(&r);
    }
    /* Nothing was decided by the refused requests. */
    snprintf(path, sizeof path, "/api/v1/images/%s", a);
    assert_int_equal(iu_req(&srv, "GET", path, owner, NULL, NULL, &r), 0);
    assert_string_equal(kit_jstr_or(r.json, "status"), "pending_review");
    th_resp_free(&r);
    assert_true(queue_position(owner, a) > 0);

    assert_int_equal(decide(a, reviewer, "{\"decision\":\"approve\"}", &r),
                     200);
    assert_string_equal(kit_jstr_or(r.json, "status"), "approved");
    th_resp_free(&r);
    assert_int_equal(decide(a, reviewer, "{\"decision\":\"approve\"}", &r),
                     409);
    th_resp_free(&r);
    assert_int_equal(decide(a, admin,
                            "{\"decision\":\"reject\","
                            "\"reason_code\":\"poor_quality\"}",
                            &r),
                     409);
    th_resp_free(&r);

    assert_int_equal(decide(b, admin,
                            "{\"decision\":\"reject\","
                            "\"reason_code\":\"keyword_spam\",\"reason\":"
                            "\"Too many unrelated keywords.\"}",
                            &r),
                     200);
    assert_string_equal(kit_jstr_or(r.json, "status"), "rejected");
    th_resp_free(&r);
    assert_int_equal(decide(b, reviewer, "{\"decision\":\"approve\"}", &r),
                     409);
    th_resp_free(&r);
    /* The contributor sees why; the public sees nothing. */
    list = my_images(owner);
    item = mine(list, b);
    assert_non_null(item);
    assert_string_equal(json_string_value(json_object_get(item, "status")),
                        "rejected");
    assert_string_equal(json_string_value(json_object_get(item, "reject_code")),
                        "keyword_spam");
    assert_string_equal(
        json_string_value(json_object_get(item, "reject_reason")),
        "Too many unrelated keywords.");
    assert_true(json_is_null(json_object_get(item, "queue_position")));
    json_decref(list);
    snprintf(path, sizeof path, "/api/v1/images/%s", b);
    kit_check("GET", path, NULL, NULL, 404, "not_found", "anonymous");
    kit_check("GET", path, other, NULL, 404, "not_found",
              "another contributor");
    snprintf(path, sizeof path, "/images/%s/preview.jpg", b);
    kit_check("GET", path, NULL, NULL, 404, "not_found", "anonymous");
    /* An unknown image cannot be decided. */
    decide("i0000000000000000", reviewer, "{\"decision\":\"approve\"}", &r);
    kit_expect(&r, 404, "not_found", "decide an unknown image");
    th_resp_free(&r);
}

/* Once approved, the image and its renditions are public and cached for
 * long: a revalidation with the ETag costs a 304. */
static void
test_approved_is_public(void **state)
{
    static const char *const rend[] = {"thumbnail.jpg", "preview.jpg"};
    char id[64], path[128], etag[128], inm[160], cc[128], type[64];
    struct th_resp r;

    (void)state;
    upload_processed(owner, "real/66-vips-1.webp", "Public", id);
    approve(id);
    snprintf(path, sizeof path, "/api/v1/images/%s", id);
    assert_int_equal(iu_req(&srv, "GET", path, NULL, NULL, NULL, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(kit_jstr_or(r.json, "status"), "approved");
    assert_string_equal(kit_jstr_or(r.json, "title"), "Public");
    /* The public view leaves out what only the owner sees. */
    assert_null(json_object_get(r.json, "format"));
    assert_null(json_object_get(r.json, "queue_position"));
    th_resp_free(&r);
    kit_check("GET", path, other, NULL, 200, NULL, "another contributor");
    for (size_t i = 0; i < 2; i++) {
        long age;
        const char *ma;

        snprintf(path, sizeof path, "/images/%s/%s", id, rend[i]);
        assert_int_equal(iu_req(&srv, "GET", path, NULL, NULL, NULL, &r), 0);
        assert_int_equal(r.status, 200);
        assert_non_null(th_header(&r, "Content-Type", type, sizeof type));
        assert_string_equal(type, "image/jpeg");
        assert_non_null(th_header(&r, "ETag", etag, sizeof etag));
        assert_non_null(th_header(&r, "Cache-Control", cc, sizeof cc));
        assert_non_null(strstr(cc, "public"));
        ma = strstr(cc, "max-age=");
        assert_non_null(ma);
        age = strtol(ma + 8, NULL, 10);
        if (age < 30L * 24 * 3600)
            fail_msg("%s: max-age %ld is short", path, age);
        assert_true(r.len > 100);
        th_resp_free(&r);

        snprintf(inm, sizeof inm, "If-None-Match: %s", etag);
        assert_int_equal(iu_req(&srv, "GET", path, NULL, inm, NULL, &r), 0);
        assert_int_equal(r.status, 304);
        assert_int_equal(r.len, 0);
        th_resp_free(&r);
        /* Another ETag gets the file again. */
        assert_int_equal(iu_req(&srv, "GET", path, NULL,
                                "If-None-Match: \"0000\"", NULL, &r),
                         0);
        assert_int_equal(r.status, 200);
        th_resp_free(&r);
    }
    /* Still, nobody but its owner edits it. */
    snprintf(path, sizeof path, "/api/v1/images/%s", id);
    kit_check("PATCH", path, other, "{\"title\":\"Mine now\"}", 404,
              "not_found", "another contributor");
}

/* Each contributor sees the queue position of each pending image: 1, 2, 3
 * in upload order on an empty queue, moving up after a decision. */
static void
test_queue_positions(void **state)
{
    static const char *const files[3] = {
        "real/57-goximage-yellow_rose.png",
        "real/70-goximage-video-001-"
        "paletted.tiff",
        "real/58-pillow-hopper_wal.png",
    };
    char id[3][64];
    struct th_resp r;
    json_t *items;

    (void)state;
    empty_queue();
    for (int i = 0; i < 3; i++)
        upload_processed(owner, files[i], NULL, id[i]);
    for (int i = 0; i < 3; i++)
        assert_int_equal(queue_position(owner, id[i]), i + 1);
    /* The reviewer's queue is oldest first, as the positions say. */
    assert_int_equal(
        iu_req(&srv, "GET", "/api/v1/review/queue", reviewer, NULL, NULL, &r),
        0);
    items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 3);
    for (int i = 0; i < 3; i++)
        assert_string_equal(json_string_value(json_object_get(
                                json_array_get(items, (size_t)i), "id")),
                            id[i]);
    th_resp_free(&r);
    approve(id[0]);
    assert_int_equal(queue_position(owner, id[1]), 1);
    assert_int_equal(queue_position(owner, id[2]), 2);
    /* A rejection counts as a decision too. */
    assert_int_equal(decide(id[1], reviewer,
                            "{\"decision\":\"reject\","
                            "\"reason_code\":\"other\"}",
                            &r),
                     200);
    th_resp_free(&r);
    assert_int_equal(queue_position(owner, id[2]), 1);
}

/* ---- near duplicates -------------------------------------------------- */

/* Copies of one photo that are turned or mirrored in their pixels: the
 * corpus stores it turned and mirrored, with an EXIF tag that puts it
 * upright; setting that tag to 1 shows the stored pixels as they are. */
static void
test_near_duplicates(void **state)
{
    char src[512], orig[64], upright[64], rot[64], mir[64], theft[64];
    void *data;
    size_t len;
    json_t *m;

    (void)state;
    upload_processed(owner, "real/39-vips-rotation-1.jpg", "Original", orig);

    /* Another encoding of the same upright picture. */
    upload_processed(owner, "real/41-vips-rotation-3.jpg", "Upright", upright);
    m = match(upright, orig);
    assert_non_null(m);
    assert_false(json_is_true(json_object_get(m, "rotated_or_mirrored")));
    assert_false(json_is_true(json_object_get(m, "possible_theft")));
    json_decref(m);

    /* Turned a quarter: orientation 6's pixels shown as stored. */
    data = iu_read_file(
        th_corpus("real/44-vips-rotation-6.jpg", src, sizeof src), &len);
    assert_non_null(data);
    assert_int_equal(iu_jpeg_set_orientation(data, len, 1), 0);
    upload_bytes(owner, data, len, "turned.jpg", rot);
    free(data);
    m = match(rot, orig);
    if (!m)
        fail_msg("the turned copy was not flagged");
    assert_true(json_is_true(json_object_get(m, "rotated_or_mirrored")));
    assert_false(json_is_true(json_object_get(m, "possible_theft")));
    json_decref(m);
    /* And the flag is seen from the original's side too. */
    m = match(orig, rot);
    assert_non_null(m);
    assert_true(json_is_true(json_object_get(m, "rotated_or_mirrored")));
    json_decref(m);

    /* Mirrored left to right: orientation 2's pixels. */
    data = iu_read_file(
        th_corpus("real/40-vips-rotation-2.jpg", src, sizeof src), &len);
    assert_non_null(data);
    assert_int_equal(iu_jpeg_set_orientation(data, len, 1), 0);
    upload_bytes(owner, data, len, "mirrored.jpg", mir);
    free(data);
    m = match(mir, orig);
    if (!m)
        fail_msg("the mirrored copy was not flagged");
    assert_true(json_is_true(json_object_get(m, "rotated_or_mirrored")));
    assert_false(json_is_true(json_object_get(m, "possible_theft")));
    json_decref(m);

    /* Another contributor's turned and mirrored copy (orientation 7's
     * pixels): a possible theft, for the reviewer to see. */
    data = iu_read_file(
        th_corpus("real/45-vips-rotation-7.jpg", src, sizeof src), &len);
    assert_non_null(data);
    assert_int_equal(iu_jpeg_set_orientation(data, len, 1), 0);
    upload_bytes(other, data, len, "stolen.jpg", theft);
    free(data);
    m = match(theft, orig);
    if (!m)
        fail_msg("the other contributor's copy was not flagged");
    assert_true(json_is_true(json_object_get(m, "rotated_or_mirrored")));
    assert_true(json_is_true(json_object_get(m, "possible_theft")));
    json_decref(m);
    m = match(orig, theft);
    assert_non_null(m);
    assert_true(json_is_true(json_object_get(m, "possible_theft")));
    json_decref(m);
}

/* A photo unlike the others in the queue gets no flag: the matches above
 * are not simply every image. */
static void
test_distinct_photo_unflagged(void **state)
{
    char id[64];
    json_t *e;

    (void)state;
    upload_processed(owner, "real/35-skimage-hubble_deep_field.jpg", NULL, id);
    e = queue_entry(id);
    assert_non_null(e);
    assert_int_equal(json_array_size(json_object_get(e, "matches")), 0);
    json_decref(e);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_upload_needs_sign_in),
        cmocka_unit_test(test_pending_visibility),
        cmocka_unit_test(test_patch_roles),
        cmocka_unit_test(test_me_images),
        cmocka_unit_test(test_queue_roles),
        cmocka_unit_test(test_decide),
        cmocka_unit_test(test_approved_is_public),
        cmocka_unit_test(test_queue_positions),
        cmocka_unit_test(test_near_duplicates),
        cmocka_unit_test(test_distinct_photo_unflagged),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
