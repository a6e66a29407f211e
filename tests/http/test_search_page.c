/* Stockroom — search under attack and beyond the result list: hostile
 * query text, bad parameters, who sees unpublished images, the image page,
 * view counts and contributor profiles, against the catalogue of
 * searchcat.h. */
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
#include "searchcat.h"
#include "util.h"

#define VIEWS_MS 20000 /* views are flushed every ~5 s */
#define RAW_MS 20000

/* ---- hostile text and bad parameters ---------------------------------- */

/* The search text is never an error and never syntax. */
static void
test_hostile_q(void **state)
{
    static const char *const texts[] = {
        "\"",
        "\"\"\"",
        "bicycle\"",
        "AND",
        "OR",
        "NOT",
        "NEAR",
        "AND OR NOT",
        "*",
        "bicycle*",
        "*bicycle",
        "NEAR(",
        "NEAR(bicycle",
        "NEAR(a b, 3)",
        "title:",
        "title:bicycle",
        "keywords:bicycle",
        "{title keywords}:x",
        "^",
        "^bicycle",
        "-bicycle",
        "+",
        "(",
        ")",
        "((((",
        "a OR b NOT c",
        "' OR 1=1 --",
        "'; DROP TABLE images; --",
        "1' UNION SELECT password_hash FROM users --",
        "\\",
        "%",
        "%%",
        "_",
        "\"unclosed phrase bicycle",
        "bicycle \"\" garden",
        "🚲 bicycle",
        "\xe2\x80\x94",
        "\xef\xbb\xbf",
        "\xe2\x80\x8b",
        "\xcc\x81",
        "\xc3\xa9t\xc3\xa9",
        ":",
        "::",
        "x:y:z",
        "a\tb\nc",
        "NEAR/3",
        "bicycle^2",
        "bicycle AND",
        "bicycle OR garden",
        "NOT bicycle",
    };
    /* What some of them must still find: operators are dropped, the words
     * around them are searched. */
    static const struct {
        const char *q;
        int k;
    } finds[] = {
        {"bicycle AND", FLOWER},
        {"NEAR(bicycle", FLOWER},
        {"title:bicycle", FLOWER},
        {"^bicycle", FLOWER},
        {"bicycle\"", FLOWER},
        {"🚲 bicycle", FLOWER},
        {"bicycle*", FLOWER},
        {"NOT bicycle", FLOWER},
        /* Symbols the tokenizer drops must not drop the whole query. */
        {"bicycle \xe2\x80\x94", FLOWER},
        {"garden \xe2\x80\x93 bicycle", FLOWER},
        {"bicycle \xe2\x84\xa2", FLOWER},
    };
    int all = sc_n_approved(), missed = 0;

    (void)state;
    for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
        json_t *p = sc_search_q(texts[t], "limit=100");

        (void)sc_items(p);
        json_decref(p);
    }
    for (size_t f = 0; f < sizeof finds / sizeof finds[0]; f++) {
        json_t *p = sc_search_q(finds[f].q, "limit=100");

        /* Report every miss, not just the first. */
        if (sc_pos_of(sc_items(p), sc_imgs[finds[f].k].id) < 0) {
            print_error("q=%s does not find '%s'\n", finds[f].q,
                        sc_imgs[finds[f].k].title);
            missed++;
        }
        json_decref(p);
    }
    /* Nothing searchable left: everything, as without text. */
    {
        json_t *p = sc_search_q("AND OR NOT *", "limit=100");

        assert_int_equal((int)json_array_size(sc_items(p)), all);
        json_decref(p);
    }
    /* An injection must not widen the result: no image has these words. */
    {
        json_t *p = sc_search_q("' OR 1=1 --", "limit=100");

        assert_int_equal(json_array_size(sc_items(p)), 0);
        json_decref(p);
        /* Not a colour: an empty page, or 422 once colours are checked. */
        {
            struct th_resp r;

            kit_call("GET",
                     "/api/v1/images?limit=100&colour=%27%20OR%201%3D1"
                     "%20--",
                     NULL, NULL, NULL, &r);
            kit_expect(&r, 422, "invalid_parameter", "colour=' OR 1=1 --");
            th_resp_free(&r);
        }
        p = sc_search("limit=100&contributor=%27%20OR%20%271%27%3D%271");
        assert_int_equal(json_array_size(sc_items(p)), 0);
        json_decref(p);
    }
    /* Invalid UTF-8 separates words, percent-encoded as a browser would. */
    {
        static const char *const raw[] = {
            "q=%ff%fe",           "q=%ff%febicycle", "q=bicycle%ff", "q=%c0%80",
            "q=%ed%a0%80bicycle", "q=%f4%90%80%80",  "q=%e2%82",     "q=%00",
            "q=bicycle%00garden", "q=%22%ff%22",     "q=%f0%9f%9a",
        };

        for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++) {
            json_t *p = sc_search(raw[i]);

            if (strstr(raw[i], "bicycle") && !strstr(raw[i], "%00") &&
                sc_pos_of(sc_items(p), sc_imgs[FLOWER].id) < 0)
                fail_msg("%s does not find '%s'", raw[i],
                         sc_imgs[FLOWER].title);
            json_decref(p);
        }
    }
    /* Many words: more than the 16 kept. */
    {
        char many[1200] = "";

        for (int i = 0; i < 60; i++)
            strcat(many, i % 2 ? "OR " : "bicycle ");
        json_decref(sc_search_q(many, NULL));
    }
    assert_true(tu_healthy(&sc_srv));
    assert_int_equal(missed, 0);
}

