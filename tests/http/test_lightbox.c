/* Stockroom — lightboxes: a signed-in buyer's named collections of
 * approved images. Create, rename, delete, list; add and remove images;
 * private unless shared by an unguessable link, which can be replaced and
 * revoked; someone else's lightbox is 404 whatever is tried; names are
 * checked; a cookie needs its CSRF token; an image that leaves 'approved'
 * drops out without breaking the lightbox. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "harness.h"
#include "kit.h"
#include "util.h"

#define PW "correct horse battery"
#define PROCESS_MS 120000 /* every upload processed, sanitizer build */
#define SQL_MS 10000      /* the server may hold the write lock */

static struct th_server srv;
static char carl[128];              /* the contributor */
static char ann[128], ann_csrf[64]; /* the buyer whose lightboxes these are */
static char ben[128];               /* another buyer */
static char admin[128];

enum {
    FLOWER,
    LANE,
    CAT,
    HARBOUR,
    ROCKET,
    DOOMED,
    PENDING_IMG,
    REJECTED,
    N_IMG
};

static struct {
    const char *file, *title;
    int fate; /* 0 approve, 1 leave pending, 2 reject */
    char id[64];
} imgs[N_IMG] = {
    [FLOWER] = {"28-pillow-flower.jpg", "Garden flower", 0, ""},
    [LANE] = {"30-goexif-sample1.jpg", "Country lane", 0, ""},
    [CAT] = {"59-skimage-chelsea.png", "Tabby cat", 0, ""},
    [HARBOUR] = {"66-vips-1.webp", "Harbour boats", 0, ""},
    [ROCKET] = {"34-skimage-rocket.jpg", "Rocket launch", 0, ""},
    [DOOMED] = {"33-mpl-grace_hopper.jpg", "Soon taken down", 0, ""},
    [PENDING_IMG] = {"57-goximage-yellow_rose.png", "Pending rose", 1, ""},
    [REJECTED] = {"68-rust-tiff-kodim02-lzw.tif", "Rejected tiff", 2, ""},
};

static const char *const flags[] = {"--min-megapixels", "0.0001", "--workers",
                                    "2", NULL};

/* ---- requests --------------------------------------------------------- */

/* POST /api/v1/lightboxes {name} as token: the new lightbox's id. */
static void
create(const char *token, const char *name, char id[64])
{
    json_t *body = json_pack("{s:s}", "name", name);
    char *text = json_dumps(body, 0);
    json_t *lb = kit_want("POST", "/api/v1/lightboxes", token, text, 201, NULL);

    snprintf(id, 64, "%s", kit_jstr_or(lb, "id"));
    assert_true(id[0] != '\0');
    json_decref(lb);
    free(text);
    json_decref(body);
}

static void
lb_path(char *out, size_t len, const char *id, const char *suffix)
{
    snprintf(out, len, "/api/v1/lightboxes/%s%s", id, suffix ? suffix : "");
}

static void
item_path(char *out, size_t len, const char *id, int k)
{
    snprintf(out, len, "/api/v1/lightboxes/%s/images/%s", id, imgs[k].id);
}

/* GET the lightbox as token (with ?query when not NULL), expecting 200. */
static json_t *
open_lb(const char *id, const char *token, const char *query)
{
    char path[700];

    if (snprintf(path, sizeof path, "/api/v1/lightboxes/%s%s%s", id,
                 query ? "?" : "", query ? query : "") >= (int)sizeof path)
        fail_msg("query too long");
    return kit_want("GET", path, token, NULL, 200, NULL);
}

static void
put_image(const char *id, int k, const char *token, long want)
{
    char path[200];

    item_path(path, sizeof path, id, k);
    kit_check("PUT", path, token, NULL, want,
              want == 422 ? "not_approved" : NULL, "PUT");
}

/* The lightbox's items are exactly want (in that order). */
static void
assert_items(json_t *lb, const int *want, int n, const char *what)
{
    json_t *items = json_object_get(lb, "items");

    assert_true(json_is_array(items));
    if ((int)json_array_size(items) != n)
        fail_msg("%s: %zu items, expected %d", what, json_array_size(items), n);
    for (int i = 0; i < n; i++)
        if (strcmp(kit_jstr_or(json_array_get(items, (size_t)i), "id"),
                   imgs[want[i]].id) != 0)
            fail_msg("%s: item %d is '%s', expected '%s'", what, i,
                     kit_jstr_or(json_array_get(items, (size_t)i), "title"),
                     imgs[want[i]].title);
    assert_int_equal(kit_jint(lb, "image_count"), n);
}

/* The owner's list entry for id (borrowed from list), or NULL. */
static json_t *
listed(json_t *list, const char *id)
{
    json_t *it;
    size_t i;

    json_array_foreach(json_object_get(list, "items"), i,
                       it) if (!strcmp(kit_jstr_or(it, "id"), id)) return it;
    return NULL;
}

/* ---- setup ------------------------------------------------------------ */

static int
processed(void *arg)
{
    (void)arg;
    for (int k = 0; k < N_IMG; k++) {
        char path[128];
        struct th_resp r;
        int busy;

        snprintf(path, sizeof path, "/api/v1/images/%s", imgs[k].id);
        if (kit_try("GET", path, carl, NULL, NULL, &r) < 0)
            return 0;
        busy = r.status != 200 ||
               !strcmp(kit_jstr_or(r.json, "status"), "processing");
        th_resp_free(&r);
        if (busy)
            return 0;
    }
    return 1;
}

