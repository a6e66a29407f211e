/* Stockroom — the db/ fault walk over HTTP: every write path of accounts,
 * the catalogue and the ledger is sent with "X-Stockroom-Fault: step:N"
 * (then alloc:N), which the sanitizer build turns into a failure of the
 * Nth SQLite step or db/ allocation of that request's own thread, for
 * N = 1, 2, ... until a request passes untouched. A request the fault hit
 * answers a 5xx with a JSON error code (or succeeds, when the failure was
 * one it may shrug off), a retry under the same Idempotency-Key succeeds
 * (nothing was half-written), the server stays up, stops cleanly (no leak
 * under ASan) and `stockroom ledger verify` passes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "harness.h"
#include "kit.h"
#include "moneyfix.h"
#include "util.h"

#define MAX_STEPS 400    /* a path with more steps than this is a bug */
#define MAX_ALLOCS 20000 /* the same for allocations */

/* One write path: fill body (and path) for attempt i; the request goes to
 * method path as *token with a fresh Idempotency-Key. prepare, when set,
 * runs first without a fault (e.g. a licence to refund). */
struct walk_path {
    const char *name;
    const char *method;
    char path[160];
    const char *const *token;
    void (*prepare)(struct walk_path *w, int i);
    void (*body)(int i, char *buf, size_t len);
    int replay; /* a failed attempt is retried under its key */
};

static char buyer_tok[128];

static int
fired(const struct th_resp *r)
{
    char v[8];

    return th_header(r, "X-Stockroom-Fault-Fired", v, sizeof v) && v[0] == '1';
}

/* Send w's request for attempt i, under key, with the fault spec (NULL:
 * none). Fills r. */
static void
send_one(struct walk_path *w, int i, const char *key, const char *spec,
         struct th_resp *r)
{
    char body[512] = "", hdr[64];
    const char *extra[] = {hdr, NULL};

    if (w->body)
        w->body(i, body, sizeof body);
    snprintf(hdr, sizeof hdr, "X-Stockroom-Fault: %s", spec ? spec : "");
    if (kit_try_on(&mf_srv, w->method, w->path, *w->token, spec ? extra : NULL,
                   key, body[0] ? body : NULL, r) < 0)
        fail_msg("%s: no answer", w->name);
}

/* Walk w with faults of kind ("step" or "alloc") until one attempt runs
 * without the fault firing; returns the attempts that failed. */
static int
walk(struct walk_path *w, const char *kind, int max)
{
    int failures = 0, n = 1, i = 0;

    for (; n <= max; n += strcmp(kind, "alloc") == 0 && n > 64 ? n / 32 : 1) {
        char spec[32], key[64], what[200];
        struct th_resp r;
        int hit;

        i++;
        if (w->prepare)
            w->prepare(w, i);
        kit_fresh_key(key, w->name);
        snprintf(spec, sizeof spec, "%s:%d", kind, n);
        snprintf(what, sizeof what, "%s with %s", w->name, spec);
        send_one(w, i, key, spec, &r);
        hit = fired(&r);
        if (r.status >= 200 && r.status < 300) {
            th_resp_free(&r);
            if (!hit)
                return failures;
            continue;
        }
        if (!hit || r.status < 500 || !th_error_code(&r)[0])
            fail_msg("%s: %ld %.300s", what, r.status, r.body);
        th_resp_free(&r);
        failures++;
        if (!kit_healthy())
            fail_msg("%s: the server stopped answering", what);
        if (w->replay) {
            send_one(w, i, key, NULL, &r);
            if (r.status < 200 || r.status >= 300)
                fail_msg("%s, then again without it: %ld %.300s", what,
                         r.status, r.body);
            th_resp_free(&r);
        }
    }
    fail_msg("%s: still failing after %s:%d", w->name, kind, max);
    return failures;
}

static void
signup_body(int i, char *buf, size_t len)
{
    static int seq;

    (void)i;
    snprintf(buf, len,
             "{\"email\":\"walk-%d-%d@example.com\",\"password\":"
             "\"correct horse battery\",\"name\":\"Walker\"}",
             getpid(), ++seq);
}

