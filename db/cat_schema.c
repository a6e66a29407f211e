/* Stockroom — the catalogue's schema: images, the search index and its
 * triggers, near-duplicate matches, render jobs and lightboxes, applied as
 * one numbered migration. */
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
