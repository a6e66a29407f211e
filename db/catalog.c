/* Stockroom — the catalogue: images, the render queue, review and
 * near-duplicate matches. Search is in cat_search.c, lightboxes in
 * cat_lightbox.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catint.h"

/* Full-text search indexes approved images only: its content table is a
 * view of them, so even an FTS5 'rebuild' cannot pick up a rejected image,
 * and the triggers keep it in step with images inside the writing
 * transaction. seq is an INTEGER PRIMARY KEY so that rowids survive VACUUM
 * (FTS5 external content refers to them).
 *
 * Near duplicates: the 64-bit difference hash is cut into four 16-bit bands
 * (generated columns, each indexed with the hash so candidates are checked
 * without visiting the table). Two hashes within distance 7 differ by at
 * most one bit in some band (pigeonhole), so probing each band's value and
 * its 16 one-bit neighbours finds every match at CAT_NEAR_DIST 6. */
/* A new upload's job waits this long (seconds) for the server to store the
 * original and release it; a process that died in between left a held job
 * that start-up releases, to fail it as interrupted. */
#define HOLD_S "300"

const char db_schema_catalog[] =
    "CREATE TABLE images ("
    "  seq INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE,"
    "  contributor_id TEXT NOT NULL REFERENCES users(id),"
    "  status TEXT NOT NULL CHECK (status IN ('processing', 'pending_review',"
    "    'approved', 'rejected', 'failed')),"
    "  title TEXT NOT NULL,"
    "  description TEXT NOT NULL,"
    "  keywords TEXT NOT NULL,"
    "  width INTEGER NOT NULL CHECK (width > 0),"
    "  height INTEGER NOT NULL CHECK (height > 0),"
    "  format TEXT NOT NULL CHECK (format IN ('jpeg', 'png', 'webp', 'tiff',"
    "    'heif')),"
    "  mime TEXT NOT NULL,"
    "  file_size INTEGER NOT NULL,"
    "  sha256 TEXT NOT NULL UNIQUE,"
    "  camera_make TEXT,"
    "  camera_model TEXT,"
    "  date_taken TEXT,"
    "  colour TEXT,"
    "  dhash INTEGER NOT NULL,"
    "  band0 INTEGER GENERATED ALWAYS AS (dhash & 65535) VIRTUAL,"
    "  band1 INTEGER GENERATED ALWAYS AS ((dhash >> 16) & 65535) VIRTUAL,"
    "  band2 INTEGER GENERATED ALWAYS AS ((dhash >> 32) & 65535) VIRTUAL,"
    "  band3 INTEGER GENERATED ALWAYS AS ((dhash >> 48) & 65535) VIRTUAL,"
    "  watermark_seed INTEGER NOT NULL,"
    "  thumb_etag TEXT,"
    "  preview_etag TEXT,"
    "  reject_code TEXT,"
    "  reject_reason TEXT,"
    "  fail_reason TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  reviewed_at INTEGER,"
    "  reviewed_by TEXT REFERENCES users(id),"
    "  approved_at INTEGER,"
    "  views INTEGER NOT NULL DEFAULT 0,"
    "  licences_sold INTEGER NOT NULL DEFAULT 0"
    ") STRICT;"
    "CREATE INDEX images_mine ON images(contributor_id, seq);"
    "CREATE INDEX images_queue ON images(seq)"
    "  WHERE status = 'pending_review';"
    "CREATE INDEX images_newest ON images(approved_at)"
    "  WHERE status = 'approved';"
    "CREATE INDEX images_popular ON images(licences_sold)"
    "  WHERE status = 'approved';"
    "CREATE INDEX images_colour ON images(colour, approved_at)"
    "  WHERE status = 'approved';"
    "CREATE INDEX images_colour_popular ON images(colour, licences_sold)"
    "  WHERE status = 'approved';"
    /* licences_sold makes a contributor's profile totals index-only. */
    "CREATE INDEX images_by ON images(contributor_id, approved_at,"
    "  licences_sold) WHERE status = 'approved';"
    "CREATE INDEX images_band0 ON images(band0, dhash);"
    "CREATE INDEX images_band1 ON images(band1, dhash);"
    "CREATE INDEX images_band2 ON images(band2, dhash);"
    "CREATE INDEX images_band3 ON images(band3, dhash);"
    "CREATE VIEW approved_text AS SELECT seq, title, description, keywords"
    "  FROM images WHERE status = 'approved';"
    /* Prefix indexes for the last word as typed: without them "car"* over
     * a million images merges every car... term's postings (40 ms at 1 M;
     * 10 ms with them, for about half as much index again). */
    "CREATE VIRTUAL TABLE image_fts USING fts5(title, description, keywords,"
    "  content = 'approved_text', content_rowid = 'seq',"
    "  tokenize = 'porter unicode61', prefix = '3 4 5');"
    /* Its terms, for prefix queries (cat_search.c). */
    "CREATE VIRTUAL TABLE image_fts_terms USING fts5vocab(image_fts, 'row');"
    "INSERT INTO image_fts(image_fts, rank)"
    "  VALUES ('rank', 'bm25(3.0, 1.0, 4.0)');"
    "CREATE TRIGGER images_fts_insert AFTER INSERT ON images"
    "  WHEN new.status = 'approved' BEGIN"
    "  INSERT INTO image_fts(rowid, title, description, keywords)"
    "    VALUES (new.seq, new.title, new.description, new.keywords);"
    "END;"
    /* One trigger, delete then insert: two triggers would fire in an order
     * SQLite does not promise. Views and sales do not touch these columns,
     * so counting them never rewrites the index. */
    "CREATE TRIGGER images_fts_update"
    "  AFTER UPDATE OF status, title, description, keywords ON images"
    "  WHEN old.status = 'approved' OR new.status = 'approved' BEGIN"
    "  INSERT INTO image_fts(image_fts, rowid, title, description, keywords)"
    "    SELECT 'delete', old.seq, old.title, old.description, old.keywords"
    "    WHERE old.status = 'approved';"
    "  INSERT INTO image_fts(rowid, title, description, keywords)"
    "    SELECT new.seq, new.title, new.description, new.keywords"
    "    WHERE new.status = 'approved';"
    "END;"
    "CREATE TRIGGER images_fts_delete AFTER DELETE ON images"
    "  WHEN old.status = 'approved' BEGIN"
    "  INSERT INTO image_fts(image_fts, rowid, title, description, keywords)"
    "    VALUES ('delete', old.seq, old.title, old.description, old.keywords);"
    "END;"
    "CREATE TABLE image_matches ("
    "  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
    "  other_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
    "  distance INTEGER NOT NULL,"
    "  variant INTEGER NOT NULL,"
    "  possible_theft INTEGER NOT NULL,"
    "  PRIMARY KEY (image_id, other_id)"
    ") STRICT, WITHOUT ROWID;"
    "CREATE INDEX image_matches_other ON image_matches(other_id);"
    "CREATE TABLE jobs ("
    "  id TEXT PRIMARY KEY,"
    "  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
    "  kind TEXT NOT NULL CHECK (kind IN ('render')),"
    "  state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done',"
    "    'failed')),"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  last_error TEXT,"
    "  claimed_by TEXT,"
    "  lease_until INTEGER,"
    "  created_at INTEGER NOT NULL"
    ") STRICT;"
    /* Finished jobs stay as history; the partial index keeps claiming
     * proportional to the live ones. */
    "CREATE INDEX jobs_live ON jobs(created_at)"
    "  WHERE state IN ('queued', 'running');"
    "CREATE INDEX jobs_image ON jobs(image_id);"
    "CREATE TABLE lightboxes ("
    "  id TEXT PRIMARY KEY,"
    "  owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  name TEXT NOT NULL,"
    "  share_token TEXT UNIQUE,"
    "  created_at INTEGER NOT NULL"
    ") STRICT;"
    "CREATE INDEX lightboxes_owner ON lightboxes(owner_id, created_at);"
    "CREATE TABLE lightbox_items ("
    "  lightbox_id TEXT NOT NULL REFERENCES lightboxes(id) ON DELETE CASCADE,"
    "  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
    /* Unix milliseconds, made strictly increasing within a lightbox so
     * "latest added first" holds for two adds in the same instant. */
    "  added_at INTEGER NOT NULL,"
    "  PRIMARY KEY (lightbox_id, image_id)"
    ") STRICT, WITHOUT ROWID;"
    "CREATE INDEX lightbox_items_image ON lightbox_items(image_id);";

