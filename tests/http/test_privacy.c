/* Stockroom — privacy and self-dealing over HTTP (issue 11, items 7, 8,
 * 10, 11 and 14): nobody reviews or licenses their own photo, a
 * certificate is shown to its licensee, the admins and holders of the
 * licensee's share link only, edits to an approved photo wait for review,
 * a fresh pack says it is refundable and a visitor's "who am I" is no
 * error. */
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
#include "moneyfix.h"
#include "util.h"

#define OWN_IMAGE "real/59-skimage-chelsea.png"

/* The review queue item for id as token, with a reference the caller
 * drops; NULL when id is not in the first page. */
static json_t *
queue_item(const char *token, const char *id)
{
    json_t *q = kit_want("GET", "/api/v1/review/queue?limit=100", token, NULL,
                         200, NULL);
    json_t *items = json_object_get(q, "items"), *found = NULL;

    for (size_t i = 0; i < json_array_size(items); i++) {
        json_t *it = json_array_get(items, i);

        if (!strcmp(kit_jstr(it, "id"), id))
            found = json_incref(it);
    }
    json_decref(q);
    return found;
}

/* Item 7: a reviewer or admin who is also the contributor cannot decide. */
static void
test_own_review(void **state)
{
    char path[512], id[64], reviewer[128];
    const char *fields[] = {"title", "Cat on a sofa", "keywords", "cat, sofa",
                            NULL};
    struct th_resp r;
    json_t *it;

    (void)state;
    assert_int_equal(th_upload(&mf_srv, "/api/v1/images", mf_admin_tok,
                               th_corpus(OWN_IMAGE, path, sizeof path),
                               "cat.png", fields, &r),
                     0);
    kit_expect(&r, 202, NULL, "the admin uploads a photo");
    snprintf(id, sizeof id, "%s", kit_jstr(r.json, "id"));
    th_resp_free(&r);
    assert_true(kit_wait_status(mf_admin_tok, id, "pending_review", 120000));

    it = queue_item(mf_admin_tok, id);
    assert_non_null(it);
    assert_true(json_is_true(json_object_get(it, "own")));
    json_decref(it);

    snprintf(path, sizeof path, "/api/v1/images/%s/review", id);
    kit_check("POST", path, mf_admin_tok, "{\"decision\":\"approve\"}", 403,
              "own_image", "approve one's own photo");
    kit_check("POST", path, mf_admin_tok,
              "{\"decision\":\"reject\",\"reason_code\":\"other\"}", 403,
              "own_image", "reject one's own photo");

    kit_staff("reviewer", "reviewer", reviewer);
    it = queue_item(reviewer, id);
    assert_non_null(it);
    assert_false(json_is_true(json_object_get(it, "own")));
    json_decref(it);
    kit_check("POST", path, reviewer, "{\"decision\":\"approve\"}", 200, NULL,
              "another reviewer approves");
}

/* Item 11: no licence of one's own photo. */
static void
test_own_licence(void **state)
{
    struct th_resp r;

    (void)state;
    kit_buy(mf_contrib_tok, "10", NULL);
    mf_licence_req(mf_contrib_tok, mf_image_id, "S", "standard", NULL, &r);
    kit_expect(&r, 422, "own_image", "license one's own photo");
    th_resp_free(&r);
    assert_int_equal(kit_credits(mf_contrib_tok), 10);
}

/* Item 8: the certificate names the buyer, so it is not public. */
static void
test_certificate_private(void **state)
{
    char buyer[128], other[128], id[64], path[256], url[512];
    const char *token;
    json_t *j, *e, *sales;

    (void)state;
    th_new_user(&mf_srv, "certbuyer", buyer);
    th_new_user(&mf_srv, "certother", other);
    kit_buy(buyer, "10", NULL);
    mf_licence_ok(buyer, "S", "standard", id);
    snprintf(path, sizeof path, "/api/v1/licences/%s/certificate", id);

    kit_check("GET", path, NULL, NULL, 404, "not_found", "anonymous");
    kit_check("GET", path, other, NULL, 404, "not_found", "another buyer");
    kit_check("GET", path, mf_contrib_tok, NULL, 404, "not_found",
              "the contributor");
    kit_check("GET", path, buyer, NULL, 200, NULL, "the licensee");
    kit_check("GET", path, mf_admin_tok, NULL, 200, NULL, "an admin");

    /* The contributor's sales name no licence. */
    e = kit_want("GET", "/api/v1/me/earnings", mf_contrib_tok, NULL, 200, NULL);
    sales = json_object_get(e, "sales");
    assert_true(json_array_size(sales) > 0);
    for (size_t i = 0; i < json_array_size(sales); i++)
        assert_null(json_object_get(json_array_get(sales, i), "licence_id"));
    json_decref(e);

    /* Only the licensee shares, and sharing twice gives the same link. */
    snprintf(path, sizeof path, "/api/v1/licences/%s/share", id);
    kit_check("POST", path, other, NULL, 404, "not_found", "share another's");
    kit_check("POST", path, mf_contrib_tok, NULL, 404, "not_found",
              "the contributor shares");
    kit_check("POST", path, NULL, NULL, 401, "unauthenticated",
              "anonymous share");
    j = kit_want("POST", path, buyer, NULL, 200, NULL);
    snprintf(url, sizeof url, "%s", kit_jstr(j, "url"));
    token = kit_jstr(j, "token");
    assert_non_null(strstr(url, token));
    assert_non_null(strstr(kit_jstr(j, "page_url"), token));
    json_decref(j);
    j = kit_want("POST", path, buyer, NULL, 200, NULL);
    assert_string_equal(kit_jstr(j, "url"), url);
    json_decref(j);

    j = kit_want("GET", url, NULL, NULL, 200, NULL);
    assert_true(
        strlen(kit_jstr(
            json_object_get(json_object_get(j, "certificate"), "licensee"),
            "id")) > 0);
    json_decref(j);
    snprintf(path, sizeof path,
             "/api/v1/licences/%s/certificate?token=wrong-token", id);
    kit_check("GET", path, NULL, NULL, 404, "not_found", "a wrong token");
}

