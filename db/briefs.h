/* Stockroom — briefs: a buyer asks for the photo they cannot find and puts a
 * bounty of credits in escrow; contributors answer privately with their
 * photos; the buyer shortlists, comments and awards, and each award becomes
 * a licence. Money moves in ledger_brief.c (docs/LEDGER.md), the rest in
 * briefs.c. Knows nothing of HTTP or JSON: plain values in and out.
 *
 * Every function may be called from any thread (each borrows a pooled
 * connection); what one changes it changes in one BEGIN IMMEDIATE
 * transaction. Fallible ones return DB_OK or a negative DB_E* code with the
 * reason in err. Strings passed in are borrowed for the call. */
#ifndef STOCKROOM_BRIEFS_H
#define STOCKROOM_BRIEFS_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "ledger.h"

#define BRIEF_ID_LEN 48
#define BRIEF_TITLE_MAX 120      /* characters of UTF-8, bytes checked */
#define BRIEF_TEXT_MAX 4000      /* description */
#define BRIEF_KEYWORDS_MAX 500   /* comma-separated */
#define BRIEF_REASON_MAX 500     /* closing reason */
#define BRIEF_COMMENT_MAX 1000   /* one comment */
#define BRIEF_WINNERS_MAX 5      /* most winners a brief may have */
#define BRIEF_PER_CONTRIB 10     /* submissions per contributor per brief */
#define BRIEF_MAX_CREDITS 100000 /* largest bounty */

/* Where a brief is. Open covers "taking submissions" (before the deadline)
 * and "waiting for the award" (after it); the others are final. */
enum db_brief_status {
    DB_BRIEF_OPEN,
    DB_BRIEF_CANCELLED, /* by the buyer before any submission: refunded */
    DB_BRIEF_AWARDED,   /* the bounty paid out to the winners */
    DB_BRIEF_CLOSED,    /* closed without award, with a reason: refunded */
    DB_BRIEF_EXPIRED,   /* no submission by the deadline: refunded */
    DB_BRIEF_ABANDONED, /* the buyer did nothing in time: refunded */
    DB_BRIEF_N
};

/* The text of a status (static), NULL outside the enum. */
const char *db_brief_status_str(enum db_brief_status s);

/* Why a request was refused, beside the DB_E* code (DB_ELIMIT, DB_EINVAL
 * or DB_ECONFLICT) of the functions that take a why: the server names it. */
enum db_brief_why {
    DB_BRIEF_WHY_NONE,
    DB_BRIEF_WHY_NOT_OPEN,           /* cancelled, awarded or ended */
    DB_BRIEF_WHY_HAS_SUBMISSIONS,    /* edit or cancel after the first */
    DB_BRIEF_WHY_NO_SUBMISSIONS,     /* close or award with none counted */
    DB_BRIEF_WHY_DEADLINE_PASSED,    /* submit, shortlist, comment */
    DB_BRIEF_WHY_AWARD_WINDOW,       /* award after deadline + window */
    DB_BRIEF_WHY_OWN_BRIEF,          /* submitting to one's own brief */
    DB_BRIEF_WHY_TOO_MANY,           /* BRIEF_PER_CONTRIB reached */
    DB_BRIEF_WHY_NOT_YOUR_IMAGE,     /* someone else's photo */
    DB_BRIEF_WHY_IMAGE_NOT_ELIGIBLE, /* rejected, failed, withdrawn, ... */
    DB_BRIEF_WHY_DOES_NOT_FIT,       /* orientation or pixels */
    DB_BRIEF_WHY_ALREADY_SUBMITTED,  /* this photo, to this brief */
    DB_BRIEF_WHY_BAD_PICK,           /* award list: unknown, uncounted, dup */
    DB_BRIEF_WHY_ALREADY_AWARDED,    /* awarded before with another list */
    DB_BRIEF_WHY_N
};

/* A buyer's record as others see it: counts of their ended briefs. */
struct db_brief_record {
    int64_t awarded, closed, expired, abandoned;
};

/* A brief. Strings are heap copies freed by db_brief_release. */
struct db_brief {
    char id[BRIEF_ID_LEN];
    char buyer_id[BRIEF_ID_LEN];
    char *title;
    char *description;
    char *keywords;       /* "a,b,c", trimmed and lower-cased */
    char orientation[12]; /* "" (any), landscape, portrait, square */
    int64_t min_pixels;   /* 0: any */
    int64_t deadline;     /* unix seconds */
    int64_t bounty_credits;
    int winners;
    char licence_type[12];
    int royalty_bp;
    enum db_brief_status status;
    char *close_reason;            /* "" unless closed without award */
    int64_t created_at, closed_at; /* closed_at 0 while open */
    int64_t escrow_credits;        /* what the escrow account holds now */
    int64_t submissions;           /* counted (approved) submissions */
    struct db_brief_record record; /* the buyer's */
    int replayed;                  /* 1: the key was seen, nothing moved */
};

