/* Stockroom — the mail outbox: messages queued in the same transaction as
 * the event that causes them, handed to a sender that retries with backoff.
 * Stores what a message is about (kind, recipient, parameters as JSON text);
 * rendering and delivery belong to the caller. */
#ifndef STOCKROOM_OUTBOX_H
#define STOCKROOM_OUTBOX_H

#include <stdint.h>

#include "db.h"

#define OUTBOX_KIND_LEN 32
#define OUTBOX_ADDR_LEN 256

struct outbox_msg {
    int64_t id;
    char kind[OUTBOX_KIND_LEN]; /* "verify", "reset", "image_approved", ... */
    char user_id[24];           /* the account it concerns, or "" */
    char to_addr[OUTBOX_ADDR_LEN];
    char *params; /* heap JSON object text; outbox_msg_release frees */
    int attempts; /* deliveries tried before this one */
    int64_t created_at;
    int64_t sent_at; /* 0 until the server accepted it */
    char status[16]; /* queued, sent or failed */
    char error[256]; /* the last failure, or "" */
};

/* Queue a message on its own (the caller has no transaction to share).
 * params is JSON object text (NULL: "{}"). */
int outbox_add(struct db *db, const char *kind, const char *user_id,
               const char *to_addr, const char *params,
               char err[DB_ERR_LEN]) DB_WUR;

/* The oldest queued message due at now into *out (release it with
 * outbox_msg_release); DB_ENOTFOUND when none is due. Only one sender
 * runs, so nothing is claimed. */
int outbox_next(struct db *db, int64_t now, struct outbox_msg *out,
                char err[DB_ERR_LEN]) DB_WUR;
void outbox_msg_release(struct outbox_msg *m);

/* The server accepted message id: it is never sent again, and its
 * parameters (which may hold a link token) are erased. */
int outbox_mark_sent(struct db *db, int64_t id, int64_t now,
                     char err[DB_ERR_LEN]) DB_WUR;

/* A delivery failed: try again at next_at, or (next_at 0) give up. */
int outbox_mark_failed(struct db *db, int64_t id, int64_t next_at,
                       const char *why, char err[DB_ERR_LEN]) DB_WUR;

/* Messages newest first, optionally only in status (NULL: any), at most
 * limit of them; *out is a heap array of *n (outbox_list_free). */
int outbox_list(struct db *db, const char *status, int limit,
                struct outbox_msg **out, int *n, char err[DB_ERR_LEN]) DB_WUR;
void outbox_list_free(struct outbox_msg *list, int n);

/* Accounts that asked for a sales digest, whose last one is at least
 * interval_s old at now (unix s), and that sold something since: queue one
 * "sales_digest" message each, in one transaction. Returns how many, or < 0. */
int outbox_queue_digests(struct db *db, int64_t interval_s, int64_t now,
                         char err[DB_ERR_LEN]);

#endif
