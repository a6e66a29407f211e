/* Stockroom — the running store: what every handler reaches through its
 * request. One per process, built by main and torn down in reverse. */
#ifndef STOCKROOM_APP_H
#define STOCKROOM_APP_H

#include "config.h"
#include "db.h"
#include "http.h"
#include "ledger.h"

struct auth;
struct limiter;
struct blob;
struct workers;
struct views;
struct chores;
struct rcache;
struct cat_image;
struct mailer;

struct app {
    struct config cfg;
    struct db *db;
    struct auth *auth;
    struct limiter *limiter; /* failed sign-ins */
    struct srv_http *http;
    struct srv_http *metrics_http; /* --metrics-listen, or NULL */
    struct blob *blobs;
    struct workers *workers;
    struct views *views;
    struct chores *chores;
    struct rcache *rcache;     /* public renditions kept open */
    struct mailer *mailer;     /* the outbox's sender (mail.c) */
    unsigned char sign_pk[32]; /* Ed25519: certificates */
    unsigned char sign_sk[64];
    char tmp_dir[1100]; /* uploads in progress, same filesystem */
    /* Built from cfg once in app_open and read-only afterwards, so request
     * threads share it without locks. */
    struct ledger_tier tiers[CFG_MAX_TIERS];
    size_t n_tiers;
};

/* main.c: open the data directory, database, blob store, keys and libvips
 * (0, or -1 or APP_ECONFIG when the blob store's endpoint, bucket or
 * credentials are wrong, having said why on standard error); close in
 * reverse. */
#define APP_ECONFIG (-2)
int app_open(struct app *app);
void app_close(struct app *app);

/* blobs_cmd.c: stockroom blobs migrate|verify|gc; sub is the word after
 * "blobs", argv the operands after the flags. Returns the exit status. */
int cmd_blobs(struct app *app, const char *sub, int argc, char **argv);

/* import.c */
int cmd_import(struct app *app, int argc, char **argv);

/* The route table of every resource, in routes.c. */
extern const struct srv_route app_routes[];
extern const int app_n_routes;
/* The routes of the --metrics-listen listener. */
extern const struct srv_route app_metrics_routes[];
extern const int app_n_metrics_routes;

/* Resource handlers, one file per resource; each handler is named after
 * its file. */

/* users.c */
#define USERS_PASSWORD_MIN 10
#define USERS_PASSWORD_MAX 1024
json_t *users_json(const struct acc_user *u);
json_t *users_roles_json(unsigned roles);
void users_create(struct srv_req *r);
void users_me_get(struct srv_req *r);
void users_session_get(struct srv_req *r);

/* sessions.c */
void sessions_create(struct srv_req *r);
void sessions_delete(struct srv_req *r);
/* A chore: remove expired sessions. */
void sessions_purge(struct app *app);

/* account.c: mail-backed account routes. account_signup makes the account
 * with its verification link queued (errors as acc_signup). */
int account_signup(struct app *app, const char *email, const char *name,
                   const char *pw_hash, unsigned roles, struct acc_user *out,
                   char err[DB_ERR_LEN]);
void account_verify(struct srv_req *r);
void account_verify_resend(struct srv_req *r);
void account_reset_request(struct srv_req *r);
void account_reset(struct srv_req *r);
void account_password(struct srv_req *r);
void account_patch(struct srv_req *r);
void account_sessions_list(struct srv_req *r);
void account_session_delete(struct srv_req *r);
void account_sessions_delete(struct srv_req *r);
void account_unsubscribe(struct srv_req *r);
void account_images_create(struct srv_req *r);
void account_payouts_create(struct srv_req *r);
void account_brief_subs_create(struct srv_req *r);
void account_outbox_list(struct srv_req *r);

/* account_close.c */
void account_close_export(struct srv_req *r);
void account_close_delete(struct srv_req *r);

/* system.c */
void system_healthz(struct srv_req *r);
void system_metrics(struct srv_req *r);      /* needs --metrics-token */
void system_metrics_open(struct srv_req *r); /* for --metrics-listen */
void system_static(struct srv_req *r);
int system_static_send(struct srv_req *r, const char *name, unsigned status);

/* images.c */

/* What became of one file offered for the catalogue. */
struct ingest {
    unsigned status; /* 202 accepted, else the HTTP error */
    char code[32];   /* "processing" or the error code */
    char message[400];
    char id[24]; /* the new image, or the existing one on 409 */
};

/* Check and store one photo for contributor_id, from path (a temporary
 * file on the data dir's filesystem: on success it is moved into the
 * store and *moved is set). Shared by the upload route and `import`. */
int images_ingest(struct app *app, const char *contributor_id, const char *path,
                  int64_t size, const char *title, const char *desc,
                  const char *keywords, int *moved, struct ingest *out);
