/* Stockroom — credits: the packs on sale, buying one, the buyer's
 * purchases and refunds of unused packs, and the credit balance. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "ledger.h"
#include "log.h"
#include "payments.h"

/* Stockroom — money: credit packs, licences, licensed downloads, signed
 * certificates, earnings, payouts, refunds and the ledger check. The books
 * themselves live in db/ledger.c; this file maps HTTP onto them. */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "text.h"
#include "blob.h"
#include "catalog.h"
#include "imaging.h"
#include "ledger.h"
#include "log.h"
#include "payments.h"

#define KEY_FILE "signing.key"

int
credits_balance(struct app *app, const char *user_id, int64_t *credits,
                char err[DB_ERR_LEN])
{
    return ledger_wallet(app->db, user_id, credits, err);
}

/* ---- packs and purchases ---------------------------------------------- */

void
credits_packs_list(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    json_t *a = json_array();
    char id[24];

    for (int i = 0; i < app->cfg.n_packs; i++) {
        snprintf(id, sizeof id, "%lld", (long long)app->cfg.packs[i].credits);
        json_array_append_new(
            a, json_pack("{s:s,s:I,s:I}", "id", id, "credits",
                         (json_int_t)app->cfg.packs[i].credits, "price_cents",
                         (json_int_t)app->cfg.packs[i].price_cents));
    }
    srv_json(r, 200, json_pack("{s:o,s:n}", "items", a, "next_cursor"));
}

static json_t *
purchase_json(struct app *app, const struct ledger_purchase *p)
{
    char created[32];

    app_iso_time(p->created_at, created);
    return json_pack("{s:s,s:I,s:I,s:s,s:s,s:I,s:b}", "purchase_id", p->id,
                     "credits", (json_int_t)p->credits, "price_cents",
                     (json_int_t)p->price_cents, "status",
                     payments_status(app, p), "created_at", created,
                     "credits_used", (json_int_t)p->credits_used, "refundable",
                     p->refundable);
}

void
credits_purchase_create(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    const struct payment_provider *pp =
        payments_provider(app->cfg.payment_provider);
    const char *key = money_idem_key(r), *pack;
    const struct cfg_pack *chosen = NULL;
    struct ledger_purchase p, settled;
    char hash[65], canon[64], id[24], err[DB_ERR_LEN], url[LEDGER_URL_LEN];
    int64_t balance = 0;
    json_t *j;
    int rc;

    if (!key || srv_field_str(r, "pack", 1, 20, 0, &pack) < 0)
        return;
    for (int i = 0; i < app->cfg.n_packs; i++) {
        snprintf(id, sizeof id, "%lld", (long long)app->cfg.packs[i].credits);
        if (!strcmp(id, pack))
            chosen = &app->cfg.packs[i];
    }
    if (!chosen) {
        srv_error(r, 422, "unknown_pack", "There is no credit pack '%s'.",
                  pack);
        return;
    }
    snprintf(canon, sizeof canon, "pack=%s", pack);
    money_request_hash(canon, hash);
    rc = ledger_purchase_create(app->db, srv_req_user(r)->id, key, hash,
                                chosen->credits, chosen->price_cents, pp->name,
                                &p, err);
    if (srv_reply_db(r, rc, err, "purchase") < 0)
        return;
    url[0] = '\0';
    if (p.status == DB_PURCHASE_PENDING) {
        rc = pp->begin(app, &p, srv_req_user(r)->email, &settled, url, err,
                       sizeof err);
        if (rc == PAYMENTS_EDOWN) {
            log_error("%s: payment: %s", srv_req_id(r), err);
            srv_header(r, "Retry-After", "30");
            srv_error(r, 503, "payment_unavailable",
                      "The payment service cannot be reached just now; "
                      "nothing was charged. Try again in a minute.");
            return;
        }
        if (rc != PAYMENTS_OK) {
            log_error("%s: payment: %s", srv_req_id(r), err);
            srv_error(r, 502, "payment_failed",
                      "The payment did not go "
                      "through.");
            return;
        }
        p = settled;
    }
    rc = credits_balance(app, srv_req_user(r)->id, &balance, err);
    if (srv_reply_db(r, rc, err, "balance") < 0)
        return;
    p.refundable = ledger_purchase_is_refundable(
        &p, (int64_t)time(NULL), app->cfg.pack_refund_days * 86400);
    j = purchase_json(app, &p);
    json_object_set_new(j, "balance", json_integer(balance));
    if (*url)
        json_object_set_new(j, "checkout_url", json_string(url));
    srv_json(r, 201, j);
}

