/* Stockroom — unit tests of the catalogue's search, views, sales, profiles,
 * similar images and lightboxes (db/catalog.h), each on a fresh database. */
#include "cat_fixture.h"

/* Search. */

static void
test_search_ranking_stemming_prefix_phrase(void **state)
{
    struct fx *f = *state;
    struct cat_list l = {0};
    char kw[CAT_ID_LEN], desc[CAT_ID_LEN], car[CAT_ID_LEN], rac[CAT_ID_LEN];

    approved(f, f->alice.id, "Morning street", "A bicycle leans on a lamp",
             "street,morning", desc);
    approved(f, f->alice.id, "Morning street", "Leaning on a lamp",
             "bicycle,street", kw);
    approved(f, f->bob.id, "A red car at night", "", "car", car);
    approved(f, f->bob.id, "Car, red paint", "", "car", rac);

    assert_int_equal(search_n(f, "bicycle", &l), 2);
    assert_string_equal(l.items[0].id, kw);
    assert_string_equal(l.items[1].id, desc);
    cat_list_release(&l);
    assert_int_equal(search_n(f, "bicycles", &l), 2);
    cat_list_release(&l);
    assert_int_equal(search_n(f, "Bicy", &l), 2);
    cat_list_release(&l);
    assert_int_equal(search_n(f, "street bicyc", &l), 2);
    cat_list_release(&l);
    /* A phrase keeps its word order. */
    assert_int_equal(search_n(f, "\"red car\"", &l), 1);
    assert_string_equal(l.items[0].id, car);
    cat_list_release(&l);
    assert_int_equal(search_n(f, "red car", &l), 2);
    cat_list_release(&l);
    assert_int_equal(search_n(f, "submarine", &l), 0);
    assert_string_equal(l.next_cursor, "");
    cat_list_release(&l);
    assert_int_equal(search_n(f, "", &l), 4);
    cat_list_release(&l);
}

static void
test_search_filters(void **state)
{
    struct fx *f = *state;
    struct cat_new_image in;
    struct cat_list l = {0};
    struct cat_query q = {.text = "tree"};
    char sha[65], id[4][CAT_ID_LEN];
    static const int dims[4][2] = {
        {6000, 4000}, {4000, 6000}, {3000, 2990}, {2000, 1000}};
    static const char *const colours[4] = {"green", "green", "blue", "red"};

    for (int i = 0; i < 4; i++) {
        new_image(f, &in, sha, i == 3 ? f->bob.id : f->alice.id, "Tree", NULL,
                  "tree", 0);
        in.width = dims[i][0];
        in.height = dims[i][1];
        in.colour = colours[i];
        assert_int_equal(cat_image_create(f->db, &in, id[i], err), 0);
        render_all(f);
        approve(f, id[i]);
    }
    q.orientation = "landscape";
    assert_int_equal(cat_search(f->db, &q, &l, err), 0);
    assert_int_equal(l.n, 2);
    assert_true(found(&l, id[0]) && found(&l, id[3]));
    cat_list_release(&l);
    q.orientation = "portrait";
    assert_int_equal(cat_search(f->db, &q, &l, err), 0);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.items[0].id, id[1]);
    cat_list_release(&l);
    q.orientation = "square";
    assert_int_equal(cat_search(f->db, &q, &l, err), 0);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.items[0].id, id[2]);
    cat_list_release(&l);
    q.orientation = "round";
    assert_int_equal(cat_search(f->db, &q, &l, err), DB_EINVAL);
    cat_list_release(&l);
    q.orientation = NULL;
    q.min_megapixels = 9;
    assert_int_equal(cat_search(f->db, &q, &l, err), 0);
    assert_int_equal(l.n, 2);
    cat_list_release(&l);
    q.min_megapixels = -1;
    assert_int_equal(cat_search(f->db, &q, &l, err), DB_EINVAL);
    cat_list_release(&l);
    q.min_megapixels = 0;
    q.colour = "green";
    assert_int_equal(cat_search(f->db, &q, &l, err), 0);
    assert_int_equal(l.n, 2);
    cat_list_release(&l);
    q.colour = NULL;
    q.contributor_id = f->bob.id;
    assert_int_equal(cat_search(f->db, &q, &l, err), 0);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.items[0].id, id[3]);
    assert_string_equal(l.items[0].contributor_name, "Bob");
    assert_string_equal(l.items[0].colour, "red");
    assert_string_equal(l.items[0].thumb_etag, "t1");
    cat_list_release(&l);
    /* The same filters without text. */
    q.text = NULL;
    q.contributor_id = NULL;
    q.colour = "green";
    q.orientation = "portrait";
    assert_int_equal(cat_search(f->db, &q, &l, err), 0);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.items[0].id, id[1]);
    cat_list_release(&l);
}