void images_create(struct srv_req *r);
/* The multipart text field name (at most max bytes, plain UTF-8) into
 * *out (borrowed; NULL when absent). Replies 422 and returns -1 on a bad
 * one. */
int images_form_text(struct srv_req *r, const char *name, size_t max,
                     const char **out);
void images_get(struct srv_req *r);
void images_patch(struct srv_req *r);
void images_mine(struct srv_req *r);

json_t *images_json(struct app *app, const struct cat_image *img, int full);
/* The keywords "a,b,c" as a JSON array (new reference). */
json_t *images_keywords_json(const char *csv);
/* Set "pending_edit" on j (an image of images_json, full): the edit held
 * for review, or null. */
void review_edit_json(struct app *app, const struct cat_image *img, json_t *j);
json_t *images_sizes_json(struct app *app, int width, int height);
int images_size_edge(const char *name, int width, int height, int *index);
/* The image id if the signed-in viewer may see it (caller frees with
 * cat_image_free); otherwise replies 404 (or the error) and returns NULL. */
struct cat_image *images_visible(struct srv_req *r, const char *id);
/* Reply with a page of the viewer's own images, or of the review queue. */
void images_list_reply(struct srv_req *r, int queue);

/* renditions.c */
void renditions_thumbnail(struct srv_req *r);
void renditions_preview(struct srv_req *r);

/* review.c */
void review_queue(struct srv_req *r);
void review_decide(struct srv_req *r);

/* search.c */
void search_images(struct srv_req *r);
/* Add "similar" images to an image page j (nothing on failure). */
void search_similar(struct srv_req *r, const struct cat_image *img, json_t *j);
struct cat_query;
struct cat_list;
/* Read the common search parameters into q; replies 422 and returns -1 on
 * a bad one. */
int search_query_params(struct srv_req *r, struct cat_query *q);
/* Run q and reply with a page, merged with extra (taken; may be NULL). */
void search_run(struct srv_req *r, struct cat_query *q, json_t *extra);
/* The items of a list as a JSON array (new reference); their rendition
 * URLs as app_rendition_url gives them. */
json_t *search_items_json(struct app *app, const struct cat_list *l);

/* contributors.c */
void contributors_get(struct srv_req *r);

/* lightboxes.c */
void lightboxes_list(struct srv_req *r);
void lightboxes_create(struct srv_req *r);
void lightboxes_get(struct srv_req *r);
void lightboxes_patch(struct srv_req *r);
void lightboxes_delete(struct srv_req *r);
void lightboxes_add(struct srv_req *r);
void lightboxes_remove(struct srv_req *r);

/* views.c: image views counted in memory, written by a chore. */
int views_open(struct app *app);
void views_close(struct app *app);
void views_seen(struct app *app, const char *id);
void views_flush(struct app *app);

/* chores.c: one thread running every periodic sweep (see its table); the
 * last run happens in chores_stop. */
int chores_start(struct app *app);
void chores_stop(struct app *app);

/* worker.c: processing threads over the durable job queue. */
int workers_start(struct app *app);
void workers_wake(struct app *app);
void workers_stop(struct app *app);

/* util.c */
void app_iso_time(int64_t unix_s, char out[32]);
/* The URL of an image's rendition file ("thumbnail.jpg", "preview.jpg"):
 * under --rendition-base-url (a CDN in front of the store's keys) when the
 * image is approved and that is set, else Stockroom's own route. */
void app_rendition_url(struct app *app, const char *image_id, int approved,
                       const char *file, char *out, size_t len);

/* money.c: what the money resources share. */
int money_keys_load(struct app *app);
/* Base64 of len bytes into out (outlen bytes, NUL-terminated). */
void money_b64(const unsigned char *bin, size_t len, char *out, size_t outlen);
/* The request's Idempotency-Key, or NULL after replying 400. Borrowed. */
const char *money_idem_key(struct srv_req *r);
/* SHA-256 of canonical, in hex. */
void money_request_hash(const char *canonical, char hex[65]);

/* credits.c */
/* The user's credit balance: a DB_ code, err set on failure. */
int credits_balance(struct app *app, const char *user_id, int64_t *credits,
                    char err[DB_ERR_LEN]);
void credits_packs_list(struct srv_req *r);
void credits_purchase_create(struct srv_req *r);
void credits_purchases_list(struct srv_req *r);
void credits_purchase_refund(struct srv_req *r);

/* webhooks.c: POST /api/v1/webhooks/stripe, judged by its signature. */
void webhooks_stripe(struct srv_req *r);

/* receipts.c */
void receipts_get(struct srv_req *r);

/* connect.c: GET and POST /api/v1/me/payout-account. */
void connect_account_get(struct srv_req *r);
void connect_account_create(struct srv_req *r);