/* A 10 KB query string goes over a raw socket: libcurl is fine with it but
 * the harness builds URLs in a fixed buffer. */
static void
test_huge_q(void **state)
{
    static const char *const words[] = {"bicycle+", "%22",  "NEAR(",
                                        "%ff",      "x%3A", "*"};
    size_t cap = 16 * 1024;
    char *reqbuf = malloc(cap), *out = malloc(65536);
    size_t len;
    int st;

    (void)state;
    assert_non_null(reqbuf);
    assert_non_null(out);
    for (size_t w = 0; w < sizeof words / sizeof words[0]; w++) {
        len = (size_t)snprintf(reqbuf, cap, "GET /api/v1/images?q=");
        while (len < 10 * 1024)
            len += (size_t)snprintf(reqbuf + len, cap - len, "%s", words[w]);
        len += (size_t)snprintf(reqbuf + len, cap - len,
                                " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                "Connection: close\r\n\r\n");
        st = tu_raw_exchange(sc_srv.port, reqbuf, len, out, 65536, RAW_MS);
        if (st != 200)
            fail_msg("10 KB of '%s': %d, expected 200: %.300s", words[w], st,
                     out);
        if (w == 0 && !strstr(out, sc_imgs[FLOWER].id))
            fail_msg("10 KB of 'bicycle' does not find '%s'",
                     sc_imgs[FLOWER].title);
    }
    free(reqbuf);
    free(out);
    assert_true(tu_healthy(&sc_srv));
}

static void
test_bad_parameters_422(void **state)
{
    static const char *const bad[] = {
        "limit=0",
        "limit=101",
        "limit=abc",
        "limit=-1",
        "limit=1e2",
        "limit=2x",
        "limit=99999999999999999999",
        "orientation=diagonal",
        "orientation=LANDSCAPE",
        "min_megapixels=-1",
        "min_megapixels=abc",
        "min_megapixels=nan",
        "min_megapixels=inf",
        "min_megapixels=1001",
        "min_megapixels=1x",
        "sort=random",
        "sort=NEWEST",
        "cursor=garbage",
        "cursor=n0000000000000000",
        "q=bicycle&cursor=%27%20OR%201%3D1",
        "cursor=zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
    };
    char path[256], cursor[128];
    json_t *p;

    (void)state;
    for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
        struct th_resp r;

        snprintf(path, sizeof path, "/api/v1/images?%s", bad[b]);
        kit_call("GET", path, NULL, NULL, NULL, &r);
        if (r.status != 422 || strcmp(th_error_code(&r), "invalid_parameter"))
            fail_msg("%s: %ld %.200s, expected 422 invalid_parameter", bad[b],
                     r.status, r.body);
        tu_assert_security_headers(&r, bad[b]);
        th_resp_free(&r);
        /* The contributor page takes the same parameters. */
        snprintf(path, sizeof path, "/api/v1/contributors/%s?%s", sc_carl_id,
                 bad[b]);
        kit_check("GET", path, NULL, NULL, 422, "invalid_parameter",
                  "anonymous, the contributor page");
    }
    /* A cursor is refused by another sort. */
    p = sc_search("limit=2");
    snprintf(cursor, sizeof cursor, "%s", kit_jstr_or(p, "next_cursor"));
    json_decref(p);
    assert_true(cursor[0] != '\0');
    snprintf(path, sizeof path,
             "/api/v1/images?sort=popular&limit=2&"
             "cursor=%s",
             cursor);
    kit_check("GET", path, NULL, NULL, 422, "invalid_parameter", "anonymous");
    snprintf(path, sizeof path, "/api/v1/images?q=photo&limit=2&cursor=%s",
             cursor);
    kit_check("GET", path, NULL, NULL, 422, "invalid_parameter", "anonymous");
    /* The boundaries themselves are fine. */
    json_decref(sc_search("limit=1"));
    json_decref(sc_search("limit=100"));
    json_decref(sc_search("min_megapixels=1000"));
}