static int
setup(void **state)
{
    char email[128];

    (void)state;
    if (th_start(&srv, flags) < 0)
        return -1;
    kit_use(&srv);
    kit_new_user("carl", carl);
    kit_new_user("ben", ben);
    /* ann signs in by hand: the CSRF token is needed for the cookie. */
    tu_email("ann", email, sizeof email);
    if (th_signup(&srv, email, PW, "ann") != 201 ||
        th_login(&srv, email, PW, ann, ann_csrf) != 201)
        return -1;
    kit_staff("admin", "admin", admin);
    for (int k = 0; k < N_IMG; k++) {
        char rel[200], path[512];
        const char *fields[] = {"title", imgs[k].title, "keywords",
                                "lightbox, test", NULL};
        struct th_resp r;

        snprintf(rel, sizeof rel, "real/%s", imgs[k].file);
        if (th_upload(&srv, "/api/v1/images", carl,
                      th_corpus(rel, path, sizeof path), NULL, fields,
                      &r) < 0 ||
            r.status != 202) {
            fprintf(stderr, "upload %s: %ld %s\n", rel, r.status, r.body);
            return -1;
        }
        snprintf(imgs[k].id, sizeof imgs[k].id, "%s",
                 kit_jstr_or(r.json, "id"));
        th_resp_free(&r);
    }
    if (!th_poll(processed, NULL, PROCESS_MS)) {
        fprintf(stderr, "uploads still processing after %d ms\n", PROCESS_MS);
        return -1;
    }
    for (int k = 0; k < N_IMG; k++) {
        char path[128];
        struct th_resp r;

        if (imgs[k].fate == 1)
            continue;
        snprintf(path, sizeof path, "/api/v1/images/%s/review", imgs[k].id);
        kit_call(
            "POST", path, admin, NULL,
            imgs[k].fate == 0
                ? "{\"decision\":\"approve\"}"
                : "{\"decision\":\"reject\",\"reason_code\":\"poor_quality\"}",
            &r);
        if (r.status != 200) {
            fprintf(stderr, "review %s: %ld %s\n", imgs[k].title, r.status,
                    r.body);
            th_resp_free(&r);
            return -1;
        }
        th_resp_free(&r);
    }
    return 0;
}

static int
teardown(void **state)
{
    int rc = th_stop(&srv);

    (void)state;
    th_cleanup(&srv);
    return rc;
}

/* ---- tests ------------------------------------------------------------ */

static void
test_create_rename_list_delete(void **state)
{
    char id[64], other[64], path[200], created[64];
    json_t *lb, *list, *e;

    (void)state;
    lb = kit_want("POST", "/api/v1/lightboxes", ann, "{\"name\":\"Ideas\"}",
                  201, NULL);
    snprintf(id, sizeof id, "%s", kit_jstr_or(lb, "id"));
    assert_string_equal(kit_jstr_or(lb, "name"), "Ideas");
    assert_int_equal(kit_jint(lb, "image_count"), 0);
    assert_true(json_is_null(json_object_get(lb, "cover_url")));
    assert_true(json_is_null(json_object_get(lb, "share_token")));
    snprintf(created, sizeof created, "%s", kit_jstr_or(lb, "created_at"));
    assert_true(created[0] != '\0');
    assert_int_equal(json_array_size(json_object_get(lb, "items")), 0);
    json_decref(lb);
    create(ann, "Café ☕ — holiday", other);
    assert_string_not_equal(id, other);

    list = kit_want("GET", "/api/v1/lightboxes", ann, NULL, 200, NULL);
    e = listed(list, id);
    assert_non_null(e);
    assert_string_equal(kit_jstr_or(e, "name"), "Ideas");
    assert_string_equal(kit_jstr_or(e, "created_at"), created);
    assert_non_null(listed(list, other));
    assert_string_equal(kit_jstr_or(listed(list, other), "name"),
                        "Café ☕ — holiday");
    assert_true(json_is_null(json_object_get(list, "next_cursor")));
    json_decref(list);

    lb_path(path, sizeof path, id, NULL);
    lb = kit_want("PATCH", path, ann, "{\"name\":\"Mood board\"}", 200, NULL);
    assert_string_equal(kit_jstr_or(lb, "name"), "Mood board");
    assert_string_equal(kit_jstr_or(lb, "id"), id);
    json_decref(lb);
    lb = open_lb(id, ann, NULL);
    assert_string_equal(kit_jstr_or(lb, "name"), "Mood board");
    json_decref(lb);
    list = kit_want("GET", "/api/v1/lightboxes", ann, NULL, 200, NULL);
    assert_string_equal(kit_jstr_or(listed(list, id), "name"), "Mood board");
    json_decref(list);

    kit_check("DELETE", path, ann, NULL, 204, NULL, "owner");
    kit_check("GET", path, ann, NULL, 404, "not_found", "owner, deleted");
    kit_check("DELETE", path, ann, NULL, 404, "not_found", "owner, again");
    kit_check("PATCH", path, ann, "{\"name\":\"Back\"}", 404, "not_found",
              "owner, deleted");
    list = kit_want("GET", "/api/v1/lightboxes", ann, NULL, 200, NULL);
    assert_null(listed(list, id));
    assert_non_null(listed(list, other));
    json_decref(list);
    /* Another buyer's list never shows ann's. */
    list = kit_want("GET", "/api/v1/lightboxes", ben, NULL, 200, NULL);
    assert_null(listed(list, other));
    json_decref(list);
}