#define KEYWORDS_BUF (CAT_KEYWORDS_MAX * (CAT_KEYWORD_MAX + 1) + 1)
#define BAND_PROBE_MAX                                                         \
    2000               /* rows read per band probe: bounds the cost            \
                          of a degenerate hash (a blank sky) */
#define MATCHES_MAX 64 /* near duplicates kept per upload */

/* The inverse of each IMG_DHASH_* transform: a rotation by 90 is undone by
 * one by 270; every other one undoes itself. */
static const int variant_inverse[8] = {0, 3, 2, 1, 4, 5, 6, 7};

static int
is_space(unsigned char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' ||
           ch == '\v';
}

/* Copy one keyword into dst (cap bytes): trimmed, runs of blanks made one
 * space, ASCII lower-cased (SQLite's lower() does no more either).
 * Returns its length, or -1 when over CAT_KEYWORD_MAX. */
static int
keyword_clean(const char *s, size_t len, char *dst)
{
    size_t n = 0;
    int blank = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];

        if (is_space(ch)) {
            blank = n > 0;
            continue;
        }
        if (n + (size_t)blank + 1 > CAT_KEYWORD_MAX)
            return -1;
        if (blank)
            dst[n++] = ' ';
        blank = 0;
        dst[n++] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
    }
    dst[n] = '\0';
    return (int)n;
}