void db_brief_release(struct db_brief *b);

/* A page of briefs; free with db_brief_list_release. */
struct db_brief_list {
    struct db_brief *items;
    size_t n;
    int64_t next_offset; /* 0 on the last page */
};

void db_brief_list_release(struct db_brief_list *l);

/* What posting a brief needs; the server has checked ranges. */
struct db_brief_req {
    const char *buyer_id;
    const char *title;
    const char *description;
    const char *keywords;
    const char *orientation; /* "" or NULL: any */
    int64_t min_pixels;
    int64_t deadline;
    int64_t bounty_credits;
    int winners;
    const char *licence_type;
    int royalty_bp;
    const char *idem_key;
    const char *request_hash;
};

/* A submission, as the caller may see it. */
struct db_brief_sub {
    char id[BRIEF_ID_LEN];
    char brief_id[BRIEF_ID_LEN];
    char image_id[BRIEF_ID_LEN];
    char contributor_id[BRIEF_ID_LEN];
    char image_status[20]; /* the image's own status now */
    int width, height;
    int shortlisted;
    int64_t created_at;
    char licence_id[BRIEF_ID_LEN]; /* "" unless it won */
    int64_t share_credits;         /* 0 unless it won */
};

struct db_brief_sub_list {
    struct db_brief_sub *items;
    size_t n;
};

void db_brief_sub_list_release(struct db_brief_sub_list *l);

/* A comment of the buyer on a submission. */
struct db_brief_comment {
    char submission_id[BRIEF_ID_LEN];
    char *text;
    int64_t created_at;
};

struct db_brief_comment_list {
    struct db_brief_comment *items;
    size_t n;
};

void db_brief_comment_list_release(struct db_brief_comment_list *l);

/* A contributor's win: the brief, the submission, its licence and money. */
struct db_brief_win {
    char brief_id[BRIEF_ID_LEN];
    char *title;
    char submission_id[BRIEF_ID_LEN];
    char image_id[BRIEF_ID_LEN];
    char licence_id[BRIEF_ID_LEN];
    int64_t share_credits;
    int64_t royalty_cents;
    int64_t created_at;
};

struct db_brief_win_list {
    struct db_brief_win *items;
    size_t n;
};

void db_brief_win_list_release(struct db_brief_win_list *l);

/* Search of open briefs. */
struct db_brief_query {
    const char *q;       /* words in title, description or keywords */
    const char *keyword; /* one keyword, exactly */
    const char *sort;    /* "newest" (default), "bounty", "deadline" */
    size_t limit;        /* 1..100 */
    int64_t offset;
    int64_t now; /* only briefs still taking submissions */
};

/* ledger_brief.c: the money. */

/* Post a brief and move its bounty from the buyer's wallet into the
 * brief's own escrow account, in one journal. The same (buyer, idem_key)
 * with the same request_hash again: the same brief, replayed = 1; with
 * another hash DB_EREUSED. DB_EFUNDS when the wallet holds less than the
 * bounty (nothing written). On success free out with db_brief_release. */
int ledger_brief_post(struct db *db, const struct db_brief_req *req,
                      int64_t now, struct db_brief *out,
                      char err[DB_ERR_LEN]) DB_WUR;

/* How a brief ends without an award. */
enum ledger_brief_end {
    LEDGER_BRIEF_CANCEL, /* the buyer, before any submission */
    LEDGER_BRIEF_CLOSE,  /* the buyer, with submissions, giving a reason */
};

/* The buyer ends brief_id and gets the escrow back in one journal.
 * DB_ENOTFOUND unless buyer_id posted it; DB_ECONFLICT when it is not
 * open; DB_ELIMIT when a cancel finds submissions or a close finds none
 * (why and err say which). */
int ledger_brief_end(struct db *db, const char *brief_id, const char *buyer_id,
                     enum ledger_brief_end how, const char *reason, int64_t now,
                     enum db_brief_why *why, char err[DB_ERR_LEN]) DB_WUR;

/* The chore: return the escrow of every open brief whose deadline has
 * passed without a submission (expired) or whose buyer did nothing for
 * abandon_s after it (abandoned), each in its own transaction. *ended
 * counts them. */
