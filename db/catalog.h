/* Stockroom — the catalogue in SQLite: images and their states, the durable
 * render queue, review, near-duplicate matches, full-text search, views,
 * popularity and lightboxes. Knows nothing of HTTP, JSON or pixels: the
 * server analyses uploads and renders; this module stores what it is given.
 *
 * Every function may be called from any thread: each borrows a pooled
 * connection for the length of the call and keeps no pointer to its
 * arguments. Fallible functions return DB_OK or a negative DB_ code and
 * write the reason into err. */
#ifndef STOCKROOM_CATALOG_H
#define STOCKROOM_CATALOG_H

#include <stdint.h>

#include "db.h"
#include "status.h"

#define CAT_ID_LEN 24     /* "i" + 16 hex digits, NUL; users' ids fit */
#define CAT_TOKEN_LEN 40  /* lightbox share token: 32 hex digits, NUL */
#define CAT_CURSOR_LEN 48 /* an opaque paging cursor, NUL included */
#define CAT_ETAG_LEN 72
#define CAT_NAME_LEN 128 /* user and lightbox names */
#define CAT_SHORT_LEN 64 /* format, mime, colour, status, codes */

#define CAT_TITLE_MAX 200   /* bytes; longer titles are DB_EINVAL */
#define CAT_DESC_MAX 2000   /* bytes */
#define CAT_KEYWORDS_MAX 50 /* keywords per image after normalising */
#define CAT_KEYWORD_MAX 48  /* bytes per keyword */
#define CAT_LIST_MAX 100    /* largest page of any list */
#define CAT_LIST_DEFAULT 24 /* page size when the caller passes 0 */
#define CAT_QUERY_TERMS 16  /* words or phrases kept from a search text */
#define CAT_TEXT_WINDOW                                                        \
    2000                        /* a text search sorts the newest this many    \
                                   matches: see cat_search */
#define CAT_NEAR_DIST 6         /* Hamming distance of a near duplicate */
#define CAT_LIGHTBOX_ITEMS 1000 /* images per lightbox */

/* Images (cat_images.c). */

/* What the server learnt about an upload. Strings are borrowed for the call;
 * NULL and "" both mean absent for the optional ones. */
struct cat_new_image {
    const char *contributor_id;
    const char *title;       /* <= CAT_TITLE_MAX bytes, may be "" */
    const char *description; /* <= CAT_DESC_MAX bytes, may be NULL */
    const char *keywords;    /* comma-separated, normalised here */
    int width, height;       /* upright pixels */
    const char *format;      /* "jpeg" "png" "webp" "tiff" "heif" */
    const char *mime;
    int64_t file_size;
    const char *sha256; /* 64 lower-case hex digits of the original */
    const char *camera_make, *camera_model, *date_taken; /* optional */
    const char *colour; /* palette name, optional */
    uint64_t dhash[8];  /* [0] upright, [1..7] in imaging's
                           IMG_DHASH_* order (rot90 ... transverse) */
    int64_t watermark_seed;
};

/* A near duplicate of an image, seen from that image. */
struct cat_match {
    char other_id[CAT_ID_LEN];
    char other_contributor_id[CAT_ID_LEN];
    char other_title[CAT_TITLE_MAX + 1];
    enum db_img_status other_status;
    int distance;       /* Hamming distance, 0..CAT_NEAR_DIST */
    int variant;        /* which IMG_DHASH_* of this image matched the
                           other's upright hash: 0 same way up, else
                           a rotated or mirrored copy */
    int possible_theft; /* 1: the other belongs to someone else */
};

