/* Stockroom — the account routes that go through mail: verifying the
 * address, forgotten and changed passwords, a changed address, sessions,
 * notification settings, unsubscribing, export and closing. */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "auth.h"
#include "log.h"
#include "mail.h"
#include "outbox.h"
#include "text.h"

#define VERIFY_PER_HOUR 5   /* verification links one account may ask for */
#define RESET_PER_HOUR 3    /* reset mails one account may get */
#define RESET_CLIENT_MAX 10 /* reset requests per client address ... */
#define RESET_CLIENT_WINDOW_S 900 /* ... in this window */
#define RESET_CLIENTS 256         /* addresses remembered */
#define RESET_FLOOR_MS 150        /* a reset request is never answered sooner */

/* Reset requests per client address: a small table, oldest entry reused,
 * so one address cannot use the store to mail-bomb many people. */
static struct {
    pthread_mutex_t lock;
    struct {
        char client[64];
        int64_t window_start;
        int count;
    } slot[RESET_CLIENTS];
} reset_clients = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int
reset_client_allowed(const char *client, int64_t now)
{
    int oldest = 0, ok = 1, i;

    pthread_mutex_lock(&reset_clients.lock);
    for (i = 0; i < RESET_CLIENTS; i++) {
        if (!strcmp(reset_clients.slot[i].client, client))
            break;
        if (reset_clients.slot[i].window_start <
            reset_clients.slot[oldest].window_start)
            oldest = i;
    }
    if (i == RESET_CLIENTS) {
        i = oldest;
        snprintf(reset_clients.slot[i].client,
                 sizeof reset_clients.slot[i].client, "%s", client);
        reset_clients.slot[i].window_start = now;
        reset_clients.slot[i].count = 0;
    }
    if (now - reset_clients.slot[i].window_start >= RESET_CLIENT_WINDOW_S) {
        reset_clients.slot[i].window_start = now;
        reset_clients.slot[i].count = 0;
    }
    if (++reset_clients.slot[i].count > RESET_CLIENT_MAX)
        ok = 0;
    pthread_mutex_unlock(&reset_clients.lock);
    return ok;
}

/* The hash of the token this request was authenticated with. */
static void
current_hash(struct srv_req *r, unsigned char hash[32])
{
    const char *token = srv_req_via_cookie(r)
                            ? srv_req_cookie(r, AUTH_COOKIE)
                            : srv_req_header(r, "Authorization") + 7;

    auth_token_hash(token, hash);
}

static void
internal(struct srv_req *r, const char *what, const char *err)
{
    srv_reply_internal(r, what, "%s", err);
}

/* JSON object text {"token": token, plus one more string pair}. */
static char *
params_json(const char *token, const char *key, const char *value,
            long long minutes)
{
    json_t *j = json_object();
    char *s;

    if (token)
        json_object_set_new(j, "token", json_string(token));
    if (key)
        json_object_set_new(j, key, json_string(value));
    if (minutes)
        json_object_set_new(j, "minutes", json_integer(minutes));
    s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return s;
}

int
account_signup(struct app *app, const char *email, const char *name,
               const char *pw_hash, unsigned roles, struct acc_user *out,
               char err[DB_ERR_LEN])
{
    char token[AUTH_TOKEN_LEN];
    unsigned char hash[32];
    char *params;
    int rc;

    auth_new_token(token, hash);
    params = params_json(token, NULL, NULL, 0);
    if (!params) {
        snprintf(err, DB_ERR_LEN, "out of memory");
        return DB_EGENERIC;
    }
    {
        struct acc_mail mail = {"verify", NULL, params};

        rc = acc_signup(app->db, email, name, pw_hash, roles, hash,
                        (int64_t)time(NULL) + app->cfg.verify_ttl_s, &mail, out,
                        err);
    }
    free(params);
    if (rc == DB_OK)
        mail_wake(app);
    return rc;
}

static int
password_ok(struct srv_req *r, const char *pw)
{
    if (strlen(pw) < USERS_PASSWORD_MIN) {
        srv_error(r, 422, "weak_password",
                  "The password needs at least %d characters.",
                  USERS_PASSWORD_MIN);
        return 0;
    }
    return 1;
}