/* A colour outside the palette is a bad parameter like orientation=
 * diagonal, not an empty page: "gray" (the American spelling) would
 * otherwise read as "no grey photos here". */
static void
test_unknown_colour_422(void **state)
{
    static const char *const bad[] = {"colour=gray", "colour=chartreuse",
                                      "colour=RED", "colour=%27%20OR%201"};
    char path[160];
    json_t *p;

    (void)state;
    for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
        struct th_resp r;

        snprintf(path, sizeof path, "/api/v1/images?%s", bad[b]);
        kit_call("GET", path, NULL, NULL, NULL, &r);
        if (r.status != 422 || strcmp(th_error_code(&r), "invalid_parameter"))
            fail_msg("%s: %ld %.200s, expected 422 invalid_parameter", bad[b],
                     r.status, r.body);
        th_resp_free(&r);
    }
    /* Every colour of the palette is accepted. */
    for (size_t c = 0; c < SC_N_PALETTE; c++) {
        snprintf(path, sizeof path, "colour=%s", sc_palette[c]);
        p = sc_search(path);
        json_decref(p);
    }
}

/* ---- visibility ------------------------------------------------------- */

/* Rejected and pending images: 404 to the public and to other users (the
 * same answer as a missing id), 200 to the owner and to reviewers; and
 * never in any listing. */
