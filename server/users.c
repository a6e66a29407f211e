/* Stockroom — users, sessions and /me. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "text.h"
#include "auth.h"
#include "log.h"

#define PASSWORD_MIN 10
#define PASSWORD_MAX 1024

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
static void
lower_copy(char *dst, size_t len, const char *src)
{
    size_t i = 0;

    for (; src[i] && i + 1 < len; i++)
        dst[i] = (char)tolower((unsigned char)src[i]);
    dst[i] = '\0';
}

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
        srv_field_str(r, "password", 0, PASSWORD_MAX, 0, &password) < 0 ||
        srv_field_str(r, "name", 1, 100, 0, &name) < 0)
        return;
    if (!text_email_ok(email)) {
        srv_error(r, 422, "invalid_email",
                  "That does not look like an email "
                  "address.");
        return;
    }
    if (strlen(password) < PASSWORD_MIN) {
        srv_error(r, 422, "weak_password",
                  "The password needs at least %d characters.", PASSWORD_MIN);
        return;
    }
    if (!name_valid(name)) {
        srv_error(r, 422, "invalid_name", "The name must be printable text.");
        return;
    }
    lower_copy(lower, sizeof lower, email);
    if (auth_hash_password(app->auth, password, hash) < 0) {
        srv_error(r, 503, "overloaded", "The password could not be hashed.");
        return;
    }
    rc = account_signup(app, lower, name, hash,
                        ACC_ROLE_BUYER | ACC_ROLE_CONTRIBUTOR, &u, err);
    if (rc == DB_ECONFLICT) {
        srv_error(r, 409, "email_taken",
                  "An account with this email already exists.");
        return;
    }
    if (rc != DB_OK) {
        log_error("%s: user create: %s", srv_req_id(r), err);
        srv_error(r, 500, "internal", "The account could not be created.");
        return;
    }
    srv_json(r, 201, account_user_json(&u));
}

void
sessions_create(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    const char *email, *password;
    char lower[ACC_EMAIL_LEN], err[DB_ERR_LEN], token[AUTH_TOKEN_LEN];
    char csrf[ACC_CSRF_LEN], cookie[256], wait_s[16];
    unsigned char hash[32];
    struct acc_user u;
    int wait, rc, found;

    if (srv_field_str(r, "email", 1, 254, 0, &email) < 0 ||
        srv_field_str(r, "password", 1, PASSWORD_MAX, 0, &password) < 0)
        return;
    lower_copy(lower, sizeof lower, email);
    wait = auth_login_wait(app->auth, lower, srv_req_client(r));
    if (wait > 0) {
        snprintf(wait_s, sizeof wait_s, "%d", wait);
        srv_header(r, "Retry-After", wait_s);
        srv_error(r, 429, "rate_limited",
                  "Too many failed sign-ins: try "
                  "again in %d seconds.",
                  wait);
        return;
    }
    rc = acc_user_find_email(app->db, lower, &u, err);
    if (rc != DB_OK && rc != DB_ENOTFOUND) {
        log_error("%s: sign-in lookup: %s", srv_req_id(r), err);
        srv_error(r, 500, "internal", "Signing in failed on our side.");
        return;
    }
    found = rc == DB_OK;
    if (auth_check_password(app->auth, found ? u.pw_hash : NULL, password) <
        0) {
        auth_login_failed(app->auth, lower, srv_req_client(r));
        srv_error(r, 401, "invalid_credentials",
                  "The email or the password is wrong.");
        return;
    }
    auth_login_ok(app->auth, lower);
    auth_new_token(token, hash);
    auth_random_text(csrf, 32);
    rc = acc_session_create(app->db, hash, u.id, csrf,
                            (int64_t)time(NULL) + app->cfg.session_ttl_s, err);
    if (rc == DB_OK)
        rc = acc_session_describe(app->db, hash, srv_req_client(r),
                                  srv_req_header(r, "User-Agent"), err);
    if (rc != DB_OK) {
        log_error("%s: session create: %s", srv_req_id(r), err);
        srv_error(r, 500, "internal", "Signing in failed on our side.");
        return;
    }
    snprintf(cookie, sizeof cookie,
             AUTH_COOKIE "=%s; Path=/; Max-Age=%lld; HttpOnly; "
                         "SameSite=Lax%s",
             token, (long long)app->cfg.session_ttl_s,
             !strncmp(app->cfg.public_url, "https:", 6) ? "; Secure" : "");
    srv_header(r, "Set-Cookie", cookie);
    srv_json(r, 201,
             json_pack("{s:s,s:s,s:o}", "token", token, "csrf_token", csrf,
                       "user", users_json(&u)));
}

void
sessions_delete(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    const char *hdr = srv_req_header(r, "Authorization");
    const char *token =
        srv_req_via_cookie(r) ? srv_req_cookie(r, AUTH_COOKIE) : hdr + 7;
    unsigned char hash[32];
    char err[DB_ERR_LEN];

    auth_token_hash(token, hash);
    if (acc_session_delete(app->db, hash, err) != DB_OK) {
        log_error("%s: session delete: %s", srv_req_id(r), err);
        srv_error(r, 500, "internal", "Signing out failed on our side.");
        return;
    }
    srv_header(r, "Set-Cookie",
               AUTH_COOKIE "=; Path=/; Max-Age=0; HttpOnly; "
                           "SameSite=Lax");
    srv_empty(r, 204);
}

void
me_get(struct srv_req *r)
{
    const struct acc_user *u = srv_req_user(r);
    json_t *me = account_user_json(u);
    int64_t credits = 0;

    if (app_credits(srv_req_app(r), u->id, &credits) < 0) {
        json_decref(me);
        srv_error(r, 500, "internal", "The balance could not be read.");
        return;
    }
    json_object_set_new(me, "credits", json_integer(credits));
    if (srv_req_via_cookie(r))
        json_object_set_new(me, "csrf_token", json_string(srv_req_csrf(r)));
    srv_json(r, 200, me);
}