/* Page through q, calling between() after each page; every id once. */
static int
page_all(struct fx *f, struct cat_query *q, char seen[][CAT_ID_LEN], int max,
         void (*between)(struct fx *, int))
{
    char cur[CAT_CURSOR_LEN] = "";
    int n = 0, pages = 0;

    do {
        struct cat_list l = {0};

        q->cursor = cur;
        assert_int_equal(cat_search(f->db, q, &l, err), 0);
        for (int i = 0; i < l.n; i++) {
            for (int j = 0; j < n; j++)
                assert_string_not_equal(seen[j], l.items[i].id);
            assert_true(n < max);
            snprintf(seen[n++], CAT_ID_LEN, "%s", l.items[i].id);
        }
        snprintf(cur, sizeof cur, "%s", l.next_cursor);
        cat_list_release(&l);
        if (between)
            between(f, pages++);
    } while (cur[0]);
    return n;
}

static void
approve_one_more(struct fx *f, int page)
{
    char id[CAT_ID_LEN];

    (void)page;
    approved(f, f->bob.id, "Late arrival", NULL, "sunset,beach", id);
}

static void
test_search_sorts_and_paging(void **state)
{
    struct fx *f = *state;
    enum { N = 30 };
    struct cat_query q = {.limit = 7};
    struct cat_list l = {0};
    char id[N][CAT_ID_LEN], seen[2 * N][CAT_ID_LEN], cur[CAT_CURSOR_LEN];

    for (int i = 0; i < N; i++) {
        approved(f, f->alice.id, i % 3 ? "Sunset over the sea" : "Beach",
                 i % 2 ? "sunset" : "calm water", "sunset,beach", id[i]);
        set_sold(f, id[i], i % 4);
    }
    /* Popular: most sold first, ties newest first. */
    q.sort = CAT_SORT_POPULAR;
    assert_int_equal(cat_search(f->db, &q, &l, err), 0);
    assert_int_equal(l.items[0].licences_sold, 3);
    assert_string_equal(l.items[0].id, id[27]);
    cat_list_release(&l);
    q.sort = CAT_SORT_NEWEST;
    assert_int_equal(cat_search(f->db, &q, &l, err), 0);
    assert_string_equal(l.items[0].id, id[N - 1]);
    /* A cursor of one sort is refused by another. */
    snprintf(cur, sizeof cur, "%s", l.next_cursor);
    cat_list_release(&l);
    q.cursor = cur;
    q.sort = CAT_SORT_POPULAR;
    assert_int_equal(cat_search(f->db, &q, &l, err), DB_EINVAL);
    cat_list_release(&l);

    for (int s = 0; s < 3; s++) {
        static const enum cat_sort sorts[3] = {
            CAT_SORT_NEWEST, CAT_SORT_POPULAR, CAT_SORT_RELEVANCE};

        q.sort = sorts[s];
        q.text = s == 2 ? "sunset" : NULL;
        assert_int_equal(page_all(f, &q, seen, 2 * N, NULL), N);
        for (int i = 0; i < N; i++) {
            int hit = 0;

            for (int j = 0; j < N; j++)
                hit |= strcmp(seen[j], id[i]) == 0;
            assert_true(hit);
        }
    }
    /* New approvals between pages: no repeats, nobody skipped. */
    q.text = NULL;
    for (int s = 0; s < 2; s++) {
        int n;

        q.sort = s ? CAT_SORT_POPULAR : CAT_SORT_NEWEST;
        n = page_all(f, &q, seen, 2 * N, approve_one_more);
        for (int i = 0; i < N; i++) {
            int hit = 0;

            for (int j = 0; j < n; j++)
                hit |= strcmp(seen[j], id[i]) == 0;
            assert_true(hit);
        }
    }
}

