/* Stockroom — searches with no text (db/cat_browse.c): every combination of
 * filters and sorts pages through the same images, in the same order, as
 * a plain filtered query would, and every statement it runs walks an
 * index: EXPLAIN QUERY PLAN shows no scan of the images table, no scan of
 * an index that is not covering, and no sort of an unbounded set. */
#include "cat_fixture.h"

#define N_IMAGES 60
#define MAX_SQL 16

static struct {
    char sql[MAX_SQL][2048];
    int n;
    int off; /* the test's own reference queries are not looked at */
} seen_sql;

/* Every statement the connections start, by its text with parameters. */
static int
on_stmt(unsigned type, void *ctx, void *p, void *x)
{
    const char *s = sqlite3_sql((sqlite3_stmt *)p);

    (void)type;
    (void)ctx;
    (void)x;
    if (!seen_sql.off && s && strstr(s, "images") && !strstr(s, "EXPLAIN")) {
        for (int i = 0; i < seen_sql.n; i++) {
            if (!strcmp(seen_sql.sql[i], s))
                return 0;
        }
        if (seen_sql.n < MAX_SQL)
            snprintf(seen_sql.sql[seen_sql.n++], sizeof seen_sql.sql[0], "%s",
                     s);
    }
    return 0;
}

/* Single-threaded, every borrow gets the pool's first free connection,
 * the same one each time: tracing it sees every statement. */
static void
trace_all(struct fx *f)
{
    sqlite3 *c = db_conn_get(f->db);

    sqlite3_trace_v2(c, SQLITE_TRACE_STMT, on_stmt, NULL);
    db_conn_put(f->db, c);
}

/* Fail unless every statement seen so far walks an index. */
static void
check_plans(struct fx *f, const char *what)
{
    sqlite3 *c = db_conn_get(f->db);

    for (int i = 0; i < seen_sql.n; i++) {
        char eqp[2100];
        sqlite3_stmt *st = NULL;
        int bounded_sort = 0, sorts = 0;

        snprintf(eqp, sizeof eqp, "EXPLAIN QUERY PLAN %s", seen_sql.sql[i]);
        assert_int_equal(sqlite3_prepare_v2(c, eqp, -1, &st, NULL), SQLITE_OK);
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *d = (const char *)sqlite3_column_text(st, 3);

            /* A scan of a subquery's few rows is no scan of a table. */
            if (!strncmp(d, "SCAN ", 5) && strncmp(d, "SCAN (", 6) &&
                !strstr(d, "COVERING INDEX"))
                fail_msg("%s: '%s' in the plan of %s", what, d,
                         seen_sql.sql[i]);
            /* Only the images of a rare size are read whole and sorted:
             * at most PIXELS_FEW of them. */
            bounded_sort |= strstr(d, "images_pixels") != NULL;
            sorts += strstr(d, "TEMP B-TREE") != NULL;
        }
        sqlite3_finalize(st);
        if (sorts && !bounded_sort)
            fail_msg("%s: an unbounded sort in the plan of %s", what,
                     seen_sql.sql[i]);
    }
    db_conn_put(f->db, c);
}

/* The ids q finds, page after page of 7, into ids; returns how many. */
static int
page_ids(struct fx *f, struct cat_query *q, char ids[][CAT_ID_LEN])
{
    char cur[CAT_CURSOR_LEN] = "";
    int n = 0;

    q->limit = 7;
    do {
        struct cat_list l = {0};

        q->cursor = cur;
        assert_int_equal(cat_search(f->db, q, &l, err), 0);
        for (int i = 0; i < l.n; i++) {
            assert_true(n < N_IMAGES);
            snprintf(ids[n++], CAT_ID_LEN, "%s", l.items[i].id);
        }
        snprintf(cur, sizeof cur, "%s", l.next_cursor);
        cat_list_release(&l);
    } while (cur[0]);
    return n;
}