struct cat_image {
    char id[CAT_ID_LEN];
    char contributor_id[CAT_ID_LEN];
    char contributor_name[CAT_NAME_LEN];
    enum db_img_status status;
    char *title;       /* heap, never NULL */
    char *description; /* heap, never NULL ("" when absent) */
    char *keywords;    /* heap, never NULL: "a,b,c" normalised */
    int width, height;
    char format[CAT_SHORT_LEN];
    char mime[CAT_SHORT_LEN];
    int64_t file_size;
    char sha256[65];
    char camera_make[CAT_SHORT_LEN];
    char camera_model[CAT_SHORT_LEN];
    char date_taken[32];
    char colour[CAT_SHORT_LEN];
    uint64_t dhash;
    int64_t watermark_seed;
    char thumb_etag[CAT_ETAG_LEN]; /* "" until the renditions exist */
    char preview_etag[CAT_ETAG_LEN];
    char reject_code[CAT_SHORT_LEN];              /* "" unless rejected */
    char *reject_reason;                          /* heap, never NULL */
    char *fail_reason;                            /* heap, never NULL */
    int64_t created_at, reviewed_at, approved_at; /* unix s; 0 = not yet */
    char reviewed_by[CAT_ID_LEN];
    int64_t views, licences_sold;
    int queue_position;        /* pending_review: 1 = next; else 0 (filled
                                  by cat_image_get and the lists) */
    struct cat_match *matches; /* heap; only cat_review_queue fills it */
    int n_matches;
};

/* A page of images; every list function fills one. */
struct cat_image_list {
    struct cat_image *items;
    int n;
    char next_cursor[CAT_CURSOR_LEN]; /* "" on the last page */
};

/* Insert an upload in 'processing' and queue its render job, in one
 * transaction, and record its near duplicates: every image (any state, any
 * contributor) whose upright hash is within CAT_NEAR_DIST of any of
 * in->dhash[0..7]. keywords are normalised (trimmed, lower-case, one space
 * inside, de-duplicated, order kept). id_out gets the new id. DB_ECONFLICT
 * when the same sha256 is already stored: id_out then holds that image's id.
 * DB_EINVAL for a field over its limit or more than CAT_KEYWORDS_MAX
 * keywords; DB_ENOTFOUND when the contributor does not exist. */
int cat_image_create(struct db *db, const struct cat_new_image *in,
                     char id_out[CAT_ID_LEN], char err[DB_ERR_LEN]) DB_WUR;

/* Fetch one image with its contributor's name and, when pending, its queue
 * position. DB_ENOTFOUND if absent. The caller frees *out with
 * cat_image_free(). Visibility is the caller's to check:
 * cat_image_is_visible. */
int cat_image_get(struct db *db, const char *id, struct cat_image **out,
                  char err[DB_ERR_LEN]) DB_WUR;

/* Free an image from cat_image_get; accepts NULL. */
void cat_image_free(struct cat_image *img);

/* May viewer_id (NULL: anonymous) see img? Approved images: anyone; any
 * other state: the owner and reviewers only. Returns 1 or 0; pure. */
int cat_image_is_visible(const struct cat_image *img, const char *viewer_id,
                         int viewer_is_reviewer);

/* Change what is not NULL of title, description and keywords (keywords
 * normalised as at create). An approved image's search entry follows at
 * once. DB_ENOTFOUND unless the image exists and owner_id owns it;
 * DB_EINVAL over a limit. */
int cat_image_update_meta(struct db *db, const char *id, const char *owner_id,
                          const char *title, const char *description,
                          const char *keywords, char err[DB_ERR_LEN]) DB_WUR;

/* One image's images, newest upload first, every state, with reasons and
 * queue positions. cursor: "" or NULL for the first page, else a
 * next_cursor from before. limit 0 means CAT_LIST_DEFAULT, at most
 * CAT_LIST_MAX. DB_EINVAL on a malformed cursor. The caller releases *out
 * with cat_image_list_release, also after an error. */
int cat_images_of_contributor(struct db *db, const char *contributor_id,
                              const char *cursor, int limit,
                              struct cat_image_list *out,
                              char err[DB_ERR_LEN]) DB_WUR;

/* Free what a list holds and empty it; the struct itself is the caller's. */
void cat_image_list_release(struct cat_image_list *l);

/* Add counts[i] views to ids[i], for i < n, in one transaction: the server
 * counts in memory and flushes every few seconds. Unknown ids and counts
 * below 1 are skipped; DB_OK unless the write itself failed. */
int cat_views_add(struct db *db, const char *const *ids, const int *counts,
                  int n, char err[DB_ERR_LEN]) DB_WUR;

/* Near duplicates (cat_near.c). */

/* The near duplicates of an image, closest first (at most CAT_LIST_MAX),
 * in *out (n in *n_out; NULL when there are none). The caller frees *out
 * with cat_matches_free(). DB_ENOTFOUND if the image is absent. */