static void
test_add_and_remove_images(void **state)
{
    char id[64], path[200], cover[160];
    int one[] = {FLOWER}, two[] = {LANE, FLOWER}, lane[] = {LANE};
    json_t *lb, *list;

    (void)state;
    create(ann, "Picks", id);
    put_image(id, FLOWER, ann, 204);
    lb = open_lb(id, ann, NULL);
    assert_items(lb, one, 1, "after one PUT");
    snprintf(cover, sizeof cover, "/images/%s/thumbnail.jpg", imgs[FLOWER].id);
    assert_string_equal(kit_jstr_or(lb, "cover_url"), cover);
    json_decref(lb);
    /* Adding twice is the same as once. */
    put_image(id, FLOWER, ann, 204);
    put_image(id, LANE, ann, 204);
    lb = open_lb(id, ann, NULL);
    assert_items(lb, two, 2, "latest added first");
    snprintf(cover, sizeof cover, "/images/%s/thumbnail.jpg", imgs[LANE].id);
    assert_string_equal(kit_jstr_or(lb, "cover_url"), cover);
    json_decref(lb);
    list = kit_want("GET", "/api/v1/lightboxes", ann, NULL, 200, NULL);
    assert_int_equal(kit_jint(listed(list, id), "image_count"), 2);
    assert_string_equal(kit_jstr_or(listed(list, id), "cover_url"), cover);
    json_decref(list);

    item_path(path, sizeof path, id, FLOWER);
    kit_check("DELETE", path, ann, NULL, 204, NULL, "owner");
    lb = open_lb(id, ann, NULL);
    assert_items(lb, lane, 1, "after removing one");
    json_decref(lb);
    /* Removing what is not there is fine, and changes nothing. */
    kit_check("DELETE", path, ann, NULL, 204, NULL, "owner, again");
    item_path(path, sizeof path, id, LANE);
    kit_check("DELETE", path, ann, NULL, 204, NULL, "owner");
    lb = open_lb(id, ann, NULL);
    assert_items(lb, NULL, 0, "emptied");
    assert_true(json_is_null(json_object_get(lb, "cover_url")));
    json_decref(lb);

    /* No such image, no such lightbox. */
    snprintf(path, sizeof path,
             "/api/v1/lightboxes/%s/images/"
             "i0000000000000000",
             id);
    kit_check("PUT", path, ann, NULL, 404, "not_found", "owner, no image");
    snprintf(path, sizeof path,
             "/api/v1/lightboxes/l0000000000000000/"
             "images/%s",
             imgs[FLOWER].id);
    kit_check("PUT", path, ann, NULL, 404, "not_found", "owner, no lightbox");
    kit_check("DELETE", path, ann, NULL, 404, "not_found",
              "owner, no lightbox");

    /* Deleting a lightbox leaves its images alone. */
    put_image(id, CAT, ann, 204);
    lb_path(path, sizeof path, id, NULL);
    kit_check("DELETE", path, ann, NULL, 204, NULL, "owner");
    snprintf(path, sizeof path, "/api/v1/images/%s", imgs[CAT].id);
    kit_check("GET", path, NULL, NULL, 200, NULL, "anonymous");
}

/* Only approved images go in: pending and rejected ones are 422
 * not_approved, and the lightbox is unchanged. */
static void
test_only_approved_images(void **state)
{
    char id[64];
    int cat[] = {CAT};
    json_t *lb;

    (void)state;
    create(ann, "Strict", id);
    put_image(id, CAT, ann, 204);
    for (int k = PENDING_IMG; k <= REJECTED; k++) {
        char path[200];

        item_path(path, sizeof path, id, k);
        kit_check("PUT", path, ann, NULL, 422, "not_approved", "owner");
        /* Even the image's own contributor cannot add it to a lightbox of
         * theirs. */
        {
            char own[64], p2[200];

            create(carl, "Mine", own);
            item_path(p2, sizeof p2, own, k);
            kit_check("PUT", p2, carl, NULL, 422, "not_approved",
                      "contributor");
        }
    }
    lb = open_lb(id, ann, NULL);
    assert_items(lb, cat, 1, "after refused PUTs");
    json_decref(lb);
}

/* Shared by an unguessable link: anyone with the token may look, nobody
 * without it; a new share replaces the token, unsharing revokes it. */
