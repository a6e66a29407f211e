/* Stockroom — model and property releases (never readable by anyone but
 * their owner and staff), what a photo declares, and editorial use down to
 * the signed certificate. */
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
#include "util.h"

#define PROCESS_MS 120000

static struct th_server srv;
static char owner[128], other[128], buyer[128], reviewer[128], admin[128];
static char scratch[256];
static int seq;

static const char *const flags[] = {"--min-megapixels", "0.00005", "--workers",
                                    "2", NULL};

static const char pdf[] = "%PDF-1.4\n1 0 obj << >> endobj\ntrailer\n%%EOF\n";

static int
setup(void **state)
{
    (void)state;
    if (tu_tmpdir(scratch, sizeof scratch) < 0 || th_start(&srv, flags) < 0)
        return -1;
    kit_use(&srv);
    kit_new_user("owner", owner);
    kit_new_user("other", other);
    kit_new_user("buyer", buyer);
    kit_staff("reviewer", "reviewer", reviewer);
    kit_staff("admin", "admin", admin);
    return 0;
}

static int
teardown(void **state)
{
    int rc = th_stop(&srv);

    (void)state;
    th_cleanup(&srv);
    tu_rmtree(scratch);
    return rc;
}

/* POST /api/v1/releases as token with a document of len bytes. */
static long
post_release(const char *token, const char *kind, const char *name,
             const void *doc, size_t len, struct th_resp *r)
{
    struct iu_part parts[3];
    int n = 0;

    parts[n++] = (struct iu_part){"file", "form.pdf", 0, doc, len};
    if (kind)
        parts[n++] = (struct iu_part){"kind", NULL, 0, kind, strlen(kind)};
    if (name)
        parts[n++] = (struct iu_part){"name", NULL, 0, name, strlen(name)};
    assert_int_equal(
        iu_multipart(&srv, "/api/v1/releases", token, parts, n, 0, r), 0);
    return r->status;
}

static void
release_ok(const char *token, char *id)
{
    struct th_resp r;

    post_release(token, "model", "Ann Example", pdf, sizeof pdf - 1, &r);
    kit_expect(&r, 201, NULL, "release");
    snprintf(id, 64, "%s", kit_jstr(r.json, "id"));
    th_resp_free(&r);
}

/* A processed photo of token's, uploaded with extra form fields. */
static void
photo(const char *token, const char *const *fields, char *id)
{
    char path[512], tag[32], status[32];
    struct th_resp r;

    snprintf(tag, sizeof tag, "rel-%d", ++seq);
    iu_unique_corpus(scratch, "real/35-skimage-hubble_deep_field.jpg", tag,
                     path, sizeof path);
    assert_int_equal(
        th_upload(&srv, "/api/v1/images", token, path, "p.jpg", fields, &r), 0);
    kit_expect(&r, 202, NULL, "upload");
    snprintf(id, 64, "%s", kit_jstr(r.json, "id"));
    th_resp_free(&r);
    iu_wait_processed(&srv, token, id, PROCESS_MS, status);
    assert_string_equal(status, "pending_review");
}

static void
test_release_upload(void **state)
{
    static const char text[] = "just some words, not a signed form";
    struct th_resp r;
    char *big;
    json_t *j;

    (void)state;
    post_release(NULL, "model", "Ann", pdf, sizeof pdf - 1, &r);
    kit_expect(&r, 401, "unauthenticated", "anon");
    th_resp_free(&r);
    post_release(owner, "person", "Ann", pdf, sizeof pdf - 1, &r);
    kit_expect(&r, 422, "invalid_field", "bad kind");
    th_resp_free(&r);
    post_release(owner, "model", NULL, pdf, sizeof pdf - 1, &r);
    kit_expect(&r, 422, "missing_field", "no name");
    th_resp_free(&r);
    /* The type comes from the bytes, not the name "form.pdf". */
    post_release(owner, "property", "The mill", text, sizeof text - 1, &r);
    kit_expect(&r, 415, "unsupported_type", "not a document");
    th_resp_free(&r);
    big = calloc(1, 10 * 1024 * 1024 + 1);
    assert_non_null(big);
    memcpy(big, pdf, sizeof pdf - 1);
    post_release(owner, "model", "Ann", big, 10 * 1024 * 1024 + 1, &r);
    kit_expect(&r, 413, "too_large", "11 MB");
    th_resp_free(&r);
    free(big);
    post_release(owner, "property", "The mill", pdf, sizeof pdf - 1, &r);
    kit_expect(&r, 201, NULL, "release");
    assert_string_equal(kit_jstr(r.json, "kind"), "property");
    assert_string_equal(kit_jstr(r.json, "mime"), "application/pdf");
    th_resp_free(&r);
    j = kit_want("GET", "/api/v1/me/releases", owner, NULL, 200, NULL);
    assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
    json_decref(j);
    j = kit_want("GET", "/api/v1/me/releases", other, NULL, 200, NULL);
    assert_int_equal(json_array_size(json_object_get(j, "items")), 0);
    json_decref(j);
    kit_check("GET", "/api/v1/me/releases", NULL, NULL, 401, "unauthenticated",
              "anon list");
}

