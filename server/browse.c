/* Stockroom — what buyers browse: search, similar images, view counts,
 * contributor portfolios and lightboxes. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "text.h"
#include "catalog.h"
#include "log.h"

#define VIEW_SLOTS 1024 /* distinct images counted between flushes */
#define FLUSH_S 5

/* Views are counted in memory and written in one transaction every few
 * seconds, so a page view never waits for a write. */
struct views {
    pthread_mutex_t lock;
    pthread_cond_t stop_cv;
    pthread_t thread;
    int running;
    int stopping;
    char ids[VIEW_SLOTS][CAT_ID_LEN];
    int counts[VIEW_SLOTS];
    int n;
    struct app *app;
};

static void
views_flush(struct views *v)
{
    char ids[VIEW_SLOTS][CAT_ID_LEN];
    int counts[VIEW_SLOTS];
    const char *ptrs[VIEW_SLOTS];
    char err[DB_ERR_LEN];
    int n;

    pthread_mutex_lock(&v->lock);
    n = v->n;
    memcpy(ids, v->ids, sizeof ids[0] * (size_t)n);
    memcpy(counts, v->counts, sizeof counts[0] * (size_t)n);
    v->n = 0;
    pthread_mutex_unlock(&v->lock);
    for (int i = 0; i < n; i++)
        ptrs[i] = ids[i];
    if (n && cat_views_add(v->app->db, ptrs, counts, n, err) != DB_OK)
        log_warn("views: %s", err);
}

/* Also the place for other periodic chores: expired sessions go here. */
static void *
views_main(void *arg)
{
    struct views *v = arg;
    char err[DB_ERR_LEN];

    for (;;) {
        struct timespec until;
        int stop;

        pthread_mutex_lock(&v->lock);
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += FLUSH_S;
        if (!v->stopping)
            pthread_cond_timedwait(&v->stop_cv, &v->lock, &until);
        stop = v->stopping;
        pthread_mutex_unlock(&v->lock);
        views_flush(v);
        if (acc_sessions_purge(v->app->db, (int64_t)time(NULL), err) < 0)
            log_warn("session purge: %s", err);
        if (stop)
            break;
    }
    return NULL;
}

int
views_start(struct app *app)
{
    struct views *v = calloc(1, sizeof *v);

    if (!v)
        return -1;
    v->app = app;
    pthread_mutex_init(&v->lock, NULL);
    pthread_cond_init(&v->stop_cv, NULL);
    if (pthread_create(&v->thread, NULL, views_main, v) != 0) {
        free(v);
        return -1;
    }
    v->running = 1;
    app->views = v;
    return 0;
}

void
views_stop(struct app *app)
{
    struct views *v = app->views;

    if (!v)
        return;
    pthread_mutex_lock(&v->lock);
    v->stopping = 1;
    pthread_cond_signal(&v->stop_cv);
    pthread_mutex_unlock(&v->lock);
    pthread_join(v->thread, NULL);
    pthread_cond_destroy(&v->stop_cv);
    pthread_mutex_destroy(&v->lock);
    free(v);
    app->views = NULL;
}

void
images_view_seen(struct app *app, const char *id)
{
    struct views *v = app->views;
    int i;

    if (!v)
        return;
    pthread_mutex_lock(&v->lock);
    for (i = 0; i < v->n && strcmp(v->ids[i], id) != 0; i++)
        ;
    if (i < v->n) {
        v->counts[i]++;
    } else if (v->n < VIEW_SLOTS) {
        snprintf(v->ids[v->n], CAT_ID_LEN, "%s", id);
        v->counts[v->n++] = 1;
    }
    /* A full table drops views until the next flush: counts are
     * statistics, not money. */
    pthread_mutex_unlock(&v->lock);
}

/* ---- search ----------------------------------------------------------- */

/* Lists hold approved images only. */
static json_t *
item_json(struct app *app, const struct cat_item *it)
{
    char thumb[512], preview[512], page[96];

    app_rendition_url(app, it->id, 1, "thumbnail.jpg", thumb, sizeof thumb);
    app_rendition_url(app, it->id, 1, "preview.jpg", preview, sizeof preview);
    snprintf(page, sizeof page, "/api/v1/images/%s", it->id);
    return json_pack("{s:s,s:s,s:i,s:i,s:{s:s,s:s},s:s,s:s,s:s,s:s,s:I}", "id",
                     it->id, "title", it->title, "width", it->width, "height",
                     it->height, "contributor", "id", it->contributor_id,
                     "name", it->contributor_name, "thumbnail_url", thumb,
                     "preview_url", preview, "url", page, "colour", it->colour,
                     "licences_sold", (json_int_t)it->licences_sold);
}

