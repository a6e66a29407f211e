/* Stockroom fuzz target: search text to FTS5 (db/cat_search.c). Any text
 * is a valid search: a MATCH expression SQLite refuses would come back as
 * DB_EGENERIC, so anything but DB_OK is a bug. */
#include "dbfix.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum cat_sort sorts[] = {CAT_SORT_DEFAULT, CAT_SORT_NEWEST,
                                          CAT_SORT_POPULAR};
    struct db *db = fx_db();
    char *text = fx_string(data, size);
    char err[DB_ERR_LEN] = "";
    struct cat_list out = {0};
    struct cat_query q = {.text = text};
    int rc;

    /* The first byte picks the sort, so each one is reached. */
    q.sort = sorts[size ? data[0] % 3 : 0];
    rc = cat_search(db, &q, &out, err);
    cat_list_release(&out);
    if (rc != DB_OK) {
        fprintf(stderr, "search failed: %d %s\n", rc, err);
        abort();
    }
    free(text);
    return 0;
}
