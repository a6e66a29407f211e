/* Stockroom — the double-entry ledger: credit packs, licences, royalties,
 * payouts, refunds and the verifier, in SQLite. Knows nothing of HTTP, JSON,
 * signatures or hashing: the server passes plain values in (docs/LEDGER.md
 * describes the accounts, journals and numbered invariants).
 *
 * Every function may be called from any thread: each borrows its own pooled
 * connection, and what one call changes it changes in one BEGIN IMMEDIATE
 * transaction (sales may share theirs: ledger_licence_create). Fallible ones
 * return DB_OK or a negative DB_E* code with the reason in err (DB_EBUSY
 * when the database stayed locked); strings passed in are borrowed for the
 * call. Lists and earnings hand out heap arrays the caller frees with the
 * matching _release. */
#ifndef STOCKROOM_LEDGER_H
#define STOCKROOM_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "status.h"

#define LEDGER_ID_LEN 48           /* ids, user ids and image ids, with NUL */
#define LEDGER_KEY_LEN 128         /* idempotency keys and request hashes */
#define LEDGER_REF_LEN 128         /* payment provider names and references */
#define LEDGER_SHA_LEN 65          /* SHA-256 in lower-case hex, with NUL */
#define LEDGER_SHARE_LEN 64        /* a certificate share token, with NUL */
#define LEDGER_CURSOR_LEN 24       /* an opaque paging cursor, with NUL */
#define LEDGER_LIST_MAX 500        /* most rows one list call returns */
#define LEDGER_MAX_CREDITS 1000000 /* per pack and per licence */
#define LEDGER_MAX_CENTS 100000000000LL /* per pack: $1,000,000,000 */
#define LEDGER_URL_LEN 1024             /* a provider's checkout URL */

/* A royalty tier: from min_sold lifetime licences on, the contributor earns
 * rate_bp basis points of each sale's cash value. Tables are ordered by
 * min_sold, strictly increasing, and the first starts at 0. */
struct ledger_tier {
    int64_t min_sold;
    int rate_bp; /* 0..10000 */
};

/* DESIGN.md's tiers: 25% below 100, 30% below 1,000, 35% below 10,000,
 * 40% from there. Pass NULL, 0 wherever a table is asked for to use it. */
extern const struct ledger_tier ledger_default_tiers[4];

/* Purchases of credit packs.
 * status is pending until the provider confirms payment, then settled, and
 * refunded after ledger_purchase_refund (db/status.h names them). Times are
 * unix seconds, 0 while the event has not happened. */
struct ledger_purchase {
    char id[LEDGER_ID_LEN];
    char user_id[LEDGER_ID_LEN];
    int64_t credits;
    int64_t price_cents;
    char provider[LEDGER_REF_LEN];
    char provider_ref[LEDGER_REF_LEN]; /* "" until settled */
    enum db_purchase_status status;
    int64_t created_at;
    int64_t settled_at;
    int64_t refunded_at;
    int64_t credits_used; /* of this pack's lot; 0 while pending */
    int refundable;       /* set by ledger_purchases only */
    int replayed;         /* 1: an earlier call did the work */
};

/* A list of purchases; free with ledger_purchase_list_release. */
struct ledger_purchase_list {
    struct ledger_purchase *items;
    size_t n;
};

/* A licence. size is "S", "M", "L" or "XL"; type "standard" or "extended".
 * cash_cents is the value of the credits spent, taken from their lots;
 * royalty_cents = floor(cash_cents * rate_bp / 10000) goes to the
 * contributor and platform_cents = cash_cents - royalty_cents to the store. */
struct ledger_licence {
    char id[LEDGER_ID_LEN];
    char buyer_id[LEDGER_ID_LEN];
    char image_id[LEDGER_ID_LEN];
    char contributor_id[LEDGER_ID_LEN];
    char size[4];
    char type[12];
    int64_t credits;
    int64_t cash_cents;
    int rate_bp;
    int64_t royalty_cents;
    int64_t platform_cents;
    int64_t created_at;               /* unix seconds */
    int64_t refunded_at;              /* 0 unless refunded */
    char file_sha256[LEDGER_SHA_LEN]; /* "" until the file is made */
    int64_t journal_id;
    int64_t refund_journal_id; /* 0 unless refunded */
    int replayed;              /* 1: the key was seen, nothing charged */
};

