/* Stockroom — the ledger verifier: recompute every balance from the
 * postings and check each invariant of docs/LEDGER.md. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbint.h"
#include "ledger.h"

#define SHOW_ROWS 20         /* offending rows listed per invariant */
#define REPORT_MAX (1 << 20) /* ceiling on the report */

/* SQL text reads best laid out by hand. */
/* clang-format off */
/* Balances recomputed from the postings alone, on each account's natural
 * side; the cached balance column is never trusted here. */
#define BAL "bal(id, kind, owner, cached, b) AS (SELECT a.id, a.kind, " \
    "a.owner, a.balance, a.normal * coalesce(s.t, 0) FROM accounts a " \
    "LEFT JOIN (SELECT account_id, sum(amount) t FROM postings " \
    "GROUP BY account_id) s ON s.account_id = a.id) "

/* What journal j posted to account a, debit positive. */
#define JSUM(j, a) "(SELECT coalesce(sum(amount), 0) FROM postings " \
    "WHERE journal_id = " j " AND account_id = " a ")"

/* Each check is a query whose rows, one text column each, name what is
 * broken; no rows means the invariant holds. */
struct check {
    int inv;
    const char *what;
    const char *sql;
};

static const struct check checks[] = {
    { 1, "every journal has postings, balances to zero per asset and "
         "records one purchase, licence, payout or their undoing",
      "SELECT 'journal ' || id || ' (' || kind || ') records nothing' "
      "FROM journals WHERE CASE kind "
      "WHEN 'purchase' THEN id NOT IN (SELECT journal_id FROM purchases "
      "WHERE journal_id IS NOT NULL) "
      "WHEN 'purchase_refund' THEN id NOT IN (SELECT refund_journal "
      "FROM purchases WHERE refund_journal IS NOT NULL) "
      "WHEN 'licence' THEN id NOT IN (SELECT journal_id FROM licences) "
      "WHEN 'licence_refund' THEN id NOT IN (SELECT refund_journal "
      "FROM licences WHERE refund_journal IS NOT NULL) "
      "WHEN 'payout' THEN id NOT IN (SELECT journal_id FROM payouts) "
      "WHEN 'brief_escrow' THEN id NOT IN (SELECT escrow_journal "
      "FROM briefs) "
      "WHEN 'brief_return' THEN id NOT IN (SELECT return_journal "
      "FROM briefs WHERE return_journal IS NOT NULL) "
      "WHEN 'brief_award' THEN id NOT IN (SELECT journal_id "
      "FROM brief_awards) "
      "ELSE id NOT IN (SELECT settle_journal FROM payouts "
      "WHERE settle_journal IS NOT NULL) END "
      "UNION ALL SELECT 'journal ' || j.id || ' (' || j.kind || ') has no "
      "postings' "
      "FROM journals j WHERE NOT EXISTS (SELECT 1 FROM postings p "
      "WHERE p.journal_id = j.id) "
      "UNION ALL SELECT 'journal ' || journal_id || ': ' || asset || "
      "' postings sum to ' || sum(amount) FROM postings "
      "GROUP BY journal_id, asset HAVING sum(amount) <> 0" },
    { 2, "each asset sums to zero over all accounts",
      "SELECT asset || ' postings sum to ' || sum(amount) FROM postings "
      "GROUP BY asset HAVING sum(amount) <> 0" },
    { 3, "every posting is non-zero and in its account's asset; every "
         "account has its kind's asset, side and owner",
      "WITH k(kind, asset, normal, neg, owned) AS (VALUES "
      "('wallet', 'CREDIT', -1, 0, 1), ('credits_issued', 'CREDIT', 1, 0, 0),"
      "('credits_redeemed', 'CREDIT', -1, 0, 0),"
      "('payment_clearing', 'USD', 1, 0, 0),"
      "('deferred_revenue', 'USD', -1, 0, 0),"
      "('platform_revenue', 'USD', -1, 0, 0), ('payable', 'USD', -1, 1, 1),"
      "('payouts_in_flight', 'USD', -1, 0, 0),"
      "('payouts_paid', 'USD', -1, 0, 0),"
      "('brief_escrow', 'CREDIT', -1, 0, 1)) "
      "SELECT 'posting ' || p.id || ' of ' || p.amount || ' ' || p.asset || "
      "' on ' || p.account_id || CASE WHEN a.id IS NULL THEN ', no such "
      "account' WHEN a.asset IS NOT p.asset THEN ', an account in ' || "
      "a.asset ELSE ', a zero amount' END FROM postings p "
      "LEFT JOIN accounts a ON a.id = p.account_id "
      "WHERE a.id IS NULL OR a.asset IS NOT p.asset OR p.amount = 0 "
      "UNION ALL SELECT 'account ' || a.id || ' does not fit its kind ' || "
      "a.kind FROM accounts a LEFT JOIN k ON k.kind = a.kind "
      "WHERE k.kind IS NULL OR a.asset IS NOT k.asset "
      "OR a.normal IS NOT k.normal OR a.may_go_negative IS NOT k.neg "
      "OR (a.owner IS NULL) = k.owned "
      "OR (k.owned AND a.kind <> 'brief_escrow' "
      "AND a.id IS NOT a.kind || ':' || a.owner) "
      "OR (a.kind = 'brief_escrow' AND a.id NOT IN (SELECT 'brief_escrow:' "
      "|| id FROM briefs WHERE buyer_id = a.owner)) "
      "OR (NOT k.owned AND a.id IS NOT a.kind)" },
    { 4, "each cached balance equals its postings",
      "WITH " BAL "SELECT 'account ' || id || ' caches ' || cached || "
      "' but its postings make ' || b FROM bal WHERE cached IS NOT b" },
    { 5, "no account is below zero but contributors' royalties payable",
      "WITH " BAL "SELECT 'account ' || id || ' is at ' || b || "
      "', below zero' FROM bal WHERE b < 0 AND kind <> 'payable'" },
    { 6, "each settled purchase has its lot and a journal issuing exactly "
         "its credits for exactly its price; a pending one has neither",
      "SELECT 'purchase ' || p.id || ' is ' || p.status || ' with' || "
      "CASE WHEN l.id IS NULL THEN 'out' ELSE '' END || ' a lot' "
      "FROM purchases p LEFT JOIN lots l ON l.purchase_id = p.id "
      "WHERE (p.status = 'pending') <> (l.id IS NULL) "
      "OR (p.status = 'pending') <> (p.journal_id IS NULL) "
      "UNION ALL SELECT 'lot ' || l.id || ' does not match purchase ' || "
      "p.id FROM lots l JOIN purchases p ON p.id = l.purchase_id "
      "WHERE l.user_id IS NOT p.user_id OR l.credits IS NOT p.credits "
      "OR l.price_cents IS NOT p.price_cents "
      "OR l.refunded IS NOT (p.status = 'refunded') "
      "UNION ALL SELECT 'purchase ' || p.id || ': journal ' || p.journal_id "
      "|| ' does not issue ' || p.credits || ' credits for ' || "
      "p.price_cents || ' cents' FROM purchases p "
      "WHERE p.journal_id IS NOT NULL AND ("
      "(SELECT kind FROM journals WHERE id = p.journal_id) IS NOT 'purchase' "
      "OR " JSUM("p.journal_id", "'wallet:' || p.user_id") " <> -p.credits "
      "OR " JSUM("p.journal_id", "'credits_issued'") " <> p.credits "
      "OR " JSUM("p.journal_id", "'payment_clearing'") " <> p.price_cents "
      "OR " JSUM("p.journal_id", "'deferred_revenue'") " <> -p.price_cents "
      "OR (SELECT count(*) FROM postings WHERE journal_id = p.journal_id "
      "AND account_id NOT IN ('wallet:' || p.user_id, 'credits_issued', "
      "'payment_clearing', 'deferred_revenue')) > 0)" },
    { 7, "each licence splits exactly (royalty + platform = cash, royalty = "
         "floor(cash * rate / 10000)) and its journal posts these figures",
      "SELECT 'licence ' || id || ': royalty ' || royalty_cents || "
      "' + platform ' || platform_cents || ' vs cash ' || cash_cents || "
      "' at ' || rate_bp || ' bp' FROM licences "
      "WHERE royalty_cents + platform_cents <> cash_cents "
      "OR royalty_cents <> cash_cents * rate_bp / 10000 "
      "OR rate_bp NOT BETWEEN 0 AND 10000 OR cash_cents < 0 "
      "UNION ALL SELECT 'licence ' || l.id || ': journal ' || l.journal_id "
      "|| ' does not post its credits, cash, royalty and platform share' "
      "FROM licences l WHERE "
      "(SELECT kind FROM journals WHERE id = l.journal_id) IS NOT 'licence' "
      "OR " JSUM("l.journal_id", "'wallet:' || l.buyer_id") " <> l.credits "
      "OR " JSUM("l.journal_id", "'credits_redeemed'") " <> -l.credits "
      "OR " JSUM("l.journal_id", "'deferred_revenue'") " <> l.cash_cents "
      "OR " JSUM("l.journal_id", "'payable:' || l.contributor_id")
      " <> -l.royalty_cents "
      "OR " JSUM("l.journal_id", "'platform_revenue'")
      " <> -l.platform_cents "
      "OR (SELECT count(*) FROM postings WHERE journal_id = l.journal_id "
      "AND account_id NOT IN ('wallet:' || l.buyer_id, 'credits_redeemed', "
      "'deferred_revenue', 'payable:' || l.contributor_id, "
      "'platform_revenue')) > 0 "
      "UNION ALL SELECT 'journal ' || journal_id || ' is claimed by ' || "
      "count(*) || ' licences' FROM licences GROUP BY journal_id "
      "HAVING count(*) > 1" },
    { 8, "each lot's use equals its live licences' usages and never exceeds "
         "it, a used-up lot gave exactly its price, and each licence's "
         "credits and cash equal what its lots gave",
      "WITH u AS (SELECT ll.lot_id, sum(ll.credits) c, sum(ll.cents) m "
      "FROM licence_lots ll JOIN licences l ON l.id = ll.licence_id "
      "WHERE l.refunded_at IS NULL GROUP BY ll.lot_id) "
      "SELECT 'lot ' || lots.id || ': ' || credits_used || ' of ' || "
      "credits || ' credits and ' || cents_used || ' of ' || price_cents || "
      "' cents used; its live usages say ' || coalesce(u.c, 0) || ' and ' "
      "|| coalesce(u.m, 0) FROM lots LEFT JOIN u ON u.lot_id = lots.id "
      "WHERE credits_used NOT BETWEEN 0 AND credits "
      "OR cents_used NOT BETWEEN 0 AND price_cents "
      "OR credits_used <> coalesce(u.c, 0) OR cents_used <> coalesce(u.m, 0) "
      "OR (credits_used = credits AND cents_used <> price_cents) "
      "OR (refunded = 1 AND credits_used <> 0) "
      "UNION ALL SELECT 'licence ' || l.id || ': ' || l.credits || "
      "' credits worth ' || l.cash_cents || ' cents, its lots gave ' || "
      "coalesce(sum(ll.credits), 0) || ' worth ' || "
      "coalesce(sum(ll.cents), 0) FROM licences l "
      "LEFT JOIN licence_lots ll ON ll.licence_id = l.id GROUP BY l.id "
      "HAVING l.credits <> coalesce(sum(ll.credits), 0) "
      "OR l.cash_cents <> coalesce(sum(ll.cents), 0) "
      "UNION ALL SELECT 'licence ' || l.id || ' spent lot ' || lots.id || "
      "' of another user' FROM licence_lots ll "
      "JOIN licences l ON l.id = ll.licence_id "
      "JOIN lots ON lots.id = ll.lot_id WHERE lots.user_id <> l.buyer_id" },
    { 9, "each wallet and its owner's brief escrows hold exactly the "
         "owner's unspent lot credits, and deferred revenue exactly the "
         "unspent cash of all lots",
      "WITH " BAL ", r AS (SELECT user_id, sum(credits - credits_used) c, "
      "sum(price_cents - cents_used) m FROM lots WHERE refunded = 0 "
      "GROUP BY user_id) "
      "SELECT 'wallet ' || bal.id || ' holds ' || bal.b || "
      "' credits and its owner''s escrows ' || coalesce(e.c, 0) || "
      "', its lots ' || coalesce(r.c, 0) FROM bal "
      "LEFT JOIN r ON r.user_id = bal.owner "
      "LEFT JOIN (SELECT owner, sum(b) c FROM bal WHERE kind = "
      "'brief_escrow' GROUP BY owner) e ON e.owner = bal.owner "
      "WHERE bal.kind = 'wallet' "
      "AND bal.b + coalesce(e.c, 0) <> coalesce(r.c, 0) "
      "UNION ALL SELECT 'user ' || r.user_id || ' has ' || r.c || "
      "' unspent lot credits and no wallet' FROM r WHERE r.c <> 0 AND "
      "NOT EXISTS (SELECT 1 FROM accounts WHERE id = 'wallet:' || r.user_id) "
      "UNION ALL SELECT 'deferred revenue holds ' || bal.b || "
      "' cents, the lots ' || (SELECT coalesce(sum(m), 0) FROM r) FROM bal "
      "WHERE bal.id = 'deferred_revenue' "
      "AND bal.b <> (SELECT coalesce(sum(m), 0) FROM r)" },
    { 10, "each idempotency key was used once and names one existing "
          "result of its own; each purchase and licence has its key",
      "SELECT 'key ' || scope || '/' || key || ' of ' || user_id || "
      "' names ' || result_id || ', not one of theirs' "
      "FROM idempotency_keys k WHERE NOT CASE scope "
      "WHEN 'purchase' THEN EXISTS (SELECT 1 FROM purchases "
      "WHERE id = k.result_id AND user_id = k.user_id) "
      "WHEN 'licence' THEN EXISTS (SELECT 1 FROM licences "
      "WHERE id = k.result_id AND buyer_id = k.user_id) "
      "WHEN 'payout' THEN EXISTS (SELECT 1 FROM payouts "
      "WHERE id = k.result_id AND contributor_id = k.user_id) ELSE 0 END "
      "UNION ALL SELECT scope || ' ' || result_id || ' is named by ' || "
      "count(*) || ' keys' FROM idempotency_keys GROUP BY scope, result_id "
      "HAVING count(*) > 1 "
      "UNION ALL SELECT 'key ' || scope || '/' || key || ' of ' || user_id "
      "|| ' recorded ' || count(*) || ' times' FROM idempotency_keys "
      "GROUP BY user_id, scope, key HAVING count(*) > 1 "
      "UNION ALL SELECT 'purchase ' || id || ' has no idempotency key' "
      "FROM purchases WHERE id NOT IN (SELECT result_id "
      "FROM idempotency_keys WHERE scope = 'purchase') "
      "UNION ALL SELECT 'licence ' || id || ' has no idempotency key' "
      "FROM licences WHERE id NOT IN (SELECT result_id "
      "FROM idempotency_keys WHERE scope = 'licence')" },
    { 11, "each reversing journal exactly negates the one it names, of the "
          "right kind, once; refunded licences and purchases and failed "
          "payouts have exactly one, nothing else has any",
      "WITH pair(rid, account_id, asset, amount) AS ("
      "SELECT j.id, p.account_id, p.asset, p.amount FROM journals j "
      "JOIN postings p ON p.journal_id = j.reverses_journal_id "
      "UNION ALL SELECT j.id, p.account_id, p.asset, p.amount "
      "FROM journals j JOIN postings p ON p.journal_id = j.id "
      "WHERE j.reverses_journal_id IS NOT NULL) "
      "SELECT 'journal ' || rid || ' does not negate the journal it "
      "reverses: ' || account_id || ' off by ' || sum(amount) || ' ' || "
      "asset FROM pair GROUP BY rid, account_id, asset "
      "HAVING sum(amount) <> 0 "
      "UNION ALL SELECT 'journal ' || reverses_journal_id || ' is reversed "
      "' || count(*) || ' times' FROM journals "
      "WHERE reverses_journal_id IS NOT NULL "
      "GROUP BY reverses_journal_id HAVING count(*) > 1 "
      "UNION ALL SELECT 'journal ' || j.id || ' (' || j.kind || ') names ' "
      "|| coalesce('journal ' || o.id || ' (' || o.kind || ')', 'nothing') "
      "FROM journals j LEFT JOIN journals o ON o.id = j.reverses_journal_id "
      "WHERE (j.kind IN ('purchase_refund', 'licence_refund', "
      "'payout_failed')) <> (j.reverses_journal_id IS NOT NULL) "
      "OR (j.kind = 'purchase_refund' AND o.kind IS NOT 'purchase') "
      "OR (j.kind = 'licence_refund' AND o.kind IS NOT 'licence') "
      "OR (j.kind = 'payout_failed' AND o.kind IS NOT 'payout') "
      "UNION ALL SELECT 'licence ' || l.id || CASE WHEN l.refunded_at IS NULL "
      "THEN ' is not refunded but reversed' ELSE ' is refunded without its "
      "reversal' END FROM licences l WHERE (l.refunded_at IS NULL) <> "
      "(l.refund_journal IS NULL) OR (SELECT count(*) FROM journals "
      "WHERE reverses_journal_id = l.journal_id) <> "
      "(l.refunded_at IS NOT NULL) OR (l.refund_journal IS NOT NULL AND "
      "(SELECT reverses_journal_id FROM journals WHERE id = "
      "l.refund_journal) IS NOT l.journal_id) "
      "UNION ALL SELECT 'purchase ' || p.id || ' is ' || p.status || "
      "' and its journal is reversed ' || (SELECT count(*) FROM journals "
      "WHERE reverses_journal_id = p.journal_id) || ' times' "
      "FROM purchases p WHERE p.journal_id IS NOT NULL AND ("
      "(SELECT count(*) FROM journals WHERE reverses_journal_id = "
      "p.journal_id) <> (p.status = 'refunded') "
      "OR (p.status = 'refunded') <> (p.refund_journal IS NOT NULL) "
      "OR (p.refund_journal IS NOT NULL AND (SELECT reverses_journal_id "
      "FROM journals WHERE id = p.refund_journal) IS NOT p.journal_id)) "
      "UNION ALL SELECT 'payout ' || o.id || ' is ' || o.status || "
      "' and its request is reversed ' || (SELECT count(*) FROM journals "
      "WHERE reverses_journal_id = o.journal_id) || ' times' "
      "FROM payouts o WHERE (SELECT count(*) FROM journals "
      "WHERE reverses_journal_id = o.journal_id) <> (o.status = 'failed') "
      "OR (o.status = 'failed' AND (SELECT reverses_journal_id FROM journals "
      "WHERE id = o.settle_journal) IS NOT o.journal_id)" },
    { 12, "each contributor's lifetime count equals the licences they ever "
          "sold, refunded ones included",
      "WITH n AS (SELECT contributor_id, count(*) c FROM licences "
      "GROUP BY contributor_id) "
      "SELECT 'contributor ' || n.contributor_id || ' sold ' || n.c || "
      "', lifetime count says ' || coalesce(s.lifetime_sold, 0) FROM n "
      "LEFT JOIN contributor_stats s USING (contributor_id) "
      "WHERE n.c IS NOT coalesce(s.lifetime_sold, 0) "
      "UNION ALL SELECT 'contributor ' || s.contributor_id || ' sold 0, "
      "lifetime count says ' || s.lifetime_sold FROM contributor_stats s "
      "WHERE s.lifetime_sold <> 0 AND NOT EXISTS (SELECT 1 FROM licences "
      "WHERE contributor_id = s.contributor_id)" },
    { 13, "payouts in flight hold exactly the requested payouts, payouts "
          "paid exactly the paid ones, and each payout's journals move "
          "exactly its amount",
      "WITH " BAL "SELECT 'payouts in flight hold ' || b || ', requested "
      "payouts sum to ' || (SELECT coalesce(sum(amount_cents), 0) "
      "FROM payouts WHERE status = 'requested') FROM bal "
      "WHERE id = 'payouts_in_flight' AND b <> (SELECT "
      "coalesce(sum(amount_cents), 0) FROM payouts WHERE status = "
      "'requested') "
      "UNION ALL SELECT 'payouts paid hold ' || b || ', paid payouts sum "
      "to ' || (SELECT coalesce(sum(amount_cents), 0) FROM payouts "
      "WHERE status = 'paid') FROM bal WHERE id = 'payouts_paid' AND b <> "
      "(SELECT coalesce(sum(amount_cents), 0) FROM payouts "
      "WHERE status = 'paid') "
      "UNION ALL SELECT 'payout ' || o.id || ' (' || o.status || ') of ' || "
      "o.amount_cents || ' cents does not match its journals' "
      "FROM payouts o WHERE "
      "(SELECT kind FROM journals WHERE id = o.journal_id) IS NOT 'payout' "
      "OR " JSUM("o.journal_id", "'payable:' || o.contributor_id")
      " <> o.amount_cents "
      "OR " JSUM("o.journal_id", "'payouts_in_flight'") " <> -o.amount_cents "
      "OR (SELECT count(*) FROM postings WHERE journal_id = o.journal_id) "
      "<> 2 OR (o.status = 'requested') <> (o.settle_journal IS NULL) "
      "OR (o.status = 'paid' AND ((SELECT kind FROM journals "
      "WHERE id = o.settle_journal) IS NOT 'payout_paid' "
      "OR " JSUM("o.settle_journal", "'payouts_in_flight'")
      " <> o.amount_cents "
      "OR " JSUM("o.settle_journal", "'payouts_paid'") " <> -o.amount_cents "
      "OR (SELECT count(*) FROM postings WHERE journal_id = "
      "o.settle_journal) <> 2))" },
    { 14, "the triggers that keep the books append-only are all in place",
      "WITH t(name) AS (VALUES ('accounts_fixed'), ('accounts_no_delete'), "
      "('journals_no_update'), ('journals_no_delete'), "
      "('journals_no_replace'), ('postings_no_update'), "
      "('postings_no_delete'), ('postings_no_replace'), "
      "('postings_open_journal'), ('postings_balance'), "
      "('purchases_fixed'), ('purchases_no_delete'), ('lots_fixed'), "
      "('lots_no_delete'), ('licences_fixed'), ('licences_no_delete'), "
      "('licences_no_replace'), ('licence_lots_no_update'), "
      "('licence_lots_no_delete'), ('payouts_fixed'), "
      "('payouts_no_delete'), ('contributor_stats_up'), "
      "('contributor_stats_no_delete'), ('idempotency_keys_no_update'), "
      "('idempotency_keys_no_delete'), ('checkouts_no_delete'), "
      "('checkouts_paid_stays'), ('provider_events_no_delete'), "
      "('receipts_gap_free'), ('receipts_no_update'), "
      "('receipts_no_delete')) "
      "SELECT 'trigger ' || name || ' is missing' FROM t WHERE name NOT IN "
      "(SELECT name FROM sqlite_schema WHERE type = 'trigger')" },
    { 15, "each brief's escrow holds its bounty less what was awarded and "
          "returned, never below zero, and its escrow and return journals "
          "move exactly its bounty",
      "WITH " BAL ", m AS (SELECT b.id, b.status, b.bounty_credits bounty, "
      "e.b held, (SELECT coalesce(sum(p.amount), 0) FROM brief_awards a "
      "JOIN postings p ON p.journal_id = a.journal_id AND p.account_id = "
      "'brief_escrow:' || b.id WHERE a.brief_id = b.id) awarded, "
      "CASE WHEN b.return_journal IS NULL THEN 0 ELSE "
      JSUM("b.return_journal", "'brief_escrow:' || b.id") " END returned "
      "FROM briefs b LEFT JOIN bal e ON e.id = 'brief_escrow:' || b.id) "
      "SELECT 'brief ' || id || ' (' || status || ') escrow holds ' || "
      "coalesce(held, 'nothing') || ', bounty ' || bounty || ' - awarded ' "
      "|| awarded || ' - returned ' || returned FROM m "
      "WHERE held IS NOT bounty - awarded - returned OR held < 0 "
      "OR (status = 'open') <> (held = bounty) "
      "OR (status = 'awarded') <> (awarded = bounty) "
      "OR (status IN ('cancelled', 'closed', 'expired', 'abandoned')) <> "
      "(returned = bounty) "
      "UNION ALL SELECT 'brief ' || b.id || ': journal ' || b.escrow_journal "
      "|| ' does not escrow its bounty of ' || b.bounty_credits "
      "FROM briefs b WHERE (SELECT kind FROM journals WHERE id = "
      "b.escrow_journal) IS NOT 'brief_escrow' "
      "OR " JSUM("b.escrow_journal", "'wallet:' || b.buyer_id")
      " <> b.bounty_credits "
      "OR " JSUM("b.escrow_journal", "'brief_escrow:' || b.id")
      " <> -b.bounty_credits "
      "OR (SELECT count(*) FROM postings WHERE journal_id = "
      "b.escrow_journal) <> 2 "
      "UNION ALL SELECT 'brief ' || b.id || ': journal ' || b.return_journal "
      "|| ' does not return its bounty of ' || b.bounty_credits "
      "FROM briefs b WHERE b.return_journal IS NOT NULL AND ("
      "(SELECT kind FROM journals WHERE id = b.return_journal) IS NOT "
      "'brief_return' "
      "OR " JSUM("b.return_journal", "'wallet:' || b.buyer_id")
      " <> -b.bounty_credits "
      "OR (SELECT count(*) FROM postings WHERE journal_id = "
      "b.return_journal) <> 2)" },
    { 16, "each award releases exactly its share from escrow to the buyer "
          "and buys a licence of exactly that share: the submitted photo, "
          "original size, the brief's type and royalty; shares split the "
          "bounty equally, the remainder to the first",
      "SELECT 'award of submission ' || a.submission_id || ' in brief ' || "
      "b.id || ' does not match its journal or licence' "
      "FROM brief_awards a JOIN briefs b ON b.id = a.brief_id "
      "JOIN brief_submissions s ON s.id = a.submission_id "
      "LEFT JOIN licences l ON l.id = a.licence_id WHERE "
      "(SELECT kind FROM journals WHERE id = a.journal_id) IS NOT "
      "'brief_award' "
      "OR " JSUM("a.journal_id", "'brief_escrow:' || b.id")
      " <> a.share_credits "
      "OR " JSUM("a.journal_id", "'wallet:' || b.buyer_id")
      " <> -a.share_credits "
      "OR (SELECT count(*) FROM postings WHERE journal_id = a.journal_id) "
      "<> 2 OR s.brief_id IS NOT b.id OR l.id IS NULL "
      "OR l.credits IS NOT a.share_credits OR l.buyer_id IS NOT b.buyer_id "
      "OR l.image_id IS NOT s.image_id "
      "OR l.contributor_id IS NOT s.contributor_id OR l.size IS NOT 'XL' "
      "OR l.type IS NOT b.licence_type OR l.rate_bp IS NOT b.royalty_bp "
      "UNION ALL SELECT 'award of submission ' || a.submission_id || "
      "' has ' || a.share_credits || ' credits, not an equal share of ' || "
      "b.bounty_credits || ' among ' || n.n FROM brief_awards a "
      "JOIN briefs b ON b.id = a.brief_id JOIN (SELECT brief_id, count(*) n "
      "FROM brief_awards GROUP BY brief_id) n ON n.brief_id = a.brief_id "
      "WHERE a.share_credits <> b.bounty_credits / n.n + CASE WHEN "
      "a.position = 0 THEN b.bounty_credits % n.n ELSE 0 END "
      "OR a.position >= n.n OR n.n > b.winners" },
    { 17, "the triggers that keep briefs and awards fixed are in place",
      "WITH t(name) AS (VALUES ('briefs_fixed'), ('briefs_no_delete'), "
      "('brief_awards_no_update'), ('brief_awards_no_delete')) "
      "SELECT 'trigger ' || name || ' is missing' FROM t WHERE name NOT IN "
      "(SELECT name FROM sqlite_schema WHERE type = 'trigger')" },
    { 18, "receipt numbers run from 1 without gaps, one for each settled "
          "or refunded purchase and none for a pending one",
      "SELECT 'receipt numbers run to ' || coalesce(max(number), 0) || "
      "' over ' || count(*) || ' receipts' FROM receipts "
      "HAVING coalesce(max(number), 0) <> count(*) "
      "UNION ALL SELECT 'purchase ' || p.id || ' is ' || p.status || "
      "CASE WHEN r.number IS NULL THEN ' without a receipt' "
      "ELSE ' with receipt ' || r.number END FROM purchases p "
      "LEFT JOIN receipts r ON r.purchase_id = p.id "
      "WHERE (p.journal_id IS NULL) <> (r.number IS NULL)" },
    { 19, "money in from the provider equals the price of the credits it "
          "issued, less refunds: each paid checkout settled its purchase, "
          "no other checkout did, and the clearing account holds exactly "
          "the price of the purchases settled and not refunded",
      "WITH " BAL "SELECT 'checkout of purchase ' || k.purchase_id || ' is "
      "' || k.state || ', the purchase ' || p.status FROM checkouts k "
      "JOIN purchases p ON p.id = k.purchase_id "
      "WHERE (k.state = 'paid') <> (p.journal_id IS NOT NULL) "
      "UNION ALL SELECT 'payment clearing holds ' || b || ', settled "
      "purchases sum to ' || (SELECT coalesce(sum(price_cents), 0) "
      "FROM purchases WHERE status = 'settled') FROM bal "
      "WHERE id = 'payment_clearing' AND b <> (SELECT "
      "coalesce(sum(price_cents), 0) FROM purchases WHERE status = "
      "'settled')" },
};
/* clang-format on */

