/* Stockroom — unit tests of the catalogue (db/catalog.h): images, the render
 * queue, review and near duplicates, each on a fresh database. Search and
 * lightboxes are in test_cat_search.c. */
#include "cat_fixture.h"

/* Images. */

static void
test_create_get_duplicate(void **state)
{
    struct fx *f = *state;
    struct cat_new_image in;
    struct cat_image *img = NULL;
    char sha[65], id[CAT_ID_LEN], again[CAT_ID_LEN] = "";

    new_image(f, &in, sha, f->alice.id, "Red bicycle", "By a wall",
              " Bicycle, RED ,red,  old   town ,,bicycle", 0);
    assert_int_equal(cat_image_create(f->db, &in, id, err), 0);
    assert_int_equal(id[0], 'i');
    assert_int_equal(strlen(id), 17);
    assert_int_equal(cat_image_get(f->db, id, &img, err), 0);
    assert_int_equal(img->status, DB_IMG_PROCESSING);
    assert_string_equal(img->title, "Red bicycle");
    assert_string_equal(img->keywords, "bicycle,red,old town");
    assert_string_equal(img->contributor_name, "Alice");
    assert_int_equal(img->width, 6000);
    assert_true(img->dhash == in.dhash[0]);
    assert_string_equal(img->thumb_etag, "");
    cat_image_free(img);

    assert_int_equal(cat_image_create(f->db, &in, again, err), DB_ECONFLICT);
    assert_string_equal(again, id);
    assert_int_equal(cat_image_get(f->db, "inope", &img, err), DB_ENOTFOUND);
}

static void
test_create_limits(void **state)
{
    struct fx *f = *state;
    struct cat_new_image in;
    char sha[65], id[CAT_ID_LEN], kw[2000] = "", title[300];

    for (int i = 0; i < 51; i++)
        snprintf(kw + strlen(kw), sizeof kw - strlen(kw), "k%d,", i);
    new_image(f, &in, sha, f->alice.id, "t", NULL, kw, 0);
    assert_int_equal(cat_image_create(f->db, &in, id, err), DB_EINVAL);
    memset(title, 'a', sizeof title - 1);
    title[sizeof title - 1] = '\0';
    new_image(f, &in, sha, f->alice.id, title, NULL, "a", 0);
    assert_int_equal(cat_image_create(f->db, &in, id, err), DB_EINVAL);
    new_image(f, &in, sha, "unobody", "t", NULL, "a", 0);
    assert_int_equal(cat_image_create(f->db, &in, id, err), DB_ENOTFOUND);
    new_image(f, &in, sha, f->alice.id, "t", NULL, "a", 0);
    in.format = "gif";
    assert_int_equal(cat_image_create(f->db, &in, id, err), DB_EINVAL);
}

static void
test_update_meta(void **state)
{
    struct fx *f = *state;
    struct cat_image *img = NULL;
    char id[CAT_ID_LEN];

    create(f, f->alice.id, "old", "d", "a", id);
    assert_int_equal(
        cat_image_update_meta(f->db, id, f->bob.id, "x", NULL, NULL, err),
        DB_ENOTFOUND);
    assert_int_equal(cat_image_update_meta(f->db, id, f->alice.id, "new", NULL,
                                           "B,b, c", err),
                     0);
    assert_int_equal(cat_image_get(f->db, id, &img, err), 0);
    assert_string_equal(img->title, "new");
    assert_string_equal(img->description, "d");
    assert_string_equal(img->keywords, "b,c");
    cat_image_free(img);
}

static void
test_visibility_rule(void **state)
{
    struct fx *f = *state;
    struct cat_image *img = NULL;
    char id[CAT_ID_LEN];

    create(f, f->alice.id, "t", NULL, "a", id);
    assert_int_equal(cat_image_get(f->db, id, &img, err), 0);
    assert_false(cat_image_is_visible(img, NULL, 0));
    assert_false(cat_image_is_visible(img, f->bob.id, 0));
    assert_true(cat_image_is_visible(img, f->alice.id, 0));
    assert_true(cat_image_is_visible(img, f->rev.id, 1));
    img->status = DB_IMG_APPROVED;
    assert_true(cat_image_is_visible(img, NULL, 0));
    cat_image_free(img);
}

