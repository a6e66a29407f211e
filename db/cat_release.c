/* Stockroom — releases and what an image declares (cat_release.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cat_release.h"
#include "catint.h"

#define RELEASE_COLS "id, owner_id, kind, name, mime, size, created_at"

static void
release_row(sqlite3_stmt *st, struct cat_release *r)
{
    db_col_copy(st, 0, r->id, sizeof r->id);
    db_col_copy(st, 1, r->owner_id, sizeof r->owner_id);
    db_col_copy(st, 2, r->kind, sizeof r->kind);
    db_col_copy(st, 3, r->name, sizeof r->name);
    db_col_copy(st, 4, r->mime, sizeof r->mime);
    r->size = sqlite3_column_int64(st, 5);
    r->created_at = sqlite3_column_int64(st, 6);
}

/* Run one write in its own transaction, texts bound as ?1..?4 (NULL binds
 * NULL) and n as ?5; *changed gets the rows changed. */
static int
write1(struct db *db, const char *sql, const char *const v[4], int64_t n,
       int *changed, char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    int rc = db_begin(c, err);

    if (rc == DB_OK)
        rc = db_prepare(c, sql, &st, err);
    if (rc != DB_OK)
        goto out;
    for (int i = 0; i < 4; i++)
        if (v[i])
            sqlite3_bind_text(st, i + 1, v[i], -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, n);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        rc = DB_OK;
    else if ((rc & 0xff) == SQLITE_CONSTRAINT) {
        snprintf(err, DB_ERR_LEN, "a value the schema refuses");
        rc = DB_EINVAL;
    } else
        rc = db_fail(c, rc, "release", err);
    if (changed)
        *changed = sqlite3_changes(c);
    sqlite3_finalize(st);
    st = NULL;
    if (rc == DB_OK)
        rc = db_commit(c, err);
out:
    sqlite3_finalize(st);
    if (rc != DB_OK)
        db_rollback(c);
    db_conn_put(db, c);
    return rc;
}

static int
not_found(int changed, const char *what, char err[DB_ERR_LEN])
{
    if (changed)
        return DB_OK;
    snprintf(err, DB_ERR_LEN, "no such %s", what);
    return DB_ENOTFOUND;
}

int
cat_release_create(struct db *db, const char *id, const char *owner_id,
                   const char *kind, const char *name, const char *mime,
                   int64_t size, char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    int rc = db_begin(c, err);

    if (rc == DB_OK)
        rc = db_prepare(c,
                        "INSERT INTO releases (id, owner_id, kind, name, mime,"
                        " size, created_at)"
                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, unixepoch())",
                        &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, owner_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, mime, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, size);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        rc = db_commit(c, err);
    else if ((rc & 0xff) == SQLITE_CONSTRAINT) {
        snprintf(err, DB_ERR_LEN, "unknown kind or owner");
        rc = DB_EINVAL;
    } else
        rc = db_fail(c, rc, "release", err);
out:
    sqlite3_finalize(st);
    if (rc != DB_OK)
        db_rollback(c);
    db_conn_put(db, c);
    return rc;
}

int
cat_release_get(struct db *db, const char *id, struct cat_release *out,
                char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(
        c, "SELECT " RELEASE_COLS " FROM releases WHERE id = ?1", &st, err);

    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        release_row(st, out);
        rc = DB_OK;
    } else if (rc == SQLITE_DONE)
        rc = not_found(0, "release", err);
    else
        rc = db_fail(c, rc, "release", err);
out:
    sqlite3_finalize(st);
    db_conn_put(db, c);
    return rc;
}

int
cat_releases_list(struct db *db, const char *owner_id, const char *image_id,
                  struct cat_release **out, int *n, char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    struct cat_release *a = calloc(CAT_LIST_MAX, sizeof *a);
    int rc;

    *out = NULL;
    *n = 0;
    if (!a) {
        snprintf(err, DB_ERR_LEN, "out of memory");
        rc = DB_EGENERIC;
        goto out;
    }
    rc = db_prepare(c,
                    image_id ? "SELECT r.id, r.owner_id, r.kind, r.name,"
                               " r.mime, r.size, r.created_at FROM releases r"
                               " JOIN image_releases x ON x.release_id = r.id"
                               " WHERE x.image_id = ?1 ORDER BY r.seq LIMIT ?2"
                             : "SELECT " RELEASE_COLS " FROM releases"
                               " WHERE owner_id = ?1 ORDER BY seq DESC"
                               " LIMIT ?2",
                    &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, image_id ? image_id : owner_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, CAT_LIST_MAX);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        release_row(st, &a[(*n)++]);
    rc = rc == SQLITE_DONE ? DB_OK : db_fail(c, rc, "releases", err);
out:
    sqlite3_finalize(st);
    db_conn_put(db, c);
    if (rc != DB_OK) {
        free(a);
        *n = 0;
        return rc;
    }
    *out = a;
    return DB_OK;
}

