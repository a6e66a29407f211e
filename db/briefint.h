/* Stockroom — what briefs.c and ledger_brief.c share and nobody else: the
 * columns of a brief row and reading one. */
#ifndef STOCKROOM_BRIEFINT_H
#define STOCKROOM_BRIEFINT_H

#include "briefs.h"
#include "dbint.h"

/* A submission counts once its photo is approved; one still on its way
 * (processing, waiting for review) is live but not counted; any other
 * state (rejected, failed, withdrawn, taken down) has dropped out. */
#define DB__BRIEF_COUNTED "i.status = 'approved'"
#define DB__BRIEF_LIVE                                                         \
    "i.status IN ('approved', 'pending_review', 'processing')"

/* The columns db__brief_row reads, from "briefs b". */
#define DB__BRIEF_COLS                                                         \
    "b.id, b.buyer_id, b.title, b.description, b.keywords, b.orientation, "    \
    "b.min_pixels, b.deadline, b.bounty_credits, b.winners, b.licence_type, "  \
    "b.royalty_bp, b.status, b.close_reason, b.created_at, "                   \
    "coalesce(b.closed_at, 0), "                                               \
    "coalesce((SELECT balance FROM accounts WHERE id = 'brief_escrow:' || "    \
    "b.id), 0), "                                                              \
    "(SELECT count(*) FROM brief_submissions s JOIN images i ON i.id = "       \
    "s.image_id WHERE s.brief_id = b.id AND " DB__BRIEF_COUNTED "), "          \
    "(SELECT count(*) FROM briefs x WHERE x.buyer_id = b.buyer_id AND "        \
    "x.status = 'awarded'), "                                                  \
    "(SELECT count(*) FROM briefs x WHERE x.buyer_id = b.buyer_id AND "        \
    "x.status = 'closed'), "                                                   \
    "(SELECT count(*) FROM briefs x WHERE x.buyer_id = b.buyer_id AND "        \
    "x.status = 'expired'), "                                                  \
    "(SELECT count(*) FROM briefs x WHERE x.buyer_id = b.buyer_id AND "        \
    "x.status = 'abandoned')"

/* Read a DB__BRIEF_COLS row into *b (heap strings: db_brief_release).
 * DB_EGENERIC when out of memory, b then released. */
int db__brief_row(sqlite3_stmt *st, struct db_brief *b,
                  char err[DB_ERR_LEN]) DB_WUR;

/* Load brief id on connection c (in or out of a transaction). */
int db__brief_load(sqlite3 *c, const char *id, struct db_brief *out,
                   char err[DB_ERR_LEN]) DB_WUR;

/* Count the live (*live) and counted (*counted) submissions of brief id. */
int db__brief_counts(sqlite3 *c, const char *id, int64_t *live,
                     int64_t *counted, char err[DB_ERR_LEN]) DB_WUR;

/* The status from its text; DB_EINVAL for anything else. */
int db__brief_status_parse(const char *s, enum db_brief_status *out) DB_WUR;

/* A heap copy of text column i ("" for NULL); NULL when out of memory. */
char *db__brief_dup(sqlite3_stmt *st, int i);

/* Set *why and err, return rc: a refusal the server names. */
int db__brief_refuse(enum db_brief_why *why, enum db_brief_why w, int rc,
                     char err[DB_ERR_LEN], const char *msg);

/* In a transaction: load brief id into *b (caller releases) for its buyer
 * (buyer_id NULL: anyone; DB_ENOTFOUND for anyone else) and insist it is
 * open (DB_ECONFLICT, DB_BRIEF_WHY_NOT_OPEN). */
int db__brief_own_open(sqlite3 *c, const char *id, const char *buyer_id,
                       struct db_brief *b, enum db_brief_why *why,
                       char err[DB_ERR_LEN]) DB_WUR;

/* Run sql that changes rows, with up to four text parameters (NULL binds
 * NULL): DB_ENOTFOUND ("no such what") when it changed none. */
int db__brief_run4(sqlite3 *c, const char *sql, const char *a, const char *b,
                   const char *d, const char *e, const char *what,
                   char err[DB_ERR_LEN]) DB_WUR;

#endif