/* What ledger_licence_create needs. Every string is borrowed for the call
 * and must be non-empty and shorter than its LEDGER_*_LEN. The server has
 * already checked that the image is approved and offers this size, and
 * priced it in credits from its configuration. */
struct ledger_licence_req {
    const char *buyer_id;
    const char *image_id;
    const char *contributor_id;      /* the image's owner */
    const char *size;                /* "S", "M", "L", "XL" */
    const char *type;                /* "standard", "extended" */
    int64_t credits;                 /* 1..LEDGER_MAX_CREDITS */
    const char *idem_key;            /* the Idempotency-Key header */
    const char *request_hash;        /* a digest of the request body */
    const struct ledger_tier *tiers; /* NULL: ledger_default_tiers */
    size_t n_tiers;
};

/* A page of licences; free with ledger_licence_list_release. next_cursor
 * is "" on the last page. */
struct ledger_licence_list {
    struct ledger_licence *items;
    size_t n;
    char next_cursor[LEDGER_CURSOR_LEN];
};

/* A payout: requested (money in flight), paid, or failed (money back in
 * the contributor's balance). */
struct ledger_payout {
    char id[LEDGER_ID_LEN];
    char contributor_id[LEDGER_ID_LEN];
    int64_t amount_cents;
    enum db_payout_status status;
    int64_t requested_at; /* unix seconds */
    int64_t settled_at;   /* 0 while requested */
    int replayed;         /* 1: the key was seen, nothing moved */
};

/* A page of payouts; free with ledger_payout_list_release. */
struct ledger_payout_list {
    struct ledger_payout *items;
    size_t n;
    char next_cursor[LEDGER_CURSOR_LEN];
};

/* Earnings rows: licences and royalty cents of sales not refunded. */
struct ledger_image_earnings {
    char image_id[LEDGER_ID_LEN];
    int64_t licences;
    int64_t cents;
};

struct ledger_month_earnings {
    char month[8]; /* "YYYY-MM", UTC */
    int64_t licences;
    int64_t cents;
};

/* A contributor's earnings; ledger_earnings fills it and the caller frees
 * the arrays with ledger_earnings_release. */
struct ledger_earnings {
    int64_t balance_cents;  /* royalties payable now; may be < 0 */
    int64_t pending_cents;  /* requested payouts not yet settled */
    int64_t lifetime_cents; /* royalties of sales not refunded */
    int64_t licences_sold;  /* lifetime count; never goes down */
    int royalty_rate_bp;    /* the rate of the next sale */
    int has_next_tier;      /* 0 at the top tier */
    int next_rate_bp;       /* when has_next_tier */
    int64_t next_tier_left; /* licences still to sell to reach it */
    struct ledger_image_earnings *by_image; /* most cents first */
    size_t n_by_image;
    struct ledger_month_earnings *by_month; /* newest month first */
    size_t n_by_month;
    struct ledger_licence *sales; /* newest first, refunds too */
    size_t n_sales;
};

/* Wallets. */

/* The buyer's credit balance in *credits; 0 for a user without a wallet. */
int ledger_wallet(struct db *db, const char *user_id, int64_t *credits,
                  char err[DB_ERR_LEN]) DB_WUR;

/* Credit packs. */

/* Record a pending purchase of credits for price_cents through provider,
 * under (user_id, idem_key). The same key with the same request_hash again
 * returns the earlier purchase, whatever its state now, with
 * out->replayed = 1; with another hash DB_EREUSED. DB_EINVAL on values out
 * of range (credits 1..LEDGER_MAX_CREDITS, price 0..LEDGER_MAX_CENTS). */
int ledger_purchase_create(struct db *db, const char *user_id,
                           const char *idem_key, const char *request_hash,
                           int64_t credits, int64_t price_cents,
                           const char *provider, struct ledger_purchase *out,
                           char err[DB_ERR_LEN]) DB_WUR;

/* The provider confirmed payment (provider_ref: its reference, may be
 * NULL). In one transaction: post the purchase journal, create the credit
 * lot, mark the purchase settled. Settling again is a no-op that returns
 * the purchase with out->replayed = 1 (webhooks retry); DB_ECONFLICT if it
 * was settled under another provider_ref, DB_ENOTFOUND if unknown. */
