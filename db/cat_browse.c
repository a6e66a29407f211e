/* Stockroom — browsing: searches with filters and a sort but no text,
 * walked along an index in the sort's own order, so that no combination
 * of filters makes a page read the whole catalogue. */
#include <stdio.h>
#include <string.h>

#include "catint.h"

#define SCAN_BUDGET                                                            \
    8000 /* index entries one page may examine; then it                        \
             ends early, with a cursor to go on from */
#define PIXELS_FEW                                                             \
    2000 /* at most this many images of min_megapixels are                     \
            read through their own index and sorted */

/* The indexes a browse walks: covering for the filters that are left to
 * check, each in (equality, sort key, seq) order so that the keyset
 * cursor is a range of the index. status comes last although the index
 * is partial on it: SQLite 3.40 only takes an index as covering when it
 * holds every column the query names. Replaces the narrower sort indexes
 * of the catalogue's first schema. */
const char db_schema_catalog_browse[] =
    "DROP INDEX images_newest;"
    "DROP INDEX images_popular;"
    "DROP INDEX images_colour;"
    "DROP INDEX images_colour_popular;"
    "CREATE INDEX images_newest_f ON images(approved_at, seq, width, height,"
    "  colour, status) WHERE status = 'approved';"
    "CREATE INDEX images_popular_f ON images(licences_sold, seq, width,"
    "  height, colour, status) WHERE status = 'approved';"
    "CREATE INDEX images_colour_f ON images(colour, approved_at, seq, width,"
    "  height, status) WHERE status = 'approved';"
    "CREATE INDEX images_colour_popular_f ON images(colour, licences_sold,"
    "  seq, width, height, status) WHERE status = 'approved';"
    "CREATE INDEX images_by_newest ON images(contributor_id, approved_at,"
    "  seq, width, height, colour, status) WHERE status = 'approved';"
    "CREATE INDEX images_by_popular ON images(contributor_id, licences_sold,"
    "  seq, width, height, colour, status) WHERE status = 'approved';"
    "CREATE INDEX images_pixels ON images(width * height, approved_at,"
    "  licences_sold, width, height, colour, status) WHERE status = "
    "'approved';";

/* Orientation: "square" within 2 % either way, so 6000x5950 is square. */
const char *
cat__orientation_sql(const char *name)
{
    static const char *const orient[3][2] = {
        {"landscape", " AND i.width > i.height"
                      " AND (i.width - i.height) * 50 > i.width"},
        {"portrait", " AND i.height > i.width"
                     " AND (i.height - i.width) * 50 > i.height"},
        {"square", " AND abs(i.width - i.height) * 50 <="
                   " max(i.width, i.height)"},
    };

    for (int k = 0; k < 3; k++) {
        if (!strcmp(name, orient[k][0]))
            return orient[k][1];
    }
    return NULL;
}

enum driver { BY_SORT, BY_COLOUR, BY_CONTRIBUTOR, BY_PIXELS };

/* Few enough images of min_megapixels to read them all? Counted through
 * images_pixels, and never past PIXELS_FEW. */
static int
pixels_few(sqlite3 *c, int64_t pixels, int *few, char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(c,
                        "SELECT count(*) FROM (SELECT 1 FROM images i"
                        " INDEXED BY images_pixels WHERE i.status = 'approved'"
                        " AND i.width * i.height >= ?1 LIMIT ?2)",
                        &st, err);

    if (rc != DB_OK)
        return rc;
    sqlite3_bind_int64(st, 1, pixels);
    sqlite3_bind_int(st, 2, PIXELS_FEW);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *few = sqlite3_column_int(st, 0) < PIXELS_FEW;
        rc = DB_OK;
    } else {
        rc = db_fail(c, rc, "browse", err);
    }
    sqlite3_finalize(st);
    return rc;
}

/* The walk's statement into sql: seq, the sort key and whether the row
 * passes the filters the index does not select on. The contributor, then
 * a rare size, then the colour choose the index; without one the sort's
 * own. */
