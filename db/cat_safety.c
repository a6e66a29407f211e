/* Stockroom — trust and safety in the catalogue (cat_safety.h): drafts,
 * withdrawal, take-down, restore, counter-notices and appeals. */
#include <stdio.h>
#include <string.h>

#include "cat_safety.h"
#include "catint.h"

/* Keywords of a normalised "a,b,c" list, in SQL and in C alike. */
#define KW_COUNT                                                               \
    "(CASE WHEN keywords = '' THEN 0 ELSE"                                     \
    " length(keywords) - length(replace(keywords, ',', '')) + 1 END)"

unsigned
cat_image_missing(const struct cat_image *img, int min_keywords)
{
    unsigned m = 0;
    int n = img->keywords[0] ? 1 : 0;

    if (min_keywords <= 0)
        return 0;
    for (const char *p = img->keywords; *p; p++)
        n += *p == ',';
    if (!img->title[0])
        m |= CAT_MISSING_TITLE;
    if (n < min_keywords)
        m |= CAT_MISSING_KEYWORDS;
    return m;
}

/* Run one statement bound to up to four texts (NULL binds NULL) and an
 * integer as ?5; *changed gets the row count. */
static int
run(sqlite3 *c, const char *sql, const char *a, const char *b, const char *d,
    const char *e, int64_t n, int *changed, char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    const char *v[4] = {a, b, d, e};
    int rc = db_prepare(c, sql, &st, err);

    if (rc != DB_OK)
        return rc;
    for (int i = 0; i < 4; i++)
        if (v[i])
            sqlite3_bind_text(st, i + 1, v[i], -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, n);
    rc = sqlite3_step(st);
    rc = rc == SQLITE_DONE ? DB_OK : db_fail(c, rc, "update", err);
    if (changed)
        *changed = sqlite3_changes(c);
    sqlite3_finalize(st);
    return rc;
}

int
cat__hold_draft(sqlite3 *c, const char *image_id, int min_keywords,
                char err[DB_ERR_LEN])
{
    return run(c,
               "UPDATE images SET status = 'draft' WHERE id = ?1"
               " AND status = 'pending_review'"
               " AND (title = '' OR " KW_COUNT " < ?5)",
               image_id, NULL, NULL, NULL, min_keywords, NULL, err);
}

/* The status of image id (of owner when owner is not NULL) into *s. */
static int
status_of(sqlite3 *c, const char *id, const char *owner, enum db_img_status *s,
          char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(c,
                        "SELECT status FROM images WHERE id = ?1"
                        " AND (?2 IS NULL OR contributor_id = ?2)",
                        &st, err);

    if (rc != DB_OK)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (owner)
        sqlite3_bind_text(st, 2, owner, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        rc = db_status_img_parse((const char *)sqlite3_column_text(st, 0), s);
        if (rc != DB_OK)
            snprintf(err, DB_ERR_LEN, "unknown image status");
    } else if (rc == SQLITE_DONE) {
        snprintf(err, DB_ERR_LEN, "no such image");
        rc = DB_ENOTFOUND;
    } else
        rc = db_fail(c, rc, "image", err);
    sqlite3_finalize(st);
    return rc;
}

static int
finish(struct db *db, sqlite3 *c, int rc, char err[DB_ERR_LEN])
{
    if (rc == DB_OK)
        rc = db_commit(c, err);
    if (rc != DB_OK)
        db_rollback(c);
    db_conn_put(db, c);
    return rc;
}

static int
conflict(const char *why, char err[DB_ERR_LEN])
{
    snprintf(err, DB_ERR_LEN, "%s", why);
    return DB_ECONFLICT;
}