int ledger_purchase_settle(struct db *db, const char *purchase_id,
                           const char *provider_ref,
                           struct ledger_purchase *out,
                           char err[DB_ERR_LEN]) DB_WUR;

/* Refund a settled pack none of whose credits are spent (credits returned
 * by a licence refund count as unspent) by a journal reversing its
 * purchase journal, at time now, when now - settled_at <= window_seconds.
 * DB_ENOTFOUND if no such purchase of user_id; DB_ECONFLICT if pending,
 * already refunded or partly used; DB_EINVAL past the window. Paying the
 * money back through the provider is the caller's job. */
int ledger_purchase_refund(struct db *db, const char *purchase_id,
                           const char *user_id, int64_t now,
                           int64_t window_seconds, struct ledger_purchase *out,
                           char err[DB_ERR_LEN]) DB_WUR;

/* 1 when ledger_purchase_refund would refund p at now (settled, unused,
 * inside the window), else 0; pure. */
int ledger_purchase_is_refundable(const struct ledger_purchase *p, int64_t now,
                                  int64_t window_seconds);
/* The purchase with this id, whoever made it; DB_ENOTFOUND if none. */
int ledger_purchase_get(struct db *db, const char *purchase_id,
                        struct ledger_purchase *out,
                        char err[DB_ERR_LEN]) DB_WUR;

/* The user's purchases, newest first, at most limit (1..LEDGER_LIST_MAX),
 * each with refundable set as ledger_purchase_refund would judge it at now.
 * On success the caller frees out with ledger_purchase_list_release. */
int ledger_purchases(struct db *db, const char *user_id, int64_t now,
                     int64_t window_seconds, size_t limit,
                     struct ledger_purchase_list *out,
                     char err[DB_ERR_LEN]) DB_WUR;

/* Free the items of a list and empty it; accepts NULL. */
void ledger_purchase_list_release(struct ledger_purchase_list *l);

/* Licences. */

/* Sell a licence in one transaction: spend req->credits from the buyer's
 * lots first in, first out, value them from their lots, split the cash at
 * the contributor's tier rate for their lifetime count before this sale,
 * post one journal, record the licence under the idempotency key. The
 * same key and hash again: the same licence, nothing charged, replayed = 1;
 * another hash: DB_EREUSED. DB_EFUNDS when the wallet is short (nothing is
 * written); DB_EINVAL on bad values or tiers. Safe from any number of
 * threads: exactly as many sales succeed as the credits allow. Sales that
 * arrive together are committed together (group commit, one wait for the
 * disk), each under its own savepoint, so each succeeds or fails as if
 * alone; it returns once the commit holding its sale is durable. */
int ledger_licence_create(struct db *db, const struct ledger_licence_req *req,
                          struct ledger_licence *out,
                          char err[DB_ERR_LEN]) DB_WUR;

/* The licence with this id; DB_ENOTFOUND if none. */
int ledger_licence_get(struct db *db, const char *licence_id,
                       struct ledger_licence *out, char err[DB_ERR_LEN]) DB_WUR;

/* Certificate sharing (ledger_share.c). */

/* The share token of licence_id, which buyer_id must hold: the one made
 * before, or token (printable, shorter than LEDGER_SHARE_LEN) when there
 * is none yet; copied into out. DB_ENOTFOUND if buyer_id did not buy it,
 * DB_EINVAL on bad arguments. */
int ledger_licence_share(struct db *db, const char *licence_id,
                         const char *buyer_id, const char *token,
                         char out[LEDGER_SHARE_LEN],
                         char err[DB_ERR_LEN]) DB_WUR;

/* The share token of licence_id into out; DB_ENOTFOUND when its licensee
 * never shared it. */
int ledger_licence_share_get(struct db *db, const char *licence_id,
                             char out[LEDGER_SHARE_LEN],
                             char err[DB_ERR_LEN]) DB_WUR;

/* Record the SHA-256 (64 lower-case hex digits) of the licensed file once
 * it is made. Setting the same value again is DB_OK; another value is
 * DB_ECONFLICT; DB_ENOTFOUND if no such licence, DB_EINVAL if not hex. */
int ledger_licence_set_file(struct db *db, const char *licence_id,
                            const char *sha256_hex,
                            char err[DB_ERR_LEN]) DB_WUR;

