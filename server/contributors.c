/* Stockroom — a contributor's public profile and portfolio. */
#include <stdio.h>

#include "app.h"
#include "catalog.h"

void
contributors_get(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    const char *id = srv_req_param(r, 0);
    struct cat_profile p;
    struct cat_query q;
    char err[DB_ERR_LEN], since[32];
    int rc;

    if (search_query_params(r, &q) < 0)
        return;
    rc = cat_contributor_profile(app->db, id, &p, err);
    if (srv_reply_db(r, rc, err, "contributor") < 0)
        return;
    app_iso_time(p.member_since, since);
    q.contributor_id = id;
    if (!srv_req_query(r, "sort"))
        q.sort = q.text && *q.text ? CAT_SORT_RELEVANCE : CAT_SORT_NEWEST;
    search_run(r, &q,
               json_pack("{s:s,s:s,s:I,s:I,s:s}", "id", p.id, "name", p.name,
                         "images", (json_int_t)p.approved_images,
                         "licences_sold", (json_int_t)p.licences_sold,
                         "member_since", since));
}