/* Jobs. */

static void
test_job_lease_reclaim_reset(void **state)
{
    struct fx *f = *state;
    struct cat_job a, b;
    char id[CAT_ID_LEN];

    struct cat_new_image in;
    char sha[65];

    assert_int_equal(cat_job_claim(f->db, 1000, 60, &a, err), DB_ENOTFOUND);
    /* A new job is held until its files are stored and it is released;
     * start-up releases a hold the process that made it left behind. */
    new_image(f, &in, sha, f->alice.id, "t", NULL, "a", 0);
    assert_int_equal(cat_image_create(f->db, &in, id, err), 0);
    assert_int_equal(cat_job_claim(f->db, 1000, 60, &a, err), DB_ENOTFOUND);
    assert_int_equal(cat_jobs_reset(f->db, err), 1);
    assert_int_equal(cat_job_claim(f->db, 1000, 60, &a, err), 0);
    assert_string_equal(a.image_id, id);
    assert_string_equal(a.kind, "render");
    assert_int_equal(a.attempts, 1);
    /* Leased: nobody else gets it until the lease ends. */
    assert_int_equal(cat_job_claim(f->db, 1059, 60, &b, err), DB_ENOTFOUND);
    assert_int_equal(cat_job_claim(f->db, 1060, 60, &b, err), 0);
    assert_string_equal(b.id, a.id);
    assert_int_equal(b.attempts, 2);
    assert_string_not_equal(b.claim, a.claim);
    /* A restart hands running jobs back at once. */
    assert_int_equal(cat_jobs_reset(f->db, err), 1);
    assert_int_equal(cat_jobs_reset(f->db, err), 0);
    assert_int_equal(cat_job_claim(f->db, 1061, 60, &b, err), 0);
    assert_int_equal(b.attempts, 3);
    assert_int_equal(cat_job_done(f->db, b.id, "t", "p", 0, err), 0);
    assert_int_equal(cat_job_done(f->db, b.id, "t", "p", 0, err), DB_ECONFLICT);
    assert_int_equal(cat_job_done(f->db, "jnope", "t", "p", 0, err),
                     DB_ENOTFOUND);
    assert_int_equal(cat_job_claim(f->db, 5000, 60, &b, err), DB_ENOTFOUND);
}

static void
test_job_fail_until_max(void **state)
{
    struct fx *f = *state;
    struct cat_image *img = NULL;
    struct cat_job job;
    char id[CAT_ID_LEN];

    create(f, f->alice.id, "t", NULL, "a", id);
    for (int i = 1; i <= 3; i++) {
        assert_int_equal(cat_job_claim(f->db, 1000, 60, &job, err), 0);
        assert_int_equal(job.attempts, i);
        assert_int_equal(cat_job_fail(f->db, job.id, "decoder crashed", 3, err),
                         0);
        assert_int_equal(cat_image_get(f->db, id, &img, err), 0);
        assert_int_equal(img->status,
                         i < 3 ? DB_IMG_PROCESSING : DB_IMG_FAILED);
        cat_image_free(img);
    }
    assert_int_equal(cat_job_claim(f->db, 1000, 60, &job, err), DB_ENOTFOUND);
    assert_int_equal(cat_image_get(f->db, id, &img, err), 0);
    assert_string_equal(img->fail_reason, "decoder crashed");
    cat_image_free(img);
    assert_int_equal(cat_job_fail(f->db, job.id, "x", 3, err), DB_ECONFLICT);
}

/* Review. */

