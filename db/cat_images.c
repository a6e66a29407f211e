/* Stockroom — images: the upload's row, reading one or a page of them,
 * visibility, metadata edits and view counts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catint.h"

/* Check the free-text fields against their limits; NULL passes. */
static int
meta_check(const char *title, const char *description, char err[DB_ERR_LEN])
{
    if (title && strlen(title) > CAT_TITLE_MAX) {
        snprintf(err, DB_ERR_LEN, "title longer than %d bytes", CAT_TITLE_MAX);
        return DB_EINVAL;
    }
    if (description && strlen(description) > CAT_DESC_MAX) {
        snprintf(err, DB_ERR_LEN, "description longer than %d bytes",
                 CAT_DESC_MAX);
        return DB_EINVAL;
    }
    return DB_OK;
}

void
cat__bind_opt(sqlite3_stmt *st, int i, const char *s)
{
    if (s && *s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

/* The existing image holding sha256, into id_out: DB_ECONFLICT if there is
 * one, DB_OK if not. */
static int
sha_taken(sqlite3 *c, const char *sha256, char id_out[CAT_ID_LEN],
          char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(c, "SELECT id FROM images WHERE sha256 = ?1", &st, err);

    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, sha256, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        db_col_copy(st, 0, id_out, CAT_ID_LEN);
        snprintf(err, DB_ERR_LEN, "the same file is already image %s", id_out);
        rc = DB_ECONFLICT;
    } else if (rc == SQLITE_DONE) {
        rc = DB_OK;
    } else {
        rc = db_fail(c, rc, "duplicate check", err);
    }
out:
    sqlite3_finalize(st);
    return rc;
}

/* Insert the row and its render job; *seq and id_out get the new keys. */
static int
image_insert(sqlite3 *c, const struct cat_new_image *in, const char *kw,
             int64_t *seq, char id_out[CAT_ID_LEN], char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(
        c,
        "INSERT INTO images(id, contributor_id, status, title, description,"
        " keywords, width, height, format, mime, file_size, sha256,"
        " camera_make, camera_model, date_taken, colour, dhash,"
        " watermark_seed, created_at)"
        " VALUES ('i' || lower(hex(randomblob(8))), ?1, 'processing', ?2,"
        " ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,"
        " unixepoch()) RETURNING seq, id",
        &st, err);

    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, in->contributor_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, in->title ? in->title : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, in->description ? in->description : "", -1,
                      SQLITE_STATIC);
    sqlite3_bind_text(st, 4, kw, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, in->width);
    sqlite3_bind_int(st, 6, in->height);
    sqlite3_bind_text(st, 7, in->format, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, in->mime ? in->mime : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 9, in->file_size);
    sqlite3_bind_text(st, 10, in->sha256, -1, SQLITE_STATIC);
    cat__bind_opt(st, 11, in->camera_make);
    cat__bind_opt(st, 12, in->camera_model);
    cat__bind_opt(st, 13, in->date_taken);
    cat__bind_opt(st, 14, in->colour);
    sqlite3_bind_int64(st, 15, (sqlite3_int64)in->dhash[0]);
    sqlite3_bind_int64(st, 16, in->watermark_seed);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *seq = sqlite3_column_int64(st, 0);
        db_col_copy(st, 1, id_out, CAT_ID_LEN);
        rc = DB_OK;
    } else if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
        snprintf(err, DB_ERR_LEN, "no such contributor");
        rc = DB_ENOTFOUND;
    } else if ((rc & 0xff) == SQLITE_CONSTRAINT) {
        db_fail(c, rc, "image insert", err);
        rc = DB_EINVAL; /* a CHECK: bad format or dimensions */
    } else {
        rc = db_fail(c, rc, "image insert", err);
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc == DB_OK)
        rc = cat__job_queue(c, id_out, err);
out:
    sqlite3_finalize(st);
    return rc;
}

int
cat_image_create(struct db *db, const struct cat_new_image *in,
                 char id_out[CAT_ID_LEN], char err[DB_ERR_LEN])
{
    char kw[CAT__KEYWORDS_BUF];
    char id[CAT_ID_LEN] = "";
    struct cat__near m[CAT__MATCHES_MAX];
    int n = 0;
    int64_t seq = 0;
    sqlite3 *c = NULL;
    int rc;

    if (!in->contributor_id || !in->sha256 || !in->format) {
        snprintf(err, DB_ERR_LEN, "contributor, sha256 and format needed");
        return DB_EINVAL;
    }
    rc = meta_check(in->title, in->description, err);
    if (rc == DB_OK)
        rc = cat__keywords_normalise(in->keywords, kw, err);
    if (rc != DB_OK)
        return rc;
    c = db_conn_get(db);
    rc = db_begin(c, err);
    if (rc != DB_OK)
        goto out;
    rc = sha_taken(c, in->sha256, id, err);
    if (rc == DB_ECONFLICT)
        snprintf(id_out, CAT_ID_LEN, "%s", id);
    if (rc == DB_OK)
        rc = cat__near_find(c, in->dhash, m, &n, err);
    if (rc == DB_OK)
        rc = image_insert(c, in, kw, &seq, id, err);
    if (rc == DB_OK)
        rc = cat__near_store(c, seq, m, n, err);
    if (rc == DB_OK)
        rc = db_commit(c, err);
    if (rc == DB_OK)
        snprintf(id_out, CAT_ID_LEN, "%s", id);
out:
    if (rc != DB_OK)
        db_rollback(c);
    db_conn_put(db, c);
    return rc;
}

