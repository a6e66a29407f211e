/* Stockroom — lightboxes, what they take and keep: names are checked, a
 * cookie needs its CSRF token, items page newest first, and an image that
 * leaves 'approved' drops out without breaking the lightbox. */
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

#define SQL_MS 10000 /* the server may hold the write lock */

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

        kit_call("POST", "/api/v1/lightboxes", lf_ann, NULL, bad[b], &r);
        expect_bad_name(&r, bad[b]);
        th_resp_free(&r);
    }
    memset(name, 'a', 200);
    name[200] = '\0';
    snprintf(body, sizeof body, "{\"name\":\"%s\"}", name);
    kit_check("POST", "/api/v1/lightboxes", lf_ann, body, 422, "invalid_field",
              "200 characters");
    name[128] = '\0';
    snprintf(body, sizeof body, "{\"name\":\"%s\"}", name);
    kit_check("POST", "/api/v1/lightboxes", lf_ann, body, 422, "invalid_field",
              "128 characters");
    /* 64 two-byte characters are 128 bytes: too long too. */
    body[0] = '\0';
    strcat(body, "{\"name\":\"");
    for (int i = 0; i < 64; i++)
        strcat(body, "é");
    strcat(body, "\"}");
    kit_check("POST", "/api/v1/lightboxes", lf_ann, body, 422, "invalid_field",
              "128 bytes");
    name[127] = '\0';
    lf_create(lf_ann, name, id);
    lb = lf_open_lb(id, lf_ann, NULL);
    assert_string_equal(kit_jstr_or(lb, "name"), name);
    json_decref(lb);

    /* The same rules on rename, and a refused rename changes nothing. */
    lf_lb_path(path, sizeof path, id, NULL);
    for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
        struct th_resp r;

        if (!strcmp(bad[b], "{}") || !strcmp(bad[b], "{\"name\":null}"))
            continue; /* no name: a PATCH of nothing, below */
        kit_call("PATCH", path, lf_ann, NULL, bad[b], &r);
        expect_bad_name(&r, bad[b]);
        th_resp_free(&r);
    }
    name[127] = 'a';
    name[128] = 'a';
    name[129] = '\0';
    snprintf(body, sizeof body, "{\"name\":\"%s\"}", name);
    kit_check("PATCH", path, lf_ann, body, 422, "invalid_field",
              "129 characters");
    kit_check("PATCH", path, lf_ann, "{}", 422, "missing_field", "nothing");
    kit_check("PATCH", path, lf_ann, "{\"shared\":\"yes\"}", 422,
              "invalid_field", "shared as a string");
    kit_check("PATCH", path, lf_ann, "{\"shared\":1}", 422, "invalid_field",
              "shared as a number");
    kit_check("PATCH", path, lf_ann, "{\"name\":\"\",\"shared\":true}", 422,
              "invalid_field", "an empty name with a share");
    lb = lf_open_lb(id, lf_ann, NULL);
    name[127] = '\0';
    assert_string_equal(kit_jstr_or(lb, "name"), name);
    /* The refused PATCH with shared:true did not share it either. */
    assert_true(json_is_null(json_object_get(lb, "share_token")));
    json_decref(lb);
    kit_check("POST", "/api/v1/lightboxes", lf_ann, "{\"name\":", 400,
              "malformed_json", "broken JSON");
    list = kit_want("GET", "/api/v1/lightboxes", lf_ann, NULL, 200, NULL);
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

        kit_call("POST", "/api/v1/lightboxes", lf_ann, NULL, bad[b], &r);
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
    snprintf(cookie, sizeof cookie, "Cookie: sr_session=%s", lf_ann);
    snprintf(good, sizeof good, "X-CSRF-Token: %s", lf_ann_csrf);
    snprintf(wrong, sizeof wrong, "X-CSRF-Token: %.*sx",
             (int)strlen(lf_ann_csrf) - 1, lf_ann_csrf);
    lf_create(lf_ann, "Cookie jar", id);
    lf_item_path(path, sizeof path, id, FLOWER);

    cookie_req("PUT", path, NULL, cookie, NULL, &r);
    kit_expect(&r, 403, "csrf_failed", "a change by cookie");
    th_resp_free(&r);
    cookie_req("PUT", path, NULL, cookie, wrong, &r);
    kit_expect(&r, 403, "csrf_failed", "a change by cookie");
    th_resp_free(&r);
    cookie_req("PUT", path, NULL, cookie, "X-CSRF-Token: ", &r);
    kit_expect(&r, 403, "csrf_failed", "a change by cookie");
    th_resp_free(&r);
    lb = lf_open_lb(id, lf_ann, NULL);
    lf_assert_items(lb, none, 0, "after PUTs without the CSRF token");
    json_decref(lb);

    cookie_req("PUT", path, NULL, cookie, good, &r);
    kit_expect(&r, 204, NULL, "by cookie");
    th_resp_free(&r);
    /* A read with the cookie needs no token. */
    lf_lb_path(path, sizeof path, id, NULL);
    cookie_req("GET", path, NULL, cookie, NULL, &r);
    kit_expect(&r, 200, NULL, "by cookie");
    assert_int_equal(kit_jint(r.json, "image_count"), 1);
    th_resp_free(&r);

    /* The other changes, the same way. */
    lf_item_path(path, sizeof path, id, FLOWER);
    cookie_req("DELETE", path, NULL, cookie, NULL, &r);
    kit_expect(&r, 403, "csrf_failed", "a change by cookie");
    th_resp_free(&r);
    lf_lb_path(path, sizeof path, id, NULL);
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
    lb = lf_open_lb(id, lf_ann, NULL);
    lf_assert_items(lb, flower, 1, "after forged changes");
    assert_string_equal(kit_jstr_or(lb, "name"), "Cookie jar");
    assert_true(json_is_null(json_object_get(lb, "share_token")));
    json_decref(lb);
    lb = kit_want("GET", "/api/v1/lightboxes", lf_ann, NULL, 200, NULL);
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
    lf_create(lf_ann, "Many", id);
    for (int i = 4; i >= 0; i--)
        lf_put_image(id, order[i], lf_ann, 204);
    for (int pages = 0; pages < 10; pages++) {
        json_t *lb, *it, *next;
        size_t i;

        snprintf(q, sizeof q, "limit=1%s%s", cursor[0] ? "&cursor=" : "",
                 cursor);
        lb = lf_open_lb(id, lf_ann, q);
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
        assert_string_equal(seen[i], lf_imgs[order[i]].id);
    snprintf(q, sizeof q, "/api/v1/lightboxes/%s?cursor=garbage", id);
    kit_check("GET", q, lf_ann, NULL, 422, "invalid_cursor",
              "ann, a garbage cursor");
    snprintf(q, sizeof q, "/api/v1/lightboxes/%s?limit=0", id);
    kit_check("GET", q, lf_ann, NULL, 422, "invalid_parameter", "ann, limit=0");
    snprintf(q, sizeof q, "/api/v1/lightboxes/%s?limit=101", id);
    kit_check("GET", q, lf_ann, NULL, 422, "invalid_parameter",
              "ann, limit=101");
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
    lf_create(lf_ann, "Order of adding", id);
    lf_put_image(id, ROCKET, lf_ann, 204);
    lf_put_image(id, FLOWER, lf_ann, 204);
    lb = lf_open_lb(id, lf_ann, NULL);
    lf_assert_items(lb, order, 2, "FLOWER added after ROCKET");
    snprintf(cover, sizeof cover, "/images/%s/thumbnail.jpg",
             lf_imgs[FLOWER].id);
    assert_string_equal(kit_jstr_or(lb, "cover_url"), cover);
    json_decref(lb);
}