/* Item 10: an edit of an approved photo waits for a reviewer. */
static void
test_held_edit(void **state)
{
    char path[128], review[160];
    json_t *j, *it;

    (void)state;
    snprintf(path, sizeof path, "/api/v1/images/%s", mf_image_id);
    snprintf(review, sizeof review, "/api/v1/images/%s/review", mf_image_id);
    j = kit_want("GET", path, NULL, NULL, 200, NULL);
    assert_string_equal(kit_jstr(j, "title"), "By the water");
    json_decref(j);

    j = kit_want("PATCH", path, mf_contrib_tok,
                 "{\"title\":\"Cheap free best photo\",\"keywords\":"
                 "[\"free\",\"cheap\"]}",
                 202, NULL);
    assert_string_equal(kit_jstr(j, "title"), "By the water");
    assert_string_equal(kit_jstr(json_object_get(j, "pending_edit"), "title"),
                        "Cheap free best photo");
    json_decref(j);
    /* The public sees, and search finds, the approved text only. */
    j = kit_want("GET", path, NULL, NULL, 200, NULL);
    assert_string_equal(kit_jstr(j, "title"), "By the water");
    assert_null(json_object_get(j, "pending_edit"));
    json_decref(j);
    j = kit_want("GET", "/api/v1/images?q=cheap", NULL, NULL, 200, NULL);
    assert_int_equal(json_array_size(json_object_get(j, "items")), 0);
    json_decref(j);
    /* The contributor sees it pending; the reviewers see it queued. */
    j = kit_want("GET", path, mf_contrib_tok, NULL, 200, NULL);
    assert_string_equal(kit_jstr(json_object_get(j, "pending_edit"), "title"),
                        "Cheap free best photo");
    assert_string_equal(kit_jstr(j, "status"), "approved");
    json_decref(j);
    it = queue_item(mf_admin_tok, mf_image_id);
    assert_non_null(it);
    assert_string_equal(kit_jstr(json_object_get(it, "pending_edit"), "title"),
                        "Cheap free best photo");
    json_decref(it);

    /* Rejected: dropped, the approved text stays. */
    kit_check("POST", review, mf_contrib_tok, "{\"decision\":\"approve\"}", 403,
              "forbidden", "the contributor approves their edit");
    kit_check("POST", review, mf_admin_tok,
              "{\"decision\":\"reject\",\"reason_code\":\"keyword_spam\"}", 200,
              NULL, "reject the edit");
    j = kit_want("GET", path, mf_contrib_tok, NULL, 200, NULL);
    assert_string_equal(kit_jstr(j, "title"), "By the water");
    assert_true(json_is_null(json_object_get(j, "pending_edit")));
    json_decref(j);
    it = queue_item(mf_admin_tok, mf_image_id);
    assert_null(it);
    kit_check("POST", review, mf_admin_tok, "{\"decision\":\"approve\"}", 409,
              "not_pending", "nothing held");

    /* Approved: the new text is public and searchable at once. */
    kit_check("PATCH", path, mf_contrib_tok,
              "{\"title\":\"Jetty by the lake\"}", 202, NULL, "edit again");
    kit_check("POST", review, mf_admin_tok, "{\"decision\":\"approve\"}", 200,
              NULL, "approve the edit");
    j = kit_want("GET", path, NULL, NULL, 200, NULL);
    assert_string_equal(kit_jstr(j, "title"), "Jetty by the lake");
    assert_string_equal(kit_jstr(j, "status"), "approved");
    json_decref(j);
    j = kit_want("GET", "/api/v1/images?q=jetty", NULL, NULL, 200, NULL);
    assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
    json_decref(j);
}

/* Item 14: a fresh pack is refundable, and says so at once. */
static void
test_fresh_pack_refundable(void **state)
{
    char tok[128], key[64];
    json_t *j;

    (void)state;
    th_new_user(&mf_srv, "packbuyer", tok);
    kit_fresh_key(key, "buy");
    {
        struct th_resp r;

        kit_call("POST", "/api/v1/credits/purchases", tok, key,
                 "{\"pack\":\"10\"}", &r);
        kit_expect(&r, 201, NULL, "buy a pack");
        j = json_incref(r.json);
        th_resp_free(&r);
    }
    assert_true(json_is_true(json_object_get(j, "refundable")));
    json_decref(j);
}

/* Item 14: the pages learn who is signed in without a 401 for a visitor. */
static void
test_session_current(void **state)
{
    json_t *j;

    (void)state;
    j = kit_want("GET", "/api/v1/sessions/current", NULL, NULL, 200, NULL);
    assert_true(json_is_null(json_object_get(j, "user")));
    json_decref(j);
    j = kit_want("GET", "/api/v1/sessions/current", mf_contrib_tok, NULL, 200,
                 NULL);
    assert_true(kit_has_role(json_object_get(j, "user"), "contributor"));
    assert_true(json_is_integer(
        json_object_get(json_object_get(j, "user"), "credits")));
    json_decref(j);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_own_review),
        cmocka_unit_test(test_own_licence),
        cmocka_unit_test(test_certificate_private),
        cmocka_unit_test(test_held_edit),
        cmocka_unit_test(test_fresh_pack_refundable),
        cmocka_unit_test(test_session_current),
    };

    return cmocka_run_group_tests(tests, mf_setup, mf_teardown);
}