static json_t *
items_json(struct app *app, const struct cat_list *l)
{
    json_t *a = json_array();

    for (int i = 0; i < l->n; i++)
        json_array_append_new(a, item_json(app, &l->items[i]));
    return a;
}

static json_t *
page_json(struct app *app, const struct cat_list *l)
{
    return json_pack("{s:o,s:o}", "items", items_json(app, l), "next_cursor",
                     l->next_cursor[0] ? json_string(l->next_cursor)
                                       : json_null());
}

static int
palette_colour(const char *c)
{
    static const char *const names[] = {
        "red",    "orange", "yellow", "green", "teal",  "blue",
        "purple", "pink",   "brown",  "black", "white", "grey",
    };

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!strcmp(c, names[i]))
            return 1;
    }
    return 0;
}

/* A name shown on one line: text without tabs or line breaks. */
static int
one_line(const char *s)
{
    if (!text_ok(s))
        return 0;
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20)
            return 0;
    }
    return 1;
}

/* Read the common search parameters; replies 422 and returns -1 on a bad
 * one. */
static int
query_params(struct srv_req *r, struct cat_query *q)
{
    const char *sort = srv_req_query(r, "sort");
    const char *mp = srv_req_query(r, "min_megapixels");
    const char *orient = srv_req_query(r, "orientation");
    int64_t limit;

    memset(q, 0, sizeof *q);
    if (srv_query_int(r, "limit", 1, CAT_LIST_MAX, CAT_LIST_DEFAULT, &limit) <
        0)
        return -1;
    q->limit = (int)limit;
    q->text = srv_req_query(r, "q");
    q->colour = srv_req_query(r, "colour");
    q->cursor = srv_req_query(r, "cursor");
    if (q->colour && !*q->colour)
        q->colour = NULL;
    if (q->colour && !palette_colour(q->colour)) {
        srv_error(r, 422, "invalid_parameter",
                  "colour must be one of red, "
                  "orange, yellow, green, teal, blue, purple, pink, brown, "
                  "black, white, grey.");
        return -1;
    }
    if (orient && *orient) {
        if (strcmp(orient, "landscape") && strcmp(orient, "portrait") &&
            strcmp(orient, "square")) {
            srv_error(r, 422, "invalid_parameter",
                      "orientation must be "
                      "landscape, portrait or square.");
            return -1;
        }
        q->orientation = orient;
    }
    if (mp && *mp) {
        char *end;
        double v = strtod(mp, &end);

        if (*end || !(v >= 0 && v <= 1000)) {
            srv_error(r, 422, "invalid_parameter",
                      "min_megapixels must be "
                      "a number from 0 to 1000.");
            return -1;
        }
        q->min_megapixels = v;
    }
    if (!sort || !*sort)
        q->sort = CAT_SORT_DEFAULT;
    else if (!strcmp(sort, "relevance"))
        q->sort = CAT_SORT_RELEVANCE;
    else if (!strcmp(sort, "newest"))
        q->sort = CAT_SORT_NEWEST;
    else if (!strcmp(sort, "popular"))
        q->sort = CAT_SORT_POPULAR;
    else {
        srv_error(r, 422, "invalid_parameter",
                  "sort must be relevance, "
                  "newest or popular.");
        return -1;
    }
    return 0;
}

static void
run_search(struct srv_req *r, struct cat_query *q, json_t *extra)
{
    struct cat_list l = {0};
    char err[DB_ERR_LEN];
    int rc = cat_search(srv_req_app(r)->db, q, &l, err);

    if (rc == DB_EINVAL) {
        srv_error(r, 422, "invalid_parameter", "%s.", err);
        json_decref(extra);
    } else if (rc != DB_OK) {
        log_error("%s: search: %s", srv_req_id(r), err);
        srv_error(r, 500, "internal", "The search failed on our side.");
        json_decref(extra);
    } else {
        json_t *page = page_json(srv_req_app(r), &l);

        if (extra) {
            json_object_update(page, extra);
            json_decref(extra);
        }
        srv_json(r, 200, page);
    }
    cat_list_release(&l);
}

void
images_search(struct srv_req *r)
{
    struct cat_query q;
    const char *contrib;

    if (query_params(r, &q) < 0)
        return;
    contrib = srv_req_query(r, "contributor");
    q.contributor_id = contrib && *contrib ? contrib : NULL;
    run_search(r, &q, NULL);
}

/* Similar images for the image page. */
void
images_page_extras(struct srv_req *r, const struct cat_image *img, json_t *j)
{
    struct cat_list l = {0};
    char err[DB_ERR_LEN];

    if (!j || strcmp(img->status, "approved") != 0)
        return;
    if (cat_similar(srv_req_app(r)->db, img->id, 12, &l, err) == DB_OK)
        json_object_set_new(j, "similar", items_json(srv_req_app(r), &l));
    else
        log_warn("%s: similar: %s", srv_req_id(r), err);
    cat_list_release(&l);
}