static void
test_review_flow(void **state)
{
    struct fx *f = *state;
    struct cat_image *img = NULL;
    char a[CAT_ID_LEN], b[CAT_ID_LEN];

    create(f, f->alice.id, "t", NULL, "a", a);
    /* Still processing: nothing to decide yet. */
    assert_int_equal(cat_review_decide(f->db, a, f->rev.id, 1, NULL, NULL, err),
                     DB_ECONFLICT);
    render_all(f);
    assert_int_equal(cat_image_get(f->db, a, &img, err), 0);
    assert_int_equal(img->status, DB_IMG_PENDING_REVIEW);
    assert_string_equal(img->thumb_etag, "t1");
    assert_string_equal(img->preview_etag, "p1");
    cat_image_free(img);
    approve(f, a);
    assert_int_equal(
        cat_review_decide(f->db, a, f->rev.id, 0, "other", "x", err),
        DB_ECONFLICT);
    assert_int_equal(cat_image_get(f->db, a, &img, err), 0);
    assert_int_equal(img->status, DB_IMG_APPROVED);
    assert_string_equal(img->reviewed_by, f->rev.id);
    assert_true(img->approved_at > 0);
    cat_image_free(img);

    create(f, f->alice.id, "t", NULL, "a", b);
    render_all(f);
    assert_int_equal(cat_review_decide(f->db, b, f->rev.id, 0, "keyword_spam",
                                       "Too many keywords.", err),
                     0);
    assert_int_equal(cat_image_get(f->db, b, &img, err), 0);
    assert_int_equal(img->status, DB_IMG_REJECTED);
    assert_string_equal(img->reject_code, "keyword_spam");
    assert_string_equal(img->reject_reason, "Too many keywords.");
    assert_int_equal(img->approved_at, 0);
    cat_image_free(img);
    assert_int_equal(
        cat_review_decide(f->db, "inope", f->rev.id, 1, NULL, NULL, err),
        DB_ENOTFOUND);
}

static void
test_queue_positions(void **state)
{
    struct fx *f = *state;
    struct cat_image_list l = {0};
    struct cat_image *img = NULL;
    char id[5][CAT_ID_LEN];

    for (int i = 0; i < 5; i++)
        create(f, i % 2 ? f->bob.id : f->alice.id, "t", NULL, "a", id[i]);
    render_all(f);
    assert_int_equal(cat_image_get(f->db, id[3], &img, err), 0);
    assert_int_equal(img->queue_position, 4);
    cat_image_free(img);
    approve(f, id[0]);
    /* Alice's: 0 (approved), 2, 4, newest first. */
    assert_int_equal(
        cat_images_of_contributor(f->db, f->alice.id, NULL, 2, &l, err), 0);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.items[0].id, id[4]);
    assert_int_equal(l.items[0].queue_position, 4);
    assert_int_equal(l.items[1].queue_position, 2);
    assert_string_not_equal(l.next_cursor, "");
    {
        char cur[CAT_CURSOR_LEN];

        snprintf(cur, sizeof cur, "%s", l.next_cursor);
        cat_image_list_release(&l);
        assert_int_equal(
            cat_images_of_contributor(f->db, f->alice.id, cur, 2, &l, err), 0);
    }
    assert_int_equal(l.n, 1);
    assert_string_equal(l.items[0].id, id[0]);
    assert_int_equal(l.items[0].status, DB_IMG_APPROVED);
    assert_int_equal(l.items[0].queue_position, 0);
    assert_string_equal(l.next_cursor, "");
    cat_image_list_release(&l);

    /* The queue: oldest first, paged. */
    assert_int_equal(cat_review_queue(f->db, NULL, 3, &l, err), 0);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.items[0].id, id[1]);
    assert_int_equal(l.items[0].queue_position, 1);
    assert_string_equal(l.items[2].id, id[3]);
    {
        char cur[CAT_CURSOR_LEN];

        snprintf(cur, sizeof cur, "%s", l.next_cursor);
        cat_image_list_release(&l);
        assert_int_equal(cat_review_queue(f->db, cur, 3, &l, err), 0);
        assert_int_equal(l.n, 1);
        assert_string_equal(l.items[0].id, id[4]);
        cat_image_list_release(&l);
        /* Someone else's cursor, or junk, is refused. */
        assert_int_equal(
            cat_images_of_contributor(f->db, f->alice.id, cur, 3, &l, err),
            DB_EINVAL);
        cat_image_list_release(&l);
        assert_int_equal(cat_review_queue(f->db, "zzz", 3, &l, err), DB_EINVAL);
        cat_image_list_release(&l);
    }
}

/* Near duplicates. */

/* h with the given bits flipped. */
static uint64_t
flip(uint64_t h, const int *bits, int n)
{
    for (int i = 0; i < n; i++)
        h ^= 1ULL << bits[i];
    return h;
}

