/* Stockroom — the "stripe" payment provider: Checkout Sessions for credit
 * packs, applying what Stripe says happened to them (webhooks and
 * reconciliation share that path), and card refunds of unused packs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "log.h"
#include "payments.h"
#include "stripe.h"

#define RECONCILE_PAGES 20 /* 100 sessions a page */

void
checkout_stripe_conf(const struct app *app, struct stripe_conf *out)
{
    memset(out, 0, sizeof *out);
    out->api_url = app->cfg.stripe_api_url;
    out->secret_key = app->cfg.stripe_secret_key;
}

void
checkout_public_base(const struct app *app, char *out, size_t len)
{
    size_t n;

    if (*app->cfg.public_url)
        snprintf(out, len, "%s", app->cfg.public_url);
    else
        snprintf(out, len, "http://%s:%u", app->cfg.listen_host,
                 (unsigned)app->cfg.listen_port);
    n = strlen(out);
    while (n && out[n - 1] == '/')
        out[--n] = '\0';
}

int
checkout_begin(struct app *app, const struct ledger_purchase *p,
               const char *email, struct ledger_purchase *out,
               char checkout_url[LEDGER_URL_LEN], char *err, size_t errlen)
{
    struct stripe_conf sc;
    struct stripe_form f = {0};
    char base[300], url[600], name[64], key[LEDGER_ID_LEN + 32];
    char serr[STRIPE_ERR_LEN], dberr[DB_ERR_LEN];
    json_t *s = NULL;
    const char *sid, *surl;
    int rc;

    checkout_url[0] = '\0';
    *out = *p;
    /* A replayed request for a purchase paid at the wrong price: it stays
     * for an admin, not reopened. */
    {
        struct ledger_checkout k;

        if (ledger_checkout_get(app->db, p->id, &k, dberr) == DB_OK &&
            !strcmp(k.state, "needs_attention"))
            return PAYMENTS_OK;
    }
    checkout_stripe_conf(app, &sc);
    checkout_public_base(app, base, sizeof base);
    snprintf(name, sizeof name, "%lld Stockroom credits",
             (long long)p->credits);
    stripe_form_add(&f, "mode", "payment");
    stripe_form_add(&f, "line_items[0][quantity]", "1");
    stripe_form_add(&f, "line_items[0][price_data][currency]", "usd");
    stripe_form_add_i64(&f, "line_items[0][price_data][unit_amount]",
                        (long long)p->price_cents);
    stripe_form_add(&f, "line_items[0][price_data][product_data][name]", name);
    stripe_form_add(&f, "client_reference_id", p->id);
    stripe_form_add(&f, "metadata[purchase_id]", p->id);
    if (email && *email)
        stripe_form_add(&f, "customer_email", email);
    snprintf(url, sizeof url,
             "%s/credits.html?purchase=%s&checkout=success"
             "&session_id={CHECKOUT_SESSION_ID}",
             base, p->id);
    stripe_form_add(&f, "success_url", url);
    snprintf(url, sizeof url, "%s/credits.html?purchase=%s&checkout=cancel",
             base, p->id);
    stripe_form_add(&f, "cancel_url", url);
    /* The purchase is the unit of work: a retried request creates no
     * second session, Stripe replays the first. */
    snprintf(key, sizeof key, "stockroom-checkout-%s", p->id);
    rc = stripe_call(&sc, "POST", "/v1/checkout/sessions", &f, key, &s, NULL,
                     serr);
    stripe_form_release(&f);
    sid = json_string_value(json_object_get(s, "id"));
    surl = json_string_value(json_object_get(s, "url"));
    if (rc == STRIPE_OK && (!sid || !surl || strlen(sid) >= LEDGER_REF_LEN ||
                            strlen(surl) >= LEDGER_URL_LEN)) {
        snprintf(serr, sizeof serr, "session without a usable id or url");
        rc = STRIPE_EBADREPLY;
    }
    if (rc != STRIPE_OK) {
        snprintf(err, errlen, "checkout for purchase %s: %s", p->id, serr);
        /* Left failed, not dangling: the buyer is told, nothing waits. */
        if (ledger_checkout_put(app->db, p->id, NULL, NULL, "failed", dberr) !=
            DB_OK)
            log_error("checkout %s: %s", p->id, dberr);
        rc = rc == STRIPE_EREFUSED ? PAYMENTS_EREFUSED : PAYMENTS_EDOWN;
        goto out;
    }
    if (ledger_checkout_put(app->db, p->id, sid, surl, "open", dberr) !=
        DB_OK) {
        snprintf(err, errlen, "checkout %s: %s", p->id, dberr);
        rc = PAYMENTS_EDOWN;
        goto out;
    }
    snprintf(checkout_url, LEDGER_URL_LEN, "%s", surl);
    rc = PAYMENTS_OK;
out:
    json_decref(s);
    return rc;
}

/* The card's last four digits, when Stripe will say: best effort, a
 * receipt without them is still a receipt. */