static void
test_visibility_by_role(void **state)
{
    static const int hidden[] = {REJECTED, PENDING_IMG};
    char path[256];
    json_t *j;

    (void)state;
    for (size_t h = 0; h < 2; h++) {
        int k = hidden[h];
        const char *who[] = {NULL, sc_dora, sc_buyer};
        const char *name[] = {"anonymous", "another user", "a buyer"};

        snprintf(path, sizeof path, "/api/v1/images/%s", sc_imgs[k].id);
        for (int w = 0; w < 3; w++) {
            struct th_resp r;

            kit_call("GET", path, who[w], NULL, NULL, &r);
            if (r.status != 404 || strcmp(th_error_code(&r), "not_found"))
                fail_msg("'%s' as %s: %ld %.200s", sc_imgs[k].title, name[w],
                         r.status, r.body);
            th_resp_free(&r);
        }
        j = kit_want("GET", path, sc_carl, NULL, 200, NULL);
        assert_string_equal(kit_jstr_or(j, "status"),
                            k == REJECTED ? "rejected" : "pending_review");
        if (k == REJECTED)
            assert_string_equal(kit_jstr_or(j, "reject_code"), "poor_quality");
        json_decref(j);
        j = kit_want("GET", path, sc_admin, NULL, 200, NULL);
        assert_string_equal(kit_jstr_or(j, "id"), sc_imgs[k].id);
        json_decref(j);
        j = kit_want("GET", path, sc_reviewer, NULL, 200, NULL);
        assert_string_equal(kit_jstr_or(j, "id"), sc_imgs[k].id);
        json_decref(j);
        snprintf(path, sizeof path, "/images/%s/thumbnail.jpg", sc_imgs[k].id);
        kit_check("GET", path, NULL, NULL, 404, "not_found", "anonymous");
        kit_check("GET", path, sc_dora, NULL, 404, "not_found", "dora");
        kit_check("GET", path, sc_carl, NULL, 200, NULL, "carl");
        snprintf(path, sizeof path, "/images/%s/preview.jpg", sc_imgs[k].id);
        kit_check("GET", path, NULL, NULL, 404, "not_found", "anonymous");
    }
    kit_check("GET", "/api/v1/images/i0000000000000000", NULL, NULL, 404,
              "not_found", "anonymous");
    snprintf(path, sizeof path, "/api/v1/images/%s", sc_imgs[FLOWER].id);
    kit_check("GET", path, NULL, NULL, 200, NULL, "anonymous");

    /* No listing shows them, whoever asks. */
    {
        const char *queries[] = {
            "q=bicycle&limit=100",
            "limit=100",
            "q=photo&limit=100",
            "sort=popular&limit=100",
            "q=rose",
            "q=shop",
            "q=pending",
            "q=rejected",
        };
        const char *who[] = {NULL, sc_carl, sc_admin, sc_reviewer};

        for (size_t q = 0; q < sizeof queries / sizeof queries[0]; q++) {
            for (int w = 0; w < 4; w++) {
                snprintf(path, sizeof path, "/api/v1/images?%s", queries[q]);
                j = kit_want("GET", path, who[w], NULL, 200, NULL);
                for (size_t h = 0; h < 2; h++)
                    if (sc_pos_of(sc_items(j), sc_imgs[hidden[h]].id) >= 0)
                        fail_msg("%s lists '%s'", queries[q],
                                 sc_imgs[hidden[h]].title);
                json_decref(j);
            }
        }
        snprintf(path, sizeof path, "/api/v1/contributors/%s?limit=100",
                 sc_carl_id);
        j = kit_want("GET", path, NULL, NULL, 200, NULL);
        for (size_t h = 0; h < 2; h++)
            assert_int_equal(sc_pos_of(sc_items(j), sc_imgs[hidden[h]].id), -1);
        json_decref(j);
    }
}

/* ---- the image page --------------------------------------------------- */

static void
check_sizes(int k, const char *const *want, int nwant)
{
    static const struct {
        const char *name;
        int edge, credits;
    } table[] = {
        {"S", 1024, 1},
        {"M", 2048, 2},
        {"L", 4096, 4},
        {"XL", 0, 6},
    };
    char path[128];
    json_t *j, *sizes, *s;
    long long ow, oh, olong;
    size_t i;

    snprintf(path, sizeof path, "/api/v1/images/%s", sc_imgs[k].id);
    j = kit_want("GET", path, NULL, NULL, 200, NULL);
    ow = json_integer_value(json_object_get(j, "width"));
    oh = json_integer_value(json_object_get(j, "height"));
    olong = ow > oh ? ow : oh;
    sizes = json_object_get(j, "sizes");
    assert_true(json_is_array(sizes));
    if ((int)json_array_size(sizes) != nwant)
        fail_msg("'%s' (%lldx%lld): %zu sizes, expected %d", sc_imgs[k].title,
                 ow, oh, json_array_size(sizes), nwant);
    json_array_foreach(sizes, i, s)
    {
        const char *name = kit_jstr_or(s, "name");
        long long w = json_integer_value(json_object_get(s, "width"));
        long long h = json_integer_value(json_object_get(s, "height"));
        long long c = json_integer_value(json_object_get(s, "credits"));
        long long x =
            json_integer_value(json_object_get(s, "extended_credits"));
        long long edge = w > h ? w : h;
        size_t t;

        assert_string_equal(name, want[i]);
        for (t = 0; strcmp(table[t].name, name); t++)
            ;
        /* Never larger than the original; the named long edge, or the
         * original's pixels for XL; the same shape. */
        if (edge > olong)
            fail_msg("'%s' offers %s at %lldx%lld, larger than %lldx%lld",
                     sc_imgs[k].title, name, w, h, ow, oh);
        assert_int_equal(edge, table[t].edge ? table[t].edge : olong);
        if (!table[t].edge) {
            assert_int_equal(w, ow);
            assert_int_equal(h, oh);
        }
        if (llabs(w * oh - h * ow) > olong)
            fail_msg("%s of '%s' is %lldx%lld, not the shape of %lldx%lld",
                     name, sc_imgs[k].title, w, h, ow, oh);
        assert_int_equal(c, table[t].credits);
        assert_int_equal(x, table[t].credits + 30);
    }
    json_decref(j);
}

