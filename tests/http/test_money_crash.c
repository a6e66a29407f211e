/* Stockroom — money survives crashes: kill -9 of the server at random
 * moments during a stream of purchases, licences and payouts, then restart
 * and check that the books balance, that every request answered 2xx is
 * still there and that nothing is half-done; then a seeded random sequence
 * of buys, licences, refunds, payouts and restarts with the books checked
 * after every step. The seed is printed; STOCKROOM_SEED repeats a run. */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <curl/curl.h>

#include "harness.h"
#include "kit.h"
#include "util.h"

#define IMAGE "real/17-plasma-BytheWater-2560x1600.jpg" /* 2560 x 1600 */
#define MAX_REC 512

static const char *const flags[] = {"--min-megapixels", "0.01", NULL};
static struct th_server srv;
static char admin_tok[128], contrib_tok[128];
static char image_id[64];
static unsigned seed;

/* ---- requests ----------------------------------------------------------- */

/* The admin route says the books balance. */
static void
books_ok(const char *when)
{
    struct th_resp r;

    kit_try("GET", "/api/v1/admin/ledger/verify", admin_tok, NULL, NULL, &r);
    kit_expect(&r, 200, NULL, when);
    if (!json_is_true(json_object_get(r.json, "ok")))
        fail_msg("%s (seed %u): the books do not balance:\n%s", when, seed,
                 kit_jstr_or(r.json, "report"));
    th_resp_free(&r);
}

static void
restart(int crash)
{
    if (crash) {
        th_crash(&srv);
    } else if (th_stop(&srv) != 0) {
        fail_msg("the server did not stop cleanly (seed %u)", seed);
    }
    /* The books on disk, as the crash left them, before anyone touches
     * them again. */
    if (tu_ledger_verify(srv.dir) != 0)
        fail_msg("stockroom ledger verify failed after a %s (seed %u)",
                 crash ? "crash" : "stop", seed);
    if (th_start(&srv, flags) < 0)
        fail_msg("the server did not come back (seed %u)", seed);
}

/* ---- setup -------------------------------------------------------------- */

static int
setup(void **state)
{
    char path[512];
    const char *fields[] = {"title", "By the water", NULL};
    struct th_resp r;
    const char *env = getenv("STOCKROOM_SEED");

    (void)state;
    seed = env && *env ? (unsigned)strtoul(env, NULL, 10)
                       : (unsigned)time(NULL) ^ (unsigned)getpid();
    fprintf(stderr,
            "test_money_crash: seed %u (STOCKROOM_SEED=%u repeats "
            "this run)\n",
            seed, seed);
    srand(seed);
    curl_global_init(CURL_GLOBAL_ALL);
    if (th_start(&srv, flags) < 0)
        return -1;
    kit_use(&srv);
    kit_staff("admin", "admin", admin_tok);
    kit_new_user("contributor", contrib_tok);
    if (th_upload(&srv, "/api/v1/images", contrib_tok,
                  th_corpus(IMAGE, path, sizeof path), "photo.jpg", fields,
                  &r) < 0 ||
        r.status != 202) {
        th_resp_free(&r);
        return -1;
    }
    snprintf(image_id, sizeof image_id, "%s", kit_jstr_or(r.json, "id"));
    th_resp_free(&r);
    kit_approve(contrib_tok, admin_tok, image_id);
    return 0;
}

static int
teardown(void **state)
{
    int rc = th_stop(&srv), v;

    (void)state;
    if (rc != 0)
        fprintf(stderr, "the server did not stop cleanly: %d\n", rc);
    v = tu_ledger_verify(srv.dir);
    if (v != 0)
        fprintf(stderr, "stockroom ledger verify exited %d\n", v);
    th_cleanup(&srv);
    curl_global_cleanup();
    return rc != 0 || v != 0 ? -1 : 0;
}

/* ---- what was answered -------------------------------------------------- */

/* A request sent: its id when answered 2xx, else its key and body to
 * retry after the restart. */