static char *
col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *s = sqlite3_column_text(st, i);

    return strdup(s ? (const char *)s : "");
}

static void
image_release(struct cat_image *img)
{
    free(img->title);
    free(img->description);
    free(img->keywords);
    free(img->reject_reason);
    free(img->fail_reason);
    free(img->matches);
    memset(img, 0, sizeof *img);
}

/* Fill img from a row of CAT__IMAGE_COLS; DB_EGENERIC when out of memory (img
 * then owns nothing). */
static int
image_row(sqlite3_stmt *st, struct cat_image *img, char err[DB_ERR_LEN])
{
    memset(img, 0, sizeof *img);
    db_col_copy(st, 0, img->id, sizeof img->id);
    db_col_copy(st, 1, img->contributor_id, sizeof img->contributor_id);
    db_col_copy(st, 2, img->contributor_name, sizeof img->contributor_name);
    img->title = col_text(st, 4);
    img->description = col_text(st, 5);
    img->keywords = col_text(st, 6);
    img->width = sqlite3_column_int(st, 7);
    img->height = sqlite3_column_int(st, 8);
    db_col_copy(st, 9, img->format, sizeof img->format);
    db_col_copy(st, 10, img->mime, sizeof img->mime);
    img->file_size = sqlite3_column_int64(st, 11);
    db_col_copy(st, 12, img->sha256, sizeof img->sha256);
    db_col_copy(st, 13, img->camera_make, sizeof img->camera_make);
    db_col_copy(st, 14, img->camera_model, sizeof img->camera_model);
    db_col_copy(st, 15, img->date_taken, sizeof img->date_taken);
    db_col_copy(st, 16, img->colour, sizeof img->colour);
    img->dhash = (uint64_t)sqlite3_column_int64(st, 17);
    img->watermark_seed = sqlite3_column_int64(st, 18);
    db_col_copy(st, 19, img->thumb_etag, sizeof img->thumb_etag);
    db_col_copy(st, 20, img->preview_etag, sizeof img->preview_etag);
    db_col_copy(st, 21, img->reject_code, sizeof img->reject_code);
    img->reject_reason = col_text(st, 22);
    img->fail_reason = col_text(st, 23);
    img->created_at = sqlite3_column_int64(st, 24);
    img->reviewed_at = sqlite3_column_int64(st, 25);
    db_col_copy(st, 26, img->reviewed_by, sizeof img->reviewed_by);
    img->approved_at = sqlite3_column_int64(st, 27);
    img->views = sqlite3_column_int64(st, 28);
    img->licences_sold = sqlite3_column_int64(st, 29);
    img->queue_position = sqlite3_column_int(st, 30);
    if (db_status_img_parse((const char *)sqlite3_column_text(st, 3),
                            &img->status) != DB_OK) {
        image_release(img);
        snprintf(err, DB_ERR_LEN, "unknown image status");
        return DB_EGENERIC;
    }
    if (!img->title || !img->description || !img->keywords ||
        !img->reject_reason || !img->fail_reason) {
        image_release(img);
        snprintf(err, DB_ERR_LEN, "out of memory");
        return DB_EGENERIC;
    }
    return DB_OK;
}

int
cat_image_get(struct db *db, const char *id, struct cat_image **out,
              char err[DB_ERR_LEN])
{
    /* The hottest read of the store (every page, licence and rendition
     * miss): prepared once per connection. */
    static const char sql[] = "SELECT " CAT__IMAGE_COLS "WHERE i.id = ?1";
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    struct cat_image *img = calloc(1, sizeof *img);
    int rc = img ? db_prepare_cached(db, c, sql, &st, err) : DB_EGENERIC;

    if (!img)
        snprintf(err, DB_ERR_LEN, "out of memory");
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        rc = image_row(st, img, err);
    } else if (rc == SQLITE_DONE) {
        snprintf(err, DB_ERR_LEN, "no such image");
        rc = DB_ENOTFOUND;
    } else {
        rc = db_fail(c, rc, "image lookup", err);
    }
    if (rc == DB_OK) {
        *out = img;
        img = NULL;
    }
out:
    free(img);
    if (st)
        db_stmt_done(db, c, st);
    db_conn_put(db, c);
    return rc;
}

void
cat_image_free(struct cat_image *img)
{
    if (!img)
        return;
    image_release(img);
    free(img);
}

int
cat_image_is_visible(const struct cat_image *img, const char *viewer_id,
                     int viewer_is_reviewer)
{
    if (img->status == DB_IMG_APPROVED || viewer_is_reviewer)
        return 1;
    return viewer_id && strcmp(viewer_id, img->contributor_id) == 0;
}