static void
test_share_link(void **state)
{
    char id[64], path[200], q[800], t1[64], t2[64], bad[64];
    int both[] = {HARBOUR, FLOWER};
    json_t *lb;
    size_t n;

    (void)state;
    create(ann, "For the client", id);
    put_image(id, FLOWER, ann, 204);
    put_image(id, HARBOUR, ann, 204);
    lb_path(path, sizeof path, id, NULL);
    kit_check("GET", path, NULL, NULL, 404, "not_found", "anonymous, private");
    kit_check("GET", path, ben, NULL, 404, "not_found", "ben, private");

    lb = kit_want("PATCH", path, ann, "{\"shared\":true}", 200, NULL);
    snprintf(t1, sizeof t1, "%s", kit_jstr_or(lb, "share_token"));
    json_decref(lb);
    /* 128 random bits as hex. */
    n = strlen(t1);
    assert_int_equal(n, 32);
    for (size_t i = 0; i < n; i++)
        assert_true(isxdigit((unsigned char)t1[i]));
    lb = kit_want("GET", "/api/v1/lightboxes", ann, NULL, 200, NULL);
    assert_string_equal(kit_jstr_or(listed(lb, id), "share_token"), t1);
    json_decref(lb);

    snprintf(q, sizeof q, "token=%s", t1);
    lb = open_lb(id, NULL, q);
    assert_string_equal(kit_jstr_or(lb, "name"), "For the client");
    assert_items(lb, both, 2, "shared, anonymous");
    /* A visitor does not get the token back. */
    if (json_is_string(json_object_get(lb, "share_token")))
        fail_msg("a visitor sees the share token");
    json_decref(lb);
    lb = open_lb(id, ben, q);
    assert_items(lb, both, 2, "shared, ben");
    json_decref(lb);

    /* Near misses of the token. */
    {
        const char *const wrong[] = {"", "0", "x", t1, t1, t1, t1};
        char v[8][40];

        for (int i = 0; i < 3; i++)
            snprintf(v[i], sizeof v[i], "%s", wrong[i]);
        snprintf(v[3], sizeof v[3], "%.31s", t1); /* too short */
        snprintf(v[4], sizeof v[4], "%s0", t1);   /* too long */
        snprintf(v[5], sizeof v[5], "%s", t1);    /* last flipped */
        v[5][31] = v[5][31] == '0' ? '1' : '0';
        snprintf(v[6], sizeof v[6], "%s", t1); /* upper case */
        for (int i = 0; v[6][i]; i++)
            v[6][i] = (char)toupper((unsigned char)v[6][i]);
        if (!strcmp(v[6], t1))
            v[6][0] = 'g';
        for (int i = 0; i < 7; i++) {
            snprintf(q, sizeof q, "%s?token=%s", path, v[i]);
            kit_check("GET", q, NULL, NULL, 404, "not_found", "a wrong token");
        }
    }
    /* The token opens this lightbox only, and only for reading. */
    {
        char mine[64];

        create(ben, "Ben's", mine);
        snprintf(q, sizeof q, "/api/v1/lightboxes/%s?token=%s", mine, t1);
        kit_check("GET", q, NULL, NULL, 404, "not_found", "token of another");
        snprintf(q, sizeof q, "%s?token=%s", path, t1);
        kit_check("PATCH", q, ben, "{\"name\":\"Mine now\"}", 404, "not_found",
                  "ben with the token");
        kit_check("DELETE", q, ben, NULL, 404, "not_found",
                  "ben with the token");
        snprintf(q, sizeof q, "/api/v1/lightboxes/%s/images/%s?token=%s", id,
                 imgs[CAT].id, t1);
        kit_check("PUT", q, ben, NULL, 404, "not_found", "ben with the token");
        kit_check("PUT", q, NULL, NULL, 401, "unauthenticated",
                  "anonymous with the token");
    }

    /* Sharing again makes a new token; the old one stops working. */
    lb = kit_want("PATCH", path, ann, "{\"shared\":true}", 200, NULL);
    snprintf(t2, sizeof t2, "%s", kit_jstr_or(lb, "share_token"));
    json_decref(lb);
    assert_int_equal(strlen(t2), 32);
    assert_string_not_equal(t1, t2);
    snprintf(q, sizeof q, "%s?token=%s", path, t1);
    kit_check("GET", q, NULL, NULL, 404, "not_found", "the replaced token");
    snprintf(q, sizeof q, "token=%s", t2);
    json_decref(open_lb(id, NULL, q));

    /* Unsharing revokes it. */
    lb = kit_want("PATCH", path, ann, "{\"shared\":false}", 200, NULL);
    assert_true(json_is_null(json_object_get(lb, "share_token")));
    json_decref(lb);
    snprintf(q, sizeof q, "%s?token=%s", path, t2);
    kit_check("GET", q, NULL, NULL, 404, "not_found", "the revoked token");
    snprintf(bad, sizeof bad, "%s", t2);
    /* The owner still sees it, token or not. */
    json_decref(open_lb(id, ann, NULL));
    snprintf(q, sizeof q, "token=%s", bad);
    json_decref(open_lb(id, ann, q));
    lb = kit_want("GET", "/api/v1/lightboxes", ann, NULL, 200, NULL);
    assert_true(json_is_null(json_object_get(listed(lb, id), "share_token")));
    json_decref(lb);
    /* Rename and share in one PATCH. */
    lb = kit_want("PATCH", path, ann,
                  "{\"name\":\"Client v2\",\"shared\":true}", 200, NULL);
    assert_string_equal(kit_jstr_or(lb, "name"), "Client v2");
    assert_int_equal(strlen(kit_jstr_or(lb, "share_token")), 32);
    json_decref(lb);
}