static void
test_image_page(void **state)
{
    static const char *const big[] = {"S", "M", "XL"};
    static const char *const xl[] = {"XL"};
    static const char *const owner_only[] = {
        "views",         "format",      "file_size",   "queue_position",
        "reject_reason", "fail_reason", "camera_make",
    };
    char path[128], url[128], buf[1024];
    json_t *j, *c, *kw, *sim, *it;
    size_t i;

    (void)state;
    /* 2560 x 1600: S and M fit, L (4096) does not. */
    check_sizes(WATER, big, 3);
    check_sizes(FLOWER, xl, 1);
    check_sizes(HOPPER, xl, 1);

    snprintf(path, sizeof path, "/api/v1/images/%s", sc_imgs[FLOWER].id);
    j = kit_want("GET", path, NULL, NULL, 200, NULL);
    assert_string_equal(kit_jstr_or(j, "id"), sc_imgs[FLOWER].id);
    assert_string_equal(kit_jstr_or(j, "title"), "Garden flower");
    assert_string_equal(kit_jstr_or(j, "description"), "Petals in the sun.");
    assert_string_equal(kit_jstr_or(j, "status"), "approved");
    assert_string_equal(kit_jstr_or(j, "orientation"), "landscape");
    assert_int_equal(json_integer_value(json_object_get(j, "width")), 480);
    assert_int_equal(json_integer_value(json_object_get(j, "height")), 360);
    c = json_object_get(j, "contributor");
    assert_string_equal(kit_jstr_or(c, "id"), sc_carl_id);
    assert_string_equal(kit_jstr_or(c, "name"), "carl");
    snprintf(url, sizeof url, "/api/v1/contributors/%s", sc_carl_id);
    assert_string_equal(kit_jstr_or(c, "url"), url);
    /* Keywords come back normalised, as a list. */
    kw = json_object_get(j, "keywords");
    assert_true(json_is_array(kw));
    assert_int_equal(json_array_size(kw), 4);
    assert_string_equal(json_string_value(json_array_get(kw, 0)), "bicycle");
    assert_string_equal(json_string_value(json_array_get(kw, 1)), "garden");
    assert_string_equal(json_string_value(json_array_get(kw, 2)), "summer");
    assert_string_equal(json_string_value(json_array_get(kw, 3)), "photo");
    snprintf(url, sizeof url, "/images/%s/thumbnail.jpg", sc_imgs[FLOWER].id);
    assert_string_equal(kit_jstr_or(j, "thumbnail_url"), url);
    snprintf(url, sizeof url, "/images/%s/preview.jpg", sc_imgs[FLOWER].id);
    assert_string_equal(kit_jstr_or(j, "preview_url"), url);
    for (i = 0; i < sizeof owner_only / sizeof owner_only[0]; i++)
        if (json_object_get(j, owner_only[i]))
            fail_msg("the public page shows '%s'", owner_only[i]);
    json_decref(j);
    j = kit_want("GET", path, sc_carl, NULL, 200, NULL);
    assert_non_null(json_object_get(j, "views"));
    assert_string_equal(kit_jstr_or(j, "format"), "jpeg");
    json_decref(j);

    /* Similar: up to 12, never the image itself, only approved images; an
     * approved near duplicate comes before keyword matches. Every image
     * shares "photo", so the list is full. */
    snprintf(path, sizeof path, "/api/v1/images/%s", sc_imgs[SAMPLE].id);
    j = kit_want("GET", path, NULL, NULL, 200, NULL);
    sim = json_object_get(j, "similar");
    assert_true(json_is_array(sim));
    if (json_array_size(sim) != 12)
        fail_msg("%zu similar images, expected 12: %s", json_array_size(sim),
                 sc_names(sim, buf, sizeof buf));
    json_array_foreach(sim, i, it)
    {
        int k = sc_which(kit_jstr_or(it, "id"));

        if (k == SAMPLE)
            fail_msg("the image is similar to itself");
        if (k < 0 || !sc_imgs[k].approved)
            fail_msg("similar lists '%s', not approved",
                     kit_jstr_or(it, "title"));
        for (size_t m = 0; m < i; m++)
            assert_string_not_equal(kit_jstr_or(json_array_get(sim, m), "id"),
                                    kit_jstr_or(it, "id"));
        assert_true(kit_jstr_or(it, "thumbnail_url")[0] != '\0');
        assert_true(kit_jstr_or(it, "url")[0] != '\0');
        if (i < 4 && (k < COPY1 || k > COPY4))
            fail_msg("similar[%zu] is '%s', not one of the four copies: %s", i,
                     kit_jstr_or(it, "title"), sc_names(sim, buf, sizeof buf));
    }
    json_decref(j);
    /* A pending image's page (for its owner) lists no similar images. */
    snprintf(path, sizeof path, "/api/v1/images/%s", sc_imgs[PENDING_IMG].id);
    j = kit_want("GET", path, sc_carl, NULL, 200, NULL);
    sim = json_object_get(j, "similar");
    if (sim && json_array_size(sim))
        fail_msg("a pending image has similar images");
    json_decref(j);
}