struct rec {
    char kind; /* 'p' purchase, 'l' licence, 'o' payout */
    char token[128];
    char key[64];
    char body[200];
    char id[64];  /* "" when not answered 2xx */
    int answered; /* any status came back */
};

static struct rec recs[MAX_REC];
static int n_recs;
static pthread_mutex_t rec_lock = PTHREAD_MUTEX_INITIALIZER;
static int answered; /* requests answered in this round */
static int stop;

static void
record(const struct rec *r)
{
    pthread_mutex_lock(&rec_lock);
    if (n_recs < MAX_REC)
        recs[n_recs++] = *r;
    pthread_mutex_unlock(&rec_lock);
}

struct client {
    char token[128];
    unsigned seed;
};

static const char *const sizes[] = {"S", "M", "XL"};

static void *
client(void *arg)
{
    struct client *cl = arg;

    while (!__atomic_load_n(&stop, __ATOMIC_SEQ_CST) &&
           __atomic_load_n(&n_recs, __ATOMIC_SEQ_CST) < MAX_REC - 4) {
        struct rec rc = {0};
        struct th_resp r;
        int op = (int)(rand_r(&cl->seed) % 10);
        const char *path;

        if (op < 3) {
            rc.kind = 'p';
            snprintf(rc.token, sizeof rc.token, "%s", cl->token);
            snprintf(rc.body, sizeof rc.body, "{\"pack\":\"%s\"}",
                     rand_r(&cl->seed) % 2 ? "10" : "30");
            kit_fresh_key(rc.key, "cp");
            path = "/api/v1/credits/purchases";
        } else if (op < 9) {
            rc.kind = 'l';
            snprintf(rc.token, sizeof rc.token, "%s", cl->token);
            snprintf(rc.body, sizeof rc.body,
                     "{\"image_id\":\"%s\","
                     "\"size\":\"%s\",\"type\":\"%s\"}",
                     image_id, sizes[rand_r(&cl->seed) % 3],
                     rand_r(&cl->seed) % 8 ? "standard" : "extended");
            kit_fresh_key(rc.key, "cl");
            path = "/api/v1/licences";
        } else {
            rc.kind = 'o';
            snprintf(rc.token, sizeof rc.token, "%s", contrib_tok);
            snprintf(rc.body, sizeof rc.body, "{\"amount_cents\":2500}");
            kit_fresh_key(rc.key, "co");
            path = "/api/v1/payouts";
        }
        if (kit_try("POST", path, rc.token, rc.key, rc.body, &r) >= 0) {
            rc.answered = 1;
            if (r.status / 100 == 2) {
                const char *id =
                    kit_jstr_or(r.json, rc.kind == 'p' ? "purchase_id" : "id");

                snprintf(rc.id, sizeof rc.id, "%s", id);
                if (rc.kind == 'p' &&
                    strcmp(kit_jstr_or(r.json, "status"), "settled") != 0)
                    rc.id[0] = '!'; /* answered, not settled */
            } else if (r.status != 402 && r.status != 422) {
                rc.id[0] = '?'; /* an unexpected answer */
                snprintf(rc.id + 1, sizeof rc.id - 1, "%ld", r.status);
            }
            __atomic_fetch_add(&answered, 1, __ATOMIC_SEQ_CST);
        }
        th_resp_free(&r);
        record(&rc);
        if (!rc.answered)
            break; /* the server is gone */
    }
    return NULL;
}

static int
enough_answered(void *arg)
{
    return __atomic_load_n(&answered, __ATOMIC_SEQ_CST) >= *(int *)arg;
}

