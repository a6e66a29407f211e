/* Stockroom — sessions: signing in and out, and purging expired ones. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "auth.h"
#include "text.h"
#include "log.h"

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
        srv_field_str(r, "password", 1, USERS_PASSWORD_MAX, 0, &password) < 0)
        return;
    text_lower_copy(lower, sizeof lower, email);
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
        srv_reply_db(r, rc, err, "sign-in");
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
    if (srv_reply_db(r, rc, err, "sign-in") < 0)
        return;
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
    if (srv_reply_db(r, acc_session_delete(app->db, hash, err), err,
                     "session") < 0)
        return;
    srv_header(r, "Set-Cookie",
               AUTH_COOKIE "=; Path=/; Max-Age=0; HttpOnly; "
                           "SameSite=Lax");
    srv_empty(r, 204);
}

void
sessions_purge(struct app *app)
{
    char err[DB_ERR_LEN];

    if (acc_sessions_purge(app->db, (int64_t)time(NULL), err) < 0)
        log_warn("session purge: %s", err);
}