static void
test_search_hostile_text(void **state)
{
    struct fx *f = *state;
    static const char *const hostile[] = {
        "\"",
        "\"\"",
        "\"\"\"",
        "sunset\"",
        "\"sunset",
        "a\"b\"c\"",
        "AND",
        "OR",
        "NOT",
        "sunset AND",
        "OR sunset",
        "NOT sunset",
        "sunset NOT beach",
        "sunset OR",
        "NEAR(",
        "NEAR(sunset beach",
        "NEAR(sunset beach, 2)",
        "sunset NEAR beach",
        "*",
        "sunset*",
        "**",
        "*sunset",
        "^",
        "^sunset",
        ":",
        "title:",
        "title:sunset",
        "keywords : beach",
        "{title keywords}:sunset",
        "-title:x",
        "(",
        ")",
        "(sunset",
        "sunset)",
        "((((",
        "+",
        "+sunset",
        "sunset + beach",
        "'; DROP TABLE images; --",
        "\"; DROP TABLE images; --",
        "1=1 OR 'a'='a'",
        "%",
        "_",
        "\\",
        "\\\"",
        "\xff",
        "\xc3",
        "\xc3(",
        "sun\xffset",
        "\xed\xa0\x80",
        "\xf4\x90\x80\x80",
        "\xe2\x82",
        "caf\xc3\xa9",
        "\xe2\x80\x94",
        "\"\xe2\x80\x94\"",
        "\xe2\x80\x94 sun",
        "rank:",
        "rowid",
        "image_fts",
        "MATCH",
        " ",
        "\t\n",
        ",,,",
        "a",
        "ab",
        "a b c d e f g h i j k l m n o p q r s t u v w x y z",
    };
    struct cat_list l = {0};
    struct cat_query q = {0};
    char big[10 * 1024 + 1], id[CAT_ID_LEN];

    approved(f, f->alice.id, "Sunset", "beach", "sunset,beach", id);
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
        q.text = hostile[i];
        for (int s = 0; s < 4; s++) {
            q.sort = (enum cat_sort)s;
            if (cat_search(f->db, &q, &l, err) != 0)
                fail_msg("\"%s\": %s", hostile[i], err);
            cat_list_release(&l);
        }
    }
    /* 10 KB of words, of quotes, of stray bytes. */
    for (int k = 0; k < 3; k++) {
        for (size_t i = 0; i < sizeof big - 1; i++)
            big[i] = k == 0   ? "sunset "[i % 7]
                     : k == 1 ? "\"*("[i % 3]
                              : (char)(i * 7 + 1);
        big[sizeof big - 1] = '\0';
        q.text = big;
        assert_int_equal(cat_search(f->db, &q, &l, err), 0);
        cat_list_release(&l);
    }
    /* The table is still there and still found. */
    assert_int_equal(search_n(f, "title:sunset", &l), 1);
    cat_list_release(&l);
    assert_int_equal(search_n(f, "sunset AND beach", &l), 1);
    cat_list_release(&l);
    assert_int_equal(search_n(f, "sun\xffset", &l), 0);
    cat_list_release(&l);
}

static void
test_search_sees_only_approved(void **state)
{
    struct fx *f = *state;
    struct cat_list l = {0};
    char a[CAT_ID_LEN], r[CAT_ID_LEN];

    create(f, f->alice.id, "Lighthouse", NULL, "lighthouse", a);
    create(f, f->alice.id, "Lighthouse", NULL, "lighthouse", r);
    assert_int_equal(search_n(f, "lighthouse", &l), 0);
    cat_list_release(&l);
    render_all(f);
    assert_int_equal(search_n(f, "lighthouse", &l), 0);
    cat_list_release(&l);
    approve(f, a);
    assert_int_equal(
        cat_review_decide(f->db, r, f->rev.id, 0, "other", "no", err), 0);
    assert_int_equal(search_n(f, "lighthouse", &l), 1);
    assert_string_equal(l.items[0].id, a);
    cat_list_release(&l);
    /* An edit of an approved image is searchable at once. */
    assert_int_equal(cat_image_update_meta(f->db, a, f->alice.id, "Beacon",
                                           NULL, "tower", err),
                     0);
    assert_int_equal(search_n(f, "lighthouse", &l), 0);
    cat_list_release(&l);
    assert_int_equal(search_n(f, "beacon", &l), 1);
    cat_list_release(&l);
    /* Taken down: gone from search. */
    sql(f, "UPDATE images SET status = 'rejected' WHERE status = 'approved'");
    assert_int_equal(search_n(f, "beacon", &l), 0);
    cat_list_release(&l);
    assert_int_equal(search_n(f, "", &l), 0);
    cat_list_release(&l);
    sql(f, "INSERT INTO image_fts(image_fts) VALUES ('integrity-check')");
}