static void
card_last4(struct app *app, const char *pi, char out[5])
{
    struct stripe_conf sc;
    char path[200], serr[STRIPE_ERR_LEN];
    json_t *j = NULL, *card;
    const char *l4;

    out[0] = '\0';
    if (!pi || strlen(pi) > 100)
        return;
    checkout_stripe_conf(app, &sc);
    sc.deadline_ms = 3000;
    snprintf(path, sizeof path,
             "/v1/payment_intents/%s?expand%%5B%%5D=latest_charge", pi);
    if (stripe_call(&sc, "GET", path, NULL, NULL, &j, NULL, serr) !=
        STRIPE_OK) {
        log_warn("payment %s: no card details: %s", pi, serr);
        return;
    }
    card = json_object_get(json_object_get(json_object_get(j, "latest_charge"),
                                           "payment_method_details"),
                           "card");
    l4 = json_string_value(json_object_get(card, "last4"));
    if (l4 && strlen(l4) == 4 && strspn(l4, "0123456789") == 4)
        snprintf(out, 5, "%s", l4);
    json_decref(j);
}

int
checkout_apply_session(struct app *app, const json_t *s, int async_failed,
                       char *err, size_t errlen)
{
    const char *sid = json_string_value(json_object_get(s, "id"));
    const char *pid = json_string_value(
        json_object_get(json_object_get(s, "metadata"), "purchase_id"));
    const char *status = json_string_value(json_object_get(s, "status"));
    const char *paid = json_string_value(json_object_get(s, "payment_status"));
    const char *cur = json_string_value(json_object_get(s, "currency"));
    const char *pi = json_string_value(json_object_get(s, "payment_intent"));
    json_t *amount = json_object_get(s, "amount_total");
    struct ledger_purchase p, done;
    char dberr[DB_ERR_LEN], l4[5];
    int rc;

    if (!pid)
        pid = json_string_value(json_object_get(s, "client_reference_id"));
    if (!sid || !pid) {
        snprintf(err, errlen, "session names no purchase: not ours");
        return DB_OK;
    }
    rc = ledger_purchase_get(app->db, pid, &p, dberr);
    if (rc == DB_ENOTFOUND || rc == DB_EINVAL) {
        snprintf(err, errlen, "session %s names unknown purchase", sid);
        return DB_OK;
    }
    if (rc != DB_OK)
        goto fail;
    if (async_failed || (status && !strcmp(status, "expired"))) {
        if (p.status != DB_PURCHASE_PENDING)
            return DB_OK;
        rc = ledger_checkout_put(app->db, pid, sid, NULL, "failed", dberr);
        if (rc != DB_OK)
            goto fail;
        log_info("purchase %s: checkout %s %s", pid, sid,
                 async_failed ? "payment failed" : "expired");
        return DB_OK;
    }
    if (!paid || strcmp(paid, "paid") != 0)
        return DB_OK; /* open, or paid later by a slow method */
    if (!json_is_integer(amount) ||
        json_integer_value(amount) != p.price_cents || !cur ||
        strcmp(cur, "usd") != 0) {
        log_error("purchase %s: session %s paid %lld %s, the pack costs %lld "
                  "usd: nothing credited, needs attention",
                  pid, sid,
                  json_is_integer(amount)
                      ? (long long)json_integer_value(amount)
                      : -1LL,
                  cur ? cur : "?", (long long)p.price_cents);
        if (p.status != DB_PURCHASE_PENDING)
            return DB_OK;
        rc = ledger_checkout_put(app->db, pid, sid, NULL, "needs_attention",
                                 dberr);
        if (rc != DB_OK)
            goto fail;
        return DB_OK;
    }
    l4[0] = '\0';
    if (p.status == DB_PURCHASE_PENDING)
        card_last4(app, pi, l4);
    rc = ledger_checkout_paid(app->db, pid, sid, pi, l4, &done, dberr);
    if (rc != DB_OK)
        goto fail;
    if (!done.replayed)
        log_info("purchase %s: paid through %s, %lld credits issued", pid, sid,
                 (long long)done.credits);
    return DB_OK;
fail:
    snprintf(err, errlen, "purchase %s: %s", pid, dberr);
    return rc;
}