int
cat_image_submit(struct db *db, const char *id, const char *owner_id,
                 int min_keywords, unsigned *missing, char err[DB_ERR_LEN])
{
    struct cat_image *img = NULL;
    int changed = 0, rc = cat_image_get(db, id, &img, err);
    sqlite3 *c;

    *missing = 0;
    if (rc == DB_OK && strcmp(img->contributor_id, owner_id) != 0) {
        snprintf(err, DB_ERR_LEN, "no such image");
        rc = DB_ENOTFOUND;
    }
    if (rc == DB_OK && img->status != DB_IMG_DRAFT)
        rc = conflict("the image is not a draft", err);
    if (rc == DB_OK && (*missing = cat_image_missing(img, min_keywords))) {
        snprintf(err, DB_ERR_LEN, "the image is incomplete");
        rc = DB_EINVAL;
    }
    cat_image_free(img);
    if (rc != DB_OK)
        return rc;
    c = db_conn_get(db);
    rc = db_begin(c, err);
    /* The rules again inside the write: an edit may have come between. */
    if (rc == DB_OK)
        rc = run(
            c,
            "UPDATE images SET status = 'pending_review' WHERE id = ?1"
            " AND status = 'draft' AND (?5 <= 0 OR (title <> '' AND " KW_COUNT
            " >= ?5))",
            id, NULL, NULL, NULL, min_keywords, &changed, err);
    if (rc == DB_OK && !changed)
        rc = conflict("the image changed meanwhile", err);
    return finish(db, c, rc, err);
}

int
cat_image_withdraw(struct db *db, const char *id, const char *owner_id,
                   char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    enum db_img_status s;
    int rc = db_begin(c, err);

    if (rc == DB_OK)
        rc = status_of(c, id, owner_id, &s, err);
    if (rc == DB_OK && (s == DB_IMG_PROCESSING || s == DB_IMG_FAILED ||
                        s == DB_IMG_WITHDRAWN || s == DB_IMG_TAKEN_DOWN))
        rc = conflict("the image cannot be withdrawn in this state", err);
    if (rc == DB_OK)
        rc = run(c,
                 "UPDATE images SET held_status = status,"
                 " status = 'withdrawn', off_sale_at = unixepoch(),"
                 " off_sale_reason = NULL WHERE id = ?1",
                 id, NULL, NULL, NULL, 0, NULL, err);
    if (rc == DB_OK)
        rc = db__audit_add(c, owner_id, "withdraw", "image", id, NULL, err);
    return finish(db, c, rc, err);
}

int
cat_image_takedown(struct db *db, const char *id, const char *admin_id,
                   const char *reason, char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    enum db_img_status s;
    int rc = db_begin(c, err);

    if (rc == DB_OK)
        rc = status_of(c, id, NULL, &s, err);
    if (rc == DB_OK && (s == DB_IMG_PROCESSING || s == DB_IMG_FAILED ||
                        s == DB_IMG_TAKEN_DOWN))
        rc = conflict("the image cannot be taken down in this state", err);
    /* A withdrawn image keeps the state it was withdrawn from. */
    if (rc == DB_OK)
        rc = run(c,
                 "UPDATE images SET held_status = CASE status"
                 "  WHEN 'withdrawn' THEN held_status ELSE status END,"
                 " status = 'taken_down', off_sale_at = unixepoch(),"
                 " off_sale_reason = ?2, counter_notice = NULL WHERE id = ?1",
                 id, reason, NULL, NULL, 0, NULL, err);
    if (rc == DB_OK)
        rc = run(c,
                 "UPDATE reports SET status = 'actioned',"
                 " closed_at = unixepoch(), closed_by = ?2"
                 " WHERE image_id = ?1 AND status = 'open'",
                 id, admin_id, NULL, NULL, 0, NULL, err);
    if (rc == DB_OK)
        rc = db__audit_add(c, admin_id, "takedown", "image", id, reason, err);
    return finish(db, c, rc, err);
}