static void
test_views_sales_profile_similar(void **state)
{
    struct fx *f = *state;
    struct cat_new_image in;
    struct cat_image *img = NULL;
    struct cat_profile p;
    struct cat_list l = {0};
    char sha[65], a[CAT_ID_LEN], b[CAT_ID_LEN], c[CAT_ID_LEN], d[CAT_ID_LEN];
    const char *ids[3];
    int counts[3] = {5, 2, 9};

    approved(f, f->alice.id, "Alpine lake", NULL, "lake,alps,water", a);
    approved(f, f->alice.id, "Alpine hut", NULL, "alps,hut", b);
    approved(f, f->bob.id, "City", NULL, "city", c);
    /* A near copy of a, by Bob, approved: similar comes first. */
    new_image(f, &in, sha, f->bob.id, "Copy", NULL, "copy", 0);
    assert_int_equal(cat_image_get(f->db, a, &img, err), 0);
    in.dhash[4] = img->dhash ^ 3;
    cat_image_free(img);
    assert_int_equal(cat_image_create(f->db, &in, d, err), 0);
    render_all(f);
    approve(f, d);

    ids[0] = a;
    ids[1] = b;
    ids[2] = "inope";
    assert_int_equal(cat_views_add(f->db, ids, counts, 3, err), 0);
    assert_int_equal(cat_views_add(f->db, ids, counts, 1, err), 0);
    assert_int_equal(cat_image_get(f->db, a, &img, err), 0);
    assert_int_equal(img->views, 10);
    cat_image_free(img);
    set_sold(f, b, 2);
    assert_int_equal(cat_contributor_profile(f->db, f->alice.id, &p, err), 0);
    assert_string_equal(p.name, "Alice");
    assert_int_equal(p.approved_images, 2);
    assert_int_equal(p.licences_sold, 2);
    assert_int_equal(cat_contributor_profile(f->db, "unope", &p, err),
                     DB_ENOTFOUND);

    assert_int_equal(cat_similar(f->db, a, 0, &l, err), 0);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.items[0].id, d);
    assert_string_equal(l.items[1].id, b);
    cat_list_release(&l);
    assert_int_equal(cat_similar(f->db, "inope", 0, &l, err), DB_ENOTFOUND);
    cat_list_release(&l);
}

/* Lightboxes. */

