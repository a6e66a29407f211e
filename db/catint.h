/* Stockroom — what the catalogue's files share and nobody else: paging
 * cursors, page sizes and the columns of a search result row. */
#ifndef STOCKROOM_CATINT_H
#define STOCKROOM_CATINT_H

#include "catalog.h"
#include "dbint.h"

/* Cursor kinds: a cursor made for one list is refused by another. */
enum {
    CAT_CUR_MINE = 'm',      /* contributor's own images: seq */
    CAT_CUR_QUEUE = 'q',     /* review queue: seq */
    CAT_CUR_RELEVANCE = 'r', /* bm25 rank (double bits), seq */
    CAT_CUR_NEWEST = 'n',    /* approved_at, seq */
    CAT_CUR_POPULAR = 'p',   /* licences_sold, seq */
    CAT_CUR_LIGHTBOX = 'l'   /* added_at, seq */
};

/* Write the cursor of (key, seq) for kind into out. */
void cat_cursor_make(char out[CAT_CURSOR_LEN], int kind, int64_t key,
                     int64_t seq);

/* Read a cursor of kind: 0 with *key and *seq set, 1 when s is NULL or ""
 * (first page: both left alone), DB_EINVAL when malformed or of another
 * kind. */
int cat_cursor_parse(const char *s, int kind, int64_t *key, int64_t *seq,
                     char err[DB_ERR_LEN]);

/* A requested page size made valid: 0 is the default, capped at the max. */
int cat_page_size(int limit);

/* Columns and joins of a cat_item, for "SELECT " CAT_ITEM_COLS ... FROM
 * images i JOIN users u ON u.id = i.contributor_id; cat_item_row reads
 * them from column 0 on. */
#define CAT_ITEM_COLS                                                          \
    "i.id, i.title, i.width, i.height, i.contributor_id, u.name, "             \
    "i.thumb_etag, i.colour, i.licences_sold, i.created_at, i.approved_at"
#define CAT_ITEM_NCOLS 11

void cat_item_row(sqlite3_stmt *st, struct cat_item *it);

/* Append a zeroed item to l, growing it; NULL when out of memory. */
struct cat_item *cat_list_push(struct cat_list *l);

#endif
