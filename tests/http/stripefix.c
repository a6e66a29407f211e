/* Stockroom — the fixture of the Stripe tests: the fake Stripe API of
 * tests/services/stripe on a free port, a store using it, and the steps the
 * tests share (buy a pack, wait for its status, check the books). */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "kit.h"
#include "stripefix.h"
#include "util.h"

struct th_server sf_srv;
struct th_server sf_fake; /* only port and base are used */
static pid_t fake_pid;
static char fake_dir[256];
static int key_seq;

/* ---- the sf_fake -----------------------------------------------------------
 */

static void
fake_start(void)
{
    char portfile[300], buf[16] = "";
    long until = tu_now_ms() + DEADLINE_MS;

    if (tu_tmpdir(fake_dir, sizeof fake_dir) < 0)
        fail_msg("no temporary directory");
    snprintf(portfile, sizeof portfile, "%s/port", fake_dir);
    fake_pid = fork();
    if (fake_pid == 0) {
        setenv("FAKE_STRIPE_KEY", KEY, 1);
        setenv("FAKE_STRIPE_WEBHOOK_SECRET", SECRET, 1);
        execlp("node", "node", "tests/services/stripe/server.mjs",
               "--port-file", portfile, (char *)NULL);
        _exit(127);
    }
    while (tu_now_ms() < until) {
        FILE *f = fopen(portfile, "r");

        if (f) {
            if (fgets(buf, sizeof buf, f))
                sf_fake.port = atoi(buf);
            fclose(f);
        }
        if (sf_fake.port > 0)
            break;
        usleep(20000);
    }
    if (sf_fake.port <= 0)
        fail_msg("the sf_fake Stripe did not start (npm ci in "
                 "tests/services/stripe?)");
    snprintf(sf_fake.base, sizeof sf_fake.base, "http://127.0.0.1:%d",
             sf_fake.port);
}

/* POST a JSON body to the sf_fake's control or hosted pages. */
void
sf_fake_post(const char *path, const char *json, struct th_resp *r)
{
    const char *h[] = {"Content-Type: application/json", NULL};

    if (kit_try_on(&sf_fake, "POST", path, NULL, h, NULL, json, r) < 0)
        fail_msg("sf_fake %s: no answer", path);
}

void
sf_control(const char *name, const char *json)
{
    struct th_resp r;
    char path[100];

    snprintf(path, sizeof path, "/_control/%s", name);
    sf_fake_post(path, json, &r);
    if (r.status != 200)
        fail_msg("sf_fake control %s: %ld %s", name, r.status, r.body);
    th_resp_free(&r);
}

static void
point_webhooks(void)
{
    char body[300];

    snprintf(body, sizeof body, "{\"url\":\"%s/api/v1/webhooks/stripe\"}",
             sf_srv.base);
    sf_control("webhook", body);
}

/* ---- the store ---------------------------------------------------------- */

void
sf_store_start(void)
{
    char api[80];
    const char *extra[] = {"--payout-min-cents",
                           "100",
                           "--min-megapixels",
                           "0.01",
                           "--payment-provider",
                           "stripe",
                           "--stripe-api-url",
                           api,
                           "--seller-name",
                           "Stockroom Ltd",
                           "--seller-tax-id",
                           "GB123456789",
                           NULL};

    snprintf(api, sizeof api, "%s", sf_fake.base);
    setenv("STOCKROOM_STRIPE_SECRET_KEY", KEY, 1);
    setenv("STOCKROOM_STRIPE_WEBHOOK_SECRET", SECRETS, 1);
    if (th_start(&sf_srv, extra) < 0)
        fail_msg("server did not start");
    point_webhooks();
}

int
sf_setup(void **state)
{
    (void)state;
    fake_start();
    sf_store_start();
    kit_use(&sf_srv);
    return 0;
}

int
sf_teardown(void **state)
{
    (void)state;
    th_stop(&sf_srv);
    th_cleanup(&sf_srv);
    if (fake_pid > 0) {
        kill(fake_pid, SIGTERM);
        tu_wait_exit(fake_pid, 5000);
    }
    tu_rmtree(fake_dir);
    return 0;
}

/* The status the buyer's purchase list shows for purchase id. */
void
sf_purchase_status(const char *tok, const char *id, char out[32])
{
    struct th_resp r;
    size_t i;
    json_t *p;

    out[0] = '\0';
    kit_call("GET", "/api/v1/me/purchases", tok, NULL, NULL, &r);
    kit_expect(&r, 200, NULL, "purchases");
    json_array_foreach(json_object_get(r.json, "items"), i, p)
    {
        if (!strcmp(json_string_value(json_object_get(p, "purchase_id")), id))
            snprintf(out, 32, "%s",
                     json_string_value(json_object_get(p, "status")));
    }
    th_resp_free(&r);
}

void
sf_wait_status(const char *tok, const char *id, const char *want)
{
    long until = tu_now_ms() + DEADLINE_MS;
    char st[32];

    do {
        sf_purchase_status(tok, id, st);
        if (!strcmp(st, want))
            return;
        usleep(20000);
    } while (tu_now_ms() < until);
    fail_msg("purchase %s stayed %s, never %s", id, st, want);
}

/* Buy pack "10"; id and the session id (from checkout_url) filled. */
void
sf_buy(const char *tok, char id[64], char session[80])
{
    struct th_resp r;
    char key[32];
    const char *url, *s;

    snprintf(key, sizeof key, "stripe-%d", ++key_seq);
    kit_call("POST", "/api/v1/credits/purchases", tok, key, "{\"pack\":\"10\"}",
             &r);
    kit_expect(&r, 201, NULL, "purchase");
    assert_string_equal(json_string_value(json_object_get(r.json, "status")),
                        "pending");
    url = json_string_value(json_object_get(r.json, "checkout_url"));
    assert_non_null(url);
    assert_true(!strncmp(url, sf_fake.base, strlen(sf_fake.base)));
    s = strrchr(url, '/');
    snprintf(session, 80, "%s", s + 1);
    snprintf(id, 64, "%s",
             json_string_value(json_object_get(r.json, "purchase_id")));
    th_resp_free(&r);
}

void
sf_books_balance(void)
{
    assert_int_equal(tu_ledger_verify(sf_srv.dir), 0);
}
