/* Stockroom — a contributor's side of trust and safety: sending drafts to
 * review, withdrawing and restoring photos, appeals and counter-notices;
 * and the admin's take-down. The rules live in db/cat_safety.c. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "blob.h"
#include "cat_release.h"
#include "cat_safety.h"
#include "log.h"
#include "rcache.h"
#include "text.h"

#define SUBMIT_BATCH_MAX 100
#define STATEMENT_MAX 4000

static int
is_admin(const struct acc_user *u)
{
    return u && (u->roles & ACC_ROLE_ADMIN);
}

json_t *
safety_missing_json(unsigned missing)
{
    json_t *a = json_array();

    if (missing & CAT_MISSING_TITLE)
        json_array_append_new(a, json_string("title"));
    if (missing & CAT_MISSING_KEYWORDS)
        json_array_append_new(a, json_string("keywords"));
    return a;
}

/* Reply with the image as its owner or staff sees it. */
static void
reply_image(struct srv_req *r, const char *id, int status)
{
    struct app *app = srv_req_app(r);
    struct cat_image *img = NULL;
    char err[DB_ERR_LEN];

    if (srv_reply_db(r, cat_image_get(app->db, id, &img, err), err, "image") <
        0)
        return;
    srv_json(r, (unsigned)status, images_json(app, img, 1));
    cat_image_free(img);
}

/* Public renditions are cached in memory: forget them when an image goes
 * off sale, so the next request sees its state. A CDN in front would also
 * get its copies deleted here. */
void
safety_off_sale(struct app *app, const char *id)
{
    char key[64];

    snprintf(key, sizeof key, "%s/thumb.jpg", id);
    rcache_drop(app->rcache, key);
    snprintf(key, sizeof key, "%s/preview.jpg", id);
    rcache_drop(app->rcache, key);
}

/* The contributor is told why their photo was taken down: the one place
 * for mail to hook in. Until then the reason is in the log, on the image
 * (off_sale_reason, shown in the upload studio) and in the audit log. */
static void
notify_takedown(struct srv_req *r, const char *id, const char *reason)
{
    log_info("%s: image %s taken down by %s: %s", srv_req_id(r), id,
             srv_req_user(r)->id, reason);
}

/* Whatever a state change answered, in one place. */
static int
reply_state(struct srv_req *r, int rc, const char *err, const char *code)
{
    if (rc == DB_ECONFLICT) {
        srv_error(r, 409, code, "%s.", err);
        return -1;
    }
    return srv_reply_db(r, rc, err, "image of yours");
}

/* ---- drafts ----------------------------------------------------------- */

void
safety_submit(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    const char *id = srv_req_param(r, 0);
    char err[DB_ERR_LEN];
    unsigned missing = 0;
    int rc = cat_image_submit(app->db, id, srv_req_user(r)->id,
                              app->cfg.min_keywords, &missing, err);

    if (rc == DB_EINVAL) {
        srv_json(r, 422,
                 json_pack("{s:{s:s,s:s,s:o}}", "error", "code", "incomplete",
                           "message",
                           "A photo needs a title and enough keywords "
                           "before review.",
                           "missing", safety_missing_json(missing)));
        return;
    }
    if (reply_state(r, rc, err, "not_draft") < 0)
        return;
    reply_image(r, id, 200);
}

void
safety_submit_batch(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    json_t *ids = json_object_get(srv_req_json(r), "ids");
    json_t *done = json_array(), *refused = json_array(), *v;
    size_t i;

    if (!json_is_array(ids) || json_array_size(ids) == 0 ||
        json_array_size(ids) > SUBMIT_BATCH_MAX) {
        srv_error(r, 422, "invalid_field",
                  "'ids' must be a list of 1 to %d image ids.",
                  SUBMIT_BATCH_MAX);
        goto out;
    }
    json_array_foreach(ids, i, v)
    {
        if (!json_is_string(v)) {
            srv_error(r, 422, "invalid_field", "Each id must be a string.");
            goto out;
        }
    }
    json_array_foreach(ids, i, v)
    {
        const char *id = json_string_value(v);
        char err[DB_ERR_LEN];
        unsigned missing = 0;
        int rc = cat_image_submit(app->db, id, srv_req_user(r)->id,
                                  app->cfg.min_keywords, &missing, err);

        if (rc == DB_OK)
            json_array_append_new(done, json_string(id));
        else if (rc == DB_EINVAL || rc == DB_ECONFLICT || rc == DB_ENOTFOUND)
            json_array_append_new(
                refused, json_pack("{s:s,s:s,s:o}", "id", id, "code",
                                   rc == DB_EINVAL      ? "incomplete"
                                   : rc == DB_ECONFLICT ? "not_draft"
                                                        : "not_found",
                                   "missing", safety_missing_json(missing)));
        else if (srv_reply_db(r, rc, err, "image") < 0)
            goto out;
    }
    srv_json(r, 200,
             json_pack("{s:O,s:O}", "submitted", done, "refused", refused));
out:
    json_decref(done);
    json_decref(refused);
}