int
cat_release_attach(struct db *db, const char *image_id, const char *release_id,
                   const char *owner_id, int attach, char err[DB_ERR_LEN])
{
    const char *v[4] = {image_id, release_id, owner_id, NULL};
    int changed = 0, rc;

    /* Both must be the owner's: checked inside the write. */
    rc = write1(db,
                attach ? "INSERT OR IGNORE INTO image_releases"
                         " (image_id, release_id)"
                         " SELECT i.id, r.id FROM images i"
                         " JOIN releases r ON r.id = ?2"
                         " WHERE i.id = ?1 AND i.contributor_id = ?3"
                         " AND r.owner_id = ?3"
                       : "DELETE FROM image_releases WHERE image_id = ?1"
                         " AND release_id = ?2 AND EXISTS (SELECT 1 FROM"
                         " images i JOIN releases r ON r.id = ?2"
                         " WHERE i.id = ?1 AND i.contributor_id = ?3"
                         " AND r.owner_id = ?3)",
                v, 0, &changed, err);
    if (rc != DB_OK || changed)
        return rc;
    /* Nothing changed: fine if both are theirs (already so), else 404. */
    {
        sqlite3 *c = db_conn_get(db);
        sqlite3_stmt *st = NULL;

        rc = db_prepare(c,
                        "SELECT 1 FROM images i JOIN releases r ON r.id = ?2"
                        " WHERE i.id = ?1 AND i.contributor_id = ?3"
                        " AND r.owner_id = ?3",
                        &st, err);
        if (rc == DB_OK) {
            for (int i = 0; i < 3; i++)
                sqlite3_bind_text(st, i + 1, v[i], -1, SQLITE_STATIC);
            rc = sqlite3_step(st);
            rc = rc == SQLITE_ROW    ? DB_OK
                 : rc == SQLITE_DONE ? not_found(0, "image or release", err)
                                     : db_fail(c, rc, "release", err);
        }
        sqlite3_finalize(st);
        db_conn_put(db, c);
    }
    return rc;
}

int
cat_image_flags_get(struct db *db, const char *id, struct cat_image_flags *out,
                    char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(c,
                        "SELECT people, property, editorial, caption"
                        " FROM images WHERE id = ?1",
                        &st, err);

    memset(out, 0, sizeof *out);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->people = sqlite3_column_int(st, 0);
        out->property = sqlite3_column_int(st, 1);
        out->editorial = sqlite3_column_int(st, 2);
        db_col_copy(st, 3, out->caption, sizeof out->caption);
        rc = DB_OK;
    } else if (rc == SQLITE_DONE)
        rc = not_found(0, "image", err);
    else
        rc = db_fail(c, rc, "image", err);
out:
    sqlite3_finalize(st);
    db_conn_put(db, c);
    return rc;
}

int
cat_image_flags_set(struct db *db, const char *id, const char *owner_id,
                    int people, int property, char err[DB_ERR_LEN])
{
    const char *v[4] = {id, owner_id, NULL, NULL};
    int changed = 0;
    int rc = write1(db,
                    "UPDATE images SET"
                    " people = CASE WHEN ?5 & 3 = 3 THEN people"
                    "  ELSE (?5 & 1) END,"
                    " property = CASE WHEN ?5 & 12 = 12 THEN property"
                    "  ELSE (?5 & 4) >> 2 END"
                    " WHERE id = ?1 AND (?2 IS NULL OR contributor_id = ?2)",
                    v,
                    (people < 0 ? 3
                     : people   ? 1
                                : 0) |
                        (property < 0 ? 12
                         : property   ? 4
                                      : 0),
                    &changed, err);

    return rc == DB_OK ? not_found(changed, "image", err) : rc;
}

int
cat_image_editorial(struct db *db, const char *id, const char *owner_id,
                    int editorial, const char *caption, char err[DB_ERR_LEN])
{
    const char *v[4] = {id, owner_id, caption ? caption : "", NULL};
    int changed = 0;
    int rc = write1(db,
                    "UPDATE images SET editorial = ?5,"
                    " caption = CASE WHEN ?5 THEN ?3 ELSE caption END,"
                    " status = CASE WHEN ?5 = 0 AND editorial = 1"
                    "  AND status = 'approved' THEN 'pending_review'"
                    "  ELSE status END"
                    " WHERE id = ?1 AND (?2 IS NULL OR contributor_id = ?2)",
                    v, editorial != 0, &changed, err);

    return rc == DB_OK ? not_found(changed, "image", err) : rc;
}

int
cat_licence_editorial(struct db *db, const char *licence_id,
                      const char *image_id, int *editorial,
                      char err[DB_ERR_LEN])
{
    const char *v[4] = {licence_id, image_id, NULL, NULL};
    sqlite3 *c;
    sqlite3_stmt *st = NULL;
    int rc = write1(db,
                    "INSERT OR IGNORE INTO licence_terms (licence_id,"
                    " editorial) SELECT ?1, editorial FROM images"
                    " WHERE id = ?2",
                    v, 0, NULL, err);

    if (rc != DB_OK)
        return rc;
    c = db_conn_get(db);
    rc = db_prepare(c,
                    "SELECT editorial FROM licence_terms WHERE licence_id = ?1",
                    &st, err);
    if (rc == DB_OK) {
        sqlite3_bind_text(st, 1, licence_id, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        *editorial = rc == SQLITE_ROW && sqlite3_column_int(st, 0);
        rc = rc == SQLITE_ROW || rc == SQLITE_DONE
                 ? DB_OK
                 : db_fail(c, rc, "licence terms", err);
    }
    sqlite3_finalize(st);
    db_conn_put(db, c);
    return rc;
}
