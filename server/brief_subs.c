/* Stockroom — answers to briefs: a contributor submits their photos, the
 * buyer sees all of them (each contributor only their own), shortlists and
 * comments; a contributor's wins. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "briefs.h"
#include "log.h"
#include "text.h"

static json_t *
sub_json(const struct db_brief_sub *s, json_t *comments)
{
    char created[32], thumb[96], preview[96];
    json_t *j;

    app_iso_time(s->created_at, created);
    snprintf(thumb, sizeof thumb, "/images/%s/thumbnail.jpg", s->image_id);
    snprintf(preview, sizeof preview, "/images/%s/preview.jpg", s->image_id);
    j = json_pack("{s:s,s:s,s:s,s:i,s:i,s:b,s:s,s:s,s:s,s:b,s:o}", "id", s->id,
                  "image_id", s->image_id, "image_status", s->image_status,
                  "width", s->width, "height", s->height, "shortlisted",
                  s->shortlisted, "created_at", created, "thumbnail_url", thumb,
                  "preview_url", preview, "counted",
                  strcmp(s->image_status, "approved") == 0, "comments",
                  comments ? comments : json_array());
    if (j && s->licence_id[0]) {
        char dl[128], cert[128];

        snprintf(dl, sizeof dl, "/api/v1/licences/%s/download", s->licence_id);
        snprintf(cert, sizeof cert, "/api/v1/licences/%s/certificate",
                 s->licence_id);
        json_object_set_new(
            j, "award",
            json_pack("{s:s,s:I,s:s,s:s}", "licence_id", s->licence_id,
                      "credits", (json_int_t)s->share_credits, "download_url",
                      dl, "certificate_url", cert));
    }
    return j;
}

/* The comments of list c on submission sid, as a JSON array. */
static json_t *
comments_of(const struct db_brief_comment_list *c, const char *sid)
{
    json_t *a = json_array();

    for (size_t i = 0; i < c->n; i++) {
        char at[32];

        if (strcmp(c->items[i].submission_id, sid) != 0)
            continue;
        app_iso_time(c->items[i].created_at, at);
        json_array_append_new(a, json_pack("{s:s,s:s}", "text",
                                           c->items[i].text, "created_at", at));
    }
    return a;
}

/* Load brief id for the request: 404 (replied) when it does not exist. */
static int
brief_load(struct srv_req *r, const char *id, struct db_brief *b)
{
    char err[DB_ERR_LEN];

    return srv_reply_db(r, db_brief_get(srv_req_app(r)->db, id, b, err), err,
                        "brief");
}

void
brief_subs_create(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    const char *id = srv_req_param(r, 0), *image_id;
    enum db_brief_why why = DB_BRIEF_WHY_NONE;
    struct db_brief_sub s;
    char err[DB_ERR_LEN];
    int rc;

    if (srv_field_str(r, "image_id", 1, 40, 0, &image_id) < 0)
        return;
    rc = db_brief_submit(app->db, id, srv_req_user(r)->id, image_id,
                         briefs_now(), &s, &why, err);
    if (briefs_reply_db(r, rc, why, err, "brief") < 0)
        return;
    srv_json(r, 201, sub_json(&s, NULL));
}

void
brief_subs_list(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    const struct acc_user *u = srv_req_user(r);
    const char *id = srv_req_param(r, 0);
    struct db_brief b = {0};
    struct db_brief_sub_list l = {0};
    struct db_brief_comment_list c = {0};
    const char *only;
    char err[DB_ERR_LEN];
    json_t *a;
    int rc;

    if (brief_load(r, id, &b) < 0)
        return;
    /* Private answers: the buyer sees every counted one, anyone else only
     * their own. */
    only = strcmp(b.buyer_id, u->id) == 0 ? NULL : u->id;
    rc = db_brief_subs(app->db, id, only, &l, err);
    if (rc == DB_OK)
        rc = db_brief_comments(app->db, id, only, &c, err);
    if (srv_reply_db(r, rc, err, "submissions") < 0)
        goto out;
    a = json_array();
    for (size_t i = 0; i < l.n; i++)
        json_array_append_new(
            a, sub_json(&l.items[i], comments_of(&c, l.items[i].id)));
    srv_json(r, 200,
             json_pack("{s:o,s:n,s:b}", "items", a, "next_cursor", "buyer",
                       only == NULL));
out:
    db_brief_comment_list_release(&c);
    db_brief_sub_list_release(&l);
    db_brief_release(&b);
}

