/* Stockroom — payment providers. A purchase is recorded as pending, the
 * provider takes the payment, and its confirmation fulfils the purchase
 * through payments_fulfil, the one path that credits a wallet. The only
 * provider built in is "test": it confirms at once and is for local use. */
#ifndef STOCKROOM_PAYMENTS_H
#define STOCKROOM_PAYMENTS_H

#include "ledger.h"

struct app;

struct payment_provider {
    const char *name;
    /* Start taking payment for a pending purchase. A provider that settles
     * at once calls payments_fulfil itself and fills *out; one that
     * redirects to a checkout page would return its URL instead. 0 or -1
     * with a reason in err. */
    int (*begin)(struct app *app, const struct ledger_purchase *p,
                 struct ledger_purchase *out, char *err, size_t errlen);
};

/* The provider named in the configuration, or NULL. */
const struct payment_provider *payments_provider(const char *name);

/* The provider confirmed payment of purchase_id under its reference:
 * settle it in the ledger. Idempotent, as webhooks retry. */
int payments_fulfil(struct app *app, const char *purchase_id,
                    const char *provider_ref, struct ledger_purchase *out,
                    char *err, size_t errlen);

#endif