void
credits_purchases_list(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    struct ledger_purchase_list l = {0};
    char err[DB_ERR_LEN];
    json_t *a;
    int rc = ledger_purchases(app->db, srv_req_user(r)->id, (int64_t)time(NULL),
                              app->cfg.pack_refund_days * 86400, 100, &l, err);

    if (srv_reply_db(r, rc, err, "purchase") < 0)
        return;
    a = json_array();
    for (size_t i = 0; i < l.n; i++)
        json_array_append_new(a, purchase_json(app, &l.items[i]));
    ledger_purchase_list_release(&l);
    srv_json(r, 200, json_pack("{s:o,s:n}", "items", a, "next_cursor"));
}

void
credits_purchase_refund(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    struct ledger_purchase p;
    char err[DB_ERR_LEN];
    int64_t balance = 0, now = (int64_t)time(NULL);
    int64_t window = app->cfg.pack_refund_days * 86400;
    json_t *j;
    int carded = 0; /* the card refund went through just now */
    int rc = ledger_purchase_get(app->db, srv_req_param(r, 0), &p, err);

    if (rc == DB_OK && strcmp(p.user_id, srv_req_user(r)->id) != 0)
        rc = DB_ENOTFOUND;
    if (srv_reply_db(r, rc, err, "purchase") < 0)
        return;
    /* A card payment goes back first; the ledger books it after, and a
     * charge.refunded webhook arriving first books it just the same. */
    if (!strcmp(p.provider, "stripe") && p.status == DB_PURCHASE_SETTLED &&
        p.credits_used == 0 && now - p.settled_at <= window) {
        rc = checkout_refund(app, &p, err, sizeof err);
        if (rc != PAYMENTS_OK) {
            log_error("%s: %s", srv_req_id(r), err);
            if (rc == PAYMENTS_EDOWN)
                srv_header(r, "Retry-After", "30");
            srv_error(r, rc == PAYMENTS_EDOWN ? 503 : 502,
                      rc == PAYMENTS_EDOWN ? "payment_unavailable"
                                           : "refund_failed",
                      "The card refund did not go through; nothing changed.");
            return;
        }
        carded = 1;
    }
    rc = ledger_purchase_refund(app->db, p.id, srv_req_user(r)->id, now, window,
                                &p, err);
    if (rc == DB_ECONFLICT && carded &&
        ledger_purchase_get(app->db, p.id, &p, err) == DB_OK &&
        p.status == DB_PURCHASE_REFUNDED)
        rc = DB_OK;

    if (rc == DB_EINVAL) {
        srv_error(r, 422, "refund_window_closed",
                  "Packs can be refunded "
                  "within %lld days of purchase.",
                  (long long)app->cfg.pack_refund_days);
        return;
    }
    if (rc == DB_ECONFLICT) {
        srv_error(r, 409, "not_refundable",
                  "Only an unused pack can be "
                  "refunded, once.");
        return;
    }
    if (srv_reply_db(r, rc, err, "purchase") < 0)
        return;
    rc = credits_balance(app, srv_req_user(r)->id, &balance, err);
    if (srv_reply_db(r, rc, err, "balance") < 0)
        return;
    j = purchase_json(app, &p);
    json_object_set_new(j, "balance", json_integer(balance));
    srv_json(r, 200, j);
}
