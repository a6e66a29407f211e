/* Stockroom — users: sign-up and /me. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "text.h"
#include "auth.h"
#include "log.h"

/* Stockroom — users, sessions and /me. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "text.h"
#include "auth.h"
#include "log.h"

json_t *
users_roles_json(unsigned roles)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {
        {ACC_ROLE_BUYER, "buyer"},
        {ACC_ROLE_CONTRIBUTOR, "contributor"},
        {ACC_ROLE_REVIEWER, "reviewer"},
        {ACC_ROLE_ADMIN, "admin"},
    };
    json_t *a = json_array();

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (roles & names[i].bit)
            json_array_append_new(a, json_string(names[i].name));
    }
    return a;
}

json_t *
users_json(const struct acc_user *u)
{
    return json_pack("{s:s,s:s,s:s,s:o}", "id", u->id, "email", u->email,
                     "name", u->name, "roles", users_roles_json(u->roles));
}

/* Emails are compared without case: store them lower-cased. */
static int
name_valid(const char *name)
{
    int printable = 0;

    for (const unsigned char *c = (const unsigned char *)name; *c; c++) {
        if (*c < 0x20 || *c == 0x7f)
            return 0;
        if (*c != ' ')
            printable = 1;
    }
    return printable;
}

void
users_create(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    const char *email, *password, *name;
    char lower[ACC_EMAIL_LEN], hash[ACC_HASH_LEN], err[DB_ERR_LEN];
    struct acc_user u;
    int rc;

    if (srv_field_str(r, "email", 3, 254, 0, &email) < 0 ||
        srv_field_str(r, "password", 0, USERS_PASSWORD_MAX, 0, &password) < 0 ||
        srv_field_str(r, "name", 1, 100, 0, &name) < 0)
        return;
    if (!text_email_ok(email)) {
        srv_error(r, 422, "invalid_email",
                  "That does not look like an email "
                  "address.");
        return;
    }
    if (strlen(password) < USERS_PASSWORD_MIN) {
        srv_error(r, 422, "weak_password",
                  "The password needs at least %d characters.",
                  USERS_PASSWORD_MIN);
        return;
    }
    if (!name_valid(name)) {
        srv_error(r, 422, "invalid_name", "The name must be printable text.");
        return;
    }
    text_lower_copy(lower, sizeof lower, email);
    if (auth_hash_password(app->auth, password, hash) < 0) {
        srv_reply_overloaded(r, "overloaded", "sign-up",
                             "the password could not be hashed");
        return;
    }
    rc = acc_user_create(app->db, lower, name, hash,
                         ACC_ROLE_BUYER | ACC_ROLE_CONTRIBUTOR, &u, err);
    if (rc == DB_ECONFLICT) {
        srv_error(r, 409, "email_taken",
                  "An account with this email already exists.");
        return;
    }
    if (srv_reply_db(r, rc, err, "account") < 0)
        return;
    srv_json(r, 201, users_json(&u));
}

void
users_me_get(struct srv_req *r)
{
    const struct acc_user *u = srv_req_user(r);
    json_t *me = users_json(u);
    int64_t credits = 0;
    char err[DB_ERR_LEN];

    if (srv_reply_db(r, credits_balance(srv_req_app(r), u->id, &credits, err),
                     err, "balance") < 0) {
        json_decref(me);
        return;
    }
    json_object_set_new(me, "credits", json_integer(credits));
    if (srv_req_via_cookie(r))
        json_object_set_new(me, "csrf_token", json_string(srv_req_csrf(r)));
    srv_json(r, 200, me);
}