int
checkout_reconcile(struct app *app, int since_hours, int *seen, int *settled,
                   char *err, size_t errlen)
{
    struct stripe_conf sc;
    char path[300], after[LEDGER_REF_LEN] = "", serr[STRIPE_ERR_LEN];
    long long since = (long long)time(NULL) - (long long)since_hours * 3600;
    int rc = 0;

    *seen = *settled = 0;
    checkout_stripe_conf(app, &sc);
    for (int page = 0; page < RECONCILE_PAGES; page++) {
        json_t *j = NULL, *data, *s;
        size_t i;
        int more;

        snprintf(path, sizeof path,
                 "/v1/checkout/sessions?limit=100&created%%5Bgte%%5D=%lld%s%s",
                 since, *after ? "&starting_after=" : "", after);
        if (stripe_call(&sc, "GET", path, NULL, NULL, &j, NULL, serr) !=
            STRIPE_OK) {
            snprintf(err, errlen, "listing checkout sessions: %s", serr);
            return -1;
        }
        data = json_object_get(j, "data");
        json_array_foreach(data, i, s)
        {
            const char *pid = json_string_value(
                json_object_get(json_object_get(s, "metadata"), "purchase_id"));
            const char *sid = json_string_value(json_object_get(s, "id"));
            struct ledger_purchase before;
            char aerr[256], dberr[DB_ERR_LEN];
            int was_pending;

            (*seen)++;
            if (sid && strlen(sid) < sizeof after)
                snprintf(after, sizeof after, "%s", sid);
            if (!pid ||
                ledger_purchase_get(app->db, pid, &before, dberr) != DB_OK)
                continue;
            was_pending = before.status == DB_PURCHASE_PENDING;
            if (checkout_apply_session(app, s, 0, aerr, sizeof aerr) != DB_OK) {
                log_error("reconcile: %s", aerr);
                rc = -1;
                continue;
            }
            if (was_pending &&
                ledger_purchase_get(app->db, pid, &before, dberr) == DB_OK &&
                before.status != DB_PURCHASE_PENDING) {
                (*settled)++;
                log_warn("reconcile: purchase %s settled from session %s: "
                         "its webhook never arrived",
                         pid, sid ? sid : "?");
            }
        }
        more = json_is_true(json_object_get(j, "has_more"));
        json_decref(j);
        if (!more)
            break;
    }
    if (rc < 0)
        snprintf(err, errlen, "some sessions could not be applied");
    return rc;
}

int
checkout_refund(struct app *app, const struct ledger_purchase *p, char *err,
                size_t errlen)
{
    struct ledger_checkout k;
    struct stripe_conf sc;
    struct stripe_form f = {0};
    char key[LEDGER_ID_LEN + 32], dberr[DB_ERR_LEN], serr[STRIPE_ERR_LEN];
    json_t *j = NULL;
    int rc;

    if (ledger_checkout_get(app->db, p->id, &k, dberr) != DB_OK ||
        !*k.payment_ref) {
        snprintf(err, errlen, "purchase %s has no Stripe payment to refund",
                 p->id);
        return PAYMENTS_EREFUSED;
    }
    checkout_stripe_conf(app, &sc);
    /* No amount: the whole payment, as the whole pack goes back. */
    stripe_form_add(&f, "payment_intent", k.payment_ref);
    stripe_form_add(&f, "metadata[purchase_id]", p->id);
    snprintf(key, sizeof key, "stockroom-refund-%s", p->id);
    rc = stripe_call(&sc, "POST", "/v1/refunds", &f, key, &j, NULL, serr);
    stripe_form_release(&f);
    json_decref(j);
    if (rc != STRIPE_OK) {
        snprintf(err, errlen, "refund of purchase %s: %s", p->id, serr);
        return rc == STRIPE_EREFUSED ? PAYMENTS_EREFUSED : PAYMENTS_EDOWN;
    }
    return PAYMENTS_OK;
}

/* The background check: every RECONCILE_EVERY_S, never at start-up (the
 * first call only starts the clock). Runs on the one chores thread. */
#define RECONCILE_EVERY_S 300
#define RECONCILE_HOURS 24

void
checkout_chore(struct app *app)
{
    static time_t last; /* the chores thread is the only caller */
    time_t now = time(NULL);
    char err[STRIPE_ERR_LEN + 64];
    int seen, settled;

    if (strcmp(app->cfg.payment_provider, "stripe") != 0)
        return;
    if (!last || now - last < RECONCILE_EVERY_S) {
        if (!last)
            last = now;
        return;
    }
    last = now;
    if (checkout_reconcile(app, RECONCILE_HOURS, &seen, &settled, err,
                           sizeof err) < 0)
        log_warn("reconcile: %s", err);
    else if (settled)
        log_warn("reconcile: %d of %d sessions settled late", settled, seen);
}

int
checkout_cmd_reconcile(struct app *app, int argc, char **argv)
{
    char err[STRIPE_ERR_LEN + 64];
    long hours = RECONCILE_HOURS;
    int seen, settled, rc;

    if (argc == 2 && !strcmp(argv[0], "--since")) {
        char *end;

        hours = strtol(argv[1], &end, 10);
        if (*end || hours < 1 || hours > 24 * 90)
            argc = -1;
    }
    if (argc != 0 && argc != 2) {
        fprintf(stderr, "usage: stockroom payments reconcile [--data DIR] "
                        "[--since HOURS]\n");
        return 2;
    }
    if (strcmp(app->cfg.payment_provider, "stripe") != 0) {
        fprintf(stderr, "stockroom: reconcile needs --payment-provider "
                        "stripe\n");
        return 2;
    }
    if (app_open(app) < 0) {
        app_close(app);
        return 1;
    }
    rc = checkout_reconcile(app, (int)hours, &seen, &settled, err, sizeof err);
    printf("%d checkout sessions of the last %ld hours looked at, %d pending "
           "purchases settled\n",
           seen, hours, settled);
    if (rc < 0)
        fprintf(stderr, "stockroom: %s\n", err);
    app_close(app);
    return rc < 0 ? 1 : 0;
}
