/* Stockroom — Stripe's webhooks. The route is judged by its signature
 * alone (no session, no CSRF token): the raw body is verified before any
 * JSON is parsed, and an event id is recorded once its effect is durable,
 * so a replayed or retried event does nothing the second time. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "log.h"
#include "parse.h"
#include "payments.h"
#include "stripe_sig.h"

#define EVENT_JSON_DEPTH 32 /* Stripe's objects nest a few levels */

/* charge.refunded: book the refund of the pack the charge paid for, once,
 * whether this or the API's reply came first. */
static int
charge_refunded(struct app *app, const json_t *charge, char *err, size_t errlen)
{
    const char *pi =
        json_string_value(json_object_get(charge, "payment_intent"));
    struct ledger_checkout k;
    struct ledger_purchase p;
    char dberr[DB_ERR_LEN];
    int rc;

    if (!pi || !json_is_true(json_object_get(charge, "refunded")))
        return DB_OK; /* a partial refund is not ours: packs go back whole */
    rc = ledger_checkout_by_payment(app->db, pi, &k, dberr);
    if (rc == DB_ENOTFOUND || rc == DB_EINVAL)
        return DB_OK;
    if (rc == DB_OK)
        rc = ledger_purchase_get(app->db, k.purchase_id, &p, dberr);
    if (rc != DB_OK)
        goto fail;
    if (p.status != DB_PURCHASE_SETTLED)
        return DB_OK;
    /* Stripe refunded it (here or from its dashboard): no window applies. */
    rc = ledger_purchase_refund(app->db, p.id, p.user_id, (int64_t)time(NULL),
                                INT64_MAX / 2, &p, dberr);
    if (rc == DB_ECONFLICT) {
        log_error("purchase %s: Stripe refunded it but its credits are "
                  "spent: needs attention (%s)",
                  k.purchase_id, dberr);
        return DB_OK;
    }
    if (rc != DB_OK)
        goto fail;
    log_info("purchase %s: refund booked from charge.refunded", p.id);
    return DB_OK;
fail:
    snprintf(err, errlen, "%s", dberr);
    return rc;
}

static int
dispatch(struct app *app, const char *type, const json_t *obj, char *err,
         size_t errlen)
{
    if (!strcmp(type, "checkout.session.completed") ||
        !strcmp(type, "checkout.session.async_payment_succeeded") ||
        !strcmp(type, "checkout.session.expired"))
        return checkout_apply_session(app, obj, 0, err, errlen);
    if (!strcmp(type, "checkout.session.async_payment_failed"))
        return checkout_apply_session(app, obj, 1, err, errlen);
    if (!strcmp(type, "charge.refunded"))
        return charge_refunded(app, obj, err, errlen);
    if (!strcmp(type, "account.updated"))
        return connect_account_updated(app, obj, err, errlen);
    if (!strncmp(type, "charge.dispute.", 15)) {
        /* The books have no dispute journals yet: an admin books it. */
        log_error("%s for payment %s (%s): needs attention", type,
                  json_string_value(json_object_get(obj, "payment_intent")),
                  json_string_value(json_object_get(obj, "status")));
        return DB_OK;
    }
    if (!strcmp(type, "transfer.reversed")) {
        /* The books have no reversal of a paid payout yet. */
        log_error("transfer %s reversed by Stripe: payout %s needs attention",
                  json_string_value(json_object_get(obj, "id")),
                  json_string_value(json_object_get(
                      json_object_get(obj, "metadata"), "payout_id")));
        return DB_OK;
    }
    return DB_OK; /* anything else: acknowledged, ignored */
}

void
webhooks_stripe(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    size_t len;
    const char *body = srv_req_body(r, &len);
    const char *id, *type;
    char err[DB_ERR_LEN + 64];
    json_t *ev = NULL, *obj;
    json_error_t je;
    int seen = 0, rc;

    if (strcmp(app->cfg.payment_provider, "stripe") != 0) {
        srv_error(r, 404, "not_found", "Stripe is not configured here.");
        return;
    }
    rc = stripe_sig_verify(srv_req_header(r, "Stripe-Signature"), body, len,
                           app->cfg.stripe_webhook_secret, (int64_t)time(NULL),
                           STRIPE_SIG_TOLERANCE);
    if (rc != STRIPE_SIG_OK) {
        log_warn("%s: webhook refused: %s", srv_req_id(r), stripe_sig_str(rc));
        srv_error(r, 400, "bad_signature",
                  "The Stripe-Signature header does not match this body.");
        return;
    }
    if (srv_parse_json_too_deep(body, len, EVENT_JSON_DEPTH) ||
        !(ev = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je)) ||
        !json_is_object(ev)) {
        srv_error(r, 400, "malformed_json", "The event is not a JSON object.");
        goto out;
    }
    id = json_string_value(json_object_get(ev, "id"));
    type = json_string_value(json_object_get(ev, "type"));
    obj = json_object_get(json_object_get(ev, "data"), "object");
    if (!id || !type || !json_is_object(obj) || strlen(id) >= LEDGER_REF_LEN ||
        strlen(type) >= LEDGER_REF_LEN) {
        srv_error(r, 400, "invalid_event", "The event lacks id, type or data.");
        goto out;
    }
    rc = ledger_event_seen(app->db, id, &seen, err);
    if (srv_reply_db(r, rc, err, "event") < 0)
        goto out;
    if (seen) {
        srv_json(r, 200, json_pack("{s:b,s:b}", "received", 1, "duplicate", 1));
        goto out;
    }
    rc = dispatch(app, type, obj, err, sizeof err);
    /* Not recorded on failure: Stripe retries and the event runs again. */
    if (srv_reply_db(r, rc, err, "event") < 0)
        goto out;
    rc = ledger_event_record(app->db, id, "stripe", type, err);
    if (srv_reply_db(r, rc, err, "event") < 0)
        goto out;
    srv_json(r, 200, json_pack("{s:b}", "received", 1));
out:
    json_decref(ev);
}
