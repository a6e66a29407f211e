/* Stockroom — payment providers: the built-in "test" provider, and the
 * table naming every provider. */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "payments.h"

int
payments_fulfil(struct app *app, const char *purchase_id,
                const char *provider_ref, struct ledger_purchase *out,
                char *err, size_t errlen)
{
    char dberr[DB_ERR_LEN];
    int rc =
        ledger_purchase_settle(app->db, purchase_id, provider_ref, out, dberr);

    if (rc != DB_OK)
        snprintf(err, errlen, "%s", dberr);
    return rc;
}

/* Settles at once, as a real provider's confirmation would later: no money
 * moves anywhere. Never configure it for a store that sells for real. */
static int
test_begin(struct app *app, const struct ledger_purchase *p, const char *email,
           struct ledger_purchase *out, char checkout_url[LEDGER_URL_LEN],
           char *err, size_t errlen)
{
    char ref[LEDGER_REF_LEN];

    (void)email;
    checkout_url[0] = '\0';
    snprintf(ref, sizeof ref, "test-%s", p->id);
    return payments_fulfil(app, p->id, ref, out, err, errlen) == DB_OK
               ? PAYMENTS_OK
               : PAYMENTS_EDOWN;
}

static const struct payment_provider providers[] = {
    {"test", test_begin},
    {"stripe", checkout_begin},
};

const char *
payments_status(struct app *app, const struct ledger_purchase *p)
{
    struct ledger_checkout k;
    char err[DB_ERR_LEN];

    if (p->status != DB_PURCHASE_PENDING ||
        ledger_checkout_get(app->db, p->id, &k, err) != DB_OK)
        return db_status_purchase_str(p->status);
    if (!strcmp(k.state, "failed"))
        return "failed";
    if (!strcmp(k.state, "needs_attention"))
        return "needs_attention";
    return "pending";
}

const struct payment_provider *
payments_provider(const char *name)
{
    for (size_t i = 0; i < sizeof providers / sizeof providers[0]; i++) {
        if (!strcmp(providers[i].name, name))
            return &providers[i];
    }
    return NULL;
}
