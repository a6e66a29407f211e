/* Stockroom — unit tests of the catalogue (db/catalog.h), each on a fresh
 * database in its own temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "accounts.h"
#include "catalog.h"
#include "dbint.h"

struct fx {
    char dir[64];
    char path[128];
    struct db *db;
    struct acc_user alice, bob, rev;
    uint64_t rng;
    int shas;
};

static char err[DB_ERR_LEN];

static uint64_t
rnd(struct fx *f)
{
    uint64_t z = (f->rng += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int
setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);

    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/test_catalog.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/db.sqlite", f->dir);
    assert_int_equal(db_open(f->path, &f->db, err), 0);
    assert_int_equal(acc_user_create(f->db, "alice@example.com", "Alice", "x",
                                     ACC_ROLE_CONTRIBUTOR, &f->alice, err),
                     0);
    assert_int_equal(acc_user_create(f->db, "bob@example.com", "Bob", "x",
                                     ACC_ROLE_CONTRIBUTOR, &f->bob, err),
                     0);
    assert_int_equal(acc_user_create(f->db, "rev@example.com", "Rev", "x",
                                     ACC_ROLE_REVIEWER, &f->rev, err),
                     0);
    f->rng = 42;
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fx *f = *state;
    char p[160];

    db_close(f->db);
    unlink(f->path);
    snprintf(p, sizeof p, "%s-wal", f->path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", f->path);
    unlink(p);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* A plausible upload: random hashes unless dhash0 is given (non-zero). */
static void
new_image(struct fx *f, struct cat_new_image *in, char sha[65],
          const char *owner, const char *title, const char *desc,
          const char *kw, uint64_t dhash0)
{
    memset(in, 0, sizeof *in);
    snprintf(sha, 65, "%064x", ++f->shas);
    in->contributor_id = owner;
    in->title = title;
    in->description = desc;
    in->keywords = kw;
    in->width = 6000;
    in->height = 4000;
    in->format = "jpeg";
    in->mime = "image/jpeg";
    in->file_size = 1234567;
    in->sha256 = sha;
    in->colour = "blue";
    for (int v = 0; v < 8; v++)
        in->dhash[v] = rnd(f);
    if (dhash0)
        in->dhash[0] = dhash0;
    in->watermark_seed = 7;
}

static void
create(struct fx *f, const char *owner, const char *title, const char *desc,
       const char *kw, char id[CAT_ID_LEN])
{
    struct cat_new_image in;
    char sha[65];

    new_image(f, &in, sha, owner, title, desc, kw, 0);
    assert_int_equal(cat_image_create(f->db, &in, id, err), 0);
    /* As the server does once the original is stored. */
    assert_int_equal(cat_job_release(f->db, id, err), 0);
}

/* Sales are counted by the ledger's triggers; here the count is set as
 * those would leave it. */
static void
set_sold(struct fx *f, const char *id, int n)
{
    sqlite3 *c = db_conn_get(f->db);
    char sql[128];

    snprintf(sql, sizeof sql,
             "UPDATE images SET licences_sold = %d"
             " WHERE id = '%s'",
             n, id);
    assert_int_equal(db_exec(c, sql, err), 0);
    db_conn_put(f->db, c);
}

/* Run every queued render job to done. */
static void
render_all(struct fx *f)
{
    struct cat_job job;

    /* Uploads made straight through cat_image_create are still held:
     * release them all, as the server does once their files are stored. */
    assert_true(cat_jobs_reset(f->db, err) >= 0);
    while (cat_job_claim(f->db, 1000, 60, &job, err) == 0)
        assert_int_equal(cat_job_done(f->db, job.id, "t1", "p1", err), 0);
}

static void
approve(struct fx *f, const char *id)
{
    assert_int_equal(
        cat_review_decide(f->db, id, f->rev.id, 1, NULL, NULL, err), 0);
}

/* Upload, render and approve; returns through id. */
static void
approved(struct fx *f, const char *owner, const char *title, const char *desc,
         const char *kw, char id[CAT_ID_LEN])
{
    create(f, owner, title, desc, kw, id);
    render_all(f);
    approve(f, id);
}

static int
search_n(struct fx *f, const char *text, struct cat_list *out)
{
    struct cat_query q = {.text = text};

    assert_int_equal(cat_search(f->db, &q, out, err), 0);
    return out->n;
}

static int
found(const struct cat_list *l, const char *id)
{
    for (int i = 0; i < l->n; i++) {
        if (strcmp(l->items[i].id, id) == 0)
            return 1;
    }
    return 0;
}

static void
sql(struct fx *f, const char *s)
{
    sqlite3 *c = db_conn_get(f->db);

    assert_int_equal(db_exec(c, s, err), 0);
    db_conn_put(f->db, c);
}

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
    assert_string_equal(img->status, "processing");
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
    snprintf(img->status, sizeof img->status, "approved");
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
    assert_int_equal(cat_job_done(f->db, b.id, "t", "p", err), 0);
    assert_int_equal(cat_job_done(f->db, b.id, "t", "p", err), DB_ECONFLICT);
    assert_int_equal(cat_job_done(f->db, "jnope", "t", "p", err), DB_ENOTFOUND);
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
        assert_string_equal(img->status, i < 3 ? "processing" : "failed");
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
    assert_string_equal(img->status, "pending_review");
    assert_string_equal(img->thumb_etag, "t1");
    assert_string_equal(img->preview_etag, "p1");
    cat_image_free(img);
    approve(f, a);
    assert_int_equal(
        cat_review_decide(f->db, a, f->rev.id, 0, "other", "x", err),
        DB_ECONFLICT);
    assert_int_equal(cat_image_get(f->db, a, &img, err), 0);
    assert_string_equal(img->status, "approved");
    assert_string_equal(img->reviewed_by, f->rev.id);
    assert_true(img->approved_at > 0);
    cat_image_free(img);

    create(f, f->alice.id, "t", NULL, "a", b);
    render_all(f);
    assert_int_equal(cat_review_decide(f->db, b, f->rev.id, 0, "keyword_spam",
                                       "Too many keywords.", err),
                     0);
    assert_int_equal(cat_image_get(f->db, b, &img, err), 0);
    assert_string_equal(img->status, "rejected");
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
    assert_string_equal(l.items[0].status, "approved");
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
        assert_string_equal(m[0].other_status, "processing");
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
    assert_string_equal(q.items[1].matches[0].other_status, "pending_review");
    assert_int_equal(q.items[10].n_matches, 0);
    cat_image_list_release(&q);
}

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