int cat_image_matches(struct db *db, const char *id, struct cat_match **out,
                      int *n_out, char err[DB_ERR_LEN]) DB_WUR;

/* Free a cat_match array from cat_image_matches; accepts NULL. */
void cat_matches_free(struct cat_match *m);

/* The render queue (cat_jobs.c). A job is DB_JOB_QUEUED, DB_JOB_RUNNING
 * under a lease, DB_JOB_DONE or DB_JOB_FAILED. Work of a dead worker comes
 * back when its lease runs out (or at once through cat_jobs_reset at
 * start-up). */

struct cat_job {
    char id[CAT_ID_LEN];
    char image_id[CAT_ID_LEN];
    char kind[CAT_SHORT_LEN]; /* "render" */
    int attempts;             /* including this claim */
    char claim[CAT_ID_LEN];   /* random token of this claim, for logs */
};

/* Take the oldest queued job, or a running one whose lease ended before
 * now; it becomes 'running' until now + lease_seconds and its attempts go
 * up by one. DB_ENOTFOUND when there is none. A job that keeps killing its
 * worker comes back with attempts past the caller's maximum: call
 * cat_job_fail on it at once. */
int cat_job_claim(struct db *db, int64_t now, int lease_seconds,
                  struct cat_job *out, char err[DB_ERR_LEN]) DB_WUR;

/* A running job finished: it becomes 'done' and its image, if still
 * 'processing', 'pending_review' with the renditions' etags, in one
 * transaction; or 'draft' when min_keywords > 0 and the image has no title
 * or fewer keywords (the submission rules; 0 turns them off).
 * DB_ENOTFOUND if no such job; DB_ECONFLICT unless running. */
int cat_job_done(struct db *db, const char *job_id, const char *thumb_etag,
                 const char *preview_etag, int min_keywords,
                 char err[DB_ERR_LEN]) DB_WUR;

/* A running job failed with reason: back to 'queued' while its attempts are
 * below max_attempts, else 'failed' and its image 'failed' with the reason,
 * in one transaction. DB_ENOTFOUND / DB_ECONFLICT as cat_job_done. */
int cat_job_fail(struct db *db, const char *job_id, const char *reason,
                 int max_attempts, char err[DB_ERR_LEN]) DB_WUR;

/* cat_image_create queues the render job held, so no worker takes it
 * before the original is stored; release it once it is. DB_OK also when
 * image_id has no held job. */
int cat_job_release(struct db *db, const char *image_id,
                    char err[DB_ERR_LEN]) DB_WUR;

/* At start-up, before any worker runs: every running job goes back to
 * queued, since the process that held it is gone, and held jobs are
 * released. Returns how many (>= 0), or a negative DB_ code. */
int cat_jobs_reset(struct db *db, char err[DB_ERR_LEN]) DB_WUR;

/* Held edits (cat_edits.c): changes to an approved image's text wait for
 * a reviewer; the approved text stays public meanwhile. */

struct cat_edit {
    char title[CAT_TITLE_MAX + 1];
    char description[CAT_DESC_MAX + 1];
    char keywords[CAT_KEYWORDS_MAX * (CAT_KEYWORD_MAX + 1) + 1]; /* "a,b" */
    int64_t created_at; /* unix s of the latest change */
};

/* Hold a change (NULL fields: unchanged) to approved image id of owner_id
 * for review, merged into the edit held before if any; keywords are
 * normalised as on upload. DB_ENOTFOUND unless id is an approved image of
 * owner_id; DB_EINVAL on text too long or bad keywords. */
int cat_edit_hold(struct db *db, const char *id, const char *owner_id,
                  const char *title, const char *description,
                  const char *keywords, char err[DB_ERR_LEN]) DB_WUR;

/* The edit held for image id into out; DB_ENOTFOUND when none. */
int cat_edit_get(struct db *db, const char *id, struct cat_edit *out,
                 char err[DB_ERR_LEN]) DB_WUR;

/* Decide the edit held for id: approval makes it the image's text (and
 * searchable) when this returns, rejection drops it. DB_ECONFLICT when no
 * edit is held. */
int cat_edit_decide(struct db *db, const char *id, int approve,
                    char err[DB_ERR_LEN]) DB_WUR;

/* Review (cat_review.c). */