static void
test_near_duplicates(void **state)
{
    struct fx *f = *state;
    /* Six bits spread over all four bands: no band matches exactly. */
    static const int six[] = {1, 9, 20, 30, 40, 60};
    static const int seven[] = {2, 10, 21, 31, 41, 51, 61};
    static const int dist[8] = {0, 1, 2, 3, 4, 5, 6, 6};
    struct cat_new_image in;
    struct cat_match *m = NULL;
    struct cat_image_list q = {0};
    char sha[65], base[CAT_ID_LEN], id[CAT_ID_LEN];
    uint64_t h = 0x0123456789abcdefULL;
    int n = 0;

    new_image(f, &in, sha, f->alice.id, "original", NULL, "a", h);
    assert_int_equal(cat_image_create(f->db, &in, base, err), 0);
    /* Copy 0 last: its upright hash is the original's and would match the
     * copies after it. */
    for (int v = 7; v >= 0; v--) {
        /* Bob's copy, turned: its variant v hashes like the original. */
        new_image(f, &in, sha, f->bob.id, "copy", NULL, "a", 0);
        in.dhash[v] = flip(h, six, dist[v]);
        assert_int_equal(cat_image_create(f->db, &in, id, err), 0);
        assert_int_equal(cat_image_matches(f->db, id, &m, &n, err), 0);
        assert_int_equal(n, 1);
        assert_string_equal(m[0].other_id, base);
        assert_int_equal(m[0].variant, v);
        assert_int_equal(m[0].distance, dist[v]);
        assert_int_equal(m[0].possible_theft, 1);
        assert_string_equal(m[0].other_title, "original");
        assert_int_equal(m[0].other_status, DB_IMG_PROCESSING);
        cat_matches_free(m);
        m = NULL;
    }
    /* Seen from the original: all eight, closest first, each with the
     * inverse transform (rotating back by 270 undoes a rotation by 90). */
    assert_int_equal(cat_image_matches(f->db, base, &m, &n, err), 0);
    assert_int_equal(n, 8);
    assert_int_equal(m[0].distance, 0);
    assert_int_equal(m[1].distance, 1);
    assert_int_equal(m[1].variant, 3);
    assert_int_equal(m[3].variant, 1);
    assert_int_equal(m[4].variant, 4);
    cat_matches_free(m);
    m = NULL;
    /* Alice's own re-edit: no theft of her original, but of Bob's copy 0
     * (which is the original's twin). */
    new_image(f, &in, sha, f->alice.id, "mine", NULL, "a", flip(h, six, 2));
    assert_int_equal(cat_image_create(f->db, &in, id, err), 0);
    assert_int_equal(cat_image_matches(f->db, id, &m, &n, err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(m[0].other_id, base);
    assert_int_equal(m[0].possible_theft, 0);
    assert_int_equal(m[1].possible_theft, 1);
    cat_matches_free(m);
    m = NULL;
    /* Seven bits away, or unrelated: nothing. */
    new_image(f, &in, sha, f->bob.id, "far", NULL, "a", flip(h, seven, 7));
    assert_int_equal(cat_image_create(f->db, &in, id, err), 0);
    assert_int_equal(cat_image_matches(f->db, id, &m, &n, err), 0);
    assert_int_equal(n, 0);
    cat_matches_free(m);
    m = NULL;
    assert_int_equal(cat_image_matches(f->db, "inope", &m, &n, err),
                     DB_ENOTFOUND);
    /* The reviewer sees the flags in the queue. */
    render_all(f);
    assert_int_equal(cat_review_queue(f->db, NULL, 100, &q, err), 0);
    assert_int_equal(q.n, 11);
    assert_string_equal(q.items[0].id, base);
    assert_int_equal(q.items[0].n_matches, 9);
    assert_int_equal(q.items[1].n_matches, 1);
    assert_true(q.items[1].matches[0].possible_theft);
    assert_int_equal(q.items[1].matches[0].other_status, DB_IMG_PENDING_REVIEW);
    assert_int_equal(q.items[10].n_matches, 0);
    cat_image_list_release(&q);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_get_duplicate, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_create_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_meta, setup, teardown),
        cmocka_unit_test_setup_teardown(test_visibility_rule, setup, teardown),
        cmocka_unit_test_setup_teardown(test_job_lease_reclaim_reset, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_job_fail_until_max, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_review_flow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_positions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_near_duplicates, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