/* Owner and staff read the document; nobody else, whoever they are. */
static void
test_release_privacy(void **state)
{
    char id[64], path[160];
    struct th_resp r;

    (void)state;
    release_ok(owner, id);
    snprintf(path, sizeof path, "/api/v1/releases/%s/file", id);
    kit_call("GET", path, owner, NULL, NULL, &r);
    kit_expect(&r, 200, NULL, "owner");
    assert_int_equal(r.len, sizeof pdf - 1);
    assert_memory_equal(r.body, pdf, sizeof pdf - 1);
    th_resp_free(&r);
    kit_check("GET", path, reviewer, NULL, 200, NULL, "reviewer");
    kit_check("GET", path, admin, NULL, 200, NULL, "admin");
    kit_check("GET", path, other, NULL, 404, "not_found", "other");
    kit_check("GET", path, buyer, NULL, 404, "not_found", "buyer");
    kit_check("GET", path, NULL, NULL, 404, "not_found", "anonymous");
    kit_check("GET", "/api/v1/releases/relnope/file", admin, NULL, 404,
              "not_found", "unknown");
}

static void
test_attach(void **state)
{
    char rel[64], rel_other[64], img[64], img_other[64], p[200];
    const char *const people[] = {"title", "Portrait", "people", "true", NULL};
    json_t *j;

    (void)state;
    release_ok(owner, rel);
    release_ok(other, rel_other);
    photo(owner, people, img);
    photo(other, NULL, img_other);
    snprintf(p, sizeof p, "/api/v1/images/%s", img);
    j = kit_want("GET", p, owner, NULL, 200, NULL);
    assert_true(json_is_true(json_object_get(j, "people")));
    json_decref(j);
    snprintf(p, sizeof p, "/api/v1/images/%s/releases/%s", img, rel_other);
    kit_check("PUT", p, owner, NULL, 404, "not_found", "someone's release");
    snprintf(p, sizeof p, "/api/v1/images/%s/releases/%s", img_other, rel);
    kit_check("PUT", p, owner, NULL, 404, "not_found", "someone's image");
    snprintf(p, sizeof p, "/api/v1/images/%s/releases/%s", img, rel);
    kit_check("PUT", p, NULL, NULL, 401, "unauthenticated", "anon");
    kit_check("PUT", p, other, NULL, 404, "not_found", "other");
    j = kit_want("PUT", p, owner, NULL, 200, NULL);
    assert_int_equal(json_array_size(json_object_get(j, "releases")), 1);
    json_decref(j);
    kit_check("PUT", p, owner, NULL, 200, NULL, "twice");
    /* The reviewer sees it in the queue entry. */
    snprintf(p, sizeof p, "/api/v1/images/%s", img);
    j = kit_want("GET", p, reviewer, NULL, 200, NULL);
    assert_int_equal(json_array_size(json_object_get(j, "releases")), 1);
    assert_string_equal(
        kit_jstr(json_array_get(json_object_get(j, "releases"), 0), "id"), rel);
    json_decref(j);
    snprintf(p, sizeof p, "/api/v1/images/%s/releases/%s", img, rel);
    j = kit_want("DELETE", p, owner, NULL, 200, NULL);
    assert_int_equal(json_array_size(json_object_get(j, "releases")), 0);
    json_decref(j);
}

/* The text the certificate signs, for licence id, as its licensee (token)
 * sees it. */
static char *
signed_text(const char *token, const char *id)
{
    char path[160];
    json_t *j;
    char *s;

    snprintf(path, sizeof path, "/api/v1/licences/%s/certificate", id);
    j = kit_want("GET", path, token, NULL, 200, NULL);
    s = strdup(kit_jstr(j, "signed_text"));
    json_decref(j);
    return s;
}