/* Is the keyword word (len bytes) already one of the comma-joined list? */
static int
keyword_seen(const char *list, const char *word, size_t len)
{
    const char *p = list;

    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);

        if (n == len && memcmp(p, word, len) == 0)
            return 1;
        if (!e)
            break;
        p = e + 1;
    }
    return 0;
}

/* Normalise a comma-separated keyword list into out (KEYWORDS_BUF bytes):
 * empty items dropped, duplicates dropped, first-seen order kept. */
static int
keywords_normalise(const char *in, char *out, char err[DB_ERR_LEN])
{
    size_t used = 0;
    int count = 0;

    out[0] = '\0';
    while (in && *in) {
        const char *e = strchr(in, ',');
        size_t len = e ? (size_t)(e - in) : strlen(in);
        char word[CAT_KEYWORD_MAX + 1];
        int n = len > 4 * CAT_KEYWORD_MAX ? -1 : keyword_clean(in, len, word);

        if (n < 0) {
            snprintf(err, DB_ERR_LEN, "a keyword is longer than %d bytes",
                     CAT_KEYWORD_MAX);
            return DB_EINVAL;
        }
        if (n > 0 && !keyword_seen(out, word, (size_t)n)) {
            if (++count > CAT_KEYWORDS_MAX) {
                snprintf(err, DB_ERR_LEN, "more than %d keywords",
                         CAT_KEYWORDS_MAX);
                return DB_EINVAL;
            }
            if (used)
                out[used++] = ',';
            memcpy(out + used, word, (size_t)n + 1);
            used += (size_t)n;
        }
        in = e ? e + 1 : in + len;
    }
    return DB_OK;
}

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

