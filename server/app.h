/* Stockroom — the running store: what every handler reaches through its
 * request. One per process, built by main and torn down in reverse. */
#ifndef STOCKROOM_APP_H
#define STOCKROOM_APP_H

#include "config.h"
#include "db.h"
#include "http.h"
#include "ledger.h"

struct auth;
struct blob;
struct workers;
struct views;
struct chores;
struct rcache;
struct cat_image;

struct app {
    struct config cfg;
    struct db *db;
    struct auth *auth;
    struct srv_http *http;
    struct blob *blobs;
    struct workers *workers;
    struct views *views;
    struct chores *chores;
    struct rcache *rcache;     /* public renditions kept open */
    unsigned char sign_pk[32]; /* Ed25519: certificates */
    unsigned char sign_sk[64];
    char tmp_dir[1100]; /* uploads in progress, same filesystem */
    /* Built from cfg once in app_open and read-only afterwards, so request
     * threads share it without locks. */
    struct ledger_tier tiers[CFG_MAX_TIERS];
    size_t n_tiers;
};

/* main.c: open the data directory, database, keys and libvips (0 or -1,
 * having said why on standard error); close in reverse. */
int app_open(struct app *app);
void app_close(struct app *app);

/* import.c */
int cmd_import(struct app *app, int argc, char **argv);

/* The route table of every resource, in routes.c. */
extern const struct srv_route app_routes[];
extern const int app_n_routes;

/* Resource handlers, one file per resource; each handler is named after
 * its file. */

/* users.c */
#define USERS_PASSWORD_MIN 10
#define USERS_PASSWORD_MAX 1024
json_t *users_json(const struct acc_user *u);
json_t *users_roles_json(unsigned roles);
void users_create(struct srv_req *r);
void users_me_get(struct srv_req *r);

/* sessions.c */
void sessions_create(struct srv_req *r);
void sessions_delete(struct srv_req *r);
/* A chore: remove expired sessions. */
void sessions_purge(struct app *app);

/* system.c */
void system_healthz(struct srv_req *r);
void system_metrics(struct srv_req *r);
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
void images_get(struct srv_req *r);
void images_patch(struct srv_req *r);
void images_mine(struct srv_req *r);

json_t *images_json(struct app *app, const struct cat_image *img, int full);
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
/* The items of a list as a JSON array (new reference). */
json_t *search_items_json(const struct cat_list *l);

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

#endif