static int
sql_done(void *arg)
{
    char path[300], err[200];

    snprintf(path, sizeof path, "%s/stockroom.db", lf_srv.dir);
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
    lf_create(lf_ann, "Before the take-down", id);
    lf_put_image(id, FLOWER, lf_ann, 204);
    lf_put_image(id, DOOMED, lf_ann, 204);
    lf_lb_path(path, sizeof path, id, NULL);
    lb = kit_want("PATCH", path, lf_ann, "{\"shared\":true}", 200, NULL);
    snprintf(token, sizeof token, "%s", kit_jstr_or(lb, "share_token"));
    json_decref(lb);
    lb = lf_open_lb(id, lf_ann, NULL);
    lf_assert_items(lb, before, 2, "before");
    json_decref(lb);

    snprintf(sql, sizeof sql,
             "UPDATE images SET status = 'rejected',"
             " reject_code = 'other' WHERE id = '%s'",
             lf_imgs[DOOMED].id);
    if (!th_poll(sql_done, sql, SQL_MS))
        fail_msg("could not take the image down in the database");

    snprintf(cover, sizeof cover, "/images/%s/thumbnail.jpg",
             lf_imgs[FLOWER].id);
    lb = lf_open_lb(id, lf_ann, NULL);
    lf_assert_items(lb, after, 1, "owner, after");
    assert_string_equal(kit_jstr_or(lb, "cover_url"), cover);
    json_decref(lb);
    snprintf(q, sizeof q, "token=%s", token);
    lb = lf_open_lb(id, NULL, q);
    lf_assert_items(lb, after, 1, "shared, after");
    json_decref(lb);
    lb = kit_want("GET", "/api/v1/lightboxes", lf_ann, NULL, 200, NULL);
    assert_int_equal(kit_jint(lf_listed(lb, id), "image_count"), 1);
    assert_string_equal(kit_jstr_or(lf_listed(lb, id), "cover_url"), cover);
    json_decref(lb);

    /* It cannot be added again, it can be removed, and the lightbox still
     * takes other images. */
    lf_put_image(id, DOOMED, lf_ann, 422);
    lf_item_path(q, sizeof q, id, DOOMED);
    kit_check("DELETE", q, lf_ann, NULL, 204, NULL, "owner");
    lf_put_image(id, CAT, lf_ann, 204);
    lb = lf_open_lb(id, lf_ann, NULL);
    lf_assert_items(lb, later, 2, "after adding another");
    json_decref(lb);
    /* And the image is gone from the public too. */
    snprintf(q, sizeof q, "/api/v1/images/%s", lf_imgs[DOOMED].id);
    kit_check("GET", q, NULL, NULL, 404, "not_found", "anonymous");
    lb = kit_want("GET", "/api/v1/images?q=lightbox&limit=100", NULL, NULL, 200,
                  NULL);
    {
        json_t *it;
        size_t i;

        json_array_foreach(json_object_get(lb, "items"), i, it)
            assert_string_not_equal(kit_jstr_or(it, "id"), lf_imgs[DOOMED].id);
    }
    json_decref(lb);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name_validation),
        cmocka_unit_test(test_name_is_one_line),
        cmocka_unit_test(test_csrf_with_cookie),
        cmocka_unit_test(test_items_paging),
        cmocka_unit_test(test_latest_added_first),
        cmocka_unit_test(test_image_taken_down_drops_out),
    };

    return cmocka_run_group_tests(tests, lf_setup, lf_teardown);
}