static void
signin_body(int i, char *buf, size_t len)
{
    (void)i;
    snprintf(buf, len,
             "{\"email\":\"walk-signin@example.com\",\"password\":"
             "\"correct horse battery\"}");
}

static void
pack_body(int i, char *buf, size_t len)
{
    (void)i;
    snprintf(buf, len, "{\"pack\":\"100\"}");
}

static void
licence_body(int i, char *buf, size_t len)
{
    (void)i;
    snprintf(buf, len,
             "{\"image_id\":\"%s\",\"size\":\"S\",\"type\":\"standard\"}",
             mf_image_id);
}

static void
edit_body(int i, char *buf, size_t len)
{
    snprintf(buf, len, "{\"title\":\"Walked %d\"}", i);
}

static void
lightbox_body(int i, char *buf, size_t len)
{
    snprintf(buf, len, "{\"name\":\"Walk %d\"}", i);
}

static void
payout_body(int i, char *buf, size_t len)
{
    (void)i;
    snprintf(buf, len, "{\"amount_cents\":1}");
}

/* A fresh licence for the refund path to take back. */
static void
prepare_refund(struct walk_path *w, int i)
{
    char id[64];

    (void)i;
    mf_licence_ok(buyer_tok, "S", "standard", id);
    snprintf(w->path, sizeof w->path, "/api/v1/licences/%s/refund", id);
}

static void
walk_all(const char *kind, int max)
{
    static const char *admin_tok, *buyer, *contrib;
    struct walk_path paths[] = {
        {"sign-up", "POST", "/api/v1/users", &admin_tok, NULL, signup_body, 0},
        {"sign-in", "POST", "/api/v1/sessions", &admin_tok, NULL, signin_body,
         0},
        {"purchase", "POST", "/api/v1/credits/purchases", &buyer, NULL,
         pack_body, 1},
        {"licence", "POST", "/api/v1/licences", &buyer, NULL, licence_body, 1},
        {"refund", "POST", "", &admin_tok, prepare_refund, NULL, 1},
        {"image edit", "PATCH", "", &contrib, NULL, edit_body, 0},
        {"lightbox", "POST", "/api/v1/lightboxes", &buyer, NULL, lightbox_body,
         0},
        {"payout", "POST", "/api/v1/payouts", &contrib, NULL, payout_body, 1},
    };

    admin_tok = mf_admin_tok;
    buyer = buyer_tok;
    contrib = mf_contrib_tok;
    snprintf(paths[5].path, sizeof paths[5].path, "/api/v1/images/%s",
             mf_image_id);
    for (size_t p = 0; p < sizeof paths / sizeof paths[0]; p++) {
        int f = walk(&paths[p], kind, max);

        printf("# %s walk of %s: %d injected failures\n", kind, paths[p].name,
               f);
        /* Every write path steps and allocates: a walk that never failed
         * ran against a build without the hook, and proved nothing. */
        if (f == 0)
            fail_msg("%s walk of %s: no fault fired", kind, paths[p].name);
    }
}

static void
test_step_walk(void **state)
{
    (void)state;
    walk_all("step", MAX_STEPS);
}

static void
test_alloc_walk(void **state)
{
    (void)state;
    walk_all("alloc", MAX_ALLOCS);
}

static int
setup(void **state)
{
    json_t *j;

    /* Payouts of a cent, so that a few sales fund every attempt. */
    setenv("STOCKROOM_PAYOUT_MIN_CENTS", "1", 1);
    if (mf_setup(state) < 0)
        return -1;
    kit_new_user("walk-buyer", buyer_tok);
    j = kit_want("POST", "/api/v1/users", NULL,
                 "{\"email\":\"walk-signin@example.com\",\"password\":"
                 "\"correct horse battery\",\"name\":\"Walker\"}",
                 201, NULL);
    json_decref(j);
    kit_buy(buyer_tok, "100", NULL);
    for (int i = 0; i < 20; i++)
        mf_licence_ok(buyer_tok, "S", "standard", NULL);
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_step_walk),
        cmocka_unit_test(test_alloc_walk),
    };

    return cmocka_run_group_tests(tests, setup, mf_teardown);
}