/* Is id among the items of GET path (following cursors)? */
static int
listed(const char *path, const char *token, const char *field, const char *id)
{
    char url[512], cursor[64] = "";
    int found = 0;

    do {
        struct th_resp r;
        json_t *items, *next;

        snprintf(url, sizeof url, "%s%s%s", path,
                 cursor[0] ? (strchr(path, '?') ? "&cursor=" : "?cursor=") : "",
                 cursor);
        kit_try("GET", url, token, NULL, NULL, &r);
        kit_expect(&r, 200, NULL, path);
        items = json_object_get(r.json, "items");
        for (size_t i = 0; i < json_array_size(items); i++) {
            json_t *it = json_array_get(items, i);

            if (!strcmp(kit_jstr_or(it, field), id))
                found = 1;
            if (!strcmp(kit_jstr_or(it, field), id) &&
                !strcmp(field, "purchase_id") &&
                strcmp(kit_jstr_or(it, "status"), "settled") != 0)
                fail_msg("purchase %s is %s after the restart (seed %u)", id,
                         kit_jstr_or(it, "status"), seed);
        }
        next = json_object_get(r.json, "next_cursor");
        snprintf(cursor, sizeof cursor, "%s",
                 json_is_string(next) ? json_string_value(next) : "");
        th_resp_free(&r);
    } while (!found && cursor[0]);
    return found;
}

static void
test_crash_during_stream(void **state)
{
    enum { ROUNDS = 4, CLIENTS = 2 };
    struct client cl[CLIENTS];
    pthread_t t[CLIENTS];

    (void)state;
    for (int i = 0; i < CLIENTS; i++) {
        th_new_user(&srv, "streamer", cl[i].token);
        cl[i].seed = seed + (unsigned)i;
    }
    for (int round = 0; round < ROUNDS; round++) {
        int target = 3 + rand() % 40, first = n_recs;

        __atomic_store_n(&answered, 0, __ATOMIC_SEQ_CST);
        __atomic_store_n(&stop, 0, __ATOMIC_SEQ_CST);
        for (int i = 0; i < CLIENTS; i++)
            assert_int_equal(pthread_create(&t[i], NULL, client, &cl[i]), 0);
        /* Kill it after a random number of answers: requests are in
         * flight at that moment. */
        th_poll(enough_answered, &target, 60000);
        th_crash(&srv);
        __atomic_store_n(&stop, 1, __ATOMIC_SEQ_CST);
        for (int i = 0; i < CLIENTS; i++)
            pthread_join(t[i], NULL);
        fprintf(stderr, "round %d: killed after %d answers, %d requests\n",
                round, __atomic_load_n(&answered, __ATOMIC_SEQ_CST),
                n_recs - first);
        if (tu_ledger_verify(srv.dir) != 0)
            fail_msg("stockroom ledger verify failed after kill -9 "
                     "(seed %u, round %d)",
                     seed, round);
        if (th_start(&srv, flags) < 0)
            fail_msg("the server did not come back (seed %u)", seed);
        books_ok("after the restart");
        for (int i = first; i < n_recs; i++) {
            struct rec *rc = &recs[i];

            if (rc->id[0] == '!' || rc->id[0] == '?')
                fail_msg("%c %s answered oddly: %s (seed %u)", rc->kind,
                         rc->key, rc->id, seed);
            if (!rc->answered) {
                /* Sent, never answered: the retry finishes it or finds
                 * it done, once. */
                struct th_resp r;
                const char *path = rc->kind == 'p' ? "/api/v1/credits/purchases"
                                   : rc->kind == 'l' ? "/api/v1/licences"
                                                     : "/api/v1/payouts";

                kit_try("POST", path, rc->token, rc->key, rc->body, &r);
                if (rc->kind == 'p') {
                    kit_expect(&r, 201, NULL,
                               "retry of an unanswered purchase");
                    assert_string_equal(kit_jstr_or(r.json, "status"),
                                        "settled");
                }
                if (r.status != 201 && r.status != 402 && r.status != 422)
                    fail_msg("retry of %c %s: %ld %s (seed %u)", rc->kind,
                             rc->key, r.status, r.body, seed);
                if (r.status == 201)
                    snprintf(rc->id, sizeof rc->id, "%s",
                             kit_jstr_or(r.json, rc->kind == 'p' ? "purchase_id"
                                                                 : "id"));
                th_resp_free(&r);
            }
            if (!rc->id[0])
                continue;
            if (rc->kind == 'p' && !listed("/api/v1/me/purchases", rc->token,
                                           "purchase_id", rc->id))
                fail_msg("purchase %s was answered, then lost (seed %u)",
                         rc->id, seed);
            if (rc->kind == 'l' && !listed("/api/v1/me/licences?limit=100",
                                           rc->token, "id", rc->id))
                fail_msg("licence %s was answered, then lost (seed %u)", rc->id,
                         seed);
            if (rc->kind == 'o' &&
                !listed("/api/v1/me/payouts", rc->token, "id", rc->id))
                fail_msg("payout %s was answered, then lost (seed %u)", rc->id,
                         seed);
        }
        books_ok("after the retries");
    }
}