/* licences.c */
void licences_create(struct srv_req *r);
void licences_mine(struct srv_req *r);
void licences_download(struct srv_req *r);
void licences_certificate(struct srv_req *r);
void licences_share(struct srv_req *r);
void licences_public_key(struct srv_req *r);
void licences_verify(struct srv_req *r);
void licences_refund(struct srv_req *r);

/* earnings.c */
void earnings_get(struct srv_req *r);

/* payouts.c */
void payouts_create(struct srv_req *r);
void payouts_mine(struct srv_req *r);
void payouts_all(struct srv_req *r);
void payouts_settle(struct srv_req *r);

/* admin.c */
void admin_ledger_verify(struct srv_req *r);

/* safety.c: drafts, withdrawal, take-down, restore, appeals. */
void safety_submit(struct srv_req *r);
void safety_submit_batch(struct srv_req *r);
void safety_withdraw(struct srv_req *r);
void safety_restore(struct srv_req *r);
void safety_takedown(struct srv_req *r);
void safety_counter_notice(struct srv_req *r);
void safety_appeal(struct srv_req *r);
/* The missing fields of a draft as a JSON list (new reference). */
json_t *safety_missing_json(unsigned missing);
/* Forget an image's cached public renditions: it went off sale. */
void safety_off_sale(struct app *app, const char *id);
/* Add what its owner and staff see of drafts, off-sale states and appeals
 * to the image object j. */
void safety_image_json(struct app *app, const struct cat_image *img, json_t *j);
/* Apply an upload's people and property form fields to image id; replies
 * 422 and returns -1 on a bad one. */
int safety_upload_flags(struct srv_req *r, const char *id);
/* The editorial, caption, people and property fields of a PATCH: -1 after
 * replying, 0 when none was sent, 1 when applied. */
int safety_patch_fields(struct srv_req *r, const char *id);
/* releases.c */
void releases_create(struct srv_req *r);
void releases_mine(struct srv_req *r);
void releases_file(struct srv_req *r);
void releases_attach(struct srv_req *r);
void releases_detach(struct srv_req *r);
/* The releases attached to image id as a JSON array (new reference). */
json_t *releases_of_image(struct app *app, const char *id);
/* Add editorial, caption, people and property (everyone sees them) to the
 * image object j. */
void safety_public_json(struct app *app, const struct cat_image *img,
                        json_t *j);
/* A reviewer's approval may mark the photo editorial (fields editorial,
 * caption) instead of rejecting it for a missing release: -1 after
 * replying. */
int safety_review_editorial(struct srv_req *r, const char *id, int approve);
/* admin_console.c */
void admin_console_users(struct srv_req *r);
void admin_console_images(struct srv_req *r);
/* reports.c */
void reports_create(struct srv_req *r);
void reports_list(struct srv_req *r);
void reports_dismiss(struct srv_req *r);
/* admin_users.c */
void admin_users_suspend(struct srv_req *r);
void admin_users_unsuspend(struct srv_req *r);
void admin_users_audit(struct srv_req *r);
/* Append a line to the audit log for a staff action whose own write lives
 * in another module (the ledger's refunds and payouts): after it
 * succeeded, in a transaction of its own. A failure is logged. */
void admin_users_record(struct srv_req *r, const char *action,
                        const char *object_type, const char *object_id,
                        const char *reason);
/* briefs.c: posting, finding, editing, ending and awarding briefs. */
struct db_brief;
json_t *briefs_json(struct app *app, const struct db_brief *b,
                    const char *viewer);
/* The time briefs run on: unix seconds. */
int64_t briefs_now(void);
/* srv_reply_db, but a refusal with a why (db/briefs.h) is answered with
 * its own status and code. */
int briefs_reply_db(struct srv_req *r, int rc, int why, const char *err,
                    const char *what);
void briefs_create(struct srv_req *r);
void briefs_list(struct srv_req *r);
void briefs_mine(struct srv_req *r);
void briefs_get(struct srv_req *r);
void briefs_patch(struct srv_req *r);
void briefs_delete(struct srv_req *r);
void briefs_close(struct srv_req *r);
void briefs_award(struct srv_req *r);
/* For account deletion: replies 409 brief_open and returns -1 while
 * user_id has a brief still open (its escrow must come back first); 0
 * and no reply otherwise. */
int briefs_account_check(struct srv_req *r, const char *user_id);
/* A chore: return the escrow of expired and abandoned briefs. */
void briefs_sweep(struct app *app);

/* brief_subs.c: answers, shortlist, comments, wins. */
void brief_subs_create(struct srv_req *r);
void brief_subs_list(struct srv_req *r);
void brief_subs_shortlist_put(struct srv_req *r);
void brief_subs_shortlist_delete(struct srv_req *r);
void brief_subs_comment(struct srv_req *r);
void brief_subs_wins(struct srv_req *r);
/* The winners of a brief as a JSON array (new reference). */
json_t *brief_subs_awards_json(struct app *app, const char *brief_id);

#endif