/* ---- views ------------------------------------------------------------ */

struct views_wait {
    int k;
    long long views;
};

static int
views_reached(void *arg)
{
    struct views_wait *w = arg;
    struct th_resp r;
    json_t *it;
    size_t i;

    if (kit_try("GET", "/api/v1/me/images?limit=100", sc_carl, NULL, NULL, &r) <
            0 ||
        r.status != 200) {
        th_resp_free(&r);
        return 0;
    }
    json_array_foreach(json_object_get(r.json, "items"), i, it)
    {
        if (!strcmp(kit_jstr_or(it, "id"), sc_imgs[w->k].id))
            w->views = json_integer_value(json_object_get(it, "views"));
    }
    th_resp_free(&r);
    return w->views >= 3;
}

/* Three anonymous page views of ROCKET (which no other test opens) reach
 * the owner's dashboard within a few flushes; the owner's views of a
 * pending image are not counted. */
static void
test_views_counted(void **state)
{
    struct views_wait w = {ROCKET, -1};
    char path[128];
    json_t *mine, *it;
    size_t i;

    (void)state;
    snprintf(path, sizeof path, "/api/v1/images/%s", sc_imgs[PENDING_IMG].id);
    for (int n = 0; n < 2; n++)
        json_decref(kit_want("GET", path, sc_carl, NULL, 200, NULL));
    snprintf(path, sizeof path, "/api/v1/images/%s", sc_imgs[ROCKET].id);
    for (int n = 0; n < 3; n++)
        json_decref(kit_want("GET", path, NULL, NULL, 200, NULL));
    if (!th_poll(views_reached, &w, VIEWS_MS))
        fail_msg("views of '%s' stayed at %lld after 3 page views",
                 sc_imgs[ROCKET].title, w.views);
    assert_int_equal(w.views, 3);
    /* The flush that wrote those wrote everything counted before them. */
    mine = kit_want("GET", "/api/v1/me/images?limit=100", sc_carl, NULL, 200,
                    NULL);
    json_array_foreach(json_object_get(mine, "items"), i, it)
    {
        if (!strcmp(kit_jstr_or(it, "id"), sc_imgs[PENDING_IMG].id))
            assert_int_equal(json_integer_value(json_object_get(it, "views")),
                             0);
    }
    json_decref(mine);
}

