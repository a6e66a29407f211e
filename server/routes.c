/* Stockroom — every route of the store, in one table. */
#include "app.h"

#define ANY_USER 0
#define BUYER ACC_ROLE_BUYER
#define CONTRIB ACC_ROLE_CONTRIBUTOR
#define REVIEWER (ACC_ROLE_REVIEWER | ACC_ROLE_ADMIN)
#define ADMIN ACC_ROLE_ADMIN

const struct srv_route app_routes[] = {
    {"GET", "/healthz", system_healthz, SRV_BODY_NONE, SRV_AUTH_NONE, 0,
     "healthz"},
    {"GET", "/metrics", system_metrics, SRV_BODY_NONE, SRV_AUTH_NONE, 0,
     "metrics"},
    {"POST", "/api/v1/users", users_create, SRV_BODY_JSON, SRV_AUTH_NONE, 0,
     "users_create"},
    {"POST", "/api/v1/sessions", sessions_create, SRV_BODY_JSON, SRV_AUTH_NONE,
     0, "sessions_create"},
    {"DELETE", "/api/v1/sessions/current", sessions_delete, SRV_BODY_NONE,
     SRV_AUTH_REQUIRED, ANY_USER, "sessions_delete"},
    {"GET", "/api/v1/me", users_me_get, SRV_BODY_NONE, SRV_AUTH_REQUIRED,
     ANY_USER, "me"},
    {"POST", "/api/v1/images", images_create, SRV_BODY_MULTIPART,
     SRV_AUTH_REQUIRED, CONTRIB, "images_create"},
    {"GET", "/api/v1/images", search_images, SRV_BODY_NONE, SRV_AUTH_OPTIONAL,
     0, "images_search"},
    {"GET", "/api/v1/images/{}", images_get, SRV_BODY_NONE, SRV_AUTH_OPTIONAL,
     0, "images_get"},
    {"PATCH", "/api/v1/images/{}", images_patch, SRV_BODY_JSON,
     SRV_AUTH_REQUIRED, CONTRIB, "images_patch"},
    {"GET", "/api/v1/me/images", images_mine, SRV_BODY_NONE, SRV_AUTH_REQUIRED,
     CONTRIB, "images_mine"},
    {"GET", "/images/{}/thumbnail.jpg", renditions_thumbnail, SRV_BODY_NONE,
     SRV_AUTH_OPTIONAL, 0, "thumbnail"},
    {"GET", "/images/{}/preview.jpg", renditions_preview, SRV_BODY_NONE,
     SRV_AUTH_OPTIONAL, 0, "preview"},
    {"GET", "/api/v1/review/queue", review_queue, SRV_BODY_NONE,
     SRV_AUTH_REQUIRED, REVIEWER, "review_queue"},
    {"POST", "/api/v1/images/{}/review", review_decide, SRV_BODY_JSON,
     SRV_AUTH_REQUIRED, REVIEWER, "review_decide"},
    {"GET", "/api/v1/contributors/{}", contributors_get, SRV_BODY_NONE,
     SRV_AUTH_NONE, 0, "contributors_get"},
    {"GET", "/api/v1/lightboxes", lightboxes_list, SRV_BODY_NONE,
     SRV_AUTH_REQUIRED, ANY_USER, "lightboxes_list"},
    {"POST", "/api/v1/lightboxes", lightboxes_create, SRV_BODY_JSON,
     SRV_AUTH_REQUIRED, ANY_USER, "lightboxes_create"},
    {"GET", "/api/v1/lightboxes/{}", lightboxes_get, SRV_BODY_NONE,
     SRV_AUTH_OPTIONAL, 0, "lightboxes_get"},
    {"PATCH", "/api/v1/lightboxes/{}", lightboxes_patch, SRV_BODY_JSON,
     SRV_AUTH_REQUIRED, ANY_USER, "lightboxes_patch"},
    {"DELETE", "/api/v1/lightboxes/{}", lightboxes_delete, SRV_BODY_NONE,
     SRV_AUTH_REQUIRED, ANY_USER, "lightboxes_delete"},
    {"PUT", "/api/v1/lightboxes/{}/images/{}", lightboxes_add, SRV_BODY_NONE,
     SRV_AUTH_REQUIRED, ANY_USER, "lightboxes_add"},
    {"DELETE", "/api/v1/lightboxes/{}/images/{}", lightboxes_remove,
     SRV_BODY_NONE, SRV_AUTH_REQUIRED, ANY_USER, "lightboxes_remove"},
    {"GET", "/api/v1/credits/packs", credits_packs_list, SRV_BODY_NONE,
     SRV_AUTH_NONE, 0, "packs_list"},
    {"POST", "/api/v1/credits/purchases", credits_purchase_create,
     SRV_BODY_JSON, SRV_AUTH_REQUIRED, BUYER, "purchases_create"},
    {"GET", "/api/v1/me/purchases", credits_purchases_list, SRV_BODY_NONE,
     SRV_AUTH_REQUIRED, BUYER, "purchases_list"},
    {"POST", "/api/v1/credits/purchases/{}/refund", credits_purchase_refund,
     SRV_BODY_NONE, SRV_AUTH_REQUIRED, BUYER, "purchases_refund"},
    {"POST", "/api/v1/licences", licences_create, SRV_BODY_JSON,
     SRV_AUTH_REQUIRED, BUYER, "licences_create"},
    {"GET", "/api/v1/me/licences", licences_mine, SRV_BODY_NONE,
     SRV_AUTH_REQUIRED, BUYER, "licences_mine"},
    {"GET", "/api/v1/licences/public-key", licences_public_key, SRV_BODY_NONE,
     SRV_AUTH_NONE, 0, "licences_public_key"},
    {"GET", "/api/v1/licences/verify", licences_verify, SRV_BODY_NONE,
     SRV_AUTH_NONE, 0, "licences_verify"},
    {"GET", "/api/v1/licences/{}/download", licences_download, SRV_BODY_NONE,
     SRV_AUTH_REQUIRED, ANY_USER, "licences_download"},
    {"GET", "/api/v1/licences/{}/certificate", licences_certificate,
     SRV_BODY_NONE, SRV_AUTH_NONE, 0, "licences_certificate"},
    {"POST", "/api/v1/licences/{}/refund", licences_refund, SRV_BODY_NONE,
     SRV_AUTH_REQUIRED, ADMIN, "licences_refund"},
    {"GET", "/api/v1/me/earnings", earnings_get, SRV_BODY_NONE,
     SRV_AUTH_REQUIRED, CONTRIB, "earnings"},
    {"POST", "/api/v1/payouts", payouts_create, SRV_BODY_JSON,
     SRV_AUTH_REQUIRED, CONTRIB, "payouts_create"},
    {"GET", "/api/v1/me/payouts", payouts_mine, SRV_BODY_NONE,
     SRV_AUTH_REQUIRED, CONTRIB, "payouts_mine"},
    {"GET", "/api/v1/payouts", payouts_all, SRV_BODY_NONE, SRV_AUTH_REQUIRED,
     ADMIN, "payouts_all"},
    {"PATCH", "/api/v1/payouts/{}", payouts_settle, SRV_BODY_JSON,
     SRV_AUTH_REQUIRED, ADMIN, "payouts_settle"},
    {"GET", "/api/v1/admin/ledger/verify", admin_ledger_verify, SRV_BODY_NONE,
     SRV_AUTH_REQUIRED, ADMIN, "ledger_verify"},
    /* Last: everything else is a file of web/ or a 404. */
    {"GET", "*", system_static, SRV_BODY_NONE, SRV_AUTH_NONE, 0, "static"},
};

const int app_n_routes = (int)(sizeof app_routes / sizeof app_routes[0]);

/* The operator's own listener (--metrics-listen): the metrics and nothing
 * else, without a token; it is bound where only the operator reaches. */
const struct srv_route app_metrics_routes[] = {
    {"GET", "/metrics", system_metrics_open, SRV_BODY_NONE, SRV_AUTH_NONE, 0,
     "metrics"},
};

const int app_n_metrics_routes =
    (int)(sizeof app_metrics_routes / sizeof app_metrics_routes[0]);