/* ---- off sale and back ------------------------------------------------ */

void
safety_withdraw(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    const char *id = srv_req_param(r, 0);
    char err[DB_ERR_LEN];
    int rc = cat_image_withdraw(app->db, id, srv_req_user(r)->id, err);

    if (reply_state(r, rc, err, "not_withdrawable") < 0)
        return;
    safety_off_sale(app, id);
    log_info("%s: image %s withdrawn", srv_req_id(r), id);
    reply_image(r, id, 200);
}

void
safety_restore(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    const struct acc_user *u = srv_req_user(r);
    const char *id = srv_req_param(r, 0);
    char err[DB_ERR_LEN];
    int rc = cat_image_restore(app->db, id, u->id, is_admin(u),
                               (int64_t)time(NULL), err);

    if (rc == DB_ELIMIT) {
        srv_error(r, 409, "restore_expired",
                  "A withdrawn photo can be restored within %d days only.",
                  CAT_RESTORE_DAYS);
        return;
    }
    if (reply_state(r, rc, err, "not_off_sale") < 0)
        return;
    reply_image(r, id, 200);
}

void
safety_takedown(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    const char *id = srv_req_param(r, 0), *reason;
    char err[DB_ERR_LEN];
    int rc;

    if (srv_field_str(r, "reason", 1, 1000, 0, &reason) < 0)
        return;
    if (!text_ok(reason)) {
        srv_error(r, 422, "invalid_field", "'reason' must be plain text.");
        return;
    }
    rc = cat_image_takedown(app->db, id, srv_req_user(r)->id, reason, err);
    if (rc == DB_ECONFLICT) {
        srv_error(r, 409, "not_on_sale", "%s.", err);
        return;
    }
    if (srv_reply_db(r, rc, err, "image") < 0)
        return;
    safety_off_sale(app, id);
    notify_takedown(r, id, reason);
    reply_image(r, id, 200);
}

/* A statement or message field of plain text, required. */
static int
statement(struct srv_req *r, const char *key, const char **out)
{
    if (srv_field_str(r, key, 1, STATEMENT_MAX, 0, out) < 0)
        return -1;
    if (!text_ok(*out)) {
        srv_error(r, 422, "invalid_field", "'%s' must be plain text.", key);
        return -1;
    }
    return 0;
}

void
safety_counter_notice(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    const char *id = srv_req_param(r, 0), *text;
    char err[DB_ERR_LEN];

    if (statement(r, "statement", &text) < 0)
        return;
    if (reply_state(r,
                    cat_image_counter_notice(app->db, id, srv_req_user(r)->id,
                                             text, err),
                    err, "not_taken_down") < 0)
        return;
    reply_image(r, id, 200);
}

void
safety_appeal(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    const char *id = srv_req_param(r, 0), *text;
    char err[DB_ERR_LEN];

    if (statement(r, "message", &text) < 0)
        return;
    if (reply_state(
            r, cat_image_appeal(app->db, id, srv_req_user(r)->id, text, err),
            err, "not_appealable") < 0)
        return;
    reply_image(r, id, 200);
}

void
safety_image_json(struct app *app, const struct cat_image *img, json_t *j)
{
    struct cat_safety sf;
    char err[DB_ERR_LEN], at[32];

    if (img->status == DB_IMG_DRAFT)
        json_object_set_new(
            j, "missing",
            safety_missing_json(cat_image_missing(img, app->cfg.min_keywords)));
    json_object_set_new(j, "releases", releases_of_image(app, img->id));
    if (cat_image_safety(app->db, img->id, &sf, err) != DB_OK)
        return;
    if (sf.off_sale_at) {
        app_iso_time(sf.off_sale_at, at);
        json_object_set_new(j, "off_sale_at", json_string(at));
        json_object_set_new(j, "off_sale_reason",
                            sf.off_sale_reason[0]
                                ? json_string(sf.off_sale_reason)
                                : json_null());
        json_object_set_new(j, "counter_notice",
                            sf.counter_notice[0]
                                ? json_string(sf.counter_notice)
                                : json_null());
    }
    if (sf.appealed_at)
        json_object_set_new(j, "appeal",
                            json_pack("{s:s,s:s}", "message", sf.appeal_message,
                                      "rejected_by", img->reviewed_by));
}

