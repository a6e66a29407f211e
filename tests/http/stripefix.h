/* Stockroom — the fixture of the Stripe tests: a fake Stripe API
 * (tests/services/stripe, node) on a free port, a store started with
 * --payment-provider stripe against it, its webhooks pointed at the store,
 * and the steps the tests share. One fixture per test process. */
#ifndef STOCKROOM_STRIPEFIX_H
#define STOCKROOM_STRIPEFIX_H

#include "harness.h"

#define KEY "sk_test_stockroom"
#define SECRET "whsec_current"
/* A rotation in progress: the old secret is still accepted. */
#define SECRETS "whsec_retired, " SECRET
#define DEADLINE_MS 15000

extern struct th_server sf_srv;  /* the store */
extern struct th_server sf_fake; /* the fake: only port and base are set */

/* cmocka group setup and teardown: start (stop) the fake and the store,
 * and kit_use() the store. Payouts start at 100 cents here. */
int sf_setup(void **state);
int sf_teardown(void **state);

/* Start the store again on its data directory (after th_crash). */
void sf_store_start(void);

/* POST json (may be NULL) to the fake; fills r (th_resp_free). */
void sf_fake_post(const char *path, const char *json, struct th_resp *r);
/* POST json to /_control/NAME of the fake; fails the test unless 200. */
void sf_control(const char *name, const char *json);

/* Buy pack "10" as tok: the purchase id and the session id filled. Fails
 * the test unless it is a 201 pending with a checkout_url. */
void sf_buy(const char *tok, char id[64], char session[80]);
/* The status the buyer's purchase list shows for id ("" if absent). */
void sf_purchase_status(const char *tok, const char *id, char out[32]);
/* Poll until the purchase shows want; fails the test after DEADLINE_MS. */
void sf_wait_status(const char *tok, const char *id, const char *want);
/* `stockroom ledger verify` on the store's data: the books balance. */
void sf_books_balance(void);

#endif