static void
scan_sql(const struct cat_query *q, enum driver d, int popular, int cursor,
         char *sql, size_t len)
{
    static const char *const idx[4][2] = {
        {"images_newest_f", "images_popular_f"},
        {"images_colour_f", "images_colour_popular_f"},
        {"images_by_newest", "images_by_popular"},
        {"images_pixels", "images_pixels"},
    };
    const char *key = popular ? "i.licences_sold" : "i.approved_at";
    const char *orient = q->orientation && *q->orientation
                             ? cat__orientation_sql(q->orientation)
                             : NULL;
    int colour = q->colour && *q->colour;

    snprintf(sql, len,
             "SELECT i.seq, %s, (1%s%s%s%s) FROM images i INDEXED BY %s"
             " WHERE i.status = 'approved'%s%s ORDER BY %s DESC, i.seq DESC",
             key, orient ? orient : "",
             colour && d != BY_COLOUR ? " AND i.colour = :colour" : "",
             q->min_megapixels > 0 && d != BY_PIXELS
                 ? " AND i.width * i.height >= :pixels"
                 : "",
             /* Rare and not in the indexes: read from the row, within the
              * same bounded walk. */
             q->editorial == CAT_EDITORIAL_ONLY   ? " AND i.editorial = 1"
             : q->editorial == CAT_EDITORIAL_NONE ? " AND i.editorial = 0"
                                                  : "",
             idx[d][popular],
             d == BY_COLOUR        ? " AND i.colour = :colour"
             : d == BY_CONTRIBUTOR ? " AND i.contributor_id = :contributor"
             : d == BY_PIXELS      ? " AND i.width * i.height >= :pixels"
                                   : "",
             cursor ? (popular ? " AND (i.licences_sold, i.seq) < (:key, :seq)"
                               : " AND (i.approved_at, i.seq) < (:key, :seq)")
                    : "",
             key);
}

static void
bind_text(sqlite3_stmt *st, const char *name, const char *v)
{
    int i = sqlite3_bind_parameter_index(st, name);

    if (i > 0)
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

static void
bind_int(sqlite3_stmt *st, const char *name, int64_t v)
{
    int i = sqlite3_bind_parameter_index(st, name);

    if (i > 0)
        sqlite3_bind_int64(st, i, v);
}

/* Read the items of seqs into out, in that order. */
static int
fetch(sqlite3 *c, const int64_t *seqs, int n, struct cat_list *out,
      char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(c,
                        "SELECT " CAT__ITEM_COLS " FROM images i"
                        " JOIN users u ON u.id = i.contributor_id"
                        " WHERE i.seq = ?1",
                        &st, err);

    for (int k = 0; k < n && rc == DB_OK; k++) {
        struct cat_item *it;

        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, seqs[k]);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE) {
            rc = DB_OK; /* gone since the walk: leave it out */
            continue;
        }
        if (rc != SQLITE_ROW) {
            rc = db_fail(c, rc, "browse", err);
            break;
        }
        it = cat__list_push(out);
        if (!it) {
            snprintf(err, DB_ERR_LEN, "out of memory");
            rc = DB_EGENERIC;
            break;
        }
        cat__item_row(st, it);
        rc = DB_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

int
cat__browse(struct db *db, const struct cat_query *q, int kind, int cursor,
            int64_t key, int64_t seq, int page, struct cat_list *out,
            char err[DB_ERR_LEN])
{
    int popular = kind == CAT__CUR_POPULAR, few = 0, n = 0, examined = 0;
    int64_t pixels = (int64_t)(q->min_megapixels * 1e6 + 0.5);
    int64_t seqs[CAT_LIST_MAX + 1], keys[CAT_LIST_MAX + 1];
    int64_t last_key = 0, last_seq = 0;
    enum driver d = BY_SORT;
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    char sql[1024];
    int rc = DB_OK, src = SQLITE_DONE;

    if (q->contributor_id && *q->contributor_id)
        d = BY_CONTRIBUTOR;
    else if (q->min_megapixels > 0 &&
             (rc = pixels_few(c, pixels, &few, err)) == DB_OK && few)
        d = BY_PIXELS;
    else if (q->colour && *q->colour)
        d = BY_COLOUR;
    if (rc != DB_OK)
        goto out;
    scan_sql(q, d, popular, cursor, sql, sizeof sql);
    rc = db_prepare(c, sql, &st, err);
    if (rc != DB_OK)
        goto out;
    bind_text(st, ":colour", q->colour);
    bind_text(st, ":contributor", q->contributor_id);
    bind_int(st, ":pixels", pixels);
    bind_int(st, ":key", key);
    bind_int(st, ":seq", seq);
    /* One row past the page says whether there is a next one. */
    while (n <= page && examined < SCAN_BUDGET &&
           (src = sqlite3_step(st)) == SQLITE_ROW) {
        examined++;
        last_seq = sqlite3_column_int64(st, 0);
        last_key = sqlite3_column_int64(st, 1);
        if (sqlite3_column_int(st, 2)) {
            seqs[n] = last_seq;
            keys[n++] = last_key;
        }
    }
    if (src != SQLITE_ROW && src != SQLITE_DONE) {
        rc = db_fail(c, src, "browse", err);
        goto out;
    }
    if (n > page) {
        n = page;
        cat__cursor_make(out->next_cursor, kind, keys[n - 1], seqs[n - 1]);
    } else if (src == SQLITE_ROW) {
        /* The budget ran out first: a short page, and the next one goes
         * on from the last entry examined. */
        cat__cursor_make(out->next_cursor, kind, last_key, last_seq);
    }
    rc = fetch(c, seqs, n, out, err);
out:
    sqlite3_finalize(st);
    db_conn_put(db, c);
    return rc;
}
