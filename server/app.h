/* Stockroom — the running store: what every handler reaches through its
 * request. One per process, built by main and torn down in reverse. */
#ifndef STOCKROOM_APP_H
#define STOCKROOM_APP_H

#include "config.h"
#include "db.h"
#include "http.h"

struct auth;
struct metrics;

struct app {
    struct config cfg;
    struct db *db;
    struct auth *auth;
    struct srv_http *http;
    char tmp_dir[1100];         /* uploads in progress, same filesystem */
};

/* The route table of every resource, in routes.c. */
extern const struct srv_route app_routes[];
extern const int app_n_routes;

/* Resource handlers, one file each. */

/* users.c */
json_t *users_json(const struct acc_user *u);
json_t *users_roles_json(unsigned roles);
int users_email_valid(const char *email);
void users_create(struct srv_req *r);
void sessions_create(struct srv_req *r);
void sessions_delete(struct srv_req *r);
void me_get(struct srv_req *r);

/* system.c */
void healthz_get(struct srv_req *r);
void metrics_get(struct srv_req *r);
void static_get(struct srv_req *r);
int static_send(struct srv_req *r, const char *name, unsigned status);

/* credits.c */
int app_credits(struct app *app, const char *user_id, int64_t *credits);

#endif
