/* Stockroom — a contributor's earnings: balance, tier and sales. */
#include <stdio.h>
#include <stdlib.h>

#include "app.h"
#include "ledger.h"

/* ---- earnings and payouts ---------------------------------------------- */

void
earnings_get(struct srv_req *r)
{
    struct app *app = srv_req_app(r);
    struct ledger_earnings e;
    char err[DB_ERR_LEN], when[32];
    json_t *by_image, *by_month, *sales, *j;
    int rc = ledger_earnings(app->db, srv_req_user(r)->id, app->tiers,
                             app->n_tiers, 100, &e, err);

    if (srv_reply_db(r, rc, err, "earnings") < 0)
        return;
    by_image = json_array();
    for (size_t i = 0; i < e.n_by_image; i++)
        json_array_append_new(
            by_image,
            json_pack("{s:s,s:I,s:I}", "image_id", e.by_image[i].image_id,
                      "licences", (json_int_t)e.by_image[i].licences, "cents",
                      (json_int_t)e.by_image[i].cents));
    by_month = json_array();
    for (size_t i = 0; i < e.n_by_month; i++)
        json_array_append_new(
            by_month, json_pack("{s:s,s:I,s:I}", "month", e.by_month[i].month,
                                "licences", (json_int_t)e.by_month[i].licences,
                                "cents", (json_int_t)e.by_month[i].cents));
    sales = json_array();
    for (size_t i = 0; i < e.n_sales; i++) {
        const struct ledger_licence *s = &e.sales[i];

        app_iso_time(s->created_at, when);
        json_array_append_new(
            sales,
            json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:i,s:I,s:b}", "licence_id",
                      s->id, "date", when, "image_id", s->image_id, "size",
                      s->size, "type", s->type, "credits",
                      (json_int_t)s->credits, "cash_cents",
                      (json_int_t)s->cash_cents, "royalty_rate_bp", s->rate_bp,
                      "share_cents", (json_int_t)s->royalty_cents, "refunded",
                      s->refunded_at != 0));
    }
    j = json_pack("{s:I,s:I,s:I,s:I,s:i,s:o,s:I,s:o,s:o,s:o}", "balance_cents",
                  (json_int_t)e.balance_cents, "pending_cents",
                  (json_int_t)e.pending_cents, "lifetime_cents",
                  (json_int_t)e.lifetime_cents, "licences_sold",
                  (json_int_t)e.licences_sold, "royalty_rate_bp",
                  e.royalty_rate_bp, "next_tier",
                  e.has_next_tier ? json_pack("{s:i,s:I}", "royalty_rate_bp",
                                              e.next_rate_bp, "licences_to_go",
                                              (json_int_t)e.next_tier_left)
                                  : json_null(),
                  "payout_minimum_cents", (json_int_t)app->cfg.payout_min_cents,
                  "by_image", by_image, "by_month", by_month, "sales", sales);
    ledger_earnings_release(&e);
    srv_json(r, 200, j);
}