/* Check the signed-in account's current password; replies 403 when wrong. */
static int
current_password_ok(struct srv_req *r, const char *pw)
{
    struct app *app = srv_req_app(r);
    const struct acc_user *u = srv_req_user(r);
    struct acc_user fresh;
    char err[DB_ERR_LEN];

    if (acc_user_get(app->db, u->id, &fresh, err) != DB_OK ||
        auth_check_password(app->auth, fresh.pw_hash, pw) < 0) {
        srv_error(r, 403, "wrong_password", "The current password is wrong.");
        return 0;
    }
    return 1;
}

/* A token from the path: only the characters tokens are made of. */
static int
token_hash_of(struct srv_req *r, unsigned char hash[32])
{
    const char *t = srv_req_param(r, 0);
    size_t n = strlen(t);

    if (n == 0 || n >= AUTH_TOKEN_LEN ||
        strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                  "0123456789-_") != n) {
        srv_error(r, 404, "unknown_token",
                  "This link is not known: copy the whole link from the "
                  "message.");
        return -1;
    }
    auth_token_hash(t, hash);
    return 0;
}

static void
token_error(struct srv_req *r, int rc, const char *err)
{
    if (rc == DB_ENOTFOUND)
        srv_error(r, 404, "unknown_token",
                  "This link is not known: copy the whole link from the "
                  "message.");
    else if (rc == DB_EGONE)
        srv_error(r, 410, "token_gone", "This link %s: ask for a new one.",
                  strstr(err, "used") ? "was already used" : "has expired");
    else if (rc == DB_ECONFLICT)
        srv_error(r, 409, "email_taken",
                  "Another account uses this address now.");
    else
        internal(r, "token", err);
}

void
account_verify(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    unsigned char hash[32];
    char err[DB_ERR_LEN];
    struct acc_user u;
    int rc;

    if (token_hash_of(r, hash) < 0)
        return;
    rc = acc_verify_use(app->db, hash, (int64_t)time(NULL), &u, err);
    if (rc != DB_OK) {
        token_error(r, rc, err);
        return;
    }
    srv_empty(r, 204);
}

void
account_verify_resend(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    const struct acc_user *u = srv_req_user(r);
    char token[AUTH_TOKEN_LEN], err[DB_ERR_LEN];
    unsigned char hash[32];
    char *params;
    int rc;

    if (u->email_verified) {
        srv_error(r, 409, "already_verified", "Your address is verified.");
        return;
    }
    auth_new_token(token, hash);
    params = params_json(token, NULL, NULL, 0);
    {
        struct acc_mail mail = {"verify", NULL, params};

        rc = params
                 ? acc_token_issue(app->db, u->id, ACC_TOKEN_VERIFY, u->email,
                                   hash,
                                   (int64_t)time(NULL) + app->cfg.verify_ttl_s,
                                   VERIFY_PER_HOUR, &mail, 1, err)
                 : DB_EGENERIC;
    }
    free(params);
    if (rc == DB_ELIMIT) {
        srv_header(r, "Retry-After", "3600");
        srv_error(r, 429, "rate_limited",
                  "Several links went out this hour: use the newest, or try "
                  "again later.");
        return;
    }
    if (rc != DB_OK) {
        internal(r, "verification", err);
        return;
    }
    mail_wake(app);
    srv_json(r, 202,
             json_pack("{s:s}", "message",
                       "A new link is on its way to your address."));
}

