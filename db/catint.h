/* Stockroom — what the catalogue's files share and nobody else: paging
 * cursors and page sizes, the columns of an image and of a search result
 * row, keyword normalising, the near-duplicate index and the job queue. */
#ifndef STOCKROOM_CATINT_H
#define STOCKROOM_CATINT_H

#include "catalog.h"
#include "dbint.h"

/* Paging (cat_page.c). */

/* Cursor kinds: a cursor made for one list is refused by another. */
enum {
    CAT__CUR_MINE = 'm',      /* contributor's own images: seq */
    CAT__CUR_QUEUE = 'q',     /* review queue: seq */
    CAT__CUR_RELEVANCE = 'r', /* bm25 rank (double bits), seq */
    CAT__CUR_NEWEST = 'n',    /* approved_at, seq */
    CAT__CUR_POPULAR = 'p',   /* licences_sold, seq */
    CAT__CUR_LIGHTBOX = 'l'   /* added_at, seq */
};

/* Write the cursor of (key, seq) for kind into out. */
void cat__cursor_make(char out[CAT_CURSOR_LEN], int kind, int64_t key,
                      int64_t seq);

/* Read a cursor of kind: 0 with *key and *seq set, 1 when s is NULL or ""
 * (first page: both left alone), DB_EINVAL when malformed or of another
 * kind. */
int cat__cursor_parse(const char *s, int kind, int64_t *key, int64_t *seq,
                      char err[DB_ERR_LEN]) DB_WUR;

/* A requested page size made valid: 0 is the default, capped at the max. */
int cat__page_size(int limit);

/* Columns and joins of a cat_item, for "SELECT " CAT__ITEM_COLS ... FROM
 * images i JOIN users u ON u.id = i.contributor_id; cat__item_row reads
 * them from column 0 on. */
#define CAT__ITEM_COLS                                                         \
    "i.id, i.title, i.width, i.height, i.contributor_id, u.name, "             \
    "i.thumb_etag, i.colour, i.licences_sold, i.created_at, i.approved_at, "   \
    "i.editorial"
#define CAT__ITEM_NCOLS 12

void cat__item_row(sqlite3_stmt *st, struct cat_item *it);

/* Append a zeroed item to l, growing it; NULL when out of memory. */
struct cat_item *cat__list_push(struct cat_list *l);

/* Browsing (cat_browse.c). */

/* The SQL condition (" AND ...", on alias i) of an orientation name, or
 * NULL when it is none; static. */
const char *cat__orientation_sql(const char *name);

/* A search with no text, q's filters already checked: a page of at most
 * page items in kind's order (CAT__CUR_NEWEST or _POPULAR), after (key,
 * seq) when cursor is set, into out (empty on entry). A page may come
 * back short with a next_cursor when its walk ran out of budget. */
int cat__browse(struct db *db, const struct cat_query *q, int kind, int cursor,
                int64_t key, int64_t seq, int page, struct cat_list *out,
                char err[DB_ERR_LEN]) DB_WUR;

/* Images (cat_images.c). */

/* Every column of struct cat_image, the queue position counted through the
 * partial index of pending images. */
#define CAT__IMAGE_COLS                                                        \
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
#define CAT__IMAGE_SEQ_COL 31

/* Bind s to parameter i, or NULL when s is NULL or "". */
void cat__bind_opt(sqlite3_stmt *st, int i, const char *s);

/* DB_OK when an image with this id exists, DB_ENOTFOUND (err says so) when
 * not, or the failure. */
int cat__image_exists(sqlite3 *c, const char *id, char err[DB_ERR_LEN]) DB_WUR;

/* Run a page query of CAT__IMAGE_COLS bound to (?1 key text, ?2 cursor seq,
 * ?3 limit + 1) and fill l with the page and its next cursor of kind; with
 * matches set, each image also gets its near duplicates. The caller
 * releases l with cat_image_list_release, also after an error. */
int cat__image_page(struct db *db, const char *sql, const char *key, int kind,
                    const char *cursor, int limit, int matches,
                    struct cat_image_list *l, char err[DB_ERR_LEN]) DB_WUR;

/* Keywords (cat_keywords.c). */

#define CAT__KEYWORDS_BUF (CAT_KEYWORDS_MAX * (CAT_KEYWORD_MAX + 1) + 1)

/* Normalise a comma-separated keyword list into out (CAT__KEYWORDS_BUF
 * bytes): trimmed, lower-cased, one space inside, empty items and
 * duplicates dropped, first-seen order kept. DB_EINVAL over a limit. */
int cat__keywords_normalise(const char *in, char *out,
                            char err[DB_ERR_LEN]) DB_WUR;

/* The near-duplicate index (cat_near.c). */

#define CAT__MATCHES_MAX 64 /* near duplicates kept per upload */

struct cat__near {
    int64_t seq; /* the other image */
    int distance, variant;
};

/* Inside a transaction: every stored image whose upright hash is within
 * CAT_NEAR_DIST of one of h[0..7], at most CAT__MATCHES_MAX (the closest),
 * into m and *n. */
int cat__near_find(sqlite3 *c, const uint64_t h[8], struct cat__near *m, int *n,
                   char err[DB_ERR_LEN]) DB_WUR;

/* Inside a transaction: record the matches of image seq in both
 * directions. */
int cat__near_store(sqlite3 *c, int64_t seq, const struct cat__near *m, int n,
                    char err[DB_ERR_LEN]) DB_WUR;

/* An image's matches, closest first, in a new array (*out, caller frees
 * with cat_matches_free; NULL when none) and *n_out. */
int cat__matches_load(sqlite3 *c, const char *id, struct cat_match **out,
                      int *n_out, char err[DB_ERR_LEN]) DB_WUR;

/* The render queue (cat_jobs.c). */

/* Inside a transaction: queue image_id's render job, held until
 * cat_job_release. */
int cat__job_queue(sqlite3 *c, const char *image_id,
                   char err[DB_ERR_LEN]) DB_WUR;

/* Trust and safety (cat_safety.c). */

/* Inside a transaction: a pending image without a title or with fewer
 * than min_keywords keywords becomes a draft. */
int cat__hold_draft(sqlite3 *c, const char *image_id, int min_keywords,
                    char err[DB_ERR_LEN]) DB_WUR;

struct cat_safety;

/* The off-sale and appeal columns of image id (cat_safety.h). */
int cat__safety_read(sqlite3 *c, const char *id, struct cat_safety *out,
                     char err[DB_ERR_LEN]) DB_WUR;

#endif
