/* Stockroom — paging for every catalogue list: opaque keyset cursors, page
 * sizes and the growable page of search result rows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catint.h"

/* Cursors: a kind letter, then the key and the seq as 16 hex digits each. */

void
cat__cursor_make(char out[CAT_CURSOR_LEN], int kind, int64_t key, int64_t seq)
{
    snprintf(out, CAT_CURSOR_LEN, "%c%016llx%016llx", kind,
             (unsigned long long)key, (unsigned long long)seq);
}

int
cat__cursor_parse(const char *s, int kind, int64_t *key, int64_t *seq,
                  char err[DB_ERR_LEN])
{
    unsigned long long k = 0, q = 0;

    if (!s || !*s)
        return 1;
    if (strlen(s) != 33 || s[0] != kind ||
        strspn(s + 1, "0123456789abcdef") != 32) {
        snprintf(err, DB_ERR_LEN, "malformed cursor");
        return DB_EINVAL;
    }
    for (int i = 1; i < 17; i++) {
        k = k << 4 |
            (unsigned long long)(s[i] <= '9' ? s[i] - '0' : s[i] - 'a' + 10);
        q = q << 4 |
            (unsigned long long)(s[i + 16] <= '9' ? s[i + 16] - '0'
                                                  : s[i + 16] - 'a' + 10);
    }
    *key = (int64_t)k;
    *seq = (int64_t)q;
    return 0;
}

int
cat__page_size(int limit)
{
    if (limit <= 0)
        return CAT_LIST_DEFAULT;
    return limit > CAT_LIST_MAX ? CAT_LIST_MAX : limit;
}

void
cat__item_row(sqlite3_stmt *st, struct cat_item *it)
{
    db_col_copy(st, 0, it->id, sizeof it->id);
    db_col_copy(st, 1, it->title, sizeof it->title);
    it->width = sqlite3_column_int(st, 2);
    it->height = sqlite3_column_int(st, 3);
    db_col_copy(st, 4, it->contributor_id, sizeof it->contributor_id);
    db_col_copy(st, 5, it->contributor_name, sizeof it->contributor_name);
    db_col_copy(st, 6, it->thumb_etag, sizeof it->thumb_etag);
    db_col_copy(st, 7, it->colour, sizeof it->colour);
    it->licences_sold = sqlite3_column_int64(st, 8);
    it->created_at = sqlite3_column_int64(st, 9);
    it->approved_at = sqlite3_column_int64(st, 10);
    it->editorial = sqlite3_column_int(st, 11);
}

struct cat_item *
cat__list_push(struct cat_list *l)
{
    struct cat_item *grown =
        realloc(l->items, (size_t)(l->n + 1) * sizeof *l->items);

    if (!grown)
        return NULL;
    l->items = grown;
    memset(&l->items[l->n], 0, sizeof *l->items);
    return &l->items[l->n++];
}

void
cat_list_release(struct cat_list *l)
{
    free(l->items);
    memset(l, 0, sizeof *l);
}
