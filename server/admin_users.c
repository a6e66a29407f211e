/* Stockroom — the admins' hold on accounts (suspension) and the audit log
 * of every staff action. */
#include <stdio.h>
#include <string.h>

#include "acc_suspend.h"
#include "app.h"
#include "audit.h"
#include "log.h"
#include "text.h"

void
admin_users_suspend(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    const char *id = srv_req_param(r, 0), *reason;
    char err[DB_ERR_LEN];
    int rc;

    if (srv_field_str(r, "reason", 1, 1000, 0, &reason) < 0)
        return;
    if (!text_ok(reason)) {
        srv_error(r, 422, "invalid_field", "'reason' must be plain text.");
        return;
    }
    if (!strcmp(id, srv_req_user(r)->id)) {
        srv_error(r, 409, "own_account", "You cannot suspend yourself.");
        return;
    }
    rc = acc_user_suspend(app->db, id, srv_req_user(r)->id, reason, err);
    if (rc == DB_ECONFLICT) {
        srv_error(r, 409, "already_suspended", "%s.", err);
        return;
    }
    if (srv_reply_db(r, rc, err, "user") < 0)
        return;
    log_info("%s: user %s suspended by %s", srv_req_id(r), id,
             srv_req_user(r)->id);
    srv_json(r, 200, json_pack("{s:s,s:b}", "id", id, "suspended", 1));
}

void
admin_users_unsuspend(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    const char *id = srv_req_param(r, 0);
    char err[DB_ERR_LEN];
    int rc = acc_user_unsuspend(app->db, id, srv_req_user(r)->id, err);

    if (rc == DB_ECONFLICT) {
        srv_error(r, 409, "not_suspended", "%s.", err);
        return;
    }
    if (srv_reply_db(r, rc, err, "user") < 0)
        return;
    srv_json(r, 200, json_pack("{s:s,s:b}", "id", id, "suspended", 0));
}

void
admin_users_audit(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    struct db_audit_list l = {0};
    char err[DB_ERR_LEN], at[32], next[24];
    int64_t limit, before;
    json_t *items;

    if (srv_query_int(r, "limit", 1, 100, 50, &limit) < 0 ||
        srv_query_int(r, "before", 1, INT64_MAX, 0, &before) < 0)
        return;
    if (srv_reply_db(r,
                     db_audit_page(app->db, srv_req_query(r, "action"),
                                   srv_req_query(r, "object"),
                                   srv_req_query(r, "actor"), before,
                                   (int)limit, &l, err),
                     err, "audit log") < 0)
        goto out;
    items = json_array();
    for (int i = 0; i < l.n; i++) {
        const struct db_audit_entry *e = &l.items[i];

        app_iso_time(e->at, at);
        json_array_append_new(
            items,
            json_pack("{s:I,s:s,s:s,s:s,s:{s:s,s:s},s:s}", "seq",
                      (json_int_t)e->seq, "at", at, "actor_id", e->actor_id,
                      "action", e->action, "object", "type", e->object_type,
                      "id", e->object_id, "reason", e->reason));
    }
    snprintf(next, sizeof next, "%lld", (long long)l.next_before);
    srv_json(r, 200,
             json_pack("{s:o,s:o}", "items", items, "next_before",
                       l.next_before ? json_string(next) : json_null()));
out:
    db_audit_list_release(&l);
}

void
admin_users_record(struct srv_req *r, const char *action,
                   const char *object_type, const char *object_id,
                   const char *reason)
{
    char err[DB_ERR_LEN];

    if (db_audit_add(srv_req_app(r)->db, srv_req_user(r)->id, action,
                     object_type, object_id, reason, err) != DB_OK)
        log_error("%s: audit %s %s: %s", srv_req_id(r), action, object_id, err);
}
