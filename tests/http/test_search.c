/* Stockroom — what a buyer finds: search ranking, stemming, prefixes and
 * phrases, every filter and sort, and cursor paging (also while images are
 * being approved), against the catalogue of searchcat.h. */
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

/* ---- text ------------------------------------------------------------- */

/* A keyword match outweighs a description match (keywords 4, description
 * 1), and relevance is the default order whenever there is text: newest
 * would put LANE (approved later) first. */
static void
test_ranking_keyword_beats_description(void **state)
{
    int both[] = {FLOWER, LANE};
    json_t *p, *rel, *newest;
    char buf[512];

    (void)state;
    p = sc_search("q=bicycle");
    sc_assert_exactly(sc_items(p), both, 2, "q=bicycle");
    {
        struct th_resp r;

        kit_call("GET", "/api/v1/images?q=bicycle", NULL, NULL, NULL, &r);
        tu_assert_security_headers(&r, "search");
        th_resp_free(&r);
    }
    if (sc_pos_of(sc_items(p), sc_imgs[FLOWER].id) >
        sc_pos_of(sc_items(p), sc_imgs[LANE].id))
        fail_msg("q=bicycle ranks the description match first: %s",
                 sc_names(sc_items(p), buf, sizeof buf));
    rel = sc_search("q=bicycle&sort=relevance");
    assert_true(json_equal(sc_items(p), sc_items(rel)));
    newest = sc_search("q=bicycle&sort=newest");
    sc_assert_exactly(sc_items(newest), both, 2, "q=bicycle&sort=newest");
    assert_string_equal(kit_jstr_or(json_array_get(sc_items(newest), 0), "id"),
                        sc_imgs[LANE].id);
    json_decref(p);
    json_decref(rel);
    json_decref(newest);
}

/* Words are stemmed: a plural or another form finds the word. */
static void
test_stemming(void **state)
{
    int bikes[] = {FLOWER, LANE};
    int cat[] = {CAT};
    json_t *p;

    (void)state;
    p = sc_search("q=bicycles");
    sc_assert_exactly(sc_items(p), bikes, 2, "q=bicycles");
    json_decref(p);
    p = sc_search("q=Bicycling");
    sc_assert_exactly(sc_items(p), bikes, 2, "q=Bicycling");
    json_decref(p);
    p = sc_search("q=cats");
    sc_assert_exactly(sc_items(p), cat, 1, "q=cats");
    json_decref(p);
}

/* The last word also matches as a prefix, as typed; an earlier word does
 * not (the user has finished typing it). */
static void
test_prefix_of_last_word(void **state)
{
    int bikes[] = {FLOWER, LANE};
    int flower[] = {FLOWER};
    int astro[] = {ASTRO};
    json_t *p;

    (void)state;
    p = sc_search("q=bicy");
    sc_assert_exactly(sc_items(p), bikes, 2, "q=bicy");
    json_decref(p);
    p = sc_search("q=garden+bicy");
    sc_assert_exactly(sc_items(p), flower, 1, "q=garden bicy");
    json_decref(p);
    p = sc_search("q=astron");
    sc_assert_exactly(sc_items(p), astro, 1, "q=astron");
    json_decref(p);
    p = sc_search("q=bicy+garden");
    sc_assert_exactly(sc_items(p), NULL, 0, "q=bicy garden (prefix not last)");
    json_decref(p);
}

/* A quoted phrase must appear as written; the same words unquoted need
 * only appear. */
static void
test_quoted_phrase(void **state)
{
    int lane[] = {LANE};
    json_t *p;

    (void)state;
    p = sc_search_q("\"leaning on a fence\"", NULL);
    sc_assert_exactly(sc_items(p), lane, 1, "phrase in order");
    json_decref(p);
    p = sc_search_q("fence leaning", NULL);
    sc_assert_exactly(sc_items(p), lane, 1, "words unquoted");
    json_decref(p);
    p = sc_search_q("\"fence leaning\"", NULL);
    sc_assert_exactly(sc_items(p), NULL, 0, "phrase out of order");
    json_decref(p);
}

/* ---- filters ---------------------------------------------------------- */