static void
test_editorial(void **state)
{
    char img[64], plain[64], p[160], lic[64], lic_before[64];
    const char *const fields[] = {"title", "Crowd at the parade", NULL};
    struct th_resp r;
    char *text;
    json_t *j;

    (void)state;
    photo(owner, fields, img);
    kit_approve(owner, reviewer, img);
    photo(owner, fields, plain);
    kit_approve(owner, reviewer, plain);
    kit_buy(buyer, "30", NULL);
    kit_licence(buyer, img, "XL", "standard", &r);
    kit_expect(&r, 201, NULL, "licence before");
    snprintf(lic_before, sizeof lic_before, "%s", kit_jstr(r.json, "id"));
    th_resp_free(&r);
    snprintf(p, sizeof p, "/api/v1/images/%s", img);
    kit_check("PATCH", p, owner, "{\"editorial\":true}", 422, "missing_field",
              "no caption");
    kit_check("PATCH", p, other, "{\"editorial\":true,\"caption\":\"x\"}", 404,
              "not_found", "other");
    kit_check("PATCH", p, owner, "{\"editorial\":\"yes\",\"caption\":\"x\"}",
              422, "invalid_field", "not a boolean");
    j = kit_want("PATCH", p, owner,
                 "{\"editorial\":true,\"caption\":\"Carnival parade, Notting "
                 "Hill, London, 2026-08-30\"}",
                 200, NULL);
    assert_true(json_is_true(json_object_get(j, "editorial")));
    /* At once: it only narrows what may be sold. */
    assert_string_equal(kit_jstr(j, "status"), "approved");
    json_decref(j);
    j = kit_want("GET", p, NULL, NULL, 200, NULL);
    assert_true(json_is_true(json_object_get(j, "editorial")));
    assert_string_equal(kit_jstr(j, "caption"),
                        "Carnival parade, Notting Hill, London, 2026-08-30");
    json_decref(j);
    /* Search labels and filters. */
    j = kit_want("GET", "/api/v1/images?editorial=true&limit=100", NULL, NULL,
                 200, NULL);
    {
        json_t *items = json_object_get(j, "items");
        int found = 0;

        for (size_t i = 0; i < json_array_size(items); i++) {
            json_t *it = json_array_get(items, i);

            assert_true(json_is_true(json_object_get(it, "editorial")));
            found |= !strcmp(kit_jstr(it, "id"), img);
            assert_string_not_equal(kit_jstr(it, "id"), plain);
        }
        assert_true(found);
    }
    json_decref(j);
    j = kit_want("GET", "/api/v1/images?editorial=false&limit=100", NULL, NULL,
                 200, NULL);
    for (size_t i = 0; i < json_array_size(json_object_get(j, "items")); i++)
        assert_string_not_equal(
            kit_jstr(json_array_get(json_object_get(j, "items"), i), "id"),
            img);
    json_decref(j);
    kit_check("GET", "/api/v1/images?editorial=maybe", NULL, NULL, 422,
              "invalid_parameter", "bad filter");
    /* No extended licence; a standard one says editorial use only. */
    kit_licence(buyer, img, "XL", "extended", &r);
    kit_expect(&r, 422, "editorial_only", "extended");
    th_resp_free(&r);
    kit_licence(buyer, img, "XL", "standard", &r);
    kit_expect(&r, 201, NULL, "editorial licence");
    snprintf(lic, sizeof lic, "%s", kit_jstr(r.json, "id"));
    th_resp_free(&r);
    text = signed_text(buyer, lic);
    assert_non_null(strstr(text, "\"use\":\"editorial use only\""));
    free(text);
    /* A licence sold before keeps its terms. */
    text = signed_text(buyer, lic_before);
    assert_null(strstr(text, "editorial"));
    free(text);
    snprintf(p, sizeof p, "/api/v1/licences/%s/download", lic);
    kit_check("GET", p, buyer, NULL, 200, NULL, "download");
    /* Turning it off goes through review again. */
    snprintf(p, sizeof p, "/api/v1/images/%s", img);
    j = kit_want("PATCH", p, owner, "{\"editorial\":false}", 200, NULL);
    assert_string_equal(kit_jstr(j, "status"), "pending_review");
    assert_false(json_is_true(json_object_get(j, "editorial")));
    json_decref(j);
}

/* A reviewer approves as editorial instead of rejecting for a missing
 * release. */
static void
test_review_editorial(void **state)
{
    char img[64], p[160];
    json_t *j;

    (void)state;
    photo(owner, NULL, img);
    snprintf(p, sizeof p, "/api/v1/images/%s/review", img);
    kit_check("POST", p, reviewer,
              "{\"decision\":\"reject\",\"reason_code\":\"release_missing\","
              "\"editorial\":true,\"caption\":\"x\"}",
              422, "invalid_field", "reject and editorial");
    j = kit_want("POST", p, reviewer,
                 "{\"decision\":\"approve\",\"editorial\":true,"
                 "\"caption\":\"Street market, Lagos, 2026-05-01\"}",
                 200, NULL);
    assert_string_equal(kit_jstr(j, "status"), "approved");
    assert_true(json_is_true(json_object_get(j, "editorial")));
    json_decref(j);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_release_upload),
        cmocka_unit_test(test_release_privacy),
        cmocka_unit_test(test_attach),
        cmocka_unit_test(test_editorial),
        cmocka_unit_test(test_review_editorial),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
