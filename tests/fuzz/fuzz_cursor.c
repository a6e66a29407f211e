/* Stockroom fuzz target: decoding of the paging cursors clients send back,
 * in the catalogue (keyset cursors of each sort, review queue, a
 * contributor's images) and the ledger (licence and payout lists). A
 * cursor is either read or refused with DB_EINVAL. */
#include "dbfix.h"

static void
expect(int rc, const char *what, const char *err)
{
    if (rc != DB_OK && rc != DB_EINVAL) {
        fprintf(stderr, "%s: %d %s\n", what, rc, err);
        abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum cat_sort sorts[] = {CAT_SORT_DEFAULT, CAT_SORT_NEWEST,
                                          CAT_SORT_POPULAR};
    struct db *db = fx_db();
    char *cursor = fx_string(data, size);
    char err[DB_ERR_LEN] = "";
    struct cat_list cl = {0};
    struct cat_image_list il = {0};
    struct ledger_licence_list ll;
    struct ledger_payout_list pl;
    int rc;

    for (size_t i = 0; i < sizeof sorts / sizeof sorts[0]; i++) {
        struct cat_query q = {.sort = sorts[i], .cursor = cursor};

        q.text = i == 0 ? "bicycle" : NULL;
        rc = cat_search(db, &q, &cl, err);
        cat_list_release(&cl);
        expect(rc, "search", err);
    }
    rc = cat_review_queue(db, cursor, 0, &il, err);
    cat_image_list_release(&il);
    expect(rc, "review queue", err);
    rc = cat_images_of_contributor(db, fx.alice.id, cursor, 0, &il, err);
    cat_image_list_release(&il);
    expect(rc, "contributor images", err);
    memset(&ll, 0, sizeof ll);
    rc = ledger_licences_for_buyer(db, fx.alice.id, cursor, 10, &ll, err);
    if (rc == DB_OK)
        ledger_licence_list_release(&ll);
    expect(rc, "licences", err);
    memset(&pl, 0, sizeof pl);
    rc = ledger_payouts(db, NULL, NULL, cursor, 10, &pl, err);
    if (rc == DB_OK)
        ledger_payout_list_release(&pl);
    expect(rc, "payouts", err);
    free(cursor);
    return 0;
}
