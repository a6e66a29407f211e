/* Stockroom — lightboxes: a signed-in buyer's named collections of
 * approved images. Create, rename, delete, list; add and remove images;
 * private unless shared by an unguessable link, which can be replaced and
 * revoked; someone else's lightbox is 404 whatever is tried. */
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
#include "lbfix.h"
#include "util.h"

/* ---- tests ------------------------------------------------------------ */

static void
test_create_rename_list_delete(void **state)
{
    char id[64], other[64], path[200], created[64];
    json_t *lb, *list, *e;

    (void)state;
    lb = kit_want("POST", "/api/v1/lightboxes", lf_ann, "{\"name\":\"Ideas\"}",
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
    lf_create(lf_ann, "Café ☕ — holiday", other);
    assert_string_not_equal(id, other);

    list = kit_want("GET", "/api/v1/lightboxes", lf_ann, NULL, 200, NULL);
    e = lf_listed(list, id);
    assert_non_null(e);
    assert_string_equal(kit_jstr_or(e, "name"), "Ideas");
    assert_string_equal(kit_jstr_or(e, "created_at"), created);
    assert_non_null(lf_listed(list, other));
    assert_string_equal(kit_jstr_or(lf_listed(list, other), "name"),
                        "Café ☕ — holiday");
    assert_true(json_is_null(json_object_get(list, "next_cursor")));
    json_decref(list);

    lf_lb_path(path, sizeof path, id, NULL);
    lb =
        kit_want("PATCH", path, lf_ann, "{\"name\":\"Mood board\"}", 200, NULL);
    assert_string_equal(kit_jstr_or(lb, "name"), "Mood board");
    assert_string_equal(kit_jstr_or(lb, "id"), id);
    json_decref(lb);
    lb = lf_open_lb(id, lf_ann, NULL);
    assert_string_equal(kit_jstr_or(lb, "name"), "Mood board");
    json_decref(lb);
    list = kit_want("GET", "/api/v1/lightboxes", lf_ann, NULL, 200, NULL);
    assert_string_equal(kit_jstr_or(lf_listed(list, id), "name"), "Mood board");
    json_decref(list);

    kit_check("DELETE", path, lf_ann, NULL, 204, NULL, "owner");
    kit_check("GET", path, lf_ann, NULL, 404, "not_found", "owner, deleted");
    kit_check("DELETE", path, lf_ann, NULL, 404, "not_found", "owner, again");
    kit_check("PATCH", path, lf_ann, "{\"name\":\"Back\"}", 404, "not_found",
              "owner, deleted");
    list = kit_want("GET", "/api/v1/lightboxes", lf_ann, NULL, 200, NULL);
    assert_null(lf_listed(list, id));
    assert_non_null(lf_listed(list, other));
    json_decref(list);
    /* Another buyer's list never shows ann's. */
    list = kit_want("GET", "/api/v1/lightboxes", lf_ben, NULL, 200, NULL);
    assert_null(lf_listed(list, other));
    json_decref(list);
}

static void
test_add_and_remove_images(void **state)
{
    char id[64], path[200], cover[160];
    int one[] = {FLOWER}, two[] = {LANE, FLOWER}, lane[] = {LANE};
    json_t *lb, *list;

    (void)state;
    lf_create(lf_ann, "Picks", id);
    lf_put_image(id, FLOWER, lf_ann, 204);
    lb = lf_open_lb(id, lf_ann, NULL);
    lf_assert_items(lb, one, 1, "after one PUT");
    snprintf(cover, sizeof cover, "/images/%s/thumbnail.jpg",
             lf_imgs[FLOWER].id);
    assert_string_equal(kit_jstr_or(lb, "cover_url"), cover);
    json_decref(lb);
    /* Adding twice is the same as once. */
    lf_put_image(id, FLOWER, lf_ann, 204);
    lf_put_image(id, LANE, lf_ann, 204);
    lb = lf_open_lb(id, lf_ann, NULL);
    lf_assert_items(lb, two, 2, "latest added first");
    snprintf(cover, sizeof cover, "/images/%s/thumbnail.jpg", lf_imgs[LANE].id);
    assert_string_equal(kit_jstr_or(lb, "cover_url"), cover);
    json_decref(lb);
    list = kit_want("GET", "/api/v1/lightboxes", lf_ann, NULL, 200, NULL);
    assert_int_equal(kit_jint(lf_listed(list, id), "image_count"), 2);
    assert_string_equal(kit_jstr_or(lf_listed(list, id), "cover_url"), cover);
    json_decref(list);

    lf_item_path(path, sizeof path, id, FLOWER);
    kit_check("DELETE", path, lf_ann, NULL, 204, NULL, "owner");
    lb = lf_open_lb(id, lf_ann, NULL);
    lf_assert_items(lb, lane, 1, "after removing one");
    json_decref(lb);
    /* Removing what is not there is fine, and changes nothing. */
    kit_check("DELETE", path, lf_ann, NULL, 204, NULL, "owner, again");
    lf_item_path(path, sizeof path, id, LANE);
    kit_check("DELETE", path, lf_ann, NULL, 204, NULL, "owner");
    lb = lf_open_lb(id, lf_ann, NULL);
    lf_assert_items(lb, NULL, 0, "emptied");
    assert_true(json_is_null(json_object_get(lb, "cover_url")));
    json_decref(lb);

    /* No such image, no such lightbox. */
    snprintf(path, sizeof path,
             "/api/v1/lightboxes/%s/images/"
             "i0000000000000000",
             id);
    kit_check("PUT", path, lf_ann, NULL, 404, "not_found", "owner, no image");
    snprintf(path, sizeof path,
             "/api/v1/lightboxes/l0000000000000000/"
             "images/%s",
             lf_imgs[FLOWER].id);
    kit_check("PUT", path, lf_ann, NULL, 404, "not_found",
              "owner, no lightbox");
    kit_check("DELETE", path, lf_ann, NULL, 404, "not_found",
              "owner, no lightbox");

    /* Deleting a lightbox leaves its images alone. */
    lf_put_image(id, CAT, lf_ann, 204);
    lf_lb_path(path, sizeof path, id, NULL);
    kit_check("DELETE", path, lf_ann, NULL, 204, NULL, "owner");
    snprintf(path, sizeof path, "/api/v1/images/%s", lf_imgs[CAT].id);
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
    lf_create(lf_ann, "Strict", id);
    lf_put_image(id, CAT, lf_ann, 204);
    for (int k = PENDING_IMG; k <= REJECTED; k++) {
        char path[200];

        lf_item_path(path, sizeof path, id, k);
        kit_check("PUT", path, lf_ann, NULL, 422, "not_approved", "owner");
        /* Even the image's own contributor cannot add it to a lightbox of
         * theirs. */
        {
            char own[64], p2[200];

            lf_create(lf_carl, "Mine", own);
            lf_item_path(p2, sizeof p2, own, k);
            kit_check("PUT", p2, lf_carl, NULL, 422, "not_approved",
                      "contributor");
        }
    }
    lb = lf_open_lb(id, lf_ann, NULL);
    lf_assert_items(lb, cat, 1, "after refused PUTs");
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
    lf_create(lf_ann, "For the client", id);
    lf_put_image(id, FLOWER, lf_ann, 204);
    lf_put_image(id, HARBOUR, lf_ann, 204);
    lf_lb_path(path, sizeof path, id, NULL);
    kit_check("GET", path, NULL, NULL, 404, "not_found", "anonymous, private");
    kit_check("GET", path, lf_ben, NULL, 404, "not_found", "ben, private");

    lb = kit_want("PATCH", path, lf_ann, "{\"shared\":true}", 200, NULL);
    snprintf(t1, sizeof t1, "%s", kit_jstr_or(lb, "share_token"));
    json_decref(lb);
    /* 128 random bits as hex. */
    n = strlen(t1);
    assert_int_equal(n, 32);
    for (size_t i = 0; i < n; i++)
        assert_true(isxdigit((unsigned char)t1[i]));
    lb = kit_want("GET", "/api/v1/lightboxes", lf_ann, NULL, 200, NULL);
    assert_string_equal(kit_jstr_or(lf_listed(lb, id), "share_token"), t1);
    json_decref(lb);

    snprintf(q, sizeof q, "token=%s", t1);
    lb = lf_open_lb(id, NULL, q);
    assert_string_equal(kit_jstr_or(lb, "name"), "For the client");
    lf_assert_items(lb, both, 2, "shared, anonymous");
    /* A visitor does not get the token back. */
    if (json_is_string(json_object_get(lb, "share_token")))
        fail_msg("a visitor sees the share token");
    json_decref(lb);
    lb = lf_open_lb(id, lf_ben, q);
    lf_assert_items(lb, both, 2, "shared, ben");
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

        lf_create(lf_ben, "Ben's", mine);
        snprintf(q, sizeof q, "/api/v1/lightboxes/%s?token=%s", mine, t1);
        kit_check("GET", q, NULL, NULL, 404, "not_found", "token of another");
        snprintf(q, sizeof q, "%s?token=%s", path, t1);
        kit_check("PATCH", q, lf_ben, "{\"name\":\"Mine now\"}", 404,
                  "not_found", "ben with the token");
        kit_check("DELETE", q, lf_ben, NULL, 404, "not_found",
                  "ben with the token");
        snprintf(q, sizeof q, "/api/v1/lightboxes/%s/images/%s?token=%s", id,
                 lf_imgs[CAT].id, t1);
        kit_check("PUT", q, lf_ben, NULL, 404, "not_found",
                  "ben with the token");
        kit_check("PUT", q, NULL, NULL, 401, "unauthenticated",
                  "anonymous with the token");
    }

    /* Sharing again makes a new token; the old one stops working. */
    lb = kit_want("PATCH", path, lf_ann, "{\"shared\":true}", 200, NULL);
    snprintf(t2, sizeof t2, "%s", kit_jstr_or(lb, "share_token"));
    json_decref(lb);
    assert_int_equal(strlen(t2), 32);
    assert_string_not_equal(t1, t2);
    snprintf(q, sizeof q, "%s?token=%s", path, t1);
    kit_check("GET", q, NULL, NULL, 404, "not_found", "the replaced token");
    snprintf(q, sizeof q, "token=%s", t2);
    json_decref(lf_open_lb(id, NULL, q));

    /* Unsharing revokes it. */
    lb = kit_want("PATCH", path, lf_ann, "{\"shared\":false}", 200, NULL);
    assert_true(json_is_null(json_object_get(lb, "share_token")));
    json_decref(lb);
    snprintf(q, sizeof q, "%s?token=%s", path, t2);
    kit_check("GET", q, NULL, NULL, 404, "not_found", "the revoked token");
    snprintf(bad, sizeof bad, "%s", t2);
    /* The owner still sees it, token or not. */
    json_decref(lf_open_lb(id, lf_ann, NULL));
    snprintf(q, sizeof q, "token=%s", bad);
    json_decref(lf_open_lb(id, lf_ann, q));
    lb = kit_want("GET", "/api/v1/lightboxes", lf_ann, NULL, 200, NULL);
    assert_true(
        json_is_null(json_object_get(lf_listed(lb, id), "share_token")));
    json_decref(lb);
    /* Rename and share in one PATCH. */
    lb = kit_want("PATCH", path, lf_ann,
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
    lf_create(lf_ann, "Private", id);
    lf_put_image(id, FLOWER, lf_ann, 204);
    for (int i = 0; i < 2; i++) {
        const char *which = i == 0 ? id : ids[1];

        lf_lb_path(path, sizeof path, which, NULL);
        snprintf(ipath, sizeof ipath, "/api/v1/lightboxes/%s/images/%s", which,
                 lf_imgs[FLOWER].id);
        kit_check("GET", path, lf_ben, NULL, 404, "not_found", "ben");
        kit_check("PATCH", path, lf_ben, "{\"name\":\"Ben's now\"}", 404,
                  "not_found", "ben");
        kit_check("PATCH", path, lf_ben, "{\"shared\":true}", 404, "not_found",
                  "ben");
        kit_check("PATCH", path, lf_ben, "{\"shared\":false}", 404, "not_found",
                  "ben");
        kit_check("DELETE", ipath, lf_ben, NULL, 404, "not_found", "ben");
        snprintf(ipath, sizeof ipath, "/api/v1/lightboxes/%s/images/%s", which,
                 lf_imgs[LANE].id);
        kit_check("PUT", ipath, lf_ben, NULL, 404, "not_found", "ben");
        kit_check("DELETE", path, lf_ben, NULL, 404, "not_found", "ben");
    }
    /* Reviewers and admins have no business in a buyer's lightbox either. */
    kit_check("GET", path, lf_admin, NULL, 404, "not_found", "admin");
    lf_lb_path(path, sizeof path, id, NULL);
    kit_check("GET", path, lf_admin, NULL, 404, "not_found", "admin");
    lb = lf_open_lb(id, lf_ann, NULL);
    assert_string_equal(kit_jstr_or(lb, "name"), "Private");
    lf_assert_items(lb, flower, 1, "after ben's attempts");
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
    lf_create(lf_ann, "Anon tries", id);
    lf_put_image(id, LANE, lf_ann, 204);
    lf_lb_path(path, sizeof path, id, NULL);
    lf_item_path(ipath, sizeof ipath, id, LANE);
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
    lf_item_path(ipath, sizeof ipath, id, CAT);
    kit_check("PUT", ipath, NULL, NULL, 401, "unauthenticated", "anonymous");
    kit_check("GET", path, NULL, NULL, 404, "not_found", "anonymous");
    /* A bad token is not a signed-in user. */
    kit_check("GET", "/api/v1/lightboxes", "not-a-token", NULL, 401,
              "invalid_token", "a bad token");
    lb = lf_open_lb(id, lf_ann, NULL);
    lf_assert_items(lb, lane, 1, "after anonymous attempts");
    assert_string_equal(kit_jstr_or(lb, "name"), "Anon tries");
    json_decref(lb);
}

/* Names: 1 to 127 bytes of plain text. */

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
    };

    return cmocka_run_group_tests(tests, lf_setup, lf_teardown);
}