/* Every item satisfies pred; want[] are in, not[] are out. */
static void
check_filter(const char *query, int (*pred)(json_t *), const int *want,
             int nwant, const int * not, int nnot)
{
    json_t *p = sc_search(query), *it;
    size_t i;
    char buf[1024];

    json_array_foreach(sc_items(p), i, it)
    {
        if (!pred(it))
            fail_msg("%s lists '%s' (%lldx%lld, %s)", query,
                     kit_jstr_or(it, "title"),
                     json_integer_value(json_object_get(it, "width")),
                     json_integer_value(json_object_get(it, "height")),
                     kit_jstr_or(it, "colour"));
        if (sc_which(kit_jstr_or(it, "id")) < 0 ||
            !sc_imgs[sc_which(kit_jstr_or(it, "id"))].approved)
            fail_msg("%s lists '%s', which is not approved", query,
                     kit_jstr_or(it, "title"));
    }
    for (int k = 0; k < nwant; k++)
        if (sc_pos_of(sc_items(p), sc_imgs[want[k]].id) < 0)
            fail_msg("%s misses '%s': %s", query, sc_imgs[want[k]].title,
                     sc_names(sc_items(p), buf, sizeof buf));
    for (int k = 0; k < nnot; k++)
        if (sc_pos_of(sc_items(p), sc_imgs[not [k]].id) >= 0)
            fail_msg("%s lists '%s'", query, sc_imgs[not [k]].title);
    json_decref(p);
}

static long long
W(json_t *it)
{
    return json_integer_value(json_object_get(it, "width"));
}

static long long
H(json_t *it)
{
    return json_integer_value(json_object_get(it, "height"));
}

static int
is_landscape(json_t *it)
{
    return W(it) > H(it);
}

static int
is_portrait(json_t *it)
{
    return H(it) > W(it);
}

/* Square within 2 % either way (docs/CATALOG.md). */
static int
is_square(json_t *it)
{
    long long d = W(it) > H(it) ? W(it) - H(it) : H(it) - W(it);

    return d * 50 <= (W(it) > H(it) ? W(it) : H(it));
}

static int
at_least_1mp(json_t *it)
{
    return W(it) * H(it) >= 1000000;
}

static int
any(json_t *it)
{
    (void)it;
    return 1;
}

static void
test_filter_orientation(void **state)
{
    int land[] = {FLOWER, LANE, WATER, ROCKET, CAT, HARBOUR};
    int port[] = {HOPPER, SAMPLE, COPY1};
    int sq[] = {ASTRO, CAMERA};
    int astro[] = {ASTRO};
    json_t *p;

    (void)state;
    check_filter("orientation=landscape&limit=100", is_landscape, land, 6, port,
                 3);
    check_filter("orientation=landscape&limit=100", is_landscape, land, 6, sq,
                 2);
    check_filter("orientation=portrait&limit=100", is_portrait, port, 3, land,
                 6);
    check_filter("orientation=portrait&limit=100", is_portrait, port, 3, sq, 2);
    check_filter("orientation=square&limit=100", is_square, sq, 2, land, 6);
    check_filter("orientation=square&limit=100", is_square, sq, 2, port, 3);
    /* A filter narrows a text search too: ROCKET also has "space". */
    p = sc_search("q=space&orientation=square");
    sc_assert_exactly(sc_items(p), astro, 1, "q=space&orientation=square");
    json_decref(p);
}

/* The orientation an image page states is the filter that finds it: the
 * three filters split the catalogue, and each image sits under the one its
 * page names. SQUAREISH (300 x 296) is where a strict w > h and the
 * filter's 2 % rule part ways. */
/* What an image's own JSON says, from its owner's list (the same JSON as
 * its page, without counting a view): key of the field for image k. */
static void
own_field(int k, const char *key, char *out, size_t len)
{
    json_t *mine =
        kit_want("GET", "/api/v1/me/images?limit=100",
                 sc_imgs[k].dora ? sc_dora : sc_carl, NULL, 200, NULL);
    json_t *it;
    size_t i;

    out[0] = '\0';
    json_array_foreach(json_object_get(mine, "items"), i,
                       it) if (!strcmp(kit_jstr_or(it, "id"), sc_imgs[k].id))
        snprintf(out, len, "%s", kit_jstr_or(it, key));
    json_decref(mine);
}