/* Ben gets 404 on everything of ann's, the same as for an id that does not
 * exist, and nothing of ann's changes. */
static void
test_other_buyer_gets_404(void **state)
{
    char id[64], path[200], ipath[200];
    int flower[] = {FLOWER};
    const char *const ids[] = {NULL, "l0000000000000000"};
    json_t *lb;

    (void)state;
    create(ann, "Private", id);
    put_image(id, FLOWER, ann, 204);
    for (int i = 0; i < 2; i++) {
        const char *which = i == 0 ? id : ids[1];

        lb_path(path, sizeof path, which, NULL);
        snprintf(ipath, sizeof ipath, "/api/v1/lightboxes/%s/images/%s", which,
                 imgs[FLOWER].id);
        kit_check("GET", path, ben, NULL, 404, "not_found", "ben");
        kit_check("PATCH", path, ben, "{\"name\":\"Ben's now\"}", 404,
                  "not_found", "ben");
        kit_check("PATCH", path, ben, "{\"shared\":true}", 404, "not_found",
                  "ben");
        kit_check("PATCH", path, ben, "{\"shared\":false}", 404, "not_found",
                  "ben");
        kit_check("DELETE", ipath, ben, NULL, 404, "not_found", "ben");
        snprintf(ipath, sizeof ipath, "/api/v1/lightboxes/%s/images/%s", which,
                 imgs[LANE].id);
        kit_check("PUT", ipath, ben, NULL, 404, "not_found", "ben");
        kit_check("DELETE", path, ben, NULL, 404, "not_found", "ben");
    }
    /* Reviewers and admins have no business in a buyer's lightbox either. */
    kit_check("GET", path, admin, NULL, 404, "not_found", "admin");
    lb_path(path, sizeof path, id, NULL);
    kit_check("GET", path, admin, NULL, 404, "not_found", "admin");
    lb = open_lb(id, ann, NULL);
    assert_string_equal(kit_jstr_or(lb, "name"), "Private");
    assert_items(lb, flower, 1, "after ben's attempts");
    assert_true(json_is_null(json_object_get(lb, "share_token")));
    json_decref(lb);
}

/* Anonymous: 401 on every owner-only route, 404 on a lightbox without a
 * token. */
static void
test_anonymous(void **state)
{
    char id[64], path[200], ipath[200];
    json_t *lb;
    int lane[] = {LANE};

    (void)state;
    create(ann, "Anon tries", id);
    put_image(id, LANE, ann, 204);
    lb_path(path, sizeof path, id, NULL);
    item_path(ipath, sizeof ipath, id, LANE);
    kit_check("GET", "/api/v1/lightboxes", NULL, NULL, 401, "unauthenticated",
              "anonymous");
    kit_check("POST", "/api/v1/lightboxes", NULL, "{\"name\":\"x\"}", 401,
              "unauthenticated", "anonymous");
    kit_check("PATCH", path, NULL, "{\"name\":\"x\"}", 401, "unauthenticated",
              "anonymous");
    kit_check("PATCH", path, NULL, "{\"shared\":true}", 401, "unauthenticated",
              "anonymous");
    kit_check("DELETE", path, NULL, NULL, 401, "unauthenticated", "anonymous");
    kit_check("DELETE", ipath, NULL, NULL, 401, "unauthenticated", "anonymous");
    item_path(ipath, sizeof ipath, id, CAT);
    kit_check("PUT", ipath, NULL, NULL, 401, "unauthenticated", "anonymous");
    kit_check("GET", path, NULL, NULL, 404, "not_found", "anonymous");
    /* A bad token is not a signed-in user. */
    kit_check("GET", "/api/v1/lightboxes", "not-a-token", NULL, 401,
              "invalid_token", "a bad token");
    lb = open_lb(id, ann, NULL);
    assert_items(lb, lane, 1, "after anonymous attempts");
    assert_string_equal(kit_jstr_or(lb, "name"), "Anon tries");
    json_decref(lb);
}

/* Names: 1 to 127 bytes of plain text. */
/* The refusal of a lightbox body with a bad name: no name at all is
 * missing_field, a NUL inside a JSON string is unreadable JSON (400), and
 * any other bad name is invalid_field. */
static void
expect_bad_name(const struct th_resp *r, const char *body)
{
    if (!strcmp(body, "{}") || strstr(body, "null"))
        kit_expect(r, 422, "missing_field", body);
    else if (strstr(body, "u0000"))
        kit_expect(r, 400, "malformed_json", body);
    else
        kit_expect(r, 422, "invalid_field", body);
}

