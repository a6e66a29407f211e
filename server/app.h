/* Stockroom — the running store: what every handler reaches through its
 * request. One per process, built by main and torn down in reverse. */
#ifndef STOCKROOM_APP_H
#define STOCKROOM_APP_H

#include "config.h"
#include "db.h"
#include "http.h"

struct auth;
struct blob;
struct workers;
struct views;
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
    struct rcache *rcache;     /* public renditions kept open */
    unsigned char sign_pk[32]; /* Ed25519: certificates */
    unsigned char sign_sk[64];
    char tmp_dir[1100]; /* uploads in progress, same filesystem */
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

/* Resource handlers, one file each. */

/* users.c */
json_t *users_json(const struct acc_user *u);
json_t *users_roles_json(unsigned roles);
void users_create(struct srv_req *r);
void sessions_create(struct srv_req *r);
void sessions_delete(struct srv_req *r);
void me_get(struct srv_req *r);

/* system.c */
void healthz_get(struct srv_req *r);
void metrics_get(struct srv_req *r);
void static_get(struct srv_req *r);
int static_send(struct srv_req *r, const char *name, unsigned status);

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
void images_thumbnail(struct srv_req *r);
void images_preview(struct srv_req *r);
void review_queue(struct srv_req *r);
void review_decide(struct srv_req *r);

json_t *images_json(struct app *app, const struct cat_image *img, int full);
json_t *images_sizes_json(struct app *app, int width, int height);
int images_size_edge(const char *name, int width, int height, int *index);

/* browse.c */
void images_search(struct srv_req *r);
void images_page_extras(struct srv_req *r, const struct cat_image *img,
                        json_t *j);
void images_view_seen(struct app *app, const char *id);
void contributors_get(struct srv_req *r);
void lightboxes_list(struct srv_req *r);
void lightboxes_create(struct srv_req *r);
void lightboxes_get(struct srv_req *r);
void lightboxes_patch(struct srv_req *r);
void lightboxes_delete(struct srv_req *r);
void lightboxes_add(struct srv_req *r);
void lightboxes_remove(struct srv_req *r);
/* The view counter's thread, which also purges expired sessions. */
int views_start(struct app *app);
void views_stop(struct app *app);

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

/* money.c */
int app_credits(struct app *app, const char *user_id, int64_t *credits);
int money_keys_load(struct app *app);
void packs_list(struct srv_req *r);
void purchases_create(struct srv_req *r);
void purchases_list(struct srv_req *r);
void purchases_refund(struct srv_req *r);
void licences_create(struct srv_req *r);
void licences_mine(struct srv_req *r);
void licences_download(struct srv_req *r);
void licences_certificate(struct srv_req *r);
void licences_public_key(struct srv_req *r);
void licences_verify(struct srv_req *r);
void licences_refund(struct srv_req *r);
void earnings_get(struct srv_req *r);
void payouts_create(struct srv_req *r);
void payouts_mine(struct srv_req *r);
void payouts_all(struct srv_req *r);
void payouts_settle(struct srv_req *r);
void ledger_verify_get(struct srv_req *r);

#endif