static void
test_orientation_page_agrees_with_filter(void **state)
{
    static const char *const orient[] = {"landscape", "portrait", "square"};
    int found[N_IMG] = {0};

    (void)state;
    for (int o = 0; o < 3; o++) {
        char query[64], said[32];
        json_t *p, *it;
        size_t i;

        snprintf(query, sizeof query, "orientation=%s&limit=100", orient[o]);
        p = sc_search(query);
        json_array_foreach(sc_items(p), i, it)
        {
            int k = sc_which(kit_jstr_or(it, "id"));

            assert_true(k >= 0);
            found[k]++;
            own_field(k, "orientation", said, sizeof said);
            if (strcmp(said, orient[o]) != 0)
                fail_msg("'%s' (%lldx%lld) is listed under orientation=%s "
                         "but its page says \"%s\"",
                         sc_imgs[k].title, W(it), H(it), orient[o], said);
        }
        json_decref(p);
    }
    for (int k = 0; k < N_IMG; k++)
        if (sc_imgs[k].approved && found[k] != 1)
            fail_msg("'%s' is under %d orientations", sc_imgs[k].title,
                     found[k]);
}

static void
test_filter_min_megapixels(void **state)
{
    int water[] = {WATER};
    int small[] = {FLOWER, ASTRO, CAT};

    (void)state;
    check_filter("min_megapixels=1&limit=100", at_least_1mp, water, 1, small,
                 3);
    /* 2560 x 1600 is exactly 4.096 MP: the minimum is inclusive. */
    check_filter("min_megapixels=4.096&limit=100", at_least_1mp, water, 1,
                 small, 3);
    check_filter("min_megapixels=4.1&limit=100", any, NULL, 0, water, 1);
    check_filter("min_megapixels=0&limit=100", any, small, 3, NULL, 0);
}

static const char *want_colour;

static int
has_colour(json_t *it)
{
    return !strcmp(kit_jstr_or(it, "colour"), want_colour);
}

/* Filter by the colour the store itself gave an image, read from its page,
 * and show that an image of another colour is left out. */
static void
test_filter_colour(void **state)
{
    static const int subjects[] = {ASTRO, CAMERA, WATER};
    json_t *all, *it;
    size_t i;

    (void)state;
    /* Every colour is one of the documented palette. */
    all = sc_search("limit=100");
    json_array_foreach(sc_items(all), i, it)
    {
        size_t c;

        for (c = 0; c < SC_N_PALETTE; c++)
            if (!strcmp(kit_jstr_or(it, "colour"), sc_palette[c]))
                break;
        if (c == SC_N_PALETTE)
            fail_msg("'%s' has colour \"%s\", not in the palette",
                     kit_jstr_or(it, "title"), kit_jstr_or(it, "colour"));
    }
    json_decref(all);
    for (size_t s = 0; s < sizeof subjects / sizeof subjects[0]; s++) {
        int k = subjects[s], other = -1;
        char path[128], query[160], colour[64];
        json_t *j = NULL;

        snprintf(path, sizeof path, "/api/v1/images/%s", sc_imgs[k].id);
        j = kit_want("GET", path, NULL, NULL, 200, NULL);
        snprintf(colour, sizeof colour, "%s", kit_jstr_or(j, "colour"));
        json_decref(j);
        if (!colour[0])
            fail_msg("'%s' has no colour", sc_imgs[k].title);
        all = sc_search("limit=100");
        json_array_foreach(sc_items(all), i, it)
        {
            if (strcmp(kit_jstr_or(it, "colour"), colour) != 0)
                other = sc_which(kit_jstr_or(it, "id"));
            /* The listing says the same colour as the page. */
            if (!strcmp(kit_jstr_or(it, "id"), sc_imgs[k].id))
                assert_string_equal(kit_jstr_or(it, "colour"), colour);
        }
        json_decref(all);
        want_colour = colour;
        snprintf(query, sizeof query, "colour=%s&limit=100", colour);
        check_filter(query, has_colour, &k, 1, other >= 0 ? &other : NULL,
                     other >= 0);
    }
    /* Two images that differ: the colour filter must be able to tell. */
    {
        char a[64], b[64], path[128];
        json_t *j;

        snprintf(path, sizeof path, "/api/v1/images/%s", sc_imgs[CAMERA].id);
        j = kit_want("GET", path, NULL, NULL, 200, NULL);
        snprintf(a, sizeof a, "%s", kit_jstr_or(j, "colour"));
        json_decref(j);
        snprintf(path, sizeof path, "/api/v1/images/%s", sc_imgs[WATER].id);
        j = kit_want("GET", path, NULL, NULL, 200, NULL);
        snprintf(b, sizeof b, "%s", kit_jstr_or(j, "colour"));
        json_decref(j);
        if (!strcmp(a, b))
            fail_msg("a grey cameraman and a lake at dusk are both '%s'", a);
    }
}