int ledger_brief_sweep(struct db *db, int64_t now, int64_t abandon_s,
                       int *ended, char err[DB_ERR_LEN]) DB_WUR;

/* Award brief_id to the n submissions sids (1..the brief's winners, each
 * counted and of this brief), in one transaction: the bounty split equally
 * (the remainder to the first), each share released from escrow and sold
 * to the buyer as a licence of that photo at its original size, the brief's
 * licence type and royalty_bp. Once: awarding again with the same list is
 * DB_OK with *replayed = 1 and nothing moved; with another list
 * DB_ECONFLICT. DB_EINVAL for a bad list, DB_ELIMIT outside the window
 * (first submission .. deadline + window_s), DB_ENOTFOUND unless buyer_id
 * posted it. */
int ledger_brief_award(struct db *db, const char *brief_id,
                       const char *buyer_id, const char *const *sids, size_t n,
                       int64_t now, int64_t window_s, int *replayed,
                       enum db_brief_why *why, char err[DB_ERR_LEN]) DB_WUR;

/* 1 in *open when user_id has a brief still open (account deletion must
 * wait for it). */
int ledger_brief_has_open(struct db *db, const char *user_id, int *open,
                          char err[DB_ERR_LEN]) DB_WUR;

/* briefs.c: everything else. */

/* The brief; DB_ENOTFOUND. Free with db_brief_release. */
int db_brief_get(struct db *db, const char *id, struct db_brief *out,
                 char err[DB_ERR_LEN]) DB_WUR;

/* Open briefs still taking submissions, by q; free with
 * db_brief_list_release. */
int db_brief_search(struct db *db, const struct db_brief_query *q,
                    struct db_brief_list *out, char err[DB_ERR_LEN]) DB_WUR;

/* The buyer's own briefs, newest first, at most limit. */
int db_brief_mine(struct db *db, const char *buyer_id, size_t limit,
                  struct db_brief_list *out, char err[DB_ERR_LEN]) DB_WUR;

/* Change what is not NULL of title, description and keywords of an open
 * brief of buyer_id that has no submission yet: DB_ELIMIT once it has. */
int db_brief_edit(struct db *db, const char *id, const char *buyer_id,
                  const char *title, const char *description,
                  const char *keywords, enum db_brief_why *why,
                  char err[DB_ERR_LEN]) DB_WUR;

/* Submit image_id of contributor_id to brief_id at now. The image must be
 * the contributor's own, approved or on its way to review, and fit the
 * brief (orientation, pixels): DB_EINVAL with err. DB_ELIMIT past the
 * deadline or over BRIEF_PER_CONTRIB; DB_ECONFLICT if already submitted
 * there; DB_EINVAL on one's own brief (why says which). *out gets the new
 * submission. */
int db_brief_submit(struct db *db, const char *brief_id,
                    const char *contributor_id, const char *image_id,
                    int64_t now, struct db_brief_sub *out,
                    enum db_brief_why *why, char err[DB_ERR_LEN]) DB_WUR;

/* The submissions of brief_id: of one contributor (every state but those
 * that dropped out) or, with contributor_id NULL, the counted ones (the
 * buyer's view). Free with db_brief_sub_list_release. */
int db_brief_subs(struct db *db, const char *brief_id,
                  const char *contributor_id, struct db_brief_sub_list *out,
                  char err[DB_ERR_LEN]) DB_WUR;

/* The buyer marks (on 1) or unmarks a counted submission of their open
 * brief, before its deadline: DB_ELIMIT after it. */
int db_brief_shortlist(struct db *db, const char *brief_id,
                       const char *buyer_id, const char *sub_id, int on,
                       int64_t now, enum db_brief_why *why,
                       char err[DB_ERR_LEN]) DB_WUR;

/* The buyer comments on a counted submission of their open brief before
 * its deadline (DB_ELIMIT after it). */
int db_brief_comment(struct db *db, const char *brief_id, const char *buyer_id,
                     const char *sub_id, const char *text, int64_t now,
                     enum db_brief_why *why, char err[DB_ERR_LEN]) DB_WUR;

/* Comments on the submissions of brief_id, of one contributor's or all
 * (NULL), oldest first. */
int db_brief_comments(struct db *db, const char *brief_id,
                      const char *contributor_id,
                      struct db_brief_comment_list *out,
                      char err[DB_ERR_LEN]) DB_WUR;

/* A contributor's wins, newest first, at most limit. */
int db_brief_wins(struct db *db, const char *contributor_id, size_t limit,
                  struct db_brief_win_list *out, char err[DB_ERR_LEN]) DB_WUR;

#endif
