/* Stockroom — lightboxes: a buyer's named collections of approved images,
 * private unless shared by token. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catint.h"

static int
name_check(const char *name, char err[DB_ERR_LEN])
{
    size_t n = name ? strlen(name) : 0;

    if (n == 0 || n >= CAT_NAME_LEN) {
        snprintf(err, DB_ERR_LEN, "a lightbox name has 1 to %d bytes",
                 CAT_NAME_LEN - 1);
        return DB_EINVAL;
    }
    return DB_OK;
}

/* Compare without stopping at the first difference, so the time taken
 * says nothing about how much of a guessed token was right. */
static int
token_equal(const char *a, const char *b)
{
    size_t n = strlen(a);
    unsigned char d = n != strlen(b);

    for (size_t i = 0; i < n && i < strlen(b); i++)
        d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

/* One statement bound to (?1 id, ?2 owner, ?3 text or NULL), outside a
 * transaction. With out set, copy the first column of its RETURNING row.
 * DB_ENOTFOUND when no row matched: the lightbox is absent or not the
 * owner's, which callers must not tell apart. */
static int
lb_write(struct db *db, const char *sql, const char *id, const char *owner,
         const char *text, char *out, size_t out_len, char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(c, sql, &st, err);

    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, owner, -1, SQLITE_STATIC);
    if (text)
        sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && out) {
        db_col_copy(st, 0, out, out_len);
        rc = sqlite3_step(st);
    }
    if (rc != SQLITE_DONE) {
        rc = db_fail(c, rc, "lightbox", err);
    } else if (sqlite3_changes(c) == 0) {
        snprintf(err, DB_ERR_LEN, "no such lightbox");
        rc = DB_ENOTFOUND;
    } else {
        rc = DB_OK;
    }
out:
    sqlite3_finalize(st);
    db_conn_put(db, c);
    return rc;
}

int
cat_lightbox_create(struct db *db, const char *owner_id, const char *name,
                    char id_out[CAT_ID_LEN], char err[DB_ERR_LEN])
{
    char id[CAT_ID_LEN];
    int rc = name_check(name, err);

    if (rc != DB_OK)
        return rc;
    /* No id yet: ?1 stays unused. */
    rc = lb_write(db,
                  "INSERT INTO lightboxes(id, owner_id, name, created_at)"
                  " VALUES ('l' || lower(hex(randomblob(8))), ?2, ?3,"
                  " unixepoch()) RETURNING id",
                  NULL, owner_id, name, id, sizeof id, err);
    if (rc == DB_ECONFLICT) {
        snprintf(err, DB_ERR_LEN, "no such user");
        rc = DB_ENOTFOUND;
    }
    if (rc == DB_OK)
        snprintf(id_out, CAT_ID_LEN, "%s", id);
    return rc;
}

int
cat_lightbox_rename(struct db *db, const char *id, const char *owner_id,
                    const char *name, char err[DB_ERR_LEN])
{
    int rc = name_check(name, err);

    if (rc != DB_OK)
        return rc;
    return lb_write(db,
                    "UPDATE lightboxes SET name = ?3"
                    " WHERE id = ?1 AND owner_id = ?2",
                    id, owner_id, name, NULL, 0, err);
}

int
cat_lightbox_delete(struct db *db, const char *id, const char *owner_id,
                    char err[DB_ERR_LEN])
{
    return lb_write(db,
                    "DELETE FROM lightboxes WHERE id = ?1"
                    " AND owner_id = ?2",
                    id, owner_id, NULL, NULL, 0, err);
}

int
cat_lightbox_share(struct db *db, const char *id, const char *owner_id,
                   char token_out[CAT_TOKEN_LEN], char err[DB_ERR_LEN])
{
    char token[CAT_TOKEN_LEN];
    int rc = lb_write(db,
                      "UPDATE lightboxes"
                      " SET share_token = lower(hex(randomblob(16)))"
                      " WHERE id = ?1 AND owner_id = ?2 RETURNING share_token",
                      id, owner_id, NULL, token, sizeof token, err);

    if (rc == DB_OK)
        snprintf(token_out, CAT_TOKEN_LEN, "%s", token);
    return rc;
}

int
cat_lightbox_unshare(struct db *db, const char *id, const char *owner_id,
                     char err[DB_ERR_LEN])
{
    return lb_write(db,
                    "UPDATE lightboxes SET share_token = NULL"
                    " WHERE id = ?1 AND owner_id = ?2",
                    id, owner_id, NULL, NULL, 0, err);
}

/* The summary columns of struct cat_lightbox: items counted and the cover
 * chosen among approved images only, so a rejected or removed image drops
 * out without anything to clean up. */