static void
test_filter_contributor(void **state)
{
    int harbour[] = {HARBOUR};
    char query[160];
    json_t *p, *it;
    size_t i;

    (void)state;
    snprintf(query, sizeof query, "contributor=%s", sc_dora_id);
    p = sc_search(query);
    sc_assert_exactly(sc_items(p), harbour, 1, "contributor=dora");
    json_decref(p);
    snprintf(query, sizeof query, "contributor=%s&limit=100", sc_carl_id);
    p = sc_search(query);
    assert_int_equal(sc_pos_of(sc_items(p), sc_imgs[HARBOUR].id), -1);
    assert_true(sc_pos_of(sc_items(p), sc_imgs[FLOWER].id) >= 0);
    json_array_foreach(sc_items(p), i, it)
    {
        assert_string_equal(
            kit_jstr_or(json_object_get(it, "contributor"), "id"), sc_carl_id);
        assert_string_equal(
            kit_jstr_or(json_object_get(it, "contributor"), "name"), "carl");
    }
    json_decref(p);
    snprintf(query, sizeof query, "contributor=%s&q=photo", sc_dora_id);
    p = sc_search(query);
    sc_assert_exactly(sc_items(p), harbour, 1, "contributor=dora&q=photo");
    json_decref(p);
    p = sc_search("contributor=u0000000000000000");
    assert_int_equal(json_array_size(sc_items(p)), 0);
    json_decref(p);
}

/* ---- sorts ------------------------------------------------------------ */

/* Without text the default is newest approved first: the reverse of the
 * order of approval (and of upload, for ties within a second). sort=
 * relevance without text is the same. */
static void
test_sort_newest_default_without_q(void **state)
{
    const char *queries[] = {"limit=100", "sort=newest&limit=100",
                             "sort=relevance&limit=100", "q=&limit=100"};

    (void)state;
    for (size_t q = 0; q < sizeof queries / sizeof queries[0]; q++) {
        json_t *p = sc_search(queries[q]);
        int last = -1;
        char buf[2048];

        for (int k = N_IMG - 1; k >= 0; k--) {
            int at;

            if (!sc_imgs[k].approved || sc_imgs[k].fate != APPROVE)
                continue;
            at = sc_pos_of(sc_items(p), sc_imgs[k].id);
            if (at < 0 || at < last)
                fail_msg("%s: '%s' at %d after %d: %s", queries[q],
                         sc_imgs[k].title, at, last,
                         sc_names(sc_items(p), buf, sizeof buf));
            last = at;
        }
        assert_int_equal((int)json_array_size(sc_items(p)), sc_n_approved());
        json_decref(p);
    }
}

/* Popular is licences sold: a buyer licenses CAT (neither the newest nor
 * the last upload), which must then sort first, with or without text. */
static void
test_sort_popular(void **state)
{
    char path[128];
    struct th_resp r;
    json_t *p, *it, *j;
    size_t i;

    (void)state;
    kit_buy(sc_buyer, "10", NULL);
    kit_licence(sc_buyer, sc_imgs[CAT].id, "XL", "standard", &r);
    kit_expect(&r, 201, NULL, "licence");
    th_resp_free(&r);

    p = sc_search("sort=popular&limit=100");
    assert_string_equal(kit_jstr_or(json_array_get(sc_items(p), 0), "id"),
                        sc_imgs[CAT].id);
    json_array_foreach(sc_items(p), i, it) assert_int_equal(
        json_integer_value(json_object_get(it, "licences_sold")),
        i == 0 ? 1 : 0);
    assert_int_equal((int)json_array_size(sc_items(p)), sc_n_approved());
    json_decref(p);
    p = sc_search("q=photo&sort=popular&limit=100");
    assert_string_equal(kit_jstr_or(json_array_get(sc_items(p), 0), "id"),
                        sc_imgs[CAT].id);
    json_decref(p);
    /* Without the sale CAT would not be first: ties go newest first. */
    p = sc_search("q=photo&sort=newest&limit=100");
    assert_string_not_equal(kit_jstr_or(json_array_get(sc_items(p), 0), "id"),
                            sc_imgs[CAT].id);
    json_decref(p);
    snprintf(path, sizeof path, "/api/v1/images/%s", sc_imgs[CAT].id);
    j = kit_want("GET", path, NULL, NULL, 200, NULL);
    assert_int_equal(json_integer_value(json_object_get(j, "licences_sold")),
                     1);
    json_decref(j);
}

