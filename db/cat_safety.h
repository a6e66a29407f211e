/* Stockroom — trust and safety in the catalogue: drafts and the submission
 * rules, taking images off sale (withdrawal, take-down, suspension) and
 * back, reports, counter-notices and appeals. Every staff action is written
 * to the audit log (audit.h) in the same transaction as the change.
 *
 * Thread-safe like catalog.h: each call borrows a pooled connection. */
#ifndef STOCKROOM_CAT_SAFETY_H
#define STOCKROOM_CAT_SAFETY_H

#include <stdint.h>

#include "catalog.h"

#define CAT_RESTORE_DAYS 30 /* a contributor may restore a withdrawal */

/* What a draft lacks, as bits (cat_image_missing). */
enum { CAT_MISSING_TITLE = 1, CAT_MISSING_KEYWORDS = 2 };

/* What img lacks to go to review with min_keywords: CAT_MISSING_* bits,
 * 0 when it may go (min_keywords 0 turns the rules off). Pure. */
unsigned cat_image_missing(const struct cat_image *img, int min_keywords);

/* Send a draft of owner_id's to review. DB_ENOTFOUND unless the image
 * exists and is theirs; DB_ECONFLICT unless it is a draft; DB_EINVAL with
 * *missing set when it does not meet the rules. */
int cat_image_submit(struct db *db, const char *id, const char *owner_id,
                     int min_keywords, unsigned *missing,
                     char err[DB_ERR_LEN]) DB_WUR;

/* The contributor takes their image off sale: 'withdrawn', from any state
 * but processing, failed, withdrawn and taken down (DB_ECONFLICT).
 * DB_ENOTFOUND unless it is owner_id's. Logged as 'withdraw'. */
int cat_image_withdraw(struct db *db, const char *id, const char *owner_id,
                       char err[DB_ERR_LEN]) DB_WUR;

/* An admin takes an image off sale with a reason: 'taken_down', and every
 * open report on it is closed as actioned. DB_ECONFLICT when it is
 * processing, failed or off sale already. Logged as 'takedown'. */
int cat_image_takedown(struct db *db, const char *id, const char *admin_id,
                       const char *reason, char err[DB_ERR_LEN]) DB_WUR;

/* Put an image back. As its owner (admin 0): only a withdrawal, within
 * CAT_RESTORE_DAYS of it (DB_ELIMIT after), and it goes back to review. As
 * an admin: a withdrawal or a take-down, back to the state it left.
 * DB_ECONFLICT when it is not off sale (or held by a suspension);
 * DB_ENOTFOUND when absent or, for an owner, not theirs. Logged as
 * 'restore' when an admin does it. */
int cat_image_restore(struct db *db, const char *id, const char *actor_id,
                      int admin, int64_t now, char err[DB_ERR_LEN]) DB_WUR;

/* The owner's answer to a take-down, once (DB_ECONFLICT when not taken
 * down or answered already). */
int cat_image_counter_notice(struct db *db, const char *id,
                             const char *owner_id, const char *statement,
                             char err[DB_ERR_LEN]) DB_WUR;

/* Appeal a rejection, once: back to review with the message, for another
 * reviewer than the one who rejected. DB_ECONFLICT unless rejected and
 * never appealed. */
int cat_image_appeal(struct db *db, const char *id, const char *owner_id,
                     const char *message, char err[DB_ERR_LEN]) DB_WUR;

/* Every image in status, newest upload first, for the admin console;
 * cursor and limit as cat_images_of_contributor. Release with
 * cat_image_list_release. */
int cat_images_by_status(struct db *db, enum db_img_status status,
                         const char *cursor, int limit,
                         struct cat_image_list *out,
                         char err[DB_ERR_LEN]) DB_WUR;

/* What the store knows of an image's off-sale state and appeal. */
struct cat_safety {
    int64_t off_sale_at; /* 0 unless withdrawn or taken down */
    char off_sale_reason[1024];
    char counter_notice[2048];
    char appeal_message[2048];
    int64_t appealed_at; /* 0 if never */
    int suspended;       /* held by its owner's suspension */
};

int cat_image_safety(struct db *db, const char *id, struct cat_safety *out,
                     char err[DB_ERR_LEN]) DB_WUR;

/* Reports. */

#define CAT_REPORT_DETAILS_MAX 2000

struct cat_report {
    char id[CAT_ID_LEN];
    char image_id[CAT_ID_LEN];
    char image_title[CAT_TITLE_MAX + 1];
    char reason[16];
    char *details; /* heap, never NULL */
    char contact_email[256];
    char status[16]; /* open, dismissed, actioned */
    int64_t created_at;
};

/* File a report on an image anyone may see (approved). DB_ENOTFOUND
 * otherwise; DB_EINVAL for an unknown reason. id_out gets its id. */
int cat_report_create(struct db *db, const char *image_id, const char *reason,
                      const char *details, const char *contact_email,
                      char id_out[CAT_ID_LEN], char err[DB_ERR_LEN]) DB_WUR;

/* Open reports, oldest first, at most CAT_LIST_MAX, into a new array
 * (*out, free with cat_reports_free) and *n. */
int cat_reports_open(struct db *db, struct cat_report **out, int *n,
                     char err[DB_ERR_LEN]) DB_WUR;
void cat_reports_free(struct cat_report *r, int n);

/* Close an open report without action. DB_ENOTFOUND if absent;
 * DB_ECONFLICT if closed already. Logged as 'dismiss_report'. */
int cat_report_dismiss(struct db *db, const char *id, const char *admin_id,
                       const char *reason, char err[DB_ERR_LEN]) DB_WUR;

#endif