#define LB_COLS                                                                \
    "l.id, l.owner_id, l.name, l.share_token, l.created_at,"                   \
    " (SELECT count(*) FROM lightbox_items li JOIN images i"                   \
    "  ON i.id = li.image_id WHERE li.lightbox_id = l.id"                      \
    "  AND i.status = 'approved'),"                                            \
    " (SELECT i.id || ' ' || coalesce(i.thumb_etag, '')"                       \
    "  FROM lightbox_items li JOIN images i ON i.id = li.image_id"             \
    "  WHERE li.lightbox_id = l.id AND i.status = 'approved'"                  \
    "  ORDER BY li.added_at DESC, i.seq DESC LIMIT 1)"                         \
    " FROM lightboxes l "

static void
lb_row(sqlite3_stmt *st, struct cat_lightbox *lb)
{
    const char *cover = (const char *)sqlite3_column_text(st, 6);
    const char *sp = cover ? strchr(cover, ' ') : NULL;

    memset(lb, 0, sizeof *lb);
    db_col_copy(st, 0, lb->id, sizeof lb->id);
    db_col_copy(st, 1, lb->owner_id, sizeof lb->owner_id);
    db_col_copy(st, 2, lb->name, sizeof lb->name);
    db_col_copy(st, 3, lb->share_token, sizeof lb->share_token);
    lb->created_at = sqlite3_column_int64(st, 4);
    lb->item_count = sqlite3_column_int(st, 5);
    if (sp) {
        snprintf(lb->cover_id, sizeof lb->cover_id, "%.*s", (int)(sp - cover),
                 cover);
        snprintf(lb->cover_thumb_etag, sizeof lb->cover_thumb_etag, "%s",
                 sp + 1);
    }
}

int
cat_lightboxes_of(struct db *db, const char *owner_id,
                  struct cat_lightbox **out, int *n_out, char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    struct cat_lightbox *all = NULL;
    int n = 0, src;
    int rc = db_prepare(c,
                        "SELECT " LB_COLS "WHERE l.owner_id = ?1"
                        " ORDER BY l.created_at DESC, l.rowid DESC",
                        &st, err);

    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, owner_id, -1, SQLITE_STATIC);
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        struct cat_lightbox *grown =
            realloc(all, (size_t)(n + 1) * sizeof *all);

        if (!grown) {
            snprintf(err, DB_ERR_LEN, "out of memory");
            rc = DB_EGENERIC;
            goto out;
        }
        all = grown;
        lb_row(st, &all[n++]);
    }
    if (src != SQLITE_DONE) {
        rc = db_fail(c, src, "lightboxes", err);
        goto out;
    }
    *out = all;
    *n_out = n;
    all = NULL;
out:
    free(all);
    sqlite3_finalize(st);
    db_conn_put(db, c);
    return rc;
}

/* Read lightbox id into *lb if viewer owns it or token opens it. */
static int
lb_open(sqlite3 *c, const char *id, const char *viewer_id, const char *token,
        struct cat_lightbox *lb, char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(c, "SELECT " LB_COLS "WHERE l.id = ?1", &st, err);

    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        rc = db_fail(c, rc, "lightbox", err);
        goto out;
    }
    rc = DB_ENOTFOUND;
    if (sqlite3_data_count(st) > 0) {
        lb_row(st, lb);
        if (viewer_id && strcmp(viewer_id, lb->owner_id) == 0) {
            rc = DB_OK;
        } else if (token && lb->share_token[0] &&
                   token_equal(token, lb->share_token)) {
            lb->share_token[0] = '\0';
            rc = DB_OK;
        }
    }
    if (rc == DB_ENOTFOUND)
        snprintf(err, DB_ERR_LEN, "no such lightbox");
out:
    sqlite3_finalize(st);
    return rc;
}

int
cat_lightbox_get(struct db *db, const char *id, const char *viewer_id,
                 const char *token, const char *cursor, int limit,
                 struct cat_lightbox *lb, struct cat_list *items,
                 char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    struct cat_lightbox found;
    int64_t key = INT64_MAX, seq = INT64_MAX;
    int page = cat__page_size(limit), src;
    int rc = cat__cursor_parse(cursor, CAT__CUR_LIGHTBOX, &key, &seq, err);

    memset(items, 0, sizeof *items);
    if (rc < 0)
        goto out;
    /* Both reads see one snapshot, so the count matches the items. */
    rc = db_exec(c, "BEGIN", err);
    if (rc == DB_OK)
        rc = lb_open(c, id, viewer_id, token, &found, err);
    if (rc == DB_OK)
        rc = db_prepare(c,
                        "SELECT " CAT__ITEM_COLS ", li.added_at, i.seq"
                        " FROM lightbox_items li"
                        " JOIN images i ON i.id = li.image_id"
                        " JOIN users u ON u.id = i.contributor_id"
                        " WHERE li.lightbox_id = ?1 AND i.status = 'approved'"
                        " AND (li.added_at, i.seq) < (?2, ?3)"
                        " ORDER BY li.added_at DESC, i.seq DESC LIMIT ?4",
                        &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, key);
    sqlite3_bind_int64(st, 3, seq);
    sqlite3_bind_int(st, 4, page + 1);
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        struct cat_item *it;

        if (items->n == page) {
            cat__cursor_make(items->next_cursor, CAT__CUR_LIGHTBOX, key, seq);
            break;
        }
        it = cat__list_push(items);
        if (!it) {
            snprintf(err, DB_ERR_LEN, "out of memory");
            rc = DB_EGENERIC;
            goto out;
        }
        cat__item_row(st, it);
        key = sqlite3_column_int64(st, CAT__ITEM_NCOLS);
        seq = sqlite3_column_int64(st, CAT__ITEM_NCOLS + 1);
    }
    if (src != SQLITE_ROW && src != SQLITE_DONE) {
        rc = db_fail(c, src, "lightbox items", err);
        goto out;
    }
    *lb = found;