/* ---- contributor profiles --------------------------------------------- */

static void
test_contributor_profile(void **state)
{
    char path[160];
    json_t *p, *mine, *it;
    size_t i;
    long long approved = 0, sold = 0, sold_items = 0;

    (void)state;
    mine = kit_want("GET", "/api/v1/me/images?limit=100", sc_carl, NULL, 200,
                    NULL);
    json_array_foreach(json_object_get(mine, "items"), i, it)
    {
        if (!strcmp(kit_jstr_or(it, "status"), "approved")) {
            approved++;
            sold += json_integer_value(json_object_get(it, "licences_sold"));
        }
    }
    json_decref(mine);
    assert_true(approved >= 10);

    snprintf(path, sizeof path, "/api/v1/contributors/%s?limit=100",
             sc_carl_id);
    p = kit_want("GET", path, NULL, NULL, 200, NULL);
    assert_string_equal(kit_jstr_or(p, "id"), sc_carl_id);
    assert_string_equal(kit_jstr_or(p, "name"), "carl");
    assert_true(kit_jstr_or(p, "member_since")[0] != '\0');
    assert_int_equal(json_integer_value(json_object_get(p, "images")),
                     approved);
    assert_int_equal(json_integer_value(json_object_get(p, "licences_sold")),
                     sold);
    assert_int_equal((long long)json_array_size(sc_items(p)), approved);
    json_array_foreach(sc_items(p), i, it)
    {
        int k = sc_which(kit_jstr_or(it, "id"));

        if (k < 0 || !sc_imgs[k].approved || sc_imgs[k].dora)
            fail_msg("carl's profile lists '%s'", kit_jstr_or(it, "title"));
        sold_items += json_integer_value(json_object_get(it, "licences_sold"));
    }
    assert_int_equal(sold_items, sold);
    assert_true(json_is_null(json_object_get(p, "next_cursor")));
    json_decref(p);

    /* Paged like search. */
    {
        char seen[SC_MAX_SEEN][64], q[200];
        int n;

        snprintf(q, sizeof q, "contributor=%s", sc_carl_id);
        n = sc_walk(q, seen, NULL);
        assert_int_equal(n, approved);
    }

    snprintf(path, sizeof path, "/api/v1/contributors/%s", sc_dora_id);
    p = kit_want("GET", path, NULL, NULL, 200, NULL);
    assert_string_equal(kit_jstr_or(p, "name"), "dora");
    assert_int_equal(json_integer_value(json_object_get(p, "images")), 1);
    assert_int_equal(json_array_size(sc_items(p)), 1);
    assert_string_equal(kit_jstr_or(json_array_get(sc_items(p), 0), "id"),
                        sc_imgs[HARBOUR].id);
    json_decref(p);

    /* A buyer who never uploaded has an empty profile, not an error. */
    {
        char buyer_id[64];

        kit_my_id(sc_buyer, buyer_id);
        snprintf(path, sizeof path, "/api/v1/contributors/%s", buyer_id);
        p = kit_want("GET", path, NULL, NULL, 200, NULL);
        assert_int_equal(json_integer_value(json_object_get(p, "images")), 0);
        assert_int_equal(json_array_size(sc_items(p)), 0);
        json_decref(p);
    }

    kit_check("GET", "/api/v1/contributors/u0000000000000000", NULL, NULL, 404,
              "not_found", "anonymous");
    kit_check("GET", "/api/v1/contributors/%27%20OR%201%3D1", NULL, NULL, 404,
              "not_found", "anonymous");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hostile_q),
        cmocka_unit_test(test_huge_q),
        cmocka_unit_test(test_bad_parameters_422),
        cmocka_unit_test(test_unknown_colour_422),
        cmocka_unit_test(test_visibility_by_role),
        cmocka_unit_test(test_image_page),
        cmocka_unit_test(test_views_counted),
        cmocka_unit_test(test_contributor_profile),
    };

    return cmocka_run_group_tests_name("search_page", tests, sc_setup,
                                       sc_teardown);
}
