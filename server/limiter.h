/* Stockroom — the failed sign-in limiter: counts per (account, client
 * address), per account and per client address in a table keyed with a
 * secret made at start-up, so that no one can aim a key at another's slot.
 * Looking claims nothing, and a count inside its window is never evicted:
 * when the table is full, new keys are refused instead. Thread-safe. */
#ifndef STOCKROOM_LIMITER_H
#define STOCKROOM_LIMITER_H

#include "config.h"

struct limiter;

/* The limits and the table's bound come from cfg (read once). Caller owns
 * *out (limiter_free). 0, or -1 when out of memory or libsodium failed. */
int limiter_new(const struct config *cfg, struct limiter **out);
void limiter_free(struct limiter *l);

/* 0 when a sign-in for email (lower case) from client may be tried now,
 * else the seconds to wait: a limit is reached, or the table has no room
 * left for a failure of this email and client. */
int limiter_wait(struct limiter *l, const char *email, const char *client);

/* Count a failed sign-in. */
void limiter_failed(struct limiter *l, const char *email, const char *client);

/* A sign-in succeeded: forget the failures of this email from client. */
void limiter_ok(struct limiter *l, const char *email, const char *client);

#endif