/* The same through one plain query. */
static int
plain_ids(struct fx *f, const struct cat_query *q, char ids[][CAT_ID_LEN])
{
    static const char *const orient[] = {
        "landscape", "width > height AND (width - height) * 50 > width",
        "portrait",  "height > width AND (height - width) * 50 > height",
        "square",    "abs(width - height) * 50 <= max(width, height)"};
    char where[512] = "status = 'approved'", sql[1024];
    sqlite3 *c = db_conn_get(f->db);
    sqlite3_stmt *st = NULL;
    int n = 0;

    seen_sql.off = 1;
    for (int k = 0; q->orientation && k < 6; k += 2) {
        if (!strcmp(q->orientation, orient[k]))
            snprintf(where + strlen(where), sizeof where - strlen(where),
                     " AND %s", orient[k + 1]);
    }
    if (q->colour)
        snprintf(where + strlen(where), sizeof where - strlen(where),
                 " AND colour = '%s'", q->colour);
    if (q->contributor_id)
        snprintf(where + strlen(where), sizeof where - strlen(where),
                 " AND contributor_id = '%s'", q->contributor_id);
    if (q->min_megapixels > 0)
        snprintf(where + strlen(where), sizeof where - strlen(where),
                 " AND width * height >= %lld",
                 (long long)(q->min_megapixels * 1e6 + 0.5));
    snprintf(sql, sizeof sql, "SELECT id FROM images WHERE %s ORDER BY %s",
             where,
             q->sort == CAT_SORT_POPULAR ? "licences_sold DESC, seq DESC"
                                         : "approved_at DESC, seq DESC");
    assert_int_equal(sqlite3_prepare_v2(c, sql, -1, &st, NULL), SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW)
        snprintf(ids[n++], CAT_ID_LEN, "%s", sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    db_conn_put(f->db, c);
    seen_sql.off = 0;
    return n;
}

static void
test_browse_every_filter(void **state)
{
    struct fx *f = *state;
    static const int dims[6][2] = {{6000, 4000}, {4000, 6000}, {3000, 3000},
                                   {8256, 5504}, {2000, 1500}, {5000, 5050}};
    static const char *const colours[3] = {"green", "blue", "red"};
    static const char *const orients[4] = {NULL, "landscape", "portrait",
                                           "square"};
    static const double mps[3] = {0, 20, 40};
    static const enum cat_sort sorts[3] = {CAT_SORT_DEFAULT, CAT_SORT_NEWEST,
                                           CAT_SORT_POPULAR};
    char got[N_IMAGES][CAT_ID_LEN], want[N_IMAGES][CAT_ID_LEN];
    char id[CAT_ID_LEN];
    int runs = 0;

    for (int i = 0; i < N_IMAGES; i++) {
        struct cat_new_image in;
        char sha[65], q[256];

        new_image(f, &in, sha, i % 4 ? f->alice.id : f->bob.id, "Photo", NULL,
                  "photo", 0);
        in.width = dims[i % 6][0];
        in.height = dims[i % 6][1];
        in.colour = colours[i % 3 == 2 ? 2 : i % 7 % 2];
        assert_int_equal(cat_image_create(f->db, &in, id, err), 0);
        render_all(f);
        approve(f, id);
        set_sold(f, id, i % 5);
        /* Several approvals in one second: ties on the sort key. */
        snprintf(q, sizeof q,
                 "UPDATE images SET approved_at = 1000 + %d WHERE id = '%s'",
                 i / 3, id);
        sql(f, q);
    }
    trace_all(f);
    for (int o = 0; o < 4; o++)
        for (int col = 0; col < 2; col++)
            for (int who = 0; who < 2; who++)
                for (int m = 0; m < 3; m++)
                    for (int s = 0; s < 3; s++) {
                        struct cat_query q = {.orientation = orients[o],
                                              .colour = col ? "green" : NULL,
                                              .contributor_id =
                                                  who ? f->bob.id : NULL,
                                              .min_megapixels = mps[m],
                                              .sort = sorts[s]};
                        int n = page_ids(f, &q, got);

                        assert_int_equal(n, plain_ids(f, &q, want));
                        for (int k = 0; k < n; k++)
                            assert_string_equal(got[k], want[k]);
                        runs++;
                    }
    assert_int_equal(runs, 144);
    assert_true(seen_sql.n > 0);
    check_plans(f, "filter-only search");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_browse_every_filter, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
