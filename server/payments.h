/* Stockroom — payment providers. A purchase is recorded as pending, the
 * provider takes the payment, and its confirmation fulfils the purchase
 * through payments_fulfil (or, for a checkout, ledger_checkout_paid), the
 * only paths that credit a wallet. "test" confirms at once and is for local
 * use; "stripe" sends the buyer to a Stripe Checkout page and is confirmed
 * by a signed webhook (webhooks.c) or by reconciliation (checkout.c). */
#ifndef STOCKROOM_PAYMENTS_H
#define STOCKROOM_PAYMENTS_H

#include <jansson.h>

#include "ledger.h"

struct app;

enum payments_result {
    PAYMENTS_OK = 0,       /* settled (test) or checkout_url set (stripe) */
    PAYMENTS_EDOWN = -1,   /* the provider is unreachable: answer 503 */
    PAYMENTS_EREFUSED = -2 /* the provider refused: answer 502 */
};

struct payment_provider {
    const char *name;
    /* Start taking payment for a pending purchase made by email. A
     * provider that settles at once fills *out; one that redirects fills
     * checkout_url ("" otherwise) and leaves *out the pending purchase. A
     * payments_result, with a reason for the log in err. */
    int (*begin)(struct app *app, const struct ledger_purchase *p,
                 const char *email, struct ledger_purchase *out,
                 char checkout_url[LEDGER_URL_LEN], char *err, size_t errlen);
};

/* The provider named in the configuration, or NULL. */
const struct payment_provider *payments_provider(const char *name);

/* The provider confirmed payment of purchase_id under its reference:
 * settle it in the ledger. Idempotent, as webhooks retry. */
int payments_fulfil(struct app *app, const char *purchase_id,
                    const char *provider_ref, struct ledger_purchase *out,
                    char *err, size_t errlen);

/* checkout.c: the "stripe" provider's begin. */
int checkout_begin(struct app *app, const struct ledger_purchase *p,
                   const char *email, struct ledger_purchase *out,
                   char checkout_url[LEDGER_URL_LEN], char *err, size_t errlen);

/* checkout.c: apply a Checkout Session object (from a webhook or from the
 * API) to its purchase: paid and priced right settles it; paid at another
 * price marks it needs_attention (nothing credited); expired or failed
 * marks a pending one failed. A DB_E* code (DB_OK when there was nothing to
 * do); err says why. */
int checkout_apply_session(struct app *app, const json_t *session,
                           int async_failed, char *err, size_t errlen);

/* checkout.c: list the Checkout Sessions created in the last since_hours
 * and apply every one (a webhook lost while the server was down). Fills
 * *settled with how many purchases it settled now. 0, or -1 when Stripe
 * could not be listed (err says why). Safe at any time. */
int checkout_reconcile(struct app *app, int since_hours, int *seen,
                       int *settled, char *err, size_t errlen);

/* checkout.c: refund a Stripe-paid pack through Stripe (the whole payment,
 * with an idempotency key per purchase). A payments_result. */
int checkout_refund(struct app *app, const struct ledger_purchase *p, char *err,
                    size_t errlen);

/* checkout.c: where browsers come back to: --public-url, else the listen
 * address; no trailing slash. */
void checkout_public_base(const struct app *app, char *out, size_t len);

/* connect.c: payouts through Stripe Connect. The webhook's account.updated
 * (a DB_E* code); the contributor's account when payouts are enabled (0,
 * else -1); a transfer for a requested payout (a payments_result). */
int connect_account_updated(struct app *app, const json_t *acct, char *err,
                            size_t errlen);
int connect_require_account(struct app *app, const char *user_id,
                            char ref[LEDGER_REF_LEN]);
int connect_transfer(struct app *app, const struct ledger_payout *p,
                     const char *account_ref, char *err, size_t errlen);

/* checkout.c: Stripe's client settings from the configuration. */
struct stripe_conf;
void checkout_stripe_conf(const struct app *app, struct stripe_conf *out);

/* checkout.c: the background reconciliation (a chore) and the command
 * `stockroom payments reconcile [--since HOURS]` (an exit status). */
void checkout_chore(struct app *app);
int checkout_cmd_reconcile(struct app *app, int argc, char **argv);

/* The status a purchase shows: the ledger's, or for a pending one what
 * its checkout says ("pending", "failed", "needs_attention"). A static
 * string. */
const char *payments_status(struct app *app, const struct ledger_purchase *p);

#endif