/* Images waiting for review, and approved images with a held edit (see
 * cat_edit_get), oldest first, each with its near duplicates in
 * matches (closest first) and its queue_position. cursor and limit as in
 * cat_images_of_contributor; release with cat_image_list_release. */
int cat_review_queue(struct db *db, const char *cursor, int limit,
                     struct cat_image_list *out, char err[DB_ERR_LEN]) DB_WUR;

/* Approve (approve != 0) or reject a pending image. Rejection keeps
 * reason_code (validated by the server) and reason_text; approval ignores
 * them. An approved image is searchable when this returns. DB_ENOTFOUND if
 * absent; DB_ECONFLICT unless 'pending_review' (decided already, or still
 * processing). */
int cat_review_decide(struct db *db, const char *id, const char *reviewer_id,
                      int approve, const char *reason_code,
                      const char *reason_text, char err[DB_ERR_LEN]) DB_WUR;

/* Search (cat_search.c; paging in cat_page.c). Only approved images are
 * ever found. */

enum cat_sort {
    CAT_SORT_DEFAULT = 0, /* relevance with text, newest without */
    CAT_SORT_RELEVANCE,   /* without text: same as newest */
    CAT_SORT_NEWEST,
    CAT_SORT_POPULAR /* licences sold */
};

enum cat_editorial {
    CAT_EDITORIAL_ANY = 0,
    CAT_EDITORIAL_ONLY, /* editorial photos only */
    CAT_EDITORIAL_NONE  /* those also for commercial use */
};

struct cat_query {
    const char *text;           /* user input, any bytes; NULL or "" */
    const char *orientation;    /* "landscape" "portrait" "square" or NULL */
    double min_megapixels;      /* 0: any */
    const char *colour;         /* palette name or NULL */
    const char *contributor_id; /* or NULL */
    enum cat_editorial editorial;
    enum cat_sort sort;
    int limit;          /* 0: CAT_LIST_DEFAULT; at most CAT_LIST_MAX */
    const char *cursor; /* NULL or "" first page, else a next_cursor */
};

struct cat_item {
    char id[CAT_ID_LEN];
    char title[CAT_TITLE_MAX + 1];
    int width, height;
    char contributor_id[CAT_ID_LEN];
    char contributor_name[CAT_NAME_LEN];
    char thumb_etag[CAT_ETAG_LEN];
    char colour[CAT_SHORT_LEN];
    int64_t licences_sold;
    int64_t created_at, approved_at;
    int editorial; /* for editorial use only */
};

struct cat_list {
    struct cat_item *items; /* heap; release with cat_list_release */
    int n;
    char next_cursor[CAT_CURSOR_LEN]; /* "" on the last page */
};

/* Run a search. The text is never an error: it is cut into at most
 * CAT_QUERY_TERMS words and "quoted phrases", FTS5 operators and column
 * filters are dropped, invalid UTF-8 separates words, and the last word
 * (3 bytes or more) is also matched as a prefix; text with no word left
 * lists everything. Ranking is bm25 with keywords 4, title 3, description 1.
 * With text, only the CAT_TEXT_WINDOW most recently uploaded matches are
 * filtered and sorted, which bounds the cost of a common word; without
 * text every approved image is. Paging is by keyset: no item twice or
 * skipped while the catalogue stands still; as images arrive, newest and
 * popular pages stay exact apart from the new ones, relevance pages may
 * shift (new documents change every bm25 score).
 * DB_EINVAL for a bad orientation or a cursor that is malformed or from
 * another sort. The caller releases *out with cat_list_release, also after
 * an error. Read-only; thread-safe. */
int cat_search(struct db *db, const struct cat_query *q, struct cat_list *out,
               char err[DB_ERR_LEN]) DB_WUR;

/* Free the items of a list and empty it; accepts an empty list. The
 * struct itself is the caller's. */
void cat_list_release(struct cat_list *l);

/* Approved images like id: near duplicates first (closest first), then
 * those sharing the most keywords; never id itself. limit 0 means 12.
 * DB_ENOTFOUND if id is absent. Release with cat_list_release. */
int cat_similar(struct db *db, const char *id, int limit, struct cat_list *out,
                char err[DB_ERR_LEN]) DB_WUR;

