/* Stockroom — leaving: everything the store holds about an account as one
 * JSON document, and closing the account. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "auth.h"
#include "log.h"

/* One row of a section into the document: "profile" is an object, every
 * other section an array of objects. */
static int
export_row(void *arg, const char *section, int ncol, const char *const *names,
           const char *const *values, const int *is_int)
{
    json_t *doc = arg, *row;
    int single = !strcmp(section, "profile");

    if (!json_object_get(doc, section))
        json_object_set_new(doc, section, single ? json_null() : json_array());
    if (ncol == 0)
        return 0;
    row = json_object();
    for (int i = 0; i < ncol; i++) {
        json_t *v;

        if (!values[i])
            v = json_null();
        else if (is_int[i])
            v = json_integer(strtoll(values[i], NULL, 10));
        else
            v = json_string(values[i]);
        json_object_set_new(row, names[i], v ? v : json_null());
    }
    if (single) {
        json_t *roles = json_object_get(row, "roles");

        json_object_set_new(
            row, "roles",
            users_roles_json((unsigned)json_integer_value(roles)));
        json_object_set_new(doc, section, row);
    } else {
        json_array_append_new(json_object_get(doc, section), row);
    }
    return 0;
}

void
account_close_export(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    const struct acc_user *u = srv_req_user(r);
    char err[DB_ERR_LEN], now[32], disp[128];
    json_t *doc = json_object();

    app_iso_time((int64_t)time(NULL), now);
    json_object_set_new(doc, "format", json_string("stockroom-export-1"));
    json_object_set_new(doc, "exported_at", json_string(now));
    if (acc_export(app->db, u->id, export_row, doc, err) != DB_OK) {
        json_decref(doc);
        log_error("%s: export: %s", srv_req_id(r), err);
        srv_error(r, 500, "internal", "The export failed on our side.");
        return;
    }
    snprintf(disp, sizeof disp, "attachment; filename=\"stockroom-%s.json\"",
             u->id);
    srv_header(r, "Content-Disposition", disp);
    srv_json(r, 200, doc);
}

void
account_close_delete(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    const struct acc_user *u = srv_req_user(r);
    const char *pw;
    char err[DB_ERR_LEN];
    struct acc_user fresh;
    int rc;

    if (srv_field_str(r, "current_password", 1, 1024, 0, &pw) < 0)
        return;
    if (acc_user_get(app->db, u->id, &fresh, err) != DB_OK ||
        auth_check_password(app->auth, fresh.pw_hash, pw) < 0) {
        srv_error(r, 403, "wrong_password", "The current password is wrong.");
        return;
    }
    /* A brief's escrow must come back to the wallet before anything goes. */
    if (briefs_account_check(r, u->id) < 0)
        return;
    rc = acc_user_close(app->db, u->id, err);
    if (rc == DB_EFUNDS) {
        srv_error(r, 409, "balance_outstanding",
                  "Money is waiting to be paid out to you: ask for a payout "
                  "(or wait for the one in flight) before closing the "
                  "account.");
        return;
    }
    if (rc != DB_OK) {
        log_error("%s: close account: %s", srv_req_id(r), err);
        srv_error(r, 500, "internal",
                  "Closing the account failed on our "
                  "side.");
        return;
    }
    log_info("%s: account %s closed", srv_req_id(r), u->id);
    srv_header(r, "Set-Cookie",
               AUTH_COOKIE "=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax");
    srv_empty(r, 204);
}
