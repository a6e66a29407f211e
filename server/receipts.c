/* Stockroom — receipts of settled credit-pack purchases: the number from
 * the ledger's gap-free sequence, the store's legal details from the
 * configuration, the card's last four digits when Stripe gave them. */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "ledger.h"

void
receipts_get(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    struct ledger_purchase p;
    struct ledger_receipt rcpt;
    char err[DB_ERR_LEN], issued[32], num[32], pack[24];
    int rc = ledger_purchase_get(app->db, srv_req_param(r, 0), &p, err);

    if (rc == DB_OK && strcmp(p.user_id, srv_req_user(r)->id) != 0)
        rc = DB_ENOTFOUND;
    if (rc == DB_OK)
        rc = ledger_receipt_get(app->db, p.id, p.user_id, &rcpt, err);
    if (srv_reply_db(r, rc, err, "receipt") < 0)
        return;
    app_iso_time(rcpt.issued_at, issued);
    snprintf(pack, sizeof pack, "%lld", (long long)p.credits);
    snprintf(num, sizeof num, "R-%06lld", (long long)rcpt.number);
    srv_json(
        r, 200,
        json_pack("{s:s,s:I,s:s,s:s,s:{s:s,s:I},s:I,s:s,s:s*,s:s*,"
                  "s:{s:s,s:s,s:s}}",
                  "receipt_number", num, "sequence", (json_int_t)rcpt.number,
                  "purchase_id", p.id, "date", issued, "pack", "id", pack,
                  "credits", (json_int_t)p.credits, "amount_cents",
                  (json_int_t)p.price_cents, "currency", "usd", "card_last4",
                  *rcpt.card_last4 ? rcpt.card_last4 : NULL, "status",
                  db_status_purchase_str(p.status), "seller", "name",
                  app->cfg.seller_name, "address", app->cfg.seller_address,
                  "tax_id", app->cfg.seller_tax_id));
}
