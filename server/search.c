/* Stockroom — search: the public catalogue query, its parameters, and
 * similar images for an image page. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "catalog.h"
#include "log.h"

/* ---- search ----------------------------------------------------------- */

static json_t *
item_json(const struct cat_item *it)
{
    char thumb[96], preview[96], page[96];

    snprintf(thumb, sizeof thumb, "/images/%s/thumbnail.jpg", it->id);
    snprintf(preview, sizeof preview, "/images/%s/preview.jpg", it->id);
    snprintf(page, sizeof page, "/api/v1/images/%s", it->id);
    return json_pack("{s:s,s:s,s:i,s:i,s:{s:s,s:s},s:s,s:s,s:s,s:s,s:I}", "id",
                     it->id, "title", it->title, "width", it->width, "height",
                     it->height, "contributor", "id", it->contributor_id,
                     "name", it->contributor_name, "thumbnail_url", thumb,
                     "preview_url", preview, "url", page, "colour", it->colour,
                     "licences_sold", (json_int_t)it->licences_sold);
}

json_t *
search_items_json(const struct cat_list *l)
{
    json_t *a = json_array();

    for (int i = 0; i < l->n; i++)
        json_array_append_new(a, item_json(&l->items[i]));
    return a;
}

static json_t *
page_json(const struct cat_list *l)
{
    return json_pack("{s:o,s:o}", "items", search_items_json(l), "next_cursor",
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

/* Read the common search parameters; replies 422 and returns -1 on a bad
 * one. */
int
search_query_params(struct srv_req *r, struct cat_query *q)
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

void
search_run(struct srv_req *r, struct cat_query *q, json_t *extra)
{
    struct cat_list l = {0};
    char err[DB_ERR_LEN];
    int rc = cat_search(srv_req_app(r)->db, q, &l, err);

    if (rc == DB_EINVAL) {
        srv_error(r, 422, "invalid_parameter", "%s.", err);
        json_decref(extra);
    } else if (srv_reply_db(r, rc, err, "search") < 0) {
        json_decref(extra);
    } else {
        json_t *page = page_json(&l);

        if (extra) {
            json_object_update(page, extra);
            json_decref(extra);
        }
        srv_json(r, 200, page);
    }
    cat_list_release(&l);
}

void
search_images(struct srv_req *r)
{
    struct cat_query q;
    const char *contrib;

    if (search_query_params(r, &q) < 0)
        return;
    contrib = srv_req_query(r, "contributor");
    q.contributor_id = contrib && *contrib ? contrib : NULL;
    search_run(r, &q, NULL);
}

/* Similar images for the image page. */
void
search_similar(struct srv_req *r, const struct cat_image *img, json_t *j)
{
    struct cat_list l = {0};
    char err[DB_ERR_LEN];

    if (!j || img->status != DB_IMG_APPROVED)
        return;
    if (cat_similar(srv_req_app(r)->db, img->id, 12, &l, err) == DB_OK)
        json_object_set_new(j, "similar", search_items_json(&l));
    else
        log_warn("%s: similar: %s", srv_req_id(r), err);
    cat_list_release(&l);
}
