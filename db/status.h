/* Stockroom — the states a row of the store can be in, as enums for the
 * code and as the text the database stores and the API shows. One table per
 * enum in status.c maps each way; nothing else spells a status. */
#ifndef STOCKROOM_STATUS_H
#define STOCKROOM_STATUS_H

#include "db.h"

/* An image, from upload to decision (images.status). */
enum db_img_status {
    DB_IMG_PROCESSING,     /* stored, renditions not made yet */
    DB_IMG_PENDING_REVIEW, /* waiting for a reviewer */
    DB_IMG_APPROVED,       /* on sale and searchable */
    DB_IMG_REJECTED,       /* refused by a reviewer */
    DB_IMG_FAILED,         /* the renditions could not be made */
    DB_IMG_DRAFT,          /* processed, but not described enough to review */
    DB_IMG_WITHDRAWN,      /* taken off sale by its contributor */
    DB_IMG_TAKEN_DOWN,     /* taken off sale by an admin */
    DB_IMG_N
};

/* A render job (jobs.state). */
enum db_job_state {
    DB_JOB_QUEUED,  /* waiting, or held until the original is stored */
    DB_JOB_RUNNING, /* claimed under a lease */
    DB_JOB_DONE,
    DB_JOB_FAILED, /* out of attempts */
    DB_JOB_N
};

/* A purchase of a credit pack (purchases.status). */
enum db_purchase_status {
    DB_PURCHASE_PENDING,  /* until the provider confirms payment */
    DB_PURCHASE_SETTLED,  /* credits granted */
    DB_PURCHASE_REFUNDED, /* credits taken back */
    DB_PURCHASE_N
};

/* A contributor's payout (payouts.status). */
enum db_payout_status {
    DB_PAYOUT_REQUESTED, /* money in flight */
    DB_PAYOUT_PAID,
    DB_PAYOUT_FAILED, /* money back in the balance */
    DB_PAYOUT_N
};

/* To text: the exact string the database stores and JSON shows, a static
 * string never to be freed; NULL for a value outside the enum. Pure and
 * thread-safe. */
const char *db_status_img_str(enum db_img_status s);
const char *db_status_job_str(enum db_job_state s);
const char *db_status_purchase_str(enum db_purchase_status s);
const char *db_status_payout_str(enum db_payout_status s);

/* From text: DB_OK with *out set when s is exactly one of the strings
 * above; DB_EINVAL (out untouched) for NULL or any other text. Pure and
 * thread-safe. */
int db_status_img_parse(const char *s, enum db_img_status *out) DB_WUR;
int db_status_job_parse(const char *s, enum db_job_state *out) DB_WUR;
int db_status_purchase_parse(const char *s,
                             enum db_purchase_status *out) DB_WUR;
int db_status_payout_parse(const char *s, enum db_payout_status *out) DB_WUR;

#endif