int
cat_image_restore(struct db *db, const char *id, const char *actor_id,
                  int admin, int64_t now, char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    struct cat_safety sf;
    enum db_img_status s;
    int rc = db_begin(c, err);

    if (rc == DB_OK)
        rc = status_of(c, id, admin ? NULL : actor_id, &s, err);
    if (rc == DB_OK && s != DB_IMG_WITHDRAWN &&
        (!admin || s != DB_IMG_TAKEN_DOWN))
        rc = conflict("the image is not off sale", err);
    if (rc == DB_OK)
        rc = cat__safety_read(c, id, &sf, err);
    if (rc == DB_OK && sf.suspended)
        rc = conflict("the image is held by a suspension", err);
    if (rc == DB_OK && !admin &&
        sf.off_sale_at + CAT_RESTORE_DAYS * 86400LL < now) {
        snprintf(err, DB_ERR_LEN, "withdrawn more than %d days ago",
                 CAT_RESTORE_DAYS);
        rc = DB_ELIMIT;
    }
    /* The owner's restore goes through review again; an admin's puts the
     * image back where it was. */
    if (rc == DB_OK)
        rc = run(c,
                 "UPDATE images SET status = CASE WHEN ?5"
                 "  THEN coalesce(held_status, 'pending_review')"
                 "  ELSE 'pending_review' END,"
                 " held_status = NULL, off_sale_at = NULL,"
                 " off_sale_reason = NULL, counter_notice = NULL"
                 " WHERE id = ?1",
                 id, NULL, NULL, NULL, admin != 0, NULL, err);
    if (rc == DB_OK && admin)
        rc = db__audit_add(c, actor_id, "restore", "image", id, NULL, err);
    return finish(db, c, rc, err);
}

int
cat_image_counter_notice(struct db *db, const char *id, const char *owner_id,
                         const char *statement, char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    enum db_img_status s;
    int changed = 0, rc = db_begin(c, err);

    if (rc == DB_OK)
        rc = status_of(c, id, owner_id, &s, err);
    if (rc == DB_OK)
        rc = run(c,
                 "UPDATE images SET counter_notice = ?2 WHERE id = ?1"
                 " AND status = 'taken_down' AND suspended = 0"
                 " AND counter_notice IS NULL",
                 id, statement, NULL, NULL, 0, &changed, err);
    if (rc == DB_OK && !changed)
        rc = conflict("the image is not taken down, or was answered", err);
    return finish(db, c, rc, err);
}

int
cat_image_appeal(struct db *db, const char *id, const char *owner_id,
                 const char *message, char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    enum db_img_status s;
    int changed = 0, rc = db_begin(c, err);

    if (rc == DB_OK)
        rc = status_of(c, id, owner_id, &s, err);
    if (rc == DB_OK)
        rc = run(c,
                 "UPDATE images SET status = 'pending_review',"
                 " appeal_message = ?2, appealed_at = unixepoch()"
                 " WHERE id = ?1 AND status = 'rejected'"
                 " AND appealed_at IS NULL",
                 id, message, NULL, NULL, 0, &changed, err);
    if (rc == DB_OK && !changed)
        rc = conflict("only a rejection can be appealed, once", err);
    return finish(db, c, rc, err);
}

int
cat__safety_read(sqlite3 *c, const char *id, struct cat_safety *out,
                 char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(c,
                        "SELECT off_sale_at, off_sale_reason, counter_notice,"
                        " appeal_message, appealed_at, suspended"
                        " FROM images WHERE id = ?1",
                        &st, err);

    memset(out, 0, sizeof *out);
    if (rc != DB_OK)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->off_sale_at = sqlite3_column_int64(st, 0);
        db_col_copy(st, 1, out->off_sale_reason, sizeof out->off_sale_reason);
        db_col_copy(st, 2, out->counter_notice, sizeof out->counter_notice);
        db_col_copy(st, 3, out->appeal_message, sizeof out->appeal_message);
        out->appealed_at = sqlite3_column_int64(st, 4);
        out->suspended = sqlite3_column_int(st, 5);
        rc = DB_OK;
    } else if (rc == SQLITE_DONE) {
        snprintf(err, DB_ERR_LEN, "no such image");
        rc = DB_ENOTFOUND;
    } else
        rc = db_fail(c, rc, "image", err);
    sqlite3_finalize(st);
    return rc;
}

int
cat_image_safety(struct db *db, const char *id, struct cat_safety *out,
                 char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    int rc = cat__safety_read(c, id, out, err);

    db_conn_put(db, c);
    return rc;
}

int
cat_images_by_status(struct db *db, enum db_img_status status,
                     const char *cursor, int limit, struct cat_image_list *out,
                     char err[DB_ERR_LEN])
{
    return cat__image_page(
        db,
        "SELECT " CAT__IMAGE_COLS "WHERE i.status = ?1 AND i.seq < ?2"
        " ORDER BY i.seq DESC LIMIT ?3",
        db_status_img_str(status), CAT__CUR_MINE, cursor, limit, 0, out, err);
}
