/* Stockroom — every route of the store, in one table. */
#include "app.h"

#define ANY_USER 0
#define BUYER ACC_ROLE_BUYER

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
    /* Last: everything else is a file of web/ or a 404. */
    { "GET", "*", static_get, SRV_BODY_NONE, SRV_AUTH_NONE, 0, "static" },
};

const int app_n_routes = (int)(sizeof app_routes / sizeof app_routes[0]);
