/* Stockroom — every route of the store, in one table. */
#include "app.h"

#define ANY_USER 0
#define BUYER ACC_ROLE_BUYER
#define CONTRIB ACC_ROLE_CONTRIBUTOR
#define REVIEWER (ACC_ROLE_REVIEWER | ACC_ROLE_ADMIN)

const struct srv_route app_routes[] = {
    { "GET", "/healthz", healthz_get, SRV_BODY_NONE, SRV_AUTH_NONE, 0,
      "healthz" },
    { "GET", "/metrics", metrics_get, SRV_BODY_NONE, SRV_AUTH_NONE, 0,
      "metrics" },
    { "POST", "/api/v1/users", users_create, SRV_BODY_JSON, SRV_AUTH_NONE, 0,
      "users_create" },
    { "POST", "/api/v1/sessions", sessions_create, SRV_BODY_JSON,
      SRV_AUTH_NONE, 0, "sessions_create" },
    { "DELETE", "/api/v1/sessions/current", sessions_delete, SRV_BODY_NONE,
      SRV_AUTH_REQUIRED, ANY_USER, "sessions_delete" },
    { "GET", "/api/v1/me", me_get, SRV_BODY_NONE, SRV_AUTH_REQUIRED,
      ANY_USER, "me" },
    { "POST", "/api/v1/images", images_create, SRV_BODY_MULTIPART,
      SRV_AUTH_REQUIRED, CONTRIB, "images_create" },
    { "GET", "/api/v1/images", images_search, SRV_BODY_NONE,
      SRV_AUTH_OPTIONAL, 0, "images_search" },
    { "GET", "/api/v1/images/{}", images_get, SRV_BODY_NONE,
      SRV_AUTH_OPTIONAL, 0, "images_get" },
    { "PATCH", "/api/v1/images/{}", images_patch, SRV_BODY_JSON,
      SRV_AUTH_REQUIRED, CONTRIB, "images_patch" },
    { "GET", "/api/v1/me/images", images_mine, SRV_BODY_NONE,
      SRV_AUTH_REQUIRED, CONTRIB, "images_mine" },
    { "GET", "/images/{}/thumbnail.jpg", images_thumbnail, SRV_BODY_NONE,
      SRV_AUTH_OPTIONAL, 0, "thumbnail" },
    { "GET", "/images/{}/preview.jpg", images_preview, SRV_BODY_NONE,
      SRV_AUTH_OPTIONAL, 0, "preview" },
    { "GET", "/api/v1/review/queue", review_queue, SRV_BODY_NONE,
      SRV_AUTH_REQUIRED, REVIEWER, "review_queue" },
    { "POST", "/api/v1/images/{}/review", review_decide, SRV_BODY_JSON,
      SRV_AUTH_REQUIRED, REVIEWER, "review_decide" },
    { "GET", "/api/v1/contributors/{}", contributors_get, SRV_BODY_NONE,
      SRV_AUTH_NONE, 0, "contributors_get" },
    { "GET", "/api/v1/lightboxes", lightboxes_list, SRV_BODY_NONE,
      SRV_AUTH_REQUIRED, ANY_USER, "lightboxes_list" },
    { "POST", "/api/v1/lightboxes", lightboxes_create, SRV_BODY_JSON,
      SRV_AUTH_REQUIRED, ANY_USER, "lightboxes_create" },
    { "GET", "/api/v1/lightboxes/{}", lightboxes_get, SRV_BODY_NONE,
      SRV_AUTH_OPTIONAL, 0, "lightboxes_get" },
    { "PATCH", "/api/v1/lightboxes/{}", lightboxes_patch, SRV_BODY_JSON,
      SRV_AUTH_REQUIRED, ANY_USER, "lightboxes_patch" },
    { "DELETE", "/api/v1/lightboxes/{}", lightboxes_delete, SRV_BODY_NONE,
      SRV_AUTH_REQUIRED, ANY_USER, "lightboxes_delete" },
    { "PUT", "/api/v1/lightboxes/{}/images/{}", lightboxes_add,
      SRV_BODY_NONE, SRV_AUTH_REQUIRED, ANY_USER, "lightboxes_add" },
    { "DELETE", "/api/v1/lightboxes/{}/images/{}", lightboxes_remove,
      SRV_BODY_NONE, SRV_AUTH_REQUIRED, ANY_USER, "lightboxes_remove" },
    /* Last: everything else is a file of web/ or a 404. */
    { "GET", "*", static_get, SRV_BODY_NONE, SRV_AUTH_NONE, 0, "static" },
};

const int app_n_routes = (int)(sizeof app_routes / sizeof app_routes[0]);