static void
test_name_validation(void **state)
{
    char id[64], path[200], body[400], name[256];
    static const char *const bad[] = {
        "{\"name\":\"\"}",
        "{}",
        "{\"name\":null}",
        "{\"name\":123}",
        "{\"name\":[\"a\"]}",
        "{\"name\":{\"a\":1}}",
        "{\"name\":true}",
        "{\"name\":\"a\\u0001b\"}",
        "{\"name\":\"\\u001b[31mred\"}",
        "{\"name\":\"del\\u007f\"}",
        "{\"name\":\"bell\\u0007\"}",
        "{\"name\":\"\\u0000\"}",
        "{\"name\":\"a\\u0000b\"}",
    };
    json_t *lb, *list;

    (void)state;
    for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
        struct th_resp r;

        kit_call("POST", "/api/v1/lightboxes", ann, NULL, bad[b], &r);
        expect_bad_name(&r, bad[b]);
        th_resp_free(&r);
    }
    memset(name, 'a', 200);
    name[200] = '\0';
    snprintf(body, sizeof body, "{\"name\":\"%s\"}", name);
    kit_check("POST", "/api/v1/lightboxes", ann, body, 422, "invalid_field",
              "200 characters");
    name[128] = '\0';
    snprintf(body, sizeof body, "{\"name\":\"%s\"}", name);
    kit_check("POST", "/api/v1/lightboxes", ann, body, 422, "invalid_field",
              "128 characters");
    /* 64 two-byte characters are 128 bytes: too long too. */
    body[0] = '\0';
    strcat(body, "{\"name\":\"");
    for (int i = 0; i < 64; i++)
        strcat(body, "é");
    strcat(body, "\"}");
    kit_check("POST", "/api/v1/lightboxes", ann, body, 422, "invalid_field",
              "128 bytes");
    name[127] = '\0';
    create(ann, name, id);
    lb = open_lb(id, ann, NULL);
    assert_string_equal(kit_jstr_or(lb, "name"), name);
    json_decref(lb);

    /* The same rules on rename, and a refused rename changes nothing. */
    lb_path(path, sizeof path, id, NULL);
    for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
        struct th_resp r;

        if (!strcmp(bad[b], "{}") || !strcmp(bad[b], "{\"name\":null}"))
            continue; /* no name: a PATCH of nothing, below */
        kit_call("PATCH", path, ann, NULL, bad[b], &r);
        expect_bad_name(&r, bad[b]);
        th_resp_free(&r);
    }
    name[127] = 'a';
    name[128] = 'a';
    name[129] = '\0';
    snprintf(body, sizeof body, "{\"name\":\"%s\"}", name);
    kit_check("PATCH", path, ann, body, 422, "invalid_field", "129 characters");
    kit_check("PATCH", path, ann, "{}", 422, "missing_field", "nothing");
    kit_check("PATCH", path, ann, "{\"shared\":\"yes\"}", 422, "invalid_field",
              "shared as a string");
    kit_check("PATCH", path, ann, "{\"shared\":1}", 422, "invalid_field",
              "shared as a number");
    kit_check("PATCH", path, ann, "{\"name\":\"\",\"shared\":true}", 422,
              "invalid_field", "an empty name with a share");
    lb = open_lb(id, ann, NULL);
    name[127] = '\0';
    assert_string_equal(kit_jstr_or(lb, "name"), name);
    /* The refused PATCH with shared:true did not share it either. */
    assert_true(json_is_null(json_object_get(lb, "share_token")));
    json_decref(lb);
    kit_check("POST", "/api/v1/lightboxes", ann, "{\"name\":", 400,
              "malformed_json", "broken JSON");
    list = kit_want("GET", "/api/v1/lightboxes", ann, NULL, 200, NULL);
    {
        json_t *it;
        size_t i;

        json_array_foreach(json_object_get(list, "items"), i, it)
        {
            const char *s = kit_jstr_or(it, "name");

            for (; *s; s++)
                if ((unsigned char)*s < 0x20 || *s == 0x7f)
                    fail_msg("a stored name holds a control character");
        }
    }
    json_decref(list);
}

/* A name is one line: a line break or tab in it is a control character like
 * any other (it would break the list it is shown in, and the page title). */
static void
test_name_is_one_line(void **state)
{
    static const char *const bad[] = {
        "{\"name\":\"two\\nlines\"}",
        "{\"name\":\"tab\\there\"}",
        "{\"name\":\"cr\\rhere\"}",
        "{\"name\":\"\\n\"}",
    };

    (void)state;
    for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
        struct th_resp r;

        kit_call("POST", "/api/v1/lightboxes", ann, NULL, bad[b], &r);
        kit_expect(&r, 422, "invalid_field", bad[b]);
        th_resp_free(&r);
    }
}

/* With the session cookie, a change needs the X-CSRF-Token header; reads
 * do not. A refused change changes nothing. */
/* A request with up to two header lines and no bearer token: the
 * browser's way, by cookie. */
static void
cookie_req(const char *method, const char *path, const char *json,
           const char *h1, const char *h2, struct th_resp *r)
{
    const char *h[3] = {h1, h1 ? h2 : NULL, NULL};

    kit_call_h(method, path, NULL, h, json, r);
}