static void
shortlist(struct srv_req *r, int on)
{
    struct app *app = srv_req_app(r);
    enum db_brief_why why = DB_BRIEF_WHY_NONE;
    char err[DB_ERR_LEN];
    int rc =
        db_brief_shortlist(app->db, srv_req_param(r, 0), srv_req_user(r)->id,
                           srv_req_param(r, 1), on, briefs_now(), &why, err);

    if (briefs_reply_db(r, rc, why, err, "submission") < 0)
        return;
    srv_empty(r, 204);
}

void
brief_subs_shortlist_put(struct srv_req *r)
{
    shortlist(r, 1);
}

void
brief_subs_shortlist_delete(struct srv_req *r)
{
    shortlist(r, 0);
}

void
brief_subs_comment(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    enum db_brief_why why = DB_BRIEF_WHY_NONE;
    const char *text;
    char err[DB_ERR_LEN], at[32];
    int64_t now = briefs_now();
    int rc;

    if (srv_field_str(r, "text", 1, BRIEF_COMMENT_MAX, 0, &text) < 0)
        return;
    if (!text_ok(text)) {
        srv_error(r, 422, "invalid_field", "A comment is plain text.");
        return;
    }
    rc = db_brief_comment(app->db, srv_req_param(r, 0), srv_req_user(r)->id,
                          srv_req_param(r, 1), text, now, &why, err);
    if (briefs_reply_db(r, rc, why, err, "submission") < 0)
        return;
    app_iso_time(now, at);
    srv_json(r, 201,
             json_pack("{s:s,s:s,s:s}", "submission_id", srv_req_param(r, 1),
                       "text", text, "created_at", at));
}

json_t *
brief_subs_awards_json(struct app *app, const char *brief_id)
{
    struct db_brief_sub_list l = {0};
    char err[DB_ERR_LEN];
    json_t *a = json_array();

    if (db_brief_subs(app->db, brief_id, NULL, &l, err) != DB_OK) {
        log_warn("brief %s awards: %s", brief_id, err);
        return a;
    }
    for (size_t i = 0; i < l.n; i++) {
        if (l.items[i].licence_id[0])
            json_array_append_new(a, sub_json(&l.items[i], NULL));
    }
    db_brief_sub_list_release(&l);
    return a;
}

void
brief_subs_wins(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    struct db_brief_win_list l = {0};
    char err[DB_ERR_LEN];
    int64_t cents = 0, credits = 0;
    json_t *a;

    if (srv_reply_db(r,
                     db_brief_wins(app->db, srv_req_user(r)->id, 100, &l, err),
                     err, "wins") < 0)
        return;
    a = json_array();
    for (size_t i = 0; i < l.n; i++) {
        const struct db_brief_win *w = &l.items[i];
        char at[32], thumb[96];

        app_iso_time(w->created_at, at);
        snprintf(thumb, sizeof thumb, "/images/%s/thumbnail.jpg", w->image_id);
        cents += w->royalty_cents;
        credits += w->share_credits;
        json_array_append_new(
            a,
            json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:s,s:s}", "brief_id",
                      w->brief_id, "brief_title", w->title, "submission_id",
                      w->submission_id, "image_id", w->image_id, "licence_id",
                      w->licence_id, "credits", (json_int_t)w->share_credits,
                      "royalty_cents", (json_int_t)w->royalty_cents,
                      "created_at", at, "thumbnail_url", thumb));
    }
    db_brief_win_list_release(&l);
    srv_json(r, 200,
             json_pack("{s:o,s:n,s:I,s:I}", "items", a, "next_cursor",
                       "total_royalty_cents", (json_int_t)cents,
                       "total_credits", (json_int_t)credits));
}