/* A growing report with a ceiling. */
struct buf {
    char *s;
    size_t len, cap;
    int oom;
};

static void buf_add(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
buf_add(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->oom)
        return;
    for (;;) {
        size_t room = b->cap - b->len;

        va_start(ap, fmt);
        n = vsnprintf(b->s ? b->s + b->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = 1;
            return;
        }
        if ((size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        if (b->cap + (size_t)n + 256 > REPORT_MAX) {
            b->oom = 1;
            return;
        }
        {
            size_t ncap = b->cap * 2 + (size_t)n + 256;
            char *p = realloc(b->s, ncap);

            if (!p) {
                b->oom = 1;
                return;
            }
            b->s = p;
            b->cap = ncap;
        }
    }
}

/* Run one check; *broken = 1 when it found anything. */
static int
run_check(sqlite3 *c, const struct check *k, struct buf *b, int *broken,
          char err[DB_ERR_LEN])
{
    sqlite3_stmt *st = NULL;
    long long rows = 0;
    int rc = db_prepare(c, k->sql, &st, err);

    *broken = 0;
    if (rc != DB_OK)
        goto out;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (rows == 0)
            buf_add(b, "inv. %d BROKEN: %s\n", k->inv, k->what);
        if (rows < SHOW_ROWS)
            buf_add(b, "    %s\n", (const char *)sqlite3_column_text(st, 0));
        rows++;
    }
    if (rc != SQLITE_DONE) {
        rc = db_fail(c, rc, "verify", err);
        goto out;
    }
    if (rows > SHOW_ROWS)
        buf_add(b, "    ... and %lld more\n", rows - SHOW_ROWS);
    if (rows == 0)
        buf_add(b, "inv. %d ok: %s\n", k->inv, k->what);
    *broken = rows > 0;
    rc = DB_OK;
out:
    sqlite3_finalize(st);
    return rc;
}

int
ledger_verify(struct db *db, char **report, char err[DB_ERR_LEN])
{
    sqlite3 *c = db_conn_get(db);
    struct buf b = {NULL, 0, 0, 0};
    int rc, broken, any = 0;

    /* One read snapshot: writers carry on, the books checked are one
     * consistent moment. */
    rc = db_exec(c, "BEGIN", err);
    if (rc != DB_OK)
        goto out;
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        rc = run_check(c, &checks[i], &b, &broken, err);
        if (rc != DB_OK)
            goto out;
        any |= broken;
    }
    if (b.oom || !b.s) {
        snprintf(err, DB_ERR_LEN, "out of memory for the report");
        rc = DB_EGENERIC;
        goto out;
    }
    *report = b.s;
    b.s = NULL;
    if (any) {
        snprintf(err, DB_ERR_LEN, "the books are broken");
        rc = DB_ECONFLICT;
    }
out:
    free(b.s);
    db_rollback(c);
    db_conn_put(db, c);
    return rc;
}