static void
test_csrf_with_cookie(void **state)
{
    char id[64], path[200], cookie[200], good[120], wrong[120];
    int flower[] = {FLOWER}, none[] = {0};
    struct th_resp r;
    json_t *lb;

    (void)state;
    snprintf(cookie, sizeof cookie, "Cookie: sr_session=%s", ann);
    snprintf(good, sizeof good, "X-CSRF-Token: %s", ann_csrf);
    snprintf(wrong, sizeof wrong, "X-CSRF-Token: %.*sx",
             (int)strlen(ann_csrf) - 1, ann_csrf);
    create(ann, "Cookie jar", id);
    item_path(path, sizeof path, id, FLOWER);

    cookie_req("PUT", path, NULL, cookie, NULL, &r);
    kit_expect(&r, 403, "csrf_failed", "a change by cookie");
    th_resp_free(&r);
    cookie_req("PUT", path, NULL, cookie, wrong, &r);
    kit_expect(&r, 403, "csrf_failed", "a change by cookie");
    th_resp_free(&r);
    cookie_req("PUT", path, NULL, cookie, "X-CSRF-Token: ", &r);
    kit_expect(&r, 403, "csrf_failed", "a change by cookie");
    th_resp_free(&r);
    lb = open_lb(id, ann, NULL);
    assert_items(lb, none, 0, "after PUTs without the CSRF token");
    json_decref(lb);

    cookie_req("PUT", path, NULL, cookie, good, &r);
    kit_expect(&r, 204, NULL, "by cookie");
    th_resp_free(&r);
    /* A read with the cookie needs no token. */
    lb_path(path, sizeof path, id, NULL);
    cookie_req("GET", path, NULL, cookie, NULL, &r);
    kit_expect(&r, 200, NULL, "by cookie");
    assert_int_equal(kit_jint(r.json, "image_count"), 1);
    th_resp_free(&r);

    /* The other changes, the same way. */
    item_path(path, sizeof path, id, FLOWER);
    cookie_req("DELETE", path, NULL, cookie, NULL, &r);
    kit_expect(&r, 403, "csrf_failed", "a change by cookie");
    th_resp_free(&r);
    lb_path(path, sizeof path, id, NULL);
    cookie_req("PATCH", path, "{\"shared\":true}", cookie, NULL, &r);
    kit_expect(&r, 403, "csrf_failed", "a change by cookie");
    th_resp_free(&r);
    cookie_req("PATCH", path, "{\"name\":\"Hijacked\"}", cookie, wrong, &r);
    kit_expect(&r, 403, "csrf_failed", "a change by cookie");
    th_resp_free(&r);
    cookie_req("DELETE", path, NULL, cookie, NULL, &r);
    kit_expect(&r, 403, "csrf_failed", "a change by cookie");
    th_resp_free(&r);
    cookie_req("POST", "/api/v1/lightboxes", "{\"name\":\"Forged\"}", cookie,
               NULL, &r);
    kit_expect(&r, 403, "csrf_failed", "a change by cookie");
    th_resp_free(&r);
    lb = open_lb(id, ann, NULL);
    assert_items(lb, flower, 1, "after forged changes");
    assert_string_equal(kit_jstr_or(lb, "name"), "Cookie jar");
    assert_true(json_is_null(json_object_get(lb, "share_token")));
    json_decref(lb);
    lb = kit_want("GET", "/api/v1/lightboxes", ann, NULL, 200, NULL);
    {
        json_t *it;
        size_t i;

        json_array_foreach(json_object_get(lb, "items"), i, it)
            assert_string_not_equal(kit_jstr_or(it, "name"), "Forged");
    }
    json_decref(lb);
    /* With the token, every change goes through. */
    cookie_req("PATCH", path, "{\"name\":\"Renamed by cookie\"}", cookie, good,
               &r);
    kit_expect(&r, 200, NULL, "by cookie");
    th_resp_free(&r);
    cookie_req("DELETE", path, NULL, cookie, good, &r);
    kit_expect(&r, 204, NULL, "by cookie");
    th_resp_free(&r);
}

/* Items page like every list: limit=1 walks them all once, latest added
 * first. */
static void
test_items_paging(void **state)
{
    char id[64], q[200], cursor[128] = "", seen[8][64];
    const int order[] = {ROCKET, HARBOUR, CAT, LANE, FLOWER};
    int n = 0;

    (void)state;
    create(ann, "Many", id);
    for (int i = 4; i >= 0; i--)
        put_image(id, order[i], ann, 204);
    for (int pages = 0; pages < 10; pages++) {
        json_t *lb, *it, *next;
        size_t i;

        snprintf(q, sizeof q, "limit=1%s%s", cursor[0] ? "&cursor=" : "",
                 cursor);
        lb = open_lb(id, ann, q);
        assert_int_equal(kit_jint(lb, "image_count"), 5);
        assert_true(json_array_size(json_object_get(lb, "items")) <= 1);
        json_array_foreach(json_object_get(lb, "items"), i, it)
        {
            for (int s = 0; s < n; s++)
                assert_string_not_equal(seen[s], kit_jstr_or(it, "id"));
            assert_true(n < 8);
            snprintf(seen[n++], 64, "%s", kit_jstr_or(it, "id"));
        }
        next = json_object_get(lb, "next_cursor");
        if (json_is_null(next)) {
            json_decref(lb);
            break;
        }
        snprintf(cursor, sizeof cursor, "%s", kit_jstr_or(lb, "next_cursor"));
        json_decref(lb);
    }
    assert_int_equal(n, 5);
    for (int i = 0; i < 5; i++)
        assert_string_equal(seen[i], imgs[order[i]].id);
    snprintf(q, sizeof q, "/api/v1/lightboxes/%s?cursor=garbage", id);
    kit_check("GET", q, ann, NULL, 422, "invalid_field",
              "ann, a garbage cursor");
    snprintf(q, sizeof q, "/api/v1/lightboxes/%s?limit=0", id);
    kit_check("GET", q, ann, NULL, 422, "invalid_parameter", "ann, limit=0");
    snprintf(q, sizeof q, "/api/v1/lightboxes/%s?limit=101", id);
    kit_check("GET", q, ann, NULL, 422, "invalid_parameter", "ann, limit=101");
}