void
account_reset_request(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    const char *email;
    char lower[ACC_EMAIL_LEN], token[AUTH_TOKEN_LEN], err[DB_ERR_LEN];
    unsigned char hash[32];
    struct acc_user u;
    char *params = NULL;
    int64_t now = (int64_t)time(NULL);
    struct timespec not_before;
    int rc;

    if (srv_field_str(r, "email", 1, 254, 0, &email) < 0)
        return;
    if (!reset_client_allowed(srv_req_client(r), now)) {
        srv_header(r, "Retry-After", "900");
        srv_error(r, 429, "rate_limited",
                  "Too many reset requests from here: try again later.");
        return;
    }
    text_lower_copy(lower, sizeof lower, email);
    /* Whatever happens below, the answer is the same 202, at the same
     * time: it must not tell whether the address has an account. The
     * known address costs a durable insert more, so every answer waits
     * until RESET_FLOOR_MS after the request began. */
    clock_gettime(CLOCK_MONOTONIC, &not_before);
    not_before.tv_nsec += RESET_FLOOR_MS * 1000000L;
    not_before.tv_sec += not_before.tv_nsec / 1000000000L;
    not_before.tv_nsec %= 1000000000L;
    rc = acc_user_find_email(app->db, lower, &u, err);
    if (rc == DB_OK && u.closed)
        rc = DB_ENOTFOUND;
    if (rc == DB_OK) {
        auth_new_token(token, hash);
        params = params_json(
            token, NULL, NULL,
            app->cfg.reset_ttl_s / 60 > 0 ? app->cfg.reset_ttl_s / 60 : 1);
        struct acc_mail mail = {"reset", NULL, params};

        rc = params ? acc_token_issue(app->db, u.id, ACC_TOKEN_RESET, u.email,
                                      hash, now + app->cfg.reset_ttl_s,
                                      RESET_PER_HOUR, &mail, 1, err)
                    : DB_EGENERIC;
        if (rc == DB_OK)
            mail_wake(app);
        else if (rc != DB_ELIMIT)
            log_error("%s: reset: %s", srv_req_id(r), err);
    } else if (rc != DB_ENOTFOUND) {
        log_error("%s: reset lookup: %s", srv_req_id(r), err);
    }
    free(params);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &not_before, NULL) ==
           EINTR)
        ;
    srv_json(r, 202,
             json_pack("{s:s}", "message",
                       "If an account uses this address, a link to choose a "
                       "new password is on its way."));
}

void
account_reset(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    const char *password;
    char pw_hash[ACC_HASH_LEN], err[DB_ERR_LEN];
    unsigned char hash[32];
    struct acc_mail notice = {"password_changed", NULL, NULL};
    struct acc_user u;
    int rc;

    if (token_hash_of(r, hash) < 0 ||
        srv_field_str(r, "password", 0, USERS_PASSWORD_MAX, 0, &password) < 0 ||
        !password_ok(r, password))
        return;
    if (auth_hash_password(app->auth, password, pw_hash) < 0) {
        srv_error(r, 503, "overloaded", "The password could not be hashed.");
        return;
    }
    rc = acc_reset_use(app->db, hash, (int64_t)time(NULL), pw_hash, &notice, &u,
                       err);
    if (rc != DB_OK) {
        token_error(r, rc, err);
        return;
    }
    mail_wake(app);
    srv_empty(r, 204);
}

void
account_password(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    const char *cur, *next;
    char pw_hash[ACC_HASH_LEN], err[DB_ERR_LEN];
    unsigned char keep[32];
    struct acc_mail notice = {"password_changed", NULL, NULL};

    if (srv_field_str(r, "current_password", 1, USERS_PASSWORD_MAX, 0, &cur) <
            0 ||
        srv_field_str(r, "new_password", 0, USERS_PASSWORD_MAX, 0, &next) < 0 ||
        !password_ok(r, next) || !current_password_ok(r, cur))
        return;
    if (auth_hash_password(app->auth, next, pw_hash) < 0) {
        srv_error(r, 503, "overloaded", "The password could not be hashed.");
        return;
    }
    current_hash(r, keep);
    if (acc_password_change(app->db, srv_req_user(r)->id, pw_hash, keep,
                            &notice, err) != DB_OK) {
        internal(r, "password change", err);
        return;
    }
    mail_wake(app);
    srv_empty(r, 204);
}

/* A new address: a link to it, a notice to the old one; the account keeps
 * the old address until the link is used. */