struct cat_profile {
    char id[CAT_ID_LEN];
    char name[CAT_NAME_LEN];
    int64_t approved_images;
    int64_t licences_sold; /* over their approved images */
    int64_t member_since;  /* unix s */
};

/* A contributor's public figures; their images come from cat_search with
 * contributor_id set. DB_ENOTFOUND if no such user. */
int cat_contributor_profile(struct db *db, const char *contributor_id,
                            struct cat_profile *out,
                            char err[DB_ERR_LEN]) DB_WUR;

/* Lightboxes (cat_lightbox.c): a buyer's named collections of approved
 * images, private to the owner unless shared by an unguessable token.
 * Someone else's lightbox is DB_ENOTFOUND, never DB_EINVAL, so ids cannot
 * be probed. */

struct cat_lightbox {
    char id[CAT_ID_LEN];
    char owner_id[CAT_ID_LEN];
    char name[CAT_NAME_LEN];
    char share_token[CAT_TOKEN_LEN]; /* "" unless shared; the owner's
                                        views only */
    int64_t created_at;
    int item_count;            /* approved images only */
    char cover_id[CAT_ID_LEN]; /* latest added approved image, or "" */
    char cover_thumb_etag[CAT_ETAG_LEN];
};

/* Create a lightbox named name (1..CAT_NAME_LEN-1 bytes, else DB_EINVAL);
 * id_out gets its id. DB_ENOTFOUND if owner_id is no user. */
int cat_lightbox_create(struct db *db, const char *owner_id, const char *name,
                        char id_out[CAT_ID_LEN], char err[DB_ERR_LEN]) DB_WUR;

/* Rename a lightbox of owner_id's. DB_EINVAL for a bad name as at create;
 * DB_ENOTFOUND unless it exists and owner_id owns it. */
int cat_lightbox_rename(struct db *db, const char *id, const char *owner_id,
                        const char *name, char err[DB_ERR_LEN]) DB_WUR;

/* Delete a lightbox and its items (not the images). DB_ENOTFOUND unless
 * it exists and owner_id owns it. */
int cat_lightbox_delete(struct db *db, const char *id, const char *owner_id,
                        char err[DB_ERR_LEN]) DB_WUR;

/* The owner's lightboxes, newest first, all of them (there are few), in
 * *out and *n_out. *out is heap (NULL when there are none): the caller
 * frees it with free(). */
int cat_lightboxes_of(struct db *db, const char *owner_id,
                      struct cat_lightbox **out, int *n_out,
                      char err[DB_ERR_LEN]) DB_WUR;

/* Open a lightbox as its owner (viewer_id) or as anyone holding its share
 * token (token, viewer_id may be NULL); the token is compared only when the
 * viewer is not the owner. Fills *lb (share_token blanked for non-owners)
 * and a page of its approved images, latest added first, in *items (release
 * with cat_list_release). DB_ENOTFOUND otherwise. */
int cat_lightbox_get(struct db *db, const char *id, const char *viewer_id,
                     const char *token, const char *cursor, int limit,
                     struct cat_lightbox *lb, struct cat_list *items,
                     char err[DB_ERR_LEN]) DB_WUR;

/* Give the lightbox a new random share token (replacing any old one, which
 * stops working) and copy it to token_out; or remove it. DB_ENOTFOUND
 * unless it exists and owner_id owns it. */
int cat_lightbox_share(struct db *db, const char *id, const char *owner_id,
                       char token_out[CAT_TOKEN_LEN],
                       char err[DB_ERR_LEN]) DB_WUR;
int cat_lightbox_unshare(struct db *db, const char *id, const char *owner_id,
                         char err[DB_ERR_LEN]) DB_WUR;

/* Add an approved image (DB_EINVAL for any other state, DB_ENOTFOUND for
 * none); adding it twice is fine. DB_ELIMIT past CAT_LIGHTBOX_ITEMS. */
int cat_lightbox_add(struct db *db, const char *id, const char *owner_id,
                     const char *image_id, char err[DB_ERR_LEN]) DB_WUR;

/* Remove an image; removing one that is not there is fine. DB_ENOTFOUND
 * unless the lightbox exists and owner_id owns it. */
int cat_lightbox_remove(struct db *db, const char *id, const char *owner_id,
                        const char *image_id, char err[DB_ERR_LEN]) DB_WUR;

#endif
