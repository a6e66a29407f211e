/* Stockroom — reports of photos by anyone (rate-limited per client
 * address), and the admins' list and dismissal. Taking the photo down is
 * safety_takedown. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "audit.h"
#include "cat_safety.h"
#include "text.h"

#define REPORTS_PER_WINDOW 10 /* per client address */
#define REPORTS_WINDOW_S 3600
#define REPORTS_SLOTS 1024 /* addresses tracked; a collision shares a slot */

static const char *const reasons[] = {"copyright", "privacy", "offensive",
                                      "other", NULL};

/* A fixed-window count per client address, hashed into slots: a shared
 * slot only makes the limit stricter. */
static struct {
    pthread_mutex_t lock;
    int64_t window[REPORTS_SLOTS];
    int count[REPORTS_SLOTS];
} limiter = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int
limited(const char *client)
{
    uint32_t h = 2166136261u;
    int64_t now = (int64_t)time(NULL) / REPORTS_WINDOW_S;
    int over;

    for (const char *p = client ? client : ""; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    h %= REPORTS_SLOTS;
    pthread_mutex_lock(&limiter.lock);
    if (limiter.window[h] != now) {
        limiter.window[h] = now;
        limiter.count[h] = 0;
    }
    over = limiter.count[h] >= REPORTS_PER_WINDOW;
    if (!over)
        limiter.count[h]++;
    pthread_mutex_unlock(&limiter.lock);
    return over;
}

void
reports_create(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    const char *reason, *details = NULL, *email = NULL;
    char id[CAT_ID_LEN], err[DB_ERR_LEN];
    int known = 0, rc;

    if (srv_field_str(r, "reason", 1, 16, 0, &reason) < 0 ||
        srv_field_str(r, "details", 0, CAT_REPORT_DETAILS_MAX, 1, &details) <
            0 ||
        srv_field_str(r, "contact_email", 0, 254, 1, &email) < 0)
        return;
    for (int i = 0; reasons[i]; i++)
        known |= !strcmp(reason, reasons[i]);
    if (!known) {
        srv_error(r, 422, "invalid_reason",
                  "'reason' must be copyright, privacy, offensive or other.");
        return;
    }
    if ((details && !text_ok(details)) ||
        (email && *email && (!text_ok(email) || !strchr(email, '@')))) {
        srv_error(r, 422, "invalid_field",
                  "'details' must be plain text and 'contact_email' an email "
                  "address.");
        return;
    }
    if (limited(srv_req_client(r))) {
        srv_header(r, "Retry-After", "3600");
        srv_error(r, 429, "rate_limited",
                  "Too many reports from this address: try again later.");
        return;
    }
    rc = cat_report_create(app->db, srv_req_param(r, 0), reason, details, email,
                           id, err);
    if (srv_reply_db(r, rc, err, "image") < 0)
        return;
    srv_json(r, 201, json_pack("{s:s,s:s}", "id", id, "status", "open"));
}

void
reports_list(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    struct cat_report *a = NULL;
    char err[DB_ERR_LEN], at[32];
    json_t *items;
    int n = 0;

    if (srv_reply_db(r, cat_reports_open(app->db, &a, &n, err), err,
                     "report list") < 0)
        return;
    items = json_array();
    for (int i = 0; i < n; i++) {
        app_iso_time(a[i].created_at, at);
        json_array_append_new(
            items, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "id", a[i].id,
                             "image_id", a[i].image_id, "image_title",
                             a[i].image_title, "reason", a[i].reason, "details",
                             a[i].details, "contact_email", a[i].contact_email,
                             "status", a[i].status, "created_at", at));
    }
    cat_reports_free(a, n);
    srv_json(r, 200, json_pack("{s:o}", "items", items));
}

void
reports_dismiss(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    const char *reason = NULL;
    char err[DB_ERR_LEN];
    int rc;

    if (srv_field_str(r, "reason", 0, 1000, 1, &reason) < 0)
        return;
    rc = cat_report_dismiss(app->db, srv_req_param(r, 0), srv_req_user(r)->id,
                            reason, err);
    if (rc == DB_ECONFLICT) {
        srv_error(r, 409, "report_closed", "This report is closed already.");
        return;
    }
    if (srv_reply_db(r, rc, err, "report") < 0)
        return;
    srv_json(r, 200,
             json_pack("{s:s,s:s}", "id", srv_req_param(r, 0), "status",
                       "dismissed"));
}
