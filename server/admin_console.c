/* Stockroom — what the admin console lists beyond the other resources:
 * users by email or name, and photos in any state. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acc_suspend.h"
#include "app.h"
#include "cat_safety.h"

void
admin_console_users(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    struct acc_user_row *a = NULL;
    const char *q = srv_req_query(r, "q");
    char err[DB_ERR_LEN], at[32];
    json_t *items;
    int n = 0;

    if (q && strlen(q) > 256) {
        srv_error(r, 422, "invalid_parameter", "q is at most 256 bytes.");
        return;
    }
    if (srv_reply_db(r, acc_users_search(app->db, q, &a, &n, err), err,
                     "user list") < 0)
        return;
    items = json_array();
    for (int i = 0; i < n; i++) {
        json_t *u;

        app_iso_time(a[i].created_at, at);
        u = json_pack("{s:s,s:s,s:s,s:o,s:s,s:b}", "id", a[i].id, "email",
                      a[i].email, "name", a[i].name, "roles",
                      users_roles_json(a[i].roles), "created_at", at,
                      "suspended", a[i].suspended_at != 0);
        json_array_append_new(items, u);
    }
    free(a);
    srv_json(r, 200, json_pack("{s:o}", "items", items));
}

void
admin_console_images(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    struct cat_image_list l = {0};
    const char *s = srv_req_query(r, "status");
    enum db_img_status status;
    char err[DB_ERR_LEN];
    int64_t limit;
    json_t *items;
    int rc;

    if (srv_query_int(r, "limit", 1, CAT_LIST_MAX, CAT_LIST_DEFAULT, &limit) <
        0)
        return;
    if (db_status_img_parse(s ? s : "approved", &status) != DB_OK) {
        srv_error(r, 422, "invalid_parameter", "status is not an image state.");
        return;
    }
    rc = cat_images_by_status(app->db, status, srv_req_query(r, "cursor"),
                              (int)limit, &l, err);
    if (rc == DB_EINVAL)
        srv_error(r, 422, "invalid_cursor", "The cursor is not valid.");
    else if (srv_reply_db(r, rc, err, "image list") == 0) {
        items = json_array();
        for (int i = 0; i < l.n; i++)
            json_array_append_new(items, images_json(app, &l.items[i], 1));
        srv_json(r, 200,
                 json_pack("{s:o,s:o}", "items", items, "next_cursor",
                           l.next_cursor[0] ? json_string(l.next_cursor)
                                            : json_null()));
    }
    cat_image_list_release(&l);
}