/* ---- paging ----------------------------------------------------------- */

/* Pages of 2 give exactly the one page of 100, in the same order. */
static void
test_cursor_paging(void **state)
{
    static const char *const queries[] = {
        "",
        "sort=newest",
        "sort=popular",
        "q=photo",
        "q=photo&sort=newest",
        "q=photo&sort=popular",
        "orientation=landscape",
        "q=hat",
        "q=photo&orientation=landscape",
        "q=photo&min_megapixels=0.2",
        "q=phot",
        "sort=popular&orientation=portrait",
    };

    (void)state;
    for (size_t q = 0; q < sizeof queries / sizeof queries[0]; q++) {
        char seen[SC_MAX_SEEN][64], one[2400];
        int n = sc_walk(queries[q], seen, NULL);
        json_t *all;

        snprintf(one, sizeof one, "%s%slimit=100", queries[q],
                 *queries[q] ? "&" : "");
        all = sc_search(one);
        if ((int)json_array_size(sc_items(all)) != n)
            fail_msg("%s: %d items in pages of 2, %zu in one page", queries[q],
                     n, json_array_size(sc_items(all)));
        for (int i = 0; i < n; i++)
            if (strcmp(
                    kit_jstr_or(json_array_get(sc_items(all), (size_t)i), "id"),
                    seen[i]) != 0)
                fail_msg("%s: item %d differs between pages of 2 and 100",
                         queries[q], i);
        /* Enough items to have made several pages. */
        assert_true(n >= 3);
        assert_true(json_is_null(json_object_get(all, "next_cursor")));
        json_decref(all);
    }
}

static int late_next;

static void
approve_one_late(int page)
{
    (void)page;
    while (late_next < N_IMG && sc_imgs[late_next].fate != LATE)
        late_next++;
    if (late_next < N_IMG)
        sc_approve(late_next++);
}

/* Newest pages stay exact while images are approved between page fetches:
 * everything that was listed before is seen exactly once, in the same
 * order, and nothing twice. */
static void
test_paging_newest_while_approving(void **state)
{
    char seen[SC_MAX_SEEN][64];
    json_t *before;
    int n, last = -1;
    size_t i;
    json_t *it;

    (void)state;
    before = sc_search("limit=100");
    late_next = 0;
    n = sc_walk("", seen, approve_one_late);
    assert_int_equal(late_next, N_IMG); /* all three were approved */
    json_array_foreach(sc_items(before), i, it)
    {
        int at = -1;

        for (int s = 0; s < n; s++)
            if (!strcmp(seen[s], kit_jstr_or(it, "id")))
                at = s;
        if (at < 0)
            fail_msg("'%s' was skipped while images were approved",
                     kit_jstr_or(it, "title"));
        if (at < last)
            fail_msg("'%s' moved back across the cursor",
                     kit_jstr_or(it, "title"));
        last = at;
    }
    for (int s = 0; s < n; s++) {
        int k = sc_which(seen[s]);

        if (sc_pos_of(sc_items(before), seen[s]) < 0 &&
            (k < 0 || sc_imgs[k].fate != LATE))
            fail_msg("paging listed %s, which was neither listed before nor"
                     " approved since",
                     seen[s]);
    }
    json_decref(before);
    /* And now they are all there. */
    before = sc_search("limit=100");
    assert_int_equal((int)json_array_size(sc_items(before)), sc_n_approved());
    for (int k = 0; k < N_IMG; k++)
        if (sc_imgs[k].fate == LATE)
            assert_true(sc_pos_of(sc_items(before), sc_imgs[k].id) >= 0);
    json_decref(before);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ranking_keyword_beats_description),
        cmocka_unit_test(test_stemming),
        cmocka_unit_test(test_prefix_of_last_word),
        cmocka_unit_test(test_quoted_phrase),
        cmocka_unit_test(test_filter_orientation),
        cmocka_unit_test(test_orientation_page_agrees_with_filter),
        cmocka_unit_test(test_filter_min_megapixels),
        cmocka_unit_test(test_filter_colour),
        cmocka_unit_test(test_filter_contributor),
        cmocka_unit_test(test_sort_newest_default_without_q),
        cmocka_unit_test(test_sort_popular),
        cmocka_unit_test(test_cursor_paging),
        /* Last: it approves the late images. */
        cmocka_unit_test(test_paging_newest_while_approving),
    };

    return cmocka_run_group_tests_name("search", tests, sc_setup, sc_teardown);
}
