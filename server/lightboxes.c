/* Stockroom — lightboxes: a user's named collections of images, private
 * or shared by a token. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "text.h"
#include "catalog.h"
#include "log.h"

/* ---- lightboxes ------------------------------------------------------- */

static json_t *
lightbox_json(const struct cat_lightbox *lb, int owner)
{
    char created[32], cover[96];
    json_t *j;

    app_iso_time(lb->created_at, created);
    snprintf(cover, sizeof cover, "/images/%s/thumbnail.jpg", lb->cover_id);
    j = json_pack("{s:s,s:s,s:i,s:s,s:o}", "id", lb->id, "name", lb->name,
                  "image_count", lb->item_count, "created_at", created,
                  "cover_url",
                  lb->cover_id[0] ? json_string(cover) : json_null());
    if (j && owner)
        json_object_set_new(j, "share_token",
                            lb->share_token[0] ? json_string(lb->share_token)
                                               : json_null());
    return j;
}

void
lightboxes_list(struct srv_req *r)
{
    struct cat_lightbox *lbs = NULL;
    char err[DB_ERR_LEN];
    json_t *a;
    int n = 0;

    if (srv_reply_db(r,
                     cat_lightboxes_of(srv_req_app(r)->db, srv_req_user(r)->id,
                                       &lbs, &n, err),
                     err, "lightbox") < 0)
        return;
    a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, lightbox_json(&lbs[i], 1));
    free(lbs);
    srv_json(r, 200, json_pack("{s:o,s:n}", "items", a, "next_cursor"));
}

static void
lightbox_reply(struct srv_req *r, const char *id, unsigned status)
{
    struct cat_lightbox lb;
    struct cat_list items = {0};
    const struct acc_user *u = srv_req_user(r);
    char err[DB_ERR_LEN];
    int64_t limit;
    json_t *j;
    int rc;

    if (srv_query_int(r, "limit", 1, CAT_LIST_MAX, CAT_LIST_DEFAULT, &limit) <
        0)
        return;
    rc = cat_lightbox_get(srv_req_app(r)->db, id, u ? u->id : NULL,
                          srv_req_query(r, "token"), srv_req_query(r, "cursor"),
                          (int)limit, &lb, &items, err);
    /* The id, token and limit are checked above or answer not found: an
     * invalid argument here is the cursor, as on every other list. */
    if (rc == DB_EINVAL)
        srv_error(r, 422, "invalid_cursor", "The cursor is not valid.");
    else if (srv_reply_db(r, rc, err, "lightbox") == 0) {
        j = lightbox_json(&lb, u && !strcmp(u->id, lb.owner_id));
        json_object_set_new(j, "items", search_items_json(&items));
        json_object_set_new(j, "next_cursor",
                            items.next_cursor[0]
                                ? json_string(items.next_cursor)
                                : json_null());
        srv_json(r, status, j);
    }
    cat_list_release(&items);
}

void
lightboxes_create(struct srv_req *r)
{
    const char *name;
    char id[CAT_ID_LEN], err[DB_ERR_LEN];

    if (srv_field_str(r, "name", 1, CAT_NAME_LEN - 1, 0, &name) < 0)
        return;
    if (!text_one_line(name)) {
        srv_error(r, 422, "invalid_field",
                  "The name must be one line of "
                  "plain text.");
        return;
    }
    if (srv_reply_db(r,
                     cat_lightbox_create(srv_req_app(r)->db,
                                         srv_req_user(r)->id, name, id, err),
                     err, "lightbox") == 0)
        lightbox_reply(r, id, 201);
}

void
lightboxes_get(struct srv_req *r)
{
    lightbox_reply(r, srv_req_param(r, 0), 200);
}

/* PATCH {name?, shared?}: rename, and share or stop sharing. */
void
lightboxes_patch(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    const char *id = srv_req_param(r, 0), *name;
    json_t *shared = json_object_get(srv_req_json(r), "shared");
    char err[DB_ERR_LEN], token[CAT_TOKEN_LEN];
    const char *uid = srv_req_user(r)->id;

    if (srv_field_str(r, "name", 1, CAT_NAME_LEN - 1, 1, &name) < 0)
        return;
    if (shared && !json_is_boolean(shared)) {
        srv_error(r, 422, "invalid_field", "'shared' must be true or false.");
        return;
    }
    if (!name && !shared) {
        srv_error(r, 422, "missing_field", "Send a name or shared.");
        return;
    }
    if (name && !text_one_line(name)) {
        srv_error(r, 422, "invalid_field",
                  "The name must be one line of "
                  "plain text.");
        return;
    }
    if (name &&
        srv_reply_db(r, cat_lightbox_rename(app->db, id, uid, name, err), err,
                     "lightbox") < 0)
        return;
    if (shared && json_is_true(shared) &&
        srv_reply_db(r, cat_lightbox_share(app->db, id, uid, token, err), err,
                     "lightbox") < 0)
        return;
    if (shared && json_is_false(shared) &&
        srv_reply_db(r, cat_lightbox_unshare(app->db, id, uid, err), err,
                     "lightbox") < 0)
        return;
    lightbox_reply(r, id, 200);
}

void
lightboxes_delete(struct srv_req *r)
{
    char err[DB_ERR_LEN];

    if (srv_reply_db(r,
                     cat_lightbox_delete(srv_req_app(r)->db,
                                         srv_req_param(r, 0),
                                         srv_req_user(r)->id, err),
                     err, "lightbox") == 0)
        srv_empty(r, 204);
}

void
lightboxes_add(struct srv_req *r)
{
    char err[DB_ERR_LEN];
    int rc = cat_lightbox_add(srv_req_app(r)->db, srv_req_param(r, 0),
                              srv_req_user(r)->id, srv_req_param(r, 1), err);

    if (rc == DB_EINVAL) {
        srv_error(r, 422, "not_approved",
                  "Only published images can be "
                  "added to a lightbox.");
        return;
    }
    if (rc == DB_ELIMIT) {
        srv_error(r, 422, "lightbox_full", "This lightbox is full.");
        return;
    }
    if (srv_reply_db(r, rc, err, "lightbox or image") == 0)
        srv_empty(r, 204);
}

void
lightboxes_remove(struct srv_req *r)
{
    char err[DB_ERR_LEN];

    if (srv_reply_db(
            r,
            cat_lightbox_remove(srv_req_app(r)->db, srv_req_param(r, 0),
                                srv_req_user(r)->id, srv_req_param(r, 1), err),
            err, "lightbox") == 0)
        srv_empty(r, 204);
}
