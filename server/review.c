/* Stockroom — review: the queue of images waiting, and decisions. */
#include <string.h>

#include "app.h"
#include "text.h"
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
review_queue(struct srv_req *r)
{
    images_list_reply(r, 1);
}

void
review_decide(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    const char *id = srv_req_param(r, 0);
    const char *decision, *code = NULL, *reason = NULL;
    struct cat_image *img = NULL;
    char err[DB_ERR_LEN];
    int approve, known = 0, rc;

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
    rc = cat_review_decide(app->db, id, srv_req_user(r)->id, approve, code,
                           reason ? reason : "", err);
    if (rc == DB_ECONFLICT) {
        srv_error(r, 409, "not_pending",
                  "This image is not waiting for "
                  "review.");
        return;
    }
    if (rc == DB_OK)
        rc = cat_image_get(app->db, id, &img, err);
    if (srv_reply_db(r, rc, err, "image") < 0)
        return;
    log_info("%s: image %s %s by %s", srv_req_id(r), id,
             approve ? "approved" : "rejected", srv_req_user(r)->id);
    srv_json(r, 200, images_json(app, img, 1));
    cat_image_free(img);
}
