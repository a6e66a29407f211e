/* Stockroom — the near-duplicate index: finding the stored images whose
 * difference hash is close to an upload's, recording the matches both
 * ways, and reading them back. */
#include <stdio.h>
#include <stdlib.h>

#include "catint.h"

#define BAND_PROBE_MAX                                                         \
    2000 /* rows read per band probe: bounds the cost                          \
            of a degenerate hash (a blank sky) */

/* The inverse of each IMG_DHASH_* transform: a rotation by 90 is undone by
 * one by 270; every other one undoes itself. */
static const int variant_inverse[8] = {0, 3, 2, 1, 4, 5, 6, 7};

static unsigned
band_of(uint64_t h, int k)
{
    return (unsigned)((h >> (16 * k)) & 0xffff);
}

/* Keep the closest variant per other image; drop the farthest when full. */
static void
near_note(struct cat__near *m, int *n, int64_t seq, int distance, int variant)
{
    int worst = 0;

    for (int i = 0; i < *n; i++) {
        if (m[i].seq == seq) {
            if (distance < m[i].distance) {
                m[i].distance = distance;
                m[i].variant = variant;
            }
            return;
        }
        if (m[i].distance > m[worst].distance)
            worst = i;
    }
    if (*n < CAT__MATCHES_MAX) {
        m[(*n)++] = (struct cat__near){seq, distance, variant};
    } else if (distance < m[worst].distance) {
        m[worst] = (struct cat__near){seq, distance, variant};
    }
}

/* Find every stored image whose upright hash is within CAT_NEAR_DIST of one
 * of h[0..7]: 8 variants x 4 bands x 17 probes, each an index range read. */
int
cat__near_find(sqlite3 *c, const uint64_t h[8], struct cat__near *m, int *n,
               char err[DB_ERR_LEN])
{
    static const char *const sql[4] = {
        "SELECT seq, dhash FROM images WHERE band0 = ?1 LIMIT ?2",
        "SELECT seq, dhash FROM images WHERE band1 = ?1 LIMIT ?2",
        "SELECT seq, dhash FROM images WHERE band2 = ?1 LIMIT ?2",
        "SELECT seq, dhash FROM images WHERE band3 = ?1 LIMIT ?2",
    };
    sqlite3_stmt *st[4] = {NULL, NULL, NULL, NULL};
    int rc = DB_OK;

    *n = 0;
    for (int k = 0; k < 4; k++) {
        rc = db_prepare(c, sql[k], &st[k], err);
        if (rc != DB_OK)
            goto out;
        sqlite3_bind_int(st[k], 2, BAND_PROBE_MAX);
    }
    for (int v = 0; v < 8; v++) {
        for (int k = 0; k < 4; k++) {
            for (int flip = -1; flip < 16; flip++) {
                unsigned probe =
                    band_of(h[v], k) ^ (flip < 0 ? 0u : 1u << flip);
                int src;

                sqlite3_bind_int(st[k], 1, (int)probe);
                while ((src = sqlite3_step(st[k])) == SQLITE_ROW) {
                    uint64_t other = (uint64_t)sqlite3_column_int64(st[k], 1);
                    int d = __builtin_popcountll(other ^ h[v]);

                    if (d <= CAT_NEAR_DIST)
                        near_note(m, n, sqlite3_column_int64(st[k], 0), d, v);
                }
                sqlite3_reset(st[k]);
                if (src != SQLITE_DONE) {
                    rc = db_fail(c, src, "near-duplicate probe", err);
                    goto out;
                }
            }
        }
    }
out:
    for (int k = 0; k < 4; k++)
        sqlite3_finalize(st[k]);
    return rc;
}

/* Record each match in both directions, the other image's row seeing the
 * inverse transform. */
int
cat__near_store(sqlite3 *c, int64_t seq, const struct cat__near *m, int n,
                char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(
        c,
        "INSERT OR IGNORE INTO image_matches(image_id, other_id, distance,"
        " variant, possible_theft)"
        " SELECT a.id, b.id, ?3, ?4, a.contributor_id <> b.contributor_id"
        " FROM images a, images b WHERE a.seq = ?1 AND b.seq = ?2",
        &st, err);

    if (rc != DB_OK)
        goto out;
    for (int i = 0; i < n; i++) {
        for (int dir = 0; dir < 2; dir++) {
            sqlite3_bind_int64(st, 1, dir ? m[i].seq : seq);
            sqlite3_bind_int64(st, 2, dir ? seq : m[i].seq);
            sqlite3_bind_int(st, 3, m[i].distance);
            sqlite3_bind_int(
                st, 4, dir ? variant_inverse[m[i].variant] : m[i].variant);
            rc = sqlite3_step(st);
            sqlite3_reset(st);
            if (rc != SQLITE_DONE) {
                rc = db_fail(c, rc, "match insert", err);
                goto out;
            }
        }
    }
    rc = DB_OK;
out:
    sqlite3_finalize(st);
    return rc;
}

/* Read an image's matches, closest first, into a new array. */
int
cat__matches_load(sqlite3 *c, const char *id, struct cat_match **out,
                  int *n_out, char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    struct cat_match *m = NULL;
    int n = 0, src;
    int rc = db_prepare(
        c,
        "SELECT m.other_id, o.contributor_id, o.title, o.status, m.distance,"
        " m.variant, m.possible_theft"
        " FROM image_matches m JOIN images o ON o.id = m.other_id"
        " WHERE m.image_id = ?1 ORDER BY m.distance, o.seq LIMIT ?2",
        &st, err);

    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, CAT_LIST_MAX);
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        struct cat_match *grown = realloc(m, (size_t)(n + 1) * sizeof *m);

        if (!grown) {
            snprintf(err, DB_ERR_LEN, "out of memory");
            rc = DB_EGENERIC;
            goto out;
        }
        m = grown;
        db_col_copy(st, 0, m[n].other_id, sizeof m[n].other_id);
        db_col_copy(st, 1, m[n].other_contributor_id,
                    sizeof m[n].other_contributor_id);
        db_col_copy(st, 2, m[n].other_title, sizeof m[n].other_title);
        m[n].distance = sqlite3_column_int(st, 4);
        m[n].variant = sqlite3_column_int(st, 5);
        m[n].possible_theft = sqlite3_column_int(st, 6);
        if (db_status_img_parse((const char *)sqlite3_column_text(st, 3),
                                &m[n].other_status) != DB_OK) {
            snprintf(err, DB_ERR_LEN, "unknown image status");
            rc = DB_EGENERIC;
            goto out;
        }
        n++;
    }
    if (src != SQLITE_DONE) {
        rc = db_fail(c, src, "matches", err);
        goto out;
    }
    *out = m;
    *n_out = n;
    m = NULL;
out:
    free(m);
    sqlite3_finalize(st);
    return rc;
}

int
cat_image_matches(struct db *db, const char *id, struct cat_match **out,
                  int *n_out, char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    int rc = cat__image_exists(c, id, err);

    if (rc == DB_OK)
        rc = cat__matches_load(c, id, out, n_out, err);
    db_conn_put(db, c);
    return rc;
}

void
cat_matches_free(struct cat_match *m)
{
    free(m);
}