int
cat_image_update_meta(struct db *db, const char *id, const char *owner_id,
                      const char *title, const char *description,
                      const char *keywords, char err[DB_ERR_LEN])
{
    char kw[CAT__KEYWORDS_BUF];
    sqlite3 *c = NULL;
    sqlite3_stmt *st = NULL;
    int rc = meta_check(title, description, err);

    if (rc == DB_OK && keywords)
        rc = cat__keywords_normalise(keywords, kw, err);
    if (rc != DB_OK)
        return rc;
    c = db_conn_get(db);
    rc = db_prepare(c,
                    "UPDATE images SET title = coalesce(?3, title),"
                    " description = coalesce(?4, description),"
                    " keywords = coalesce(?5, keywords)"
                    " WHERE id = ?1 AND contributor_id = ?2",
                    &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, owner_id, -1, SQLITE_STATIC);
    if (title)
        sqlite3_bind_text(st, 3, title, -1, SQLITE_STATIC);
    if (description)
        sqlite3_bind_text(st, 4, description, -1, SQLITE_STATIC);
    if (keywords)
        sqlite3_bind_text(st, 5, kw, -1, SQLITE_STATIC);
    rc = db_step_change(c, st, "image of yours", err);
out:
    sqlite3_finalize(st);
    db_conn_put(db, c);
    return rc;
}

int
cat__image_exists(sqlite3 *c, const char *id, char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(c, "SELECT 1 FROM images WHERE id = ?1", &st, err);

    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        rc = DB_OK;
    } else if (rc == SQLITE_DONE) {
        snprintf(err, DB_ERR_LEN, "no such image");
        rc = DB_ENOTFOUND;
    } else {
        rc = db_fail(c, rc, "image lookup", err);
    }
out:
    sqlite3_finalize(st);
    return rc;
}

void
cat_image_list_release(struct cat_image_list *l)
{
    for (int i = 0; i < l->n; i++)
        image_release(&l->items[i]);
    free(l->items);
    memset(l, 0, sizeof *l);
}

/* Run a page query of CAT__IMAGE_COLS bound to (?1 text, ?2 cursor seq, ?3
 * limit + 1) and fill l; the extra row only says that a next page exists.
 * With matches set, each image also gets its near duplicates. */
int
cat__image_page(struct db *db, const char *sql, const char *key, int kind,
                const char *cursor, int limit, int matches,
                struct cat_image_list *l, char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    int64_t after = kind == CAT__CUR_QUEUE ? 0 : INT64_MAX, unused = 0;
    int64_t last = 0;
    int rc = cat__cursor_parse(cursor, kind, &unused, &after, err);
    int src, page = cat__page_size(limit);

    memset(l, 0, sizeof *l);
    if (rc < 0)
        goto out;
    rc = db_prepare(c, sql, &st, err);
    if (rc != DB_OK)
        goto out;
    if (key)
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, after);
    sqlite3_bind_int(st, 3, page + 1);
    l->items = calloc((size_t)page + 1, sizeof *l->items);
    if (!l->items) {
        snprintf(err, DB_ERR_LEN, "out of memory");
        rc = DB_EGENERIC;
        goto out;
    }
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        if (l->n == page) {
            cat__cursor_make(l->next_cursor, kind, 0, last);
            break;
        }
        rc = image_row(st, &l->items[l->n], err);
        if (rc != DB_OK)
            goto out;
        last = sqlite3_column_int64(st, CAT__IMAGE_SEQ_COL);
        l->n++;
    }
    if (src != SQLITE_ROW && src != SQLITE_DONE) {
        rc = db_fail(c, src, "image list", err);
        goto out;
    }
    rc = DB_OK;
    for (int i = 0; matches && i < l->n && rc == DB_OK; i++)
        rc = cat__matches_load(c, l->items[i].id, &l->items[i].matches,
                               &l->items[i].n_matches, err);
out:
    sqlite3_finalize(st);
    db_conn_put(db, c);
    return rc;
}

int
cat_images_of_contributor(struct db *db, const char *contributor_id,
                          const char *cursor, int limit,
                          struct cat_image_list *out, char err[DB_ERR_LEN])
{
    return cat__image_page(
        db,
        "SELECT " CAT__IMAGE_COLS "WHERE i.contributor_id = ?1 AND i.seq < ?2"
        " ORDER BY i.seq DESC LIMIT ?3",
        contributor_id, CAT__CUR_MINE, cursor, limit, 0, out, err);
}

int
cat_views_add(struct db *db, const char *const *ids, const int *counts, int n,
              char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    int rc = db_begin(c, err);

    if (rc != DB_OK)
        goto out;
    rc = db_prepare(c, "UPDATE images SET views = views + ?2 WHERE id = ?1",
                    &st, err);
    for (int i = 0; i < n && rc == DB_OK; i++) {
        if (counts[i] <= 0)
            continue;
        sqlite3_bind_text(st, 1, ids[i], -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, counts[i]);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        rc = rc == SQLITE_DONE ? DB_OK : db_fail(c, rc, "views", err);
    }
    if (rc == DB_OK)
        rc = db_commit(c, err);
out:
    if (rc != DB_OK)
        db_rollback(c);
    sqlite3_finalize(st);
    db_conn_put(db, c);
    return rc;
}
