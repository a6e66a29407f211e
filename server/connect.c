/* Stockroom — payouts through Stripe Connect: a contributor's Express
 * account and its onboarding link, transfers for payouts, and what Stripe
 * says of the account afterwards (account.updated). */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "log.h"
#include "payments.h"
#include "stripe.h"

static int
stripe_on(struct srv_req *r)
{
    if (!strcmp(srv_req_app(r)->cfg.payment_provider, "stripe"))
        return 1;
    srv_error(r, 409, "payouts_by_hand",
              "This store pays contributors by hand; there is no payout "
              "account to set up.");
    return 0;
}

static void
reply_stripe(struct srv_req *r, int rc, const char *serr)
{
    log_error("%s: %s", srv_req_id(r), serr);
    if (rc == STRIPE_EDOWN) {
        srv_header(r, "Retry-After", "30");
        srv_error(r, 503, "payment_unavailable",
                  "Stripe cannot be reached just now. Try again in a "
                  "minute.");
        return;
    }
    srv_error(r, 502, "payment_failed", "Stripe refused the request.");
}

static json_t *
account_json(const struct ledger_payout_account *a, int found)
{
    return json_pack("{s:s,s:b}", "status",
                     !found               ? "none"
                     : a->payouts_enabled ? "enabled"
                                          : "onboarding",
                     "payouts_enabled", found && a->payouts_enabled);
}

void
connect_account_get(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    struct ledger_payout_account a;
    char err[DB_ERR_LEN];
    int rc = ledger_payout_account_get(app->db, srv_req_user(r)->id, &a, err);

    if (rc == DB_ENOTFOUND) {
        srv_json(r, 200, account_json(&a, 0));
        return;
    }
    if (srv_reply_db(r, rc, err, "payout account") < 0)
        return;
    srv_json(r, 200, account_json(&a, 1));
}

void
connect_account_create(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    const struct acc_user *u = srv_req_user(r);
    struct ledger_payout_account a;
    struct stripe_conf sc;
    struct stripe_form f = {0};
    char err[DB_ERR_LEN], serr[STRIPE_ERR_LEN], key[LEDGER_ID_LEN + 32];
    char base[300], url[400];
    json_t *j = NULL;
    const char *ref, *link;
    int rc;

    if (!stripe_on(r))
        return;
    checkout_stripe_conf(app, &sc);
    rc = ledger_payout_account_get(app->db, u->id, &a, err);
    if (rc == DB_ENOTFOUND) {
        /* Once per contributor: the key makes a retry find the same one. */
        stripe_form_add(&f, "type", "express");
        stripe_form_add(&f, "email", u->email);
        stripe_form_add(&f, "capabilities[transfers][requested]", "true");
        stripe_form_add(&f, "metadata[user_id]", u->id);
        snprintf(key, sizeof key, "stockroom-account-%s", u->id);
        rc = stripe_call(&sc, "POST", "/v1/accounts", &f, key, &j, NULL, serr);
        stripe_form_release(&f);
        if (rc != STRIPE_OK) {
            reply_stripe(r, rc, serr);
            return;
        }
        ref = json_string_value(json_object_get(j, "id"));
        rc = ledger_payout_account_put(app->db, u->id, "stripe", ref ? ref : "",
                                       err);
        json_decref(j);
        j = NULL;
        if (rc == DB_OK)
            rc = ledger_payout_account_get(app->db, u->id, &a, err);
    }
    if (srv_reply_db(r, rc, err, "payout account") < 0)
        return;
    checkout_public_base(app, base, sizeof base);
    stripe_form_add(&f, "account", a.account_ref);
    stripe_form_add(&f, "type", "account_onboarding");
    snprintf(url, sizeof url, "%s/dashboard.html?payouts=refresh", base);
    stripe_form_add(&f, "refresh_url", url);
    snprintf(url, sizeof url, "%s/dashboard.html?payouts=return", base);
    stripe_form_add(&f, "return_url", url);
    /* A link is single-use and short-lived: a fresh one every time. */
    rc =
        stripe_call(&sc, "POST", "/v1/account_links", &f, NULL, &j, NULL, serr);
    stripe_form_release(&f);
    if (rc != STRIPE_OK) {
        reply_stripe(r, rc, serr);
        return;
    }
    link = json_string_value(json_object_get(j, "url"));
    if (!link) {
        json_decref(j);
        reply_stripe(r, STRIPE_EBADREPLY, "account link without a url");
        return;
    }
    {
        json_t *out = account_json(&a, 1);

        json_object_set_new(out, "onboarding_url", json_string(link));
        srv_json(r, 201, out);
    }
    json_decref(j);
}

int
connect_account_updated(struct app *app, const json_t *acct, char *err,
                        size_t errlen)
{
    const char *id = json_string_value(json_object_get(acct, "id"));
    int on = json_is_true(json_object_get(acct, "payouts_enabled"));
    char dberr[DB_ERR_LEN];
    int rc;

    if (!id)
        return DB_OK;
    rc = ledger_payout_account_enable(app->db, id, on, dberr);
    if (rc == DB_ENOTFOUND || rc == DB_EINVAL)
        return DB_OK; /* not an account of ours */
    if (rc != DB_OK) {
        snprintf(err, errlen, "account %s: %s", id, dberr);
        return rc;
    }
    log_info("payout account %s: payouts %s", id, on ? "enabled" : "disabled");
    return DB_OK;
}

int
connect_require_account(struct app *app, const char *user_id,
                        char ref[LEDGER_REF_LEN])
{
    struct ledger_payout_account a;
    char err[DB_ERR_LEN];

    if (ledger_payout_account_get(app->db, user_id, &a, err) != DB_OK ||
        !a.payouts_enabled)
        return -1;
    snprintf(ref, LEDGER_REF_LEN, "%s", a.account_ref);
    return 0;
}

int
connect_transfer(struct app *app, const struct ledger_payout *p,
                 const char *account_ref, char *err, size_t errlen)
{
    struct stripe_conf sc;
    struct stripe_form f = {0};
    char key[LEDGER_ID_LEN + 32], serr[STRIPE_ERR_LEN], dberr[DB_ERR_LEN];
    json_t *j = NULL;
    const char *tr;
    int rc;

    checkout_stripe_conf(app, &sc);
    stripe_form_add_i64(&f, "amount", (long long)p->amount_cents);
    stripe_form_add(&f, "currency", "usd");
    stripe_form_add(&f, "destination", account_ref);
    stripe_form_add(&f, "metadata[payout_id]", p->id);
    snprintf(key, sizeof key, "stockroom-payout-%s", p->id);
    rc = stripe_call(&sc, "POST", "/v1/transfers", &f, key, &j, NULL, serr);
    stripe_form_release(&f);
    if (rc != STRIPE_OK) {
        snprintf(err, errlen, "transfer of payout %s: %s", p->id, serr);
        return rc == STRIPE_EREFUSED ? PAYMENTS_EREFUSED : PAYMENTS_EDOWN;
    }
    tr = json_string_value(json_object_get(j, "id"));
    if (tr && ledger_payout_transfer_put(app->db, p->id, tr, dberr) != DB_OK)
        log_error("payout %s: transfer %s not recorded: %s", p->id, tr, dberr);
    json_decref(j);
    return PAYMENTS_OK;
}