/* The buyer's licences, newest first, refunded ones included, limit per
 * page (1..LEDGER_LIST_MAX). cursor is NULL or "" for the first page, else
 * the next_cursor of the previous page, passed back unchanged (DB_EINVAL if
 * it is not one). On success free out with ledger_licence_list_release. */
int ledger_licences_for_buyer(struct db *db, const char *buyer_id,
                              const char *cursor, size_t limit,
                              struct ledger_licence_list *out,
                              char err[DB_ERR_LEN]) DB_WUR;

/* Free the items of a list and empty it; accepts NULL. */
void ledger_licence_list_release(struct ledger_licence_list *l);

/* *held = 1 when the buyer has an unrefunded licence for this image at
 * this size and type, else 0 (re-licensing is allowed; the page says so). */
int ledger_licence_held(struct db *db, const char *buyer_id,
                        const char *image_id, const char *size,
                        const char *type, int *held,
                        char err[DB_ERR_LEN]) DB_WUR;

/* Refund a licence (an admin's act, admin_id kept in the journal memo):
 * one journal reversing the sale returns the credits to the buyer's wallet
 * and to the lots they came from, and takes back royalty and platform
 * share; the contributor's balance may go below zero. Lifetime counts do
 * not go down. DB_ENOTFOUND if unknown, DB_ECONFLICT if already refunded.
 * On success out holds the refunded licence. */
int ledger_licence_refund(struct db *db, const char *licence_id,
                          const char *admin_id, struct ledger_licence *out,
                          char err[DB_ERR_LEN]) DB_WUR;

/* Earnings. */

/* Fill out for contributor_id (zeros for one who never sold), with at most
 * max_rows (1..LEDGER_LIST_MAX) rows in each of by_image, by_month and
 * sales; tiers as in ledger_licence_req. On success the caller frees the
 * arrays with ledger_earnings_release; on failure out is untouched. */
int ledger_earnings(struct db *db, const char *contributor_id,
                    const struct ledger_tier *tiers, size_t n_tiers,
                    size_t max_rows, struct ledger_earnings *out,
                    char err[DB_ERR_LEN]) DB_WUR;

/* Free the arrays of e and zero it; accepts NULL. */
void ledger_earnings_release(struct ledger_earnings *e);

/* Payouts. */

/* Move amount_cents from the contributor's balance to payouts in flight.
 * DB_EINVAL under min_cents, DB_EFUNDS over the balance, judged inside the
 * write transaction so racing requests never together exceed it. idem_key
 * may be NULL; the same key with the same amount returns the earlier
 * payout with replayed = 1, with another amount DB_EREUSED. */
int ledger_payout_request(struct db *db, const char *contributor_id,
                          int64_t amount_cents, int64_t min_cents,
                          const char *idem_key, struct ledger_payout *out,
                          char err[DB_ERR_LEN]) DB_WUR;

/* An admin settles a requested payout: paid != 0 moves it from in flight to
 * paid out; paid == 0 (failed) reverses the request, returning the money
 * to the balance. DB_ENOTFOUND if unknown, DB_ECONFLICT if not requested. */
int ledger_payout_settle(struct db *db, const char *payout_id, int paid,
                         struct ledger_payout *out,
                         char err[DB_ERR_LEN]) DB_WUR;

/* Payouts newest first, of one contributor or of all (contributor_id
 * NULL), optionally only those in status (NULL: any); paging as
 * ledger_licences_for_buyer. Free out with ledger_payout_list_release. */
int ledger_payouts(struct db *db, const char *contributor_id,
                   const enum db_payout_status *status, const char *cursor,
                   size_t limit, struct ledger_payout_list *out,
                   char err[DB_ERR_LEN]) DB_WUR;

/* Free the items of a list and empty it; accepts NULL. */
void ledger_payout_list_release(struct ledger_payout_list *l);

/* Checkouts: a purchase paid through a provider's hosted page.
 * state is "open" (the buyer is paying), "paid" (settled through
 * ledger_checkout_paid; never changes again), "failed" (never paid: the
 * provider was down, or the session expired or failed) or
 * "needs_attention" (paid, but not as priced: nothing credited). Strings
 * are "" when unknown. */
struct ledger_checkout {
    char purchase_id[LEDGER_ID_LEN];
    char session_ref[LEDGER_REF_LEN]; /* the provider's session id */
    char url[LEDGER_URL_LEN];
    char state[16];
    char payment_ref[LEDGER_REF_LEN]; /* the provider's payment id */
    char card_last4[5];
    int64_t created_at; /* unix seconds */
    int64_t updated_at;
};

