/* Stockroom — review: the queue of images waiting, and decisions. */
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "text.h"
#include "cat_safety.h"
#include "catalog.h"
#include "log.h"

/* Stockroom — images: upload, the image record, its renditions, review. */
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "text.h"
#include "blob.h"
#include "catalog.h"
#include "imaging.h"
#include "log.h"
#include "parse.h"
#include "rcache.h"

static const char *const reject_codes[] = {
    "keyword_spam",    "poor_quality", "trademark", "similar_content",
    "release_missing", "other",        NULL};

/* ---- review ----------------------------------------------------------- */

void
review_edit_json(struct app *app, const struct cat_image *img, json_t *j)
{
    struct cat_edit *e = malloc(sizeof *e);
    char err[DB_ERR_LEN], when[32];
    json_t *v = NULL;

    if (e && cat_edit_get(app->db, img->id, e, err) == DB_OK) {
        app_iso_time(e->created_at, when);
        v = json_pack("{s:s,s:s,s:o,s:s}", "title", e->title, "description",
                      e->description, "keywords",
                      images_keywords_json(e->keywords), "created_at", when);
    }
    free(e);
    json_object_set_new(j, "pending_edit", v ? v : json_null());
}

void
review_queue(struct srv_req *r)
{
    images_list_reply(r, 1);
}

/* An appeal goes to another reviewer than the one who rejected: replies
 * 403 and returns 1 when the caller is that one. */
static int
review_same_reviewer(struct srv_req *r, const char *id)
{
    struct app *app = srv_req_app(r);
    struct cat_image *img = NULL;
    struct cat_safety sf;
    char err[DB_ERR_LEN];
    int same = 0;

    if (cat_image_get(app->db, id, &img, err) == DB_OK &&
        img->status == DB_IMG_PENDING_REVIEW &&
        cat_image_safety(app->db, id, &sf, err) == DB_OK && sf.appealed_at &&
        !strcmp(img->reviewed_by, srv_req_user(r)->id))
        same = 1;
    cat_image_free(img);
    if (same)
        srv_error(r, 403, "same_reviewer",
                  "An appeal is decided by another reviewer than the one who "
                  "rejected the photo.");
    return same;
}

void
review_decide(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    const char *id = srv_req_param(r, 0);
    const char *decision, *code = NULL, *reason = NULL;
    struct cat_image *img = NULL;
    char err[DB_ERR_LEN];
    int approve, known = 0, held = 0, rc;
    json_t *j;

    if (srv_field_str(r, "decision", 1, 16, 0, &decision) < 0 ||
        srv_field_str(r, "reason_code", 1, 32, 1, &code) < 0 ||
        srv_field_str(r, "reason", 0, 1000, 1, &reason) < 0)
        return;
    approve = !strcmp(decision, "approve");
    if (!approve && strcmp(decision, "reject") != 0) {
        srv_error(r, 422, "invalid_field",
                  "'decision' must be 'approve' or 'reject'.");
        return;
    }
    for (int i = 0; !approve && code && reject_codes[i]; i++)
        known |= !strcmp(code, reject_codes[i]);
    if (!approve && !known) {
        srv_error(r, 422, "invalid_reason",
                  "A rejection needs a reason_code:"
                  " keyword_spam, poor_quality, trademark, similar_content, "
                  "release_missing or other.");
        return;
    }
    if (reason && !text_ok(reason)) {
        srv_error(r, 422, "invalid_field", "'reason' must be plain text.");
        return;
    }
    /* Only another reviewer may decide on a photo: contributor_id never
     * changes, so reading it first leaves no window. */
    rc = cat_image_get(app->db, id, &img, err);
    if (rc == DB_OK && !strcmp(img->contributor_id, srv_req_user(r)->id)) {
        srv_error(r, 403, "own_image",
                  "Another reviewer must decide on your own photo.");
        goto out;
    }
    /* An approved image is decided on for its held edit. */
    held = rc == DB_OK && img->status == DB_IMG_APPROVED;
    cat_image_free(img);
    img = NULL;
    if (rc == DB_OK && !held &&
        (review_same_reviewer(r, id) ||
         safety_review_editorial(r, id, approve) < 0))
        goto out;
    if (held)
        rc = cat_edit_decide(app->db, id, approve, err);
    else if (rc == DB_OK)
        rc = cat_review_decide(app->db, id, srv_req_user(r)->id, approve, code,
                               reason ? reason : "", err);
    if (rc == DB_ECONFLICT) {
        srv_error(r, 409, "not_pending",
                  "This image is not waiting for "
                  "review.");
        goto out;
    }
    if (rc == DB_OK)
        rc = cat_image_get(app->db, id, &img, err);
    if (srv_reply_db(r, rc, err, "image") < 0)
        goto out;
    log_info("%s: image %s%s %s by %s", srv_req_id(r), id, held ? " edit" : "",
             approve ? "approved" : "rejected", srv_req_user(r)->id);
    j = images_json(app, img, 1);
    if (j)
        review_edit_json(app, img, j);
    srv_json(r, 200, j);
out:
    cat_image_free(img);
}