void
contributors_get(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    const char *id = srv_req_param(r, 0);
    struct cat_profile p;
    struct cat_query q;
    char err[DB_ERR_LEN], since[32];
    int rc;

    if (query_params(r, &q) < 0)
        return;
    rc = cat_contributor_profile(app->db, id, &p, err);
    if (rc == DB_ENOTFOUND) {
        srv_error(r, 404, "not_found", "There is no such contributor.");
        return;
    }
    if (rc != DB_OK) {
        srv_error(r, 500, "internal", "The profile could not be read.");
        return;
    }
    app_iso_time(p.member_since, since);
    q.contributor_id = id;
    if (!srv_req_query(r, "sort"))
        q.sort = q.text && *q.text ? CAT_SORT_RELEVANCE : CAT_SORT_NEWEST;
    run_search(r, &q,
               json_pack("{s:s,s:s,s:I,s:I,s:s}", "id", p.id, "name", p.name,
                         "images", (json_int_t)p.approved_images,
                         "licences_sold", (json_int_t)p.licences_sold,
                         "member_since", since));
}

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

/* Map the catalogue's answer for a lightbox change to a reply. 0 if ok. */
static int
lightbox_rc(struct srv_req *r, int rc, const char *err)
{
    if (rc == DB_OK)
        return 0;
    if (rc == DB_ENOTFOUND)
        srv_error(r, 404, "not_found", "You have no such lightbox or image.");
    else if (rc == DB_EINVAL)
        srv_error(r, 422, "invalid_field", "%s.", err);
    else if (rc == DB_ELIMIT)
        srv_error(r, 422, "lightbox_full", "This lightbox is full.");
    else {
        log_error("%s: lightbox: %s", srv_req_id(r), err);
        srv_error(r, 500, "internal", "The lightbox could not be changed.");
    }
    return -1;
}

void
lightboxes_list(struct srv_req *r)
{
    struct cat_lightbox *lbs = NULL;
    char err[DB_ERR_LEN];
    json_t *a;
    int n = 0;

    if (lightbox_rc(r,
                    cat_lightboxes_of(srv_req_app(r)->db, srv_req_user(r)->id,
                                      &lbs, &n, err),
                    err) < 0)
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

    if (srv_query_int(r, "limit", 1, CAT_LIST_MAX, CAT_LIST_DEFAULT, &limit) <
        0)
        return;
    if (lightbox_rc(r,
                    cat_lightbox_get(srv_req_app(r)->db, id, u ? u->id : NULL,
                                     srv_req_query(r, "token"),
                                     srv_req_query(r, "cursor"), (int)limit,
                                     &lb, &items, err),
                    err) == 0) {
        j = lightbox_json(&lb, u && !strcmp(u->id, lb.owner_id));
        json_object_set_new(j, "items", items_json(srv_req_app(r), &items));
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
    if (!one_line(name)) {
        srv_error(r, 422, "invalid_field",
                  "The name must be one line of "
                  "plain text.");
        return;
    }
    if (lightbox_rc(r,
                    cat_lightbox_create(srv_req_app(r)->db, srv_req_user(r)->id,
                                        name, id, err),
                    err) == 0)
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
    if (name && !one_line(name)) {
        srv_error(r, 422, "invalid_field",
                  "The name must be one line of "
                  "plain text.");
        return;
    }
    if (name && lightbox_rc(r, cat_lightbox_rename(app->db, id, uid, name, err),
                            err) < 0)
        return;
    if (shared && json_is_true(shared) &&
        lightbox_rc(r, cat_lightbox_share(app->db, id, uid, token, err), err) <
            0)
        return;
    if (shared && json_is_false(shared) &&
        lightbox_rc(r, cat_lightbox_unshare(app->db, id, uid, err), err) < 0)
        return;
    lightbox_reply(r, id, 200);
}

void
lightboxes_delete(struct srv_req *r)
{
    char err[DB_ERR_LEN];

    if (lightbox_rc(r,
                    cat_lightbox_delete(srv_req_app(r)->db, srv_req_param(r, 0),
                                        srv_req_user(r)->id, err),
                    err) == 0)
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
    if (lightbox_rc(r, rc, err) == 0)
        srv_empty(r, 204);
}

void
lightboxes_remove(struct srv_req *r)
{
    char err[DB_ERR_LEN];

    if (lightbox_rc(r,
                    cat_lightbox_remove(srv_req_app(r)->db, srv_req_param(r, 0),
                                        srv_req_user(r)->id,
                                        srv_req_param(r, 1), err),
                    err) == 0)
        srv_empty(r, 204);
}
