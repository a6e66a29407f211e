/* Stockroom — the fixture the brief tests share (brieffix.c): a server whose
 * brief days last a given number of seconds, a buyer with credits, two
 * contributors with approved photos, and helpers to post, answer and
 * award briefs. Each test file starts its own server. */
#ifndef STOCKROOM_BRIEFFIX_H
#define STOCKROOM_BRIEFFIX_H

#include <stdint.h>

#include "harness.h"

#define BF_IMAGE "real/33-mpl-grace_hopper.jpg" /* small and quick */
#define BF_PHOTOS 3 /* approved photos per contributor */

struct bf_user {
    char tok[128];
    char id[64];
    char photo[BF_PHOTOS][64]; /* approved, for contributors */
};

extern struct th_server bf_srv;
extern char bf_admin[128];
extern struct bf_user bf_buyer, bf_c1, bf_c2;

/* Start a server with --brief-day-seconds day (a string), sign up the
 * buyer (with 300 credits) and the contributors, upload and approve their
 * photos. 0 or -1. */
int bf_start(const char *day);
/* Start the server again on the same data (after th_crash). 0 or -1. */
int bf_restart(void);
/* Stop it, failing unless it stops cleanly and `stockroom ledger verify`
 * passes. 0 or -1. */
int bf_stop(void);

/* A fresh user (signed in) with id. */
void bf_user_new(const char *prefix, struct bf_user *u);
/* Upload a unique copy of BF_IMAGE as u, tagged tag; id into id. */
void bf_upload(const struct bf_user *u, const char *tag, char id[64]);

/* The deadline now + secs as RFC 3339 into buf. */
const char *bf_deadline(int64_t secs, char buf[32]);
/* Post a brief as u that must succeed: bounty, winners, deadline secs from
 * now; its id into id. */
void bf_post(const struct bf_user *u, int64_t bounty, int winners, int64_t secs,
             char id[64]);
/* Submit image to brief as u, expecting status (and code when >= 400);
 * the submission id into sid when 201 (sid may be NULL). */
void bf_submit(const struct bf_user *u, const char *brief, const char *image,
               long status, const char *code, char sid[64]);
/* GET the brief as token (may be NULL): the JSON, caller drops it. */
json_t *bf_brief(const char *token, const char *brief);
/* The buyer's credits now. */
int64_t bf_credits(const struct bf_user *u);

#endif