static void
test_lightboxes(void **state)
{
    struct fx *f = *state;
    struct cat_lightbox lb, *all = NULL;
    struct cat_list l = {0};
    char box[CAT_ID_LEN], img[CAT_ID_LEN], img2[CAT_ID_LEN], pend[CAT_ID_LEN];
    char tok[CAT_TOKEN_LEN], tok2[CAT_TOKEN_LEN];
    int n = 0;

    approved(f, f->alice.id, "Fox", NULL, "fox", img);
    approved(f, f->alice.id, "Owl", NULL, "owl", img2);
    create(f, f->alice.id, "Pending", NULL, "x", pend);
    assert_int_equal(cat_lightbox_create(f->db, f->bob.id, "", box, err),
                     DB_EINVAL);
    assert_int_equal(cat_lightbox_create(f->db, f->bob.id, "Animals", box, err),
                     0);
    assert_int_equal(box[0], 'l');
    assert_int_equal(cat_lightbox_add(f->db, box, f->bob.id, img, err), 0);
    assert_int_equal(cat_lightbox_add(f->db, box, f->bob.id, img, err), 0);
    assert_int_equal(cat_lightbox_add(f->db, box, f->bob.id, img2, err), 0);
    assert_int_equal(cat_lightbox_add(f->db, box, f->bob.id, pend, err),
                     DB_EINVAL);
    assert_int_equal(cat_lightbox_add(f->db, box, f->bob.id, "inope", err),
                     DB_ENOTFOUND);
    /* Alice is not the owner: every door looks like no lightbox at all. */
    assert_int_equal(cat_lightbox_add(f->db, box, f->alice.id, img, err),
                     DB_ENOTFOUND);
    assert_int_equal(cat_lightbox_remove(f->db, box, f->alice.id, img, err),
                     DB_ENOTFOUND);
    assert_int_equal(cat_lightbox_rename(f->db, box, f->alice.id, "Mine", err),
                     DB_ENOTFOUND);
    assert_int_equal(cat_lightbox_delete(f->db, box, f->alice.id, err),
                     DB_ENOTFOUND);
    assert_int_equal(cat_lightbox_share(f->db, box, f->alice.id, tok, err),
                     DB_ENOTFOUND);
    assert_int_equal(
        cat_lightbox_get(f->db, box, f->alice.id, NULL, NULL, 0, &lb, &l, err),
        DB_ENOTFOUND);
    cat_list_release(&l);
    assert_int_equal(
        cat_lightbox_get(f->db, box, NULL, "", NULL, 0, &lb, &l, err),
        DB_ENOTFOUND);
    cat_list_release(&l);

    assert_int_equal(
        cat_lightbox_rename(f->db, box, f->bob.id, "Wildlife", err), 0);
    assert_int_equal(
        cat_lightbox_get(f->db, box, f->bob.id, NULL, NULL, 1, &lb, &l, err),
        0);
    assert_string_equal(lb.name, "Wildlife");
    assert_int_equal(lb.item_count, 2);
    assert_string_equal(lb.share_token, "");
    assert_int_equal(l.n, 1);
    assert_string_not_equal(l.next_cursor, "");
    cat_list_release(&l);

    /* Shared: anyone with the token reads it, and only that token. */
    assert_int_equal(cat_lightbox_share(f->db, box, f->bob.id, tok, err), 0);
    assert_int_equal(strlen(tok), 32);
    assert_int_equal(
        cat_lightbox_get(f->db, box, f->alice.id, tok, NULL, 0, &lb, &l, err),
        0);
    assert_int_equal(l.n, 2);
    assert_string_equal(lb.share_token, "");
    cat_list_release(&l);
    assert_int_equal(cat_lightbox_share(f->db, box, f->bob.id, tok2, err), 0);
    assert_string_not_equal(tok, tok2);
    assert_int_equal(
        cat_lightbox_get(f->db, box, NULL, tok, NULL, 0, &lb, &l, err),
        DB_ENOTFOUND);
    cat_list_release(&l);
    assert_int_equal(cat_lightbox_unshare(f->db, box, f->bob.id, err), 0);
    assert_int_equal(
        cat_lightbox_get(f->db, box, NULL, tok2, NULL, 0, &lb, &l, err),
        DB_ENOTFOUND);
    cat_list_release(&l);

    /* A taken-down image drops out of listings; nothing breaks. */
    sql(f, "UPDATE images SET status = 'rejected' WHERE title = 'Owl'");
    assert_int_equal(cat_lightboxes_of(f->db, f->bob.id, &all, &n, err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(all[0].item_count, 1);
    assert_string_equal(all[0].cover_id, img);
    assert_string_equal(all[0].cover_thumb_etag, "t1");
    free(all);
    assert_int_equal(cat_lightbox_remove(f->db, box, f->bob.id, img, err), 0);
    assert_int_equal(
        cat_lightbox_get(f->db, box, f->bob.id, NULL, NULL, 0, &lb, &l, err),
        0);
    assert_int_equal(l.n, 0);
    assert_string_equal(lb.cover_id, "");
    cat_list_release(&l);
    assert_int_equal(cat_lightbox_delete(f->db, box, f->bob.id, err), 0);
    assert_int_equal(cat_lightboxes_of(f->db, f->bob.id, &all, &n, err), 0);
    assert_int_equal(n, 0);
    free(all);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_search_ranking_stemming_prefix_phrase, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search_sorts_and_paging, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_search_hostile_text, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_search_sees_only_approved, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_views_sales_profile_similar, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_lightboxes, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