/* ---- what a photo declares -------------------------------------------- */

/* A form flag: absent -1, "true"/"1"/"on" 1, "false"/"0"/"" 0. */
static int
form_flag(struct srv_req *r, const char *name, int *out)
{
    const char *v;

    *out = -1;
    if (images_form_text(r, name, 8, &v) < 0)
        return -1;
    if (!v)
        return 0;
    if (!strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "on"))
        *out = 1;
    else if (!strcmp(v, "false") || !strcmp(v, "0") || !*v)
        *out = 0;
    else {
        srv_error(r, 422, "invalid_field", "'%s' must be true or false.", name);
        return -1;
    }
    return 0;
}

int
safety_upload_flags(struct srv_req *r, const char *id)
{
    struct app *app = srv_req_app(r);
    char err[DB_ERR_LEN];
    int people, property;

    if (form_flag(r, "people", &people) < 0 ||
        form_flag(r, "property", &property) < 0)
        return -1;
    if (people < 0 && property < 0)
        return 0;
    return srv_reply_db(
        r, cat_image_flags_set(app->db, id, NULL, people, property, err), err,
        "image");
}

/* A JSON boolean field: -1 absent, else 0 or 1; -2 after replying. */
static int
json_flag(struct srv_req *r, const char *key)
{
    json_t *v = json_object_get(srv_req_json(r), key);

    if (!v || json_is_null(v))
        return -1;
    if (!json_is_boolean(v)) {
        srv_error(r, 422, "invalid_field", "'%s' must be true or false.", key);
        return -2;
    }
    return json_is_true(v);
}

int
safety_patch_fields(struct srv_req *r, const char *id)
{
    struct app *app = srv_req_app(r);
    const char *owner = srv_req_user(r)->id, *caption = NULL;
    char err[DB_ERR_LEN];
    int people = json_flag(r, "people"), property, editorial, rc = DB_OK;

    if (people == -2 || (property = json_flag(r, "property")) == -2 ||
        (editorial = json_flag(r, "editorial")) == -2 ||
        srv_field_str(r, "caption", 1, CAT_CAPTION_MAX, 1, &caption) < 0)
        return -1;
    if (caption && !text_ok(caption)) {
        srv_error(r, 422, "invalid_field", "'caption' must be plain text.");
        return -1;
    }
    if (editorial == 1 && !caption) {
        srv_error(r, 422, "missing_field",
                  "An editorial photo needs a 'caption': the event, place "
                  "and date.");
        return -1;
    }
    if (people >= 0 || property >= 0)
        rc = cat_image_flags_set(app->db, id, owner, people, property, err);
    if (rc == DB_OK && editorial >= 0)
        rc = cat_image_editorial(app->db, id, owner, editorial, caption, err);
    if (srv_reply_db(r, rc, err, "image of yours") < 0)
        return -1;
    return people >= 0 || property >= 0 || editorial >= 0;
}

void
safety_public_json(struct app *app, const struct cat_image *img, json_t *j)
{
    struct cat_image_flags fl;
    char err[DB_ERR_LEN];

    if (cat_image_flags_get(app->db, img->id, &fl, err) != DB_OK)
        return;
    json_object_set_new(j, "editorial", json_boolean(fl.editorial));
    json_object_set_new(j, "caption",
                        fl.editorial ? json_string(fl.caption) : json_null());
    json_object_set_new(j, "people", json_boolean(fl.people));
    json_object_set_new(j, "property", json_boolean(fl.property));
}

int
safety_review_editorial(struct srv_req *r, const char *id, int approve)
{
    struct app *app = srv_req_app(r);
    const char *caption = NULL;
    char err[DB_ERR_LEN];
    int editorial = json_flag(r, "editorial");

    if (editorial == -2 ||
        srv_field_str(r, "caption", 1, CAT_CAPTION_MAX, 1, &caption) < 0)
        return -1;
    if (editorial != 1)
        return 0;
    if (!approve || !caption || !text_ok(caption)) {
        srv_error(r, 422, "invalid_field",
                  "Marking a photo editorial goes with an approval and a "
                  "plain-text 'caption'.");
        return -1;
    }
    return srv_reply_db(r,
                        cat_image_editorial(app->db, id, NULL, 1, caption, err),
                        err, "image");
}