/* ---- a random walk with the books checked at every step ----------------- */

static void
test_random_steps(void **state)
{
    enum { STEPS = 40, BUYERS = 2 };
    char buyer[BUYERS][128];
    char lics[64][64];
    int n_lics = 0;
    char payouts[32][64];
    int n_payouts = 0;

    (void)state;
    for (int i = 0; i < BUYERS; i++)
        th_new_user(&srv, "walker", buyer[i]);
    for (int step = 0; step < STEPS; step++) {
        int op = rand() % 12, b = rand() % BUYERS;
        char key[64], body[200], path[160];
        struct th_resp r;

        if (op < 3) {
            kit_fresh_key(key, "wb");
            snprintf(body, sizeof body, "{\"pack\":\"%s\"}",
                     rand() % 3 ? "10" : "100");
            kit_try("POST", "/api/v1/credits/purchases", buyer[b], key, body,
                    &r);
            kit_expect(&r, 201, NULL, "buy");
        } else if (op < 7) {
            kit_fresh_key(key, "wl");
            snprintf(body, sizeof body,
                     "{\"image_id\":\"%s\","
                     "\"size\":\"%s\",\"type\":\"%s\"}",
                     image_id, sizes[rand() % 3],
                     rand() % 4 ? "standard" : "extended");
            kit_try("POST", "/api/v1/licences", buyer[b], key, body, &r);
            if (r.status != 201)
                kit_expect(&r, 402, "insufficient_credits", "licence");
            if (r.status == 201 && n_lics < 64)
                snprintf(lics[n_lics++], 64, "%s", kit_jstr_or(r.json, "id"));
        } else if (op < 8 && n_lics > 0) {
            int k = rand() % n_lics;

            snprintf(path, sizeof path, "/api/v1/licences/%s/refund", lics[k]);
            kit_try("POST", path, admin_tok, NULL, NULL, &r);
            if (r.status != 200)
                kit_expect(&r, 409, "already_refunded", "refund");
        } else if (op < 9) {
            json_int_t bal;

            kit_try("GET", "/api/v1/me/earnings", contrib_tok, NULL, NULL, &r);
            kit_expect(&r, 200, NULL, "earnings");
            bal = kit_jint(r.json, "balance_cents");
            th_resp_free(&r);
            snprintf(
                body, sizeof body, "{\"amount_cents\":%lld}",
                (long long)(bal >= 2500 ? 2500 + rand() % (bal - 2499) : 2500));
            kit_try("POST", "/api/v1/payouts", contrib_tok, NULL, body, &r);
            if (bal >= 2500)
                kit_expect(&r, 201, NULL, "payout within the balance");
            else
                kit_expect(&r, 422, "insufficient_balance",
                           "payout over the balance");
            if (r.status == 201 && n_payouts < 32)
                snprintf(payouts[n_payouts++], 64, "%s",
                         kit_jstr_or(r.json, "id"));
        } else if (op < 10 && n_payouts > 0) {
            int k = rand() % n_payouts;

            snprintf(path, sizeof path, "/api/v1/payouts/%s", payouts[k]);
            kit_try("PATCH", path, admin_tok, NULL,
                    rand() % 2 ? "{\"status\":\"paid\"}"
                               : "{\"status\":\"failed\"}",
                    &r);
            if (r.status != 200)
                kit_expect(&r, 409, "not_requested", "settle");
        } else if (op == 11) {
            restart(rand() % 2);
            memset(&r, 0, sizeof r);
        } else {
            continue;
        }
        th_resp_free(&r);
        books_ok("after a step");
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crash_during_stream),
        cmocka_unit_test(test_random_steps),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