out:
    sqlite3_finalize(st);
    db_rollback(c); /* ends the read transaction */
    db_conn_put(db, c);
    return rc;
}

/* Inside a transaction: DB_OK when owner_id owns lightbox id. */
static int
lb_owned(sqlite3 *c, const char *id, const char *owner_id, char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(c,
                        "SELECT 1 FROM lightboxes"
                        " WHERE id = ?1 AND owner_id = ?2",
                        &st, err);

    if (rc != DB_OK)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, owner_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        rc = DB_OK;
    } else if (rc == SQLITE_DONE) {
        snprintf(err, DB_ERR_LEN, "no such lightbox");
        rc = DB_ENOTFOUND;
    } else {
        rc = db_fail(c, rc, "lightbox", err);
    }
    sqlite3_finalize(st);
    return rc;
}

/* Inside a transaction: may image_id go into lightbox id? */
static int
lb_can_add(sqlite3 *c, const char *id, const char *image_id,
           char err[DB_ERR_LEN])
{
    enum db_img_status status;
    sqlite3_stmt *st = NULL;
    int rc =
        db_prepare(c,
                   "SELECT i.status, (SELECT count(*) FROM lightbox_items"
                   "  WHERE lightbox_id = ?1) FROM images i WHERE i.id = ?2",
                   &st, err);

    if (rc != DB_OK)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, image_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        snprintf(err, DB_ERR_LEN, "no such image");
        rc = DB_ENOTFOUND;
    } else if (rc != SQLITE_ROW) {
        rc = db_fail(c, rc, "lightbox add", err);
    } else if (db_status_img_parse((const char *)sqlite3_column_text(st, 0),
                                   &status) != DB_OK ||
               status != DB_IMG_APPROVED) {
        snprintf(err, DB_ERR_LEN, "only approved images go in a lightbox");
        rc = DB_EINVAL;
    } else if (sqlite3_column_int(st, 1) >= CAT_LIGHTBOX_ITEMS) {
        snprintf(err, DB_ERR_LEN, "a lightbox holds %d images",
                 CAT_LIGHTBOX_ITEMS);
        rc = DB_ELIMIT;
    } else {
        rc = DB_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

/* Add (add != 0) or remove image_id in lightbox id, owned by owner_id. */
static int
lb_item(struct db *db, const char *id, const char *owner_id,
        const char *image_id, int add, char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    int rc = db_begin(c, err);

    if (rc == DB_OK)
        rc = lb_owned(c, id, owner_id, err);
    if (rc == DB_OK && add)
        rc = lb_can_add(c, id, image_id, err);
    if (rc == DB_OK)
        rc = db_prepare(
            c,
            add ? "INSERT OR IGNORE INTO lightbox_items(lightbox_id, image_id,"
                  " added_at) VALUES (?1, ?2, max("
                  "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER),"
                  " (SELECT coalesce(max(added_at), 0) + 1 FROM lightbox_items"
                  "  WHERE lightbox_id = ?1)))"
                : "DELETE FROM lightbox_items WHERE lightbox_id = ?1"
                  " AND image_id = ?2",
            &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, image_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    rc = rc == SQLITE_DONE ? db_commit(c, err)
                           : db_fail(c, rc, "lightbox item", err);
out:
    if (rc != DB_OK)
        db_rollback(c);
    sqlite3_finalize(st);
    db_conn_put(db, c);
    return rc;
}

int
cat_lightbox_add(struct db *db, const char *id, const char *owner_id,
                 const char *image_id, char err[DB_ERR_LEN])
{
    return lb_item(db, id, owner_id, image_id, 1, err);
}

int
cat_lightbox_remove(struct db *db, const char *id, const char *owner_id,
                    const char *image_id, char err[DB_ERR_LEN])
{
    return lb_item(db, id, owner_id, image_id, 0, err);
}