/* A receipt: numbers run 1, 2, 3... without gaps, one per settled
 * purchase, taken when it settles. */
struct ledger_receipt {
    int64_t number;
    int64_t issued_at;  /* unix seconds */
    char card_last4[5]; /* "" when the provider gave none */
};

/* Record a checkout of a pending purchase in state "open", "failed" or
 * "needs_attention"; session_ref and url may be NULL (kept if already
 * known). A paid checkout is left as it is (DB_OK, nothing written). */
int ledger_checkout_put(struct db *db, const char *purchase_id,
                        const char *session_ref, const char *url,
                        const char *state, char err[DB_ERR_LEN]) DB_WUR;

/* The provider says the session was paid: in one transaction settle the
 * purchase (as ledger_purchase_settle, session_ref as its provider
 * reference, receipt issued) and mark the checkout paid with payment_ref
 * and card_last4 (each may be NULL). Idempotent: paid again, out->replayed
 * = 1. Whatever state the checkout was in: the money has arrived. */
int ledger_checkout_paid(struct db *db, const char *purchase_id,
                         const char *session_ref, const char *payment_ref,
                         const char *card_last4, struct ledger_purchase *out,
                         char err[DB_ERR_LEN]) DB_WUR;

/* The checkout of a purchase, or of a payment; DB_ENOTFOUND if none. */
int ledger_checkout_get(struct db *db, const char *purchase_id,
                        struct ledger_checkout *out,
                        char err[DB_ERR_LEN]) DB_WUR;
int ledger_checkout_by_payment(struct db *db, const char *payment_ref,
                               struct ledger_checkout *out,
                               char err[DB_ERR_LEN]) DB_WUR;

/* Provider events: *seen = 1 when event_id was recorded before. Record it
 * once its effect is durable (recording again is DB_OK), so a retry of an
 * event whose handling failed is handled again. */
int ledger_event_seen(struct db *db, const char *event_id, int *seen,
                      char err[DB_ERR_LEN]) DB_WUR;
int ledger_event_record(struct db *db, const char *event_id,
                        const char *provider, const char *type,
                        char err[DB_ERR_LEN]) DB_WUR;

/* The receipt of user_id's purchase; DB_ENOTFOUND if it is not theirs or
 * not settled. */
int ledger_receipt_get(struct db *db, const char *purchase_id,
                       const char *user_id, struct ledger_receipt *out,
                       char err[DB_ERR_LEN]) DB_WUR;

/* A contributor's account with the payment provider, for payouts. */
struct ledger_payout_account {
    char account_ref[LEDGER_REF_LEN]; /* the provider's account id */
    int payouts_enabled;              /* the provider says it can be paid */
};

/* The user's payout account; DB_ENOTFOUND if none yet. */
int ledger_payout_account_get(struct db *db, const char *user_id,
                              struct ledger_payout_account *out,
                              char err[DB_ERR_LEN]) DB_WUR;
/* Record the user's account once; a second call keeps the first. */
int ledger_payout_account_put(struct db *db, const char *user_id,
                              const char *provider, const char *account_ref,
                              char err[DB_ERR_LEN]) DB_WUR;
/* The provider says whether the account can be paid; DB_ENOTFOUND if the
 * account is not one of ours. */
int ledger_payout_account_enable(struct db *db, const char *account_ref,
                                 int enabled, char err[DB_ERR_LEN]) DB_WUR;
/* Record the provider's transfer for a payout (once; again is DB_OK). */
int ledger_payout_transfer_put(struct db *db, const char *payout_id,
                               const char *transfer_ref,
                               char err[DB_ERR_LEN]) DB_WUR;

/* Verification. */

/* Recompute every balance from the postings and check every invariant of
 * docs/LEDGER.md in one read snapshot. DB_OK when all hold, DB_ECONFLICT
 * when any is broken, another code if the check itself failed. On DB_OK
 * and DB_ECONFLICT *report is a string (caller frees with free()) with one
 * "inv. N ok: ..." or "inv. N BROKEN: ..." line per invariant, each broken
 * one followed by indented lines naming the offending rows. */
int ledger_verify(struct db *db, char **report, char err[DB_ERR_LEN]) DB_WUR;

#endif
