/* Stockroom fuzz target: ids taken from the URL path, handed to db/ as
 * they come (image, user, contributor, licence, similar images). An id is
 * found or not found, never an error or a crash, whatever its bytes. */
#include "dbfix.h"

static void
expect(int rc, const char *what, const char *err)
{
    if (rc != DB_OK && rc != DB_ENOTFOUND) {
        fprintf(stderr, "%s: %d %s\n", what, rc, err);
        abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct db *db = fx_db();
    char *id = fx_string(data, size);
    char err[DB_ERR_LEN] = "";
    struct cat_image *img = NULL;
    struct cat_list cl = {0};
    struct cat_profile prof;
    struct acc_user user;
    struct ledger_licence lic;
    int rc;

    rc = cat_image_get(db, id, &img, err);
    cat_image_free(img);
    expect(rc, "image", err);
    rc = cat_similar(db, id, 0, &cl, err);
    cat_list_release(&cl);
    expect(rc, "similar", err);
    expect(cat_contributor_profile(db, id, &prof, err), "profile", err);
    expect(acc_user_get(db, id, &user, err), "user", err);
    expect(ledger_licence_get(db, id, &lic, err), "licence", err);
    free(id);
    return 0;
}