/* Latest added first, also when the adds come within one second and the
 * later one is the older upload: the order of adding, not of uploading. */
static void
test_latest_added_first(void **state)
{
    char id[64], cover[160];
    int order[] = {FLOWER, ROCKET};
    json_t *lb;

    (void)state;
    create(ann, "Order of adding", id);
    put_image(id, ROCKET, ann, 204);
    put_image(id, FLOWER, ann, 204);
    lb = open_lb(id, ann, NULL);
    assert_items(lb, order, 2, "FLOWER added after ROCKET");
    snprintf(cover, sizeof cover, "/images/%s/thumbnail.jpg", imgs[FLOWER].id);
    assert_string_equal(kit_jstr_or(lb, "cover_url"), cover);
    json_decref(lb);
}

static int
sql_done(void *arg)
{
    char path[300], err[200];

    snprintf(path, sizeof path, "%s/stockroom.db", srv.dir);
    return tu_sql_exec(path, (const char *)arg, err, sizeof err) == 0;
}

/* An image that leaves 'approved' drops out of every lightbox (count,
 * cover, items, shared view) and the lightbox keeps working. No route
 * takes an approved image down yet, so the database is changed directly,
 * as a take-down would. */
static void
test_image_taken_down_drops_out(void **state)
{
    char id[64], path[200], q[200], sql[300], token[64], cover[160];
    int before[] = {DOOMED, FLOWER}, after[] = {FLOWER},
        later[] = {CAT, FLOWER};
    json_t *lb;

    (void)state;
    create(ann, "Before the take-down", id);
    put_image(id, FLOWER, ann, 204);
    put_image(id, DOOMED, ann, 204);
    lb_path(path, sizeof path, id, NULL);
    lb = kit_want("PATCH", path, ann, "{\"shared\":true}", 200, NULL);
    snprintf(token, sizeof token, "%s", kit_jstr_or(lb, "share_token"));
    json_decref(lb);
    lb = open_lb(id, ann, NULL);
    assert_items(lb, before, 2, "before");
    json_decref(lb);

    snprintf(sql, sizeof sql,
             "UPDATE images SET status = 'rejected',"
             " reject_code = 'other' WHERE id = '%s'",
             imgs[DOOMED].id);
    if (!th_poll(sql_done, sql, SQL_MS))
        fail_msg("could not take the image down in the database");

    snprintf(cover, sizeof cover, "/images/%s/thumbnail.jpg", imgs[FLOWER].id);
    lb = open_lb(id, ann, NULL);
    assert_items(lb, after, 1, "owner, after");
    assert_string_equal(kit_jstr_or(lb, "cover_url"), cover);
    json_decref(lb);
    snprintf(q, sizeof q, "token=%s", token);
    lb = open_lb(id, NULL, q);
    assert_items(lb, after, 1, "shared, after");
    json_decref(lb);
    lb = kit_want("GET", "/api/v1/lightboxes", ann, NULL, 200, NULL);
    assert_int_equal(kit_jint(listed(lb, id), "image_count"), 1);
    assert_string_equal(kit_jstr_or(listed(lb, id), "cover_url"), cover);
    json_decref(lb);

    /* It cannot be added again, it can be removed, and the lightbox still
     * takes other images. */
    put_image(id, DOOMED, ann, 422);
    item_path(q, sizeof q, id, DOOMED);
    kit_check("DELETE", q, ann, NULL, 204, NULL, "owner");
    put_image(id, CAT, ann, 204);
    lb = open_lb(id, ann, NULL);
    assert_items(lb, later, 2, "after adding another");
    json_decref(lb);
    /* And the image is gone from the public too. */
    snprintf(q, sizeof q, "/api/v1/images/%s", imgs[DOOMED].id);
    kit_check("GET", q, NULL, NULL, 404, "not_found", "anonymous");
    lb = kit_want("GET", "/api/v1/images?q=lightbox&limit=100", NULL, NULL, 200,
                  NULL);
    {
        json_t *it;
        size_t i;

        json_array_foreach(json_object_get(lb, "items"), i, it)
            assert_string_not_equal(kit_jstr_or(it, "id"), imgs[DOOMED].id);
    }
    json_decref(lb);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_rename_list_delete),
        cmocka_unit_test(test_add_and_remove_images),
        cmocka_unit_test(test_only_approved_images),
        cmocka_unit_test(test_share_link),
        cmocka_unit_test(test_other_buyer_gets_404),
        cmocka_unit_test(test_anonymous),
        cmocka_unit_test(test_name_validation),
        cmocka_unit_test(test_name_is_one_line),
        cmocka_unit_test(test_csrf_with_cookie),
        cmocka_unit_test(test_items_paging),
        cmocka_unit_test(test_latest_added_first),
        cmocka_unit_test(test_image_taken_down_drops_out),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