static int
email_change(struct srv_req *r, const char *email, json_t *reply)
{
    struct app *app = srv_req_app(r);
    const struct acc_user *u = srv_req_user(r);
    char lower[ACC_EMAIL_LEN], token[AUTH_TOKEN_LEN], err[DB_ERR_LEN];
    unsigned char hash[32];
    struct acc_user other;
    char *link = NULL, *notice = NULL;
    int rc;

    if (!text_email_ok(email)) {
        srv_error(r, 422, "invalid_email",
                  "That does not look like an email address.");
        return -1;
    }
    text_lower_copy(lower, sizeof lower, email);
    if (!strcmp(lower, u->email))
        return 0;
    rc = acc_user_find_email(app->db, lower, &other, err);
    if (rc == DB_OK) {
        srv_error(r, 409, "email_taken",
                  "An account with this email already exists.");
        return -1;
    }
    auth_new_token(token, hash);
    link = params_json(token, NULL, NULL, 0);
    notice = params_json(NULL, "new_email", lower, 0);
    {
        struct acc_mail mails[2] = {{"email_change", NULL, link},
                                    {"email_change_notice", u->email, notice}};

        rc =
            link && notice
                ? acc_token_issue(app->db, u->id, ACC_TOKEN_VERIFY, lower, hash,
                                  (int64_t)time(NULL) + app->cfg.verify_ttl_s,
                                  VERIFY_PER_HOUR, mails, 2, err)
                : DB_EGENERIC;
    }
    free(link);
    free(notice);
    if (rc == DB_ELIMIT) {
        srv_error(r, 429, "rate_limited",
                  "Several links went out this hour: try again later.");
        return -1;
    }
    if (rc != DB_OK) {
        internal(r, "email change", err);
        return -1;
    }
    mail_wake(app);
    json_object_set_new(reply, "pending_email", json_string(lower));
    return 0;
}

static int
flag_field(struct srv_req *r, const char *key, int *out)
{
    json_t *v = json_object_get(srv_req_json(r), key);

    *out = -1;
    if (!v)
        return 0;
    if (!json_is_boolean(v)) {
        srv_error(r, 422, "invalid_field",
                  "The field '%s' must be true or "
                  "false.",
                  key);
        return -1;
    }
    *out = json_is_true(v);
    return 0;
}

void
account_patch(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    const struct acc_user *u = srv_req_user(r);
    const char *email, *cur;
    char err[DB_ERR_LEN];
    struct acc_user fresh;
    json_t *reply;
    int digest, reviews;

    if (srv_field_str(r, "email", 3, 254, 1, &email) < 0 ||
        srv_field_str(r, "current_password", 1, USERS_PASSWORD_MAX, 1, &cur) <
            0 ||
        flag_field(r, "notify_sales_digest", &digest) < 0 ||
        flag_field(r, "notify_reviews", &reviews) < 0)
        return;
    if (email && !cur) {
        srv_error(r, 422, "missing_field",
                  "Changing the address needs 'current_password'.");
        return;
    }
    if (email && !current_password_ok(r, cur))
        return;
    if ((digest >= 0 || reviews >= 0) &&
        acc_notify_set(app->db, u->id, digest, reviews, err) != DB_OK) {
        internal(r, "notify settings", err);
        return;
    }
    reply = json_object();
    if (email && email_change(r, email, reply) < 0) {
        json_decref(reply);
        return;
    }
    if (acc_user_get(app->db, u->id, &fresh, err) != DB_OK) {
        json_decref(reply);
        internal(r, "user read", err);
        return;
    }
    json_object_update_missing_new(reply, users_json(&fresh));
    srv_json(r, 200, reply);
}