static void
bind_opt(sqlite3_stmt *st, int i, const char *s)
{
    if (s && *s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

/* Near duplicates. */

struct near {
    int64_t seq; /* the other image */
    int distance, variant;
};

static unsigned
band_of(uint64_t h, int k)
{
    return (unsigned)((h >> (16 * k)) & 0xffff);
}

/* Keep the closest variant per other image; drop the farthest when full. */
static void
near_note(struct near *m, int *n, int64_t seq, int distance, int variant)
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
    if (*n < MATCHES_MAX) {
        m[(*n)++] = (struct near){seq, distance, variant};
    } else if (distance < m[worst].distance) {
        m[worst] = (struct near){seq, distance, variant};
    }
}

/* Find every stored image whose upright hash is within CAT_NEAR_DIST of one
 * of h[0..7]: 8 variants x 4 bands x 17 probes, each an index range read. */
static int
near_find(sqlite3 *c, const uint64_t h[8], struct near *m, int *n,
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
static int
near_store(sqlite3 *c, int64_t seq, const struct near *m, int n,
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

/* Images. */

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
    bind_opt(st, 11, in->camera_make);
    bind_opt(st, 12, in->camera_model);
    bind_opt(st, 13, in->date_taken);
    bind_opt(st, 14, in->colour);
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
    if (rc != DB_OK)
        goto out;
    rc = db_prepare(
        c,
        "INSERT INTO jobs(id, image_id, kind, state, created_at,"
        " lease_until)"
        " VALUES ('j' || lower(hex(randomblob(8))), ?1, 'render', 'queued',"
        " unixepoch(), unixepoch() + " HOLD_S ")",
        &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, id_out, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    rc = rc == SQLITE_DONE ? DB_OK : db_fail(c, rc, "job insert", err);
out:
    sqlite3_finalize(st);
    return rc;
}

int
cat_image_create(struct db *db, const struct cat_new_image *in,
                 char id_out[CAT_ID_LEN], char err[DB_ERR_LEN])
{
    char kw[KEYWORDS_BUF];
    char id[CAT_ID_LEN] = "";
    struct near m[MATCHES_MAX];
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
        rc = keywords_normalise(in->keywords, kw, err);
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
        rc = near_find(c, in->dhash, m, &n, err);
    if (rc == DB_OK)
        rc = image_insert(c, in, kw, &seq, id, err);
    if (rc == DB_OK)
        rc = near_store(c, seq, m, n, err);
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

/* Every column of struct cat_image, the queue position counted through the
 * partial index of pending images. */
#define IMAGE_COLS                                                             \
    "i.id, i.contributor_id, u.name, i.status, i.title, i.description,"        \
    " i.keywords, i.width, i.height, i.format, i.mime, i.file_size,"           \
    " i.sha256, i.camera_make, i.camera_model, i.date_taken, i.colour,"        \
    " i.dhash, i.watermark_seed, i.thumb_etag, i.preview_etag,"                \
    " i.reject_code, i.reject_reason, i.fail_reason, i.created_at,"            \
    " i.reviewed_at, i.reviewed_by, i.approved_at, i.views,"                   \
    " i.licences_sold,"                                                        \
    " CASE WHEN i.status = 'pending_review' THEN (SELECT count(*)"             \
    "  FROM images q WHERE q.status = 'pending_review' AND q.seq <= i.seq)"    \
    "  ELSE 0 END, i.seq"                                                      \
    " FROM images i JOIN users u ON u.id = i.contributor_id "
#define IMAGE_SEQ_COL 31

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

/* Fill img from a row of IMAGE_COLS; DB_EGENERIC when out of memory (img
 * then owns nothing). */
static int
image_row(sqlite3_stmt *st, struct cat_image *img, char err[DB_ERR_LEN])
{
    memset(img, 0, sizeof *img);
    db_col_copy(st, 0, img->id, sizeof img->id);
    db_col_copy(st, 1, img->contributor_id, sizeof img->contributor_id);
    db_col_copy(st, 2, img->contributor_name, sizeof img->contributor_name);
    db_col_copy(st, 3, img->status, sizeof img->status);
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
    static const char sql[] = "SELECT " IMAGE_COLS "WHERE i.id = ?1";
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
    if (strcmp(img->status, "approved") == 0 || viewer_is_reviewer)
        return 1;
    return viewer_id && strcmp(viewer_id, img->contributor_id) == 0;
}

int
cat_image_update_meta(struct db *db, const char *id, const char *owner_id,
                      const char *title, const char *description,
                      const char *keywords, char err[DB_ERR_LEN])
{
    char kw[KEYWORDS_BUF];
    sqlite3 *c = NULL;
    sqlite3_stmt *st = NULL;
    int rc = meta_check(title, description, err);

    if (rc == DB_OK && keywords)
        rc = keywords_normalise(keywords, kw, err);
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

/* Does an image with this id exist? DB_OK, DB_ENOTFOUND or an error. */
static int
image_exists(sqlite3 *c, const char *id, char err[DB_ERR_LEN])
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

/* Read an image's matches, closest first, into a new array. */
static int
matches_load(sqlite3 *c, const char *id, struct cat_match **out, int *n_out,
             char err[DB_ERR_LEN])
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
        db_col_copy(st, 3, m[n].other_status, sizeof m[n].other_status);
        m[n].distance = sqlite3_column_int(st, 4);
        m[n].variant = sqlite3_column_int(st, 5);
        m[n].possible_theft = sqlite3_column_int(st, 6);
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
    int rc = image_exists(c, id, err);

    if (rc == DB_OK)
        rc = matches_load(c, id, out, n_out, err);
    db_conn_put(db, c);
    return rc;
}

void
cat_matches_free(struct cat_match *m)
{
    free(m);
}

void
cat_image_list_release(struct cat_image_list *l)
{
    for (int i = 0; i < l->n; i++)
        image_release(&l->items[i]);
    free(l->items);
    memset(l, 0, sizeof *l);
}

/* Run a page query of IMAGE_COLS bound to (?1 text, ?2 cursor seq, ?3
 * limit + 1) and fill l; the extra row only says that a next page exists.
 * With matches set, each image also gets its near duplicates. */
static int
image_page(struct db *db, const char *sql, const char *key, int kind,
           const char *cursor, int limit, int matches, struct cat_image_list *l,
           char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    int64_t after = kind == CAT_CUR_QUEUE ? 0 : INT64_MAX, unused = 0;
    int64_t last = 0;
    int rc = cat_cursor_parse(cursor, kind, &unused, &after, err);
    int src, page = cat_page_size(limit);

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
            cat_cursor_make(l->next_cursor, kind, 0, last);
            break;
        }
        rc = image_row(st, &l->items[l->n], err);
        if (rc != DB_OK)
            goto out;
        last = sqlite3_column_int64(st, IMAGE_SEQ_COL);
        l->n++;
    }
    if (src != SQLITE_ROW && src != SQLITE_DONE) {
        rc = db_fail(c, src, "image list", err);
        goto out;
    }
    rc = DB_OK;
    for (int i = 0; matches && i < l->n && rc == DB_OK; i++)
        rc = matches_load(c, l->items[i].id, &l->items[i].matches,
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
    return image_page(db,
                      "SELECT " IMAGE_COLS
                      "WHERE i.contributor_id = ?1 AND i.seq < ?2"
                      " ORDER BY i.seq DESC LIMIT ?3",
                      contributor_id, CAT_CUR_MINE, cursor, limit, 0, out, err);
}

int
cat_review_queue(struct db *db, const char *cursor, int limit,
                 struct cat_image_list *out, char err[DB_ERR_LEN])
{
    return image_page(db,
                      "SELECT " IMAGE_COLS
                      "WHERE i.status = 'pending_review' AND i.seq > ?2"
                      " ORDER BY i.seq LIMIT ?3",
                      NULL, CAT_CUR_QUEUE, cursor, limit, 1, out, err);
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

/* The render queue. */

int
cat_job_claim(struct db *db, int64_t now, int lease_seconds,
              struct cat_job *out, char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    /* One UPDATE takes the write lock before it reads, so two workers
     * never claim the same job. The state IN (...) term matches the
     * partial index jobs_live. */
    int rc =
        db_prepare(c,
                   "UPDATE jobs SET state = 'running', attempts = attempts + 1,"
                   " lease_until = ?1 + ?2,"
                   " claimed_by = 'c' || lower(hex(randomblob(8)))"
                   " WHERE rowid = (SELECT rowid FROM jobs"
                   "  WHERE state IN ('queued', 'running')"
                   "  AND (lease_until IS NULL OR lease_until <= ?1)"
                   "  ORDER BY created_at, rowid LIMIT 1)"
                   " RETURNING id, image_id, kind, attempts, claimed_by",
                   &st, err);

    if (rc != DB_OK)
        goto out;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int(st, 2, lease_seconds);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        db_col_copy(st, 0, out->id, sizeof out->id);
        db_col_copy(st, 1, out->image_id, sizeof out->image_id);
        db_col_copy(st, 2, out->kind, sizeof out->kind);
        out->attempts = sqlite3_column_int(st, 3);
        db_col_copy(st, 4, out->claim, sizeof out->claim);
        /* Step to the end so the statement's transaction commits. */
        rc = sqlite3_step(st);
        rc = rc == SQLITE_DONE ? DB_OK : db_fail(c, rc, "job claim", err);
    } else if (rc == SQLITE_DONE) {
        snprintf(err, DB_ERR_LEN, "no job waiting");
        rc = DB_ENOTFOUND;
    } else {
        rc = db_fail(c, rc, "job claim", err);
    }
out:
    sqlite3_finalize(st);
    db_conn_put(db, c);
    return rc;
}

/* Inside a transaction: the image and attempts of a running job. */
static int
job_running(sqlite3 *c, const char *job_id, char image_id[CAT_ID_LEN],
            int *attempts, char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(c,
                        "SELECT image_id, attempts, state FROM jobs"
                        " WHERE id = ?1",
                        &st, err);

    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, job_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        db_col_copy(st, 0, image_id, CAT_ID_LEN);
        *attempts = sqlite3_column_int(st, 1);
        rc = DB_OK;
        if (strcmp((const char *)sqlite3_column_text(st, 2), "running")) {
            snprintf(err, DB_ERR_LEN, "job is not running");
            rc = DB_ECONFLICT;
        }
    } else if (rc == SQLITE_DONE) {
        snprintf(err, DB_ERR_LEN, "no such job");
        rc = DB_ENOTFOUND;
    } else {
        rc = db_fail(c, rc, "job lookup", err);
    }
out:
    sqlite3_finalize(st);
    return rc;
}

/* Inside a transaction: run sql bound to up to three texts. */
static int
exec3(sqlite3 *c, const char *sql, const char *a, const char *b, const char *d,
      char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(c, sql, &st, err);

    if (rc != DB_OK)
        return rc;
    sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
    if (b)
        sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
    if (d)
        sqlite3_bind_text(st, 3, d, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    rc = rc == SQLITE_DONE ? DB_OK : db_fail(c, rc, "update", err);
    sqlite3_finalize(st);
    return rc;
}

int
cat_job_done(struct db *db, const char *job_id, const char *thumb_etag,
             const char *preview_etag, char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    char image_id[CAT_ID_LEN];
    int attempts;
    int rc = db_begin(c, err);

    if (rc == DB_OK)
        rc = job_running(c, job_id, image_id, &attempts, err);
    if (rc == DB_OK)
        rc = exec3(c,
                   "UPDATE jobs SET state = 'done', lease_until = NULL"
                   " WHERE id = ?1",
                   job_id, NULL, NULL, err);
    if (rc == DB_OK)
        rc = exec3(c,
                   "UPDATE images SET thumb_etag = ?2, preview_etag = ?3,"
                   " status = CASE status WHEN 'processing'"
                   "  THEN 'pending_review' ELSE status END WHERE id = ?1",
                   image_id, thumb_etag, preview_etag, err);
    if (rc == DB_OK)
        rc = db_commit(c, err);
    if (rc != DB_OK)
        db_rollback(c);
    db_conn_put(db, c);
    return rc;
}

int
cat_job_fail(struct db *db, const char *job_id, const char *reason,
             int max_attempts, char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    char image_id[CAT_ID_LEN];
    int attempts = 0;
    int rc = db_begin(c, err);

    if (rc == DB_OK)
        rc = job_running(c, job_id, image_id, &attempts, err);
    if (rc == DB_OK && attempts < max_attempts) {
        rc = exec3(c,
                   "UPDATE jobs SET state = 'queued', last_error = ?2,"
                   " lease_until = NULL WHERE id = ?1",
                   job_id, reason, NULL, err);
    } else if (rc == DB_OK) {
        rc = exec3(c,
                   "UPDATE jobs SET state = 'failed', last_error = ?2,"
                   " lease_until = NULL WHERE id = ?1",
                   job_id, reason, NULL, err);
        if (rc == DB_OK)
            rc = exec3(c,
                       "UPDATE images SET status = 'failed',"
                       " fail_reason = ?2"
                       " WHERE id = ?1 AND status = 'processing'",
                       image_id, reason, NULL, err);
    }
    if (rc == DB_OK)
        rc = db_commit(c, err);
    if (rc != DB_OK)
        db_rollback(c);
    db_conn_put(db, c);
    return rc;
}

int
cat_job_release(struct db *db, const char *image_id, char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(c,
                        "UPDATE jobs SET lease_until = NULL"
                        " WHERE image_id = ?1 AND state = 'queued'",
                        &st, err);

    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, image_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    rc = rc == SQLITE_DONE ? DB_OK : db_fail(c, rc, "job release", err);
out:
    sqlite3_finalize(st);
    db_conn_put(db, c);
    return rc;
}

int
cat_jobs_reset(struct db *db, char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    int rc = db_prepare(c,
                        "UPDATE jobs SET state = 'queued',"
                        " lease_until = NULL WHERE state = 'running'"
                        " OR (state = 'queued' AND lease_until IS NOT NULL)",
                        &st, err);

    if (rc != DB_OK)
        goto out;
    rc = sqlite3_step(st);
    rc = rc == SQLITE_DONE ? sqlite3_changes(c)
                           : db_fail(c, rc, "job reset", err);
out:
    sqlite3_finalize(st);
    db_conn_put(db, c);
    return rc;
}

/* Review. */

int
cat_review_decide(struct db *db, const char *id, const char *reviewer_id,
                  int approve, const char *reason_code, const char *reason_text,
                  char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    sqlite3_stmt *st = NULL;
    int rc = db_begin(c, err);

    if (rc != DB_OK)
        goto out;
    rc =
        db_prepare(c,
                   "UPDATE images SET"
                   " status = CASE WHEN ?3 THEN 'approved' ELSE 'rejected' END,"
                   " reviewed_at = unixepoch(), reviewed_by = ?2,"
                   " approved_at = CASE WHEN ?3 THEN unixepoch() END,"
                   " reject_code = CASE WHEN ?3 THEN NULL ELSE ?4 END,"
                   " reject_reason = CASE WHEN ?3 THEN NULL ELSE ?5 END"
                   " WHERE id = ?1 AND status = 'pending_review'",
                   &st, err);
    if (rc != DB_OK)
        goto out;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, reviewer_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, approve != 0);
    bind_opt(st, 4, reason_code);
    bind_opt(st, 5, reason_text);
    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        rc = db_fail(c, rc, "review", err);
        goto out;
    }
    if (sqlite3_changes(c) == 0) {
        rc = image_exists(c, id, err);
        if (rc == DB_OK) {
            snprintf(err, DB_ERR_LEN, "image is not waiting for review");
            rc = DB_ECONFLICT;
        }
        goto out;
    }
    rc = db_commit(c, err);
out:
    if (rc != DB_OK)
        db_rollback(c);
    sqlite3_finalize(st);
    db_conn_put(db, c);
    return rc;
}
