/* Stockroom — the shared HTTP test helpers (kit.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "kit.h"
#include "util.h"

#define PW "correct horse battery"

static struct th_server *srv;
static int key_seq;

void
kit_use(struct th_server *s)
{
    srv = s;
}

#define MAX_HEADERS 8

long
kit_try_on(struct th_server *s, const char *method, const char *path,
           const char *token, const char *const *extra, const char *key,
           const char *body, struct th_resp *r)
{
    char auth[200], idem[200];
    const char *h[MAX_HEADERS + 3] = {NULL};
    int n = 0;

    if (token)
        h[n++] = th_bearer(token, auth, sizeof auth);
    for (int i = 0; extra && extra[i]; i++) {
        if (i == MAX_HEADERS)
            fail_msg("%s %s: more than %d headers", method, path, MAX_HEADERS);
        h[n++] = extra[i];
    }
    if (key) {
        snprintf(idem, sizeof idem, "Idempotency-Key: %s", key);
        h[n++] = idem;
    }
    if (th_req(s, method, path, h, body, body ? strlen(body) : 0, r) < 0) {
        memset(r, 0, sizeof *r);
        return r->status = -1;
    }
    return r->status;
}

long
kit_try(const char *method, const char *path, const char *token,
        const char *key, const char *body, struct th_resp *r)
{
    return kit_try_on(srv, method, path, token, NULL, key, body, r);
}

long
kit_call_h(const char *method, const char *path, const char *token,
           const char *const *headers, const char *body, struct th_resp *r)
{
    if (kit_try_on(srv, method, path, token, headers, NULL, body, r) < 0)
        fail_msg("%s %s: no answer", method, path);
    return r->status;
}

long
kit_call(const char *method, const char *path, const char *token,
         const char *key, const char *body, struct th_resp *r)
{
    if (kit_try(method, path, token, key, body, r) < 0)
        fail_msg("%s %s: no answer", method, path);
    return r->status;
}

void
kit_expect(const struct th_resp *r, long status, const char *code,
           const char *what)
{
    if (status >= 400 && !code)
        fail_msg("%s: a test of a refusal must name its error code", what);
    if (r->status != status ||
        (status >= 400 && strcmp(th_error_code(r), code) != 0))
        fail_msg("%s: want %ld %s, got %ld: %.300s", what, status,
                 code ? code : "", r->status, r->body ? r->body : "");
    if (status == 503) {
        char v[32];

        if (!th_header(r, "Retry-After", v, sizeof v) || atoi(v) < 1)
            fail_msg("%s: 503 without a Retry-After", what);
    }
}

json_t *
kit_want(const char *method, const char *path, const char *token,
         const char *body, long status, const char *code)
{
    char what[300];
    struct th_resp r;
    json_t *j;

    snprintf(what, sizeof what, "%s %s %s", method, path, body ? body : "");
    kit_call(method, path, token, NULL, body, &r);
    kit_expect(&r, status, code, what);
    j = json_incref(r.json);
    th_resp_free(&r);
    return j;
}

void
kit_check(const char *method, const char *path, const char *token,
          const char *body, long status, const char *code, const char *who)
{
    char what[400];
    struct th_resp r;

    snprintf(what, sizeof what, "%s %s %s as %s", method, path,
             body ? body : "", who);
    kit_call(method, path, token, NULL, body, &r);
    kit_expect(&r, status, code, what);
    th_resp_free(&r);
}

json_int_t
kit_jint(const json_t *j, const char *k)
{
    json_t *v = json_object_get(j, k);

    if (!json_is_integer(v))
        fail_msg("no integer '%s' in the answer", k);
    return json_integer_value(v);
}

const char *
kit_jstr(const json_t *j, const char *k)
{
    json_t *v = json_object_get(j, k);

    if (!json_is_string(v))
        fail_msg("no string '%s' in the answer", k);
    return json_string_value(v);
}

const char *
kit_jstr_or(const json_t *j, const char *k)
{
    json_t *v = json_object_get(j, k);

    return json_is_string(v) ? json_string_value(v) : "";
}

void
kit_fresh_key(char buf[64], const char *what)
{
    snprintf(buf, 64, "%s-%d-%d", what, getpid(),
             __atomic_fetch_add(&key_seq, 1, __ATOMIC_SEQ_CST));
}

int
kit_healthy(void)
{
    return tu_healthy(srv);
}

void
kit_new_user(const char *prefix, char token[128])
{
    th_new_user(srv, prefix, token);
}

void
kit_staff(const char *prefix, const char *role, char token[128])
{
    char email[128], csrf[64];

    tu_email(prefix, email, sizeof email);
    if (th_admin_add(srv, email, role, PW) != 0)
        fail_msg("stockroom user add --role %s failed", role);
    if (th_login(srv, email, PW, token, csrf) != 201)
        fail_msg("%s could not sign in", email);
}

int
kit_has_role(const json_t *user, const char *role)
{
    json_t *roles = json_object_get(user, "roles");
    size_t i;
    json_t *v;

    json_array_foreach(roles, i, v)
    {
        if (json_is_string(v) && !strcmp(json_string_value(v), role))
            return 1;
    }
    return 0;
}

void
kit_my_id(const char *token, char id[64])
{
    json_t *me = kit_want("GET", "/api/v1/me", token, NULL, 200, NULL);

    snprintf(id, 64, "%s", kit_jstr(me, "id"));
    json_decref(me);
}

json_int_t
kit_credits(const char *token)
{
    json_t *me = kit_want("GET", "/api/v1/me", token, NULL, 200, NULL);
    json_int_t c = kit_jint(me, "credits");

    json_decref(me);
    return c;
}

struct want_status {
    const char *token, *id, *status;
};

static int
status_is(void *arg)
{
    const struct want_status *w = arg;
    char path[128];
    struct th_resp r;
    int ok;

    snprintf(path, sizeof path, "/api/v1/images/%s", w->id);
    if (kit_try("GET", path, w->token, NULL, NULL, &r) < 0)
        return 0;
    ok = r.status == 200 && !strcmp(kit_jstr_or(r.json, "status"), w->status);
    th_resp_free(&r);
    return ok;
}

int
kit_wait_status(const char *token, const char *id, const char *status, int ms)
{
    struct want_status w = {token, id, status};

    return th_poll(status_is, &w, ms);
}

void
kit_approve(const char *owner, const char *staff, const char *id)
{
    char path[128];
    struct th_resp r;

    if (!kit_wait_status(owner, id, "pending_review", 120000))
        fail_msg("image %s never reached review", id);
    snprintf(path, sizeof path, "/api/v1/images/%s/review", id);
    kit_call("POST", path, staff, NULL, "{\"decision\":\"approve\"}", &r);
    kit_expect(&r, 200, NULL, "approve");
    th_resp_free(&r);
}

void
kit_buy(const char *token, const char *pack, char pid[64])
{
    char key[64], body[64];
    struct th_resp r;

    kit_fresh_key(key, "buy");
    snprintf(body, sizeof body, "{\"pack\":\"%s\"}", pack);
    kit_call("POST", "/api/v1/credits/purchases", token, key, body, &r);
    kit_expect(&r, 201, NULL, "buy a pack");
    if (pid)
        snprintf(pid, 64, "%s", kit_jstr(r.json, "purchase_id"));
    th_resp_free(&r);
}

long
kit_licence(const char *token, const char *image, const char *size,
            const char *type, struct th_resp *r)
{
    char key[64], body[256];

    kit_fresh_key(key, "lic");
    snprintf(body, sizeof body,
             "{\"image_id\":\"%s\",\"size\":\"%s\",\"type\":\"%s\"}", image,
             size, type);
    return kit_call("POST", "/api/v1/licences", token, key, body, r);
}