void
account_sessions_list(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    struct acc_session *list = NULL;
    unsigned char cur[32];
    char err[DB_ERR_LEN], t1[32], t2[32], t3[32];
    json_t *items;
    int n = 0;

    current_hash(r, cur);
    if (acc_sessions_list(app->db, srv_req_user(r)->id, cur,
                          (int64_t)time(NULL), &list, &n, err) != DB_OK) {
        internal(r, "sessions list", err);
        return;
    }
    items = json_array();
    for (int i = 0; i < n; i++) {
        app_iso_time(list[i].created_at, t1);
        app_iso_time(list[i].last_seen, t2);
        app_iso_time(list[i].expires_at, t3);
        json_array_append_new(
            items, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:b}", "id", list[i].id,
                             "created_at", t1, "last_seen_at", t2, "expires_at",
                             t3, "client", list[i].client, "browser",
                             list[i].user_agent, "current", list[i].current));
    }
    free(list);
    srv_json(r, 200, json_pack("{s:o,s:n}", "items", items, "next_cursor"));
}

void
account_session_delete(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    char err[DB_ERR_LEN];
    int rc =
        acc_session_end(app->db, srv_req_user(r)->id, srv_req_param(r, 0), err);

    if (rc == DB_ENOTFOUND) {
        srv_error(r, 404, "not_found", "You have no such session.");
        return;
    }
    if (rc != DB_OK) {
        internal(r, "session end", err);
        return;
    }
    srv_empty(r, 204);
}

void
account_sessions_delete(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    unsigned char keep[32];
    char err[DB_ERR_LEN];

    current_hash(r, keep);
    if (acc_sessions_end_others(app->db, srv_req_user(r)->id, keep, err) !=
        DB_OK) {
        internal(r, "sessions end", err);
        return;
    }
    srv_empty(r, 204);
}

void
account_unsubscribe(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    const char *t = srv_req_param(r, 0);
    char err[DB_ERR_LEN];
    int rc;

    rc = strlen(t) == 32 && strspn(t, "0123456789abcdef") == 32
             ? acc_unsubscribe(app->db, t, err)
             : DB_ENOTFOUND;
    if (rc == DB_ENOTFOUND) {
        srv_error(r, 404, "unknown_token",
                  "This unsubscribe link is not "
                  "known.");
        return;
    }
    if (rc != DB_OK) {
        internal(r, "unsubscribe", err);
        return;
    }
    srv_empty(r, 204);
}

/* Uploads and payouts need an address that receives mail. */
static int
verified(struct srv_req *r)
{
    if (srv_req_user(r)->email_verified)
        return 1;
    srv_error(r, 403, "email_unverified",
              "Confirm your email address first: use the link we sent, or "
              "ask for a new one on your account page.");
    return 0;
}

void
account_images_create(struct srv_req *r)
{
    if (verified(r))
        images_create(r);
}

void
account_payouts_create(struct srv_req *r)
{
    if (verified(r))
        payouts_create(r);
}

void
account_brief_subs_create(struct srv_req *r)
{
    if (verified(r))
        brief_subs_create(r);
}

void
account_outbox_list(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    const char *status = srv_req_query(r, "status");
    struct outbox_msg *list = NULL;
    char err[DB_ERR_LEN], t1[32], t2[32];
    json_t *items;
    int n = 0;

    if (status && strcmp(status, "queued") && strcmp(status, "sent") &&
        strcmp(status, "failed")) {
        srv_error(r, 422, "invalid_field",
                  "status is one of queued, sent, failed.");
        return;
    }
    if (outbox_list(app->db, status, 200, &list, &n, err) != DB_OK) {
        internal(r, "outbox list", err);
        return;
    }
    items = json_array();
    for (int i = 0; i < n; i++) {
        app_iso_time(list[i].created_at, t1);
        app_iso_time(list[i].sent_at, t2);
        json_array_append_new(
            items,
            json_pack("{s:I,s:s,s:s,s:s,s:s,s:i,s:s,s:s*,s:s}", "id",
                      (json_int_t)list[i].id, "kind", list[i].kind, "user_id",
                      list[i].user_id, "to", list[i].to_addr, "status",
                      list[i].status, "attempts", list[i].attempts,
                      "created_at", t1, "sent_at", list[i].sent_at ? t2 : NULL,
                      "last_error", list[i].error));
    }
    outbox_list_free(list, n);
    srv_json(r, 200, json_pack("{s:o,s:n}", "items", items, "next_cursor"));
}
