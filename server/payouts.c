/* Stockroom — payouts: a contributor asks for one; an admin settles it, or
 * with Stripe a Connect transfer does. */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "text.h"
#include "ledger.h"
#include "log.h"
#include "payments.h"
#include "status.h"
#include "stripe.h"

static json_t *
payout_json(const struct ledger_payout *p)
{
    char when[32], settled[32];

    app_iso_time(p->requested_at, when);
    app_iso_time(p->settled_at, settled);
    return json_pack(
        "{s:s,s:s,s:I,s:s,s:s,s:o}", "id", p->id, "contributor_id",
        p->contributor_id, "amount_cents", (json_int_t)p->amount_cents,
        "status", db_status_payout_str(p->status), "requested_at", when,
        "settled_at", p->settled_at ? json_string(settled) : json_null());
}

void
payouts_create(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    const char *key = srv_req_header(r, "Idempotency-Key");
    struct ledger_payout p;
    char err[DB_ERR_LEN], acct[LEDGER_REF_LEN];
    int stripe = !strcmp(app->cfg.payment_provider, "stripe");
    int64_t amount;
    int rc;

    if (srv_field_int(r, "amount_cents", 1, LEDGER_MAX_CENTS, 0, &amount) < 0)
        return;
    if (key && (strlen(key) >= LEDGER_KEY_LEN || !text_ok(key))) {
        srv_error(r, 400, "invalid_idempotency_key",
                  "The Idempotency-Key "
                  "is too long.");
        return;
    }
    if (stripe && connect_require_account(app, srv_req_user(r)->id, acct) < 0) {
        srv_error(r, 409, "payout_account_required",
                  "Set up your payout account first (Dashboard, \"Set up "
                  "payouts\").");
        return;
    }
    rc = ledger_payout_request(app->db, srv_req_user(r)->id, amount,
                               app->cfg.payout_min_cents, key, &p, err);
    if (rc == DB_EINVAL) {
        srv_error(r, 422, "below_minimum",
                  "Payouts start at %lld.%02lld "
                  "dollars.",
                  (long long)app->cfg.payout_min_cents / 100,
                  (long long)app->cfg.payout_min_cents % 100);
        return;
    }
    if (rc == DB_EFUNDS) {
        srv_error(r, 422, "insufficient_balance",
                  "That is more than your "
                  "available balance.");
        return;
    }
    if (srv_reply_db(r, rc, err, "payout") < 0)
        return;
    if (stripe && !p.replayed && p.status == DB_PAYOUT_REQUESTED) {
        /* Paid when Stripe takes the transfer; refused, the money goes
         * back to the balance; unreachable, it stays requested (the
         * transfer's key makes a later try safe) and an admin settles it. */
        char why[DB_ERR_LEN + STRIPE_ERR_LEN];
        int tr = connect_transfer(app, &p, acct, why, sizeof why);

        if (tr != PAYMENTS_EDOWN) {
            if (tr != PAYMENTS_OK)
                log_error("%s: %s", srv_req_id(r), why);
            rc =
                ledger_payout_settle(app->db, p.id, tr == PAYMENTS_OK, &p, err);
            if (srv_reply_db(r, rc, err, "payout") < 0)
                return;
        } else {
            log_error("%s: %s", srv_req_id(r), why);
        }
        if (tr == PAYMENTS_EREFUSED) {
            srv_error(r, 502, "transfer_refused",
                      "Stripe refused the transfer; the money is back in "
                      "your balance.");
            return;
        }
    }
    srv_json(r, 201, payout_json(&p));
}

static void
payouts_reply(struct srv_req *r, const char *contributor)
{
    struct ledger_payout_list l = {0};
    const char *status = srv_req_query(r, "status");
    enum db_payout_status want;
    char err[DB_ERR_LEN];
    json_t *a;
    int rc = DB_OK;

    if (status && *status && db_status_payout_parse(status, &want) != DB_OK) {
        srv_error(r, 422, "invalid_parameter",
                  "status is requested, paid or failed.");
        return;
    }
    rc = ledger_payouts(srv_req_app(r)->db, contributor,
                        status && *status ? &want : NULL,
                        srv_req_query(r, "cursor"), 100, &l, err);
    if (rc == DB_EINVAL) {
        srv_error(r, 422, "invalid_cursor", "The cursor is not valid.");
        return;
    }
    if (srv_reply_db(r, rc, err, "payout") < 0)
        return;
    a = json_array();
    for (size_t i = 0; i < l.n; i++)
        json_array_append_new(a, payout_json(&l.items[i]));
    srv_json(
        r, 200,
        json_pack("{s:o,s:o}", "items", a, "next_cursor",
                  l.next_cursor[0] ? json_string(l.next_cursor) : json_null()));
    ledger_payout_list_release(&l);
}

void
payouts_mine(struct srv_req *r)
{
    payouts_reply(r, srv_req_user(r)->id);
}

void
payouts_all(struct srv_req *r)
{
    payouts_reply(r, NULL);
}

void
payouts_settle(struct srv_req *r)
{
    struct ledger_payout p;
    enum db_payout_status want;
    const char *status;
    char err[DB_ERR_LEN];
    int rc;

    if (srv_field_str(r, "status", 1, 12, 0, &status) < 0)
        return;
    if (db_status_payout_parse(status, &want) != DB_OK ||
        want == DB_PAYOUT_REQUESTED) {
        srv_error(r, 422, "invalid_field",
                  "'status' must be paid or "
                  "failed.");
        return;
    }
    rc = ledger_payout_settle(srv_req_app(r)->db, srv_req_param(r, 0),
                              want == DB_PAYOUT_PAID, &p, err);
    if (rc == DB_ECONFLICT) {
        srv_error(r, 409, "not_requested",
                  "This payout is settled "
                  "already.");
        return;
    }
    if (srv_reply_db(r, rc, err, "payout") < 0)
        return;
    admin_users_record(r,
                       want == DB_PAYOUT_PAID ? "payout_paid" : "payout_failed",
                       "payout", srv_req_param(r, 0), NULL);
    srv_json(r, 200, payout_json(&p));
}
